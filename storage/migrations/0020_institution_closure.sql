-- An institution closed by staff (停用/撤销): when, and the reason they gave, shown on its card. Both are cleared when
-- it is reopened (恢复); the audit log keeps every closing and reopening. NULL for active institutions and for those
-- made inactive before this column (their card says "deactivated" without a date).
ALTER TABLE institutions ADD COLUMN closed_at TEXT;
ALTER TABLE institutions ADD COLUMN closed_reason TEXT;
