"""A whole year of a small city, lived with a moved clock in seconds (issue 4, "How we will know").

Every reminder and escalation goes out exactly once, at the right local time, to the right people; nothing
but urgent ones during quiet hours. Half-way through the bot restarts (the database is closed and reopened),
and for one day in September it is down: what fell due then goes out once, flagged late, when it is back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

import bot.services.reminder_rounds as reminder_rounds
from bot.clock import FakeClock
from bot.domain.catalog import Severity
from bot.domain.compliance import DrillKind, Duty
from bot.domain.lifecycle import HazardAction
from bot.domain.reminders import DEFAULT_QUIET_HOURS, LATE_AFTER, ReminderKind, in_quiet_hours
from bot.jobs import Ticker
from bot.services.calendar import DrillEntry
from bot.services.digests import DigestData
from bot.services.reminder_items import DutyReminderData, HazardReminderData, ReminderItem
from storage.calendar_models import Answer, ReminderState
from tests.calendar.world import (
    CADRE,
    CITY_ADMIN,
    CITY_GROUP,
    FUNERAL,
    FUNERAL_HEAD,
    HEAD,
    HOME,
    LONGWAN_GROUP,
    LONGWAN_STAFF,
    LUCHENG,
    LUCHENG_GROUP,
    LUCHENG_STAFF,
    SOCIAL,
    SOCIAL_HEAD,
    TZ,
    WELFARE,
    WELFARE_HEAD,
    Outbox,
    Services,
    local,
    open_services,
)

START, END = local(2026, 1, 1), local(2027, 1, 2)
RESTART = local(2026, 7, 15, 12)
DOWN_FROM, DOWN_UNTIL = local(2026, 9, 24, 20), local(2026, 9, 25, 20)


@dataclass
class Life:
    services: Services
    tmp: Path
    hazards: dict[str, int]  # our names → hazard ids
    sent_rows: list[int] = field(default_factory=list)  # every row the messages stood for, listed or counted

    async def user(self, telegram_id: int) -> object:
        return await self.services.user(telegram_id)


Event = Callable[[Life], Awaitable[None]]


def report(name: str, code: str, severity: Severity = Severity.GENERAL, reporter: int = CADRE) -> Event:
    async def run(life: Life) -> None:
        s = life.services
        outcome = await s.hazards.submit_report(await s.user(reporter), s.draft(code, severity=severity))
        await s.reminders.plan_for_hazard(outcome.hazard)
        life.hazards[name] = outcome.hazard.id

    return run


def act(name: str, actor: int, action: HazardAction, **fields: object) -> Event:
    async def run(life: Life) -> None:
        s = life.services
        if action is HazardAction.SUBMIT_RECTIFICATION:
            fields["photos"] = [s.photo()]
        outcome = await s.hazards.act(await s.user(actor), life.hazards[name], action, **fields)  # type: ignore[arg-type]
        await s.reminders.plan_for_hazard(outcome.hazard)

    return run


def self_inspection() -> Event:
    async def run(life: Life) -> None:
        s = life.services
        head = await s.user(HEAD)
        sheet = await s.selfchecks.start(head)
        for item in sheet.unanswered:
            await s.selfchecks.answer(head, sheet.inspection.id, item.code, Answer.OK)
        await s.selfchecks.finish(head, sheet.inspection.id)

    return run


def drill(code: str, head: int) -> Event:
    async def run(life: Life) -> None:
        s = life.services
        entry = DrillEntry(
            institution_id=s.institutions[code],
            kind=DrillKind.FIRE,
            held_on=s.today(),
            participants=20,
            duration_minutes=30,
            practised="消防疏散",
            photos=[s.photo()],
        )
        await s.drills.log(await s.user(head), entry)

    return run


def study() -> Event:
    async def run(life: Life) -> None:
        s = life.services
        await s.studies.log(await s.user(LUCHENG_STAFF), s.today(), "安全生产理论学习", 12)

    return run


async def restart(life: Life) -> None:
    await life.services.storage.close()
    life.services = await open_services(
        life.tmp / "safety.db",
        life.tmp / "evidence",
        life.services.clock,
        populate=False,
        tracking_since=date(2026, 1, 1),
    )


SCRIPT: list[tuple[datetime, Event]] = [
    (local(2026, 1, 5, 10), report("A", HOME)),
    (local(2026, 1, 10, 15), self_inspection()),
    (local(2026, 1, 20, 11), act("A", HEAD, HazardAction.SUBMIT_RECTIFICATION, reason="已清理通道")),
    (local(2026, 1, 20, 15), act("A", LUCHENG_STAFF, HazardAction.ACCEPT)),
    (local(2026, 3, 5, 10), self_inspection()),
    (local(2026, 3, 10, 23, 30), report("B", HOME, Severity.SERIOUS)),
    (local(2026, 3, 15, 10), drill(FUNERAL, FUNERAL_HEAD)),
    (local(2026, 3, 16, 10), act("B", HEAD, HazardAction.SUBMIT_RECTIFICATION, reason="已更换燃气阀门")),
    (local(2026, 3, 16, 11), act("B", LUCHENG_STAFF, HazardAction.ACCEPT)),
    (local(2026, 3, 20, 10), drill(HOME, HEAD)),
    (local(2026, 4, 1, 10), report("D", HOME, Severity.MAJOR)),
    (local(2026, 4, 1, 14), study()),
    (
        local(2026, 4, 3, 9),
        act("D", LUCHENG_STAFF, HazardAction.CHANGE_DEADLINE, reason="等待配件", deadline=local(2026, 4, 10, 10)),
    ),
    (local(2026, 4, 9, 12), act("D", HEAD, HazardAction.SUBMIT_RECTIFICATION, reason="已维修线路")),
    (local(2026, 4, 10, 9), act("D", LUCHENG_STAFF, HazardAction.ACCEPT)),
    (local(2026, 5, 6, 10), self_inspection()),
    (local(2026, 6, 1, 23), report("C", SOCIAL, reporter=LONGWAN_STAFF)),
    (RESTART, restart),
]


@dataclass(frozen=True)
class Got:
    at: datetime  # when it went out
    recipient: int
    item: ReminderItem

    @property
    def local(self) -> datetime:
        return self.at.astimezone(TZ).replace(tzinfo=None)


async def live_the_year(tmp_path: Path) -> tuple[list[Got], Life]:
    clock = FakeClock(START)
    life = Life(
        await open_services(tmp_path / "safety.db", tmp_path / "evidence", clock, tracking_since=date(2026, 1, 1)),
        tmp_path,
        {},
    )
    outbox = Outbox(clock)
    ticker = Ticker(outbox, "worker-1")
    events = sorted(SCRIPT, key=lambda pair: pair[0])
    while clock.now() < END:
        now = clock.now()
        while events and events[0][0] <= now:
            _, event = events.pop(0)
            await event(life)
            if event is restart:
                ticker = Ticker(outbox, "worker-2")  # a new process: nothing planned yet today
        if not DOWN_FROM <= now < DOWN_UNTIL:
            await ticker.tick(life.services)
        # Wake for the next due reminder or scripted event. Every working day has a digest at 08:30, planned from
        # the working day before, so it has a first tick, which plans the day: no need to wake at midnight.
        wake = await life.services.reminders.next_wakeup(now)
        candidates = [END, *(at for at, _ in events[:1])]
        if wake is not None:
            candidates.append(max(wake, now + timedelta(minutes=1)))
        if DOWN_FROM <= now < DOWN_UNTIL or now < DOWN_FROM < min(candidates):
            candidates.append(DOWN_FROM if now < DOWN_FROM else DOWN_UNTIL)
        if DOWN_FROM <= now < DOWN_UNTIL:
            candidates = [DOWN_UNTIL]
        clock.set(min(candidates))
    got = [Got(s.at, s.delivery.recipient_id, item) for s in outbox.sent for item in s.delivery.items]
    life.sent_rows = [reminder_id for s in outbox.sent for reminder_id in s.delivery.reminder_ids]
    return got, life


def hazard_log(got: list[Got], hazard_id: int) -> list[tuple[str, int, datetime]]:
    return sorted(
        (g.item.step, g.recipient, g.local)
        for g in got
        if isinstance(g.item.data, HazardReminderData) and g.item.data.hazard_id == hazard_id
    )


def duty_log(got: list[Got], duty: Duty, subject: int | str) -> list[tuple[str, str, int, datetime]]:
    return sorted(
        (g.item.data.period.key, g.item.step, g.recipient, g.local)
        for g in got
        if isinstance(g.item.data, DutyReminderData)
        and g.item.data.duty is duty
        and subject in (g.item.data.institution_id, g.item.data.unit_code)
    )


def t(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


async def test_a_year_of_reminders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The year's logs read every item a message carried: a message of many lists the ten most pressing subjects and
    # counts the rest (tests/test_reminder_volume.py), here it carries them all.
    monkeypatch.setattr(reminder_rounds, "LISTED_ITEMS", 1_000)
    got, life = await live_the_year(tmp_path)
    s = life.services
    try:
        # Exactly once: no reminder delivered twice, every sent row delivered, nothing due left behind.
        # (A message lists the most pressing ten subjects and counts the rest: the rows it stands for are all its.)
        ids = life.sent_rows
        assert len(ids) == len(set(ids))
        assert len(await s.storage.reminders.find(state=ReminderState.SENT)) == len(ids)
        assert await s.storage.reminders.find(state=ReminderState.CLAIMED) == []
        pending = await s.storage.reminders.find(state=ReminderState.PENDING)
        assert all(r.due_at > END for r in pending)

        # On time, or late only because the bot was down; never in quiet hours unless urgent.
        for g in got:
            due = g.item.due_at
            assert g.at >= due
            assert g.item.late == (DOWN_FROM <= due < DOWN_UNTIL), g
            assert g.item.late or g.at - due <= LATE_AFTER, g
            assert g.item.urgent or not in_quiet_hours(g.at, DEFAULT_QUIET_HOURS, TZ), g
        # One message per person at a time, however many items it carries.
        per_moment = Counter((g.at, g.recipient) for g in got)
        deliveries = {(g.at, g.recipient) for g in got}
        assert sum(per_moment.values()) == len(got) and len(deliveries) < len(got)

        a, b, c, d = (life.hazards[name] for name in "ABCD")
        assert hazard_log(got, a) == sorted(
            [
                ("before24h", HEAD, t(1, 11, 10)),
                ("before2h", HEAD, t(1, 12, 8)),
                ("deadline", HEAD, t(1, 12, 10)),
                ("deadline", LUCHENG_STAFF, t(1, 12, 10)),
                ("overdue1d", LUCHENG_STAFF, t(1, 14, 9)),  # with the next morning's escalations
                ("overdue3d", CITY_ADMIN, t(1, 16, 9)),  # with the next morning's escalations to the city
                ("overdue3d", LUCHENG_GROUP, t(1, 16, 9)),
                ("overdue3d", CITY_GROUP, t(1, 16, 9)),  # the city's own group hears what reaches the city
                # Three days overdue on a Friday: on Monday's weekly list with the others, the day before it closed.
                ("repeat1", HEAD, t(1, 19, 9)),
                ("repeat1", LUCHENG_STAFF, t(1, 19, 9)),
                ("repeat1", CITY_ADMIN, t(1, 19, 9)),  # not the group: its 08:30 digest lists the overdue
            ]
        )  # closed on 20 January
        assert hazard_log(got, b) == sorted(
            [
                ("before2h", HEAD, t(3, 11, 21, 30)),
                ("deadline", HEAD, t(3, 11, 23, 30)),  # serious: urgent, in quiet hours
                ("deadline", LUCHENG_STAFF, t(3, 11, 23, 30)),
                ("overdue1d", LUCHENG_STAFF, t(3, 12, 23, 30)),
                ("overdue3d", CITY_ADMIN, t(3, 14, 23, 30)),
                ("overdue3d", LUCHENG_GROUP, t(3, 14, 23, 30)),
                ("overdue3d", CITY_GROUP, t(3, 14, 23, 30)),
            ]
        )
        # The deadline moved from 4 April to 10 April before the first reminder; fixed before the second.
        assert hazard_log(got, d) == [("before24h", HEAD, t(4, 9, 10))]
        # Reported at 23:00 and never fixed: everything waits for 07:30; Longwan has no hazard group.
        c_log = hazard_log(got, c)
        assert [entry for entry in c_log if not entry[0].startswith("repeat")] == sorted(
            [
                ("before24h", SOCIAL_HEAD, t(6, 8, 7, 30)),
                ("before2h", SOCIAL_HEAD, t(6, 8, 21)),
                ("deadline", SOCIAL_HEAD, t(6, 9, 7, 30)),
                ("deadline", LONGWAN_STAFF, t(6, 9, 7, 30)),
                ("overdue1d", LONGWAN_STAFF, t(6, 10, 9)),
                ("overdue3d", CITY_ADMIN, t(6, 12, 9)),  # not 07:30: with the morning's escalations to the city
                ("overdue3d", CITY_GROUP, t(6, 12, 9)),
            ]
        )
        repeats = [entry for entry in c_log if entry[0].startswith("repeat")]
        # Every Monday while it stays overdue (three days overdue on Friday 12 June, so from the 15th), to the end of
        # the year: to the city, and to the county's staff and the head as well. None fell in the outage (a Thursday
        # evening to a Friday evening).
        expected_days = [datetime(2026, 6, 15, 9) + timedelta(weeks=k) for k in range(29)]
        assert all(day.weekday() == 0 for day in expected_days)
        assert sorted((r[2], r[1]) for r in repeats) == [
            (day, person) for day in expected_days for person in sorted((CITY_ADMIN, LONGWAN_STAFF, SOCIAL_HEAD))
        ]
        assert [
            g.item.data.responsible[0].telegram_id
            for g in got
            if isinstance(g.item.data, HazardReminderData) and g.item.data.hazard_id == c
        ] == [SOCIAL_HEAD] * len(c_log)

        # Drills: the home drilled in March only, the funeral home once (yearly), the welfare institute never.
        assert duty_log(got, Duty.FIRE_DRILL, s.institutions[HOME]) == [
            ("2026-H2", "due30", HEAD, t(12, 1, 9)),
            ("2026-H2", "due7", HEAD, t(12, 24, 9)),
            ("2026-H2", "missed", HEAD, t(1, 1, 9, year=2027)),  # the head hears it too, that morning
            ("2026-H2", "overdue", LUCHENG_STAFF, t(1, 1, 9, year=2027)),
        ]
        assert duty_log(got, Duty.FIRE_DRILL, s.institutions[FUNERAL]) == []
        assert duty_log(got, Duty.FIRE_DRILL, s.institutions[WELFARE]) == [
            ("2026-H1", "due30", WELFARE_HEAD, t(5, 31, 9)),
            ("2026-H1", "due7", WELFARE_HEAD, t(6, 23, 9)),
            ("2026-H1", "missed", WELFARE_HEAD, t(7, 1, 9)),
            ("2026-H1", "overdue", CITY_ADMIN, t(7, 1, 9)),  # a city institution: no county staff above it
            ("2026-H2", "due30", WELFARE_HEAD, t(12, 1, 9)),
            ("2026-H2", "due7", WELFARE_HEAD, t(12, 24, 9)),
            ("2026-H2", "missed", WELFARE_HEAD, t(1, 1, 9, year=2027)),
            ("2026-H2", "overdue", CITY_ADMIN, t(1, 1, 9, year=2027)),
        ]

        # Self-inspections: the home's head did January (on the 10th), March (5th) and May (6th).
        home_checks = duty_log(got, Duty.SELF_INSPECTION, s.institutions[HOME])
        months = defaultdict(list)
        for period, step, recipient, at in home_checks:
            months[period].append((step, recipient, at))
        assert months["2026-01"] == [("open", HEAD, t(1, 1, 9))]
        assert months["2026-02"] == [
            ("due", HEAD, t(2, 25, 9)),
            ("last_day", HEAD, t(2, 28, 9)),
            ("open", HEAD, t(2, 1, 9)),
            ("overdue", LUCHENG_STAFF, t(3, 1, 9)),
        ]
        assert months["2026-03"] == [("open", HEAD, t(3, 1, 9))]
        assert months["2026-09"] == [
            ("due", HEAD, DOWN_UNTIL.astimezone(TZ).replace(tzinfo=None)),  # the bot was down on the 25th
            ("last_day", HEAD, t(9, 30, 9)),
            ("open", HEAD, t(9, 1, 9)),
            ("overdue", LUCHENG_STAFF, t(10, 1, 9)),
        ]
        assert len(months) == 13 and months["2027-01"] == [("open", HEAD, t(1, 1, 9, year=2027))]

        # Study: Lucheng studied in April; nobody in the second half-year.
        assert duty_log(got, Duty.STUDY, LUCHENG) == [
            ("2026-H2", "due30", LUCHENG_STAFF, t(12, 1, 9)),
            ("2026-H2", "due7", LUCHENG_STAFF, t(12, 24, 9)),
            ("2026-H2", "overdue", CITY_ADMIN, t(1, 1, 9, year=2027)),
            ("2026-H2", "overdue", LUCHENG_STAFF, t(1, 1, 9, year=2027)),  # the bureau that missed it hears too
        ]

        # Digests: every working day's morning to each county group (262 from Thursday 1 January 2026 to Friday
        # 1 January 2027), every Monday to the city group, each once.
        digests = Counter((g.recipient, g.item.kind) for g in got if isinstance(g.item.data, DigestData))
        assert digests == {
            (LUCHENG_GROUP, ReminderKind.DAILY_DIGEST): 262,
            (LONGWAN_GROUP, ReminderKind.DAILY_DIGEST): 262,
            (CITY_GROUP, ReminderKind.WEEKLY_SUMMARY): 52,
        }
        digest_times = {g.local.time() for g in got if isinstance(g.item.data, DigestData) and not g.item.late}
        assert digest_times == {datetime(2026, 1, 1, 8, 30).time()}
        assert {g.recipient for g in got if g.item.late} >= {LUCHENG_GROUP, LONGWAN_GROUP, HEAD, CITY_ADMIN}
    finally:
        await s.storage.close()
