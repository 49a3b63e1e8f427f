"""The HTTP surface: decoding, strict validation, Telegram's limits and error answers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox, SimUser

from .conftest import api, assert_results_match_spec

BUTTON = {"text": "确认", "callback_data": "ok"}


async def started_user(sb: Sandbox, user_id: int = 1001, name: str = "Alice") -> SimUser:
    user = sb.user(user_id, name, username=name.lower())
    await user.send_text("/start", wait=False)
    return user


async def test_auth_unknown_method_and_case_insensitive_names(sb: Sandbox) -> None:
    assert await api(sb, "getMe", token="123456:WRONG") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, body = await api(sb, "getMee")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await api(sb, "GETME", how="query")
    assert status == 200 and body["result"]["username"] == "civil_safety_bot"
    assert body["result"]["is_bot"] is True
    assert sb.calls_to("getMe")[-1].ok


@pytest.mark.parametrize("how", ["form", "json", "query", "multipart"])
async def test_every_encoding_is_decoded(sb: Sandbox, how: str) -> None:
    alice = await started_user(sb)
    params = {"chat_id": alice.id, "text": "你好", "reply_markup": {"inline_keyboard": [[BUTTON]]}}
    status, body = await api(sb, "sendMessage", params, how=how)
    assert status == 200, body
    assert body["result"]["reply_markup"] == {"inline_keyboard": [[BUTTON]]}
    assert alice.last_message().buttons == [["确认"]]
    assert sb.violations == []
    assert_results_match_spec(sb)


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"chat_id": 1001, "text": "x", "colour": "red"}, 'unknown parameter "colour" for method sendMessage'),
        ({"chat_id": 1001}, "message text is empty"),
        ({"text": "x"}, "chat_id is empty"),
        ({"chat_id": 1001, "text": "x", "disable_notification": "yes"}, 'wrong parameter "disable_notification"'),
        ({"chat_id": 1001, "text": "x", "message_thread_id": "1.5"}, 'wrong parameter "message_thread_id"'),
        ({"chat_id": 1001, "text": "x", "reply_markup": "{not json"}, "can't parse JSON object"),
        (
            {"chat_id": 1001, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": 1}]]}},
            "reply_markup.inline_keyboard[0][0].callback_data: expected String, got Integer",
        ),
        (
            {"chat_id": 1001, "text": "x", "reply_markup": {"inline_keyboard": [[{"txt": "a"}]]}},
            "reply_markup.inline_keyboard[0][0].txt: unknown field of InlineKeyboardButton",
        ),
        (
            {"chat_id": 1001, "text": "x", "reply_markup": {"keyboard": [[{"label": "a"}]]}},
            "reply_markup.keyboard[0][0].label: unknown field of KeyboardButton",
        ),
        (
            {"chat_id": 1001, "text": "x", "reply_parameters": {"chat_id": 1001}},
            "reply_parameters.message_id: required field of ReplyParameters is missing",
        ),
    ],
)
async def test_spec_violations_are_rejected_and_recorded(sb: Sandbox, params: dict[str, Any], description: str) -> None:
    await started_user(sb)
    status, body = await api(sb, "sendMessage", params)
    assert status == 400
    assert body["description"].startswith("Bad Request: ")
    assert description in body["description"]
    assert len(sb.violations) == 1 and description in sb.violations[0]
    assert sb.world.chat_messages(1001)[-1].from_bot is False  # nothing was sent


async def test_booleans_and_numbers_as_telegram_reads_forms(sb: Sandbox) -> None:
    alice = await started_user(sb)
    for flag in ("true", "false", "1", "0", "True"):
        status, _ = await api(sb, "sendMessage", {"chat_id": str(alice.id), "text": "x", "protect_content": flag})
        assert status == 200
    status, _ = await api(sb, "sendLocation", {"chat_id": alice.id, "latitude": "28.0", "longitude": 120})
    assert status == 200
    assert alice.last_message().location == (28.0, 120.0)
    assert sb.violations == []


async def test_nested_unions_and_commands_per_scope_and_language(sb: Sandbox) -> None:
    sb.group(-100123, "鹿城区民政安全工作群")
    default = [{"command": "start", "description": "开始"}]
    admins = [{"command": "stats", "description": "统计"}]
    assert (await api(sb, "setMyCommands", {"commands": default}))[0] == 200
    assert (await api(sb, "setMyCommands", {"commands": default, "language_code": "en"}))[0] == 200
    scope = {"type": "chat_administrators", "chat_id": -100123}
    assert (await api(sb, "setMyCommands", {"commands": admins, "scope": scope}, how="json"))[0] == 200
    assert (await api(sb, "getMyCommands", {}))[1]["result"] == default
    assert (await api(sb, "getMyCommands", {"scope": scope}))[1]["result"] == admins
    assert (await api(sb, "getMyCommands", {"scope": {"type": "all_private_chats"}}))[1]["result"] == []
    await api(sb, "deleteMyCommands", {"language_code": "en"})
    assert (await api(sb, "getMyCommands", {"language_code": "en"}))[1]["result"] == []
    assert (await api(sb, "getMyCommands", {}))[1]["result"] == default
    assert sb.violations == []

    status, body = await api(sb, "setMyCommands", {"commands": default, "scope": {"type": "room"}})
    assert status == 400 and "unknown BotCommandScope type 'room'" in body["description"]
    status, body = await api(sb, "setMyCommands", {"commands": [{"command": "Start", "description": "x"}]})
    assert body["description"] == "Bad Request: BOT_COMMAND_INVALID"
    status, body = await api(sb, "setMyCommands", {"commands": [{"command": "start"}]})
    assert "commands[0].description: required field of BotCommand is missing" in body["description"]
    status, body = await api(sb, "setMyCommands", {"commands": default, "language_code": "zh-hans"})
    assert status == 400
    assert len(sb.violations) == 4


async def test_menu_button_round_trip(sb: Sandbox) -> None:
    alice = await started_user(sb)
    assert (await api(sb, "getChatMenuButton", {}))[1]["result"] == {"type": "commands"}
    button = {"type": "web_app", "text": "打开", "web_app": {"url": "https://example.org"}}
    assert (await api(sb, "setChatMenuButton", {"chat_id": alice.id, "menu_button": button}))[0] == 200
    assert (await api(sb, "getChatMenuButton", {"chat_id": alice.id}))[1]["result"] == button
    status, body = await api(sb, "setChatMenuButton", {"menu_button": {"type": "web_app", "text": "x"}})
    assert status == 400 and "web_app" in body["description"]
    assert_results_match_spec(sb)


async def test_text_limits(sb: Sandbox) -> None:
    alice = await started_user(sb)
    ok = await api(sb, "sendMessage", {"chat_id": alice.id, "text": "字" * 4096})
    assert ok[0] == 200
    cases = [
        ({"text": "字" * 4097}, "Bad Request: message is too long"),
        ({"text": "   "}, "Bad Request: message text is empty"),
        ({"text": "<b></b>", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
        (
            {"text": "1 < 2", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
        ),
        ({"text": "AT&T", "parse_mode": "HTML"}, 'Bad Request: can\'t parse entities: Character "&"'),
        ({"text": "<b>x</i>", "parse_mode": "HTML"}, "Bad Request: can't parse entities: Unmatched end tag"),
        ({"text": "x", "parse_mode": "html5"}, "Bad Request: unsupported parse_mode"),
    ]
    for params, description in cases:
        status, body = await api(sb, "sendMessage", {"chat_id": alice.id, **params})
        assert status == 400 and body["description"].startswith(description), body
    # length counts the text after entity parsing
    markup_heavy = "<b>" + "字" * 4096 + "</b>"
    assert (await api(sb, "sendMessage", {"chat_id": alice.id, "text": markup_heavy, "parse_mode": "HTML"}))[0] == 200
    assert len(sb.violations) == len(cases)


async def test_caption_limit_and_photo_upload(sb: Sandbox) -> None:
    from bot.sandbox.media import make_jpeg

    alice = await started_user(sb)
    image = make_jpeg(64, 48)
    status, body = await api(
        sb,
        "sendPhoto",
        {"chat_id": alice.id, "caption": "c" * 1025},
        how="multipart",
        files={"photo": ("p.jpg", image)},
    )
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    status, body = await api(
        sb,
        "sendPhoto",
        {"chat_id": alice.id, "caption": "c" * 1024},
        how="multipart",
        files={"photo": ("p.jpg", image)},
    )
    assert status == 200 and len(body["result"]["photo"]) == 2
    file_id = body["result"]["photo"][-1]["file_id"]
    # sending again by file_id reuses the stored photo
    status, body = await api(sb, "sendPhoto", {"chat_id": alice.id, "photo": file_id})
    assert status == 200 and body["result"]["photo"][-1]["file_id"] == file_id
    assert alice.last_message().photo == image
    status, body = await api(sb, "sendPhoto", {"chat_id": alice.id, "photo": "no-such-id"})
    assert body["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    status, body = await api(
        sb, "sendPhoto", {"chat_id": alice.id}, how="multipart", files={"photo": ("p.jpg", b"not an image")}
    )
    assert body["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    assert_results_match_spec(sb)


async def test_keyboard_limits(sb: Sandbox) -> None:
    alice = await started_user(sb)

    async def send(markup: dict[str, Any]) -> tuple[int, str]:
        status, body = await api(sb, "sendMessage", {"chat_id": alice.id, "text": "x", "reply_markup": markup})
        return status, body.get("description", "")

    assert (await send({"inline_keyboard": [[{"text": "a", "callback_data": "x" * 64}]]}))[0] == 200
    assert await send({"inline_keyboard": [[{"text": "a", "callback_data": "x" * 65}]]}) == (
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )
    assert (await send({"inline_keyboard": [[{"text": "a", "callback_data": "数" * 22}]]}))[1].endswith(
        "BUTTON_DATA_INVALID"
    )  # 66 bytes in UTF-8
    many = [[{"text": str(i), "callback_data": str(i)}] for i in range(101)]
    assert await send({"inline_keyboard": many}) == (400, "Bad Request: reply markup is too long")
    assert (await send({"inline_keyboard": many[:100]}))[0] == 200
    assert (await send({"inline_keyboard": [[{"text": "", "callback_data": "x"}]]}))[0] == 400
    assert "Text buttons are unallowed" in (await send({"inline_keyboard": [[{"text": "a"}]]}))[1]
    assert (await send({"keyboard": [["是", "否"]], "one_time_keyboard": True}))[0] == 200
    assert alice.reply_keyboard() == [["是", "否"]]
    assert (await send({"remove_keyboard": True}))[0] == 200
    assert alice.reply_keyboard() == []
    assert len(sb.violations) == 5


async def test_edit_and_delete_errors(sb: Sandbox) -> None:
    alice = await started_user(sb)
    markup = {"inline_keyboard": [[BUTTON]]}
    _, body = await api(
        sb, "sendMessage", {"chat_id": alice.id, "text": "<b>状态</b>", "parse_mode": "HTML", "reply_markup": markup}
    )
    mid = body["result"]["message_id"]
    same = {
        "chat_id": alice.id,
        "message_id": mid,
        "text": "<strong>状态</strong>",
        "parse_mode": "HTML",
        "reply_markup": markup,
    }
    status, body = await api(sb, "editMessageText", same)
    assert status == 400 and body["description"] == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    status, body = await api(
        sb, "editMessageReplyMarkup", {"chat_id": alice.id, "message_id": mid, "reply_markup": markup}
    )
    assert "message is not modified" in body["description"]
    # dropping the keyboard is a modification
    status, body = await api(sb, "editMessageText", {**same, "reply_markup": {"inline_keyboard": []}})
    assert status == 200 and alice.last_message().buttons == [] and alice.last_message().edited
    status, body = await api(sb, "editMessageText", {**same, "message_id": 999})
    assert body["description"] == "Bad Request: message to edit not found"
    status, body = await api(sb, "editMessageCaption", {"chat_id": alice.id, "message_id": mid, "caption": "x"})
    assert body["description"] == "Bad Request: there is no caption in the message to edit"
    user_msg = sb.world.chat_messages(alice.id)[0].message_id
    status, body = await api(sb, "editMessageText", {"chat_id": alice.id, "message_id": user_msg, "text": "x"})
    assert body["description"] == "Bad Request: message can't be edited"
    assert (await api(sb, "deleteMessage", {"chat_id": alice.id, "message_id": mid}))[0] == 200
    assert alice.messages() == [] and alice.messages(include_deleted=True)[0].deleted
    status, body = await api(sb, "deleteMessage", {"chat_id": alice.id, "message_id": mid})
    assert body["description"] == "Bad Request: message to delete not found"
    assert sb.violations == [
        "editMessageCaption: Bad Request: there is no caption in the message to edit",
        "editMessageText: Bad Request: message can't be edited",
    ]


async def test_chat_errors(sb: Sandbox) -> None:
    alice = await started_user(sb)
    bob = sb.user(1002, "Bob")
    status, body = await api(sb, "sendMessage", {"chat_id": 424242, "text": "x"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    status, body = await api(sb, "sendMessage", {"chat_id": bob.id, "text": "x"})
    assert (status, body["description"]) == (403, "Forbidden: bot can't initiate conversation with a user")
    alice.block_bot()
    status, body = await api(sb, "sendMessage", {"chat_id": alice.id, "text": "x"})
    assert (status, body) == (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    status, body = await api(sb, "sendChatAction", {"chat_id": alice.id, "action": "typing"})
    assert status == 403
    alice.unblock_bot()
    assert (await api(sb, "sendChatAction", {"chat_id": alice.id, "action": "typing"}))[0] == 200
    status, body = await api(sb, "sendChatAction", {"chat_id": alice.id, "action": "dancing"})
    assert body["description"] == "Bad Request: wrong parameter action in request"
    status, body = await api(sb, "answerCallbackQuery", {"callback_query_id": "123"})
    assert body["description"] == ("Bad Request: query is too old and response timeout expired or query ID is invalid")
    assert sb.violations == ["sendChatAction: Bad Request: wrong parameter action in request"]


async def test_group_members_and_chat_info(sb: Sandbox) -> None:
    alice, bob = await started_user(sb), sb.user(1002, "Bob")
    group = sb.group(-100123, "鹿城区民政安全工作群").add(alice, status="creator").add(bob)
    _, chat = await api(sb, "getChat", {"chat_id": group.chat_id})
    assert chat["result"]["type"] == "supergroup" and chat["result"]["title"] == "鹿城区民政安全工作群"
    _, member = await api(sb, "getChatMember", {"chat_id": group.chat_id, "user_id": bob.id})
    assert member["result"]["status"] == "member"
    _, admins = await api(sb, "getChatAdministrators", {"chat_id": group.chat_id})
    assert [a["user"]["id"] for a in admins["result"]] == [alice.id]
    _, count = await api(sb, "getChatMemberCount", {"chat_id": group.chat_id})
    assert count["result"] == 3
    status, body = await api(sb, "setChatTitle", {"chat_id": group.chat_id, "title": "新"})
    assert (status, body["result"]) == (200, True)  # Boolean methods without emulation answer True
    status, body = await api(
        sb, "sendPoll", {"chat_id": group.chat_id, "question": "q", "options": [{"text": "a"}, {"text": "b"}]}
    )
    assert status == 501 and sb.violations[-1].startswith("sendPoll: Not Implemented")
    assert_results_match_spec(sb)


async def test_media_group_and_file_download(sb: Sandbox) -> None:
    from bot.sandbox.media import make_jpeg

    alice = await started_user(sb)
    media = [{"type": "photo", "media": "attach://one", "caption": "一"}, {"type": "photo", "media": "attach://two"}]
    status, body = await api(
        sb,
        "sendMediaGroup",
        {"chat_id": alice.id, "media": media},
        how="multipart",
        files={"one": ("1.jpg", make_jpeg(16, 16, 1)), "two": ("2.jpg", make_jpeg(16, 16, 2))},
    )
    assert status == 200, body
    assert len({m["media_group_id"] for m in body["result"]}) == 1
    file_id = body["result"][1]["photo"][-1]["file_id"]
    _, got = await api(sb, "getFile", {"file_id": file_id})
    path = got["result"]["file_path"]
    assert path.startswith("photos/file_") and path.endswith(".jpg")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sb.base_file_url}{sb.token}/{path}") as response:
            assert await response.read() == make_jpeg(16, 16, 2)
        async with session.get(f"{sb.base_file_url}123456:WRONG/{path}") as response:
            assert response.status == 401
    status, body = await api(
        sb,
        "sendMediaGroup",
        {"chat_id": alice.id, "media": media[:1]},
        how="multipart",
        files={"one": ("1.jpg", make_jpeg(16, 16, 1))},
    )
    assert status == 400
    status, body = await api(sb, "sendMediaGroup", {"chat_id": alice.id, "media": json.dumps(media)})
    assert "attach://one was not found" in body["description"]
    assert_results_match_spec(sb)


async def test_a_closed_general_topic_takes_only_an_admins_messages(sb: Sandbox) -> None:
    """Closed (by an admin, or by a bot that is one with closeGeneralForumTopic), a forum's 'General' topic refuses
    a message without `message_thread_id` from a bot that is not an admin, as Telegram words it; its other topics,
    and a reply into one of them, still take it. The closing sends the bot no update: the spec names none."""
    owner = sb.user(1002, "Owner")
    forum = sb.group(-100124, "鹿城区民政论坛", is_forum=True).make_admin(owner)
    forum.add_topic("预警", 5)
    _, in_topic = await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "话题里", "message_thread_id": 5})
    pending = len(sb.world.updates)
    await forum.close_general_topic(by=owner)
    assert len(sb.world.updates) == pending

    status, body = await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "主聊天"})
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": "Bad Request: TOPIC_CLOSED"})
    status, _ = await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "x", "message_thread_id": 5})
    assert status == 200
    reply = {"message_id": in_topic["result"]["message_id"]}
    status, body = await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "回复", "reply_parameters": reply})
    assert status == 200 and body["result"]["message_thread_id"] == 5
    status, body = await api(sb, "closeGeneralForumTopic", {"chat_id": forum.chat_id})
    assert (status, body["description"]) == (400, "Bad Request: not enough rights to manage topics")

    forum.set_bot_status("administrator")
    status, _ = await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "管理员照发"})
    assert status == 200 and forum.last_message().stored.thread_id is None
    status, body = await api(sb, "closeGeneralForumTopic", {"chat_id": forum.chat_id})
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_NOT_MODIFIED")
    assert (await api(sb, "reopenGeneralForumTopic", {"chat_id": forum.chat_id}))[0] == 200
    forum.set_bot_status("member")
    assert (await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "重新开放"}))[0] == 200

    forum.set_bot_status("administrator")
    assert (await api(sb, "closeGeneralForumTopic", {"chat_id": forum.chat_id}))[0] == 200
    forum.set_bot_status("member")
    status, body = await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "又关了"})
    assert body["description"] == "Bad Request: TOPIC_CLOSED"
    await forum.reopen_general_topic(by=owner)
    assert (await api(sb, "sendMessage", {"chat_id": forum.chat_id, "text": "开了"}))[0] == 200
    assert sb.violations == ["closeGeneralForumTopic: Bad Request: not enough rights to manage topics"]
    assert_results_match_spec(sb)
