-- Who took charge of a county's silent institutions of a warning (☎️ 我来跟进 under the staff's escalation): the
-- first to press holds it; their colleagues, /warnstatus and the city admins' escalation read who, and since when.
CREATE TABLE warning_followers (
    warning_id  INTEGER NOT NULL REFERENCES warnings (id),
    county_code TEXT NOT NULL,
    telegram_id INTEGER NOT NULL,
    taken_at    TEXT NOT NULL,
    PRIMARY KEY (warning_id, county_code)
) WITHOUT ROWID;
