-- Which institutions with no one to reach each member of staff has been named, per warning: when a head leaves or
-- blocks the bot later, the follow-up names only the institutions newly without anyone, never one already named.
CREATE TABLE warning_no_one_named (
    warning_id     INTEGER NOT NULL REFERENCES warnings (id),
    chat_id        INTEGER NOT NULL,
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    named_at       TEXT NOT NULL,
    PRIMARY KEY (warning_id, chat_id, institution_id)
) WITHOUT ROWID;
