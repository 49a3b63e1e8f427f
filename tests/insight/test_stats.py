"""Every figure of /stats for March 2026 of the hand-built world (tests/insight/world.py), worked out by hand."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.stats import (
    CohortColumns,
    HazardCounts,
    HazardStanding,
    PeriodKind,
    RangeProblem,
    Ratio,
    Scope,
    ScopeLevel,
    StatsPeriod,
    count_cohort,
    current_period,
    median_window,
    parse_range,
    period_from_token,
    previous_month,
)
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.stats import StatsService
from handlers.stats import render
from storage.models import InstitutionType
from tests.insight.world import CADRE, CITY_ADMIN, HEAD_A, LUCHENG_STAFF, InsightWorld

TZ = ZoneInfo("Asia/Shanghai")
MARCH = StatsPeriod(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))


def service(world: InsightWorld) -> StatsService:
    return StatsService(world.storage, world.clock, TZ)


async def test_the_city_sees_every_figure_and_each_county(world: InsightWorld) -> None:
    report = await service(world).report(await world.user(CITY_ADMIN), MARCH)
    # Found H1–H7; closed H1, H2, H7; unresolved H3–H6; overdue now: H3 (rectifying) and H5 (assigned), not H4
    # (fixed, waiting for staff).
    assert report.hazards == HazardCounts(found=7, closed=3, unresolved=4, overdue=2, on_time=2, late=1)
    assert report.hazards.rectification == Ratio(3, 7)
    assert report.hazards.punctuality.rate == pytest.approx(2 / 3)
    assert report.median_close_hours == pytest.approx(96)  # 24, 96, 168 hours
    assert (report.backlog_unresolved, report.backlog_overdue) == (5, 3)  # + H8 from February
    assert {k: v.found for k, v in report.by_severity.items()} == {
        Severity.GENERAL: 3, Severity.MAJOR: 2, Severity.SERIOUS: 2
    }
    assert {k: v.found for k, v in report.by_source.items()} == {
        SourceLevel.SELF_CHECK: 3, SourceLevel.CROSS_CHECK: 1, SourceLevel.COUNTY: 2, SourceLevel.CITY: 1
    }
    assert {k: v.found for k, v in report.by_area.items()} == {
        HazardArea.FIRE: 2, HazardArea.ELECTRICITY: 1, HazardArea.RIGHTS: 1, HazardArea.GAS: 1, HazardArea.FOOD: 1,
        HazardArea.TRANSPORT: 1,
    }
    assert {k: v.found for k, v in report.by_type.items()} == {
        InstitutionType.ELDERLY_CARE: 4, InstitutionType.SOCIAL_ORG: 2, InstitutionType.FUNERAL: 1
    }
    # 17 demo institutions: A (drill in March), B (drill last half-year, none due yet) and C (yearly, drill last
    # year) comply; D's typhoon drill is no fire drill; the other 13 logged nothing.
    assert report.drills == Ratio(3, 17)
    # A and C finished March; B started only; D finished February. March is not due before its last day: shown as
    # under way, never in the rate (no month of the period has ended).
    assert (report.inspections, report.inspections_running) == (Ratio(), Ratio(2, 17))
    assert report.running_due == date(2026, 3, 31)
    assert report.acks == Ratio(2, 3)  # A (two heads, counted once), B silent, C asked for help
    assert report.median_ack_minutes == pytest.approx(60, abs=0.01)  # A after 30 min, C after 90 min
    units = {u.code: u for u in report.units}
    assert len(units) == 13  # 12 counties and the city's own institutions
    lucheng, longwan, city = units["330302"], units["330303"], units["330300"]
    assert lucheng.hazards == HazardCounts(found=4, closed=2, unresolved=2, overdue=1, on_time=1, late=1)
    assert (lucheng.backlog_unresolved, lucheng.backlog_overdue) == (3, 2)
    assert (lucheng.drills, lucheng.inspections_running, lucheng.acks) == (Ratio(2, 2), Ratio(1, 2), Ratio(1, 2))
    assert longwan.hazards == HazardCounts(found=2, unresolved=2, overdue=1)
    assert (longwan.drills, longwan.inspections_running, longwan.acks) == (Ratio(1, 1), Ratio(1, 1), Ratio(1, 1))
    assert city.hazards == HazardCounts(found=1, closed=1, on_time=1) and city.drills == Ratio(0, 4)
    assert units["330305"].hazards == HazardCounts() and units["330305"].drills == Ratio(0, 2)


async def test_county_staff_see_their_county_by_township(world: InsightWorld) -> None:
    report = await service(world).report(await world.user(LUCHENG_STAFF), MARCH)
    assert report.hazards == HazardCounts(found=4, closed=2, unresolved=2, overdue=1, on_time=1, late=1)
    assert report.median_close_hours == pytest.approx(132)  # 96 and 168 hours
    assert (report.backlog_unresolved, report.backlog_overdue) == (3, 2)
    assert (report.drills, report.inspections_running, report.acks) == (Ratio(2, 2), Ratio(1, 2), Ratio(1, 2))
    assert report.median_ack_minutes == pytest.approx(30, abs=0.01)
    assert [u.code for u in report.units] == ["330302001", "330302007"]
    assert report.units[0].hazards.found == 3 and report.units[1].hazards.found == 1


async def test_a_head_sees_their_institution_without_rights_protection_hazards(world: InsightWorld) -> None:
    report = await service(world).report(await world.user(HEAD_A), MARCH)
    assert report.hazards == HazardCounts(found=2, closed=2, on_time=1, late=1)  # H3 (权益保障) stays hidden
    assert (report.backlog_unresolved, report.backlog_overdue) == (1, 1)  # H8
    assert HazardArea.RIGHTS not in report.by_area
    assert (report.drills, report.inspections_running, report.acks) == (Ratio(1, 1), Ratio(1, 1), Ratio(1, 1))
    assert report.units == ()


async def test_a_period_with_nothing_found_counts_zero_and_keeps_the_backlog(world: InsightWorld) -> None:
    january_2025 = current_period(PeriodKind.MONTH, date(2025, 1, 1))
    report = await service(world).report(await world.user(CITY_ADMIN), january_2025)
    assert report.hazards == HazardCounts()
    assert report.median_close_hours is None and report.median_ack_minutes is None
    assert not (report.by_area or report.by_severity or report.by_source or report.by_type)
    # January 2025 has ended: its backlog is what stood at its end, and nothing had been found by then.
    assert (report.backlog_unresolved, report.backlog_overdue) == (0, 0) and report.ended
    assert report.acks == Ratio() and len(report.units) == 13
    # A running period with nothing found keeps the backlog as it stands now, whenever found.
    quiet = StatsPeriod(PeriodKind.RANGE, date(2026, 3, 16), date(2026, 3, 31))
    report = await service(world).report(await world.user(CITY_ADMIN), quiet)
    assert report.hazards == HazardCounts() and not report.ended
    assert (report.backlog_unresolved, report.backlog_overdue) == (5, 3)


def test_each_standing_counts_where_a_hazard_stands_in_every_breakdown() -> None:
    s = HazardStanding
    standings = [s.CLOSED_LATE, s.CLOSED_ON_TIME, s.CLOSED_UNJUDGED, s.OPEN, s.OPEN_OVERDUE, s.FIXED, s.OPEN_OVERDUE]
    columns = CohortColumns(
        region_codes=["330302001", "330302007", "330303001", "330302001", "330303002", "330302001", "330302001"],
        areas=["fire", "fire", "gas", "fire", "gas", "food", "fire"],
        severities=["general"] * 6 + ["serious"],
        source_levels=["self_check"] * 7,
        institution_types=["elderly_care"] * 3 + ["funeral"] * 4,
        standings=[str(int(standing)) for standing in standings],
    )
    cohort = count_cohort(columns, Scope(ScopeLevel.CITY))
    assert cohort.total == HazardCounts(found=7, closed=3, unresolved=4, overdue=2, on_time=1, late=1)
    assert cohort.by_unit == {
        "330302": HazardCounts(found=5, closed=2, unresolved=3, overdue=1, on_time=1, late=1),
        "330303": HazardCounts(found=2, closed=1, unresolved=1, overdue=1),
    }
    assert cohort.by_area["fire"] == HazardCounts(found=4, closed=2, unresolved=2, overdue=1, on_time=1, late=1)
    assert cohort.by_severity["serious"] == HazardCounts(found=1, unresolved=1, overdue=1)
    assert cohort.by_source == {"self_check": cohort.total}
    assert cohort.by_type["elderly_care"] == HazardCounts(found=3, closed=3, on_time=1, late=1)
    county = count_cohort(columns, Scope(ScopeLevel.COUNTY, region_code="330302"))
    assert set(county.by_unit) == {"330302001", "330302007", "330303001", "330303002"}
    assert count_cohort(CohortColumns([], [], [], [], [], []), Scope(ScopeLevel.CITY)).total == HazardCounts()


async def test_cadres_have_no_statistics(world: InsightWorld) -> None:
    with pytest.raises(Refusal) as refused:
        await service(world).report(await world.user(CADRE), MARCH)
    assert refused.value.code == "stats_not_for_role"


async def test_the_weekly_trend_counts_found_and_closed_by_week(world: InsightWorld) -> None:
    trend = await service(world).weekly_trend(await world.user(CITY_ADMIN), MARCH)
    # Weeks start on Mondays: 02-23, 03-02, 03-09, 03-16 (today is 03-20).
    assert trend.weeks == (date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16))
    assert trend.found == (1, 3, 3, 0)  # H7 (Sunday 03-01) | H1 H2 H3 | H4 H5 H6 (Sunday 03-15) | none
    assert trend.closed == (0, 2, 1, 0)  # none | H7 (Monday 03-02) H1 | H2 | none


async def test_periods_buttons_and_typed_ranges() -> None:
    today = date(2026, 3, 20)
    assert current_period(PeriodKind.QUARTER, today) == StatsPeriod(PeriodKind.QUARTER, date(2026, 1, 1),
                                                                     date(2026, 3, 31))
    assert previous_month(today) == StatsPeriod(PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28))
    for period in (MARCH, current_period(PeriodKind.QUARTER, today), current_period(PeriodKind.YEAR, today)):
        assert period_from_token(period.token) == period
    typed = parse_range("2026年1月1日至2026年3月31日")
    assert isinstance(typed, StatsPeriod) and period_from_token(typed.token) == typed
    assert parse_range("2026-03-31 2026-01-01") is RangeProblem.REVERSED
    assert parse_range("last month") is RangeProblem.FORMAT
    assert period_from_token("m202613") is None and period_from_token("x") is None
    assert MARCH.months(today) == ["2026-03"]
    assert [median_window(n) for n in (0, 1, 2, 3, 4)] == [None, (0, 1), (0, 2), (1, 1), (1, 2)]


@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_the_message_reads_whole_in_both_languages(world: InsightWorld, language: str) -> None:
    t = Translator(language, strict=True)
    for user_id in (CITY_ADMIN, LUCHENG_STAFF, HEAD_A):
        texts = render(await service(world).report(await world.user(user_id), MARCH), "A", t)
        assert "{" not in texts and len(texts) < 4096
    city = render(await service(world).report(await world.user(CITY_ADMIN), MARCH), None, t)
    expected = {"en": "found this period 7, of which 3 closed and 4 unresolved (2 overdue)",
                "zh_CN": "本期发现 7，其中已销号 3、未销号 4（逾期 2）"}
    assert expected[language] in city
    # The backlog is a different figure (every unresolved hazard, whenever found): its line says so.
    backlog = {"en": "Dynamic zeroing: 5 unresolved now, whenever found (3 overdue)",
               "zh_CN": "动态清零：当前全部未销号 5（逾期 3），不论何时发现"}
    assert backlog[language] in city
