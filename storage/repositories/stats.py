"""Aggregates for statistics and rankings. Small groupings are counted in SQLite. The large ones of /stats (a year
of the city's hazards, the institutions every warning reached) leave SQLite as a few group_concat columns and are
counted with Counter: SQLite has no hash aggregation, so each GROUP BY over tens of thousands of rows is a sort,
and fetching them as rows costs a Python tuple each. No model is built per row.

The state sets are bound as parameters from `bot.domain.lifecycle`, so "unresolved" and "overdue" are the same
question the hazard loop asks (`is_overdue`: an open state and `now` past the deadline). Times are fixed-width UTC
text, so comparing them as text compares instants.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import compress

import aiosqlite

from bot.domain.catalog import SENSITIVE_AREAS
from bot.domain.check_backs import CheckBackAnswer, CheckBackCounts
from bot.domain.lifecycle import CLOSED_STATES, OPEN_STATES, UNRESOLVED_STATES, WITHDRAWN_STATES
from bot.domain.stats import CohortColumns, HazardCounts, HazardStanding, Scope, median_of, median_window, unit_of
from storage.db import BUSY_TIMEOUT_MS, Database
from storage.repositories._codec import from_db_time, from_db_time_or_none, marks, prefix_glob, to_db_time

_CLOSED = sorted(s.value for s in CLOSED_STATES)
_OPEN = sorted(s.value for s in OPEN_STATES)
_UNRESOLVED = sorted(s.value for s in UNRESOLVED_STATES)
_WITHDRAWN = sorted(s.value for s in WITHDRAWN_STATES)
_SENSITIVE = sorted(a.value for a in SENSITIVE_AREAS)
# What the county chart counts an open hazard past its deadline as, in place of its state (`states_by_unit`).
OVERDUE_STATE = "overdue"


def answered_in_force(alias: str) -> str:
    """An answer (`alias` a warning_acks row) given while its warning was in force: before it was lifted or marked
    ended, and before its expiry. The bot records none after the end; older data may hold some (a press under an
    ended warning was once accepted), and the figures must not count them. Times are UTC text of one width, so
    they compare as strings; SQLite's MIN of two values is the smaller."""
    return (f"{alias}.at < (SELECT MIN(IFNULL(e.ended_at, '9'), IFNULL(e.expires, '9')) FROM warnings e "
            f"WHERE e.id = {alias}.warning_id)")



def overdue_then(at: datetime, alias: str = "h") -> tuple[str, list[object]]:
    """A WHERE clause for hazards (`alias`) that were overdue at the instant `at` (a period's end), whenever found:
    reported before it, past their deadline then, and in an open state by their history (the last event before
    `at`; a hazard with none recorded before it is taken in the state it is in). The deadline is the hazard's own
    now: one moved later after `at` counts by its new date. The ranking's 期末逾期 and the notice's list of those
    hazards both ask this, so that they always agree."""
    moment = to_db_time(at)
    return (
        f"{alias}.reported_at < ? AND {alias}.deadline < ? AND ({alias}.closed_at IS NULL OR {alias}.closed_at >= ?) "
        f"AND coalesce((SELECT e.to_state FROM hazard_events e WHERE e.hazard_id = {alias}.id AND e.at < ? "
        f"ORDER BY e.id DESC LIMIT 1), {alias}.state) IN ({marks(_OPEN)})",
        [moment, moment, moment, moment, *_OPEN],
    )


class GroupBy(StrEnum):
    UNIT = "unit"  # a county (city scope) or a township (county scope)
    INSTITUTION = "institution"


def hazard_scope(scope: Scope, alias: str = "h") -> tuple[str, list[object]]:
    """WHERE clauses for hazards in a scope, for this module and the exports alike."""
    clauses, params = ["1 = 1"], list[object]()
    if scope.institution_id is not None:
        clauses.append(f"{alias}.institution_id = ?")
        params.append(scope.institution_id)
    if scope.region_prefix is not None:
        clauses.append(f"{alias}.region_code GLOB ?")
        params.append(prefix_glob(scope.region_prefix))
    if scope.hide_sensitive:
        clauses.append(f"{alias}.area NOT IN ({marks(_SENSITIVE)})")
        params += _SENSITIVE
    return " AND ".join(clauses), params


def institution_scope(scope: Scope, alias: str = "i") -> tuple[str, list[object]]:
    clauses, params = [f"{alias}.active = 1"], list[object]()
    if scope.institution_id is not None:
        clauses.append(f"{alias}.id = ?")
        params.append(scope.institution_id)
    if scope.region_prefix is not None:
        clauses.append(f"{alias}.region_code GLOB ?")
        params.append(prefix_glob(scope.region_prefix))
    return " AND ".join(clauses), params


def group_expression(by: GroupBy, scope: Scope, alias: str, institution_column: str = "institution_id") -> str:
    # Every form is fixed text chosen here, never taken from a caller's string.
    if by is GroupBy.INSTITUTION:
        return f"CAST({alias}.{institution_column} AS TEXT)"
    return f"substr({alias}.region_code, 1, {int(scope.unit_digits)})"


_COUNTS = (
    "COUNT(*) AS found, "
    f"SUM(h.state IN ({marks(_CLOSED)})) AS closed, "
    f"SUM(h.state IN ({marks(_UNRESOLVED)})) AS unresolved, "
    f"SUM(h.state IN ({marks(_OPEN)}) AND h.deadline < ?) AS overdue, "
    f"SUM(h.state IN ({marks(_CLOSED)}) AND h.closed_on_time = 1) AS on_time, "
    f"SUM(h.state IN ({marks(_CLOSED)}) AND h.closed_on_time = 0) AS late, "
    f"SUM(h.state IN ({marks(_WITHDRAWN)})) AS withdrawn"
)


def _count_params(now: datetime) -> list[object]:
    return [*_CLOSED, *_UNRESOLVED, *_OPEN, to_db_time(now), *_CLOSED, *_CLOSED, *_WITHDRAWN]


# A hazard's `HazardStanding`, by the same state sets and deadline test as `_COUNTS`.
_S = HazardStanding
_STANDING = (
    f"CASE WHEN h.state IN ({marks(_CLOSED)}) "
    f"THEN CASE h.closed_on_time WHEN 1 THEN {_S.CLOSED_ON_TIME:d} WHEN 0 THEN {_S.CLOSED_LATE:d} "
    f"ELSE {_S.CLOSED_UNJUDGED:d} END "
    f"WHEN h.state IN ({marks(_OPEN)}) THEN CASE WHEN h.deadline < ? THEN {_S.OPEN_OVERDUE:d} ELSE {_S.OPEN:d} END "
    f"WHEN h.state IN ({marks(_UNRESOLVED)}) THEN {_S.FIXED:d} "
    f"WHEN h.state IN ({marks(_WITHDRAWN)}) THEN {_S.WITHDRAWN:d} ELSE {_S.OTHER:d} END"
)


def _standing_params(now: datetime) -> list[object]:
    return [*_CLOSED, *_OPEN, to_db_time(now), *_UNRESOLVED, *_WITHDRAWN]


def state_at(alias: str = "h") -> str:
    """A hazard's state at an instant (one `?`, given twice by `_state_at_params`): the state it is in now when
    nothing has changed since (`updated_at`), else the state its history (hazard_events) had reached by then; a
    hazard with no event before it (data imported without history) is taken in the state it is in now."""
    return (f"CASE WHEN {alias}.updated_at < ? THEN {alias}.state "
            f"ELSE coalesce((SELECT e.to_state FROM hazard_events e WHERE e.hazard_id = {alias}.id AND e.at < ? "
            f"ORDER BY e.id DESC LIMIT 1), {alias}.state) END")


def _state_at_params(at: datetime) -> list[object]:
    return [to_db_time(at), to_db_time(at)]


@asynccontextmanager
async def side_reader(db: Database) -> AsyncIterator[Database]:
    """A second connection to the same database file for reading while `db` is busy with other statements (a
    file in WAL mode lets both read at once), closed on leaving; `db` itself where there is no file."""
    if str(db.path) == ":memory:":
        yield db
        return
    connection = await aiosqlite.connect(db.path, isolation_level=None)
    try:
        connection.row_factory = aiosqlite.Row
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA query_only = ON")
        yield Database(connection, db.path, db.schema_version)
    finally:
        await connection.close()


@dataclass(frozen=True)
class UnitAcks:
    reached: int
    answered: int


@dataclass(frozen=True)
class Roster:
    """The active institutions in scope as parallel columns: what duties are owed by and judged for."""

    ids: list[int]
    types: list[str]
    region_codes: list[str]
    tracked_from: list[date | None]  # the day each was added (None: judged for every period)


class StatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def cohort_columns(
        self, scope: Scope, since: datetime, until: datetime, now: datetime, *, from_history: bool = False
    ) -> CohortColumns:
        """The hazards found in [since, until) as parallel columns (`CohortColumns`), for `count_cohort`, as they
        stand at `now`: with `from_history` (a period that has ended, `now` its end), each in the state its history
        had reached then (`state_at`), overdue by then.

        One walk of the covering cohort index, each column gathered by group_concat into one text: SQLite would
        sort the whole cohort for each GROUP BY (no hash aggregation), and fetching it as rows costs a Python tuple
        per hazard. The institution type is looked up here, not joined: a dict beats a B-tree probe per hazard."""
        where, params = hazard_scope(scope)
        source, source_params = "hazards h", list[object]()
        if from_history:
            # A period that has ended is counted as it stood at its end: each hazard's state then, from its history.
            source = (f"(SELECT h.region_code, h.area, h.severity, h.source_level, h.institution_id, h.deadline, "
                      f"h.closed_on_time, h.reported_at, h.id, {state_at()} AS state FROM hazards h "
                      f"WHERE h.reported_at >= ? AND h.reported_at < ? AND {where}) h")
            source_params = [*_state_at_params(now), to_db_time(since), to_db_time(until), *params]
            where, params = "1 = 1", []
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n, group_concat(h.region_code, ','), group_concat(h.area, ','), "
            "group_concat(h.severity, ','), group_concat(h.source_level, ','), group_concat(h.institution_id, ','), "
            f"group_concat({_STANDING}, ',') FROM {source} "
            f"WHERE h.reported_at >= ? AND h.reported_at < ? AND {where}",
            (*_standing_params(now), *source_params, to_db_time(since), to_db_time(until), *params),
        )
        if row is None or not row["n"]:
            return CohortColumns((), (), (), (), (), ())
        # Every gathered value is NOT NULL (group_concat would skip a NULL and shift its column) and none holds a
        # comma: codes, enum values and numbers.
        regions, areas, severities, sources, institutions, standings = (str(row[i]).split(",") for i in range(1, 7))
        types = await self._institution_types(scope)
        return CohortColumns(regions, areas, severities, sources, list(map(types.__getitem__, institutions)), standings)

    async def check_backs_asked(self, scope: Scope, since: datetime, until: datetime) -> CheckBackCounts:
        """The check-backs (回访) asked in [since, until) about hazards in scope, and how they were answered: along
        the asked index (migration 0026), each one's hazard found by its primary key for the scope (a rights-protection
        hazard hidden from a head is hidden here too)."""
        where, params = hazard_scope(scope)
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS asked, SUM(c.answer = ?) AS holds, SUM(c.answer = ?) AS again "
            "FROM check_backs c JOIN hazards h ON h.id = c.hazard_id "
            f"WHERE c.asked_at >= ? AND c.asked_at < ? AND {where}",
            (CheckBackAnswer.HOLDS.value, CheckBackAnswer.AGAIN.value, to_db_time(since), to_db_time(until), *params),
        )
        if row is None:
            return CheckBackCounts()
        # SUM over no row is NULL, hence the `or 0`.
        return CheckBackCounts(int(row["asked"] or 0), int(row["holds"] or 0), int(row["again"] or 0))

    async def _institution_types(self, scope: Scope) -> dict[str, str]:
        """Institution id (as text) → type, for every institution a hazard in scope can name: a hazard keeps its
        region when its institution moves, so they are not chosen by region."""
        one = "WHERE id = ?" if scope.institution_id is not None else ""
        row = await self._db.fetchone(
            f"SELECT group_concat(id, ','), group_concat(type, ',') FROM institutions {one}",
            [scope.institution_id] if scope.institution_id is not None else [],
        )
        if row is None or row[0] is None:
            return {}
        return dict(zip(str(row[0]).split(","), str(row[1]).split(","), strict=True))

    async def roster(self, scope: Scope) -> Roster:
        """In (region code, code) order, the order the notices list institutions in: SQLite keeps the ordered
        subquery's order for an aggregate over it (it may not flatten an ORDER BY into an aggregate)."""
        where, params = institution_scope(scope)
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n, group_concat(id, ','), group_concat(type, ','), group_concat(region_code, ','), "
            "group_concat(tracked_from, ',') "
            f"FROM (SELECT i.id, i.type, i.region_code, coalesce(i.tracked_from, '') AS tracked_from "
            f"FROM institutions i WHERE {where} ORDER BY i.region_code, i.code)",
            params,
        )
        if row is None or not row["n"]:
            return Roster([], [], [], [])
        # None of these values holds a comma (numbers, enum values, codes, ISO dates), and none is NULL: an unknown
        # tracked_from is gathered as '' (group_concat would skip a NULL and shift the column).
        tracked = [date.fromisoformat(day) if day else None for day in str(row[4]).split(",")]
        return Roster([int(i) for i in str(row[1]).split(",")], str(row[2]).split(","), str(row[3]).split(","), tracked)

    async def inspections_done(self, scope: Scope, months: Sequence[str]) -> dict[int, list[str]]:
        """Institution id → the months ('YYYY-MM') of these it finished its monthly self-inspection for. For a head's
        institution only that one; otherwise every institution's, active or not, since picking those of the roster
        (the caller) costs less than joining each inspection to its institution here."""
        if not months:
            return {}
        one = "AND s.institution_id = ?" if scope.institution_id is not None else ""
        row = await self._db.fetchone(
            "SELECT group_concat(s.institution_id, ','), group_concat(s.month, ',') FROM self_inspections s "
            f"WHERE s.month IN ({marks(months)}) AND s.finished_at IS NOT NULL {one}",
            (*months, *([scope.institution_id] if scope.institution_id is not None else [])),
        )
        found: dict[int, list[str]] = {}
        if row is None or row[0] is None:
            return found
        # Ids and 'YYYY-MM' months: none holds a comma, none is NULL.
        for institution_id, month in zip(str(row[0]).split(","), str(row[1]).split(","), strict=True):
            found.setdefault(int(institution_id), []).append(month)
        return found

    async def drill_dates(
        self, scope: Scope, kinds: Sequence[str], since: date, *, logged_before: datetime | None = None
    ) -> dict[int, list[tuple[str, date]]]:
        """Institution id → (kind, local date) of its drills of these kinds held on or after `since`: a head's
        institution only, otherwise every institution's (the caller keeps those of its roster). `logged_before`:
        only the drills on record by then (a period that has ended is judged on what was logged by its end)."""
        one = "AND d.institution_id = ?" if scope.institution_id is not None else ""
        logged = "AND d.logged_at < ?" if logged_before is not None else ""
        row = await self._db.fetchone(
            "SELECT group_concat(d.institution_id, ','), group_concat(d.kind, ','), group_concat(d.held_on, ',') "
            f"FROM drills d WHERE d.kind IN ({marks(kinds)}) AND d.held_on >= ? {one} {logged}",
            (
                *kinds, since.isoformat(), *([scope.institution_id] if scope.institution_id is not None else []),
                *([to_db_time(logged_before)] if logged_before is not None else []),
            ),
        )
        found: dict[int, list[tuple[str, date]]] = {}
        if row is None or row[0] is None:
            return found
        # Ids, kinds and ISO dates: none holds a comma.
        columns = (str(row[i]).split(",") for i in range(3))
        for institution_id, kind, held_on in zip(*columns, strict=True):
            found.setdefault(int(institution_id), []).append((kind, date.fromisoformat(held_on)))
        return found

    async def cohort_by(
        self, scope: Scope, since: datetime, until: datetime, now: datetime, by: GroupBy
    ) -> dict[str, HazardCounts]:
        where, params = hazard_scope(scope)
        rows = await self._db.fetchall(
            f"SELECT {group_expression(by, scope, 'h')} AS name, {_COUNTS} FROM hazards h "
            f"WHERE h.reported_at >= ? AND h.reported_at < ? AND {where} GROUP BY 1",
            (*_count_params(now), to_db_time(since), to_db_time(until), *params),
        )
        return {str(row["name"]): _counts(row) for row in rows}

    async def median_close_hours(
        self, scope: Scope, since: datetime, until: datetime, closed: int, *, closed_by: datetime | None = None
    ) -> float | None:
        """The median time from report to closing of the cohort's `closed` hazards (counted by the caller); with
        `closed_by` (a period's end), those closed then by their history (`state_at`)."""
        window = median_window(closed)
        if window is None:
            return None
        where, params = hazard_scope(scope)
        # Closed then by its history, as `cohort_columns(from_history=True)` counted it, so the count matches.
        state, state_params = ("+h.state", []) if closed_by is None else (state_at(), _state_at_params(closed_by))
        rows = await self._db.fetchall(
            "SELECT (julianday(h.closed_at) - julianday(h.reported_at)) * 24.0 AS hours FROM hazards h "
            f"WHERE h.reported_at >= ? AND h.reported_at < ? AND {state} IN ({marks(_CLOSED)}) "
            f"AND h.closed_at IS NOT NULL AND {where} ORDER BY hours LIMIT ? OFFSET ?",
            (to_db_time(since), to_db_time(until), *state_params, *_CLOSED, *params, window[1], window[0]),
        )
        return median_of([float(row["hours"]) for row in rows])

    async def backlog_by(self, scope: Scope, now: datetime, by: GroupBy) -> dict[str, tuple[int, int]]:
        """Name → (unresolved, overdue) over every hazard in scope, whenever it was found."""
        where, params = hazard_scope(scope)
        name, grouping = group_expression(by, scope, "h"), "1"
        if by is GroupBy.UNIT:
            # Grouped on (state, region code), the order of the backlog index, so SQLite counts as it reads instead
            # of sorting every unresolved hazard; the few hundred (state, region) rows are summed into units here.
            name, grouping = "h.region_code", "h.state, h.region_code"
        rows = await self._db.fetchall(
            f"SELECT {name} AS name, COUNT(*) AS unresolved, "
            f"SUM(h.state IN ({marks(_OPEN)}) AND h.deadline < ?) AS overdue FROM hazards h "
            f"WHERE h.state IN ({marks(_UNRESOLVED)}) AND {where} GROUP BY {grouping}",
            (*_OPEN, to_db_time(now), *_UNRESOLVED, *params),
        )
        sums: dict[str, tuple[int, int]] = {}
        for row in rows:
            name = str(row["name"])[: scope.unit_digits] if by is GroupBy.UNIT else str(row["name"])
            unresolved, overdue = sums.get(name, (0, 0))
            sums[name] = (unresolved + int(row["unresolved"]), overdue + int(row["overdue"] or 0))
        return sums

    async def backlog_at(self, scope: Scope, at: datetime) -> dict[str, tuple[int, int]]:
        """Unit → (unresolved, overdue) at the instant `at` (a period's end), whenever found: reported before it and
        unresolved then by its history (`state_at`), overdue if open then and past its deadline. One closed before
        `at` is skipped without reading its history (a reopened one has its closed_at cleared)."""
        where, params = hazard_scope(scope)
        moment = to_db_time(at)
        rows = await self._db.fetchall(
            f"SELECT region_code, state, deadline FROM (SELECT h.region_code, h.deadline, {state_at()} AS state "
            "FROM hazards h WHERE h.reported_at < ? AND (h.closed_at IS NULL OR h.closed_at >= ?) "
            f"AND {where}) WHERE state IN ({marks(_UNRESOLVED)})",
            (*_state_at_params(at), moment, moment, *params, *_UNRESOLVED),
        )
        sums: dict[str, tuple[int, int]] = {}
        for row in rows:
            unit = str(row["region_code"])[: scope.unit_digits]
            overdue = row["state"] in _OPEN and row["deadline"] is not None and row["deadline"] < moment
            unresolved, late = sums.get(unit, (0, 0))
            sums[unit] = (unresolved + 1, late + int(overdue))
        return sums

    async def overdue_at(self, scope: Scope, at: datetime, by: GroupBy) -> dict[str, int]:
        """Name → hazards in scope that were overdue at the instant `at` (a period's end), whenever found
        (`overdue_then`). One closed before `at` (and not reopened) is skipped without reading its history."""
        where, params = hazard_scope(scope)
        then, then_params = overdue_then(at)
        rows = await self._db.fetchall(
            f"SELECT {group_expression(by, scope, 'h')} AS name, COUNT(*) AS n FROM hazards h "
            f"WHERE {then} AND {where} GROUP BY 1",
            (*then_params, *params),
        )
        return {str(row["name"]): int(row["n"]) for row in rows}

    async def states_by_unit(
        self, scope: Scope, since: datetime, until: datetime, now: datetime, *, from_history: bool = False
    ) -> dict[str, dict[str, int]]:
        """Unit → state → how many of the cohort are in it at `now` (with `from_history`, a past period's end, by
        each hazard's history, as /stats counts it): the stacked bars of the county chart. An open hazard past its
        deadline is counted under OVERDUE_STATE instead of its state, so the chart shows what the ranking counts."""
        where, params = hazard_scope(scope)
        state, state_params = (state_at(), _state_at_params(now)) if from_history else ("h.state", [])
        rows = await self._db.fetchall(
            f"SELECT unit, CASE WHEN state IN ({marks(_OPEN)}) AND deadline < ? THEN '{OVERDUE_STATE}' ELSE state END "
            f"AS state, COUNT(*) AS n FROM (SELECT {group_expression(GroupBy.UNIT, scope, 'h')} AS unit, "
            f"{state} AS state, h.deadline FROM hazards h "
            f"WHERE h.reported_at >= ? AND h.reported_at < ? AND {where}) GROUP BY 1, 2",
            (*_OPEN, to_db_time(now), *state_params, to_db_time(since), to_db_time(until), *params),
        )
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row["unit"], {})[row["state"]] = int(row["n"])
        return found

    async def weekly(
        self, scope: Scope, since: datetime, until: datetime, origin: datetime
    ) -> tuple[dict[int, int], dict[int, int]]:
        """Week number (0 = the week starting at `origin`) → hazards found, and → hazards closed, that week."""
        where, params = hazard_scope(scope)
        week = "CAST((julianday({column}) - julianday(?)) / 7 AS INTEGER)"
        found = await self._db.fetchall(
            f"SELECT {week.format(column='h.reported_at')} AS w, COUNT(*) AS n FROM hazards h "
            f"WHERE h.reported_at >= ? AND h.reported_at < ? AND {where} GROUP BY 1",
            (to_db_time(origin), to_db_time(since), to_db_time(until), *params),
        )
        closed = await self._db.fetchall(
            f"SELECT {week.format(column='h.closed_at')} AS w, COUNT(*) AS n FROM hazards h "
            f"WHERE h.state IN ({marks(_CLOSED)}) AND h.closed_at >= ? AND h.closed_at < ? AND {where} GROUP BY 1",
            (to_db_time(origin), *_CLOSED, to_db_time(since), to_db_time(until), *params),
        )
        return {int(r["w"]): int(r["n"]) for r in found}, {int(r["w"]): int(r["n"]) for r in closed}

    def _answers(self, scope: Scope, since: datetime, until: datetime) -> tuple[str, list[object]]:
        """CTEs ending in `per`: one row per warning sent in [since, until) and institution in scope it concerned
        (warning_institutions: whether or not any head could be told, so one nobody could tell counts as
        unanswered rather than not at all), with the first answer any of its heads gave. The institutions
        are read in (warning, institution) order from their primary key, so grouping them needs no sort, and each
        first answer is one step into the (warning, institution, at) index of the answers.
        `warning_acks.at` is a person's latest answer, so MIN over the heads is the earliest that survives."""
        where, params = hazard_scope(Scope(scope.level, scope.region_code, scope.institution_id), alias="r")
        sql = (
            "WITH sent AS (SELECT id, sent_at FROM warnings WHERE sent_at >= ? AND sent_at < ?), "
            "per AS (SELECT r.warning_id, r.institution_id, MAX(r.region_code) AS region_code, "
            "(SELECT MIN(a.at) FROM warning_acks a WHERE a.warning_id = r.warning_id "
            f"AND a.institution_id = r.institution_id AND {answered_in_force('a')}) AS first_at "
            "FROM warning_institutions r WHERE r.warning_id IN (SELECT id FROM sent) "
            f"AND {where} GROUP BY r.warning_id, r.institution_id) "
        )
        return sql, [to_db_time(since), to_db_time(until), *params]

    async def acks_by(self, scope: Scope, since: datetime, until: datetime, by: GroupBy) -> dict[str, UnitAcks]:
        """For the warnings sent in [since, until): institutions reached and those that answered, per name."""
        cte, params = self._answers(scope, since, until)
        rows = await self._db.fetchall(
            f"{cte} SELECT {group_expression(by, scope, 'per')} AS name, COUNT(*) AS reached, "
            "COUNT(first_at) AS answered FROM per WHERE region_code IS NOT NULL GROUP BY 1",
            params,
        )
        return {str(row["name"]): UnitAcks(int(row["reached"]), int(row["answered"])) for row in rows}

    async def acks_with_median(
        self, scope: Scope, since: datetime, until: datetime
    ) -> tuple[dict[str, UnitAcks], float | None]:
        """`acks_by` per unit, and the median minutes from sending to the first answer, from one statement: the
        reached set is built once and gathered as three columns (warning, region code, first answer or ''), which
        Python counts by region and times without the sorts SQLite would need (by unit, then by minutes)."""
        cte, params = self._answers(scope, since, until)
        row = await self._db.fetchone(
            f"{cte} SELECT COUNT(*) AS n, group_concat(warning_id, ','), group_concat(region_code, ','), "
            "group_concat(ifnull(first_at, ''), ',') FROM per WHERE region_code IS NOT NULL",
            params,
        )
        if row is None or not row["n"]:
            return {}, None
        # Warning ids, region codes and fixed-width times: none holds a comma.
        warnings, regions, firsts = (str(row[i]).split(",") for i in range(1, 4))
        reached, answered = Counter(regions), Counter(compress(regions, firsts))
        acks: dict[str, UnitAcks] = {}
        for region_code, n in reached.items():
            unit = unit_of(region_code, scope)
            before = acks.get(unit, UnitAcks(0, 0))
            acks[unit] = UnitAcks(before.reached + n, before.answered + answered[region_code])
        sent = await self._sent_times(since, until)
        # Stored times always carry their UTC offset (to_db_time), so fromisoformat gives comparable instants.
        minutes = [
            (datetime.fromisoformat(first) - sent[warning]).total_seconds() / 60
            for warning, first in zip(compress(warnings, firsts), compress(firsts, firsts), strict=True)
        ]
        return acks, (statistics.median(minutes) if minutes else None)

    async def _sent_times(self, since: datetime, until: datetime) -> dict[str, datetime]:
        """Warning id (as text) → when it was sent, for the warnings sent in [since, until)."""
        rows = await self._db.fetchall(
            "SELECT id, sent_at FROM warnings WHERE sent_at >= ? AND sent_at < ?",
            (to_db_time(since), to_db_time(until)),
        )
        return {str(row["id"]): from_db_time(row["sent_at"]) for row in rows}

    async def ack_times(self, scope: Scope, warning_id: int) -> tuple[datetime | None, int, list[datetime]]:
        """One warning: when it was sent, how many institutions in scope it reached, and when each that answered
        first did (sorted): the acknowledgement curve."""
        where, params = hazard_scope(Scope(scope.level, scope.region_code, scope.institution_id), alias="r")
        rows = await self._db.fetchall(
            "SELECT w.sent_at, r.institution_id, (SELECT MIN(a.at) FROM warning_acks a WHERE a.warning_id = w.id "
            f"AND a.institution_id = r.institution_id AND {answered_in_force('a')}) AS first_at "
            "FROM warning_institutions r "
            "JOIN warnings w ON w.id = r.warning_id WHERE w.id = ? "
            f"AND {where} GROUP BY r.institution_id ORDER BY first_at",
            (warning_id, *params),
        )
        sent = from_db_time_or_none(rows[0]["sent_at"]) if rows else None
        return sent, len(rows), [from_db_time(row["first_at"]) for row in rows if row["first_at"] is not None]

    async def recent_warnings(
        self, scope: Scope, since: datetime, until: datetime, limit: int
    ) -> list[tuple[int, str, datetime]]:
        """(id, headline, sent_at) of the latest warnings sent in [since, until) that reached the scope."""
        where, params = hazard_scope(Scope(scope.level, scope.region_code, scope.institution_id), alias="r")
        rows = await self._db.fetchall(
            "SELECT w.id, w.headline, w.sent_at FROM warnings w WHERE w.sent_at >= ? AND w.sent_at < ? "
            f"AND EXISTS (SELECT 1 FROM warning_recipients r WHERE r.warning_id = w.id AND {where}) "
            "ORDER BY w.sent_at DESC, w.id DESC LIMIT ?",
            (to_db_time(since), to_db_time(until), *params, limit),
        )
        return [(int(row["id"]), str(row["headline"]), from_db_time(row["sent_at"])) for row in rows]


def _counts(row: aiosqlite.Row) -> HazardCounts:
    # SUM over no matching row is NULL, hence the `or 0`.
    return HazardCounts(
        found=int(row["found"] or 0),
        closed=int(row["closed"] or 0),
        unresolved=int(row["unresolved"] or 0),
        overdue=int(row["overdue"] or 0),
        on_time=int(row["on_time"] or 0),
        late=int(row["late"] or 0),
        withdrawn=int(row["withdrawn"] or 0),
    )
