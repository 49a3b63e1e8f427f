-- The status message the sender of a broadcast watches ("sent x / y, failed z"), kept so that after a restart the
-- new outbox sender picks it up and brings it to its final numbers, instead of leaving it frozen half-way.
CREATE TABLE broadcast_status (
    batch      TEXT PRIMARY KEY,  -- the outbox batch it reports on, e.g. warning:7:rev:2
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    language   TEXT NOT NULL,
    text       TEXT NOT NULL,  -- what the message says now: the next edit must differ, or Telegram refuses it
    created_at TEXT NOT NULL,
    done_at    TEXT  -- set with the final edit; NULL while delivery goes on
);
CREATE INDEX broadcast_status_open ON broadcast_status (done_at, created_at);
