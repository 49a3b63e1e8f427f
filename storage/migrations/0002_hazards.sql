-- The closed hazard loop (issue 3): hazards, their append-only history and photo evidence, the daily counters
-- behind the human codes (YH-20260301-0007), and report drafts that survive a restart.
-- Same conventions as 0001: times are fixed-width UTC ISO-8601 text, enum columns carry no CHECK.

CREATE TABLE hazards (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    institution_id  INTEGER NOT NULL REFERENCES institutions (id),
    -- Copied from the institution when reported: scope queries need no join, and a hazard stays with the
    -- county that was responsible for it even if the institution is later moved.
    region_code     TEXT NOT NULL,
    area            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    source_level    TEXT NOT NULL,
    description     TEXT NOT NULL,
    latitude        REAL,
    longitude       REAL,
    address_text    TEXT,
    state           TEXT NOT NULL,
    reporter_id     INTEGER NOT NULL REFERENCES users (telegram_id),
    -- Not a foreign key, like institutions.head_user_id: a head may be named before registering.
    assignee_id     INTEGER,
    deadline        TEXT,
    reported_at     TEXT NOT NULL,
    acknowledged_at TEXT,
    fixed_at        TEXT,  -- when the rectification now awaiting (or past) verification was submitted
    closed_at       TEXT,
    closed_on_time  INTEGER CHECK (closed_on_time IN (0, 1)),
    measures        TEXT,
    updated_at      TEXT NOT NULL
);
-- A head's task list: their institution's unresolved hazards by deadline.
CREATE INDEX hazards_institution_open ON hazards (institution_id, state, deadline);
-- Staff queues and statistics: hazards of a region (GLOB on the code prefix uses the index).
CREATE INDEX hazards_region_state ON hazards (region_code, state);
-- Reminders and escalation: unresolved hazards by deadline.
CREATE INDEX hazards_state_deadline ON hazards (state, deadline);
-- Duplicate lookup before a report is confirmed.
CREATE INDEX hazards_duplicates ON hazards (institution_id, area, state);
-- "Recently used first" when a reporter picks an institution.
CREATE INDEX hazards_reporter ON hazards (reporter_id, reported_at);
CREATE INDEX hazards_assignee ON hazards (assignee_id);

-- Every step of a hazard's life, as evidence of who did what: rows can be added, never changed or removed.
CREATE TABLE hazard_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id  INTEGER NOT NULL REFERENCES hazards (id),
    at         TEXT NOT NULL,
    actor_id   INTEGER,  -- NULL for the system (e.g. assignment by policy)
    action     TEXT NOT NULL,
    from_state TEXT,  -- NULL for the report itself
    to_state   TEXT NOT NULL,
    note       TEXT,
    detail     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
CREATE INDEX hazard_events_hazard ON hazard_events (hazard_id, id);

CREATE TRIGGER hazard_events_no_update BEFORE UPDATE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'hazard events are append-only');
END;

CREATE TRIGGER hazard_events_no_delete BEFORE DELETE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'hazard events are append-only');
END;

-- Photo evidence. file_id lets the bot resend the photo; sha256 names the bytes kept beside the database, which
-- outlive Telegram's copy. Evidence too: append-only.
CREATE TABLE hazard_photos (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id      INTEGER NOT NULL REFERENCES hazards (id),
    event_id       INTEGER REFERENCES hazard_events (id),
    kind           TEXT NOT NULL CHECK (kind IN ('before', 'after')),
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    added_by       INTEGER,
    added_at       TEXT NOT NULL
);
CREATE INDEX hazard_photos_hazard ON hazard_photos (hazard_id, id);
CREATE INDEX hazard_photos_unique_id ON hazard_photos (file_unique_id);
CREATE INDEX hazard_photos_sha256 ON hazard_photos (sha256);

CREATE TRIGGER hazard_photos_no_update BEFORE UPDATE ON hazard_photos
BEGIN
    SELECT RAISE(ABORT, 'hazard photos are append-only');
END;

CREATE TRIGGER hazard_photos_no_delete BEFORE DELETE ON hazard_photos
BEGIN
    SELECT RAISE(ABORT, 'hazard photos are append-only');
END;

-- The last sequence number handed out per local day ('YYYYMMDD'), bumped by an upsert inside the report's
-- transaction so that simultaneous reports can never share a code.
CREATE TABLE hazard_code_sequences (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
) WITHOUT ROWID;

-- A half-finished report per person, so that a restart of the bot does not lose what they typed.
CREATE TABLE report_drafts (
    telegram_id INTEGER PRIMARY KEY,
    data        TEXT NOT NULL CHECK (json_valid(data)),
    updated_at  TEXT NOT NULL
);
