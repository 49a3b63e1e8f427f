"""An institution added in the middle of a period, in the figures: /stats owes it no self-inspection for the months
before it existed and does not count it overdue on its drill for a half-year that ended before then, and the
notice's negative list does not name it for a month it never owed."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.domain.stats import PeriodKind, Ratio, StatsPeriod
from bot.services.notices import NoticeService
from bot.services.outbox import OutboxService
from bot.services.stats import StatsReport, StatsService
from storage.models import InstitutionType, NewInstitution
from tests.insight.world import CADRE, CITY_ADMIN, LUCHENG, LUCHENG_STAFF, InsightWorld, at

QUARTER = StatsPeriod(PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31))  # the world stands on 20 March
FEBRUARY = StatsPeriod(PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28))
MARCH = StatsPeriod(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))


def stats(world: InsightWorld) -> StatsService:
    return StatsService(world.storage, world.clock, ZoneInfo("Asia/Shanghai"))


def lucheng(report: StatsReport) -> tuple[Ratio, Ratio]:
    """Lucheng's drill rate, and its self-inspections done / owed by the end of the months so far: the months ended
    and the running one (March, on 20 March), which /stats shows apart, as not yet due."""
    unit = next(u for u in report.units if u.code == LUCHENG)
    return unit.drills, unit.inspections + unit.inspections_running


async def add_home(world: InsightWorld, added: date) -> None:
    await world.storage.institutions.upsert(NewInstitution(
        code="NEW-HOME", name_zh="鹿城区新建颐养院", name_en="Lucheng New Care Home",
        type=InstitutionType.ELDERLY_CARE, region_code="330302001", tracked_from=added))


async def test_a_home_added_on_10_march_owes_march_alone_and_has_not_missed_its_drill(world: InsightWorld) -> None:
    admin = await world.user(CITY_ADMIN)
    drills, inspections = lucheng(await stats(world).report(admin, QUARTER))
    await add_home(world, date(2026, 3, 10))
    drills_after, inspections_after = lucheng(await stats(world).report(admin, QUARTER))
    # Judged from 10 March: the second half of 2025 is not its to have missed; no drill is due before 30 June.
    assert drills_after == Ratio(drills.part + 1, drills.whole + 1)
    # January and February ended before it existed; March it owes, and has not done yet.
    assert inspections_after == Ratio(inspections.part, inspections.whole + 1)


async def test_the_notice_names_a_new_home_only_for_a_month_it_owed(world: InsightWorld) -> None:
    admin = await world.user(CITY_ADMIN)
    notices = NoticeService(world.storage, world.clock, stats(world), OutboxService(world.storage, world.clock))
    february = (await notices.draft(admin, FEBRUARY)).inspections_missing.total
    march = await notices.draft(admin, MARCH)
    await add_home(world, date(2026, 3, 10))
    assert (await notices.draft(admin, FEBRUARY)).inspections_missing.total == february
    march_after = await notices.draft(admin, MARCH)
    assert march_after.inspections_missing.total == march.inspections_missing.total + 1
    assert march_after.drills_overdue.total == march.drills_overdue.total  # not overdue on its drill


async def test_a_home_added_on_18_march_owes_no_march_inspection_but_one_it_made_counts(world: InsightWorld) -> None:
    admin = await world.user(CITY_ADMIN)
    _, inspections = lucheng(await stats(world).report(admin, MARCH))
    await add_home(world, date(2026, 3, 18))
    _, not_owed = lucheng(await stats(world).report(admin, MARCH))
    assert not_owed == inspections  # joined with less than half of March left: not owed, not missing
    home = await world.storage.institutions.get_by_code("NEW-HOME")
    assert home is not None
    inspection = await world.storage.calendar.start_inspection(home.id, "2026-03", CADRE, at(3, 19))
    await world.storage.calendar.finish_inspection(inspection.id, CADRE, at(3, 19, 4))
    _, done = lucheng(await stats(world).report(admin, MARCH))
    assert done == Ratio(inspections.part + 1, inspections.whole + 1)  # done all the same: counted, never above 100 %


async def test_the_notice_does_not_name_a_home_added_in_the_second_half_of_the_month(world: InsightWorld) -> None:
    admin = await world.user(CITY_ADMIN)
    notices = NoticeService(world.storage, world.clock, stats(world), OutboxService(world.storage, world.clock))
    march = (await notices.draft(admin, MARCH)).inspections_missing.total
    await add_home(world, date(2026, 3, 18))
    assert (await notices.draft(admin, MARCH)).inspections_missing.total == march


async def test_a_home_added_on_15_march_the_last_joining_day_owes_march(world: InsightWorld) -> None:
    """The 15th is the last day on which a home joins a month it owes (about half of it remained): added on
    15 March and not yet inspected, /stats counts March as owed and not done, as /selfcheck and the reminders do."""
    admin = await world.user(CITY_ADMIN)
    _, inspections = lucheng(await stats(world).report(admin, MARCH))
    await add_home(world, date(2026, 3, 15))
    _, after = lucheng(await stats(world).report(admin, MARCH))
    assert after == Ratio(inspections.part, inspections.whole + 1)


async def test_a_home_added_after_a_month_is_left_out_of_that_months_drill_rate(world: InsightWorld) -> None:
    """Imported on 10 March, it did not exist in February: February's drill rate neither counts it as compliant (the
    audit saw a county's rate rise for a month already over) nor as late, and the county's February ranking shows
    it with no drill rate."""
    admin, staff = await world.user(CITY_ADMIN), await world.user(LUCHENG_STAFF)
    drills, _ = lucheng(await stats(world).report(admin, FEBRUARY))
    await add_home(world, date(2026, 3, 10))
    drills_after, _ = lucheng(await stats(world).report(admin, FEBRUARY))
    assert drills_after == drills
    notices = NoticeService(world.storage, world.clock, stats(world), OutboxService(world.storage, world.clock))
    ranking = await notices.ranking(staff, FEBRUARY)
    home = await world.storage.institutions.get_by_code("NEW-HOME")
    assert home is not None
    standing = next(s for s in ranking.standings if s.code == str(home.id))
    assert standing.drills == Ratio()


async def test_a_home_added_too_late_to_owe_the_half_years_drill_is_left_out_of_its_rate(world: InsightWorld) -> None:
    """Added on 1 May, it first owes a drill in the second half-year (it joined after 31 March): until then it owes
    none, so the current rate leaves it out rather than counting it compliant."""
    admin = await world.user(CITY_ADMIN)
    world.clock.set(at(5, 1, 4))
    may = StatsPeriod(PeriodKind.MONTH, date(2026, 5, 1), date(2026, 5, 31))
    drills, _ = lucheng(await stats(world).report(admin, may))
    await add_home(world, date(2026, 5, 1))
    drills_after, _ = lucheng(await stats(world).report(admin, may))
    assert drills_after == drills
