"""County staff and city admins who register (or leave) mid-day: the reminders and escalations of the hazards already
open in their county (for a city admin, the city) reach them that same day. Before, a hazard's reminders named their
recipients when they were planned, so a newcomer heard of nothing until the next daily plan (the next local day, or
the next restart), while seeing every one of those hazards in /tasks."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

import pytest

from bot import people_cli
from bot.domain.roles import Role
from bot.jobs import plan_once
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from storage.hazard_models import Hazard
from tests.calendar_people import local
from tests.hazard_people import LUCHENG, OTHER_STAFF, STAFF, Cast, cast, report
from tests.small_city import without_english_name
from tests.test_reminder_delivery import sweep
from tests.warning_people import drain

CITY_ADMIN, NEW_CITY_ADMIN = 90, 91


def about(person: SimUser, hazard: Hazard, since: int = 0) -> list[str]:
    return [message.text for message in person.messages()[since:] if hazard.code in message.text]


async def open_in_lucheng(stage: Stage, *, city_admin: SimUser | None = None) -> tuple[Cast, Hazard]:
    """The Lucheng cast (and a city admin, if given) on 2 March, and a hazard of its home: 一般, deadline 9 March
    10:00."""
    stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(stage)
    if city_admin is not None:
        await stage.register(city_admin, Role.CITY)
    hazard = await report(stage)
    await drain(stage)
    return people, hazard


async def newcomer(stage: Stage, user_id: int, name: str, role: Role, region: str | None = None) -> tuple[SimUser, int]:
    """Someone registering by invitation now, and how many messages they had by the end of it."""
    person = stage.sandbox.user(user_id=user_id, first_name=name, language_code="zh-hans")
    await stage.register(person, role, region=region)
    return person, len(person.messages())


async def end_lucheng_clerks_access(stage: Stage, admin: SimUser) -> None:
    """The city admin ends the access of 周科长, Lucheng's only clerk, through /people."""
    await admin.send_text("/people")
    await admin.press("周科长")
    await admin.press("⛔ 停用账号")
    await admin.press("⛔ 确认停用")
    # He is in Lucheng's bound group: the admin hears so after the news of the access ended.
    ended, still_in = admin.messages()[-2:]
    assert "已停用周科长" in ended.text and still_in.text.startswith("⚠️ 周科长仍在以下已绑定的工作群中")
    await drain(stage)


async def test_a_county_clerk_who_registers_today_is_reminded_of_a_deadline_that_falls_tomorrow(
    bot_stage: Stage,
) -> None:
    people, hazard = await open_in_lucheng(bot_stage)
    bot_stage.clock.set(local(2026, 3, 8, 7))
    await plan_once(bot_stage.services)  # the daily plan of the day before the deadline
    bot_stage.clock.set(local(2026, 3, 8, 15))
    clerk, seen = await newcomer(bot_stage, OTHER_STAFF, "吴科员", Role.COUNTY, LUCHENG)
    staff_seen = len(people.staff.messages())

    # Nothing is past due for the county yet: the newcomer is not sent anything about it on registering.
    await sweep(bot_stage)
    assert about(clerk, hazard, seen) == []

    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    await sweep(bot_stage)
    (reminded,) = about(clerk, hazard, seen)
    assert "已到整改期限" in reminded
    assert len(about(people.staff, hazard, staff_seen)) == 1  # the colleague's, once


async def test_an_english_speaking_clerk_reads_a_hazard_at_a_home_with_no_english_name_by_its_chinese_name(
    bot_stage: Stage,
) -> None:
    _, hazard = await open_in_lucheng(bot_stage)
    storage = bot_stage.services.storage
    home = await storage.institutions.get(hazard.institution_id)
    assert home is not None
    await storage.institutions.upsert(without_english_name(home))  # as a city's data file may give it
    clerk = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(clerk, Role.COUNTY, region=LUCHENG)
    seen = len(clerk.messages())

    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    await sweep(bot_stage)
    (reminded,) = about(clerk, hazard, seen)
    assert "has reached its deadline" in reminded
    assert "鹿城区社会福利院 · " in reminded  # not a blank where the home's name goes


async def test_a_clerk_who_registers_after_a_deadline_gets_one_escalation_of_it_not_every_one_sent_before(
    bot_stage: Stage,
) -> None:
    people, hazard = await open_in_lucheng(bot_stage)
    # At the deadline, and a day overdue (with the next morning's escalations): the colleague is told each time.
    for moment in (local(2026, 3, 9, 10, 1), local(2026, 3, 11, 9, 1)):
        bot_stage.clock.set(moment)
        await sweep(bot_stage)
    staff_seen = len(people.staff.messages())
    bot_stage.clock.set(local(2026, 3, 11, 15))
    clerk, seen = await newcomer(bot_stage, OTHER_STAFF, "吴科员", Role.COUNTY, LUCHENG)

    # As for a hazard first planned late: the latest step, once, with the next morning's escalations; not the
    # deadline's and the next day's both.
    await sweep(bot_stage)
    bot_stage.clock.set(local(2026, 3, 12, 9, 1))
    await sweep(bot_stage)
    (escalated,) = about(clerk, hazard, seen)
    assert "已逾期" in escalated and escalated.count(hazard.code) == 1  # one item, not the deadline's too
    assert about(people.staff, hazard, staff_seen) == []


async def test_a_city_admin_who_registers_today_gets_the_next_mornings_escalation(bot_stage: Stage) -> None:
    older = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    _, hazard = await open_in_lucheng(bot_stage, city_admin=older)  # three days overdue: the city told at 09:00
    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    await sweep(bot_stage)
    bot_stage.clock.set(local(2026, 3, 10, 10, 1))
    await sweep(bot_stage)
    bot_stage.clock.set(local(2026, 3, 12, 7))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 12, 16))
    admin, seen = await newcomer(bot_stage, NEW_CITY_ADMIN, "郑处长", Role.CITY)
    older_seen = len(older.messages())

    # The county's own escalations (at the deadline, a day on) went out before they came: not sent to them now.
    await sweep(bot_stage)
    assert about(admin, hazard, seen) == []

    bot_stage.clock.set(local(2026, 3, 13, 9, 1))
    await sweep(bot_stage)
    (escalated,) = about(admin, hazard, seen)
    assert "逾期" in escalated
    assert len(about(older, hazard, older_seen)) == 1


async def end_from_the_command_line(stage: Stage, admin: SimUser) -> None:
    """The operator ends 周科长's access with `safety-bot deactivate`, which plans the city admins' reminders itself,
    there and then: no running bot's /people answer does it for the command line, and the next daily plan is the
    next day."""
    ended = await people_cli._main(argparse.Namespace(command="deactivate", telegram_id=STAFF), stage.settings,
                                   stage.clock)
    assert ended == 0
    await drain(stage)


@pytest.mark.parametrize("end_access", [end_lucheng_clerks_access, end_from_the_command_line],
                         ids=["through /people", "from the command line"])
async def test_when_a_countys_only_clerk_leaves_the_city_admins_are_reminded_in_their_place_that_day(
    bot_stage: Stage, end_access: Callable[[Stage, SimUser], Awaitable[None]]
) -> None:
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    people, hazard = await open_in_lucheng(bot_stage, city_admin=admin)
    bot_stage.clock.set(local(2026, 3, 8, 7))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 8, 15))
    await end_access(bot_stage, admin)
    seen, staff_seen = len(admin.messages()), len(people.staff.messages())

    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    await sweep(bot_stage)
    (reminded,) = about(admin, hazard, seen)
    assert "已到整改期限" in reminded
    assert about(people.staff, hazard, staff_seen) == []


# ---- the calendar duties ---------------------------------------------------------------------------------------
# A duty's reminders to staff (a drill or self-inspection overdue, a study session due or overdue) named their
# recipients when the daily plan ran: a clerk registering on the morning of the 1st heard nothing at 09:00 of the
# institutions of their county overdue on last month's self-inspection, while their colleague did.

MARCH_MISSED = "未完成2026年3月的月度隐患自查"


def missed_march(person: SimUser, since: int) -> list[str]:
    return [message.text for message in person.messages()[since:] if MARCH_MISSED in message.text]


async def first_of_april(stage: Stage, *, city_admin: SimUser | None = None) -> Cast:
    """The Lucheng cast (and a city admin, if given) from 31 March, and the daily plan of 1 April at 07:00: by 09:00
    none of Lucheng's homes has done March's self-inspection, and the county staff are told so then."""
    stage.clock.set(local(2026, 3, 31, 10))
    people = await cast(stage)
    if city_admin is not None:
        await stage.register(city_admin, Role.CITY)
    await drain(stage)
    stage.clock.set(local(2026, 4, 1, 7))
    await plan_once(stage.services)
    return people


async def test_a_clerk_who_registers_on_the_morning_of_the_first_is_told_at_nine_of_last_months_missed_selfchecks(
    bot_stage: Stage,
) -> None:
    people = await first_of_april(bot_stage)
    bot_stage.clock.set(local(2026, 4, 1, 8))
    clerk, seen = await newcomer(bot_stage, OTHER_STAFF, "吴科员", Role.COUNTY, LUCHENG)
    staff_seen = len(people.staff.messages())
    await sweep(bot_stage)
    assert missed_march(clerk, seen) == []  # not before its time

    bot_stage.clock.set(local(2026, 4, 1, 9, 1))
    await sweep(bot_stage)
    (reminded,) = missed_march(clerk, seen)
    assert f"鹿城区社会福利院 {MARCH_MISSED}" in reminded
    assert len(missed_march(people.staff, staff_seen)) == 1  # the colleague's, once

    bot_stage.clock.set(local(2026, 4, 2, 9, 1))  # the next day's plan and sweep send neither of them it again
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    assert len(missed_march(clerk, seen)) == 1 and len(missed_march(people.staff, staff_seen)) == 1


async def test_a_clerk_who_registers_after_the_duties_went_out_is_not_sent_them_again_later(bot_stage: Stage) -> None:
    people = await first_of_april(bot_stage)
    bot_stage.clock.set(local(2026, 4, 1, 9, 1))
    await sweep(bot_stage)
    bot_stage.clock.set(local(2026, 4, 3, 10))  # two days on: the 1st's reminders are no longer the day's
    await plan_once(bot_stage.services)
    staff_seen = len(people.staff.messages())
    clerk, seen = await newcomer(bot_stage, OTHER_STAFF, "吴科员", Role.COUNTY, LUCHENG)

    await sweep(bot_stage)
    bot_stage.clock.set(local(2026, 4, 4, 9, 1))
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    assert missed_march(clerk, seen) == []
    assert missed_march(people.staff, staff_seen) == []


async def test_when_a_countys_only_clerk_leaves_on_the_first_the_city_admins_are_told_at_nine_in_their_place(
    bot_stage: Stage,
) -> None:
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    people = await first_of_april(bot_stage, city_admin=admin)
    bot_stage.clock.set(local(2026, 4, 1, 8))
    await end_lucheng_clerks_access(bot_stage, admin)
    seen, staff_seen = len(admin.messages()), len(people.staff.messages())

    bot_stage.clock.set(local(2026, 4, 1, 9, 1))
    await sweep(bot_stage)
    # One message, too long to list each: the demo city's seventeen institutions, Lucheng's two as well as those of
    # the counties with no clerk and the city's own (the admins answered for those already), and the sixteen with no
    # head (the month's line to the city), counted by county.
    (reminded,) = missed_march(admin, seen)
    assert reminded.startswith("🔔 您有 33 条待办提醒")
    assert "• 鹿城区 3 项（自查未完成 2、无负责人 1）" in reminded
    assert missed_march(people.staff, staff_seen) == []


async def test_a_city_admin_who_registers_on_the_first_of_july_is_told_at_nine_what_the_other_admin_is(
    bot_stage: Stage,
) -> None:
    older = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    bot_stage.clock.set(local(2026, 6, 30, 10))
    await bot_stage.register(older, Role.CITY)
    bot_stage.clock.set(local(2026, 7, 1, 7))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 7, 1, 8))
    admin, seen = await newcomer(bot_stage, NEW_CITY_ADMIN, "郑处长", Role.CITY)
    older_seen = len(older.messages())

    bot_stage.clock.set(local(2026, 7, 1, 9, 1))
    await sweep(bot_stage)

    # With no county clerk registered, the city admins answer for every institution's missed drill and June
    # self-inspection, and for every bureau's missed study session: one long message, the same for both.
    def reminded(person: SimUser, since: int) -> list[str]:
        return [message.text.split("\n")[0] for message in person.messages()[since:] if "已逾期" in message.text]

    (headline,) = reminded(admin, seen)
    assert headline.startswith("🔔 您有") and reminded(older, older_seen) == [headline]
