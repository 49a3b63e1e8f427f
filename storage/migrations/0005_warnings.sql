-- Warnings before extreme weather and epidemics (issue 5): warnings and their revisions, who received them, their
-- acknowledgements, and the contact rounds for scattered vulnerable people.
-- Same conventions as 0001: times are fixed-width UTC ISO-8601 text, enum columns carry no CHECK.

-- A warning at its latest revision. Official warnings keep the feed identity of their first CAP message; later
-- Update/Cancel messages become rows of warning_revisions, never a second warning.
CREATE TABLE warnings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    level        TEXT NOT NULL,
    headline     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    instruction  TEXT NOT NULL DEFAULT '',
    onset        TEXT NOT NULL,
    expires      TEXT,  -- as issued; NULL ends 24 h after onset, or when an official one leaves its feed
    -- Region codes, institution types and risk tags, as JSON arrays (empty types or tags mean "any").
    target_regions TEXT NOT NULL CHECK (json_valid(target_regions) AND json_array_length(target_regions) > 0),
    target_types TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(target_types) AND json_type(target_types) = 'array'),
    target_tags  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(target_tags) AND json_type(target_tags) = 'array'),
    origin       TEXT NOT NULL,
    status       TEXT NOT NULL,
    revision     INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
    sender       TEXT,
    identifier   TEXT,
    refs         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(refs)),  -- CAP "sender,identifier,sent" triples
    rule         TEXT,  -- the forecast threshold that raised it
    feed_url     TEXT,  -- the feed it came from, to notice it leaving
    created_by   INTEGER,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    sent_at      TEXT,
    ended_at     TEXT
);
-- NULLs are distinct in a UNIQUE index, so manual warnings (no feed identity) never collide.
CREATE UNIQUE INDEX warnings_feed_identity ON warnings (sender, identifier);
CREATE INDEX warnings_status ON warnings (status, kind);

-- Every version of a warning, as evidence of what was said when: rows can be added, never changed or removed.
-- Each CAP message is one row, so (sender, identifier) also dedupes Update and Cancel messages.
CREATE TABLE warning_revisions (
    warning_id  INTEGER NOT NULL REFERENCES warnings (id),
    revision    INTEGER NOT NULL,
    change      TEXT NOT NULL,  -- issue / upgrade / downgrade / update / cancel
    level       TEXT NOT NULL,
    headline    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    instruction TEXT NOT NULL DEFAULT '',
    onset       TEXT NOT NULL,
    expires     TEXT,
    -- Only what identifies the CAP message; the document itself is not kept.
    msg_type    TEXT,
    sender      TEXT,
    identifier  TEXT,
    cap_sent    TEXT,
    refs        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(refs)),
    source_url  TEXT,
    actor_id    INTEGER,
    at          TEXT NOT NULL,
    PRIMARY KEY (warning_id, revision)
);
CREATE UNIQUE INDEX warning_revisions_feed_identity ON warning_revisions (sender, identifier);
CREATE INDEX warning_revisions_source ON warning_revisions (source_url);

CREATE TRIGGER warning_revisions_no_update BEFORE UPDATE ON warning_revisions
BEGIN
    SELECT RAISE(ABORT, 'warning revisions are append-only');
END;

-- Who a sent warning reached, fixed when it is first sent: updates and 解除 go to the same people and groups.
CREATE TABLE warning_recipients (
    warning_id     INTEGER NOT NULL REFERENCES warnings (id),
    kind           TEXT NOT NULL,  -- head / cadre / group
    chat_id        INTEGER NOT NULL,  -- a Telegram user id, or a group's chat id
    topic_id       INTEGER,
    institution_id INTEGER REFERENCES institutions (id),  -- for heads: the institution they answer for
    region_code    TEXT NOT NULL,  -- where the recipient acts: the institution's, cadre's or group's region
    added_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX warning_recipients_key
    ON warning_recipients (warning_id, kind, chat_id, IFNULL(topic_id, 0), IFNULL(institution_id, 0));

-- 已收到并落实 / 需要帮助: the latest answer of each person for each institution they answer for.
CREATE TABLE warning_acks (
    warning_id     INTEGER NOT NULL REFERENCES warnings (id),
    user_id        INTEGER NOT NULL,
    institution_id INTEGER REFERENCES institutions (id),
    response       TEXT NOT NULL,  -- received / need_help
    revision       INTEGER NOT NULL,  -- the revision the person had seen
    at             TEXT NOT NULL
);
CREATE UNIQUE INDEX warning_acks_key ON warning_acks (warning_id, user_id, IFNULL(institution_id, 0));

-- Scattered vulnerable people (特殊群体), kept minimal on purpose: a pseudonymous code that only the county's own
-- list resolves, a category, a village and the cadre who keeps in touch. No names, ID numbers or addresses.
CREATE TABLE vulnerable_people (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    category    TEXT NOT NULL,  -- left_behind_child / dibao / three_nos / elderly_alone / five_guarantee
    -- Not a foreign key: villages (12 digits) are below the regions the bot keeps.
    region_code TEXT NOT NULL,
    cadre_id    INTEGER,  -- Telegram id; not a foreign key, the cadre may register later
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at  TEXT NOT NULL
);
CREATE INDEX vulnerable_people_region ON vulnerable_people (region_code);
CREATE INDEX vulnerable_people_cadre ON vulnerable_people (cadre_id);

-- A contact round: in extreme weather, every vulnerable person of a region is reached by their cadre.
CREATE TABLE contact_rounds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id  INTEGER REFERENCES warnings (id),  -- NULL when staff start one by hand
    region_code TEXT NOT NULL,
    started_by  INTEGER,  -- NULL for the system (an orange or red warning)
    started_at  TEXT NOT NULL,
    closed_at   TEXT
);
CREATE INDEX contact_rounds_warning ON contact_rounds (warning_id, region_code);

CREATE TABLE contact_entries (
    round_id   INTEGER NOT NULL REFERENCES contact_rounds (id),
    person_id  INTEGER NOT NULL REFERENCES vulnerable_people (id),
    cadre_id   INTEGER,  -- copied at the start, so a later reassignment does not move an open task
    status     TEXT NOT NULL DEFAULT 'pending',  -- pending / safe / need_help / unreachable
    at         TEXT,
    updated_by INTEGER,
    PRIMARY KEY (round_id, person_id)
);
CREATE INDEX contact_entries_cadre ON contact_entries (cadre_id, status);
