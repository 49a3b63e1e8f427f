"""Withdrawing a hazard (作废/撤销) that will never be fixed: reported in error, a duplicate, an institution closed.
County staff and city admins in scope press Withdraw on an unresolved hazard's details, pick why (a category), type
the reason, and confirm. Its reporter takes their own report back (撤回上报) the same way, from its details, until
someone works on it (bot.domain.lifecycle: `withdraws_as_reporter`), in words of their own (the `_own` keys) and
among the categories a reporter may pick (bot.domain.withdrawal: REPORTER_CATEGORIES). Every press is checked again
on the server (bot.services.hazards: `check_withdrawal`, `withdraw`; bot.domain.lifecycle decides who may, and when);
the category and reason wait in SQLite (`action_drafts`), and the conversation is persistent, so a restart between
the steps loses nothing.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
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
from bot.domain.withdrawal import MIN_REASON, WithdrawalCategory, categories_for
from bot.i18n import Translator
from bot.services.errors import Refusal
from handlers.common import answer, cancel_journey, cancel_keyboard, identify, pressed, refused_text, typed
from handlers.hazard_buttons import WITHDRAW, ensure_allowed, pattern, pressed_hazard, refuse
from storage.hazard_models import Hazard
from storage.models import User
from storage.repositories.action_drafts import Journey, drop_draft, read_draft, write_draft

CATEGORY = re.compile(r"^wd:cat:(\d+):([a-z_]+)$")
CONFIRM = re.compile(r"^wd:ok:(\d+)$")
CANCEL = "wd:cancel"
CHOOSING_CATEGORY = "withdraw.choosing_category"
AWAITING_REASON = "withdraw.awaiting_reason"
# Refusals staff can put right by typing the reason again; anything else ends the journey.
REASON_REFUSALS = frozenset(
    {"withdrawal_reason_too_short", "withdrawal_reason_too_long", "classified", "withdrawal_duplicate_unknown"}
)


class WithdrawDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    hazard_id: int
    category: WithdrawalCategory | None = None
    reason: str | None = None  # as it will be kept, awaiting the confirmation


def _cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.plain("button.cancel"), callback_data=CANCEL)]


async def _draft(context: BotContext, user: User) -> WithdrawDraft | None:
    return await read_draft(context.services.storage.db, user.telegram_id, Journey.WITHDRAW, WithdrawDraft)


async def _save(context: BotContext, user: User, draft: WithdrawDraft) -> None:
    await write_draft(context.services.storage.db, user.telegram_id, Journey.WITHDRAW, draft,
                      context.services.clock.now())


def _own(context: BotContext, user: User, hazard: Hazard) -> str:
    """The suffix of the words for a reporter taking back their own report ("_own"); staff's otherwise ("")."""
    return "_own" if context.services.hazards.withdraws_as_reporter(user, hazard) else ""


async def chose_withdraw(update: Update, context: BotContext) -> str | int:
    press = await pressed_hazard(update, context)
    if press is None:
        return ConversationHandler.END
    caller, user, query, hazard_id = press
    t, hazards = caller.t, context.services.hazards
    try:
        # Role, scope and state, on every press: a withdrawn hazard names who withdrew it and when.
        await ensure_allowed(hazards, user, hazard_id, HazardAction.WITHDRAW)
        hazard = (await hazards.view(user, hazard_id)).hazard
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return ConversationHandler.END
    await query.answer()
    await _save(context, user, WithdrawDraft(hazard_id=hazard_id))
    own = _own(context, user, hazard)
    rows = [
        [InlineKeyboardButton(t.plain(f"withdraw.category.{category.value}"),
                              callback_data=f"wd:cat:{hazard_id}:{category.value}")]
        for category in categories_for(bool(own))
    ]
    keyboard = InlineKeyboardMarkup([*rows, _cancel_row(t)])
    await answer(update, t(f"withdraw.ask_category{own}", code=hazard.code), reply_markup=keyboard)
    return CHOOSING_CATEGORY


async def chose_category(update: Update, context: BotContext) -> str | int:
    press = await pressed(update, context, CATEGORY)
    if press is None:
        return ConversationHandler.END
    t, user, query, hazard_id = press.t, press.user, press.query, int(press.match.group(1))
    try:
        category = WithdrawalCategory(press.match.group(2))
    except ValueError:
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return CHOOSING_CATEGORY
    try:
        await ensure_allowed(context.services.hazards, user, hazard_id, HazardAction.WITHDRAW)
        hazard = (await context.services.hazards.view(user, hazard_id)).hazard
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return ConversationHandler.END
    own = _own(context, user, hazard)
    draft = await _draft(context, user)
    if draft is None or draft.hazard_id != hazard_id or category not in categories_for(bool(own)):
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return CHOOSING_CATEGORY if draft is not None else ConversationHandler.END
    await query.answer()
    await _save(context, user, draft.model_copy(update={"category": category, "reason": None}))
    key = "withdraw.ask_reason_duplicate" if category is WithdrawalCategory.DUPLICATE else "withdraw.ask_reason"
    key += own
    label = t.plain(f"withdraw.category.{category.value}")
    await answer(update, t(key, category=label, least=MIN_REASON), reply_markup=cancel_keyboard(t, CANCEL))
    return AWAITING_REASON


async def category_outside_step(update: Update, context: BotContext) -> None:
    """A category pressed with no withdraw step open: a message left from an earlier step, or a forged press. Who may
    withdraw the hazard it names is checked first, as on every hazard button, so that a press from someone who may
    not is refused and audited; for staff who may, the button has merely expired."""
    press = await pressed(update, context, CATEGORY)
    if press is None:
        return
    try:
        await ensure_allowed(context.services.hazards, press.user, int(press.match.group(1)), HazardAction.WITHDRAW)
    except Refusal as refusal:
        await refuse(press.query, press.t, refusal)
        return
    await press.query.answer(press.t.plain("fallback.stale_button"), show_alert=True)


async def gave_reason(update: Update, context: BotContext) -> str | int:
    sent = await typed(update, context)
    if sent is None:
        return ConversationHandler.END
    t, user, message = sent.t, sent.user, sent.message
    draft = await _draft(context, user)
    if draft is None or draft.category is None:
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    hazards = context.services.hazards
    try:
        reason, withdrawal = await hazards.check_withdrawal(user, draft.hazard_id, draft.category, message.text)
        hazard = (await hazards.view(user, draft.hazard_id)).hazard
    except Refusal as refusal:
        if await refused_text(update, t, refusal, type_again=REASON_REFUSALS, cancel_data=CANCEL):
            return AWAITING_REASON
        await drop_draft(context.services.storage.db, user.telegram_id, Journey.WITHDRAW)
        return ConversationHandler.END
    await _save(context, user, draft.model_copy(update={"reason": reason}))
    own = _own(context, user, hazard)
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.plain(f"withdraw.confirm_button{own}"), callback_data=f"wd:ok:{hazard.id}")],
        _cancel_row(t),
    ])
    label = t.plain(f"withdraw.category.{withdrawal.category.value}")
    text = t(f"withdraw.confirm{own}", code=hazard.code, category=label, reason=reason)
    await answer(update, text, reply_markup=keyboard)
    return ConversationHandler.END  # the confirmation is a button of its own, answered from the draft


async def confirmed(update: Update, context: BotContext) -> None:
    press = await pressed(update, context, CONFIRM)
    if press is None:
        return
    services, t, user, query, hazard_id = context.services, press.t, press.user, press.query, int(press.match.group(1))
    try:
        # Who and when first: a forged press is refused and audited; a second one hears who withdrew it and when.
        await ensure_allowed(services.hazards, user, hazard_id, HazardAction.WITHDRAW)
        draft = await _draft(context, user)
        if draft is None or draft.hazard_id != hazard_id or draft.category is None or draft.reason is None:
            await query.answer(t.plain("fallback.stale_button"), show_alert=True)
            return
        async with services.storage.db.transaction():  # the withdrawal and the end of its draft, or neither
            outcome = await services.hazards.withdraw(user, hazard_id, draft.category, draft.reason)
            await drop_draft(services.storage.db, user.telegram_id, Journey.WITHDRAW)
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return
    await query.answer()
    hazard = outcome.hazard
    label = t.plain(f"withdraw.category.{draft.category.value}")
    own = _own(context, user, hazard)
    told = f"withdraw.done{own}_told" if outcome.notices else f"withdraw.done{own}"
    await answer(update, t(told, code=hazard.code, category=label, reason=hazard.withdrawal_reason or "—"),
                 edit=True)


async def needs_choice(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("withdraw.choose_first"))


async def needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("withdraw.need_text"), reply_markup=cancel_keyboard(caller.t, CANCEL))


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done",
        lambda c, telegram_id: drop_draft(c.services.storage.db, telegram_id, Journey.WITHDRAW),
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(ConversationHandler(
        name="withdraw",
        persistent=True,
        entry_points=[CallbackQueryHandler(chose_withdraw, pattern=pattern(WITHDRAW))],
        states={
            CHOOSING_CATEGORY: [
                CallbackQueryHandler(chose_category, pattern=CATEGORY),
                MessageHandler(private & ~filters.COMMAND, needs_choice),
            ],
            AWAITING_REASON: [
                MessageHandler(private & filters.TEXT & ~filters.COMMAND, gave_reason),
                MessageHandler(private & ~filters.COMMAND, needs_text),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancelled),
            CallbackQueryHandler(cancelled, pattern=f"^{CANCEL}$"),
        ],
        allow_reentry=True,
    ))
    # Outside the conversation: the confirmation (and its Cancel) answered from the draft kept in SQLite.
    application.add_handler(CallbackQueryHandler(cancelled, pattern=f"^{CANCEL}$"))
    application.add_handler(CallbackQueryHandler(confirmed, pattern=CONFIRM))
    application.add_handler(CallbackQueryHandler(category_outside_step, pattern=CATEGORY))
