"""Staff name the person responsible for a hazard (指定责任人): Assign, on the hazard's details, lists who may take it
on, eight to a page (the institution's heads, never for a rights-protection hazard, then the cadres and county staff
whose region contains it); a press on a name assigns it and tells them; Cancel leaves it as it was. No conversation:
every press carries the hazard and the person, and the service checks both again
(bot.services.hazards.HazardService.assign)."""

from __future__ import annotations

import math
import re

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.hazard_core import FORGERY_CODES
from bot.services.hazards import AssigneeChoice
from handlers.common import Caller, answer, page_row, pressed
from handlers.hazard_buttons import ASSIGN, VIEW, button, pattern, pressed_hazard, refuse
from handlers.notify import when
from storage.hazard_models import Hazard
from storage.models import User

PAGE_SIZE = 8
PAGE = re.compile(r"^as:page:(\d+):(\d+)$")
PICK = re.compile(r"^as:pick:(\d+):(\d+)$")
CANCEL = re.compile(r"^as:cancel:(\d+)$")


def _label(person: User, t: Translator) -> str:
    return t.plain("assign.candidate", name=person.full_name, role=t.plain(f"role.{person.role.value}"))


def _keyboard(choice: AssigneeChoice, page: int, pages: int, t: Translator) -> InlineKeyboardMarkup:
    hazard_id = choice.hazard.id
    shown = choice.candidates[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [
        [InlineKeyboardButton(_label(person, t), callback_data=f"as:pick:{hazard_id}:{person.telegram_id}")]
        for person in shown
    ]
    rows += page_row(page, pages, t, lambda number: f"as:page:{hazard_id}:{number}")
    rows.append([InlineKeyboardButton(t.plain("button.cancel"), callback_data=f"as:cancel:{hazard_id}")])
    return InlineKeyboardMarkup(rows)


async def _show(
    update: Update, context: BotContext, caller: Caller, user: User, query: CallbackQuery, hazard_id: int,
    page: int, *, edit: bool,
) -> None:
    t = caller.t
    try:
        # Checked on every press: the role, the scope, and that the hazard is still unresolved.
        choice = await context.services.hazards.assignees(user, hazard_id)
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return
    await query.answer()
    hazard = choice.hazard
    if not choice.candidates:
        await answer(update, t("assign.nobody", code=hazard.code), edit=edit)
        return
    pages = math.ceil(len(choice.candidates) / PAGE_SIZE)
    page = min(max(page, 0), pages - 1)  # a stale page button after people left lands on the last page
    current = await _responsible_now(context, hazard) or "—"
    text = t("assign.choose", code=hazard.code, current=current, page=page + 1, pages=pages)
    await answer(update, text, reply_markup=_keyboard(choice, page, pages, t), edit=edit)


async def _responsible_now(context: BotContext, hazard: Hazard) -> str | None:
    if hazard.assignee_id is None:
        return None
    person = await context.services.storage.users.get(hazard.assignee_id)
    return person.full_name if person is not None else str(hazard.assignee_id)


async def pressed_assign(update: Update, context: BotContext) -> None:
    press = await pressed_hazard(update, context)
    if press is None:
        return
    caller, user, query, hazard_id = press
    await _show(update, context, caller, user, query, hazard_id, 0, edit=False)


async def turned_page(update: Update, context: BotContext) -> None:
    press = await pressed(update, context, PAGE)
    if press is None:
        return
    hazard_id, page = int(press.match.group(1)), int(press.match.group(2))
    await _show(update, context, press.caller, press.user, press.query, hazard_id, page, edit=True)


async def chose_assignee(update: Update, context: BotContext) -> None:
    press = await pressed(update, context, PICK)
    if press is None:
        return
    t, services, user, query, match = press.t, context.services, press.user, press.query, press.match
    try:
        outcome = await services.hazards.assign(user, int(match.group(1)), int(match.group(2)))
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return
    await query.answer()
    hazard = outcome.hazard
    person = await services.storage.users.get(int(match.group(2)))
    name = person.full_name if person is not None else match.group(2)
    text = t("assign.done", name=name, code=hazard.code, deadline=when(hazard.deadline, services.settings.tz, t))
    await answer(update, text, edit=True)


async def cancelled_choice(update: Update, context: BotContext) -> None:
    """Cancel under the list: nobody new is named, and the message says who still has the hazard. Checked as the
    list is (a forged press is refused and audited); a hazard that moved on meanwhile is cancelled all the same."""
    press = await pressed(update, context, CANCEL)
    if press is None:
        return
    t, user, query, hazard_id = press.t, press.user, press.query, int(press.match.group(1))
    try:
        await context.services.hazards.assignees(user, hazard_id)
    except Refusal as refusal:
        if refusal.code in FORGERY_CODES or refusal.code == "not_found":
            await refuse(query, t, refusal)
            return
    hazard = await context.services.storage.hazards.get(hazard_id)
    if hazard is None:
        return
    await query.answer()
    current = await _responsible_now(context, hazard)
    if current is None:
        text = t("assign.cancelled_nobody", code=hazard.code)
    else:
        text = t("assign.cancelled", code=hazard.code, current=current)
    details = InlineKeyboardMarkup([[button(VIEW, hazard.id, "button.details", t)]])
    await answer(update, text, reply_markup=details, edit=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(pressed_assign, pattern=pattern(ASSIGN)))
    application.add_handler(CallbackQueryHandler(turned_page, pattern=PAGE))
    application.add_handler(CallbackQueryHandler(chose_assignee, pattern=PICK))
    application.add_handler(CallbackQueryHandler(cancelled_choice, pattern=CANCEL))
