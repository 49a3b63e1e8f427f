"""The outbox at the service layer: queueing once, claiming in order, and what each kind of failure leads to."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.services.outbox import DeliveryFailure, FailureKind, OutboxService, RetryPolicy
from storage import Storage
from storage.outbox_models import DeliveryState, NewOutboxMessage, OutboxPayload, Priority

START = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
WORKER = "w1"
BAD_GATEWAY = DeliveryFailure(FailureKind.TRANSIENT, "NetworkError: Bad Gateway")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def storage(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Storage]:
    opened = await Storage.open(tmp_path / "outbox.db", clock)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def outbox(storage: Storage, clock: FakeClock) -> OutboxService:
    return OutboxService(storage, clock, policy=RetryPolicy(base_delay=2.0), rng=random.Random(7))


def message(key: str, chat_id: int, priority: Priority = Priority.NORMAL, text: str = "台风预警") -> NewOutboxMessage:
    return NewOutboxMessage(dedupe_key=key, chat_id=chat_id, payload=OutboxPayload(text=text), priority=priority)


async def test_enqueuing_the_same_key_twice_queues_one_message(outbox: OutboxService, storage: Storage) -> None:
    first = [message("warning:1:rev:1:chat:1", 1), message("warning:1:rev:1:chat:-100", -100)]
    assert await outbox.enqueue(first, batch="warning:1:rev:1") == 2
    again = [*first, message("warning:1:rev:1:chat:2", 2)]
    assert await outbox.enqueue(again, batch="warning:1:rev:1") == 1
    progress = await outbox.progress("warning:1:rev:1")
    assert (progress.total, progress.sent, progress.waiting, progress.done) == (3, 0, 3, False)


async def test_a_rolled_back_transaction_takes_its_messages_with_it(outbox: OutboxService, storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.db.transaction():
            await outbox.enqueue([message("k", 1)], batch="b")
            raise RuntimeError("the warning could not be saved")
    assert await outbox.owed() == 0


async def test_claims_take_one_message_per_chat_urgent_first_and_keep_each_chats_order(
    outbox: OutboxService,
) -> None:
    await outbox.enqueue([message("a1", 1), message("a2", 1), message("b1", 2), message("u", 3, Priority.URGENT)])
    first = await outbox.claim(WORKER, 10)
    assert [item.dedupe_key for item in first] == ["u", "a1", "b1"]
    assert await outbox.claim(WORKER, 10) == []  # chat 1's next message waits for the one in flight
    await outbox.sent(first[1], WORKER, message_id=11)
    assert [item.dedupe_key for item in await outbox.claim(WORKER, 10)] == ["a2"]


async def test_a_chat_the_pacer_calls_busy_is_skipped(outbox: OutboxService) -> None:
    await outbox.enqueue([message("a", 1), message("b", 2)])
    assert [item.chat_id for item in await outbox.claim(WORKER, 10, busy_chats=[1])] == [2]


async def test_a_429_is_retried_exactly_after_retry_after_and_logged_by_name(
    outbox: OutboxService, storage: Storage, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await outbox.enqueue([message("k", 1)])
    (item,) = await outbox.claim(WORKER, 1)
    with caplog.at_level(logging.WARNING):
        decision = await outbox.failed(item, WORKER, DeliveryFailure(FailureKind.FLOOD, "429", retry_after=3))
    assert decision.state is DeliveryState.PENDING and decision.retry_at == START + timedelta(seconds=3)
    assert f"retry 1 for outbox {item.id} after 429 (retry_after=3)" in caplog.text
    clock.advance(timedelta(seconds=2.9))
    assert await outbox.claim(WORKER, 1) == []
    clock.advance(timedelta(seconds=0.1))
    (again,) = await outbox.claim(WORKER, 1)
    assert again.attempts == 2


async def test_5xx_backs_off_with_jitter_then_gives_up(
    storage: Storage, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    policy = RetryPolicy(base_delay=2.0, max_attempts=4, quick_retries=2)
    outbox = OutboxService(storage, clock, policy=policy, rng=random.Random(1))
    await outbox.enqueue([message("k", 1)])
    for attempt in (1, 2, 3):
        (item,) = await outbox.claim(WORKER, 1)
        decision = await outbox.failed(item, WORKER, BAD_GATEWAY)
        assert decision.retry_at is not None
        ceiling = 2.0 * 2 ** (attempt - 1)
        if attempt <= 2:
            # Quick: due at once for whoever looks, but this sender holds the chat for the backoff.
            assert decision.retry_at == clock.now() and decision.hold is not None
            delay = decision.hold
        else:
            assert decision.hold is None
            delay = (decision.retry_at - clock.now()).total_seconds()
        assert ceiling / 2 <= delay <= ceiling
        clock.advance(timedelta(seconds=delay))
    (item,) = await outbox.claim(WORKER, 1)
    with caplog.at_level(logging.ERROR):
        decision = await outbox.failed(item, WORKER, BAD_GATEWAY)
    assert decision.state is DeliveryState.FAILED
    stored = await storage.outbox.get(item.id)
    assert stored is not None and stored.state is DeliveryState.FAILED and stored.attempts == 4
    assert "gave up after 4 attempts" in caplog.text


async def test_403_blocks_and_400_fails_without_a_retry(outbox: OutboxService, storage: Storage) -> None:
    await outbox.enqueue([message("blocked", 1), message("broken", 2)], batch="b")
    blocked, broken = await outbox.claim(WORKER, 2)
    await outbox.failed(blocked, WORKER, DeliveryFailure(FailureKind.BLOCKED, "Forbidden: bot was blocked by the user"))
    await outbox.failed(broken, WORKER, DeliveryFailure(FailureKind.REJECTED, "BadRequest: can't parse entities"))
    assert await outbox.claim(WORKER, 10) == []
    progress = await outbox.progress("b")
    assert (progress.sent, progress.failed, progress.blocked, progress.done) == (0, 1, 1, True)
    assert [item.state for item in await outbox.undeliverable("b")] == [DeliveryState.BLOCKED, DeliveryState.FAILED]


async def test_a_stale_claim_is_queued_again_only_after_the_grace_period(
    outbox: OutboxService, storage: Storage, clock: FakeClock
) -> None:
    await outbox.enqueue([message("k", 1)])
    (item,) = await outbox.claim("dead-worker", 1)
    clock.advance(outbox.stale_after - timedelta(seconds=1))
    assert await outbox.recover() == 0
    clock.advance(timedelta(seconds=2))
    assert await outbox.recover() == 1
    (again,) = await outbox.claim(WORKER, 1)
    assert again.id == item.id and again.attempts == 2
    # The dead worker, should it wake up, can no longer overwrite what the live one records.
    await outbox.sent(again, WORKER, message_id=5)
    assert not await storage.outbox.mark_sent(item.id, "dead-worker", message_id=6, at=clock.now())
    stored = await storage.outbox.get(item.id)
    assert stored is not None and stored.message_id == 5


async def test_released_claims_do_not_count_as_attempts(outbox: OutboxService, storage: Storage) -> None:
    await outbox.enqueue([message("k", 1)])
    claimed = await outbox.claim(WORKER, 1)
    await outbox.release(claimed, WORKER)
    stored = await storage.outbox.get(claimed[0].id)
    assert stored is not None and stored.state is DeliveryState.PENDING and stored.attempts == 0


def test_a_topic_belongs_to_a_group() -> None:
    with pytest.raises(ValueError, match="forum topic"):
        NewOutboxMessage(dedupe_key="k", chat_id=5, topic_id=3, payload=OutboxPayload(text="x"))
