"""A forum topic's own events that change where its binding is: a closed topic opened again takes back the binding
that its closing moved to the group's general chat (`OnboardingService.topic_reopened`), and says so in it."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext
from handlers.common import place_name, topic_of

log = logging.getLogger(__name__)


async def topic_reopened(update: Update, context: BotContext) -> None:
    """An admin opened a closed topic again. Its binding had moved to the general chat, and stayed there for good:
    the topic, open again, got nothing, and nobody was told. It comes back, the topic is told in the bureau's
    language, and the staff answerable hear it (in the service, with the move undone)."""
    message, topic = update.effective_message, topic_of(update)
    if message is None or topic is None:
        return
    back = await context.services.onboarding.topic_reopened(message.chat_id, topic)
    if back is None:
        return
    services = context.services
    t = services.i18n.get(services.i18n.default_language)
    region = await services.storage.regions.get(back.binding.region_code)
    binding = f"{place_name(region, t)} · {t.plain(f'purpose.{back.binding.purpose.value}')}"
    try:
        await message.reply_text(t("group.topic_back_here", binding=binding), do_quote=False)
    except TelegramError:
        log.info("could not tell topic %s of chat %s that its binding is back", topic, message.chat_id)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(MessageHandler(filters.StatusUpdate.FORUM_TOPIC_REOPENED, topic_reopened))
