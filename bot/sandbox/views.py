"""What simulated people see and hold: the bot's messages, their own sent messages, button presses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.sandbox.content import button_labels, describe
from bot.sandbox.media import StoredFile
from bot.sandbox.objects import message_json
from bot.sandbox.state import CallbackAnswer, StoredMessage
from bot.sandbox.transcript import buttons_line

if TYPE_CHECKING:
    from bot.sandbox.world import World


@dataclass(frozen=True)
class SentMessage:
    """A message a simulated person sent."""

    chat_id: int
    message_id: int
    text: str | None
    update_id: int | None  # None when the bot was not meant to see it (group privacy mode)


@dataclass
class SimCallbackQuery:
    id: str
    data: str | None
    chat_id: int
    message_id: int
    _world: World

    @property
    def answer(self) -> CallbackAnswer | None:
        """The bot's answerCallbackQuery for this press, if it gave one."""
        query = self._world.queries.get(self.id)
        return query.answer if query else None


class BotMessage:
    """A live view of a message the bot sent (reflects later edits and deletion)."""

    def __init__(self, world: World, stored: StoredMessage) -> None:
        self._world = world
        self.stored = stored

    @property
    def message_id(self) -> int:
        return self.stored.message_id

    @property
    def chat_id(self) -> int:
        return self.stored.chat_id

    @property
    def kind(self) -> str:
        """text, photo, document, location, sticker, voice, video, audio, animation or contact."""
        return self.stored.kind

    @property
    def date(self) -> int:
        return self.stored.date

    @property
    def text(self) -> str:
        """What a person reads: the message text, or the caption of a media message."""
        return self.stored.text if self.stored.text is not None else (self.stored.caption or "")

    @property
    def html(self) -> str | None:
        """The raw text (or caption) exactly as the bot sent it, markup included."""
        return self.stored.html if self.stored.text is not None else self.stored.caption_raw

    @property
    def caption(self) -> str | None:
        return self.stored.caption

    @property
    def entities(self) -> list[dict[str, Any]]:
        return self.stored.entities or self.stored.caption_entities

    @property
    def edited(self) -> bool:
        return self.stored.edit_date is not None

    @property
    def deleted(self) -> bool:
        return self.stored.deleted

    @property
    def silent(self) -> bool:
        """Sent with disable_notification: the phone showed it without a sound."""
        return self.stored.silent

    @property
    def media_group_id(self) -> str | None:
        return self.stored.media_group_id

    @property
    def reply_to_message_id(self) -> int | None:
        return self.stored.reply_to

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.stored.reply_markup

    @property
    def photo(self) -> bytes | None:
        """Bytes of the largest photo size."""
        return self.stored.photo[-1].data if self.stored.photo else None

    @property
    def file(self) -> StoredFile | None:
        return self.stored.media

    @property
    def document(self) -> bytes | None:
        return self.stored.media.data if self.stored.media is not None else None

    @property
    def document_name(self) -> str | None:
        return self.stored.media.file_name if self.stored.media is not None else None

    @property
    def location(self) -> tuple[float, float] | None:
        return self.stored.location

    @property
    def buttons(self) -> list[list[str]]:
        return button_labels(self.stored.reply_markup)

    @property
    def button_data(self) -> list[list[str | None]]:
        return [[b.get("callback_data") for b in row] for row in self.stored.inline_keyboard]

    def json(self) -> dict[str, Any]:
        """The Message object as the Bot API would return it now."""
        return message_json(self._world, self.stored)

    def __str__(self) -> str:
        lines = [describe(self.stored) + (" (edited)" if self.edited else "") + (" (deleted)" if self.deleted else "")]
        lines.extend(buttons_line(self.buttons))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<BotMessage #{self.message_id} in {self.chat_id}: {self.text[:40]!r}>"
