"""The period an institution joins in is owed only if at least half of it remains (compliance.owes): a home added
on 28 November is not reminded, escalated nor counted for November's self-inspection nor the second half-year's fire
drill, and owes December's; one added on 10 November owes November's. Through the emulator: the import as a city
admin sends it, then /drills, /stats and the reminders, as county staff and the new home's head see them."""

from __future__ import annotations

from bot.jobs import plan_once
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import cast
from tests.test_new_institutions import NEW_NAME, OLD_NAME, import_new_home, line_of
from tests.test_reminder_delivery import sweep


async def test_a_home_added_on_28_november_owes_december_first(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 11, 28, 10))
    people = await cast(bot_stage)
    staff = people.staff
    await staff.send_text("/stats")
    before = staff.last_message().text
    new_head = await import_new_home(bot_stage)

    await new_head.send_text("/drills")
    own = new_head.last_message().text
    assert "即将到期" not in own and "已逾期" not in own
    assert "2026年11月不作要求" in own and "2026年12月的月度隐患自查须在 2026-12-31 前完成" in own
    assert "2026年下半年不作要求" in own and "2027年上半年的消防演练须在 2027-06-30 前开展" in own

    await staff.send_text("/drills")
    assert not line_of(staff.last_message().text, NEW_NAME).startswith(("⚠️", "⏰"))

    await staff.send_text("/stats")
    after = staff.last_message().text
    # November's self-inspection is not owed by the new home: the month's figure is the demo homes' alone.
    running = "月度自查本月进行中：已完成 "
    assert before.split(running)[1].split("（")[0] == after.split(running)[1].split("（")[0]

    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 12, 1, 9, 1))
    await plan_once(bot_stage.services)
    seen, heard = len(staff.messages()), len(new_head.messages())
    await sweep(bot_stage)
    december_first = "\n".join(m.text for m in staff.messages()[seen:])
    assert "未完成2026年11月的月度隐患自查" in december_first  # the demo homes of Lucheng
    assert NEW_NAME not in december_first
    assert [m.text for m in new_head.messages()[heard:] if "11月" in m.text] == []

    bot_stage.clock.set(local(2026, 12, 31, 10))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2027, 1, 1, 9, 1))
    await plan_once(bot_stage.services)
    seen = len(staff.messages())
    await sweep(bot_stage)
    new_year = "\n".join(m.text for m in staff.messages()[seen:])
    assert f"{NEW_NAME} 未完成2026年12月的月度隐患自查" in new_year  # December it owed
    assert f"{OLD_NAME} 在2026年下半年未开展消防演练" in new_year
    assert f"{NEW_NAME} 在2026年下半年未开展消防演练" not in new_year  # joined with a month of it left


async def test_a_home_added_on_10_november_owes_november(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 11, 10, 10))
    people = await cast(bot_stage)
    staff = people.staff
    new_head = await import_new_home(bot_stage)

    bot_stage.clock.set(local(2026, 11, 25, 10))
    await new_head.send_text("/drills")
    assert "⚠️ 即将到期：2026年11月的月度隐患自查尚未完成" in new_head.last_message().text

    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 12, 1, 9, 1))
    await plan_once(bot_stage.services)
    seen = len(staff.messages())
    await sweep(bot_stage)
    december_first = "\n".join(m.text for m in staff.messages()[seen:])
    assert f"{NEW_NAME} 未完成2026年11月的月度隐患自查" in december_first
