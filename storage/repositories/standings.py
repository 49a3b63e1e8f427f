"""Aggregates about institutions rather than hazards: what duties are owed and done, and the lists a notice names
(overdue hazards, institutions that missed their monthly self-inspection)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.domain.lifecycle import OPEN_STATES
from bot.domain.stats import Scope
from storage.db import Database
from storage.repositories._codec import from_db_time, marks, to_db_time
from storage.repositories.stats import hazard_scope, institution_scope, overdue_then

_OPEN = sorted(s.value for s in OPEN_STATES)


@dataclass(frozen=True)
class InstitutionRow:
    id: int
    type: str
    region_code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class OverdueRow:
    code: str
    region_code: str
    deadline: datetime
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class OverdueHazards:
    shown: int  # those that may be named in groups
    hidden: int  # rights-protection hazards: counted, never named in groups
    rows: list[OverdueRow]  # the longest overdue of those shown, up to the limit asked


class StandingsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def institution_rows(self, scope: Scope) -> list[InstitutionRow]:
        """The active institutions in scope, as duties are judged for them, without the cost of whole records."""
        where, params = institution_scope(scope)
        rows = await self._db.fetchall(
            f"SELECT i.id, i.type, i.region_code, i.name_zh, i.name_en FROM institutions i WHERE {where} "
            "ORDER BY i.region_code, i.code",
            params,
        )
        return [InstitutionRow(int(r["id"]), r["type"], r["region_code"], r["name_zh"], r["name_en"]) for r in rows]

    async def drill_dates(self, scope: Scope, kinds: Sequence[str], since: date) -> dict[int, list[tuple[str, date]]]:
        """Institution id → (kind, local date) of its drills of these kinds held on or after `since`."""
        where, params = institution_scope(scope)
        rows = await self._db.fetchall(
            "SELECT d.institution_id, d.kind, d.held_on FROM drills d JOIN institutions i ON i.id = d.institution_id "
            f"WHERE d.kind IN ({marks(kinds)}) AND d.held_on >= ? AND {where}",
            (*kinds, since.isoformat(), *params),
        )
        found: dict[int, list[tuple[str, date]]] = {}
        for row in rows:
            found.setdefault(int(row["institution_id"]), []).append((row["kind"], date.fromisoformat(row["held_on"])))
        return found

    async def overdue_hazards(self, scope: Scope, at: datetime, limit: int, *, ended: bool) -> OverdueHazards:
        """The hazards in scope overdue at `at`: now (`ended` False), or at a period's end (`ended`: judged by their
        history then, `stats.overdue_then`, as the ranking's 期末逾期 is). The `limit` longest overdue are named,
        rights-protection hazards left out, because this list is posted in groups (lifecycle.visible_to_groups);
        those are only counted."""
        if ended:
            condition, bound = overdue_then(at)
        else:
            condition, bound = f"h.state IN ({marks(_OPEN)}) AND h.deadline < ?", [*_OPEN, to_db_time(at)]
        where, params = hazard_scope(replace(scope, hide_sensitive=True))
        everything, all_params = hazard_scope(replace(scope, hide_sensitive=False))
        total = await self._db.fetchval(
            f"SELECT COUNT(*) FROM hazards h WHERE {condition} AND {everything}", (*bound, *all_params)
        )
        shown = f"{condition} AND {where}"
        count = await self._db.fetchval(f"SELECT COUNT(*) FROM hazards h WHERE {shown}", (*bound, *params))
        rows = await self._db.fetchall(
            f"SELECT h.code, h.region_code, h.deadline, i.name_zh, i.name_en FROM hazards h "
            f"JOIN institutions i ON i.id = h.institution_id WHERE {shown} ORDER BY h.deadline, h.id LIMIT ?",
            (*bound, *params, limit),
        )
        named = [
            OverdueRow(r["code"], r["region_code"], from_db_time(r["deadline"]), r["name_zh"], r["name_en"])
            for r in rows
        ]
        return OverdueHazards(int(count), int(total) - int(count), named)

    async def missing_inspections(self, scope: Scope, month: str, joined_by: date) -> list[InstitutionRow]:
        """Active institutions in scope with no finished self-inspection for `month` ('YYYY-MM'), leaving out those
        added after `joined_by`, the last day on which joining still owed it (`compliance.last_joining_day`)."""
        where, params = institution_scope(scope)
        rows = await self._db.fetchall(
            f"SELECT i.id, i.type, i.region_code, i.name_zh, i.name_en FROM institutions i WHERE {where} "
            "AND (i.tracked_from IS NULL OR i.tracked_from <= ?) "
            "AND NOT EXISTS (SELECT 1 FROM self_inspections s WHERE s.institution_id = i.id AND s.month = ? "
            "AND s.finished_at IS NOT NULL) ORDER BY i.region_code, i.code",
            (*params, joined_by.isoformat(), month),
        )
        return [InstitutionRow(int(r["id"]), r["type"], r["region_code"], r["name_zh"], r["name_en"]) for r in rows]
