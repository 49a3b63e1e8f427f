"""What heads did under a warning (落实情况, migration 0031): stored and read, one row per institution. The service
decides who may report; this repository only keeps it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.hazard_models import PhotoRef
from storage.repositories._codec import from_db_time, to_db_time
from storage.warning_models import WarningReport

_COLUMNS = "id, warning_id, institution_id, user_id, text, photos, revision, at"


class WarningReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, warning_id: int, institution_id: int, user_id: int, text: str, photos: Sequence[PhotoRef],
        revision: int, at: datetime,
    ) -> WarningReport:
        report_id = await self._db.execute(
            "INSERT INTO warning_reports (warning_id, institution_id, user_id, text, photos, revision, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (warning_id, institution_id, user_id, text, json.dumps([p.model_dump() for p in photos]), revision,
             to_db_time(at)),
        )
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM warning_reports WHERE id = ?", (report_id,))
        assert row is not None
        return _report(row)

    async def of_warning(self, warning_id: int) -> list[WarningReport]:
        """Every report under the warning, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM warning_reports WHERE warning_id = ? ORDER BY at, id", (warning_id,)
        )
        return [_report(row) for row in rows]


def _report(row: aiosqlite.Row) -> WarningReport:
    return WarningReport(
        id=row["id"], warning_id=row["warning_id"], institution_id=row["institution_id"], user_id=row["user_id"],
        text=row["text"], photos=tuple(PhotoRef.model_validate(p) for p in json.loads(row["photos"])),
        revision=row["revision"], at=from_db_time(row["at"]),
    )
