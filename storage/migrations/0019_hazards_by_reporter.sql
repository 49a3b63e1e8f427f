-- /mine lists what a person reported: the unresolved first, then those closed recently, each newest first, with a
-- count of the older closed ones. Every column the listing filters and sorts on is in this index, so a page and its
-- counts are read from the reporter's index entries alone (a cadre with 10,000 reports: a few ms), never from the
-- table rows (tens of ms through hazards_reporter, which lacks the state).
CREATE INDEX hazards_reporter_state ON hazards (reporter_id, state, closed_at, reported_at);
