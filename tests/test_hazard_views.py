"""/tasks, /hazard and /deadline, and buttons that are stale or forged, as the people who use them see them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.services.hazard_core import MAX_TEXT
from bot.stage import Stage
from storage.repositories.action_drafts import Journey
from tests.hazard_people import (
    HEAD,
    LONGWAN,
    LONGWAN_HEAD,
    LONGWAN_HOME,
    LONGWAN_STAFF,
    LUCHENG,
    OTHER_STAFF,
    STAFF,
    act,
    cancelled_after_refusals,
    cast,
    hazard_now,
    listed,
    long_named_centres,
    opened,
    report,
    submitted,
)


async def test_tasks_list_overdue_first_with_a_clock_and_turn_pages_in_place(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    general = [await report(bot_stage, severity=Severity.GENERAL, description=f"{floor}楼消防通道被杂物堵塞")
               for floor in "一二"]
    major = [await report(bot_stage, severity=Severity.MAJOR) for _ in range(2)]
    serious = [await report(bot_stage, severity=Severity.SERIOUS) for _ in range(3)]
    bot_stage.clock.advance(timedelta(days=2))  # the 重大 ones (24 hours) are now late

    await people.head.send_text("/tasks")
    listing = people.head.last_message()
    assert "共 7 条，第 1/2 页" in listing.text
    assert opened(listing) == [h.id for h in serious + major]
    # Each button says which hazard it opens, ⏰ on the late ones as in the lines above; five reports alike are told
    # apart by the number their codes end with (five identical buttons before).
    numbers = [f"#{h.code.rsplit('-', 1)[-1]}" for h in serious + major]
    assert listing.buttons[:-1] == [[f"⏰ 用火 · 消防通道被杂物堵塞 · {n}"] for n in numbers[:3]] + [
        [f"用火 · 消防通道被杂物堵塞 · {n}"] for n in numbers[3:]
    ]
    assert listing.text.count("⏰") == 3 and listing.text.count("已逾期") == 3
    assert "鹿城区社会福利院 · 用火 · 重大" in listing.text and "已交办" in listing.text
    assert listing.buttons[-1] == ["下一页 ▶"]

    await people.head.press("下一页 ▶", listing)
    assert listing.edited and "第 2/2 页" in listing.text and "⏰" not in listing.text
    assert listing.buttons[:-1] == [["用火 · 一楼消防通道被杂物堵塞"], ["用火 · 二楼消防通道被杂物堵塞"]]
    assert opened(listing) == [h.id for h in general]
    assert listing.buttons[-1] == ["◀ 上一页"]
    assert len([m for m in people.head.messages() if "待您处理的隐患" in m.text]) == 1

    await people.head.press("用火 · 一楼消防通道被杂物堵塞", listing)
    assert any(f"隐患 {general[0].code}" in m.text for m in people.head.messages()[-4:])

    await people.cadre.send_text("/tasks")
    assert "目前没有待您处理的隐患" in people.cadre.last_message().text


async def test_a_heads_fix_waiting_for_the_county_is_listed_apart_and_not_counted_as_theirs(bot_stage: Stage) -> None:
    """A head's /tasks counted a hazard they had already submitted (待验收) among those "waiting for you": it is the
    county's turn. It is named under the list as waiting for the county, and the count is what they must do."""
    people = await cast(bot_stage)
    waiting = await report(bot_stage)
    fixed = await submitted(bot_stage, await report(bot_stage))

    await people.head.send_text("/tasks")
    listing = people.head.last_message()
    assert "待您处理的隐患：共 1 条" in listing.text
    assert opened(listing) == [waiting.id]
    assert f"⏳ 等待县级验收（1 条，无需您操作）：{fixed.code}" in listing.text

    await act(bot_stage, HEAD, waiting, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, HEAD, waiting, HazardAction.SUBMIT_RECTIFICATION, reason="已清理通道杂物", photos=1)
    await people.head.send_text("/tasks")
    told = people.head.last_message().text
    assert told.startswith("目前没有需要您整改的隐患。") and "🎉" not in told
    assert f"等待县级验收（2 条，无需您操作）：{waiting.code}、{fixed.code}" in told

    await act(bot_stage, STAFF, fixed, HazardAction.ACCEPT)
    await act(bot_stage, STAFF, waiting, HazardAction.ACCEPT)
    await people.head.send_text("/tasks")
    assert "等待县级验收" not in people.head.last_message().text


async def test_staff_tasks_put_what_awaits_verification_first_in_english(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    waiting = await report(bot_stage)
    fixed = await submitted(bot_stage, await report(bot_stage))
    await people.staff.send_text("/tasks")
    listing = people.staff.last_message()
    assert "Hazards waiting for you" in listing.text and "Awaiting verification" in listing.text
    # Staff's lists span many homes: each button starts with its home, the district left out for room.
    # A staff list's button ends with the number of the hazard's code, as the line above names it.
    number = fixed.code.rsplit("-", 1)[-1]
    assert listing.buttons[0] == [f"Social Welfa… · Fire · 消防通道… · #{number}"] and opened(listing)[0] == fixed.id
    assert waiting.id not in opened(listing)  # the head has it; staff act on it only when late


async def test_staff_with_nothing_to_do_hear_what_is_still_open_in_their_county(bot_stage: Stage) -> None:
    """A county clerk's empty /tasks celebrated while hazards of their county were still being rectified by heads:
    it says how many are open there (another county's do not count), and celebrates only once none is. (The test
    world's homes never logged a drill: that is said instead of 🎉, see test_calendar_journeys.)"""
    people = await cast(bot_stage)
    nothing_open = "暂无待您审批、验收或处理的隐患。\n\n📅 另有 2 家机构消防演练或月度自查已逾期"
    await people.staff.send_text("/tasks")
    assert people.staff.last_message().text.startswith(nothing_open)

    longwan = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="吴")
    await bot_stage.register(longwan, Role.COUNTY, region=LONGWAN)
    await report(bot_stage, LONGWAN_STAFF, institution=LONGWAN_HOME)  # another county's
    await people.staff.send_text("/tasks")
    assert people.staff.last_message().text.startswith(nothing_open)

    first = await report(bot_stage)  # the head has it and it is not late: nothing for the clerk to do yet
    await people.staff.send_text("/tasks")
    told = people.staff.last_message().text
    assert "🎉" not in told and "/stats" in told
    assert "暂无待您审批、验收或处理的隐患。鹿城区另有 1 条隐患正在处置中" in told
    second = await report(bot_stage)
    await people.staff.send_text("/tasks")
    assert "鹿城区另有 2 条隐患正在处置中" in people.staff.last_message().text

    for hazard in (first, second):
        await act(bot_stage, STAFF, await submitted(bot_stage, hazard), HazardAction.ACCEPT)
    await people.staff.send_text("/tasks")
    assert people.staff.last_message().text.startswith(nothing_open)


async def test_a_city_admin_with_nothing_to_do_hears_what_is_open_in_the_city_in_english(bot_stage: Stage) -> None:
    await cast(bot_stage, "en")  # the Lucheng cadre who reports
    await report(bot_stage)
    admin = bot_stage.sandbox.user(user_id=90, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/tasks")
    told = admin.last_message().text
    assert told.startswith("No hazards are waiting for your approval, verification or action.")
    assert "1 other hazard in Wenzhou is still being dealt with" in told and "/stats" in told
    await report(bot_stage)
    await admin.send_text("/tasks")
    assert "2 other hazards in Wenzhou are still being dealt with" in admin.last_message().text


async def test_the_dossier_shows_the_whole_history_and_the_before_and_after_photos(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await submitted(bot_stage, await report(bot_stage))
    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="照片看不清通道")
    # Sent back, and nothing new submitted yet: the rejected measures are not shown as the hazard's current ones.
    await people.head.send_text(f"/hazard {hazard.code}")
    rejected = next(m.text for m in reversed(people.head.messages()) if m.text.startswith("📄"))
    assert "上次整改措施（未通过验收，已退回）：已清理通道杂物" in rejected and "\n整改措施：" not in rejected
    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="重新清理并补拍", photos=2)
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)

    before = len(people.staff.messages())
    await people.staff.send_text(f"/hazard {hazard.code.lower()}")
    shown = people.staff.messages()[before:]
    text = shown[0].text
    assert f"隐患 {hazard.code} · 已销号" in text and "鹿城区社会福利院" in text and "县级检查（合力改）" in text
    assert "按期完成" in text and "整改措施：重新清理并补拍" in text
    for expected in ("上报隐患", "李娜", "确认收到", "陈院长", "提交整改", "退回整改", "说明：照片看不清通道",
                     "周科长", "验收通过"):
        assert expected in text, expected
    photos = [m for m in shown if m.kind == "photo"]
    assert [m.caption for m in photos] == [
        f"{hazard.code} · 整改前 1/1",
        f"{hazard.code} · 上次整改后 1/1",  # the rejected fix's photo is not what the place looks like now
        f"{hazard.code} · 整改后 1/2",
        f"{hazard.code} · 整改后 2/2",
    ]
    assert len({m.media_group_id for m in photos}) == 1 and photos[0].media_group_id is not None
    # A closed hazard leaves staff one thing to press: Reopen, should the problem come back.
    assert f"隐患 {hazard.code}，您可以" in shown[-1].text and shown[-1].buttons == [["重新打开"], ["💬 留言"]]

    await people.head.send_text(f"/hazard {hazard.code}")
    assert "照片看不清通道" in "".join(m.text for m in people.head.messages()[-7:])
    assert people.head.last_message().buttons == [["💬 留言"]]  # and the head only a comment


async def test_unknown_and_out_of_scope_codes_get_the_same_answer(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    hazard = await report(bot_stage)
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)

    await outsider.send_text(f"/hazard {hazard.code}")
    hidden = outsider.last_message().text
    await outsider.send_text("/hazard YH-20200101-0001")
    assert outsider.last_message().text == hidden == "No such hazard, or you may not see it."
    await outsider.send_text("/hazard")
    assert "/hazard YH-" in outsider.last_message().text
    await people.cadre.send_text(f"/hazard {hazard.code}")
    assert hazard.code in people.cadre.messages()[-2].text  # the reporter may follow their hazard


async def test_staff_change_a_deadline_with_a_reason_and_the_head_is_told(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    old_deadline = hazard.deadline
    assert old_deadline is not None

    await people.head.send_text(f"/deadline {hazard.code}")
    assert "仅限县级民政工作人员" in people.head.last_message().text

    await people.staff.send_text(f"/deadline {hazard.code}")
    assert people.staff.last_message().buttons == [["延期 1 天", "延期 3 天", "延期 7 天"], ["取消"]]
    await people.staff.press("延期 3 天")
    assert "请输入调整原因" in people.staff.last_message().text
    await people.staff.send_photo()
    assert "请用文字回复" in people.staff.last_message().text
    await people.staff.send_text("需等待消防部门上门检测")
    assert "整改期限已调整为" in people.staff.last_message().text

    changed = await hazard_now(bot_stage, hazard)
    assert changed.deadline == old_deadline + timedelta(days=3)
    notice = people.head.last_message()
    assert "整改期限已调整" in notice.text and "需等待消防部门上门检测" in notice.text and "→" in notice.text
    event = (await bot_stage.services.storage.hazards.events(hazard.id))[-1]
    assert event.action == "change_deadline" and event.note == "需等待消防部门上门检测"


async def test_a_command_in_the_middle_of_a_deadline_change_ends_it_and_says_so(bot_stage: Stage) -> None:
    """A clerk who looked the hazard up with /hazard while /deadline waited for the reason saw no word of it; their
    next sentence became the reason, changed the deadline and told the head. Another command now ends the change,
    the deadline as it was, and says how to start it again; /cancel is still the change's own."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    await people.staff.send_text(f"/deadline {hazard.code}")
    await people.staff.send_text("12月5日")
    assert "请输入调整原因" in people.staff.last_message().text
    heard = len(people.head.messages())

    seen = len(people.staff.messages())
    await people.staff.send_text(f"/hazard {hazard.code}")
    answers = people.staff.messages()[seen:]
    assert answers[0].text == (f"⏹ 隐患 {hazard.code} 的整改期限调整已取消，期限未改。"
                               f"如需调整，请重新发送 /deadline {hazard.code}。")
    assert any(f"隐患 {hazard.code}" in m.text and "处置记录" in m.text for m in answers[1:])

    await people.staff.send_text("施工单位需要时间")
    assert "整改期限已调整" not in people.staff.last_message().text
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline
    assert len(people.head.messages()) == heard  # the head heard of no change

    await people.staff.send_text(f"/deadline {hazard.code}")  # started again, it works as before
    await people.staff.press("延期 3 天")
    seen = len(people.staff.messages())
    await people.staff.send_text("/cancel")  # the change's own: one answer, not "ended" and then "nothing to cancel"
    assert [m.text for m in people.staff.messages()[seen:]] == ["已取消。"]
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline


async def test_the_history_shows_a_changed_deadline_from_the_old_date_to_the_new(bot_stage: Stage) -> None:
    """The head reads in /hazard's history which deadline was replaced by which: 期限：old → new, never reversed."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    old_deadline = hazard.deadline
    assert old_deadline is not None
    await people.staff.send_text(f"/deadline {hazard.code}")
    await people.staff.press("延期 3 天")
    await people.staff.send_text("需等待消防部门上门检测")
    assert "整改期限已调整为" in people.staff.last_message().text

    tz = bot_stage.settings.tz
    old, new = (moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") for moment in (old_deadline,
                                                                                old_deadline + timedelta(days=3)))
    seen = len(people.head.messages())
    await people.head.send_text(f"/hazard {hazard.code}")
    shown = "\n".join(message.text for message in people.head.messages()[seen:])
    assert f"期限：{old} → {new}" in shown
    assert f"期限：{new} → {old}" not in shown


async def test_a_deadline_reason_asked_again_offers_cancel_which_ends_the_step(bot_stage: Stage) -> None:
    """A reason refused (nothing that shows), or a photo where it was asked for, is asked for again with Cancel
    under the answer, as under the question: one press ends the step, and the next text is no reason."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/deadline {hazard.code}")
    await staff.press("延期 3 天")
    await cancelled_after_refusals(staff, ("\u200b\u2060", "请填写原因。"))
    assert await bot_stage.services.storage.action_drafts.get(STAFF, Journey.DEADLINE) is None
    await staff.send_text("需等待消防部门上门检测")  # the step ended: this is no reason
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert "change_deadline" not in [e.action for e in events]


async def test_a_typed_deadline_is_read_in_the_configured_zone_in_english(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    hazard = await report(bot_stage)
    tz = bot_stage.settings.tz
    wanted = (bot_stage.clock.now().astimezone(tz) + timedelta(days=10)).replace(hour=18, minute=0, second=0,
                                                                                 microsecond=0)
    await people.staff.send_text(f"/deadline {hazard.code}")
    await people.staff.send_text("end of the month")
    assert "could not read that date" in people.staff.last_message().text
    await people.staff.send_text("2001-01-01")
    assert "cannot be in the past" in people.staff.last_message().text
    await people.staff.send_text(wanted.strftime("%Y-%m-%d %H:%M"))
    await people.staff.send_text("The contractor comes next week")
    assert (await hazard_now(bot_stage, hazard)).deadline == wanted
    assert "The contractor comes next week" in people.head.last_message().text


async def test_a_date_typed_at_the_reason_step_corrects_the_date_and_is_never_the_reason(bot_stage: Stage) -> None:
    """The audit's clerk: "tomorrow", then "Sep 20" where the reason is asked. The date is corrected and said back,
    the reason is asked again; a reason of one character is refused; nothing is applied until a real reason comes."""
    tz = bot_stage.settings.tz
    bot_stage.clock.set(datetime(2026, 9, 10, 9, 0, tzinfo=tz))
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/deadline {hazard.code}")
    assert "Dec 20" in staff.last_message().text  # the accepted forms, by example
    await staff.send_text("tomorrow")
    assert "New deadline: 2026-09-11 23:59. Please type the reason" in staff.last_message().text
    await staff.send_text("Sep 20")
    corrected = staff.last_message()
    assert "Deadline changed to 2026-09-20 23:59. Please type the reason" in corrected.text
    assert "(next year)" not in corrected.text and corrected.buttons == [["Cancel"]]
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline  # nothing applied yet
    await staff.send_text("x")
    refused = staff.last_message()
    assert "at least 2 characters" in refused.text and refused.buttons == [["Cancel"]]
    await staff.send_text("The contractor comes on the 18th")
    assert (await hazard_now(bot_stage, hazard)).deadline == datetime(2026, 9, 20, 23, 59, tzinfo=tz)
    event = (await bot_stage.services.storage.hazards.events(hazard.id))[-1]
    assert event.action == "change_deadline" and event.note == "The contractor comes on the 18th"


async def test_a_date_in_the_past_typed_at_the_reason_step_goes_back_to_the_date(bot_stage: Stage) -> None:
    tz = bot_stage.settings.tz
    bot_stage.clock.set(datetime(2026, 9, 10, 9, 0, tzinfo=tz))
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/deadline {hazard.code}")
    await staff.press("延期 3 天")
    await staff.send_text("今天 08:00")
    assert "整改期限不能早于现在" in staff.last_message().text
    assert staff.last_message().buttons == [["延期 1 天", "延期 3 天", "延期 7 天"], ["取消"]]
    await staff.send_text("9月30日")
    assert "新期限：2026-09-30 23:59。" in staff.last_message().text
    await staff.send_text("等待消防检测")
    assert (await hazard_now(bot_stage, hazard)).deadline == datetime(2026, 9, 30, 23, 59, tzinfo=tz)


async def test_a_typed_day_without_its_year_taken_in_the_next_year_says_so(bot_stage: Stage) -> None:
    tz = bot_stage.settings.tz
    bot_stage.clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=tz))
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/deadline {hazard.code}")
    await staff.send_text("1月10日")
    assert "新期限：2027-01-10 23:59（明年）。" in staff.last_message().text
    await staff.send_text("2027-01-12")  # written with its year: nothing to point out
    assert "已改为新期限：2027-01-12 23:59。" in staff.last_message().text
    await staff.send_text("需等待施工单位进场")
    assert (await hazard_now(bot_stage, hazard)).deadline == datetime(2027, 1, 12, 23, 59, tzinfo=tz)


async def test_a_deadline_typed_as_people_say_it_is_read_against_the_citys_today(bot_stage: Stage) -> None:
    """明天下午6点 just after midnight in the city (still yesterday in UTC) is the day after the city's today."""
    tz = bot_stage.settings.tz
    bot_stage.clock.set(datetime(2026, 3, 2, 0, 30, tzinfo=tz))
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/deadline {hazard.code}")
    assert "明天 18:00" in staff.last_message().text  # the accepted forms, by example
    await staff.send_text("月底")
    assert "明天下午6点" in staff.last_message().text
    await staff.send_text("3月2日 00:10")  # today's 2 March, not next year's: the time has passed, and it is said
    assert "整改期限不能早于现在" in staff.last_message().text
    await staff.send_text("明天下午6点")
    assert "新期限：2026-03-03 18:00" in staff.last_message().text
    await staff.send_text("需等待消防部门上门检测")
    assert (await hazard_now(bot_stage, hazard)).deadline == datetime(2026, 3, 3, 18, 0, tzinfo=tz)


async def test_forged_buttons_are_refused_and_audited(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await submitted(bot_stage, await report(bot_stage))
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="吴")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)
    other_head = bot_stage.sandbox.user(user_id=LONGWAN_HEAD, first_name="郑")
    await bot_stage.register(other_head, Role.HEAD, institution=LONGWAN_HOME)

    anchor = outsider.last_message()
    for data in (f"hz:accept:{hazard.id}", f"hz:reject:{hazard.id}", f"hz:view:{hazard.id}"):
        pressed = await outsider.press_data(anchor, data)
        assert pressed.answer is not None and pressed.answer.show_alert
    # Every button answers an outsider as View does, not confirming that the hazard exists (still audited).
    assert [answer.text for answer in outsider.answers()] == ["找不到这条隐患，或您无权查看。"] * 3

    own_notice = people.head.messages()[-1]
    pressed = await people.head.press_data(own_notice, f"hz:accept:{hazard.id}")
    assert pressed.answer is not None and pressed.answer.text == "您的身份不能进行此操作，操作已记录。"
    await people.head.press_data(own_notice, f"hz:reject:{hazard.id}")
    assert "退回原因" not in people.head.last_message().text  # refused before any reason was asked for
    await other_head.press_data(other_head.last_message(), f"hz:fix:{hazard.id}")

    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["action"], e.detail["reason"]) for e in refused] == [
        (LONGWAN_STAFF, "accept", "not_in_scope"),
        (LONGWAN_STAFF, "reject", "not_in_scope"),
        (LONGWAN_STAFF, "view", "not_in_scope"),
        (HEAD, "accept", "wrong_role"),
        (HEAD, "reject", "wrong_role"),
        (LONGWAN_HEAD, "submit_rectification", "not_in_scope"),
    ]
    assert all(e.target == f"hazard:{hazard.code}" for e in refused)


async def test_a_stale_button_on_a_closed_hazard_gets_a_polite_answer(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Qian", language_code="en")
    await bot_stage.register(colleague, Role.COUNTY, region="330302")
    hazard = await submitted(bot_stage, await report(bot_stage))
    first_notice = next(m for m in people.head.messages() if hazard.code in m.text)

    await people.staff.press("Accept", people.staff.last_message())
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    pressed = await colleague.press("Accept", colleague.last_message())
    assert pressed.answer is not None and pressed.answer.show_alert
    assert pressed.answer.text == f"Hazard {hazard.code} is already closed; nothing more to do."
    pressed = await colleague.press("Reject", colleague.last_message())
    assert pressed.answer is not None and "already closed" in (pressed.answer.text or "")
    pressed = await people.head.press("📤 Submit the fix", first_notice)
    assert pressed.answer is not None and "already closed" in (pressed.answer.text or "")
    assert await bot_stage.services.storage.audit.list(action_prefix="authz.refused") == []


async def test_a_dossier_with_the_longest_description_and_measures_reaches_the_viewer(bot_stage: Stage) -> None:
    """A description and the measures may each take MAX_TEXT characters: in one summary they would be past what a
    Telegram message holds, and Telegram would refuse the dossier. The measures come as the summary's own part."""
    people = await cast(bot_stage)
    description = "消防通道被杂物堵塞，" * (MAX_TEXT // 10)
    measures = ("已清理通道杂物并张贴警示标识，" * (MAX_TEXT // 15 + 1))[:MAX_TEXT]
    assert len(description) == len(measures) == MAX_TEXT
    hazard = await report(bot_stage, description=description)
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason=measures, photos=1)

    before = len(people.staff.messages())
    await people.staff.send_text(f"/hazard {hazard.code}")
    texts = [m.text for m in people.staff.messages()[before:] if m.kind == "text"]
    assert f"隐患 {hazard.code} · 待验收" in texts[0] and description in texts[0]
    assert any(f"整改措施：{measures}" in text for text in texts)
    assert people.staff.messages()[-1].buttons  # the actions still come last


@pytest.mark.parametrize(
    ("language", "late", "other", "card"),
    [
        ("zh-hans", "⏰ 用火 · 厨房灭火器过期两个月，一直没…", "用电 · 二楼配电箱老化", "机构档案"),
        ("en", "⏰ Fire · 厨房灭火器过期两个月，一直没…", "Electricity · 二楼配电箱老化", "Institution file"),
    ],
)
async def test_a_head_with_two_hazards_tells_them_apart_by_their_buttons(
    bot_stage: Stage, language: str, late: str, other: str, card: str
) -> None:
    """The buttons under /tasks and /institution were bare codes, to be matched against the lines above: each now
    says which hazard it opens, ⏰ on the late one, the area in the reader's language, the description's start cut
    to a phone's width (a Chinese character as wide as two letters)."""
    people = await cast(bot_stage, language)
    kitchen = "厨房灭火器过期两个月，一直没有人更换，需要尽快处理"
    fire = await report(bot_stage, severity=Severity.SERIOUS, description=kitchen)
    wiring = await report(bot_stage, area=HazardArea.ELECTRICITY, description="二楼配电箱老化")
    bot_stage.clock.advance(timedelta(days=2))  # the 重大 one (24 hours) is now late

    await people.head.send_text("/tasks")
    listing = people.head.last_message()
    assert listing.buttons == [[late], [other]] and opened(listing) == [fire.id, wiring.id]
    assert listing.text.count("⏰") == 1 and "<" not in late
    await people.head.press(other, listing)
    assert any(wiring.code in m.text for m in people.head.messages()[-4:])

    await people.head.send_text("/institution")
    shown = people.head.last_message()
    assert card in shown.text and shown.buttons == [[late], [other]] and opened(shown) == [fire.id, wiring.id]


async def test_a_label_that_fits_is_whole_and_a_description_typed_over_lines_is_on_one(bot_stage: Stage) -> None:
    """A label exactly as wide as a button (40 letters' width) keeps its last character; a description typed over
    several lines, with runs of spaces, is one line with single spaces on its button."""
    people = await cast(bot_stage)
    fits = "二楼配电箱老化，插座发热需要更换A"  # 用电 · (7) + 33 = 40
    await report(bot_stage, area=HazardArea.ELECTRICITY, description=fits)
    await report(bot_stage, description="厨房插座\n  松动")
    await people.head.send_text("/tasks")
    buttons = sorted(row[0] for row in people.head.last_message().buttons)
    assert buttons == sorted([f"用电 · {fits}", "用火 · 厨房插座 松动"])


NANHUI = "WZ-330302-ELDER-02"  # 鹿城区南汇街道居家养老服务中心 / Nanhui Subdistrict Home-Care Service Centre


@pytest.mark.parametrize(
    ("language", "catalog", "welfare", "nanhui"),
    [("zh-hans", "zh_CN", "社会福利院", "南汇街道居家…"), ("en", "en", "Social Welfa…", "Nanhui Subdi…")],
)
async def test_a_county_clerk_tells_apart_like_hazards_at_two_homes_by_their_buttons(
    bot_stage: Stage, language: str, catalog: str, welfare: str, nanhui: str
) -> None:
    """A clerk's /tasks holds hazards of many homes, often alike: each button starts with its home's name, short
    (the district all share left out), as its line above names it; the head's own list does not repeat the home."""
    people = await cast(bot_stage, language)
    plugs = "食堂后厨插线板串接，电线老化发热"
    here = await report(bot_stage, area=HazardArea.ELECTRICITY, description=plugs)
    there = await report(bot_stage, area=HazardArea.ELECTRICITY, description=plugs, institution=NANHUI)
    bot_stage.clock.advance(timedelta(days=40))  # both late: on the clerk's list

    await people.staff.send_text("/tasks")
    listing = people.staff.last_message()
    labels = [row[0] for row in listing.buttons if row[0].startswith("⏰")]
    assert labels == [listed(here, catalog, late=True, home=welfare), listed(there, catalog, late=True, home=nanhui)]
    assert opened(listing)[:2] == [here.id, there.id] and labels[0] != labels[1]
    assert labels[0].startswith(f"⏰ {welfare} · ") and labels[1].startswith(f"⏰ {nanhui} · ")
    assert all(len(label) <= 40 and "<" not in label for label in labels)

    await people.head.send_text("/tasks")
    assert [row[0] for row in people.head.last_message().buttons] == [listed(here, catalog, late=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
async def test_hazards_at_homes_whose_names_start_alike_have_buttons_that_tell_them_apart(
    bot_stage: Stage, language: str
) -> None:
    """A big county's homes are named alike ("Wuma Subdistrict No. 3 …", "Wuma Subdistrict No. 31 …"): cut to fit,
    two hazards of the same kind at two homes had identical buttons, the cut taking exactly the part that differs.
    Each staff button now ends with the number its code ends with, as the line above names the hazard."""
    people = await cast(bot_stage, language)
    centres = {c.code: c for c in await long_named_centres(bot_stage, LUCHENG)}
    found = [await report(bot_stage, area=HazardArea.ELECTRICITY, description="电线老化发热，插线板串接使用",
                          institution=code) for code in ("WZ-330302-CARE-03", "WZ-330302-CARE-31")]
    assert len(centres) == 40
    bot_stage.clock.advance(timedelta(days=40))

    await people.staff.send_text("/tasks")
    listing = people.staff.last_message()
    labels = {hazard_id: row[0] for row, hazard_id in zip(listing.buttons, opened(listing), strict=False)}
    first, second = (labels[h.id] for h in found)
    assert first != second
    numbers = [f"#{h.code.rsplit('-', 1)[-1]}" for h in found]
    assert first.endswith(numbers[0]) and second.endswith(numbers[1])
    assert all(len(label) <= 40 for label in labels.values())
