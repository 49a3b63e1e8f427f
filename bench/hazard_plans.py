"""Planning the hazards' reminders at city scale: the ladder's planner alone, the daily plan and a new city admin's.

On a copy of a city that `bench.scale` generated and kept (the copy is thrown away, so every run meets the same
city), with the clock at 1 March 2026 09:00 as `bench.scale` has it:

- `planner`: `plan_hazard_reminders` over every open hazard, against the planner that listed every past weekly repeat
  (`tests/calendar/ladder_oracle.py`), the two alternated in the same process;
- `day`: the daily plan (`plan_day`) on the city as generated (every row new), then again (what each later day
  costs: the rows are there, a few are added and the keys of the others kept);
- `staff`: `plan_for_arrival_or_departure` for a city admin who has just registered (add-only, the newcomer's rows
  alone).

Wall and CPU time of the process (SQLite's threads included); for the two service calls also the longest page of
500 hazards (`_plan_hazards`), during which the event loop answers nobody else but for the awaits on SQLite.
To compare with another version of the code, run this file with that tree first on the path:

    .venv/bin/python -m bench.scale --db /tmp/city.db --keep --only nothing    # generate a city once, keep it
    .venv/bin/python -m bench.hazard_plans --db /tmp/city.db --runs 3
    git archive b3eff03 | tar -x -C /tmp/before                                # the code before, beside it
    PYTHONPATH=/tmp/before .venv/bin/python bench/hazard_plans.py --db /tmp/city.db --parts day,staff
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import bot.domain.reminders as reminders_module
from bench.load import START
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain.lifecycle import HazardFacts
from bot.domain.reminders import PlannedReminder, plan_hazard_reminders
from bot.domain.roles import Role
from bot.services_factory import BotServices, open_services
from storage.hazard_models import Hazard
from storage.models import User

NEW_CITY_ADMIN = 9_999_101
Planner = Callable[..., list[PlannedReminder]]


class Timer:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def done(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def seconds(pair: tuple[float, float]) -> str:
    return f"{pair[0]:6.2f} s wall, {pair[1]:6.2f} s cpu"


async def open_hazards(services: BotServices) -> list[Hazard]:
    hazards: list[Hazard] = []
    while page := await services.storage.hazard_watch.open_hazards(after_id=hazards[-1].id if hazards else 0,
                                                                     limit=500):
        hazards += page
    return hazards


def time_planner(planner: Planner, facts: Sequence[tuple[HazardFacts, Any]], now: datetime,
                 services: BotServices) -> tuple[float, float, int]:
    timer, steps = Timer(), 0
    for fact, severity in facts:
        steps += len(planner(fact, severity, now, tz=services.settings.tz))
    wall, cpu = timer.done()
    return wall, cpu, steps


async def planner_part(services: BotServices, runs: int) -> None:
    from tests.calendar.ladder_oracle import plan_every_step  # the planner before, as the tests keep it

    hazards = await open_hazards(services)
    facts = [(hazard.facts(), hazard.severity) for hazard in hazards]
    now = services.clock.now()
    results: dict[str, list[tuple[float, float, int]]] = {"before (every past repeat)": [], "now": []}
    for _ in range(runs):  # alternated, so that a neighbour's load falls on both alike
        results["before (every past repeat)"].append(time_planner(plan_every_step, facts, now, services))
        results["now"].append(time_planner(plan_hazard_reminders, facts, now, services))
    print(f"  the ladder's planner over {len(hazards):,} open hazards, {runs} runs each (median, fastest):")
    for name, timings in results.items():
        walls, cpus = [t[0] for t in timings], [t[1] for t in timings]
        print(f"    {name:<28} {statistics.median(walls) * 1000:8.1f} ms wall ({min(walls) * 1000:.1f}), "
              f"{statistics.median(cpus) * 1000:8.1f} ms cpu; {timings[0][2]:,} steps listed")


def watch_pages(services: BotServices) -> list[float]:
    """Times each page of hazards the service plans (`_plan_hazards`), wall seconds."""
    pages: list[float] = []
    reminders = services.reminders
    plan_page = reminders._plan_hazards

    async def timed(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        await plan_page(*args, **kwargs)
        pages.append(time.perf_counter() - started)

    reminders._plan_hazards = timed  # type: ignore[method-assign]
    return pages


async def timed_call(label: str, call: Callable[[], Awaitable[object]], pages: list[float]) -> None:
    pages.clear()
    timer = Timer()
    await call()
    elapsed = timer.done()
    longest = f"; longest page {max(pages) * 1000:.0f} ms of {len(pages)}" if pages else ""
    print(f"    {label:<52} {seconds(elapsed)}{longest}")


async def count_rows(services: BotServices) -> int:
    return int(await services.storage.db.fetchval("SELECT COUNT(*) FROM reminders WHERE state = 'pending'"))


async def run(city: Path, parts: set[str], runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "city.db"
        shutil.copyfile(city, copy)
        settings = Settings.model_validate({"BOT_TOKEN": "1:bench", "DATABASE_PATH": copy, "TRACKING_SINCE": "all"})
        services = await open_services(settings, FakeClock(START))
        try:
            today = START.astimezone(settings.tz).date()
            print(f"hazard plans, {datetime.now().isoformat(timespec='minutes')}, clock {START.isoformat()}, "
                  f"code from {Path(reminders_module.__file__ or '?').parents[2]}")
            if "planner" in parts:
                await planner_part(services, runs)
            pages = watch_pages(services)
            if "day" in parts or "staff" in parts:
                print("  the daily plan:")
                await timed_call("plan_day, every row new (the city as generated)",
                                 lambda: services.reminders.plan_day(today), pages)
                print(f"    {'':<52} {await count_rows(services):,} rows pending")
                for _ in range(runs if "day" in parts else 0):
                    await timed_call("plan_day again (the rows are there)", lambda: services.reminders.plan_day(today),
                                     pages)
                print(f"    {'':<52} {await count_rows(services):,} rows pending")
            if "staff" in parts:
                print("  a city admin registers (plan_for_arrival_or_departure):")
                for number in range(runs):
                    admin = await services.storage.users.upsert(User(
                        telegram_id=NEW_CITY_ADMIN + number, full_name=f"新管理员{number}", role=Role.CITY,
                        created_at=START))
                    before = await count_rows(services)
                    await timed_call(f"plan_for_arrival_or_departure, city admin {number + 1}",
                                     lambda admin=admin: services.reminders.plan_for_arrival_or_departure(admin), pages)  # type: ignore[misc]
                    print(f"    {'':<52} {await count_rows(services) - before:,} rows added")
        finally:
            await services.close()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a city kept by `bench.scale --keep` (copied first)")
    parser.add_argument("--parts", default="planner,day,staff", help="any of planner, day, staff (comma-separated)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.db, set(args.parts.split(",")), args.runs))


if __name__ == "__main__":
    cli()
