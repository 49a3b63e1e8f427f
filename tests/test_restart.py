"""Nothing lost: a conversation survives a restart and a crash (SIGKILL, no graceful shutdown)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.domain.roles import Role
from bot.sandbox import Sandbox
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services_factory import open_services
from bot.stage import Stage, sandbox_settings
from storage import db
from storage.db import Database

FLUSH_INTERVAL = 1.0  # SQLitePersistence writes conversation steps at least this often


async def test_a_restart_in_the_middle_of_an_invitation_resumes_at_the_same_step(bot_stage: Stage) -> None:
    admin = bot_stage.sandbox.user(user_id=1, first_name="A", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/invite")
    await admin.press("Community cadre")
    await bot_stage.restart()
    await admin.press("Lucheng District")
    assert "Invitation created" in admin.last_message().text


async def test_a_step_the_database_refused_for_a_while_is_saved_once_it_takes_writes_again(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process can hold SQLite's write lock past the busy timeout (an import from the command line).
    The Application hands each changed step over once: a refused write used to be dropped, and the next restart
    found the conversation at an earlier step, or gone."""
    admin = bot_stage.sandbox.user(user_id=1, first_name="A", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    monkeypatch.setattr(db, "REFUSED_RETRY_FIRST", 0.05)
    locked, refused = [True], [0]
    execute = Database.execute

    async def refusing(database: Database, sql: str, *args: Any) -> int:
        if locked[0] and "ptb_conversations" in sql:
            refused[0] += 1
            raise sqlite3.OperationalError("database is locked")
        return await execute(database, sql, *args)

    monkeypatch.setattr(Database, "execute", refusing)
    with caplog.at_level(logging.INFO, logger="bot.persistence"):
        await admin.send_text("/invite")
        await admin.press("Community cadre")
        await asyncio.sleep(FLUSH_INTERVAL * 1.5)  # the step's write has been tried, and refused
        assert refused[0] > 0
        locked[0] = False
        await bot_stage.sandbox.wait_for(
            lambda: any(" saved at try " in r.getMessage() for r in caplog.records), timeout=10
        )
        await asyncio.sleep(FLUSH_INTERVAL * 1.5)
    assert any("not saved (database is locked); trying again" in r.getMessage() for r in caplog.records)
    await bot_stage.restart()
    await admin.press("Lucheng District")
    assert "Invitation created" in admin.last_message().text


def bot_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(BOT_TOKEN=settings.bot_token, BOT_API_BASE_URL=settings.bot_api_base_url,
               BOT_API_BASE_FILE_URL=settings.file_base_url, DATABASE_PATH=str(settings.database_path))
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


async def exited(process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    """Wait without blocking the event loop: the emulator that the process talks to runs in it."""
    for _ in range(int(seconds / 0.05)):
        if process.poll() is not None:
            return
        await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("the bot did not stop in time")


async def test_a_crash_in_the_middle_of_an_invitation_resumes_at_the_same_step(tmp_path: Path) -> None:
    async with Sandbox() as sandbox:
        settings = sandbox_settings(sandbox, tmp_path / "s.db")
        services = await open_services(settings)
        await load_city_data(services.storage, DEMO_DATA_DIR)
        token = (await services.onboarding.create_invite(creator=None, role=Role.CITY)).token
        await services.close()

        admin = sandbox.user(user_id=1, first_name="A", language_code="en")
        first = bot_process(settings)
        try:
            await sandbox.wait_for(lambda: bool(sandbox.calls_to("getUpdates")), timeout=30)
            await admin.send_text(f"/start {token}")
            await sandbox.wait_for(lambda: bool(admin.messages()), timeout=10)
            await admin.send_text("/invite")
            await admin.press("Community cadre")
            assert admin.last_message().text == "Which region?"
            await asyncio.sleep(FLUSH_INTERVAL * 1.5)
        finally:
            first.send_signal(signal.SIGKILL)
            await exited(first)
        assert first.returncode == -signal.SIGKILL

        polls_before = len(sandbox.calls_to("getUpdates"))
        second = bot_process(settings)
        try:
            await sandbox.wait_for(lambda: len(sandbox.calls_to("getUpdates")) > polls_before, timeout=30)
            await admin.press("Lucheng District")
            await sandbox.wait_for(lambda: "Invitation created" in admin.last_message().text, timeout=10)
            assert re.search(r"\?start=[\w-]+", admin.last_message().text)
        finally:
            second.send_signal(signal.SIGTERM)
            await exited(second)
        assert second.returncode == 0
        assert sandbox.violations == []
