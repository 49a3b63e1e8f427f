"""`safety-bot audit`: the audit trail for the security officer, readable without sqlite3: who (by name, role and
id, or the server's command line and its OS user, or the bot itself), did what, to what, when (in the city's
zone), on the terminal or into an XLSX or CSV file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import Translator
from bot.services import audit_trail
from storage import Storage

COMMANDS = ("audit",)
EXIT_FAILED = 1


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser(
        "audit", help="read the audit trail: who did what, when (or write it to an .xlsx or .csv file)",
        description="Every audit entry, oldest first: time in the city's zone, who (name, role, Telegram id; "
                    "cli:<os user> for the server's command line; the bot for its own jobs), action, target, details.",
    )
    audit.add_argument("--since", metavar="DAY", help="from this day on (YYYY-MM-DD, the city's time)")
    audit.add_argument("--until", metavar="DAY", help="up to and including this day (YYYY-MM-DD)")
    audit.add_argument("--person", type=int, metavar="TELEGRAM_ID",
                       help="only what this person did, or what was done to them")
    audit.add_argument("--out", type=Path, metavar="FILE", help="write an .xlsx or .csv file instead of printing")


def main(arguments: argparse.Namespace, settings: Settings) -> int:
    t = Translator(settings.default_language)
    days: list[date | None] = []
    for value in (arguments.since, arguments.until):
        try:
            days.append(None if value is None else date.fromisoformat(value))
        except ValueError:
            print(t.plain("audit.bad_day", value=value), file=sys.stderr)
            return EXIT_FAILED
    since, until = days
    if since is not None and until is not None and since > until:
        print(t.plain("audit.bad_range", since=since, until=until), file=sys.stderr)
        return EXIT_FAILED
    out: Path | None = arguments.out
    if out is not None and out.suffix.lower() not in audit_trail.FORMATS:
        print(t.plain("audit.out_format", file=str(out)), file=sys.stderr)
        return EXIT_FAILED
    return asyncio.run(_audit(settings, t, since, until, arguments.person, out))


async def _audit(settings: Settings, t: Translator, since: date | None, until: date | None, person: int | None,
                 out: Path | None) -> int:
    tz = settings.tz
    start = None if since is None else datetime.combine(since, time(), tz)
    end = None if until is None else datetime.combine(until + timedelta(days=1), time(), tz)
    storage = await Storage.open(settings.database_path, SystemClock())
    try:
        # Reading the trail is not written into it: it changes nothing, and whoever can run this reads the database.
        rows = await audit_trail.readable(storage, await storage.audit.trail(start, end, person), t)
    finally:
        await storage.close()
    if out is not None:
        audit_trail.write(rows, out, t, tz)
        print(t.plain("audit.written", file=str(out), count=len(rows)))
        return 0
    print("\t".join(column.header for column in audit_trail.columns(t)))
    for row in rows:
        print(audit_trail.line(row, tz))
    print(t.plain("audit.count", count=len(rows)), file=sys.stderr)
    return 0
