"""/warnings when many warnings are in force: a heat wave's forecast drafts, one per county, must not hide the
warning staff sent themselves and may need to lift."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.warnings import NewWarning, WarningKind, WarningLevel, WarningOrigin, WarningStatus, WarningTarget
from bot.services.warning_core import first_revision
from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers.warning_ended import clear_ended_buttons
from tests.warning_people import START, TYPHOON_TEMPLATE, compose_typhoon, containing, drain, enrol, send_typhoon


async def test_the_warning_just_sent_is_listed_among_a_dozen_forecast_drafts(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    storage = typhoon_stage.services.storage
    counties = [c.code for c in await storage.regions.counties()]
    assert len(counties) == 12
    for county in counties:
        draft = NewWarning(
            kind=WarningKind.HIGH_TEMPERATURE, level=WarningLevel.YELLOW, headline=f"高温预报 {county}",
            onset=START, expires=START + timedelta(days=2), target=WarningTarget(regions=frozenset({county})),
            origin=WarningOrigin.FORECAST, rule="heat_35_3d", created_at=START,
        )
        await storage.warnings.add(draft, first_revision(draft, actor_id=None, at=START))
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    assert len(containing(cast.head_1, TYPHOON_TEMPLATE)) == 1

    admin = cast.admin
    # The city admin was told of the county's warning as it went out; the list is what /warnings answers.
    before = {m.message_id for m in admin.messages()}
    await admin.send_text("/warnings")
    # A draft has reached nobody: counted apart from what is in force (not "生效中的预警共 13 条").
    assert containing(admin, "生效中的预警 1 条；另有待发送的草稿 12 条（尚未发给任何人）")
    listed = [m for m in containing(admin, "预警（#") if m.message_id not in before]
    assert any("台风红色预警（#13）" in m.text for m in listed)  # what was sent comes first, it may need lifting
    assert "台风红色预警（#13）" in listed[0].text
    heading = containing(admin, "以下为待发送的草稿（共 12 条）")
    assert len(heading) == 1 and heading[0].message_id > listed[0].message_id
    assert all("草稿" in m.text for m in listed[1:])
    assert "另有 3 条草稿未列出" in admin.last_message().text


async def test_drafts_alone_are_not_called_warnings_in_force(typhoon_stage: Stage) -> None:
    """With only forecast drafts waiting, /warnings said 生效中的预警共 2 条 though nothing had been sent."""
    cast = await enrol(typhoon_stage)
    storage = typhoon_stage.services.storage
    for county in ("330302", "330305"):
        draft = NewWarning(
            kind=WarningKind.COLD_WAVE, level=WarningLevel.ORANGE, headline=f"寒潮预报 {county}",
            onset=START, expires=START + timedelta(days=2), target=WarningTarget(regions=frozenset({county})),
            origin=WarningOrigin.FORECAST, rule="cold", created_at=START,
        )
        await storage.warnings.add(draft, first_revision(draft, actor_id=None, at=START))
    await cast.admin.send_text("/warnings")
    assert containing(cast.admin, "当前没有已发送的预警；待发送的草稿 2 条（尚未发给任何人）")
    assert containing(cast.admin, "生效中的预警共") == []
    assert containing(cast.admin, "以下为待发送的草稿") == []


async def test_a_stale_upgrade_button_does_not_revive_a_warning_that_ran_out(typhoon_stage: Stage) -> None:
    """Nothing marked a warning ended when its time ran out (only the official feed's poll did, and only where a
    feed is configured): the 升级 button under yesterday's /warnings still worked, and every recipient got
    【升级】 of a warning that had ended the day before."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await send_typhoon(typhoon_stage, cast, "橙色", "6 小时")
    await staff.send_text("/warnings")
    listed = staff.last_message()

    typhoon_stage.clock.advance(timedelta(hours=7))
    await follow_up(typhoon_stage.services)
    await staff.press("⬆️ 升级", message=listed)
    assert "已解除或已过期" in (staff.answers()[-1].text or "")
    await staff.send_text("/warnings")
    assert "当前没有生效中的预警" in staff.last_message().text
    await drain(typhoon_stage)
    assert containing(cast.head_1, "【升级】") == []
    (warning,) = await typhoon_stage.services.storage.warnings.with_status({WarningStatus.EXPIRED})
    assert warning.revision == 1


async def test_a_double_tap_on_the_new_level_upgrades_once_and_sends_no_empty_update(typhoon_stage: Stage) -> None:
    """The second tap of 🔴 红色 (a double tap, or a second staff member on the same picker) found the warning red
    already and revised it to red again: every recipient got a 【更新】 saying nothing new after the 【升级】."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, level="橙色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    await staff.send_text("/warnings")
    await staff.press("⬆️ 升级")
    picker = staff.last_message()
    red = next(data for row in picker.button_data for data in row if data is not None and data.endswith(":red"))
    await staff.press_data(picker, red)
    await staff.press_data(picker, red)
    await drain(typhoon_stage)
    for chat in cast.dongtou_recipients:
        changes = [m.text.split("】")[0][-2:] for m in chat.messages() if "】" in m.text]
        assert changes == ["发布", "升级"], chat
    assert len(await typhoon_stage.services.warnings.revisions(1)) == 2


async def test_a_county_official_does_not_see_another_countys_warning_in_their_list(typhoon_stage: Stage) -> None:
    """洞头区's typhoon warning is 洞头区's business: 鹿城区's official, who may neither change nor lift it, is not
    shown it in /warnings as if it were in force in their county (and as the city bureau's)."""
    cast = await enrol(typhoon_stage)
    await send_typhoon(typhoon_stage, cast)
    assert len(containing(cast.head_1, TYPHOON_TEMPLATE)) == 1

    await cast.lucheng_staff.send_text("/warnings")
    assert "当前没有生效中的预警" in cast.lucheng_staff.last_message().text
    assert containing(cast.lucheng_staff, "台风红色预警") == []
    await cast.dongtou_staff.send_text("/warnings")
    assert any("台风红色预警" in m.text for m in containing(cast.dongtou_staff, "预警（#"))


async def test_the_level_picker_and_the_lift_confirmation_can_be_cancelled_and_keep_what_was_chosen(
    typhoon_stage: Stage,
) -> None:
    """Every step of /warn has 取消; so do the level picker and the lift confirmation. Cancelled, nothing reaches
    anyone; a level picked stays written under the question, which loses its buttons."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, level="橙色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    received = len(cast.head_1.messages())

    await staff.send_text("/warnings")
    await staff.press("⬆️ 升级")
    assert staff.last_message().buttons == [["🔴 红色"], ["取消"]]
    await staff.press("取消")
    assert staff.last_message().text.endswith("已取消，台风橙色预警没有改动。")
    assert staff.last_message().buttons == []
    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    assert staff.last_message().buttons == [["✅ 确认解除"], ["取消"]]
    await staff.press("取消")
    await drain(typhoon_stage)
    assert len(cast.head_1.messages()) == received

    await staff.send_text("/warnings")
    await staff.press("⬆️ 升级")
    picker = staff.last_message()
    await staff.press("🔴 红色")
    assert picker.text == "将台风橙色预警升级为：🔴 红色" and picker.buttons == []


async def test_an_upgraded_template_warning_names_only_the_new_level(typhoon_stage: Stage) -> None:
    """The template's headline names the level (台风黄色预警：…). Raised to orange, the 【升级】 message, the reminder
    and the stored headline (charts, export) say 橙色, never 黄色 beside it."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, level="黄色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    await staff.send_text("/warnings")
    await staff.press("⬆️ 升级")
    await staff.press("🟠 橙色")
    await drain(typhoon_stage)

    upgraded = containing(cast.head_1, "【升级】")[0]
    assert "台风橙色预警：请立即落实防范措施" in upgraded.text and "黄色" not in upgraded.text
    typhoon_stage.clock.advance(timedelta(minutes=61))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    reminder = cast.head_1.last_message()
    assert "台风橙色预警" in reminder.text and "黄色" not in reminder.text
    warning = await typhoon_stage.services.warnings.get(1)
    assert warning.headline == "台风橙色预警：请立即落实防范措施"


async def test_a_lowered_template_warning_names_only_the_new_level(typhoon_stage: Stage) -> None:
    """Lowered from orange to yellow, the headline says 黄色 as it said 橙色: the 【降级】 message and the stored
    headline must not call a yellow warning orange."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, level="橙色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    await staff.send_text("/warnings")
    await staff.press("⬇️ 降级")
    await staff.press("🟡 黄色")
    await drain(typhoon_stage)

    warning = await typhoon_stage.services.warnings.get(1)
    assert warning.headline == "台风黄色预警：请立即落实防范措施"
    lowered = cast.head_1.last_message()
    assert "台风黄色预警：请立即落实防范措施" in lowered.text and "橙色" not in lowered.text


async def test_a_lift_takes_the_answer_buttons_off_the_heads_earlier_messages(typhoon_stage: Stage) -> None:
    """After 【解除】 a head still had ✅/🆘 under the issue, the 【升级】 and the reminder, each press answering only
    that no reply was needed. Once the lift has gone out, the earlier messages lose their buttons; the newest copy of
    the warning keeps 🆘 需要帮助 alone (a call for help after a lift still reaches staff). Lift and expiry alike."""
    cast = await enrol(typhoon_stage)
    staff, head = cast.dongtou_staff, cast.head_1
    await compose_typhoon(cast, level="橙色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(minutes=61))
    await follow_up(typhoon_stage.services)  # the reminder, with the two buttons
    await staff.send_text("/warnings")
    await staff.press("⬆️ 升级")
    await staff.press("🔴 红色")
    await drain(typhoon_stage)
    offering = [m for m in head.messages() if ["✅ 已收到并落实"] in m.buttons]
    assert len(offering) == 3  # the issue, the reminder, the 【升级】

    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    await staff.press("✅ 确认解除")
    bot, services = typhoon_stage.application.bot, typhoon_stage.services
    assert await clear_ended_buttons(bot, services) == 0  # the 【解除】 goes out first
    await drain(typhoon_stage)
    assert await clear_ended_buttons(bot, services) == 6  # three each for the two heads
    await typhoon_stage.sandbox.settle()
    assert [m for m in head.messages() if ["✅ 已收到并落实"] in m.buttons] == []
    (upgraded,) = containing(head, "【升级】")
    assert upgraded.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]
    assert containing(head, "【发布】")[0].buttons == []
    assert await clear_ended_buttons(bot, services) == 0  # done once: a second run (or a restart) edits nothing


async def test_a_warning_past_its_time_keeps_only_the_call_for_help_on_its_newest_copy(typhoon_stage: Stage) -> None:
    """Expiry as lift: once the minute's follow-up has marked the warning ended, its copy keeps 🆘 需要帮助 alone."""
    cast = await enrol(typhoon_stage)
    await compose_typhoon(cast, level="橙色", hours="6 小时")
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=6, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    await clear_ended_buttons(typhoon_stage.application.bot, typhoon_stage.services)
    await typhoon_stage.sandbox.settle()
    (issued,) = containing(cast.head_1, "【发布】")
    assert issued.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]
