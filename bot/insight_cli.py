"""`safety-bot import`, `safety-bot backup` and `safety-bot restore`: bulk import, and a consistent copy of the
database and the evidence that can be taken while the bot runs, and put back."""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import SystemClock
from bot.config import Settings
from bot.domain.imports import ImportKind
from bot.i18n import Translator
from bot.operator import command_line_operator
from bot.services.import_text import result_text
from bot.services.imports import write_template
from bot.services.spreadsheets import Table, UnreadableFile, read_table
from bot.services_factory import open_services
from storage import Storage
from storage.backup import BackupError, backup_time, is_backup, make_backup, newest_backup, restore_backup

COMMANDS = ("import", "template", "backup", "restore")
EXIT_FAILED = 1


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    importing = commands.add_parser(
        "import", help="import institutions, people to invite, or the vulnerable-people registry from XLSX or CSV",
        description="Check every row, then import the whole file in one transaction, or nothing at all.",
    )
    importing.add_argument("kind", choices=[kind.value for kind in ImportKind])
    importing.add_argument("file", type=Path, help="an .xlsx or .csv file with the template's header row")
    importing.add_argument("--out", type=Path, help="people: where to write the invitation links (.xlsx or .csv)")
    template = commands.add_parser(
        "template", help="write the empty XLSX template of a list to import (what /template sends in the bot)",
        description="An empty sheet with the header row, and a second sheet saying what each column takes.",
    )
    template.add_argument("kind", choices=[kind.value for kind in ImportKind])
    template.add_argument("--out", type=Path, help="the .xlsx file to write (default: ./<kind>-template.xlsx)")
    backup = commands.add_parser(
        "backup", help="copy the database and the evidence folder (safe while the bot runs)",
        description="A consistent copy (SQLite online backup) of DATABASE_PATH and its evidence folder.",
    )
    backup.add_argument("--out", type=Path, default=Path("backups"), help="folder for backups (default: ./backups)")
    restore = commands.add_parser(
        "restore", help="put a backup back in place of DATABASE_PATH",
        description="Restore a folder made by `safety-bot backup`. Refuses while a bot runs on DATABASE_PATH "
                    "(stop it first), and refuses to replace an existing database unless --force is given.",
    )
    restore.add_argument("backup", type=Path,
                         help="a backup folder (safety-backup-…), or the folder given to backup --out: its newest")
    restore.add_argument("--force", action="store_true",
                         help="replace an existing database (never the database of a running bot)")


def main(arguments: argparse.Namespace, settings: Settings) -> int:
    t = Translator(settings.default_language)
    if arguments.command == "import":
        file: Path = arguments.file
        try:
            table = read_table(file.read_bytes(), file.name)
        except (OSError, UnreadableFile) as error:
            code = error.code if isinstance(error, UnreadableFile) else "unreadable"
            print(t.plain("insight.cli.unreadable", file=str(file), reason=t.plain(f"refusal.import_{code}")),
                  file=sys.stderr)
            return EXIT_FAILED
        return asyncio.run(_import(settings, ImportKind(arguments.kind), table, file, arguments.out, t))
    if arguments.command == "template":
        return _template(settings, ImportKind(arguments.kind), arguments.out, t)
    if arguments.command == "backup":
        return _backup(settings, arguments.out, t)
    return _restore(settings, arguments.backup, arguments.force, t)


def _plain(text: str) -> str:
    """Chat HTML as terminal text."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", text))


async def _import(
    settings: Settings, kind: ImportKind, table: Table, file: Path, out: Path | None, t: Translator
) -> int:
    target = out or file.with_name(f"{file.stem}-invitations.xlsx")
    if kind is ImportKind.PEOPLE and target.suffix.lower() not in (".xlsx", ".csv"):
        print(t.plain("insight.cli.links_format", file=str(target)), file=sys.stderr)
        return EXIT_FAILED
    if kind is ImportKind.PEOPLE and not _writable_folder(target.parent):
        # The links exist only in that file: imported without it, running the import again would make new ones.
        print(t.plain("insight.cli.cannot_write", file=str(target)), file=sys.stderr)
        return EXIT_FAILED
    # As the bot builds them: TRACKING_SINCE, its outbox and warnings.
    services = await open_services(settings, operator=command_line_operator())
    try:
        insight = services.insight
        result = await insight.imports.run(None, kind, table)
        print(_plain(result_text(result, table.headers, t, chat=False)))
        if not result.ok:
            return EXIT_FAILED
        if result.invitations:
            username = settings.bot_username or "your_bot"
            insight.imports.invitations_file(result.invitations, username, t, target)
            print(t.plain("insight.cli.invitations", file=str(target)))
    finally:
        await services.close()
    return 0


def _template(settings: Settings, kind: ImportKind, out: Path | None, t: Translator) -> int:
    target = out or Path(f"{kind.value}-template.xlsx")
    if target.suffix.lower() != ".xlsx":
        print(t.plain("insight.cli.template_xlsx_only", file=str(target)), file=sys.stderr)
        return EXIT_FAILED
    if not _writable_folder(target.parent.resolve()):
        print(t.plain("insight.cli.cannot_write_template", file=str(target)), file=sys.stderr)
        return EXIT_FAILED
    write_template(kind, t, target, settings.tz)
    print(t.plain("insight.cli.template_written", kind=t.plain(f"insight.import.kind.{kind.value}"),
                  file=str(target)))
    return 0


def _writable_folder(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


def _backup(settings: Settings, out: Path, t: Translator) -> int:
    try:
        result = make_backup(settings.database_path, settings.evidence_dir, out, datetime.now(UTC))
    except BackupError as error:
        print(t.plain(f"insight.backup.{error.code}", detail=error.detail), file=sys.stderr)
        return EXIT_FAILED
    asyncio.run(_record(settings, "backup.made", result.folder.name, {
        "folder": str(result.folder.resolve()), "schema_version": result.schema_version,
        "evidence_files": result.evidence_files,
    }))
    print(t.plain("insight.backup.done", folder=str(result.folder), version=result.schema_version,
                  files=result.evidence_files, size=result.database_bytes))
    return 0


def _restore(settings: Settings, folder: Path, force: bool, t: Translator) -> int:
    if not is_backup(folder) and (found := newest_backup(folder)) is not None:
        # The folder `backup --out` was given: its newest backup, named, so the operator sees which one is put back.
        folder, count = found
        taken = backup_time(folder)
        print(t.plain("insight.backup.chosen", folder=str(folder), count=count,
                      time=f"{taken.astimezone(settings.tz):%Y-%m-%d %H:%M}" if taken else "—"))
    try:
        result = restore_backup(folder, settings.database_path, settings.evidence_dir, force=force)
    except BackupError as error:
        print(t.plain(f"insight.backup.{error.code}", detail=error.detail), file=sys.stderr)
        return EXIT_FAILED
    # Into the restored database: the trail it brings back ends at the backup's moment, and this entry says why
    # what came after is missing.
    taken = backup_time(folder)
    asyncio.run(_record(settings, "backup.restored", folder.name, {
        "folder": str(folder.resolve()), "taken_at": taken.isoformat() if taken else None,
        "schema_version": result.schema_version, "hazards": result.hazards, "users": result.users,
    }))
    print(t.plain("insight.backup.restored", database=str(result.database), version=result.schema_version,
                  hazards=result.hazards, users=result.users, files=result.evidence_files))
    return 0


async def _record(settings: Settings, action: str, backup: str, detail: dict[str, object]) -> None:
    storage = await Storage.open(settings.database_path, SystemClock())
    storage.audit.operator = command_line_operator()
    try:
        await storage.audit.append(None, action, target=f"backup:{backup}", detail=detail)
    finally:
        await storage.close()
