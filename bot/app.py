"""The one factory that assembles the bot, for `run`, `demo`, the tests and the benchmarks alike; the services it
runs on are built by `bot.services_factory`."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
    PersistenceInput,
)

from bot.context import BotContext
from bot.incoming import UpdatesRequest
from bot.pacing import Limits
from bot.persistence import SQLitePersistence
from bot.processing import PerChatUpdateProcessor, working_after_answer
from bot.retrying import RetryingRequest
from bot.services_factory import BotServices
from bot.webhook import serving_webhook

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


def build_application(
    services: BotServices, *, rate_limiter: bool = True, update_processor: BaseUpdateProcessor | None = None
) -> BotApplication:
    """`update_processor` replaces the bot's own (concurrent across chats, in order within each): for benchmarks."""
    settings = services.settings
    polls = UpdatesRequest(connection_pool_size=2, read_timeout=40)
    # The builder's generic parameters change with every call; the typed result is declared below.
    builder: Any = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.file_base_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .persistence(
            SQLitePersistence(
                services.storage.db,
                store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=False, callback_data=False),
            )
        )
        .concurrent_updates(update_processor or PerChatUpdateProcessor())
        # Broadcasts reach hundreds of chats at once: keep enough connections open for them. Every call but
        # getUpdates is retried after a 5xx, a timeout or a dropped connection (bot/retrying.py).
        .request(RetryingRequest(connection_pool_size=64, read_timeout=15, write_timeout=15))
        # The Updater retries getUpdates itself; this one paces polls while busy and passes over updates the
        # library cannot parse (bot/incoming.py).
        .get_updates_request(polls)
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
    application: BotApplication = builder.build()
    polls.watch(application)
    application.bot_data["services"] = services

    from handlers import register_handlers

    register_handlers(application)
    return application


def freeze_startup_heap() -> None:
    """Take what is alive once the bot is built (modules, handlers, translations: a hundred thousand objects) out
    of the garbage collector's full passes, which walked them all each time: 30 to 45 ms during which the bot did
    nothing else, the longest stalls of the reminder sweeps at city scale. For a long-running process (`run`):
    what is frozen is never collected as a cycle, so a test suite building hundreds of applications must not."""
    gc.collect()
    gc.freeze()


async def on_startup(application: BotApplication, *, background: bool = True) -> None:
    """What every runner does once the bot is up (python-telegram-bot's post_init only runs in run_polling).

    `background` starts the work that runs without an update: the outbox sender and the scheduled jobs. Tests
    that move a FakeClock turn it off and drive those steps themselves. Hazard notices are not such work: they
    are part of answering the update that caused them, so without `background` a sender of their own delivers
    them (and only them).
    """
    from handlers.menus import install_default_menus

    services: BotServices = application.bot_data["services"]
    await install_default_menus(application.bot, services.i18n)
    if background:
        await start_background(application)
    else:
        start_notice_sender(application)


def start_notice_sender(application: BotApplication) -> None:
    from bot.delivery import OutboxSender
    from bot.workers import new_worker_id
    from handlers.notify import NOTICE_LANE

    services: BotServices = application.bot_data["services"]
    sender = OutboxSender(
        application,
        services,
        worker_id=new_worker_id("notices"),
        outbox=services.outbox,
        limits=outbox_limits(services),
        lane=NOTICE_LANE,
    )
    sender.start()
    application.bot_data["notice_sender"] = sender


def outbox_limits(services: BotServices) -> Limits:
    return Limits.unlimited_for_tests() if services.settings.outbox_unpaced else Limits()


async def start_background(application: BotApplication) -> None:
    from bot.delivery import OutboxSender
    from bot.jobs import schedule_check_backs, schedule_jobs
    from bot.warning_jobs import schedule_warning_jobs
    from bot.workers import new_worker_id
    from handlers.reminders import send_delivery

    services: BotServices = application.bot_data["services"]
    await services.storage.db.start_checkpointer()
    sender = OutboxSender(
        application, services, worker_id=new_worker_id("sender"), outbox=services.outbox, limits=outbox_limits(services)
    )
    sender.start()
    application.bot_data["outbox_sender"] = sender
    # The minute tick of the reminder engine; the job queue stops with the application.
    schedule_jobs(application, lambda delivery: send_delivery(application.bot, services, delivery))
    # The reporters' check-backs (回访) that have fallen due.
    schedule_check_backs(application)
    # Feeds, forecast and the follow-up of warnings sent (reminders, escalation, contact rounds).
    schedule_warning_jobs(application)


async def on_shutdown(application: BotApplication) -> None:
    """Let requests already sent finish and hand back the messages that never left."""
    for key in ("outbox_sender", "notice_sender"):
        sender = application.bot_data.pop(key, None)
        if sender is not None:
            await sender.stop()


def idle(application: BotApplication) -> bool:
    """True when no update is queued or being handled, nothing is still running after an answer, and the outbox
    sender has nothing to send right now: what the sandbox driver waits for instead of sleeping."""
    processor = application.update_processor
    unfinished = getattr(application.update_queue, "_unfinished_tasks", 0)
    in_flight = processor.in_flight if isinstance(processor, PerChatUpdateProcessor) else 0
    senders = [application.bot_data.get(key) for key in ("outbox_sender", "notice_sender")]
    sending = any(not sender.quiet for sender in senders if sender is not None)
    return unfinished == 0 and in_flight == 0 and not sending and not working_after_answer(application)


@asynccontextmanager
async def running(
    application: BotApplication, *, poll_timeout: float = 10, background: bool = True
) -> AsyncIterator[BotApplication]:
    """Start the application with long polling inside the current event loop; stop it cleanly on exit."""
    async with application:
        await application.start()
        await on_startup(application, background=background)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=int(poll_timeout), drop_pending_updates=False)
        try:
            yield application
        finally:
            await on_shutdown(application)
            if application.updater.running:
                await application.updater.stop()
            await application.stop()


@asynccontextmanager
async def running_webhook(
    application: BotApplication, *, listen: str, port: int, webhook_url: str, secret_token: str | None
) -> AsyncIterator[BotApplication]:
    """Start the application behind a webhook; Telegram must send `secret_token` back with every update."""
    # The public URL's path is where Telegram posts; a reverse proxy forwards it to us unchanged.
    url_path = urlparse(webhook_url).path.strip("/")
    async with application:
        await application.start()
        await on_startup(application)
        try:
            # Our own receiver rather than the Updater's, which stalls on an update it cannot parse (bot/webhook.py).
            async with serving_webhook(application, listen=listen, port=port, url_path=url_path,
                                       secret_token=secret_token):
                await application.bot.set_webhook(url=webhook_url, secret_token=secret_token, max_connections=40)
                yield application
        finally:
            await on_shutdown(application)
            await application.stop()
