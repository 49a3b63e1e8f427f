-- The transactional outbox (issue 5, "delivery that loses nothing"): every message the bot owes someone is a row
-- written in the same transaction as the change that caused it (a warning sent, a hazard assigned, a reminder due),
-- and a sender drains the rows at the pace Telegram allows. Same conventions as 0001: times are fixed-width UTC
-- ISO-8601 text, enum columns carry no CHECK.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Who owes what to whom, e.g. 'warning:12:rev:2:chat:-1001': enqueuing the same key again is a no-op, so a
    -- retried transaction or a re-run job cannot queue a second copy.
    dedupe_key      TEXT NOT NULL UNIQUE,
    -- What the message belongs to (a broadcast, a warning revision): progress and "who was not reached" are per batch.
    batch           TEXT,
    chat_id         INTEGER NOT NULL,
    topic_id        INTEGER,  -- a forum topic (message_thread_id); NULL for the chat itself
    -- {"text": HTML, "reply_markup": {...}, "photo_file_id": ..., "photo_sha256": ..., "disable_notification": bool}
    payload         TEXT NOT NULL CHECK (json_valid(payload)),
    priority        INTEGER NOT NULL DEFAULT 5,  -- lower goes first: 0 urgent warnings, 9 digests
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending, sending, sent, failed, blocked
    attempts        INTEGER NOT NULL DEFAULT 0,  -- tries started, counted when claimed so that a crash loop ends
    next_attempt_at TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_at      TEXT,
    last_error      TEXT,
    message_id      INTEGER,  -- Telegram's id of the delivered message, to edit or delete it later
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
-- The sender's claim walks each chat's queue in order (one message in flight per chat keeps a warning before its
-- update); the partial index holds only the rows still owed, so it stays small however long the history grows.
CREATE INDEX outbox_queue ON outbox (chat_id, priority, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_batch ON outbox (batch, state);
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);
