"""What happens to a bound work group in Telegram and must not silently stop its county's warnings.

Upgraded to a supergroup (past 200 members, or an admin turning on a supergroup's feature), it gets a new chat id and
the old one refuses every message: the binding, the messages waiting for it and its reminders follow it, with or
without Telegram's word of it. The bot removed from it: the binding ends and the staff answerable are told."""

from __future__ import annotations

import pytest

from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import GROUP, cast, report
from tests.test_reminder_delivery import sweep
from tests.warning_people import drain

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


async def test_the_bot_removed_from_a_bound_group_ends_the_binding_and_tells_the_county(bot_stage: Stage) -> None:
    """Removed from the group, the bot went on sending it every notice and warning, each refused in silence: the
    county lost its warning channel and nobody was told."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)  # the group was bound by 周科长, the county's staff
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    people.group.make_admin(owner)
    await people.group.remove_bot(by=owner)
    await drain(bot_stage)

    told = people.staff.last_message().text
    assert "机器人已被移出工作群「鹿城区隐患通报群」（操作人：群主）" in told
    assert "（鹿城区 · 隐患通知）已解除" in told and "♻️ 恢复绑定" in told
    ended = await bot_stage.services.storage.groups.get(GROUP)
    assert ended is not None and not ended.active  # kept, with who bound it and when, but ended

    sends = len(bot_stage.sandbox.calls_to("sendMessage"))
    await report(bot_stage)
    await drain(bot_stage)
    to_group = [c for c in bot_stage.sandbox.calls_to("sendMessage")[sends:] if c.params["chat_id"] == GROUP]
    assert to_group == []  # nothing more sent to a chat that refuses it


@pytest.mark.parametrize(("first_name", "shown"), [("\u202e主群\u202c\x00", "主群"), ("\u200b\u2060 ", "77")])
async def test_the_name_of_whoever_removed_the_bot_is_told_as_it_shows(
    bot_stage: Stage, first_name: str, shown: str
) -> None:
    """The remover's Telegram name went into the staff's notice as it came: a right-to-left override reversed
    the words after it in the staff's chat, and a name of zero-width characters named nobody. It is cleaned as a
    registered person's name is, and one that shows nothing is their Telegram id."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    owner = bot_stage.sandbox.user(user_id=77, first_name=first_name)
    people.group.make_admin(owner)
    await people.group.remove_bot(by=owner)
    await drain(bot_stage)
    told = people.staff.last_message().text
    assert f"机器人已被移出工作群「鹿城区隐患通报群」（操作人：{shown}）" in told


async def test_the_bot_muted_in_a_bound_supergroup_is_the_same_loss_and_said_so(bot_stage: Stage) -> None:
    """An admin tired of the notices takes the bot's right to post away: it stays a member, and every message to
    the group is refused. The county is told, as for a removal."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage, "en")
    supergroup = await people.group.upgrade_to_supergroup(by=people.staff)
    owner = bot_stage.sandbox.user(user_id=77, first_name="Owner")
    supergroup.make_admin(owner)
    await supergroup.mute_bot(by=owner)
    await drain(bot_stage)
    told = people.staff.last_message().text
    assert "The bot was muted in the work group “鹿城区隐患通报群” (by Owner)" in told
    assert "(Lucheng District · Hazard notices) has ended" in told
    ended = await bot_stage.services.storage.groups.get(supergroup.chat_id)
    assert ended is not None and not ended.active


async def test_a_group_that_refuses_the_bot_unannounced_is_treated_as_lost_at_the_first_refusal(
    bot_stage: Stage,
) -> None:
    """Removed while the bot heard nothing of it (down longer than Telegram keeps updates): the first message the
    group refuses ends its binding and tells the county, as the news would have."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    people.group.set_bot_status("left")  # no my_chat_member update reaches the bot
    await report(bot_stage)
    await drain(bot_stage)
    assert "工作群「鹿城区隐患通报群」拒收机器人的消息" in people.staff.last_message().text
    ended = await bot_stage.services.storage.groups.get(GROUP)
    assert ended is not None and not ended.active


async def test_a_supergroup_that_mutes_the_bot_unannounced_is_lost_at_the_first_refusal(bot_stage: Stage) -> None:
    """The same for a muting the bot did not hear of: Telegram answers 400 "not enough rights to send text
    messages", which python-telegram-bot passes on as "Not enough rights …"."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    supergroup = await people.group.upgrade_to_supergroup(by=people.staff)
    supergroup.set_bot_status("restricted")  # no my_chat_member update reaches the bot
    await report(bot_stage)
    await drain(bot_stage)
    assert "工作群「鹿城区隐患通报群」拒收机器人的消息" in people.staff.last_message().text
    ended = await bot_stage.services.storage.groups.get(supergroup.chat_id)
    assert ended is not None and not ended.active


async def test_a_group_the_bot_was_removed_from_and_added_back_to_must_be_bound_again(bot_stage: Stage) -> None:
    """Its binding ended with the removal: added back, the group is a group like any other until staff bind it
    again, not answered as the county's work group it no longer is."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    people.group.make_admin(owner)
    await people.group.remove_bot(by=owner)
    await drain(bot_stage)
    people.group.set_bot_status("member")  # added back while the bot was not listening

    await people.staff.send_text("/tasks", chat=people.group)
    assert UNBOUND in people.staff.last_message(chat=people.group).text
