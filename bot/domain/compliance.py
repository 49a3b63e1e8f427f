"""Calendar duties as data (DOMAIN.md, "Rules with numbers"): fire drills, monthly self-inspections, study sessions.

A duty is owed once per period (a month, a half-year Jan–Jun / Jul–Dec, or a calendar year, in local dates).
`status()` judges one period at a time, as the seed document does ("每半年至少开展一次"), not a rolling interval:

- A drill on 30 June counts for the first half-year, one on 1 July for the second.
- Compliant: the current period is covered, or it is not yet due soon and no earlier period was missed.
- DueSoon: nothing logged in the current period and its end is within `due_soon_days` (inclusive: on 31 May
  the first half-year has 30 days left and is due soon; on 30 May it is not).
- Overdue: the previous period ended with nothing logged, and nothing has been logged since. So an elderly-care
  home whose last drill was on 15 December 2025 is overdue on 15 July 2026 (the first half-year was missed),
  and stays so until it logs one. One whose last drill was on 10 January 2026 is *not* overdue on 10 August
  2026, seven months later: the first half-year is covered and the second runs to 31 December.
- A funeral home (one drill per calendar year) with one drill in March is compliant for the whole year.

Periods that ended before `judged_from` are never counted as missed. For an institution it is the later of the day
the deployment started tracking (so a new deployment does not declare every institution overdue on its first day)
and the day the institution itself was added (so a home imported on 15 July did not miss the first half-year's
drill): `judging_start`. The period that day falls in is owed only if at least about half of it remained: if the day
is in the period's first half (`last_joining_day`: the 15th of a month, the end of a half-year's third month, 30
June of a year), otherwise the first owed period is the next one (`owes`, `first_owed`). A record made in a period
not owed still counts: the period is then compliant, done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType


class Duty(StrEnum):
    FIRE_DRILL = "fire_drill"
    SELF_INSPECTION = "self_inspection"
    STUDY = "study"


class Cadence(StrEnum):
    MONTH = "month"
    HALF_YEAR = "half_year"
    YEAR = "year"


class DrillKind(StrEnum):
    FIRE = "fire"  # 消防疏散演练
    TYPHOON_FLOOD = "typhoon_flood"  # 防台防汛转移演练
    FOOD_POISONING = "food_poisoning"  # 食物中毒应急演练
    EPIDEMIC = "epidemic"  # 疫情防控应急演练
    OTHER = "other"


@dataclass(frozen=True)
class DutyRule:
    duty: Duty
    cadence: Cadence
    # Due soon within this many days of the period's end, counted inclusively (see the module docstring)…
    due_soon_days: int = 30
    # …or, for monthly duties, from this day of the month, so that months of every length agree with the reminder.
    due_soon_day: int | None = None
    # Drills of these kinds count towards the duty (the seed asks for fire drills); empty for other duties.
    drill_kinds: frozenset[DrillKind] = frozenset()


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def key(self) -> str:
        """A stable name for the period, used in reminder keys and by the renderer: 2026-03, 2026-H1, 2026."""
        if self.start.month == 1 and self.end.month == 12:
            return f"{self.start.year}"
        if self.end.month - self.start.month == 5:
            return f"{self.start.year}-H{1 if self.start.month == 1 else 2}"
        return f"{self.start.year}-{self.start.month:02d}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Compliant:
    period: Period
    done_on: date | None  # the latest qualifying date in the period; None when not yet done but not yet due
    # Set when the current period is not owed at all (joined in its second half, `owes`): the first period that is.
    first_owed: Period | None = None


@dataclass(frozen=True)
class DueSoon:
    period: Period
    days_left: int  # 0 on the last day of the period


@dataclass(frozen=True)
class Overdue:
    period: Period  # the current period
    missed: Period  # the period that ended with nothing logged
    days_overdue: int  # days since the missed period ended; 1 on the first day of the next period
    # Days left of the current period, which is owed too (and is all that can still be done: a record counts for
    # the period it is made in, and a month's self-inspection sheet closes at its end); 0 on its last day.
    days_left: int


DutyStatus = Compliant | DueSoon | Overdue

_FIRE = frozenset({DrillKind.FIRE})
HALF_YEARLY_FIRE_DRILL = DutyRule(Duty.FIRE_DRILL, Cadence.HALF_YEAR, due_soon_days=30, drill_kinds=_FIRE)
YEARLY_FIRE_DRILL = DutyRule(Duty.FIRE_DRILL, Cadence.YEAR, due_soon_days=30, drill_kinds=_FIRE)

# Keyed by institution type (storage.models.InstitutionType values; the domain does not import storage).
# Residential institutions house people who cannot evacuate alone, hence the stricter cadence (一(四), 三(一));
# every other type, including any added later, gets DEFAULT_DRILL_RULE.
DRILL_RULES: Mapping[str, DutyRule] = MappingProxyType(
    {"elderly_care": HALF_YEARLY_FIRE_DRILL, "welfare": HALF_YEARLY_FIRE_DRILL}
)
DEFAULT_DRILL_RULE = YEARLY_FIRE_DRILL
# 三(一) "每月开展内部隐患自查自纠"; due soon from the 25th, the day the reminder goes out.
SELF_INSPECTION_RULE = DutyRule(Duty.SELF_INSPECTION, Cadence.MONTH, due_soon_day=25)
# 一(一): safety theory study at least once every half-year, per unit (the city bureau and each county).
STUDY_RULE = DutyRule(Duty.STUDY, Cadence.HALF_YEAR, due_soon_days=30)


def drill_rule(institution_type: str) -> DutyRule:
    """The fire-drill rule for an institution type (an InstitutionType works: it is a str)."""
    return DRILL_RULES.get(institution_type, DEFAULT_DRILL_RULE)


def period_of(rule: DutyRule, day: date) -> Period:
    """The period of `rule` that contains the local date `day`."""
    if rule.cadence is Cadence.YEAR:
        return Period(date(day.year, 1, 1), date(day.year, 12, 31))
    if rule.cadence is Cadence.HALF_YEAR:
        if day.month <= 6:
            return Period(date(day.year, 1, 1), date(day.year, 6, 30))
        return Period(date(day.year, 7, 1), date(day.year, 12, 31))
    first = date(day.year, day.month, 1)
    return Period(first, _next_month(first) - timedelta(days=1))


def sheet_closed(period: Period, today: date) -> bool:
    """Whether a record of `period` can no longer be made or changed: its period has ended.

    A monthly self-inspection counts for its month only if it is finished by the month's last day (local). The
    seed document asks for one every month (三(一)) and grants no grace, and the 1st's overdue notice has told
    the county by then; as in scheduled-inspection products, a sheet still open when its window closes is
    missed, not finished late: it stays on record unfinished, answers and hazards kept.
    """
    return today > period.end


def entered_late(rule: DutyRule, held_on: date, logged_on: date) -> bool:
    """Whether a record was entered late (补录): logged after the period it was held in had ended, once that period
    could already have been reported missed. It still counts for that period (the seed asks that drills be held,
    "至少每半年开展一次", not logged by a day), but everyone who reads it sees that it came late, and the figures of a
    period that has ended are those of the records made by its end (`counted_compliant`)."""
    return logged_on > period_of(rule, held_on).end


def previous_period(rule: DutyRule, period: Period) -> Period:
    return period_of(rule, period.start - timedelta(days=1))


def next_period(rule: DutyRule, period: Period) -> Period:
    return period_of(rule, period.end + timedelta(days=1))


def due_soon_from(rule: DutyRule, period: Period) -> date:
    """The first day on which an uncovered period counts as due soon."""
    if rule.due_soon_day is not None:
        return min(period.start + timedelta(days=rule.due_soon_day - 1), period.end)
    return max(period.start, period.end - timedelta(days=rule.due_soon_days))


def judging_start(tracking_since: date | None, tracked_from: date | None) -> date | None:
    """The day from which an institution's duties are judged: the later of the deployment's `tracking_since` and
    the institution's own `tracked_from` (the day it was added); None, every period, when neither is known."""
    if tracking_since is None or tracked_from is None:
        return tracking_since or tracked_from
    return max(tracking_since, tracked_from)


def last_joining_day(rule: DutyRule, period: Period) -> date:
    """The last day of the period's first half: an institution judged from this day or earlier owes the period; one
    judged from later first owes the next. The 15th of a month; 31 March or 30 September of a half-year; 30 June of a
    year. In calendar terms, so that a bureau can say it in one sentence."""
    if rule.cadence is Cadence.MONTH:
        return min(period.start.replace(day=15), period.end)
    half = 3 if rule.cadence is Cadence.HALF_YEAR else 6
    month = period.start.month + half
    return date(period.start.year, month, 1) - timedelta(days=1)


def owes(rule: DutyRule, period: Period, judged_from: date | None) -> bool:
    """Whether a period can be missed at all: every one for None; otherwise only one that `judged_from` falls in
    its first half or before (`last_joining_day`). A period that ended before `judged_from` is never owed."""
    return judged_from is None or judged_from <= last_joining_day(rule, period)


def first_owed(rule: DutyRule, judged_from: date) -> Period:
    """The first period owed by an institution judged from `judged_from`: the one it falls in, or the next."""
    joined = period_of(rule, judged_from)
    return joined if owes(rule, joined, judged_from) else next_period(rule, joined)


def status(rule: DutyRule, done_dates: Iterable[date], today: date, *, judged_from: date | None = None) -> DutyStatus:
    """Where an institution (or unit) stands on a duty today; `done_dates` are the local dates it was done.

    For drills, pass only the dates of drills whose kind is in `rule.drill_kinds`.
    """
    dates = sorted(set(done_dates))
    current = period_of(rule, today)
    in_current = [d for d in dates if d in current and d <= today]
    if in_current:
        return Compliant(current, in_current[-1])
    previous = previous_period(rule, current)
    if owes(rule, previous, judged_from) and not any(d in previous for d in dates):
        return Overdue(current, previous, (today - previous.end).days, (current.end - today).days)
    if judged_from is not None and not owes(rule, current, judged_from):
        return Compliant(current, None, first_owed(rule, judged_from))
    if today >= due_soon_from(rule, current):
        return DueSoon(current, (current.end - today).days)
    return Compliant(current, None)


def counted_compliant(
    rule: DutyRule, done_dates: Iterable[date], as_of: date, judged_from: date | None, *, closed: bool = False
) -> bool | None:
    """How an institution counts in a compliance rate on `as_of`: True (not overdue), False (overdue), or None,
    left out of the rate, when it owed nothing then: judged only from a later day (added, or reopened, after
    `as_of`), or from a day too late in the current period to owe it (`owes`), unless it did the duty in the period
    all the same. Counting those as compliant would raise a county's rate for a month already over by importing
    homes today; counting them as late would blame them for a period before they were tracked.

    `closed`: `as_of` is the last day of a month that has ended, judged as it stood when that day was over (the
    month's end instant), with what was done by then. A duty period ending that very day is then judged too: a
    half-year, or year, that ends with June or December and was missed counts as missed in June's or December's
    figures, as the next morning's overdue notice says. On its last day alone it would still be only due soon,
    and would never be judged for the month it ends in."""
    dates = [day for day in done_dates if day <= as_of]
    verdict = status(rule, dates, as_of, judged_from=judged_from)
    # The next morning, with nothing more done: overdue then only if a period ending on `as_of` was missed.
    if closed and isinstance(status(rule, dates, as_of + timedelta(days=1), judged_from=judged_from), Overdue):
        return False
    owed_nothing = judged_from is not None and (judged_from > as_of or not owes(rule, verdict.period, judged_from))
    if isinstance(verdict, Compliant) and verdict.done_on is None and owed_nothing:
        return None
    return not isinstance(verdict, Overdue)


def _next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
