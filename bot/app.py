"""The one factory that assembles the bot, for `run`, `demo`, the tests and the benchmarks alike."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
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
from telegram.request import HTTPXRequest

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import BotContext
from bot.i18n import I18n
from bot.persistence import SQLitePersistence
from bot.processing import PerChatUpdateProcessor
from bot.services.calendar import DrillService, StudyService
from bot.services.evidence import EvidenceStore
from bot.services.hazards import HazardService
from bot.services.insight import Insight
from bot.services.onboarding import OnboardingService
from bot.services.outbox import OutboxService
from bot.services.reminders import ReminderService
from bot.services.self_inspection import SelfInspectionService
from bot.services.warnings import WarningService
from storage import Storage

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


@dataclass
class BotServices:
    """Everything a handler, a scheduled job or the command line needs, built once per process."""

    settings: Settings
    clock: Clock
    storage: Storage
    i18n: I18n
    onboarding: OnboardingService
    evidence: EvidenceStore
    hazards: HazardService
    reminders: ReminderService
    drills: DrillService
    self_inspections: SelfInspectionService
    studies: StudyService
    outbox: OutboxService
    warnings: WarningService
    insight: Insight

    async def close(self) -> None:
        await self.storage.close()


async def open_services(settings: Settings, clock: Clock | None = None, *, strict_i18n: bool = False) -> BotServices:
    clock = clock or SystemClock()
    storage = await Storage.open(settings.database_path, clock)
    evidence = EvidenceStore(settings.evidence_dir)
    tz = settings.tz
    hazards = HazardService(storage, clock, evidence, settings.deadline_policy, tz)
    reminders = ReminderService(storage, clock, tz)
    hazards.planner = reminders
    calendar: dict[str, Any] = {"hazards": hazards, "evidence": evidence, "planner": reminders}
    onboarding = OnboardingService(storage, clock, timedelta(hours=settings.invite_ttl_hours))
    outbox = OutboxService(storage, clock)
    warnings = WarningService(storage, clock, settings.warning_settings)
    return BotServices(
        settings=settings,
        clock=clock,
        storage=storage,
        i18n=I18n(settings.default_language, strict=strict_i18n),
        onboarding=onboarding,
        evidence=evidence,
        hazards=hazards,
        reminders=reminders,
        drills=DrillService(storage, clock, tz, **calendar),
        self_inspections=SelfInspectionService(storage, clock, tz, **calendar),
        studies=StudyService(storage, clock, tz, **calendar),
        outbox=outbox,
        warnings=warnings,
        insight=Insight.build(storage, clock, settings, onboarding, outbox=outbox, warnings=warnings),
    )


def build_application(
    services: BotServices, *, rate_limiter: bool = True, update_processor: BaseUpdateProcessor | None = None
) -> BotApplication:
    """`update_processor` replaces the bot's own (concurrent across chats, in order within each): for benchmarks."""
    settings = services.settings
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
        # Broadcasts reach hundreds of chats at once: keep enough connections open for them.
        .request(HTTPXRequest(connection_pool_size=64, read_timeout=15, write_timeout=15))
        .get_updates_request(HTTPXRequest(connection_pool_size=2, read_timeout=40))
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
    application: BotApplication = builder.build()
    application.bot_data["services"] = services

    from handlers import register_handlers

    register_handlers(application)
    return application


async def on_startup(application: BotApplication, *, background: bool = True) -> None:
    """What every runner does once the bot is up (python-telegram-bot's post_init only runs in run_polling).

    `background` starts the work that runs without an update: the outbox sender and the scheduled jobs. Tests
    that move a FakeClock turn it off and drive those steps themselves.
    """
    from handlers.menus import install_default_menus

    services: BotServices = application.bot_data["services"]
    await install_default_menus(application.bot, services.i18n)
    if background:
        await start_background(application)


async def start_background(application: BotApplication) -> None:
    from bot.delivery import OutboxSender
    from bot.jobs import schedule_jobs
    from bot.warning_jobs import schedule_warning_jobs
    from handlers.reminders import send_delivery

    services: BotServices = application.bot_data["services"]
    sender = OutboxSender(application, services, worker_id=f"sender-{id(application):x}", outbox=services.outbox)
    sender.start()
    application.bot_data["outbox_sender"] = sender
    # The minute tick of the reminder engine; the job queue stops with the application.
    schedule_jobs(application, lambda delivery: send_delivery(application.bot, services, delivery))
    # Feeds, forecast and the follow-up of warnings sent (reminders, escalation, contact rounds).
    schedule_warning_jobs(application)


async def on_shutdown(application: BotApplication) -> None:
    """Let requests already sent finish and hand back the messages that never left."""
    sender = application.bot_data.pop("outbox_sender", None)
    if sender is not None:
        await sender.stop()


def idle(application: BotApplication) -> bool:
    """True when no update is queued or being handled: what the sandbox driver waits for instead of sleeping."""
    processor = application.update_processor
    unfinished = getattr(application.update_queue, "_unfinished_tasks", 0)
    in_flight = processor.in_flight if isinstance(processor, PerChatUpdateProcessor) else 0
    return unfinished == 0 and in_flight == 0


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
        assert application.updater is not None
        await application.updater.start_webhook(
            listen=listen, port=port, url_path=url_path, webhook_url=webhook_url, secret_token=secret_token
        )
        try:
            yield application
        finally:
            await on_shutdown(application)
            if application.updater.running:
                await application.updater.stop()
            await application.stop()
