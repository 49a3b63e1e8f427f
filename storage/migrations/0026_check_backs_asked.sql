-- /stats counts the check-backs asked in a period (asked, still solved, came back): read along this index by the
-- time they were asked, each one's hazard then found by its primary key for the scope. Covering (hazard and answer
-- ride along), and partial: a pending or skipped check-back was never asked and is never counted.
CREATE INDEX check_backs_asked ON check_backs (asked_at, hazard_id, answer) WHERE asked_at IS NOT NULL;
