"""The sandbox HTTP server: a strict local stand-in for api.telegram.org."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox.content import Request
from bot.sandbox.decode import read_request, validate
from bot.sandbox.driver import SimGroup, SimUser
from bot.sandbox.errors import ApiError, forbidden, too_many_requests
from bot.sandbox.faults import Fault, FaultInjector, RateLimiter
from bot.sandbox.methods_messages import HANDLERS as MESSAGE_HANDLERS
from bot.sandbox.methods_misc import HANDLERS as MISC_HANDLERS
from bot.sandbox.polling import UpdateFeeder
from bot.sandbox.spec import MethodSpec, Spec
from bot.sandbox.state import Call, CallbackAnswer, TranscriptEntry, UserState, WebhookDelivery
from bot.sandbox.transcript import format_transcript
from bot.sandbox.world import World

log = logging.getLogger(__name__)

HANDLERS = {name.lower(): handler for name, handler in {**MESSAGE_HANDLERS, **MISC_HANDLERS}.items()}
_BAD_GATEWAY = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"  # noqa: E501


class Sandbox:
    """A local Bot API server with simulated people; see ``bot/sandbox/__init__.py``."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        bot_username: str = "civil_safety_bot",
        bot_first_name: str = "安全助手",
        *,
        enforce_rate_limits: bool = False,
        privacy_mode: bool = True,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        callback_query_timeout: float = 15.0,
        webhook_timeout: float = 10.0,
        webhook_retry_delay: float = 0.05,
        webhook_max_retry_delay: float = 1.0,
        settle_timeout: float = 10.0,
    ) -> None:
        if not token.startswith(f"{bot_id}:"):
            raise ValueError("a bot token starts with the bot's id: '<bot_id>:<secret>'")
        self.token = token
        self.world = World(
            bot_id=bot_id,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            privacy_mode=privacy_mode,
            clock=clock,
            rate_limiter=RateLimiter(enabled=enforce_rate_limits),
            callback_query_timeout=callback_query_timeout,
        )
        self.feeder = UpdateFeeder(
            self.world,
            webhook_timeout=webhook_timeout,
            retry_delay=webhook_retry_delay,
            max_retry_delay=webhook_max_retry_delay,
        )
        self.faults = FaultInjector(seed)
        # How long a simulated person waits for the bot to react (`settle()` without a timeout).
        self.settle_timeout = settle_timeout
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._idle_probe: Callable[[], bool] | None = None
        self._in_flight: list[Call] = []  # requests other than getUpdates
        self._activity = 0

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> Sandbox:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a client that gives up (timeouts, dropped connections) ends its handler.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.feeder.start()
        return self

    async def stop(self) -> None:
        await self.feeder.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- addresses and records ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: the token is appended by the client."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        return self.world.bot_id

    @property
    def bot_username(self) -> str:
        return self.world.bot_username

    @property
    def spec(self) -> Spec:
        return self.world.spec

    @property
    def transcript(self) -> list[TranscriptEntry]:
        return self.world.transcript

    @property
    def answers(self) -> list[CallbackAnswer]:
        return self.world.answers

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return self.feeder.deliveries

    def calls_to(self, method: str) -> list[Call]:
        lowered = method.lower()
        return [c for c in self.calls if c.method.lower() == lowered]

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command menu the bot set for a scope and language, as a person's Telegram app would show it."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return list(self.world.commands.get(key, []))

    def format_transcript(self, entries: list[TranscriptEntry] | None = None) -> str:
        return format_transcript(self.transcript if entries is None else entries)

    # ---- people -------------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> SimUser:
        state = self.world.users.get(user_id)
        if state is None:
            state = self.world.add_user(UserState(user_id, first_name, last_name, username, language_code))
        return SimUser(self, state)

    def group(
        self,
        chat_id: int,
        title: str,
        is_forum: bool = False,
        *,
        username: str | None = None,
        bot_status: str = "member",
    ) -> SimGroup:
        state = self.world.chats.get(chat_id)
        if state is None:
            state = self.world.add_group(chat_id, title, is_forum=is_forum, username=username)
        state.bot_status = bot_status
        return SimGroup(self, state)

    def queue_update(self, kind: str, payload: dict[str, Any], describe: str = "") -> int:
        """Queue an update exactly as given (the emulator adds only its update_id); returns that id.

        The simulated people send updates shaped as this emulator's Bot API version shapes them; this is for what
        another version would send, e.g. a field python-telegram-bot requires left out. Requests the bot makes
        are checked against the spec as always.
        """
        return self.world.enqueue(kind, payload, describe or f"raw {kind}").update_id

    # ---- faults -------------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str = "sendMessage",
        kind: str = "500",
        times: int | None = 1,
        probability: float = 1.0,
        retry_after: int = 1,
        delay: float | None = None,
        chat_id: int | str | None = None,
        seed: int | None = None,
    ) -> Fault:
        """Make matching requests fail: "429", "500", "502", "403", "slow", "timeout" or "drop".

        ``method="*"`` matches every method; ``times=None`` keeps the fault forever. A faulted
        request never takes effect (a faulted send delivers nothing), except "slow", which only delays.
        """
        return self.faults.add(
            method,
            kind,
            times=times,
            probability=probability,
            retry_after=retry_after,
            delay=delay,
            chat_id=chat_id,
            seed=seed,
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    # ---- waiting ------------------------------------------------------------------------------

    def set_idle_probe(self, probe: Callable[[], bool] | None) -> None:
        """``probe()`` is True when the bot has no queued updates and no handler running."""
        self._idle_probe = probe

    def _idle(self) -> bool:
        if self._in_flight or self.feeder.webhook_in_flight:
            return False
        return self._idle_probe is None or bool(self._idle_probe())

    async def settle(self, timeout: float | None = None, *, quiet: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched every update so far and has been idle for a quiet window."""
        timeout = self.settle_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        window = quiet if quiet is not None else (0.02 if self._idle_probe else 0.15)
        poll = 0.005 if self._idle_probe else None  # the probe can't notify us; ask it often
        target = self.world.last_update_id
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._settle_failure(target, timeout))
            if not self.world.is_confirmed(target) or not self._idle():
                await self.world.signal.wait(min(remaining, poll) if poll else remaining)
                continue
            marker = self._activity
            window_end = loop.time() + window
            calm = True
            while (left := window_end - loop.time()) > 0:
                await self.world.signal.wait(min(left, poll) if poll else left)
                if self._activity != marker or not self._idle() or not self.world.is_confirmed(target):
                    calm = False
                    break
            if calm:
                return

    def _settle_failure(self, target: int, timeout: float) -> str:
        waiting = [u for u in self.world.updates if u.update_id <= target]
        if waiting:
            hook = self.world.webhook
            how = f"webhook {hook.url} (last error: {hook.last_error_message})" if hook else "getUpdates"
            polled = self.feeder.last_poll_at
            ago = f"{time.monotonic() - polled:.1f}s ago" if polled is not None else "never"
            return (
                f"settle(): the bot did not fetch update {waiting[0].update_id} ({waiting[0].describe}) "
                f"within {timeout}s; delivery via {how}; last getUpdates {ago}. Is the bot running?"
            )
        busy = ", ".join(c.method for c in self._in_flight) or "none"
        return (
            f"settle(): the bot stayed busy for {timeout}s (requests in flight: {busy}; "
            f"webhook posts in flight: {self.feeder.webhook_in_flight}; idle probe: "
            f"{'n/a' if self._idle_probe is None else self._idle_probe()})"
        )

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"wait_for(): condition still false after {timeout}s")
            # Predicates may look at state outside the sandbox, so also re-check now and then.
            await self.world.signal.wait(min(remaining, 0.05))

    # ---- HTTP ---------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot") :].partition("/")
            # A download is the bot at work too: settle() must not call it idle meanwhile.
            download = Call(method="file download", params={"file_path": file_path}, started_at=time.monotonic())
            self._in_flight.append(download)
            self._touch()
            try:
                return self._serve_file(token, file_path)
            finally:
                self._in_flight.remove(download)
                self._touch()
        if path.startswith("/bot"):
            token, _, method = path[len("/bot") :].partition("/")
            if method and "/" not in method:
                return await self._api(request, token, method)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    def _serve_file(self, token: str, file_path: str) -> web.StreamResponse:
        if token != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        stored = self.world.files.by_path(file_path)
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _touch(self) -> None:
        self._activity += 1
        self.world.signal.notify()

    async def _api(self, request: web.Request, token: str, method: str) -> web.StreamResponse:
        call = Call(method=method, params={}, started_at=time.monotonic())
        self.calls.append(call)
        polling = method.lower() == "getupdates"
        if not polling:
            self._in_flight.append(call)
        self._touch()
        try:
            return await self._answer(request, token, method, call)
        except asyncio.CancelledError:
            if call.ok is None:
                call.ok = False
                call.description = call.description or "the client went away before the answer"
            raise
        finally:
            if not polling:
                self._in_flight.remove(call)
            call.finished_at = time.monotonic()
            self._touch()

    async def _answer(self, request: web.Request, token: str, method: str, call: Call) -> web.StreamResponse:
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            spec = self.world.spec.method(method)
            if spec is None:
                raise ApiError(404, "Not Found")
            call.method = spec.name
            fields, files = await read_request(request)
            call.params = dict(fields)
            params = validate(self.world.spec, spec, fields, files)
            call.params = params
            fault = self.faults.pick(spec.name, params.get("chat_id"))
            if fault is not None:
                early = await self._apply_fault(fault, request, call)
                if early is not None:
                    return early
            result = await self._execute(spec, Request(spec.name, params, files))
        except ApiError as exc:
            call.ok, call.error_code, call.description = False, exc.code, exc.description
            if exc.violation:
                self.violations.append(f"{call.method}: {exc.description}")
            return web.json_response(exc.payload(), status=exc.code)
        call.ok, call.result = True, result
        return web.json_response({"ok": True, "result": result})

    async def _execute(self, spec: MethodSpec, req: Request) -> Any:
        if spec.name == "getUpdates":
            return await self.feeder.get_updates(req.params)
        handler = HANDLERS.get(spec.name.lower())
        if handler is not None:
            try:
                return handler(self.world, req)
            except ApiError:
                raise
            except Exception as exc:
                log.exception("sandbox: %s crashed", spec.name)
                detail = f"Internal Server Error: sandbox bug in {spec.name}: {exc!r}"
                raise ApiError(500, detail, violation=True) from exc
        if spec.returns == ("Boolean",):
            return True
        raise ApiError(
            501,
            f"Not Implemented: the sandbox does not emulate {spec.name} (returns {' or '.join(spec.returns)})",
            violation=True,
        )

    async def _apply_fault(self, fault: Fault, request: web.Request, call: Call) -> web.StreamResponse | None:
        kind = fault.kind
        if kind == "429":
            raise too_many_requests(fault.retry_after)
        if kind == "500":
            raise ApiError(500, "Internal Server Error")
        if kind == "403":
            raise forbidden("bot was blocked by the user")
        if kind == "502":
            call.ok, call.error_code, call.description = False, 502, "Bad Gateway"
            return web.Response(status=502, text=_BAD_GATEWAY, content_type="text/html")
        if kind == "slow":
            await asyncio.sleep(1.0 if fault.delay is None else fault.delay)
            return None
        call.ok = False
        if kind == "timeout":
            call.description = "fault: held past the client's timeout"
            await asyncio.sleep(3600.0 if fault.delay is None else fault.delay)
        call.description = call.description or "fault: connection dropped without an answer"
        if request.transport is not None:
            request.transport.close()
        # Closing the transport makes aiohttp cancel this handler; the sleep just waits for that.
        await asyncio.sleep(5.0)
        return web.Response(status=500)
