"""The contact rounds still open (migration 0005): what the scheduled follow-up escalates and, in the end, closes."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database
from storage.repositories._codec import to_db_time
from storage.repositories.contacts import ROUND_COLUMNS, round_of
from storage.warning_models import ContactRound


class ContactFollowUpRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_rounds(self) -> list[ContactRound]:
        rows = await self._db.fetchall(
            f"SELECT {ROUND_COLUMNS} FROM contact_rounds WHERE closed_at IS NULL ORDER BY id"
        )
        return [round_of(row) for row in rows]

    async def closed_since(self, since: datetime) -> list[ContactRound]:
        """The rounds closed since `since`, oldest first: those whose lists lose their buttons."""
        rows = await self._db.fetchall(
            f"SELECT {ROUND_COLUMNS} FROM contact_rounds WHERE closed_at >= ? ORDER BY id", (to_db_time(since),)
        )
        return [round_of(row) for row in rows]
