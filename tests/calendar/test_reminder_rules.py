"""The reminder rules as pure functions: quiet hours, the escalation ladder, duty steps and digests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.domain.calendar_reminders import DEFAULT_SCHEDULE, parse_weekdays, plan_digests, plan_duty_reminders
from bot.domain.catalog import HazardArea, Severity
from bot.domain.compliance import SELF_INSPECTION_RULE, Period, drill_rule
from bot.domain.lifecycle import HazardFacts, HazardState
from bot.domain.reminders import (
    DEFAULT_LADDER,
    DEFAULT_QUIET_HOURS,
    EscalationLadder,
    LadderStep,
    QuietHours,
    ReminderKind,
    hazard_key,
    hazard_key_prefix,
    in_quiet_hours,
    next_allowed_time,
    notice_held_until,
    plan_hazard_reminders,
    repeat_name,
)
from tests.calendar.world import TZ, local

Q = DEFAULT_QUIET_HOURS


def facts(deadline: datetime, state: HazardState = HazardState.ASSIGNED) -> HazardFacts:
    return HazardFacts(
        state=state,
        region_code="330302",
        institution_id=1,
        reporter_id=30,
        area=HazardArea.FIRE,
        deadline=deadline,
        assignee_id=40,
    )


def plan(deadline: datetime, now: datetime, severity: Severity = Severity.GENERAL) -> dict[str, tuple[datetime, bool]]:
    return {p.step: (p.due_at, p.add) for p in plan_hazard_reminders(facts(deadline), severity, now, tz=TZ)}


def test_quiet_hours_hold_non_urgent_reminders_until_half_past_seven() -> None:
    assert in_quiet_hours(local(2026, 3, 2, 22), Q, TZ) and not in_quiet_hours(local(2026, 3, 2, 21, 59), Q, TZ)
    assert in_quiet_hours(local(2026, 3, 3, 7, 29), Q, TZ) and not in_quiet_hours(local(2026, 3, 3, 7, 30), Q, TZ)
    assert next_allowed_time(local(2026, 3, 2, 23), False, Q, TZ) == local(2026, 3, 3, 7, 30)
    assert next_allowed_time(local(2026, 3, 3, 2), False, Q, TZ) == local(2026, 3, 3, 7, 30)
    assert next_allowed_time(local(2026, 3, 3, 9), False, Q, TZ) == local(2026, 3, 3, 9)
    assert next_allowed_time(local(2026, 3, 2, 23), True, Q, TZ) == local(2026, 3, 2, 23)
    daytime = QuietHours(time(12), time(14))
    assert next_allowed_time(local(2026, 3, 2, 13), False, daytime, TZ) == local(2026, 3, 2, 14)
    assert not QuietHours(time(0), time(0)).contains(time(3))


def test_the_default_ladder_for_a_general_hazard() -> None:
    reported, deadline = local(2026, 3, 2, 10), local(2026, 3, 9, 10)
    assert plan(deadline, reported) == {
        "before24h": (local(2026, 3, 8, 10), True),
        "before2h": (local(2026, 3, 9, 8), True),
        "deadline": (deadline, True),
        # To county staff, city admins and the county's group: at the next 09:00, with that day's others, one
        # message a day.
        "overdue1d": (local(2026, 3, 11, 9), True),
        "overdue3d": (local(2026, 3, 13, 9), True),
        # Weekly repeats: on Monday at 09:00, the first the Monday after the last step (Friday the 13th), with
        # everything else still overdue, not on the weekday this one fell overdue on.
        "repeat1": (local(2026, 3, 16, 9), True),
    }
    steps = {p.step: p for p in plan_hazard_reminders(facts(deadline), Severity.GENERAL, reported, tz=TZ)}
    assert steps["deadline"].kind is ReminderKind.HAZARD_DEADLINE
    assert {a.value for a in steps["overdue3d"].audiences} == {"city_admin", "county_group", "city_group"}


def test_a_report_at_night_moves_its_reminders_to_the_morning_and_drops_the_moot_ones() -> None:
    deadline = local(2026, 3, 9, 23)  # reported at 23:00 a week before
    got = plan(deadline, local(2026, 3, 2, 23))
    assert got["before24h"] == (local(2026, 3, 9, 7, 30), True)
    assert got["before2h"] == (local(2026, 3, 9, 21), True)
    assert got["deadline"] == (local(2026, 3, 10, 7, 30), True)
    # A deadline at 01:00: "2 hours before" would wait for 07:30, after the deadline itself: dropped.
    early = plan(local(2026, 3, 9, 1), local(2026, 3, 2, 1))
    assert early["before2h"][1] is False and early["deadline"] == (local(2026, 3, 9, 7, 30), True)


def test_a_serious_hazard_is_urgent_and_ignores_quiet_hours() -> None:
    deadline = local(2026, 3, 3, 23, 30)
    got = plan(deadline, local(2026, 3, 2, 23, 30), Severity.SERIOUS)
    assert got["before24h"][1] is False  # its moment is the report itself
    assert got["before2h"] == (local(2026, 3, 3, 21, 30), True)
    assert got["deadline"] == (deadline, True)
    assert got["overdue1d"] == (local(2026, 3, 4, 23, 30), True)


def test_past_steps_are_kept_but_not_added_except_one_catch_up_escalation() -> None:
    deadline = local(2026, 3, 9, 10)
    reopened = local(2026, 3, 20, 15)  # 11 days late: overdue3d and the first weekly repeat (Monday 16th) have passed
    got = plan(deadline, reopened)
    assert got["before24h"][1] is False and got["overdue1d"][1] is False and got["overdue3d"][1] is False
    assert got["repeat1"] == (local(2026, 3, 21, 9), True)  # the latest escalation, with the next morning's
    assert got["repeat2"] == (local(2026, 3, 23, 9), True)  # then Monday's weekly list
    assert "repeat3" not in got  # weekly repeats are planned one ahead


def test_a_hazard_first_planned_at_night_after_a_step_fell_due_in_quiet_hours_gets_that_one_step_not_two() -> None:
    # The deadline was 23:00 on the 9th and "a day overdue" fell due at 23:00 on the 10th, both in quiet hours; a
    # hazard reopened at 23:30 on the 10th has both behind it. The latest is caught up at 07:30, and that alone:
    # that its own turn would also have waited for 07:30 does not make it a step still to come.
    # (A ladder whose escalations go out at their own moment: the default one's "a day overdue" waits for 09:00.)
    ladder = replace(DEFAULT_LADDER, batch_at=None, repeat_weekday=None)
    planned = plan_hazard_reminders(facts(local(2026, 3, 9, 23)), Severity.GENERAL, local(2026, 3, 10, 23, 30),
                                    ladder=ladder, tz=TZ)
    got = {p.step: (p.due_at, p.add) for p in planned}
    assert got["deadline"][1] is False
    assert got["overdue1d"] == (local(2026, 3, 11, 7, 30), True)
    # The default ladder: "a day overdue" is still to come, with the next morning's others; the deadline is caught up.
    default = plan(local(2026, 3, 9, 23), local(2026, 3, 10, 23, 30))
    assert default["deadline"] == (local(2026, 3, 11, 7, 30), True)
    assert default["overdue1d"] == (local(2026, 3, 11, 9), True)


def test_escalations_over_the_heads_wait_for_nine_unless_urgent_or_at_nine_already() -> None:
    late_evening = plan(local(2026, 3, 9, 23), local(2026, 3, 2, 23))
    assert late_evening["overdue3d"] == (local(2026, 3, 13, 9), True)  # not 07:30 when quiet hours end
    assert late_evening["overdue1d"] == (local(2026, 3, 11, 9), True)  # county staff's too
    # The deadline itself is the responsible person's as well as county staff's: at its own moment, for both.
    assert late_evening["deadline"] == (local(2026, 3, 10, 7, 30), True)
    at_nine = plan(local(2026, 3, 9, 9), local(2026, 3, 2, 9))
    assert at_nine["overdue3d"] == (local(2026, 3, 12, 9), True)
    serious = plan(local(2026, 3, 3, 23, 30), local(2026, 3, 2, 23, 30), Severity.SERIOUS)
    assert serious["overdue3d"] == (local(2026, 3, 6, 23, 30), True)  # urgent: at once, night or not


def test_nothing_for_a_hazard_that_is_fixed_closed_or_without_deadline() -> None:
    deadline = local(2026, 3, 9, 10)
    for state in (HazardState.AWAITING_VERIFICATION, HazardState.CLOSED):
        assert plan_hazard_reminders(facts(deadline, state), Severity.GENERAL, local(2026, 3, 2), tz=TZ) == []
    no_deadline = HazardFacts(HazardState.REPORTED, "330302", 1, 30, HazardArea.FIRE, None, None)
    assert plan_hazard_reminders(no_deadline, Severity.GENERAL, local(2026, 3, 2), tz=TZ) == []


def test_a_ladder_is_data_and_is_checked() -> None:
    short = EscalationLadder(
        steps=(LadderStep("late", timedelta(hours=1), ReminderKind.HAZARD_OVERDUE, frozenset()),), repeat_every=None
    )
    got = plan_hazard_reminders(
        facts(local(2026, 3, 3, 10)), Severity.GENERAL, local(2026, 3, 2, 10), ladder=short, tz=TZ
    )
    assert [(p.step, p.due_at) for p in got] == [("late", local(2026, 3, 3, 11))]
    with pytest.raises(ValueError, match="increasing"):
        EscalationLadder(steps=(*DEFAULT_LADDER.steps, DEFAULT_LADDER.steps[0]))


def test_weekly_repeats_of_a_hazard_not_urgent_fall_on_monday_an_urgent_ones_on_its_own_day() -> None:
    deadline = local(2026, 3, 7, 8)  # a Saturday: three days overdue on Tuesday the 10th, at 09:00 with the others
    general = plan(deadline, local(2026, 3, 2, 10))
    assert general["overdue3d"] == (local(2026, 3, 10, 9), True)
    # The next Monday, six days on: its week's list holds every hazard overdue by then.
    assert general["repeat1"] == (local(2026, 3, 16, 9), True)
    later = plan(deadline, local(2026, 3, 18, 12))
    assert later["repeat2"] == (local(2026, 3, 23, 9), True) and "repeat3" not in later
    # A serious hazard is urgent: every 7 days from its three-day escalation, at the deadline's minute, not Monday.
    serious = plan(deadline, local(2026, 3, 2, 10), Severity.SERIOUS)
    assert serious["overdue3d"] == (local(2026, 3, 10, 8), True)
    assert serious["repeat1"] == (local(2026, 3, 17, 8), True)
    # The weekday is the ladder's to set.
    fridays = replace(DEFAULT_LADDER, repeat_weekday=4)
    got = plan_hazard_reminders(facts(deadline), Severity.GENERAL, local(2026, 3, 2, 10), ladder=fridays, tz=TZ)
    assert {p.step: p.due_at for p in got}["repeat1"] == local(2026, 3, 13, 9)
    with pytest.raises(ValueError, match="weekday"):
        replace(DEFAULT_LADDER, repeat_every=timedelta(days=1))
    with pytest.raises(ValueError, match="weekday"):
        replace(DEFAULT_LADDER, repeat_weekday=7)


def test_duty_steps_fall_on_the_right_days() -> None:
    elderly = drill_rule("elderly_care")
    planned = plan_duty_reminders(elderly, DEFAULT_SCHEDULE.drill_steps, date(2026, 5, 1), time(9), TZ, horizon_days=90)
    assert [(p.step.name, p.period.key, p.due_at) for p in planned] == [
        ("due30", "2026-H1", local(2026, 5, 31, 9)),
        ("due7", "2026-H1", local(2026, 6, 23, 9)),
        ("due7_stand_in", "2026-H1", local(2026, 6, 23, 9)),  # to county staff, for a home with no head
        ("overdue", "2026-H1", local(2026, 7, 1, 9)),
        ("missed", "2026-H1", local(2026, 7, 1, 9)),  # to the head, the same morning
    ]
    # Stored a month ahead by default: on 1 May only the step of 31 May.
    month_ahead = plan_duty_reminders(elderly, DEFAULT_SCHEDULE.drill_steps, date(2026, 5, 1), time(9), TZ)
    assert [p.step.name for p in month_ahead] == ["due30"]
    # On 1 July the first half's "overdue" is still ahead (today), beside the second half's steps.
    july = plan_duty_reminders(elderly, DEFAULT_SCHEDULE.drill_steps, date(2026, 7, 1), time(9), TZ, horizon_days=200)
    assert [(p.step.name, p.period.key) for p in july] == [
        ("overdue", "2026-H1"),
        ("missed", "2026-H1"),
        ("due30", "2026-H2"),
        ("due7", "2026-H2"),
        ("due7_stand_in", "2026-H2"),
        ("overdue", "2026-H2"),
        ("missed", "2026-H2"),
    ]
    monthly = plan_duty_reminders(
        SELF_INSPECTION_RULE, DEFAULT_SCHEDULE.self_inspection_steps, date(2026, 2, 1), time(9), TZ
    )
    assert [(p.step.name, p.due_at) for p in monthly] == [
        ("overdue", local(2026, 2, 1, 9)),
        ("open", local(2026, 2, 1, 9)),
        ("due", local(2026, 2, 25, 9)),
        ("due_stand_in", local(2026, 2, 25, 9)),
        ("last_day", local(2026, 2, 28, 9)),  # the sheet closes at the end of the month's last day
        ("overdue", local(2026, 3, 1, 9)),
        ("open", local(2026, 3, 1, 9)),  # the next month's opening is within the month ahead
    ]
    assert monthly[0].period == Period(date(2026, 1, 1), date(2026, 1, 31))


def test_digests_on_working_days_monday_covering_the_weekend_and_the_weekly_summary_on_mondays() -> None:
    sunday = date(2026, 3, 1)
    planned = plan_digests(sunday, DEFAULT_SCHEDULE, TZ)
    assert [(p.kind, p.day, p.due_at, p.window) for p in planned] == [
        (ReminderKind.DAILY_DIGEST, date(2026, 3, 2), local(2026, 3, 2, 8, 30), timedelta(days=3)),
        (ReminderKind.WEEKLY_SUMMARY, date(2026, 3, 2), local(2026, 3, 2, 8, 30), timedelta(days=7)),
    ]
    assert planned[0].due_at.tzinfo is UTC
    tuesday = date(2026, 3, 3)
    assert [(p.kind, p.day, p.window) for p in plan_digests(tuesday, DEFAULT_SCHEDULE, TZ)] == [
        (ReminderKind.DAILY_DIGEST, tuesday, timedelta(days=1)),
        (ReminderKind.DAILY_DIGEST, date(2026, 3, 4), timedelta(days=1)),
    ]
    # Friday's run plans Monday's too: no planning run on the weekend leaves Monday's bare.
    friday = date(2026, 3, 6)
    assert [(p.kind, p.day, p.window) for p in plan_digests(friday, DEFAULT_SCHEDULE, TZ)] == [
        (ReminderKind.DAILY_DIGEST, friday, timedelta(days=1)),
        (ReminderKind.DAILY_DIGEST, date(2026, 3, 9), timedelta(days=3)),
        (ReminderKind.WEEKLY_SUMMARY, date(2026, 3, 9), timedelta(days=7)),
    ]


def test_an_operator_may_have_the_digest_every_day_or_on_other_days() -> None:
    every_day = replace(DEFAULT_SCHEDULE, digest_weekdays=parse_weekdays("1-7"))
    sunday = date(2026, 3, 1)
    assert [(p.kind, p.day, p.window) for p in plan_digests(sunday, every_day, TZ)] == [
        (ReminderKind.DAILY_DIGEST, sunday, timedelta(days=1)),
        (ReminderKind.DAILY_DIGEST, date(2026, 3, 2), timedelta(days=1)),
        (ReminderKind.WEEKLY_SUMMARY, date(2026, 3, 2), timedelta(days=7)),
    ]
    # Six working days (调休 Saturdays): Monday's covers Saturday morning on.
    six_days = replace(DEFAULT_SCHEDULE, digest_weekdays=parse_weekdays("1-6"))
    assert plan_digests(sunday, six_days, TZ)[0].window == timedelta(days=2)
    assert sorted(parse_weekdays(" 1, 3 ,5-7")) == [0, 2, 4, 5, 6]
    for wrong in ("", "0", "8", "5-1", "mon", "1-"):
        with pytest.raises(ValueError):
            parse_weekdays(wrong)


def test_a_hazard_reminders_key_is_as_rows_already_stored_have_it() -> None:
    # The key is how a re-plan knows a step planned (or sent) before: written differently, every overdue hazard's
    # catch-up escalation looks new after an upgrade and goes out again, and `_KeptKeys` no longer finds the rows
    # of past repeats. The stamp is the deadline in UTC to the second, as the keys in a running city's table have it.
    deadline = datetime(2026, 3, 1, 10, 0, 30, 123456, tzinfo=TZ)
    assert hazard_key_prefix(7, deadline) == "hazard:7:20260301T020030Z"
    assert hazard_key(7, deadline, repeat_name(3), 90, None) == "hazard:7:20260301T020030Z:repeat3:90"
    assert hazard_key(7, deadline, "deadline", -100123, 5) == "hazard:7:20260301T020030Z:deadline:-100123/5"


def test_a_hazards_notices_keep_quiet_hours_unless_it_is_serious() -> None:
    night, morning = local(2026, 11, 19, 23, 30), local(2026, 11, 20, 7, 30)
    assert notice_held_until(night, Severity.GENERAL, Q, TZ) == morning
    assert notice_held_until(night, Severity.SERIOUS, Q, TZ) is None
    assert notice_held_until(local(2026, 11, 19, 21, 59), Severity.GENERAL, Q, TZ) is None
    assert notice_held_until(night, Severity.GENERAL, QuietHours(start=time(0), end=time(0)), TZ) is None
