"""A call for help gets an owner and an end, as an on-call pager's page: ✋ 我来处理 under the staff's 🆘 alert, the
head told who is on it, colleagues' copies saying who, ✅ 已解决 closing it (under the alert or in /warnstatus), and
/warnstatus reading a resolved call as answered."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from tests.warning_people import (
    DONGTOU,
    HOME_2_ZH,
    TYPHOON_TEMPLATE,
    Cast,
    compose_typhoon,
    containing,
    drain,
    enrol,
)


async def asked_for_help(stage: Stage) -> tuple[Cast, SimUser, BotMessage, BotMessage]:
    """林科长's red typhoon warning, 陈院长 (大门镇敬老院) presses 🆘 需要帮助: the alert reaches 林科长 and 吴科员, a
    colleague of the same county, each with ✋ 我来处理."""
    cast = await enrol(stage)
    colleague = stage.sandbox.user(user_id=21, first_name="吴", last_name="科员", language_code="zh-hans")
    await stage.register(colleague, Role.COUNTY, region=DONGTOU)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(stage)
    await cast.head_2.press("🆘 需要帮助")
    await drain(stage)
    (mine,) = containing(cast.dongtou_staff, "紧急求助")
    (theirs,) = containing(colleague, "紧急求助")
    assert mine.buttons == theirs.buttons == [["✋ 我来处理"]]
    return cast, colleague, mine, theirs


async def test_the_first_official_takes_a_call_for_help_and_the_head_and_colleagues_learn_who(
    typhoon_stage: Stage,
) -> None:
    cast, colleague, mine, theirs = await asked_for_help(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(minutes=3))
    take = theirs.button_data[0][0] or ""

    taken = await cast.dongtou_staff.press("✋ 我来处理", mine)
    assert taken.answer is not None and "已记录：这次求助由您处理（2026-09-10 09:03 接手）" in (taken.answer.text or "")
    assert mine.text.endswith("✋ 林 科长 处理中（2026-09-10 09:03 接手）") and mine.buttons == [["✅ 已解决"]]
    # The colleague's copy says who, and loses its button.
    assert theirs.text.endswith("✋ 林 科长 处理中（2026-09-10 09:03 接手）") and theirs.buttons == []
    await drain(typhoon_stage)
    (told,) = containing(cast.head_2, "已有专人处理")
    assert "林 科长" in told.text and "台风红色预警" in told.text
    audit = await typhoon_stage.services.storage.audit.list(action_prefix="warning.help_taken")
    assert [(event.actor_id, event.detail["asker"]) for event in audit] == [(cast.dongtou_staff.id, cast.head_2.id)]

    # A colleague pressing a copy still showing the button (forged here: theirs lost it) is told who; nothing changes.
    late = await colleague.press_data(theirs, take)
    assert late.answer is not None and late.answer.text == "林 科长 已于 2026-09-10 09:03 接手这次求助，无需重复。"
    await drain(typhoon_stage)
    assert len(containing(cast.head_2, "已有专人处理")) == 1
    assert len(await typhoon_stage.services.storage.audit.list(action_prefix="warning.help_taken")) == 1

    await colleague.send_text("/warnstatus")
    assert f"🆘 {HOME_2_ZH}：陈 院长 2026-09-10 09:00 · ✋ 林 科长 处理中" in colleague.last_message().text


async def test_the_taker_resolves_it_the_head_is_told_and_warnstatus_counts_it_answered(typhoon_stage: Stage) -> None:
    cast, colleague, mine, theirs = await asked_for_help(typhoon_stage)
    staff = cast.dongtou_staff
    await staff.press("✋ 我来处理", mine)
    # The colleague cannot resolve what someone else took.
    request_id = (mine.button_data[0][0] or "").rsplit(":", 1)[1]
    other = await colleague.press_data(theirs, f"wh:done:{request_id}")
    assert other.answer is not None and "林 科长 已于" in (other.answer.text or "")
    typhoon_stage.clock.advance(timedelta(minutes=40))

    await staff.send_text("/warnstatus")
    status = staff.last_message()
    assert "需要帮助 1" in status.text and [f"✅ 已解决：{HOME_2_ZH}"] in status.buttons
    done = await staff.press(f"✅ 已解决：{HOME_2_ZH}", status)
    assert done.answer is not None and done.answer.text == "已标记为已解决，已告知求助人。"
    assert "已收到并落实 0 · 需要帮助 0 · 已协助 1 · 未回复 1（共 2 家机构）" in status.text
    assert f"🆘→✅ {HOME_2_ZH}：已协助（林 科长）" in status.text
    assert [f"✅ 已解决：{HOME_2_ZH}"] not in status.buttons
    assert theirs.text.endswith("✅ 已解决（林 科长，2026-09-10 09:40）")
    audit = await typhoon_stage.services.storage.audit.list(action_prefix="warning.help_resolved")
    assert [event.actor_id for event in audit] == [staff.id]
    await drain(typhoon_stage)
    (closed,) = containing(cast.head_2, "标记为已解决")
    assert closed.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]

    # The taker's alert says so and loses its ✅ 已解决; a stale press of it: already resolved, nothing changes.
    assert mine.buttons == [] and mine.text.endswith("✅ 已解决（林 科长，2026-09-10 09:40）")
    again = await staff.press_data(mine, f"wh:done:{request_id}")
    assert again.answer is not None and "已由 林 科长 于 2026-09-10 09:40 标记为已解决" in (again.answer.text or "")
    assert len(await typhoon_stage.services.storage.audit.list(action_prefix="warning.help_resolved")) == 1

    # After it was resolved, 🆘 again is a new call: staff are alerted again, with ✋ 我来处理.
    await cast.head_2.press("🆘 需要帮助", closed)
    await drain(typhoon_stage)
    alerts = containing(staff, "紧急求助")
    assert len(alerts) == 2 and alerts[-1].buttons == [["✋ 我来处理"]]
    await staff.send_text("/warnstatus")
    assert "需要帮助 1" in staff.last_message().text and "已协助" not in staff.last_message().text


async def test_a_call_for_help_pressed_again_while_open_alerts_nobody(typhoon_stage: Stage) -> None:
    cast, _, mine, _ = await asked_for_help(typhoon_stage)
    await cast.dongtou_staff.press("✋ 我来处理", mine)
    warning = containing(cast.head_2, TYPHOON_TEMPLATE)[0]
    await cast.head_2.press_data(warning, "wa:help:1")
    await drain(typhoon_stage)
    assert len(containing(cast.dongtou_staff, "紧急求助")) == 1


async def test_staff_of_another_county_heads_and_cadres_cannot_take_or_resolve_it(typhoon_stage: Stage) -> None:
    cast, _, mine, _ = await asked_for_help(typhoon_stage)
    data = mine.button_data[0][0] or ""
    request_id = data.rsplit(":", 1)[1]
    await cast.lucheng_staff.send_text("/warnstatus")
    for person in (cast.lucheng_staff, cast.head_1, cast.cadre):
        for forged in (data, f"wh:done:{request_id}"):
            pressed = await person.press_data(person.last_message(), forged)
            assert pressed.answer is not None and pressed.answer.show_alert
    assert "辖区以外" in (cast.lucheng_staff.answers()[-1].text or "")
    refused = await typhoon_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert {event.actor_id for event in refused} >= {cast.lucheng_staff.id, cast.head_1.id, cast.cadre.id}
    assert await typhoon_stage.services.storage.audit.list(action_prefix="warning.help_") == []
    assert mine.buttons == [["✋ 我来处理"]]


async def test_a_call_for_help_can_still_be_resolved_after_the_warning_ended(typhoon_stage: Stage) -> None:
    cast, _, mine, _ = await asked_for_help(typhoon_stage)
    await cast.dongtou_staff.press("✋ 我来处理", mine)
    typhoon_stage.clock.advance(timedelta(hours=25))
    done = await cast.dongtou_staff.press("✅ 已解决", mine)
    assert done.answer is not None and done.answer.text == "已标记为已解决，已告知求助人。"
    await drain(typhoon_stage)
    (closed,) = containing(cast.head_2, "标记为已解决")
    assert closed.buttons == []  # the warning is over: no 🆘 to press again under it


async def test_a_restart_in_the_middle_tells_the_head_once(typhoon_stage: Stage) -> None:
    """Taken and resolved with the bot restarted before the notices went out: the head gets each once."""
    cast, _, mine, _ = await asked_for_help(typhoon_stage)
    take = mine.button_data[0][0] or ""
    await cast.dongtou_staff.press("✋ 我来处理", mine)
    await typhoon_stage.restart()
    await cast.dongtou_staff.press_data(mine, take)  # pressed again after the restart
    await drain(typhoon_stage)
    await cast.dongtou_staff.press("✅ 已解决", mine)
    await typhoon_stage.restart()
    await drain(typhoon_stage)
    await drain(typhoon_stage)
    assert len(containing(cast.head_2, "已有专人处理")) == 1
    assert len(containing(cast.head_2, "标记为已解决")) == 1


async def test_a_colleagues_stale_take_does_not_take_the_call_from_whoever_took_it(typhoon_stage: Stage) -> None:
    """Two officials press ✋ 我来处理 on their own copies, the second before its copy was edited (or an edit lost to a
    restart): the first keeps the call, the second is told who has it, and the first can still resolve it."""
    cast, colleague, mine, theirs = await asked_for_help(typhoon_stage)
    take = theirs.button_data[0][0] or ""
    await cast.dongtou_staff.press("✋ 我来处理", mine)
    late = await colleague.press_data(theirs, take)
    assert late.answer is not None and late.answer.text == "林 科长 已于 2026-09-10 09:00 接手这次求助，无需重复。"
    request = await typhoon_stage.services.storage.help_requests.get(int(take.rsplit(":", 1)[1]))
    assert request is not None and request.taken_by == cast.dongtou_staff.id
    assert len(await typhoon_stage.services.storage.audit.list(action_prefix="warning.help_taken")) == 1
    done = await cast.dongtou_staff.press("✅ 已解决", mine)
    assert done.answer is not None and done.answer.text == "已标记为已解决，已告知求助人。"


async def test_resolving_under_the_alert_takes_its_resolve_button_away(typhoon_stage: Stage) -> None:
    cast, _, mine, _ = await asked_for_help(typhoon_stage)
    await cast.dongtou_staff.press("✋ 我来处理", mine)
    typhoon_stage.clock.advance(timedelta(minutes=20))
    await cast.dongtou_staff.press("✅ 已解决", mine)
    assert mine.text.endswith("✅ 已解决（林 科长，2026-09-10 09:20）") and mine.buttons == []


async def test_an_open_call_survives_a_revision_and_a_stale_received_button(typhoon_stage: Stage) -> None:
    """郑站长 asked for help and nobody took it; a 【更新】 reached him later. It offered ✅ 已收到并落实, which
    replaced his 需要帮助: /warnstatus and the final tally then showed 需要帮助 0. Now the revision says his call is
    open and offers nothing to press, and a ✅ from an older copy is refused: the call stays under 需要帮助
    until resolved."""
    cast, _, _, _ = await asked_for_help(typhoon_stage)
    staff = cast.dongtou_staff
    first = containing(cast.head_2, TYPHOON_TEMPLATE)[0]
    typhoon_stage.clock.advance(timedelta(hours=5))
    await staff.send_text("/warnings")
    await staff.press("✏️ 更新")
    await staff.send_text("台风已登陆\n请继续做好防范。")
    await drain(typhoon_stage)

    (revised,) = containing(cast.head_2, "【更新】")
    assert revised.buttons == []
    assert revised.text.endswith("🆘 已于 2026-09-10 09:00 请求帮助")
    (other,) = containing(cast.head_1, "【更新】")  # a head without a call still answers as before
    assert other.buttons == [["✅ 已收到并落实"], ["📝 报告落实情况"], ["🆘 需要帮助"]]

    stale = await cast.head_2.press_data(first, "wa:ok:1")
    assert stale.answer is not None and "您的求助尚未解决" in (stale.answer.text or "")
    assert first.buttons == []
    await staff.send_text("/warnstatus")
    status = staff.last_message().text
    assert "已收到并落实 0 · 需要帮助 1" in status and f"🆘 {HOME_2_ZH}：陈 院长 2026-09-10 09:00" in status

    # Taken, a later revision names who is on it; resolved, the next one offers both answers again.
    (alert,) = containing(staff, "紧急求助")
    await staff.press("✋ 我来处理", alert)
    await staff.send_text("/warnings")
    await staff.press("✏️ 更新")
    await staff.send_text("台风减弱\n请继续做好防范。")
    await drain(typhoon_stage)
    taken = containing(cast.head_2, "【更新】")[-1]
    assert taken.buttons == []
    assert taken.text.endswith("🆘 已于 2026-09-10 09:00 请求帮助 · ✋ 林 科长 处理中（2026-09-10 14:00 接手）")
    await staff.press("✅ 已解决", alert)
    await staff.send_text("/warnings")
    await staff.press("✏️ 更新")
    await staff.send_text("台风远离\n请继续做好防范。")
    await drain(typhoon_stage)
    assert containing(cast.head_2, "【更新】")[-1].buttons == [
        ["✅ 已收到并落实"], ["📝 报告落实情况"], ["🆘 需要帮助"]]


async def test_a_second_call_after_the_first_was_resolved_is_the_one_a_revision_reads(typhoon_stage: Stage) -> None:
    """陈院长's first call was taken and resolved; later she asked again, and nobody has taken the second yet. The
    next 【更新】 must say her call is open and offer nothing to press: read by her first, resolved call, it offered
    ✅ 已收到并落实 again, whose press would take the open call off /warnstatus."""
    cast, _, _, _ = await asked_for_help(typhoon_stage)
    staff = cast.dongtou_staff
    first = containing(cast.head_2, TYPHOON_TEMPLATE)[0]
    (alert,) = containing(staff, "紧急求助")
    await staff.press("✋ 我来处理", alert)
    await staff.press("✅ 已解决", alert)
    typhoon_stage.clock.advance(timedelta(hours=2))
    again = await cast.head_2.press_data(first, "wa:help:1")
    assert again.answer is not None and (again.answer.text or "").startswith("已通知县级民政部门")
    await drain(typhoon_stage)

    await staff.send_text("/warnings")
    await staff.press("✏️ 更新")
    await staff.send_text("台风已登陆\n请继续做好防范。")
    await drain(typhoon_stage)
    (revised,) = containing(cast.head_2, "【更新】")
    assert revised.buttons == []
    assert revised.text.endswith("🆘 已于 2026-09-10 11:00 请求帮助")
