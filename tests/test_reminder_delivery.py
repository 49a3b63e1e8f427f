"""Reminders as people receive them: the clock moves past deadlines and duties, a sweep runs, and each person gets
ONE message in their language with the buttons that settle it; quiet hours, a blocked bot and flood control too."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from bot import jobs
from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardState
from bot.domain.reminders import ReminderKind
from bot.domain.roles import Role
from bot.i18n import Translator
from bot.jobs import SendDelivery, SweepReport, Ticker, plan_once, sweep_once
from bot.sandbox import SimGroup
from bot.services.reminder_items import ItemBuilder, ReminderItem
from bot.services.reminders import CLAIM_LEASE, Delivery, ReminderService
from bot.stage import Stage
from bot.workers import HOST
from handlers import reminder_text
from handlers import reminders as reminder_handlers
from handlers.reminders import send_delivery
from storage import db
from storage.calendar_models import ReminderState, SubjectType
from storage.models import Group, GroupPurpose
from storage.repositories.reminders import ClaimedReminder
from tests.calendar_people import local
from tests.db_faults import failing_first
from tests.hazard_people import HEAD, HOME, LONGWAN, LUCHENG, STAFF, cast, long_named_centres, report, submitted
from tests.test_institution_card import log_drill
from tests.test_workers import exited_pid


def sender(stage: Stage) -> SendDelivery:
    return partial(send_delivery, stage.application.bot, stage.services)


async def sweep(stage: Stage) -> SweepReport:
    report = await sweep_once(stage.services, sender(stage))
    await stage.sandbox.settle()
    return report


async def test_an_overdue_hazard_reminds_the_head_and_county_staff_every_week_until_it_is_submitted(
    bot_stage: Stage,
) -> None:
    """Nothing forgotten: the head who never acts hears of the overdue hazards every week, in one 09:00 message with
    the buttons that act on them, and so do the county staff (with Assign), as the city does; a hazard submitted
    drops out of the next week's."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    first = await report(bot_stage)  # deadline 2026-03-09 10:00
    second = await report(bot_stage, description="二楼疏散指示灯不亮")
    for day in range(3, 17):  # a daily plan and the sweeps of every day, to the first weekly repeat
        bot_stage.clock.set(local(2026, 3, day, 8))
        await plan_once(bot_stage.services)
        for hour in (9, 10, 11):
            bot_stage.clock.set(local(2026, 3, day, hour))
            await sweep(bot_stage)
    # Three days overdue on 12 March (the city heard on the 13th at 09:00), then weekly on Mondays at 09:00, with
    # everything else still overdue: the first on the 16th.
    on_16th = [m for m in people.head.messages() if "⏰ 隐患" in m.text and "已逾期" in m.text]
    assert len(on_16th) == 1
    text = on_16th[0].text
    assert f"隐患 {first.code} 已逾期 6 天，请尽快整改并提交整改结果" in text
    assert f"隐患 {second.code} 已逾期 6 天，请尽快整改并提交整改结果" in text
    assert "责任人" not in text
    assert on_16th[0].buttons[:2] == [[f"📤 提交整改 {first.code}", f"详情 {first.code}"], [f"申请延期 {first.code}"]]
    to_staff = people.staff.last_message()
    assert f"隐患 {first.code} 已逾期 6 天" in to_staff.text and "责任人：陈院长" in to_staff.text
    assert [f"详情 {first.code}", f"指定责任人 {first.code}"] in to_staff.buttons

    await submitted(bot_stage, second)  # handed in: no longer the head's to be reminded of
    for day in range(17, 24):  # Tuesday to the next Monday: nothing until Monday
        bot_stage.clock.set(local(2026, 3, day, 8))
        await plan_once(bot_stage.services)
        bot_stage.clock.set(local(2026, 3, day, 9))
        await sweep(bot_stage)
    overdue = [m.text for m in people.head.messages() if "⏰ 隐患" in m.text and "已逾期" in m.text]
    assert len(overdue) == 2
    assert f"隐患 {first.code} 已逾期 13 天" in overdue[1] and second.code not in overdue[1]


async def test_a_county_group_bound_for_hazards_alone_gets_the_monday_list_of_the_countys_overdue(
    bot_stage: Stage,
) -> None:
    """Lucheng's hazards group takes no digest, so after the three-day escalation it heard nothing more of hazards
    left overdue, while its clerk was reminded every Monday. It gets the Monday list too: one message at 09:00,
    headed as the group's, with no buttons; a group bound as general does not (its 08:30 digest lists them), and a
    hazard handed in drops out of the next Monday's."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    general = bot_stage.sandbox.group(chat_id=-1002, title="鹿城区民政工作群")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=-1002, title=general.title, region_code=LUCHENG, purpose=GroupPurpose.GENERAL,
              bound_by=STAFF, bound_at=bot_stage.clock.now())
    )
    first = await report(bot_stage)  # deadline 2026-03-09 10:00
    second = await report(bot_stage, description="二楼疏散指示灯不亮")

    async def days(first_day: int, last_day: int) -> None:  # each day's plan, then its sweeps
        for day in range(first_day, last_day + 1):
            bot_stage.clock.set(local(2026, 3, day, 8))
            await plan_once(bot_stage.services)
            for hour in (9, 10, 11):
                bot_stage.clock.set(local(2026, 3, day, hour))
                await sweep(bot_stage)

    def lists(group: SimGroup) -> list[str]:  # with a hazard's reminder ("⏰ 隐患 …"; a digest lists "• YH-…")
        return [m.text for m in group.messages() if "⏰ 隐患" in m.text]

    await days(3, 16)  # the three-day escalation on Friday 13 March, then Monday 16 March
    escalation, monday = lists(people.group)
    assert "已逾期 3 天" in escalation
    assert monday.startswith("🔔 鹿城区待办提醒 2 条") and "您有" not in monday
    assert f"隐患 {first.code} 已逾期 6 天" in monday and f"隐患 {second.code} 已逾期 6 天" in monday
    assert [m.buttons for m in people.group.messages() if m.text == monday] == [[]]
    assert len(lists(general)) == 1  # the escalation alone (with that day's digest): the digest lists the overdue

    await submitted(bot_stage, second)
    await days(17, 23)  # nothing from Tuesday to Sunday, then the next Monday's list
    *_, next_monday = lists(people.group)
    assert len(lists(people.group)) == 3
    assert f"隐患 {first.code} 已逾期 13 天" in next_monday
    assert second.code not in next_monday
    assert len(lists(general)) == 1

    # Rebound as general, it reads the overdue in its digest, and is sent no Monday list on top.
    staff = people.staff
    await staff.send_text("/bindgroup", chat=people.group)
    await staff.press("✏️ 更改绑定", chat=people.group)
    await staff.press("鹿城区", chat=people.group)
    await staff.press_data(staff.last_message(chat=people.group), f"bind:purpose:{LUCHENG}:general", chat=people.group)
    await days(24, 30)
    assert len(lists(people.group)) == 3
    assert f"{first.code} 鹿城区社会福利院，逾期 20 天" in people.group.last_message().text  # Monday's digest


async def test_the_head_is_nudged_on_the_months_last_day_and_told_on_the_1st_that_it_was_missed(
    bot_stage: Stage,
) -> None:
    """The monthly self-inspection: the 25th, then the month's last day at 09:00 while the sheet is not finished,
    with the button to start it; on the 1st the head hears the new month has opened and that last month was missed
    (the clerk is told so the same morning)."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    for day, hour in ((30, 8), (31, 8), (31, 9), (31, 10)):
        bot_stage.clock.set(local(2026, 3, day, hour))
        if hour == 8:
            await plan_once(bot_stage.services)
        await sweep(bot_stage)
    last_day = people.head.last_message()
    assert "今天是本月自查的最后一天" in last_day.text and "2026-03-31" in last_day.text
    assert last_day.buttons == [["📋 开始本月自查"]]
    before = len(people.head.messages())
    bot_stage.clock.set(local(2026, 4, 1, 8))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 4, 1, 9))
    await sweep(bot_stage)
    [opened] = [m for m in people.head.messages()[before:] if "月度隐患自查已开始" in m.text]
    assert "2026年3月的月度自查未完成，已记为未完成。" in opened.text
    assert "未完成2026年3月的月度隐患自查" in people.staff.last_message().text


async def test_after_an_outage_past_the_months_end_the_last_day_nudge_is_dropped_not_sent_late(
    bot_stage: Stage,
) -> None:
    """Down from the morning of 31 March to 3 April: the head is not told "today is the last day… by 2026-03-31"
    in the message that says March was missed; the new month's opening and the miss still come, marked late."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    bot_stage.clock.set(local(2026, 3, 31, 8))
    await plan_once(bot_stage.services)  # the last day's nudge is planned for 09:00; then the bot goes down
    bot_stage.clock.set(local(2026, 4, 3, 10))
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    told = people.head.last_message().text
    assert "2026年4月的月度隐患自查已开始" in told and "2026年3月的月度自查未完成，已记为未完成。" in told
    assert "最后一天" not in told and "2026-03-31" not in told
    assert "延后补发" in told
    last_days = await bot_stage.services.storage.reminders.find(kind=ReminderKind.SELF_INSPECTION_LAST_DAY)
    [dropped] = [r for r in last_days if r.recipient_id == HEAD and r.due_at < local(2026, 4, 1)]
    assert dropped.state is ReminderState.CANCELLED  # settled: no later sweep sends it either


async def test_a_group_bound_after_the_digests_slot_gets_that_days_digest_without_a_late_note(
    bot_stage: Stage,
) -> None:
    """Bound at 10:00, the county's group was not kept waiting since 08:30: its first digest is not "late"."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    await cast(bot_stage)
    digests = bot_stage.sandbox.group(chat_id=-1002, title="鹿城区民政安全日报群")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=-1002, title=digests.title, region_code=LUCHENG, purpose=GroupPurpose.DIGESTS,
              bound_by=STAFF, bound_at=bot_stage.clock.now())
    )
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    daily = digests.last_message()
    assert "鹿城区 安全工作日报" in daily.text and "延后补发" not in daily.text


async def test_several_late_reminders_in_one_message_say_they_are_late_once(bot_stage: Stage) -> None:
    """The bot down across several deadlines: the head's one message lists them, and says once, under them, that
    they come late and since when, rather than the same sentence under each. Late ones among others that are on
    time each say so, as a message of one does."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    late = [(await report(bot_stage, description=f"第{n}处消防通道被杂物堵塞")).code for n in (1, 2, 3)]
    bot_stage.clock.set(local(2026, 3, 9, 10, 30))  # half an hour after the three deadlines, and no sweep meanwhile
    await sweep(bot_stage)
    text = people.head.last_message().text
    assert all(f"隐患 {code} 已到整改期限" in text for code in late)
    assert text.count("延后补发") == 1
    assert text.endswith("（以上提醒原定于 2026-03-09 10:00 起陆续发送，现延后补发。）")

    bot_stage.clock.set(local(2026, 3, 10, 10))
    late = [(await report(bot_stage, description=f"第{n}处安全出口被锁闭")).code for n in (4, 5)]
    bot_stage.clock.set(local(2026, 3, 10, 10, 27))
    on_time = (await report(bot_stage, description="第6处安全出口被锁闭")).code
    bot_stage.clock.set(local(2026, 3, 17, 10, 30))  # two deadlines half an hour past, one three minutes
    await sweep(bot_stage)
    paragraphs = people.head.last_message().text.split("\n\n")
    said_late = [code for code in [*late, on_time] for p in paragraphs if code in p and "延后补发" in p]
    assert said_late == late, paragraphs
    assert "起送达" not in paragraphs[-1]


async def test_late_reminders_due_at_different_times_say_since_the_first_was_due(bot_stage: Stage) -> None:
    """The bot down across two deadlines twenty minutes apart: the one sentence under them names the earlier."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    await report(bot_stage, description="第1处消防通道被杂物堵塞")
    bot_stage.clock.set(local(2026, 3, 2, 10, 20))
    await report(bot_stage, description="第2处消防通道被杂物堵塞")
    bot_stage.clock.set(local(2026, 3, 9, 11))  # an hour and forty minutes past the two deadlines, no sweep meanwhile
    await sweep(bot_stage)
    text = people.head.last_message().text
    assert text.count("延后补发") == 1
    assert text.endswith("（以上提醒原定于 2026-03-09 10:00 起陆续发送，现延后补发。）")


async def test_past_the_deadline_the_head_and_county_staff_get_one_message_each(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    city = bot_stage.sandbox.user(user_id=90, first_name="王局长")
    await bot_stage.register(city, Role.CITY)
    hazard = await report(bot_stage)  # 一般: deadline 2026-03-09 10:00
    head_before, staff_before = len(head.messages()), len(staff.messages())

    bot_stage.clock.set(local(2026, 3, 10, 11))  # a day and an hour late, and no sweep ran meanwhile
    result = await sweep(bot_stage)
    assert sorted(d.recipient_id for d in result.sent) == [HEAD, STAFF]

    assert len(head.messages()) == head_before + 1
    to_head = head.last_message()
    assert f"隐患 {hazard.code} 已到整改期限" in to_head.text and "2026-03-09 10:00" in to_head.text
    assert "延后补发" in to_head.text  # late: it fell due when nothing swept
    assert "责任人" not in to_head.text  # the head is the one responsible: not named to themselves
    assert to_head.buttons == [[f"📤 提交整改 {hazard.code}", f"详情 {hazard.code}"], [f"申请延期 {hazard.code}"]]

    assert len(staff.messages()) == staff_before + 1
    to_staff = staff.last_message()
    # County staff: the deadline, with whose it is; "a day overdue" waits for the next morning's escalations.
    assert f"隐患 {hazard.code} 已到整改期限" in to_staff.text and "责任人：陈院长" in to_staff.text
    assert "延后补发" in to_staff.text
    assert to_staff.buttons == [[f"详情 {hazard.code}"]]

    await staff.press(f"详情 {hazard.code}", to_staff)
    assert any("处置记录" in m.text and hazard.code in m.text for m in staff.messages()[staff_before + 1 :])
    await head.press(f"📤 提交整改 {hazard.code}", to_head)  # the reminder's button opens the rectification
    assert "第 1 步" in head.last_message().text

    assert (await sweep(bot_stage)).sent == []  # nothing is sent twice
    bot_stage.clock.set(local(2026, 3, 11, 9))
    result = await sweep(bot_stage)
    assert [d.recipient_id for d in result.sent] == [STAFF]
    assert f"隐患 {hazard.code} 已逾期 1 天 23 小时" in staff.last_message().text
    bot_stage.clock.set(local(2026, 3, 12, 11))
    assert (await sweep(bot_stage)).sent == []  # three days late: the city hears with the next morning's batch
    bot_stage.clock.set(local(2026, 3, 13, 9))
    result = await sweep(bot_stage)  # the city and the county's group
    assert sorted(d.recipient_id for d in result.sent) == sorted([90, people.group.chat_id])
    assert "责任人：陈院长" in city.last_message().text
    post = people.group.last_message()
    assert hazard.code in post.text and "责任人：陈院长" in post.text and post.buttons == []


async def test_non_urgent_reminders_wait_for_the_morning_urgent_ones_do_not(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 23))
    people = await cast(bot_stage, "en")
    head, staff = people.head, people.staff
    general = await report(bot_stage)  # deadline 2026-03-09 23:00, in quiet hours
    serious = await report(bot_stage, severity=Severity.SERIOUS, description="Gas smell in the kitchen")
    head_before = len(head.messages())

    bot_stage.clock.set(local(2026, 3, 3, 21, 30))  # quiet hours start at 22:00: not yet
    await sweep(bot_stage)
    bot_stage.clock.set(local(2026, 3, 3, 23, 5))  # the serious hazard's deadline, at night
    result = await sweep(bot_stage)
    assert [d.recipient_id for d in result.sent] == [HEAD, STAFF]
    urgent = head.last_message()
    assert urgent.text.startswith("🚨") and f"Hazard {serious.code} has reached its deadline" in urgent.text
    assert urgent.buttons == [
        [f"📤 Submit fix {serious.code}", f"Details {serious.code}"], [f"More time for {serious.code}"]
    ]
    assert len(head.messages()) == head_before + 2  # 2 hours before (21:00), then the deadline

    # Close the serious one, so that only the general hazard is left to remind of.
    await _close(bot_stage, serious.id)
    head_before, staff_before = len(head.messages()), len(staff.messages())
    bot_stage.clock.set(local(2026, 3, 9, 23, 30))
    assert (await sweep(bot_stage)).sent == []
    bot_stage.clock.set(local(2026, 3, 10, 7, 0))
    assert (await sweep(bot_stage)).sent == []
    bot_stage.clock.set(local(2026, 3, 10, 7, 31))
    result = await sweep(bot_stage)
    assert sorted(d.recipient_id for d in result.sent) == [HEAD, STAFF]
    assert len(head.messages()) == head_before + 1 and len(staff.messages()) == staff_before + 1
    morning = head.last_message().text
    assert f"Hazard {general.code} has reached its deadline" in morning and not morning.startswith("🚨")
    assert "Person responsible: Chen" in staff.last_message().text


async def test_a_head_who_blocked_the_bot_is_undeliverable_and_never_retried(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    people.head.block_bot()
    await bot_stage.sandbox.settle()

    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    result = await sweep(bot_stage)
    assert [d.recipient_id for d in result.failed] == [HEAD]
    assert [d.recipient_id for d in result.sent] == [STAFF]
    audit = await bot_stage.services.storage.audit.list(action_prefix="reminder.")
    assert [(e.action, e.target, e.detail["error"]) for e in audit] == [
        ("reminder.undeliverable", f"chat:{HEAD}", "Forbidden")
    ]
    rows = await bot_stage.services.storage.reminders.find(subject=(SubjectType.HAZARD, str(hazard.id)))
    assert {r.state for r in rows if r.recipient_id == HEAD and r.step in ("before24h", "before2h", "deadline")} == {
        ReminderState.FAILED
    }

    calls = len(bot_stage.sandbox.calls_to("sendMessage"))
    bot_stage.clock.set(local(2026, 3, 9, 14))
    again = await sweep(bot_stage)
    assert again.failed == [] and again.retried == [] and again.sent == []
    assert len(bot_stage.sandbox.calls_to("sendMessage")) == calls


async def test_flood_control_is_retried_and_delivered_once(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    await report(bot_stage)
    bot_stage.sandbox.inject_fault("sendMessage", "429", times=1, chat_id=STAFF)
    staff_before = len(people.staff.messages())

    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    first = await sweep(bot_stage)
    assert [d.recipient_id for d in first.retried] == [STAFF] and len(people.staff.messages()) == staff_before
    bot_stage.clock.set(local(2026, 3, 9, 10, 3))
    second = await sweep(bot_stage)
    assert [d.recipient_id for d in second.sent] == [STAFF]
    assert len(people.staff.messages()) == staff_before + 1


async def test_duty_reminders_carry_the_button_that_starts_the_duty(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 5, 31, 8))
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    digests = bot_stage.sandbox.group(chat_id=-1002, title="鹿城区民政安全日报群")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=-1002, title=digests.title, region_code=LUCHENG, purpose=GroupPurpose.DIGESTS, bound_by=STAFF,
              bound_at=bot_stage.clock.now())
    )

    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 5, 31, 9, 1))
    await sweep(bot_stage)
    assert digests.messages() == []  # a Sunday: the daily digest comes on working days
    drill = head.last_message()
    assert "鹿城区社会福利院：2026年上半年尚未开展消防演练，请在 2026-06-30 前开展并记录" in drill.text
    # 31 May is also the month's last day: the self-inspection's last nudge comes in the same message.
    assert "今天是本月自查的最后一天" in drill.text
    # The self-inspection due today comes before the drill due by 30 June: the soonest due first.
    assert drill.text.index("今天是本月自查的最后一天") < drill.text.index("尚未开展消防演练")
    assert drill.buttons == [["📋 开始本月自查"], ["🔥 记录演练"]]
    await head.press("🔥 记录演练", drill)
    assert "第 1 步" in head.last_message().text
    await head.send_text("/cancel")

    bot_stage.clock.set(local(2026, 6, 1, 9, 1))
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    # Monday's digest covers the weekend, from Friday's.
    daily = digests.last_message()
    assert "鹿城区 安全工作日报（2026-05-29 08:30 至 2026-06-01 08:30）" in daily.text and daily.buttons == []
    assert "鹿城区社会福利院" in daily.text  # its drill is due and its May self-inspection missed
    opened = head.last_message()
    assert "2026年6月的月度隐患自查已开始" in opened.text and opened.buttons == [["📋 开始本月自查"]]
    overdue = staff.last_message()  # May was never inspected: the county hears of both Lucheng homes at once
    assert "您有 2 条待办提醒" in overdue.text and overdue.text.count("未完成2026年5月的月度隐患自查") == 2
    # Nobody can be named for a home's missed duty: the line and its button say to invite a head.
    assert "责任人：陈院长" in overdue.text and "责任人：该机构尚无已注册的负责人" in overdue.text
    invite = next(label for row in overdue.buttons for label in row if label.startswith("✉️ 邀请负责人"))
    assert "南汇" in invite and not any("社会福利院" in label for row in overdue.buttons for label in row)
    await staff.press(invite, overdue)
    assert "已生成邀请（鹿城区南汇街道居家养老服务中心的机构负责人）" in staff.last_message().text
    await head.press("📋 开始本月自查", opened)
    assert "月度隐患自查（2026年6月）" in head.last_message().text


async def _close(stage: Stage, hazard_id: int) -> None:
    """Close a hazard through the service, as head and staff would (their journeys have tests of their own)."""
    from bot.domain.lifecycle import HazardAction
    from tests.hazard_people import act, hazard_now

    hazard = await stage.services.storage.hazards.get(hazard_id)
    assert hazard is not None
    await act(stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await act(stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已更换燃气软管", photos=1)
    await act(stage, STAFF, hazard, HazardAction.ACCEPT)
    assert (await hazard_now(stage, hazard)).kind.value == "closed"


async def test_reminders_a_killed_bot_had_claimed_go_out_at_once_after_the_restart(
    bot_stage: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    head_before = len(people.head.messages())
    bot_stage.clock.set(local(2026, 3, 10, 11))
    # The bot before the restart claimed the head's and staff's reminders and was killed before sending them.
    killed = f"reminders@{HOST}:{exited_pid()}:0badf00d:000000"
    claimed = await bot_stage.services.reminders.sweep(bot_stage.clock.now(), killed)
    assert sorted(d.recipient_id for d in claimed) == [HEAD, STAFF]
    assert len(people.head.messages()) == head_before

    with caplog.at_level(logging.WARNING, logger="bot.services.reminders"):
        result = await sweep(bot_stage)  # the restarted bot's first tick, well within the claim's lease
    assert sorted(d.recipient_id for d in result.sent) == [HEAD, STAFF]
    # Each row taken back is named: if the killed bot had sent it after all, the second copy is explained.
    given_back = [r.getMessage() for r in caplog.records if "queued again (it may arrive twice)" in r.getMessage()]
    assert sorted(given_back) == sorted(
        f"reminder {row} to chat {d.recipient_id}: claim by {killed} died with it; queued again (it may arrive twice)"
        for d in claimed for row in d.reminder_ids
    )
    assert len(people.head.messages()) == head_before + 1
    assert f"隐患 {hazard.code} 已到整改期限" in people.head.last_message().text
    assert (await sweep(bot_stage)).sent == []


async def test_a_reminder_delivered_while_the_database_refuses_its_record_goes_out_once(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram took the head's reminder, then the database refused to record it ("database is locked"). The
    round used to end there, with the staff member's reminder unsent and the head's still claimed, and once the
    claim's lease ran out the head was reminded a second time."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    head_before, staff_before = len(people.head.messages()), len(people.staff.messages())
    monkeypatch.setattr(db, "REFUSED_RETRY_FIRST", 0.05)
    def the_heads(service: ReminderService, delivery: Delivery) -> bool:
        return delivery.recipient_id == HEAD

    locked = sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(ReminderService, "confirm", failing_first(ReminderService.confirm, 1, locked, when=the_heads))
    bot_stage.clock.set(local(2026, 3, 10, 11))
    with caplog.at_level(logging.WARNING, logger="bot.jobs"):
        result = await sweep(bot_stage)
    assert sorted(d.recipient_id for d in result.sent) == [HEAD, STAFF]
    assert any("not saved (database is locked); trying again" in r.getMessage() for r in caplog.records)
    bot_stage.clock.advance(CLAIM_LEASE * 2)
    assert (await sweep(bot_stage)).sent == []
    assert len(people.head.messages()) == head_before + 1
    assert len(people.staff.messages()) == staff_before + 1
    assert f"隐患 {hazard.code} 已到整改期限" in people.head.last_message().text


async def test_after_a_restart_what_fell_due_meanwhile_goes_out_at_once_not_a_tick_later(bot_stage: Stage) -> None:
    """The running bot's own minute tick (not a test's sweep): its first tick comes as the bot starts. A repeating
    job whose first run is "now" was first run a whole interval later by the scheduler, so after every restart
    reminders that fell due while the bot was down waited another minute."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    head_before = len(people.head.messages())
    await bot_stage.stop_bot()
    bot_stage.clock.set(local(2026, 3, 10, 11))  # past the deadline while the bot was down
    bot_stage.background = True
    await bot_stage.start_bot()
    await bot_stage.sandbox.wait_for(lambda: len(people.head.messages()) > head_before, timeout=10)
    assert f"隐患 {hazard.code} 已到整改期限" in people.head.last_message().text


async def test_a_reminder_that_cannot_be_worded_holds_up_no_other(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fault not yet known, injected into wording one hazard's reminders: that row waits and is tried again; the
    rest go out. Before, the round failed, and each tick after claimed the same row first and failed again: one bad
    row stopped every reminder of the city."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    broken, fine = await report(bot_stage), await report(bot_stage, description="配电箱前堆放纸箱")
    build = ItemBuilder.build

    async def faulty(builder: ItemBuilder, reminder: ClaimedReminder) -> ReminderItem | None:
        if reminder.subject_id == str(broken.id):
            raise RuntimeError("a fault of ours")
        return await build(builder, reminder)

    monkeypatch.setattr(ItemBuilder, "build", faulty)
    bot_stage.clock.set(local(2026, 3, 10, 11))
    with caplog.at_level(logging.ERROR, logger="bot.services.reminder_items"):
        result = await sweep(bot_stage)
    assert sorted(d.recipient_id for d in result.sent) == [HEAD, STAFF]
    to_head = people.head.last_message().text
    assert fine.code in to_head and broken.code not in to_head
    assert any("could not be worded" in r.getMessage() for r in caplog.records)

    monkeypatch.setattr(ItemBuilder, "build", build)  # mended
    assert (await sweep(bot_stage)).sent == []  # not before its retry time
    bot_stage.clock.set(local(2026, 3, 10, 11, 2))
    result = await sweep(bot_stage)
    assert sorted(d.recipient_id for d in result.sent) == [HEAD, STAFF]
    assert broken.code in people.head.last_message().text


async def test_a_reminder_whose_sending_hit_a_fault_of_ours_goes_out_at_its_retry(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault not yet known while sending one person's reminders (after they were claimed and worded): the round
    goes on for the others, and that person's reminder is tried again, not recorded as sent and lost."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    wording = reminder_text.message_text

    def faulty(items: Any, recipient_id: int, *args: Any, **kwargs: Any) -> Any:
        if recipient_id == HEAD:
            raise RuntimeError("a fault of ours")
        return wording(items, recipient_id, *args, **kwargs)

    def told() -> int:
        return sum(hazard.code in message.text for message in people.head.messages())

    before = told()  # the notice of the new hazard
    monkeypatch.setattr(reminder_handlers, "message_text", faulty)
    bot_stage.clock.set(local(2026, 3, 10, 11))
    result = await sweep(bot_stage)
    assert [d.recipient_id for d in result.sent] == [STAFF]
    assert told() == before
    monkeypatch.setattr(reminder_handlers, "message_text", wording)  # mended
    bot_stage.clock.set(local(2026, 3, 10, 11, 2))
    result = await sweep(bot_stage)
    assert [d.recipient_id for d in result.sent] == [HEAD], "the head's reminder was taken for sent and lost"
    assert told() == before + 1


async def test_a_fault_in_planning_the_day_stops_no_reminder_planned_already(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The tick plans the day before it sweeps. A fault not yet known in planning, injected here, ended the tick
    before the sweep: every reminder of the city waited for the fault to be mended."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)  # its reminders are planned as it is reported
    head_before = len(people.head.messages())

    async def faulty(*args: object) -> None:
        raise RuntimeError("a fault of ours")

    monkeypatch.setattr(jobs, "plan_once", faulty)
    bot_stage.clock.set(local(2026, 3, 10, 11))
    ticker = Ticker(sender(bot_stage))
    with caplog.at_level(logging.ERROR, logger="bot.jobs"):
        result = await ticker.tick(bot_stage.services)
    await bot_stage.sandbox.settle()
    assert sorted(d.recipient_id for d in result.sent) == [HEAD, STAFF]
    assert len(people.head.messages()) == head_before + 1 and hazard.code in people.head.last_message().text
    assert any("planning the reminders of 2026-03-10 failed" in r.getMessage() for r in caplog.records)
    assert ticker.planned_day is None  # tried again at the next tick


async def test_a_hundred_hazards_due_at_once_reach_the_official_in_one_message_telegram_accepts(
    bot_stage: Stage,
) -> None:
    """A county's overdue hazards fall due for its staff together: a paragraph each would be more than a Telegram
    message holds, and Telegram would refuse it (the rows marked undeliverable, nobody told). One message lists the
    most pressing and counts the rest, with where to find them."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    staff = people.staff
    hazards = [await report(bot_stage, description=f"第{n}号：消防通道被杂物堵塞") for n in range(100)]
    before = len(staff.messages())

    bot_stage.clock.set(local(2026, 3, 10, 11))  # every deadline a day past ("a day overdue" waits for 09:00)
    result = await sweep(bot_stage)
    assert result.failed == [] and result.retried == []
    assert [d.recipient_id for d in result.sent].count(STAFF) == 1
    assert len(staff.messages()) == before + 1
    message = staff.last_message()
    assert "您有 100 条待办提醒" in message.text
    listed = [hazard for hazard in hazards if f"隐患 {hazard.code} 已到整改期限" in message.text]
    assert listed == hazards[:10]  # the earliest deadlines first
    assert "另有 90 条提醒未逐条列出" in message.text and "/tasks" in message.text
    assert message.buttons == [[f"详情 {hazard.code}"] for hazard in hazards[:8]]  # buttons of listed ones only
    # (The staff member's calendar duties, planned as they registered, fall due in April.)
    to_staff = [
        r
        for r in await bot_stage.services.storage.reminders.find()
        if r.recipient_id == STAFF and r.subject_type is SubjectType.HAZARD and r.due_at <= bot_stage.clock.now()
    ]
    assert {r.state for r in to_staff} == {ReminderState.SENT}  # none failed, none left to send again
    assert {r.subject_id for r in to_staff} == {str(hazard.id) for hazard in hazards}


async def test_a_serious_hazard_is_listed_first_however_many_earlier_hazards_fall_due_with_it(
    bot_stage: Stage,
) -> None:
    """The message lists ten items: a 🚨 重大 hazard past its deadline comes first, before the general ones that fell
    due earlier, and is never among those only counted."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    general = [await report(bot_stage, description=f"第{n}号：消防通道被杂物堵塞") for n in range(12)]
    bot_stage.clock.set(local(2026, 3, 9, 9))
    serious = await report(bot_stage, severity=Severity.SERIOUS, description="燃气管道漏气")

    bot_stage.clock.set(local(2026, 3, 10, 11))  # every deadline past, the serious one's the latest
    await sweep(bot_stage)
    message = people.staff.last_message()
    assert "您有 13 条待办提醒" in message.text
    listed = [h.code for h in [serious, *general] if f"隐患 {h.code} 已到整改期限" in message.text]
    assert listed[:1] == [serious.code], f"listed {len(listed)}; the serious {serious.code} is not among them first"
    assert message.buttons[0] == [f"详情 {serious.code}"]


async def city_digests(stage: Stage, title: str, bound_by: int) -> SimGroup:
    """The city's group for digests (-1003), where the weekly summary goes, bound by `bound_by`."""
    group = stage.sandbox.group(chat_id=-1003, title=title)
    await stage.services.storage.groups.bind(
        Group(chat_id=-1003, title=title, region_code="330300", purpose=GroupPurpose.DIGESTS, bound_by=bound_by,
              bound_at=stage.clock.now())
    )
    return group


async def weekly_summary(stage: Stage, group: SimGroup) -> str:
    """The week's summary the group gets on Monday 1 June 2026 (planned at 8, sent at 9)."""
    stage.clock.set(local(2026, 6, 1, 8))
    await plan_once(stage.services)
    stage.clock.set(local(2026, 6, 1, 9, 1))
    await sweep(stage)
    return group.last_message().text


async def test_the_citys_weekly_summary_in_english_with_long_official_names_fits_one_message(
    bot_stage: Stage,
) -> None:
    """Official names are long in English: the weekly summary's county lines, ten overdue hazards and ten duties of
    such institutions were past what one Telegram message holds, and the city group got nothing that Monday. Each
    list names what fits and counts the rest."""
    bot_stage.services.i18n.default_language = "en"  # as DEFAULT_LANGUAGE=en sets it: groups read English
    bot_stage.clock.set(local(2026, 5, 20, 10))
    await cast(bot_stage, "en")
    storage = bot_stage.services.storage
    home = await storage.institutions.get_by_code(HOME)
    assert home is not None
    for n, centre in enumerate(await long_named_centres(bot_stage, home.region_code), 1):
        if n <= 12:
            for deputy in (0, 100):  # a director and a deputy, both responsible and named
                head = bot_stage.sandbox.user(user_id=1000 + deputy + n, first_name="Ouyang", last_name=f"Xiaoming {n}",
                                              language_code="en")
                await bot_stage.register(head, Role.HEAD, institution=centre.code)
            await report(bot_stage, institution=centre.code, description=f"Blocked fire exit no. {n}")
    weekly = await city_digests(bot_stage, "Wenzhou civil-affairs safety", STAFF)

    bot_stage.clock.set(local(2026, 6, 1, 8))  # a Monday: the week's summary goes to the city's group
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 6, 1, 9, 1))
    result = await sweep(bot_stage)
    assert -1003 in [d.recipient_id for d in result.sent] and result.failed == []
    summary = weekly.last_message().text
    assert "weekly safety summary" in summary and "• Lucheng District: new 0, closed 0, overdue 12" in summary
    named = [n for n in range(1, 13) if f"YH-20260520-{n:04} Wenzhou Lucheng" in summary]
    assert named == list(range(1, len(named) + 1)) and 0 < len(named) < 10
    assert f"… and {12 - len(named)} more" in summary and "Drills and self-inspections due:" in summary


async def test_the_weekly_summary_has_a_line_for_the_institutions_the_city_runs_itself(bot_stage: Stage) -> None:
    """The summary's figures cover the whole city, but its lines were the counties' alone: a hazard at 温州市殡仪馆
    (市直, run by the city bureau) and the city institutions' duties were in no line, so the lines did not add up
    to the figures above them, and the city's own homes were the only ones the summary never named."""
    bot_stage.clock.set(local(2026, 5, 27, 10))
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=90, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await report(bot_stage, 90, institution="WZ-330300-FUNERAL-01", description="遗体运输车刹车异常")
    await report(bot_stage)  # and one in 鹿城区
    city_group = await city_digests(bot_stage, "温州民政安全", 90)

    summary = await weekly_summary(bot_stage, city_group)
    assert "新增隐患 2 件" in summary
    assert "• 鹿城区：新增 1，销号 0，逾期 0" in summary
    assert "• 温州市（市直）：新增 1，销号 0，逾期 0；演练逾期 " in summary
    # 鹿城区's two homes missed the second half of 2025's drill and May's self-inspection: 逾期, not 待办.
    assert "• 鹿城区：新增 1，销号 0，逾期 0；演练逾期 2、即将到期 0，自查逾期 2、即将到期 0" in summary


async def test_the_weekly_summary_counts_missed_drills_and_missed_self_inspections_apart(bot_stage: Stage) -> None:
    """演练逾期 and 自查逾期 are each their own duty's count: with one of 鹿城区's two homes having held its drill,
    the line says one drill missed and still two self-inspections, not the same figure twice."""
    bot_stage.clock.set(local(2026, 5, 27, 10))
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=90, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await report(bot_stage)
    await log_drill(bot_stage)  # 鹿城区社会福利院 held this half-year's drill
    city_group = await city_digests(bot_stage, "温州民政安全", 90)

    summary = await weekly_summary(bot_stage, city_group)
    assert "• 鹿城区：新增 1，销号 0，逾期 0；演练逾期 1、即将到期 0，自查逾期 2、即将到期 0" in summary


async def test_the_city_line_stays_while_a_closed_city_institution_still_has_hazards_open(bot_stage: Stage) -> None:
    """Closing an institution leaves its hazards open and in the city's figures. The city's own line (市直) was shown
    only while an active city institution existed: with the last one closed, its open hazard was in "新增隐患 1 件"
    and on no line. A county digest has no such line at all."""
    bot_stage.clock.set(local(2026, 5, 27, 10))
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=90, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await report(bot_stage, 90, institution="WZ-330300-FUNERAL-01", description="遗体运输车刹车异常")
    city_group = await city_digests(bot_stage, "温州民政安全", 90)
    acting = await bot_stage.services.storage.users.get(90)
    assert acting is not None
    in_city = await bot_stage.services.storage.institutions.in_scope("330300")
    city_level = [i for i in in_city if i.region_code == "330300"]
    assert len(city_level) == 4
    for institution in city_level:
        await bot_stage.services.institution_closure.close(acting, institution.id, "并入市社会福利中心")

    summary = await weekly_summary(bot_stage, city_group)
    assert "新增隐患 1 件" in summary
    assert "• 温州市（市直）：新增 1，销号 0，逾期 0；演练逾期 0、即将到期 0，自查逾期 0、即将到期 0" in summary
    # A week later nothing new came and nothing closed, but the hazard is still open and in the city's figures.
    bot_stage.clock.set(local(2026, 6, 8, 8))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 6, 8, 9, 1))
    await sweep(bot_stage)
    summary = city_group.last_message().text
    assert "新增隐患 0 件" in summary and "未销号 1 件" in summary
    assert "• 温州市（市直）：新增 0，销号 0，逾期 1；演练逾期 0、即将到期 0，自查逾期 0、即将到期 0" in summary


async def test_a_county_digest_lists_the_overdue_duties_before_those_only_due_soon(bot_stage: Stage) -> None:
    """A digest names ten duties and counts the rest. They were taken in the order of the institutions' codes, so in
    a county with forty care centres whose drill is merely due soon, the ten named were centres 01–10 and the two
    homes already overdue on May's self-inspection were only in "…and 32 more". Overdue comes first, as in /drills."""
    bot_stage.clock.set(local(2026, 6, 10, 10))
    await cast(bot_stage)
    centres = await long_named_centres(bot_stage, LUCHENG)  # WZ-330302-CARE-01…40: before the homes' ELDER codes
    # New in March, and inspected in May: each owes the half-year's drill (due soon) and nothing overdue.
    await bot_stage.services.storage.db.execute(
        "UPDATE institutions SET tracked_from = '2026-03-01' WHERE code GLOB 'WZ-330302-CARE-*'"
    )
    calendar = bot_stage.services.storage.calendar
    for centre in centres:
        inspection = await calendar.start_inspection(centre.id, "2026-05", STAFF, local(2026, 5, 20))
        await calendar.finish_inspection(inspection.id, STAFF, local(2026, 5, 20, 11))
    digests = bot_stage.sandbox.group(chat_id=-1004, title="鹿城区民政安全日报")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=-1004, title=digests.title, region_code=LUCHENG, purpose=GroupPurpose.DIGESTS, bound_by=STAFF,
              bound_at=bot_stage.clock.now())
    )

    bot_stage.clock.set(local(2026, 6, 11, 8))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 6, 11, 8, 31))
    await sweep(bot_stage)
    digest = digests.last_message().text
    duties = digest.split("演练与自查待办：")[1].split("\n")[1:]
    named = [line for line in duties if line.startswith("• ")]
    assert len(named) == 10
    assert "鹿城区社会福利院：⏰ 已逾期" in named[0]
    overdue = [n for n, line in enumerate(named) if "⏰" in line]
    assert overdue == list(range(len(overdue))) and len(overdue) >= 2  # every overdue line before any due soon
    # The rest are counted, with where staff reading the group see them all.
    assert any(line.startswith("……另有") and "项未列出：工作人员发送 /drills 可逐家查看" in line for line in duties)


async def test_a_county_digest_never_names_an_overdue_rights_protection_hazard(bot_stage: Stage) -> None:
    """A digest goes to a county's group, where rights-protection (权益保障) hazards are never shown: an overdue one is
    neither counted nor named among the overdue, while an ordinary overdue hazard of the same home is."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    await cast(bot_stage)
    ordinary = await report(bot_stage)
    rights = await report(bot_stage, area=HazardArea.RIGHTS, description="护理员克扣老人零用钱")
    digests = bot_stage.sandbox.group(chat_id=-1004, title="鹿城区民政安全日报")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=-1004, title=digests.title, region_code=LUCHENG, purpose=GroupPurpose.DIGESTS, bound_by=STAFF,
              bound_at=bot_stage.clock.now())
    )

    bot_stage.clock.set(local(2026, 3, 20, 8))  # both long past their deadlines
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 20, 8, 31))
    await sweep(bot_stage)
    digest = digests.last_message().text
    assert ordinary.code in digest and "其中逾期 1 件" in digest
    assert rights.code not in digest and "克扣" not in digest


async def test_a_county_digest_does_not_name_as_overdue_a_hazard_rectified_and_awaiting_verification(
    bot_stage: Stage,
) -> None:
    """A hazard whose rectification the head handed in, late, waits for the county's verification: in the county's
    group it is no longer listed among the overdue, which name the homes that still have to act."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    await cast(bot_stage)
    still_open = await report(bot_stage)
    rectified = await report(bot_stage, description="配电箱前堆放纸箱")
    digests = bot_stage.sandbox.group(chat_id=-1004, title="鹿城区民政安全日报")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=-1004, title=digests.title, region_code=LUCHENG, purpose=GroupPurpose.DIGESTS, bound_by=STAFF,
              bound_at=bot_stage.clock.now())
    )

    bot_stage.clock.set(local(2026, 3, 19, 9))  # both past their deadlines; one is fixed, late
    assert (await submitted(bot_stage, rectified)).state is HazardState.AWAITING_VERIFICATION
    bot_stage.clock.set(local(2026, 3, 20, 8))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 20, 8, 31))
    await sweep(bot_stage)
    digest = digests.last_message().text
    assert still_open.code in digest and "其中逾期 1 件" in digest
    assert rectified.code not in digest


async def test_a_head_who_left_and_came_back_as_county_staff_is_no_longer_reminded_as_the_homes_head(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 3, 20, 10))
    people = await cast(bot_stage)
    storage = bot_stage.services.storage
    await storage.users.set_active(HEAD, False)  # 陈院长 left the home …
    await bot_stage.register(people.head, Role.COUNTY, region=LONGWAN)  # … and came back as Longwan county staff
    before = len(people.head.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9))  # every head hears that the month's self-inspection is not done yet
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    assert [m.text for m in people.head.messages()[before:] if "鹿城区社会福利院" in m.text] == []


def test_an_overdue_hazard_with_nobody_responsible_asks_for_someone_to_be_named_not_for_a_head_to_be_invited() -> None:
    """'No registered head, invite one' belongs to a missed duty alone: it comes with the invite button, which a
    hazard's reminder does not carry; a hazard with nobody responsible yet asks for someone to be named."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.domain.reminders import ReminderKind
    from bot.i18n import Translator
    from bot.services.reminder_items import HazardReminderData

    deadline = datetime(2026, 3, 10, 2, tzinfo=UTC)
    data = HazardReminderData(
        hazard_id=1, code="YH-20260302-0001", institution_id=1, institution_name_zh="鹿城区社会福利院",
        institution_name_en="Lucheng Welfare Home", area=HazardArea.FIRE, severity=Severity.MAJOR,
        state=HazardState.REPORTED, deadline=deadline, overdue_by=timedelta(days=1), responsible=(),
    )
    item = ReminderItem(reminder_id=1, kind=ReminderKind.HAZARD_OVERDUE, step="overdue1d", due_at=deadline,
                        late=False, urgent=False, attempt=1, data=data)
    text = reminder_text.item_text(item, STAFF, Translator("zh_CN"), ZoneInfo("Asia/Shanghai"))
    assert "责任人：尚未明确，请尽快指定。" in text
    assert "邀请负责人" not in text


@pytest.mark.parametrize(("hours", "english", "chinese"), [
    (5, "5 hours", "5 小时"), (1, "1 hour", "1 小时"), (24, "1 day", "1 天"), (27, "1 day 3 hours", "1 天 3 小时"),
    (49, "2 days 1 hour", "2 天 1 小时"),
])
def test_how_long_overdue_reads_in_words(hours: int, english: str, chinese: str) -> None:
    """"Overdue by 1 d 0 h" read as a code: whole words, the singular for one, no zero hours after the days."""
    assert reminder_text._duration(timedelta(hours=hours, minutes=20), Translator("en", strict=True)) == english
    assert reminder_text._duration(timedelta(hours=hours), Translator("zh_CN", strict=True)) == chinese


@pytest.mark.parametrize(
    ("language", "heading", "not_said"),
    [("zh-hans", "🔔 鹿城区待办提醒 2 条", "您有"), ("en", "🔔 Lucheng District: 2 reminders", "You have")],
)
async def test_a_groups_reminder_is_headed_for_the_group_not_as_if_to_one_person(
    bot_stage: Stage, language: str, heading: str, not_said: str
) -> None:
    """Two hazards three days overdue reach the county's group together: the group is many people, so the message
    is headed with whose list it is ("🔔 鹿城区待办提醒 2 条"), not "您有 2 条待办提醒" as a person's is."""
    if language == "en":
        bot_stage.services.i18n.default_language = "en"  # groups read the bureau's default language
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage, language)
    first, second = await report(bot_stage), await report(bot_stage, description="配电箱周围堆放可燃物")
    bot_stage.clock.set(local(2026, 3, 13, 9))  # both three days overdue: the city and the group hear at 09:00
    await sweep(bot_stage)
    post = people.group.last_message()
    assert first.code in post.text and second.code in post.text
    assert post.text.startswith(heading) and not_said not in post.text


async def test_a_hazards_groups_monday_list_never_names_an_overdue_rights_protection_hazard(
    bot_stage: Stage,
) -> None:
    """The Monday list goes to the county's group bound for hazards, where rights-protection (权益保障) hazards are
    never shown: the clerk is reminded of it as of any overdue hazard, the group hears nothing of it."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    ordinary = await report(bot_stage)
    rights = await report(bot_stage, area=HazardArea.RIGHTS, description="护理员克扣老人零用钱")
    for day in range(3, 17):  # the three-day escalation on Friday 13 March, then Monday 16 March
        bot_stage.clock.set(local(2026, 3, day, 8))
        await plan_once(bot_stage.services)
        for hour in (9, 10, 11):
            bot_stage.clock.set(local(2026, 3, day, hour))
            await sweep(bot_stage)

    heard = [m.text for m in people.group.messages()]
    assert any(ordinary.code in text and "已逾期 6 天" in text for text in heard)  # the Monday list came
    assert not any(rights.code in text or "克扣" in text for text in heard)
    assert any(rights.code in m.text and "已逾期 6 天" in m.text for m in people.staff.messages())
