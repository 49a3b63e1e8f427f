-- Calendar duties and the reminder engine (issue 4): drills with photos, monthly self-inspections and their
-- answers, study sessions, and the reminders table that every scheduled message goes through.
-- Same conventions as 0001: times are fixed-width UTC ISO-8601 text, enum columns carry no CHECK. Local dates
-- (when a drill was held) are 'YYYY-MM-DD' text in the deployment's timezone.

CREATE TABLE drills (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    institution_id   INTEGER NOT NULL REFERENCES institutions (id),
    kind             TEXT NOT NULL,
    held_on          TEXT NOT NULL,
    participants     INTEGER NOT NULL CHECK (participants > 0),
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    practised        TEXT NOT NULL,
    problems         TEXT,
    -- The hazards the problems found became, as a JSON array of ids.
    hazard_ids       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(hazard_ids) AND json_type(hazard_ids) = 'array'),
    logged_by        INTEGER NOT NULL,
    logged_at        TEXT NOT NULL
);
-- Compliance: an institution's drills by date.
CREATE INDEX drills_institution ON drills (institution_id, held_on);

-- Evidence, like hazard photos: the bytes are kept beside the database under their sha256.
CREATE TABLE drill_photos (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    drill_id       INTEGER NOT NULL REFERENCES drills (id),
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    sha256         TEXT NOT NULL
);
CREATE INDEX drill_photos_drill ON drill_photos (drill_id, id);

-- One per institution and month: a second run that month amends the first instead of adding another.
CREATE TABLE self_inspections (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    month          TEXT NOT NULL,  -- 'YYYY-MM', local
    started_by     INTEGER NOT NULL,
    started_at     TEXT NOT NULL,
    finished_by    INTEGER,
    finished_at    TEXT,  -- the first finish: the month counts as done from then on
    amended_at     TEXT,  -- the latest finish after that
    UNIQUE (institution_id, month)
);
CREATE INDEX self_inspections_month ON self_inspections (month);

CREATE TABLE self_inspection_answers (
    inspection_id INTEGER NOT NULL REFERENCES self_inspections (id),
    item_code     TEXT NOT NULL,
    answer        TEXT NOT NULL,  -- ok / fail / na
    note          TEXT,
    photo_file_id        TEXT,
    photo_file_unique_id TEXT,
    photo_sha256         TEXT,
    hazard_id     INTEGER REFERENCES hazards (id),  -- the hazard a failed item became
    answered_by   INTEGER NOT NULL,
    answered_at   TEXT NOT NULL,
    PRIMARY KEY (inspection_id, item_code)
) WITHOUT ROWID;

-- A unit is the city bureau or a county bureau, named by its region code.
CREATE TABLE study_sessions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_region_code  TEXT NOT NULL REFERENCES regions (code),
    held_on           TEXT NOT NULL,
    topic             TEXT NOT NULL,
    participants      INTEGER NOT NULL CHECK (participants > 0),
    logged_by         INTEGER NOT NULL,
    logged_at         TEXT NOT NULL
);
CREATE INDEX study_sessions_unit ON study_sessions (unit_region_code, held_on);

-- Every scheduled message, one row per recipient. The row is the source of truth, not the job queue: a sweeper
-- claims due rows with one UPDATE (pending → claimed) before sending, so a restart or a second sweeper never
-- sends a row twice, and rows that fell due while the bot was down are still pending when it comes back.
-- dedupe_key names what the row is for (e.g. 'hazard:42:20260308T010000Z:before24h:40'), so planning the
-- same thing again adds nothing.
CREATE TABLE reminders (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key   TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    step         TEXT NOT NULL,
    subject_type TEXT NOT NULL,  -- hazard / institution / unit / group
    subject_id   TEXT NOT NULL,  -- hazard id, institution id, region code, chat id
    period       TEXT,  -- for duties and digests: '2026-H1', '2026-03', '2026-03-02'
    recipient_id INTEGER NOT NULL,  -- a Telegram user id, or a chat id for groups
    topic_id     INTEGER,  -- forum topic, for groups
    due_at       TEXT NOT NULL,
    urgent       INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    detail       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
    state        TEXT NOT NULL DEFAULT 'pending',  -- pending / claimed / sent / cancelled / failed
    claimed_by   TEXT,
    claimed_at   TEXT,
    sent_at      TEXT,
    retry_at     TEXT,  -- after a failed send: not before this
    late         INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
-- The sweeper's question: pending rows due by now.
CREATE INDEX reminders_pending ON reminders (state, due_at);
-- Re-planning one subject: its rows, by state.
CREATE INDEX reminders_subject ON reminders (subject_type, subject_id, state);
CREATE INDEX reminders_recipient ON reminders (recipient_id, state);
