"""Checks on message content that Telegram enforces beyond the spec's types: lengths, markup, files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.htmltext import Entity, EntityParseError, utf16_len
from bot.sandbox.markdown import UnsupportedParseMode, parse_text
from bot.sandbox.media import StoredFile, image_format, image_size, make_jpeg
from bot.sandbox.spec import UploadedFile
from bot.sandbox.state import ChatState, StoredMessage
from bot.sandbox.world import World

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_INLINE_BUTTONS = 100
MAX_REPLY_BUTTONS = 300
MAX_DOWNLOAD = 20 * 1024 * 1024
# Every optional InlineKeyboardButton field except the cosmetic ones says what the button does.
_INLINE_COSMETIC = frozenset({"text", "icon_custom_emoji_id", "style"})


@dataclass
class Request:
    """A decoded, spec-valid request as a method handler sees it."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]


def formatted(raw: str, parse_mode: str | None, entities: list[Entity] | None) -> tuple[str, list[Entity]]:
    try:
        plain, parsed = parse_text(raw, parse_mode)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    except UnsupportedParseMode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}") from None
    if parse_mode or not entities:
        return plain, parsed
    size = utf16_len(plain)
    for index, entity in enumerate(entities):
        offset, length = entity["offset"], entity["length"]
        if offset < 0 or length <= 0 or offset + length > size:
            raise bad_request(f"can't parse entities: entity #{index} is out of the text bounds")
    return plain, list(entities)


def message_text(params: dict[str, Any]) -> tuple[str, str, list[Entity]]:
    """(plain, raw, entities) of a text message, enforcing Telegram's 1..4096 characters."""
    raw = params.get("text")
    if raw is None:
        raise bad_request("message text is empty")
    plain, entities = formatted(raw, params.get("parse_mode"), params.get("entities"))
    if not plain.strip():
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return plain, raw, entities


def message_caption(
    params: dict[str, Any], key: str = "caption", entities_key: str = "caption_entities"
) -> tuple[str | None, str | None, list[Entity]]:
    raw = params.get(key)
    if raw is None:
        return None, None, []
    plain, entities = formatted(raw, params.get("parse_mode"), params.get(entities_key))
    if len(plain) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    if not plain.strip():
        return None, None, []
    return plain, raw, entities


def check_reply_markup(markup: dict[str, Any] | None) -> None:
    if not markup:
        return
    if "inline_keyboard" in markup:
        buttons = [b for row in markup["inline_keyboard"] for b in row]
        if len(buttons) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        for button in buttons:
            text = button.get("text", "")
            if not text.strip():
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = [k for k in button if k not in _INLINE_COSMETIC]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    f"can't parse inline keyboard button: exactly one of {sorted(actions)} must be specified"
                )
            if "callback_data" in button:
                size = len(button["callback_data"].encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not button["url"].startswith(("http://", "https://", "tg://")):
                raise bad_request(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
    elif "keyboard" in markup:
        buttons = [b for row in markup["keyboard"] for b in row]
        if len(buttons) > MAX_REPLY_BUTTONS:
            raise bad_request("reply markup is too long")
        for button in buttons:
            text = button if isinstance(button, str) else button.get("text", "")
            if not text.strip():
                raise bad_request("keyboard button text must be non-empty")


def inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of reply_markup that stays attached to the sent message."""
    if markup and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def apply_keyboard_state(chat: ChatState, markup: dict[str, Any] | None) -> None:
    """A reply keyboard lives on the chat until replaced or removed, unlike inline keyboards."""
    if not markup:
        return
    if "keyboard" in markup:
        chat.reply_keyboard = [
            [{"text": b} if isinstance(b, str) else dict(b) for b in row] for row in markup["keyboard"]
        ]
        chat.reply_keyboard_one_time = bool(markup.get("one_time_keyboard"))
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def reply_target(world: World, chat: ChatState, params: dict[str, Any]) -> int | None:
    reply = params.get("reply_parameters")
    if not reply:
        return None
    target_chat = chat
    if "chat_id" in reply:
        target_chat = world.find_chat(reply["chat_id"])
    message_id = int(reply["message_id"])
    if world.get_message(target_chat.id, message_id) is None:
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found", violation=False)
    return message_id if target_chat.id == chat.id else None


def thread_of(chat: ChatState, params: dict[str, Any], replied: StoredMessage | None = None) -> int | None:
    """The forum topic a message goes to: `message_thread_id`, or the topic of the message it replies to; None for
    the chat itself (in a forum, its 'General' topic)."""
    thread = params.get("message_thread_id")
    if thread is None and replied is not None and chat.is_forum:
        thread = replied.thread_id  # a reply goes to the topic of what it answers
    admin = chat.bot_status in ("creator", "administrator")
    if thread is None:
        if chat.is_forum and chat.general_closed and not admin:
            # closeGeneralForumTopic: as in a closed topic, only admins post in the 'General' one.
            raise bad_request("TOPIC_CLOSED", violation=False)
        return None
    topic = chat.topics.get(int(thread)) if chat.is_forum else None
    if topic is None:  # not a forum, a topic never made, or one deleted
        raise bad_request("message thread not found", violation=False)
    if topic.closed and not admin:
        # Only admins who may manage topics post in a closed one; the bot's admin rights are not modelled finer.
        raise bad_request("TOPIC_CLOSED", violation=False)
    return int(thread)


def resolve_file(value: Any, files: dict[str, UploadedFile], param: str) -> UploadedFile | str:
    """An upload (direct part or attach://name) or the string given (file_id or URL)."""
    if isinstance(value, UploadedFile):
        return value
    if isinstance(value, str) and value.startswith("attach://"):
        name = value[len("attach://") :]
        if name not in files:
            raise bad_request(f"{param}: file {value} was not found in the request")
        return files[name]
    if isinstance(value, str):
        return value
    raise bad_request(f"{param}: expected a file")


def photo_sizes(world: World, value: Any, files: dict[str, UploadedFile], param: str) -> list[StoredFile]:
    source = resolve_file(value, files, param)
    if isinstance(source, str):
        if source.startswith(("http://", "https://")):
            # The sandbox has no internet: a URL photo becomes a placeholder image.
            data = make_jpeg(320, 240, seed=len(world.files))
        else:
            existing = world.photo_sets.get(source)
            if existing is None:
                known = world.files.get(source)
                if known is not None:
                    raise bad_request(f"can't use file of type {known.kind.title()} as Photo")
                raise bad_request("wrong file identifier/HTTP URL specified")
            return existing
    else:
        data = source.data
        if image_format(data) is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
    return store_photo(world, data)


def store_photo(world: World, data: bytes, thumbnail: bytes | None = None) -> list[StoredFile]:
    width, height = image_size(data) or (320, 240)
    scale = min(1.0, 90 / max(width, height, 1))
    small_data = thumbnail if thumbnail is not None else data
    small_size = image_size(small_data) if thumbnail is not None else None
    sw, sh = small_size or (max(1, round(width * scale)), max(1, round(height * scale)))
    sizes = [
        world.files.add(small_data, "photo", width=sw, height=sh),
        world.files.add(data, "photo", width=width, height=height),
    ]
    for size in sizes:
        world.photo_sets[size.file_id] = sizes
    return sizes


def media_file(world: World, kind: str, value: Any, files: dict[str, UploadedFile], param: str) -> StoredFile:
    source = resolve_file(value, files, param)
    if isinstance(source, UploadedFile):
        mime = source.content_type if source.content_type != "application/octet-stream" else None
        return world.files.add(source.data, kind, file_name=source.filename or None, mime_type=mime)
    if source.startswith(("http://", "https://")):
        name = source.rsplit("/", 1)[-1] or "file"
        return world.files.add(b"sandbox placeholder for " + source.encode(), kind, file_name=name)
    known = world.files.get(source)
    if known is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if known.kind != kind and not (kind == "document" and known.kind in ("document", "video", "audio")):
        raise bad_request(f"can't use file of type {known.kind.title()} as {kind.title()}")
    return known


def describe(msg: StoredMessage) -> str:
    """A one-line rendering of a message's content for transcripts."""
    if msg.kind == "text":
        return msg.text or ""
    if msg.kind == "service":
        return "[service " + ", ".join(f"{key}={value}" for key, value in (msg.service or {}).items()) + "]"
    label = {
        "photo": "[photo]",
        "location": "[location {loc}]",
        "contact": "[contact]",
        "sticker": "[sticker]",
        "voice": "[voice]",
        "video": "[video]",
        "audio": "[audio]",
        "animation": "[animation]",
    }.get(msg.kind, "[{kind}: {name}]")
    name = msg.media.file_name if msg.media is not None and msg.media.file_name else msg.kind
    loc = f"{msg.location[0]:.5f}, {msg.location[1]:.5f}" if msg.location else ""
    head = label.format(kind=msg.kind, name=name, loc=loc)
    return f"{head} {msg.caption}" if msg.caption else head


def button_labels(markup: dict[str, Any] | None) -> list[list[str]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [[str(b.get("text", "")) for b in row] for row in markup["inline_keyboard"]]
