"""Every kind of notice, as its recipients read it, and the small pieces of wording behind the dossier."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import start_notice_sender
from bot.domain.catalog import Severity
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.withdrawal import WithdrawalCategory
from bot.i18n import LANGUAGES, catalog_messages
from bot.stage import Stage
from handlers.hazard import MESSAGE_BUDGET, _pack
from tests.calendar_people import local
from tests.hazard_people import CADRE, HEAD, STAFF, act, cast, hazard_now, report, submitted
from tests.warning_people import containing, deliver_what_is_due, drain

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_a_hazard_nobody_heads_goes_to_county_staff_saying_why(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage, institution="WZ-330302-ELDER-02")
    notice = people.staff.last_message()
    assert f"新隐患 {hazard.code}：暂无责任人" in notice.text and "尚未在本助手注册" in notice.text
    assert notice.buttons == [["详情"]]
    assert hazard.code in people.group.last_message().text


async def test_assignment_late_acceptance_reopening_and_new_evidence_are_told(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    services = bot_stage.services
    staff = await people.user(STAFF)
    hazard = await report(bot_stage, institution="WZ-330302-ELDER-02")
    new_deadline = bot_stage.clock.now() + timedelta(days=2)
    await services.hazards.act(
        staff, hazard.id, HazardAction.ASSIGN, assignee_id=HEAD, deadline=new_deadline
    )
    await bot_stage.sandbox.settle()
    notice = people.head.last_message()
    assert "You are now responsible for hazard" in notice.text
    assert notice.buttons == [["Acknowledge"], ["📤 Submit the fix"], ["Ask for more time"], ["Details"]]

    bot_stage.clock.advance(timedelta(days=3))
    await submitted(bot_stage, hazard)
    await people.staff.press("Accept", people.staff.last_message())
    assert "recorded as late" in people.staff.last_message().text
    assert "after its deadline" in people.head.last_message().text

    await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="The exit is blocked again")
    reopened = people.head.last_message()
    assert "was reopened" in reopened.text and "The exit is blocked again" in reopened.text
    assert reopened.buttons == [["📤 Submit the fix again"], ["Details"]]
    assert "must be rectified again" in people.cadre.last_message().text

    await act(bot_stage, CADRE, hazard, HazardAction.ADD_EVIDENCE, photos=1)
    assert "New photos were added" in people.head.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING


async def test_the_reporter_can_open_or_answer_every_turn_of_their_hazard(bot_stage: Stage) -> None:
    """The reporter's notices that a fix was submitted, rejected or the hazard reopened came without buttons, while
    those of its closing and withdrawal had 💬 留言 and 详情: to look or to say "it is not fixed" they had to find
    the code and type /hazard. Now each has both."""
    people = await cast(bot_stage)
    cadre = people.cadre
    hazard = await submitted(bot_stage, await report(bot_stage))
    told = cadre.last_message()
    assert told.text.startswith(f"📤 您上报的隐患 {hazard.code}") and "正在等待县级民政部门验收" in told.text
    assert told.buttons == [["💬 留言"], ["详情"]]

    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="照片看不清通道")
    told = cadre.last_message()
    assert told.text.startswith(f"↩️ 隐患 {hazard.code}") and told.buttons == [["💬 留言"], ["详情"]]
    await cadre.press("💬 留言", told)
    assert hazard.code in cadre.last_message().text and "留言" in cadre.last_message().text
    await cadre.send_text("/cancel")
    await cadre.press("详情", told)
    assert any(m.text.startswith(f"📄 隐患 {hazard.code}") for m in cadre.messages()[-4:])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_state_and_history_step_has_a_name(language: str) -> None:
    messages = catalog_messages(language)
    for state in HazardState:
        assert messages.get(f"state.{state.value}"), state
    for action in [*HazardAction, "report"]:
        assert messages.get(f"event.{action}"), action


def test_a_long_history_is_split_between_entries_never_inside_one() -> None:
    parts = [f"<b>{n}</b> " + "步" * 900 for n in range(8)]
    messages = _pack(parts)
    assert len(messages) > 1 and all(len(m) <= MESSAGE_BUDGET for m in messages)
    assert "\n\n".join(messages) == "\n\n".join(parts)


async def test_notices_that_waited_for_the_bot_tell_each_change_as_it_was(bot_stage: Stage) -> None:
    """Worded when the change was made: a notice that waits (the sender stopped, Telegram down) still tells its own
    change, not the hazard as it is by the time it goes out."""
    people = await cast(bot_stage, "en")
    services = bot_stage.services
    hazard = await report(bot_stage)
    await bot_stage.application.bot_data["notice_sender"].stop()  # nothing goes out for a while
    staff = await people.user(STAFF)
    assert hazard.deadline is not None
    second, third = hazard.deadline + timedelta(days=2), hazard.deadline + timedelta(days=5)
    await services.hazards.act(staff, hazard.id, HazardAction.CHANGE_DEADLINE, deadline=second, reason="Parts late")
    await services.hazards.act(staff, hazard.id, HazardAction.CHANGE_DEADLINE, deadline=third, reason="Crew late")
    await bot_stage.sandbox.settle()
    before = len(people.head.messages())
    assert await services.outbox.owed() == 2

    start_notice_sender(bot_stage.application)
    await bot_stage.sandbox.settle()
    told = [m.text for m in people.head.messages()[before:]]
    moments = [when(moment, SHANGHAI) for moment in (hazard.deadline, second, third)]
    assert len(told) == 2
    assert f"{moments[0]} → {moments[1]}" in told[0] and "Parts late" in told[0]
    assert f"{moments[1]} → {moments[2]}" in told[1] and "Crew late" in told[1]


def when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


async def test_a_general_hazard_found_at_night_is_told_when_quiet_hours_end(bot_stage: Stage) -> None:
    """A 一般 hazard reported at 23:30 woke the head (and buzzed the group) at once, though its reminders wait out
    quiet hours (22:00-07:30): its notices now wait for 07:30 in the outbox, and arrive once."""
    people = await cast(bot_stage)
    bot_stage.clock.set(local(2026, 11, 19, 23, 30))
    hazard = await report(bot_stage, description="二楼走廊消防通道被杂物堵塞")
    await deliver_what_is_due(bot_stage)
    assert not containing(people.head, hazard.code) and not containing(people.group, hazard.code)
    await bot_stage.restart()  # held in SQLite, not in memory

    bot_stage.clock.set(local(2026, 11, 20, 7, 29))
    await deliver_what_is_due(bot_stage)
    assert not containing(people.head, hazard.code)
    bot_stage.clock.set(local(2026, 11, 20, 7, 30))
    await drain(bot_stage)
    await drain(bot_stage)
    (notice,) = containing(people.head, hazard.code)
    assert "本机构有新的安全隐患" in notice.text and "整改期限：2026-11-26 23:30" in notice.text
    assert len(containing(people.group, hazard.code)) == 1


async def test_a_serious_hazard_found_at_night_is_told_at_once(bot_stage: Stage) -> None:
    """A 重大 hazard is urgent: its notices do not wait for the morning."""
    people = await cast(bot_stage)
    bot_stage.clock.set(local(2026, 11, 19, 23, 30))
    hazard = await report(bot_stage, severity=Severity.SERIOUS, description="配电箱冒烟")
    await deliver_what_is_due(bot_stage)
    (notice,) = containing(people.head, hazard.code)
    assert "本机构有新的安全隐患" in notice.text
    assert len(containing(people.group, hazard.code)) == 1


async def test_notices_held_for_the_morning_tell_the_hazard_as_it_is_by_then(bot_stage: Stage) -> None:
    """Notices held through quiet hours were worded when queued: a hazard withdrawn in the night is not announced
    at 07:30 (nor its withdrawal, to those who never heard of it), and a head who acknowledged a hazard at 00:30 is
    not asked at 07:30 to confirm they received it. Others still hear of a hazard that stands."""
    people = await cast(bot_stage)
    services = bot_stage.services
    staff = await people.user(STAFF)
    bot_stage.clock.set(local(2026, 11, 19, 23, 30))
    withdrawn = await report(bot_stage, description="一号：走廊杂物堵塞")
    bot_stage.clock.set(local(2026, 11, 19, 23, 40))
    await services.hazards.withdraw(staff, withdrawn.id, WithdrawalCategory.MISTAKEN, "看错了，是别家机构")
    bot_stage.clock.set(local(2026, 11, 19, 23, 50))
    standing = await report(bot_stage, description="二号：灭火器过期")
    bot_stage.clock.set(local(2026, 11, 20, 0, 30))
    await act(bot_stage, HEAD, standing, HazardAction.ACKNOWLEDGE)
    await deliver_what_is_due(bot_stage)
    await bot_stage.restart()  # what is held, and what is cancelled, is in SQLite

    bot_stage.clock.set(local(2026, 11, 20, 7, 30))
    await drain(bot_stage)
    await drain(bot_stage)
    assert not containing(people.head, withdrawn.code) and not containing(people.group, withdrawn.code)
    (told,) = containing(people.cadre, withdrawn.code)  # who reported it knew of it: told it was withdrawn
    assert "已作废" in told.text
    assert not containing(people.head, standing.code)  # they know: they acknowledged it
    (posted,) = containing(people.group, standing.code)
    assert "新隐患" in posted.text
