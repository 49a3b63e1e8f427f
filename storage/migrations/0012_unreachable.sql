-- When the bot learned that a registered person can no longer be reached (they blocked it, or Telegram refused a
-- message to them); NULL while messages reach them. Their supervisors are told once per episode.
ALTER TABLE users ADD COLUMN unreachable_since TEXT;
