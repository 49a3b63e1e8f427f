"""Plain records of the emulated Telegram world (people, chats, messages, updates, calls)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.sandbox.media import StoredFile

InlineKeyboard = list[list[dict[str, Any]]]


@dataclass
class UserState:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False  # opened the private chat with the bot (Telegram's "Start")
    blocked: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class TopicState:
    """A forum topic. Its id is the id of the service message that created it; a deleted topic is gone from its
    chat's `topics`."""

    name: str
    closed: bool = False


@dataclass
class ChatState:
    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> ChatMember status
    bot_status: str = "member"
    reply_keyboard: list[list[dict[str, Any]]] | None = None
    reply_keyboard_one_time: bool = False
    menu_button: dict[str, Any] | None = None
    last_message_id: int = 0
    migrated_to: int | None = None  # a group upgraded to this supergroup: sending here fails with its new id
    topics: dict[int, TopicState] = field(default_factory=dict)  # a forum's open and closed topics
    general_closed: bool = False  # a forum's 'General' topic closed: only admins post without a topic


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    date: int
    sender_id: int
    from_bot: bool
    kind: str  # text, photo, document, location, sticker, voice, video, audio, animation, contact
    text: str | None = None  # plain text (what a person sees)
    html: str | None = None  # raw text as sent (with markup when a parse_mode was used)
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_raw: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: list[StoredFile] = field(default_factory=list)  # PhotoSize variants, largest last
    media: StoredFile | None = None  # document / sticker / voice / video / audio / animation
    media_extra: dict[str, Any] = field(default_factory=dict)
    location: tuple[float, float] | None = None
    contact: dict[str, Any] | None = None
    reply_markup: dict[str, Any] | None = None  # only inline keyboards stay attached to a message
    media_group_id: str | None = None
    reply_to: int | None = None
    thread_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    forward_origin: dict[str, Any] | None = None
    service: dict[str, Any] | None = None  # a service message's fields, e.g. {"migrate_to_chat_id": …}
    silent: bool = False  # sent with disable_notification: it arrives without a sound

    @property
    def inline_keyboard(self) -> InlineKeyboard:
        if not self.reply_markup:
            return []
        rows: InlineKeyboard = self.reply_markup.get("inline_keyboard", [])
        return rows


@dataclass
class PendingUpdate:
    update_id: int
    kind: str  # message, edited_message, callback_query, my_chat_member, ...
    payload: dict[str, Any]
    describe: str  # for error messages: "message from Alice: /start"


@dataclass
class CallbackAnswer:
    query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class QueryState:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    created: float
    answer: CallbackAnswer | None = None


@dataclass
class TranscriptEntry:
    """One line of the conversation, person→bot (``direction="in"``) or bot→person (``"out"``)."""

    direction: Literal["in", "out"]
    actor: str  # the person who spoke (in) or the recipient (out): a user's name or a group's title
    chat_id: int
    chat_title: str | None  # group title; None in a private chat
    kind: str  # text, photo, document, location, press, edit, delete, answer, ...
    text: str
    buttons: list[list[str]] = field(default_factory=list)
    message_id: int | None = None


@dataclass
class Call:
    """One HTTP request the bot made to the Bot API."""

    method: str
    params: dict[str, Any]
    ok: bool | None = None  # None while in flight
    error_code: int | None = None
    description: str | None = None
    started_at: float = 0.0
    finished_at: float | None = None
    result: Any = None


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str = "127.0.0.1"
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class WebhookDelivery:
    update_id: int
    status: int | None  # HTTP status, None when the connection failed
    error: str | None
    at: float


class Signal:
    """Wakes every waiter whenever anything in the world changes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> bool:
        """Wait for the next change, at most ``seconds``; True if something changed."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True
