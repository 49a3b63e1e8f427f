"""Handing updates to the bot: getUpdates long polling and webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aiohttp

from bot.sandbox.errors import ApiError
from bot.sandbox.state import PendingUpdate, WebhookConfig, WebhookDelivery
from bot.sandbox.world import World

log = logging.getLogger(__name__)

CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
CONFLICT_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


class UpdateFeeder:
    def __init__(self, world: World, *, webhook_timeout: float, retry_delay: float, max_retry_delay: float) -> None:
        self.world = world
        self.webhook_timeout = webhook_timeout
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.deliveries: list[WebhookDelivery] = []
        self.webhook_in_flight = 0
        self.last_poll_at: float | None = None
        self._generation = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # ---- getUpdates -----------------------------------------------------------------------------

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        world = self.world
        if world.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        self._generation += 1
        generation = self._generation
        self.last_poll_at = time.monotonic()
        world.signal.notify()  # an older poll still waiting learns it was superseded
        if "allowed_updates" in params:
            world.allowed_updates = list(params["allowed_updates"]) or None
        if params.get("offset"):
            world.confirm(int(params["offset"]))
        limit = min(100, max(1, int(params.get("limit", 100))))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0, int(params.get("timeout", 0)))
        while True:
            if generation != self._generation:
                raise ApiError(409, CONFLICT_POLL)
            if world.webhook is not None:
                raise ApiError(409, CONFLICT_WEBHOOK)
            updates = world.take(limit, world.allowed(world.allowed_updates))
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._stopping:
                self.last_poll_at = time.monotonic()
                return [u.payload for u in updates]
            await world.signal.wait(remaining)

    # ---- webhook ------------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._deliver_forever(), name="sandbox-webhook")

    async def stop(self) -> None:
        self._stopping = True
        self.world.signal.notify()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_forever(self) -> None:
        failures = 0
        while not self._stopping:
            hook = self.world.webhook
            updates = self.world.take(1, self.world.allowed(hook.allowed_updates)) if hook else []
            if hook is None or not updates:
                failures = 0
                await self.world.signal.wait(None)
                continue
            update = updates[0]
            try:
                delivered = await self._post(hook, update)
            except Exception:  # a bug here must not silently stop all deliveries
                log.exception("sandbox: webhook delivery crashed")
                delivered = False
            if delivered:
                failures = 0
                self.world.confirm(update.update_id + 1)
                continue
            failures += 1
            # Telegram keeps retrying with growing pauses; shorter ones keep tests fast.
            await asyncio.sleep(min(self.max_retry_delay, self.retry_delay * 2 ** (failures - 1)))

    async def _post(self, hook: WebhookConfig, update: PendingUpdate) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        status: int | None = None
        error: str | None = None
        self.webhook_in_flight += 1
        self.world.signal.notify()
        try:
            async with self._session.post(
                hook.url,
                data=json.dumps(update.payload, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
                await response.read()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason or ''}".strip()
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {exc.__class__.__name__}"
        finally:
            self.webhook_in_flight -= 1
            self.world.signal.notify()
        self.deliveries.append(WebhookDelivery(update.update_id, status, error, time.monotonic()))
        if error is not None:
            hook.last_error_date = self.world.now()
            hook.last_error_message = error
        return error is None
