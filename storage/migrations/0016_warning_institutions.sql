-- Every institution a sent warning concerns, fixed when it is first sent, whether or not anyone could be told: an
-- institution with no registered head (or none left) is unanswered, not absent, in the status, the acknowledgement
-- rate and the export. Heads' rows in warning_recipients say who was told; these say who had to act.
CREATE TABLE warning_institutions (
    warning_id     INTEGER NOT NULL REFERENCES warnings (id),
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    region_code    TEXT NOT NULL,
    PRIMARY KEY (warning_id, institution_id)
) WITHOUT ROWID;

-- The warnings sent before: the institutions whose heads they reached (those without a head were not recorded).
INSERT OR IGNORE INTO warning_institutions (warning_id, institution_id, region_code)
    SELECT warning_id, institution_id, MAX(region_code) FROM warning_recipients
    WHERE kind = 'head' AND institution_id IS NOT NULL GROUP BY warning_id, institution_id;
