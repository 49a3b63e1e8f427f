-- A head's (or cadre's) 🆘 需要帮助 under a warning, as an on-call page: the first official covering them to press
-- ✋ 我来处理 under the staff's alert owns it (taken_by), and marks it ✅ 已解决 once helped (resolved_by). A press of
-- 🆘 again after it was resolved raises a new row; while one is open, a second press raises nothing.
CREATE TABLE warning_help_requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id  INTEGER NOT NULL REFERENCES warnings (id),
    asker_id    INTEGER NOT NULL,  -- telegram id of who asked
    -- The institutions they asked for (JSON list of ids; empty for a cadre, who answers for no institution).
    institutions TEXT NOT NULL CHECK (json_valid(institutions)),
    region_code TEXT NOT NULL,  -- where they are: whose staff may take it
    raised_at   TEXT NOT NULL,
    taken_by    INTEGER,
    taken_at    TEXT,
    resolved_by INTEGER,
    resolved_at TEXT
);
CREATE INDEX warning_help_requests_by_warning ON warning_help_requests (warning_id, asker_id);
