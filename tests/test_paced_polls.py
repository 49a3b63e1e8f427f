"""A busy bot fetches updates in fewer, fuller polls; nothing it is sent is lost to that (bot/incoming.py)."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.incoming import BUSY_UPDATES, POLL_SPACING, PacedPolls
from bot.processing import PerChatUpdateProcessor
from bot.sandbox import Sandbox


async def test_while_busy_polls_start_no_closer_than_the_spacing_and_every_update_is_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # When each poll leaves the bot, as the pacing sees it: the emulator's arrival times shift with the load of the
    # machine (two test workers side by side), which made gaps look shorter than they were.
    sent: list[float] = []
    send = HTTPXRequest.do_request

    async def noting(self: HTTPXRequest, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if url.endswith("/getUpdates"):
            sent.append(time.monotonic())
        return await send(self, url, *args, **kwargs)

    monkeypatch.setattr(HTTPXRequest, "do_request", noting)
    async with Sandbox() as sandbox:
        release = asyncio.Event()
        handled: list[int] = []

        async def slow_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await release.wait()  # each person waits here: the bot has every one of them in hand
            handled.append(update.update_id)

        polls = PacedPolls(connection_pool_size=2, read_timeout=40)
        application = (
            ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url)
            .concurrent_updates(PerChatUpdateProcessor()).get_updates_request(polls).build()
        )
        polls.watch(application)
        application.add_handler(MessageHandler(filters.ALL, slow_answer))
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            people = [sandbox.user(7000 + n, f"网格员{n}") for n in range(BUSY_UPDATES + 10)]
            for person in people[:BUSY_UPDATES]:
                await person.send_text("三楼走廊堆放杂物", wait=False)
            await sandbox.wait_for(
                lambda: application.update_processor.current_concurrent_updates >= BUSY_UPDATES
            )
            busy_from = len(sent)
            for person in people[BUSY_UPDATES:]:  # one more every 2 ms: unpaced, each poll would bring one
                await person.send_text("消防通道堵塞", wait=False)
                await asyncio.sleep(0.002)
            await sandbox.wait_for(lambda: application.update_processor.current_concurrent_updates == len(people))
            # A loaded machine polls less often while the people write: the polls that follow (long polls, which
            # return within a second when nothing is new) are still paced, and give the gaps to look at.
            await sandbox.wait_for(lambda: len(sent) - busy_from >= 3)
            starts = sent[busy_from:]
            release.set()
            await sandbox.wait_for(lambda: len(handled) == len(people))
            await application.updater.stop()
            await application.stop()
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(gaps) >= 2
    assert min(gaps) >= POLL_SPACING * 0.95, gaps  # a sleep never ends early; the notes come a moment after
    assert sorted(handled) == sorted(set(handled))  # each update handled once
