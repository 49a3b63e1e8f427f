"""Closing an institution (停用机构) and reopening it (恢复机构), from its /institution card (county staff for their
county, city admins). Close asks for the reason, then a confirmation stating what follows (its heads whose access
ends, its unresolved hazards, which stay open); Reopen asks for a confirmation. Every press is checked again on the
server (bot.services.institution_closure); the reason waits in SQLite (`action_drafts`), so a restart between the
reason and the confirmation loses neither.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.i18n import Html, Translator, counted
from bot.services.errors import Refusal
from bot.services.institution_closure import MIN_REASON, Closure, ClosurePreview, clean_reason
from handlers.common import (
    answer,
    cancel_journey,
    cancel_keyboard,
    identify,
    place_name,
    popup_text,
    pressed,
    refused_text,
    typed,
)
from handlers.journeys import end_journeys
from storage.repositories.action_drafts import Journey, drop_draft, read_draft, write_draft

CLOSE = re.compile(r"^ic:close:(\d+)$")
CLOSE_OK = re.compile(r"^ic:closeok:(\d+)$")
CLOSE_CANCEL = "ic:closeno"
REOPEN = re.compile(r"^ic:reopen:(\d+)$")
REOPEN_OK = re.compile(r"^ic:reopenok:(\d+)$")
AWAITING_REASON = "institution_close.awaiting_reason"
HEADS_NAMED = 5
REASON_REFUSALS = frozenset({"closure_reason_too_short", "closure_reason_too_long", "classified"})


class ClosureDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    institution_id: int
    reason: str | None = None  # given, awaiting the confirmation


def _id(pattern: re.Pattern[str], update: Update) -> int:
    query = update.callback_query
    match = pattern.match(query.data or "") if query is not None else None
    return int(match.group(1)) if match else 0


async def _refused(query: CallbackQuery, t: Translator, refusal: Refusal) -> None:
    """A refused press: a pop-up the person must dismiss. A typed reason's refusal goes through `refused_text`,
    which offers Cancel with it."""
    await query.answer(popup_text(t, refusal), show_alert=True)


# ---- closing ---------------------------------------------------------------------------------------------------------


async def chose_close(update: Update, context: BotContext) -> str | int:
    press = await pressed(update, context)
    if press is None:
        return ConversationHandler.END
    t, user, query = press.t, press.user, press.query
    try:
        preview = await context.services.institution_closure.preview(user, _id(CLOSE, update))
    except Refusal as refusal:
        await _refused(query, t, refusal)
        return ConversationHandler.END
    await query.answer()
    draft = ClosureDraft(institution_id=preview.institution.id)
    await write_draft(context.services.storage.db, user.telegram_id, Journey.INSTITUTION_CLOSE, draft,
                      context.services.clock.now())
    text = t("institution.close_ask_reason", name=place_name(preview.institution, t), least=MIN_REASON)
    await answer(update, text, reply_markup=cancel_keyboard(t, CLOSE_CANCEL))
    return AWAITING_REASON


async def gave_reason(update: Update, context: BotContext) -> str | int:
    sent = await typed(update, context)
    if sent is None:
        return ConversationHandler.END
    services, t, user, message, me = context.services, sent.t, sent.user, sent.message, sent.user.telegram_id
    draft = await read_draft(services.storage.db, me, Journey.INSTITUTION_CLOSE, ClosureDraft)
    if draft is None:
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    try:
        reason = clean_reason(message.text)
        preview = await services.institution_closure.preview(user, draft.institution_id)
    except Refusal as refusal:
        if await refused_text(update, t, refusal, type_again=REASON_REFUSALS, cancel_data=CLOSE_CANCEL):
            return AWAITING_REASON
        await drop_draft(services.storage.db, me, Journey.INSTITUTION_CLOSE)
        return ConversationHandler.END
    await write_draft(services.storage.db, me, Journey.INSTITUTION_CLOSE,
                      draft.model_copy(update={"reason": reason}), services.clock.now())
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.plain("institution.close_confirm_button"),
                              callback_data=f"ic:closeok:{preview.institution.id}")],
        [InlineKeyboardButton(t.plain("button.cancel"), callback_data=CLOSE_CANCEL)],
    ])
    await answer(update, _confirmation(preview, reason, t), reply_markup=keyboard)
    return ConversationHandler.END  # the confirmation is a button of its own, answered from the draft


def _confirmation(preview: ClosurePreview, reason: str, t: Translator) -> str:
    lines = [
        t("institution.close_confirm", name=place_name(preview.institution, t), reason=reason),
        t("institution.close_duties"),
        _heads_line(len(preview.heads), [head.full_name for head in preview.heads], t, future=True),
        _hazards_line(preview.unresolved, t),
        t("institution.close_reopen_hint"),
    ]
    return Html("\n".join(lines))


def _heads_line(count: int, names: list[str], t: Translator, *, future: bool) -> str:
    if not count:
        return t("institution.close_no_heads")
    shown = t.plain("institution.separator").join(names[:HEADS_NAMED])
    key = "institution.close_heads" if future else "institution.closed_heads"
    return t(counted(key, count), count=count, names=shown)


def _hazards_line(count: int, t: Translator) -> str:
    if not count:
        return t("institution.close_no_hazards")
    return t(counted("institution.close_hazards", count), count=count)


async def confirmed_close(update: Update, context: BotContext) -> None:
    press = await pressed(update, context)
    if press is None:
        return
    services, t, user, query, me = context.services, press.t, press.user, press.query, press.user.telegram_id
    institution_id = _id(CLOSE_OK, update)
    closure_service = services.institution_closure
    try:
        # Role and scope first.
        institution = await closure_service.institution(user, institution_id, "institution.close")
        draft = await read_draft(services.storage.db, me, Journey.INSTITUTION_CLOSE, ClosureDraft)
        if draft is None or draft.institution_id != institution_id or draft.reason is None:
            if not institution.active:  # pressed again after the closing (its answer lost, or a colleague's)
                raise Refusal("institution_closed_already")
            await query.answer(t.plain("fallback.stale_button"), show_alert=True)
            return
        async with services.storage.db.transaction():  # the closing and the end of its draft, or neither
            closure = await closure_service.close(user, institution_id, draft.reason)
            await drop_draft(services.storage.db, me, Journey.INSTITUTION_CLOSE)
    except Refusal as refusal:
        await _refused(query, t, refusal)
        return
    await query.answer()
    for departure in closure.departures:  # their drafts are gone: the journey they were in ends too
        end_journeys(context.application, departure.person.telegram_id, departure.person.telegram_id)
    await answer(update, _closed_text(closure, t), edit=True)


def _closed_text(closure: Closure, t: Translator) -> str:
    names = [departure.person.full_name for departure in closure.departures]
    lines = [
        t("institution.closed_done", name=place_name(closure.institution, t)),
        _heads_line(len(names), names, t, future=False),
        _hazards_line(closure.unresolved, t),
    ]
    return Html("\n".join(lines))


async def needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        markup = cancel_keyboard(caller.t, CLOSE_CANCEL)
        await answer(update, caller.t("institution.close_need_text"), reply_markup=markup)


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done",
        lambda c, telegram_id: drop_draft(c.services.storage.db, telegram_id, Journey.INSTITUTION_CLOSE),
    )


# ---- reopening ------------------------------------------------------------------------------------------------------


async def chose_reopen(update: Update, context: BotContext) -> None:
    press = await pressed(update, context)
    if press is None:
        return
    t, user, query = press.t, press.user, press.query
    try:
        institution = await context.services.institution_closure.institution(
            user, _id(REOPEN, update), "institution.reopen")
    except Refusal as refusal:
        await _refused(query, t, refusal)
        return
    await query.answer()
    name = place_name(institution, t)
    if institution.active:
        await answer(update, t("institution.still_active", name=name))
        return
    today = context.services.clock.now().astimezone(context.services.settings.tz).date()
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.plain("institution.reopen_confirm_button"),
                              callback_data=f"ic:reopenok:{institution.id}")],
        [InlineKeyboardButton(t.plain("button.cancel"), callback_data=f"ic:show:{institution.id}")],
    ])
    await answer(update, t("institution.reopen_confirm", name=name, day=today.isoformat()), reply_markup=keyboard)


async def confirmed_reopen(update: Update, context: BotContext) -> None:
    press = await pressed(update, context)
    if press is None:
        return
    t, user, query, closure = press.t, press.user, press.query, context.services.institution_closure
    institution_id = _id(REOPEN_OK, update)
    try:
        institution = await closure.reopen(user, institution_id)
    except Refusal as refusal:
        if refusal.code != "institution_not_closed":
            await _refused(query, t, refusal)
            return
        # A second tap, or a colleague reopened it a moment ago: said plainly, nothing changes.
        await query.answer()
        current = await context.services.storage.institutions.get(institution_id)
        name = place_name(current, t) if current is not None else ""
        await answer(update, t("institution.still_active", name=name), edit=True)
        return
    await query.answer()
    assert institution.tracked_from is not None
    text = t("institution.reopened", name=place_name(institution, t), day=institution.tracked_from.isoformat())
    await answer(update, text, edit=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(ConversationHandler(
        name="institution_close",
        persistent=True,
        entry_points=[CallbackQueryHandler(chose_close, pattern=CLOSE)],
        states={
            AWAITING_REASON: [
                MessageHandler(private & filters.TEXT & ~filters.COMMAND, gave_reason),
                MessageHandler(private & ~filters.COMMAND, needs_text),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancelled),
            CallbackQueryHandler(cancelled, pattern=f"^{CLOSE_CANCEL}$"),
        ],
        allow_reentry=True,
    ))
    # Outside the conversation: the confirmation (and its Cancel) answered from the draft kept in SQLite.
    application.add_handler(CallbackQueryHandler(cancelled, pattern=f"^{CLOSE_CANCEL}$"))
    application.add_handler(CallbackQueryHandler(confirmed_close, pattern=CLOSE_OK))
    application.add_handler(CallbackQueryHandler(chose_reopen, pattern=REOPEN))
    application.add_handler(CallbackQueryHandler(confirmed_reopen, pattern=REOPEN_OK))
