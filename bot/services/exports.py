"""/export: the problem list (问题清单) and the registers of drills, self-inspections and warning acknowledgements,
for the scope and period of /stats, as an XLSX workbook or the problem list alone as CSV.

Rows stream a page at a time from the database into openpyxl's write-only sheets; the writing runs in a worker
thread between pages, so a city's 100,000 hazards neither fill the memory nor stall the bot's other chats. Words
(headers, state names) come from the caller's translator: the spreadsheet is in the language of who asked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.catalog import HazardArea, Severity, SourceLevel, label
from bot.domain.checklists import shown_description
from bot.domain.compliance import SELF_INSPECTION_RULE, drill_rule, entered_late, period_of, sheet_closed
from bot.domain.lifecycle import HazardState, days_late, is_overdue
from bot.domain.stats import Scope, StatsPeriod
from bot.services.duties import month_start
from bot.services.spreadsheets import Column, CsvTable, Kind, XlsxBook, open_csv
from bot.services.stats import InstitutionDuties, StatsService
from storage import Storage
from storage.repositories._codec import from_db_time
from storage.repositories.exports import ExportRepository

PAGE = 1000
Progress = Callable[[int, int], Awaitable[None]]


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class Words(Protocol):
    """What an export needs of a translator (bot.i18n.Translator is one)."""

    language: str

    def plain(self, key: str, /, **params: Any) -> str: ...


@dataclass(frozen=True)
class ExportFile:
    path: Path
    hazards: int  # rows of the problem list
    registers: int  # rows of the other sheets


# (header key, width, kind) per column; the keys name insight.col.* messages.
PROBLEM_COLUMNS = (
    ("code", 20, Kind.TEXT), ("county", 12, Kind.TEXT), ("township", 12, Kind.TEXT),
    ("institution", 28, Kind.TEXT), ("area", 12, Kind.TEXT), ("severity", 8, Kind.TEXT),
    ("source", 10, Kind.TEXT), ("description", 40, Kind.TEXT), ("found_at", 17, Kind.DATETIME),
    ("reporter", 12, Kind.TEXT), ("responsible", 12, Kind.TEXT), ("deadline", 17, Kind.DATETIME),
    ("state", 10, Kind.TEXT), ("measures", 36, Kind.TEXT), ("closed_at", 17, Kind.DATETIME),
    ("on_time", 8, Kind.TEXT), ("days_overdue", 8, Kind.NUMBER), ("check_back", 12, Kind.TEXT),
)
DRILL_COLUMNS = (
    ("institution_code", 20, Kind.TEXT), ("institution", 28, Kind.TEXT), ("county", 12, Kind.TEXT),
    ("township", 12, Kind.TEXT), ("institution_type", 12, Kind.TEXT), ("drill_kind", 14, Kind.TEXT),
    ("held_on", 12, Kind.DATE), ("participants", 8, Kind.NUMBER), ("duration", 8, Kind.NUMBER),
    ("practised", 30, Kind.TEXT), ("problems", 30, Kind.TEXT), ("hazards", 8, Kind.NUMBER),
    ("logged_by", 12, Kind.TEXT), ("logged_at", 17, Kind.DATETIME), ("late_entry", 8, Kind.TEXT),
)
INSPECTION_COLUMNS = (
    ("institution_code", 20, Kind.TEXT), ("institution", 28, Kind.TEXT), ("county", 12, Kind.TEXT),
    ("township", 12, Kind.TEXT), ("institution_type", 12, Kind.TEXT), ("month", 9, Kind.TEXT),
    ("started_at", 17, Kind.DATETIME), ("finished_at", 17, Kind.DATETIME), ("amended_at", 17, Kind.DATETIME),
    ("failed_items", 8, Kind.NUMBER), ("finished_by", 12, Kind.TEXT), ("sheet_status", 14, Kind.TEXT),
)
COMPLIANCE_COLUMNS = (
    ("institution_code", 20, Kind.TEXT), ("institution", 28, Kind.TEXT), ("county", 12, Kind.TEXT),
    ("township", 12, Kind.TEXT), ("institution_type", 12, Kind.TEXT), ("drill_status", 10, Kind.TEXT),
    ("last_drill", 12, Kind.DATE), ("inspections_done", 12, Kind.TEXT), ("inspections_missing", 24, Kind.TEXT),
    ("inspection_running", 16, Kind.TEXT),
)
ACK_COLUMNS = (
    ("warning", 8, Kind.NUMBER), ("warning_kind", 10, Kind.TEXT), ("level", 8, Kind.TEXT),
    ("headline", 30, Kind.TEXT), ("sent_at", 17, Kind.DATETIME), ("institution", 28, Kind.TEXT),
    ("county", 12, Kind.TEXT), ("township", 12, Kind.TEXT), ("response", 12, Kind.TEXT),
    ("answered_by", 12, Kind.TEXT), ("answered_at", 17, Kind.DATETIME),
    # What the institution reported it did under the warning (落实情况): how many times, and each report with its time.
    ("reports", 8, Kind.NUMBER), ("what_was_done", 60, Kind.TEXT),
)


def columns(spec: Sequence[tuple[str, int, Kind]], words: Words) -> list[Column]:
    return [Column(words.plain(f"insight.col.{key}"), width, kind) for key, width, kind in spec]


class ExportService:
    def __init__(self, storage: Storage, tz: ZoneInfo, stats: StatsService | None = None) -> None:
        self._tz = tz
        self._clock = storage.clock
        self._stats = stats
        self.repository = ExportRepository(storage.db)

    async def count(self, scope: Scope, period: StatsPeriod) -> int:
        since, until = period.utc_bounds(self._tz)
        return await self.repository.count_hazards(scope, since, until)

    async def export(
        self,
        scope: Scope,
        period: StatsPeriod,
        fmt: ExportFormat,
        path: Path,
        words: Words,
        *,
        months: Sequence[str],
        progress: Progress | None = None,
    ) -> ExportFile:
        """Write the export to `path`. `months` are the self-inspection months the period covers (up to today)."""
        words = _Remembered(words)
        total = await self.count(scope, period)
        if fmt is ExportFormat.CSV:
            with open_csv(path) as stream:
                table = CsvTable(stream, columns(PROBLEM_COLUMNS, words), self._tz)
                hazards = await self._problems(scope, period, table.write, words, total, progress)
            return ExportFile(path, hazards, 0)
        book = XlsxBook(path, self._tz)
        sheet = book.sheet(words.plain("insight.sheet.problems"), columns(PROBLEM_COLUMNS, words))
        hazards = await self._problems(scope, period, sheet.write, words, total, progress)
        registers = await self._registers(book, scope, period, months, words)
        if self._stats is not None:
            # Not counted in `registers` (the rows of what was done): the caption's 台账 N 条 stays that.
            await self._compliance(book, scope, period, words)
        await asyncio.to_thread(book.save)
        return ExportFile(path, hazards, registers)

    async def _problems(
        self,
        scope: Scope,
        period: StatsPeriod,
        write: Callable[[list[list[Any]]], None],
        words: Words,
        total: int,
        progress: Progress | None,
    ) -> int:
        since, until = period.utc_bounds(self._tz)

        def fetch(after: int) -> asyncio.Future[list[dict[str, Any]]]:
            return asyncio.ensure_future(self.repository.hazard_page(scope, since, until, after=after, limit=PAGE))

        heads = {
            institution: words.plain("warn.list_separator").join(names)
            for institution, names in (await self.repository.heads(scope)).items()
        }
        done, upcoming = 0, fetch(0)
        try:
            while page := await upcoming:
                # The database reads the next page (in its own thread) while this one is worded and written.
                upcoming = fetch(int(page[-1]["id"]))
                await asyncio.to_thread(write, [self._problem(row, words, heads) for row in page])
                done += len(page)
                if progress is not None:
                    await progress(done, total)
        finally:
            upcoming.cancel()
        return done

    def _problem(self, row: dict[str, Any], words: Words, heads: dict[int, str]) -> list[Any]:
        on_time = row["closed_on_time"]
        responsible = row["assignee"]
        if responsible is None and not row["sensitive"]:
            responsible = heads.get(int(row["institution_id"]))
        return [
            row["code"], _county(row, words), _name(row, "township", words),
            _name(row, "institution", words), _label(HazardArea, row["area"], words.language),
            _label(Severity, row["severity"], words.language), _label(SourceLevel, row["source_level"], words.language),
            shown_description(row["description"]), row["reported_at"], row["reporter"], responsible, row["deadline"],
            _state(row, words), row["measures"], None if row["withdrawal_category"] else row["closed_at"],
            None if on_time is None else words.plain("insight.yes" if on_time else "insight.no"),
            self._days_overdue(row), _check_back(row["check_back"], words),
        ]

    def _days_overdue(self, row: dict[str, Any]) -> int | None:
        """An unresolved hazard's days past its deadline when the list is made, as /tasks marks it 已逾期, so the
        sheet can be filtered for what is overdue; blank for the others (a closed one has 是否按期)."""
        now = self._clock.now()
        if not is_overdue(row["deadline"], HazardState(row["state"]), now):
            return None
        return days_late(row["deadline"], now)

    async def _registers(
        self, book: XlsxBook, scope: Scope, period: StatsPeriod, months: Sequence[str], words: Words
    ) -> int:
        repo, written = self.repository, 0
        drills = book.sheet(words.plain("insight.sheet.drills"), columns(DRILL_COLUMNS, words))
        after = 0
        while page := await repo.drill_page(scope, period.start, period.end, after=after, limit=PAGE):
            await asyncio.to_thread(drills.write, [self._drill(row, words) for row in page])
            after, written = int(page[-1]["id"]), written + len(page)
        inspections = book.sheet(words.plain("insight.sheet.inspections"), columns(INSPECTION_COLUMNS, words))
        for month in sorted(set(months)):
            after = 0
            while page := await repo.inspection_page(scope, month, after=after, limit=PAGE):
                await asyncio.to_thread(inspections.write, [self._inspection(row, words) for row in page])
                after, written = int(page[-1]["id"]), written + len(page)
        acks = book.sheet(words.plain("insight.sheet.acknowledgements"), columns(ACK_COLUMNS, words))
        since, until = period.utc_bounds(self._tz)
        for warning_id in await repo.warnings_sent(since, until):
            if page := await repo.acknowledgement_page(scope, warning_id):
                await asyncio.to_thread(acks.write, [self._ack(row, words) for row in page])
                written += len(page)
        return written

    async def _compliance(self, book: XlsxBook, scope: Scope, period: StatsPeriod, words: Words) -> int:
        """合规情况: one row per active institution in scope, its fire drill and its monthly self-inspections for
        the period as /stats counts them, so the institutions /stats and the notice count (演练达标 3/17, the
        通报's "完整名单见 /export") are named: the drill registers list only what was done."""
        assert self._stats is not None
        duties = await self._stats.duties_by_institution(scope, period)
        sheet = book.sheet(words.plain("insight.sheet.compliance"), columns(COMPLIANCE_COLUMNS, words))
        rows = [
            self._duties(row, duties[int(row["id"])], words)
            for row in await self.repository.institutions(scope) if int(row["id"]) in duties
        ]
        await asyncio.to_thread(sheet.write, rows)
        return len(rows)

    def _duties(self, row: dict[str, Any], duty: InstitutionDuties, words: Words) -> list[Any]:
        drill = "drill_none" if duty.drill_ok is None else "drill_ok" if duty.drill_ok else "drill_late"
        running = None if duty.running_done is None else words.plain(
            "insight.duty.running_done" if duty.running_done else "insight.duty.running_open"
        )
        done = duty.inspections
        return [
            row["institution_code"], _name(row, "institution", words), _name(row, "county", words),
            _name(row, "township", words), words.plain(f"insight.type.{row['institution_type']}"),
            words.plain(f"insight.duty.{drill}"), duty.last_drill,
            f"{done.part}/{done.whole}" if done.whole else None,
            ("、" if words.language == "zh_CN" else ", ").join(duty.missing) or None, running,
        ]

    def _drill(self, row: dict[str, Any], words: Words) -> list[Any]:
        return [
            row["institution_code"], _name(row, "institution", words), _county(row, words),
            _name(row, "township", words), words.plain(f"insight.type.{row['institution_type']}"),
            words.plain(f"insight.drill_kind.{row['kind']}"), row["held_on"], row["participants"],
            row["duration_minutes"], row["practised"], row["problems"], row["hazards"], row["logged_by"],
            row["logged_at"], words.plain("insight.late_entry") if self._entered_late(row) else None,
        ]

    def _entered_late(self, row: dict[str, Any]) -> bool:
        """Logged after the period it was held in had ended (补录), by the institution's drill rule."""
        logged_on = row["logged_at"].astimezone(self._tz).date()
        return entered_late(drill_rule(row["institution_type"]), row["held_on"], logged_on)

    def _inspection(self, row: dict[str, Any], words: Words) -> list[Any]:
        return [
            row["institution_code"], _name(row, "institution", words), _county(row, words),
            _name(row, "township", words), words.plain(f"insight.type.{row['institution_type']}"), row["month"],
            row["started_at"], row["finished_at"], row["amended_at"], row["failed"], row["finished_by"],
            words.plain(f"insight.sheet_status.{self._sheet_status(row)}"),
        ]

    def _sheet_status(self, row: dict[str, Any]) -> str:
        """done; open (its month still running); or expired: left unfinished when its month ended, so the month
        was missed, though the sheet and its answers are on record."""
        if row["finished_at"] is not None:
            return "done"
        period = period_of(SELF_INSPECTION_RULE, month_start(row["month"]))
        return "expired" if sheet_closed(period, self._clock.now().astimezone(self._tz).date()) else "open"

    def _ack(self, row: dict[str, Any], words: Words) -> list[Any]:
        response = row["response"] or "none"
        return [
            row["warning_id"], words.plain(f"insight.warning_kind.{row['kind']}"),
            words.plain(f"insight.level.{row['level']}"), row["headline"], row["sent_at"],
            _name(row, "institution", words), _county(row, words), _name(row, "township", words),
            words.plain(f"insight.ack.{response}"), row["answered_by"], row["answered_at"],
            row["reports"], self._what_was_done(row),
        ]

    def _what_was_done(self, row: dict[str, Any]) -> str | None:
        """Every report of what was done, oldest first, one a line: "2026-07-20 21:30 赵站长: 巡查完成，救助 3 人"."""
        done = row["what_was_done"]
        if not done:
            return None
        lines = []
        for entry in json.loads(done):
            at = from_db_time(entry["at"]).astimezone(self._tz).strftime("%Y-%m-%d %H:%M")
            lines.append(f"{at} {entry['by'] or '—'}: {entry['text']}")
        return "\n".join(lines) or None


def _county(row: dict[str, Any], words: Words) -> str | None:
    """The county column: for an institution the city runs itself, the city named as /stats and the ranking name
    it ("温州市（市直）"), not the bare city, which reads as the whole city."""
    name = _name(row, "county", words)
    if name is not None and row["county_level"] == "city":
        return words.plain("insight.city_level", city=name)
    return name


def _name(row: dict[str, Any], prefix: str, words: Words) -> str | None:
    # As `bot.i18n.name_in`: the Chinese where a place has no English name, rather than an empty cell.
    value = row[f"{prefix}_zh"] if words.language == "zh_CN" else row[f"{prefix}_en"] or row[f"{prefix}_zh"]
    return None if value is None else str(value)


class _Remembered:
    """The caller's words, each looked up once: a city's export words the same few states and answers some
    hundred thousand times, and a catalog lookup per cell was a tenth of the export's time."""

    def __init__(self, words: Words) -> None:
        self.language = words.language
        self._words = words
        self._known: dict[str, str] = {}

    def plain(self, key: str, /, **params: Any) -> str:
        if params:
            return _as_cell(self._words.plain(key, **params), self.language)
        if (known := self._known.get(key)) is None:
            known = self._known[key] = _as_cell(self._words.plain(key), self.language)
        return known


def _as_cell(text: str, language: str) -> str:
    """A label begins its cell as a sentence begins ("Fire", "Cross-check", "Received, acting"): the English catalog
    writes labels in lower case to sit inside sentences, and alone in a cell they read as raw codes beside the title
    case of the states and names."""
    return text if language == "zh_CN" else text[:1].upper() + text[1:]


@cache
def _label(kind: type[HazardArea] | type[Severity] | type[SourceLevel], code: str, language: str) -> str:
    return _as_cell(label(kind(code), language), language)


def _check_back(answer: str | None, words: Words) -> str | None:
    """The latest check-back's answer (仍已解决 / 问题又出现), 未答复 while the reporter has not answered it, and blank
    when none was asked of the hazard's latest closing (not closed, not yet due, or skipped)."""
    if answer is None:
        return None
    return words.plain(f"insight.check_back.{answer}")


def _state(row: dict[str, Any], words: Words) -> str:
    """The problem list's state: a withdrawn hazard (作废) says why, so the list shows it was never rectified; its
    closing time stays blank."""
    category = row["withdrawal_category"]
    if not category:
        return words.plain(f"state.{row['state']}")
    return words.plain(
        "insight.state_withdrawn", category=words.plain(f"withdraw.category.{category}"),
        reason=row["withdrawal_reason"] or "—",
    )
