"""Spreadsheets in and out: XLSX and CSV, for exports, invitation lists, templates and bulk imports.

Written sheets stream straight into the file (bot/services/xlsx_stream.py; memory stays flat however many rows;
reading uses openpyxl) and read as a bureau expects: a bold header row that stays in view, sensible column widths,
and times as real spreadsheet dates in the configured zone (Excel knows no time zones, so they are written as local
wall-clock time). CSV is UTF-8 with a byte-order mark, which Excel needs to read Chinese correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.domain.text import clean_text
from bot.services.xlsx_stream import DATE_STYLE, DATETIME_STYLE, PLAIN, StreamingBook, StreamingSheet

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATETIME = "datetime"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 14
    kind: Kind = Kind.TEXT


class XlsxSheet:
    def __init__(self, sheet: StreamingSheet, columns: Sequence[Column], tz: ZoneInfo) -> None:
        self._sheet = sheet
        self._tz = tz
        self._styles = [_STYLE_OF[column.kind] for column in columns]
        self._dated = [(n, style == DATE_STYLE) for n, style in enumerate(self._styles) if style != PLAIN]
        self.rows = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        tz, dated, shown = self._tz, self._dated, []
        for values in rows:
            row = list(values)
            for n, day_only in dated:
                if (value := row[n]) is not None:
                    value = local(value, tz)
                    row[n] = value.date() if day_only and isinstance(value, datetime) else value
            shown.append(row)
        self._sheet.append_many(shown, self._styles)
        self.rows += len(shown)


_STYLE_OF = {Kind.TEXT: PLAIN, Kind.NUMBER: PLAIN, Kind.DATETIME: DATETIME_STYLE, Kind.DATE: DATE_STYLE}


class XlsxBook:
    """A workbook written as it goes (see bot/services/xlsx_stream.py): each sheet is finished when the next one
    is opened, so sheets are filled one after another."""

    def __init__(self, path: Path, tz: ZoneInfo) -> None:
        self.path = path
        self._tz = tz
        self._book = StreamingBook(path)

    def sheet(self, title: str, columns: Sequence[Column]) -> XlsxSheet:
        # Excel refuses sheet titles longer than 31 characters.
        sheet = self._book.sheet(title[:31], [c.width for c in columns], [c.header for c in columns])
        return XlsxSheet(sheet, columns, self._tz)

    def save(self) -> None:
        self._book.save()


class CsvTable:
    def __init__(self, stream: TextIO, columns: Sequence[Column], tz: ZoneInfo) -> None:
        self._writer = csv.writer(stream)
        self._kinds = [column.kind for column in columns]
        self._tz = tz
        self._writer.writerow([column.header for column in columns])
        self.rows = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self._writer.writerow([self._text(kind, v) for kind, v in zip(self._kinds, values, strict=True)])
            self.rows += 1

    def _text(self, kind: Kind, value: Any) -> Any:
        if value is None:
            return ""
        if kind is Kind.DATETIME:
            return f"{local(value, self._tz):%Y-%m-%d %H:%M}"
        if kind is Kind.DATE:
            return f"{local(value, self._tz):%Y-%m-%d}"
        if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
            # Excel runs a CSV cell that starts like this as a formula (=HYPERLINK, DDE …), and what is here was
            # typed by people in chat; the apostrophe is how Excel is told "text" (the XLSX has text cells anyway).
            return "'" + value
        return value


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def open_csv(path: Path) -> TextIO:
    return path.open("w", encoding="utf-8-sig", newline="")


def local(value: datetime | date, tz: ZoneInfo) -> datetime | date:
    """A time as the wall clock in `tz` shows it, without a zone (what a spreadsheet date is)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"refusing to write a naive datetime: {value!r}")
        return value.astimezone(tz).replace(tzinfo=None)
    return value


SheetData = tuple[str, Sequence[Column], Iterable[Sequence[Any]]]


def write_xlsx(path: Path, tz: ZoneInfo, sheets: Sequence[SheetData]) -> None:
    """A small workbook in one call (templates, invitation lists)."""
    book = XlsxBook(path, tz)
    for title, columns, rows in sheets:
        book.sheet(title, columns).write(rows)
    book.save()


# ---- reading ----------------------------------------------------------------------------------------------


class UnreadableFile(ValueError):
    """The file is not a spreadsheet we can read; `code` names the reason (refusal.import_<code>)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # each as long as `headers`; the first data row is spreadsheet row 2


def read_table(data: bytes, filename: str) -> Table:
    """The first sheet of an XLSX, or a CSV (UTF-8, or GB18030 as Chinese Excel saves it), as text cells."""
    if len(data) > MAX_IMPORT_BYTES:
        raise UnreadableFile("too_large")
    name = filename.lower()
    if name.endswith(".xlsx"):
        raw = _xlsx_rows(data)
    elif name.endswith(".csv"):
        raw = _csv_rows(data)
    elif name.endswith(".xls"):
        # Excel 97-2003's binary format, which nothing here reads: say how to turn it into one we do.
        raise UnreadableFile("old_excel")
    else:
        raise UnreadableFile("format")
    rows = [[_text(value) for value in row] for row in raw]
    while rows and not any(rows[-1]):
        rows.pop()
    # Headers are cleaned as cells are (bot/domain/text.py): Excel and WPS leave byte-order marks, zero-width
    # spaces and marks of direction in them, which would make a known column unknown and be quoted in errors.
    headers = tuple(clean_text(header) for header in rows[0]) if rows else ()
    if not any(headers):
        raise UnreadableFile("empty")
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise UnreadableFile("too_many_rows")
    width = len(headers)
    body = tuple(tuple((row + [""] * width)[:width]) for row in rows[1:])
    return Table(headers, body)


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    # Imported here: openpyxl costs a few tenths of a second that a start of the bot need not pay.
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises a zoo of types for a damaged or foreign file
        raise UnreadableFile("format") from error
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _csv_rows(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [list(row) for row in csv.reader(io.StringIO(text), delimiter=_separator(text))]
    raise UnreadableFile("encoding")


_SEPARATORS = (",", ";", "\t")


def _separator(text: str) -> str:
    """The separator the header row uses: a comma, or the semicolon that Excel writes where a comma is the decimal
    mark (a European locale), or the tab of a sheet copied as text. Read as commas, such a file is one unknown
    column, and the bot took it for whichever list missed fewest columns."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {separator: header.count(separator) for separator in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda separator: counts[separator])  # the comma wins a tie
    return best if counts[best] > 0 else ","


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # A code typed into Excel comes back as 330302.0.
        return str(int(value))
    return str(value).strip()
