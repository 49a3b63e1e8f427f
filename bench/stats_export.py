"""Statistics and export benchmark: /stats for the whole city and a full XLSX export, on a generated city of 100,000
hazards, 3,000 institutions and 20,000 people (bench/city_data.py). A script that prints figures, never a test.

    .venv/bin/python bench/stats_export.py                   # generate in a temporary folder, measure, clean up
    .venv/bin/python bench/stats_export.py --db /tmp/city.db # keep (or reuse) the generated database
    .venv/bin/python bench/stats_export.py --hazards 20000   # a smaller city

/stats is timed as the service call the handler makes (StatsService.report_for, city scope, warm: the median of
`--repeat` runs). The export writes every hazard (a three-year range) and the registers, and reports its time and
the peak Python memory (tracemalloc, which slows the export itself) and the process's peak resident size.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.city_data import CitySize, generate
from bot.clock import FakeClock
from bot.domain.stats import PeriodKind, Scope, ScopeLevel, StatsPeriod, check_range, current_period
from bot.i18n import Translator
from bot.services.exports import ExportFormat, ExportService
from bot.services.stats import StatsService
from storage import Storage

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


async def time_stats(storage: Storage, repeat: int) -> dict[str, tuple[float, float, float]]:
    """Period → median wall time, fastest wall time and median CPU time of the process (SQLite's threads
    included), in seconds. On a shared machine the fastest run is the one least slowed by others."""
    stats = StatsService(storage, FakeClock(NOW), TZ)
    city = Scope(ScopeLevel.CITY)
    timings: dict[str, tuple[float, float, float]] = {}
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
        period = current_period(kind, NOW.date())
        await stats.report_for(city, period)  # warm the page cache once
        runs, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            await stats.report_for(city, period)
            runs.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        timings[kind.name.lower()] = statistics.median(runs), min(runs), statistics.median(cpu)
    return timings


async def time_export(storage: Storage, folder: Path, trace: bool) -> tuple[float, float, int, int, int, int]:
    period = check_range(date(2024, 1, 1), date(2026, 12, 31))
    assert isinstance(period, StatsPeriod)
    path = folder / "export.xlsx"
    if trace:
        tracemalloc.start()
    started, started_cpu = time.perf_counter(), time.process_time()
    result = await ExportService(storage, TZ).export(
        Scope(ScopeLevel.CITY), period, ExportFormat.XLSX, path, Translator("zh_CN"), months=period.months(NOW.date())
    )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return elapsed, cpu, result.hazards, result.registers, path.stat().st_size, peak


async def measure(database: Path, folder: Path, repeat: int, trace: bool) -> None:
    storage = await Storage.open(database, FakeClock(NOW))
    try:
        hazards = await storage.db.fetchval("SELECT COUNT(*) FROM hazards")
        institutions = await storage.institutions.count()
        people = await storage.db.fetchval("SELECT COUNT(*) FROM users")
        print(f"city: {hazards:,} hazards, {institutions:,} institutions, {people:,} people")
        for name, (seconds, fastest, cpu) in (await time_stats(storage, repeat)).items():
            print(f"/stats whole city, this {name:<7}: {seconds * 1000:7.1f} ms (median of {repeat}; fastest "
                  f"{fastest * 1000:.1f} ms; CPU {cpu * 1000:.1f} ms)")
        elapsed, cpu, rows, registers, size, peak = await time_export(storage, folder, trace)
    finally:
        await storage.close()
    print(f"XLSX export: {rows:,} hazards + {registers:,} register rows, {size / 1e6:.1f} MB, {elapsed:.1f} s "
          f"(CPU {cpu:.1f} s)"
          + (" (with tracemalloc on)" if trace else ""))
    if trace:
        print(f"peak Python memory during the export (tracemalloc): {peak / 1e6:.1f} MB")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"peak resident size of the process (ru_maxrss): {maxrss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="generate here (kept), or reuse if it exists")
    parser.add_argument("--hazards", type=int, default=CitySize.hazards)
    parser.add_argument("--institutions", type=int, default=CitySize.institutions)
    parser.add_argument("--people", type=int, default=CitySize.people)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-trace", action="store_true", help="time the export without tracemalloc")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as folder:
        database = arguments.db or Path(folder) / "city.db"
        if not database.exists():
            started = time.perf_counter()
            generate(database, NOW, CitySize(arguments.hazards, arguments.institutions, arguments.people))
            print(f"generated {database} in {time.perf_counter() - started:.1f} s")
        asyncio.run(measure(database, Path(folder), arguments.repeat, not arguments.no_trace))


if __name__ == "__main__":
    main()
