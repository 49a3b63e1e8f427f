"""The warning work that runs without anyone asking: polling the official feeds and the forecast, and following
up on warnings already sent (reminders, escalation, contact rounds). Registered by `bot.app.start_background`.

Time comes from `services.clock`, never from the job queue, so tests call `poll_feeds`, `run_forecast` and
`follow_up` directly with a FakeClock. Everything they send goes through the outbox, whose dedupe keys make every
step safe to repeat: a follow-up that runs twice, or again after a restart, sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram.ext import Application, CallbackContext

from bot.domain.reminders import in_quiet_hours
from bot.domain.warnings import (
    DELIVERED_STATUSES,
    EarlyWarning,
    WarningChange,
    WarningOrigin,
    WarningStatus,
    effective_expiry,
    forecast_draft_timing,
)
from bot.services.feeds import FeedPoller, FeedResult
from bot.services.forecast import ForecastPoller, ForecastResult
from bot.services.warnings import WarningDelivery, draft_notice_key
from handlers.contact_followup import close_lists, refresh_lists, remind_cadres, retire_lists, tell_cadres_closed
from handlers.contact_lists import queue_summary
from handlers.forecast_notices import announce_forecast_run, clear_revised_draft_buttons, told_in_digest
from handlers.warning_delivery import (
    deliver,
    queue_auto_sent_notice,
    queue_draft_notice,
    queue_draft_reminder,
    queue_test_notice,
)
from handlers.warning_ended import clear_ended_buttons
from handlers.warning_followup import escalate_no_one_to_reach, escalate_silent, escalate_to_city
from handlers.warning_help_pager import page_untaken
from handlers.warning_outbox import resume_progress, warning_batch
from handlers.warning_set_aside import settle_ended_drafts, tell_set_aside
from handlers.warnstatus import remind_silent
from storage.repositories.contact_followups import ContactFollowUpRepository
from storage.warning_models import ContactRound

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

Step = Callable[["BotServices"], Awaitable[object]]

FEED_INTERVAL = timedelta(minutes=3)
FORECAST_INTERVAL = timedelta(hours=1)
FORECAST_FIRST = 600  # seconds after the start
FOLLOW_UP_INTERVAL = timedelta(minutes=1)
RECONCILE_WINDOW = timedelta(days=1)
# An official draft nobody has sent is raised again this long after its notice, then as often again, until it is
# sent, withdrawn, revised (its new notice starts the count anew) or past its time.
DRAFT_REMIND_EVERY = timedelta(minutes=60)


# ---- the feeds ------------------------------------------------------------------------------------------------


async def poll_feeds(services: BotServices) -> FeedResult:
    settings = services.warnings.settings
    async with aiohttp.ClientSession() as session:
        result = await FeedPoller(services.storage, services.clock, settings, session).poll()
    await handle_feed_result(services, result)
    return result


async def handle_feed_result(services: BotServices, result: FeedResult) -> None:
    """Official orange and red go out at once (with a word to staff); blue and yellow drafts wait for staff's
    one tap; Test and Exercise messages are shown to city admins only."""
    for delivery in result.deliveries:
        # A fault with one is left to the follow-up's repair (`reconcile`), a minute later; the others go now.
        with _on_its_own(f"queueing warning {delivery.warning.id}"):
            async with services.storage.db.transaction():
                delivered = await deliver(services, delivery)
                await queue_auto_sent_notice(services, delivery, delivered)
    # A poll may read an Alert and its Update together: staff hear of each draft once, as it stands now, and not
    # at all of one that the Update sent by itself (its Send button would only say it is no longer a draft).
    seen = {w.id for w in [*result.new, *(w for w, _ in result.revised)]}
    for warning_id in sorted(seen):
        with _on_its_own(f"telling staff of draft {warning_id}"):
            latest = await services.storage.warnings.get(warning_id)
            if latest is not None and latest.status is WarningStatus.DRAFT:
                await queue_draft_notice(services, latest)
    for official, drafts in result.set_aside:
        with _on_its_own(f"telling staff of the drafts warning {official.id} set aside"):
            await tell_set_aside(services, official, drafts)
    for message in result.test_messages:
        with _on_its_own(f"showing the Test message {message.identifier}"):
            await queue_test_notice(services, message)
    for ignored in result.ignored:
        log.info("warning feed: %s ignored (%s) %s", ignored.source, ignored.reason.value, ignored.detail)


async def run_forecast(services: BotServices) -> ForecastResult:
    """Forecast findings become drafts labelled 预报研判（非官方预警）, for staff to send or not, announced in one
    message per staff member (`announce_forecast_run`); in quiet hours an orange or red one comes without a sound, a
    blue or yellow one in the morning (`forecast_draft_timing`)."""
    settings = services.warnings.settings
    async with aiohttp.ClientSession() as session:
        result = await ForecastPoller(services.storage, services.clock, settings, session).run()
    # One message per staff member for the run (a digest where they have several drafts, or one reaching nobody),
    # not one per draft and county.
    revised = frozenset(w.id for w, _ in result.revised)
    await announce_forecast_run(services, [*result.drafts, *(w for w, _ in result.revised)], revised)
    return result


# ---- following up -------------------------------------------------------------------------------------------


@dataclass
class FollowUp:
    reminded: int = 0  # heads reminded
    escalated: int = 0  # silent institutions named to staff
    city_escalated: int = 0  # institutions counted to the city admins: silent, or with a call for help nobody took
    no_one_to_reach: int = 0  # institutions nobody can be told of, newly named to staff this time
    rounds_escalated: int = 0
    rounds_closed: int = 0
    cadres_reminded: int = 0  # reminders queued to cadres of people still pending on their contact lists
    redelivered: int = 0  # revisions whose messages had not been queued (a crash in between)
    drafts_told: int = 0  # drafts whose notice to staff had not been queued (a crash in between)
    drafts_reminded: int = 0  # official drafts still waiting, raised to staff again
    expired: int = 0  # warnings past their time, marked ended
    help_repaged: int = 0  # calls for help nobody took, announced again
    help_escalated: int = 0  # of them, told to the city admins this time
    help_stopped: int = 0  # calls whose pages stopped still open, told to staff and the city admins this time


async def follow_up(services: BotServices) -> FollowUp:
    report = FollowUp()
    now = services.clock.now()
    # The timings are settings (WARNING_REMIND_AFTER_MINUTES …): a typhoon signal gives 12 to 24 hours, and staff
    # need most of them to act on the silent ones, but a bureau may want a tighter ladder for rainstorms.
    timing = services.settings.warning_settings
    # Warnings past their time are marked ended here, every minute, whether or not an official feed is polled.
    with _on_its_own("ending the warnings past their time"):
        report.expired = len(await services.warnings.expire_due())
    for warning in await services.warnings.active():
        if warning.sent_at is None:
            continue
        age = now - warning.sent_at
        with _on_its_own(f"following up warning {warning.id}"):
            # Read once for the steps below: at city scale it is most of a minute's follow-up of a warning.
            status = await services.warnings.ack_status(warning.id)
            # At any age: a head may have left, or blocked the bot, since it was sent (told once per change).
            report.no_one_to_reach += (await escalate_no_one_to_reach(services, warning, status)).newly_named
            if age >= timing.remind_after:
                # Two warnings of one kind over a home (the county's orange, the city's red): one reminder, of the
                # newer; an answer to either counts for both (`ack_status`).
                report.reminded += await remind_silent(
                    services, warning, f"warning:{warning.id}:remind:auto", newest_only=True
                )
            if age >= timing.escalate_after:
                report.escalated += await escalate_silent(services, warning, status)
            if age >= timing.city_escalate_after and warning.level in timing.city_escalate_levels:
                report.city_escalated += await escalate_to_city(services, warning, status)
    # A call for help nobody took is paged again, at every level, whether or not its warning is still in force.
    with _on_its_own("paging the calls for help nobody took"):
        paged = await page_untaken(services)
        report.help_repaged, report.help_escalated = paged.repaged, paged.escalated
        report.help_stopped = paged.stopped
    for contact_round in await ContactFollowUpRepository(services.storage.db).open_rounds():
        with _on_its_own(f"following up contact round {contact_round.id}"):
            await _follow_up_round(services, contact_round, report)
    report.redelivered = await reconcile(services)
    report.drafts_told = await reconcile_drafts(services)
    report.drafts_reminded = await remind_drafts(services)
    return report


async def _follow_up_round(services: BotServices, contact_round: ContactRound, report: FollowUp) -> None:
    """A round lasts while its warning is in force (`round_due_to_close`); its cadres are reminded of the people
    still pending, halfway to the staff's escalation and again near its end; at the end staff get the summary and
    each cadre with people pending hears that it ended and who follows them up."""
    timing = services.settings.warning_settings
    now = services.clock.now()
    age = now - contact_round.started_at
    if await services.warnings.round_due_to_close(contact_round):
        summary = await services.warnings.close_round(None, contact_round.id)
        await queue_summary(services, summary)
        await tell_cadres_closed(services, summary)
        report.rounds_closed += 1
        return
    summary = await services.warnings.round_summary(contact_round.id)
    if not summary.pending and not summary.unreachable:
        return
    ends_at = await services.warnings.round_ends_at(contact_round)
    if summary.pending and age >= timing.contact_remind_after:
        closing = now >= ends_at - timing.contact_escalate_after
        report.cadres_reminded += await remind_cadres(services, summary, ends_at, closing=closing)
    if age >= timing.contact_escalate_after:
        report.rounds_escalated += bool(await queue_summary(services, summary, escalation=True))


@contextmanager
def _on_its_own(what: str) -> Iterator[None]:
    """A fault of ours with one warning, draft or round is logged and costs that one alone this time: the others,
    and the repair of warnings sent to nobody (`reconcile`), still run."""
    try:
        yield
    except Exception:
        log.exception("%s failed; tried again in a minute, the others as usual", what)


async def reconcile(services: BotServices) -> int:
    """Queue the latest revision of any recently changed warning whose messages were never queued.

    A feed's warning is stored in one transaction and queued in the next: a crash between the two would leave it
    sent to nobody. Dedupe keys make this a no-op for every warning that was queued.
    """
    now = services.clock.now()
    repaired = 0
    statuses = {*DELIVERED_STATUSES, WarningStatus.CANCELLED}
    for warning in await services.storage.warnings.with_status(statuses):
        if warning.sent_at is None or now - warning.updated_at > RECONCILE_WINDOW:
            continue
        if (await services.outbox.progress(warning_batch(warning.id, warning.revision))).total:
            continue
        recipients = tuple(await services.warnings.recipients(warning.id))
        if not recipients:
            continue
        change = await _change_to_tell(services, warning)
        async with services.storage.db.transaction():
            await deliver(services, WarningDelivery(warning, change, recipients))
        log.warning("warning %d revision %d had not been queued; queued now", warning.id, warning.revision)
        repaired += 1
    return repaired


async def reconcile_drafts(services: BotServices) -> int:
    """Tell staff of any recent draft from a feed or a forecast whose notice was never queued.

    A feed or forecast run stores its drafts in one transaction and queues their notices in the next: a crash between
    the two would leave a draft waiting unseen in /warnings. A notice queued once, even if cancelled since, is not
    queued again; a forecast draft's notice is timed as the run would time it now (held in quiet hours).
    """
    now, quiet, tz = services.clock.now(), services.settings.quiet, services.settings.tz
    told = 0
    for warning in await services.storage.warnings.with_status({WarningStatus.DRAFT}):
        if warning.origin is WarningOrigin.MANUAL or now - warning.updated_at > RECONCILE_WINDOW:
            continue  # a manual draft is its author's own, still on their screen
        if await services.storage.outbox.queued(draft_notice_key(warning.id, warning.revision)):
            continue
        forecast = warning.origin is WarningOrigin.FORECAST
        if forecast and await told_in_digest(services, warning):
            continue
        with _on_its_own(f"telling staff of draft {warning.id}"):
            timing = forecast_draft_timing(warning.level, now, quiet, tz) if forecast else None
            if await queue_draft_notice(services, warning, timing):
                log.warning("draft %d revision %d had not been told to staff; queued now", warning.id, warning.revision)
                told += 1
    return told


async def remind_drafts(services: BotServices) -> int:
    """Raise again the official drafts still waiting for 📤 发送: the first reminder an hour after the draft's notice
    (`DRAFT_REMIND_EVERY`), then hourly, until it is sent, withdrawn or past its time. Each reminder is named by the
    draft's revision and its number, so a minute run twice, or a restart, never sends one twice; after a long stop
    only the one due now goes. In quiet hours it comes without a sound. Forecast drafts are left alone: they are a
    county's judgement to make, not an official warning waiting (and at night they wait for the morning anyway)."""
    now, quiet, tz = services.clock.now(), services.settings.quiet, services.settings.tz
    reminded = 0
    for warning in await services.storage.warnings.with_status({WarningStatus.DRAFT}):
        if warning.origin is not WarningOrigin.OFFICIAL:
            continue
        if now >= effective_expiry(warning, services.warnings.settings.default_duration):
            continue
        round_ = int((now - warning.updated_at) / DRAFT_REMIND_EVERY)
        if round_ < 1 or not await services.storage.outbox.queued(draft_notice_key(warning.id, warning.revision)):
            continue  # not due yet, or its first notice has not gone (the repair above queues it)
        with _on_its_own(f"reminding staff of draft {warning.id}"):
            silent = in_quiet_hours(now, quiet, tz)
            reminded += bool(await queue_draft_reminder(services, warning, round_, silent=silent))
    return reminded


async def _change_to_tell(services: BotServices, warning: EarlyWarning) -> WarningChange:
    """What the recipients hear: the latest change, or the issue itself if nothing of it ever reached them."""
    revisions = await services.warnings.revisions(warning.id)
    for earlier in revisions[:-1]:
        if (await services.outbox.progress(warning_batch(warning.id, earlier.revision))).total:
            return revisions[-1].change
    return WarningChange.CANCEL if warning.status is WarningStatus.CANCELLED else WarningChange.ISSUE


# ---- the schedule ---------------------------------------------------------------------------------------------


def schedule_warning_jobs(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Feeds every few minutes (when configured), the forecast hourly (unless switched off), follow-ups every
    minute; `bot_data["services"]` must hold the services."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the warning jobs need python-telegram-bot[job-queue]")
    services: BotServices = application.bot_data["services"]
    settings = services.warnings.settings
    jobs: list[tuple[str, Step, timedelta, int]] = [("warnings.follow_up", follow_up, FOLLOW_UP_INTERVAL, 10)]
    if settings.feed_urls:
        jobs.append(("warnings.feeds", poll_feeds, FEED_INTERVAL, 5))
    if settings.forecast_base_url:
        # Not at once: a forecast changes slowly, and a short run (the offline demo) should not reach for the network.
        jobs.append(("warnings.forecast", run_forecast, FORECAST_INTERVAL, FORECAST_FIRST))
    # The status messages of broadcasts a previous process left half-way are taken up by this one's sender.
    job_queue.run_once(_guarded("warnings.resume_progress", _resume(application)), when=0,
                       name="warnings.resume_progress")
    jobs.append(("warnings.clear_ended_buttons", _clear_buttons(application), FOLLOW_UP_INTERVAL, 30))
    jobs.append(("contacts.close_lists", _close_lists(application), FOLLOW_UP_INTERVAL, 40))
    for name, step, interval, first in jobs:
        job_queue.run_repeating(
            _guarded(name, step),
            interval=interval,
            first=first,
            name=name,
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )


def _clear_buttons(application: Application[Any, Any, Any, Any, Any, Any]) -> Step:
    async def clear(services: BotServices) -> int:
        # The notices of drafts ended unsent lose their 📤 too, saying what became of the draft; a revised draft's
        # older copies lose theirs.
        settled = await settle_ended_drafts(application.bot, services)
        ended = await clear_ended_buttons(application.bot, services)
        return settled + ended + await clear_revised_draft_buttons(application.bot, services)

    return clear


def _close_lists(application: Application[Any, Any, Any, Any, Any, Any]) -> Step:
    async def close(services: BotServices) -> int:
        closed = await close_lists(application.bot, services) + await retire_lists(application.bot, services)
        return closed + await refresh_lists(application.bot, services)

    return close


def _resume(application: Application[Any, Any, Any, Any, Any, Any]) -> Step:
    async def resume(services: BotServices) -> int:
        return await resume_progress(application.bot_data, services)

    return resume


def _guarded(name: str, step: Step) -> Callable[[CallbackContext[Any, Any, Any, Any]], Coroutine[Any, Any, None]]:
    async def run(context: CallbackContext[Any, Any, Any, Any]) -> None:
        try:
            await step(context.application.bot_data["services"])
        except Exception:
            # The next run tries again; a failing run must not unschedule the job.
            log.exception("%s failed", name)

    return run
