"""Backup and restore of the database and the photo evidence beside it, safe while the bot runs.

Backup copies the database with SQLite's online backup API in one step: a single read transaction, so the copy is
one consistent moment of the database even while the bot keeps writing (in WAL mode readers never block writers).
Evidence files are content-addressed and never change, so they are copied after the database: every photo the
copied rows name was stored before its row, and is therefore in the copy.

Restore writes the backup into the database with the same API, which takes the write lock and replaces the pages
as one transaction; it refuses to touch an existing database unless forced, and checks the result by opening it.
It never writes under a running bot (force or not): the bot holds the database's run lock (storage/run_lock.py) and
restore takes the same lock for its whole work, so neither can start while the other is at it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.run_lock import DatabaseInUse, exclusive

MANIFEST = "manifest.json"
DATABASE = "safety.db"
EVIDENCE = "evidence"
PREFIX = "safety-backup-"
LOCK_TIMEOUT_S = 5.0


class BackupError(RuntimeError):
    """What went wrong, as a code the command line words: exists, running, in_use, not_a_backup, damaged,
    no_database."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    schema_version: int
    evidence_files: int
    database_bytes: int


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    schema_version: int
    hazards: int
    users: int
    evidence_files: int


def _copy_database(source: Path, target: Path) -> int:
    if not source.is_file():
        raise BackupError("no_database", str(source))
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S) as src:
        dst = sqlite3.connect(target)
        try:
            # pages=-1: everything in one step, inside one read transaction, hence one consistent moment.
            src.backup(dst, pages=-1)
            version = int(dst.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
        finally:
            dst.close()
    return version


def _copy_evidence(source: Path, target: Path) -> int:
    """Copy the files `target` lacks (same name, same bytes: they are named by their sha256); returns how many
    files `target` holds afterwards."""
    count = 0
    if source.is_dir():
        for path in source.rglob("*"):
            if not path.is_file() or path.name.startswith(".tmp-"):
                continue
            destination = target / path.relative_to(source)
            if not destination.exists():
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
            count += 1
    return count


def make_backup(database: Path, evidence: Path, out_dir: Path, now: datetime) -> BackupResult:
    folder = out_dir / f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}"
    folder.mkdir(parents=True)
    copy = folder / DATABASE
    version = _copy_database(database, copy)
    files = _copy_evidence(evidence, folder / EVIDENCE)
    manifest = {"created_at": now.isoformat(), "schema_version": version, "evidence_files": files,
                "source": str(database)}
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return BackupResult(folder, version, files, copy.stat().st_size)


def is_backup(folder: Path) -> bool:
    return (folder / MANIFEST).is_file() and (folder / DATABASE).is_file()


def newest_backup(folder: Path) -> tuple[Path, int] | None:
    """The newest backup directly inside `folder` (the folder `backup --out` was given) and how many it holds; None
    when it holds none. Their names are their UTC times, so the last by name is the newest."""
    if not folder.is_dir():
        return None
    backups = sorted(path for path in folder.glob(f"{PREFIX}*") if path.is_dir() and is_backup(path))
    return (backups[-1], len(backups)) if backups else None


def backup_time(folder: Path) -> datetime | None:
    """When the backup was taken, from its manifest."""
    try:
        return datetime.fromisoformat(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["created_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def restore_backup(folder: Path, database: Path, evidence: Path, *, force: bool = False) -> RestoreResult:
    copy = folder / DATABASE
    if not is_backup(folder):
        raise BackupError("not_a_backup", str(folder))
    try:
        with exclusive(database):
            return _restore_locked(copy, database, evidence, force=force)
    except DatabaseInUse:
        # --force only allows replacing an existing database: a bot running on it would go on from the state it
        # holds in memory and give out again the hazard codes the backup does not know.
        raise BackupError("running", str(database)) from None


def _restore_locked(copy: Path, database: Path, evidence: Path, *, force: bool) -> RestoreResult:
    with sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as check:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise BackupError("damaged", str(verdict))
    if database.exists() and not force:
        raise BackupError("exists", str(database))
    database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as src:
        dst = sqlite3.connect(database, timeout=LOCK_TIMEOUT_S)
        try:
            src.backup(dst, pages=-1)
        except sqlite3.OperationalError as error:
            # Another program (not a bot: that holds the run lock) in the middle of a write.
            raise BackupError("in_use", str(error)) from error
        finally:
            dst.close()
    files = _copy_evidence(copy.parent / EVIDENCE, evidence)
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as opened:
        version = int(opened.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
        hazards = int(opened.execute("SELECT COUNT(*) FROM hazards").fetchone()[0])
        users = int(opened.execute("SELECT COUNT(*) FROM users").fetchone()[0])
    return RestoreResult(database, version, hazards, users, files)


async def backup(database: Path, evidence: Path, out_dir: Path, now: datetime) -> BackupResult:
    """`make_backup` in a worker thread, so that a bot calling it keeps answering meanwhile."""
    return await asyncio.to_thread(make_backup, database, evidence, out_dir, now)


async def restore(folder: Path, database: Path, evidence: Path, *, force: bool = False) -> RestoreResult:
    return await asyncio.to_thread(restore_backup, folder, database, evidence, force=force)
