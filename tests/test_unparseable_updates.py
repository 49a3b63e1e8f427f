"""An update python-telegram-bot cannot parse is passed over: everyone else is still answered, polling or webhook.

Two such updates, as a Bot API server of another version could send them: a poll answer without
`option_persistent_ids` (which python-telegram-bot 22.8 requires) and a message whose bold entity has no `length`.
Without the fix polling fails on every getUpdates from then on, and a webhook answers 400 for ever.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, running_webhook
from bot.domain.roles import Role
from bot.sandbox import Sandbox
from bot.sandbox.driver import SimUser
from bot.sandbox.objects import chat_json, user_json
from bot.services_factory import open_services
from bot.stage import Stage, sandbox_settings

WORDS = "三楼走廊堆放杂物，堵塞消防通道"


def queue_unparseable(sandbox: Sandbox, person: SimUser) -> list[int]:
    world = sandbox.world
    user = user_json(person.state)
    return [
        sandbox.queue_update("poll_answer", {"poll_id": "p1", "user": user, "option_ids": [0]}),
        sandbox.queue_update("message", {
            "message_id": 9001, "from": user, "chat": chat_json(world, world.chats[person.id]), "date": world.now(),
            "text": WORDS, "entities": [{"type": "bold", "offset": 0}],
        }),
    ]


def assert_skipped_quietly(records: list[logging.LogRecord], skipped: list[int]) -> None:
    """One WARNING per skipped update, by id and kind; nothing worse logged; nobody's words or name in the log."""
    notes = [r.getMessage() for r in records if r.name == "bot.incoming"]
    assert [n.split(":")[0] for n in notes] == [
        f"skipped update {skipped[0]} (poll_answer)", f"skipped update {skipped[1]} (message)"
    ], notes
    assert all(r.levelno == logging.WARNING for r in records if r.name == "bot.incoming")
    assert [r.getMessage() for r in records if r.levelno >= logging.ERROR] == []
    shown = "\n".join(r.getMessage() for r in records if r.levelno >= logging.WARNING)
    assert WORDS not in shown and "李娜" not in shown


async def replies_to_help(person: SimUser) -> list[str]:
    before = len(person.messages())
    await person.send_text("/help")
    return [m.text for m in person.messages()[before:]]


async def test_polling_passes_over_an_update_it_cannot_parse(
    bot_stage: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = bot_stage.sandbox
    cadre, other = sandbox.user(701, "李娜"), sandbox.user(702, "王强")
    await bot_stage.register(cadre, Role.CADRE, region="330302")
    await bot_stage.register(other, Role.CADRE, region="330302")
    usual = await replies_to_help(cadre)
    assert usual

    skipped = queue_unparseable(sandbox, cadre)
    # The same answers as before, and nothing for the skipped updates themselves.
    assert await replies_to_help(cadre) == usual
    assert await replies_to_help(other) == usual
    assert_skipped_quietly(caplog.records, skipped)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_webhook_passes_over_an_update_it_cannot_parse(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with Sandbox() as sandbox:
        services = await open_services(sandbox_settings(sandbox, tmp_path / "hook.db"))
        token = (await services.onboarding.create_invite(creator=None, role=Role.CITY)).token
        application = build_application(services, rate_limiter=False)
        port = free_port()
        try:
            async with running_webhook(application, listen="127.0.0.1", port=port,
                                       webhook_url=f"http://127.0.0.1:{port}/telegram/hook", secret_token="s3cret"):
                admin = sandbox.user(1, "李娜", language_code="en")
                await admin.send_text(f"/start {token}")
                usual = await replies_to_help(admin)
                assert usual

                skipped = queue_unparseable(sandbox, admin)
                assert await replies_to_help(admin) == usual
                statuses: dict[int, Any] = {d.update_id: d.status for d in sandbox.webhook_deliveries}
                # Taken (200) once each: Telegram would otherwise send them again and hold back the rest.
                assert [statuses[u] for u in skipped] == [200, 200]
                assert len(sandbox.webhook_deliveries) == len(statuses)
        finally:
            await services.close()
    assert_skipped_quietly(caplog.records, skipped)
