"""Broadcasters' status messages (migration 0007): which message reports on which outbox batch, and what it says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.repositories._codec import from_db_time, to_db_time


@dataclass(frozen=True)
class BroadcastStatus:
    batch: str
    chat_id: int
    message_id: int
    language: str
    text: str
    created_at: datetime


class BroadcastStatusRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, status: BroadcastStatus) -> None:
        await self._db.execute(
            "INSERT INTO broadcast_status (batch, chat_id, message_id, language, text, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (batch) DO UPDATE SET chat_id = excluded.chat_id, "
            "message_id = excluded.message_id, language = excluded.language, text = excluded.text, done_at = NULL",
            (status.batch, status.chat_id, status.message_id, status.language, status.text,
             to_db_time(status.created_at)),
        )

    async def set_text(self, batch: str, text: str) -> None:
        await self._db.execute("UPDATE broadcast_status SET text = ? WHERE batch = ?", (text, batch))

    async def finish(self, batch: str, at: datetime) -> None:
        await self._db.execute("UPDATE broadcast_status SET done_at = ? WHERE batch = ?", (to_db_time(at), batch))

    async def unfinished(self, since: datetime) -> list[BroadcastStatus]:
        rows = await self._db.fetchall(
            "SELECT batch, chat_id, message_id, language, text, created_at FROM broadcast_status "
            "WHERE done_at IS NULL AND created_at >= ? ORDER BY created_at",
            (to_db_time(since),),
        )
        return [
            BroadcastStatus(row["batch"], row["chat_id"], row["message_id"], row["language"], row["text"],
                            from_db_time(row["created_at"]))
            for row in rows
        ]
