-- The reminder sweep at city scale (126,802 rows planned on a day of a city of 100,000 hazards): a row changes
-- state at every step of its life (pending → claimed → sent or cancelled), and each of the three indexes that
-- carried the state took a delete and an insert for each change: on the first morning of a month a sweep claims
-- a thousand rows and cancels most of them. Partial indexes hold only the rows their questions are about, so a
-- claim leaves two of them and enters one, and settling a claim leaves one.

-- Nothing asks for a recipient's reminders.
DROP INDEX reminders_recipient;

-- The sweeper's question: pending rows due by now, earliest first.
DROP INDEX reminders_pending;
CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending';

-- Re-planning subjects: their pending rows.
DROP INDEX reminders_subject;
CREATE INDEX reminders_pending_subject ON reminders (subject_type, subject_id) WHERE state = 'pending';

-- Who holds claims, and which claims are older than the lease.
CREATE INDEX reminders_claims ON reminders (claimed_at) WHERE state = 'claimed';
