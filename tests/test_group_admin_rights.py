"""The bot's administrator rights in a bound work group: it is added as an admin so that it sees and takes down
classified posts (README, work groups). Made a plain member again, it went on posting and said nothing, while the
same classified text that it had refused and deleted an hour before stayed up, unanswered."""

from __future__ import annotations

from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import GROUP, cast
from tests.warning_people import drain

CLASSIFIED = "这是一份机密文件，请勿外传"


async def test_a_bot_demoted_in_a_bound_group_tells_the_group_and_staff_and_still_answers_marks(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 12, 1, 10))
    people = await cast(bot_stage)  # 鹿城区隐患通报群, bound by 周科长
    group, world = people.group, bot_stage.sandbox.world
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    group.make_admin(owner).add(people.cadre).set_bot_status("administrator")

    posted = await people.cadre.send_text(CLASSIFIED, chat=group)
    assert "密级标识“机密”" in group.last_message().text
    assert world.get_message(GROUP, posted.message_id) is None  # taken down

    await group.demote_bot(by=owner)
    await drain(bot_stage)
    told_here = group.last_message().text
    assert "机器人已不是本群管理员" in told_here and "无法识别和删除群内带密级标识的消息" in told_here
    told = people.staff.last_message().text
    assert "机器人已不是工作群「鹿城区隐患通报群」的管理员（操作人：群主）" in told
    assert "（鹿城区 · 隐患通知）仍然有效" in told
    binding = await bot_stage.services.storage.groups.get(GROUP)
    assert binding is not None and binding.active  # it still posts there: nothing ends
    audit = await bot_stage.services.storage.audit.list(action_prefix="group.bot_")
    assert [event.action for event in audit] == ["group.bot_demoted"]

    # A marked reply to the bot's post still reaches it (privacy mode): refused, and said to be still up.
    kept = await people.cadre.send_text(CLASSIFIED, chat=group, reply_to=group.last_message())
    refusal = group.last_message().text
    assert "密级标识“机密”" in refusal and "这条消息仍在群里，请发送人立即撤回" in refusal
    assert world.get_message(GROUP, kept.message_id) is not None
    refused = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert refused[-1].detail.get("deleted") is False

    await group.promote_bot(by=owner)
    await drain(bot_stage)
    assert "机器人已恢复本群管理员权限" in group.last_message().text
    assert "机器人已恢复为工作群「鹿城区隐患通报群」的管理员" in people.staff.last_message().text


async def test_an_unbound_group_or_a_first_promotion_tells_nobody(bot_stage: Stage) -> None:
    """Made an admin where it was a member from the start, the bot has lost nothing: staff hear nothing."""
    bot_stage.clock.set(local(2026, 12, 1, 10))
    people = await cast(bot_stage, "en")
    owner = bot_stage.sandbox.user(user_id=77, first_name="Owner")
    people.group.make_admin(owner)
    before = len(people.staff.messages())
    await people.group.promote_bot(by=owner)
    await drain(bot_stage)
    assert len(people.staff.messages()) == before and people.group.messages() == []
    await people.group.demote_bot(by=owner)
    await drain(bot_stage)
    # The group reads the bureau's language; the English-speaking official reads his own.
    assert "无法识别和删除群内带密级标识的消息" in people.group.last_message().text
    assert "is no longer an administrator of the work group “鹿城区隐患通报群” (changed by Owner)" in (
        people.staff.last_message().text)
