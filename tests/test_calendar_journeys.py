"""Drills and study sessions from the phones of the people who log them, in Chinese and English: /drill, /drills,
/study, through the emulator, with the clock held still."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.compliance import DrillKind
from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.services.calendar import DrillEntry
from bot.services.hazard_core import MAX_TEXT
from bot.stage import Stage
from tests.calendar_people import institution_id, local
from tests.db_faults import refuse_next_own_write
from tests.hazard_people import HEAD, HOME, LUCHENG, cast, telegram_photo


async def through_the_drill(person: SimUser, kind: str, day: str, people: str, minutes: str, practised: str) -> None:
    """A drill's steps from its kind to one photo, each answered right; next it asks what problems were found."""
    await person.press(kind)
    await person.press(day)
    await person.send_text(people)
    await person.send_text(minutes)
    await person.send_text(practised)
    await person.send_photo()
    await person.press("完成")


async def test_a_head_logs_a_fire_drill_and_is_guided_past_wrong_answers(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    people = await cast(bot_stage)
    head = people.head

    await head.send_text("/drill")
    assert "第 1 步" in head.last_message().text
    await head.press("消防疏散演练")
    assert "演练日期" in head.last_message().text
    assert head.last_message().buttons[0] == ["今天（2026-03-10）", "昨天（2026-03-09）"]
    await head.send_text("上个月初")
    assert "2026-03-05" in head.last_message().text  # the format, by example
    await head.send_text("2026-04-01")
    assert "不能晚于今天" in head.last_message().text
    await head.send_text("2026年3月6日")
    assert "参加人数" in head.last_message().text
    await head.send_photo()
    assert "须为确切人数" in head.last_message().text
    await head.send_text("很多人")
    assert "须为确切人数" in head.last_message().text
    await head.send_text("0")
    assert "1 到" in head.last_message().text and head.last_message().buttons == [["↩ 改日期", "取消"]]
    await head.send_text("35人")
    assert "时长" in head.last_message().text
    await head.send_text("45 分钟")
    assert "演练了哪些内容" in head.last_message().text
    await head.send_text("夜间火灾疏散，卧床老人转移，灭火器使用")
    assert "至少 1 张" in head.last_message().text and head.last_message().buttons == [["取消"]]
    await head.send_text("照片稍后补")
    assert "这一步需要照片" in head.last_message().text
    await head.send_photo()
    assert "已收到第 1 张照片" in head.last_message().text and ["完成"] in head.last_message().buttons
    await head.press("完成")
    assert "发现了哪些问题" in head.last_message().text
    await head.send_text("无")

    summary = head.last_message()
    assert "鹿城区社会福利院" in summary.text and "2026-03-06" in summary.text and "35 人" in summary.text
    assert "45 分钟" in summary.text and "照片：1 张" in summary.text and "发现问题：\n无" in summary.text
    await head.press("✅ 确认记录")
    logged = head.last_message()
    assert "已记录演练：消防疏散演练，2026-03-06" in logged.text
    assert "合规" in logged.text and "2026年上半年已于 2026-03-06 开展消防演练" in logged.text
    assert logged.buttons == []  # the summary turned into the answer: no second confirmation

    drills = await bot_stage.services.storage.calendar.drills_of(await institution_id(bot_stage, HOME))
    assert [(d.kind, d.held_on, d.participants, d.duration_minutes, len(d.photos)) for d in drills] == [
        (DrillKind.FIRE, date(2026, 3, 6), 35, 45, 1)
    ]
    assert people.group.messages() == []  # a drill without problems tells nobody else


async def test_a_head_gives_up_a_drill_with_the_cancel_under_a_refused_answer(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-10）")
    await head.send_text("35")
    await head.send_text("45")
    await head.send_text("演")
    refused = head.last_message()
    assert "至少 2 个字" in refused.text and refused.buttons == [["取消"]]
    await head.press("取消", refused)
    assert head.last_message().text == "已取消记录演练，未保存任何内容。"
    await head.send_text("夜间火灾疏散，卧床老人转移")  # no longer what was practised
    assert await bot_stage.services.storage.calendar.drills_of(await institution_id(bot_stage, HOME)) == []
    assert "演练了哪些内容" not in head.last_message().text and "至少 1 张" not in head.last_message().text


async def test_a_drill_whose_draft_could_not_be_cleared_is_not_logged_twice(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """✅ 确认记录 logs the drill; its draft used to be deleted after that, on its own. When the database refused the
    delete, the head read that the step had failed, the button still worked, and a second press logged it twice."""
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await through_the_drill(head, "消防疏散演练", "今天（2026-03-10）", "35", "45", "夜间火灾疏散，卧床老人转移")
    await head.send_text("无")
    summary = head.last_message()
    confirm = summary.button_data[0][0]
    assert confirm is not None
    refuse_next_own_write(monkeypatch)
    await head.press_data(summary, confirm)
    await head.press_data(summary, confirm)  # told to try again, or tapped twice
    drills = await bot_stage.services.storage.calendar.drills_of(await institution_id(bot_stage, HOME))
    assert len(drills) == 1


async def test_problems_found_in_a_drill_become_self_check_hazards_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 7, 2))
    people = await cast(bot_stage, "en")
    head, staff = people.head, people.staff

    await head.send_text("/drill")
    await head.press("Typhoon / flood evacuation")
    await head.press("Yesterday (2026-07-01)")
    await head.send_text("20")
    await head.send_text("30")
    await head.send_text("Moving residents of the ground floor to the second floor")
    await head.send_photo()
    await head.send_photo()
    await head.press("Done")
    await head.send_text("1. The drain by the gate is blocked\n2) Two torches had flat batteries\n- Sign at the stairs")
    assert "3 problems received" in head.messages()[-2].text
    ask = head.last_message()
    assert "Problem 1 of 3: The drain by the gate is blocked" in ask.text
    assert ["✓ Flood and typhoon" in label for row in ask.buttons for label in row].count(True) == 1
    assert not any("Rights" in label for row in ask.buttons for label in row)  # a head never holds those
    await head.press("✓ Flood and typhoon")
    await head.press("Major")
    await head.press("Electricity")
    await head.press("✓ General")
    assert "Problem 3 of 3" in head.last_message().text
    await head.press("Record only, no hazard")

    summary = head.last_message().text
    assert "1. The drain by the gate is blocked → hazard (Flood and typhoon · Major)" in summary
    assert "2. Two torches had flat batteries → hazard (Electricity · General)" in summary
    assert "3. Sign at the stairs → recorded only" in summary
    await head.press("✅ Confirm")

    done = head.last_message().text
    assert "Drill logged: Typhoon / flood evacuation, 2026-07-01" in done
    assert "No fire drill yet in the second half of 2026" not in done  # a flood drill is not a fire drill
    assert done.count("Self-check hazard YH-") == 2
    hazards = await bot_stage.services.storage.hazards.open_for_institution(
        await institution_id(bot_stage, HOME), now=bot_stage.clock.now()
    )
    assert sorted((h.area, h.severity, h.source_level) for h in hazards) == [
        (HazardArea.ELECTRICITY, Severity.GENERAL, SourceLevel.SELF_CHECK),
        (HazardArea.FLOOD_TYPHOON, Severity.MAJOR, SourceLevel.SELF_CHECK),
    ]
    # The head found them and is responsible for them (bot.domain.targeting): the county's group hears of them;
    # the head is not told of their own report, and county staff, with someone responsible, are not asked to act.
    posts = " ".join(m.text for m in people.group.messages())
    assert all(h.code in posts for h in hazards)
    assert all(h.assignee_id == HEAD for h in hazards)
    assert not any("YH-" in m.text for m in staff.messages())
    assert not any("new safety hazard" in m.text.lower() for m in head.messages())


async def test_an_english_head_types_yesterday_just_after_midnight_and_the_citys_yesterday_is_logged(
    bot_stage: Stage,
) -> None:
    """At 00:30 on 2 July in the city (still 1 July in UTC) "yesterday" is 1 July; "tomorrow" is read, and refused
    as a day in the future."""
    bot_stage.clock.set(local(2026, 7, 2, 0, 30))
    people = await cast(bot_stage, "en")
    head = people.head

    await head.send_text("/drill")
    await head.press("Fire evacuation")
    assert "yesterday, Mar 5, 3/5 or 2026-03-05" in head.last_message().text  # the accepted forms, by example
    await head.send_text("tomorrow")
    assert "cannot be later than today" in head.last_message().text
    await head.send_text("last month")
    assert "yesterday, Mar 5, 3/5 (month/day) or 2026-03-05" in head.last_message().text
    await head.send_text("Yesterday")
    assert "how many people" in head.last_message().text.lower()
    await head.send_text("20")
    await head.send_text("30")
    await head.send_text("Evacuating the ground floor at night")
    await head.send_photo()
    await head.press("Done")
    await head.send_text("none")
    assert "2026-07-01" in head.last_message().text
    await head.press("✅ Confirm")
    assert "Drill logged: Fire evacuation, 2026-07-01" in head.last_message().text


async def test_a_typed_drill_date_is_said_back_with_its_year_and_can_be_entered_again(bot_stage: Stage) -> None:
    """On 10 September 12月5日 is last year's 5 December (a drill has been held): the next question begins with the
    date as read, says it is last year's, and ↩ goes back to the date."""
    bot_stage.clock.set(local(2026, 9, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.send_text("12月5日")
    asked = head.last_message()
    assert asked.text.startswith("演练日期：2025-12-05（去年）") and "参加人数" in asked.text
    assert asked.buttons == [["↩ 改日期", "取消"]]
    await head.press("↩ 改日期", asked)
    assert "第 2 步" in head.last_message().text
    await head.send_text("9月5日")
    assert head.last_message().text.startswith("演练日期：2026-09-05\n")
    await head.send_text("20")
    await head.send_text("30")
    await head.send_text("夜间火灾疏散")
    await head.send_photo()
    await head.press("完成")
    await head.send_text("无")
    assert "2026-09-05" in head.last_message().text and "2025-12-05" not in head.last_message().text


async def test_an_english_drill_date_by_month_name_is_said_back(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 9, 10))
    head = (await cast(bot_stage, "en")).head
    await head.send_text("/drill")
    await head.press("Fire evacuation")
    await head.send_text("Dec 5")
    asked = head.last_message()
    assert asked.text.startswith("Drill date: 2025-12-05 (last year)") and asked.buttons[0][0] == "↩ Change the date"
    await head.press("↩ Change the date", asked)
    await head.send_text("5 September")
    assert head.last_message().text.startswith("Drill date: 2026-09-05\n")


async def test_drills_shows_the_record_and_the_status_at_the_edges(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2025, 12, 15))
    people = await cast(bot_stage)
    head = people.head
    await head.send_text("/drills")
    record = head.last_message()
    assert "每半年至少开展一次消防演练" in record.text and "还没有演练记录" in record.text
    await _log_drill(bot_stage, date(2025, 12, 15))

    bot_stage.clock.set(local(2026, 5, 30))
    await head.send_text("/drills")
    record = head.last_message()
    assert "🟢 2026年上半年尚未开展消防演练，须在 2026-06-30 前开展" in record.text
    assert record.buttons == [["🔥 记录演练", "📋 开始本月自查"]]  # May's self-inspection is not done either

    bot_stage.clock.set(local(2026, 5, 31))  # 30 days before the half-year ends: due soon, counted inclusively
    await head.send_text("/drills")
    assert "⚠️ 即将到期：2026年上半年尚未开展消防演练，还剩 30 天" in head.last_message().text

    await _log_drill(bot_stage, date(2026, 6, 30))
    bot_stage.clock.set(local(2026, 6, 30, 23))
    await head.send_text("/drills")
    assert "✅ 合规：2026年上半年已于 2026-06-30 开展消防演练" in head.last_message().text
    assert "• 2026-06-30 消防疏散演练 · 30 人 · 40 分钟" in head.last_message().text

    bot_stage.clock.set(local(2026, 7, 1))  # the drill of 30 June counted for the first half only
    await head.send_text("/drills")
    assert "🟢 2026年下半年尚未开展消防演练，须在 2026-12-31 前开展" in head.last_message().text

    bot_stage.clock.set(local(2027, 1, 15))  # nothing in the second half: overdue
    await head.send_text("/drills")
    assert "⏰ 已逾期：2026年下半年未开展消防演练，已逾期 15 天" in head.last_message().text

    await head.press("🔥 记录演练")  # the record's button starts /drill
    assert "第 1 步" in head.last_message().text


async def test_county_staff_see_every_institution_in_scope_overdue_first_a_page_at_a_time(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 7, 20))
    people = await cast(bot_stage)
    city = bot_stage.sandbox.user(user_id=90, first_name="王局长")
    await bot_stage.register(city, Role.CITY)
    await _log_drill(bot_stage, date(2026, 7, 3))
    bot_stage.clock.set(local(2026, 7, 20))

    await people.staff.send_text("/drills")
    lucheng = people.staff.last_message()
    assert "共 2 家机构" in lucheng.text and "第 1/1 页" in lucheng.text
    # How many need chasing, said under the heading, before the pages of homes.
    lines = lucheng.text.split("\n")
    heading = next(n for n, line in enumerate(lines) if "消防演练与月度自查情况" in line)
    assert lines[heading + 1] == "⏰ 演练逾期 1 家 · 自查逾期 2 家"
    lines = lucheng.text.split("\n")
    assert lines.index("鹿城区南汇街道居家养老服务中心") < lines.index("鹿城区社会福利院")  # overdue first
    assert "⏰ 已逾期：2026年上半年未开展消防演练，已逾期 20 天" in lucheng.text
    assert "✅ 合规：2026年下半年已于 2026-07-03 开展消防演练" in lucheng.text
    await people.staff.press("鹿城区社会福利院")
    assert "演练记录" in people.staff.last_message().text and people.staff.last_message().buttons == []

    await city.send_text("/drills")
    first = city.last_message()
    assert "共 17 家机构" in first.text and "第 1/3 页" in first.text and first.buttons[-1] == ["下一页 ▶"]
    await city.press("下一页 ▶")
    assert "第 2/3 页" in first.text  # the same message, turned to the next page
    assert city.last_message().message_id == first.message_id

    other = await bot_stage.services.storage.institutions.get_by_code("WZ-330303-SOCIAL-01")
    assert other is not None
    forged = await people.staff.press_data(lucheng, f"drills:inst:{other.id}")
    assert forged.answer is not None and forged.answer.show_alert
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert refused[-1].detail["action"] == "drills.view"


async def test_a_cadre_cannot_log_drills_or_study_sessions(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await people.cadre.send_text("/drill")
    assert "由机构负责人记录" in people.cadre.last_message().text
    await people.cadre.send_text("/drills")
    assert "仅供机构负责人、县级民政和市局查看" in people.cadre.last_message().text
    await people.cadre.send_text("/study")
    assert "仅限县级民政工作人员和市局管理员" in people.cadre.last_message().text
    await people.head.send_text("/study")
    assert "仅限县级民政工作人员和市局管理员" in people.head.last_message().text
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["command"]) for e in refused] == [
        (people.cadre.id, "drill"), (people.cadre.id, "drills"), (people.cadre.id, "study"), (people.head.id, "study")
    ]


async def test_county_staff_log_a_drill_for_an_institution_in_their_county(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    people = await cast(bot_stage)
    staff = people.staff
    await staff.send_text("/drill")
    assert "哪个机构" in staff.last_message().text
    await staff.send_text("南汇")
    assert staff.last_message().buttons == [["鹿城区南汇街道居家养老服务中心"], ["取消"]]
    await staff.press("鹿城区南汇街道居家养老服务中心")
    await through_the_drill(staff, "疫情防控应急演练", "今天（2026-03-10）", "12", "25", "发热老人隔离转运")
    await staff.press("未发现问题")
    await staff.press("✅ 确认记录")
    text = staff.last_message().text
    assert "已记录演练：疫情防控应急演练，2026-03-10" in text
    assert "⏰ 已逾期：2025年下半年未开展消防演练" in text  # an epidemic drill does not count as the fire drill


async def test_staff_log_a_study_session_and_see_the_half_year_status(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 6, 5))
    people = await cast(bot_stage)
    staff = people.staff
    await staff.send_text("/study")
    intro = staff.last_message().text
    assert "鹿城区" in intro and "⏰ 已逾期：2025年下半年未开展安全理论学习，已逾期 156 天" in intro
    await staff.send_text("明天")
    assert "不能晚于今天" in staff.last_message().text  # read as a day, and refused as one
    await staff.send_text("上周")
    assert "昨天、3月5日 或 2026-03-05" in staff.last_message().text
    await staff.press("昨天（2026-06-04）")
    await staff.send_sticker()
    assert "文字回答" in staff.last_message().text
    await staff.send_text("学")
    assert "至少 2 个字" in staff.last_message().text and staff.last_message().buttons == [["取消"]]
    await staff.send_text("《2024年全市民政系统安全工作要点》专题学习")
    await staff.send_text("18人")
    done = staff.last_message().text
    topic = "《2024年全市民政系统安全工作要点》专题学习"
    assert f"已记录 鹿城区 的安全理论学习：2026-06-04，主题：{topic}，18 人参加" in done  # no second 《》 around it
    assert "✅ 合规：2026年上半年已于 2026-06-04 开展安全理论学习" in done
    sessions = await bot_stage.services.storage.calendar.studies_of(LUCHENG)
    assert [(s.held_on, s.participants) for s in sessions] == [(date(2026, 6, 4), 18)]


async def test_staff_give_up_a_study_session_with_the_cancel_under_a_refused_count(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 6, 5))
    staff = (await cast(bot_stage)).staff
    await staff.send_text("/study")
    await staff.press("昨天（2026-06-04）")
    await staff.send_text("《2024年全市民政系统安全工作要点》专题学习")
    await staff.send_text("0")
    refused = staff.last_message()
    assert "参加人数应为 1 到" in refused.text and refused.buttons == [["取消"]]
    await staff.press("取消", refused)
    assert staff.last_message().text == "已取消记录学习，未保存任何内容。"
    await staff.send_text("18")  # no longer the number of participants
    assert await bot_stage.services.storage.calendar.studies_of(LUCHENG) == []

async def test_a_city_admin_logs_the_bureaus_study_session_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 9, 1))
    city = bot_stage.sandbox.user(user_id=90, first_name="Wang", language_code="en")
    await bot_stage.register(city, Role.CITY)
    await city.send_text("/study")
    intro = city.last_message().text
    assert "Wenzhou" in intro and "Overdue: no safety study session was held in the first half of 2026" in intro
    await city.send_text("2026-08-28")
    await city.send_text("Fire safety for residential institutions")
    await city.send_text("many")
    assert "an exact number" in city.last_message().text
    await city.send_text("40")
    assert "logged: 2026-08-28, topic: Fire safety for residential institutions, 40 people" in city.last_message().text
    logged = city.last_message().text
    assert "Compliant: safety study session held on 2026-08-28 (counts for the second half of 2026)." in logged
    await city.send_text("/study")
    await city.send_text("/cancel")
    assert "nothing was saved" in city.last_message().text


async def _log_drill(stage: Stage, held_on: date) -> None:
    """The head's fire drill, logged through the service on the evening it was held: for the tests about what
    is shown afterwards. The clock is left at that evening."""
    head = await stage.services.storage.users.get(HEAD)
    assert head is not None
    stage.clock.set(local(held_on.year, held_on.month, held_on.day, 18))
    entry = DrillEntry(
        institution_id=await institution_id(stage, HOME),
        kind=DrillKind.FIRE,
        held_on=held_on,
        participants=30,
        duration_minutes=40,
        practised="消防疏散",
        photos=[telegram_photo(stage)],
    )
    await stage.services.drills.log(head, entry)


async def test_a_drill_with_the_longest_account_and_ten_long_problems_is_summed_up_in_one_message(
    bot_stage: Stage,
) -> None:
    """What was practised may take MAX_TEXT characters and the problems a whole message of their own: together in
    the summary they were past what Telegram accepts, and the head could not confirm the drill. The summary
    shortens long texts; the record keeps them whole."""
    bot_stage.clock.set(local(2026, 3, 10))
    people = await cast(bot_stage)
    head = people.head
    practised = ("夜间火灾疏散演练，卧床老人转移，灭火器使用，" * 100)[:MAX_TEXT]
    problems = [f"第{n}处：" + "楼梯间应急照明灯不亮，疏散指示标志被遮挡，" * 19 for n in range(1, 11)]
    assert len("\n".join(problems)) <= 4096  # one message the head can send

    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-10）")
    await head.send_text("35")
    await head.send_text("45")
    await head.send_text(practised)
    await head.send_photo()
    await head.press("完成")
    await head.send_text("\n".join(problems))
    for _ in problems:
        await head.press("仅记录，不登记隐患")

    summary = head.last_message()
    assert "请核对演练记录" in summary.text and "10. 第10处：" in summary.text and "→ 仅记录" in summary.text
    assert practised not in summary.text and practised[:100] in summary.text
    await head.press("✅ 确认记录")
    assert "已记录演练：消防疏散演练，2026-03-10" in head.last_message().text
    (drill,) = await bot_stage.services.storage.calendar.drills_of(await institution_id(bot_stage, HOME))
    assert drill.practised == practised  # the record keeps the whole text


async def test_a_day_button_logs_the_day_it_shows_even_when_pressed_after_midnight(bot_stage: Stage) -> None:
    """The date step offers 今天（2026-06-30）. Pressed a few minutes after midnight (or the next morning, the
    journey left open overnight), the drill was logged on 1 July: the first half-year, which the head had just
    covered, stayed missed. The buttons now carry the day they show."""
    bot_stage.clock.set(local(2026, 6, 30, 23, 55))
    people = await cast(bot_stage)
    head = people.head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    dates = head.last_message()
    assert dates.buttons[0] == ["今天（2026-06-30）", "昨天（2026-06-29）"]

    bot_stage.clock.set(local(2026, 7, 1, 0, 5))
    await head.press("今天（2026-06-30）", dates)
    await head.send_text("30")
    await head.send_text("40")
    await head.send_text("夜间火灾疏散")
    await head.send_photo()
    await head.press("完成")
    await head.send_text("无")
    assert "2026-06-30" in head.last_message().text
    await head.press("✅ 确认记录")
    assert "已记录演练：消防疏散演练，2026-06-30" in head.last_message().text
    drills = await bot_stage.services.storage.calendar.drills_of(await institution_id(bot_stage, HOME))
    assert [d.held_on for d in drills] == [date(2026, 6, 30)]

    staff = people.staff
    bot_stage.clock.set(local(2026, 12, 31, 23, 58))
    await staff.send_text("/study")
    offered = staff.last_message()
    bot_stage.clock.set(local(2027, 1, 1, 9))
    await staff.press("昨天（2026-12-30）", offered)
    await staff.send_text("消防安全专题学习")
    await staff.send_text("12")
    assert "2026-12-30" in staff.last_message().text
    sessions = await bot_stage.services.storage.calendar.studies_of(LUCHENG)
    assert [s.held_on for s in sessions] == [date(2026, 12, 30)]


async def test_a_forged_day_button_is_refused_like_a_typed_day(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    dates = head.last_message()
    await head.press_data(dates, "dr:day:2026-04-01")
    assert "不能晚于今天" in head.last_message().text
    assert head.last_message().buttons[0] == ["今天（2026-03-10）", "昨天（2026-03-09）"]
    await head.press_data(dates, "dr:day:2024-01-01")
    assert "早于一年前" in head.last_message().text
    drills = await bot_stage.services.storage.calendar.drills_of(await institution_id(bot_stage, HOME))
    assert drills == []


async def test_a_second_tap_on_an_earlier_problems_button_does_not_answer_the_next_problem(bot_stage: Stage) -> None:
    """Each problem is asked on a message of its own, and the earlier ones kept their buttons: a double tap on
    "仅记录" (a slow network) or a tap on problem 1's buttons while problem 2 was asked answered problem 2, which was
    then recorded only and never became a hazard, with nothing on screen to say so."""
    bot_stage.clock.set(local(2026, 3, 10))
    people = await cast(bot_stage)
    head = people.head

    await head.send_text("/drill")
    await through_the_drill(head, "消防疏散演练", "今天（2026-03-10）", "20", "30", "疏散演练")
    await head.send_text("1. 二楼灭火器过期\n2. 配电箱门锁损坏")
    first = head.last_message()
    assert "1/2" in first.text
    await head.press("仅记录，不登记隐患", first)
    second = head.last_message()
    assert second.message_id != first.message_id and "2/2" in second.text
    await head.press("仅记录，不登记隐患", first)  # the second tap of a double tap, on problem 1's message
    await head.press("用电", first)  # and one more on problem 1's buttons
    assert head.last_message().message_id == second.message_id  # problem 2 is still the one asked

    await head.press("用电", second)
    await head.press("✓ 一般")
    summary = head.last_message().text
    assert "1. 二楼灭火器过期 → 仅记录" in summary
    assert "2. 配电箱门锁损坏 → 登记隐患（用电 · 一般）" in summary


async def test_drills_shows_the_monthly_self_inspection_as_the_reminders_promise(bot_stage: Stage) -> None:
    """On the 1st a county official's reminder lists ten institutions overdue on last month's self-inspection and
    says "the rest: send /drills for drills and self-inspections"; /drills showed fire drills alone, so the rest
    were nowhere to be found. It shows where each institution stands on both duties now, the overdue first."""
    bot_stage.clock.set(local(2026, 7, 3))
    people = await cast(bot_stage)
    await _log_drill(bot_stage, date(2026, 7, 2))  # 鹿城区社会福利院 has its drill, but not June's self-inspection
    bot_stage.clock.set(local(2026, 7, 3))
    home = await bot_stage.services.storage.institutions.get(await institution_id(bot_stage, HOME))
    assert home is not None

    await people.head.send_text("/drills")
    record = people.head.last_message().text
    assert "✅ 合规：2026年下半年已于 2026-07-02 开展消防演练" in record
    assert "⏰ 已逾期：2026年6月未完成月度隐患自查，已逾期 3 天" in record

    await people.staff.send_text("/drills")
    page = people.staff.last_message().text
    lines = page.split("\n")
    at = lines.index("鹿城区社会福利院")
    assert lines[at + 1].startswith("✅ 合规：2026年下半年已于 2026-07-02 开展消防演练")
    # June can no longer be done (its sheet closed on 30 June); July's is what is owed now, and said so.
    assert lines[at + 2] == (
        "⏰ 已逾期：2026年6月未完成月度隐患自查，已逾期 3 天；2026年7月的自查请于 2026-07-31 前完成。"
    )
    assert "月度自查" in next(line for line in lines if line.startswith("🔥"))  # under the bureau's study line


async def test_a_problem_too_short_to_be_a_hazard_is_refused_as_it_is_listed_not_at_the_confirmation(
    bot_stage: Stage,
) -> None:
    """"楼道堆物" is four characters and a hazard's description needs five. The list was taken, the area and severity
    chosen for every problem, and only the Confirm press said "the description is too short" and sent the head
    back to type the whole list again, without saying which line."""
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head = people.head

    await head.send_text("/drill")
    await through_the_drill(head, "消防疏散演练", "今天（2026-03-12）", "12", "25", "夜间疏散演练")
    await head.send_text("1. 三楼楼梯间应急照明灯不亮\n2. 楼道堆物")
    told = head.last_message()
    assert "第 2 个问题“楼道堆物”" in told.text and "至少写 5 个字" in told.text
    assert told.buttons == [["未发现问题"], ["取消"]]  # still at the list: nothing asked about problem 1

    await head.send_text("1. 三楼楼梯间应急照明灯不亮\n2. 二楼楼道堆放杂物")
    await head.press("✓ 用火")
    await head.press("✓ 一般")
    await head.press("✓ 用火")
    await head.press("重大")
    await head.press("✅ 确认记录")
    assert "已记录演练：消防疏散演练，2026-03-12" in head.last_message().text
    hazards = await bot_stage.services.storage.hazards.open_for_institution(
        await institution_id(bot_stage, HOME), now=bot_stage.clock.now()
    )
    assert sorted(h.description for h in hazards) == ["三楼楼梯间应急照明灯不亮", "二楼楼道堆放杂物"]


async def test_english_heads_read_one_day_and_one_problem_in_the_singular(bot_stage: Stage) -> None:
    """English said "1 day(s) left", "1 day(s) overdue" and "1 problem(s) received"."""
    bot_stage.clock.set(local(2025, 12, 15))
    people = await cast(bot_stage, "en")
    head = people.head
    await _log_drill(bot_stage, date(2025, 12, 15))

    bot_stage.clock.set(local(2026, 6, 29))
    await head.send_text("/drills")
    assert "no fire drill yet in the first half of 2026; 1 day left (until 2026-06-30)" in head.last_message().text
    bot_stage.clock.set(local(2026, 6, 1))
    await head.send_text("/drills")
    assert "; 29 days left (until 2026-06-30)" in head.last_message().text

    bot_stage.clock.set(local(2027, 1, 1))
    await head.send_text("/drills")
    assert "no fire drill was held in the second half of 2026; 1 day overdue." in head.last_message().text
    assert "(s)" not in head.last_message().text

    await head.send_text("/drill")
    await head.press("Fire evacuation")
    await head.press("Today (2027-01-01)")
    await head.send_text("20")
    await head.send_text("30")
    await head.send_text("Night-time evacuation of the ground floor")
    await head.send_photo()
    await head.press("Done")
    await head.send_text("The fire door on the second floor sticks")
    assert "1 problem received; now choose" in head.messages()[-2].text


async def test_a_problem_too_long_to_be_a_hazard_is_named_with_the_limit(bot_stage: Stage) -> None:
    """A problem line past what a hazard's description may hold got the generic "list them one per line" hint,
    though the list was one per line: the head could not tell what was wrong, nor with which line."""
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head = people.head

    await head.send_text("/drill")
    await through_the_drill(head, "消防疏散演练", "今天（2026-03-12）", "12", "25", "夜间疏散演练")
    long_line = "二楼楼道堆放杂物，" + "疏散通道" * (MAX_TEXT // 4)
    await head.send_text(f"1. 三楼楼梯间应急照明灯不亮\n2. {long_line}")
    told = head.last_message()
    assert "第 2 个问题“二楼楼道堆放杂物" in told.text and f"最多 {MAX_TEXT} 个字" in told.text
    assert f"（这一条 {len(long_line)} 个字）" in told.text
    assert told.buttons == [["未发现问题"], ["取消"]]  # still at the list

    await head.send_text("1. 三楼楼梯间应急照明灯不亮\n2. 二楼楼道堆放杂物")
    assert "收到 2 个问题" in head.messages()[-2].text


async def test_a_drill_typed_as_a_month_and_day_in_early_january_is_last_years(bot_stage: Stage) -> None:
    """A drill has been held: "12月28日" typed on 5 January is the December just past (a deadline's "12月28日" would
    be the one ahead), and is logged, not refused as a day in the future."""
    bot_stage.clock.set(local(2026, 1, 5))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.send_text("12月28日")
    assert "参加人数" in head.last_message().text
    await head.send_text("30")
    await head.send_text("40")
    await head.send_text("夜间火灾疏散")
    await head.send_photo()
    await head.press("完成")
    await head.send_text("无")
    assert "2025-12-28" in head.last_message().text


async def test_a_study_date_that_does_not_exist_is_named_and_the_date_read_is_said_back(bot_stage: Stage) -> None:
    """9月31日 is told as a day September lacks, not as no date; a weekday is read as the latest one, said back
    before the topic with ↩ to the date (2026-09-10 is a Thursday)."""
    bot_stage.clock.set(local(2026, 9, 10))
    staff = (await cast(bot_stage)).staff
    await staff.send_text("/study")
    await staff.send_text("9月31日")
    refused = staff.last_message()
    assert refused.text.startswith("9月没有31日") and refused.buttons[-1] == ["取消"]
    await staff.send_text("上周五")
    asked = staff.last_message()
    assert asked.text.startswith("学习日期：2026-09-04\n") and "学习主题" in asked.text
    assert asked.buttons == [["↩ 改日期", "取消"]]
    await staff.press("↩ 改日期", asked)
    assert "学习日期？" in staff.last_message().text
    await staff.send_text("12月5日")
    assert staff.last_message().text.startswith("学习日期：2025-12-05（去年）")


async def test_an_english_study_date_that_does_not_exist_is_named(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 9, 10))
    city = bot_stage.sandbox.user(user_id=90, first_name="Wang", language_code="en")
    await bot_stage.register(city, Role.CITY)
    await city.send_text("/study")
    await city.send_text("Sep 31")
    assert city.last_message().text.startswith("September has no day 31.")
    await city.send_text("friday")
    assert city.last_message().text.startswith("Study date: 2026-09-04\n")


async def test_tasks_count_a_home_late_with_its_self_inspection_though_its_drill_was_held(bot_stage: Stage) -> None:
    """A clerk's empty /tasks counts the homes late with a drill or a monthly self-inspection: a home that held its
    drill yesterday but missed June's self-inspection is late all the same (counted only when late with both, it
    dropped out of the count)."""
    bot_stage.clock.set(local(2026, 7, 20))
    people = await cast(bot_stage)
    await _log_drill(bot_stage, date(2026, 7, 19))
    bot_stage.clock.set(local(2026, 7, 20, 10))
    await people.head.send_text("/tasks")
    told = people.head.last_message()
    assert "消防演练" not in told.text and "2026年6月未完成月度隐患自查" in told.text
    await people.staff.send_text("/tasks")
    assert "另有 2 家机构消防演练或月度自查已逾期，发送 /drills 查看" in people.staff.last_message().text


async def test_tasks_name_a_heads_drill_due_soon_with_its_button(bot_stage: Stage) -> None:
    """With no hazard to act on, a head's /tasks names their duties late or due soon: the half-year's drill due by
    30 June is said on 5 June, with 🔥 记录演练, beside the self-inspection already late."""
    bot_stage.clock.set(local(2025, 12, 10))
    people = await cast(bot_stage)
    await _log_drill(bot_stage, date(2025, 12, 10))  # the last half-year's drill, held
    bot_stage.clock.set(local(2026, 6, 5, 10))
    await people.head.send_text("/tasks")
    told = people.head.last_message()
    assert "🎉" not in told.text
    assert "⚠️ 即将到期：2026年上半年尚未开展消防演练，还剩 25 天（2026-06-30 截止）" in told.text
    assert told.buttons == [["🔥 记录演练", "📋 开始本月自查"]]


async def test_tasks_with_no_hazard_name_the_duties_that_are_late_rather_than_celebrate(bot_stage: Stage) -> None:
    """An empty /tasks said "🎉 nothing waiting for you" to a head whose drill and self-inspection were overdue, and to
    a clerk whose homes' were: it now says what is late, with the head's buttons that start each."""
    bot_stage.clock.set(local(2026, 7, 20))
    people = await cast(bot_stage)

    await people.head.send_text("/tasks")
    told = people.head.last_message()
    assert "🎉" not in told.text and told.text.startswith("目前没有需要您整改的隐患。")
    assert "⏰ 已逾期：2026年上半年未开展消防演练，已逾期 20 天" in told.text
    assert "2026年6月未完成月度隐患自查" in told.text
    assert told.buttons == [["🔥 记录演练", "📋 开始本月自查"]]
    await people.head.press("🔥 记录演练", told)
    assert "第 1 步" in people.head.last_message().text

    await people.staff.send_text("/tasks")
    told = people.staff.last_message()
    assert "🎉" not in told.text and "另有 2 家机构消防演练或月度自查已逾期，发送 /drills 查看" in told.text
