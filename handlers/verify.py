"""County staff and city admins verify a rectification: Accept closes the hazard; Reject, with a reason the head
will read, sends it back to rectifying."""

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
    REJECT,
    VIEW,
    button,
    pattern,
    pressed_hazard,
    refuse,
    replace_buttons,
)
from handlers.notify import when
from handlers.reason_step import ReasonStep
from storage.repositories.action_drafts import Journey

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


def _rejected(outcome: HazardOutcome, reason: str, t: Translator, context: BotContext) -> str:
    return t("verify.rejected", code=outcome.hazard.code, reason=reason)


REJECTING = ReasonStep(
    name="verify", journey=Journey.REJECT, action=HazardAction.REJECT, button_pattern=pattern(REJECT),
    cancel_data="vr:cancel", ask_key="verify.ask_reason", need_text_key="verify.need_reason", done=_rejected,
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(accepted, pattern=pattern(ACCEPT)))
    application.add_handler(REJECTING.conversation())
