"""Bot API result objects (User, Chat, Message, ChatMember…) shaped exactly as the spec describes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.media import StoredFile
from bot.sandbox.state import ChatState, StoredMessage, UserState

if TYPE_CHECKING:
    from bot.sandbox.world import World

JSON = dict[str, Any]

_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


def user_json(user: UserState) -> JSON:
    out: JSON = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    if user.last_name:
        out["last_name"] = user.last_name
    if user.username:
        out["username"] = user.username
    if user.language_code:
        out["language_code"] = user.language_code
    return out


def bot_json(world: World, *, full: bool = False) -> JSON:
    out: JSON = {
        "id": world.bot_id,
        "is_bot": True,
        "first_name": world.bot_first_name,
        "username": world.bot_username,
    }
    if full:  # getMe adds the bot's capabilities
        out.update(
            can_join_groups=True,
            can_read_all_group_messages=not world.privacy_mode,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
    return out


def sender_json(world: World, sender_id: int) -> JSON:
    if sender_id == world.bot_id:
        return bot_json(world)
    return user_json(world.users[sender_id])


def chat_json(world: World, chat: ChatState) -> JSON:
    out: JSON = {"id": chat.id, "type": chat.type}
    if chat.type == "private":
        user = world.users[chat.id]
        out["first_name"] = user.first_name
        if user.last_name:
            out["last_name"] = user.last_name
        if user.username:
            out["username"] = user.username
        return out
    out["title"] = chat.title or ""
    if chat.username:
        out["username"] = chat.username
    if chat.type == "supergroup" and chat.is_forum:
        out["is_forum"] = True
    return out


def chat_full_info(world: World, chat: ChatState) -> JSON:
    out = chat_json(world, chat)
    out.update(
        accent_color_id=chat.id % 7,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    if chat.type != "private":
        out["permissions"] = {"can_send_messages": True}
    return out


def photo_sizes(sizes: list[StoredFile]) -> list[JSON]:
    return [
        {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.file_size,
            "width": f.width or 0,
            "height": f.height or 0,
        }
        for f in sizes
    ]


def media_json(kind: str, f: StoredFile, extra: JSON) -> JSON:
    out: JSON = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_size": f.file_size}
    if kind in ("document", "video", "audio", "animation") and f.file_name:
        out["file_name"] = f.file_name
    if kind in ("document", "video", "audio", "animation", "voice") and f.mime_type:
        out["mime_type"] = f.mime_type
    if kind == "sticker":
        out.update(type="regular", width=f.width or 512, height=f.height or 512, is_animated=False, is_video=False)
    if kind in ("video", "animation"):
        out.update(width=f.width or 320, height=f.height or 240)
    if kind in ("video", "animation", "audio", "voice"):
        out["duration"] = 1
    out.update(extra)
    return out


def message_json(world: World, msg: StoredMessage, *, with_reply: bool = True) -> JSON:
    chat = world.chats[msg.chat_id]
    out: JSON = {
        "message_id": msg.message_id,
        "from": sender_json(world, msg.sender_id),
        "chat": chat_json(world, chat),
        "date": msg.date,
    }
    if msg.thread_id is not None:
        out["message_thread_id"] = msg.thread_id
        out["is_topic_message"] = True
    if msg.forward_origin is not None:
        out["forward_origin"] = msg.forward_origin
    if msg.reply_to is not None and with_reply:
        replied = world.messages.get((msg.chat_id, msg.reply_to))
        if replied is not None and not replied.deleted:
            out["reply_to_message"] = message_json(world, replied, with_reply=False)
    if msg.edit_date is not None:
        out["edit_date"] = msg.edit_date
    if msg.media_group_id is not None:
        out["media_group_id"] = msg.media_group_id
    if msg.text is not None:
        out["text"] = msg.text
        if msg.entities:
            out["entities"] = msg.entities
    if msg.photo:
        out["photo"] = photo_sizes(msg.photo)
    if msg.media is not None:
        out[msg.kind] = media_json(msg.kind, msg.media, msg.media_extra)
    if msg.caption is not None:
        out["caption"] = msg.caption
        if msg.caption_entities:
            out["caption_entities"] = msg.caption_entities
    if msg.location is not None:
        out["location"] = {"latitude": msg.location[0], "longitude": msg.location[1]}
    if msg.contact is not None:
        out["contact"] = msg.contact
    if msg.reply_markup is not None:
        out["reply_markup"] = msg.reply_markup
    if msg.service is not None:
        out.update(msg.service)
    return out


def chat_member_json(world: World, chat: ChatState, user_id: int) -> JSON:
    if user_id == world.bot_id:
        user = bot_json(world)
        status = chat.bot_status
    else:
        user = user_json(world.users[user_id])
        status = chat.members.get(user_id, "left")
        if chat.type == "private":
            status = "member"
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        out: JSON = {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False}
        out.update(dict.fromkeys(_ADMIN_RIGHTS, True))
        return out
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status == "member":
        return {"status": "member", "user": user}
    return {"status": "left", "user": user}


def file_json(f: StoredFile) -> JSON:
    return {
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "file_size": f.file_size,
        "file_path": f.file_path,
    }
