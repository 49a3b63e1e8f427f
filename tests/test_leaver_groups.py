"""A person whose access ended, still in a bound group where the bot posts every new hazard."""

from __future__ import annotations

import argparse

import pytest

from bot import people_cli
from bot.stage import Stage
from tests.hazard_people import CADRE, GROUP, HEAD, Cast, cast, report
from tests.warning_people import containing, drain


async def end_heads_access(people: Cast) -> None:
    staff = people.staff
    await staff.send_text("/people")
    await staff.press("陈院长（机构负责人")
    await staff.press("⛔ 停用账号")
    await staff.press("⛔ 确认停用")


async def test_staff_are_told_the_leaver_is_still_in_a_group_and_can_remove_them(bot_stage: Stage) -> None:
    """The head's farewell promised no more hazard notices, and the next hazard was posted in the group he was
    still in; nobody was told."""
    people = await cast(bot_stage)
    people.group.add(people.head)
    people.group.set_bot_status("administrator")
    await end_heads_access(people)

    warned = people.staff.last_message()
    assert warned.text.startswith(
        "⚠️ 陈院长仍在以下已绑定的工作群中，仍能看到本助手在群里发布的隐患通报和预警：鹿城区隐患通报群")
    # A cadre's forged press, and a press for someone still active, remove nobody.
    forged = await people.cadre.press_data(people.cadre.last_message(), f"pp:kick:{HEAD}:{GROUP}")
    assert forged.answer is not None and forged.answer.show_alert
    people.group.add(people.cadre)
    active = await people.staff.press_data(warned, f"pp:kick:{CADRE}:{GROUP}")
    assert active.answer is not None and active.answer.show_alert
    chat = bot_stage.sandbox.world.chats[GROUP]
    assert chat.members[HEAD] == chat.members[CADRE] == "member"
    await people.staff.press("🚪 移出鹿城区隐患通报群", warned)
    assert people.staff.last_message().text.startswith(
        "✅ 已将陈院长移出鹿城区隐患通报群。如其日后回到岗位，仍可重新拉其入群。")
    assert chat.members[HEAD] == "left"  # out, and not banned: the group may take him back later
    removed = await bot_stage.services.storage.audit.list(action_prefix="group.member_removed")
    assert [(e.actor_id, e.target) for e in removed] == [(people.staff.id, f"user:{HEAD}")]

    await drain(bot_stage)
    (farewell,) = containing(people.head, "您在本机器人中的账号已由周科长停用")
    assert "本助手今后不会再私信您隐患通知、提醒和预警（您如仍在工作群中，群里的消息不受此影响）" in farewell.text
    assert "今后不会再收到隐患通知" not in farewell.text


async def test_where_the_bot_is_no_admin_staff_are_asked_to_have_the_groups_admins_remove_them(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    people.group.add(people.head)
    await end_heads_access(people)
    warned = people.staff.last_message()
    assert "陈院长仍在以下已绑定的工作群中" in warned.text and "请由群管理员将其移出" in warned.text
    assert warned.buttons == []


async def test_nobody_is_told_of_a_group_the_leaver_is_not_in(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await end_heads_access(people)
    assert people.staff.last_message().text.startswith("✅ 已停用陈院长")
    await report(bot_stage)
    await drain(bot_stage)
    assert not any("仍在以下已绑定的工作群中" in m.text for m in people.staff.messages())


async def test_the_command_line_names_the_groups_that_still_have_them(
    bot_stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    people = await cast(bot_stage)
    people.group.add(people.head)
    namespace = argparse.Namespace(command="deactivate", telegram_id=HEAD)
    assert await people_cli._main(namespace, bot_stage.settings, bot_stage.clock) == 0
    said = capsys.readouterr().err
    assert "陈院长仍在已绑定的工作群中：鹿城区隐患通报群。请在 Telegram 中将其移出" in said

    unchecked = bot_stage.settings.model_copy(update={"bot_token": ""})
    namespace = argparse.Namespace(command="deactivate", telegram_id=CADRE)
    assert await people_cli._main(namespace, unchecked, bot_stage.clock) == 0
    assert "未能向 Telegram 确认李娜是否仍在已绑定的工作群中（鹿城区隐患通报群）" in capsys.readouterr().err
