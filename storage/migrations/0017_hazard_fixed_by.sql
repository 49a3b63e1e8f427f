-- Who submitted the rectification now awaiting (or past) verification, beside `fixed_at`: the submitter of the
-- rectification or the reporter who fixed it on the spot (立查立改). Four eyes: that person may not accept it.
-- NULL while nothing is submitted (a rejection or a reopening clears it, as it clears `fixed_at`).
ALTER TABLE hazards ADD COLUMN fixed_by INTEGER;

-- The hazards submitted before this column: the actor of the last submission in their history.
UPDATE hazards SET fixed_by = (
    SELECT e.actor_id FROM hazard_events e
    WHERE e.hazard_id = hazards.id AND e.action IN ('submit_rectification', 'report_fixed_on_spot')
    ORDER BY e.id DESC LIMIT 1
) WHERE fixed_at IS NOT NULL;

-- Staff's /tasks leaves out what the person submitted themselves: the few rows of one submitter, found by this index
-- rather than by reading the column of every hazard in the queue.
CREATE INDEX hazards_fixed_by ON hazards (fixed_by) WHERE fixed_by IS NOT NULL;
