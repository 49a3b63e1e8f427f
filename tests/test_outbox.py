"""Delivery that loses nothing, end to end: the real bot's outbox sender against the emulator, with faults and crashes.

The broadcast goes to people who started the bot (each said something to it first), bound groups and a forum topic,
while the emulator answers a tenth of the sends with 429, 500 or 502; in the middle the sender dies.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import delivery
from bot.app import build_application
from bot.clock import FakeClock
from bot.delivery import OutboxSender
from bot.delivery_errors import classify, general_refuses, group_refuses
from bot.delivery_status import progress_text
from bot.pacing import Limits
from bot.sandbox import SimGroup, SimUser
from bot.sandbox.media import make_jpeg
from bot.services.outbox import FailureKind, OutboxService, RetryPolicy
from bot.stage import Stage, stage
from storage import db
from storage.outbox_models import BatchProgress, DeliveryState, NewOutboxMessage, OutboxItem, OutboxPayload, Priority
from tests.db_faults import failing_first

BATCH = "warning:7:rev:1"
TEXT = "🔴 台风红色预警：请立即转移临海低洼处人员"
STALE_AFTER = timedelta(seconds=30)
ACK_BUTTON = {"inline_keyboard": [[{"text": "已收到并落实", "callback_data": "ack:7"}]]}


class RunningClock(FakeClock):
    """Real time, plus whatever the test skips ahead: retries fall due by themselves, grace periods on demand."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self._started = time.monotonic()

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=time.monotonic() - self._started)


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Stage]:
    async with stage(tmp_path / "safety.db", clock=RunningClock()) as current:
        yield current
        assert current.sandbox.violations == [], current.sandbox.violations


def outbox_for(current: Stage) -> OutboxService:
    policy = RetryPolicy(base_delay=0.05, max_delay=0.5)
    return OutboxService(current.services.storage, current.clock, policy=policy, stale_after=STALE_AFTER)


def sender_for(current: Stage, outbox: OutboxService) -> OutboxSender:
    return OutboxSender(
        current.application, current.services, worker_id="bot", outbox=outbox, limits=Limits.unlimited_for_tests()
    )


async def people_who_started_the_bot(current: Stage, count: int, first_id: int = 5000) -> list[SimUser]:
    people = [current.sandbox.user(first_id + n, f"居民{n}", language_code="zh-hans") for n in range(count)]
    for person in people:
        await person.send_text("你好", wait=False)
    await current.sandbox.settle(timeout=60)
    return people


def copies(chat: SimUser | SimGroup) -> int:
    return sum(TEXT in message.text for message in chat.messages())


def inject_faults(current: Stage) -> None:
    """A tenth of the sends fail: 429 (come back in a second), 500 and 502."""
    current.sandbox.inject_fault("sendMessage", "429", times=None, probability=0.05, retry_after=1, seed=1)
    current.sandbox.inject_fault("sendMessage", "500", times=None, probability=0.03, seed=2)
    current.sandbox.inject_fault("sendMessage", "502", times=None, probability=0.02, seed=3)


async def wait_for_progress(outbox: OutboxService, at_least: int, timeout: float = 20.0) -> BatchProgress:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = await outbox.progress(BATCH)
        if progress.sent >= at_least:
            return progress
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} sent after {timeout} s")


async def wait_for_claims_in_flight(current: Stage, batch: str = BATCH, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Until the sender holds claims whose requests hang: a crash then strands them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await current.services.storage.outbox.in_batch(batch, [DeliveryState.SENDING]):
            await asyncio.sleep(0.1)  # a few more requests join the hanging ones
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing in flight after {timeout} s")


async def queued_for(current: Stage, people: list[SimUser], per_person: int = 1) -> OutboxService:
    """An outbox with `per_person` messages of BATCH for each of them."""
    outbox = outbox_for(current)
    await outbox.enqueue([NewOutboxMessage(dedupe_key=f"n:{p.id}:{n}", chat_id=p.id, payload=OutboxPayload(text=TEXT))
                          for p in people for n in range(per_person)], batch=BATCH)
    return outbox


async def drained_logging(
    live: Stage, outbox: OutboxService, caplog: pytest.LogCaptureFixture, words: str, *, timeout: float  # noqa: ASYNC109
) -> int:
    """Send BATCH to the end as the sender does; how many of the sender's errors logged meanwhile say `words`."""
    with caplog.at_level(logging.ERROR, logger="bot.delivery"):
        await asyncio.wait_for(sender_for(live, outbox).run_until_drained(BATCH), timeout)
    return len([r for r in caplog.records if words in r.getMessage()])


async def test_a_broadcast_under_faults_and_a_crash_reaches_everyone_exactly_once(
    live: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.services.outbox")
    sandbox = live.sandbox
    people = await people_who_started_the_bot(live, 320)
    blocked = people[::27]  # 12 people blocked the bot after starting it
    for person in blocked:
        person.block_bot()
    groups = [sandbox.group(-1001000 - n, f"工作群{n}") for n in range(10)]
    forum = sandbox.group(-1002000, "鹿城区防汛防台", is_forum=True)
    forum.add_topic("预警", 3)
    await sandbox.settle()

    staff = people[-1]
    status = await live.application.bot.send_message(staff.id, "📤 正在发送…")
    recipients: list[tuple[int, int | None]] = [(p.id, None) for p in people]
    recipients += [(g.chat_id, None) for g in groups] + [(forum.chat_id, 3)]
    messages = [
        NewOutboxMessage(
            dedupe_key=f"{BATCH}:chat:{chat_id}",
            chat_id=chat_id,
            topic_id=topic_id,
            payload=OutboxPayload(text=TEXT, reply_markup=ACK_BUTTON),
            priority=Priority.URGENT,
        )
        for chat_id, topic_id in recipients
    ]
    outbox = outbox_for(live)
    async with live.services.storage.db.transaction():
        assert await outbox.enqueue(messages, batch=BATCH) == len(recipients) == 331
    assert await outbox.enqueue(messages, batch=BATCH) == 0  # the same warning queued twice is harmless

    inject_faults(live)
    render = lambda progress: progress_text(progress, live.services.i18n.get("zh_CN"))  # noqa: E731
    sender = sender_for(live, outbox)
    sender.watch(BATCH, sender.status_message(staff.id, status.message_id, render, text=status.text))
    running = asyncio.create_task(sender.run_until_drained(BATCH))
    await wait_for_progress(outbox, 150)

    # The crash: Telegram stops answering, and the bot dies with requests in flight (which never took effect).
    sandbox.clear_faults()
    sandbox.inject_fault("sendMessage", "timeout", times=None)
    # A fixed pause was not always enough on a loaded machine: the sender may be between rounds, its next items
    # waiting out a 429, with nothing in flight yet.
    await wait_for_claims_in_flight(live)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    stranded = await live.services.storage.outbox.in_batch(BATCH, [DeliveryState.SENDING])
    assert stranded, "the crash should have left claims in flight"
    await live.restart()
    sandbox.clear_faults()
    inject_faults(live)

    outbox = outbox_for(live)
    assert await outbox.recover() == 0  # a claim younger than the grace period may belong to a live sender
    live.clock.advance(STALE_AFTER)
    sender = sender_for(live, outbox)
    # As resume_progress does with the recorded text: what the message says now, so no edit repeats it.
    (shown,) = [message.text for message in staff.messages() if message.message_id == status.message_id]
    sender.watch(BATCH, sender.status_message(staff.id, status.message_id, render, text=shown))
    await asyncio.wait_for(sender.run_until_drained(BATCH), 30)

    for person in people:
        assert copies(person) == (0 if person in blocked else 1), person
    for group in groups:
        assert copies(group) == 1, group
    (topic_message,) = forum.messages()
    assert topic_message.stored.thread_id == 3
    progress = await outbox.progress(BATCH)
    assert (progress.total, progress.sent, progress.failed, progress.blocked) == (331, 331 - 12, 0, 12)
    assert {row.chat_id for row in await outbox.undeliverable(BATCH)} == {p.id for p in blocked}
    for person in blocked:  # once Telegram said 403, never asked again
        # .get: a request the crash cut off before its body arrived is recorded with no parameters.
        answers = [call.error_code for call in sandbox.calls_to("sendMessage")
                   if call.params.get("chat_id") == person.id]
        assert answers[-1] == 403 and answers.count(403) == 1, answers
    (status_now,) = [message for message in staff.messages() if message.message_id == status.message_id]
    assert status_now.text == "✅ 发送完毕：已送达 319 / 331，失败 12（其中 12 个已屏蔽机器人或将其移出群）"
    edits = sandbox.calls_to("editMessageText")
    assert edits and all(call.ok for call in edits)
    assert "after 429 (retry_after=1)" in caplog.text and "Bad Gateway" in caplog.text
    assert "queued again (it may arrive twice)" in caplog.text


async def test_a_crash_after_telegram_accepted_is_the_documented_duplicate(live: Stage) -> None:
    """The one window the Bot API leaves: delivered, then the process dies before the row says so. Within the
    grace period nothing is resent; after it, the message goes again rather than risk it never arriving."""
    (person,) = await people_who_started_the_bot(live, 1)
    outbox = outbox_for(live)
    await outbox.enqueue([NewOutboxMessage(dedupe_key="k", chat_id=person.id, payload=OutboxPayload(text=TEXT))])
    never = asyncio.Event()

    async def dies_before_recording(item: OutboxItem, worker_id: str, message_id: int | None) -> None:
        await never.wait()

    outbox.sent = dies_before_recording  # type: ignore[method-assign]
    running = asyncio.create_task(sender_for(live, outbox).run_until_drained())
    await live.sandbox.wait_for(lambda: copies(person) == 1)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await live.restart()

    outbox = outbox_for(live)
    assert await outbox.recover() == 0
    assert copies(person) == 1
    live.clock.advance(STALE_AFTER)
    await asyncio.wait_for(sender_for(live, outbox).run_until_drained(), 10)
    assert copies(person) == 2


async def test_a_graceful_stop_hands_back_unsent_claims_and_a_restart_finishes_the_job(live: Stage) -> None:
    people = await people_who_started_the_bot(live, 40)
    outbox = outbox_for(live)
    await outbox.enqueue(
        [NewOutboxMessage(dedupe_key=f"n:{p.id}", chat_id=p.id, payload=OutboxPayload(text=TEXT)) for p in people],
        batch=BATCH,
    )
    slow = OutboxSender(live.application, live.services, worker_id="bot", outbox=outbox, limits=Limits(per_second=20))
    slow.start()
    await wait_for_progress(outbox, 5)
    await slow.stop()
    assert await live.services.storage.outbox.in_batch(BATCH, [DeliveryState.SENDING]) == []
    assert 5 <= (await outbox.progress(BATCH)).sent < 40

    again = sender_for(live, outbox)
    again.start()
    await asyncio.wait_for(again.run_until_drained(BATCH), 10)
    await again.stop()
    assert [copies(p) for p in people] == [1] * 40


async def test_a_graceful_stop_while_telegrams_answers_are_slow_sends_nobody_the_warning_twice(live: Stage) -> None:
    # A restart for an update: the sender stops while Telegram has taken the warnings but not yet answered. Those
    # requests must be waited for, not cut short and handed back as unsent: the restarted bot sent them again.
    people = await people_who_started_the_bot(live, 4)
    outbox = await queued_for(live, people)
    sender = sender_for(live, outbox)
    send = sender._send
    accepted: list[int] = []
    all_accepted = asyncio.Event()

    async def answered_late(item: OutboxItem) -> int | None:
        message_id = await send(item)  # the person has it
        accepted.append(item.chat_id)
        if len(accepted) == len(people):
            all_accepted.set()
        await asyncio.sleep(1.0)  # the answer is slow to come back
        return message_id

    sender._send = answered_late  # type: ignore[method-assign]
    sender.start()
    await asyncio.wait_for(all_accepted.wait(), 20)
    await sender.stop()

    again = sender_for(live, outbox)
    again.start()
    await asyncio.wait_for(again.run_until_drained(BATCH), 10)
    await again.stop()
    assert [copies(p) for p in people] == [1] * len(people)


async def test_a_fault_of_ours_with_one_message_is_retried_and_holds_up_no_other(
    live: Stage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fault not yet known, injected into sending the first person's message (twice, then mended): it used to
    crash the delivery, leaving the message claimed and its chat's queue held until the claim went stale, and then
    to crash again at every claim. Now it is retried like a passing failure and arrives once."""
    people = await people_who_started_the_bot(live, 3)
    outbox = await queued_for(live, people, per_person=2)
    def first_persons(_: OutboxSender, item: OutboxItem) -> bool:
        return item.chat_id == people[0].id

    faulty = failing_first(OutboxSender._send, 2, RuntimeError("a fault of ours"), when=first_persons)
    monkeypatch.setattr(OutboxSender, "_send", faulty)
    logged = await drained_logging(live, outbox, caplog, "a fault of ours", timeout=10)
    assert [copies(p) for p in people] == [2, 2, 2]
    assert logged == 2


async def test_the_sender_outlives_the_database_refusing_it_for_a_while(
    live: Stage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The command line beside the bot can hold SQLite's write lock past the busy timeout (a long import): the
    sender's claims then fail with "database is locked". The loop used to end there, and nothing more was sent,
    warnings included, until a restart. It now says so and looks again."""
    people = await people_who_started_the_bot(live, 3)
    outbox = await queued_for(live, people)
    locked = sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(OutboxService, "claim", failing_first(OutboxService.claim, 2, locked))
    logged = await drained_logging(live, outbox, caplog, "could not look for work", timeout=15)
    assert [copies(p) for p in people] == [1, 1, 1]
    assert logged == 2


async def test_a_message_delivered_while_the_database_refuses_its_record_is_not_sent_again(
    live: Stage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram took the message, then the database refused to record it ("database is locked"). The delivery
    used to crash there, the claim went stale, and the person got the warning twice. The record is what is tried
    again now, not the message."""
    people = await people_who_started_the_bot(live, 3)
    outbox = await queued_for(live, people)
    monkeypatch.setattr(db, "REFUSED_RETRY_FIRST", 0.05)
    monkeypatch.setattr(delivery, "RECOVER_EVERY", 0.05)
    locked = sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(OutboxService, "sent", failing_first(OutboxService.sent, 1, locked))
    sender = sender_for(live, outbox)
    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        sender.start()
        try:
            await live.sandbox.wait_for(lambda: all(copies(p) for p in people), timeout=10)
            await asyncio.sleep(0.5)  # the record's retry, when there is one
            live.clock.advance(STALE_AFTER * 2)  # a claim left behind is now stale, and taken back
            await wait_for_progress(outbox, at_least=3, timeout=10)
            await live.sandbox.wait_for(lambda: sender.quiet, timeout=10)
        finally:
            await sender.stop()
    assert [copies(p) for p in people] == [1, 1, 1]
    assert any("not saved (database is locked); trying again" in r.getMessage() for r in caplog.records)


async def test_a_progress_report_outlives_the_database_refusing_it_once(
    live: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broadcaster's self-editing status message reads the batch's progress; one refusal used to end its
    report there, and the message stayed at "sending" after everything had gone out."""
    people = await people_who_started_the_bot(live, 3)
    outbox = await queued_for(live, people)
    locked = sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(OutboxService, "progress", failing_first(OutboxService.progress, 1, locked))
    seen: list[BatchProgress] = []

    async def report(current: BatchProgress) -> None:
        seen.append(current)

    sender = sender_for(live, outbox)
    sender.watch(BATCH, report, every=0.05)
    await asyncio.wait_for(sender.run_until_drained(BATCH), 15)
    assert seen and seen[-1].done and seen[-1].sent == 3


async def test_a_photo_is_uploaded_once_and_reused_by_file_id(live: Stage) -> None:
    people = await people_who_started_the_bot(live, 3)
    digest = live.services.evidence.store(make_jpeg(64, 48, 1))
    outbox = outbox_for(live)
    payload = OutboxPayload(text=TEXT, photo_sha256=digest, disable_notification=True)
    await outbox.enqueue([NewOutboxMessage(dedupe_key=f"p:{p.id}", chat_id=p.id, payload=payload) for p in people])
    await asyncio.wait_for(sender_for(live, outbox).run_until_drained(), 10)
    assert [p.last_message().kind for p in people] == ["photo"] * 3
    photos = [call.params["photo"] for call in live.sandbox.calls_to("sendPhoto")]
    assert len(photos) == 3 and not isinstance(photos[0], str) and all(isinstance(p, str) for p in photos[1:])


async def test_with_the_rate_limiter_on_the_senders_own_bot_retries_a_failed_request_too(
    live: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    """As `safety-bot run` builds it (AIORateLimiter on), the sender sends with a bot of its own; a 500 on the way is
    retried in the request, as for the application's own bot, and the log names the retry."""
    (person,) = await people_who_started_the_bot(live, 1)
    outbox = outbox_for(live)
    production = build_application(live.services, rate_limiter=True)
    sender = OutboxSender(production, live.services, worker_id="bot", outbox=outbox,
                          limits=Limits.unlimited_for_tests())
    assert sender.bot is not production.bot
    live.sandbox.inject_fault("sendMessage", "500", times=1)
    await outbox.enqueue([NewOutboxMessage(dedupe_key="k", chat_id=person.id, payload=OutboxPayload(text=TEXT))])
    with caplog.at_level(logging.WARNING, logger="bot.retrying"):
        await asyncio.wait_for(sender.run_until_drained(), 10)
    await sender.stop()
    assert copies(person) == 1
    item = await live.services.storage.outbox.get_by_key("k")
    assert item is not None and item.state is DeliveryState.SENT and item.attempts == 1  # mended in the request
    assert any(r.getMessage().startswith("Bot API sendMessage failed (HTTP 500") for r in caplog.records
               if r.name == "bot.retrying")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (RetryAfter(3), FailureKind.FLOOD),
        (Forbidden("Forbidden: bot was blocked by the user"), FailureKind.BLOCKED),
        (BadRequest("Bad Request: can't parse entities"), FailureKind.REJECTED),
        (TimedOut(), FailureKind.TRANSIENT),
        (NetworkError("Bad Gateway (502). Parsing the server response b'<html>…' failed"), FailureKind.TRANSIENT),
        (ChatMigrated(-1001234), FailureKind.TRANSIENT),
    ],
)
def test_each_telegram_error_means_one_thing_for_the_message(error: TelegramError, kind: FailureKind) -> None:
    failure = classify(error)
    assert failure.kind is kind
    assert "<html>" not in failure.detail and not failure.detail.startswith("Forbidden: Forbidden")
    assert failure.retry_after == (3.0 if kind is FailureKind.FLOOD else None)
    assert failure.new_chat_id == (-1001234 if isinstance(error, ChatMigrated) else None)


@pytest.mark.parametrize(
    ("chat_id", "error", "lost"),
    [
        (-1001, Forbidden("Forbidden: bot was kicked from the group chat"), True),
        (-1001, BadRequest("Bad Request: not enough rights to send text messages to the chat"), True),
        (-1001, BadRequest("Bad Request: chat not found"), True),
        # A group that takes no photos still takes a warning's text: it is not lost over a photo.
        (-1001, BadRequest("Bad Request: not enough rights to send photos to the chat"), False),
        (-1001, BadRequest("Bad Request: message is too long"), False),
        (-1001, NetworkError("Bad Gateway"), False),
        (5000, Forbidden("Forbidden: bot was blocked by the user"), False),  # a person, not a group
        # A forum's General topic closed: only the general chat is lost, not the group (`general_refuses`).
        (-1001, BadRequest("Bad Request: TOPIC_CLOSED"), False),
    ],
)
def test_a_group_is_taken_for_lost_only_when_nothing_can_reach_it(
    chat_id: int, error: TelegramError, lost: bool
) -> None:
    assert group_refuses(chat_id, classify(error)) is lost


@pytest.mark.parametrize(
    ("chat_id", "error", "lost"),
    [
        (-1001, BadRequest("Bad Request: TOPIC_CLOSED"), True),  # python-telegram-bot makes it "Topic_closed"
        (-1001, BadRequest("Bad Request: message thread not found"), False),
        (-1001, Forbidden("Forbidden: bot was kicked from the supergroup chat"), False),
        (-1001, NetworkError("Bad Gateway"), False),
        (5000, BadRequest("Bad Request: TOPIC_CLOSED"), False),  # a person's chat has no General topic to close
    ],
)
def test_a_general_chat_is_taken_for_lost_only_when_its_general_topic_is_closed(
    chat_id: int, error: TelegramError, lost: bool
) -> None:
    assert general_refuses(chat_id, classify(error)) is lost
