"""The webhook receiver: Telegram posts updates here, and they join the application's update queue.

python-telegram-bot's own webhook server answers 400 to an update it cannot parse, and Telegram then retries that
update forever while every update behind it waits; it also logs the raw update. This receiver follows the
library's "custom webhook" pattern instead (an HTTP server of our own feeding `application.update_queue`), so an
unparseable update is skipped as in polling (bot/incoming.py). It checks what the library checks: a JSON body and
the secret token Telegram sends back.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.incoming import parse_update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookReceiver:
    def __init__(self, application: Any, secret_token: str | None) -> None:
        self.application = application
        self.secret_token = secret_token

    async def receive(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.Response(status=403)
        if self.secret_token is not None:
            sent = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(sent.encode(), self.secret_token.encode()):
                return web.Response(status=403)
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400)
        bot = self.application.bot
        update = parse_update(data, bot)
        if update is not None:
            bot.insert_callback_data(update)
            await self.application.update_queue.put(update)
        # 200 for a skipped update too: anything else makes Telegram send it again and hold back the rest.
        return web.Response(status=200)


@asynccontextmanager
async def serving_webhook(
    application: Any, *, listen: str, port: int, url_path: str, secret_token: str | None
) -> AsyncIterator[None]:
    receiver = WebhookReceiver(application, secret_token)
    app = web.Application()
    path = "/" + url_path.strip("/")
    app.router.add_post(path, receiver.receive)
    if path != "/":
        app.router.add_post(path + "/", receiver.receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, listen, port).start()
        yield
    finally:
        await runner.cleanup()
