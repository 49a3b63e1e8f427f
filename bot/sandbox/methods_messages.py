"""Bot API methods that send, edit and delete messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.content import (
    Request,
    apply_keyboard_state,
    button_labels,
    check_reply_markup,
    describe,
    inline_markup,
    media_file,
    message_caption,
    message_text,
    photo_sizes,
    reply_target,
    thread_of,
)
from bot.sandbox.errors import bad_request
from bot.sandbox.objects import message_json, sender_json
from bot.sandbox.state import ChatState, StoredMessage
from bot.sandbox.world import World

Handler = Callable[[World, Request], Any]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def _send(world: World, chat: ChatState, kind: str, params: dict[str, Any], **fields: Any) -> StoredMessage:
    markup = params.get("reply_markup")
    reply_to = reply_target(world, chat, params)
    thread = thread_of(chat, params, world.get_message(chat.id, reply_to) if reply_to is not None else None)
    world.check_rate(chat)
    silent = params.get("disable_notification") in (True, "true", "True", 1, "1")
    msg = world.new_message(
        chat, world.bot_id, kind, reply_markup=inline_markup(markup), reply_to=reply_to, thread_id=thread,
        silent=silent, **fields
    )
    apply_keyboard_state(chat, markup)
    world.log("out", chat, kind, describe(msg), buttons=button_labels(msg.reply_markup), message_id=msg.message_id)
    return msg


def send_message(world: World, req: Request) -> Any:
    plain, raw, entities = message_text(req.params)
    check_reply_markup(req.params.get("reply_markup"))
    chat = world.chat_for_sending(req.params["chat_id"])
    return message_json(world, _send(world, chat, "text", req.params, text=plain, html=raw, entities=entities))


def _caption_fields(params: dict[str, Any]) -> dict[str, Any]:
    plain, raw, entities = message_caption(params)
    return {"caption": plain, "caption_raw": raw, "caption_entities": entities}


def send_photo(world: World, req: Request) -> Any:
    caption = _caption_fields(req.params)
    check_reply_markup(req.params.get("reply_markup"))
    chat = world.chat_for_sending(req.params["chat_id"])
    sizes = photo_sizes(world, req.params["photo"], req.files, "photo")
    return message_json(world, _send(world, chat, "photo", req.params, photo=sizes, **caption))


def _media_sender(kind: str) -> Handler:
    def handler(world: World, req: Request) -> Any:
        caption = _caption_fields(req.params) if kind != "sticker" else {}
        check_reply_markup(req.params.get("reply_markup"))
        chat = world.chat_for_sending(req.params["chat_id"])
        stored = media_file(world, kind, req.params[kind], req.files, kind)
        extra: dict[str, Any] = {}
        if kind == "sticker" and req.params.get("emoji"):
            extra["emoji"] = req.params["emoji"]
        return message_json(world, _send(world, chat, kind, req.params, media=stored, media_extra=extra, **caption))

    return handler


def send_location(world: World, req: Request) -> Any:
    lat, lon = float(req.params["latitude"]), float(req.params["longitude"])
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise bad_request("wrong location specified")
    check_reply_markup(req.params.get("reply_markup"))
    chat = world.chat_for_sending(req.params["chat_id"])
    return message_json(world, _send(world, chat, "location", req.params, location=(lat, lon)))


def send_contact(world: World, req: Request) -> Any:
    check_reply_markup(req.params.get("reply_markup"))
    chat = world.chat_for_sending(req.params["chat_id"])
    contact = {k: req.params[k] for k in ("phone_number", "first_name", "last_name", "vcard") if k in req.params}
    return message_json(world, _send(world, chat, "contact", req.params, contact=contact))


def send_chat_action(world: World, req: Request) -> Any:
    if req.params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.chat_for_sending(req.params["chat_id"])
    return True


def send_media_group(world: World, req: Request) -> Any:
    media: list[dict[str, Any]] = req.params["media"]
    if not 2 <= len(media) <= 10:
        raise bad_request("media group must include 2-10 items")
    kinds = {item["type"] for item in media}
    if len(kinds) > 1 and kinds & {"document", "audio"}:
        raise bad_request("documents and audio files can't be mixed with other media types in an album")
    captions = [_caption_fields(item) for item in media]
    chat = world.chat_for_sending(req.params["chat_id"])
    group_id = world.next_media_group_id()
    sent: list[Any] = []
    for index, (item, caption) in enumerate(zip(media, captions, strict=True)):
        path = f"media[{index}].media"
        if item["type"] == "photo":
            fields: dict[str, Any] = {"photo": photo_sizes(world, item["media"], req.files, path)}
        else:
            fields = {"media": media_file(world, item["type"], item["media"], req.files, path)}
        msg = _send(world, chat, item["type"], req.params, media_group_id=group_id, **fields, **caption)
        sent.append(message_json(world, msg))
    return sent


# ---- editing and deleting ------------------------------------------------------------------------


def _target(world: World, params: dict[str, Any], action: str) -> StoredMessage:
    if params.get("inline_message_id") is not None:
        # Inline messages only come from inline queries, which the sandbox never produces.
        raise bad_request("MESSAGE_ID_INVALID")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
    chat = world.find_chat(params["chat_id"])
    msg = world.get_message(chat.id, int(params["message_id"]))
    if msg is None:
        raise bad_request(f"message to {action} not found", violation=False)
    return msg


def _editable(world: World, params: dict[str, Any]) -> StoredMessage:
    msg = _target(world, params, "edit")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    return msg


def _finish_edit(world: World, msg: StoredMessage) -> Any:
    msg.edit_date = world.now()
    world.signal.notify()
    chat = world.chats[msg.chat_id]
    world.log("out", chat, "edit", describe(msg), buttons=button_labels(msg.reply_markup), message_id=msg.message_id)
    return message_json(world, msg)


def edit_message_text(world: World, req: Request) -> Any:
    plain, raw, entities = message_text(req.params)
    markup = req.params.get("reply_markup")
    check_reply_markup(markup)
    msg = _editable(world, req.params)
    if msg.kind != "text":
        raise bad_request("there is no text in the message to edit")
    new_markup = inline_markup(markup)
    if (plain, entities, new_markup) == (msg.text, msg.entities, msg.reply_markup):
        raise bad_request(NOT_MODIFIED, violation=False)
    msg.text, msg.html, msg.entities, msg.reply_markup = plain, raw, entities, new_markup
    return _finish_edit(world, msg)


def edit_message_caption(world: World, req: Request) -> Any:
    plain, raw, entities = message_caption(req.params)
    markup = req.params.get("reply_markup")
    check_reply_markup(markup)
    msg = _editable(world, req.params)
    if msg.kind in ("text", "location", "contact", "sticker"):
        raise bad_request("there is no caption in the message to edit")
    new_markup = inline_markup(markup)
    if (plain, entities, new_markup) == (msg.caption, msg.caption_entities, msg.reply_markup):
        raise bad_request(NOT_MODIFIED, violation=False)
    msg.caption, msg.caption_raw, msg.caption_entities, msg.reply_markup = plain, raw, entities, new_markup
    return _finish_edit(world, msg)


def edit_message_reply_markup(world: World, req: Request) -> Any:
    markup = req.params.get("reply_markup")
    check_reply_markup(markup)
    msg = _editable(world, req.params)
    new_markup = inline_markup(markup)
    if new_markup == msg.reply_markup:
        raise bad_request(NOT_MODIFIED, violation=False)
    msg.reply_markup = new_markup
    return _finish_edit(world, msg)


def _delete(world: World, msg: StoredMessage) -> None:
    chat = world.chats[msg.chat_id]
    if chat.type != "private" and not msg.from_bot and chat.bot_status not in ("administrator", "creator"):
        raise bad_request("message can't be deleted", violation=False)
    msg.deleted = True
    world.signal.notify()
    world.log("out", chat, "delete", f"(deleted message #{msg.message_id})", message_id=msg.message_id)


def delete_message(world: World, req: Request) -> Any:
    _delete(world, _target(world, req.params, "delete"))
    return True


def delete_messages(world: World, req: Request) -> Any:
    ids: list[int] = req.params["message_ids"]
    if not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 identifiers")
    chat = world.find_chat(req.params["chat_id"])
    found = [m for m in (world.get_message(chat.id, i) for i in ids) if m is not None]
    if not found:
        raise bad_request("message to delete not found", violation=False)
    for msg in found:
        _delete(world, msg)
    return True


def _source(world: World, params: dict[str, Any], action: str) -> StoredMessage:
    from_chat = world.find_chat(params["from_chat_id"])
    msg = world.get_message(from_chat.id, int(params["message_id"]))
    if msg is None:
        raise bad_request(f"message to {action} not found", violation=False)
    return msg


_CONTENT = ("text", "html", "entities", "photo", "media", "media_extra", "location", "contact")


def copy_message(world: World, req: Request) -> Any:
    src = _source(world, req.params, "copy")
    fields = {name: getattr(src, name) for name in _CONTENT}
    if "caption" in req.params:
        fields.update(_caption_fields(req.params))
    elif src.kind != "text":
        fields.update(caption=src.caption, caption_raw=src.caption_raw, caption_entities=src.caption_entities)
    check_reply_markup(req.params.get("reply_markup"))
    chat = world.chat_for_sending(req.params["chat_id"])
    msg = _send(world, chat, src.kind, req.params, **fields)
    return {"message_id": msg.message_id}


def forward_message(world: World, req: Request) -> Any:
    src = _source(world, req.params, "forward")
    chat = world.chat_for_sending(req.params["chat_id"])
    fields = {name: getattr(src, name) for name in _CONTENT}
    fields.update(caption=src.caption, caption_raw=src.caption_raw, caption_entities=src.caption_entities)
    origin = {"type": "user", "date": src.date, "sender_user": sender_json(world, src.sender_id)}
    msg = _send(world, chat, src.kind, {}, forward_origin=origin, **fields)
    return message_json(world, msg)


HANDLERS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": _media_sender("document"),
    "sendVideo": _media_sender("video"),
    "sendAudio": _media_sender("audio"),
    "sendVoice": _media_sender("voice"),
    "sendAnimation": _media_sender("animation"),
    "sendSticker": _media_sender("sticker"),
    "sendLocation": send_location,
    "sendContact": send_contact,
    "sendChatAction": send_chat_action,
    "sendMediaGroup": send_media_group,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "copyMessage": copy_message,
    "forwardMessage": forward_message,
}
