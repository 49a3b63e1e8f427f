"""How updates are scheduled: concurrently across chats, strictly in order within one chat.

A conversation must never see its messages reordered, but one slow chat must not hold up everyone else on the
morning a typhoon warning goes out. The processor also knows when the bot is idle, which the sandbox driver and the
benchmarks use instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor

log = logging.getLogger(__name__)

_AFTER_ANSWER = "after_answer"  # bot_data: the tasks of `after_answer` still running


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self.in_flight = 0
        self.handled = 0
        self.durations: list[float] = []
        self.record_durations = False

    @staticmethod
    def _chat_key(update: object) -> int:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return update.effective_user.id
        return 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._chat_key(update)
        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        self.in_flight += 1
        try:
            async with lock:
                started = time.perf_counter()
                await coroutine
                if self.record_durations:
                    self.durations.append(time.perf_counter() - started)
        finally:
            self.in_flight -= 1
            self.handled += 1
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                # Forget idle chats so the map does not grow with every person who ever wrote.
                del self._waiting[key]
                self._chat_locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def after_answer(application: Application[Any, Any, Any, Any, Any, Any], work: Coroutine[Any, Any, object],
                 what: str) -> None:
    """Run `work` once the update that asked for it is answered, without holding up that chat's next update (planning
    a city's reminders again for a new city admin takes seconds). In memory only: work that must survive a restart
    is either done again at every start (the daily plan) or belongs in SQLite. A failure is logged, not raised: the
    person was answered already."""
    running: set[asyncio.Task[None]] = application.bot_data.setdefault(_AFTER_ANSWER, set())

    async def logged() -> None:
        try:
            await work
        except Exception:
            log.exception("%s failed", what)

    # The application's own task: stopping the application waits for it.
    task = application.create_task(logged(), name=what)
    running.add(task)
    task.add_done_callback(running.discard)


def working_after_answer(application: Application[Any, Any, Any, Any, Any, Any]) -> bool:
    """Whether work of `after_answer` is still running."""
    return bool(application.bot_data.get(_AFTER_ANSWER))
