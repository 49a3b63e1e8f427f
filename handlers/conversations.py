"""The journeys (ConversationHandlers) of an application, and which of them a person has left waiting: read by the
journey switch, which ends them when another starts, and by the secrecy guard, which refuses a step's text before
the step sees it and offers the step's own Cancel button."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# Journeys that end, rather than wait, when the person sends another command (see handlers.journeys), each with what
# it says as it ends. A staff decision whose last step takes the next text typed (a new deadline's reason) must not
# survive a detour in silence: the next sentence, typed about something else, would change the deadline.
ENDED_BY_A_COMMAND: dict[str, Callable[[Update, Any], Awaitable[None]]] = {}
# The commands those steps wait through: /lang changes nothing but the words, and the step is asked again in the new
# language (`ASKED_AGAIN`), so the reason typed next is still the step's. Ended by /lang, the step threw the reason
# typed after it to the general hint. (/help and /start still end them: they show no question, and the next sentence
# may be about anything.)
WAITED_THROUGH = frozenset({"lang"})
# How each of those steps asks its question again, with its Cancel, after /lang: (the update, the context, the
# caller, the step it waits at) → whether it asked (False, nothing said: its draft is gone).
ASKED_AGAIN: dict[str, Callable[[Update, Any, Any, object], Awaitable[bool]]] = {}


def conversations(application: AnyApplication) -> list[ConversationHandler[Any]]:
    """Every journey: each is a ConversationHandler in handler group 0."""
    return [handler for handler in application.handlers.get(0, []) if isinstance(handler, ConversationHandler)]


def waiting(application: AnyApplication, chat_id: int, user_id: int) -> list[ConversationHandler[Any]]:
    """The journeys the person has left waiting in this chat: each is kept per chat and person."""
    key = (chat_id, user_id)
    return [
        conversation
        for conversation in conversations(application)
        if conversation.per_chat and conversation.per_user and not conversation.per_message
        and key in conversation._conversations  # the library keeps the steps there, and offers no public reader
    ]


def step_of(conversation: ConversationHandler[Any], chat_id: int, user_id: int) -> object:
    """The step the journey waits at for this person in this chat (None when it does not wait)."""
    return conversation._conversations.get((chat_id, user_id))  # no public reader: see `waiting`


def cancel_button(conversation: ConversationHandler[Any]) -> str | None:
    """The callback data of the journey's Cancel button: the button its /cancel shares a callback with, at every
    step (both are fallbacks). None for a journey whose /cancel has no button."""
    on_cancel = [
        handler.callback for handler in conversation.fallbacks
        if isinstance(handler, CommandHandler) and "cancel" in handler.commands
    ]
    for handler in conversation.fallbacks:
        pattern = handler.pattern if isinstance(handler, CallbackQueryHandler) else None
        if isinstance(pattern, re.Pattern) and handler.callback in on_cancel:
            data = pattern.pattern.removeprefix("^").removesuffix("$")
            if pattern.fullmatch(data):  # a literal, not a family of buttons
                return data
    return None


@functools.cache
def cancel_labels() -> re.Pattern[str]:
    """The Cancel button's label in every language, typed alone (any case, with or without marks around it)."""
    from bot.i18n import LANGUAGES, catalog_messages  # the catalogs, read once at start

    labels = {catalog_messages(language)["button.cancel"].strip() for language in LANGUAGES}
    return re.compile(r"^[\W_]*(?:" + "|".join(map(re.escape, labels)) + r")[\W_]*$", re.IGNORECASE)


def typed_cancel_presses_cancel(application: AnyApplication) -> None:
    """"取消" typed where a journey shows its Cancel button is that button pressed: at a step of buttons it was told
    to use the buttons, at a step of text it became the text (a description "too short"). Taken before the step's
    own handlers, in every journey whose /cancel has a button (`cancel_button`), in private chats only (a group's
    word is not addressed to a step of one person's)."""
    typed = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.Regex(cancel_labels())
    for conversation in conversations(application):
        if cancel_button(conversation) is None:
            continue
        on_cancel = next(handler.callback for handler in conversation.fallbacks
                         if isinstance(handler, CommandHandler) and "cancel" in handler.commands)
        for handlers in conversation.states.values():
            handlers.insert(0, MessageHandler(typed, on_cancel))
