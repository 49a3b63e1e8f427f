"""A streaming XLSX writer for the one kind of workbook the bot writes: sheets of plain rows under a bold, frozen
header row, with column widths and dates in two formats. Nothing else (no formulas, merged cells or colours).

Why not openpyxl's write-only mode, which the bot used before: it builds a cell object and an XML element for
every value, about 130 µs per row of 16 values on the bot's machine (with lxml or without; XlsxWriter's
constant-memory mode measured the same), so a city's 100,000-hazard problem list took half a minute. The sheet XML
of such rows is simple enough to write as text, page by page, straight into the zip entry: a tenth of the time and
flat memory. Files are read back with openpyxl in the tests (and by bulk import), which checks what is written.

Sheets are written one after another, as an export does: opening the next sheet finishes the one before.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Cell styles (cellXfs in styles.xml), by index.
PLAIN, DATETIME_STYLE, DATE_STYLE, HEADER_STYLE = 0, 1, 2, 3
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 in the 1900 date system, as openpyxl counts it
# Characters XML 1.0 cannot carry at all (a pasted control character must not break the whole export).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Most values need no change: one search finds those that do.
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def text(value: str) -> str:
    if _SPECIAL.search(value) is None:
        return value
    return _ILLEGAL.sub("", value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def serial(value: datetime | date) -> float:
    """An Excel date serial of a wall-clock time (openpyxl's `to_excel` for dates after 1 March 1900)."""
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    since = moment - _EPOCH
    return since.days + (since.seconds + since.microseconds / 1_000_000) / 86_400


class StreamingSheet:
    def __init__(self, stream: IO[bytes], widths: Sequence[float], headers: Sequence[str]) -> None:
        self._stream = stream
        self._letters = [column_letter(n) for n in range(1, len(widths) + 1)]
        self._number = 0
        columns = "".join(
            f'<col min="{n}" max="{n}" width="{width}" customWidth="1"/>' for n, width in enumerate(widths, start=1)
        )
        self._put(
            f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols><sheetData>'
        )
        self.append_many([headers], [HEADER_STYLE] * len(headers))

    def append_many(self, rows: Iterable[Sequence[Any]], styles: Sequence[int]) -> None:
        """Rows of values, each value styled as its column says; None leaves a cell empty. Dates and times are
        wall-clock (naive) values."""
        # The style attribute and column letter of each column, made once per page rather than once per cell.
        heads = [f'<c r="{letter}' for letter in self._letters]
        attributes = [f' s="{style}"' if style else "" for style in styles]
        inline = ' t="inlineStr"><is><t xml:space="preserve">'
        parts: list[str] = []
        add = parts.append
        for values in rows:
            self._number += 1
            number = str(self._number)
            add(f'<row r="{number}">')
            for head, attribute, value in zip(heads, attributes, values, strict=True):
                if value is None:
                    continue
                if isinstance(value, str):
                    add(f'{head}{number}"{attribute}{inline}{text(value)}</t></is></c>')
                elif isinstance(value, bool):
                    add(f'{head}{number}"{attribute} t="b"><v>{int(value)}</v></c>')
                elif isinstance(value, int | float):
                    add(f'{head}{number}"{attribute}><v>{value!r}</v></c>')
                elif isinstance(value, date):
                    add(f'{head}{number}"{attribute}><v>{serial(value)!r}</v></c>')
                else:
                    add(f'{head}{number}"{attribute}{inline}{text(str(value))}</t></is></c>')
            add("</row>")
        self._put("".join(parts))

    def close(self) -> None:
        self._put("</sheetData></worksheet>")
        self._stream.close()

    def _put(self, xml: str) -> None:
        self._stream.write(xml.encode("utf-8"))


class StreamingBook:
    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self._titles: list[str] = []
        self._open: StreamingSheet | None = None

    def sheet(self, title: str, widths: Sequence[float], headers: Sequence[str]) -> StreamingSheet:
        self._finish_sheet()
        self._titles.append(title)
        # force_zip64: the size of a streamed entry is not known before it is written.
        stream = self._zip.open(f"xl/worksheets/sheet{len(self._titles)}.xml", "w", force_zip64=True)
        self._open = StreamingSheet(stream, widths, headers)
        return self._open

    def save(self) -> None:
        self._finish_sheet()
        count = len(self._titles)
        sheets = "".join(
            f"<sheet name={quoteattr(title)} sheetId=\"{n}\" r:id=\"rId{n}\"/>"
            for n, title in enumerate(self._titles, start=1)
        )
        files = {
            "[Content_Types].xml": (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                + "".join(
                    f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    for n in range(1, count + 1)
                )
                + "</Types>"
            ),
            "_rels/.rels": (
                f'<Relationships xmlns="{_PACKAGE}"><Relationship Id="rId1" '
                f'Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><bookViews><workbookView/></bookViews>'
                f"<sheets>{sheets}</sheets></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                f'<Relationships xmlns="{_PACKAGE}">'
                + "".join(
                    f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                    for n in range(1, count + 1)
                )
                + f'<Relationship Id="rId{count + 1}" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
                "</Relationships>"
            ),
            "xl/styles.xml": _STYLES,
        }
        for name, xml in files.items():
            self._zip.writestr(name, _DECLARATION + xml)
        self._zip.close()

    def _finish_sheet(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None


# The order of cellXfs is PLAIN, DATETIME_STYLE, DATE_STYLE, HEADER_STYLE.
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
