"""One journey at a time: a person who starts a journey leaves the one they had not finished.

Every journey is a ConversationHandler in handler group 0, where the first one that claims an update takes it. A
journey left waiting for text (a rejection's reason, a rectification's measures, a report's description) claimed
the text of the journey the person started next, whenever it was registered before it: staff who pressed Reject
and then logged a study session rejected the hazard with the session's topic as the reason, and the head read it.
So the start of a journey (its command, or the button that opens it) ends the person's other journeys here, before
group 0 sees the update. What they had typed stays in its draft; only the waiting ends.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler, TypeHandler

from bot.context import BotContext
from bot.i18n import Html
from handlers.common import identify
from handlers.conversations import ENDED_BY_A_COMMAND, WAITED_THROUGH, conversations, waiting
from handlers.guards import ACCESS_GROUP
from handlers.resume import unfinished_lines

# After the access gate (a stranger starts nothing) and the check of forged numbers.
JOURNEY_GROUP = ACCESS_GROUP + 2


def _starts(conversation: ConversationHandler[Any], update: Update) -> bool:
    return any(entry.check_update(update) not in (None, False) for entry in conversation.entry_points)


async def started_journey(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or (update.message is None and update.callback_query is None):
        return
    starting = next(
        (conversation for conversation in conversations(context.application) if _starts(conversation, update)), None
    )
    if starting is None:
        await _command_ends(update, context, chat.id, user.id)
        return
    ended = end_journeys(context.application, chat.id, user.id, but=starting)
    if ended and update.effective_message is not None:
        await _say_what_was_kept(update, context, [conversation.name for conversation in ended])
        for conversation in ended:
            said = ENDED_BY_A_COMMAND.get(conversation.name or "")
            if said is not None:
                await said(update, context)


async def _command_ends(update: Update, context: BotContext, chat_id: int, user_id: int) -> None:
    """A command that starts no journey (/hazard, /tasks…) ends the journeys that do not wait through a detour
    (`ENDED_BY_A_COMMAND`), each saying so; one the journey itself takes (its /cancel) is left to it, and so is /lang
    (`WAITED_THROUGH`), after which the step is asked again."""
    message = update.message
    if message is None or not (message.text or "").startswith("/"):
        return
    command = (message.text or "").split(maxsplit=1)[0].removeprefix("/").split("@", 1)[0].lower()
    if command in WAITED_THROUGH:
        return
    for conversation in waiting(context.application, chat_id, user_id):
        said = ENDED_BY_A_COMMAND.get(conversation.name or "")
        if said is None or conversation.check_update(update) is not None:
            continue
        _end(conversation, (chat_id, user_id))
        await said(update, context)


async def _say_what_was_kept(update: Update, context: BotContext, names: list[str | None]) -> None:
    """The journeys put aside keep their drafts: say so, and how to get back to each, before the new one asks."""
    caller = await identify(update, context)
    if caller is None or caller.user is None or update.effective_chat is None:
        return
    lines = await unfinished_lines(context, caller, [name for name in names if name is not None])
    if lines:
        await update.effective_chat.send_message(Html("\n".join(lines)))


def end_journeys(
    application: Application[Any, Any, Any, Any, Any, Any], chat_id: int, user_id: int,
    *, but: ConversationHandler[Any] | None = None,
) -> list[ConversationHandler[Any]]:
    """End every journey the person had left waiting in this chat (`but` the one they are starting): one
    registering again after their access ended starts afresh, and their first words are never taken as the answer
    to a question asked of who they were. Returns the journeys it ended."""
    ended = [conversation for conversation in waiting(application, chat_id, user_id) if conversation is not but]
    for conversation in ended:
        _end(conversation, (chat_id, user_id))
    return ended


def _end(conversation: ConversationHandler[Any], key: tuple[int, int]) -> None:
    # The library has no public way to end a conversation from outside it; this is how it ends one itself, and
    # persistence then forgets the step as it would after the journey's own END.
    conversation._update_state(ConversationHandler.END, key)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(TypeHandler(Update, started_journey), group=JOURNEY_GROUP)
