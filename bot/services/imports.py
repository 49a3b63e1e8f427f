"""Bulk import from a spreadsheet (XLSX or CSV): institutions, people to invite, and the registry of scattered
vulnerable people. The command line (`safety-bot import`) and the bot (a document sent by an admin) both call this.

All or nothing: every row is checked first (bot/domain/imports.py), then the whole file is applied in one
transaction, and a refusal from the service that owns a record (an invitation out of scope, a code that looks like
an ID number) rolls everything back too. Errors come back by row and column; nothing is half-imported.

Headers and choices are accepted in every language the bot speaks (机构类型 or type; 养老机构 or elderly_care), so a
template downloaded in Chinese and one in English both import.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.imports import (
    FIELDS,
    Cells,
    ImportKind,
    InstitutionEntry,
    PersonEntry,
    RowError,
    VulnerableEntry,
    cells,
    check_institutions,
    check_people,
    check_vulnerable,
    map_headers,
    normalise,
)
from bot.domain.roles import STAFF_ROLES, Role, significant_prefix
from bot.domain.stats import local_midnight
from bot.i18n import LANGUAGES, Translator
from bot.services.errors import Refusal
from bot.services.exports import Words
from bot.services.onboarding import OnboardingService, deep_link
from bot.services.spreadsheets import Column, CsvTable, Kind, Table, open_csv, write_xlsx
from bot.services.warnings import WarningService
from storage import Storage
from storage.models import InstitutionType, NewInstitution, RiskTag, User
from storage.warning_models import NewVulnerablePerson, VulnerableCategory

# The command line acts for the whole city, as `safety-bot invite` does; register_person wants a person.
COMMAND_LINE = User(
    telegram_id=0, full_name="command line", role=Role.CITY, created_at=datetime(2024, 1, 1, tzinfo=UTC)
)
E = TypeVar("E", InstitutionEntry, PersonEntry, VulnerableEntry)


@dataclass(frozen=True)
class Invitation:
    row: int
    name: str
    role: Role
    place: str  # region or institution code
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class ImportResult:
    kind: ImportKind
    errors: tuple[RowError, ...]
    rows: int  # rows applied (0 when there are errors)
    added: int  # of which new records
    invitations: tuple[Invitation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def _vocabulary(prefix: str, values: Iterable[str]) -> dict[str, str]:
    """The words a sheet may use for each value, in every language: the value, its label, and the other names people
    commonly write for it (`insight.import.also.<label key>`, separated by "|": 村干部 or 社区干部 for 社区/村干部,
    县级 for 县级民政工作人员), none of which may name another value. Made for each import, not when this module
    loads: reading both catalogs then was a tenth of a second on every start of the command line."""
    found: dict[str, str] = {}
    values = list(values)
    translators = [Translator(language) for language in LANGUAGES]
    for value in values:
        found[normalise(value)] = value
        for t in translators:
            found[normalise(t.plain(f"{prefix}{value}"))] = value
    for value in values:
        for t in translators:
            key = f"insight.import.also.{prefix}{value}"
            words = t.plain(key)
            for word in [] if words == key else words.split("|"):
                found.setdefault(normalise(word), value)  # a label of another value wins over a synonym
    return found


# The columns that take one of a list of values: the catalog prefix of their labels, and the values.
CHOICES: Mapping[tuple[ImportKind, str], tuple[str, tuple[str, ...]]] = {
    (ImportKind.INSTITUTIONS, "type"): ("insight.type.", tuple(kind.value for kind in InstitutionType)),
    (ImportKind.INSTITUTIONS, "risk_tags"): ("insight.risk.", tuple(tag.value for tag in RiskTag)),
    (ImportKind.PEOPLE, "role"): ("role.", tuple(role.value for role in Role)),
    (ImportKind.VULNERABLE, "category"): ("insight.category.", tuple(c.value for c in VulnerableCategory)),
}


def choices(kind: ImportKind, key: str) -> dict[str, str]:
    prefix, values = CHOICES[(kind, key)]
    return _vocabulary(prefix, values)


def allowed_labels(kind: ImportKind, key: str, words: Words) -> list[str]:
    """What a choice column takes, as the notes sheet names it, for an error that says what to write instead."""
    found = CHOICES.get((kind, key))
    return [] if found is None else [words.plain(f"{found[0]}{value}") for value in found[1]]


def header_aliases(kind: ImportKind) -> dict[str, str]:
    return _vocabulary(f"insight.import.col.{kind.value}.", [spec.key for spec in FIELDS[kind]])


class ImportService:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        tz: ZoneInfo,
        onboarding: OnboardingService,
        invite_ttl: timedelta,
        warnings: WarningService | None = None,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._tz = tz
        self._onboarding = onboarding
        self._invite_ttl = invite_ttl
        self._warnings = warnings or WarningService(storage, clock)

    def allowed(self, actor: User | None, kind: ImportKind) -> bool:
        """The command line may import anything; in the bot, city admins anything, county staff their county's
        vulnerable-people registry."""
        if actor is None:
            return True
        if not actor.active or actor.role not in STAFF_ROLES:
            return False
        return actor.role is Role.CITY or (kind is ImportKind.VULNERABLE and actor.region_code is not None)

    async def run(self, actor: User | None, kind: ImportKind, table: Table) -> ImportResult:
        if not self.allowed(actor, kind):
            raise Refusal("import_not_allowed")
        mapping, errors = map_headers(kind, table.headers, header_aliases(kind))
        if errors:
            return ImportResult(kind, tuple(errors), 0, 0)
        rows = cells(table.rows, mapping)
        if not rows:
            return ImportResult(kind, (RowError(2, "", "no_rows"),), 0, 0)
        if kind is ImportKind.INSTITUTIONS:
            return await self._institutions(actor, rows)
        if kind is ImportKind.PEOPLE:
            return await self._people(actor, rows)
        return await self._vulnerable(actor, rows)

    async def _institutions(self, actor: User | None, rows: list[Cells]) -> ImportResult:
        known = await self._storage.institutions.in_scope(None, active_only=False)
        regions = {r.code for r in await self._storage.regions.all()}
        entries, errors = check_institutions(
            rows,
            types=choices(ImportKind.INSTITUTIONS, "type"),
            risk_tags=choices(ImportKind.INSTITUTIONS, "risk_tags"),
            regions=regions,
            existing={(i.region_code, i.name_zh): i.code for i in known},
        )
        codes = {i.code for i in known}

        async def apply(entry: InstitutionEntry) -> bool:
            await self._storage.institutions.upsert(
                NewInstitution(
                    code=entry.code,
                    name_zh=entry.name_zh,
                    name_en=entry.name_en,
                    type=InstitutionType(entry.type),
                    region_code=entry.region_code,
                    risk_tags=frozenset(RiskTag(tag) for tag in entry.risk_tags),
                    address=entry.address,
                    # Its duties are judged from today; kept as it was when the institution exists already.
                    tracked_from=self._today(),
                )
            )
            return entry.code not in codes

        return await self._apply(actor, ImportKind.INSTITUTIONS, entries, errors, apply)

    async def _people(self, actor: User | None, rows: list[Cells]) -> ImportResult:
        regions = await self._storage.regions.all()
        institutions = await self._storage.institutions.in_scope(None)
        entries, errors = check_people(
            rows,
            roles=choices(ImportKind.PEOPLE, "role"),
            regions={r.code for r in regions},
            counties={r.code for r in regions if r.level.value == "county"},
            institutions={i.code: i.region_code for i in institutions},
            today=self._today(),
        )
        invitations: list[Invitation] = []

        async def apply(entry: PersonEntry) -> bool:
            onboarding = self._onboarding
            if entry.valid_until is not None:
                # Valid to the end of the chosen local day: a service of the same rules with that lifetime.
                ttl = local_midnight(entry.valid_until + timedelta(days=1), self._tz) - self._clock.now()
                onboarding = OnboardingService(self._storage, self._clock, ttl)
            invite = await onboarding.create_invite(
                creator=actor, role=entry.role, region_code=entry.region_code, institution_code=entry.institution_code
            )
            place = entry.institution_code or entry.region_code or ""
            invitations.append(Invitation(entry.row, entry.name, entry.role, place, invite.token, invite.expires_at))
            return True

        result = await self._apply(actor, ImportKind.PEOPLE, entries, errors, apply)
        return result if not result.ok else ImportResult(result.kind, (), result.rows, result.added, tuple(invitations))

    async def _vulnerable(self, actor: User | None, rows: list[Cells]) -> ImportResult:
        counties = {r.code for r in await self._storage.regions.counties()}
        scope = None if actor is None or actor.role is Role.CITY else actor.region_code
        entries, errors = check_vulnerable(
            rows,
            categories=choices(ImportKind.VULNERABLE, "category"),
            counties=counties,
            scope_prefix=None if scope is None else significant_prefix(scope),
        )

        async def apply(entry: VulnerableEntry) -> bool:
            existed = await self._storage.contacts.person_by_code(entry.code) is not None
            person = NewVulnerablePerson(
                code=entry.code,
                category=VulnerableCategory(entry.category),
                region_code=entry.region_code,
                cadre_id=entry.cadre_id,
            )
            await self._warnings.register_person(actor or COMMAND_LINE, person)
            return not existed

        return await self._apply(actor, ImportKind.VULNERABLE, entries, errors, apply)

    async def _apply(
        self,
        actor: User | None,
        kind: ImportKind,
        entries: Sequence[E],
        errors: Sequence[RowError],
        apply: Callable[[E], Awaitable[bool]],
    ) -> ImportResult:
        """Apply every entry in one transaction; any error, found before or during, leaves the database as it was."""
        if errors:
            return ImportResult(kind, tuple(errors), 0, 0)
        problems: list[RowError] = []
        added = 0
        try:
            async with self._storage.db.transaction():
                for entry in entries:
                    try:
                        added += int(await apply(entry))
                    except Refusal as refusal:
                        problems.append(RowError(entry.row, "", refusal.code, dict(refusal.params), refusal=True))
                if problems:
                    raise _Rollback
                await self._storage.audit.append(
                    None if actor is None else actor.telegram_id,
                    f"import.{kind.value}",
                    detail={"rows": len(entries), "added": added},
                )
        except _Rollback:
            return ImportResult(kind, tuple(problems), 0, 0)
        return ImportResult(kind, (), len(entries), added)

    def _today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    # ---- files -------------------------------------------------------------------------------------------

    def template(self, kind: ImportKind, words: Words, path: Path) -> None:
        write_template(kind, words, path, self._tz)

    def invitations_file(
        self, invitations: Iterable[Invitation], bot_username: str, words: Words, path: Path
    ) -> None:
        columns = [
            Column(words.plain(f"insight.invites.{key}"), width, kind)
            for key, width, kind in (
                ("row", 6, Kind.NUMBER), ("name", 14, Kind.TEXT), ("role", 14, Kind.TEXT), ("place", 22, Kind.TEXT),
                ("link", 60, Kind.TEXT), ("expires", 17, Kind.DATETIME),
            )
        ]
        rows = [
            (i.row, i.name, words.plain(f"role.{i.role.value}"), i.place, deep_link(bot_username, i.token),
             i.expires_at)
            for i in invitations
        ]
        if path.suffix.lower() == ".csv":  # the command line's --out links.csv: a CSV, not an XLSX under that name
            with open_csv(path) as stream:
                CsvTable(stream, columns, self._tz).write(rows)
            return
        write_xlsx(path, self._tz, [(words.plain("insight.invites.sheet"), columns, rows)])


def write_template(kind: ImportKind, words: Words, path: Path, tz: ZoneInfo) -> None:
    """An empty sheet with the headers, and a second sheet saying what each column takes: what /template sends and
    `safety-bot template` writes."""
    prefix = f"insight.import.col.{kind.value}."
    headers = [Column(words.plain(prefix + spec.key), 22) for spec in FIELDS[kind]]
    notes = [
        (words.plain(prefix + spec.key), words.plain("insight.yes" if spec.required else "insight.no"),
         words.plain(f"insight.import.help.{kind.value}.{spec.key}"))
        for spec in FIELDS[kind]
    ]
    note_columns = [Column(words.plain(f"insight.import.notes.{key}"), w) for key, w in
                    (("column", 22), ("required", 10), ("takes", 70))]
    write_xlsx(path, tz, [
        (words.plain(f"insight.import.kind.{kind.value}"), headers, []),
        (words.plain("insight.import.notes.sheet"), note_columns, notes),
    ])


def column_header(kind: ImportKind, key: str, words: Words, headers: Mapping[str, str] | None = None) -> str:
    """How to name a column in an error: as the file did, or as the template does."""
    if headers and key in headers:
        return headers[key]
    if key in {spec.key for spec in FIELDS[kind]}:
        return words.plain(f"insight.import.col.{kind.value}.{key}")
    return key
