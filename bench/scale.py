"""Scale: the service calls behind each screen, on a generated city of 100,000 hazards, 3,000 institutions and
20,000 people (bench/city_data.py), with the process's peak resident memory.

Each probe is a row of PROBES: a name, the call (through the same services the handlers use) and the target:
/tasks, /stats for each kind of person, the full export and the reminder sweep are rows. Before the sweep, the
reminders of every open hazard and duty are planned as the daily job plans them (its time is printed too). The
city is generated in a child process, so the memory printed is what the probes themselves needed, on top of the
imported bot.

    .venv/bin/python -m bench.scale                          # generates the city (≈10 s), then runs the probes
    .venv/bin/python -m bench.scale --db /tmp/city.db --keep # generate once, keep it
    .venv/bin/python -m bench.scale --db /tmp/city.db        # reuse it
    .venv/bin/python -m bench.scale --db /tmp/city.db --only sweep  # the daily plan and the sweep alone
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench.city_data import generate
from bench.load import START
from bot.app import BotServices, open_services
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain.roles import Role
from bot.domain.stats import PeriodKind, StatsPeriod, check_range, current_period
from bot.i18n import Translator
from bot.services.exports import ExportFormat
from storage.models import User

CITY_ADMIN = 9_999_001


@dataclass(frozen=True)
class People:
    """Who the probes act as: the busiest head, the busiest county's staff, a city admin."""

    head: User
    county: User
    city: User


Call = Callable[[BotServices, People], Awaitable[object]]


@dataclass(frozen=True)
class Probe:
    name: str
    call: Call
    target: str  # as BENCHMARKS.md states it, or "—" where the issue sets none
    runs: int = 20


async def tasks_head(services: BotServices, people: People) -> object:
    return await services.hazards.tasks(people.head, 0, 5)


async def tasks_county(services: BotServices, people: People) -> object:
    return await services.hazards.tasks(people.county, 0, 5)


async def tasks_city(services: BotServices, people: People) -> object:
    return await services.hazards.tasks(people.city, 0, 5)


async def tasks_city_deep_page(services: BotServices, people: People) -> object:
    return await services.hazards.tasks(people.city, 400, 5)


def stats_of(kind: PeriodKind, who: Callable[[People], User]) -> Call:
    """/stats as the handler asks for it: the person's own scope, the current month, quarter or year."""

    async def call(services: BotServices, people: People) -> object:
        stats = services.insight.stats
        return await stats.report(who(people), current_period(kind, stats.today()))

    return call


class Sweeps:
    """The every-minute reminder tick, a minute later each call: what falls due in that minute is claimed."""

    def __init__(self) -> None:
        self.minutes = 0
        self.claimed: list[int] = []

    async def __call__(self, services: BotServices, people: People) -> object:
        self.minutes += 1
        deliveries = await services.reminders.sweep(START + timedelta(minutes=self.minutes), "bench")
        self.claimed.append(sum(len(delivery.items) for delivery in deliveries))
        return deliveries


async def plan_reminders(services: BotServices) -> None:
    started = time.perf_counter()
    await services.reminders.plan_day(START.astimezone(services.settings.tz).date())
    await services.reminders.sweep(START, "bench")  # what was overdue already: the catch-up after a start
    planned = await services.storage.db.fetchval("SELECT COUNT(*) FROM reminders")
    print(f"  planning every open hazard's and duty's reminders (the daily job): {time.perf_counter() - started:.1f} s,"
          f" {planned:,} reminders")


async def claimed_rows(services: BotServices) -> list[int]:
    """How many rows each probed sweep claimed: those it sent and those it found no longer needed (a cancelled
    row keeps its claim's worker and time)."""
    rows = await services.storage.db.fetchall(
        "SELECT claimed_at, COUNT(*) AS claimed FROM reminders WHERE claimed_by = 'bench' AND claimed_at > ? "
        "GROUP BY claimed_at",
        (START.isoformat(timespec="microseconds"),),
    )
    return [int(row["claimed"]) for row in rows]


async def export_city(services: BotServices, people: People) -> object:
    """/export for a city admin over three years: every hazard of the city and the registers, as XLSX."""
    stats = services.insight.stats
    period = check_range(date(2024, 1, 1), date(2026, 12, 31))
    assert isinstance(period, StatsPeriod)
    with tempfile.TemporaryDirectory() as folder:
        return await services.insight.exports.export(
            stats.scope(people.city), period, ExportFormat.XLSX, Path(folder) / "export.xlsx", Translator("zh_CN"),
            months=period.months(stats.today()),
        )


PROBES: list[Probe] = [
    Probe("/tasks, head of the busiest institution (HazardService.tasks)", tasks_head, "—"),
    Probe("/tasks, county staff of the busiest county", tasks_county, "—"),
    Probe("/tasks, city admin (the whole city)", tasks_city, "—"),
    Probe("/tasks, city admin, page 401", tasks_city_deep_page, "—"),
    Probe("/stats, city admin, this month", stats_of(PeriodKind.MONTH, lambda p: p.city), "< 150 ms"),
    Probe("/stats, city admin, this quarter", stats_of(PeriodKind.QUARTER, lambda p: p.city), "< 150 ms"),
    Probe("/stats, city admin, this year", stats_of(PeriodKind.YEAR, lambda p: p.city), "< 150 ms"),
    Probe("/stats, county staff of the busiest county, this year", stats_of(PeriodKind.YEAR, lambda p: p.county),
          "< 150 ms"),
    Probe("/stats, head of the busiest institution, this year", stats_of(PeriodKind.YEAR, lambda p: p.head),
          "< 150 ms"),
    Probe("/export, city admin, 2024–2026 as XLSX (every hazard)", export_city, "< 10 s", runs=2),
]
SWEEPS = Sweeps()
PROBES.append(Probe("reminder sweep, one minute's reminders due", SWEEPS, "< 20 ms"))


def add_probe(name: str, call: Call, target: str, runs: int = 20) -> None:
    """A later service's timing, e.g. (once their services settle):

        add_probe("reminder sweep", lambda s, p: s.reminders.sweep(START, "bench"), "< 20 ms")
        add_probe("/stats, whole city", lambda s, p: s.stats.report(p.city, period), "< 150 ms")
        add_probe("full export", lambda s, p: s.exports.export(...), "< 10 s", runs=3)
    """
    PROBES.append(Probe(name, call, target, runs))


async def cast(services: BotServices) -> People:
    db = services.storage.db
    head_id = await db.fetchval(
        "SELECT assignee_id FROM hazards WHERE state != 'closed' GROUP BY assignee_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    county_code = await db.fetchval(
        "SELECT substr(region_code, 1, 6) FROM hazards WHERE state != 'closed' GROUP BY 1 ORDER BY COUNT(*) DESC"
    )
    county_id = await db.fetchval(
        "SELECT telegram_id FROM users WHERE role = 'county' AND region_code = ? LIMIT 1", (county_code,)
    )
    users = services.storage.users
    city = await users.get(CITY_ADMIN) or await users.upsert(
        User(telegram_id=CITY_ADMIN, full_name="市局管理员", role=Role.CITY, created_at=START)
    )
    head, county = await users.get(int(head_id)), await users.get(int(county_id))
    assert head is not None and county is not None
    return People(head, county, city)


async def measure(probe: Probe, services: BotServices, people: People) -> tuple[float, float, float]:
    """Median and max wall time, and the median CPU time of the process (all its threads: SQLite's too), in ms.
    On a machine others share, the CPU time says what the call costs, the wall time what someone waited."""
    await probe.call(services, people)  # warm: the first call also pays for SQLite's page cache
    times, cpu = [], []
    for _ in range(probe.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        await probe.call(services, people)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(times), max(times), statistics.median(cpu)


async def run(path: Path, only: str | None = None) -> None:
    settings = Settings.model_validate({"BOT_TOKEN": "1:bench", "DATABASE_PATH": path})
    services = await open_services(settings, FakeClock(START))
    try:
        db = services.storage.db
        counts = [await db.fetchval(f"SELECT COUNT(*) FROM {table}") for table in ("hazards", "institutions",
                                                                                     "users")]
        people = await cast(services)
        print(f"scale, {date.today()}: {counts[0]:,} hazards, {counts[1]:,} institutions, {counts[2]:,} "
              f"people")
        for probe in PROBES:
            if only is not None and only not in probe.name:
                continue
            if probe.call is SWEEPS:
                await plan_reminders(services)
            median, worst, cpu = await measure(probe, services, people)
            print(f"  {probe.name:<62} median {median:8.2f} ms   max {worst:8.2f} ms   cpu {cpu:8.2f} ms   "
                  f"target {probe.target}")
        if SWEEPS.claimed:
            print(f"  reminders sent per sweep: median {statistics.median(SWEEPS.claimed):.0f}, "
                  f"max {max(SWEEPS.claimed)}, none due in {SWEEPS.claimed.count(0)} of {len(SWEEPS.claimed)}")
            rows = await claimed_rows(services)
            print(f"  rows claimed per sweep (sent, or cancelled as no longer needed): median "
                  f"{statistics.median(rows):.0f}, max {max(rows)}")
    finally:
        await services.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"  peak resident memory of this process: {peak:.0f} MiB (target < 250 MiB)")


def _generate(path: str) -> None:
    generate(Path(path), START)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="the generated city (made here first if the file does not exist)")
    parser.add_argument("--keep", action="store_true", help="keep a database generated into --db")
    parser.add_argument("--only", metavar="TEXT", help="run only the probes whose name contains TEXT (e.g. sweep)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "city.db"
        generated = not path.exists()
        if generated:
            started = time.perf_counter()
            child = multiprocessing.get_context("spawn").Process(target=_generate, args=(str(path),))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"generating the city failed ({child.exitcode})")
            print(f"generated {path} in {time.perf_counter() - started:.1f} s")
        try:
            asyncio.run(run(path, args.only))
        finally:
            if args.db is not None and generated and not args.keep:
                for leftover in path.parent.glob(path.name + "*"):  # the database and its -wal and -shm files
                    leftover.unlink()


if __name__ == "__main__":
    cli()
