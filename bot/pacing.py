"""Telegram's flood limits, kept by the outbox sender itself rather than learnt from 429 answers.

Telegram asks bots for no more than about 30 messages a second overall, 20 a minute in one group, and about one a
second in one private chat (short bursts pass). A 429 costs a request and seconds of waiting, so the sender paces
itself below those limits; `AIORateLimiter` is not relied on (tests build the application without it, and it sleeps
every request of the bot on any 429).

The overall limit is kept exactly rather than with a margin: a message may start only a second after Telegram
*answered* the one 30 messages before it. Telegram counted that one before it answered, and counts this one after it
starts, so the two are at least a second apart as Telegram sees them whatever the network's jitter; on a fast
network that is all but 30 a second. Every `acquire` is therefore closed by `answered` or `refused`.

A 429 names no limit. One chat's 429 holds that chat only (the others go on at full pace); when 429s make up a
large share of the latest answers, it is the whole bot that is over the limit (another process sending with the same
token, say), and the whole pace waits out retry_after.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    # Evenly spaced, and never more than floor(per_second) within a second of an answer (see the module's comment).
    per_second: float = 30.0
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


@dataclass(eq=False)
class Slot:
    """One request counted against the overall limit, from `acquire` until Telegram answered it."""

    chat_id: int
    answered_at: float | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event)


class Pacer:
    """The overall pace plus one limiter per chat; a chat told to wait by a 429 is held until then."""

    _PRUNE_AT = 2048  # chats remembered before the idle ones are forgotten
    # 429s among the latest answers that say the whole bot, not one chat, is over the limit. Telegram's occasional
    # per-chat 429s (5% in the broadcast benchmark) reach 8 of 20 about once in 350,000 draws.
    _FLOOD_WINDOW = 20
    _FLOOD_REFUSED = 8
    _STUCK_AFTER = 2.0  # seconds a request may take before the overall limit stops waiting for its answer

    def __init__(self, limits: Limits, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._now = monotonic
        # Evenly spaced requests; the two spare tokens let requests that a busy event loop started late (by up to
        # two intervals) be made up by the next ones instead of lost for good. The window below keeps the catching
        # up within Telegram's limit.
        self._global = TokenBucket(limits.per_second, 3.0, monotonic())
        # The latest requests counted against the overall limit, at most one second's worth.
        self._per_window = max(1, math.floor(limits.per_second))
        self._window: deque[Slot] = deque()
        self._outcomes: deque[bool] = deque(maxlen=self._FLOOD_WINDOW)  # True: refused with 429
        self._bot_held_until = float("-inf")
        self._chats: dict[int, TokenBucket | SlidingWindow] = {}
        self._held: dict[int, float] = {}
        self._turn = _Turns()

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

    def capacity(self, horizon: float) -> int:
        """How many messages the overall pace allows within `horizon` seconds (at least one)."""
        return max(1, self._global.available(self._now(), horizon))

    def global_wait(self) -> float:
        now = self._now()
        return max(self._global.wait_time(now), self._bot_held_until - now, self._window_wait(now) or 0.0)

    def _window_wait(self, now: float) -> float | None:
        """Seconds until the overall limit has room (None: the request that decides it is still unanswered)."""
        if len(self._window) < self._per_window:
            return 0.0
        oldest = self._window[0].answered_at
        return None if oldest is None else max(0.0, oldest + 1.0 - now)

    def answered(self, slot: Slot) -> None:
        """Telegram answered the request (anything but 429), or it ended without an answer: count it from now."""
        if slot.answered_at is None:
            slot.answered_at = self._now()
            self._outcomes.append(False)
        slot.settled.set()

    def refused(self, slot: Slot, retry_after: float) -> None:
        """Telegram answered 429: nothing more to this chat for `retry_after` seconds.

        The refused request gives its place in the overall pace back: it delivered nothing, and Telegram's 30 a
        second are messages. Counting it anyway would make every 429 cost the whole broadcast a thirtieth of a
        second on top of the wait for the message itself. Unless 429s have become common: then the bot as a whole
        is over the limit, and everything waits."""
        now = self._now()
        self._held[slot.chat_id] = max(now + retry_after, self._held.get(slot.chat_id, 0.0))
        self._outcomes.append(True)
        if sum(self._outcomes) >= self._FLOOD_REFUSED:
            self._bot_held_until = max(self._bot_held_until, now + retry_after)
            self._outcomes.clear()
            slot.answered_at = now
            slot.settled.set()
            return
        if slot in self._window:
            self._window.remove(slot)
        self._global.give_back(now)
        slot.answered_at = now
        slot.settled.set()

    def hold(self, chat_id: int, seconds: float) -> None:
        """Nothing more to this chat for `seconds` (a 429 learnt elsewhere than from a request of this pacer)."""
        self._held[chat_id] = max(self._now() + seconds, self._held.get(chat_id, 0.0))

    async def acquire(self, chat_id: int, *, retry: bool = False) -> Slot:
        """Wait until a message to this chat fits every limit, and count it. Close the slot with `answered` or
        `refused` once the request is over, whatever happened to it.

        A `retry` (refused before, and it has waited out its retry_after) goes before the first tries waiting for
        the overall pace: its person has waited long enough already, and at the end of a broadcast the last
        retry is what the broadcast waits for."""
        while True:
            wait = self.chat_wait(chat_id)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self._turn.taken(first=retry):
                await self._wait_for_overall_pace()
                if self.chat_wait(chat_id) > 0:
                    continue
                now = self._now()
                self._global.take(now)
                self._chat(chat_id).take(now)
                slot = Slot(chat_id)
                self._window.append(slot)
                while len(self._window) > self._per_window:
                    self._window.popleft()
                return slot

    async def _wait_for_overall_pace(self) -> None:
        while True:
            now = self._now()
            room = self._window_wait(now)
            if room is None:
                oldest = self._window[0]
                # A request stuck in the network must not stall the whole pace until its timeout: after a while
                # it is taken to have reached Telegram by now (a 429 would tell if not).
                settling = asyncio.ensure_future(oldest.settled.wait())
                await asyncio.wait([settling], timeout=self._STUCK_AFTER)
                settling.cancel()
                if oldest.answered_at is None:
                    oldest.answered_at = self._now()
                continue
            wait = max(self._global.wait_time(now), self._bot_held_until - now, room)
            if wait <= 0:
                return
            await asyncio.sleep(wait)


class _Turns:
    """A lock whose waiters go in order of arrival, those that ask to go first ahead of the others."""

    def __init__(self) -> None:
        self._taken = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @asynccontextmanager
    async def taken(self, *, first: bool = False) -> AsyncIterator[None]:
        if self._taken:
            turn = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (0 if first else 1, next(self._arrivals), turn))
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._hand_on()  # handed the turn just as we were cancelled: the next one gets it
                raise
        else:
            self._taken = True
        try:
            yield
        finally:
            self._hand_on()

    def _hand_on(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self._taken = False
