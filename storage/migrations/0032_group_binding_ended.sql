-- Why a group's binding ended: 'removed', 'muted', 'refused' (the bot lost the group, and the binding may be restored
-- with one tap when it is back), 'general_closed', 'topic_deleted', 'topic_closed', or 'unbound' (staff ended it on
-- purpose: not offered back). NULL while active, and for bindings that ended before this column existed.
ALTER TABLE groups ADD COLUMN ended TEXT;
