"""County staff and city admins verify a rectification: Accept closes the hazard; Reject, with a reason the head
will read, sends it back to rectifying."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.domain.lifecycle import HazardAction
from bot.i18n import Translator
from bot.services.errors import Refusal
from handlers.common import answer, cancel_journey, identify
from handlers.hazard_buttons import (
    ACCEPT,
    REJECT,
    VIEW,
    button,
    ensure_allowed,
    pattern,
    pressed_hazard,
    refuse,
    replace_buttons,
)
from handlers.notify import when
from storage.repositories.action_drafts import ActionDraft, ActionDraftRepository, Journey

AWAITING_REASON = "verify.awaiting_reason"
# Refusals staff can put right by typing the reason again; anything else ends the journey.
REASON_REFUSALS = frozenset({"reason_required", "text_too_long", "classified"})


def _drafts(context: BotContext) -> ActionDraftRepository:
    return context.services.storage.action_drafts


def _cancel_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("button.cancel"), callback_data="vr:cancel")]])


# ---- accepting ------------------------------------------------------------------------------------------


async def accepted(update: Update, context: BotContext) -> None:
    pressed = await pressed_hazard(update, context)
    if pressed is None:
        return
    caller, user, query, hazard_id = pressed
    t = caller.t
    try:
        outcome = await context.services.hazards.act(user, hazard_id, HazardAction.ACCEPT)
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return
    hazard = outcome.hazard
    await query.answer(t.plain("verify.accepted_short", code=hazard.code))
    if isinstance(query.message, Message):
        # The verdict is given: leave only Details on the notice so nobody taps Accept or Reject on it again.
        details = InlineKeyboardMarkup([[button(VIEW, hazard.id, "button.details", t)]])
        await replace_buttons(query.message, details)
    closed = when(hazard.closed_at, context.services.settings.tz, t)
    if hazard.closed_on_time is False:
        await answer(update, t("verify.accepted_late", code=hazard.code, closed=closed))
    else:
        await answer(update, t("verify.accepted_on_time", code=hazard.code, closed=closed))


# ---- rejecting ------------------------------------------------------------------------------------------


async def chose_reject(update: Update, context: BotContext) -> str | int:
    pressed = await pressed_hazard(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, user, query, hazard_id = pressed
    hazards, t = context.services.hazards, caller.t
    try:
        await ensure_allowed(hazards, user, hazard_id, HazardAction.REJECT)
        hazard = (await hazards.view(user, hazard_id)).hazard
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return ConversationHandler.END
    await query.answer()
    now = context.services.clock.now()
    await _drafts(context).save(user.telegram_id, Journey.REJECT, ActionDraft(hazard_id=hazard_id), now)
    await answer(update, t("verify.ask_reason", code=hazard.code), reply_markup=_cancel_keyboard(t))
    return AWAITING_REASON


async def gave_reason(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    t, drafts = caller.t, _drafts(context)
    draft = await drafts.get(caller.user.telegram_id, Journey.REJECT)
    if draft is None:
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    try:
        async with context.services.storage.db.transaction():  # the rejection and the end of its draft, or neither
            outcome = await context.services.hazards.act(
                caller.user, draft.hazard_id, HazardAction.REJECT, reason=message.text
            )
            await drafts.delete(caller.user.telegram_id, Journey.REJECT)
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        if refusal.code in REASON_REFUSALS:
            return AWAITING_REASON
        await drafts.delete(caller.user.telegram_id, Journey.REJECT)
        return ConversationHandler.END
    reason = outcome.event.note if outcome.event is not None and outcome.event.note else ""
    await answer(update, t("verify.rejected", code=outcome.hazard.code, reason=reason))
    return ConversationHandler.END


async def reason_needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("verify.need_reason"), reply_markup=_cancel_keyboard(caller.t))


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done", lambda c, telegram_id: _drafts(c).delete(telegram_id, Journey.REJECT)
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CallbackQueryHandler(accepted, pattern=pattern(ACCEPT)))
    application.add_handler(
        ConversationHandler(
            name="verify",
            persistent=True,
            entry_points=[CallbackQueryHandler(chose_reject, pattern=pattern(REJECT))],
            states={
                AWAITING_REASON: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, gave_reason),
                    MessageHandler(private & ~filters.COMMAND, reason_needs_text),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=r"^vr:cancel$"),
            ],
            allow_reentry=True,
        )
    )
