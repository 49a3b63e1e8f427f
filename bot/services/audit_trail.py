"""The audit trail as the security officer reads it: one row an entry, the time in the city's zone, the person by
name, role and id (or the server's command line with its OS user, or the bot itself), the action in words beside its
key, the target, and the details. Written to the terminal, or to an XLSX or CSV file with the exports' writer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.services.spreadsheets import Column, CsvTable, Kind, XlsxBook, open_csv
from storage import Storage
from storage.models import AuditEvent, User
from storage.repositories.audit import OPERATOR

FORMATS = (".xlsx", ".csv")
_Lookup = Callable[[int], Awaitable[User | None]]


@dataclass(frozen=True)
class TrailRow:
    id: int
    at: datetime
    who: str
    role: str
    who_id: str
    action: str
    key: str
    target: str
    detail: str

    def cells(self) -> tuple[object, ...]:
        return (self.id, self.at, self.who, self.role, self.who_id, self.action, self.key, self.target, self.detail)


def columns(t: Translator) -> list[Column]:
    return [
        Column(t.plain("audit.column.id"), 8, Kind.NUMBER), Column(t.plain("audit.column.time"), 18, Kind.DATETIME),
        Column(t.plain("audit.column.who"), 18), Column(t.plain("audit.column.role"), 14),
        Column(t.plain("audit.column.who_id"), 14), Column(t.plain("audit.column.action"), 24),
        Column(t.plain("audit.column.key"), 22), Column(t.plain("audit.column.target"), 26),
        Column(t.plain("audit.column.detail"), 60),
    ]


async def readable(storage: Storage, events: Sequence[AuditEvent], t: Translator) -> list[TrailRow]:
    people: dict[int, User | None] = {}

    async def person(telegram_id: int) -> User | None:
        if telegram_id not in people:
            people[telegram_id] = await storage.users.get(telegram_id)
        return people[telegram_id]

    rows = []
    for event in events:
        detail = {key: value for key, value in event.detail.items() if key != OPERATOR}
        who, role, who_id = await _who(event, person, t)
        rows.append(TrailRow(
            id=event.id, at=event.at, who=who, role=role, who_id=who_id, action=_words(event.action, t),
            key=event.action, target=await _target(event.target, person),
            detail=json.dumps(detail, ensure_ascii=False, separators=(",", ":")) if detail else "",
        ))
    return rows


async def _who(event: AuditEvent, person: _Lookup, t: Translator) -> tuple[str, str, str]:
    if event.actor_id is not None:
        user = await person(event.actor_id)
        if user is None:
            return t.plain("audit.who.unknown"), "—", str(event.actor_id)
        return user.full_name, t.plain(f"role.{user.role.value}"), str(event.actor_id)
    operator = event.detail.get(OPERATOR)
    if isinstance(operator, str):
        words = t.plain("audit.who.operator", user=operator.removeprefix("cli:"))
        return words, t.plain("audit.role.operator"), operator
    return t.plain("audit.who.bot"), "—", "—"


async def _target(target: str | None, person: _Lookup) -> str:
    if target is None:
        return ""
    kind, _, value = target.partition(":")
    if kind == "user" and value.lstrip("-").isdigit():
        user = await person(int(value))
        if user is not None:
            return f"{user.full_name} ({value})"
    return target


def _words(action: str, t: Translator) -> str:
    key = f"audit.action.{action}"
    words = t.plain(key)
    return action if words == key else words


def write(rows: Sequence[TrailRow], path: Path, t: Translator, tz: ZoneInfo) -> None:
    if path.suffix.lower() == ".csv":
        with open_csv(path) as stream:
            CsvTable(stream, columns(t), tz).write(row.cells() for row in rows)
        return
    book = XlsxBook(path, tz)
    book.sheet(t.plain("audit.sheet"), columns(t)).write(row.cells() for row in rows)
    book.save()


def line(row: TrailRow, tz: ZoneInfo) -> str:
    """One entry on one terminal line, tab-separated (what `cut` and `grep` take)."""
    cells = (str(row.id), f"{row.at.astimezone(tz):%Y-%m-%d %H:%M:%S}", row.who, row.role, row.who_id, row.action,
             row.key, row.target, row.detail)
    return "\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in cells)
