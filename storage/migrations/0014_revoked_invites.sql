-- An invitation taken back before anyone used it (by staff in /people, or when its maker's access ended): the link
-- then registers nobody. NULL while it stands.
ALTER TABLE invites ADD COLUMN revoked_at TEXT;
ALTER TABLE invites ADD COLUMN revoked_by INTEGER;
