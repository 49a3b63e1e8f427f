"""A red typhoon warning to several hundred chats through the emulator, sent from /warn as staff would, while a
tenth of the sends fail (429, 500, 502) and the bot dies in the middle: after the restart every recipient has
exactly one copy, the forum topic got its copy in the topic, and the sender's status message kept count."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import OutboxSender
from bot.domain.roles import Role
from bot.pacing import Limits
from bot.sandbox import SimGroup, SimUser
from bot.services.outbox import OutboxService, RetryPolicy
from bot.stage import Stage, stage
from handlers.warning_outbox import resume_progress
from storage.models import Group, GroupPurpose, User
from storage.outbox_models import DeliveryState
from tests.test_outbox import RunningClock, inject_faults, wait_for_claims_in_flight
from tests.warning_people import DONGTOU, FORUM_TOPIC, Cast, enrol

STALE_AFTER = timedelta(seconds=30)
CROWD = 320
GROUPS = 10
MARKER = "台风红色预警：请立即落实防范措施"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Stage]:
    async with stage(tmp_path / "safety.db", clock=RunningClock()) as current:
        yield current
        assert current.sandbox.violations == [], current.sandbox.violations


def outbox_for(current: Stage) -> OutboxService:
    policy = RetryPolicy(base_delay=0.05, max_delay=0.5)
    return OutboxService(current.services.storage, current.clock, policy=policy, stale_after=STALE_AFTER)


def sender_for(current: Stage, outbox: OutboxService) -> OutboxSender:
    return OutboxSender(current.application, current.services, worker_id="bot", outbox=outbox,
                        limits=Limits.unlimited_for_tests())


async def crowd(current: Stage) -> tuple[list[SimUser], list[SimGroup]]:
    """Several hundred cadres of 洞头区 who have started the bot, and ten bound work groups."""
    users = current.services.storage.users
    people = []
    for n in range(CROWD):
        person = current.sandbox.user(5000 + n, f"干部{n}", language_code="zh-hans")
        await users.upsert(User(telegram_id=person.id, full_name=person.name, role=Role.CADRE, region_code=DONGTOU,
                                created_at=datetime.now(UTC)))
        people.append(person)
    for person in people:
        await person.send_text("/help", wait=False)
    await current.sandbox.settle(timeout=60)
    groups = [current.sandbox.group(-1003000 - n, f"洞头区网格群{n}") for n in range(GROUPS)]
    for group in groups:
        await current.services.storage.groups.bind(
            Group(chat_id=group.chat_id, title=group.title, region_code=DONGTOU, purpose=GroupPurpose.WARNINGS,
                  bound_by=1, bound_at=datetime.now(UTC))
        )
    return people, groups


def copies(chat: SimUser | SimGroup) -> int:
    return sum(MARKER in message.text for message in chat.messages())


async def wait_for_sent(outbox: OutboxService, batch: str, at_least: int, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await outbox.progress(batch)).sent >= at_least:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} sent after {timeout} s")


async def test_a_warning_to_hundreds_under_faults_and_a_crash_arrives_exactly_once(live: Stage) -> None:
    cast: Cast = await enrol(live)
    people, groups = await crowd(live)
    staff, sandbox = cast.dongtou_staff, live.sandbox
    await staff.send_text("/warn")
    await staff.press("台风")
    await staff.press("红色")
    await staff.press("📄 使用模板")
    await staff.press("下一步 ▶")
    await staff.press("下一步 ▶")
    await staff.press("24 小时")
    expected = CROWD + 3 + GROUPS + 2  # the crowd, two heads and a cadre, the groups, the cast's group and forum
    assert f"将发送给 {CROWD + 3} 人（机构负责人 2，社区/村干部 {CROWD + 1}）和 {GROUPS + 2} 个工作群" in (
        staff.last_message().text
    )

    inject_faults(live)
    outbox = outbox_for(live)
    sender = sender_for(live, outbox)
    live.application.bot_data["outbox_sender"] = sender
    await staff.press("📤 发送")
    batch = "warning:1:rev:1"
    assert (await outbox.progress(batch)).total == expected
    running = asyncio.create_task(sender.run_until_drained(batch))
    await wait_for_sent(outbox, batch, 150)

    # The crash: Telegram stops answering and the bot dies with requests in flight.
    sandbox.clear_faults()
    sandbox.inject_fault("sendMessage", "timeout", times=None)
    await wait_for_claims_in_flight(live, batch)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await live.services.storage.outbox.in_batch(batch, [DeliveryState.SENDING])
    await live.restart()
    sandbox.clear_faults()
    inject_faults(live)

    outbox = outbox_for(live)
    live.clock.advance(STALE_AFTER)
    sender = sender_for(live, outbox)
    live.application.bot_data["outbox_sender"] = sender
    assert await resume_progress(live.application.bot_data, live.services) == 1  # as start_background does
    await asyncio.wait_for(sender.run_until_drained(batch), 30)
    await sandbox.settle()

    chats: list[SimUser | SimGroup] = [*people, *groups, cast.head_1, cast.head_2, cast.cadre, cast.group]
    for chat in chats:
        assert copies(chat) == 1, chat
    (in_topic,) = [m for m in cast.forum.messages() if MARKER in m.text]
    assert in_topic.stored.thread_id == FORUM_TOPIC
    progress = await outbox.progress(batch)
    assert (progress.total, progress.sent, progress.undeliverable) == (expected, expected, 0)
    faulted = [c for c in sandbox.calls_to("sendMessage") if c.error_code in (429, 500, 502)]
    assert len(faulted) >= 10  # the faults did fire
    (status,) = [m for m in staff.messages() if "正在发送" in m.text or "发送完毕" in m.text]
    assert status.text == f"✅ 发送完毕：已送达 {expected} / {expected}，失败 0（其中 0 个已屏蔽机器人或将其移出群）"
