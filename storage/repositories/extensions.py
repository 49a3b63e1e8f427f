"""Requests for more time (migration 0020): one statement each, so that two staff deciding at once cannot both win."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.roles import significant_prefix
from storage.db import Database
from storage.extension_models import ExtensionRequest, ExtensionStatus
from storage.repositories._codec import from_db_time, from_db_time_or_none, prefix_glob, to_db_time, to_db_time_or_none

_COLUMNS = (
    "e.id, e.hazard_id, e.requested_by, e.requested_at, e.previous_deadline, e.requested_deadline, e.reason, "
    "e.status, e.decided_by, e.decided_at, e.decision_note, e.ended_by"
)


def _request(row: sqlite3.Row) -> ExtensionRequest:
    return ExtensionRequest(
        id=row[0], hazard_id=row[1], requested_by=row[2], requested_at=from_db_time(row[3]),
        previous_deadline=from_db_time_or_none(row[4]), requested_deadline=from_db_time(row[5]), reason=row[6],
        status=ExtensionStatus(row[7]), decided_by=row[8], decided_at=from_db_time_or_none(row[9]),
        decision_note=row[10], ended_by=row[11],
    )


class ExtensionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, hazard_id: int, *, requested_by: int, at: datetime, previous_deadline: datetime | None,
        requested_deadline: datetime, reason: str,
    ) -> ExtensionRequest | None:
        """The new pending request; None when one of the hazard's already waits."""
        try:
            request_id = await self._db.execute(
                "INSERT INTO extension_requests (hazard_id, requested_by, requested_at, previous_deadline, "
                "requested_deadline, reason) VALUES (?, ?, ?, ?, ?, ?)",
                (hazard_id, requested_by, to_db_time(at), to_db_time_or_none(previous_deadline),
                 to_db_time(requested_deadline), reason),
            )
        except sqlite3.IntegrityError:
            return None
        return await self.get(request_id)

    async def get(self, request_id: int) -> ExtensionRequest | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM extension_requests e WHERE e.id = ?", (request_id,))
        return None if row is None else _request(row)

    async def pending_for(self, hazard_id: int) -> ExtensionRequest | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM extension_requests e WHERE e.hazard_id = ? AND e.status = 'pending'",
            (hazard_id,),
        )
        return None if row is None else _request(row)

    async def pending_in(self, region_code: str | None, limit: int = 500) -> list[ExtensionRequest]:
        """The requests waiting in a region (None: the whole city), oldest first."""
        scope, params = "", []
        if region_code is not None:
            scope, params = " AND h.region_code GLOB ?", [prefix_glob(significant_prefix(region_code))]
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM extension_requests e JOIN hazards h ON h.id = e.hazard_id "
            f"WHERE e.status = 'pending'{scope} ORDER BY e.requested_at, e.id LIMIT ?",
            (*params, limit),
        )
        return [_request(row) for row in rows]

    async def decide(
        self, request_id: int, status: ExtensionStatus, *, by: int, at: datetime, note: str | None = None
    ) -> bool:
        """Approve or refuse a pending request; false when it was no longer pending (someone decided first)."""
        changed = await self._db.execute_rowcount(
            "UPDATE extension_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? "
            "WHERE id = ? AND status = 'pending'",
            (status.value, by, to_db_time(at), note, request_id),
        )
        return changed == 1

    async def end_pending(self, hazard_id: int, *, action: str, by: int, at: datetime) -> ExtensionRequest | None:
        """End the hazard's pending request, undecided, because of `action`; the request so ended, if any."""
        pending = await self.pending_for(hazard_id)
        if pending is None:
            return None
        await self._db.execute(
            "UPDATE extension_requests SET status = 'ended', decided_by = ?, decided_at = ?, ended_by = ? "
            "WHERE id = ? AND status = 'pending'",
            (by, to_db_time(at), action, pending.id),
        )
        return await self.get(pending.id)

    async def end_pending_of(self, requested_by: int, *, action: str, by: int | None, at: datetime) -> list[str]:
        """End, undecided, the pending requests this person made (their access ended): the codes of their hazards."""
        rows = await self._db.fetchall(
            "SELECT e.id, h.code FROM extension_requests e JOIN hazards h ON h.id = e.hazard_id "
            "WHERE e.requested_by = ? AND e.status = 'pending' ORDER BY e.id",
            (requested_by,),
        )
        for row in rows:
            await self._db.execute(
                "UPDATE extension_requests SET status = 'ended', decided_by = ?, decided_at = ?, ended_by = ? "
                "WHERE id = ? AND status = 'pending'",
                (by, to_db_time(at), action, row[0]),
            )
        return [str(row[1]) for row in rows]
