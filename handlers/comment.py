"""💬 Comment (留言) on a hazard: a remark on its record without changing anything ("the blocked exit is also a smoking
spot", "what is your plan for the budget?", "the contractor comes Monday"), read by those who follow the hazard.

The button (on the details, and Reply on a comment's notice) is checked on the server at once: whoever may view the
hazard may comment, until 90 days after its closing (bot.domain.lifecycle). The person's next text is the comment,
sent as typed, with no confirmation: it changes no state, deadline or verdict, and the step itself was opened on
purpose and says who will read it, so a second tap would only slow every remark; a slip is put right by another
comment. The comment and the end of its draft are one transaction; the draft lives in SQLite and the conversation is
persistent, so a restart between the press and the text loses neither.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.lifecycle import HazardAction
from bot.i18n import Translator, counted
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_COMMENT, MIN_COMMENT
from handlers.common import answer, cancel_journey, identify
from handlers.hazard_buttons import COMMENT, ensure_allowed, pattern, pressed_hazard, refuse
from storage.repositories.action_drafts import ActionDraft, ActionDraftRepository, Journey

AWAITING_COMMENT = "comment.awaiting_comment"
CANCEL = "cm:cancel"
# Refusals the person puts right by typing the comment again; anything else ends the step.
TYPE_AGAIN = frozenset({"text_required", "comment_too_short", "comment_too_long", "classified"})


def _drafts(context: BotContext) -> ActionDraftRepository:
    return context.services.storage.action_drafts


def _cancel_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("button.cancel"), callback_data=CANCEL)]])


async def pressed_comment(update: Update, context: BotContext) -> str | int:
    pressed = await pressed_hazard(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, user, query, hazard_id = pressed
    hazards, t = context.services.hazards, caller.t
    try:
        # Who may (can_view), and until when; a forged press is refused and audited here.
        await ensure_allowed(hazards, user, hazard_id, HazardAction.COMMENT)
        hazard = (await hazards.view(user, hazard_id)).hazard
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return ConversationHandler.END
    await query.answer()
    now = context.services.clock.now()
    await _drafts(context).save(user.telegram_id, Journey.COMMENT, ActionDraft(hazard_id=hazard_id), now)
    text = t("comment.ask", code=hazard.code, min=MIN_COMMENT, max=MAX_COMMENT)
    await answer(update, text, reply_markup=_cancel_keyboard(t))
    return AWAITING_COMMENT


async def typed_comment(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    services, t, drafts = context.services, caller.t, _drafts(context)
    user = caller.user
    draft = await drafts.get(user.telegram_id, Journey.COMMENT)
    if draft is None:
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    try:
        # Checked again outside the transaction below, so that the audit entry of a refusal is kept.
        await ensure_allowed(services.hazards, user, draft.hazard_id, HazardAction.COMMENT)
        async with services.storage.db.transaction():  # the comment and the end of its draft, or neither
            outcome = await services.hazards.comment(user, draft.hazard_id, message.text)
            await drafts.delete(user.telegram_id, Journey.COMMENT)
    except Refusal as refusal:
        again = refusal.code in TYPE_AGAIN
        await answer(
            update, t(refusal.message_key, **refusal.params), reply_markup=_cancel_keyboard(t) if again else None
        )
        if again:
            return AWAITING_COMMENT
        await drafts.delete(user.telegram_id, Journey.COMMENT)
        return ConversationHandler.END
    told = len({notice.recipient_id for notice in outcome.notices})
    key = "comment.sent_to_nobody" if told == 0 else counted("comment.sent", told)
    await answer(update, t(key, code=outcome.hazard.code, count=told))
    return ConversationHandler.END


async def needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("comment.need_text"), reply_markup=_cancel_keyboard(caller.t))


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done", lambda c, telegram_id: _drafts(c).delete(telegram_id, Journey.COMMENT)
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(
        ConversationHandler(
            name="comment",
            persistent=True,
            entry_points=[CallbackQueryHandler(pressed_comment, pattern=pattern(COMMENT))],
            states={
                AWAITING_COMMENT: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, typed_comment),
                    MessageHandler(private & ~filters.COMMAND, needs_text),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=f"^{CANCEL}$"),
            ],
            allow_reentry=True,
        )
    )
