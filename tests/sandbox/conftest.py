"""Fixtures for the sandbox tests: a running Sandbox, a real python-telegram-bot Application, raw HTTP."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram.ext import Application, ApplicationBuilder, BaseHandler

from bot.sandbox import Sandbox


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


def build_app(sb: Sandbox) -> Application:  # type: ignore[type-arg]
    return ApplicationBuilder().token(sb.token).base_url(sb.base_url).base_file_url(sb.base_file_url).build()


def ptb_idle(app: Application) -> bool:  # type: ignore[type-arg]
    # PTB marks an update task_done only after its handlers finished.
    unfinished: int = app.update_queue._unfinished_tasks  # type: ignore[attr-defined]
    return unfinished == 0


@contextlib.asynccontextmanager
async def polling_app(
    sb: Sandbox, *handlers: BaseHandler[Any, Any, Any], probe: bool = True
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    app = build_app(sb)
    for handler in handlers:
        app.add_handler(handler)
    if probe:
        sb.set_idle_probe(lambda: ptb_idle(app))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        sb.set_idle_probe(None)


async def api(
    sb: Sandbox,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    how: str = "form",
    token: str | None = None,
    files: dict[str, tuple[str, bytes]] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Call the sandbox like any HTTP client would. how: form | json | query | multipart."""
    url = f"{sb.url}/bot{token or sb.token}/{method}"
    params = params or {}
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with aiohttp.ClientSession() as session:
        if how == "json":
            request = session.post(url, json=params)
        elif how == "query":
            request = session.get(url, params=flat)
        elif how == "multipart":
            form = aiohttp.FormData()
            for key, value in flat.items():
                form.add_field(key, value)
            for key, (name, data) in (files or {}).items():
                form.add_field(key, data, filename=name, content_type="application/octet-stream")
            request = session.post(url, data=form)
        else:
            request = session.post(url, data=flat)
        async with request as response:
            return response.status, await response.json()


def assert_results_match_spec(sb: Sandbox) -> None:
    """Everything the sandbox answered must itself be valid per the Bot API spec."""
    for call in sb.calls:
        if not call.ok:
            continue
        spec = sb.spec.method(call.method)
        assert spec is not None
        sb.spec.check_result(call.result, spec.returns, call.method)
