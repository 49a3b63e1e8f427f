-- What a head did under a warning (落实情况): the relief station's night patrol, the funeral home's vehicles checked
-- and drivers briefed, the elderly home's power and water checked. Several per warning (a patrol each night), each
-- timestamped, kept apart from the answer (warning_acks), which says only "received" or "need help". One row per
-- institution the head answers for, as answers are, so /warnstatus and the export read them per institution.
CREATE TABLE warning_reports (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id     INTEGER NOT NULL REFERENCES warnings (id),
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    user_id        INTEGER NOT NULL,  -- telegram id of the head (or stand-in) who reported
    text           TEXT NOT NULL,
    -- The evidence photos (JSON list of {file_id, file_unique_id, sha256}); their bytes are in the evidence store.
    photos         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(photos)),
    revision       INTEGER NOT NULL,  -- the warning's revision in force when it was reported
    at             TEXT NOT NULL
);
CREATE INDEX warning_reports_by_warning ON warning_reports (warning_id, institution_id, at);
