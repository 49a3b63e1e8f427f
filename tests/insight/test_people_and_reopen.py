"""The bureau's figures and files after today's changes to the hazard loop and to people: a closed hazard reopened,
a person named responsible (指定责任人), and a person whose access ended. Through the emulator, as a county official
reads /stats and the problem list (问题清单) it exports."""

from __future__ import annotations

import csv

from bot.domain.catalog import HazardArea
from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from tests.hazard_people import CADRE, HOME, SECOND_HEAD, STAFF, cast, report

RESPONSIBLE = 10


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


