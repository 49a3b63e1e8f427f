"""County staff and city admins verify a rectification: Accept closes the hazard; Reject, with a reason the head
will read, sends it back to rectifying. Whoever submitted the rectification may not accept it (four eyes), unless
nobody else may: then Accept asks them to confirm accepting it themselves, an exception recorded as such."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
)

from bot.context import BotContext
from bot.domain.lifecycle import HazardAction
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.hazards import HazardOutcome
from handlers.common import answer
from handlers.hazard_buttons import (
    ACCEPT,
    ACCEPT_OWN,
    KEEP_OWN,
    REJECT,
    VIEW,
    button,
    card_language,
    card_words,
    pattern,
    pressed_hazard,
    refuse,
    settle_card,
    shown_fix_of,
)
from handlers.notify import when
from handlers.reason_step import ReasonStep
from storage.hazard_models import Hazard
from storage.models import User
from storage.repositories.action_drafts import Journey

# ---- accepting ------------------------------------------------------------------------------------------


async def accepted(update: Update, context: BotContext) -> None:
    pressed = await pressed_hazard(update, context)
    if pressed is None:
        return
    caller, user, query, hazard_id = pressed
    t = caller.t
    hazards = context.services.hazards
    shown_fix = shown_fix_of(query)
    own = await hazards.sole_verification(user, hazard_id, shown_fix)
    if own is not None:
        await query.answer()
        keyboard = _confirm_own_keyboard(own, await hazards.current_fix(hazard_id), t)
        await answer(update, t("verify.confirm_own", code=own.code), reply_markup=keyboard)
        return
    try:
        outcome = await hazards.act(user, hazard_id, HazardAction.ACCEPT, shown_fix=shown_fix)
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return
    await _closed(update, context, outcome, t)


async def accepted_own(update: Update, context: BotContext) -> None:
    """The fixer confirmed accepting their own rectification; the service checks again that nobody else may."""
    pressed = await pressed_hazard(update, context)
    if pressed is None:
        return
    caller, user, query, hazard_id = pressed
    try:
        outcome = await context.services.hazards.accept_own(user, hazard_id, shown_fix_of(query))
    except Refusal as refusal:
        await refuse(query, caller.t, refusal)
        return
    await _closed(update, context, outcome, caller.t)


async def kept_own(update: Update, context: BotContext) -> None:
    """The fixer thought better of accepting their own rectification: nothing changes."""
    pressed = await pressed_hazard(update, context)
    if pressed is None:
        return
    caller, user, query, hazard_id = pressed
    try:
        dossier = await context.services.hazards.view(user, hazard_id)
    except Refusal as refusal:
        await refuse(query, caller.t, refusal)
        return
    await query.answer()
    await answer(update, caller.t("verify.own_kept", code=dossier.hazard.code), edit=True)


async def tell_if_only_verifier(update: Update, context: BotContext, user: User, hazard: Hazard,
                                t: Translator) -> None:
    """After a rectification is submitted: when nobody but its fixer may verify it, say so and how to go on."""
    hazards = context.services.hazards
    if await hazards.sole_verification(user, hazard.id) is None:
        return
    fix = await hazards.current_fix(hazard.id)
    keyboard = InlineKeyboardMarkup([[button(ACCEPT, hazard.id, "button.accept", t, fix)]])
    await answer(update, t("verify.only_you", code=hazard.code), reply_markup=keyboard)


def _confirm_own_keyboard(hazard: Hazard, fix: int | None, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [button(ACCEPT_OWN, hazard.id, "button.accept_own", t, fix)],
        [button(KEEP_OWN, hazard.id, "button.cancel", t)],
    ])


async def _closed(update: Update, context: BotContext, outcome: HazardOutcome, t: Translator) -> None:
    query = update.callback_query
    assert query is not None
    hazard = outcome.hazard
    await query.answer(t.plain("verify.accepted_short", code=hazard.code))
    closed = when(hazard.closed_at, context.services.settings.tz, t)
    if isinstance(query.message, Message):
        # The verdict is given: the notice says so, with only Details left, so nobody taps Accept or Reject again.
        # In the card's own language, which its lines below stay in (the presser may have switched since).
        words = card_words(context, card_language(query.message), t)
        details = InlineKeyboardMarkup([[button(VIEW, hazard.id, "button.details", words)]])
        name = (await context.services.storage.users.get(query.from_user.id) or query.from_user).full_name
        at = when(hazard.closed_at, context.services.settings.tz, words)
        title = words("card.accepted", code=hazard.code, name=name, at=at)
        await settle_card(query.message, title, details)
    if hazard.closed_on_time is False:
        await answer(update, t("verify.accepted_late", code=hazard.code, closed=closed))
    else:
        await answer(update, t("verify.accepted_on_time", code=hazard.code, closed=closed))


# ---- rejecting ------------------------------------------------------------------------------------------


def _rejected(outcome: HazardOutcome, reason: str, t: Translator, context: BotContext) -> str:
    return t("verify.rejected", code=outcome.hazard.code, reason=reason)


REJECTING = ReasonStep(
    name="verify", journey=Journey.REJECT, action=HazardAction.REJECT, button_pattern=pattern(REJECT),
    cancel_data="vr:cancel", ask_key="verify.ask_reason", need_text_key="verify.need_reason", done=_rejected,
    settled_key="card.rejected", put_aside_key="verify.put_aside",
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(accepted, pattern=pattern(ACCEPT)))
    application.add_handler(CallbackQueryHandler(accepted_own, pattern=pattern(ACCEPT_OWN)))
    application.add_handler(CallbackQueryHandler(kept_own, pattern=pattern(KEEP_OWN)))
    REJECTING.register(application)
