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
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Protocol

from telegram.ext import Application, CallbackContext

from bot import workers
from bot.clock import Clock
from bot.services.reminders import Delivery, ReminderService

log = logging.getLogger(__name__)

SWEEP_INTERVAL = timedelta(seconds=60)


class SendOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # a passing failure (network, flood control): the sweep after next tries again
    UNDELIVERABLE = "undeliverable"  # for good (the bot was blocked, the chat is gone): never retried


# Returning None means sent; raising means retry.
SendDelivery = Callable[[Delivery], Awaitable[SendOutcome | None]]


class SchedulerServices(Protocol):
    """What the jobs need of `bot.app.BotServices`."""

    @property
    def clock(self) -> Clock: ...

    @property
    def reminders(self) -> ReminderService: ...


@dataclass(frozen=True)
class SweepReport:
    sent: list[Delivery] = field(default_factory=list)
    retried: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    more_due: bool = False  # the last sweep claimed its limit: more may be due already

    def followed_by(self, later: SweepReport) -> SweepReport:
        return SweepReport(
            self.sent + later.sent, self.retried + later.retried, self.failed + later.failed, later.more_due
        )


def new_worker_id() -> str:
    """Names the sweeper in every claim: unique, and naming its process, so that a restart can tell the claims of
    a killed bot (taken back at once) from those of a live one elsewhere (bot/workers.py)."""
    return workers.new_worker_id("reminders")


async def sweep_once(services: SchedulerServices, send: SendDelivery, worker_id: str | None = None) -> SweepReport:
    """Claim what is due at `services.clock.now()`, send each delivery, then confirm or release it."""
    reminders = services.reminders
    report = SweepReport()
    sweep = await reminders.sweep_batch(services.clock.now(), worker_id or _WORKER_ID)
    for delivery in sweep.deliveries:
        try:
            outcome = await send(delivery) or SendOutcome.SENT
        except Exception:
            # One bad delivery must not stop the others; it is retried with a growing delay.
            log.exception("sending reminders to %s failed", delivery.recipient_id)
            outcome = SendOutcome.RETRY
        if outcome is SendOutcome.SENT:
            await reminders.confirm(delivery)
            report.sent.append(delivery)
        elif outcome is SendOutcome.UNDELIVERABLE:
            await reminders.release(delivery, permanent=True)
            report.failed.append(delivery)
        else:
            await reminders.release(delivery)
            report.retried.append(delivery)
    return replace(report, more_due=sweep.full)


async def sweep_all_due(services: SchedulerServices, send: SendDelivery, worker_id: str | None = None) -> SweepReport:
    """`sweep_once` until a sweep finds less than its limit due: a morning's backlog (tens of thousands of rows at
    09:00 on the first of a month) goes out in one tick, each batch sent as paced as ever, rather than a limit's
    worth a minute for most of an hour, late. It ends: each sweep takes its claimed rows out of the pending ones
    (sent, cancelled, or released to a later retry). A sweep that could send nothing it tried (Telegram down) ends
    the tick: the rest waits for the next minute's instead of each batch waiting out its own failures now."""
    report = await sweep_once(services, send, worker_id)
    last = report
    while last.more_due and (last.sent or not last.retried):
        last = await sweep_once(services, send, worker_id)
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
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def tick(self, services: SchedulerServices) -> SweepReport:
        async with self._lock:
            today = services.clock.now().astimezone(services.reminders.tz).date()
            if today != self.planned_day:
                await plan_once(services, today)
                self.planned_day = today
            return await sweep_all_due(services, self.send, self.worker_id)


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
        # A slow tick (a big morning of digests) is not run twice at once, nor caught up tick by tick.
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    return ticker


_WORKER_ID = new_worker_id()
