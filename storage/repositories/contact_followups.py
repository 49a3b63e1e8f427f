"""The contact rounds still open (migration 0005): what the scheduled follow-up escalates and, in the end, closes."""

from __future__ import annotations

from storage.db import Database
from storage.repositories._codec import from_db_time, from_db_time_or_none
from storage.warning_models import ContactRound


class ContactFollowUpRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_rounds(self) -> list[ContactRound]:
        rows = await self._db.fetchall(
            "SELECT id, warning_id, region_code, started_by, started_at, closed_at FROM contact_rounds "
            "WHERE closed_at IS NULL ORDER BY id"
        )
        return [
            ContactRound(
                id=row["id"],
                warning_id=row["warning_id"],
                region_code=row["region_code"],
                started_by=row["started_by"],
                started_at=from_db_time(row["started_at"]),
                closed_at=from_db_time_or_none(row["closed_at"]),
            )
            for row in rows
        ]
