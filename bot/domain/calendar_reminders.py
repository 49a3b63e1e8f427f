"""Calendar duties and digests as reminder schedules (the rest of the schedule is in bot.domain.reminders).

Defaults, all at local times: fire drills 30 and 7 days before the period ends if none is logged → the head, the
day after it ends → county staff, and the head (that it was missed, and when the next one is due); self-inspections
on the 1st (opens), the 25th and the month's last day → the head, the 1st of the next month → county staff; an
institution with no head a reminder can reach has its county staff stand in for the head for the last of these
before the duty is due (7 days before, the 25th), not for every one; study sessions 30 and 7 days before the
half-year ends → the unit's staff, after → the unit's staff and city admins; duty reminders at 09:00; digests at
08:30 to county groups on working days (Monday to Friday), and on Mondays to the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.compliance import DutyRule, Period, next_period, period_of, previous_period
from bot.domain.reminders import Audience, ReminderKind, local_instant, recipient_tag


def _audiences(*values: Audience) -> frozenset[Audience]:
    return frozenset(values)


class Anchor(StrEnum):
    START = "start"  # counted from the period's first day
    END = "end"  # counted from the period's last day


@dataclass(frozen=True)
class DutyStep:
    name: str  # part of the dedupe key
    kind: ReminderKind
    anchor: Anchor
    days: int  # from the anchor: END -30 is 30 days before the last day, END +1 the day after it
    audiences: frozenset[Audience]

    def day(self, period: Period) -> date:
        base = period.start if self.anchor is Anchor.START else period.end
        return base + timedelta(days=self.days)


_K = ReminderKind
DRILL_STEPS = (
    DutyStep("due30", _K.DRILL_DUE_SOON, Anchor.END, -30, _audiences(Audience.RESPONSIBLE)),
    DutyStep("due7", _K.DRILL_DUE_SOON, Anchor.END, -7, _audiences(Audience.RESPONSIBLE)),
    # Only the last reminder before the period ends: county staff stand in for hundreds of institutions.
    DutyStep("due7_stand_in", _K.DRILL_STAND_IN, Anchor.END, -7, _audiences(Audience.STAND_IN)),
    DutyStep("overdue", _K.DRILL_OVERDUE, Anchor.END, 1, _audiences(Audience.COUNTY_STAFF)),
    # The head owns the miss as much as the county does: told the same morning, in the message that opens the
    # month's self-inspection, with the drill now owed. A home with no head has its staff told already ("overdue").
    DutyStep("missed", _K.DRILL_MISSED, Anchor.END, 1, _audiences(Audience.RESPONSIBLE)),
)
SELF_INSPECTION_STEPS = (
    DutyStep("open", _K.SELF_INSPECTION_OPEN, Anchor.START, 0, _audiences(Audience.RESPONSIBLE)),
    DutyStep("due", _K.SELF_INSPECTION_DUE, Anchor.START, 24, _audiences(Audience.RESPONSIBLE)),
    DutyStep("due_stand_in", _K.SELF_INSPECTION_STAND_IN, Anchor.START, 24, _audiences(Audience.STAND_IN)),
    # The sheet closes at the end of the month's last day: a last nudge that morning, to the head alone.
    DutyStep("last_day", _K.SELF_INSPECTION_LAST_DAY, Anchor.END, 0, _audiences(Audience.RESPONSIBLE)),
    DutyStep("overdue", _K.SELF_INSPECTION_OVERDUE, Anchor.END, 1, _audiences(Audience.COUNTY_STAFF)),
)
STUDY_STEPS = (
    DutyStep("due30", _K.STUDY_DUE_SOON, Anchor.END, -30, _audiences(Audience.RESPONSIBLE)),
    DutyStep("due7", _K.STUDY_DUE_SOON, Anchor.END, -7, _audiences(Audience.RESPONSIBLE)),
    # The unit that missed it (its own staff: the county bureau's, or the city admins for the city bureau) is told,
    # as well as the city: told only to the city, a county's missed half-year reached nobody who could hold one.
    DutyStep("overdue", _K.STUDY_OVERDUE, Anchor.END, 1, _audiences(Audience.RESPONSIBLE, Audience.CITY_ADMIN)),
)

# On the 1st of each month, with the month's other lines: the city admins hear of each institution of the city that
# has had no registered head for longer than `CalendarSchedule.headless_after_days` (checked when it goes out).
HEADLESS_STEPS = (DutyStep("headless", _K.HEADLESS, Anchor.START, 0, _audiences(Audience.CITY_ADMIN)),)

# The duty reminders that urge doing it within its period (the rest say, after it, that it was missed).
URGING_KINDS = frozenset(
    {
        _K.DRILL_DUE_SOON, _K.DRILL_STAND_IN, _K.SELF_INSPECTION_OPEN, _K.SELF_INSPECTION_DUE,
        _K.SELF_INSPECTION_LAST_DAY, _K.SELF_INSPECTION_STAND_IN, _K.STUDY_DUE_SOON,
    }
)


def urges_too_late(kind: ReminderKind, period: Period, today: date) -> bool:
    """Whether a reminder of this kind, going out `today` (late: the bot was down), would urge doing the duty
    within a period already over: "today is the last day… by 2026-11-30" on 3 December, beside the period's own
    "missed" line. It is dropped: the period's overdue reminder, and the next period's, tell what stands."""
    return kind in URGING_KINDS and period.end < today


@dataclass(frozen=True)
class CalendarSchedule:
    drill_steps: tuple[DutyStep, ...] = DRILL_STEPS
    self_inspection_steps: tuple[DutyStep, ...] = SELF_INSPECTION_STEPS
    study_steps: tuple[DutyStep, ...] = STUDY_STEPS
    headless_steps: tuple[DutyStep, ...] = HEADLESS_STEPS
    # An institution with no registered head for more than this many days is named to the city admins once a month:
    # its clerk has been taking its reminders in the head's place, and a month of that is a handover, not a gap.
    headless_after_days: int = 30
    duty_time: time = time(9, 0)  # local time of every duty reminder
    digest_time: time = time(8, 30)
    # The county groups' daily digest (工作日报) comes on working days; the first one after days without covers
    # them all (Monday's, Friday morning to Monday morning). On a weekend the same counts came again each morning
    # to a group nobody read until Monday, and Monday's then said only what Sunday changed.
    digest_weekdays: frozenset[int] = frozenset(range(5))  # date.weekday(): Monday is 0
    weekly_summary_weekday: int = 0  # Monday
    # Duty reminders are stored this many days before they fall due: an outage shorter than that loses none
    # (they go out late), and the daily planning run does not rewrite a half-year of rows every day.
    planning_horizon_days: int = 31


DEFAULT_SCHEDULE = CalendarSchedule()


@dataclass(frozen=True)
class PlannedDuty:
    step: DutyStep
    period: Period
    due_at: datetime


def plan_duty_reminders(
    rule: DutyRule, steps: tuple[DutyStep, ...], today: date, at: time, tz: ZoneInfo, *, horizon_days: int = 31
) -> list[PlannedDuty]:
    """The steps of the previous, current and next period that fall from today to `horizon_days` ahead.

    The previous period matters on the first days of a new one: its "overdue" step falls after it ended. Steps
    on earlier days are left alone: planned ahead, they are already stored (and go out late if missed).
    Whether the duty is still undone is judged when the reminder is due, not here.
    """
    current = period_of(rule, today)
    last_day = today + timedelta(days=horizon_days)
    planned = []
    for period in (previous_period(rule, current), current, next_period(rule, current)):
        for step in steps:
            day = step.day(period)
            if today <= day <= last_day:
                planned.append(PlannedDuty(step, period, local_instant(day, at, tz)))
    return planned


def headless_days(since: date | None, today: date) -> int | None:
    """Days an institution has gone without a registered head: since its last head's access ended, or since it was
    added (or tracking began) if none ever registered; None when nothing says since when (none ever registered, and
    every period is tracked)."""
    return None if since is None else (today - since).days


def escalates_headless(since: date | None, today: date, after_days: int) -> bool:
    """Whether the city is told: without a head for more than `after_days` days, or for as long as is known."""
    days = headless_days(since, today)
    return days is None or days > after_days


def duty_key(duty: str, subject: str, period: Period, step: str, recipient_id: int, topic_id: int | None) -> str:
    return f"{duty}:{subject}:{period.key}:{step}:{recipient_tag(recipient_id, topic_id)}"


@dataclass(frozen=True)
class PlannedDigest:
    kind: ReminderKind
    day: date
    due_at: datetime
    window: timedelta  # what the digest covers: the day or the week before it is due


def plan_digests(today: date, schedule: CalendarSchedule, tz: ZoneInfo) -> list[PlannedDigest]:
    """Today's digests and those of every day up to the next one with a daily digest (tomorrow's, or Monday's
    from a Friday), so that a planning run late in the day, or none on a weekend, never leaves the next one bare."""
    planned = []
    for day in _days_to_plan(today, schedule.digest_weekdays):
        due = local_instant(day, schedule.digest_time, tz)
        if day.weekday() in schedule.digest_weekdays:
            window = timedelta(days=days_since_last_digest(day, schedule.digest_weekdays))
            planned.append(PlannedDigest(ReminderKind.DAILY_DIGEST, day, due, window))
        if day.weekday() == schedule.weekly_summary_weekday:
            planned.append(PlannedDigest(ReminderKind.WEEKLY_SUMMARY, day, due, timedelta(days=7)))
    return planned


def _days_to_plan(today: date, weekdays: frozenset[int]) -> list[date]:
    days = [today]
    while len(days) < 8:
        days.append(days[-1] + timedelta(days=1))
        if days[-1].weekday() in weekdays:
            break
    return days


def days_since_last_digest(day: date, weekdays: frozenset[int]) -> int:
    """Days back from `day` to the previous day a daily digest comes (7 when it comes once a week)."""
    return next(back for back in range(1, 8) if (day.weekday() - back) % 7 in weekdays)


def parse_weekdays(text: str) -> frozenset[int]:
    """ISO weekday numbers (1 is Monday, 7 Sunday) and ranges, comma-separated: "1-5", "1-6", "1,3,5"; as
    `date.weekday()` numbers (Monday 0). At least one day."""
    days: set[int] = set()
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise ValueError(f"not a weekday number or range: {part!r}") from None
        if not 1 <= low <= high <= 7:
            raise ValueError(f"weekdays are 1 (Monday) to 7 (Sunday), in order: {part!r}")
        days.update(range(low - 1, high))
    if not days:
        raise ValueError("name at least one weekday, e.g. 1-5")
    return frozenset(days)


def digest_key(kind: ReminderKind, day: date, chat_id: int, topic_id: int | None) -> str:
    return f"{kind.value}:{day.isoformat()}:{recipient_tag(chat_id, topic_id)}"
