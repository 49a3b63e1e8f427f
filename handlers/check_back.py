"""🔁 The check-back (回访): weeks after a hazard was closed, its reporter is asked whether the problem is still solved.

The question is worded here (`CheckBackWording`, in the reporter's language) and queued by the service when it falls
due (bot/services/check_backs.py). Its two buttons are answered here: "✅ still solved" thanks the reporter and takes
the buttons away; "⚠️ it came back" tells the official who closed it (or the county staff covering it), whose notice
carries 🔁 Reopen beside Details where the lifecycle lets them reopen it (the details' Reopen button, `hz:reopen:{id}`:
handlers.reopen's journey and its checks), and the home's head (not of a rights-protection hazard); and it offers
the reporter the 💬 comment journey (handlers.comment) to say what they saw.
Every press is checked on the server: only the reporter may answer (anyone else is refused and audited), once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain.check_backs import CheckBackAnswer
from bot.domain.checklists import shown_description
from bot.i18n import Translator, clipped, counted
from bot.services.check_backs import NOT_YOURS
from bot.services.errors import Refusal
from handlers.common import place_name, pressed, refuse_press
from handlers.hazard_buttons import COMMENT, REOPEN, VIEW, button, replace_buttons
from handlers.notify import hazard_params, when
from storage.check_back_models import CheckBack
from storage.hazard_models import Hazard
from storage.models import User
from storage.outbox_models import OutboxPayload

if TYPE_CHECKING:
    from bot.services_factory import BotServices

ANSWERED = re.compile(r"^chk:(holds|again):(\d+)$")
# How much of the description the question quotes: enough to recognise the hazard.
SUMMARY = 120
# Refusals after which the buttons have nothing left to do.
SETTLED = frozenset({"check_back_answered_holds", "check_back_answered_again", "check_back_reopened"})


def answer_data(answer: CheckBackAnswer, check_back_id: int) -> str:
    return f"chk:{answer.value}:{check_back_id}"


class CheckBackWording:
    """The service's `CheckBackWords`: each message in its reader's language, HTML-escaped."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def _params(self, hazard: Hazard, t: Translator) -> dict[str, object]:
        institution = await self._services.storage.institutions.get(hazard.institution_id)
        params = hazard_params(hazard, institution, t, self._services.settings.tz)
        params["institution"] = place_name(institution, t)
        params["description"] = clipped(shown_description(hazard.description), SUMMARY)
        return params

    async def question(self, check_back: CheckBack, hazard: Hazard, reporter: User) -> OutboxPayload:
        t = self._services.i18n.get(reporter.language)
        closed = when(check_back.closed_at, self._services.settings.tz, t)
        text = t("check_back.question", closed=closed, **await self._params(hazard, t))
        markup = InlineKeyboardMarkup([
            [InlineKeyboardButton(t.plain("button.check_back_holds"),
                                  callback_data=answer_data(CheckBackAnswer.HOLDS, check_back.id))],
            [InlineKeyboardButton(t.plain("button.check_back_again"),
                                  callback_data=answer_data(CheckBackAnswer.AGAIN, check_back.id))],
            [button(VIEW, hazard.id, "button.details", t)],
        ])
        return OutboxPayload(text=text, reply_markup=markup.to_dict())

    async def came_back(
        self, check_back: CheckBack, hazard: Hazard, reporter: User, official: User, *, may_reopen: bool
    ) -> OutboxPayload:
        t = self._services.i18n.get(official.language)
        closed = when(check_back.closed_at, self._services.settings.tz, t)
        key = "check_back.came_back" if may_reopen else "check_back.came_back_view"
        text = t(key, closed=closed, reporter=reporter.full_name, **await self._params(hazard, t))
        row = [button(VIEW, hazard.id, "button.details", t)]
        if may_reopen:  # the details' own Reopen button: the same journey, the same checks on the server
            row.append(button(REOPEN, hazard.id, "button.check_back_reopen", t))
        return OutboxPayload(text=text, reply_markup=InlineKeyboardMarkup([row]).to_dict())

    async def came_back_head(self, check_back: CheckBack, hazard: Hazard, reporter: User, head: User) -> OutboxPayload:
        t = self._services.i18n.get(head.language)
        closed = when(check_back.closed_at, self._services.settings.tz, t)
        text = t("check_back.came_back_head", closed=closed, reporter=reporter.full_name,
                 **await self._params(hazard, t))
        markup = InlineKeyboardMarkup([[button(VIEW, hazard.id, "button.details", t)]])
        return OutboxPayload(text=text, reply_markup=markup.to_dict())


async def answered(update: Update, context: BotContext) -> None:
    press = await pressed(update, context, ANSWERED)
    if press is None:
        return
    t, query = press.t, press.query
    choice, check_back_id = CheckBackAnswer(press.match.group(1)), int(press.match.group(2))
    try:
        outcome = await context.services.check_backs.answer(press.user, check_back_id, choice)
    except Refusal as refusal:
        await refuse_press(context, press.caller, query, refusal, {NOT_YOURS})
        if refusal.code in SETTLED and isinstance(query.message, Message):
            await replace_buttons(query.message, None)
        return
    await query.answer()
    hazard = outcome.hazard
    if choice is CheckBackAnswer.HOLDS:
        text, markup = t("check_back.thanks_holds", code=hazard.code), None
    else:
        names = t.plain("warn.list_separator").join(person.full_name for person in outcome.told)
        told = len(outcome.told)
        key = counted("check_back.thanks_again", told) if told else "check_back.thanks_again_nobody"
        text = t(key, code=hazard.code, names=names, count=told)
        markup = InlineKeyboardMarkup([
            [button(COMMENT, hazard.id, "button.comment", t)], [button(VIEW, hazard.id, "button.details", t)],
        ])
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(answered, pattern=ANSWERED))
