"""The streaming XLSX writer, read back with openpyxl: what user text and odd values become in a cell."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.services.spreadsheets import Column, Kind, XlsxBook, read_table

TZ = ZoneInfo("Asia/Shanghai")


def test_user_text_numbers_and_times_come_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = XlsxBook(path, TZ)
    columns = [Column("文本", 30), Column("数", 8, Kind.NUMBER), Column("时间", 17, Kind.DATETIME),
               Column("日期", 12, Kind.DATE)]
    title = "一个很长很长很长很长很长很长很长很长很长很长的工作表名称超过三十一个字"
    sheet = book.sheet(title, columns)
    sheet.write([
        ["<b>消防 & 通道</b> \"引号\" 'x'", 3, datetime(2026, 3, 1, 16, 30, tzinfo=UTC), date(2026, 3, 2)],
        ["  前后空格  ", 2.5, None, datetime(2026, 3, 2, 17, 0, tzinfo=UTC)],  # the local day is 3 March
        ["响铃\x07与\x1b控制字符", True, None, None],
        [None, None, None, None],
    ])
    second = book.sheet("Second", [Column("only")])
    second.write([["a"], ["b"]])
    book.save()

    workbook = load_workbook(path)
    assert workbook.sheetnames == [title[:31], "Second"]  # Excel refuses longer titles
    first = workbook.worksheets[0]
    rows = list(first.iter_rows(values_only=True))
    assert rows[0] == ("文本", "数", "时间", "日期")
    assert rows[1] == ("<b>消防 & 通道</b> \"引号\" 'x'", 3, datetime(2026, 3, 2, 0, 30), datetime(2026, 3, 2))
    assert rows[2] == ("  前后空格  ", 2.5, None, datetime(2026, 3, 3))
    # Characters XML cannot hold are dropped, not allowed to break the whole file.
    assert rows[3] == ("响铃与控制字符", True, None, None)
    assert len(rows) == 4  # an empty row is written but holds no cell
    assert first["C2"].number_format == "yyyy-mm-dd hh:mm" and first["D2"].number_format == "yyyy-mm-dd"
    assert first["A1"].font.bold and first.freeze_panes == "A2" and first.column_dimensions["A"].width == 30
    assert [row for row in workbook["Second"].iter_rows(values_only=True)] == [("only",), ("a",), ("b",)]
    # What bulk import reads from a workbook the bot wrote.
    assert read_table(path.read_bytes(), "book.xlsx").rows[0][0] == "<b>消防 & 通道</b> \"引号\" 'x'"
