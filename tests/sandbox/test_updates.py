"""Getting updates to the bot: long polling with offsets, and webhook delivery."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.sandbox import Sandbox

from .conftest import api, build_app, ptb_idle


async def updates(sb: Sandbox, **params: Any) -> list[dict[str, Any]]:
    status, body = await api(sb, "getUpdates", params)
    assert status == 200, body
    result: list[dict[str, Any]] = body["result"]
    return result


async def test_offset_semantics(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice")
    for text in ("一", "二", "三"):
        await alice.send_text(text, wait=False)
    first = await updates(sb)
    ids = [u["update_id"] for u in first]
    assert [u["message"]["text"] for u in first] == ["一", "二", "三"]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert await updates(sb) == first  # unconfirmed updates come again
    assert [u["update_id"] for u in await updates(sb, offset=ids[1])] == ids[1:]
    # confirmed updates are gone for good, even when asking with a lower offset
    assert [u["update_id"] for u in await updates(sb, offset=ids[0])] == ids[1:]
    assert [u["update_id"] for u in await updates(sb, limit=1)] == ids[1:2]
    assert [u["update_id"] for u in await updates(sb, offset=-1)] == ids[2:]
    assert [u["update_id"] for u in await updates(sb)] == ids[2:]  # -1 forgot everything before
    assert await updates(sb, offset=ids[2] + 1) == []
    message = first[0]["message"]
    assert message["from"]["id"] == alice.id and message["chat"] == {
        "id": alice.id,
        "type": "private",
        "first_name": "Alice",
    }
    assert sb.violations == []


async def test_long_poll_wakes_at_once_and_times_out(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice")
    started = time.monotonic()
    poll = asyncio.create_task(updates(sb, timeout=5))
    await asyncio.sleep(0.1)
    await alice.send_text("/start abc", wait=False)
    got = await poll
    assert time.monotonic() - started < 1.0
    assert got[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    started = time.monotonic()
    assert await updates(sb, offset=got[0]["update_id"] + 1, timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2.0


async def test_allowed_updates_and_concurrent_polls(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice")
    await alice.send_text("hello", wait=False)
    assert await updates(sb, allowed_updates=["callback_query"]) == []  # the message was dropped
    await alice.send_text("again", wait=False)
    assert await updates(sb) == []  # the setting sticks until changed
    assert (await updates(sb, allowed_updates=[])) == []
    await alice.send_text("now", wait=False)
    now = await updates(sb)
    assert [u["message"]["text"] for u in now] == ["now"]

    offset = now[0]["update_id"] + 1
    older = asyncio.create_task(api(sb, "getUpdates", {"offset": offset, "timeout": 5}))
    await asyncio.sleep(0.1)
    newer = asyncio.create_task(api(sb, "getUpdates", {"offset": offset, "timeout": 0}))
    status, body = await older
    assert (status, body["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    )
    assert (await newer)[0] == 200


async def test_webhook_delivery_with_secret_and_retries(sb: Sandbox) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    failures = {"left": 2}

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        status, _ = await api(sb, "setWebhook", {"url": url, "secret_token": "s3cret-Token_1"})
        assert status == 200
        alice = sb.user(1001, "Alice")
        await alice.send_text("/start")  # settle() waits for a successful delivery
        assert len(received) == 3 and {secret for secret, _ in received} == {"s3cret-Token_1"}
        assert received[-1][1]["message"]["text"] == "/start"
        assert [d.status for d in sb.webhook_deliveries] == [500, 500, 200]
        _, info = await api(sb, "getWebhookInfo")
        assert info["result"]["url"] == url and info["result"]["pending_update_count"] == 0
        assert info["result"]["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
        status, body = await api(sb, "getUpdates")
        assert (status, body["description"]) == (
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
            "the webhook first",
        )
        status, body = await api(sb, "setWebhook", {"url": "https://example.org/hook"})
        assert status == 400
        assert (await api(sb, "deleteWebhook"))[0] == 200
        await alice.send_text("polling again", wait=False)
        assert [u["message"]["text"] for u in await updates(sb)] == ["polling again"]
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_ptb_webhook_application(sb: Sandbox) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"欢迎 {context.args}")

    app = build_app(sb)
    app.add_handler(CommandHandler("start", start))
    sb.set_idle_probe(lambda: ptb_idle(app))
    port = free_port()
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="tg",
        webhook_url=f"http://127.0.0.1:{port}/tg",
        secret_token="topsecret",
    )
    try:
        alice = sb.user(1001, "Alice")
        await alice.send_text("/start 123")
        assert alice.last_message().text == "欢迎 ['123']"
        assert sb.calls_to("setWebhook")[-1].params["secret_token"] == "topsecret"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert sb.violations == []


async def test_every_update_kind_matches_the_spec(sb: Sandbox) -> None:
    alice = sb.user(1001, "Alice", last_name="Wang", username="alice")
    group = sb.group(-100123, "鹿城区民政安全工作群", bot_status="administrator").add(alice)
    sent = await alice.send_text("/report@civil_safety_bot 3号楼 @civil_safety_bot", wait=False)
    await alice.edit_text(sent, "/report 4号楼", wait=False)
    await alice.send_photo(caption="现场", wait=False)
    await alice.send_document(b"%PDF-1.4", "检查表.pdf", "application/pdf", caption="表", chat=group, wait=False)
    await alice.send_location(27.99, 120.70, wait=False)
    await alice.send_sticker(wait=False)
    await alice.send_voice(wait=False)
    await alice.share_contact(wait=False)
    status, _ = await api(
        sb,
        "sendMessage",
        {
            "chat_id": alice.id,
            "text": "选",
            "reply_markup": {"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]},
        },
    )
    assert status == 200
    await alice.press("好", wait=False)
    alice.block_bot()
    got = await updates(sb)
    kinds = [next(k for k in u if k != "update_id") for u in got]
    assert kinds == ["message", "edited_message", *["message"] * 6, "callback_query", "my_chat_member"]
    assert got[0]["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 24},
        {"type": "mention", "offset": 29, "length": 17},
    ]
    for update in got:
        sb.spec.check(update, ["Update"], "update")
    document = got[3]["message"]["document"]
    assert document["file_name"] == "检查表.pdf" and document["mime_type"] == "application/pdf"
    _, file = await api(sb, "getFile", {"file_id": document["file_id"]})
    assert file["result"]["file_path"].startswith("documents/") and file["result"]["file_path"].endswith(".pdf")
