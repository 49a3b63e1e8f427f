"""The monthly ranking and the notice (通报) for March of the hand-built world, worked out by hand."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.domain.lifecycle import HazardState
from bot.domain.ranking import Standing, places, rank
from bot.domain.stats import PeriodKind, Ratio, Scope, ScopeLevel, StatsPeriod
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.notices import NoticeService, Ranking
from bot.services.outbox import OutboxService
from bot.services.stats import StatsService
from handlers.notice_text import notice_text, ranking_lines, ranking_text
from storage.models import Region, RegionLevel
from tests.insight.world import CADRE, CITY_ADMIN, LUCHENG_STAFF, A, B, InsightWorld, at

MARCH = StatsPeriod(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))
FEBRUARY = StatsPeriod(PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28))


def service(world: InsightWorld) -> NoticeService:
    stats = StatsService(world.storage, world.clock, ZoneInfo("Asia/Shanghai"))
    return NoticeService(world.storage, world.clock, stats, OutboxService(world.storage, world.clock))


def test_the_ranking_puts_overdue_first_then_rates_and_unmeasured_rates_come_last() -> None:
    """Overdue decides first: "d", with the best on-time rate and five overdue, is last; "a", which closed
    nothing yet, follows "b" (equal on overdue, its on-time rate unmeasured) but comes before the overdue."""
    standings = [
        Standing("b", Ratio(9, 10), 0, Ratio(1, 1), Ratio()),
        Standing("a", Ratio(), 0, Ratio(1, 1), Ratio(1, 1)),
        Standing("c", Ratio(9, 10), 3, Ratio(1, 1), Ratio(1, 1)),
        Standing("d", Ratio(10, 10), 5, Ratio(0, 1), Ratio(0, 1)),
    ]
    assert [s.code for s in rank(standings)] == ["b", "a", "c", "d"]


def test_a_short_ranking_too_long_for_its_budget_never_announces_zero_places_left_out() -> None:
    """Two counties whose lines together pass a notice's budget (long names): both are shown, and no gap line
    claims that "0" places were left out between them."""
    region = Region(code="330302", name_zh="鹿城区" * 30, name_en="Lucheng", level=RegionLevel.COUNTY)
    other = region.model_copy(update={"code": "330303"})
    standings = (Standing("330302", Ratio(1, 2), 1, Ratio(1, 1), Ratio()),
                 Standing("330303", Ratio(0, 2), 2, Ratio(0, 1), Ratio()))
    ranking = Ranking(Scope(ScopeLevel.CITY), MARCH, standings, {"330302": region, "330303": other}, {})
    lines = ranking_lines(ranking, Translator("zh_CN", strict=True), budget=100)
    assert len(lines) == 2 and lines[0].startswith("1. 鹿城区") and lines[1].startswith("2. 鹿城区")


def test_a_ranking_with_nothing_measured_numbers_no_one() -> None:
    region = Region(code="330302", name_zh="鹿城区", name_en="Lucheng", level=RegionLevel.COUNTY)
    other = Region(code="330303", name_zh="龙湾区", name_en="Longwan", level=RegionLevel.COUNTY)
    standings = (Standing("330302", Ratio(), 0, Ratio(), Ratio()), Standing("330303", Ratio(), 0, Ratio(), Ratio()))
    ranking = Ranking(Scope(ScopeLevel.CITY), MARCH, standings, {"330302": region, "330303": other}, {})
    text = ranking_text(ranking, "全市", Translator("zh_CN", strict=True))
    # No order to explain, no place to give: the header and the places, unnumbered.
    assert text.split("\n") == ["🏆 <b>全市排名 · 2026年3月</b>", "暂无数据，不参与排名：鹿城区、龙湾区"]
    english = ranking_text(ranking, "the city", Translator("en", strict=True))
    assert english.split("\n")[1] == "Nothing measured, not ranked: Lucheng, Longwan"


async def test_counties_are_ranked_and_the_notice_names_the_best_and_the_negative_list(world: InsightWorld) -> None:
    notices = service(world)
    admin = await world.user(CITY_ADMIN)
    ranking = await notices.ranking(admin, MARCH)
    order = [s.code for s in ranking.standings]
    placed = {p.standing.code: (p.place, p.tied) for p in places(ranking.standings)}
    # The city's own institutions (市直) are no county: listed apart, neither ranked nor praised. Overdue first:
    # nine counties with nothing overdue that measured only their drills, alike: tied first; Longwan tenth with one
    # overdue and Lucheng (1/2 on time) last with two, however well it closed the rest; Ouhai measured nothing at
    # all and is not ranked.
    assert [s.code for s in ranking.apart] == ["330300"] and "330300" not in order
    assert order[:2] == ["330305", "330324"] and order[-3:] == ["330303", "330302", "330304"] and len(order) == 12
    assert placed["330305"] == placed["330383"] == (1, True)
    assert placed["330303"] == (10, False) and placed["330302"] == (11, False)
    assert placed["330304"] == (None, False)
    draft = await notices.draft(admin, MARCH)
    # Lucheng and Longwan have overdue hazards, the others closed nothing; 市直 (1/1 on time) is not a county.
    assert draft.best == ()
    assert [row.code for row in draft.overdue.items] == [world.hazards["H8"].code, world.hazards["H5"].code]
    assert draft.overdue.total == 2  # H3 is overdue too, but a rights-protection hazard is never posted in groups
    assert (draft.drills_overdue.total, len(draft.drills_overdue.items)) == (14, 10)
    listed = [row.region_code for row in draft.drills_overdue.items]  # the first ten by place, not at random
    assert listed == sorted(listed) and listed[0] == "330300"
    assert draft.inspections_missing.total == 15 and len(draft.groups) == 1

    text = notice_text(draft, "温州市", Translator("zh_CN", strict=True))
    assert "📢 <b>温州市民政系统安全工作通报（2026年3月）</b>" in text
    assert "（依次比较：当前逾期隐患数（截至今日，不论何时发现）、本期按期整改率、月度自查完成率、" in text
    # March is still running (the world stands on 20 March): its self-inspection is not due yet, so no place has a
    # rate for it ("—") rather than 0 % for a duty nobody has missed; the city's own institutions are listed apart.
    assert "1. 温州市（市直）" not in text and "温州市（市直）（" not in text
    assert "温州市（市直）另列，不参与排名：按期 100% · 当前逾期 0 · 自查 — · 演练 0% · 签收 —" in text
    assert "1. 洞头区（并列）：按期 — · 当前逾期 0 · 自查 — · 演练" in text and "1. 龙港市（并列）：" in text
    # Posted in groups, the ranking leaves H3 (rights protection, Lucheng) out of its figures as the list does: a
    # count of 2 beside one Lucheng hazard listed told Lucheng's groups that such a case was open there. Staff's own
    # ranking above still counts it (Lucheng 11th).
    assert "（本通报在工作群中发布，各项数字及清单均不含涉及权益保障的隐患。）" in text
    assert "11. 龙湾区：按期 — · 当前逾期 1 · 自查 —" in text
    assert "10. 鹿城区：按期 50% · 当前逾期 1 · 自查 — · 演练 100% · 签收 50%" in text and text.count("12.") == 0
    assert "暂无数据，不参与排名：瓯海区" in text
    assert "二、表扬</b>\n本期无单位达到表扬条件（无逾期隐患，且隐患按期整改率及月度自查、消防演练、预警签收" in text
    # March is still running: its list is of today, and says so; H3, overdue too, is neither counted nor named.
    assert "（一）逾期未整改隐患 2 项（截至今日）：" in text
    assert f"• {world.hazards['H8'].code} 鹿城区社会福利院（鹿城区），已逾期 31 天" in text
    assert "权益保障的逾期隐患" not in text
    assert "（二）消防演练逾期机构 14 家：" in text and "……等，共 14 项" in text
    assert world.hazards["H3"].code not in text

    first = await notices.send(admin, MARCH, text)
    again = await notices.send(admin, MARCH, text)
    assert (first.queued, first.groups, again.queued) == (1, 1, 0)  # the same notice twice goes out once


async def test_county_staff_rank_their_institutions_and_may_not_send_notices(world: InsightWorld) -> None:
    notices = service(world)
    staff = await world.user(LUCHENG_STAFF)
    ranking = await notices.ranking(staff, MARCH)
    # The welfare home closed one of two on time but has two overdue now: below the home with none overdue.
    assert [ranking.institutions[s.code].name_zh for s in ranking.standings] == [
        "鹿城区南汇街道居家养老服务中心", "鹿城区社会福利院"
    ]
    last = ranking.standings[1]
    assert last.code == str(world.ids[A]) and (last.on_time, last.overdue) == (Ratio(1, 2), 2)
    assert ranking.standings[0].code == str(world.ids[B]) and ranking.standings[0].overdue == 0
    with pytest.raises(Refusal) as refused:
        await notices.draft(staff, MARCH)
    assert refused.value.code == "notice_city_only"


async def test_a_past_months_ranking_is_decided_by_that_months_data_and_counts_the_self_inspections(
    world: InsightWorld,
) -> None:
    """February's ranking, asked on 20 March. The welfare home (A) had one hazard overdue at February's end (H8,
    due 17 February), not the two overdue today (H3 fell due in March); H8 closed today still counts for February,
    as it was overdue then. Neither home did February's self-inspection: 0 of 1 each, in the line and the key."""
    notices, staff = service(world), await world.user(LUCHENG_STAFF)
    h8 = world.hazards["H8"]
    storage = world.storage
    await storage.hazards.add_event(h8.id, at=at(2, 10), actor_id=CADRE, action="report", from_state=None,
                                    to_state=HazardState.RECTIFYING)
    await storage.hazards.add_event(h8.id, at=at(3, 20), actor_id=CADRE, action="accept",
                                    from_state=HazardState.AWAITING_VERIFICATION, to_state=HazardState.CLOSED)
    closed = h8.model_copy(update={"state": HazardState.CLOSED, "closed_at": at(3, 20), "closed_on_time": False})
    assert await storage.hazards.update_state(closed, expected_state=HazardState.RECTIFYING)

    february = await notices.ranking(staff, FEBRUARY)
    assert february.ended
    home = {s.code: s for s in february.standings}[str(world.ids[A])]
    assert home.overdue == 1 and home.inspections == Ratio(0, 1)
    text = ranking_text(february, "鹿城区", Translator("zh_CN", strict=True))
    assert "（依次比较：期末逾期隐患数（截至本期最后一天，不论何时发现）、本期按期整改率、月度自查完成率、" in text
    assert "2. 鹿城区社会福利院：按期 0% · 期末逾期 1 · 自查 0% ·" in text  # H8, closed late since
    english = ranking_text(february, "Lucheng District", Translator("en", strict=True))
    assert "overdue at period end 1 · self-inspections 0% ·" in english

    march = await notices.ranking(staff, MARCH)  # the running month: overdue now, H3 alone since H8 closed
    assert not march.ended and {s.code: s for s in march.standings}[str(world.ids[A])].overdue == 1
    assert "当前逾期 1" in ranking_text(march, "鹿城区", Translator("zh_CN", strict=True))


def test_the_self_inspection_rate_decides_between_places_equal_on_overdue_and_on_time() -> None:
    """Equal on overdue hazards and on-time rate, the place that did its monthly self-inspections ranks above the
    one that did not, whatever their drills: the monthly duty comes before the half-yearly one."""
    did = Standing("b", Ratio(1, 1), 0, Ratio(0, 1), Ratio(), inspections=Ratio(1, 1))
    missed = Standing("a", Ratio(1, 1), 0, Ratio(1, 1), Ratio(), inspections=Ratio(0, 1))
    assert [s.code for s in rank([missed, did])] == ["b", "a"]
