"""The outbox sender's own flood limits: what it holds back, for whom and for how long."""

from __future__ import annotations

import asyncio
import time

from bot.pacing import Limits, Pacer

PERSON = 1001
OTHER = 1002
GROUP = -1_001_000_000_001


async def test_a_request_starts_only_a_second_after_the_answer_to_the_one_a_full_second_before_it() -> None:
    pacer = Pacer(Limits(per_second=3))
    pacer._STUCK_AFTER = 60.0  # this test decides when the first request is answered
    slots = [await pacer.acquire(PERSON + n) for n in range(3)]
    for slot in slots[1:]:
        pacer.answered(slot)
    fourth = asyncio.create_task(pacer.acquire(OTHER + 100))
    for _ in range(20):
        await asyncio.sleep(0)
    # However long ago the first was sent, Telegram may have counted it only when it answered.
    assert not fourth.done()
    pacer.answered(slots[0])
    answered_at = slots[0].answered_at
    assert answered_at is not None
    await fourth
    assert time.monotonic() - answered_at >= 1.0


async def test_a_429_holds_that_chat_only_and_gives_its_place_in_the_pace_back() -> None:
    pacer = Pacer(Limits(per_second=2))
    first = await pacer.acquire(PERSON)
    pacer.answered(first)
    refused = await pacer.acquire(GROUP)
    pacer.refused(refused, 3)
    assert pacer.chat_wait(GROUP) > 2.5
    assert pacer.chat_wait(OTHER) == 0
    # Two a second, one of them refused: the next one need not wait for the answered one's second to pass.
    assert pacer.global_wait() == 0


async def test_many_429s_in_a_row_hold_the_whole_bot() -> None:
    pacer = Pacer(Limits.unlimited_for_tests())
    for n in range(12):
        pacer.answered(await pacer.acquire(PERSON + n))
    assert pacer.global_wait() < 1
    for n in range(8):
        pacer.refused(await pacer.acquire(OTHER + 100 + n), 5)
    # Eight refusals among the last twenty answers: no single chat is the reason, the bot is over the limit.
    assert pacer.global_wait() > 4


async def test_a_retry_goes_before_first_tries_waiting_for_the_pace() -> None:
    pacer = Pacer(Limits(per_second=5))
    for n in range(3):  # what the pace allows at once
        pacer.answered(await pacer.acquire(PERSON + n))
    order: list[int] = []

    async def send(chat_id: int, retry: bool = False) -> None:
        pacer.answered(await pacer.acquire(chat_id, retry=retry))
        order.append(chat_id)

    waiting = asyncio.create_task(send(OTHER))  # takes its turn and waits for the pace
    await asyncio.sleep(0)
    first_try = asyncio.create_task(send(OTHER + 1))
    await asyncio.sleep(0)
    retry = asyncio.create_task(send(OTHER + 2, retry=True))
    await asyncio.gather(waiting, first_try, retry)
    assert order == [OTHER, OTHER + 2, OTHER + 1]


async def test_a_group_is_sent_no_more_than_twenty_messages_a_minute() -> None:
    # Telegram takes about 20 messages a minute in one group and refuses the rest with 429: the morning's warnings,
    # notices and reminders to a county's work group wait their turn instead of being refused one after another.
    now = [1000.0]
    pacer = Pacer(Limits(per_second=1000), monotonic=lambda: now[0])
    for n in range(20):
        assert pacer.chat_wait(GROUP) == 0, f"message {n + 1} of the minute held back"
        pacer.answered(await pacer.acquire(GROUP))
        now[0] += 0.5
    assert pacer.chat_wait(GROUP) > 45  # the 21st waits for the first to leave the minute
    assert GROUP in pacer.busy_chats()
    assert pacer.chat_wait(PERSON) == 0  # a person is not held up by the group
    now[0] += 61
    assert pacer.chat_wait(GROUP) == 0
