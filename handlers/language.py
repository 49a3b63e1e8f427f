"""/lang: switch between 中文 and English; the menu follows."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.i18n import LANGUAGES
from handlers.common import answer, identify
from handlers.menus import install_user_menu

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


async def choose_language(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=f"lang:{code}") for code in LANGUAGES]]
    )
    await answer(update, caller.t("lang.choose"), reply_markup=keyboard)


async def chose_language(update: Update, context: BotContext) -> None:
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None or caller.user is None or query.data is None:
        return
    language = query.data.removeprefix("lang:")
    if language not in LANGUAGES:
        await query.answer(caller.t("fallback.stale_button"), show_alert=True)
        return
    user = await context.services.onboarding.set_language(caller.user, language)
    t = context.services.i18n.get(language)
    await query.answer()
    await answer(update, t("lang.changed", language=LANGUAGE_NAMES[language]), edit=True)
    await install_user_menu(context.bot, user, t)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("lang", choose_language))
    application.add_handler(CallbackQueryHandler(chose_language, pattern=r"^lang:"))
