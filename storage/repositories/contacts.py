"""The registry of scattered vulnerable people and the contact rounds that reach them (migration 0005)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from bot.domain.roles import significant_prefix
from storage.db import Database
from storage.repositories._codec import from_db_time, from_db_time_or_none, prefix_glob, to_db_time
from storage.warning_models import (
    ContactEntry,
    ContactRound,
    ContactStatus,
    NewVulnerablePerson,
    VulnerableCategory,
    VulnerablePerson,
)

_PERSON_COLUMNS = "id, code, category, region_code, cadre_id, active, updated_at"
# A round's number counts the rounds of its county (洞头区's first is 第 1 轮, whatever other counties did).
ROUND_COLUMNS = (
    "id, warning_id, region_code, started_by, started_at, closed_at, "
    "(SELECT COUNT(*) FROM contact_rounds AS earlier WHERE substr(earlier.region_code, 1, 6) = "
    "substr(contact_rounds.region_code, 1, 6) AND earlier.id <= contact_rounds.id) AS number"
)
_ENTRY_SELECT = (
    "SELECT e.round_id, e.person_id, p.code AS person_code, p.category, p.region_code, e.cadre_id, e.status, "
    "e.at, e.updated_by FROM contact_entries e JOIN vulnerable_people p ON p.id = e.person_id"
)


class ContactRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- the registry --------------------------------------------------------------------------------------

    async def upsert_person(self, person: NewVulnerablePerson, at: datetime) -> VulnerablePerson:
        """Insert, or update the person with this code (a reloaded spreadsheet); re-activates them."""
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO vulnerable_people (code, category, region_code, cadre_id, active, updated_at) "
                "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (code) DO UPDATE SET category = excluded.category, "
                "region_code = excluded.region_code, cadre_id = excluded.cadre_id, active = 1, "
                "updated_at = excluded.updated_at",
                (person.code, person.category.value, person.region_code, person.cadre_id, to_db_time(at)),
            )
            stored = await self.person_by_code(person.code)
        assert stored is not None
        return stored

    async def person_by_code(self, code: str) -> VulnerablePerson | None:
        row = await self._db.fetchone(f"SELECT {_PERSON_COLUMNS} FROM vulnerable_people WHERE code = ?", (code,))
        return None if row is None else _person(row)

    async def set_person_active(self, person_id: int, active: bool, at: datetime) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE vulnerable_people SET active = ?, updated_at = ? WHERE id = ?",
            (int(active), to_db_time(at), person_id),
        )
        return changed > 0

    async def open_rounds_pending_with(self, cadre_id: int) -> list[int]:
        """The open rounds in which the cadre still has people to reach, by id."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT e.round_id FROM contact_entries e JOIN contact_rounds r ON r.id = e.round_id "
            "WHERE e.cadre_id = ? AND e.status = 'pending' AND r.closed_at IS NULL ORDER BY e.round_id",
            (cadre_id,),
        )
        return [int(row[0]) for row in rows]

    async def release_cadre(self, cadre_id: int, at: datetime) -> tuple[int, int]:
        """The cadre keeps in touch with nobody any more: their people, and their calls still pending in open rounds,
        are left to the county's staff until another cadre is named. Returns (people, pending calls)."""
        people = await self._db.execute_rowcount(
            "UPDATE vulnerable_people SET cadre_id = NULL, updated_at = ? WHERE cadre_id = ? AND active = 1",
            (to_db_time(at), cadre_id),
        )
        calls = await self._db.execute_rowcount(
            "UPDATE contact_entries SET cadre_id = NULL WHERE cadre_id = ? AND status = 'pending' "
            "AND round_id IN (SELECT id FROM contact_rounds WHERE closed_at IS NULL)",
            (cadre_id,),
        )
        return people, calls

    async def people_in(self, region_code: str | None) -> list[VulnerablePerson]:
        """Active people living in the region or below it; None means the whole city."""
        where, params = "active = 1", []
        if region_code is not None:
            where += " AND region_code GLOB ?"
            params.append(prefix_glob(significant_prefix(region_code)))
        rows = await self._db.fetchall(
            f"SELECT {_PERSON_COLUMNS} FROM vulnerable_people WHERE {where} ORDER BY region_code, code", params
        )
        return [_person(row) for row in rows]

    # ---- rounds --------------------------------------------------------------------------------------------

    async def start_round(
        self,
        region_code: str,
        people: Iterable[VulnerablePerson],
        *,
        warning_id: int | None,
        started_by: int | None,
        at: datetime,
    ) -> ContactRound:
        async with self._db.transaction():
            round_id = await self._db.execute(
                "INSERT INTO contact_rounds (warning_id, region_code, started_by, started_at) VALUES (?, ?, ?, ?)",
                (warning_id, region_code, started_by, to_db_time(at)),
            )
            await self._db.executemany(
                "INSERT INTO contact_entries (round_id, person_id, cadre_id, status) VALUES (?, ?, ?, ?)",
                [(round_id, person.id, person.cadre_id, ContactStatus.PENDING.value) for person in people],
            )
            stored = await self.get_round(round_id)
        assert stored is not None
        return stored

    async def get_round(self, round_id: int) -> ContactRound | None:
        row = await self._db.fetchone(f"SELECT {ROUND_COLUMNS} FROM contact_rounds WHERE id = ?", (round_id,))
        return None if row is None else round_of(row)

    async def open_round_in(self, region_code: str) -> ContactRound | None:
        """Any round of the region still open, whatever started it."""
        row = await self._db.fetchone(
            f"SELECT {ROUND_COLUMNS} FROM contact_rounds WHERE region_code = ? AND closed_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            (region_code,),
        )
        return None if row is None else round_of(row)

    async def set_round_warning(self, round_id: int, warning_id: int) -> None:
        """The open round goes on under this (newer) warning."""
        await self._db.execute("UPDATE contact_rounds SET warning_id = ? WHERE id = ?", (warning_id, round_id))

    async def close_round(self, round_id: int, at: datetime) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE contact_rounds SET closed_at = ? WHERE id = ? AND closed_at IS NULL", (to_db_time(at), round_id)
        )
        return changed > 0

    async def entries(self, round_id: int, *, cadre_id: int | None = None) -> list[ContactEntry]:
        where, params = "e.round_id = ?", [round_id]
        if cadre_id is not None:
            where += " AND e.cadre_id = ?"
            params.append(cadre_id)
        rows = await self._db.fetchall(f"{_ENTRY_SELECT} WHERE {where} ORDER BY p.region_code, p.code", params)
        return [_entry(row) for row in rows]

    async def entry(self, round_id: int, person_id: int) -> ContactEntry | None:
        row = await self._db.fetchone(
            f"{_ENTRY_SELECT} WHERE e.round_id = ? AND e.person_id = ?", (round_id, person_id)
        )
        return None if row is None else _entry(row)

    async def set_status(
        self, round_id: int, person_id: int, status: ContactStatus, *, by: int | None, at: datetime
    ) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE contact_entries SET status = ?, at = ?, updated_by = ? WHERE round_id = ? AND person_id = ?",
            (status.value, to_db_time(at), by, round_id, person_id),
        )
        return changed > 0


def _person(row: aiosqlite.Row) -> VulnerablePerson:
    return VulnerablePerson(
        id=row["id"],
        code=row["code"],
        category=VulnerableCategory(row["category"]),
        region_code=row["region_code"],
        cadre_id=row["cadre_id"],
        active=bool(row["active"]),
        updated_at=from_db_time(row["updated_at"]),
    )


def round_of(row: aiosqlite.Row) -> ContactRound:
    return ContactRound(
        id=row["id"],
        number=row["number"],
        warning_id=row["warning_id"],
        region_code=row["region_code"],
        started_by=row["started_by"],
        started_at=from_db_time(row["started_at"]),
        closed_at=from_db_time_or_none(row["closed_at"]),
    )


def _entry(row: aiosqlite.Row) -> ContactEntry:
    return ContactEntry(
        round_id=row["round_id"],
        person_id=row["person_id"],
        person_code=row["person_code"],
        category=VulnerableCategory(row["category"]),
        region_code=row["region_code"],
        cadre_id=row["cadre_id"],
        status=ContactStatus(row["status"]),
        at=from_db_time_or_none(row["at"]),
        updated_by=row["updated_by"],
    )
