"""Telegram's flood limits, kept by the outbox sender itself rather than learnt from 429 answers.

Telegram asks bots for no more than about 30 messages a second overall, 20 a minute in one group, and about one a
second in one private chat (short bursts pass). A 429 costs a request and seconds of waiting, so the sender paces
itself below those limits; `AIORateLimiter` is not relied on (tests build the application without it, and it sleeps
every request of the bot on any 429).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # One below Telegram's 30, evenly spaced: requests reach the server with a few milliseconds of jitter, and a
    # pace of exactly 30 would now and then put a 31st into some second.
    per_second: float = 29.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    group_window: float = 61.0  # a second longer than Telegram's minute, for the same jitter

    @classmethod
    def unlimited_for_tests(cls, per_second: float = 500.0) -> Limits:
        """Fast limits for an emulator that does not enforce Telegram's."""
        return cls(per_second=per_second, private_per_second=per_second, private_burst=10, group_per_minute=10_000)


class TokenBucket:
    """`rate` tokens a second, holding at most `capacity`: bursts up to the capacity, then the steady rate."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._at = now

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def wait_time(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate

    def available(self, now: float, horizon: float) -> int:
        """How many tokens can be taken within `horizon` seconds."""
        self._refill(now)
        return int(min(self.capacity, self._tokens) + horizon * self.rate)

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0

    def give_back(self, now: float) -> None:
        self._refill(now)
        self._tokens = min(self.capacity, self._tokens + 1.0)

    def idle(self, now: float) -> bool:
        self._refill(now)
        return self._tokens >= self.capacity


class SlidingWindow:
    """At most `limit` events in any `period` seconds: how Telegram counts a group's 20 messages a minute."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._events: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._events and now - self._events[0] >= self.period:
            self._events.popleft()

    def wait_time(self, now: float) -> float:
        self._expire(now)
        if len(self._events) < self.limit:
            return 0.0
        return self._events[0] + self.period - now

    def take(self, now: float) -> None:
        self._events.append(now)

    def idle(self, now: float) -> bool:
        self._expire(now)
        return not self._events


class Pacer:
    """The overall pace plus one limiter per chat; a chat told to wait by a 429 is held until then."""

    _PRUNE_AT = 2048  # chats remembered before the idle ones are forgotten

    def __init__(self, limits: Limits, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._now = monotonic
        # Evenly spaced requests, never a burst that lands in one second with the next; the half token lets a
        # request that the event loop started a little late be made up by the next one, instead of lost for good.
        self._global = TokenBucket(limits.per_second, 1.5, monotonic())
        self._chats: dict[int, TokenBucket | SlidingWindow] = {}
        self._held: dict[int, float] = {}
        # FIFO: whoever waits longest for the overall pace goes first.
        self._turn = asyncio.Lock()

    def _chat(self, chat_id: int) -> TokenBucket | SlidingWindow:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) >= self._PRUNE_AT:
                self._prune()
            limits = self.limits
            # Bot API ids: people are positive, groups and channels negative.
            if chat_id > 0:
                limiter = TokenBucket(limits.private_per_second, limits.private_burst, self._now())
            else:
                limiter = SlidingWindow(limits.group_per_minute, limits.group_window)
            self._chats[chat_id] = limiter
        return limiter

    def _prune(self) -> None:
        now = self._now()
        for chat_id in [c for c, limiter in self._chats.items() if limiter.idle(now) and c not in self._held]:
            del self._chats[chat_id]

    def chat_wait(self, chat_id: int) -> float:
        now = self._now()
        held = self._held.get(chat_id, 0.0) - now
        if held <= 0:
            self._held.pop(chat_id, None)
        limiter = self._chats.get(chat_id)
        return max(held, 0.0, limiter.wait_time(now) if limiter is not None else 0.0)

    def busy_chats(self) -> list[int]:
        """Chats that cannot take a message right now: the sender does not claim their messages yet."""
        return [chat_id for chat_id in list(self._chats.keys() | self._held.keys()) if self.chat_wait(chat_id) > 0]

    def next_free_chat(self) -> float | None:
        """Seconds until the first busy chat can take a message again."""
        waits = [wait for chat_id in list(self._chats.keys() | self._held.keys()) if (wait := self.chat_wait(chat_id))]
        return min(waits) if waits else None

    def global_wait(self) -> float:
        return self._global.wait_time(self._now())

    def capacity(self, horizon: float) -> int:
        """How many messages the overall pace allows within `horizon` seconds (at least one)."""
        return max(1, self._global.available(self._now(), horizon))

    def hold(self, chat_id: int, seconds: float) -> None:
        """Nothing more to this chat for `seconds` (Telegram answered 429 with that retry_after).

        The refused request gives its place in the overall pace back: it delivered nothing, and Telegram's 30 a
        second are messages. Counting it anyway would make every 429 cost the whole broadcast a thirtieth of a
        second on top of the wait for the message itself."""
        now = self._now()
        self._held[chat_id] = max(now + seconds, self._held.get(chat_id, 0.0))
        self._global.give_back(now)

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to this chat fits every limit, and count it."""
        while True:
            wait = self.chat_wait(chat_id)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self._turn:
                wait = self._global.wait_time(self._now())
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.chat_wait(chat_id) > 0:
                    continue
                now = self._now()
                self._global.take(now)
                self._chat(chat_id).take(now)
                return
