"""Scale: the service calls behind each screen, on a generated city of 100,000 hazards, 3,000 institutions and
20,000 people (bench/city_data.py), with the process's peak resident memory.

Each probe is a row of PROBES: a name, the call (through the same services the handlers use) and the target:
/tasks, /stats for each kind of person and the full export are rows. The reminder sweeps come last
(`probe_sweeps`): the reminders of every open hazard and duty are planned as the daily job plans them (its time is
printed too), then the minute tick's sweeps are timed at 09:00 on 1 March (the month's worst minute: a backlog of
tens of thousands of rows, swept a claim limit at a time) and in every minute of the next 24 hours. The city is
generated in a child process, so the memory printed is what the probes themselves needed, on top of the imported
bot.

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
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.city_data import generate
from bench.load import START
from bot.app import freeze_startup_heap
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain.roles import Role
from bot.domain.stats import PeriodKind, StatsPeriod, check_range, current_period
from bot.domain.warnings import WarningKind, WarningLevel, WarningTarget
from bot.i18n import Translator
from bot.jobs import ROUND_ROWS
from bot.services.exports import ExportFormat
from bot.services.reminder_items import HazardReminderData
from bot.services.reminder_rounds import COUNT_SLICE, Round
from bot.services.warnings import ManualWarning
from bot.services_factory import BotServices, open_services
from handlers.warning_delivery import Delivered, deliver
from storage.models import User
from storage.repositories._codec import to_db_time
from storage.warning_models import AckResponse, RecipientKind, WarningRecipient

CITY_ADMIN = 9_999_001


@dataclass(frozen=True)
class People:
    """Who the probes act as: the busiest head, the busiest county's staff, a city admin, the cadre who reported
    most."""

    head: User
    county: User
    city: User
    reporter: User


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


async def mine_reporter(services: BotServices, people: People) -> object:
    return await services.hazards.reported(people.reporter, 0, 5)


async def mine_reporter_last_page(services: BotServices, people: People) -> object:
    return await services.hazards.reported(people.reporter, 10**6, 5)  # clamped to the last page


def stats_of(kind: PeriodKind, who: Callable[[People], User]) -> Call:
    """/stats as the handler asks for it: the person's own scope, the current month, quarter or year."""

    async def call(services: BotServices, people: People) -> object:
        stats = services.insight.stats
        return await stats.report(who(people), current_period(kind, stats.today()))

    return call


@dataclass(frozen=True)
class SweepTiming:
    """One reminder sweep as the minute tick's round makes it: claim, check, build (nothing is sent here)."""

    wall: float  # ms, the sweep alone
    cpu: float  # ms, the sweep alone
    claimed: int  # rows claimed: sent, or cancelled as no longer needed
    sent: int  # rows in its deliveries
    deliveries: int
    full: bool
    hazard_rows: int  # of those sent, reminders about hazards (the rest are duties and digests)
    counted: bool  # a person's rows past those listed, claimed and counted, none built


@dataclass(frozen=True)
class RoundTiming:
    """A round of the tick (`reminder_rounds.Round`): its sweeps, then one message per person, each confirmed as
    sent (what the tick does after each send)."""

    sweeps: list[SweepTiming]
    messages: int
    rows: int  # rows the messages stand for, listed or counted
    settle_cpu: float  # ms, confirming them all
    more_due: bool


async def timed_round(services: BotServices, when: datetime) -> RoundTiming:
    reminders = services.reminders
    round_ = Round(reminders, when, "bench", ROUND_ROWS)
    sweeps, made = [], round_.sweeps()
    while True:
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            sweep = await anext(made)
        except StopAsyncIteration:
            break
        wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        items = [item for delivery in sweep.deliveries for item in delivery.items]
        hazard_rows = sum(1 for item in items if isinstance(item.data, HazardReminderData))
        sweeps.append(SweepTiming(wall, cpu, sweep.claimed, len(items), len(sweep.deliveries), sweep.full,
                                  hazard_rows, sweep.counted))
    started_cpu = time.process_time()
    deliveries = round_.deliveries()
    for delivery in deliveries:
        await reminders.confirm(delivery)
    settle = (time.process_time() - started_cpu) * 1000
    rows = sum(len(delivery.reminder_ids) for delivery in deliveries)
    return RoundTiming(sweeps, len(deliveries), rows, settle, round_.more_due)


async def timed_tick(services: BotServices, when: datetime) -> list[RoundTiming]:
    """The rounds of one tick: again at once while a round stopped at its size (`bot.jobs.sweep_all_due`)."""
    rounds = [await timed_round(services, when)]
    while rounds[-1].more_due:
        rounds.append(await timed_round(services, when))
    return rounds


async def plan_reminders(services: BotServices) -> None:
    started = time.perf_counter()
    await services.reminders.plan_day(START.astimezone(services.settings.tz).date())
    elapsed = time.perf_counter() - started
    db = services.storage.db
    planned = await db.fetchval("SELECT COUNT(*) FROM reminders")
    due = await db.fetchval(
        "SELECT COUNT(*) FROM reminders WHERE state = 'pending' AND due_at <= ?",
        (START.isoformat(timespec="microseconds"),),
    )
    print(f"  planning every open hazard's and duty's reminders (the daily job): {elapsed:.1f} s, {planned:,} "
          f"reminders, {due:,} of them due by 1 March 09:00")


def describe(label: str, sweeps: list[SweepTiming]) -> None:
    if not sweeps:
        print(f"  {label:<62} (none)")
        return
    cpu = [s.cpu for s in sweeps]
    per_row = [s.cpu / s.claimed * 1000 for s in sweeps if s.claimed]
    per_row_text = f"   cpu/row {statistics.median(per_row):5.1f} µs" if per_row else ""
    print(f"  {label:<62} median {statistics.median(s.wall for s in sweeps):8.2f} ms   max "
          f"{max(s.wall for s in sweeps):8.2f} ms   cpu {statistics.median(cpu):8.2f} ms (max {max(cpu):.2f})"
          f"{per_row_text}   target < 20 ms")
    print(f"  {'':<62} {len(sweeps)} sweeps; rows claimed median {statistics.median(s.claimed for s in sweeps):.0f}"
          f" (max {max(s.claimed for s in sweeps)}), built median {statistics.median(s.sent for s in sweeps):.0f} "
          f"(max {max(s.sent for s in sweeps)}) for {statistics.median(s.deliveries for s in sweeps):.0f} people")


async def probe_sweeps(services: BotServices) -> None:
    """The minute tick's rounds from 1 March 09:00: at 09:00 everything due that morning (the first of the month,
    its worst minute), round after round until one stops short of its size, as the tick does; then every minute
    of the following 24 hours, where hazards' reminders and the odd duty row fall due here and there. Each round's
    messages (one per person) are confirmed as sent, as the tick does after sending each."""
    await plan_reminders(services)
    morning = await timed_tick(services, START)
    backlog = [sweep for round_ in morning for sweep in round_.sweeps]
    limit = services.reminders.claim_limit
    print(f"  reminder sweep, 1 March 09:00: the tick's {len(backlog)} sweeps in {len(morning)} rounds took "
          f"{sum(s.wall for s in backlog):.0f} ms ({sum(s.cpu for s in backlog):.0f} ms cpu) for "
          f"{sum(s.claimed for s in backlog):,} rows, {sum(r.rows for r in morning):,} of them sent in "
          f"{sum(r.messages for r in morning):,} messages; confirming them {sum(r.settle_cpu for r in morning):.0f} "
          f"ms cpu")
    full = [s for s in backlog if s.full and not s.counted]
    describe(f"reminder sweep, 09:00 backlog, a full sweep ({limit:,} rows)", full)
    describe("reminder sweep, 09:00 backlog, full, duty rows alone", [s for s in full if not s.hazard_rows])
    describe("reminder sweep, 09:00 backlog, full, hazard rows alone",
             [s for s in full if s.hazard_rows == s.claimed])
    describe("reminder sweep, 09:00 backlog, sweeps short of the limit",
             [s for s in backlog if not s.full and not s.counted])
    describe(f"reminder sweep, 09:00 backlog, a person's rows counted ({COUNT_SLICE} a claim)",
             [s for s in backlog if s.counted])
    ticks: list[list[RoundTiming]] = []
    for minute in range(1, 24 * 60 + 1):
        ticks.append(await timed_tick(services, START + timedelta(minutes=minute)))
    busy = [s for tick in ticks for r in tick for s in r.sweeps if s.claimed]
    describe("reminder sweep, the next 24 h: a sweep with rows due", [s for s in busy if not s.counted])
    describe("reminder sweep, the next 24 h: a person's rows counted", [s for s in busy if s.counted])
    describe("reminder sweep, the next 24 h: a minute with nothing due",
             [tick[0].sweeps[0] for tick in ticks if not tick[0].sweeps[0].claimed])
    if busy:
        worst = max(ticks, key=lambda tick: sum(s.claimed for r in tick for s in r.sweeps))
        busiest = (START + timedelta(minutes=ticks.index(worst) + 1)).astimezone(services.settings.tz)
        sweeps = [s for r in worst for s in r.sweeps]
        print(f"  {'':<62} the busiest of those minutes: {busiest:%a %d %b %H:%M}, "
              f"{sum(s.claimed for s in sweeps)} rows in {len(sweeps)} sweeps (median "
              f"{statistics.median(s.wall for s in sweeps):.1f} ms, max {max(s.wall for s in sweeps):.1f} ms), "
              f"{sum(r.messages for r in worst)} messages")
        quiet = [s for tick in ticks if tick is not worst for r in tick for s in r.sweeps if s.claimed]
        describe("reminder sweep, the next 24 h, that minute aside", quiet)


async def warning_minute(services: BotServices, people: People) -> object:
    """What the warnings' follow-up job now does every minute for each warning in force: its status, institution by
    institution (the generated warnings reach three counties, about 600 institutions), and telling county staff of
    those nobody can be told of. Measured on the city-wide red warning, most institutions having answered (the
generated city's institutions without a registered head are the ones nobody can be told of)."""
    from handlers.warning_followup import escalate_no_one_to_reach

    warning = await services.storage.warnings.get(await city_warning(services, people))
    assert warning is not None
    return await escalate_no_one_to_reach(services, warning)


async def warning_late_minute(services: BotServices, people: People) -> object:
    """The follow-up's minute of the city-wide red warning four hours on, every step due: its status read once,
    those nobody can be told of, the silent heads reminded, each county's staff and the city admins told (what
    `bot.warning_jobs.follow_up` does). Rolled back after each run, so that each run queues its messages anew."""
    from handlers.warning_followup import escalate_no_one_to_reach, escalate_silent, escalate_to_city
    from handlers.warnstatus import remind_silent

    warning = await services.storage.warnings.get(await city_warning(services, people))
    assert warning is not None
    try:
        async with services.storage.db.transaction():
            status = await services.warnings.ack_status(warning.id)
            await escalate_no_one_to_reach(services, warning, status)
            reminded = await remind_silent(services, warning, f"warning:{warning.id}:remind:auto")
            named = await escalate_silent(services, warning, status)
            counted = await escalate_to_city(services, warning, status)
            raise _Undo((reminded, named, counted))
    except _Undo as undo:
        return undo.args[0]


class _Undo(Exception):
    """Raised to roll a probe's transaction back, so that each run meets the same database."""


_CITY_WARNING: dict[int, int] = {}  # id(services) → the city-wide red warning the answer and status probes read
ANSWERED = 0.9  # of the institutions it reached, those answered when the late probes run (a fiftieth "need help")


async def _send_city_warning(services: BotServices, people: People) -> Delivered:
    """A city-wide 台风红色预警, created and queued as the send button does (`deliver` in its transaction)."""
    city = await services.storage.regions.city()
    assert city is not None
    spec = ManualWarning(kind=WarningKind.TYPHOON, level=WarningLevel.RED, headline="台风“海葵”红色预警",
                         description="预计今晚在我市沿海登陆，最大风力14级。",
                         target=WarningTarget(regions=frozenset({city.code})))
    async with services.storage.db.transaction():
        created = await services.warnings.create_manual(people.city, spec)
        return await deliver(services, await services.warnings.send(people.city, created.id))


async def city_warning(services: BotServices, people: People) -> int:
    """The city-wide red warning, sent once (committed) and answered by most of the institutions it reached, as
    late in the typhoon morning: the state the answer, /warnstatus and follow-up probes measure."""
    if id(services) in _CITY_WARNING:
        return _CITY_WARNING[id(services)]
    delivered = await _send_city_warning(services, people)
    warning = delivered.warning
    heads = [r for r in await services.warnings.recipients(warning.id) if r.kind is RecipientKind.HEAD]
    first: dict[int, WarningRecipient] = {}
    for r in heads:
        first.setdefault(r.institution_id or 0, r)
    chosen = sorted(first.values(), key=lambda r: r.institution_id or 0)
    answered = chosen[: int(len(chosen) * ANSWERED)]
    at = to_db_time(START + timedelta(minutes=30))
    async with services.storage.db.transaction():
        await services.storage.db.executemany(
            "INSERT INTO warning_acks (warning_id, user_id, institution_id, response, revision, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(warning.id, r.chat_id, r.institution_id, "need_help" if n % 50 == 0 else "received", warning.revision,
              at) for n, r in enumerate(answered)],
        )
    _CITY_WARNING[id(services)] = warning.id
    print(f"  (the city-wide red warning {warning.id}: {delivered.queued.total:,} chats, {len(chosen):,} "
          f"institutions with a head, {len(answered):,} answered)")
    return warning.id


async def _late_head(services: BotServices, warning_id: int) -> User:
    """A head who has not answered yet (the last institution the warning reached)."""
    row = await services.storage.db.fetchval(
        "SELECT r.chat_id FROM warning_recipients r WHERE r.warning_id = ? AND r.kind = 'head' AND NOT EXISTS "
        "(SELECT 1 FROM warning_acks a WHERE a.warning_id = r.warning_id AND a.institution_id = r.institution_id) "
        "ORDER BY r.institution_id DESC LIMIT 1", (warning_id,))
    head = await services.storage.users.get(int(row))
    assert head is not None
    return head


async def warning_deliver(services: BotServices, people: People) -> object:
    """The send button on a city-wide red warning: create, send, queue every chat's message, start the contact
    rounds (`deliver` in the transaction). Rolled back after each run."""
    try:
        async with services.storage.db.transaction():
            delivered = await _send_city_warning(services, people)
            raise _Undo(delivered.queued.total)
    except _Undo as undo:
        return undo.args[0]


async def warning_answer(services: BotServices, people: People) -> object:
    """One head's 已收到并落实 late in the morning (most have answered). Rolled back after each run."""
    warning_id = await city_warning(services, people)
    head = await _late_head(services, warning_id)
    try:
        async with services.storage.db.transaction():
            outcome = await services.warnings.acknowledge(head, warning_id, AckResponse.RECEIVED)
            raise _Undo(outcome)
    except _Undo as undo:
        return undo.args[0]


async def warning_help(services: BotServices, people: People) -> object:
    """One head's 需要帮助 as the button handles it: the answer and the urgent alert to the county's staff
    (`_call_for_help`). Rolled back after each run."""
    from handlers.warning_ack import _call_for_help

    warning_id = await city_warning(services, people)
    head = await _late_head(services, warning_id)
    context = typing.cast(Any, SimpleNamespace(services=services))
    caller = typing.cast(Any, SimpleNamespace(user=head, telegram_user=SimpleNamespace(id=head.telegram_id)))
    try:
        async with services.storage.db.transaction():
            outcome = await services.warnings.acknowledge(head, warning_id, AckResponse.NEED_HELP)
            assert outcome.changed and outcome.alert_staff
            await _call_for_help(context, caller, warning_id, outcome)
            raise _Undo(outcome)
    except _Undo as undo:
        return undo.args[0]


def warnstatus_of(who: Callable[[People], User]) -> Call:
    """/warnstatus of the city-wide warning for a county's staff (their county) or a city admin (every county)."""
    from handlers.warnstatus import status_text

    async def call(services: BotServices, people: People) -> object:
        warning_id = await city_warning(services, people)
        user = who(people)
        scope = user.region_code if user.role is Role.COUNTY else None
        status = await services.warnings.ack_status(warning_id, scope)
        return await status_text(services, status, Translator("zh_CN"))

    return call


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
    Probe("/mine, the cadre who reported most (HazardService.reported)", mine_reporter, "—"),
    Probe("/mine, the cadre who reported most, last page", mine_reporter_last_page, "—"),
    Probe("/stats, city admin, this month", stats_of(PeriodKind.MONTH, lambda p: p.city), "< 150 ms"),
    Probe("/stats, city admin, this quarter", stats_of(PeriodKind.QUARTER, lambda p: p.city), "< 150 ms"),
    Probe("/stats, city admin, this year", stats_of(PeriodKind.YEAR, lambda p: p.city), "< 150 ms"),
    Probe("/stats, county staff of the busiest county, this year", stats_of(PeriodKind.YEAR, lambda p: p.county),
          "< 150 ms"),
    Probe("/stats, head of the busiest institution, this year", stats_of(PeriodKind.YEAR, lambda p: p.head),
          "< 150 ms"),
    Probe("/export, city admin, 2024–2026 as XLSX (every hazard)", export_city, "< 10 s", runs=2),
    Probe("warning, queueing a city-wide red warning (deliver)", warning_deliver, "—", runs=5),
    Probe("warning, a head's answer, most answered (acknowledge)", warning_answer, "—"),
    Probe("warning, a head's need-help answer and the staff alert", warning_help, "—"),
    Probe("warning, /warnstatus, county staff (ack_status + text)", warnstatus_of(lambda p: p.county), "—"),
    Probe("warning, /warnstatus, city admin (the whole city)", warnstatus_of(lambda p: p.city), "—"),
    Probe("warning follow-up, one warning's minute (status, no one to reach)", warning_minute, "—"),
    Probe("warning follow-up four hours on (every step: reminder, county and city escalation)", warning_late_minute,
          "—"),
]
SWEEP_PROBES = "reminder sweep"  # --only matches it against this name, as against the probes'


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
        "SELECT assignee_id FROM hazards WHERE state NOT IN ('closed', 'withdrawn') "
        "GROUP BY assignee_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    county_code = await db.fetchval(
        "SELECT substr(region_code, 1, 6) FROM hazards WHERE state NOT IN ('closed', 'withdrawn') "
        "GROUP BY 1 ORDER BY COUNT(*) DESC"
    )
    county_id = await db.fetchval(
        "SELECT telegram_id FROM users WHERE role = 'county' AND region_code = ? LIMIT 1", (county_code,)
    )
    users = services.storage.users
    city = await users.get(CITY_ADMIN) or await users.upsert(
        User(telegram_id=CITY_ADMIN, full_name="市局管理员", role=Role.CITY, created_at=START)
    )
    reporter_id = await db.fetchval(
        "SELECT reporter_id FROM hazards GROUP BY reporter_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    head, county = await users.get(int(head_id)), await users.get(int(county_id))
    reporter = await users.get(int(reporter_id))
    assert head is not None and county is not None and reporter is not None
    return People(head, county, city, reporter)


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
    # The generated city's institutions have no day of their own and its clock is in March: judged for every period,
    # as before TRACKING_SINCE, not from the day the database was generated (which would owe them nothing).
    settings = Settings.model_validate({"BOT_TOKEN": "1:bench", "DATABASE_PATH": path, "TRACKING_SINCE": "all"})
    services = await open_services(settings, FakeClock(START))
    freeze_startup_heap()  # as `safety-bot run` does once the bot is built,
    await services.storage.db.start_checkpointer()  # and its background work once it is up
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
            median, worst, cpu = await measure(probe, services, people)
            print(f"  {probe.name:<62} median {median:8.2f} ms   max {worst:8.2f} ms   cpu {cpu:8.2f} ms   "
                  f"target {probe.target}")
        if only is None or only in SWEEP_PROBES:
            await probe_sweeps(services)
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
