"""The journeys (ConversationHandlers) of an application, and which of them a person has left waiting: read by the
journey switch, which ends them when another starts, and by the secrecy guard, which refuses a step's text before
the step sees it."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, ConversationHandler

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


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
