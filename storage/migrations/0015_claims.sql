-- Short-lived claims that must outlive the process: a button's file or picture being sent (while `worker` names
-- the process at work on it) or just sent (`worker` NULL; a second press before `until` is a double tap), and an
-- album whose caption carried a classification mark (its other photos are refused until `until`). `holder` is a
-- person's Telegram id or a chat id; `what` says what is claimed ("export:…", "chart:…", "album:…"). A row whose
-- `until` has passed means nothing and is deleted when the next claim is taken.
CREATE TABLE claims (
    holder INTEGER NOT NULL,
    what TEXT NOT NULL,
    until TEXT NOT NULL,
    worker TEXT,
    note TEXT,
    PRIMARY KEY (holder, what)
) WITHOUT ROWID;

CREATE INDEX claims_until ON claims (until);
