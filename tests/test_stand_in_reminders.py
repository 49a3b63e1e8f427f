"""Institutions with no registered head: their drill and self-inspection reminders reached nobody, and the county
heard of the duty only once it was overdue. Now the county staff covering the institution (the city admins where
the county has none) stand in for the head, for the last reminder before each duty is due (the drill's 7 days before
the period ends, the self-inspection's on the 25th), told whose duty it is and how to invite a head."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot import people_cli
from bot.domain.roles import Role
from bot.jobs import plan_once
from bot.sandbox.driver import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from storage.models import NewInstitution
from tests.calendar_people import local
from tests.hazard_people import (
    HEAD,
    LONGWAN,
    LONGWAN_STAFF,
    LUCHENG,
    OTHER_STAFF,
    STAFF,
    cast,
    long_named_centres,
)
from tests.small_city import without_english_name
from tests.test_invite_heads import head_of
from tests.test_onboarding import link_token
from tests.test_reminder_delivery import sweep
from tests.warning_people import drain

NANHUI = "鹿城区南汇街道居家养老服务中心"  # Lucheng's second home: no head in the cast
NANHUI_EN = "Nanhui Subdistrict Home-Care Service Centre"
NANHUI_CODE = "WZ-330302-ELDER-02"
WELFARE_HOME = "鹿城区社会福利院"  # the cast's head runs it
NO_HEAD = "尚无已注册的负责人"
CITY_ADMIN, NANHUI_HEAD = 90, 47


def since(person: SimUser, seen: int) -> list[str]:
    return [message.text for message in person.messages()[seen:]]


async def clerk_alone(stage: Stage, language: str = "zh-hans") -> SimUser:
    """Lucheng's clerk, with no head registered anywhere in the county."""
    clerk = stage.sandbox.user(user_id=STAFF, first_name="周科长", language_code=language)
    await stage.register(clerk, Role.COUNTY, region=LUCHENG)
    await drain(stage)
    return clerk


async def test_the_clerk_stands_in_for_a_headless_home_seven_days_before_the_drill_is_due_not_thirty(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 5, 30, 10))
    people = await cast(bot_stage)  # a head for the welfare home; none for Nanhui's
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    seen = len(people.staff.messages())

    bot_stage.clock.set(local(2026, 5, 31, 9, 1))  # the drill's 30-day reminder: the head's alone
    await sweep(bot_stage)
    assert "尚未开展消防演练" in people.head.last_message().text
    assert [text for text in since(people.staff, seen) if NANHUI in text] == []  # the bureau's study session only

    bot_stage.clock.set(local(2026, 6, 1, 9, 1))  # May's self-inspections overdue: the clerk hears, as before
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    seen = len(people.staff.messages())
    head_seen = len(people.head.messages())

    bot_stage.clock.set(local(2026, 6, 23, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(people.staff, seen)  # with the bureau's own study session, due too
    assert "您有 2 条待办提醒" in stand_in and "学习" in stand_in
    assert NANHUI in stand_in and NO_HEAD in stand_in
    assert "2026年上半年" in stand_in and "消防演练" in stand_in and "2026-06-30" in stand_in
    assert "/invite" in stand_in
    assert WELFARE_HOME not in stand_in  # it has a head: the head is reminded, not the clerk
    (own,) = since(people.head, head_seen)
    assert "鹿城区社会福利院：2026年上半年尚未开展消防演练" in own and NO_HEAD not in own


async def test_the_clerk_stands_in_for_a_headless_home_on_the_25th_for_the_self_inspection(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    seen, head_seen = len(people.staff.messages()), len(people.head.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(people.staff, seen)
    assert NANHUI in stand_in and NO_HEAD in stand_in
    assert "2026年3月的月度隐患自查" in stand_in and "2026-03-31" in stand_in and "/invite" in stand_in
    assert WELFARE_HOME not in stand_in
    assert stand_in.startswith("📋")  # one item: no "you have N reminders" header
    (own,) = since(people.head, head_seen)
    assert "2026年3月的月度隐患自查尚未完成" in own


async def test_a_headless_home_whose_name_has_an_ampersand_is_named_in_the_invite_line_and_the_reminder_arrives(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)  # Nanhui alone has no head: one stand-in item, named in the invite line
    storage = bot_stage.services.storage
    nanhui = await storage.institutions.get_by_code(NANHUI_CODE)
    assert nanhui is not None
    renamed = f"{NANHUI}(医&养)"  # a name is data: unescaped, Telegram refuses the whole message
    fields = nanhui.model_dump(include=set(NewInstitution.model_fields))
    await storage.institutions.upsert(NewInstitution.model_validate({**fields, "name_zh": renamed}))
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    seen = len(people.staff.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(people.staff, seen)
    assert stand_in.startswith(f"📋 {renamed}（尚无已注册的负责人）")
    assert f"{renamed}尚无负责人，提醒暂由您代收" in stand_in


async def test_while_every_home_has_a_head_the_clerk_hears_nothing_before_the_overdue_step(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    nanhui_head = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
    await bot_stage.register(nanhui_head, Role.HEAD, institution=NANHUI_CODE)
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    seen = len(people.staff.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    assert since(people.staff, seen) == []
    assert "2026年3月的月度隐患自查尚未完成" in nanhui_head.last_message().text

    bot_stage.clock.set(local(2026, 4, 1, 9, 1))  # overdue: the county is told, as before
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    (overdue,) = since(people.staff, seen)
    assert "未完成2026年3月的月度隐患自查" in overdue and NO_HEAD not in overdue


async def test_a_head_who_registers_before_the_25th_is_reminded_and_the_clerk_no_longer(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    await drain(bot_stage)
    await plan_once(bot_stage.services)  # the clerk's stand-in row for Nanhui is planned now

    bot_stage.clock.set(local(2026, 3, 10, 10))
    nanhui_head = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
    await bot_stage.register(nanhui_head, Role.HEAD, institution=NANHUI_CODE)
    await drain(bot_stage)
    seen, head_seen = len(people.staff.messages()), len(nanhui_head.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    assert since(people.staff, seen) == []
    (own,) = since(nanhui_head, head_seen)
    assert f"{NANHUI}：2026年3月的月度隐患自查尚未完成" in own


async def end_the_heads_access_through_people(stage: Stage, clerk: SimUser) -> None:
    await clerk.send_text("/people")
    await clerk.press("陈院长")
    await clerk.press("⛔ 停用账号")
    await clerk.press("⛔ 确认停用")
    assert "已停用陈院长" in clerk.last_message().text
    await drain(stage)


async def end_the_heads_access_from_the_command_line(stage: Stage, clerk: SimUser) -> None:
    """`safety-bot deactivate`: no running bot's /people answer plans the stand-ins, the command does it itself."""
    ended = await people_cli._main(argparse.Namespace(command="deactivate", telegram_id=HEAD), stage.settings,
                                   stage.clock)
    assert ended == 0
    await drain(stage)


@pytest.mark.parametrize("end_access",
                         [end_the_heads_access_through_people, end_the_heads_access_from_the_command_line],
                         ids=["through /people", "from the command line"])
async def test_when_a_heads_access_ends_the_clerk_stands_in_for_the_home_that_same_day(
    bot_stage: Stage, end_access: Callable[[Stage, SimUser], Awaitable[None]]
) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    await drain(bot_stage)
    await plan_once(bot_stage.services)

    bot_stage.clock.set(local(2026, 3, 25, 8))  # before the 25th's reminders, after the day's plan
    clerk = people.staff
    await end_access(bot_stage, clerk)
    seen = len(clerk.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(clerk, seen)
    assert "您有 2 条待办提醒" in stand_in and WELFARE_HOME in stand_in and NANHUI in stand_in


async def test_a_city_admin_stands_in_where_the_county_has_no_clerk(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    seen = len(admin.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(admin, seen)
    # Every institution of the demo city: none has a head, and no county has a clerk.
    assert stand_in.startswith("🔔 您有 17 条待办提醒")
    assert NO_HEAD in stand_in and "/invite" in stand_in


async def test_an_english_speaking_clerk_reads_the_stand_in_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    clerk = await clerk_alone(bot_stage, language="en")
    await plan_once(bot_stage.services)
    seen = len(clerk.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(clerk, seen)
    assert stand_in.startswith("🔔 You have 2 reminders")
    assert NANHUI_EN in stand_in and "Lucheng District Social Welfare Home" in stand_in
    assert "no registered head" in stand_in and "2026-03-31" in stand_in and "/invite" in stand_in
    assert "self-inspection for March 2026" in stand_in
    # Two homes stood in for: the invite line speaks of both, not of the first alone.
    assert "in place of the institutions' heads" in stand_in and "You get the reminder of" not in stand_in


async def test_an_english_speaking_clerk_reads_a_home_with_no_english_name_by_its_chinese_one(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    clerk = await clerk_alone(bot_stage, language="en")
    storage = bot_stage.services.storage
    nanhui = await storage.institutions.get_by_code(NANHUI_CODE)
    assert nanhui is not None
    await storage.institutions.upsert(without_english_name(nanhui))  # as a city's data file may give it
    await plan_once(bot_stage.services)
    seen = len(clerk.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(clerk, seen)
    # Not a blank where the name goes: the clerk must know which home has no head to invite.
    assert f"{NANHUI} (no registered head): the self-inspection for March 2026" in stand_in
    assert NANHUI_EN not in stand_in


async def test_several_headless_homes_read_as_one_message_and_a_long_list_counts_the_rest(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    clerk = await clerk_alone(bot_stage)
    await long_named_centres(bot_stage, "330302001", count=12)  # a county has dozens of care centres
    await plan_once(bot_stage.services)
    seen = len(clerk.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    (stand_in,) = since(clerk, seen)
    assert stand_in.startswith("🔔 您有 14 条待办提醒")
    assert stand_in.count(NO_HEAD) == 10  # the first ten, one paragraph each
    assert "另有 4 条提醒未逐条列出" in stand_in
    assert stand_in.count("ℹ️") == 1  # how to invite a head, said once for them all
    assert stand_in.count("/invite") == 2  # and once for the two homes past the eight buttons
    assert "ℹ️ 以上机构尚无负责人" in stand_in


# ---- the invitation button under a stand-in reminder -------------------------------------------------------------

INVITE_NANHUI = f"✉️ 邀请负责人 · {NANHUI}"


async def stood_in_on_the_25th(stage: Stage) -> SimUser:
    """Lucheng's clerk, with the home's head registered and none for Nanhui, reminded in its place on 25 March."""
    stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(stage)
    await drain(stage)
    await plan_once(stage.services)
    stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(stage)
    assert NO_HEAD in people.staff.last_message().text
    return people.staff


async def nanhui_id(stage: Stage) -> int:
    nanhui = await stage.services.storage.institutions.get_by_code(NANHUI_CODE)
    assert nanhui is not None
    return nanhui.id


async def test_the_stand_in_reminder_carries_a_button_that_invites_the_homes_head(bot_stage: Stage) -> None:
    clerk = await stood_in_on_the_25th(bot_stage)
    reminder = clerk.last_message()
    assert [INVITE_NANHUI] in reminder.buttons
    await clerk.press(INVITE_NANHUI, reminder)
    created = clerk.last_message().text
    assert f"已生成邀请（{NANHUI}的机构负责人）" in created  # /invite's own words
    assert clerk.last_message().message_id != reminder.message_id  # the reminder stays as it was, button and all
    newcomer = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
    assert await head_of(bot_stage, newcomer, link_token(created)) == NANHUI_CODE


async def test_a_second_press_shows_the_unused_invitation_again_and_none_once_a_head_registered(
    bot_stage: Stage,
) -> None:
    clerk = await stood_in_on_the_25th(bot_stage)
    reminder = clerk.last_message()
    await clerk.press(INVITE_NANHUI, reminder)
    first = link_token(clerk.last_message().text)
    await clerk.press(INVITE_NANHUI, reminder)  # a double tap, or the link lost: the same invitation, not another
    again = clerk.last_message().text
    assert link_token(again) == first and "尚未使用的邀请" in again
    standing = await bot_stage.services.storage.invites.standing(bot_stage.clock.now())
    assert [invite.token for invite in standing if invite.institution_id == await nanhui_id(bot_stage)] == [first]

    newcomer = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
    assert await head_of(bot_stage, newcomer, first) == NANHUI_CODE
    seen = len(clerk.messages())
    await clerk.press(INVITE_NANHUI, reminder)
    assert clerk.answers()[-1].text == f"{NANHUI}已有负责人（黄主任），无需再邀请。"
    assert len(clerk.messages()) == seen  # no second link
    standing = await bot_stage.services.storage.invites.standing(bot_stage.clock.now())
    assert [invite for invite in standing if invite.institution_id == await nanhui_id(bot_stage)] == []


async def test_a_clerk_of_another_county_pressing_forged_data_is_refused_and_audited(bot_stage: Stage) -> None:
    await stood_in_on_the_25th(bot_stage)
    stranger = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="吴科长", language_code="zh-hans")
    await bot_stage.register(stranger, Role.COUNTY, region=LONGWAN)
    data = f"si:invite:{await nanhui_id(bot_stage)}"
    seen = len(stranger.messages())
    await stranger.press_data(stranger.last_message(), data)
    # Told as a home that does not exist (as a made-up id is): "outside your scope" confirmed that it does.
    assert stranger.answers()[-1].text == "找不到这家机构，或您无权查看。"
    await stranger.press_data(stranger.last_message(), "si:invite:999999")
    assert stranger.answers()[-1].text == "找不到这家机构，或您无权查看。"
    assert len(stranger.messages()) == seen
    refused = await bot_stage.services.storage.audit.list(actor_id=LONGWAN_STAFF)
    assert any(entry.action == "authz.refused" and entry.target == f"button:{data}" for entry in refused)
    assert await bot_stage.services.storage.invites.standing(bot_stage.clock.now()) == []


async def test_a_home_closed_since_the_reminder_is_refused_with_the_closed_words(bot_stage: Stage) -> None:
    clerk = await stood_in_on_the_25th(bot_stage)
    reminder = clerk.last_message()
    actor = await bot_stage.services.storage.users.get(STAFF)
    assert actor is not None
    await bot_stage.services.institution_closure.close(actor, await nanhui_id(bot_stage), "已并入福利院")
    await drain(bot_stage)
    seen = len(clerk.messages())
    await clerk.press(INVITE_NANHUI, reminder)
    assert (clerk.answers()[-1].text or "").startswith("该机构已停用，不能邀请负责人。")
    assert len(clerk.messages()) == seen
    assert await bot_stage.services.storage.invites.standing(bot_stage.clock.now()) == []


async def test_an_english_speaking_clerk_reads_the_invitation_buttons_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    clerk = await clerk_alone(bot_stage, language="en")
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    reminder = clerk.last_message()
    labels = [label for row in reminder.buttons for label in row if label.startswith("✉️")]
    # Both homes stood in for, each its own button; a long English name is cut, not wrapped.
    assert len(labels) == 2 and all(label.startswith("✉️ Invite a head · ") for label in labels)
    assert all(len(label) <= 40 for label in labels)
    assert any(label.startswith("✉️ Invite a head · Nanhui") for label in labels)
    await clerk.press("✉️ Invite a head · Nanhui", reminder)
    created = clerk.last_message().text
    assert NANHUI_EN in created and link_token(created)


# ---- one standing invitation per headless home, whoever presses -------------------------------------------------

FRESH = "🆕 另发一个新邀请"


async def two_clerks_stood_in(stage: Stage) -> tuple[SimUser, SimUser]:
    """Lucheng's two clerks, 周科长 and 吴科员, both reminded in Nanhui's head's place on 25 March."""
    stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(stage)
    colleague = stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await stage.register(colleague, Role.COUNTY, region=LUCHENG)
    await drain(stage)
    await plan_once(stage.services)
    stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(stage)
    assert NO_HEAD in people.staff.last_message().text and NO_HEAD in colleague.last_message().text
    return people.staff, colleague


async def standing_for_nanhui(stage: Stage) -> list[str]:
    nanhui = await nanhui_id(stage)
    return [invite.token for invite in await stage.services.storage.invites.standing(stage.clock.now())
            if invite.institution_id == nanhui]


async def test_a_second_clerks_press_shows_the_first_clerks_invitation_and_who_made_it(bot_stage: Stage) -> None:
    clerk, colleague = await two_clerks_stood_in(bot_stage)
    await clerk.press(INVITE_NANHUI, clerk.last_message())
    first = link_token(clerk.last_message().text)

    bot_stage.clock.set(local(2026, 3, 25, 10, 30))
    await colleague.press(INVITE_NANHUI, colleague.last_message())
    shown = colleague.last_message()
    assert link_token(shown.text) == first
    assert f"{NANHUI}的机构负责人已有一个尚未使用的邀请，没有另外生成新的邀请" in shown.text
    assert "由周科长于 2026-03-25 09:01 生成" in shown.text and "2026-03-28 09:01 前有效" in shown.text
    assert shown.buttons == [[FRESH]]
    assert await standing_for_nanhui(bot_stage) == [first]
    audit = await bot_stage.services.storage.audit.list(actor_id=OTHER_STAFF)
    assert [entry.action for entry in audit if entry.action.startswith("invite.")] == ["invite.shown_again"]

    # The clerk who made it, pressing again, is told it is theirs.
    await clerk.press(INVITE_NANHUI, reminder_of(clerk))
    assert "由您于 2026-03-25 09:01 生成" in clerk.last_message().text


def reminder_of(person: SimUser) -> BotMessage:
    """The stand-in reminder among the person's messages (the last one carrying the invitation button)."""
    return next(message for message in reversed(person.messages()) if [INVITE_NANHUI] in message.buttons)


async def test_once_the_standing_invitation_is_revoked_or_used_a_press_makes_a_new_one(bot_stage: Stage) -> None:
    clerk, colleague = await two_clerks_stood_in(bot_stage)
    await clerk.press(INVITE_NANHUI, reminder_of(clerk))
    first = link_token(clerk.last_message().text)
    revoked = await people_cli._main(argparse.Namespace(command="revoke", invitation=first), bot_stage.settings,
                                     bot_stage.clock)
    assert revoked == 0

    await colleague.press(INVITE_NANHUI, reminder_of(colleague))
    made = colleague.last_message().text
    assert f"已生成邀请（{NANHUI}的机构负责人）" in made and link_token(made) != first
    second = link_token(made)
    assert await standing_for_nanhui(bot_stage) == [second]

    # Used: Nanhui has its head, and /invite (which may bring in a second head) makes a new one.
    newcomer = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
    assert await head_of(bot_stage, newcomer, second) == NANHUI_CODE
    await clerk.send_text("/invite")
    await clerk.press("机构负责人")
    await clerk.send_text("南汇")
    made = clerk.last_message().text
    assert f"已生成邀请（{NANHUI}的机构负责人）" in made and link_token(made) not in (first, second)


async def test_a_new_invitation_may_be_asked_for_explicitly_and_the_standing_one_stays(bot_stage: Stage) -> None:
    clerk, colleague = await two_clerks_stood_in(bot_stage)
    await clerk.press(INVITE_NANHUI, reminder_of(clerk))
    first = link_token(clerk.last_message().text)
    await colleague.press(INVITE_NANHUI, reminder_of(colleague))
    await colleague.press(FRESH)
    made = colleague.last_message().text
    assert f"已生成邀请（{NANHUI}的机构负责人）" in made
    fresh = link_token(made)
    assert sorted(await standing_for_nanhui(bot_stage)) == sorted([first, fresh]) and fresh != first
    audit = await bot_stage.services.storage.audit.list(actor_id=OTHER_STAFF)
    assert any(entry.action == "invite.created" and entry.detail.get("fresh") for entry in audit)


async def test_the_new_invitation_button_pressed_by_a_clerk_of_another_county_is_refused_and_audited(
    bot_stage: Stage,
) -> None:
    await two_clerks_stood_in(bot_stage)
    stranger = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="吴科长", language_code="zh-hans")
    await bot_stage.register(stranger, Role.COUNTY, region=LONGWAN)
    data = f"hi:fresh:{await nanhui_id(bot_stage)}"
    await stranger.press_data(stranger.last_message(), data)
    assert stranger.answers()[-1].text == "找不到这家机构，或您无权查看。"  # as for no home at all
    refused = await bot_stage.services.storage.audit.list(actor_id=LONGWAN_STAFF)
    assert any(entry.action == "authz.refused" for entry in refused)
    assert await standing_for_nanhui(bot_stage) == []


async def test_two_presses_at_the_same_moment_make_one_invitation(bot_stage: Stage) -> None:
    await two_clerks_stood_in(bot_stage)
    storage = bot_stage.services.storage
    clerks = [await storage.users.get(STAFF), await storage.users.get(OTHER_STAFF)]
    nanhui = await nanhui_id(bot_stage)
    made = await asyncio.gather(*(bot_stage.services.head_invites.for_stand_in(person, nanhui)
                                  for person in clerks if person is not None))
    tokens = {press.made.invite.token for press in made if press is not None and press.made is not None}
    assert len(tokens) == 1 and await standing_for_nanhui(bot_stage) == list(tokens)


async def test_after_a_new_invitation_is_asked_for_the_newest_is_the_one_shown_again(bot_stage: Stage) -> None:
    """The new one is asked for when the first link went to the wrong person: that one must not be handed out again."""
    clerk, colleague = await two_clerks_stood_in(bot_stage)
    await clerk.press(INVITE_NANHUI, reminder_of(clerk))
    first = link_token(clerk.last_message().text)
    bot_stage.clock.advance(timedelta(minutes=5))
    await colleague.press(INVITE_NANHUI, reminder_of(colleague))
    await colleague.press(FRESH)
    fresh = link_token(colleague.last_message().text)
    bot_stage.clock.advance(timedelta(minutes=5))
    await clerk.press(INVITE_NANHUI, reminder_of(clerk))
    shown = clerk.last_message().text
    assert "已有一个尚未使用的邀请" in shown
    assert link_token(shown) == fresh != first


async def test_homes_past_the_reminders_eight_button_rows_are_told_to_use_invite(bot_stage: Stage) -> None:
    """Ten homes listed, eight "✉️ 邀请负责人" buttons (the reminder's rows): the other two had no word of why."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    clerk = await clerk_alone(bot_stage)
    await long_named_centres(bot_stage, "330302001", count=12)
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    reminder = clerk.last_message()
    assert reminder.text.count(NO_HEAD) == 10
    assert len(reminder.buttons) == 8
    assert "此后提醒将直接发给负责人。\n\n另有 2 家未列按钮，请用 /invite 邀请。\n\n……另有 4 条提醒" in reminder.text


async def test_a_reminder_with_a_button_for_every_home_says_nothing_more(bot_stage: Stage) -> None:
    clerk = await stood_in_on_the_25th(bot_stage)
    assert "未列按钮" not in clerk.last_message().text
