"""Webhook mode with its secret token, and proof that a request the Bot API would reject fails the tests."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest
from telegram.error import BadRequest

from bot.app import build_application, running_webhook
from bot.domain.roles import Role
from bot.sandbox import Sandbox
from bot.services_factory import open_services
from bot.stage import Stage, sandbox_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_bot_runs_behind_a_webhook_with_a_secret_token(tmp_path: Path) -> None:
    async with Sandbox() as sandbox:
        services = await open_services(sandbox_settings(sandbox, tmp_path / "hook.db"))
        token = (await services.onboarding.create_invite(creator=None, role=Role.CITY)).token
        application = build_application(services, rate_limiter=False)
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/hook"
        try:
            async with running_webhook(application, listen="127.0.0.1", port=port, webhook_url=url,
                                       secret_token="s3cret-Token_1"):
                admin = sandbox.user(user_id=1, first_name="Ada", language_code="en")
                await admin.send_text(f"/start {token}")
                assert "You are registered" in admin.messages()[0].text
                set_hook = sandbox.calls_to("setWebhook")[-1].params
                assert set_hook["url"] == url and set_hook["secret_token"] == "s3cret-Token_1"
                # The bot accepts only posts carrying the secret: every delivery got through.
                assert sandbox.webhook_deliveries and all(d.status == 200 for d in sandbox.webhook_deliveries)
                # Anyone else posting to the webhook without the secret is turned away.
                async with aiohttp.ClientSession() as session:
                    forged = {"update_id": 999, "message": {"message_id": 1, "date": 0, "text": "/invite",
                                                            "chat": {"id": 1, "type": "private"},
                                                            "from": {"id": 1, "is_bot": False, "first_name": "A"}}}
                    async with session.post(url, json=forged) as response:
                        assert response.status == 403
                assert len(admin.messages()) == 2
        finally:
            await services.close()


async def test_a_request_the_spec_rejects_is_caught(bot_stage: Stage) -> None:
    person = bot_stage.sandbox.user(user_id=5, first_name="P")
    await bot_stage.register(person, Role.CADRE, region="330302")
    bot = bot_stage.application.bot
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(5, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(5, "a < b & c")
    with pytest.raises(BadRequest):
        await bot.send_message(5, "hi", api_kwargs={"no_such_parameter": 1})
    violations = list(bot_stage.sandbox.violations)
    assert len(violations) == 3
    assert any("no_such_parameter" in violation for violation in violations)
    # The fixture fails any test whose bot made such requests; this one made them on purpose.
    bot_stage.sandbox.violations.clear()
