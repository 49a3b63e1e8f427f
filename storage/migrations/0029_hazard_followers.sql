-- Who follows a hazard besides its reporter: a cadre who found the same problem and added their photos or their
-- description to it (📎 把照片追加到 / 💬 补充说明到 YH-…) rather than report it twice, as FixMyStreet's "also reported
-- by". They see it in /mine and open its details, and hear what its reporter hears (rectified, closed, reopened,
-- withdrawn). `severity`: the severity they reported it as, kept for the record beside the hazard's own.
CREATE TABLE hazard_followers (
    hazard_id   INTEGER NOT NULL REFERENCES hazards (id),
    telegram_id INTEGER NOT NULL,
    since       TEXT NOT NULL,
    severity    TEXT,
    PRIMARY KEY (hazard_id, telegram_id)
) WITHOUT ROWID;
-- /mine reads a person's followed hazards by person.
CREATE INDEX hazard_followers_person ON hazard_followers (telegram_id, hazard_id);
