"""Each role's command menu, per language and per chat, as Telegram shows it beside the text box."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import LANGUAGES, I18n, Translator
from storage.models import User

log = logging.getLogger(__name__)

# The order is the order of the menu. Journeys add their commands here as they land.
GUEST_COMMANDS = ("start", "help")
ROLE_COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.CADRE: ("report", "tasks", "mine", "hazard", "help", "lang", "cancel"),
    Role.HEAD: (
        "report", "tasks", "mine", "hazard", "institution", "drill", "drills", "selfcheck", "stats", "export", "help",
        "lang", "cancel",
    ),
    Role.COUNTY: (
        "report", "tasks", "mine", "hazard", "institution", "deadline", "drills", "drill", "study", "warn", "warnings",
        "warnstatus", "contactround", "stats", "export", "ranking", "template", "invite", "people", "bindgroup", "help",
        "lang", "cancel",
    ),
    Role.CITY: (
        "report", "tasks", "mine", "hazard", "institution", "deadline", "drills", "drill", "study", "warn", "warnings",
        "warnstatus", "contactround", "stats", "export", "ranking", "notice", "template", "invite", "people",
        "bindgroup", "help", "lang", "cancel",
    ),
}
GROUP_COMMANDS = ("bindgroup", "unbindgroup", "help")

MENU_GROUP = 60  # after every journey and fallback: the person has had their answer by then
_BROUGHT_UP_TO_DATE = "menus_brought_up_to_date"

# Telegram wants a two-letter ISO 639-1 code for per-language menus.
TELEGRAM_LANGUAGE = {"zh_CN": "zh", "en": "en"}


def commands_for(names: tuple[str, ...], t: Translator) -> list[BotCommand]:
    return [BotCommand(name, t.plain(f"command.{name}")) for name in names]


async def install_default_menus(bot: Bot, i18n: I18n) -> None:
    """Menus for people the bot does not know yet, and for groups, in every language we speak."""
    default_t = i18n.get(i18n.default_language)
    await bot.set_my_commands(commands_for(GUEST_COMMANDS, default_t), scope=BotCommandScopeDefault())
    await bot.set_my_commands(commands_for(GROUP_COMMANDS, default_t), scope=BotCommandScopeAllGroupChats())
    for language in LANGUAGES:
        t = i18n.get(language)
        code = TELEGRAM_LANGUAGE[language]
        await bot.set_my_commands(
            commands_for(GUEST_COMMANDS, t), scope=BotCommandScopeDefault(), language_code=code
        )
        await bot.set_my_commands(
            commands_for(GROUP_COMMANDS, t), scope=BotCommandScopeAllGroupChats(), language_code=code
        )


async def install_user_menu(bot: Bot, user: User, t: Translator) -> None:
    """The registered person's own menu, in the language they chose."""
    try:
        await bot.set_my_commands(
            commands_for(ROLE_COMMANDS[user.role], t), scope=BotCommandScopeChat(chat_id=user.telegram_id)
        )
    except TelegramError:
        # A menu is a convenience; never let it break registration.
        log.warning("could not set the command menu for %s", user.telegram_id)


async def bring_menu_up_to_date(update: Update, context: BotContext) -> None:
    """A person's menu is set at registration and at /lang, and Telegram keeps it: a command a later version gave
    their role never reached it. So each person's menu is set again at their first message of every run, in the
    language stored for them now (read afresh: this very message may have been /lang)."""
    person = update.effective_user
    if person is None:
        return
    done: set[int] = context.bot_data.setdefault(_BROUGHT_UP_TO_DATE, set())
    if person.id in done:
        return
    try:
        user = await context.services.storage.users.get(person.id)
    except sqlite3.Error:
        # The person has had their answer: a busy database must not follow it with an error. Next message, then.
        log.info("could not read %s to bring their menu up to date", person.id)
        return
    if user is None or not user.active:
        return
    done.add(person.id)
    await install_user_menu(context.bot, user, context.services.i18n.get(user.language))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Messages only, not button presses: a warning's hundreds of acknowledgements must not each cost a request.
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, bring_menu_up_to_date),
        group=MENU_GROUP,
    )
