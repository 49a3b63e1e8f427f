-- One message per person per round: once a sweep has claimed a person's first due reminders, the round claims the
-- rest of theirs (ReminderRepository.claim_due with a recipient), a claim limit at a time, so that they are counted
-- in that one message rather than sent in another for each chunk of the morning's backlog. Without this, each of
-- those claims walked the whole city's due rows (244,313 on the first morning of the generated city) for one
-- person's. Pending rows only, as the sweeper's other index (0011).
CREATE INDEX reminders_due_by_recipient ON reminders (recipient_id, topic_id, due_at) WHERE state = 'pending';
