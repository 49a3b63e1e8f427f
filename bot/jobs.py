"""The scheduled jobs: one tick a minute that plans the day (once per local day) and sweeps due reminders.

Time always comes from the injected clock (`services.clock`), never from the job queue: tests move a FakeClock
and call `tick` / `sweep_once` / `plan_once` directly, and the real bot does exactly the same on a timer. For the
same reason the daily planning is not a `run_daily` job, whose time would come from the wall clock: the first
tick of each local day does it, and the first tick after a start, so a restart plans before it sweeps.

The first tick runs at once when the bot starts, so whatever fell due while it was down goes out straight away
(flagged late). The renderer is not here: `schedule_jobs` takes a `send_delivery` callable that turns a
`Delivery` into a Telegram message and says how it went.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from telegram.ext import Application, CallbackContext

from bot import workers
from bot.clock import Clock
from bot.services.reminder_rounds import Round
from bot.services.reminders import Delivery, ReminderService
from storage.db import patiently

log = logging.getLogger(__name__)

SWEEP_INTERVAL = timedelta(seconds=60)
# A round of a tick claims sweep after sweep (each of the claim limit) until this many rows, then sends them: one
# message per person for the round. Bounded so that the backlog of a long outage is not claimed and held at once.
ROUND_ROWS = 5000


class SendOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # a passing failure (network, flood control): the sweep after next tries again
    UNDELIVERABLE = "undeliverable"  # for good (the bot was blocked, the chat is gone): never retried
    # Not to be sent after all (the person's access ended after the round claimed it): cancelled, as the reminders
    # still pending were then; not a delivery failure.
    CANCELLED = "cancelled"


# Returning None means sent; raising means retry.
SendDelivery = Callable[[Delivery], Awaitable[SendOutcome | None]]


class SchedulerServices(Protocol):
    """What the jobs need of `bot.services_factory.BotServices`."""

    @property
    def clock(self) -> Clock: ...

    @property
    def reminders(self) -> ReminderService: ...


@dataclass(frozen=True)
class SweepReport:
    sent: list[Delivery] = field(default_factory=list)
    retried: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    more_due: bool = False  # the last round claimed all it may: more may be due already
    cancelled: list[Delivery] = field(default_factory=list)

    def followed_by(self, later: SweepReport) -> SweepReport:
        return SweepReport(
            self.sent + later.sent, self.retried + later.retried, self.failed + later.failed, later.more_due,
            self.cancelled + later.cancelled,
        )


def new_worker_id() -> str:
    """Names the sweeper in every claim: unique, and naming its process, so that a restart can tell the claims of
    a killed bot (taken back at once) from those of a live one elsewhere (bot/workers.py)."""
    return workers.new_worker_id("reminders")


async def sweep_once(
    services: SchedulerServices, send: SendDelivery, worker_id: str | None = None, *, round_rows: int = ROUND_ROWS
) -> SweepReport:
    """One round: claim what is due at `services.clock.now()`, in sweeps of the claim limit until one claims less or
    the round holds `round_rows` rows, with all the due rows of each person it meets (`reminder_rounds.Round`); then
    send each person one delivery for all of theirs, and confirm or release it."""
    reminders = services.reminders
    worker = worker_id or _WORKER_ID
    round_ = Round(reminders, services.clock.now(), worker, round_rows)
    try:
        async for _ in round_.sweeps():
            pass
    except Exception:
        # The round's earlier sweeps hold their claims: give them back for the next tick now, not after the lease.
        for delivery in round_.deliveries():
            await reminders.release(delivery)
        raise
    report = SweepReport()
    for delivery in round_.deliveries():
        try:
            outcome = await send(delivery) or SendOutcome.SENT
        except Exception:
            # One bad delivery must not stop the others; it is retried with a growing delay.
            log.exception("sending reminders to %s failed", delivery.recipient_id)
            outcome = SendOutcome.RETRY
        # While the database refuses a record (a write lock held past the busy timeout), the record is tried again,
        # not the round ended: a delivery Telegram had taken went out a second time after the claim's lease, and
        # the round's other deliveries waited for it.
        what = f"{_rows_named(delivery.reminder_ids)} to chat {delivery.recipient_id} ({outcome.value})"
        if outcome is SendOutcome.SENT:
            await patiently(what, partial(reminders.confirm, delivery), log)
            report.sent.append(delivery)
        elif outcome is SendOutcome.CANCELLED:
            await patiently(what, partial(reminders.cancel, delivery), log)
            report.cancelled.append(delivery)
        elif outcome is SendOutcome.UNDELIVERABLE:
            await patiently(what, partial(reminders.release, delivery, permanent=True), log)
            report.failed.append(delivery)
        else:
            await patiently(what, partial(reminders.release, delivery), log)
            report.retried.append(delivery)
    return replace(report, more_due=round_.more_due)


def _rows_named(ids: list[int]) -> str:
    # A delivery may stand for tens of thousands of rows (a city admin's first morning): a log line names a few.
    if len(ids) <= 10:
        return f"reminders {ids}"
    return f"{len(ids)} reminders ({', '.join(map(str, ids[:10]))}, …)"


async def sweep_all_due(
    services: SchedulerServices, send: SendDelivery, worker_id: str | None = None, *, round_rows: int = ROUND_ROWS
) -> SweepReport:
    """`sweep_once` until a round finds less than it may claim due: a morning's backlog (tens of thousands of rows
    at 09:00 on the first of a month) goes out in one tick, each round sent as paced as ever, rather than a round's
    worth a minute for most of an hour, late. It ends: each round takes its claimed rows out of the pending ones
    (sent, cancelled, or released to a later retry). A round that could send nothing it tried (Telegram down) ends
    the tick: the rest waits for the next minute's instead of each round waiting out its own failures now."""
    report = await sweep_once(services, send, worker_id, round_rows=round_rows)
    last = report
    while last.more_due and (last.sent or not last.retried):
        last = await sweep_once(services, send, worker_id, round_rows=round_rows)
        report = report.followed_by(last)
    return report


async def plan_once(services: SchedulerServices, today: date | None = None) -> None:
    """Plan the calendar for the local day, and re-plan every open hazard (adding each next weekly repeat)."""
    reminders = services.reminders
    today = today or services.clock.now().astimezone(reminders.tz).date()
    await reminders.plan_day(today)


@dataclass
class Ticker:
    """The state of the repeating job: which local day was last planned, and one tick at a time."""

    send: SendDelivery
    worker_id: str = field(default_factory=new_worker_id)
    planned_day: date | None = None
    round_rows: int = ROUND_ROWS
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def tick(self, services: SchedulerServices) -> SweepReport:
        async with self._lock:
            today = services.clock.now().astimezone(services.reminders.tz).date()
            if today != self.planned_day:
                try:
                    await plan_once(services, today)
                    self.planned_day = today
                except Exception:
                    # A fault of ours in planning must not stop what is planned already (a serious hazard's
                    # deadline) from going out: the sweep runs, and planning is tried again at the next tick.
                    log.exception("planning the reminders of %s failed; what is planned goes out as usual", today)
            return await sweep_all_due(services, self.send, self.worker_id, round_rows=self.round_rows)


def schedule_jobs(
    application: Application[Any, Any, Any, Any, Any, Any],
    send_delivery: SendDelivery,
    *,
    interval: timedelta = SWEEP_INTERVAL,
) -> Ticker:
    """Register the minute tick on the application's JobQueue; `bot_data["services"]` must hold the services."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the reminder sweep needs python-telegram-bot[job-queue]")
    ticker = Ticker(send_delivery)

    async def run_tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
        services: SchedulerServices = context.application.bot_data["services"]
        try:
            await ticker.tick(services)
        except Exception:
            # The next tick tries again; a failing tick must not unschedule the job.
            log.exception("reminder tick failed")

    job_queue.run_repeating(
        run_tick,
        interval=interval,
        first=0,
        name="reminders.tick",
        job_kwargs={
            # A slow tick (a big morning of digests) is not run twice at once, nor caught up tick by tick.
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": None,
            # Now, said explicitly: given only first=0, APScheduler's interval trigger finds its start already
            # (just) past when the job is added and first fires a whole interval later, a minute after every start.
            # Only when the job runs comes from the wall clock; what is due is always the injected clock's.
            "next_run_time": datetime.now(UTC),
        },
    )
    return ticker


_WORKER_ID = new_worker_id()


def schedule_check_backs(
    application: Application[Any, Any, Any, Any, Any, Any], *, interval: timedelta = SWEEP_INTERVAL
) -> None:
    """Ask the check-backs (回访) that have fallen due, once a minute (`CheckBackService.ask_due`: the tests call it
    directly with a FakeClock). Each is queued in the outbox as it turns 'asked', so a restart asks nothing twice."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the check-backs need python-telegram-bot[job-queue]")

    async def run(context: CallbackContext[Any, Any, Any, Any]) -> None:
        try:
            await context.application.bot_data["services"].check_backs.ask_due()
        except Exception:
            # The next minute tries again; a failing run must not unschedule the job.
            log.exception("asking the check-backs failed")

    job_queue.run_repeating(
        run, interval=interval, first=5, name="check_backs.tick",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
