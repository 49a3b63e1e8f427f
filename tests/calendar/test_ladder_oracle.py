"""The hazard ladder's planner against the one that listed every past weekly repeat (`ladder_oracle.py`): over random
deadlines, clocks up to two years past them, severities, states, quiet hours, time zones and ladders, it adds
exactly the same steps (name, kind, audiences, moment, due time, urgency), lists nothing the old one did not, and
what it leaves out are repeats that have passed, which `passed_repeats` counts so that a full re-plan keeps their
rows: the rows kept are the old ones.

CI runs 400 cases, derandomized (≈ 3 s); SAFETY_FULL_SUITES=1 runs 6,000 random ones.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is a dev dependency of the fuzzing suites")
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bot.domain.catalog import HazardArea, Severity  # noqa: E402
from bot.domain.lifecycle import HazardFacts, HazardState  # noqa: E402
from bot.domain.reminders import (  # noqa: E402
    DEFAULT_LADDER,
    DEFAULT_QUIET_HOURS,
    Audience,
    EscalationLadder,
    LadderStep,
    PlannedReminder,
    QuietHours,
    ReminderKind,
    passed_repeats,
    plan_hazard_reminders,
    repeat_name,
)
from tests.calendar.ladder_oracle import _weekday_moments, plan_every_step  # noqa: E402
from tests.resilience.suite import FULL, sized  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the deployment's
# Zones whose clocks change: a batch time can fall in an hour that is skipped or repeated.
ZONES = st.sampled_from([SHANGHAI, ZoneInfo("America/New_York"), ZoneInfo("Europe/London"),
                         ZoneInfo("Australia/Lord_Howe")])
NAMED_LADDERS = {
    "default": DEFAULT_LADDER,
    "no repeats": replace(DEFAULT_LADDER, repeat_every=None),
    "no batching": replace(DEFAULT_LADDER, batch_at=None, repeat_weekday=None),
    "daily, batched": replace(DEFAULT_LADDER, repeat_every=timedelta(days=1), repeat_weekday=None),
    "every 12 hours": replace(DEFAULT_LADDER, repeat_every=timedelta(hours=12), batch_at=None, repeat_weekday=None),
    "batched at midnight": replace(DEFAULT_LADDER, batch_at=time(0, 0)),
    "weekly, each on its own weekday": replace(DEFAULT_LADDER, repeat_weekday=None),
    "weekly on Sundays at 07:00": replace(DEFAULT_LADDER, repeat_weekday=6, batch_at=time(7, 0)),
}
AUDIENCES = st.frozensets(st.sampled_from(list(Audience)))
REPEATS = st.one_of(st.none(), st.sampled_from([1, 6, 12, 23, 24, 25, 48, 72, 168, 240]).map(
    lambda hours: timedelta(hours=hours)))
QUIET = st.one_of(
    st.sampled_from([DEFAULT_QUIET_HOURS, QuietHours(time(0), time(0)), QuietHours(time(12), time(14))]),
    st.builds(QuietHours, st.times(), st.times()),
)


@st.composite
def ladders(draw: st.DrawFn) -> EscalationLadder:
    """One of the named ladders, or a random valid one: up to five steps from three days before the deadline to ten
    days after, repeating or not, batching some audiences or not."""
    if draw(st.booleans()):
        return NAMED_LADDERS[draw(st.sampled_from(sorted(NAMED_LADDERS)))]
    minutes = sorted(draw(st.sets(st.integers(-3 * 24 * 60, 10 * 24 * 60), min_size=1, max_size=5)))
    steps = tuple(
        LadderStep(f"step{n}", timedelta(minutes=m), draw(st.sampled_from(list(ReminderKind))), draw(AUDIENCES))
        for n, m in enumerate(minutes)
    )
    repeat_every = draw(REPEATS)
    daily_or_none = repeat_every is None or repeat_every >= timedelta(days=1)
    batch_at = draw(st.one_of(st.none(), st.times())) if daily_or_none else None
    weekly = repeat_every == timedelta(days=7) and batch_at is not None
    weekday = draw(st.one_of(st.none(), st.integers(0, 6))) if weekly else None
    return EscalationLadder(
        steps, repeat_every, draw(AUDIENCES), batch_at, draw(AUDIENCES), draw(st.booleans()), weekday
    )


@st.composite
def clocks(draw: st.DrawFn, deadline: datetime, ladder: EscalationLadder, tz: ZoneInfo) -> datetime:
    """Anywhere from two weeks before the deadline to two years after it (fewer repeats for a ladder repeating
    hourly), or near a repeat's own minute or the batch it waits for: at it, a microsecond or a minute either side,
    or up to two days."""
    reach = timedelta(days=731)
    if ladder.repeat_every is not None:
        reach = min(reach, ladder.repeat_every * 3000)
    anywhere = deadline + timedelta(minutes=draw(st.integers(-14 * 24 * 60, reach // timedelta(minutes=1))))
    if ladder.repeat_every is None or draw(st.booleans()):
        return anywhere + timedelta(microseconds=draw(st.integers(0, 59_999_999)))
    number = draw(st.integers(0, reach // ladder.repeat_every))
    moment = deadline + ladder.steps[-1].offset + number * ladder.repeat_every
    if ladder.repeat_weekday is not None and draw(st.booleans()):  # a repeat's moment on the ladder's weekday
        moment = next(islice(_weekday_moments(ladder, deadline, tz), min(number, 120), None))
    if ladder.batch_at is not None and draw(st.booleans()):  # the batch it waits for (local), unless urgent
        local = moment.astimezone(tz)
        batch = datetime.combine(local.date(), ladder.batch_at, tzinfo=tz)
        if batch < local:
            batch = datetime.combine(local.date() + timedelta(days=1), ladder.batch_at, tzinfo=tz)
        moment = batch.astimezone(UTC)
    nudge = draw(st.one_of(
        st.sampled_from([timedelta(0), timedelta(microseconds=1), timedelta(minutes=1), timedelta(days=2)]),
        st.integers(0, 2 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
    ))
    return moment + nudge * draw(st.sampled_from([-1, 1]))


@st.composite
def cases(draw: st.DrawFn) -> tuple[HazardFacts, Severity, datetime, EscalationLadder, QuietHours, ZoneInfo]:
    ladder, tz = draw(ladders()), draw(ZONES)
    deadline = draw(st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)))
    now = draw(clocks(deadline, ladder, tz))
    state = draw(st.sampled_from(list(HazardState)))
    planned_deadline = draw(st.sampled_from([deadline] * 9 + [None]))  # now and then a hazard with none
    facts = HazardFacts(state, "330302", 1, 30, HazardArea.FIRE, planned_deadline, 40)
    return facts, draw(st.sampled_from(list(Severity))), now, ladder, draw(QUIET), tz


def _added(plan: list[PlannedReminder]) -> list[PlannedReminder]:
    return [step for step in plan if step.add]


@settings(max_examples=sized(400, 6000), derandomize=not FULL, deadline=None)
@given(cases())
@example((  # a year and a half overdue, on the default ladder, at 09:00 of the day a weekly repeat falls due
    HazardFacts(HazardState.ASSIGNED, "330302", 1, 30, HazardArea.FIRE, datetime(2024, 9, 2, 2, tzinfo=UTC), 40),
    Severity.GENERAL, datetime(2026, 3, 1, 1, tzinfo=UTC), DEFAULT_LADDER, DEFAULT_QUIET_HOURS, SHANGHAI,
))
@example((  # a repeat due at 09:30 waits 23.5 hours for the next 09:00: a minute before that batch, not yet passed
    HazardFacts(HazardState.ASSIGNED, "330302", 1, 30, HazardArea.FIRE, datetime(2025, 6, 2, 1, 30, tzinfo=UTC), 40),
    Severity.GENERAL, datetime(2025, 8, 15, 0, 59, tzinfo=UTC), DEFAULT_LADDER, DEFAULT_QUIET_HOURS, SHANGHAI,
))
@example((  # New York's clocks go back overnight: a repeat due at 09:00:01 waits 25 hours for its batch (_BATCH_SLACK)
    HazardFacts(HazardState.ASSIGNED, "330302", 1, 30, HazardArea.FIRE, datetime(2025, 10, 15, 13, 0, 1, tzinfo=UTC),
                40),
    Severity.GENERAL, datetime(2025, 11, 2, 13, 30, 1, tzinfo=UTC), DEFAULT_LADDER, DEFAULT_QUIET_HOURS,
    ZoneInfo("America/New_York"),
))
@example((  # Friday 09:00's deadline: three days overdue on Monday at 09:00, so the first weekly list is a week on
    HazardFacts(HazardState.ASSIGNED, "330302", 1, 30, HazardArea.FIRE, datetime(2026, 2, 27, 1, tzinfo=UTC), 40),
    Severity.GENERAL, datetime(2026, 3, 9, 1, tzinfo=UTC), DEFAULT_LADDER, DEFAULT_QUIET_HOURS, SHANGHAI,
))
@example((  # Thursday 10:00's: three days overdue on Sunday, to the city on Monday at 09:00, then every Monday
    HazardFacts(HazardState.ASSIGNED, "330302", 1, 30, HazardArea.FIRE, datetime(2026, 2, 26, 2, tzinfo=UTC), 40),
    Severity.GENERAL, datetime(2026, 3, 9, 0, 59, tzinfo=UTC), DEFAULT_LADDER, DEFAULT_QUIET_HOURS, SHANGHAI,
))
def test_the_planner_adds_and_keeps_what_listing_every_past_repeat_did(
    case: tuple[HazardFacts, Severity, datetime, EscalationLadder, QuietHours, ZoneInfo],
) -> None:
    facts, severity, now, ladder, quiet, tz = case
    before = plan_every_step(facts, severity, now, ladder=ladder, quiet_hours=quiet, tz=tz)
    after = plan_hazard_reminders(facts, severity, now, ladder=ladder, quiet_hours=quiet, tz=tz)
    # What goes out: the same steps, at the same times, to the same audiences.
    assert _added(after) == _added(before)
    # What it lists, it lists as before, in the same order; what it leaves out has passed, and is counted.
    listed = {step.step for step in after}
    assert after == [step for step in before if step.step in listed]
    passed = passed_repeats(facts, severity, now, ladder=ladder, tz=tz)
    counted = {repeat_name(number) for number in range(1, passed + 1)}
    assert {step.step for step in before} == listed | counted
    assert all(step.at <= now for step in before if step.step in counted)
    # And the work no longer grows with how long the hazard has been overdue.
    assert len(after) <= len(ladder.steps) + 5
