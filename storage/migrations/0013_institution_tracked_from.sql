-- The local date (YYYY-MM-DD, in the configured zone) from which an institution's calendar duties are judged: the
-- day the bot first learned of it. Periods that ended before it are never counted as missed. NULL for the rows
-- that existed before this column and for the demo data: they are judged for every period, as before.
ALTER TABLE institutions ADD COLUMN tracked_from TEXT;
