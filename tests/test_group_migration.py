"""A bound work group that Telegram upgrades to a supergroup (past 200 members, or an admin turning on a
supergroup's feature) gets a new chat id, and the old one refuses every message. The binding, the messages waiting
for the group and its reminders to come follow it; with or without Telegram's word of it."""

from __future__ import annotations

from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import GROUP, cast, report
from tests.test_reminder_delivery import sweep

UNBOUND = "本群尚未绑定"


async def test_a_bound_group_that_becomes_a_supergroup_stays_bound_and_is_reached_there(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    storage = bot_stage.services.storage
    first = await report(bot_stage)  # 一般: deadline 9 March; the county's group hears on 13 March at 09:00
    assert first.code in people.group.last_message().text

    supergroup = await people.group.upgrade_to_supergroup(by=people.staff)
    bound = await storage.groups.get(supergroup.chat_id)
    assert bound is not None and bound.region_code == "330302" and await storage.groups.get(GROUP) is None

    second = await report(bot_stage, description="配电箱前堆放纸箱")
    assert second.code in supergroup.last_message().text
    await people.staff.send_text("/help", chat=supergroup)
    assert UNBOUND not in supergroup.last_message().text  # still a bound group, not a stranger

    bot_stage.clock.set(local(2026, 3, 13, 9))
    result = await sweep(bot_stage)  # planned for the old id when the first hazard was reported
    assert supergroup.chat_id in [d.recipient_id for d in result.sent]
    assert first.code in supergroup.last_message().text
    assert not result.failed


async def test_a_group_upgraded_while_the_bot_missed_it_is_followed_at_the_first_refusal(bot_stage: Stage) -> None:
    """Telegram answers a message to the old id with the new one: the notice goes there, and so does everything
    after it, reminders included."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    first = await report(bot_stage)
    supergroup = await people.group.upgrade_to_supergroup(by=people.staff, tell_bot=False)

    second = await report(bot_stage, description="配电箱前堆放纸箱")
    await bot_stage.sandbox.wait_for(lambda: bool(supergroup.messages()), timeout=10)
    assert second.code in supergroup.last_message().text
    assert await bot_stage.services.storage.groups.get(supergroup.chat_id) is not None

    bot_stage.clock.set(local(2026, 3, 13, 9))
    result = await sweep(bot_stage)
    assert supergroup.chat_id in [d.recipient_id for d in result.sent] and not result.failed
    assert first.code in supergroup.last_message().text
