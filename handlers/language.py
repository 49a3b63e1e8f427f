"""/lang: switch between 中文 and English; the menu follows, and so does a journey waiting at a step: its step is
asked again in the new language, with its buttons or reply keyboard."""

from __future__ import annotations

from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.i18n import LANGUAGES
from handlers.common import answer, identify, is_private
from handlers.conversations import ASKED_AGAIN, step_of, waiting
from handlers.group_binding_words import language_rule
from handlers.menus import install_user_menu
from handlers.resume import waiting_at

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


async def choose_language(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None:
        return
    if not is_private(update):
        # A work group's posts are worded in the bureau's language, whoever reads them: one member's choice must not
        # switch them for all. /lang here answered "switched to English" and the next post was Chinese all the same.
        await answer(update, caller.t("lang.in_group", rule=language_rule(context.services, caller.t)))
        return
    if caller.user is None:
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
    # From here on the person is answered in the new language, the step that waits included.
    caller = replace(caller, user=user, t=t)
    context.caller = caller
    name = LANGUAGE_NAMES[language]
    chat = update.effective_chat
    steps = waiting(context.application, chat.id, query.from_user.id) if chat is not None and is_private(update) else []
    at = await waiting_at(context, caller, steps, chat.id, query.from_user.id, askable=True) if chat and steps else None
    again = next((step for step in steps if step.name in ASKED_AGAIN), None) if at is None else None
    if again is not None and chat is not None:
        # A hazard's step waiting for a typed answer (a reason, a new deadline): its question again, in the new
        # language with its Cancel, right under the switch; the answer typed next is still the step's.
        await answer(update, t("lang.changed", language=name), edit=True)
        await install_user_menu(context.bot, user, t)
        await ASKED_AGAIN[again.name or ""](update, context, caller, step_of(again, chat.id, query.from_user.id))
        return
    if at is None:
        # No journey waits, or one that cannot ask its step again: said it is kept, the step's next answer awaited.
        await answer(update, t("lang.changed_waiting" if steps else "lang.changed", language=name), edit=True)
        await install_user_menu(context.bot, user, t)
        return
    # A journey waits at a step: asked again in the new language, with its keyboard (a location step's reply
    # keyboard kept its old words: 📍 Share my location under a Chinese conversation).
    journey, found = at
    named = t.plain(f"resume.journey.{journey.name}")
    if found.of is not None:
        said = t("lang.changed_items", language=name, journey=named, number=found.number, total=found.of)
    else:
        said = t("lang.changed_step", language=name, journey=named, number=found.number)
    await answer(update, said, edit=True)
    await install_user_menu(context.bot, user, t)
    if journey.ask is not None:
        await journey.ask(update, context, caller, found.step)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("lang", choose_language))
    application.add_handler(CallbackQueryHandler(chose_language, pattern=r"^lang:"))
