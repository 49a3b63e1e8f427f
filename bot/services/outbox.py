"""Messages the bot owes people, kept in the database until Telegram has them: queueing, progress and retry policy.

Whatever must reach someone (a warning, a hazard notice, a reminder) is queued here in the same transaction as the
change that caused it, so a crash can never leave a change without its messages nor messages without their change.
`bot.delivery.OutboxSender` drains the queue; this module decides what a failed attempt means, with no Telegram in
sight: the sender reports each failure as a `DeliveryFailure` and records whatever this service decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.workers import is_dead
from storage import Storage
from storage.outbox_models import BatchProgress, DeliveryState, NewOutboxMessage, OutboxItem

log = logging.getLogger(__name__)


class FailureKind(StrEnum):
    FLOOD = "flood"  # 429: Telegram says exactly when to come back
    TRANSIENT = "transient"  # 5xx, timeouts, connection errors: try again later
    BLOCKED = "blocked"  # 403: blocked by the person, removed from the group; retrying cannot help
    REJECTED = "rejected"  # 400: the message itself is wrong; retrying would fail the same way


@dataclass(frozen=True)
class DeliveryFailure:
    kind: FailureKind
    detail: str  # what Telegram or the network said, for the log and `last_error`
    retry_after: float | None = None  # seconds, for FLOOD
    new_chat_id: int | None = None  # the group became a supergroup with this id: resend there
    leave_topic: bool = False  # the forum topic refuses messages, the group does not: resend to its general chat


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: float = 1.0  # seconds before the first retry of a transient failure
    max_delay: float = 300.0
    # Transient failures give up after this many tries. 429s only at `max_flood_attempts`: being told to wait is
    # not a sign that the message will never go through.
    max_attempts: int = 8
    max_flood_attempts: int = 30
    # The first transient failures are retried by the same sender after the backoff, timed in real seconds while
    # the chat is held: a 5xx blip costs a second, not a turn of a clock that, in tests, may stand still. Later
    # ones wait in the queue until `retry_at`, for any sender.
    quick_retries: int = 2

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential, with "equal jitter": half fixed so retries are never immediate, half random so that a
        whole broadcast that failed at once does not come back at once."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Decision:
    state: DeliveryState  # PENDING (retry at `retry_at`), FAILED or BLOCKED
    retry_at: datetime | None = None
    hold: float | None = None  # a quick retry: seconds the sender keeps the chat waiting before it tries again


class OutboxService:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        stale_after: timedelta = timedelta(minutes=2),
        rng: random.Random | None = None,
    ) -> None:
        """`stale_after`: how long a claim may stay unanswered before its sender is presumed dead and the message
        is queued again. It must exceed the longest a live sender holds a claim (request timeouts included)."""
        self._storage = storage
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self.stale_after = stale_after
        self._rng = rng or random.Random()
        self._work = asyncio.Event()

    # ---- for whoever owes a message ----------------------------------------------------------------------

    async def enqueue(self, messages: Sequence[NewOutboxMessage], *, batch: str | None = None) -> int:
        """Queue messages, inside the caller's transaction if there is one; returns how many were new."""
        added = await self._storage.outbox.enqueue(messages, batch=batch, at=self._clock.now())
        if added:
            # A sender in this process stops waiting; if the caller's transaction rolls back, it finds nothing.
            self._work.set()
        return added

    async def progress(self, batch: str) -> BatchProgress:
        return await self._storage.outbox.progress(batch)

    async def undeliverable(self, batch: str) -> list[OutboxItem]:
        """Who could not be reached (blocked the bot, removed it, or Telegram refused): for county staff."""
        return await self._storage.outbox.in_batch(batch, (DeliveryState.FAILED, DeliveryState.BLOCKED))

    async def owed(self, batch: str | None = None) -> int:
        return await self._storage.outbox.owed(batch)

    # ---- for the sender -----------------------------------------------------------------------------------

    async def claim(
        self, worker_id: str, limit: int, *, busy_chats: Collection[int] = (), lane: str | None = None
    ) -> list[OutboxItem]:
        if limit <= 0:
            return []
        return await self._storage.outbox.claim(
            worker_id, now=self._clock.now(), limit=limit, exclude_chats=busy_chats, lane=lane
        )

    async def due_chats(self, lane: str | None = None) -> set[int]:
        return await self._storage.outbox.due_chats(now=self._clock.now(), lane=lane)

    async def claim_stands(self, item: OutboxItem, worker_id: str) -> bool:
        return await self._storage.outbox.claim_stands(item.id, worker_id)

    async def sent(self, item: OutboxItem, worker_id: str, message_id: int | None) -> None:
        recorded = await self._storage.outbox.mark_sent(item.id, worker_id, message_id=message_id, at=self._clock.now())
        if not recorded:
            current = await self._storage.outbox.get(item.id)
            if current is not None and current.state is DeliveryState.CANCELLED:
                # Given up (the person's access ended) while the request was on its way: nothing can call it back.
                log.warning("outbox %d to chat %d was delivered while it was given up: %s", item.id, item.chat_id,
                            current.last_error)
                return
            # Our claim was taken as stale and the message queued again: it may now go out twice.
            log.error("outbox %d was delivered but its claim by %s had been reclaimed", item.id, worker_id)

    async def failed(self, item: OutboxItem, worker_id: str, failure: DeliveryFailure) -> Decision:
        """Record a failed attempt and decide what happens next; every retry is logged by name."""
        outbox = self._storage.outbox
        attempt = item.attempts
        where = f"outbox {item.id} to chat {item.chat_id}"
        if failure.leave_topic and item.topic_id is not None:
            if not await outbox.copy_in_general(item.id):
                await outbox.mark_retry(item.id, worker_id, at=self._clock.now(), error=failure.detail, general=True)
                log.warning("%s: topic %d refuses it (%s), sending it to the general chat", where, item.topic_id,
                            failure.detail)
                return Decision(DeliveryState.PENDING, self._clock.now())
            failure = replace(failure, kind=FailureKind.REJECTED, detail=f"{failure.detail}; the general chat has one")
        if failure.kind in (FailureKind.BLOCKED, FailureKind.REJECTED):
            state = DeliveryState.BLOCKED if failure.kind is FailureKind.BLOCKED else DeliveryState.FAILED
            await outbox.mark_undeliverable(item.id, worker_id, state, error=failure.detail)
            level = logging.INFO if state is DeliveryState.BLOCKED else logging.ERROR
            log.log(level, "%s %s, not retried: %s", where, state.value, failure.detail)
            return Decision(state)
        flood = failure.kind is FailureKind.FLOOD
        limit = self.policy.max_flood_attempts if flood else self.policy.max_attempts
        if attempt >= limit:
            error = f"gave up after {attempt} attempts: {failure.detail}"
            await outbox.mark_undeliverable(item.id, worker_id, DeliveryState.FAILED, error=error)
            log.error("%s failed: %s", where, error)
            return Decision(DeliveryState.FAILED)
        hold = None
        if flood:
            # Exactly what Telegram asked for: sooner is refused again, later wastes the window.
            delay = failure.retry_after if failure.retry_after is not None else self.policy.base_delay
            reason = f"429 (retry_after={_seconds(delay)})"
        else:
            delay = self.policy.backoff(attempt, self._rng)
            reason = f"{failure.detail} (backoff {delay:.2f} s)"
            if attempt <= self.policy.quick_retries:
                hold, delay = delay, 0.0
        retry_at = self._clock.now() + timedelta(seconds=delay)
        await outbox.mark_retry(item.id, worker_id, at=retry_at, error=failure.detail, chat_id=failure.new_chat_id)
        log.warning("retry %d for outbox %d after %s", attempt, item.id, reason)
        return Decision(DeliveryState.PENDING, retry_at, hold)

    async def release(self, items: Collection[OutboxItem], worker_id: str) -> None:
        """Give back claims that were never sent (a graceful stop)."""
        if items:
            await self._storage.outbox.release([item.id for item in items], worker_id)

    async def recover(self) -> int:
        """Queue again the messages whose sender died while holding them; returns how many.

        A claim of a process on this host that is gone is taken back at once (a restarted bot sends what the
        killed one held straight away); any other claim only once it is `stale_after` old, since its sender may be
        alive elsewhere. Some of them may have reached Telegram just before the crash (the answer was lost with the
        process), and the Bot API cannot be asked: they are sent again, because a duplicate warning is better than
        a missing one.
        """
        outbox = self._storage.outbox
        dead = [worker for worker in await outbox.claimants() if is_dead(worker)]
        stale = await outbox.reclaim_from(dead) if dead else []
        stale += await outbox.reclaim_stale(claimed_before=self._clock.now() - self.stale_after)
        for item in stale:
            log.warning("outbox %d to chat %d: %s; queued again (it may arrive twice)", item.id, item.chat_id,
                        item.last_error)
        return len(stale)

    async def seconds_until_due(self) -> float | None:
        """How long until the earliest waiting message is due (0 if one is), None if nothing waits."""
        due = await self._storage.outbox.next_due()
        if due is None:
            return None
        return max(0.0, (due - self._clock.now()).total_seconds())

    async def wait_for_work(self, timeout: float) -> None:  # noqa: ASYNC109
        """Sleep until something is queued in this process, or `timeout` seconds pass."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._work.wait(), timeout)

    @property
    def has_news(self) -> bool:
        """Something was queued since a sender last looked (`looking`)."""
        return self._work.is_set()

    def looking(self) -> None:
        """A sender is about to claim: whatever was queued so far, it will find."""
        self._work.clear()


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
