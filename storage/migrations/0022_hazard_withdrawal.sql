-- A hazard withdrawn by staff (作废, state 'withdrawn'): why, as a category (mistaken, duplicate, institution_closed,
-- other) and the reason they typed, for its details, /mine and the exports. closed_at holds when it was withdrawn
-- (when its loop ended, closed or withdrawn), which the reopening window counts from. Both are cleared when staff
-- reinstate it; the history and the audit log keep every withdrawal.
ALTER TABLE hazards ADD COLUMN withdrawal_category TEXT;
ALTER TABLE hazards ADD COLUMN withdrawal_reason TEXT;
