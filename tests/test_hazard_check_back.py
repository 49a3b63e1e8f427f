"""The check-back (回访): CHECK_BACK_DAYS after a hazard is closed its reporter is asked, once, whether the problem is
still solved; "✅ still solved" is thanked and recorded, "⚠️ it came back" reaches the official who closed it (who may
reopen it from that notice) and the home's head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.stage import Stage
from storage.check_back_models import CheckBackState
from storage.hazard_models import Hazard
from tests.hazard_people import (
    HEAD,
    LONGWAN,
    LUCHENG,
    OTHER_STAFF,
    STAFF,
    Cast,
    act,
    cast,
    hazard_now,
    report,
    submitted,
)

# 10:00 in Wenzhou: a check-back 30 days on falls outside quiet hours.
MORNING = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
QUESTION = "回访：隐患"


async def closed(stage: Stage, reporter_id: int | None = None) -> Hazard:
    hazard = await report(stage) if reporter_id is None else await report(stage, reporter_id)
    hazard = await submitted(stage, hazard)
    return (await act(stage, STAFF, hazard, HazardAction.ACCEPT)).hazard


async def asked(stage: Stage, after: timedelta) -> int:
    stage.clock.advance(after)
    count = await stage.services.check_backs.ask_due()
    await stage.sandbox.settle()
    return count


def questions(people: Cast) -> int:
    return sum(QUESTION in message.text for message in people.cadre.messages())


async def test_the_reporter_is_asked_once_on_day_30_and_still_solved_is_thanked_and_recorded(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    cadre, staff = people.cadre, people.staff
    hazard = await closed(bot_stage)

    assert await asked(bot_stage, timedelta(days=29, hours=23)) == 0
    assert questions(people) == 0
    assert await asked(bot_stage, timedelta(hours=1)) == 1
    question = cadre.last_message()
    assert f"回访：隐患 {hazard.code}" in question.text and "消防通道被杂物堵塞" in question.text
    assert "验收销号" in question.text and "是否仍已解决" in question.text
    assert question.buttons == [["✅ 仍已解决"], ["⚠️ 问题又出现了"], ["详情"]]

    # Once: not again a minute later, nor after a restart.
    assert await asked(bot_stage, timedelta(minutes=1)) == 0
    await bot_stage.restart()
    assert await asked(bot_stage, timedelta(minutes=1)) == 0
    assert questions(people) == 1

    await cadre.press("✅ 仍已解决", question)
    assert "问题仍已解决" in question.text and "感谢" in question.text
    assert question.buttons == []
    again = await cadre.press_data(question, f"chk:holds:{(await rows(bot_stage, hazard))[0].id}")
    assert again.answer is not None and again.answer.show_alert
    assert again.answer.text == f"隐患 {hazard.code} 的回访已经回答过了：仍已解决。"

    seen = len(staff.messages())
    await staff.send_text(f"/hazard {hazard.code}")
    history = "\n".join(message.text for message in staff.messages()[seen:])
    assert "回访：仍已解决" in history
    audit = await bot_stage.services.storage.audit.list(action_prefix="hazard.check_back_answered")
    assert [(entry.actor_id, entry.detail["answer"]) for entry in audit] == [(people.cadre.id, "holds")]


async def test_it_came_back_tells_the_official_who_closed_it_who_may_reopen_and_the_reporter_may_add_a_comment(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    cadre, staff = people.cadre, people.staff
    hazard = await closed(bot_stage)
    await asked(bot_stage, timedelta(days=30))
    question = cadre.last_message()

    await cadre.press("⚠️ 问题又出现了", question)
    assert "问题又出现了" in question.text and "已告知 周科长" in question.text
    assert question.buttons == [["💬 留言"], ["详情"]]
    told = staff.last_message()
    assert f"回访：隐患 {hazard.code} 的问题又出现了" in told.text and "李娜" in told.text
    assert "必要时点「🔁 重新打开」" in told.text
    assert told.buttons == [["详情", "🔁 重新打开"]]

    # The reporter says what they saw, through the comment journey; the official reads it.
    await cadre.press("💬 留言", question)
    await cadre.send_text("消防通道又堆满了纸箱")
    assert "消防通道又堆满了纸箱" in staff.last_message().text

    seen = len(staff.messages())
    await staff.press("详情", told)
    assert "回访：问题又出现" in "\n".join(m.text for m in staff.messages()[seen:])
    assert ["重新打开"] in staff.last_message().buttons


async def test_a_closer_whose_access_ended_is_replaced_by_the_county_staff_covering_it(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage, "en")
    hazard = await closed(bot_stage)
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    await bot_stage.services.storage.users.set_active(STAFF, False)
    await asked(bot_stage, timedelta(days=30))

    await people.cadre.press("⚠️ The problem is back", people.cadre.last_message())
    assert "Wu was told" in people.cadre.last_message().text
    assert f"the problem of hazard {hazard.code} is back" in colleague.last_message().text


async def test_nothing_is_asked_about_a_hazard_reopened_meanwhile(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage)
    bot_stage.clock.advance(timedelta(days=10))
    await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="复查发现通道又被堵塞")

    assert await asked(bot_stage, timedelta(days=21)) == 0
    assert questions(people) == 0
    assert [(row.state, row.skipped_reason) for row in await rows(bot_stage, hazard)] == [
        (CheckBackState.SKIPPED, "not_closed")
    ]


async def test_a_head_who_reported_and_fixed_it_at_their_own_home_is_not_asked(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage, reporter_id=HEAD)
    assert await asked(bot_stage, timedelta(days=30)) == 0
    assert not any(QUESTION in message.text for message in people.head.messages())
    assert [row.skipped_reason for row in await rows(bot_stage, hazard)] == ["fixed_it"]


async def test_a_press_by_anyone_but_the_reporter_is_refused_and_audited(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage)
    await asked(bot_stage, timedelta(days=30))
    check_back = (await rows(bot_stage, hazard))[0]

    forged = await people.head.press_data(people.head.last_message(), f"chk:again:{check_back.id}")
    assert forged.answer is not None and forged.answer.text == "这个回访只能由隐患的上报人回答；操作已记录。"
    refused = await bot_stage.services.storage.audit.list(actor_id=HEAD, action_prefix="authz.refused")
    assert [entry.target for entry in refused] == [f"button:chk:again:{check_back.id}"]
    assert (await rows(bot_stage, hazard))[0].state is CheckBackState.ASKED

    unknown = await people.cadre.press_data(people.cadre.last_message(), "chk:holds:99999")
    assert unknown.answer is not None and unknown.answer.text == "这个回访已失效。"


async def test_county_staff_see_the_answers_in_stats_once_one_was_asked(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    await closed(bot_stage)
    bot_stage.clock.advance(timedelta(days=29))  # 31 March: nothing asked yet, so no line of zeros
    await people.staff.send_text("/stats")
    assert "回访：" not in people.staff.last_message().text

    await asked(bot_stage, timedelta(days=1))  # 1 April
    await people.cadre.press("⚠️ 问题又出现了", people.cadre.last_message())
    await people.staff.send_text("/stats")
    figures = people.staff.last_message().text
    assert "2026年4月" in figures
    # One answer: no "0 unanswered", and no rebound rate of "100%" from a single reply.
    assert "回访：已询问 1 条，仍已解决 0 条，问题反弹 1 条\n" in figures
    assert "未答复" not in figures and "反弹率" not in figures


async def rows(stage: Stage, hazard: Hazard) -> list:  # type: ignore[type-arg]
    return await stage.services.storage.check_backs.for_hazard(hazard.id)


def test_the_check_back_day_must_fall_inside_the_reopening_window() -> None:
    assert Settings.model_validate({"CHECK_BACK_DAYS": 45}).check_back_days == 45
    for outside in (0, 90, 120):
        with pytest.raises(ValidationError, match="1 to 89 days"):
            Settings.model_validate({"CHECK_BACK_DAYS": outside})


async def test_it_came_back_reaches_the_county_staff_covering_it_and_not_the_city_admins_as_well(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage, "en")
    await closed(bot_stage)
    admin = bot_stage.sandbox.user(user_id=90, first_name="Admin", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    await bot_stage.services.storage.users.set_active(STAFF, False)
    await asked(bot_stage, timedelta(days=30))

    seen = len(admin.messages())
    await people.cadre.press("⚠️ The problem is back", people.cadre.last_message())
    assert "Wu was told" in people.cadre.last_message().text
    assert not any("is back" in message.text for message in admin.messages()[seen:])


async def test_an_answer_after_the_hazard_was_reopened_is_refused_and_the_question_loses_its_buttons(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage)
    assert await asked(bot_stage, timedelta(days=30)) == 1
    asked_audit = await bot_stage.services.storage.audit.list(action_prefix="check_back.asked")
    assert [entry.target for entry in asked_audit] == [f"hazard:{hazard.code}"]
    question = people.cadre.last_message()
    await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="复查发现通道又被堵塞")

    seen = len(people.staff.messages())
    pressed = await people.cadre.press_data(question, f"chk:again:{(await rows(bot_stage, hazard))[0].id}")
    assert pressed.answer is not None and pressed.answer.show_alert
    assert question.buttons == []
    assert (await rows(bot_stage, hazard))[0].state is CheckBackState.ASKED
    assert not any(QUESTION in message.text for message in people.staff.messages()[seen:])


async def test_a_hazard_closed_again_after_a_reopening_earns_a_question_of_its_own(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage)
    assert await asked(bot_stage, timedelta(days=30)) == 1
    await people.cadre.press("⚠️ 问题又出现了", people.cadre.last_message())
    await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="回访反映问题又出现")
    hazard = await submitted(bot_stage, hazard)
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)

    assert await asked(bot_stage, timedelta(days=30)) == 1
    assert questions(people) == 2
    assert [row.state for row in await rows(bot_stage, hazard)] == [CheckBackState.ANSWERED, CheckBackState.ASKED]


async def test_a_hazard_reopened_and_closed_again_before_its_check_back_is_asked_about_once(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage)
    bot_stage.clock.advance(timedelta(days=10))
    await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="复查发现通道又被堵塞")
    hazard = await submitted(bot_stage, hazard)
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)

    # Day 30 of the first closing: that closing was undone, nothing is asked; day 30 of the second: asked once.
    assert await asked(bot_stage, timedelta(days=20)) == 0
    assert await asked(bot_stage, timedelta(days=10)) == 1
    assert questions(people) == 1
    assert [(row.state, row.skipped_reason) for row in await rows(bot_stage, hazard)] == [
        (CheckBackState.SKIPPED, "not_closed"), (CheckBackState.ASKED, None)
    ]


async def test_a_closer_now_serving_another_county_is_not_told_the_county_staff_covering_it_are(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage, "en")
    hazard = await closed(bot_stage)
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    # The closer serves Longwan now (as after leaving and coming back there): Lucheng's hazards are not theirs to see.
    await bot_stage.services.storage.db.execute(
        "UPDATE users SET region_code = ? WHERE telegram_id = ?", (LONGWAN, STAFF)
    )
    await asked(bot_stage, timedelta(days=30))

    seen = len(people.staff.messages())
    await people.cadre.press("⚠️ The problem is back", people.cadre.last_message())
    assert "Wu was told" in people.cadre.last_message().text
    assert f"the problem of hazard {hazard.code} is back" in colleague.last_message().text
    assert not any("is back" in message.text for message in people.staff.messages()[seen:])


async def test_the_official_reopens_it_from_the_notice_with_a_reason_and_the_head_is_told(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    cadre, staff, head = people.cadre, people.staff, people.head
    hazard = await closed(bot_stage)
    await asked(bot_stage, timedelta(days=30))
    await cadre.press("⚠️ 问题又出现了", cadre.last_message())
    told = staff.last_message()

    # The notice's Reopen is the details' own button: the same journey, the same checks.
    await staff.press("🔁 重新打开", told)
    assert f"重新打开已销号的隐患 {hazard.code}" in staff.last_message().text
    await staff.send_text("回访反映消防通道又被堵塞")
    assert f"隐患 {hazard.code} 已重新打开" in staff.last_message().text
    reopened = await hazard_now(bot_stage, hazard)
    assert reopened.state is HazardState.RECTIFYING and reopened.closed_at is None
    assert f"隐患 {hazard.code} 已重新打开" in head.last_message().text
    assert "又被堵塞" in head.last_message().text

    # Pressed again, the lifecycle refuses it: nothing closed is left to reopen.
    again = await staff.press_data(told, f"hz:reopen:{hazard.id}")
    assert again.answer is not None and again.answer.show_alert
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING


async def test_the_home_s_head_hears_it_came_back_once_even_across_a_restart(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage)
    await asked(bot_stage, timedelta(days=30))
    seen = len(people.head.messages())
    await people.cadre.press("⚠️ 问题又出现了", people.cadre.last_message())

    heard = [m for m in people.head.messages()[seen:] if f"隐患 {hazard.code} 的问题又出现了" in m.text]
    assert len(heard) == 1
    assert "李娜" in heard[0].text and "民政部门会重新打开" in heard[0].text
    assert heard[0].buttons == [["详情"]]  # a head may not reopen: no Reopen for them
    audit = await bot_stage.services.storage.audit.list(action_prefix="hazard.check_back_answered")
    assert [(entry.detail["told"], entry.detail["heads"]) for entry in audit] == [([STAFF], [HEAD])]

    await bot_stage.restart()
    await bot_stage.sandbox.settle()
    assert sum(f"隐患 {hazard.code} 的问题又出现了" in m.text for m in people.head.messages()[seen:]) == 1


async def test_no_head_hears_of_a_rights_protection_hazard_nor_a_head_who_reported_it(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    # 权益保障: no head is responsible for it; a county clerk fixes it, another accepts it.
    hazard = await report(bot_stage, area=HazardArea.RIGHTS, description="护工呵斥老人")
    await act(bot_stage, OTHER_STAFF, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已约谈护工", photos=1)
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)
    await asked(bot_stage, timedelta(days=30))
    seen = len(people.head.messages())
    await people.cadre.press("⚠️ 问题又出现了", people.cadre.last_message())
    assert f"回访：隐患 {hazard.code} 的问题又出现了" in people.staff.last_message().text
    assert not any(hazard.code in m.text for m in people.head.messages()[seen:])



async def test_a_reporter_who_is_also_named_the_home_s_head_is_not_told_what_they_said(bot_stage: Stage) -> None:
    """A head registered for the home is never asked (they correct its hazards); a reporter can still be the person
    named as its head (institutions.head_user_id): they hear no head's notice of their own answer."""
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    hazard = await closed(bot_stage)
    await bot_stage.services.storage.db.execute(
        "UPDATE institutions SET head_user_id = ? WHERE id = ?", (people.cadre.id, hazard.institution_id)
    )
    await asked(bot_stage, timedelta(days=30))
    seen = len(people.cadre.messages())
    await people.cadre.press("⚠️ 问题又出现了", people.cadre.last_message())
    heard = f"隐患 {hazard.code} 的问题又出现了"
    assert not any(heard in m.text for m in people.cadre.messages()[seen:])
    assert heard in people.head.last_message().text and heard in people.staff.last_message().text


async def test_an_answer_after_the_reopening_window_offers_no_reopen(bot_stage: Stage) -> None:
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage, "en")
    hazard = await closed(bot_stage)
    await asked(bot_stage, timedelta(days=30))
    bot_stage.clock.advance(timedelta(days=61))  # 91 days after closing: past the 90 days it may be reopened in
    await people.cadre.press("⚠️ The problem is back", people.cadre.last_message())
    told = people.staff.last_message()
    assert f"the problem of hazard {hazard.code} is back" in told.text and "Reopen" not in told.text
    assert told.buttons == [["Details"]]
