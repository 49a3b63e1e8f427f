"""How the bot fetches updates: paced polls while it is busy, and updates the library cannot parse skipped.

Under load a getUpdates answered at once brings one update or two, and polling again at once makes the answers
many and small (in the throughput benchmark the bot polled 2.5 times as often per update as a bare echo bot, which
kept up with fewer and fuller answers). While the bot is busy (`BUSY_UPDATES` being handled) a poll waits until
`POLL_SPACING` after the one before began: updates fetched sooner could not start sooner, every slot being taken.
An idle bot polls at once, and against Telegram a poll takes a round trip longer than the spacing anyway.

Updates this python-telegram-bot cannot parse are skipped, so they never stop the bot answering everyone else.

Telegram (or a self-hosted Bot API server of another version) can send an update the library cannot turn into
objects: a field it requires that the server leaves out, a type it does not expect. python-telegram-bot then fails
the whole getUpdates batch without advancing the offset, so the same batch fails on every poll and nobody is
answered again; behind a webhook it answers 400, which Telegram retries forever while the updates behind it wait.
Both paths log the raw update, people's words included.

Here such an update is logged once at WARNING by id, kind and field names (never their values) and passed over:
polling hands python-telegram-bot an empty update with the same id in its place, which no handler takes and which
moves the offset past it; the webhook (bot/webhook.py) answers 200 without queueing anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import telegram
from telegram import Bot, Update
from telegram.ext import Application
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.retrying import with_shared_tls

log = logging.getLogger(__name__)

POLL_SPACING = 0.015  # seconds between the starts of two polls, while busy
BUSY_UPDATES = 16  # updates being handled at once that make the bot busy


def parse_update(data: Any, bot: Bot | None) -> Update | None:
    """The update, or None (logged) when python-telegram-bot cannot parse it."""
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # the library raises whatever its constructors raise: TypeError, KeyError, ValueError
        log_unparseable(data, exc)
        return None


def log_unparseable(data: Any, exc: Exception) -> None:
    update_id, kind, fields = _outline(data)
    # The exception's text can quote a value the person wrote, so only its type is logged.
    log.warning(
        "skipped update %s (%s): python-telegram-bot %s cannot parse it (%s); its fields: %s",
        update_id, kind, telegram.__version__, type(exc).__name__, ", ".join(fields) or "none",
    )


def _outline(data: Any) -> tuple[object, str, list[str]]:
    if not isinstance(data, dict):
        return "?", type(data).__name__, []
    kinds = [key for key in data if key != "update_id"]
    kind = kinds[0] if kinds else "empty"
    content = data.get(kind)
    fields = sorted(content) if isinstance(content, dict) else []
    return data.get("update_id", "?"), kind, fields


def without_unparseable(payload: bytes) -> bytes:
    """A getUpdates answer with every update the library cannot parse reduced to its bare update_id."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload  # python-telegram-bot reports a broken answer itself
    updates = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(updates, list):
        return payload
    kept: list[Any] = []
    changed = False
    for data in updates:
        try:
            Update.de_json(data, None)
        except Exception as exc:
            log_unparseable(data, exc)
            # An empty update with the same id: the Updater confirms it with the next poll, and no handler takes it.
            kept.append({"update_id": data["update_id"]} if isinstance(data, dict) and "update_id" in data else data)
            changed = True
        else:
            kept.append(data)
    if not changed:
        return payload
    return json.dumps({**answer, "result": kept}).encode()


class PacedPolls(HTTPXRequest):
    """The request object for getUpdates: polls no closer than `POLL_SPACING` while `watch`ed application is busy.
    The benchmarks' bare bot polls through it too, so that both bots fetch updates alike."""

    def __init__(self, **httpx_options: Any) -> None:
        super().__init__(**with_shared_tls(httpx_options))
        self._busy: Callable[[], bool] = lambda: False
        self._last_poll = float("-inf")

    def watch(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        processor = application.update_processor
        self._busy = lambda: processor.current_concurrent_updates >= BUSY_UPDATES

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        polling = url.endswith("/getUpdates")
        if polling:
            wait = self._last_poll + POLL_SPACING - time.monotonic()
            if wait > 0 and self._busy():
                await asyncio.sleep(wait)
            self._last_poll = time.monotonic()
        code, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        return code, self.received(payload) if polling and code == 200 else payload

    def received(self, payload: bytes) -> bytes:
        """A getUpdates answer, before python-telegram-bot parses it."""
        return payload


class UpdatesRequest(PacedPolls):
    """Paced polls whose answers lose what the library cannot parse."""

    def received(self, payload: bytes) -> bytes:
        return without_unparseable(payload)
