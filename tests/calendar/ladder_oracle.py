"""The hazard ladder's planner as it was before it skipped the past weekly repeats: every step and every repeat up to
a week ahead, the past ones included. Kept as the oracle that `test_ladder_oracle.py` holds the planner to, and as
the reference `bench/hazard_plans.py` times the planner against.

A copy of `bot.domain.reminders.plan_hazard_reminders` and `_steps_until` at b3eff03, with the private helpers it
used: do not "improve" it, or it stops being a reference. Since then it has learnt, written here its own way, the two
rules added to the ladder after that: repeats batched whoever they go to (`batch_repeats`), and batched weekly
repeats kept to one weekday (`repeat_weekday`, `_weekday_moments`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.catalog import Severity
from bot.domain.lifecycle import OPEN_STATES, HazardFacts
from bot.domain.reminders import (
    DEFAULT_LADDER,
    DEFAULT_QUIET_HOURS,
    EscalationLadder,
    LadderStep,
    PlannedReminder,
    QuietHours,
    ReminderKind,
    is_urgent,
    ladder_step,
    next_allowed_time,
)


def plan_every_step(
    facts: HazardFacts,
    severity: Severity,
    now: datetime,
    *,
    ladder: EscalationLadder = DEFAULT_LADDER,
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS,
    tz: ZoneInfo,
) -> list[PlannedReminder]:
    deadline = facts.deadline
    if deadline is None or facts.state not in OPEN_STATES:
        return []
    urgent = is_urgent(severity)
    plan: list[PlannedReminder] = []
    latest_past: int | None = None
    weekday = (
        ladder.repeat_weekday is not None and ladder.repeat_every is not None
        and _batched(ladder, _a_repeat(ladder), urgent)
    )
    steps = _weekday_steps(ladder, deadline, now, tz) if weekday else _steps_until(ladder, deadline, now)
    for step, on_weekday in steps:
        batched = _batched(ladder, step, urgent)
        at = _next_batch(deadline + step.offset, ladder, tz) if batched else deadline + step.offset
        if on_weekday is not None:
            at = on_weekday
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


def _batched(ladder: EscalationLadder, step: LadderStep, urgent: bool) -> bool:
    # The one change since b3eff03: a ladder may batch its repeats whoever they go to (`batch_repeats`).
    if ladder.batch_at is None or urgent:
        return False
    return step.audiences <= ladder.batched_audiences or (ladder.batch_repeats and step.name.startswith("repeat"))


def _next_batch(at: datetime, ladder: EscalationLadder, tz: ZoneInfo) -> datetime:
    assert ladder.batch_at is not None
    local = at.astimezone(tz)
    batch = datetime.combine(local.date(), ladder.batch_at, tzinfo=tz)
    if batch < local:
        batch = datetime.combine(local.date() + timedelta(days=1), ladder.batch_at, tzinfo=tz)
    return batch.astimezone(UTC)


def _steps_until(
    ladder: EscalationLadder, deadline: datetime, now: datetime
) -> list[tuple[LadderStep, datetime | None]]:
    steps: list[tuple[LadderStep, datetime | None]] = [(step, None) for step in ladder.steps]
    if ladder.repeat_every is None:
        return steps
    last = ladder.steps[-1]
    horizon = max(now, deadline + last.offset) + ladder.repeat_every
    number = 1
    while deadline + last.offset + number * ladder.repeat_every <= horizon:
        steps.append((_nth_repeat(ladder, number), None))
        number += 1
    return steps


def _nth_repeat(ladder: EscalationLadder, number: int) -> LadderStep:
    assert ladder.repeat_every is not None
    offset = ladder.steps[-1].offset + number * ladder.repeat_every
    return LadderStep(f"repeat{number}", offset, ReminderKind.HAZARD_OVERDUE, ladder.repeat_audiences)


def _a_repeat(ladder: EscalationLadder) -> LadderStep:
    return LadderStep("repeat1", ladder.steps[-1].offset, ReminderKind.HAZARD_OVERDUE, ladder.repeat_audiences)


def _weekday_steps(
    ladder: EscalationLadder, deadline: datetime, now: datetime, tz: ZoneInfo
) -> list[tuple[LadderStep, datetime | None]]:
    """The ladder's steps, then every weekly repeat from the first to the first still to come, each with its moment
    on the ladder's weekday (`_weekday_moments`)."""
    steps: list[tuple[LadderStep, datetime | None]] = [(step, None) for step in ladder.steps]
    for number, moment in enumerate(_weekday_moments(ladder, deadline, tz), start=1):
        steps.append((_nth_repeat(ladder, number), moment))
        if moment > now:
            return steps
    raise AssertionError("unreachable: the moments go on for ever")


def _weekday_moments(ladder: EscalationLadder, deadline: datetime, tz: ZoneInfo) -> Iterator[datetime]:
    """The rule as a person would check it on a calendar: after the last step has gone out, walk forward a day at
    a time to the first `repeat_weekday` whose `batch_at` is later than it; the repeats are that day's batch and the
    same weekday's of every week after."""
    assert ladder.batch_at is not None and ladder.repeat_weekday is not None
    last = ladder.steps[-1]
    last_at = deadline + last.offset
    if _batched(ladder, last, False):
        last_at = _next_batch(last_at, ladder, tz)
    day = last_at.astimezone(tz).date()
    while True:
        batch = datetime.combine(day, ladder.batch_at, tzinfo=tz).astimezone(UTC)
        if day.weekday() == ladder.repeat_weekday and batch > last_at:
            break
        day += timedelta(days=1)
    while True:
        yield datetime.combine(day, ladder.batch_at, tzinfo=tz).astimezone(UTC)
        day += timedelta(days=7)
