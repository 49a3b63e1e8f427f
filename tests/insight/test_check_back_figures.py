"""The check-backs (回访) in the figures: /stats counts those asked in the period, in the viewer's scope, and the
problem list gives each hazard's latest answer. Planted in the hand-built March (tests/insight/world.py):

    H1 A fire            asked 03-08, ✅ still solved
    H2 A electricity     asked 03-12, ⚠️ came back; closed again 03-25, its new check-back not yet asked
    H3 A rights (权益保障) asked 03-06, not answered: hidden from A's head, as the hazard is
    H7 D transport (市直) asked 03-05, ⚠️ came back
    H9 B fire            asked 02-20 (February), ✅ still solved: in no March figure
    H4 B gas             one skipped (never asked): in no figure
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.domain.check_backs import CheckBackAnswer, CheckBackCounts
from bot.domain.stats import PeriodKind, Ratio, StatsPeriod
from bot.i18n import Translator
from bot.services.exports import ExportFormat, ExportService
from bot.services.stats import StatsService
from handlers.stats import render
from tests.insight.world import CADRE, CITY_ADMIN, HEAD_A, LONGWAN_STAFF, LUCHENG_STAFF, InsightWorld, at

TZ = ZoneInfo("Asia/Shanghai")
MARCH = StatsPeriod(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))
FEBRUARY = StatsPeriod(PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28))


async def check_back(
    world: InsightWorld, name: str, event: int, asked: datetime | None, answer: CheckBackAnswer | None = None
) -> None:
    repo, hazard = world.storage.check_backs, world.hazards[name]
    await repo.plan(hazard.id, closed_event_id=event, closed_at=at(3, 1), closed_by=LUCHENG_STAFF,
                    reporter_id=CADRE, due_at=asked or at(4, 20))
    planted = (await repo.for_hazard(hazard.id))[-1]
    if asked is not None:
        assert await repo.mark_asked(planted.id, asked)
    if answer is not None:
        assert asked is not None and await repo.record_answer(planted.id, answer, asked)


async def plant(world: InsightWorld) -> None:
    await check_back(world, "H1", 1, at(3, 8), CheckBackAnswer.HOLDS)
    await check_back(world, "H2", 2, at(3, 12), CheckBackAnswer.AGAIN)
    await check_back(world, "H2", 3, None)  # closed again: pending, not yet asked
    await check_back(world, "H3", 4, at(3, 6))
    await check_back(world, "H7", 5, at(3, 5), CheckBackAnswer.AGAIN)
    await check_back(world, "H9", 6, at(2, 20), CheckBackAnswer.HOLDS)
    await check_back(world, "H4", 7, None)
    skipped = (await world.storage.check_backs.for_hazard(world.hazards["H4"].id))[-1]
    assert await world.storage.check_backs.mark_skipped(skipped.id, "not_closed")


async def figures(world: InsightWorld, user_id: int, period: StatsPeriod = MARCH) -> CheckBackCounts:
    stats = StatsService(world.storage, world.clock, TZ)
    return (await stats.report(await world.user(user_id), period)).check_backs


async def test_stats_count_the_check_backs_asked_in_the_period_in_each_scope(world: InsightWorld) -> None:
    await plant(world)
    city = await figures(world, CITY_ADMIN)
    assert city == CheckBackCounts(asked=4, holds=1, again=2)  # H1, H2, H3, H7
    assert (city.unanswered, city.rebound) == (1, Ratio(2, 3))
    assert await figures(world, LUCHENG_STAFF) == CheckBackCounts(asked=3, holds=1, again=1)  # H1, H2, H3
    # A head never sees a rights-protection hazard (H3), nor its check-back.
    assert await figures(world, HEAD_A) == CheckBackCounts(asked=2, holds=1, again=1)
    assert await figures(world, LONGWAN_STAFF) == CheckBackCounts()
    assert await figures(world, CITY_ADMIN, FEBRUARY) == CheckBackCounts(asked=1, holds=1)  # H9's


async def test_the_stats_message_has_a_check_back_line_only_where_one_was_asked(world: InsightWorld) -> None:
    await plant(world)
    stats, t = StatsService(world.storage, world.clock, TZ), Translator("zh_CN", strict=True)
    city_report = await stats.report(await world.user(CITY_ADMIN), MARCH)
    city = render(city_report, None, t)
    # Three answers: too few for a rebound rate, which would read "67%" of next to nothing.
    assert "<b>回访</b>：已询问 4 条，仍已解决 1 条，问题反弹 2 条（1 条未答复）\n" in city
    assert "反弹率" not in city
    assert "回访" not in render(await stats.report(await world.user(LONGWAN_STAFF), MARCH), None, t)
    english = render(await stats.report(await world.user(LUCHENG_STAFF), MARCH), None, Translator("en", strict=True))
    assert "asked 3, still solved 1, came back 1 (1 unanswered)" in english and "rebound rate" not in english

    # From five answers on the rate is given; with none unanswered, no clause says "0 unanswered".
    five = replace(city_report, check_backs=CheckBackCounts(asked=5, holds=4, again=1))
    assert "<b>回访</b>：已询问 5 条，仍已解决 4 条，问题反弹 1 条；反弹率 20%" in render(five, None, t)
    assert "asked 5, still solved 4, came back 1; rebound rate 20%" in render(five, None, Translator("en", strict=True))
    four = replace(city_report, check_backs=CheckBackCounts(asked=6, holds=3, again=1))
    assert "已询问 6 条，仍已解决 3 条，问题反弹 1 条（2 条未答复）\n" in render(four, None, t)


async def test_the_problem_list_gives_each_hazards_latest_check_back(world: InsightWorld, tmp_path: Path) -> None:
    await plant(world)
    path = tmp_path / "export.xlsx"
    stats = StatsService(world.storage, world.clock, TZ)
    await ExportService(world.storage, TZ).export(
        stats.scope(await world.user(LUCHENG_STAFF)), MARCH, ExportFormat.XLSX, path,
        Translator("zh_CN", strict=True), months=["2026-03"],
    )
    rows = list(load_workbook(path)["问题清单"].iter_rows(values_only=True))
    assert rows[0][-1] == "回访结果"
    by_code = {row[0]: row[-1] for row in rows[1:]}
    assert by_code == {
        world.hazards["H1"].code: "仍已解决",
        world.hazards["H2"].code: None,  # its latest closing's check-back is not asked yet
        world.hazards["H3"].code: "未答复",
        world.hazards["H4"].code: None,  # skipped: never asked
    }


async def test_a_check_back_due_in_one_month_and_asked_in_the_next_counts_in_the_month_it_was_asked(
    world: InsightWorld,
) -> None:
    """Due on 28 February (quiet hours, or the bot was down) and asked on 2 March: /stats counts it in March, when
    the reporter was asked, not in February, when it fell due."""
    repo, hazard = world.storage.check_backs, world.hazards["H1"]
    await repo.plan(hazard.id, closed_event_id=1, closed_at=at(1, 29), closed_by=LUCHENG_STAFF, reporter_id=CADRE,
                    due_at=at(2, 28))
    planted = (await repo.for_hazard(hazard.id))[-1]
    assert await repo.mark_asked(planted.id, at(3, 2))
    assert await repo.record_answer(planted.id, CheckBackAnswer.HOLDS, at(3, 2))
    assert await figures(world, CITY_ADMIN) == CheckBackCounts(asked=1, holds=1)
    assert await figures(world, CITY_ADMIN, FEBRUARY) == CheckBackCounts()
