"""What the outbox holds: messages owed to a chat, each with its delivery state. Times are aware datetimes in UTC."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its turn (first try, or a retry at next_attempt_at)
    SENDING = "sending"  # claimed by a sender; may be on its way to Telegram
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it (400) or it kept failing: a person has to look
    BLOCKED = "blocked"  # the recipient blocked the bot or removed it from the group (403): never retried
    # No longer to be sent: a held draft's notice once the draft was decided, or its person's access ended. Never
    # a delivery failure.
    CANCELLED = "cancelled"


OWED_STATES = frozenset({DeliveryState.PENDING, DeliveryState.SENDING})


class Priority(IntEnum):
    """Lower goes first. A chat's messages keep their order within one priority."""

    URGENT = 0  # warnings, "need help" alerts
    NORMAL = 5  # hazard notices, reminders
    BULK = 9  # digests


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class OutboxPayload(_Model):
    """Everything needed to send the message again, whenever the sender gets to it."""

    text: str  # HTML; the caption when a photo goes with it
    reply_markup: dict[str, Any] | None = None  # Bot API JSON, e.g. {"inline_keyboard": [[...]]}
    photo_file_id: str | None = None
    photo_sha256: str | None = None  # bytes kept by the evidence store, uploaded if there is no file_id
    disable_notification: bool = False
    # Not a message: the chat's own command menu is taken away (deleteMyCommands for the chat), `text` unused. Queued
    # when a person's access ends, also from the command line, so that the running bot does it. Skipped when the
    # person is registered again by the time it goes: their new menu stays.
    clear_menu: bool = False
    # Whom a summary still waiting to go names (telegram ids), so that news of one more joins it rather than making
    # a message of its own (handlers.reach: many people refused at once). Not sent.
    about: tuple[int, ...] = ()


class NewOutboxMessage(_Model):
    dedupe_key: str = Field(min_length=1)
    chat_id: int
    payload: OutboxPayload
    topic_id: int | None = None
    priority: Priority = Priority.NORMAL
    # Not sent before this (UTC), e.g. a forecast draft found in quiet hours. While it waits it holds back the later
    # messages of its chat with the same or a lower priority (a chat's queue keeps its order): queue it as BULK.
    not_before: datetime | None = None

    @model_validator(mode="after")
    def _topics_are_in_groups(self) -> NewOutboxMessage:
        # Forum topics exist only in supergroups, whose ids are negative; a topic in a private chat is a bug.
        if self.topic_id is not None and self.chat_id > 0:
            raise ValueError("a forum topic needs a group chat")
        return self


class OutboxItem(_Model):
    id: int
    dedupe_key: str
    batch: str | None
    chat_id: int
    topic_id: int | None
    payload: OutboxPayload
    priority: Priority
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    last_error: str | None
    message_id: int | None
    created_at: datetime
    sent_at: datetime | None


class BatchProgress(_Model):
    """How far one batch (a broadcast, a warning revision) has got: "sent x / y, failed z"."""

    batch: str
    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    cancelled: int = 0  # of `total`: no longer to be sent (e.g. their person's access ended), neither sent nor failed

    @property
    def undeliverable(self) -> int:
        return self.failed + self.blocked

    @property
    def meant(self) -> int:
        """How many are still meant to reach someone: the "y" of "sent x / y"."""
        return self.total - self.cancelled

    @property
    def waiting(self) -> int:
        return self.meant - self.sent - self.undeliverable

    @property
    def done(self) -> bool:
        return self.waiting == 0
