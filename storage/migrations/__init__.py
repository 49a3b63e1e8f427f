"""Numbered SQL migrations (`0001_initial.sql`, `0002_….sql`, …), applied in order when the database opens.

To change the schema, add the next file; never edit one that has shipped, because databases in the field
have already run it. Each file runs in its own transaction and is recorded in `schema_migrations`, so a
failure leaves the database at the previous version. A file must not contain BEGIN/COMMIT. Foreign keys are
switched off while migrating (SQLite's advice for rebuilding a table) and checked before each commit instead.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import aiosqlite

from bot.clock import Clock

MIGRATIONS_DIR = Path(__file__).resolve().parent

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_TRANSACTION_STATEMENT = re.compile(r"^\s*(BEGIN|COMMIT|END|ROLLBACK)\b", re.IGNORECASE)


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNNN_lowercase_words.sql")
        statements = split_statements(path.read_text(encoding="utf-8"), path)
        migrations.append(Migration(int(match.group(1)), match.group(2), statements))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing (found {migration.version:04d})")
    return migrations


def split_statements(script: str, source: Path | str = "<sql>") -> tuple[str, ...]:
    """Statements one by one, because executescript() would commit the transaction we want them to share.

    sqlite3.complete_statement understands triggers (`BEGIN … END;`), strings and comments, so a statement
    ends at the first line where the text so far forms complete SQL. Put each statement on lines of its own.
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if _TRANSACTION_STATEMENT.match(_without_comments(statement)):
                raise MigrationError(
                    f"{source}: migrations run in a transaction of their own; remove {statement!r}"
                )
            statements.append(statement)
            pending = ""
    if _without_comments(pending).strip():
        raise MigrationError(f"{source}: incomplete statement at the end: {pending.strip()[:80]!r}")
    return tuple(statements)


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


async def schema_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def apply_migrations(
    connection: aiosqlite.Connection,
    clock: Clock,
    *,
    target: int | None = None,
    directory: Path = MIGRATIONS_DIR,
) -> int:
    """Bring the database up to `target` (default: the newest file). Returns the version reached."""
    migrations = load_migrations(directory)
    newest = len(migrations)
    target = newest if target is None else target
    if not 0 <= target <= newest:
        raise MigrationError(f"cannot migrate to version {target}; known versions are 0..{newest}")
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = await schema_version(connection)
    if current > newest:
        raise MigrationError(f"database is at schema version {current}, newer than this code ({newest})")
    await connection.execute("PRAGMA foreign_keys = OFF")
    for migration in migrations[current:target]:
        await _apply(connection, migration, clock)
    return await schema_version(connection)


async def _apply(connection: aiosqlite.Connection, migration: Migration, clock: Clock) -> None:
    await connection.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the write lock.
        if await schema_version(connection) >= migration.version:
            await connection.execute("ROLLBACK")
            return
        for statement in migration.statements:
            await connection.execute(statement)
        async with connection.execute("PRAGMA foreign_key_check") as cursor:
            broken = await cursor.fetchall()
        if broken:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} breaks foreign keys: "
                f"{[tuple(row) for row in broken]}"
            )
        applied_at = clock.now().astimezone(UTC).isoformat(timespec="microseconds")
        await connection.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, applied_at),
        )
        await connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            await connection.execute("ROLLBACK")
        raise
