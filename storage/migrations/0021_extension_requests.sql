-- Requests for more time (申请延期): the person correcting a hazard asks staff for a later deadline, with a reason;
-- staff approve it (the deadline changes as /deadline would) or refuse it with a reason. At most one request of a
-- hazard waits at a time (the partial unique index), so two taps can never leave two pending. A request also ends,
-- undecided, when the rectification is submitted or staff change the deadline themselves (`ended_by` says which).
CREATE TABLE extension_requests (
    id                 INTEGER PRIMARY KEY,
    hazard_id          INTEGER NOT NULL REFERENCES hazards (id),
    requested_by       INTEGER NOT NULL,
    requested_at       TEXT NOT NULL,
    previous_deadline  TEXT,
    requested_deadline TEXT NOT NULL,
    reason             TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'approved', 'refused', 'ended')),
    decided_by         INTEGER,
    decided_at         TEXT,
    decision_note      TEXT,
    ended_by           TEXT
);
CREATE UNIQUE INDEX extension_requests_one_pending ON extension_requests (hazard_id) WHERE status = 'pending';
CREATE INDEX extension_requests_by_hazard ON extension_requests (hazard_id, id);
