-- An invitation taken back before anyone used it (by staff in /people, or when its maker's access ended): the link
-- then registers nobody. NULL while it stands.
ALTER TABLE invites ADD COLUMN revoked_at TEXT;
ALTER TABLE invites ADD COLUMN revoked_by INTEGER;

-- When the person's access last ended (/people, or `safety-bot deactivate`); kept after they are invited again, so
-- what they were named for before it is known to be no longer theirs.
ALTER TABLE users ADD COLUMN access_ended_at TEXT;
