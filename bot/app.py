"""The one factory that assembles the bot, for `run`, `demo`, the tests and the benchmarks alike."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults, PersistenceInput
from telegram.request import HTTPXRequest

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import BotContext
from bot.i18n import I18n
from bot.persistence import SQLitePersistence
from bot.processing import PerChatUpdateProcessor
from bot.services.evidence import EvidenceStore
from bot.services.hazards import HazardService
from bot.services.onboarding import OnboardingService
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

    async def close(self) -> None:
        await self.storage.close()


async def open_services(settings: Settings, clock: Clock | None = None, *, strict_i18n: bool = False) -> BotServices:
    clock = clock or SystemClock()
    storage = await Storage.open(settings.database_path, clock)
    evidence = EvidenceStore(settings.evidence_dir)
    return BotServices(
        settings=settings,
        clock=clock,
        storage=storage,
        i18n=I18n(settings.default_language, strict=strict_i18n),
        onboarding=OnboardingService(storage, clock, timedelta(hours=settings.invite_ttl_hours)),
        evidence=evidence,
        hazards=HazardService(storage, clock, evidence, settings.deadline_policy, settings.tz),
    )


def build_application(services: BotServices, *, rate_limiter: bool = True) -> BotApplication:
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
        .concurrent_updates(PerChatUpdateProcessor())
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


async def on_startup(application: BotApplication) -> None:
    """What every runner does once the bot is up (python-telegram-bot's post_init only runs in run_polling)."""
    from handlers.menus import install_default_menus

    services: BotServices = application.bot_data["services"]
    await install_default_menus(application.bot, services.i18n)


def idle(application: BotApplication) -> bool:
    """True when no update is queued or being handled: what the sandbox driver waits for instead of sleeping."""
    processor = application.update_processor
    unfinished = getattr(application.update_queue, "_unfinished_tasks", 0)
    in_flight = processor.in_flight if isinstance(processor, PerChatUpdateProcessor) else 0
    return unfinished == 0 and in_flight == 0


@asynccontextmanager
async def running(application: BotApplication, *, poll_timeout: float = 10) -> AsyncIterator[BotApplication]:
    """Start the application with long polling inside the current event loop; stop it cleanly on exit."""
    async with application:
        await application.start()
        await on_startup(application)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=int(poll_timeout), drop_pending_updates=False)
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            await application.stop()


async def wait_forever() -> None:
    await asyncio.Event().wait()
