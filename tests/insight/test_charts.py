"""Charts are PNGs drawn with the project's CJK font, so Chinese labels are Chinese and not empty boxes."""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.stats import PeriodKind, StatsPeriod
from bot.services import charts
from bot.services.stats import StatsService
from tests.insight.world import CITY_ADMIN, NOW, InsightWorld

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_font_is_noto_sans_sc_from_the_installed_package() -> None:
    font = charts.cjk_font()
    assert font.is_file() and font.name == "NotoSansSC-Regular.otf"


async def test_a_county_chart_is_drawn_in_chinese_with_the_cjk_font(world: InsightWorld) -> None:
    stats = StatsService(world.storage, world.clock, ZoneInfo("Asia/Shanghai"))
    march = StatsPeriod(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))
    counts = await stats.states_by_unit(await world.user(CITY_ADMIN), march)
    # H3 (rectifying) and H5 (assigned) are past their deadline: counted as overdue, the band the ranking counts.
    assert counts == {"330300": {"closed": 1}, "330302": {"closed": 2, "overdue": 1, "awaiting_verification": 1},
                      "330303": {"assigned": 1, "overdue": 1}}
    codes = sorted(counts)
    series = [charts.Series(name, tuple(float(counts[c].get(state, 0)) for c in codes))
              for name, state in (("整改中", "rectifying"), ("待验收", "awaiting_verification"), ("已销号", "closed"))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart = charts.stacked_bars("各县（市、区）隐患状态", ["温州市（市直）", "鹿城区", "龙湾区"], series, "隐患数")
    assert chart.png.startswith(PNG) and len(chart.png) > 10_000
    assert (chart.width, chart.height) == (1080, 810)  # a phone's full width
    assert {Path(font).name for font in chart.fonts} == {"NotoSansSC-Regular.otf"}
    assert not [w for w in caught if "missing from font" in str(w.message)]  # no empty boxes


def test_the_trend_the_drills_and_the_acknowledgement_curve_draw() -> None:
    weeks = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(13)]
    lines = [charts.Series("新发现", tuple(float(n) for n in range(13))), charts.Series("销号", (1.0,) * 13)]
    drawn = [
        charts.weekly_lines("每周新发现与销号隐患", weeks, lines, "隐患数"),
        charts.percentage_bars("消防演练达标率", ["鹿城区", "龙湾区", "洞头区"], [1.0, 0.5, None], "无机构"),
        charts.cumulative_curve("台风橙色预警签收进度", NOW, [NOW + timedelta(minutes=m) for m in (5, 30, 90)], 4,
                                NOW + timedelta(hours=6), "已签收机构数", "发布后小时数"),
    ]
    for chart in drawn:
        assert chart.png.startswith(PNG) and chart.width == 1080
        assert {Path(font).name for font in chart.fonts} == {"NotoSansSC-Regular.otf"}


def test_dollar_signs_in_a_headline_are_drawn_as_typed() -> None:
    """matplotlib reads text between two $ as a formula (mathtext): a warning headline with dollar signs lost them
    and came out in italics, and one whose "formula" did not parse raised, so the acknowledgement chart never came."""
    for headline in ("预计最高 $40$ ℃", r"签收：\frac 预警 $\frac$"):
        chart = charts.cumulative_curve(f"签收情况：{headline}", NOW, [NOW + timedelta(minutes=5)], 2,
                                        NOW + timedelta(hours=1), "已签收机构数", "发布后小时数")
        assert chart.png.startswith(PNG)
        assert {Path(font).name for font in chart.fonts} == {"NotoSansSC-Regular.otf"}


def test_an_axis_of_counts_ticks_whole_numbers_and_a_chart_keeps_its_title() -> None:
    """With one or two hazards a county, the axes read 0.5, 1.5, 2.5 hazards; and the three charts all carried the
    caption "📊 2026年9月", so one forwarded on its own did not say what it showed."""
    few = [charts.Series("整改中", (1.0, 2.0)), charts.Series("已销号", (0.0, 1.0))]
    bars = charts.stacked_bars("隐患状态分布 · 2026年9月", ["鹿城区", "龙湾区"], few, "隐患数")
    weeks = [date(2026, 9, 7) + timedelta(weeks=n) for n in range(4)]
    found = [charts.Series("新发现", (1.0, 0.0, 2.0, 1.0))]
    lines = charts.weekly_lines("每周新发现与销号隐患", weeks, found, "隐患数")
    for chart in (bars, lines):
        assert chart.count_ticks and all(tick.lstrip("−-").isdigit() for tick in chart.count_ticks), chart.count_ticks
    assert bars.title == "隐患状态分布 · 2026年9月"


def test_the_answer_curve_counts_institutions_in_whole_numbers() -> None:
    """Two institutions reached, one answered: the axis read 0.5 and 1.5 institutions."""
    chart = charts.cumulative_curve("签收情况：台风红色预警", NOW, [NOW + timedelta(minutes=20)], 2,
                                    NOW + timedelta(hours=1), "已签收机构数", "发布后小时数")
    assert chart.count_ticks and all(tick.lstrip("−-").isdigit() for tick in chart.count_ticks), chart.count_ticks
