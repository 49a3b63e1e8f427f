"""County staff and city admins reopen a closed hazard whose problem came back (复查发现问题反弹): Reopen, on the
hazard's details, asks for the reason; the hazard goes back to rectifying with a fresh deadline by its severity, and
the person responsible and the reporter are told why (bot.domain.lifecycle decides who may, and until when)."""

from __future__ import annotations

from telegram.ext import Application

from bot.context import BotContext
from bot.domain.lifecycle import HazardAction, HazardState
from bot.i18n import Translator
from bot.services.hazards import HazardOutcome
from handlers.hazard_buttons import REOPEN, pattern
from handlers.notify import when
from handlers.reason_step import ReasonStep
from storage.repositories.action_drafts import Journey


def _reopened(outcome: HazardOutcome, reason: str, t: Translator, context: BotContext) -> str:
    deadline = when(outcome.hazard.deadline, context.services.settings.tz, t)
    return t("reopen.done", code=outcome.hazard.code, deadline=deadline, reason=reason)


REOPENING = ReasonStep(
    name="reopen", journey=Journey.REOPEN, action=HazardAction.REOPEN, button_pattern=pattern(REOPEN),
    cancel_data="ro:cancel", ask_key="reopen.ask_reason", need_text_key="reopen.need_reason", done=_reopened,
    ask_key_by_state=((HazardState.WITHDRAWN.value, "reopen.ask_reason_withdrawn"),), put_aside_key="reopen.put_aside",
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    REOPENING.register(application)
