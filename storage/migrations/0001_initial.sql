-- The first schema: regions, institutions, people, groups, invites, the audit log and the bot framework's state.
-- Times are UTC ISO-8601 text with microseconds ('2026-03-01T01:00:00.000000+00:00'): fixed width, so text order
-- is time order. Enum columns carry no CHECK: SQLite cannot alter a CHECK without rebuilding the table, and the
-- repositories validate every value through the pydantic models on the way in and out.

-- Regions are data, not code: another city loads its own rows. Codes are GB/T 2260 (6 digits) or township (9).
-- The parent link is deferred so that a whole city can be loaded in one transaction in any order.
CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT REFERENCES regions (code) DEFERRABLE INITIALLY DEFERRED,
    latitude    REAL,
    longitude   REAL
);
CREATE INDEX regions_parent ON regions (parent_code);
CREATE INDEX regions_level ON regions (level);

CREATE TABLE institutions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT NOT NULL UNIQUE,
    name_zh      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    type         TEXT NOT NULL,
    region_code  TEXT NOT NULL REFERENCES regions (code),
    risk_tags    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(risk_tags) AND json_type(risk_tags) = 'array'),
    address      TEXT,
    -- Not a foreign key: the head is often named before they have registered with the bot.
    head_user_id INTEGER,
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
-- Scope queries match a code prefix with GLOB, which uses this index.
CREATE INDEX institutions_region ON institutions (region_code);
CREATE INDEX institutions_head ON institutions (head_user_id);

CREATE TABLE users (
    telegram_id    INTEGER PRIMARY KEY,
    full_name      TEXT NOT NULL,
    username       TEXT,
    role           TEXT NOT NULL,
    region_code    TEXT,
    institution_id INTEGER REFERENCES institutions (id),
    language       TEXT NOT NULL DEFAULT 'zh_CN',
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at     TEXT NOT NULL
);
CREATE INDEX users_role_region ON users (role, region_code);
CREATE INDEX users_institution ON users (institution_id);

-- A binding is per chat, or per forum topic inside a chat. NULL topic_id is "the whole chat"; NULLs are distinct
-- in a plain UNIQUE index, hence the expression.
CREATE TABLE groups (
    chat_id     INTEGER NOT NULL,
    topic_id    INTEGER,
    title       TEXT NOT NULL,
    region_code TEXT NOT NULL,
    purpose     TEXT NOT NULL DEFAULT 'general',
    bound_by    INTEGER NOT NULL,
    bound_at    TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX groups_chat_topic ON groups (chat_id, IFNULL(topic_id, 0));
CREATE INDEX groups_region ON groups (region_code);

CREATE TABLE invites (
    token          TEXT PRIMARY KEY,
    role           TEXT NOT NULL,
    region_code    TEXT,
    institution_id INTEGER,
    created_by     INTEGER,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_by        INTEGER,
    used_at        TEXT
);
CREATE INDEX invites_created_by ON invites (created_by);

-- The audit log is evidence of who did what: rows can be added, never changed or removed.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor_id INTEGER,
    action   TEXT NOT NULL,
    target   TEXT,
    detail   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
CREATE INDEX audit_log_action ON audit_log (action);
CREATE INDEX audit_log_target ON audit_log (target);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

-- python-telegram-bot's persistence (bot/persistence.py), as JSON text.
CREATE TABLE ptb_conversations (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,  -- the conversation key as a JSON array, e.g. [chat_id, user_id]
    state TEXT NOT NULL,  -- JSON: a string or an integer
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE ptb_user_data (
    user_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);

CREATE TABLE ptb_chat_data (
    chat_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);

-- One row each for 'bot_data' and 'callback_data'.
CREATE TABLE ptb_bot_data (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
