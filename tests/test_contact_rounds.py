"""Contact rounds for vulnerable people, from the cadre's phone: one list that edits itself, calls for help that
reach county staff at once, a summary when the round is done, escalation when it is not."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.views import BotMessage
from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers.contact_followup import close_lists
from storage.repositories.contact_followups import ContactFollowUpRepository
from storage.warning_models import ContactStatus, NewVulnerablePerson, VulnerableCategory
from tests.test_city_wide_warnings import warn_the_whole_city
from tests.warning_people import START, containing, drain, enrol, register_vulnerable, send_typhoon


async def test_a_red_warning_starts_a_round_worked_through_on_one_message(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    await send_typhoon(typhoon_stage, cast)
    staff, cadre = cast.dongtou_staff, cast.cadre
    assert "已启动特殊群体联络：4 人，名单已发给 1 名干部" in containing(staff, "已发送台风红色预警")[0].text

    (sheet,) = containing(cadre, "📋 特殊群体联络")
    assert "因台风红色预警启动" in sheet.text and "已完成 0 / 3" in sheet.text
    assert "请联系 DT-0001（孤寡老人）" in sheet.text
    assert sheet.buttons[:2] == [["✅ 已联系·安全"], ["🆘 需要帮助", "📵 联系不上"]]
    assert "DT-0004" not in sheet.text and "身份证" not in sheet.text
    (unassigned,) = containing(staff, "特殊群体联络（第")
    assert "DT-0004" in unassigned.text

    await cadre.press("✅ 已联系·安全", message=sheet)
    await cadre.press("🆘 需要帮助", message=sheet)
    sheets = containing(cadre, "📋 特殊群体联络")
    assert len(sheets) == 1 and sheets[0].edited  # still one message
    assert "✅ DT-0001" in sheets[0].text and "🆘 DT-0002" in sheets[0].text and "请联系 DT-0003" in sheets[0].text
    await drain(typhoon_stage)
    (alert,) = containing(staff, "特殊群体需要帮助")
    assert "DT-0002（留守儿童）" in alert.text and "洞头区" in alert.text

    edits = len(typhoon_stage.sandbox.calls_to("editMessageText"))
    await cadre.press_data(sheet, "cr:1:3:focus")  # DT-0003 is already in focus: nothing changes, no edit
    assert len(typhoon_stage.sandbox.calls_to("editMessageText")) == edits
    await cadre.press("📵 联系不上", message=sheet)
    await cadre.press("✅ DT-0001", message=sheet)  # back to correct an answer
    assert "请联系 DT-0001" in containing(cadre, "📋 特殊群体联络")[0].text
    await cadre.press("✅ 已联系·安全", message=sheet)  # the same answer again: no change, no edit
    assert "您名单上的人员已全部联系完毕" in containing(cadre, "📋 特殊群体联络")[0].text

    await staff.press("✅ 已联系·安全", message=unassigned)  # staff reach the one nobody was assigned
    await drain(typhoon_stage)
    (summary,) = containing(staff, "特殊群体联络小结")
    assert "共 4 人，安全 2，需要帮助 1，联系不上 1，未联系 0" in summary.text
    assert "需要帮助：DT-0002" in summary.text and "联系不上：DT-0003" in summary.text
    entries = await typhoon_stage.services.storage.contacts.entries(1)
    assert [e.status for e in entries] == [ContactStatus.SAFE, ContactStatus.NEED_HELP, ContactStatus.UNREACHABLE,
                                           ContactStatus.SAFE]
    await cadre.press("🆘 DT-0002", message=sheet)  # the round has closed: the list says so, buttons gone
    closed = containing(cadre, "📋 特殊群体联络")[0]
    assert "本轮联络已结束" in closed.text and closed.buttons == []
    await cadre.press_data(sheet, "cr:1:2:safe")
    assert "这轮联络已经结束" in (cadre.answers()[-1].text or "")
    # Too late, not forbidden: the cadre's press is no refused authorisation, and the audit says none.
    assert await typhoon_stage.services.storage.audit.list(action_prefix="authz.refused") == []


async def test_staff_start_a_round_by_hand_and_the_silent_are_escalated(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage, language="en")
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff, cadre = cast.dongtou_staff, cast.cadre
    await cast.head_1.send_text("/contactround")
    assert "Only county" in cast.head_1.last_message().text or "只有" in cast.head_1.last_message().text
    await staff.send_text("/contactround")
    assert staff.last_message().buttons == [["Dongtou District"]]  # their own county only
    await staff.press("Dongtou District")
    assert "Contact round no. 1 started. People to contact: 4; cadres sent their lists: 1;" in staff.last_message().text
    await drain(typhoon_stage)
    (sheet,) = containing(cadre, "Contact round")
    assert "Started by civil-affairs staff" in sheet.text
    assert "Contact DT-0001 (elderly person living alone)" in sheet.text
    await cadre.press("✅ Reached · safe", message=sheet)
    # A cadre of another county cannot answer for this list.
    await cast.lucheng_cadre.press_data(cast.lucheng_cadre.last_message(), "cr:1:2:safe")
    assert "not on your contact list" in (cast.lucheng_cadre.answers()[-1].text or "")
    refused = await typhoon_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [event.actor_id for event in refused] == [cast.head_1.id, cast.lucheng_cadre.id]

    assert (await follow_up(typhoon_stage.services)).rounds_escalated == 0
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=5))
    assert (await follow_up(typhoon_stage.services)).rounds_escalated == 1
    assert (await follow_up(typhoon_stage.services)).rounds_escalated == 0  # once
    await drain(typhoon_stage)
    (overdue,) = containing(staff, "Contact round overdue")
    assert "still not contacted" in overdue.text and "DT-0002" in overdue.text
    typhoon_stage.clock.advance(timedelta(hours=22))
    assert (await follow_up(typhoon_stage.services)).rounds_closed == 1
    await drain(typhoon_stage)
    assert len(containing(staff, "Contact round summary")) == 1
    await cadre.press("✅ Reached · safe", message=sheet)
    assert "has been closed" in (cadre.answers()[-1].text or "")


async def test_a_county_of_hundreds_of_vulnerable_people_gets_lists_and_summaries_telegram_accepts(
    typhoon_stage: Stage,
) -> None:
    """A county registers its whole 低保 roll: one cadre keeps in touch with three hundred people, and two hundred
    more have no cadre yet. A line for each in one list, or every code in the escalation and the summary, would be
    past what one Telegram message holds, and Telegram would refuse them. Each lists the next people to reach and
    counts the rest."""
    cast = await enrol(typhoon_stage)
    staff, cadre = cast.dongtou_staff, cast.cadre
    contacts = typhoon_stage.services.storage.contacts
    for n in range(500):
        keeper = cadre.id if n < 300 else None
        person = NewVulnerablePerson(code=f"DT-{n:04}", category=VulnerableCategory.DIBAO,
                                     region_code="330305001001", cadre_id=keeper)
        await contacts.upsert_person(person, START)
    await staff.send_text("/contactround")
    await staff.press("洞头区")
    assert "已启动第 1 轮联络：500 人" in staff.last_message().text
    await drain(typhoon_stage)

    (sheet,) = containing(cadre, "📋 特殊群体联络")
    assert "已完成 0 / 300" in sheet.text
    assert "请联系 DT-0000（低保对象）" in sheet.text
    listed = [n for n in range(500) if f"DT-{n:04} 低保对象" in sheet.text]
    assert listed == list(range(len(listed))) and 0 < len(listed) < 300
    assert f"另有 {300 - len(listed)} 人未列出" in sheet.text
    await cadre.press("✅ 已联系·安全", message=sheet)
    sheet = containing(cadre, "📋 特殊群体联络")[0]
    assert "已完成 1 / 300" in sheet.text and "请联系 DT-0001（低保对象）" in sheet.text
    assert "✅ DT-0000 低保对象" in sheet.text  # the person just answered stays in view, to correct
    assert ["✅ DT-0000", "⏳ DT-0002", "⏳ DT-0003"] in sheet.buttons  # a button for each listed, no more
    assert sum(len(row) for row in sheet.buttons) == 3 + len(listed) - 1
    (unassigned,) = containing(staff, "特殊群体联络（第")
    assert "已完成 0 / 200" in unassigned.text and "请联系 DT-0300（低保对象）" in unassigned.text

    typhoon_stage.clock.advance(timedelta(hours=2, minutes=5))
    assert (await follow_up(typhoon_stage.services)).rounds_escalated == 1
    await drain(typhoon_stage)
    (overdue,) = containing(staff, "特殊群体联络超时")
    assert "仍未联系 499" in overdue.text and "DT-0001" in overdue.text and "DT-0499" not in overdue.text
    assert "另有 469 人未列出（每人都在其联络干部的联络名单中" in overdue.text  # where the rest are
    typhoon_stage.clock.advance(timedelta(hours=22))
    assert (await follow_up(typhoon_stage.services)).rounds_closed == 1
    await drain(typhoon_stage)
    (summary,) = containing(staff, "特殊群体联络小结")
    assert "共 500 人，安全 1" in summary.text and "未联系 499" in summary.text
    assert "DT-0499" not in summary.text and "另有 469 人" in summary.text


async def test_starting_a_round_twice_sends_each_cadre_one_list(typhoon_stage: Stage) -> None:
    """A second press of the county's button (a double tap, or a colleague a few minutes later) started a second
    round while the first was still open: each cadre got a second list of the same people to work through, and
    staff two sets of summaries. Staff are told the round already under way instead."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff, cadre = cast.dongtou_staff, cast.cadre
    await staff.send_text("/contactround")
    picker = staff.last_message()
    (data,) = picker.button_data[0]
    assert data is not None
    await staff.press_data(picker, data)
    await drain(typhoon_stage)
    await cast.admin.send_text("/contactround")
    await cast.admin.press("洞头区")
    assert "第 1 轮联络正在进行" in cast.admin.last_message().text
    await staff.press_data(picker, data)
    await drain(typhoon_stage)
    assert len(containing(cadre, "📋 特殊群体联络")) == 1
    assert len(containing(staff, "特殊群体联络（第")) == 1
    assert len(await ContactFollowUpRepository(typhoon_stage.services.storage.db).open_rounds()) == 1


async def test_a_round_started_by_hand_where_nobody_is_registered_is_not_left_open(typhoon_stage: Stage) -> None:
    """A round with nobody to reach stayed open for a day, then sent staff a summary of nobody."""
    cast = await enrol(typhoon_stage)
    staff = cast.lucheng_staff
    await staff.send_text("/contactround")
    await staff.press("鹿城区")
    assert "没有需要联系的人员" in staff.last_message().text
    assert await ContactFollowUpRepository(typhoon_stage.services.storage.db).open_rounds() == []
    typhoon_stage.clock.advance(timedelta(hours=25))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    assert containing(staff, "特殊群体联络小结") == []


async def test_each_county_numbers_its_own_rounds(typhoon_stage: Stage) -> None:
    """A city-wide orange warning starts a round in each county: 洞头区's first round read "第 2 轮" (or later), as
    the number was the round's place among the whole city's. A county's rounds are numbered among its own."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    rounds = await typhoon_stage.services.storage.db.fetchall("SELECT id, region_code FROM contact_rounds")
    assert len(rounds) > 1 and min(r["id"] for r in rounds if r["region_code"] == "330305") > 1
    (sheet,) = containing(cast.cadre, "📋 特殊群体联络")
    assert "特殊群体联络（第 1 轮 · 洞头区）" in sheet.text
    (unassigned,) = containing(cast.dongtou_staff, "特殊群体联络（第")
    assert "（第 1 轮 · 洞头区）" in unassigned.text


async def test_a_second_warning_over_a_county_with_an_open_round_continues_it(typhoon_stage: Stage) -> None:
    """洞头区's staff sent an orange warning, and the city's warning over the whole city followed half an hour later:
    the second started a second round for the same people, so the cadre had two live lists, answers in one did not
    count in the other, and staff got two escalations and two summaries that disagreed. The open round goes on under
    the newer warning; staff are told so, and nothing reaches the cadre twice."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff, cadre = cast.dongtou_staff, cast.cadre
    await send_typhoon(typhoon_stage, cast, "橙色")
    (sheet,) = containing(cadre, "📋 特殊群体联络")
    await cadre.press("✅ 已联系·安全", message=sheet)  # DT-0001

    typhoon_stage.clock.advance(timedelta(minutes=30))
    await warn_the_whole_city(cast)
    assert containing(cast.admin, "已在进行的特殊群体联络并入本预警继续（4 人），名单不重复发送")
    await drain(typhoon_stage)
    assert len(containing(cadre, "📋 特殊群体联络")) == 1  # no second list
    assert len(containing(staff, "已完成 0 / 1")) == 1  # nor a second list of the unassigned
    (joined,) = containing(staff, "仍在进行，现按高温橙色预警继续")
    assert "第 1 轮 · 洞头区" in joined.text and "已完成 1 / 4" in joined.text
    rounds = await ContactFollowUpRepository(typhoon_stage.services.storage.db).open_rounds()
    assert [r.region_code for r in rounds] == ["330305"]

    await cadre.press("🆘 需要帮助", message=sheet)  # DT-0002, in the one round
    sheet = containing(cadre, "📋 特殊群体联络")[0]
    assert "现按高温橙色预警继续" in sheet.text and "已完成 2 / 3" in sheet.text
    typhoon_stage.clock.advance(timedelta(hours=2))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (overdue,) = containing(staff, "特殊群体联络超时")  # one round, one escalation, agreeing with the list
    assert "安全 1，需要帮助 1" in overdue.text and "仍未联系 2" in overdue.text


async def test_a_round_lasts_while_its_warning_is_in_force_and_the_cadre_hears_before_and_when_it_ends(
    typhoon_stage: Stage,
) -> None:
    """Under a 48-hour warning the round closed after 24 hours with people never reached, while the warning was still
    in force; the cadre was never reminded nor told, and his list kept live buttons whose press said only that the
    round had ended. The round lasts as long as its warning; the cadre is reminded of the people still pending
    (before staff are told, and near the end), told when it ends who goes to staff, and the list loses its buttons."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff, cadre = cast.dongtou_staff, cast.cadre
    await send_typhoon(typhoon_stage, cast, "橙色", "48 小时")
    (sheet,) = containing(cadre, "📋 特殊群体联络")
    await cadre.press("✅ 已联系·安全", message=sheet)  # DT-0001

    typhoon_stage.clock.advance(timedelta(hours=1, minutes=5))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (reminder,) = containing(cadre, "⏰ 特殊群体联络")
    assert "还有 2 人未联系：DT-0002、DT-0003" in reminder.text
    assert containing(staff, "特殊群体联络超时") == []  # the cadre first

    typhoon_stage.clock.advance(timedelta(hours=24))  # past the day a round used to last
    assert (await follow_up(typhoon_stage.services)).rounds_closed == 0
    await drain(typhoon_stage)
    assert len(containing(staff, "特殊群体联络超时")) == 1 and containing(staff, "特殊群体联络小结") == []
    await cadre.press("✅ 已联系·安全", message=sheet)  # DT-0002, a day on: still recorded
    assert "已完成 2 / 3" in containing(cadre, "📋 特殊群体联络")[0].text

    typhoon_stage.clock.advance(timedelta(hours=21))  # within two hours of the warning's end
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (closing,) = containing(cadre, "随预警结束")
    assert "还有 1 人未联系：DT-0003" in closing.text

    typhoon_stage.clock.advance(timedelta(hours=2))  # the warning has ended
    assert (await follow_up(typhoon_stage.services)).rounds_closed == 1
    await drain(typhoon_stage)
    (summary,) = containing(staff, "特殊群体联络小结")
    assert "安全 2" in summary.text and "未联系：DT-0003" in summary.text
    (ended,) = containing(cadre, "已结束。您名单上仍未联系的 1 人：DT-0003")
    assert "交县级民政部门跟进" in ended.text
    assert await close_lists(typhoon_stage.application.bot, typhoon_stage.services) == 2  # the cadre's, the staff's
    assert await close_lists(typhoon_stage.application.bot, typhoon_stage.services) == 0  # once
    closed = containing(cadre, "📋 特殊群体联络（第")[0]
    assert "本轮联络已结束，仍未联系的人员已交县级民政部门跟进" in closed.text and closed.buttons == []
    await cadre.press_data(sheet, "cr:1:3:safe")  # a stale press: who follows up now
    assert "已交县级民政部门跟进" in (cadre.answers()[-1].text or "")


async def test_a_cadres_call_for_a_vulnerable_person_names_the_cadre_and_is_taken_like_any_call(
    typhoon_stage: Stage,
) -> None:
    """The staff's alert for a cadre's 🆘 named only a pseudonymous code: nobody knew whom to call, nobody could take
    it, it was never repeated and never resolved. It names the cadre (a tap opens a chat with them), has ✋ 我来处理
    as a head's call has, is paged again while nobody takes it, and the cadre hears who took it."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff, cadre = cast.dongtou_staff, cast.cadre
    await send_typhoon(typhoon_stage, cast)
    (sheet,) = containing(cadre, "📋 特殊群体联络")
    await cadre.press("🆘 需要帮助", message=sheet)  # DT-0001
    await drain(typhoon_stage)
    (alert,) = containing(staff, "特殊群体需要帮助")
    assert "DT-0001（孤寡老人）" in alert.text and "由干部 黄 干部 报告" in alert.text
    assert f'<a href="tg://user?id={cadre.id}">黄 干部</a>' in (alert.html or "")  # a tap opens a chat
    assert alert.buttons == [["✋ 我来处理"]]

    await cadre.press("✅ 已联系·安全", message=sheet)  # a mistaken tap corrected, then 🆘 again: nobody woken twice
    await cadre.press("🆘 DT-0001", message=sheet)
    await cadre.press("🆘 需要帮助", message=sheet)
    await drain(typhoon_stage)
    assert len(containing(staff, "特殊群体需要帮助")) == 1

    typhoon_stage.clock.advance(timedelta(minutes=31))
    assert (await follow_up(typhoon_stage.services)).help_repaged == 1
    await drain(typhoon_stage)
    (page,) = containing(staff, "求助尚无人接手")
    assert "黄 干部" in page.text and "特殊群体 DT-0001（孤寡老人）" in page.text

    await staff.press("✋ 我来处理", message=page)
    await drain(typhoon_stage)
    assert "✋ 林 科长 处理中" in containing(staff, "特殊群体需要帮助")[0].text
    assert containing(staff, "特殊群体需要帮助")[0].buttons == []  # the first alert lost its button too
    (taken,) = containing(cadre, "您报告的 DT-0001 需要帮助，已有专人处理")
    assert "林 科长" in taken.text
    # The cadre's own warning message says nothing of it: the call was not for them.
    assert not [m for m in containing(cadre, "台风红色预警") if "处理中" in m.text]
    await staff.press("✅ 已解决", message=page)
    await drain(typhoon_stage)
    assert containing(cadre, "已将 DT-0001 的求助标记为已解决")


async def test_a_person_marked_safe_by_mistake_and_back_to_needing_help_is_one_call(typhoon_stage: Stage) -> None:
    """🆘 for DT-0001, then ✅ on DT-0001 by mistake, then 🆘 for DT-0001 again while the first call is open: one call,
    one alert to staff (the other test's ✅ fell on DT-0002, the person the list had moved on to)."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff, cadre = cast.dongtou_staff, cast.cadre
    await send_typhoon(typhoon_stage, cast)

    def sheet() -> BotMessage:
        return containing(cadre, "📋 特殊群体联络")[0]

    await cadre.press("🆘 需要帮助", message=sheet())  # DT-0001
    await cadre.press("🆘 DT-0001", message=sheet())
    await cadre.press("✅ 已联系·安全", message=sheet())
    assert "✅ DT-0001 孤寡老人" in sheet().text
    await cadre.press("✅ DT-0001", message=sheet())
    await cadre.press("🆘 需要帮助", message=sheet())
    assert "🆘 DT-0001 孤寡老人" in sheet().text
    await drain(typhoon_stage)
    assert len(containing(staff, "特殊群体需要帮助")) == 1
    calls = await typhoon_stage.services.storage.db.fetchall("SELECT id FROM warning_help_requests")
    assert len(calls) == 1


async def test_a_round_ends_with_its_orange_warning_though_a_yellow_one_is_still_in_force(typhoon_stage: Stage) -> None:
    """A round goes on under another orange or red warning over the county, never a yellow one, which starts none."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    await send_typhoon(typhoon_stage, cast, "橙色", "6 小时")
    assert containing(cast.cadre, "📋 特殊群体联络")
    typhoon_stage.clock.advance(timedelta(minutes=10))
    await send_typhoon(typhoon_stage, cast, "黄色", "48 小时")

    typhoon_stage.clock.advance(timedelta(hours=6))  # the orange has ended, the yellow has not
    assert (await follow_up(typhoon_stage.services)).rounds_closed == 1
    assert await ContactFollowUpRepository(typhoon_stage.services.storage.db).open_rounds() == []


async def test_an_answer_pressed_again_after_the_round_ended_says_who_follows_up(typhoon_stage: Stage) -> None:
    """A stale press of the answer already given (✅ for DT-0001, safe) on a round that has ended is not "recorded":
    like any other press it says the round is over and who follows up now."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    cadre = cast.cadre
    await send_typhoon(typhoon_stage, cast, "橙色", "6 小时")
    (sheet,) = containing(cadre, "📋 特殊群体联络")
    await cadre.press("✅ 已联系·安全", message=sheet)  # DT-0001
    typhoon_stage.clock.advance(timedelta(hours=6, minutes=1))
    assert (await follow_up(typhoon_stage.services)).rounds_closed == 1
    await drain(typhoon_stage)

    await cadre.press_data(sheet, "cr:1:1:safe")
    assert "已交县级民政部门跟进" in (cadre.answers()[-1].text or "")
