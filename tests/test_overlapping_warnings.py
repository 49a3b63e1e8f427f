"""Two warnings of one kind over the same homes: 洞头区's own orange heat warning, then the city's red for the whole
city. The sender of the second is told of the first and offered to raise it instead; if they send anyway, a home
that confirmed either warning counts as answered on both, and a home that answered neither is reminded once."""

from __future__ import annotations

from datetime import timedelta

from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers.warning_delivery import deliver
from tests.warning_people import HOME_1_ZH, HOME_2_ZH, Cast, containing, drain, enrol

HEAT = "高温橙色预警"


async def _county_orange(stage: Stage, cast: Cast) -> None:
    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    for answer in ("高温", "橙色", "📄 使用模板", "下一步 ▶", "下一步 ▶", "24 小时", "📤 发送"):
        await staff.press(answer)
    await drain(stage)


async def _city_red_preview(cast: Cast) -> str:
    admin = cast.admin
    await admin.send_text("/warn")
    for answer in ("高温", "红色", "📄 使用模板", "全市", "下一步 ▶", "下一步 ▶", "下一步 ▶", "24 小时"):
        await admin.press(answer)
    return admin.last_message().text


async def test_the_preview_names_the_warning_of_the_same_kind_in_force_and_offers_to_raise_it(
    typhoon_stage: Stage,
) -> None:
    """The admin's preview of a red heat warning for the whole city said nothing of 洞头区's orange heat warning."""
    cast = await enrol(typhoon_stage)
    await _county_orange(typhoon_stage, cast)
    preview = await _city_red_preview(cast)
    assert "⚠️ 该地区已有同类预警生效：高温橙色预警（#1，洞头区，有效期至" in preview
    assert "请对原预警“⬆️ 升级”" in preview
    buttons = cast.admin.last_message().buttons
    assert buttons[0] == ["⬆️ 改为升级 #1"] and ["📤 发送"] in buttons

    await cast.admin.press("⬆️ 改为升级 #1")  # the /warnings level picker for #1
    assert "升级为" in cast.admin.last_message().text


async def test_a_preview_with_nothing_alike_in_force_says_nothing_of_it(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    preview = await _city_red_preview(cast)
    assert "同类预警" not in preview
    assert cast.admin.last_message().buttons[0] == ["📤 发送"]


async def test_a_home_that_confirmed_one_of_two_warnings_of_a_kind_counts_as_answered_on_both(
    typhoon_stage: Stage,
) -> None:
    """张院长 confirmed the orange and was still reminded of the red an hour on; 陈院长, who answered neither, got two
    reminders in a row; /warnstatus showed 张院长's home ✅ on one card and ⏳ on the other."""
    cast = await enrol(typhoon_stage)
    await _county_orange(typhoon_stage, cast)
    await _city_red_preview(cast)
    await cast.admin.press("📤 发送")
    await drain(typhoon_stage)
    orange = containing(cast.head_1, f"【发布】{HEAT}")[0]
    await cast.head_1.press("✅ 已收到并落实", message=orange)
    await drain(typhoon_stage)

    typhoon_stage.clock.advance(timedelta(minutes=61))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    assert containing(cast.head_1, "⏰ 请确认预警") == []
    (reminder,) = containing(cast.head_2, "⏰ 请确认预警")  # one, of the newer (red), not one of each
    assert "高温红色预警" in reminder.text

    await cast.dongtou_staff.send_text("/warnstatus")
    (red_card,) = containing(cast.dongtou_staff, "高温红色预警（#2）回复情况")
    red = red_card.text
    assert "已收到并落实 1 · 需要帮助 0 · 未回复 1" in red
    assert f"✅ {HOME_1_ZH}：" in red and "（在同类预警 #1 中确认）" in red
    assert f"⏳ {HOME_2_ZH}：未回复" in red

    await cast.head_2.press("✅ 已收到并落实", message=reminder)  # answering the red counts for the orange too
    status = await typhoon_stage.services.warnings.ack_status(1)
    assert status.pending == 0 and status.acknowledged == 2


async def test_a_newer_warning_of_the_kind_lifted_early_leaves_the_older_ones_reminders_to_it(
    typhoon_stage: Stage,
) -> None:
    """The city's red heat warning lifted within the hour, 洞头区's orange still in force: the homes that answered
    neither are reminded of the orange, which is now the one in force (the red no longer speaks for them)."""
    cast = await enrol(typhoon_stage)
    await _county_orange(typhoon_stage, cast)
    typhoon_stage.clock.advance(timedelta(minutes=10))
    await _city_red_preview(cast)
    await cast.admin.press("📤 发送")
    await drain(typhoon_stage)
    services = typhoon_stage.services
    admin = await services.storage.users.get(cast.admin.id)
    assert admin is not None
    typhoon_stage.clock.advance(timedelta(minutes=20))
    await deliver(services, await services.warnings.cancel(admin, 2))
    await drain(typhoon_stage)

    typhoon_stage.clock.advance(timedelta(minutes=31))
    await follow_up(services)
    await drain(typhoon_stage)
    (reminder,) = containing(cast.head_2, "⏰ 请确认预警")
    assert "高温橙色预警" in reminder.text


async def test_county_staff_are_not_offered_to_raise_the_citys_warning_they_may_not_change(
    typhoon_stage: Stage,
) -> None:
    """洞头区's staff previewing a red heat warning while the city's orange is in force are told of it, but only the
    city may raise it: no ⬆️ button that would be refused when pressed."""
    cast = await enrol(typhoon_stage)
    admin = cast.admin
    await admin.send_text("/warn")
    for answer in ("高温", "橙色", "📄 使用模板", "全市", "下一步 ▶", "下一步 ▶", "下一步 ▶", "24 小时", "📤 发送"):
        await admin.press(answer)
    await drain(typhoon_stage)

    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    for answer in ("高温", "红色", "📄 使用模板", "下一步 ▶", "下一步 ▶", "24 小时"):
        await staff.press(answer)
    preview = staff.last_message()
    assert "⚠️ 该地区已有同类预警生效：高温橙色预警（#1" in preview.text
    assert not any("升级" in label for row in preview.buttons for label in row)
    assert ["📤 发送"] in preview.buttons
