"""County staff and city admins reopen a closed hazard whose problem came back (复查发现问题反弹): Reopen, on the
hazard's details, asks for the reason; the hazard goes back to rectifying with a fresh deadline by its severity, and
the person responsible and the reporter are told why (bot.domain.lifecycle decides who may, and until when)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
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
from handlers.common import answer, cancel_journey, catalog_label, identify
from handlers.hazard_buttons import REOPEN, ensure_allowed, pattern, pressed_hazard, refuse
from handlers.notify import when
from storage.repositories.action_drafts import ActionDraft, ActionDraftRepository, Journey

AWAITING_REASON = "reopen.awaiting_reason"
# Refusals staff can put right by typing the reason again; anything else ends the journey.
REASON_REFUSALS = frozenset({"reason_required", "text_too_long", "classified"})


def _drafts(context: BotContext) -> ActionDraftRepository:
    return context.services.storage.action_drafts


def _cancel_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("button.cancel"), callback_data="ro:cancel")]])


async def chose_reopen(update: Update, context: BotContext) -> str | int:
    pressed = await pressed_hazard(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, user, query, hazard_id = pressed
    hazards, t = context.services.hazards, caller.t
    try:
        # Checked on every press: the role, the scope, that it is still closed and within the window.
        await ensure_allowed(hazards, user, hazard_id, HazardAction.REOPEN)
        hazard = (await hazards.view(user, hazard_id)).hazard
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return ConversationHandler.END
    await query.answer()
    now = context.services.clock.now()
    await _drafts(context).save(user.telegram_id, Journey.REOPEN, ActionDraft(hazard_id=hazard_id), now)
    text = t("reopen.ask_reason", code=hazard.code, severity=catalog_label(hazard.severity, t))
    await answer(update, text, reply_markup=_cancel_keyboard(t))
    return AWAITING_REASON


async def gave_reason(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    t, drafts = caller.t, _drafts(context)
    draft = await drafts.get(caller.user.telegram_id, Journey.REOPEN)
    if draft is None:
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    try:
        async with context.services.storage.db.transaction():  # the reopening and the end of its draft, or neither
            outcome = await context.services.hazards.act(
                caller.user, draft.hazard_id, HazardAction.REOPEN, reason=message.text
            )
            await drafts.delete(caller.user.telegram_id, Journey.REOPEN)
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        if refusal.code in REASON_REFUSALS:
            return AWAITING_REASON
        await drafts.delete(caller.user.telegram_id, Journey.REOPEN)
        return ConversationHandler.END
    hazard = outcome.hazard
    reason = outcome.event.note if outcome.event is not None and outcome.event.note else ""
    deadline = when(hazard.deadline, context.services.settings.tz, t)
    await answer(update, t("reopen.done", code=hazard.code, deadline=deadline, reason=reason))
    return ConversationHandler.END


async def reason_needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("reopen.need_reason"), reply_markup=_cancel_keyboard(caller.t))


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done", lambda c, telegram_id: _drafts(c).delete(telegram_id, Journey.REOPEN)
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(
        ConversationHandler(
            name="reopen",
            persistent=True,
            entry_points=[CallbackQueryHandler(chose_reopen, pattern=pattern(REOPEN))],
            states={
                AWAITING_REASON: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, gave_reason),
                    MessageHandler(private & ~filters.COMMAND, reason_needs_text),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=r"^ro:cancel$"),
            ],
            allow_reentry=True,
        )
    )
