"""Bot API methods about the bot itself, chats, files, callback queries and the webhook."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.content import MAX_DOWNLOAD, Request
from bot.sandbox.errors import bad_request
from bot.sandbox.methods_messages import Handler
from bot.sandbox.objects import bot_json, chat_full_info, chat_member_json, file_json
from bot.sandbox.state import CallbackAnswer, WebhookConfig
from bot.sandbox.world import World

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def get_me(world: World, req: Request) -> Any:
    return bot_json(world, full=True)


def log_out(world: World, req: Request) -> Any:
    return True


def get_file(world: World, req: Request) -> Any:
    stored = world.files.get(req.params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id", violation=False)
    if stored.file_size > MAX_DOWNLOAD:
        raise bad_request("file is too big", violation=False)
    return file_json(stored)


def get_chat(world: World, req: Request) -> Any:
    return chat_full_info(world, world.find_chat(req.params["chat_id"]))


def get_chat_member(world: World, req: Request) -> Any:
    chat = world.find_chat(req.params["chat_id"])
    user_id = int(req.params["user_id"])
    if user_id != world.bot_id and user_id not in world.users:
        raise bad_request("user not found", violation=False)
    return chat_member_json(world, chat, user_id)


def ban_chat_member(world: World, req: Request) -> Any:
    """Remove a member (Telegram keeps them out of a supergroup until unbanned). Only an admin bot may; the group's
    creator cannot be removed. Refusals worded as Telegram's, and facts of the world (not the bot's bugs)."""
    chat, user_id = _restrictable(world, req)
    if chat.members.get(user_id) == "creator":
        raise bad_request("can't remove chat owner", violation=False)
    chat.members[user_id] = "kicked"
    return True


def unban_chat_member(world: World, req: Request) -> Any:
    """Let a removed member back: with only_if_banned, someone who is not banned is left as they are."""
    chat, user_id = _restrictable(world, req)
    status = chat.members.get(user_id, "left")
    if status == "kicked":
        chat.members[user_id] = "left"
    elif not req.params.get("only_if_banned") and status in ("member", "restricted"):
        chat.members[user_id] = "left"  # Telegram: "the user will not be a member of the chat after the call"
    return True


def _restrictable(world: World, req: Request) -> tuple[Any, int]:
    chat = world.find_chat(req.params["chat_id"])
    if chat.type == "private":
        raise bad_request("method is available for supergroup and channel chats only", violation=False)
    if chat.bot_status != "administrator":
        raise bad_request("not enough rights to restrict/unrestrict chat member", violation=False)
    return chat, int(req.params["user_id"])


def get_chat_administrators(world: World, req: Request) -> Any:
    chat = world.find_chat(req.params["chat_id"])
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat", violation=False)
    admins = [uid for uid, status in chat.members.items() if status in ("creator", "administrator")]
    if chat.bot_status == "administrator":
        admins.append(world.bot_id)
    return [chat_member_json(world, chat, uid) for uid in admins]


def get_chat_member_count(world: World, req: Request) -> Any:
    chat = world.find_chat(req.params["chat_id"])
    if chat.type == "private":
        return 2
    present = [s for s in chat.members.values() if s in ("creator", "administrator", "member", "restricted")]
    return len(present) + (chat.bot_status in ("member", "administrator"))


def _general_topic(closed: bool) -> Handler:
    """closeGeneralForumTopic and reopenGeneralForumTopic, for a bot that is an admin of the forum, as the spec
    requires (it says nothing of how Telegram words the refusals below; a bot that asks anyway breaks the spec)."""

    def handler(world: World, req: Request) -> Any:
        chat = world.find_chat(req.params["chat_id"])
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if chat.bot_status not in ("creator", "administrator"):
            raise bad_request("not enough rights to manage topics")
        if chat.general_closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED", violation=False)
        chat.general_closed = closed
        world.log("out", chat, "service", f"the General topic {'closed' if closed else 'reopened'}")
        return True

    return handler


def answer_callback_query(world: World, req: Request) -> Any:
    query = world.queries.get(req.params["callback_query_id"])
    expired = query is not None and time.monotonic() - query.created > world.callback_query_timeout
    if query is None or query.answer is not None or expired:
        raise bad_request("query is too old and response timeout expired or query ID is invalid", violation=False)
    text = req.params.get("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    answer = CallbackAnswer(
        query_id=query.id,
        user_id=query.user_id,
        text=text,
        show_alert=bool(req.params.get("show_alert", False)),
        url=req.params.get("url"),
    )
    query.answer = answer
    world.answers.append(answer)
    world.signal.notify()
    if text:
        chat = world.chats[query.chat_id]
        kind = "alert" if answer.show_alert else "answer"
        world.log("out", chat, kind, text, actor=world.users[query.user_id].display_name)
    return True


# ---- commands, menu button, names ---------------------------------------------------------------


def _language(params: dict[str, Any]) -> str:
    code = str(params.get("language_code", ""))
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("invalid language code specified")
    return code


def _scope_key(world: World, scope: dict[str, Any] | None) -> str:
    if not scope:
        return json.dumps({"type": "default"})
    key: dict[str, Any] = {"type": scope["type"]}
    if "chat_id" in scope:
        chat = world.find_chat(scope["chat_id"])
        if scope["type"] == "chat_administrators" and chat.type == "private":
            raise bad_request("can't use chat_administrators scope in private chats")
        key["chat_id"] = chat.id
    if "user_id" in scope:
        key["user_id"] = int(scope["user_id"])
    return json.dumps(key, sort_keys=True)


def set_my_commands(world: World, req: Request) -> Any:
    commands: list[dict[str, Any]] = req.params["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands: at most 100 are allowed")
    for command in commands:
        if not _COMMAND_RE.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command["description"].strip()
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("command description is too long")
    key = (_scope_key(world, req.params.get("scope")), _language(req.params))
    world.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
    return True


def get_my_commands(world: World, req: Request) -> Any:
    key = (_scope_key(world, req.params.get("scope")), _language(req.params))
    return list(world.commands.get(key, []))


def delete_my_commands(world: World, req: Request) -> Any:
    key = (_scope_key(world, req.params.get("scope")), _language(req.params))
    world.commands.pop(key, None)
    return True


def set_chat_menu_button(world: World, req: Request) -> Any:
    button = req.params.get("menu_button") or {"type": "default"}
    stored = None if button["type"] == "default" else button
    if "chat_id" in req.params:
        chat = world.find_chat(req.params["chat_id"])
        if chat.type != "private":
            raise bad_request("menu button can be set only in private chats")
        chat.menu_button = stored
    else:
        world.default_menu_button = stored
    return True


def get_chat_menu_button(world: World, req: Request) -> Any:
    if "chat_id" in req.params:
        chat = world.find_chat(req.params["chat_id"])
        if chat.menu_button is not None:
            return chat.menu_button
    return world.default_menu_button or {"type": "commands"}


def _bot_text(field: str, limit: int) -> tuple[Handler, Handler]:
    def setter(world: World, req: Request) -> Any:
        value = str(req.params.get(field, ""))
        if len(value) > limit:
            raise bad_request(f"{field} is too long: at most {limit} characters are allowed")
        world.bot_texts[(field, _language(req.params))] = value
        return True

    def getter(world: World, req: Request) -> Any:
        lang = _language(req.params)
        fallback = world.bot_first_name if field == "name" else ""
        value = world.bot_texts.get((field, lang), world.bot_texts.get((field, ""), fallback))
        return {field: value}

    return setter, getter


# ---- webhook ------------------------------------------------------------------------------------


def set_webhook(world: World, req: Request) -> Any:
    params = req.params
    url = str(params["url"]).strip()
    if params.get("drop_pending_updates"):
        world.drop_pending()
    if not url:
        world.webhook = None
        world.signal.notify()
        return True
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if parts.hostname not in _LOCAL_HOSTS:
        raise bad_request("bad webhook: the sandbox can only deliver to 127.0.0.1 or localhost")
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = int(params.get("max_connections", 40))
    if not 1 <= max_connections <= 100:
        raise bad_request("max_connections must be within 1-100")
    allowed = params.get("allowed_updates")
    world.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        allowed_updates=list(allowed) if allowed is not None else world.allowed_updates,
        ip_address=str(params.get("ip_address", "127.0.0.1")),
    )
    if allowed is not None:
        world.allowed_updates = list(allowed) or None
    world.signal.notify()
    return True


def delete_webhook(world: World, req: Request) -> Any:
    if req.params.get("drop_pending_updates"):
        world.drop_pending()
    world.webhook = None
    world.signal.notify()
    return True


def get_webhook_info(world: World, req: Request) -> Any:
    hook = world.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if hook is not None:
        info["ip_address"] = hook.ip_address
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message or ""
    return info


_set_name, _get_name = _bot_text("name", 64)
_set_description, _get_description = _bot_text("description", 512)
_set_short, _get_short = _bot_text("short_description", 120)

HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "logOut": log_out,
    "close": log_out,
    "getFile": get_file,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "banChatMember": ban_chat_member,
    "unbanChatMember": unban_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "closeGeneralForumTopic": _general_topic(closed=True),
    "reopenGeneralForumTopic": _general_topic(closed=False),
    "answerCallbackQuery": answer_callback_query,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "setMyName": _set_name,
    "getMyName": _get_name,
    "setMyDescription": _set_description,
    "getMyDescription": _get_description,
    "setMyShortDescription": _set_short,
    "getMyShortDescription": _get_short,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
