"""The emulated Telegram: people, chats, messages, files and the bot's update queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from bot.sandbox.errors import ApiError, bad_request, forbidden, too_many_requests
from bot.sandbox.faults import RateLimiter
from bot.sandbox.media import FileStore, StoredFile
from bot.sandbox.spec import load_spec
from bot.sandbox.state import (
    CallbackAnswer,
    ChatState,
    PendingUpdate,
    QueryState,
    Signal,
    StoredMessage,
    TranscriptEntry,
    UserState,
    WebhookConfig,
)

# Telegram's default when allowed_updates is empty or was never given.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class World:
    def __init__(
        self,
        *,
        bot_id: int,
        bot_username: str,
        bot_first_name: str,
        privacy_mode: bool,
        clock: Callable[[], float],
        rate_limiter: RateLimiter,
        callback_query_timeout: float,
    ) -> None:
        self.spec = load_spec()
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.privacy_mode = privacy_mode
        self.clock = clock
        self.rate_limiter = rate_limiter
        self.callback_query_timeout = callback_query_timeout
        self.users: dict[int, UserState] = {}
        self.chats: dict[int, ChatState] = {}
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self._by_chat: dict[int, list[StoredMessage]] = {}  # in message_id order
        self.files = FileStore()
        self.photo_sets: dict[str, list[StoredFile]] = {}  # any size's file_id -> all sizes
        self.updates: list[PendingUpdate] = []
        self.last_update_id = 10_000_000
        self.queries: dict[str, QueryState] = {}
        self.answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.default_menu_button: dict[str, Any] | None = None
        self.webhook: WebhookConfig | None = None
        self.allowed_updates: list[str] | None = None
        self.transcript: list[TranscriptEntry] = []
        self.signal = Signal()
        self.update_kinds = [f for f in self.spec.types["Update"].fields if f != "update_id"]
        self._query_counter = 0
        self._media_group_counter = 0

    def now(self) -> int:
        return int(self.clock())

    # ---- people and chats ---------------------------------------------------------------------

    def add_user(self, user: UserState) -> UserState:
        if user.id <= 0:
            raise ValueError("user ids are positive")
        self.users[user.id] = user
        self.chats.setdefault(user.id, ChatState(id=user.id, type="private"))
        return user

    def add_group(self, chat_id: int, title: str, *, is_forum: bool, username: str | None) -> ChatState:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative (supergroups look like -100…)")
        kind: Literal["group", "supergroup"] = "supergroup" if str(chat_id).startswith("-100") else "group"
        chat = ChatState(id=chat_id, type=kind, title=title, username=username, is_forum=is_forum)
        self.chats[chat_id] = chat
        return chat

    def find_chat(self, chat_id: int | str) -> ChatState:
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            if chat_id.startswith("@"):
                # Bots can't address private chats by @username, only public groups and channels.
                for chat in self.chats.values():
                    if chat.type != "private" and chat.username and chat.username.lower() == name:
                        return chat
                raise bad_request("chat not found", violation=False)
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise bad_request("chat not found", violation=False) from None
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found", violation=False)
        return found

    def chat_for_sending(self, chat_id: int | str) -> ChatState:
        chat = self.find_chat(chat_id)
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat", violation=False,
                           parameters={"migrate_to_chat_id": chat.migrated_to})
        elif chat.bot_status in ("left", "kicked"):
            kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
            raise forbidden(f"bot was kicked from the {kind}")
        elif chat.bot_status == "restricted":
            raise bad_request("not enough rights to send text messages to the chat", violation=False)
        return chat

    def check_rate(self, chat: ChatState) -> None:
        retry_after = self.rate_limiter.check(chat.id, chat.type == "private", time.monotonic())
        if retry_after is not None:
            raise too_many_requests(retry_after)

    def chat_label(self, chat: ChatState) -> tuple[str, str | None]:
        """(who, group title) for transcript lines."""
        if chat.type == "private":
            return self.users[chat.id].display_name, None
        return chat.title or str(chat.id), chat.title

    # ---- messages -----------------------------------------------------------------------------

    def new_message(self, chat: ChatState, sender_id: int, kind: str, **fields: Any) -> StoredMessage:
        chat.last_message_id += 1
        msg = StoredMessage(
            chat_id=chat.id,
            message_id=chat.last_message_id,
            date=self.now(),
            sender_id=sender_id,
            from_bot=sender_id == self.bot_id,
            kind=kind,
            **fields,
        )
        self.messages[(chat.id, msg.message_id)] = msg
        self._by_chat.setdefault(chat.id, []).append(msg)
        self.signal.notify()
        return msg

    def get_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        msg = self.messages.get((chat_id, message_id))
        return None if msg is None or msg.deleted else msg

    def chat_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        found = self._by_chat.get(chat_id, [])
        return list(found) if include_deleted else [m for m in found if not m.deleted]

    def next_media_group_id(self) -> str:
        self._media_group_counter += 1
        return f"1{self._media_group_counter:017d}"

    def next_query_id(self) -> str:
        self._query_counter += 1
        return str(4_000_000_000_000_000_000 + self._query_counter)

    # ---- the bot's update queue ---------------------------------------------------------------

    def enqueue(self, kind: str, payload: dict[str, Any], describe: str) -> PendingUpdate:
        self.last_update_id += 1
        update = PendingUpdate(self.last_update_id, kind, {"update_id": self.last_update_id, kind: payload}, describe)
        self.updates.append(update)
        self.signal.notify()
        return update

    def allowed(self, configured: Iterable[str] | None) -> set[str]:
        chosen = set(configured or [])
        return chosen if chosen else {k for k in self.update_kinds if k not in _NOT_BY_DEFAULT}

    def confirm(self, offset: int) -> None:
        """getUpdates offset semantics: positive confirms everything below it, negative keeps the tail."""
        before = len(self.updates)
        if offset > 0:
            self.updates = [u for u in self.updates if u.update_id >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        if len(self.updates) != before:
            self.signal.notify()

    def take(self, limit: int, allowed: set[str]) -> list[PendingUpdate]:
        """Pending updates the bot may receive now; updates of kinds it did not ask for are dropped."""
        kept = [u for u in self.updates if u.kind in allowed]
        if len(kept) != len(self.updates):
            self.updates = kept
            self.signal.notify()
        return kept[:limit]

    def drop_pending(self) -> None:
        self.updates.clear()
        self.signal.notify()

    def is_confirmed(self, update_id: int) -> bool:
        return all(u.update_id > update_id for u in self.updates)

    # ---- transcript ---------------------------------------------------------------------------

    def log(
        self,
        direction: str,
        chat: ChatState,
        kind: str,
        text: str,
        *,
        actor: str | None = None,
        buttons: list[list[str]] | None = None,
        message_id: int | None = None,
    ) -> None:
        who, title = self.chat_label(chat)
        self.transcript.append(
            TranscriptEntry(
                direction="in" if direction == "in" else "out",
                actor=actor or who,
                chat_id=chat.id,
                chat_title=title,
                kind=kind,
                text=text,
                buttons=buttons or [],
                message_id=message_id,
            )
        )

    def require(self, condition: bool, detail: str, *, violation: bool = True) -> None:
        if not condition:
            raise bad_request(detail, violation=violation)
