"""Compliance rules at their edges (issue 4, "How we will know")."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.compliance import (
    SELF_INSPECTION_RULE,
    STUDY_RULE,
    Compliant,
    DueSoon,
    Overdue,
    Period,
    counted_compliant,
    drill_rule,
    due_soon_from,
    first_owed,
    judging_start,
    last_joining_day,
    owes,
    period_of,
    sheet_closed,
    status,
)
from storage.models import InstitutionType

ELDERLY = drill_rule(InstitutionType.ELDERLY_CARE)
FUNERAL = drill_rule(InstitutionType.FUNERAL)
H1_2026 = Period(date(2026, 1, 1), date(2026, 6, 30))
H2_2026 = Period(date(2026, 7, 1), date(2026, 12, 31))


def test_residential_institutions_drill_every_half_year_and_the_others_every_year() -> None:
    for kind in (InstitutionType.ELDERLY_CARE, InstitutionType.WELFARE):
        assert period_of(drill_rule(kind), date(2026, 3, 1)) == H1_2026
    for kind in set(InstitutionType) - {InstitutionType.ELDERLY_CARE, InstitutionType.WELFARE}:
        assert period_of(drill_rule(kind), date(2026, 3, 1)) == Period(date(2026, 1, 1), date(2026, 12, 31))
    assert drill_rule("a type added later") == FUNERAL


def test_a_drill_on_30_june_counts_for_the_first_half_and_one_on_1_july_for_the_second() -> None:
    assert period_of(ELDERLY, date(2026, 6, 30)) == H1_2026
    assert period_of(ELDERLY, date(2026, 7, 1)) == H2_2026
    assert status(ELDERLY, [date(2026, 6, 30)], date(2026, 6, 30)) == Compliant(H1_2026, date(2026, 6, 30))
    # The 30 June drill leaves the second half uncovered; the first is not missed, so it is not yet due.
    assert status(ELDERLY, [date(2025, 12, 1), date(2026, 6, 30)], date(2026, 7, 1)) == Compliant(H2_2026, None)
    # A drill on 1 July covers the second half, and nothing in the first half: that one was missed.
    assert status(ELDERLY, [date(2026, 7, 1)], date(2026, 7, 1)) == Compliant(H2_2026, date(2026, 7, 1))
    # On 30 June a drill dated 1 July does not count yet: the first half is due, on its last day.
    assert status(ELDERLY, [date(2026, 7, 1)], date(2026, 6, 30), judged_from=date(2026, 1, 1)) == DueSoon(H1_2026, 0)


def test_an_elderly_care_home_whose_last_drill_was_seven_months_ago_is_overdue() -> None:
    assert status(ELDERLY, [date(2025, 12, 15)], date(2026, 7, 15)) == Overdue(H2_2026, H1_2026, 15, 169)
    # Still overdue until a drill is logged, and compliant from that day.
    assert isinstance(status(ELDERLY, [date(2025, 12, 15)], date(2026, 11, 1)), Overdue)
    assert status(ELDERLY, [date(2025, 12, 15), date(2026, 11, 2)], date(2026, 11, 2)) == Compliant(
        H2_2026, date(2026, 11, 2)
    )


def test_by_periods_not_a_rolling_interval_a_january_drill_covers_the_first_half_until_december() -> None:
    # Seven months after a drill on 10 January the second half-year is still open (documented decision).
    assert status(ELDERLY, [date(2026, 1, 10)], date(2026, 8, 10)) == Compliant(H2_2026, None)


def test_a_funeral_home_with_one_drill_in_march_is_compliant_all_year() -> None:
    drills = [date(2026, 3, 12)]
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    for today in (date(2026, 3, 12), date(2026, 7, 1), date(2026, 12, 1), date(2026, 12, 31)):
        assert status(FUNERAL, drills, today) == Compliant(year, date(2026, 3, 12))
    # Before it was held the year was open; a drill dated in the future does not count yet.
    assert status(FUNERAL, drills, date(2026, 3, 11), judged_from=date(2026, 1, 1)) == Compliant(year, None)


def test_due_soon_within_30_days_of_the_period_end_inclusive() -> None:
    previous = [date(2025, 10, 1)]
    assert due_soon_from(ELDERLY, H1_2026) == date(2026, 5, 31)
    assert status(ELDERLY, previous, date(2026, 5, 30)) == Compliant(H1_2026, None)
    assert status(ELDERLY, previous, date(2026, 5, 31)) == DueSoon(H1_2026, 30)
    assert status(ELDERLY, previous, date(2026, 6, 30)) == DueSoon(H1_2026, 0)
    assert status(ELDERLY, previous, date(2026, 7, 1)) == Overdue(H2_2026, H1_2026, 1, 183)
    assert status(FUNERAL, [date(2025, 5, 1)], date(2026, 12, 1)) == DueSoon(
        Period(date(2026, 1, 1), date(2026, 12, 31)), 30
    )


def test_monthly_self_inspection_is_due_soon_from_the_25th_and_overdue_next_month() -> None:
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    february = Period(date(2026, 2, 1), date(2026, 2, 28))
    done_february = [date(2026, 2, 1)]
    assert status(SELF_INSPECTION_RULE, done_february, date(2026, 3, 24)) == Compliant(march, None)
    assert status(SELF_INSPECTION_RULE, done_february, date(2026, 3, 25)) == DueSoon(march, 6)
    assert due_soon_from(SELF_INSPECTION_RULE, february) == date(2026, 2, 25)
    assert status(SELF_INSPECTION_RULE, [], date(2026, 3, 2)) == Overdue(march, february, 2, 29)


def test_periods_before_tracking_started_are_never_missed() -> None:
    assert status(ELDERLY, [], date(2026, 3, 1), judged_from=date(2026, 2, 1)) == Compliant(H1_2026, None)
    assert status(ELDERLY, [], date(2026, 3, 1), judged_from=date(2025, 9, 30)) == Overdue(
        H1_2026, Period(date(2025, 7, 1), date(2025, 12, 31)), 60, 121
    )
    assert isinstance(status(STUDY_RULE, [], date(2026, 6, 1), judged_from=date(2026, 1, 1)), DueSoon)


@pytest.mark.parametrize(
    ("day", "key"),
    [(date(2026, 2, 14), "2026-H1"), (date(2026, 9, 1), "2026-H2")],
)
def test_period_keys_name_the_period(day: date, key: str) -> None:
    assert period_of(ELDERLY, day).key == key
    assert period_of(FUNERAL, day).key == "2026"
    assert period_of(SELF_INSPECTION_RULE, day).key == f"2026-{day.month:02d}"


def test_an_institution_is_judged_from_the_later_of_tracking_and_the_day_it_was_added() -> None:
    july, march = date(2026, 7, 15), date(2026, 3, 1)
    assert judging_start(None, None) is None
    assert judging_start(march, None) == march and judging_start(None, july) == july
    assert judging_start(march, july) == july == judging_start(july, march)
    # Imported on 15 July: the first half-year was never its to miss; the second one it owes, from the start.
    assert status(ELDERLY, [], date(2026, 7, 15), judged_from=july) == Compliant(H2_2026, None)
    assert status(ELDERLY, [], date(2027, 1, 1), judged_from=july) == Overdue(
        Period(date(2027, 1, 1), date(2027, 6, 30)), H2_2026, 1, 180
    )


def test_the_period_joined_in_is_owed_only_if_joined_in_its_first_half() -> None:
    november, december = Period(date(2026, 11, 1), date(2026, 11, 30)), Period(date(2026, 12, 1), date(2026, 12, 31))
    h2_2026 = Period(date(2026, 7, 1), date(2026, 12, 31))
    h1_2027 = Period(date(2027, 1, 1), date(2027, 6, 30))
    assert last_joining_day(SELF_INSPECTION_RULE, november) == date(2026, 11, 15)
    assert last_joining_day(ELDERLY, H1_2026) == date(2026, 3, 31)
    assert last_joining_day(ELDERLY, h2_2026) == date(2026, 9, 30)
    assert last_joining_day(FUNERAL, Period(date(2026, 1, 1), date(2026, 12, 31))) == date(2026, 6, 30)
    assert owes(SELF_INSPECTION_RULE, november, date(2026, 11, 15)) and owes(SELF_INSPECTION_RULE, november, None)
    assert not owes(SELF_INSPECTION_RULE, november, date(2026, 11, 16))
    assert first_owed(SELF_INSPECTION_RULE, date(2026, 11, 28)) == december
    assert first_owed(ELDERLY, date(2026, 11, 28)) == h1_2027
    # Added on 28 November: November is not due soon, and not missed on 1 December; December is owed in full.
    late = date(2026, 11, 28)
    assert status(SELF_INSPECTION_RULE, [], late, judged_from=late) == Compliant(november, None, december)
    assert status(SELF_INSPECTION_RULE, [], date(2026, 12, 1), judged_from=late) == Compliant(december, None)
    assert isinstance(status(SELF_INSPECTION_RULE, [], date(2027, 1, 1), judged_from=late), Overdue)
    assert status(ELDERLY, [], date(2027, 1, 1), judged_from=late) == Compliant(h1_2027, None)
    # A record made in the month not owed still counts.
    assert status(SELF_INSPECTION_RULE, [late], late, judged_from=late) == Compliant(november, late)
    # Added on 10 November: November is owed, due soon from the 25th.
    assert status(SELF_INSPECTION_RULE, [], date(2026, 11, 25), judged_from=date(2026, 11, 10)) == DueSoon(november, 5)


def test_a_months_sheet_closes_after_its_last_day_with_no_grace() -> None:
    october = period_of(SELF_INSPECTION_RULE, date(2026, 10, 1))
    assert not sheet_closed(october, date(2026, 10, 31))
    assert sheet_closed(october, date(2026, 11, 1))
    february = period_of(SELF_INSPECTION_RULE, date(2028, 2, 10))  # a leap year's February ends on the 29th
    assert not sheet_closed(february, date(2028, 2, 29)) and sheet_closed(february, date(2028, 3, 1))


def test_a_missed_month_is_overdue_and_says_how_long_the_current_one_has_left() -> None:
    october, november = Period(date(2026, 10, 1), date(2026, 10, 31)), Period(date(2026, 11, 1), date(2026, 11, 30))
    # On 30 November October is 30 days overdue (its sheet closed on the 31st) and November's is due today.
    assert status(SELF_INSPECTION_RULE, [], date(2026, 11, 30)) == Overdue(november, october, 30, 0)
    assert status(SELF_INSPECTION_RULE, [], date(2026, 11, 1)) == Overdue(november, october, 1, 29)
    assert status(SELF_INSPECTION_RULE, [date(2026, 10, 9)], date(2026, 11, 30)) == DueSoon(november, 0)


def test_a_home_that_owed_no_drill_and_held_one_counts_as_compliant() -> None:
    """Added in May, past the first half-year's last joining day, a home owes none of its drills: one that held a
    drill all the same counts in the rate as compliant (left out with those that owed nothing, its drill counted for
    nothing), and one that did not is left out of it."""
    assert counted_compliant(ELDERLY, [date(2026, 5, 20)], date(2026, 6, 1), date(2026, 5, 1)) is True
    assert counted_compliant(ELDERLY, [], date(2026, 6, 1), date(2026, 5, 1)) is None


def test_a_month_that_has_ended_is_judged_with_the_drill_period_ending_in_it() -> None:
    """June, judged once it is over: a half-year without its drill counts as missed in June's figures, as the
    overdue notice of 1 July says; on 30 June, while June runs, it is only due soon. A drill held on 1 July is no
    help to June. A funeral home (yearly) is judged on its year only in December."""
    june_end, since = date(2026, 6, 30), date(2026, 1, 1)  # tracked from New Year
    assert counted_compliant(ELDERLY, [], june_end, since) is True  # still running: due today, not missed
    assert counted_compliant(ELDERLY, [], june_end, since, closed=True) is False
    assert counted_compliant(ELDERLY, [date(2026, 7, 1)], june_end, since, closed=True) is False
    assert counted_compliant(ELDERLY, [date(2026, 6, 30)], june_end, since, closed=True) is True
    assert counted_compliant(ELDERLY, [], date(2026, 5, 31), since, closed=True) is True  # H1 not over in May
    assert counted_compliant(FUNERAL, [], june_end, since, closed=True) is True
    assert counted_compliant(FUNERAL, [], date(2026, 12, 31), since, closed=True) is False
    # Added in May, past H1's last joining day: it owed no H1 drill, and is still left out of June's rate.
    assert counted_compliant(ELDERLY, [], june_end, date(2026, 5, 1), closed=True) is None
