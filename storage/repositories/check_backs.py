"""Check-backs (migration 0024): each change one statement guarded by the state it expects, so that two presses, or
two jobs, can never both move a row on."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.check_backs import CheckBackAnswer
from storage.check_back_models import CheckBack, CheckBackState
from storage.db import Database
from storage.repositories._codec import from_db_time, from_db_time_or_none, to_db_time

_COLUMNS = (
    "id, hazard_id, closed_event_id, closed_at, closed_by, reporter_id, due_at, state, skipped_reason, asked_at, "
    "answer, answered_at"
)


def _check_back(row: sqlite3.Row) -> CheckBack:
    return CheckBack(
        id=row[0], hazard_id=row[1], closed_event_id=row[2], closed_at=from_db_time(row[3]), closed_by=row[4],
        reporter_id=row[5], due_at=from_db_time(row[6]), state=CheckBackState(row[7]), skipped_reason=row[8],
        asked_at=from_db_time_or_none(row[9]), answer=CheckBackAnswer(row[10]) if row[10] else None,
        answered_at=from_db_time_or_none(row[11]),
    )


class CheckBackRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def plan(
        self, hazard_id: int, *, closed_event_id: int, closed_at: datetime, closed_by: int | None, reporter_id: int,
        due_at: datetime,
    ) -> None:
        """One row per closing; planning the same closing again changes nothing."""
        await self._db.execute(
            "INSERT INTO check_backs (hazard_id, closed_event_id, closed_at, closed_by, reporter_id, due_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hazard_id, closed_event_id) DO NOTHING",
            (hazard_id, closed_event_id, to_db_time(closed_at), closed_by, reporter_id, to_db_time(due_at)),
        )

    async def get(self, check_back_id: int) -> CheckBack | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM check_backs WHERE id = ?", (check_back_id,))
        return None if row is None else _check_back(row)

    async def for_hazard(self, hazard_id: int) -> list[CheckBack]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM check_backs WHERE hazard_id = ? ORDER BY id", (hazard_id,)
        )
        return [_check_back(row) for row in rows]

    async def due(self, now: datetime, limit: int) -> list[CheckBack]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM check_backs WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_check_back(row) for row in rows]

    async def next_due(self) -> datetime | None:
        value = await self._db.fetchval("SELECT MIN(due_at) FROM check_backs WHERE state = 'pending'")
        return None if value is None else from_db_time(value)

    async def mark_asked(self, check_back_id: int, at: datetime) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE check_backs SET state = 'asked', asked_at = ? WHERE id = ? AND state = 'pending'",
            (to_db_time(at), check_back_id),
        )
        return changed == 1

    async def mark_skipped(self, check_back_id: int, reason: str) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE check_backs SET state = 'skipped', skipped_reason = ? WHERE id = ? AND state = 'pending'",
            (reason, check_back_id),
        )
        return changed == 1

    async def record_answer(self, check_back_id: int, answer: CheckBackAnswer, at: datetime) -> bool:
        """False when it was not waiting for an answer (answered already: a second press)."""
        changed = await self._db.execute_rowcount(
            "UPDATE check_backs SET state = 'answered', answer = ?, answered_at = ? WHERE id = ? AND state = 'asked'",
            (answer.value, to_db_time(at), check_back_id),
        )
        return changed == 1
