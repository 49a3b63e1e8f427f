"""Bot API requests that survive Telegram's 5xx answers, timeouts and dropped connections.

Every call the bot makes (replies, edits, button answers, uploads, downloads, notices) goes through
`RetryingRequest`, which `build_application` installs for `run`, the demo, the stage and the benchmarks alike.
What it retries and what it leaves to others:

- 5xx answers, timeouts and network errors are tried again with exponential back-off and jitter, within a bounded
  number of attempts and a bounded total time; each retry is logged at WARNING with the method, the attempt and
  the cause. After the last attempt the failure goes up to the caller as python-telegram-bot would raise it.
- 4xx answers never are: the request itself is wrong (400), the token is (401, 404), or the person blocked the bot
  (403); asking again changes nothing. One 400 is no failure at all: a button's answer that Telegram refuses because
  the query is too old (the press waited out a restart) is logged and taken as given, so that the press is handled.
- 429 belongs to python-telegram-bot's AIORateLimiter, which waits the `retry_after` Telegram asks for; retrying
  it here as well would double the waits.
- getUpdates belongs to the Updater's own retry loop and has a request object of its own (see bot/incoming.py).

The honest caveat: a timeout or a dropped connection does not say whether Telegram carried out the request, and the
Bot API has no idempotency key, so a retried send can, rarely, arrive twice. We retry anyway: a lost reply leaves a
person one step behind their own conversation with "Sorry, something went wrong", while a repeated reply is a
visible, harmless nuisance (every button on it works, as the state lives in SQLite), and a repeated edit is
answered "message is not modified", which the handlers already accept. A refused connection or a full connection
pool means the request never left, and a 5xx almost always means it was not carried out: those retries are exact.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # the first try included
    # Most 5xx answers and dropped connections are momentary: the first retry comes quickly, then they spread out
    # (about 0.2, 0.4, 0.8, 1.6, 3.2 s), so an outage of a few seconds is ridden out too.
    first_delay: float = 0.2
    max_delay: float = 8.0
    # No retry starts later than this after the first try: a reply a minute late is as good as lost.
    budget: float = 45.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry number `retry` (1-based): half fixed, half random, so callers do not stampede."""
        ceiling = min(self.max_delay, self.first_delay * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


# A button's answer is useless once Telegram has dropped the query (about 15 s after the press): wait less for it,
# so that a retry still lands in time.
READ_TIMEOUTS = {"answerCallbackQuery": 5.0}


# What Telegram says of a query it no longer has, and what the caller is given instead (the answer's own result).
_QUERY_GONE = b"query is too old"
ANSWERED = b'{"ok":true,"result":true}'


def _query_gone(payload: bytes) -> bool:
    return _QUERY_GONE in payload.lower()


def retryable_status(code: int) -> bool:
    return code >= HTTPStatus.INTERNAL_SERVER_ERROR


@cache
def tls_context() -> ssl.SSLContext:
    """httpx's own default (certifi's certificates, or SSL_CERT_FILE / SSL_CERT_DIR), built once for the process:
    each client built its own, about 50 ms, twice for every application started."""
    return httpx.create_ssl_context()


def with_shared_tls(httpx_options: dict[str, Any]) -> dict[str, Any]:
    """HTTPXRequest's options, with the process's TLS context unless the caller chose how to verify."""
    client = {"verify": tls_context(), **(httpx_options.get("httpx_kwargs") or {})}
    return {**httpx_options, "httpx_kwargs": client}


class RetryingRequest(HTTPXRequest):
    """python-telegram-bot's HTTPX request, with retries of what a second attempt can fix."""

    def __init__(self, policy: RetryPolicy | None = None, *, seed: int | None = None, **httpx_options: Any) -> None:
        super().__init__(**with_shared_tls(httpx_options))
        self.policy = policy or RetryPolicy()
        self._rng = random.Random(seed)

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
        name = api_method(url, method)
        if read_timeout is BaseRequest.DEFAULT_NONE and name in READ_TIMEOUTS:
            read_timeout = READ_TIMEOUTS[name]
        policy = self.policy
        started = time.monotonic()
        attempt = 1
        while True:
            try:
                code, payload = await super().do_request(
                    url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
                )
            except NetworkError as exc:  # TimedOut included
                if name == "getUpdates":
                    raise
                failure: NetworkError | None = exc
                cause = describe(exc)
            else:
                if name == "answerCallbackQuery" and code == HTTPStatus.BAD_REQUEST and _query_gone(payload):
                    # The press came before a restart or a slow minute, and Telegram has dropped its query: the
                    # person's spinner stopped long ago, but the press must still be handled (the next step sent,
                    # the action done), not end in the error the library would raise.
                    log.warning("Bot API answerCallbackQuery refused: the query is too old or answered already; "
                                "the press is handled without its answer")
                    return HTTPStatus.OK, ANSWERED
                if not retryable_status(code) or name == "getUpdates":
                    return code, payload
                failure, cause = None, status_text(code)
            wait = policy.delay(attempt, self._rng)
            if attempt >= policy.attempts or time.monotonic() - started + wait > policy.budget:
                log.error("Bot API %s failed (%s) on attempt %d of %d: giving up", name, cause, attempt,
                          policy.attempts)
                if failure is not None:
                    raise failure
                # python-telegram-bot turns the status and its payload into the usual exception.
                return code, payload
            log.warning("Bot API %s failed (%s) on attempt %d of %d: retrying in %.1f s", name, cause, attempt,
                        policy.attempts, wait)
            await asyncio.sleep(wait)
            attempt += 1


def api_method(url: str, http_method: str) -> str:
    """The Bot API method a URL calls, for the log; never the URL itself, which carries the bot's token."""
    if http_method == "GET":
        return "file download"
    return url.rstrip("/").rsplit("/", 1)[-1]


def status_text(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def describe(exc: NetworkError) -> str:
    if isinstance(exc, TimedOut):
        underlying = exc.__cause__
        return f"timed out: {type(underlying).__name__}" if underlying is not None else "timed out"
    return exc.message
