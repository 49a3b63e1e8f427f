"""What to remind whom, and when: reminder kinds, the escalation ladder and quiet hours, as data.

Pure functions of facts and a clock. They say *when* and *to which audience*; the reminder service turns
audiences into people, stores each reminder under a dedupe key, and sends it once.

Default schedule (all local times in the deployment's timezone):
- Hazards, counted in elapsed hours from the deadline (`DEFAULT_LADDER`): 24 h and 2 h before → the person
  responsible; at the deadline → the person responsible and county staff; 1 day overdue → county staff;
  3 days → city admins and the county's group; then every week → the person responsible, county staff, city
  admins and the county's groups bound for hazards alone (the others' daily digest lists the overdue). The
  escalations (1 day, 3 days) go out at the next 09:00 rather than at their own minute (unless urgent): county
  staff oversee hundreds of hazards and city admins and groups thousands, and each gets that day's escalations in
  one message, not one every few minutes. The weekly repeats of a hazard that is not
  urgent all go out on Monday at 09:00 (`repeat_weekday`), whatever weekday it fell overdue on: a clerk hears of the
  county's overdue backlog once a week, in one list, not a part of it on each of seven mornings. An urgent (重大)
  hazard's repeats keep its own rhythm: every 7 days from its three-day escalation, at the deadline's minute. The
  deadline itself is the responsible person's too, and comes at its minute for everyone it concerns.
- Quiet hours 22:00–07:30: anything not urgent waits for 07:30. A serious (重大) hazard is urgent and does not
  wait. A "before the deadline" reminder that quiet hours would push past the deadline is dropped: the deadline
  reminder says more.
- Drills, self-inspections, study sessions and digests: `bot.domain.calendar_reminders`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.domain.catalog import Severity
from bot.domain.lifecycle import OPEN_STATES, HazardFacts

# Past its due time by more than this when claimed, a reminder is flagged late (the bot was down, or quiet hours
# held it back); a little more than one sweep interval.
LATE_AFTER = timedelta(minutes=5)

URGENT_SEVERITIES = frozenset({Severity.SERIOUS})


class ReminderKind(StrEnum):
    HAZARD_DUE_SOON = "hazard_due_soon"  # the deadline is near
    HAZARD_DEADLINE = "hazard_deadline"  # the deadline has come
    HAZARD_OVERDUE = "hazard_overdue"  # an escalation past the deadline
    DRILL_DUE_SOON = "drill_due_soon"
    DRILL_OVERDUE = "drill_overdue"
    # The same morning, to the heads themselves: their period was missed, and the drill now owed (and by when).
    DRILL_MISSED = "drill_missed"
    SELF_INSPECTION_OPEN = "self_inspection_open"
    SELF_INSPECTION_DUE = "self_inspection_due"
    SELF_INSPECTION_LAST_DAY = "self_inspection_last_day"  # the month's last day, the sheet still not finished
    SELF_INSPECTION_OVERDUE = "self_inspection_overdue"
    # The last reminder before a drill or self-inspection is due, to whoever stands in for an institution's heads
    # while it has none (Audience.STAND_IN): worded for them, naming the institution and how to invite a head.
    DRILL_STAND_IN = "drill_stand_in"
    SELF_INSPECTION_STAND_IN = "self_inspection_stand_in"
    STUDY_DUE_SOON = "study_due_soon"
    STUDY_OVERDUE = "study_overdue"
    # An institution that has had no registered head for longer than the schedule allows, named to the city admins on
    # the 1st of each month: its duty reminders have gone to its county's staff as stand-ins all that time.
    HEADLESS = "headless_institution"
    DAILY_DIGEST = "daily_digest"
    WEEKLY_SUMMARY = "weekly_summary"


class Audience(StrEnum):
    # Hazards: the person named responsible, else the institution's heads. Duties: the institution's heads,
    # or for study sessions the unit's own staff.
    RESPONSIBLE = "responsible"
    COUNTY_STAFF = "county_staff"  # county staff covering the place; city admins where no county does
    CITY_ADMIN = "city_admin"
    COUNTY_GROUP = "county_group"  # the county's bound groups (never for sensitive hazards)
    # Of those, the groups bound for hazards alone: no daily digest lists the county's overdue there, so the weekly
    # repeat does (never for sensitive hazards either).
    HAZARDS_ONLY_GROUP = "hazards_only_group"
    # The city's own groups for hazards (bound to the city as general or hazards): they hear what reaches the city
    # admins from a county, its three-day escalation, not every local item (never for sensitive hazards either).
    CITY_GROUP = "city_group"
    # Duties of an institution with no head a reminder can reach: the county staff covering it (city admins where
    # no county staff do) in the heads' place; nobody while it has one. Hazards need none: RESPONSIBLE falls back.
    STAND_IN = "stand_in"


def _audiences(*values: Audience) -> frozenset[Audience]:
    return frozenset(values)


# ---- quiet hours -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    start: time = time(22, 0)
    end: time = time(7, 30)

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


DEFAULT_QUIET_HOURS = QuietHours()


def parse_quiet_hours(text: str) -> QuietHours:
    """"22:00-07:30" → QuietHours; a ValueError that names the expected form for anything else."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise ValueError(f"quiet hours must read HH:MM-HH:MM, not {text!r}") from error
    return QuietHours(start=start, end=end)


def in_quiet_hours(at: datetime, quiet: QuietHours, tz: ZoneInfo) -> bool:
    return quiet.contains(at.astimezone(tz).time().replace(tzinfo=None))


def next_allowed_time(at: datetime, urgent: bool, quiet: QuietHours, tz: ZoneInfo) -> datetime:
    """`at` itself, unless it falls in quiet hours and is not urgent: then the end of those quiet hours (UTC)."""
    if urgent or not in_quiet_hours(at, quiet, tz):
        return at
    local = at.astimezone(tz)
    end = datetime.combine(local.date(), quiet.end, tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=tz)
    return end.astimezone(UTC)


def is_urgent(severity: Severity) -> bool:
    return severity in URGENT_SEVERITIES


def notice_held_until(at: datetime, severity: Severity, quiet: QuietHours, tz: ZoneInfo) -> datetime | None:
    """When a notice about a hazard of `severity`, owed at `at`, may go out, if not at once: as its reminders, a
    non-urgent hazard's notices wait out quiet hours (a 一般 hazard found at 23:30 is read at 07:30, not by a phone
    that wakes its owner); a 重大 one's go at once."""
    due = next_allowed_time(at, is_urgent(severity), quiet, tz)
    return None if due == at else due


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


# ---- hazards -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LadderStep:
    name: str  # part of the dedupe key: never rename a step that has shipped
    offset: timedelta  # from the deadline; negative before it
    kind: ReminderKind
    audiences: frozenset[Audience]


@dataclass(frozen=True)
class EscalationLadder:
    steps: tuple[LadderStep, ...]
    # After the last step, again every `repeat_every` for as long as the hazard stays open.
    repeat_every: timedelta | None = timedelta(days=7)
    repeat_audiences: frozenset[Audience] = field(default_factory=frozenset)
    # A step (or repeat) for these audiences alone goes out at the next `batch_at` (local time) from its own moment,
    # unless the hazard is urgent. Each hazard's escalations to a city admin fell due at the minute of its deadline,
    # so in a city with fifteen thousand hazards overdue an admin got a message nearly every minute of the day.
    batch_at: time | None = None
    batched_audiences: frozenset[Audience] = field(default_factory=frozenset)
    # The repeats wait for the batch whoever they go to: the person responsible is reminded every week of a hazard
    # still overdue, in the same 09:00 message as anything else due to them, not at the minute of the deadline.
    batch_repeats: bool = False
    # Batched weekly repeats go out on this weekday (0 Monday … 6 Sunday) at `batch_at`, not on the weekday each
    # hazard fell overdue on: a county with hundreds of hazards overdue had its clerk sent a list every morning, each
    # a seventh of the backlog. Needs `repeat_every` of exactly a week and a `batch_at`; urgent hazards, which are
    # never batched, keep their own weekday (`weekly_repeat_moment`).
    repeat_weekday: int | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("an escalation ladder needs at least one step")
        if any(a.offset >= b.offset for a, b in pairwise(self.steps)):
            raise ValueError("ladder steps must be in strictly increasing order of offset")
        if len({s.name for s in self.steps}) != len(self.steps):
            raise ValueError("ladder step names must be unique")
        if self.repeat_every is not None and self.repeat_every <= timedelta(0):
            raise ValueError("repeat_every must be positive")
        if self.batch_at is not None and self.repeat_every is not None and self.repeat_every < timedelta(days=1):
            raise ValueError("repeats more often than daily cannot wait for a daily batch: set batch_at to None")
        if self.repeat_weekday is not None:
            if not 0 <= self.repeat_weekday <= 6:
                raise ValueError("repeat_weekday is a weekday number, 0 (Monday) to 6 (Sunday)")
            if self.repeat_every is not None and (self.repeat_every != timedelta(days=7) or self.batch_at is None):
                raise ValueError("a repeat weekday needs weekly repeats (repeat_every of 7 days) and a batch_at")


DEFAULT_LADDER = EscalationLadder(
    steps=(
        LadderStep("before24h", -timedelta(hours=24), ReminderKind.HAZARD_DUE_SOON, _audiences(Audience.RESPONSIBLE)),
        LadderStep("before2h", -timedelta(hours=2), ReminderKind.HAZARD_DUE_SOON, _audiences(Audience.RESPONSIBLE)),
        LadderStep(
            "deadline",
            timedelta(0),
            ReminderKind.HAZARD_DEADLINE,
            _audiences(Audience.RESPONSIBLE, Audience.COUNTY_STAFF),
        ),
        LadderStep("overdue1d", timedelta(days=1), ReminderKind.HAZARD_OVERDUE, _audiences(Audience.COUNTY_STAFF)),
        LadderStep(
            "overdue3d",
            timedelta(days=3),
            ReminderKind.HAZARD_OVERDUE,
            _audiences(Audience.CITY_ADMIN, Audience.COUNTY_GROUP, Audience.CITY_GROUP),
        ),
    ),
    repeat_every=timedelta(days=7),
    # Nothing forgotten: while a hazard stays overdue, whoever must correct it and the county staff covering it hear
    # of it every week, as the city does, not once at the deadline and then never again. Not a county group bound as
    # general: its daily digest (08:30, every working day) already lists every hazard still overdue, and the Monday
    # repeat at 09:00 was the same list in the same group half an hour later; it hears of a hazard once, at its
    # three-day escalation, and the digest keeps it in view. A group bound for hazards alone gets no digest, so
    # without the repeat it lost sight of the county's overdue after that one escalation: it gets the Monday list.
    repeat_audiences=_audiences(
        Audience.RESPONSIBLE, Audience.COUNTY_STAFF, Audience.CITY_ADMIN, Audience.HAZARDS_ONLY_GROUP
    ),
    batch_at=time(9, 0),
    batched_audiences=_audiences(
        Audience.COUNTY_STAFF, Audience.CITY_ADMIN, Audience.COUNTY_GROUP, Audience.CITY_GROUP
    ),
    batch_repeats=True,
    repeat_weekday=0,  # Monday: the week's list of what is still overdue, at the start of the working week
)


@dataclass(frozen=True)
class PlannedReminder:
    step: str
    kind: ReminderKind
    audiences: frozenset[Audience]
    at: datetime  # the ladder's own moment
    due_at: datetime  # when to send: after quiet hours, or now for a catch-up
    urgent: bool
    # False: the moment has gone (or quiet hours made it moot). Keep a row that exists, since it may still be
    # waiting to go out late, but add none.
    add: bool


def plan_hazard_reminders(
    facts: HazardFacts,
    severity: Severity,
    now: datetime,
    *,
    ladder: EscalationLadder = DEFAULT_LADDER,
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS,
    tz: ZoneInfo,
) -> list[PlannedReminder]:
    """Every step of the ladder for the hazard's current deadline, and its weekly repeats up to a week ahead, from
    the latest that has certainly passed on.

    Nothing for a hazard that is not open (fixed hazards wait for staff, closed ones are done) or has no deadline.
    A step whose moment has passed is not added, except the latest one at or past the deadline: a hazard that
    is reopened, or first planned, long after its deadline gets one escalation now rather than none.
    The repeats before that one are not listed (`passed_repeats` counts them): they can be neither the catch-up nor
    a step to come, and a hazard a year overdue has fifty; working each out again for every open hazard was most of
    the daily plan's time and of a new city admin's.
    """
    deadline = facts.deadline
    if deadline is None or facts.state not in OPEN_STATES:
        return []
    urgent = is_urgent(severity)
    plan: list[PlannedReminder] = []
    latest_past: int | None = None
    # Worked out once for the plan rather than for each repeat: the daily plan goes through every open hazard.
    first_day = _first_repeat_day(ladder, deadline, tz) if _on_weekday(ladder, urgent) else None
    for step in _steps_to_plan(ladder, deadline, now, urgent, tz, first_day):
        at = _moment(ladder, deadline, step, urgent, tz, first_day)
        if at <= now:
            if step.offset >= timedelta(0):
                latest_past = len(plan)
            plan.append(PlannedReminder(step.name, step.kind, step.audiences, at, at, urgent, add=False))
            continue
        due = next_allowed_time(at, urgent, quiet_hours, tz)
        moot = step.offset < timedelta(0) and due >= deadline
        plan.append(PlannedReminder(step.name, step.kind, step.audiences, at, due, urgent, add=not moot))
    if latest_past is not None:
        past = plan[latest_past]
        catch_up = next_allowed_time(now, urgent, quiet_hours, tz)
        if _batched(ladder, ladder_step(ladder, past.step), urgent):
            catch_up = next_allowed_time(_next_batch(now, ladder, tz), urgent, quiet_hours, tz)
        plan[latest_past] = PlannedReminder(past.step, past.kind, past.audiences, past.at, catch_up, urgent, add=True)
    return plan


def passed_repeats(
    facts: HazardFacts,
    severity: Severity,
    now: datetime,
    *,
    ladder: EscalationLadder = DEFAULT_LADDER,
    tz: ZoneInfo,
) -> int:
    """How many of the hazard's weekly repeats have certainly had their moment by `now` (0 for a hazard
    `plan_hazard_reminders` plans nothing for): repeat1 to repeatN, N returned. The plan lists the last of these
    and every repeat after it, not the others; a row of one of them may still be waiting to go out late (after an
    outage), and a full re-plan keeps it."""
    if facts.deadline is None or facts.state not in OPEN_STATES or ladder.repeat_every is None:
        return 0
    return _repeats_certainly_passed(ladder, facts.deadline, now, is_urgent(severity), tz)


def _moment(
    ladder: EscalationLadder,
    deadline: datetime,
    step: LadderStep,
    urgent: bool,
    tz: ZoneInfo,
    first_day: date | None = None,
) -> datetime:
    """The step's own moment: its offset from the deadline, or the next batch from there; a weekly repeat kept to
    the ladder's weekday, that weekday's batch (`_weekday_repeat`; `first_day`: the first's day, if known)."""
    number = repeat_number(step.name)
    if number is not None and _on_weekday(ladder, urgent):
        first_day = first_day or _first_repeat_day(ladder, deadline, tz)
        return _weekday_repeat(first_day, number, ladder, tz)
    at = deadline + step.offset
    return _next_batch(at, ladder, tz) if _batched(ladder, step, urgent) else at


def _on_weekday(ladder: EscalationLadder, urgent: bool) -> bool:
    """Whether the hazard's repeats keep the ladder's weekday: batched ones (never an urgent hazard's) only."""
    if ladder.repeat_weekday is None or ladder.repeat_every is None:
        return False
    return _batched(ladder, _repeat(ladder, 1), urgent)


def _first_repeat_day(ladder: EscalationLadder, deadline: datetime, tz: ZoneInfo) -> date:
    """The local day of the first weekly repeat on a weekday ladder: the first `repeat_weekday` whose batch comes
    after the last step's moment.

    The next such day, not the first a full week after the last step: the Monday list is then the whole backlog,
    every hazard past its last step by that Monday is on it, which is what a clerk reading it as "what is still
    overdue" expects. A hazard three days overdue on a Tuesday is on the next Monday's list, six days on, not left
    off it until the Monday after (a fortnight without a word); one whose three-day escalation went to the city on
    a Sunday is on Monday's list the next day, with the rest. A last step on Monday at 09:00 itself puts the first
    repeat a week on, so nobody is told of it twice in the same message."""
    assert ladder.repeat_weekday is not None and ladder.batch_at is not None
    after = _moment(ladder, deadline, ladder.steps[-1], False, tz)
    day = after.astimezone(tz).date()
    day += timedelta(days=(ladder.repeat_weekday - day.weekday()) % 7)
    if local_instant(day, ladder.batch_at, tz) <= after:
        day += timedelta(days=7)
    return day


def _weekday_repeat(first_day: date, number: int, ladder: EscalationLadder, tz: ZoneInfo) -> datetime:
    """Repeat `number`'s moment on a weekday ladder: the batch of the day `number - 1` weeks after the first's."""
    assert ladder.batch_at is not None
    return local_instant(first_day + timedelta(weeks=number - 1), ladder.batch_at, tz)


def _weekday_repeats_passed(
    ladder: EscalationLadder, deadline: datetime, now: datetime, tz: ZoneInfo, first_day: date | None = None
) -> int:
    """How many repeats of a weekday ladder have had their moment by `now`: exactly (their moments are known
    without batching's slack), worked out from the weeks between rather than counted."""
    first_day = first_day or _first_repeat_day(ladder, deadline, tz)
    number = max((now.astimezone(tz).date() - first_day).days // 7 + 1, 0)
    while number > 0 and _weekday_repeat(first_day, number, ladder, tz) > now:
        number -= 1
    while _weekday_repeat(first_day, number + 1, ladder, tz) <= now:
        number += 1
    return number


def _batched(ladder: EscalationLadder, step: LadderStep, urgent: bool) -> bool:
    if ladder.batch_at is None or urgent:
        return False
    return step.audiences <= ladder.batched_audiences or (ladder.batch_repeats and repeat_number(step.name) is not None)


def _next_batch(at: datetime, ladder: EscalationLadder, tz: ZoneInfo) -> datetime:
    """The first `ladder.batch_at` (local) at or after `at`, in UTC."""
    assert ladder.batch_at is not None
    local = at.astimezone(tz)
    batch = datetime.combine(local.date(), ladder.batch_at, tzinfo=tz)
    if batch < local:
        batch = datetime.combine(local.date() + timedelta(days=1), ladder.batch_at, tzinfo=tz)
    return batch.astimezone(UTC)


def ladder_step(ladder: EscalationLadder, name: str) -> LadderStep:
    """The step of that name: one of the ladder's, or a repeat (repeat1, repeat2, …)."""
    for step in ladder.steps:
        if step.name == name:
            return step
    return LadderStep(name, ladder.steps[-1].offset, ReminderKind.HAZARD_OVERDUE, ladder.repeat_audiences)


def _steps_to_plan(
    ladder: EscalationLadder,
    deadline: datetime,
    now: datetime,
    urgent: bool,
    tz: ZoneInfo,
    first_day: date | None = None,
) -> list[LadderStep]:
    """The ladder's steps, then its repeats up to the first more than one interval past the later of `now` and the
    ladder's last step: from the latest that has certainly passed (which may be the one to catch up), since those
    before it can be neither the catch-up nor a step to come. On a weekday ladder, from the latest that has passed
    to the next one to come: the next weekday's."""
    steps = list(ladder.steps)
    if ladder.repeat_every is None:
        return steps
    if _on_weekday(ladder, urgent):
        passed = _weekday_repeats_passed(ladder, deadline, now, tz, first_day)
        return steps + [_repeat(ladder, number) for number in range(max(passed, 1), passed + 2)]
    first_minute = deadline + ladder.steps[-1].offset  # repeat n's own minute is this plus n intervals
    last = (max(now, first_minute) + ladder.repeat_every - first_minute) // ladder.repeat_every
    start = max(_repeats_certainly_passed(ladder, deadline, now, urgent, tz), 1)
    steps += (_repeat(ladder, number) for number in range(start, last + 1))
    return steps


# A batched moment is the next `batch_at` from the step's own minute: at most a day after it (and the hour a clock
# change adds), and never more than an hour or two before it (a `batch_at` in the hour that a clock going back
# repeats). A repeat whose minute is further than this before now has passed, whatever batching made of it.
_BATCH_SLACK = timedelta(days=2)


def _repeats_certainly_passed(
    ladder: EscalationLadder, deadline: datetime, now: datetime, urgent: bool, tz: ZoneInfo
) -> int:
    """How many of the first repeats have had their moment by `now` whatever batching does to it: worked out rather
    than counted (a hazard a year overdue has fifty). Those later are left for the planner to look at one by one."""
    assert ladder.repeat_every is not None
    if _on_weekday(ladder, urgent):
        return _weekday_repeats_passed(ladder, deadline, now, tz)
    first_minute = deadline + ladder.steps[-1].offset
    slack = _BATCH_SLACK if _batched(ladder, _repeat(ladder, 1), urgent) else timedelta(0)
    return max((now - slack - first_minute) // ladder.repeat_every, 0)


def _repeat(ladder: EscalationLadder, number: int) -> LadderStep:
    assert ladder.repeat_every is not None
    offset = ladder.steps[-1].offset + number * ladder.repeat_every
    return LadderStep(repeat_name(number), offset, ReminderKind.HAZARD_OVERDUE, ladder.repeat_audiences)


def repeat_name(number: int) -> str:
    """The step name of the ladder's `number`th repeat (from 1): part of the dedupe key, never to change."""
    return f"repeat{number}"


def repeat_number(step: str) -> int | None:
    """The number of a repeat's step name (`repeat_name`); None for any other step."""
    digits = step.removeprefix("repeat")
    return int(digits) if digits != step and digits.isascii() and digits.isdigit() else None


def hazard_key(hazard_id: int, deadline: datetime, step: str, recipient_id: int, topic_id: int | None) -> str:
    """The deadline is part of the key: a changed deadline earns its own reminders; the old ones lapse."""
    return f"{hazard_key_prefix(hazard_id, deadline)}:{step}:{recipient_tag(recipient_id, topic_id)}"


def hazard_key_prefix(hazard_id: int, deadline: datetime) -> str:
    """What the keys of the hazard's rows for that deadline begin with, up to the step: `hazard_key` is this, the
    step and the recipient tag, joined by colons (neither a repeat's name nor a tag has one)."""
    return f"hazard:{hazard_id}:{deadline.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def deadline_stamp(deadline: datetime) -> str:
    """The deadline a hazard reminder was planned for, as stored with it: the same instant gives the same text."""
    return deadline.astimezone(UTC).isoformat(timespec="microseconds")


def recipient_tag(recipient_id: int, topic_id: int | None) -> str:
    return str(recipient_id) if topic_id is None else f"{recipient_id}/{topic_id}"
