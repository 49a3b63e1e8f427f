"""A call for help nobody takes is paged again, as an on-call pager's page: every 30 minutes to those first alerted,
after the second interval to the city admins too, the person who asked told that nobody has taken it yet; then
hourly to both, the city's pages counted and worded for the city, for twelve hours at most; /warnstatus shows how
long it has waited. Each page once, however often the follow-up runs."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.stage import Stage
from bot.warning_jobs import follow_up
from tests.warning_people import HOME_2_ZH, containing, drain, enrol, send_typhoon


async def test_an_untaken_call_is_paged_again_then_escalated_to_the_city_until_someone_takes_it(
    typhoon_stage: Stage,
) -> None:
    """A yellow warning, 陈院长 presses 🆘 at 09:00 and nobody takes it: before, 林科长 heard once and nothing came
    for eight hours, the head was never told, /warnstatus did not say it lay untaken."""
    stage, services = typhoon_stage, typhoon_stage.services
    cast = await enrol(stage)
    colleague = stage.sandbox.user(user_id=21, first_name="吴", last_name="科员", language_code="zh-hans")
    await stage.register(colleague, Role.COUNTY, region="330305")
    await send_typhoon(stage, cast, "黄色")
    await cast.head_2.press("🆘 需要帮助")
    await drain(stage)
    staff, admin = cast.dongtou_staff, cast.admin
    assert len(containing(staff, "紧急求助")) == 1 and containing(admin, "求助") == []

    stage.clock.advance(timedelta(minutes=29))
    assert (await follow_up(services)).help_repaged == 0
    stage.clock.advance(timedelta(minutes=1))
    assert (await follow_up(services)).help_repaged == 1
    assert (await follow_up(services)).help_repaged == 0  # run again (or after a restart): nothing twice
    await drain(stage)
    for person in (staff, colleague):
        (page,) = containing(person, "求助尚无人接手")
        assert "第 1 次提醒，已等 30 分钟" in page.text and HOME_2_ZH in page.text
        assert page.buttons == [["✋ 我来处理"]]
    assert containing(admin, "求助") == [] and containing(cast.head_2, "尚无人接手") == []

    await staff.send_text("/warnstatus")
    assert f"🆘 {HOME_2_ZH}：陈 院长 2026-09-10 09:00 · 尚无人接手（已等 30 分钟）" in staff.last_message().text

    stage.clock.advance(timedelta(minutes=30))
    report = await follow_up(services)
    assert (report.help_repaged, report.help_escalated) == (1, 1)
    assert (await follow_up(services)).help_escalated == 0
    await drain(stage)
    assert len(containing(staff, "求助尚无人接手")) == 2
    (escalated,) = containing(admin, "求助无人接手")
    assert "已等 1 小时" in escalated.text and "洞头区" in escalated.text and escalated.buttons == [["✋ 我来处理"]]
    (waiting,) = containing(cast.head_2, "尚无人接手")
    assert "已再次提醒县级民政部门并上报市民政局" in waiting.text

    # The city told, the pages slow to hourly: nothing at 10:30. At 11:00 the county's third page, and the city's
    # second message of it (the 🔺 notice was its first), in words for the city: the county has not taken it.
    stage.clock.advance(timedelta(minutes=30))
    assert (await follow_up(services)).help_repaged == 0
    stage.clock.advance(timedelta(minutes=30))
    assert (await follow_up(services)).help_repaged == 1
    await drain(stage)
    assert "第 3 次提醒，已等 2 小时" in containing(staff, "求助尚无人接手")[-1].text
    (city_page,) = containing(admin, "求助仍无人接手")
    assert "市局第 2 次提醒，已等 2 小时" in city_page.text and "洞头区尚无人接手，请市局安排" in city_page.text
    assert city_page.buttons == [["✋ 我来处理"]] and containing(admin, "请一位同事") == []
    # 王局长 takes it from his escalation, and the pages stop; the county's copies say who took it.
    await admin.press("✋ 我来处理", escalated)
    for page in containing(staff, "求助尚无人接手"):
        assert page.buttons == [] and page.text.endswith("✋ 王 局长 处理中（2026-09-10 11:00 接手）")
    stage.clock.advance(timedelta(hours=3))
    assert (await follow_up(services)).help_repaged == 0
    await drain(stage)
    assert len(containing(staff, "求助尚无人接手")) == 3


async def test_a_call_nobody_ever_takes_is_paged_hourly_once_the_city_knows_and_stops_after_twelve_hours(
    typhoon_stage: Stage,
) -> None:
    """Before, an untaken call paged 林科长 and 王局长 every 30 minutes for a day: 47 pages each. Now half-hourly to the
    county until the city is told, then hourly to both, and nothing after twelve hours (left to /warnstatus)."""
    stage, services = typhoon_stage, typhoon_stage.services
    cast = await enrol(stage)
    await send_typhoon(stage, cast, "黄色")
    await cast.head_2.press("🆘 需要帮助")
    await drain(stage)
    staff, admin = cast.dongtou_staff, cast.admin
    for _ in range(2 * 15):  # fifteen hours, the follow-up run every half hour
        stage.clock.advance(timedelta(minutes=30))
        await follow_up(services)
        await drain(stage)
    county_pages = containing(staff, "求助尚无人接手")
    city_pages = containing(admin, "求助仍无人接手")
    # The county: at 30 minutes and an hour, then every hour to twelve hours (11 more).
    assert len(county_pages) == 13 and "第 13 次提醒，已等 12 小时" in county_pages[-1].text
    # The city: its 🔺 notice at an hour, then every hour to twelve hours, numbered from its own first.
    assert len(containing(admin, "求助无人接手")) == 1
    assert len(city_pages) == 11 and "市局第 12 次提醒，已等 12 小时" in city_pages[-1].text


async def test_a_call_taken_by_county_staff_after_its_escalation_takes_the_city_admins_button_away(
    typhoon_stage: Stage,
) -> None:
    """An hour untaken, 陈院长's call reached 王局长 as "求助无人接手" with ✋ 我来处理; then 林科长 took it. Every
    copy announcing the call says who has it and loses ✋, the city's escalation as well as the county's pages."""
    stage, services = typhoon_stage, typhoon_stage.services
    cast = await enrol(stage)
    await send_typhoon(stage, cast, "黄色")
    await cast.head_2.press("🆘 需要帮助")
    await drain(stage)
    staff, admin = cast.dongtou_staff, cast.admin
    for _ in range(2):
        stage.clock.advance(timedelta(minutes=30))
        await follow_up(services)
    await drain(stage)
    (escalated,) = containing(admin, "求助无人接手")
    assert escalated.buttons == [["✋ 我来处理"]]

    await staff.press("✋ 我来处理", containing(staff, "紧急求助")[0])
    (escalated,) = containing(admin, "求助无人接手")
    assert escalated.buttons == [] and "林 科长 处理中" in escalated.text
    for page in containing(staff, "求助尚无人接手"):
        assert page.buttons == []


async def test_when_the_pages_stop_staff_and_the_city_are_told_once_and_the_lift_tells_the_head_the_call_is_open(
    typhoon_stage: Stage,
) -> None:
    """The audit's Rui'an funeral home: a 🆘 nobody took, paged for twelve hours, then nothing, open for 33 hours; the
    head's 【解除】 said only "lifted". Now the stop is announced once, to the county's staff and the city admins,
    with ✋ 我来处理, and the head's 【解除】 says the call is still open and that nobody has taken it."""
    stage, services = typhoon_stage, typhoon_stage.services
    cast = await enrol(stage)
    await send_typhoon(stage, cast, "黄色", "48 小时")
    await cast.head_2.press("🆘 需要帮助")
    await drain(stage)
    staff, admin = cast.dongtou_staff, cast.admin
    stopped = 0
    for _ in range(2 * 14):  # fourteen hours, the follow-up run every half hour
        stage.clock.advance(timedelta(minutes=30))
        stopped += (await follow_up(services)).help_stopped
        await drain(stage)
    assert stopped == 1
    for person in (staff, admin):
        (stop,) = containing(person, "求助提醒已停止，求助仍未处理")
        assert HOME_2_ZH in stop.text and "连续提醒 12 小时仍无人接手" in stop.text, person
        assert stop.buttons == [["✋ 我来处理"]]

    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    await staff.press("✅ 确认解除")
    await drain(stage)
    (lifted,) = containing(cast.head_2, "【解除】")
    assert "您于 2026-09-10 09:00 的求助仍未处理，尚无人接手" in lifted.text
    (other,) = containing(cast.head_1, "【解除】")
    assert "求助" not in other.text  # a head who never called hears only the lift

    await admin.press("✋ 我来处理", containing(admin, "求助提醒已停止")[0])
    (stop,) = containing(staff, "求助提醒已停止")
    assert stop.buttons == [] and "王 局长 处理中" in stop.text


async def test_a_lift_tells_a_head_whose_call_was_taken_who_has_it(typhoon_stage: Stage) -> None:
    stage = typhoon_stage
    cast = await enrol(stage)
    await send_typhoon(stage, cast, "黄色")
    await cast.head_2.press("🆘 需要帮助")
    await drain(stage)
    staff = cast.dongtou_staff
    await staff.press("✋ 我来处理", containing(staff, "紧急求助")[0])
    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    await staff.press("✅ 确认解除")
    await drain(stage)
    (lifted,) = containing(cast.head_2, "【解除】")
    assert "您于 2026-09-10 09:00 的求助仍在处理中：✋ 林 科长 已于 2026-09-10 09:00 接手" in lifted.text
