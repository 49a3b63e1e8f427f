"""A city admin's warning for the whole city, as each county's staff meet it: /warnstatus shows their own
county's institutions, and its buttons work for them as they do for a warning of their own county."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.roles import Role
from bot.stage import Stage
from bot.warning_jobs import follow_up
from tests.warning_people import Cast, containing, drain, enrol, register_vulnerable, send_typhoon

HEAT_TEMPLATE = "高温橙色预警：请立即落实防范措施"


async def warn_the_whole_city(cast: Cast) -> None:
    admin = cast.admin
    await admin.send_text("/warn")
    await admin.press("高温")
    await admin.press("橙色")
    await admin.press("📄 使用模板")
    await admin.press("全市")
    await admin.press("下一步 ▶")  # regions
    await admin.press("下一步 ▶")  # institution types: all
    await admin.press("下一步 ▶")  # risk features: all
    await admin.press("24 小时")
    await admin.press("📤 发送")


async def test_county_staff_refresh_and_remind_their_county_under_a_city_wide_warning(typhoon_stage: Stage) -> None:
    """/warnstatus listed the city's warning for 洞头区's staff, but its 🔄 刷新 and 🔔 提醒 buttons answered
    "outside your area" (and wrote the press down as a forged one): the staff could not remind their own heads."""
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    assert len(containing(cast.head_2, HEAT_TEMPLATE)) == 1
    await cast.head_1.press("✅ 已收到并落实")

    staff = cast.dongtou_staff
    await staff.send_text("/warnstatus")
    status = staff.last_message()
    assert "已收到并落实 1 · 需要帮助 0 · 未回复 1（共 2 家机构）" in status.text
    await cast.head_2.press("🆘 需要帮助")
    await staff.press("🔄 刷新", message=status)
    assert "辖区以外" not in (staff.answers()[-1].text or "")
    assert "需要帮助 1 · 未回复 0" in staff.last_message().text

    # With none silent, 🔔 is no longer offered; a press from before (forged here) reminds nobody.
    assert status.buttons == [["🔄 刷新"]]
    await staff.press_data(status, "ws:remind:1")
    assert staff.answers()[-1].text == "所有机构都已回复，无需提醒。"
    refused = await typhoon_stage.services.storage.db.fetchall(
        "SELECT actor_id FROM audit_log WHERE action = 'authz.refused'"
    )
    assert [row["actor_id"] for row in refused] == []


async def test_county_staff_are_not_offered_changes_to_the_city_wide_warning(typhoon_stage: Stage) -> None:
    """/warnings showed 洞头区's staff ⬆️ 升级, ⬇️ 降级, ✏️ 更新 and ✅ 解除 under the city admin's warning for the
    whole city; each press answered "outside your area" and was written down as a forged one. The warning is
    listed with who may change it, and without the buttons."""
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)

    staff = cast.dongtou_staff
    await staff.send_text("/warnings")
    listed = containing(staff, "高温橙色预警（#1）")[-1]  # the first: the notice that it is in force
    assert listed.buttons == []
    assert "市民政局" in listed.text
    await cast.admin.send_text("/warnings")
    (own,) = containing(cast.admin, "高温橙色预警（#1）")
    assert ["⬆️ 升级", "⬇️ 降级"] in own.buttons


async def test_a_city_wide_orange_warning_starts_a_round_in_each_county_for_its_own_staff(typhoon_stage: Stage) -> None:
    """An orange warning for the whole city started one round for the whole city: the people of 洞头区 whom no
    cadre looks after were listed for the city admins instead of 洞头区's staff, and the round's summary and its
    escalation went to the city admins alone. Each county now has its own round, for its own staff."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)

    staff = cast.dongtou_staff
    (unassigned,) = containing(staff, "特殊群体联络（第")
    assert "洞头区" in unassigned.text and "DT-0004" in unassigned.text
    assert containing(cast.admin, "DT-0004") == []
    (sheet,) = containing(cast.cadre, "📋 特殊群体联络")
    assert "洞头区" in sheet.text and "已完成 0 / 3" in sheet.text

    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    assert len(containing(staff, "DT-0004")) == 2  # the list, then the escalation of those still unreached


CITY_STATION_CODE = "WZ-330300-RELIEF-01"
CITY_STATION, CANGNAN_STATION = "温州市救助管理站", "苍南县救助管理站"  # 市直 (330300), and 苍南县's own


async def test_a_city_admin_handing_back_the_city_level_follow_up_names_the_city_institutions_alone(
    typhoon_stage: Stage,
) -> None:
    """The city's own institutions (市直, region 330300) are followed up under the city's code, by the city admins.
    Handed back, the other city admins are told which of them are still silent: the city's code scopes the whole
    city, so without keeping to the city-level list the notice named every county's silent institutions as well
    (here 苍南县's station, which 苍南县's own staff follow up)."""
    cast = await enrol(typhoon_stage)
    sandbox, admin = typhoon_stage.sandbox, cast.admin
    deputy = sandbox.user(user_id=2, first_name="赵", last_name="副局长", language_code="zh-hans")
    cangnan_staff = sandbox.user(user_id=22, first_name="郑", last_name="科长", language_code="zh-hans")
    await typhoon_stage.register(deputy, Role.CITY)
    await typhoon_stage.register(cangnan_staff, Role.COUNTY, region="330327")
    for user_id, code in ((50, "WZ-330300-RELIEF-01"), (51, "WZ-330327-RELIEF-01")):
        head = sandbox.user(user_id=user_id, first_name="孙", last_name="站长", language_code="zh-hans")
        await typhoon_stage.register(head, Role.HEAD, institution=code)
    await admin.send_text("/warn")
    await admin.press("高温")
    await admin.press("橙色")
    await admin.press("📄 使用模板")
    await admin.press("全市")
    await admin.press("下一步 ▶")  # regions
    await admin.press("救助管理站")  # the relief stations: the city's own and 苍南县's
    await admin.press("下一步 ▶")
    await admin.press("下一步 ▶")  # risk features: all
    await admin.press("24 小时")
    await admin.press("📤 发送")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))  # both stations silent
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (mine,) = containing(admin, "仍未回复")
    assert CITY_STATION in mine.text and CANGNAN_STATION not in mine.text
    assert mine.button_data == [["ws:own:1:330300"]]
    (theirs,) = containing(cangnan_staff, "仍未回复")
    assert CANGNAN_STATION in theirs.text

    await admin.press("☎️ 我来跟进", mine)
    typhoon_stage.clock.advance(timedelta(minutes=30))
    back = await admin.press("↩️ 交回跟进", mine)
    assert back.answer is not None and "已交回" in (back.answer.text or "")
    await drain(typhoon_stage)
    (notice,) = containing(deputy, "已交回")
    assert notice.text.startswith("↩️ 王 局长 已交回温州市")
    assert "以下 1 家机构仍未回复" in notice.text
    assert CITY_STATION in notice.text and CANGNAN_STATION not in notice.text
    assert notice.button_data == [["ws:own:1:330300"]]
    assert containing(cangnan_staff, "已交回") == []


async def test_a_head_whose_county_has_no_staff_is_told_the_city_bureau_was_alerted(typhoon_stage: Stage) -> None:
    """苍南县 has no county staff, so 郑站长's 🆘 went to the city admin alone; his pop-up still said
    "已通知县级民政部门". It names who was alerted: the city bureau there, the county's staff where there are some."""
    cast = await enrol(typhoon_stage)
    station = typhoon_stage.sandbox.user(user_id=51, first_name="郑", last_name="站长", language_code="zh-hans")
    await typhoon_stage.register(station, Role.HEAD, institution="WZ-330327-RELIEF-01")
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)

    pressed = await station.press("🆘 需要帮助")
    assert pressed.answer is not None and pressed.answer.text == "已通知市民政局，他们会尽快与您联系。请保持电话畅通。"
    await drain(typhoon_stage)
    assert len(containing(cast.admin, "紧急求助")) == 1
    pressed = await cast.head_2.press("🆘 需要帮助")
    assert pressed.answer is not None and (pressed.answer.text or "").startswith("已通知县级民政部门")

    # After the warning was lifted, the same: a new call from the station is passed to the city bureau.
    await cast.admin.press("✋ 我来处理", containing(cast.admin, "紧急求助")[0])
    await cast.admin.press("✅ 已解决", containing(cast.admin, "紧急求助")[0])
    typhoon_stage.clock.advance(timedelta(hours=25))
    late = await station.press("🆘 需要帮助", containing(station, HEAT_TEMPLATE)[0])
    assert late.answer is not None and "但您的求助已转告市民政局" in (late.answer.text or "")


async def test_the_only_city_admin_handing_back_a_county_without_staff_is_told_nobody_else_was(
    typhoon_stage: Stage,
) -> None:
    """王局长, the only city admin, followed up 苍南县 (no county staff) and handed it back: the pop-up said his
    colleagues in the county had been told, though nobody else exists. It says so, and that nobody was told."""
    cast = await enrol(typhoon_stage)
    station = typhoon_stage.sandbox.user(user_id=51, first_name="郑", last_name="站长", language_code="zh-hans")
    await typhoon_stage.register(station, Role.HEAD, institution="WZ-330327-RELIEF-01")
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    admin = cast.admin
    (escalation,) = containing(admin, "仍未回复")
    await admin.press("☎️ 我来跟进苍南县", escalation)
    before = len(admin.messages())

    back = await admin.press("↩️ 交回苍南县的跟进", escalation)
    assert back.answer is not None and back.answer.text == (
        "已交回：苍南县未回复的机构现在无人跟进。没有其他同事负责该地区，未通知任何人；"
        "请您或另行安排人员电话跟进，可随时再按 ☎️ 我来跟进。")
    await drain(typhoon_stage)
    assert len(admin.messages()) == before


async def test_the_city_rung_says_which_lists_went_to_the_city_bureau(typhoon_stage: Stage) -> None:
    """Four hours on, the city's message said "（各县区民政部门已收到名单）" though most counties have no staff and
    their lists had gone to the city admin. It now says so of the counties without staff, line by line."""
    cast = await enrol(typhoon_stage)
    station = typhoon_stage.sandbox.user(user_id=51, first_name="郑", last_name="站长", language_code="zh-hans")
    await typhoon_stage.register(station, Role.HEAD, institution="WZ-330327-RELIEF-01")
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)

    (told,) = containing(cast.admin, "至今全市")
    assert "各县区民政部门已收到名单" not in told.text
    assert "（有县级工作人员的县区已由其收到名单，其余名单已发给市局）" in told.text
    lines = told.text.splitlines()
    (cangnan,) = [line for line in lines if line.startswith("• 苍南县：")]
    assert cangnan.endswith("；无县级工作人员，名单已发给市局")
    (dongtou,) = [line for line in lines if line.startswith("• 洞头区：")]
    assert "名单已发给市局" not in dongtou
    # The city's own institutions (市直) never have county staff: said as what they are, not as a gap.
    (city,) = [line for line in lines if line.startswith("• 温州市（市直）：")]
    assert city.endswith("；市直机构，名单已发给市局") and "无县级工作人员" not in city


async def test_the_city_admins_list_to_phone_adds_up_to_the_count_they_were_given(typhoon_stage: Stage) -> None:
    """The sender read "其中 10 家目标机构无人可联系", then "以下 9 家机构无人可联系…": the tenth, in 鹿城区, had
    gone to 鹿城区's staff, which nothing said. The list now says how many went to their county's staff."""
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    admin = cast.admin
    (sent,) = containing(admin, "已发送高温橙色预警")
    total = int(re.search(r"其中 (\d+) 家目标机构无人可联系", sent.text).group(1))  # type: ignore[union-attr]
    (listed,) = containing(admin, "无法收到预警")
    named = int(re.search(r"以下 (\d+) 家机构无人可联系", listed.text).group(1))  # type: ignore[union-attr]
    (lucheng,) = containing(cast.lucheng_staff, "无法收到预警")
    assert "以下 1 家机构" in lucheng.text
    assert named == total - 1
    elsewhere = "另有 1 家在有县级工作人员的县区，名单已发给所在县区民政部门，由其电话通知"
    assert f"{elsewhere}（本预警共 {total} 家无人可联系）。" in listed.text
    assert "另有" not in lucheng.text  # 鹿城区's staff were given no total to square with


async def test_a_county_with_no_institution_concerned_is_told_so_of_itself(typhoon_stage: Stage) -> None:
    """A city-wide warning for the relief stations reached heads in other counties but none in 洞头区; its staff's
    /warnstatus said "这条预警没有发给任何机构负责人", which was untrue of the warning. It speaks of their county."""
    cast = await enrol(typhoon_stage)
    station = typhoon_stage.sandbox.user(user_id=51, first_name="郑", last_name="站长", language_code="zh-hans")
    await typhoon_stage.register(station, Role.HEAD, institution="WZ-330327-RELIEF-01")
    admin = cast.admin
    await admin.send_text("/warn")
    for answer in ("高温", "橙色", "📄 使用模板", "全市", "下一步 ▶", "救助管理站", "下一步 ▶", "下一步 ▶", "24 小时",
                   "📤 发送"):
        await admin.press(answer)
    await drain(typhoon_stage)
    assert len(containing(station, HEAT_TEMPLATE)) == 1

    await cast.dongtou_staff.send_text("/warnstatus")
    text = cast.dongtou_staff.last_message().text
    assert "洞头区没有这条预警涉及的机构。" in text and "没有发给任何机构负责人" not in text
    await admin.send_text("/warnstatus")
    assert CANGNAN_STATION in admin.last_message().text


async def test_county_staff_hear_at_once_that_the_city_warned_their_county(typhoon_stage: Stage) -> None:
    """The city's warning for the whole city reached heads, cadres and groups, but 洞头区's staff heard nothing of it
    until the two-hour list of the silent. Each county's staff now hear at once, once, with how many of their
    institutions it concerns and reached; the sender is not told (their confirmation says it)."""
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)

    (dongtou,) = containing(cast.dongtou_staff, "已发布，覆盖洞头区")
    assert "高温橙色预警（#1）" in dongtou.text and "发布人：王 局长" in dongtou.text
    assert "洞头区有 2 家机构在预警范围内，已发给其中 2 家的负责人。" in dongtou.text
    assert "/warnstatus" in dongtou.text
    (lucheng,) = containing(cast.lucheng_staff, "已发布，覆盖鹿城区")
    assert "鹿城区有 2 家机构在预警范围内，已发给其中 1 家的负责人。" in lucheng.text
    assert "☎️ 其中 1 家无人可联系（名单另行发送）" in lucheng.text
    assert containing(cast.admin, "已发布，覆盖") == []

    # The minute's follow-up (and its repair of warnings never queued) tells nobody a second time.
    typhoon_stage.clock.advance(timedelta(minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    assert len(containing(cast.dongtou_staff, "已发布，覆盖洞头区")) == 1


async def test_a_county_warning_is_told_to_the_senders_colleagues_not_to_the_sender(typhoon_stage: Stage) -> None:
    """A county's own warning: the colleague hears it is in force, the sender (who has the confirmation) does not,
    and the other counties' staff hear nothing."""
    cast = await enrol(typhoon_stage)
    colleague = typhoon_stage.sandbox.user(user_id=21, first_name="吴", last_name="科员", language_code="zh-hans")
    await typhoon_stage.register(colleague, Role.COUNTY, region="330305")
    await send_typhoon(typhoon_stage, cast)

    (told,) = containing(colleague, "已发布，覆盖洞头区")
    assert "台风红色预警（#1）" in told.text and "发布人：林 科长" in told.text
    assert containing(cast.dongtou_staff, "已发布，覆盖") == []
    assert containing(cast.lucheng_staff, "已发布，覆盖") == []


async def compose_city_typhoon(cast: Cast, level: str) -> None:
    """王局长 composes a typhoon warning for the whole city, up to the preview, keeping what is preselected."""
    admin = cast.admin
    await admin.send_text("/warn")
    await admin.press("台风")
    await admin.press(level)
    await admin.press("📄 使用模板")
    await admin.press("全市")
    await admin.press("下一步 ▶")  # regions
    await admin.press("下一步 ▶")  # institution types: all
    await admin.press("下一步 ▶")  # risk features: as preselected
    await admin.press("24 小时")


async def test_the_preview_says_whom_the_risk_features_leave_out(typhoon_stage: Stage) -> None:
    """An orange typhoon warning for the whole city keeps the seed's risk features (near the sea, rivers,
    mountains, low-lying) preselected, and the preview counted only those it reaches: the city's relief station
    and children's welfare home were skipped without a word. The preview now says how many the filter leaves out,
    names a few, and how to widen it."""
    cast = await enrol(typhoon_stage)
    await compose_city_typhoon(cast, "🟠 橙色")
    preview = cast.admin.last_message().text
    assert "🔍 按风险特征（临山、临河、临海、低洼）筛选，本次预警地区另有 8 家机构不在发送范围内：" in preview
    assert "温州市救助管理站、温州市儿童福利院、温州市福利彩票发行中心等（另有 5 家未列出）。" in preview
    assert "请点“✏️ 重新选择对象”，风险特征都不选" in preview

    # Widened (no feature ticked), nobody is left out and the preview says nothing of it.
    await cast.admin.press("✏️ 重新选择对象")
    await cast.admin.press("下一步 ▶")  # regions: 全市 still
    await cast.admin.press("下一步 ▶")  # institution types: all
    for feature in ("✓ 临海", "✓ 临河", "✓ 临山", "✓ 低洼"):
        await cast.admin.press(feature)
    await cast.admin.press("下一步 ▶")
    await cast.admin.press("24 小时")
    assert "不在发送范围内" not in cast.admin.last_message().text


async def test_a_red_typhoon_warning_preselects_no_risk_feature(typhoon_stage: Stage) -> None:
    """At red, the highest level, the bureau warns every institution of the area (each reads only the actions that
    apply to it): no risk feature is preselected, so the city's relief station is not skipped."""
    cast = await enrol(typhoon_stage)
    head = typhoon_stage.sandbox.user(user_id=50, first_name="孙", last_name="站长", language_code="zh-hans")
    await typhoon_stage.register(head, Role.HEAD, institution=CITY_STATION_CODE)
    await compose_city_typhoon(cast, "🔴 红色")
    preview = cast.admin.last_message().text
    assert "不在发送范围内" not in preview
    await cast.admin.press("📤 发送")
    await drain(typhoon_stage)
    assert len(containing(head, "【发布】台风红色预警")) == 1


async def test_a_head_pressing_for_help_again_while_the_call_is_open_is_still_told_the_city_bureau_has_it(
    typhoon_stage: Stage,
) -> None:
    """苍南县 has no county staff. 郑站长's second 🆘 (on an older copy, while his call is open) wakes nobody, and
    after the lift it still says his call is in hand: both said "县级民政部门" though only the city bureau had it."""
    cast = await enrol(typhoon_stage)
    station = typhoon_stage.sandbox.user(user_id=51, first_name="郑", last_name="站长", language_code="zh-hans")
    await typhoon_stage.register(station, Role.HEAD, institution="WZ-330327-RELIEF-01")
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    copy = containing(station, HEAT_TEMPLATE)[0]

    await station.press("🆘 需要帮助", copy)
    again = await station.press_data(copy, "wa:help:1")
    assert again.answer is not None and (again.answer.text or "").startswith("已通知市民政局")
    await drain(typhoon_stage)
    assert len(containing(cast.admin, "紧急求助")) == 1

    typhoon_stage.clock.advance(timedelta(hours=25))
    late = await station.press_data(copy, "wa:help:1")
    assert late.answer is not None and "仍在处理中，市民政局会与您联系" in (late.answer.text or "")


async def test_an_untaken_call_first_alerted_to_the_city_is_paged_to_it_without_a_second_escalation(
    typhoon_stage: Stage,
) -> None:
    """苍南县 has no county staff: 郑站长's call went to the city admin first. Untaken for an hour, the pager's second
    page reaches him; he is not sent the escalation "工作人员多次提醒后仍无人接手" on top of it (he was the one paged),
    and 郑站长 hears that the city bureau was reminded, not a county department that does not exist."""
    cast = await enrol(typhoon_stage)
    station = typhoon_stage.sandbox.user(user_id=51, first_name="郑", last_name="站长", language_code="zh-hans")
    await typhoon_stage.register(station, Role.HEAD, institution="WZ-330327-RELIEF-01")
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    await station.press("🆘 需要帮助")
    await drain(typhoon_stage)

    typhoon_stage.clock.advance(timedelta(minutes=30))
    await follow_up(typhoon_stage.services)
    typhoon_stage.clock.advance(timedelta(minutes=30))
    report = await follow_up(typhoon_stage.services)
    assert (report.help_repaged, report.help_escalated) == (1, 0)
    await drain(typhoon_stage)
    assert len(containing(cast.admin, "求助尚无人接手")) == 2
    assert containing(cast.admin, "求助无人接手") == []
    (waiting,) = containing(station, "尚无人接手")
    assert "已再次提醒市民政局。" in waiting.text


async def test_the_in_force_notice_goes_to_county_staff_and_to_the_senders_fellow_city_admins(
    typhoon_stage: Stage,
) -> None:
    """The city's warning is told to each county's staff, naming their county. A fellow city admin is no county's
    staff: sent "已发布，覆盖洞头区" (the first county's notice, under the warning's one key), they read that the
    whole-city warning covered 洞头区 alone; then they were sent nothing, and learnt of a colleague's warning from a
    county's call for help. They are told of the whole warning, once; its sender is not."""
    cast = await enrol(typhoon_stage)
    deputy = typhoon_stage.sandbox.user(user_id=2, first_name="赵", last_name="副局长", language_code="zh-hans")
    await typhoon_stage.register(deputy, Role.CITY)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)

    assert len(containing(cast.dongtou_staff, "已发布，覆盖洞头区")) == 1
    assert containing(deputy, "已发布，覆盖洞头区") == []
    (whole,) = containing(deputy, "已发布，覆盖温州市")
    assert "高温橙色预警（#1）" in whole.text and "发布人：王 局长" in whole.text and "/warnstatus" in whole.text
    assert containing(cast.admin, "已发布，覆盖") == []
