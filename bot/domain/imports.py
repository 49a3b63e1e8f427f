"""Bulk import rules: which columns each kind of spreadsheet has, and how every row is checked. Pure: the caller
passes what it knows of the database (regions, institutions) and of the vocabularies (labels in every language).

Every problem is reported with its spreadsheet row (the header is row 1) and column, all at once, so one round of
corrections fixes a file. Nothing here writes: the service applies a file only when it has no error at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from bot.domain.days import parse_day
from bot.domain.roles import Role, region_in_scope
from bot.domain.secrecy import find_classification_mark
from bot.domain.text import INVISIBLE, clean_text, is_blank

MAX_TEXT = 200
MAX_DESCRIPTION = 500
MAX_INVITE_DAYS = 30


class ImportKind(StrEnum):
    INSTITUTIONS = "institutions"
    PEOPLE = "people"  # to invite: one invitation link each
    VULNERABLE = "vulnerable"  # the registry of scattered vulnerable people (pseudonymous codes only)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    required: bool = False
    max_length: int = MAX_TEXT


FIELDS: Mapping[ImportKind, tuple[FieldSpec, ...]] = {
    ImportKind.INSTITUTIONS: (
        FieldSpec("code", True, 40),
        FieldSpec("name_zh", True),
        FieldSpec("name_en"),
        FieldSpec("type", True),
        FieldSpec("region_code", True, 12),
        FieldSpec("risk_tags"),
        FieldSpec("address", max_length=MAX_DESCRIPTION),
    ),
    ImportKind.PEOPLE: (
        FieldSpec("name", True, 64),
        FieldSpec("role", True),
        FieldSpec("region_code", max_length=12),
        FieldSpec("institution_code", max_length=40),
        FieldSpec("valid_until", max_length=20),
    ),
    ImportKind.VULNERABLE: (
        FieldSpec("code", True, 32),
        FieldSpec("category", True),
        FieldSpec("region_code", True, 12),
        FieldSpec("cadre_id", max_length=20),
    ),
}


@dataclass(frozen=True)
class RowError:
    row: int  # 1 is the header row
    column: str  # the field key; the caller shows its header
    code: str  # insight.import.error.<code>, or refusal.<code> when `refusal` is set
    params: Mapping[str, object] = field(default_factory=dict)
    refusal: bool = False


@dataclass(frozen=True)
class Cells:
    row: int
    values: Mapping[str, str]  # by field key; absent columns read as ""


def map_headers(
    kind: ImportKind, headers: Sequence[str], aliases: Mapping[str, str]
) -> tuple[dict[int, str], list[RowError]]:
    """Column index → field key, from header texts in any language (`aliases`: normalised text → key)."""
    mapping: dict[int, str] = {}
    errors: list[RowError] = []
    for index, header in enumerate(headers):
        key = aliases.get(normalise(header))
        if key is None:
            if not is_blank(header):
                errors.append(RowError(1, header, "unknown_column", {"value": header}))
            continue
        if key in mapping.values():
            errors.append(RowError(1, key, "duplicate_column", {"value": header}))
        mapping[index] = key
    for spec in FIELDS[kind]:
        if spec.required and spec.key not in mapping.values():
            errors.append(RowError(1, spec.key, "missing_column"))
    return mapping, errors


def cells(rows: Iterable[Sequence[str]], mapping: Mapping[int, str]) -> list[Cells]:
    """The non-empty rows as cells by key, each cleaned as typed text is (bot/domain/text.py: no controls or bidi
    overrides, nothing invisible at either end, so a cell of zero-width spaces is empty); row numbers count the
    header as 1 and skipped blank rows too."""
    found = []
    for number, row in enumerate(rows, start=2):
        if not all(is_blank(value) for value in row):
            found.append(Cells(number, {key: clean_text(row[i]) for i, key in mapping.items() if i < len(row)}))
    return found


_INVISIBLE = re.compile(f"[{INVISIBLE}]")


def normalise(text: str) -> str:
    """A header or a choice as compared: full-width letters and digits as ASCII (NFKC), without spaces of any
    kind or invisible characters anywhere (a zero-width space, a byte-order mark, a mark of direction), any case."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return "".join(text.split()).casefold()


class _Checker:
    """Collects errors for one row at a time; each `text`/`choice`… returns the clean value or None."""

    def __init__(self, kind: ImportKind) -> None:
        self.specs = {spec.key: spec for spec in FIELDS[kind]}
        self.errors: list[RowError] = []
        self.row = 0
        self.values: Mapping[str, str] = {}

    def start(self, cell: Cells) -> None:
        self.row, self.values = cell.row, cell.values

    def fail(self, key: str, code: str, **params: object) -> None:
        self.errors.append(RowError(self.row, key, code, params))

    def text(self, key: str) -> str | None:
        spec, value = self.specs[key], self.values.get(key, "")
        if not value:
            if spec.required:
                self.fail(key, "required")
            return None
        if len(value) > spec.max_length:
            self.fail(key, "too_long", max=spec.max_length)
            return None
        # The secrecy rule holds for a spreadsheet as for a message: nothing carrying a classification mark is
        # stored. The error names the mark, never the cell's words.
        mark = find_classification_mark(value)
        if mark is not None:
            self.fail(key, "classified", mark=mark)
            return None
        return value

    def choice(self, key: str, choices: Mapping[str, str]) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        chosen = choices.get(normalise(value))
        if chosen is None:
            self.fail(key, "bad_choice", value=value)
        return chosen

    def region(self, key: str, known: Iterable[str] | None = None) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        if not value.isdigit() or len(value) not in (6, 9, 12):
            self.fail(key, "bad_region", value=value)
            return None
        if known is not None and value not in known:
            self.fail(key, "unknown_region", value=value)
            return None
        return value

    def once(
        self, key: str, found: str | None, seen: dict[str, int], *, code: str = "duplicate", **shown: object
    ) -> None:
        """`found` must not repeat an earlier row's; `shown` names it in the error when `found` is not its words."""
        if found is None:
            return
        if found in seen:
            self.fail(key, code, **({"value": found} | shown), first=seen[found])
        else:
            seen[found] = self.row


@dataclass(frozen=True)
class InstitutionEntry:
    row: int
    code: str
    name_zh: str
    name_en: str
    type: str
    region_code: str
    risk_tags: frozenset[str]
    address: str | None


def check_institutions(
    rows: Sequence[Cells],
    *,
    types: Mapping[str, str],
    risk_tags: Mapping[str, str],
    regions: set[str],
    existing: Mapping[tuple[str, str], str],
) -> tuple[list[InstitutionEntry], list[RowError]]:
    """`existing`: (region code, Chinese name) → code of the institutions already known, to catch one imported
    again under a new code."""
    check, entries = _Checker(ImportKind.INSTITUTIONS), []
    codes: dict[str, int] = {}
    names: dict[str, int] = {}
    for cell in rows:
        check.start(cell)
        code, name = check.text("code"), check.text("name_zh")
        kind, region = check.choice("type", types), check.region("region_code", regions)
        check.once("code", code, codes)
        if name is not None and region is not None:
            check.once("name_zh", f"{region} {name}", names)
            other = existing.get((region, name))
            if other is not None and other != code:
                check.fail("name_zh", "duplicate_institution", value=name, existing=other)
        tags = _tags(check, risk_tags)
        address = check.text("address")
        if code and name and kind and region and tags is not None and not _failed(check, cell.row):
            entries.append(
                InstitutionEntry(cell.row, code, name, check.text("name_en") or name, kind, region, tags, address)
            )
    return entries, check.errors


def _tags(check: _Checker, risk_tags: Mapping[str, str]) -> frozenset[str] | None:
    raw = check.text("risk_tags")
    if raw is None:
        return frozenset()
    found = set()
    for part in raw.replace("，", ",").replace("、", ",").replace(";", ",").split(","):
        if not part.strip():
            continue
        tag = risk_tags.get(normalise(part))
        if tag is None:
            check.fail("risk_tags", "bad_choice", value=part.strip())
            return None
        found.add(tag)
    return frozenset(found)


def _failed(check: _Checker, row: int) -> bool:
    return any(error.row == row for error in check.errors)


@dataclass(frozen=True)
class PersonEntry:
    row: int
    name: str  # kept only in the spreadsheet of links handed back, never stored
    role: Role
    region_code: str | None
    institution_code: str | None
    valid_until: date | None


def check_people(
    rows: Sequence[Cells],
    *,
    roles: Mapping[str, str],
    regions: set[str],
    counties: set[str],
    institutions: Mapping[str, str],
    today: date,
) -> tuple[list[PersonEntry], list[RowError]]:
    """`institutions`: code → region code of the institutions people may be invited for. A row the same as an
    earlier one (name, role and place) is an error: imported, one person would get two live links."""
    check, entries = _Checker(ImportKind.PEOPLE), []
    people: dict[str, int] = {}
    for cell in rows:
        check.start(cell)
        name, chosen = check.text("name"), check.choice("role", roles)
        role = None if chosen is None else Role(chosen)
        region = check.region("region_code", regions)
        institution = check.text("institution_code")
        if role is Role.HEAD and institution is None:
            check.fail("institution_code", "required")
        if institution is not None and institution not in institutions:
            check.fail("institution_code", "unknown_institution", value=institution)
        elif institution is not None and region is not None and _apart(region, institutions[institution]):
            # The invitation is for the institution; a region that contradicts it was ignored without a word.
            check.fail("region_code", "region_not_institutions", value=region, institution=institution,
                       expected=institutions[institution])
        if name is not None and role is not None:
            check.once("name", f"{normalise(name)} {role.value} {region or ''} {institution or ''}", people,
                       code="duplicate_person", value=name)
        if role in (Role.COUNTY, Role.CADRE) and region is None and "region_code" not in _failed_keys(check):
            check.fail("region_code", "required")
        if role is Role.COUNTY and region is not None and region not in counties:
            check.fail("region_code", "county_needed", value=region)
        until = _date(check, "valid_until", today)
        if name and role and not _failed(check, cell.row):
            entries.append(PersonEntry(cell.row, name, role, region, institution, until))
    return entries, check.errors


def _apart(region: str, other: str) -> bool:
    """Neither area holds the other: a county and one of its townships agree, two counties do not."""
    return not region_in_scope(region, other) and not region_in_scope(other, region)


def _failed_keys(check: _Checker) -> set[str]:
    return {error.column for error in check.errors if error.row == check.row}


def _date(check: _Checker, key: str, today: date) -> date | None:
    value = check.text(key)
    if value is None:
        return None
    day = parse_day(value, with_time=True)
    if day is None:
        check.fail(key, "bad_date", value=value)
        return None
    if day < today:
        check.fail(key, "date_past", value=value)
    elif (day - today).days > MAX_INVITE_DAYS:
        check.fail(key, "date_too_far", value=value, max=MAX_INVITE_DAYS)
    return day


@dataclass(frozen=True)
class VulnerableEntry:
    row: int
    code: str
    category: str
    region_code: str
    cadre_id: int | None


def check_vulnerable(
    rows: Sequence[Cells], *, categories: Mapping[str, str], counties: set[str], scope_prefix: str | None
) -> tuple[list[VulnerableEntry], list[RowError]]:
    """Villages (12 digits) lie below the regions the bot keeps, so a region is checked by its county; county
    staff (`scope_prefix`) may only register people of their own county."""
    check, entries = _Checker(ImportKind.VULNERABLE), []
    codes: dict[str, int] = {}
    for cell in rows:
        check.start(cell)
        code, category = check.text("code"), check.choice("category", categories)
        check.once("code", code, codes)
        region = check.region("region_code")
        if region is not None and region[:6] not in counties:
            check.fail("region_code", "unknown_county", value=region)
        elif region is not None and scope_prefix is not None and not region.startswith(scope_prefix):
            check.fail("region_code", "out_of_scope", value=region)
        cadre_text, cadre = check.text("cadre_id"), None
        if cadre_text is not None:
            if cadre_text.isdigit():
                cadre = int(cadre_text)
            else:
                check.fail("cadre_id", "bad_number", value=cadre_text)
        if code and category and region and not _failed(check, cell.row):
            entries.append(VulnerableEntry(cell.row, code, category, region, cadre))
    return entries, check.errors
