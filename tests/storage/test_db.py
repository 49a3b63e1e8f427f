from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot.clock import FakeClock
from storage import Database, Storage
from storage.migrations import MIGRATIONS_DIR, MigrationError, apply_migrations, load_migrations, schema_version

LATEST = len(load_migrations())


async def test_open_creates_folders_and_sets_pragmas(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        assert await asyncio.to_thread(db_path.exists)
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA synchronous") == 1  # NORMAL
    finally:
        await db.close()


async def test_a_write_waits_for_another_process_without_stopping_the_bot(storage: Storage) -> None:
    other = sqlite3.connect(storage.db.path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # the command line beside the bot, in the middle of a write
        writing = asyncio.create_task(storage.audit.append(1, "while.locked"))
        # The event loop goes on meanwhile (it is what lets the other process finish here); waiting for the lock on
        # the loop's own thread would have failed the write after the busy timeout with nothing able to release it.
        await asyncio.sleep(0.05)
        other.execute("COMMIT")
        await writing
    finally:
        other.close()
    assert [event.action for event in await storage.audit.list()] == ["while.locked"]


async def test_migrates_an_empty_database_to_the_newest_version(db_path: Path, clock: FakeClock) -> None:
    db = await Database.open(db_path, clock=clock)
    try:
        assert db.schema_version == LATEST >= 1
        rows = await db.fetchall("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == list(range(1, LATEST + 1))
        assert rows[0]["applied_at"] == "2026-03-01T01:00:00.000000+00:00"
    finally:
        await db.close()


@pytest.mark.parametrize("version", range(LATEST))
async def test_migrates_from_every_earlier_version(db_path: Path, version: int) -> None:
    old = await Database.open(db_path, migrate_to=version)
    assert old.schema_version == version
    if version >= 1:
        # Data written under an old schema must survive every later migration.
        await old.execute(
            "INSERT INTO regions (code, name_zh, name_en, level) VALUES ('330300', '温州市', 'Wenzhou', 'city')"
        )
    await old.close()

    storage = await Storage.open(db_path, FakeClock())
    try:
        assert storage.db.schema_version == LATEST
        if version >= 1:
            city = await storage.regions.city()
            assert city is not None and city.code == "330300"
    finally:
        await storage.close()


async def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path, clock: FakeClock) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    shutil.copy(MIGRATIONS_DIR / "0001_initial.sql", directory)
    (directory / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    async with aiosqlite.connect(tmp_path / "x.db", isolation_level=None) as connection:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await apply_migrations(connection, clock, directory=directory)
        assert await schema_version(connection) == 1
        async with connection.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'") as cursor:
            assert await cursor.fetchone() is None


async def test_refuses_a_database_newer_than_the_code(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.execute("INSERT INTO schema_migrations VALUES (?, 'future', '2030-01-01T00:00:00.000000+00:00')",
                     (LATEST + 1,))
    await db.close()
    with pytest.raises(MigrationError, match="newer"):
        await Database.open(db_path)


def test_migration_files_must_not_manage_transactions(tmp_path: Path) -> None:
    (tmp_path / "0001_bad.sql").write_text("BEGIN;\nCREATE TABLE t (a);\nCOMMIT;\n")
    with pytest.raises(MigrationError, match="transaction"):
        load_migrations(tmp_path)


async def test_foreign_keys_are_enforced(storage: Storage) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await storage.db.execute(
            "INSERT INTO institutions (code, name_zh, name_en, type, region_code) "
            "VALUES ('x', 'x', 'x', 'other', '9')"
        )


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log", "DELETE FROM audit_log WHERE id = 1"],
)
async def test_audit_log_is_append_only(storage: Storage, statement: str) -> None:
    await storage.audit.append(1, "user.registered", target="user:1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await storage.db.execute(statement)
    assert [event.action for event in await storage.audit.list()] == ["user.registered"]


async def test_transaction_rolls_back_on_error(storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.db.transaction():
            await storage.audit.append(1, "inside")
            raise RuntimeError("boom")
    assert await storage.audit.list() == []


async def test_nested_transaction_is_a_savepoint(storage: Storage) -> None:
    async with storage.db.transaction():
        await storage.audit.append(1, "outer")
        with pytest.raises(RuntimeError):
            async with storage.db.transaction():
                await storage.audit.append(1, "inner")
                raise RuntimeError("inner fails")
    assert [event.action for event in await storage.audit.list()] == ["outer"]


async def test_other_coroutines_wait_for_an_open_transaction(storage: Storage) -> None:
    inserted = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with storage.db.transaction():
                await storage.audit.append(1, "uncommitted")
                inserted.set()
                await release.wait()
                raise RuntimeError("rolled back")

    async def reader() -> int:
        await inserted.wait()
        return int(await storage.db.fetchval("SELECT COUNT(*) FROM audit_log"))

    async def outsider_write() -> None:
        await inserted.wait()
        await storage.audit.append(2, "committed")

    writing = asyncio.create_task(writer())
    reading = asyncio.create_task(reader())
    other = asyncio.create_task(outsider_write())
    await inserted.wait()
    await asyncio.sleep(0.01)
    # Neither the read nor the other write may run inside the open transaction.
    assert not reading.done() and not other.done()
    release.set()
    await writing
    assert await reading == 0
    await other
    assert [event.action for event in await storage.audit.list()] == ["committed"]


async def test_tasks_spawned_inside_a_transaction_take_part_in_it(storage: Storage) -> None:
    async with storage.db.transaction():
        await asyncio.gather(*(storage.audit.append(n, f"child.{n}") for n in range(3)))
    assert len(await storage.audit.list()) == 3


async def test_transactions_of_two_databases_can_nest(tmp_path: Path) -> None:
    first, second = await Database.open(tmp_path / "a.db"), await Database.open(tmp_path / "b.db")
    try:
        async with first.transaction(), second.transaction():
            await first.execute("INSERT INTO regions (code, name_zh, name_en, level) VALUES ('1', 'a', 'a', 'city')")
            await second.execute("INSERT INTO regions (code, name_zh, name_en, level) VALUES ('2', 'b', 'b', 'city')")
        assert await first.fetchval("SELECT code FROM regions") == "1"
        assert await second.fetchval("SELECT code FROM regions") == "2"
    finally:
        await first.close()
        await second.close()


async def _write_pages(db: Database, batches: int, rows: int) -> None:
    """About `batches` × `rows` pages of writes, a batch at a time with a pause between, as a busy bot writes. With
    a checkpointer running, each pause lasts until it has passed twice (so once wholly after the batch), not for a
    fixed time that a loaded machine may not give it."""
    await db.execute("CREATE TABLE IF NOT EXISTS ballast (id INTEGER PRIMARY KEY, data BLOB)")
    for _ in range(batches):
        async with db.transaction():
            await db.executemany("INSERT INTO ballast (data) VALUES (?)", [(bytes(4000),)] * rows)
        if db.checkpointing:
            async with asyncio.timeout(10):
                await db.checkpoints_passed(2)
        else:
            await asyncio.sleep(0.03)


async def test_the_checkpointer_keeps_the_write_ahead_log_small_without_sqlites_own(db_path: Path) -> None:
    """A running bot checkpoints from a connection of its own, so that no statement of the bot pays for one: the
    log must still be moved into the database and reused, not grow with everything ever written."""
    wal = db_path.with_name(db_path.name + "-wal")
    db = await Database.open(db_path)
    try:
        await db.start_checkpointer(every=0.01)
        assert await db.fetchval("PRAGMA wal_autocheckpoint") == 0
        await _write_pages(db, batches=30, rows=100)  # about 12 MB, 3,000 pages
        checkpointed = (await asyncio.to_thread(wal.stat)).st_size
    finally:
        await db.close()
    unchecked = await Database.open(db_path.with_name("unchecked.db"))
    try:
        await unchecked.execute("PRAGMA wal_autocheckpoint = 0")  # what the bot's connection runs with
        await _write_pages(unchecked, batches=30, rows=100)
        grown = (await asyncio.to_thread(db_path.with_name("unchecked.db-wal").stat)).st_size
    finally:
        await unchecked.close()
    assert grown > 10_000_000 and checkpointed < grown / 4
