"""The bureau's figures and files after today's changes to the hazard loop and to people: a closed hazard reopened,
a person named responsible (指定责任人), and a person whose access ended. Through the emulator, as a county official
reads /stats and the problem list (问题清单) it exports."""

from __future__ import annotations

import csv
from datetime import timedelta

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import CADRE, HEAD, HOME, SECOND_HEAD, STAFF, act, cast, hazard_now, report, submitted

RESPONSIBLE, STATE, MEASURES, CLOSED_AT, ON_TIME = 10, 12, 13, 14, 15


async def problem_list(user: SimUser) -> dict[str, list[str]]:
    """The CSV problem list that /stats's export button sends, by hazard code."""
    await user.send_text("/stats")
    figures = user.last_message()
    token = str(figures.button_data[2][1]).split(":")[2]
    await user.press_data(figures, f"ex:c:{token}")
    document = next(m for m in reversed(user.messages()) if m.kind == "document")
    rows = list(csv.reader((document.document or b"").decode("utf-8-sig").splitlines()))
    return {row[0]: row for row in rows[1:]}


async def test_the_problem_list_names_the_remaining_head_once_the_named_one_has_left(bot_stage: Stage) -> None:
    """A home with two heads: the one registered last is its named head, and a hazard reported there is theirs. When
    their access ends, the hazard is no longer theirs and the home's other head answers for it (its reminders and
    Rectify go to them). The problem list left the person responsible blank: it read only the home's named head,
    whom ending the access had cleared; with nobody named head, it now names the home's active heads."""
    people = await cast(bot_stage)
    second = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="吴院长", language_code="zh-hans")
    await bot_stage.register(second, Role.HEAD, institution=HOME)
    hazard = await report(bot_stage)
    rights = await report(bot_stage, area=HazardArea.RIGHTS)
    assert hazard.assignee_id == SECOND_HEAD
    assert (await problem_list(people.staff))[hazard.code][RESPONSIBLE] == "吴院长"

    staff = await people.user(STAFF)
    await bot_stage.services.people.deactivate(staff, SECOND_HEAD)
    rows = await problem_list(people.staff)
    assert rows[hazard.code][RESPONSIBLE] == "陈院长"
    assert rows[rights.code][RESPONSIBLE] == ""  # a rights-protection hazard is never a head's

    # Whom staff name (指定责任人) comes before any head, for a rights-protection hazard too.
    await bot_stage.services.hazards.assign(staff, hazard.id, CADRE)
    await bot_stage.services.hazards.assign(staff, rights.id, CADRE)
    rows = await problem_list(people.staff)
    assert rows[hazard.code][RESPONSIBLE] == rows[rights.code][RESPONSIBLE] == "李娜"


async def test_a_hazard_closed_late_and_reopened_stays_late_when_closed_again(bot_stage: Stage) -> None:
    """Reopening gives a hazard a fresh deadline. A hazard first corrected after its deadline, once reopened and
    corrected again in time, counted as closed on time: a reopening by the county's own staff turned a late
    correction into an on-time one in the on-time rate the counties are ranked and notified (通报) by."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    assert hazard.deadline is not None
    bot_stage.clock.set(hazard.deadline + timedelta(hours=2))
    hazard = await submitted(bot_stage, hazard)
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)
    await people.staff.send_text("/stats")
    assert "整改率 100%，按期整改率 0%" in people.staff.last_message().text

    await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="复查发现通道又被堵塞")
    rows = await problem_list(people.staff)
    assert rows[hazard.code][STATE] == "整改中"
    assert rows[hazard.code][CLOSED_AT] == rows[hazard.code][ON_TIME] == ""
    await people.staff.send_text("/stats")
    assert "其中已销号 0、未销号 1（逾期 0）" in people.staff.last_message().text

    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="再次清理并加装警示牌", photos=1)
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)
    closed = await hazard_now(bot_stage, hazard)
    assert closed.state is HazardState.CLOSED and closed.closed_on_time is False
    told = people.head.last_message().text
    assert f"隐患 {hazard.code}" in told and "此前一轮整改超过了整改期限" in told
    await people.staff.send_text("/stats")
    figures = people.staff.last_message().text
    assert "本期发现 1，其中已销号 1、未销号 0" in figures and "整改率 100%，按期整改率 0%" in figures
    row = (await problem_list(people.staff))[hazard.code]
    assert row[STATE] == "已销号" and row[ON_TIME] == "否" and row[MEASURES] == "再次清理并加装警示牌"
