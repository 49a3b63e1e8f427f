-- The check-back (回访): some weeks after a hazard is closed its reporter is asked, once, whether the problem is still
-- solved. One row per closing (the acceptance's history entry): planned in the acceptance's transaction, asked by the
-- minute job when due (its message queued in the outbox in the same transaction as the row turns 'asked', so a
-- restart asks nothing twice), and answered from the message's buttons. Times are fixed-width UTC ISO-8601 text.
CREATE TABLE check_backs (
    id              INTEGER PRIMARY KEY,
    hazard_id       INTEGER NOT NULL REFERENCES hazards (id),
    closed_event_id INTEGER NOT NULL,  -- the acceptance that closed it: closed again after a reopening, asked again
    closed_at       TEXT NOT NULL,
    closed_by       INTEGER,  -- the official who verified and closed it: told first when the problem is back
    reporter_id     INTEGER NOT NULL,
    due_at          TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'asked', 'answered', 'skipped')),
    skipped_reason  TEXT,  -- why a due one was not asked (bot.domain.check_backs.Skip)
    asked_at        TEXT,
    answer          TEXT CHECK (answer IS NULL OR answer IN ('holds', 'again')),
    answered_at     TEXT,
    UNIQUE (hazard_id, closed_event_id)
);
CREATE INDEX check_backs_due ON check_backs (due_at) WHERE state = 'pending';
CREATE INDEX check_backs_by_hazard ON check_backs (hazard_id, id);
