"""Read-only questions about hazards that reminders and digests ask: what is still open, what changed lately.

Kept apart from HazardRepository, which serves the hazard loop itself; these queries serve the scheduler.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import CLOSED_STATES, OPEN_STATES, UNRESOLVED_STATES
from bot.domain.roles import significant_prefix
from storage.db import Database
from storage.hazard_models import Hazard
from storage.repositories._codec import marks, prefix_glob, to_db_time
from storage.repositories._hazard_rows import HAZARD_COLUMNS, hazard_row

_OPEN = sorted(s.value for s in OPEN_STATES)
_UNRESOLVED = sorted(s.value for s in UNRESOLVED_STATES)
_CLOSED = sorted(s.value for s in CLOSED_STATES)



@dataclass(frozen=True)
class HazardCounts:
    new: int  # reported in the window
    closed: int  # closed in the window
    # By the hazards' current state, so meant for a window that ends now (digests): still unresolved, and open
    # with the deadline before the window's end.
    unresolved: int
    overdue: int

    @property
    def nothing(self) -> bool:
        """No hazard reported or closed in the window and none unresolved (overdue ones are unresolved)."""
        return not (self.new or self.closed or self.unresolved)


class HazardWatchRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_hazards(
        self, *, after_id: int = 0, limit: int | None = None, region_code: str | None = None
    ) -> list[Hazard]:
        """Every hazard someone still has to correct: those the escalation ladder applies to, in id order; a page
        of them from `after_id` on with `limit` (a city has some fifteen thousand); within a region and below it
        with `region_code`."""
        # +state: along the ids, reading past the closed hazards once; through the state index SQLite would read
        # and sort every open hazard for each page.
        place, params = ("", []) if region_code is None else (" AND region_code GLOB ?", [_within(region_code)])
        rows = await self._db.fetchall(
            f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE +state IN ({marks(_OPEN)}){place} AND id > ? "
            "ORDER BY id LIMIT ?",
            (*_OPEN, *params, after_id, -1 if limit is None else limit),
        )
        return [hazard_row(row) for row in rows]

    async def counts(
        self,
        region_code: str | None,
        since: datetime,
        until: datetime,
        *,
        exclude_areas: Iterable[HazardArea] = (),
        exactly: bool = False,
    ) -> HazardCounts:
        """Counts for a region (None: the whole city) over [since, until); with `exactly`, of the hazards placed at
        the region itself and not below it (the city's own institutions, 市直)."""
        scope, params = _scope(region_code, exclude_areas, exactly=exactly)
        start, end = to_db_time(since), to_db_time(until)
        row = await self._db.fetchone(
            "SELECT "
            "SUM(CASE WHEN reported_at >= ? AND reported_at < ? THEN 1 ELSE 0 END) AS new, "
            # Closed, not withdrawn (作废): closed_at is when either ended, and only a closing is a rectification.
            f"SUM(CASE WHEN state IN ({marks(_CLOSED)}) AND closed_at >= ? AND closed_at < ? THEN 1 ELSE 0 END) "
            "AS closed, "
            f"SUM(CASE WHEN state IN ({marks(_UNRESOLVED)}) AND reported_at < ? THEN 1 ELSE 0 END) AS unresolved, "
            f"SUM(CASE WHEN state IN ({marks(_OPEN)}) AND deadline < ? THEN 1 ELSE 0 END) AS overdue "
            f"FROM hazards WHERE {scope}",
            (start, end, *_CLOSED, start, end, *_UNRESOLVED, end, *_OPEN, end, *params),
        )
        assert row is not None
        return HazardCounts(
            new=int(row["new"] or 0),
            closed=int(row["closed"] or 0),
            unresolved=int(row["unresolved"] or 0),
            overdue=int(row["overdue"] or 0),
        )

    async def overdue(
        self, region_code: str | None, now: datetime, *, exclude_areas: Iterable[HazardArea] = (), limit: int = 20
    ) -> list[Hazard]:
        """Open hazards past their deadline, the longest overdue first."""
        scope, params = _scope(region_code, exclude_areas)
        rows = await self._db.fetchall(
            f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE {scope} AND state IN ({marks(_OPEN)}) AND deadline < ? "
            "ORDER BY deadline, id LIMIT ?",
            (*params, *_OPEN, to_db_time(now), limit),
        )
        return [hazard_row(row) for row in rows]


def _scope(
    region_code: str | None, exclude_areas: Iterable[HazardArea], *, exactly: bool = False
) -> tuple[str, list[object]]:
    excluded = sorted(area.value for area in exclude_areas)
    clauses, params = [f"area NOT IN ({marks(excluded)})"], list[object](excluded)
    if region_code is not None and exactly:
        clauses.append("region_code = ?")
        params.append(region_code)
    elif region_code is not None:
        clauses.append("region_code GLOB ?")
        params.append(_within(region_code))
    return " AND ".join(clauses), params


def _within(region_code: str) -> str:
    """The GLOB pattern of the region and every place below it."""
    return prefix_glob(significant_prefix(region_code))
