"""A backlog of overdue hazards as the people responsible for it hear of it, through the bot and the emulator: once a
week, on Monday at 09:00, in one message per person that lists the most pressing and counts all the rest, however
many sweeps and rounds the morning's rows take; an urgent (重大) hazard keeps its own day; a bot killed between
claiming and sending sends nothing twice once restarted."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

import pytest

from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardState
from bot.domain.reminders import ReminderKind
from bot.i18n import Translator
from bot.jobs import SendDelivery, SweepReport, plan_once, sweep_once
from bot.sandbox import SimUser
from bot.services import reminder_rounds
from bot.services.reminder_items import LISTED_ITEMS, HazardReminderData, ReminderItem
from bot.services.reminder_rounds import Gathering, Round
from bot.stage import Stage
from bot.workers import HOST
from handlers.reminder_text import message_text
from handlers.reminders import send_delivery
from storage.calendar_models import Reminder, ReminderState, SubjectType
from storage.hazard_models import Hazard
from tests.calendar_people import TZ, local
from tests.hazard_people import HEAD, STAFF, cast, report
from tests.test_workers import exited_pid

# Small claims and rounds, so that a person's rows are spread over many of each, as a city's first morning spreads
# a city admin's (a claim of 100 rows, a round of 5,000, 244,313 rows due).
CLAIM_LIMIT, ROUND_ROWS = 4, 10
OVERDUE = "已逾期"


def sender(stage: Stage) -> SendDelivery:
    return partial(send_delivery, stage.application.bot, stage.services)


async def tick(stage: Stage) -> SweepReport:
    """The minute tick's sweeping part (`sweep_all_due`'s loop), with the small claims and rounds."""
    stage.services.reminders.claim_limit = CLAIM_LIMIT
    report = await sweep_once(stage.services, sender(stage), round_rows=ROUND_ROWS)
    while report.more_due:
        report = report.followed_by(await sweep_once(stage.services, sender(stage), round_rows=ROUND_ROWS))
    await stage.sandbox.settle()
    return report


async def a_day(stage: Stage, day: int, hours: tuple[int, ...] = (9, 10, 14)) -> None:
    """A day of March: its plan at 08:00, then the ticks of those hours."""
    stage.clock.set(local(2026, 3, day, 8))
    await plan_once(stage.services)
    for hour in hours:
        stage.clock.set(local(2026, 3, day, hour))
        await tick(stage)


async def backlog(stage: Stage) -> list[Hazard]:
    """Twenty-four general hazards of the home, four reported each day from Monday 2 March to Saturday the 7th:
    their deadlines (a week on) fall on six weekdays, so each fell overdue on its own."""
    hazards = []
    for day in range(2, 8):
        stage.clock.set(local(2026, 3, day, 10))
        hazards += [await report(stage, description=f"3月{day}日第{n}号：消防通道被杂物堵塞") for n in range(4)]
    return hazards


def overdue_lists(person: SimUser, since: int) -> list[str]:
    return [message.text for message in person.messages()[since:] if OVERDUE in message.text]


async def hazard_rows(stage: Stage, recipient: int) -> list[Reminder]:
    return [
        r for r in await stage.services.storage.reminders.find()
        if r.recipient_id == recipient and r.subject_type is SubjectType.HAZARD
    ]


async def test_a_clerk_with_a_backlog_hears_of_it_on_monday_in_one_message_and_not_on_the_other_days(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 9))
    people = await cast(bot_stage)
    hazards = await backlog(bot_stage)
    for day in range(8, 24):  # every deadline passes, and the three-day escalations (the 12th to the 17th)
        await a_day(bot_stage, day)
    staff_before, head_before = len(people.staff.messages()), len(people.head.messages())

    for day in range(24, 30):  # Tuesday 24 to Sunday 29 March: every hazard still overdue, no list
        await a_day(bot_stage, day)
    # (The month's self-inspection is due on the 25th: the head is nudged, the clerk stands in for a home with none.)
    assert overdue_lists(people.staff, staff_before) == [] and overdue_lists(people.head, head_before) == []

    staff_before, head_before = len(people.staff.messages()), len(people.head.messages())
    await a_day(bot_stage, 30)  # Monday 30 March, 09:00: the week's list
    to_staff = people.staff.messages()[staff_before:]
    assert len(to_staff) == 1  # one message, though the morning's rows took many claims and rounds
    text = to_staff[0].text
    assert "您有 24 条待办提醒" in text
    listed = [hazard for hazard in hazards if f"隐患 {hazard.code} 已逾期" in text]
    assert listed == hazards[:10]  # the earliest deadlines first
    assert "另有 14 条提醒未逐条列出" in text and "/tasks" in text
    assert to_staff[0].buttons[0] == [f"详情 {hazards[0].code}", f"指定责任人 {hazards[0].code}"]
    # Eight rows of buttons for ten hazards listed: the two without are said to be acted on from /tasks.
    assert len(to_staff[0].buttons) == 8 and "以上列出的提醒中，有 2 条未附按钮" in text
    # The head, responsible for all of them, the same: one list, with the buttons to act on the first ones.
    to_head = people.head.messages()[head_before:]
    assert len(to_head) == 1 and "您有 24 条待办提醒" in to_head[0].text
    assert "另有 14 条提醒未逐条列出" in to_head[0].text
    # One row a hazard (申请延期 is under 详情), not two: eight of the ten listed can be acted on from the message,
    # not four, and the other two are said to be on /tasks.
    assert to_head[0].buttons == [[f"📤 提交整改 {h.code}", f"详情 {h.code}"] for h in hazards[:8]]
    assert "以上列出的提醒中，有 2 条未附按钮：隐患请发送 /tasks 办理" in to_head[0].text
    # Every row the lists stood for went out, once: sent, none left claimed or due.
    for person in (STAFF, HEAD):
        mondays = [r for r in await hazard_rows(bot_stage, person) if r.due_at == local(2026, 3, 30, 9)]
        assert len(mondays) == 24 and {r.state for r in mondays} == {ReminderState.SENT}
    assert await bot_stage.services.storage.reminders.find(state=ReminderState.CLAIMED) == []
    await a_day(bot_stage, 31)
    assert overdue_lists(people.staff, staff_before + 1) == []


async def test_a_bot_killed_between_claiming_and_sending_sends_the_list_once_after_the_restart(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 9))
    people = await cast(bot_stage)
    hazards = await backlog(bot_stage)
    for day in range(8, 30):
        await a_day(bot_stage, day)
    staff_before = len(people.staff.messages())

    # Monday 09:00: the bot claims the first sweeps of the round, the clerk's first rows among them, and is killed.
    bot_stage.clock.set(local(2026, 3, 30, 8))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 30, 9))
    killed = f"reminders@{HOST}:{exited_pid()}:0badf00d:000000"
    bot_stage.services.reminders.claim_limit = CLAIM_LIMIT
    cut_short = Round(bot_stage.services.reminders, bot_stage.clock.now(), killed, ROUND_ROWS)
    sweeps = cut_short.sweeps()
    for _ in range(3):
        await anext(sweeps)
    await sweeps.aclose()
    claimed = await bot_stage.services.storage.reminders.find(state=ReminderState.CLAIMED)
    assert claimed and {r.claimed_by for r in claimed} == {killed}
    assert len(people.staff.messages()) == staff_before

    # The restarted bot's first tick takes the claims back and sends each person one list of all of theirs.
    await tick(bot_stage)
    to_staff = people.staff.messages()[staff_before:]
    assert len(to_staff) == 1 and "您有 24 条待办提醒" in to_staff[0].text
    assert [hazard for hazard in hazards if hazard.code in to_staff[0].text] == hazards[:10]
    bot_stage.clock.set(local(2026, 3, 30, 9, 20))  # past the killed bot's lease: nothing is given back again
    await tick(bot_stage)
    assert len(people.staff.messages()) == staff_before + 1
    mondays = [r for r in await hazard_rows(bot_stage, STAFF) if r.due_at == local(2026, 3, 30, 9)]
    assert len(mondays) == 24 and {r.state for r in mondays} == {ReminderState.SENT}


async def test_an_urgent_hazard_keeps_its_own_weekday_and_a_general_one_comes_on_monday(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 4, 10))  # a Wednesday
    people = await cast(bot_stage)
    # Serious (重大): due in 24 hours, Thursday 10:00; three days overdue on Sunday the 8th, at 10:00 (urgent: at its
    # own minute, quiet hours or not), and every Sunday at 10:00 after. General: due Wednesday the 11th, three days
    # overdue on Saturday the 14th (to the city on Sunday at 09:00), then on Mondays at 09:00.
    serious = await report(bot_stage, severity=Severity.SERIOUS, description="燃气管道漏气")
    general = await report(bot_stage, description="消防通道被杂物堵塞")
    heard: dict[int, list[str]] = {}
    for day in range(5, 24):
        before = len(people.head.messages())
        await a_day(bot_stage, day)
        heard[day] = overdue_lists(people.head, before)
    assert {day: len(texts) for day, texts in heard.items() if texts} == {15: 1, 16: 1, 22: 1, 23: 1}
    sunday, monday = heard[15][0], heard[16][0]
    assert serious.code in sunday and "🚨" in sunday and general.code not in sunday
    assert general.code in monday and serious.code not in monday
    assert serious.code in heard[22][0] and general.code in heard[23][0]
    sent = {
        (r.subject_id, r.step): r.sent_at for r in await hazard_rows(bot_stage, HEAD) if r.step.startswith("repeat")
    }
    assert sent[(str(serious.id), "repeat1")] == local(2026, 3, 15, 10)
    assert sent[(str(general.id), "repeat1")] == local(2026, 3, 16, 9)


async def test_a_backlog_counted_a_few_rows_at_a_time_still_comes_in_one_message(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows a message counts but does not list are claimed a slice at a time until a slice comes back short: with
    slices of three, the clerk's counted rows take several. Stopping at the first full slice left the rest due for the
    next round, and the clerk a second message (a city admin's first morning: one for every slice)."""
    monkeypatch.setattr(reminder_rounds, "COUNT_SLICE", 3)
    bot_stage.clock.set(local(2026, 3, 2, 9))
    people = await cast(bot_stage)
    await backlog(bot_stage)
    for day in range(8, 30):
        await a_day(bot_stage, day)
    staff_before = len(people.staff.messages())
    await a_day(bot_stage, 30)
    to_staff = people.staff.messages()[staff_before:]
    assert len(to_staff) == 1 and "您有 24 条待办提醒" in to_staff[0].text
    assert "另有 14 条提醒未逐条列出" in to_staff[0].text
    mondays = [r for r in await hazard_rows(bot_stage, STAFF) if r.due_at == local(2026, 3, 30, 9)]
    assert len(mondays) == 24 and {r.state for r in mondays} == {ReminderState.SENT}


async def test_a_serious_hazard_due_with_a_backlog_is_listed_however_late_the_round_claims_it(bot_stage: Stage) -> None:
    """A person's rows after the round met them are claimed the most pressing first: a 重大 hazard falling due at 09:00
    on the Monday of the week's list was claimed after twenty-four general repeats due at the same minute, when the
    list was full, and only counted in "另有 … 条"."""
    bot_stage.clock.set(local(2026, 3, 2, 9))
    people = await cast(bot_stage)
    hazards = await backlog(bot_stage)
    for day in range(8, 29):
        await a_day(bot_stage, day)
    await a_day(bot_stage, 29, hours=(9,))  # Sunday 09:00: a serious one, due in 24 hours, Monday at 09:00
    serious = await report(bot_stage, severity=Severity.SERIOUS, description="燃气管道漏气")
    assert serious.deadline == local(2026, 3, 30, 9)
    staff_before = len(people.staff.messages())
    await a_day(bot_stage, 30)
    to_staff = people.staff.messages()[staff_before:]
    assert len(to_staff) == 1 and "您有 25 条待办提醒" in to_staff[0].text
    text = to_staff[0].text
    assert f"隐患 {serious.code}" in text and "🚨" in text
    assert [hazard for hazard in hazards if f"隐患 {hazard.code} 已逾期" in text] == hazards[:9]
    assert "另有 15 条提醒未逐条列出" in text


def test_a_subject_counted_once_is_not_listed_as_well_when_an_earlier_step_of_it_comes_later() -> None:
    """A subject pushed off the list by a more pressing one stays counted when another of its rows comes later in the
    round (a retry of an earlier step, due before the others): listed again, it was counted in "另有 … 条" as well,
    and the hazard it pushed off in turn too, one more than there were."""
    gathering = Gathering((CITY, None), "worker")
    due = local(2026, 3, 30, 9)
    gathering.add(item(n, due + timedelta(seconds=n)) for n in range(10))  # ten hazards: the list is full
    gathering.add([item(10, due + timedelta(seconds=10), urgent=True)])  # an urgent one pushes the latest, 9, off
    gathering.add([replace(item(9, due - timedelta(days=1)), reminder_id=109)])  # 9's earlier step, retried
    delivery = gathering.delivery()
    listed = {item.data.hazard_id for item in delivery.items if isinstance(item.data, HazardReminderData)}
    assert listed == {10, *range(9)} and delivery.unlisted == 1  # eleven hazards: ten listed, one counted
    assert sorted(delivery.reminder_ids) == [*range(11), 109]


def test_a_round_keeps_ten_subjects_items_of_a_person_however_many_rows_it_claims_for_them() -> None:
    """Fifty thousand rows due to one city admin: the round keeps the ten most pressing hazards' items to list and
    only the ids of the others' rows, to count them and settle them with the message."""
    gathering = Gathering((CITY, None), "worker")
    due = local(2026, 3, 1, 9)
    for start in range(0, 50_000, 100):  # as the sweeps hand them over, a claim at a time, in due order
        gathering.add(item(n, due + timedelta(seconds=n), urgent=n == 49_999) for n in range(start, start + 100))
        assert sum(len(items) for items in gathering._listed.values()) <= LISTED_ITEMS
    delivery = gathering.delivery()
    assert [i.reminder_id for i in delivery.items] == [49_999, *range(9)]  # the urgent one first, then the earliest
    assert delivery.unlisted == 49_990 and len(delivery.reminder_ids) == len(set(delivery.reminder_ids)) == 50_000


CITY = 9_001


def item(n: int, due: datetime, *, urgent: bool = False) -> ReminderItem:
    data = HazardReminderData(
        hazard_id=n, code=f"YH-{n}", institution_id=1, institution_name_zh="福利院", institution_name_en="Home",
        area=HazardArea.FIRE, severity=Severity.SERIOUS if urgent else Severity.GENERAL, state=HazardState.ASSIGNED,
        deadline=due, overdue_by=None, responsible=(),
    )
    return ReminderItem(n, ReminderKind.HAZARD_OVERDUE, "repeat3", due, False, urgent, 1, data)


async def test_the_monday_list_names_the_longest_overdue_and_gravest_not_the_first_reported(bot_stage: Stage) -> None:
    """Monday's weekly repeats all fall due at 09:00: the list was in code order (the reminder rows' ids), so twelve
    general hazards reported first pushed off ten 较大 ones reported two days later but overdue two days longer
    (a 3-day deadline against 7), leaving the longest overdue among "另有 … 条"."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    general = [await report(bot_stage, description=f"一般第{n}号：消防通道被杂物堵塞") for n in range(12)]
    bot_stage.clock.set(local(2026, 3, 4, 10))
    major = [await report(bot_stage, severity=Severity.MAJOR, description=f"较大第{n}号：电线老化") for n in range(10)]
    assert all(m.deadline is not None and g.deadline is not None and m.deadline < g.deadline
               for m in major for g in general)
    for day in range(5, 30):
        await a_day(bot_stage, day)
    staff_before = len(people.staff.messages())
    await a_day(bot_stage, 30)
    to_staff = people.staff.messages()[staff_before:]
    assert len(to_staff) == 1 and "您有 22 条待办提醒" in to_staff[0].text
    text = to_staff[0].text
    assert [h for h in major if f"隐患 {h.code} 已逾期 22 天" in text] == major
    assert not [h for h in general if f"隐患 {h.code}" in text]
    assert "另有 12 条提醒未逐条列出" in text


def test_a_list_puts_the_longest_overdue_first_whatever_order_its_rows_came_in() -> None:
    """Rows due at the same minute (Monday's repeats) come in id order; the list is by how long each hazard has been
    overdue, and a graver one first on the same deadline."""
    gathering = Gathering((CITY, None), "worker")
    monday = local(2026, 3, 30, 9)
    # Hazard n fell overdue n days before Monday … except that the ids run the other way.
    gathering.add(overdue_item(n, monday, days=n) for n in range(20))
    same_day = overdue_item(20, monday, days=19, severity=Severity.MAJOR)  # as long overdue as 19, graver
    gathering.add([same_day])
    delivery = gathering.delivery()
    assert [i.reminder_id for i in delivery.items] == [20, 19, 18, 17, 16, 15, 14, 13, 12, 11]
    assert delivery.unlisted == 11


def overdue_item(n: int, due: datetime, *, days: int, severity: Severity = Severity.GENERAL) -> ReminderItem:
    """Hazard n's reminder due at `due`, the hazard `days` overdue by then."""
    found = item(n, due)
    assert isinstance(found.data, HazardReminderData)
    return replace(found, data=replace(found.data, deadline=due - timedelta(days=days), severity=severity))


def test_a_group_list_says_where_staff_see_the_reminders_it_leaves_out() -> None:
    """A group's list of reminders ended "……另有 129 条" with nowhere to look; a person's says /tasks and /drills."""
    due = local(2026, 3, 30, 9)
    items = [overdue_item(n, due, days=n) for n in range(14)]
    text, shown = message_text(items, CITY, Translator("zh-hans", strict=True), TZ, for_group=True,
                               group_area="鹿城区", unlisted=120)
    assert "鹿城区待办提醒 134 条" in text
    assert f"……另有 {134 - len(shown)} 条提醒未逐条列出：隐患请发送 /tasks 查看，演练与自查请发送 /drills 查看" in text
