"""The retrying request layer against the emulator: what it retries, what it never does, and where it stops.

The whole bot under faults is in tests/resilience/test_faults.py; here one bot sends one message, so each rule shows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.retrying import RetryingRequest, RetryPolicy
from bot.sandbox import Sandbox
from bot.stage import Stage
from tests.hazard_people import cast

QUICK = RetryPolicy(attempts=4, first_delay=0.02, max_delay=0.05, budget=30.0)
PERSON = 7


@asynccontextmanager
async def bot_on(sandbox: Sandbox, policy: RetryPolicy = QUICK, **httpx_options: float) -> AsyncIterator[Bot]:
    sandbox.user(PERSON, "李娜").state.started = True
    bot = Bot(sandbox.token, base_url=sandbox.base_url, request=RetryingRequest(policy, seed=1, **httpx_options))
    async with bot:
        yield bot


def retries_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.retrying" and r.levelno == logging.WARNING]


@pytest.mark.parametrize("kind", ["500", "502", "drop"])
async def test_a_reply_that_failed_on_the_way_arrives_once(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    async with Sandbox() as sandbox, bot_on(sandbox) as bot:
        sandbox.inject_fault("sendMessage", kind, times=2)
        await bot.send_message(PERSON, "请描述隐患")
        assert [m.text for m in sandbox.user(PERSON, "李娜").messages()] == ["请描述隐患"]
        assert len(sandbox.calls_to("sendMessage")) == 3
    logged = retries_logged(caplog)
    assert len(logged) == 2
    assert all(line.startswith("Bot API sendMessage failed (") for line in logged)
    assert "on attempt 1 of 4" in logged[0] and "on attempt 2 of 4" in logged[1]
    assert ("HTTP " + kind if kind != "drop" else "RemoteProtocolError") in logged[0]
    assert sandbox.token not in "".join(logged)  # the URL carries the token: it never reaches the log


async def test_a_read_timeout_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    async with Sandbox() as sandbox, bot_on(sandbox, read_timeout=1.0) as bot:
        # Held past the client's read timeout; the emulator never carries out a faulted request.
        sandbox.inject_fault("sendMessage", "timeout", times=1, delay=30.0)
        await bot.send_message(PERSON, "请描述隐患")
        assert [m.text for m in sandbox.user(PERSON, "李娜").messages()] == ["请描述隐患"]
    assert ["timed out: ReadTimeout" in line for line in retries_logged(caplog)] == [True]


async def test_a_request_telegram_refuses_is_never_retried(caplog: pytest.LogCaptureFixture) -> None:
    async with Sandbox() as sandbox, bot_on(sandbox) as bot:
        sandbox.user(8, "陈院长")  # never started the bot: 403
        with pytest.raises(Forbidden):
            await bot.send_message(8, "您好")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(404404, "您好")
        sandbox.inject_fault("sendMessage", "403", times=1)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(PERSON, "您好")
        assert len(sandbox.calls_to("sendMessage")) == 3
        assert sandbox.user(PERSON, "李娜").messages() == []
    assert retries_logged(caplog) == []


async def test_retries_stop_after_the_last_attempt(caplog: pytest.LogCaptureFixture) -> None:
    async with Sandbox() as sandbox, bot_on(sandbox) as bot:
        sandbox.inject_fault("sendMessage", "502", times=None)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(PERSON, "请描述隐患")
        assert len(sandbox.calls_to("sendMessage")) == QUICK.attempts
    assert len(retries_logged(caplog)) == QUICK.attempts - 1
    assert any(r.levelno == logging.ERROR and "giving up" in r.getMessage() for r in caplog.records)


async def test_retries_stop_when_the_time_is_spent() -> None:
    # Each wait is at least half the first delay, so the budget allows at most budget / (first_delay / 2) retries.
    policy = RetryPolicy(attempts=1000, first_delay=0.04, max_delay=0.04, budget=0.2)
    async with Sandbox() as sandbox, bot_on(sandbox, policy) as bot:
        sandbox.inject_fault("sendMessage", "500", times=None)
        with pytest.raises(NetworkError):
            await bot.send_message(PERSON, "请描述隐患")
        assert 2 <= len(sandbox.calls_to("sendMessage")) <= 1 + 0.2 / 0.02


async def test_a_button_answer_that_hangs_is_retried_before_telegram_drops_the_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """answerCallbackQuery waits 5 s, not the usual 15 (READ_TIMEOUTS): Telegram drops a query about 15 s after the
    press, so only a short first wait leaves time for the retry to reach the person."""
    # The read timeout build_application gives every other call.
    async with Sandbox() as sandbox, bot_on(sandbox, read_timeout=15.0) as bot:
        person = sandbox.user(PERSON, "李娜")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
        sent = await bot.send_message(PERSON, "确认收到？", reply_markup=keyboard)
        query = await person.press_data(sent.message_id, "ok", wait=False)
        # The first answer hangs (the emulator never carries out a faulted request); the retry must land in time.
        sandbox.inject_fault("answerCallbackQuery", "timeout", times=1, delay=30.0)
        started = time.monotonic()
        assert await bot.answer_callback_query(query.id, "已确认")
        assert query.answer is not None and query.answer.text == "已确认"
        assert time.monotonic() - started < 10.0
    assert ["answerCallbackQuery" in line and "timed out" in line for line in retries_logged(caplog)] == [True]


async def test_a_press_answered_after_telegram_dropped_its_query_is_still_handled(
    bot_stage: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    """A press taken up after a restart (or a slow minute) is answered after Telegram has dropped its query: the
    answer is refused, and the press must be handled all the same, not lost to the refusal."""
    people = await cast(bot_stage)
    cadre = people.cadre
    await cadre.send_text("/report")
    bot_stage.sandbox.world.callback_query_timeout = 0.0  # every query is too old by the time the bot answers it
    await cadre.press("鹿城区社会福利院")
    assert "属于哪个领域" in cadre.last_message().text
    await cadre.press("用火")
    assert "严重程度" in cadre.last_message().text
    assert any("answerCallbackQuery refused: the query is too old" in r.getMessage() for r in caplog.records)
