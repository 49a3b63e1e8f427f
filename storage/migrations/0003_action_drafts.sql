-- Half-finished actions on an existing hazard (a head's rectification, a rejection's reason, a new deadline),
-- one per person and journey, so that a restart of the bot resumes the journey with what was already given.
-- Kept apart from report_drafts: a person may be in the middle of a report and of a rectification at once.
CREATE TABLE action_drafts (
    telegram_id INTEGER NOT NULL,
    journey     TEXT NOT NULL,
    data        TEXT NOT NULL CHECK (json_valid(data)),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (telegram_id, journey)
) WITHOUT ROWID;
