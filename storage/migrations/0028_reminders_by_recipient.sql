-- One message per person per round: once a sweep has claimed a person's first due reminders, the round claims the
-- rest of theirs (ReminderRepository.claim_due and claim_counted with a recipient), the most pressing first, so
-- that they are listed or counted in that one message rather than sent in another for each chunk of the morning's
-- backlog. Without this, each of those claims walked the whole city's due rows (244,313 on the first morning of the
-- generated city) for one person's, and sorted them. In the claim's order (an index entry ends with its rowid, the
-- id that breaks ties); pending rows only, as the sweeper's other index (0011).
CREATE INDEX reminders_due_by_recipient ON reminders (recipient_id, topic_id, urgent DESC, due_at)
    WHERE state = 'pending';
