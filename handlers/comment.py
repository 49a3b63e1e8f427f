"""💬 Comment (留言) on a hazard: a remark on its record without changing anything ("the blocked exit is also a smoking
spot", "what is your plan for the budget?", "the contractor comes Monday"), read by those who follow the hazard.

The button (on the details, and Reply on a comment's notice) is checked on the server at once: whoever may view the
hazard may comment, until 90 days after its closing (bot.domain.lifecycle). The person's next text is the comment,
sent as typed, with no confirmation: it changes no state, deadline or verdict, and the step itself was opened on
purpose and says who will read it, so a second tap would only slow every remark; a slip is put right by another
comment. It is a ReasonStep (handlers.reason_step) whose text goes to the service's comment rather than an action's
reason: the comment and the end of its draft are one transaction; the draft lives in SQLite and the conversation is
persistent, so a restart between the press and the text loses neither.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.context import BotContext
from bot.domain.lifecycle import HazardAction
from bot.i18n import Translator, counted
from bot.services.hazard_core import MAX_COMMENT, MIN_COMMENT
from bot.services.hazards import HazardOutcome
from handlers.hazard_buttons import COMMENT, pattern
from handlers.reason_step import ReasonStep
from storage.models import User
from storage.repositories.action_drafts import ActionDraft, Journey

# Refusals the person puts right by typing the comment again; anything else ends the step.
TYPE_AGAIN = frozenset({"text_required", "comment_too_short", "comment_too_long", "classified"})


async def _comment(context: BotContext, user: User, draft: ActionDraft, text: str | None) -> HazardOutcome:
    return await context.services.hazards.comment(user, draft.hazard_id, text)


def _told(outcome: HazardOutcome, comment: str, t: Translator, context: BotContext) -> str:
    told = len({notice.recipient_id for notice in outcome.notices})
    key = "comment.sent_to_nobody" if told == 0 else counted("comment.sent", told)
    return t(key, code=outcome.hazard.code, count=told)


COMMENTING = ReasonStep(
    name="comment", journey=Journey.COMMENT, action=HazardAction.COMMENT, button_pattern=pattern(COMMENT),
    cancel_data="cm:cancel", ask_key="comment.ask", need_text_key="comment.need_text", done=_told, act=_comment,
    type_again=TYPE_AGAIN, ask_params=(("min", MIN_COMMENT), ("max", MAX_COMMENT)), text_name="comment",
    put_aside_key="comment.put_aside",
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    COMMENTING.register(application)
