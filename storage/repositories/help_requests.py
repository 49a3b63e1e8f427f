"""Calls for help under a warning and who took and resolved them (migration 0025). The service decides who may;
this repository only stores it, each change guarded so that two presses at once cannot both win."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.repositories._codec import from_db_time, from_db_time_or_none, to_db_time
from storage.warning_models import HelpRequest

_COLUMNS = (
    "id, warning_id, asker_id, institutions, region_code, raised_at, taken_by, taken_at, resolved_by, resolved_at, "
    "round_id, person_id"
)
# A head's or a cadre's own call under a warning, not one for a vulnerable person in a contact round: what the
# answers to the warning, its revisions and /warnstatus read.
_OWN = "person_id IS NULL"


class HelpRequestRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, warning_id: int, asker_id: int, institutions: Sequence[int], region_code: str, at: datetime, *,
        round_id: int | None = None, person_id: int | None = None,
    ) -> HelpRequest:
        request_id = await self._db.execute(
            "INSERT INTO warning_help_requests (warning_id, asker_id, institutions, region_code, raised_at, "
            "round_id, person_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (warning_id, asker_id, json.dumps(sorted(institutions)), region_code, to_db_time(at), round_id,
             person_id),
        )
        found = await self.get(request_id)
        assert found is not None
        return found

    async def get(self, request_id: int) -> HelpRequest | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM warning_help_requests WHERE id = ?", (request_id,))
        return None if row is None else _request(row)

    async def latest_of(self, warning_id: int, asker_id: int) -> HelpRequest | None:
        """The person's latest call for help for themselves under the warning."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM warning_help_requests WHERE warning_id = ? AND asker_id = ? AND {_OWN} "
            "ORDER BY id DESC LIMIT 1",
            (warning_id, asker_id),
        )
        return None if row is None else _request(row)

    async def of_warning(self, warning_id: int) -> list[HelpRequest]:
        """Every call for help under the warning by a head or a cadre for themselves, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM warning_help_requests WHERE warning_id = ? AND {_OWN} ORDER BY id", (warning_id,)
        )
        return [_request(row) for row in rows]

    async def open_for_person(self, round_id: int, person_id: int) -> HelpRequest | None:
        """The call for help for this person in this round that is not resolved yet, if any."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM warning_help_requests WHERE round_id = ? AND person_id = ? "
            "AND resolved_at IS NULL ORDER BY id DESC LIMIT 1",
            (round_id, person_id),
        )
        return None if row is None else _request(row)

    async def untaken_since(self, since: datetime) -> list[HelpRequest]:
        """The calls for help raised since `since` that nobody has taken (nor resolved) yet, oldest first: those
        the pager announces again."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM warning_help_requests WHERE taken_by IS NULL AND resolved_at IS NULL "
            "AND raised_at >= ? ORDER BY id",
            (to_db_time(since),),
        )
        return [_request(row) for row in rows]

    async def take(self, request_id: int, telegram_id: int, at: datetime) -> bool:
        """Record `telegram_id` as handling the request unless someone already does or it is resolved."""
        changed = await self._db.execute_rowcount(
            "UPDATE warning_help_requests SET taken_by = ?, taken_at = ? "
            "WHERE id = ? AND taken_by IS NULL AND resolved_at IS NULL",
            (telegram_id, to_db_time(at), request_id),
        )
        return changed > 0

    async def resolve(self, request_id: int, telegram_id: int, at: datetime) -> bool:
        """Mark the request resolved by the one who took it; False when it was not theirs or already resolved."""
        changed = await self._db.execute_rowcount(
            "UPDATE warning_help_requests SET resolved_by = ?, resolved_at = ? "
            "WHERE id = ? AND taken_by = ? AND resolved_at IS NULL",
            (telegram_id, to_db_time(at), request_id, telegram_id),
        )
        return changed > 0


def _request(row: aiosqlite.Row) -> HelpRequest:
    return HelpRequest(
        id=row["id"],
        warning_id=row["warning_id"],
        asker_id=row["asker_id"],
        institutions=tuple(json.loads(row["institutions"])),
        region_code=row["region_code"],
        raised_at=from_db_time(row["raised_at"]),
        taken_by=row["taken_by"],
        taken_at=from_db_time_or_none(row["taken_at"]),
        resolved_by=row["resolved_by"],
        resolved_at=from_db_time_or_none(row["resolved_at"]),
        round_id=row["round_id"],
        person_id=row["person_id"],
    )
