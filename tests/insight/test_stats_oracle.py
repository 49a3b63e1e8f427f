"""/stats against an independent count: a varied generated city (bench/city_data.py, small) whose every figure is
worked out again here in plain Python over the table rows, for the city, a county and a head, over a month, a
quarter, a year and a range. The SQL behind /stats is tuned for 100,000 hazards; a faster query that counts
differently fails here."""

from __future__ import annotations

import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.city_data import CitySize, generate
from bot.clock import FakeClock
from bot.domain.catalog import SENSITIVE_AREAS, HazardArea, Severity, SourceLevel
from bot.domain.compliance import Overdue, drill_rule, status
from bot.domain.lifecycle import CLOSED_STATES, UNRESOLVED_STATES, HazardState, is_overdue
from bot.domain.stats import (
    HazardCounts,
    PeriodKind,
    Ratio,
    Scope,
    ScopeLevel,
    StatsPeriod,
    check_range,
    current_period,
)
from bot.services.stats import StatsReport, StatsService
from storage import Storage
from storage.models import InstitutionType

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
SIZE = CitySize(hazards=2_500, institutions=60, people=300, warnings=8)


@dataclass(frozen=True)
class Rows:
    hazards: list[sqlite3.Row]
    institutions: dict[int, sqlite3.Row]
    drills: list[sqlite3.Row]
    inspections: list[sqlite3.Row]
    warnings: dict[int, sqlite3.Row]
    recipients: list[sqlite3.Row]
    acks: list[sqlite3.Row]
    counties: list[str]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("oracle") / "city.db"
    generate(path, NOW, SIZE, seed=11)
    with sqlite3.connect(path) as db:
        # What the generator leaves out: institutions closed down, self-inspections started but not finished,
        # a second head answering for the same institution (earlier or later), drills of another kind, and hazards
        # with no deadline.
        db.execute("UPDATE institutions SET active = 0 WHERE id % 9 = 0")
        db.execute("UPDATE self_inspections SET finished_at = NULL WHERE id % 7 = 0")
        db.execute(
            "INSERT INTO warning_acks (warning_id, user_id, institution_id, response, revision, at) "
            "SELECT warning_id, user_id + 7000000, institution_id, 'need_help', 1, "
            "strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', at, CASE WHEN institution_id % 2 THEN '-20 minutes' "
            "ELSE '+3 hours' END) FROM warning_acks WHERE institution_id % 3 = 0"
        )
        db.execute("UPDATE drills SET kind = 'typhoon_flood' WHERE id % 4 = 0")
        db.execute("UPDATE hazards SET deadline = NULL, closed_on_time = NULL WHERE id % 97 = 0")
    yield path


def read_rows(path: Path) -> Rows:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return Rows(
            hazards=db.execute("SELECT * FROM hazards").fetchall(),
            institutions={row["id"]: row for row in db.execute("SELECT * FROM institutions")},
            drills=db.execute("SELECT * FROM drills").fetchall(),
            inspections=db.execute("SELECT * FROM self_inspections").fetchall(),
            warnings={row["id"]: row for row in db.execute("SELECT * FROM warnings")},
            recipients=db.execute("SELECT * FROM warning_recipients").fetchall(),
            acks=db.execute("SELECT * FROM warning_acks").fetchall(),
            counties=[r[0] for r in db.execute("SELECT code FROM regions WHERE level = 'county'")],
        )
    finally:
        db.close()


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def in_region(scope: Scope, region_code: str) -> bool:
    return scope.region_prefix is None or region_code.startswith(scope.region_prefix)


def counts(hazards: list[sqlite3.Row], at: datetime = NOW) -> HazardCounts:
    closed = [h for h in hazards if HazardState(h["state"]) in CLOSED_STATES]
    return HazardCounts(
        found=len(hazards),
        closed=len(closed),
        unresolved=sum(HazardState(h["state"]) in UNRESOLVED_STATES for h in hazards),
        overdue=sum(is_overdue(instant(h["deadline"]), HazardState(h["state"]), at) for h in hazards),
        on_time=sum(h["closed_on_time"] == 1 for h in closed),
        late=sum(h["closed_on_time"] == 0 for h in closed),
    )


def grouped(hazards: list[sqlite3.Row], key: object, at: datetime = NOW) -> dict[str, HazardCounts]:
    groups: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for hazard in hazards:
        groups[key(hazard)].append(hazard)  # type: ignore[operator]
    return {name: counts(members, at) for name, members in groups.items()}


def expected(rows: Rows, scope: Scope, period: StatsPeriod) -> dict[str, object]:
    """Every figure of the report, from the rows, by the definitions in bot/domain/stats.py."""
    since, until = period.utc_bounds(TZ)
    today = NOW.astimezone(TZ).date()
    as_of, months = period.as_of(today), period.months(today)

    def unit(region_code: str) -> str:
        return region_code[: scope.unit_digits]

    def hazard_in_scope(h: sqlite3.Row) -> bool:
        return (
            (scope.institution_id is None or h["institution_id"] == scope.institution_id)
            and in_region(scope, h["region_code"])
            and not (scope.hide_sensitive and HazardArea(h["area"]) in SENSITIVE_AREAS)
        )

    scoped = [h for h in rows.hazards if hazard_in_scope(h)]
    cohort = [h for h in scoped if since <= datetime.fromisoformat(h["reported_at"]) < until]
    # A period that has ended is counted as it stood at its end. The generated city has no hazard history, so each
    # hazard is in the state it is in now (`state_at`'s fallback), overdue by the period's end; the backlog is what
    # was found before the end.
    end = min(until, NOW)
    backlog = [
        h for h in scoped
        if HazardState(h["state"]) in UNRESOLVED_STATES and datetime.fromisoformat(h["reported_at"]) < end
    ]
    closing_hours = [
        (datetime.fromisoformat(h["closed_at"]) - datetime.fromisoformat(h["reported_at"])).total_seconds() / 3600
        for h in cohort
        if HazardState(h["state"]) in CLOSED_STATES and h["closed_at"] is not None
    ]
    institutions = [
        i for i in rows.institutions.values()
        if i["active"] and (scope.institution_id is None or i["id"] == scope.institution_id)
        and in_region(scope, i["region_code"])
    ]

    drills: dict[str, Ratio] = defaultdict(Ratio)
    for institution in institutions:
        rule = drill_rule(institution["type"])
        ended = today > period.end
        # A period that has ended is judged at its end: the next morning, with the drills held by its last day and
        # on record by then (one entered late, afterwards, does not change a month already told).
        held = [date.fromisoformat(d["held_on"]) for d in rows.drills
                if d["institution_id"] == institution["id"] and d["kind"] in rule.drill_kinds
                and not (ended and datetime.fromisoformat(d["logged_at"]) >= until)]
        judged_on = as_of + timedelta(days=1) if ended else as_of
        compliant = not isinstance(status(rule, [d for d in held if d <= as_of], judged_on), Overdue)
        drills[unit(institution["region_code"])] += Ratio(int(compliant), 1)

    # The months ended owe their self-inspection; the running one (June, on 15 June) is due on its last day, so it
    # is counted apart, out of the rate.
    settled, running = period.settled_months(today), period.running_month(today)
    assert set(settled) | ({running} if running else set()) == set(months)
    inspections: dict[str, Ratio] = defaultdict(Ratio)
    inspections_running: dict[str, Ratio] = defaultdict(Ratio)
    for institution in institutions:
        finished = {
            s["month"] for s in rows.inspections if s["institution_id"] == institution["id"] and s["finished_at"]
        }
        inspections[unit(institution["region_code"])] += Ratio(len(finished & set(settled)), len(settled))
        if running:
            inspections_running[unit(institution["region_code"])] += Ratio(int(running in finished), 1)

    # Per (warning sent in the period, institution in scope it reached): the first answer of any of its heads.
    reached: dict[tuple[int, int], str] = {}
    for r in rows.recipients:
        sent = instant(rows.warnings[r["warning_id"]]["sent_at"])
        if (r["kind"] == "head" and r["institution_id"] is not None and sent is not None and since <= sent < until
                and (scope.institution_id is None or r["institution_id"] == scope.institution_id)
                and in_region(scope, r["region_code"])):
            key = (r["warning_id"], r["institution_id"])
            reached[key] = max(reached.get(key, ""), r["region_code"])
    first: dict[tuple[int, int], datetime] = {}
    for a in rows.acks:
        key = (a["warning_id"], a["institution_id"])
        if key in reached:
            at = datetime.fromisoformat(a["at"])
            first[key] = min(first.get(key, at), at)
    acks: dict[str, Ratio] = defaultdict(Ratio)
    for key, region_code in reached.items():
        acks[unit(region_code)] += Ratio(int(key in first), 1)
    ack_minutes = [
        (at - datetime.fromisoformat(rows.warnings[key[0]]["sent_at"])).total_seconds() / 60
        for key, at in first.items()
    ]

    by_unit = grouped(cohort, lambda h: unit(h["region_code"]), end)
    backlog_by_unit = grouped(backlog, lambda h: unit(h["region_code"]), end)
    codes = set(by_unit) | set(backlog_by_unit) | {unit(i["region_code"]) for i in institutions} | set(acks)
    if scope.level is ScopeLevel.CITY:
        codes |= set(rows.counties)
    units = {
        code: (
            by_unit.get(code, HazardCounts()),
            backlog_by_unit.get(code, HazardCounts()).unresolved,
            backlog_by_unit.get(code, HazardCounts()).overdue,
            drills.get(code, Ratio()),
            inspections.get(code, Ratio()),
            inspections_running.get(code, Ratio()),
            acks.get(code, Ratio()),
        )
        for code in codes
    }
    return {
        "hazards": counts(cohort, end),
        "median_close_hours": statistics.median(closing_hours) if closing_hours else None,
        "backlog": (len(backlog), counts(backlog, end).overdue),
        "by_area": {HazardArea(k): v for k, v in grouped(cohort, lambda h: h["area"], end).items()},
        "by_severity": {Severity(k): v for k, v in grouped(cohort, lambda h: h["severity"], end).items()},
        "by_source": {SourceLevel(k): v for k, v in grouped(cohort, lambda h: h["source_level"], end).items()},
        "by_type": {
            InstitutionType(k): v
            for k, v in grouped(cohort, lambda h: rows.institutions[h["institution_id"]]["type"], end).items()
        },
        "drills": sum(drills.values(), Ratio()),
        "inspections": sum(inspections.values(), Ratio()),
        "inspections_running": sum(inspections_running.values(), Ratio()),
        "acks": sum(acks.values(), Ratio()),
        "median_ack_minutes": statistics.median(ack_minutes) if ack_minutes else None,
        "units": units if scope.level is not ScopeLevel.INSTITUTION else {},
    }


def observed(report: StatsReport) -> dict[str, object]:
    return {
        "hazards": report.hazards,
        "median_close_hours": report.median_close_hours,
        "backlog": (report.backlog_unresolved, report.backlog_overdue),
        "by_area": report.by_area,
        "by_severity": report.by_severity,
        "by_source": report.by_source,
        "by_type": report.by_type,
        "drills": report.drills,
        "inspections": report.inspections,
        "inspections_running": report.inspections_running,
        "acks": report.acks,
        "median_ack_minutes": report.median_ack_minutes,
        "units": {
            u.code: (u.hazards, u.backlog_unresolved, u.backlog_overdue, u.drills, u.inspections,
                     u.inspections_running, u.acks)
            for u in report.units
        },
    }


PERIODS = [
    current_period(PeriodKind.MONTH, date(2026, 5, 1)),
    current_period(PeriodKind.QUARTER, date(2026, 6, 1)),
    current_period(PeriodKind.YEAR, date(2025, 1, 1)),
    check_range(date(2025, 11, 20), date(2026, 2, 10)),
]


async def test_every_figure_of_stats_matches_a_count_over_the_rows(city: Path) -> None:
    rows = read_rows(city)
    active = [i for i, row in rows.institutions.items() if row["active"]]
    busiest = max(active, key=lambda i: sum(h["institution_id"] == i for h in rows.hazards))
    county = rows.institutions[busiest]["region_code"][:6]
    scopes = [
        Scope(ScopeLevel.CITY),
        Scope(ScopeLevel.COUNTY, region_code=county),
        Scope(ScopeLevel.INSTITUTION, institution_id=busiest, hide_sensitive=True),
    ]
    storage = await Storage.open(city, FakeClock(NOW))
    try:
        service = StatsService(storage, FakeClock(NOW), TZ)
        for scope in scopes:
            for period in PERIODS:
                assert isinstance(period, StatsPeriod)
                want = expected(rows, scope, period)
                got = observed(await service.report_for(scope, period))
                assert want["hazards"].found > 0, (scope, period)  # type: ignore[attr-defined]
                for name in want:
                    if name.startswith("median"):
                        # SQLite subtracts julian days (floats): a few microseconds either way, never a shown digit.
                        assert got[name] == pytest.approx(want[name], abs=1e-3), (name, scope, period)
                    else:
                        assert got[name] == want[name], (name, scope, period)
    finally:
        await storage.close()
