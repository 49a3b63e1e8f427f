"""A real python-telegram-bot Application against the sandbox, driven by simulated people."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox import Sandbox

from .conftest import assert_results_match_spec, polling_app

MENU = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("上报隐患", callback_data="report"),
            InlineKeyboardButton("查看统计", callback_data="stats"),
        ],
        [InlineKeyboardButton("帮助", url="https://example.org/help")],
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_html("<b>欢迎</b>使用安全助手 &lt;鹿城&gt;", reply_markup=MENU)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if query.data not in ("report", "stats"):
        await query.answer("按钮已过期", show_alert=True)
        return
    await query.answer("收到")
    await query.edit_message_text(f"你选择了：{query.data}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(f"回声：{message.text}")


async def photo_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    file = await message.photo[-1].get_file()
    data = bytes(await file.download_as_bytearray())
    await message.reply_document(data, filename="copy.jpg", caption=hashlib.sha256(data).hexdigest())


HANDLERS = (
    CommandHandler("start", start),
    CallbackQueryHandler(on_button),
    MessageHandler(filters.PHOTO, photo_digest),
    MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
)


async def test_conversation_with_buttons_and_settle(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice", username="alice")
    async with polling_app(sb, *HANDLERS):
        await alice.send_text("/start")
        menu = alice.last_message()  # no sleeps: send_text returned after the bot reacted
        assert menu.text == "欢迎使用安全助手 <鹿城>"
        assert menu.html == "<b>欢迎</b>使用安全助手 &lt;鹿城&gt;"
        assert menu.buttons == [["上报隐患", "查看统计"], ["帮助"]]
        assert menu.button_data == [["report", "stats"], [None]]
        assert menu.entities == [{"type": "bold", "offset": 0, "length": 2}]

        query = await alice.press("上报")  # a part of the label is enough when it is unique
        assert query.answer is not None and query.answer.text == "收到"
        assert menu.text == "你选择了：report" and menu.edited and menu.buttons == []

        with pytest.raises(AssertionError, match="sees no button '统计'"):
            await alice.press("统计")  # the keyboard is gone after the edit
        stale = await alice.press_data(menu, "old-data")
        assert stale.answer is not None and stale.answer.show_alert
        assert [a.text for a in alice.answers()] == ["收到", "按钮已过期"]

        await alice.send_text("你好")
        assert alice.last_message().text == "回声：你好"
        assert len(alice.messages()) == 2

    transcript = sb.format_transcript()
    assert transcript.splitlines()[:4] == [
        "👤 Alice: /start",
        "🤖 → Alice: 欢迎使用安全助手 <鹿城>",
        "    [ 上报隐患 ]  [ 查看统计 ]",
        "    [ 帮助 ]",
    ]
    assert "👤 Alice: [上报隐患]" in transcript and "🤖 ✎ Alice: 你选择了：report" in transcript
    assert sb.violations == []
    assert_results_match_spec(sb)


async def test_settle_without_idle_probe(sb: Sandbox) -> None:
    async def slow_echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("一")
        await asyncio.sleep(0.05)
        await update.effective_message.reply_text("二")

    alice = sb.user(1001, "Alice")
    async with polling_app(sb, MessageHandler(filters.TEXT, slow_echo), probe=False):
        await alice.send_text("go")
        assert [m.text for m in alice.messages()] == ["一", "二"]


async def test_settle_explains_a_bot_that_is_not_running(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice")
    with pytest.raises(TimeoutError, match=r"did not fetch update \d+ \(message from Alice: hi\)"):
        await alice.send_text("hi", wait=False)
        await sb.settle(timeout=0.3)


async def test_photo_round_trip(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice")
    async with polling_app(sb, *HANDLERS):
        sent = await alice.send_photo(caption="楼道堆放杂物")
        original = sb.world.get_message(alice.id, sent.message_id)
        assert original is not None and len(original.photo) == 2
        data = original.photo[-1].data
        reply = alice.last_message()
        assert reply.kind == "document" and reply.document == data and reply.document_name == "copy.jpg"
        assert reply.caption == hashlib.sha256(data).hexdigest()
        assert data.startswith(b"\xff\xd8") and str(reply).startswith("[document: copy.jpg]")
    assert sb.violations == []
    assert_results_match_spec(sb)


# PTB warns about its own RetryAfter.retry_after type change whenever a 429 arrives.
QUIET_PTB = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@QUIET_PTB
async def test_faults_429_500_and_exactly_once(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice")
    await alice.send_text("/start", wait=False)
    async with polling_app(sb) as app:
        sb.inject_fault("sendMessage", "429", retry_after=7)
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(alice.id, "第一次")
        assert caught.value.retry_after in (7, timedelta(seconds=7))
        assert alice.messages() == []
        assert sb.calls_to("sendMessage")[-1].error_code == 429

        sb.inject_fault("sendMessage", "500", times=2)
        attempts = 0
        while True:
            attempts += 1
            try:
                await app.bot.send_message(alice.id, "终于")
                break
            except NetworkError:
                continue
        assert attempts == 3 and [m.text for m in alice.messages()] == ["终于"]

        sb.inject_fault("sendMessage", "502")
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.send_message(alice.id, "x")
        sb.inject_fault("sendMessage", "403")
        with pytest.raises(Forbidden, match="blocked"):
            await app.bot.send_message(alice.id, "x")
        sb.inject_fault("sendMessage", "drop")
        with pytest.raises(NetworkError):
            await app.bot.send_message(alice.id, "x")
        sb.inject_fault("sendMessage", "timeout")
        with pytest.raises(TimedOut):
            await app.bot.send_message(alice.id, "x", read_timeout=0.3)
        sb.inject_fault("sendMessage", "slow", delay=0.2)
        await app.bot.send_message(alice.id, "慢")
        assert [m.text for m in alice.messages()] == ["终于", "慢"]  # faulted sends delivered nothing
        await sb.wait_for(lambda: all(c.finished_at is not None for c in sb.calls_to("sendMessage")), 2)
        assert sb.calls_to("sendMessage")[-2].ok is False  # the held request, ended by the client
    assert sb.violations == []


async def test_fault_filters_and_seeded_probability() -> None:
    async with Sandbox(seed=42) as first, Sandbox(seed=42) as second:
        decisions = []
        for sandbox in (first, second):
            sandbox.inject_fault("sendMessage", "500", times=None, probability=0.5)
            decisions.append([sandbox.faults.pick("sendMessage", 1) is not None for _ in range(20)])
        assert decisions[0] == decisions[1] and 3 < sum(decisions[0]) < 17
        first.clear_faults()
        first.inject_fault("*", "500", chat_id=7)
        assert first.faults.pick("sendPhoto", 8) is None
        assert first.faults.pick("sendPhoto", 7) is not None
        assert first.faults.pick("sendPhoto", 7) is None  # times=1 by default


async def test_blocked_user_and_group_privacy(sb: Sandbox) -> None:
    alice, bob = sb.user(1001, "Alice"), sb.user(1002, "Bob")
    group = sb.group(-100123, "鹿城区民政安全工作群").add(alice, bob)
    async with polling_app(sb, *HANDLERS, CommandHandler("report", echo)) as app:
        await alice.send_text("大家好", chat=group)  # privacy mode: the bot does not see plain chatter
        assert group.messages() == []
        await alice.send_text("/start@civil_safety_bot", chat=group)
        assert group.last_message().buttons[0] == ["上报隐患", "查看统计"]
        await bob.send_text("/start@other_bot", chat=group)
        assert len(group.messages()) == 1
        await bob.send_text("回复机器人", chat=group, reply_to=group.last_message())
        assert group.last_message().text == "回声：回复机器人"
        await bob.press("查看统计", chat=group)
        assert group.messages()[0].text == "你选择了：stats"
        assert "👤 Alice @ 鹿城区民政安全工作群: 大家好" in sb.format_transcript()

        await alice.send_text("/start")
        alice.block_bot()
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(alice.id, "还在吗")
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(999, "x")
    assert sb.violations == []


async def test_reply_keyboard_and_edited_messages(sb: Sandbox) -> None:
    seen: list[str] = []

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "是否发现隐患？", reply_markup=ReplyKeyboardMarkup([["是", "否"]], one_time_keyboard=True)
        )

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        seen.append(("edit:" if update.edited_message else "") + (message.text or ""))

    alice = sb.user(1001, "Alice")
    async with polling_app(sb, CommandHandler("ask", ask), MessageHandler(filters.TEXT & ~filters.COMMAND, record)):
        await alice.send_text("/ask")
        assert alice.reply_keyboard() == [["是", "否"]]
        sent = await alice.tap("是")
        await alice.edit_text(sent, "否")
        assert seen == ["是", "edit:否"]
        with pytest.raises(AssertionError, match="no reply-keyboard button '也许'"):
            await alice.tap("也许")
    assert sb.violations == []


@QUIET_PTB
async def test_rate_limits_when_enabled() -> None:
    async with Sandbox(enforce_rate_limits=True) as sb:
        alice = sb.user(1001, "Alice")
        await alice.send_text("/start", wait=False)
        async with polling_app(sb) as app:
            for i in range(3):
                await app.bot.send_message(alice.id, f"第{i}条")
            with pytest.raises(RetryAfter):
                await app.bot.send_message(alice.id, "太快了")
        assert len(alice.messages()) == 3
