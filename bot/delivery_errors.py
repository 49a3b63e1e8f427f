"""What a Telegram error means for a message in the outbox: the bridge from python-telegram-bot's exceptions to the
outbox service's Telegram-free `DeliveryFailure`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.services.onboarding import GroupLoss, LostTopic, OnboardingService, TopicLoss, Unreachable
from bot.services.outbox import DeliveryFailure, FailureKind


def classify(exc: TelegramError) -> DeliveryFailure:
    """What a Telegram error means for the message (the order matters: BadRequest is a NetworkError)."""
    detail = describe(exc)
    if isinstance(exc, RetryAfter):
        # A timedelta with PTB_TIMEDELTA on (bot/__init__.py); int seconds if the environment turned it off.
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return DeliveryFailure(FailureKind.FLOOD, detail, retry_after=seconds)
    if isinstance(exc, ChatMigrated):
        return DeliveryFailure(FailureKind.TRANSIENT, detail, new_chat_id=int(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return DeliveryFailure(FailureKind.BLOCKED, detail)
    if isinstance(exc, BadRequest):
        return DeliveryFailure(FailureKind.REJECTED, detail)
    # NetworkError and TimedOut (5xx, resets, timeouts) and anything unforeseen: worth another try.
    return DeliveryFailure(FailureKind.TRANSIENT, detail)


# What Telegram says of a group the bot can no longer post in: removed from it or banned (403), muted there, or the
# group deleted (400). Not "… to send photos": a group that takes no photos still takes the text of a warning.
_GROUP_GONE = ("not enough rights to send text messages", "chat not found", "bot is not a member", "bot was kicked")


def group_refuses(chat_id: int, failure: DeliveryFailure) -> bool:
    """Whether the failure says the group itself is out of the bot's reach, not just this message."""
    if chat_id >= 0 or failure.kind not in (FailureKind.BLOCKED, FailureKind.REJECTED):
        return False
    # python-telegram-bot drops "Bad Request: " and capitalizes what follows ("Chat not found").
    detail = failure.detail.lower()
    return failure.kind is FailureKind.BLOCKED or any(words in detail for words in _GROUP_GONE)


def general_refuses(chat_id: int, failure: DeliveryFailure) -> bool:
    """Whether a message to a group's general chat (no topic) failed because that chat is a forum's General topic
    closed to all but admins: the group's other topics still take messages."""
    return chat_id < 0 and failure.kind is FailureKind.REJECTED and "topic_closed" in failure.detail.lower()


def topic_refuses(failure: DeliveryFailure) -> TopicLoss | None:
    """Whether a message to a forum topic failed because of the topic (deleted, or closed to all but admins), not
    the group: the group's general chat still takes it."""
    if failure.kind is not FailureKind.REJECTED:
        return None
    detail = failure.detail.lower()
    if "message thread not found" in detail:
        return TopicLoss.DELETED
    if "topic_closed" in detail:
        return TopicLoss.CLOSED
    return None


@dataclass(frozen=True)
class TopicRefused:
    """A forum topic refused the message, not its group: the caller sends it to the group's general chat."""

    lost: LostTopic | None  # the binding's move; None when the topic had been left already


async def act_on_refusal(
    onboarding: OnboardingService, chat_id: int, topic_id: int | None, failure: DeliveryFailure
) -> TopicRefused | None:
    """What a refusal says of the chat itself, not just of this message, acted on the same way by the outbox sender
    and the reminder tick, for news the bot missed: a group that removed or muted it (its bindings end, the county is
    told), a person who blocked it (their supervisors are told), a forum topic deleted or closed (returned), a
    forum's General topic closed (the general chat's binding ends, the county is told; the message is lost there,
    as in a lost group)."""
    if group_refuses(chat_id, failure):
        await onboarding.group_lost(chat_id, GroupLoss.REFUSED)
    elif failure.kind is FailureKind.BLOCKED and chat_id > 0:
        await onboarding.person_unreachable(chat_id, Unreachable.REFUSED)
    elif topic_id is not None and (loss := topic_refuses(failure)) is not None:
        return TopicRefused(await onboarding.topic_lost(chat_id, topic_id, loss))
    elif topic_id is None and general_refuses(chat_id, failure):
        await onboarding.group_lost(chat_id, GroupLoss.GENERAL_CLOSED)
    return None


def describe(exc: TelegramError) -> str:
    # A 502 from a proxy carries its whole HTML page in the message; the first words say all there is.
    message = exc.message.split(". Parsing the server response")[0][:200]
    name = type(exc).__name__
    return message if message.startswith(name) else f"{name}: {message}"
