"""Simulated people and groups: how tests, the demo and benchmarks talk to the bot."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, Union

from bot.sandbox.content import button_labels, describe, store_photo
from bot.sandbox.htmltext import utf16_len
from bot.sandbox.media import make_jpeg, make_png
from bot.sandbox.objects import bot_json, chat_json, chat_member_json, message_json, user_json
from bot.sandbox.state import CallbackAnswer, ChatState, QueryState, StoredMessage, TopicState, UserState
from bot.sandbox.transcript import buttons_line
from bot.sandbox.views import BotMessage, SentMessage, SimCallbackQuery

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox
    from bot.sandbox.world import World

ChatRef = Union["SimGroup", int, None]
# tdlib's bot-command pattern: /command[@bot] not glued to a word, '/', '<' or '>'
_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram detects in a person's plain text (bot commands and @mentions)."""
    found: list[dict[str, Any]] = []
    for kind, pattern in (("bot_command", _COMMAND_RE), ("mention", _MENTION_RE)):
        for match in pattern.finditer(text):
            offset = utf16_len(text[: match.start()])
            found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    return sorted(found, key=lambda e: e["offset"])


class SimUser:
    def __init__(self, sb: Sandbox, state: UserState) -> None:
        self._sb = sb
        self._world = sb.world
        self.state = state

    @property
    def id(self) -> int:
        return self.state.id

    @property
    def name(self) -> str:
        return self.state.display_name

    @property
    def username(self) -> str | None:
        return self.state.username

    def __repr__(self) -> str:
        return f"<SimUser {self.name} ({self.id})>"

    # ---- where and whether the bot hears it -----------------------------------------------------

    def _chat(self, chat: ChatRef) -> ChatState:
        if chat is None:
            return self._world.chats[self.id]
        chat_id = chat if isinstance(chat, int) else chat.chat_id
        state = self._world.chats.get(chat_id)
        if state is None:
            raise AssertionError(f"unknown chat {chat_id}; create it with sb.group(...)")
        if state.type != "private" and state.members.get(self.id) not in ("creator", "administrator", "member"):
            raise AssertionError(f"{self.name} is not a member of {state.title!r}; call group.add({self.name.lower()})")
        return state

    def _bot_hears(self, chat: ChatState, msg: StoredMessage) -> bool:
        world = self._world
        if chat.type == "private" or not world.privacy_mode or chat.bot_status == "administrator":
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        replied = world.messages.get((chat.id, msg.reply_to)) if msg.reply_to else None
        if replied is not None and replied.from_bot:
            return True
        text = msg.text or msg.caption or ""
        for entity in msg.entities or msg.caption_entities:
            token = text.encode("utf-16-le")[entity["offset"] * 2 : (entity["offset"] + entity["length"]) * 2]
            word = token.decode("utf-16-le")
            if entity["type"] == "bot_command" and ("@" not in word or word.endswith("@" + world.bot_username)):
                return True
            if entity["type"] == "mention" and word[1:].lower() == world.bot_username.lower():
                return True
        return False

    async def _post(self, chat_ref: ChatRef, kind: str, wait: bool, **fields: Any) -> SentMessage:
        world = self._world
        chat = self._chat(chat_ref)
        if chat.type == "private":
            if self.state.blocked:
                self.unblock_bot()
            self.state.started = True
        msg = world.new_message(chat, self.id, kind, **fields)
        world.log("in", chat, kind, describe(msg), actor=self.name, message_id=msg.message_id)
        update_id = None
        if self._bot_hears(chat, msg):
            payload = message_json(world, msg)
            update_id = world.enqueue("message", payload, f"message from {self.name}: {describe(msg)}").update_id
        if wait:
            await self._sb.settle()
        return SentMessage(chat.id, msg.message_id, msg.text, update_id)

    # ---- speaking -----------------------------------------------------------------------------

    async def send_text(
        self,
        text: str,
        chat: ChatRef = None,
        *,
        reply_to: SentMessage | BotMessage | int | None = None,
        topic: int | None = None,
        wait: bool = True,
    ) -> SentMessage:
        """`topic`: typed in that forum topic of the group `chat`."""
        reply = reply_to if isinstance(reply_to, int | None) else reply_to.message_id
        if topic is not None and topic not in self._chat(chat).topics:
            raise AssertionError(f"{self.name} cannot type in topic {topic}: the forum has no such topic open")
        return await self._post(
            chat, "text", wait, text=text, html=text, entities=text_entities(text), reply_to=reply, thread_id=topic
        )

    async def send_photo(
        self, image: bytes | None = None, caption: str | None = None, chat: ChatRef = None, *, wait: bool = True,
        reply_to: SentMessage | BotMessage | int | None = None,
    ) -> SentMessage:
        reply = reply_to if isinstance(reply_to, int | None) else reply_to.message_id
        if image is None:
            seed = len(self._world.files) + 1
            sizes = store_photo(self._world, make_jpeg(320, 240, seed), thumbnail=make_jpeg(90, 68, seed))
        else:
            sizes = store_photo(self._world, image)
        return await self._post(chat, "photo", wait, photo=sizes, caption=caption, caption_raw=caption,
                                caption_entities=text_entities(caption) if caption else [], reply_to=reply)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat: ChatRef = None,
        *,
        wait: bool = True,
    ) -> SentMessage:
        stored = self._world.files.add(data, "document", file_name=file_name, mime_type=mime_type)
        return await self._post(chat, "document", wait, media=stored, caption=caption, caption_raw=caption)

    async def send_location(
        self, latitude: float, longitude: float, chat: ChatRef = None, *, wait: bool = True
    ) -> SentMessage:
        return await self._post(chat, "location", wait, location=(latitude, longitude))

    async def send_sticker(self, emoji: str = "👍", chat: ChatRef = None, *, wait: bool = True) -> SentMessage:
        stored = self._world.files.add(make_png(64, 64), "sticker", width=512, height=512)
        return await self._post(chat, "sticker", wait, media=stored, media_extra={"emoji": emoji})

    async def send_voice(
        self, data: bytes | None = None, duration: int = 1, chat: ChatRef = None, *, wait: bool = True
    ) -> SentMessage:
        stored = self._world.files.add(data or b"OggS" + bytes(60), "voice", mime_type="audio/ogg")
        return await self._post(chat, "voice", wait, media=stored, media_extra={"duration": duration})

    async def share_contact(
        self, phone_number: str = "+8613800000000", chat: ChatRef = None, *, wait: bool = True
    ) -> SentMessage:
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": self.state.first_name,
            "user_id": self.id,
        }
        if self.state.last_name:
            contact["last_name"] = self.state.last_name
        return await self._post(chat, "contact", wait, contact=contact)

    async def edit_text(self, message: SentMessage, new_text: str, *, wait: bool = True) -> SentMessage:
        world = self._world
        stored = world.get_message(message.chat_id, message.message_id)
        if stored is None or stored.sender_id != self.id or stored.kind != "text":
            raise AssertionError(f"{self.name} has no text message #{message.message_id} to edit")
        stored.text, stored.html, stored.entities = new_text, new_text, text_entities(new_text)
        stored.edit_date = world.now()
        chat = world.chats[stored.chat_id]
        world.log("in", chat, "edit", f"(edited) {new_text}", actor=self.name, message_id=stored.message_id)
        update_id = None
        if self._bot_hears(chat, stored):
            payload = message_json(world, stored)
            update_id = world.enqueue("edited_message", payload, f"edit by {self.name}: {new_text}").update_id
        if wait:
            await self._sb.settle()
        return SentMessage(chat.id, stored.message_id, new_text, update_id)

    # ---- buttons ------------------------------------------------------------------------------

    async def press(
        self, label: str, message: BotMessage | int | None = None, chat: ChatRef = None, *, wait: bool = True
    ) -> SimCallbackQuery:
        """Press the inline button whose text equals (or else contains) ``label``."""
        chat_state = self._chat(chat)
        if message is not None:
            candidates = [self._bot_message(chat_state, message)]
        else:
            newest_first = reversed(self._world.chat_messages(chat_state.id))
            candidates = [m for m in newest_first if m.from_bot and m.inline_keyboard]
        for stored in candidates:
            buttons = [b for row in stored.inline_keyboard for b in row]
            matches = [b for b in buttons if b.get("text") == label]
            matches = matches or [b for b in buttons if label in b.get("text", "")]
            if len(matches) > 1:
                raise AssertionError(
                    f"{label!r} is ambiguous on message #{stored.message_id}: {[b['text'] for b in matches]}"
                )
            if matches:
                button = matches[0]
                if "callback_data" not in button:
                    raise AssertionError(f"button {button['text']!r} is not a callback button: {button}")
                return await self._callback(stored, button["callback_data"], button["text"], wait)
        visible = "\n".join(f"  #{m.message_id}: {buttons_line(button_labels(m.reply_markup))}" for m in candidates)
        raise AssertionError(f"{self.name} sees no button {label!r}. Visible inline buttons:\n{visible or '  (none)'}")

    async def press_data(
        self, message: BotMessage | int, data: str, chat: ChatRef = None, *, wait: bool = True
    ) -> SimCallbackQuery:
        """Send a callback query with arbitrary ``data`` for a bot message (forged or stale presses)."""
        stored = self._bot_message(self._chat(chat), message)
        return await self._callback(stored, data, f"data={data}", wait)

    def _bot_message(self, chat: ChatState, message: BotMessage | int) -> StoredMessage:
        if isinstance(message, BotMessage):
            stored = message.stored
        else:
            found = self._world.messages.get((chat.id, message))
            if found is None:
                raise AssertionError(f"no message #{message} in chat {chat.id}")
            stored = found
        if stored.deleted or not stored.from_bot:
            raise AssertionError(f"message #{stored.message_id} is {'deleted' if stored.deleted else 'not the bot’s'}")
        return stored

    async def _callback(self, stored: StoredMessage, data: str, label: str, wait: bool) -> SimCallbackQuery:
        world = self._world
        chat = world.chats[stored.chat_id]
        query = QueryState(world.next_query_id(), self.id, chat.id, stored.message_id, data, time.monotonic())
        world.queries[query.id] = query
        payload = {
            "id": query.id,
            "from": user_json(self.state),
            "message": message_json(world, stored),
            "chat_instance": str(abs(chat.id) * 1_000_003 % 10**18),
            "data": data,
        }
        world.log("in", chat, "press", label, actor=self.name, message_id=stored.message_id)
        world.enqueue("callback_query", payload, f"callback_query from {self.name}: {label}")
        if wait:
            await self._sb.settle()
        return SimCallbackQuery(query.id, data, chat.id, stored.message_id, world)

    def reply_keyboard(self, chat: ChatRef = None) -> list[list[str]]:
        rows = self._chat(chat).reply_keyboard or []
        return [[str(b.get("text", "")) for b in row] for row in rows]

    async def tap(self, label: str, chat: ChatRef = None, *, wait: bool = True) -> SentMessage:
        """Tap a reply-keyboard button: sends its text, or shares the contact it asks for."""
        rows = self._chat(chat).reply_keyboard or []
        for row in rows:
            for button in row:
                if button.get("text") == label:
                    if button.get("request_contact"):
                        return await self.share_contact(chat=chat, wait=wait)
                    return await self.send_text(label, chat, wait=wait)
        raise AssertionError(
            f"{self.name} has no reply-keyboard button {label!r}; keyboard: {self.reply_keyboard(chat)}"
        )

    # ---- blocking -----------------------------------------------------------------------------

    def _member_update(self, old: str, new: str) -> None:
        world = self._world
        chat = world.chats[self.id]
        bot = bot_json(world)
        payload = {
            "chat": chat_json(world, chat),
            "from": user_json(self.state),
            "date": world.now(),
            "old_chat_member": {"status": old, "user": bot, **({"until_date": 0} if old == "kicked" else {})},
            "new_chat_member": {"status": new, "user": bot, **({"until_date": 0} if new == "kicked" else {})},
        }
        world.enqueue("my_chat_member", payload, f"{self.name} {'blocked' if new == 'kicked' else 'unblocked'} the bot")

    def block_bot(self, *, tell_bot: bool = True) -> None:
        """Sends to this person fail with 403 from now on. `tell_bot=False`: as for a bot that missed the update
        (down longer than Telegram keeps updates)."""
        if not self.state.blocked:
            self.state.blocked = True
            if tell_bot:
                self._member_update("member", "kicked")

    def unblock_bot(self, *, tell_bot: bool = True) -> None:
        if self.state.blocked:
            self.state.blocked = False
            if tell_bot:
                self._member_update("kicked", "member")

    # ---- reading what the bot sent ------------------------------------------------------------

    def messages(self, chat: ChatRef = None, *, include_deleted: bool = False) -> list[BotMessage]:
        stored = self._world.chat_messages(self._chat(chat).id, include_deleted=include_deleted)
        return [BotMessage(self._world, m) for m in stored if m.from_bot]

    def last_message(self, chat: ChatRef = None) -> BotMessage:
        chat_id = self._chat(chat).id
        found = _newest_from_bot(self._world, chat_id)
        if found is None:
            raise AssertionError(f"the bot has sent {self.name} nothing (in chat {chat_id})")
        return found

    def answers(self) -> list[CallbackAnswer]:
        return [a for a in self._world.answers if a.user_id == self.id]


class SimGroup:
    def __init__(self, sb: Sandbox, state: ChatState) -> None:
        self._sb = sb
        self._world = sb.world
        self.state = state

    @property
    def chat_id(self) -> int:
        return self.state.id

    @property
    def title(self) -> str:
        return self.state.title or ""

    @property
    def is_forum(self) -> bool:
        return self.state.is_forum

    def __repr__(self) -> str:
        return f"<SimGroup {self.title} ({self.chat_id})>"

    def add(self, *users: SimUser, status: str = "member") -> SimGroup:
        for user in users:
            self.state.members[user.id] = status
        return self

    def make_admin(self, user: SimUser) -> SimGroup:
        return self.add(user, status="administrator")

    def remove(self, user: SimUser) -> SimGroup:
        self.state.members[user.id] = "left"
        return self

    async def upgrade_to_supergroup(
        self, by: SimUser, new_chat_id: int | None = None, *, tell_bot: bool = True
    ) -> SimGroup:
        """What Telegram does when a group grows past 200 members or an admin turns on a supergroup's feature: a
        supergroup with a new id takes its place (same title, members and bot), the old id refuses messages with
        the new one, and the bot gets a service message in each (`migrate_to_chat_id`, `migrate_from_chat_id`).
        `tell_bot=False`: as for a bot that missed them (down for longer than Telegram keeps updates)."""
        world = self._world
        new_id = new_chat_id if new_chat_id is not None else int(f"-100{abs(self.chat_id)}")
        state = world.add_group(new_id, self.title, is_forum=False, username=None)
        state.members = dict(self.state.members)
        state.bot_status = self.state.bot_status
        self.state.migrated_to = new_id
        notes = ((self.state, {"migrate_to_chat_id": new_id}), (state, {"migrate_from_chat_id": self.chat_id}))
        for chat, fields in notes:
            msg = world.new_message(chat, by.id, "service", service=fields)
            world.log("in", chat, "service", describe(msg), actor=by.name, message_id=msg.message_id)
            if tell_bot:
                world.enqueue("message", message_json(world, msg), f"{chat.title}: {describe(msg)}")
        await self._sb.settle()
        return SimGroup(self._sb, state)

    async def remove_bot(self, by: SimUser, *, ban: bool = False) -> None:
        """An admin removes the bot from the group (`ban`: and bans it): sends fail with 403 from then on, and the
        bot hears of it in a `my_chat_member` update."""
        world = self._world
        before, now = self.state.bot_status, "kicked" if ban else "left"
        self.state.bot_status = now
        bot = bot_json(world)
        payload = {
            "chat": chat_json(world, self.state),
            "from": user_json(by.state),
            "date": world.now(),
            "old_chat_member": {"status": before, "user": bot},
            "new_chat_member": {"status": now, "user": bot, **({"until_date": 0} if ban else {})},
        }
        world.enqueue("my_chat_member", payload, f"{by.name} removed the bot from {self.title}")
        await self._sb.settle()

    async def mute_bot(self, by: SimUser) -> None:
        """An admin of a supergroup takes the bot's right to send messages away (it stays a member): sends fail with
        400 from then on, and the bot hears of it in a `my_chat_member` update."""
        if self.state.type != "supergroup":
            raise AssertionError("only a supergroup's members can be restricted")
        world = self._world
        before = self.state.bot_status
        self.state.bot_status = "restricted"
        bot = bot_json(world)
        rights = (
            "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
            "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
            "can_add_web_page_previews", "can_react_to_messages", "can_edit_tag", "can_change_info",
            "can_invite_users", "can_pin_messages", "can_manage_topics",
        )
        payload = {
            "chat": chat_json(world, self.state),
            "from": user_json(by.state),
            "date": world.now(),
            "old_chat_member": {"status": before, "user": bot},
            "new_chat_member": {"status": "restricted", "user": bot, "is_member": True, "until_date": 0,
                                **dict.fromkeys(rights, False)},
        }
        world.enqueue("my_chat_member", payload, f"{by.name} took the bot's right to post in {self.title}")
        await self._sb.settle()

    def add_topic(self, name: str, topic_id: int) -> int:
        """A forum topic made before the story begins (the bot is not told)."""
        if not self.state.is_forum:
            raise AssertionError(f"{self.title!r} is not a forum")
        self.state.topics[topic_id] = TopicState(name)
        self.state.last_message_id = max(self.state.last_message_id, topic_id)
        return topic_id

    async def open_topic(self, name: str, by: SimUser) -> int:
        """A member makes a forum topic: its id is the id of the service message that says so, in the topic."""
        if not self.state.is_forum:
            raise AssertionError(f"{self.title!r} is not a forum")
        msg = self._world.new_message(
            self.state, by.id, "service", service={"forum_topic_created": {"name": name, "icon_color": 7322096}}
        )
        msg.thread_id = msg.message_id
        self.state.topics[msg.message_id] = TopicState(name)
        await self._topic_news(msg, by)
        return msg.message_id

    async def close_topic(self, topic_id: int, by: SimUser) -> None:
        """An admin closes a topic: only admins post in it from then on (the bot gets 400 TOPIC_CLOSED)."""
        self.state.topics[topic_id].closed = True
        msg = self._world.new_message(self.state, by.id, "service", thread_id=topic_id,
                                      service={"forum_topic_closed": {}})
        await self._topic_news(msg, by)

    async def reopen_topic(self, topic_id: int, by: SimUser) -> None:
        """An admin opens a closed topic again: everyone posts in it again, and the bot is told by a
        `forum_topic_reopened` service message in the topic."""
        self.state.topics[topic_id].closed = False
        msg = self._world.new_message(self.state, by.id, "service", thread_id=topic_id,
                                      service={"forum_topic_reopened": {}})
        await self._topic_news(msg, by)

    async def close_general_topic(self, by: SimUser) -> None:
        """An admin closes the forum's 'General' topic (what `closeGeneralForumTopic` does): only admins post in it
        from then on, and a message without `message_thread_id` from a bot that is not one fails with 400
        TOPIC_CLOSED. The bot is told nothing: the spec names no service message for it (it has one for hiding the
        topic, `general_forum_topic_hidden`, not for closing it)."""
        self._general_topic(closed=True, by=by)
        await self._sb.settle()

    async def reopen_general_topic(self, by: SimUser) -> None:
        """An admin reopens the 'General' topic (`reopenGeneralForumTopic`): everyone posts in it again."""
        self._general_topic(closed=False, by=by)
        await self._sb.settle()

    def _general_topic(self, *, closed: bool, by: SimUser) -> None:
        if not self.state.is_forum:
            raise AssertionError(f"{self.title!r} is not a forum")
        if self.state.members.get(by.id) not in ("creator", "administrator"):
            raise AssertionError(f"only an admin closes or reopens a topic; call group.make_admin({by.name.lower()})")
        self.state.general_closed = closed
        what = "closed" if closed else "reopened"
        self._world.log("in", self.state, "service", f"the General topic {what}", actor=by.name)

    async def delete_topic(self, topic_id: int, by: SimUser) -> None:
        """An admin deletes a topic with everything in it. Telegram tells the bot nothing; sending there fails with
        400 "message thread not found"."""
        del self.state.topics[topic_id]
        for msg in self._world.chat_messages(self.chat_id):
            if msg.thread_id == topic_id:
                msg.deleted = True
        self._world.log("in", self.state, "service", f"topic {topic_id} deleted", actor=by.name)
        await self._sb.settle()

    async def demote_bot(self, by: SimUser) -> None:
        """An admin makes the bot a plain member again: it still posts, but (privacy mode) sees only commands,
        mentions and replies to it, and may no longer delete others' messages. Told in a `my_chat_member` update."""
        await self._bot_rights_changed(by, "member")

    async def promote_bot(self, by: SimUser) -> None:
        """An admin makes the bot an administrator, with every right (deleting messages too)."""
        await self._bot_rights_changed(by, "administrator")

    async def _bot_rights_changed(self, by: SimUser, now: str) -> None:
        world = self._world
        before = chat_member_json(world, self.state, world.bot_id)
        self.state.bot_status = now
        payload = {
            "chat": chat_json(world, self.state),
            "from": user_json(by.state),
            "date": world.now(),
            "old_chat_member": before,
            "new_chat_member": chat_member_json(world, self.state, world.bot_id),
        }
        world.enqueue("my_chat_member", payload, f"{by.name} made the bot {now} in {self.title}")
        await self._sb.settle()

    async def _topic_news(self, msg: StoredMessage, by: SimUser) -> None:
        world = self._world
        world.log("in", self.state, "service", describe(msg), actor=by.name, message_id=msg.message_id)
        world.enqueue("message", message_json(world, msg), f"{self.title}: {describe(msg)}")
        await self._sb.settle()

    def set_bot_status(self, status: str) -> SimGroup:
        """'member', 'administrator', 'left' or 'kicked' (the last two make sends fail with 403)."""
        self.state.bot_status = status
        return self

    def messages(self, *, include_deleted: bool = False) -> list[BotMessage]:
        stored = self._world.chat_messages(self.chat_id, include_deleted=include_deleted)
        return [BotMessage(self._world, m) for m in stored if m.from_bot]

    def last_message(self) -> BotMessage:
        found = _newest_from_bot(self._world, self.chat_id)
        if found is None:
            raise AssertionError(f"the bot has sent nothing to {self.title!r}")
        return found


def _newest_from_bot(world: World, chat_id: int) -> BotMessage | None:
    for stored in reversed(world.chat_messages(chat_id)):
        if stored.from_bot:
            return BotMessage(world, stored)
    return None
