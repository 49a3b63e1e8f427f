"""Asking for more time (申请延期): the person correcting a hazard proposes a later deadline (+3, +7 or +14 days, or
a typed date as /deadline reads one) and a reason, then confirms; the county staff are asked, with Approve and Refuse.
Refuse asks staff for the reason, which the requester reads. Every press is checked again on the server
(bot.services.hazard_extensions); the steps live in SQLite drafts and persistent conversations, so a restart loses
nothing."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.days import NoSuchDay
from bot.domain.deadlines import extended
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.hazard_core import checked_text
from handlers.common import (
    Caller,
    answer,
    cancel_journey,
    cancel_keyboard,
    identify,
    no_such_day,
    popup_text,
    pressed,
    refused_text,
    typed,
)
from handlers.conversations import ASKED_AGAIN, ENDED_BY_A_COMMAND
from handlers.hazard import MIN_DEADLINE_REASON, deadline_shown, reason_too_short, typed_deadline_of
from handlers.hazard_buttons import (
    APPROVE_EXTENSION,
    EXTEND,
    REASON_REFUSALS,
    REFUSE_EXTENSION,
    card_language,
    card_of,
    card_words,
    details_keyboard,
    pattern,
    pressed_hazard,
    refuse,
    replace_buttons,
    settle_card,
    settle_stored_card,
)
from handlers.notify import when
from handlers.reason_step import ended_by_a_command, waited_on
from storage.repositories.action_drafts import ActionDraft, ActionDraftRepository, Journey

CHOOSING_DATE = "extension.choosing_date"
AWAITING_REASON = "extension.awaiting_reason"
CONFIRMING = "extension.confirming"
AWAITING_REFUSAL_REASON = "extension_refuse.awaiting_reason"
# Each journey's Cancel, under its questions and under every answer that asks again.
ASK_CANCEL, REFUSE_CANCEL = "xt:cancel", "xn:cancel"
# Days offered as buttons, each with its own label so that every language can word its plural.
CHOICES = ((3, "button.extend_3_days"), (7, "button.extend_7_days"), (14, "button.extend_14_days"))
# A decision pressed once the request was settled or overtaken: its Approve and Refuse have nothing left to do.
SETTLED_CODES = frozenset({
    "extension_already_approved", "extension_already_refused", "extension_ended_deadline", "extension_ended_submitted",
    "extension_ended_withdrawn", "extension_ended_access",
})


def _drafts(context: BotContext) -> ActionDraftRepository:
    return context.services.storage.action_drafts


def _cancel(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.plain("button.cancel"), callback_data=ASK_CANCEL)


def _choices_keyboard(t: Translator) -> InlineKeyboardMarkup:
    days = [InlineKeyboardButton(t.plain(key), callback_data=f"xt:days:{n}") for n, key in CHOICES]
    return InlineKeyboardMarkup([days, [_cancel(t)]])


def _confirm_keyboard(t: Translator) -> InlineKeyboardMarkup:
    send = InlineKeyboardButton(t.plain("button.send_extension"), callback_data="xt:send")
    return InlineKeyboardMarkup([[send], [_cancel(t)]])


# ---- the person correcting the hazard asks ----------------------------------------------------------------------


async def pressed_extend(update: Update, context: BotContext) -> str | int:
    press = await pressed_hazard(update, context)
    if press is None:
        return ConversationHandler.END
    caller, user, query, hazard_id = press
    t, services = caller.t, context.services
    try:
        hazard = await services.hazards.may_ask_extension(user, hazard_id)
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return ConversationHandler.END
    await query.answer()
    await _drafts(context).save(user.telegram_id, Journey.EXTENSION, ActionDraft(hazard_id=hazard_id),
                                services.clock.now())
    text = t("extension.ask_date", code=hazard.code, deadline=when(hazard.deadline, services.settings.tz, t))
    await answer(update, text, reply_markup=_choices_keyboard(t))
    return CHOOSING_DATE


async def _draft(update: Update, context: BotContext) -> tuple[Caller, ActionDraft] | None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    draft = await _drafts(context).get(caller.user.telegram_id, Journey.EXTENSION)
    if draft is None:
        await answer(update, caller.t("fallback.stale_button"))
        return None
    return caller, draft


async def chose_days(update: Update, context: BotContext) -> str | int:
    query = update.callback_query
    found = await _draft(update, context)
    if query is None or found is None:
        return ConversationHandler.END
    await query.answer()
    caller, draft = found
    assert caller.user is not None
    try:
        hazard = (await context.services.hazards.view(caller.user, draft.hazard_id)).hazard
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params))
        return ConversationHandler.END
    days = int((query.data or "xt:days:3").rsplit(":", 1)[1])
    return await _chose(update, context, caller, draft, extended(hazard.deadline, context.services.clock.now(), days))


async def typed_date(update: Update, context: BotContext, *, corrected: bool = False) -> str | int:
    """A deadline typed at the date step, or (`corrected`) at the reason step, where it replaces the date chosen."""
    message = update.effective_message
    found = await _draft(update, context)
    if message is None or message.text is None or found is None:
        return ConversationHandler.END
    caller, draft = found
    assert caller.user is not None
    t, services = caller.t, context.services
    asked = typed_deadline_of(message.text, context)
    if asked is None or isinstance(asked, NoSuchDay):
        said = t("deadline.bad_date") if asked is None else no_such_day(asked, t)
        await answer(update, said, reply_markup=_choices_keyboard(t))
        return CHOOSING_DATE
    try:
        hazard = (await services.hazards.view(caller.user, draft.hazard_id)).hazard
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        return ConversationHandler.END
    if asked <= services.clock.now():
        await answer(update, t("refusal.deadline_in_past"), reply_markup=_choices_keyboard(t))
        return CHOOSING_DATE
    if hazard.deadline is not None and asked <= hazard.deadline:
        deadline = when(hazard.deadline, services.settings.tz, t)
        await answer(update, t("extension.not_later", deadline=deadline), reply_markup=_choices_keyboard(t))
        return CHOOSING_DATE
    return await _chose(update, context, caller, draft, asked, typed_text=message.text, corrected=corrected)


async def _chose(
    update: Update, context: BotContext, caller: Caller, draft: ActionDraft, asked: datetime, *,
    typed_text: str | None = None, corrected: bool = False,
) -> str:
    assert caller.user is not None
    services = context.services
    chosen = draft.model_copy(update={"deadline": asked})
    await _drafts(context).save(caller.user.telegram_id, Journey.EXTENSION, chosen, services.clock.now())
    key = "extension.ask_reason_corrected" if corrected else "extension.ask_reason"
    text = caller.t(key, deadline=deadline_shown(asked, typed_text, context, caller.t))
    await answer(update, text, reply_markup=cancel_keyboard(caller.t, ASK_CANCEL))
    return AWAITING_REASON


async def gave_reason(update: Update, context: BotContext) -> str | int:
    message = update.effective_message
    found = await _draft(update, context)
    if message is None or found is None:
        return ConversationHandler.END
    caller, draft = found
    assert caller.user is not None
    t, services = caller.t, context.services
    if message.text is not None and typed_deadline_of(message.text, context) is not None:
        return await typed_date(update, context, corrected=True)  # a date corrects the date, never is the reason
    try:
        reason = checked_text(message.text, field_name="text")
    except Refusal as refusal:  # too long, or classified: each put right by typing it again
        await answer(update, t(refusal.message_key, **refusal.params), reply_markup=cancel_keyboard(t, ASK_CANCEL))
        return AWAITING_REASON
    if reason is None:
        await answer(update, t("extension.need_reason"), reply_markup=cancel_keyboard(t, ASK_CANCEL))
        return AWAITING_REASON
    if reason_too_short(reason):
        await answer(update, t("refusal.deadline_reason_too_short", min=MIN_DEADLINE_REASON),
                     reply_markup=cancel_keyboard(t, ASK_CANCEL))
        return AWAITING_REASON
    try:
        hazard = (await services.hazards.view(caller.user, draft.hazard_id)).hazard
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        return ConversationHandler.END
    await _drafts(context).save(
        caller.user.telegram_id, Journey.EXTENSION, draft.model_copy(update={"reason": reason}), services.clock.now()
    )
    tz = services.settings.tz
    text = t("extension.confirm", code=hazard.code, deadline=when(hazard.deadline, tz, t),
             asked=when(draft.deadline, tz, t), reason=reason)
    await answer(update, text, reply_markup=_confirm_keyboard(t))
    return CONFIRMING


async def confirmed(update: Update, context: BotContext) -> str | int:
    query = update.callback_query
    found = await _draft(update, context)
    if query is None or found is None:
        return ConversationHandler.END
    caller, draft = found
    assert caller.user is not None
    t, services = caller.t, context.services
    if draft.deadline is None or draft.reason is None:
        await query.answer()
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    try:
        async with services.storage.db.transaction():  # the request and the end of its draft, or neither
            outcome = await services.hazards.ask_extension(caller.user, draft.hazard_id, draft.deadline, draft.reason)
            await _drafts(context).delete(caller.user.telegram_id, Journey.EXTENSION)
    except Refusal as refusal:
        await query.answer()
        await answer(update, t(refusal.message_key, **refusal.params))
        await _drafts(context).delete(caller.user.telegram_id, Journey.EXTENSION)
        return ConversationHandler.END
    await query.answer()
    if isinstance(query.message, Message):
        await replace_buttons(query.message, None)
    asked = when(outcome.request.requested_deadline, services.settings.tz, t)
    key = "extension.sent" if outcome.notices else "extension.sent_nobody"
    await answer(update, t(key, code=outcome.hazard.code, asked=asked))
    return ConversationHandler.END


async def needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("extension.need_text"), reply_markup=cancel_keyboard(caller.t, ASK_CANCEL))


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done", lambda c, telegram_id: _drafts(c).delete(telegram_id, Journey.EXTENSION)
    )


# ---- staff decide ---------------------------------------------------------------------------------------------------


async def _hazard_of(context: BotContext, request_id: int) -> int | None:
    request = await context.services.storage.extensions.get(request_id)
    return None if request is None else request.hazard_id


async def pressed_approve(update: Update, context: BotContext) -> None:
    press = await pressed(update, context, APPROVE_EXTENSION)
    if press is None:
        return
    t, services, query, request_id = press.t, context.services, press.query, int(press.match.group(1))
    try:
        outcome = await services.hazards.approve_extension(press.user, request_id)
    except Refusal as refusal:
        await _refused(update, t, refusal, await _hazard_of(context, request_id))
        return
    await query.answer()
    hazard = outcome.hazard
    tz = services.settings.tz
    if isinstance(query.message, Message):
        # In the card's own language, which its lines below stay in (the presser may have switched since).
        words = card_words(context, card_language(query.message), t)
        title = words("card.extension_approved", code=hazard.code, deadline=when(hazard.deadline, tz, words),
                      name=press.user.full_name, at=when(services.clock.now(), tz, words))
        await settle_card(query.message, title, details_keyboard(hazard.id, words), closing=False)
    await answer(update, t("extension.approved", code=hazard.code, deadline=when(hazard.deadline, tz, t)))


async def _refused(update: Update, t: Translator, refusal: Refusal, hazard_id: int | None = None) -> None:
    """A pop-up; once the request was settled by someone, or overtaken, its buttons give way to Details."""
    query = update.callback_query
    assert query is not None
    await query.answer(popup_text(t, refusal), show_alert=True)
    if refusal.code in SETTLED_CODES and hazard_id is not None and isinstance(query.message, Message):
        await replace_buttons(query.message, details_keyboard(hazard_id, t))


async def pressed_refuse(update: Update, context: BotContext) -> str | int:
    press = await pressed(update, context, REFUSE_EXTENSION)
    if press is None:
        return ConversationHandler.END
    t, services, query, request_id = press.t, context.services, press.query, int(press.match.group(1))
    try:
        pending = await services.hazards.may_decide_extension(press.user, request_id)
    except Refusal as refusal:
        await _refused(update, t, refusal, await _hazard_of(context, request_id))
        return ConversationHandler.END
    await query.answer()
    draft = ActionDraft(hazard_id=pending.hazard.id, request_id=request_id, card=card_of(query))
    await _drafts(context).save(press.user.telegram_id, Journey.EXTENSION_REFUSE, draft, services.clock.now())
    text = t("extension.ask_refusal_reason", code=pending.hazard.code)
    await answer(update, text, reply_markup=cancel_keyboard(t, REFUSE_CANCEL))
    return AWAITING_REFUSAL_REASON


async def gave_refusal_reason(update: Update, context: BotContext) -> str | int:
    sent = await typed(update, context)
    if sent is None:
        return ConversationHandler.END
    t, services, drafts, user = sent.t, context.services, _drafts(context), sent.user
    draft = await drafts.get(user.telegram_id, Journey.EXTENSION_REFUSE)
    if draft is None or draft.request_id is None:
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    try:
        async with services.storage.db.transaction():  # the refusal and the end of its draft, or neither
            outcome = await services.hazards.refuse_extension(user, draft.request_id, sent.message.text)
            await drafts.delete(user.telegram_id, Journey.EXTENSION_REFUSE)
    except Refusal as refusal:
        if await refused_text(update, t, refusal, type_again=REASON_REFUSALS, cancel_data=REFUSE_CANCEL):
            return AWAITING_REFUSAL_REASON
        await drafts.delete(user.telegram_id, Journey.EXTENSION_REFUSE)
        return ConversationHandler.END
    reason = outcome.request.decision_note or "—"
    # The request's card, pressed a message before, says it was refused (as an approved one says so).
    # In the card's own language, which its lines below stay in (the presser may have switched since).
    words = card_words(context, draft.card.language if draft.card is not None else None, t)
    title = words("card.extension_refused", code=outcome.hazard.code, name=user.full_name, reason=reason,
                  at=when(services.clock.now(), services.settings.tz, words))
    # The request's card ends with its reason, not a request to act: all of it is kept.
    await settle_stored_card(context.bot, draft.card, title, details_keyboard(outcome.hazard.id, words),
                             closing=False)
    await answer(update, t("extension.refused", code=outcome.hazard.code, reason=reason))
    return ConversationHandler.END


async def refusal_needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        markup = cancel_keyboard(caller.t, REFUSE_CANCEL)
        await answer(update, caller.t("extension.need_refusal_reason"), reply_markup=markup)


async def refusal_cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done",
        lambda c, telegram_id: _drafts(c).delete(telegram_id, Journey.EXTENSION_REFUSE),
    )


async def refusal_asked_again(update: Update, context: BotContext, caller: Caller, step: object) -> bool:
    """The refusal's question again, with its Cancel (after /lang, in the new language); False when its draft is
    gone, or the person may no longer see the hazard."""
    hazard = await waited_on(context, caller, Journey.EXTENSION_REFUSE)
    if hazard is None:
        return False
    text = caller.t("extension.ask_refusal_reason", code=hazard.code)
    await answer(update, text, reply_markup=cancel_keyboard(caller.t, REFUSE_CANCEL))
    return True


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    # Kept waiting, the next sentence typed about something else refused the request and told the head.
    ENDED_BY_A_COMMAND["extension_refuse"] = ended_by_a_command(Journey.EXTENSION_REFUSE, "extension.refuse_put_aside")
    ASKED_AGAIN["extension_refuse"] = refusal_asked_again
    application.add_handler(
        ConversationHandler(
            name="extension",
            persistent=True,
            entry_points=[CallbackQueryHandler(pressed_extend, pattern=pattern(EXTEND))],
            states={
                CHOOSING_DATE: [
                    CallbackQueryHandler(chose_days, pattern=r"^xt:days:\d+$"),
                    MessageHandler(text, typed_date),
                ],
                AWAITING_REASON: [MessageHandler(text, gave_reason)],
                CONFIRMING: [CallbackQueryHandler(confirmed, pattern=r"^xt:send$")],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=f"^{ASK_CANCEL}$"),
                MessageHandler(private & ~filters.COMMAND, needs_text),
            ],
            allow_reentry=True,
        )
    )
    application.add_handler(
        ConversationHandler(
            name="extension_refuse",
            persistent=True,
            entry_points=[CallbackQueryHandler(pressed_refuse, pattern=REFUSE_EXTENSION)],
            states={
                AWAITING_REFUSAL_REASON: [
                    MessageHandler(text, gave_refusal_reason),
                    MessageHandler(private & ~filters.COMMAND, refusal_needs_text),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", refusal_cancelled),
                CallbackQueryHandler(refusal_cancelled, pattern=f"^{REFUSE_CANCEL}$"),
            ],
            allow_reentry=True,
        )
    )
    application.add_handler(CallbackQueryHandler(pressed_approve, pattern=APPROVE_EXTENSION))
