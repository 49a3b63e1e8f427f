"""One SQLite connection shared by the whole bot, with transactions that other coroutines cannot enter.

Statements run on the event loop's own thread. The bot's statements are point reads and small writes of tens of
microseconds (WAL, synchronous=NORMAL: a commit does not wait for the disk), and handing each of them to a worker
thread and back, as aiosqlite does (three hand-overs for one fetch), cost more than the statement itself: under
the throughput benchmark the bot spent about a fifth of its time waiting on those hand-overs and fighting the
worker for the GIL. What this gives up is that a long statement (an export over the whole city) now holds up the
network too, not only every other statement, which waited for it before as well on the one connection. Waiting for
another process's write lock (the command line beside the running bot) is the exception: the connection itself never
waits (busy timeout 0), and a statement that finds the lock taken is run again in a worker thread that waits up to
BUSY_TIMEOUT_MS. Migrations still run through aiosqlite when the database opens.

Every coroutine of the bot talks to SQLite through the same connection, so a transaction is a property of
the connection, not of the coroutine that opened it. The asyncio lock makes each transaction exclusive: while
one is open, every other coroutine's statement waits for it, instead of silently becoming part of it (and
being rolled back with it) or reading its uncommitted rows. Statements issued by the transaction's own
coroutine, or by tasks it spawned, run at once; a context variable tells the two apart.

Do not await the network inside a transaction: everybody else's database access waits for it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.clock import Clock, SystemClock
from storage.migrations import apply_migrations

Params = Sequence[Any] | Mapping[str, Any]

# Long enough for another process (the CLI beside the running bot) to finish a write, short enough to surface
# a stuck lock as an error rather than a hang.
BUSY_TIMEOUT_MS = 5000

T = TypeVar("T")


class _Transaction:
    __slots__ = ("db", "open", "savepoints")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.open = True
        self.savepoints = 0


# A tuple, not one transaction, so that a block inside transactions of two databases knows both.
_open_transactions: ContextVar[tuple[_Transaction, ...]] = ContextVar("storage_transactions", default=())


class Database:
    def __init__(self, connection: sqlite3.Connection, path: Path, schema_version: int) -> None:
        self._conn = connection
        self._lock = asyncio.Lock()
        self.path = path
        self.schema_version = schema_version

    @classmethod
    async def open(
        cls, path: Path | str, *, clock: Clock | None = None, migrate_to: int | None = None
    ) -> Database:
        """Open (creating if needed) and migrate; `migrate_to` stops at an earlier version, for tests."""
        path = Path(path)
        if str(path) == ":memory:":
            # Migrations run on a connection of their own, which would have a memory database of its own.
            raise ValueError("Database.open needs a file; use a temporary folder for a throwaway database")
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the sqlite3 module must not open transactions behind our back; we say BEGIN.
        async with aiosqlite.connect(path, isolation_level=None) as migrating:
            await migrating.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await migrating.execute("PRAGMA journal_mode = WAL")
            version = await apply_migrations(migrating, clock or SystemClock(), target=migrate_to)
        # Not tied to this thread: tests and the command line may open a database before their event loop runs.
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            connection.row_factory = sqlite3.Row
            # The event loop's thread never waits for another process's lock; see _run.
            connection.execute("PRAGMA busy_timeout = 0")
            # In WAL mode NORMAL cannot corrupt the database; a power cut may lose only the last commits.
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            connection.close()
            raise
        return cls(connection, path, version)

    async def close(self) -> None:
        async with self._lock:
            self._conn.close()

    def _inside_own_transaction(self) -> _Transaction | None:
        for transaction in _open_transactions.get():
            if transaction.db is self and transaction.open:
                return transaction
        return None

    @asynccontextmanager
    async def _access(self) -> AsyncIterator[None]:
        if self._inside_own_transaction() is not None:
            yield
            return
        async with self._lock:
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK if the block raises. Nested blocks become savepoints."""
        outer = self._inside_own_transaction()
        if outer is not None:
            async with self._savepoint(outer):
                yield
            return
        async with self._lock:
            # IMMEDIATE takes the write lock now, so another process cannot fail us half-way (SQLITE_BUSY).
            await self._run(lambda: self._conn.execute("BEGIN IMMEDIATE").close())
            transaction = _Transaction(self)
            token = _open_transactions.set((*_open_transactions.get(), transaction))
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (deferred foreign key) leaves the transaction open; some errors end it.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                transaction.open = False
                _open_transactions.reset(token)

    @asynccontextmanager
    async def _savepoint(self, transaction: _Transaction) -> AsyncIterator[None]:
        transaction.savepoints += 1
        name = f"sp_{transaction.savepoints}"
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._conn.execute(f"ROLLBACK TO {name}")
            self._conn.execute(f"RELEASE {name}")
            raise
        self._conn.execute(f"RELEASE {name}")

    async def _run(self, work: Callable[[], T]) -> T:
        """`work` at once; if another process holds the write lock, again in a thread that waits for it."""
        changes = self._conn.total_changes
        try:
            return work()
        except sqlite3.OperationalError as error:
            # Run again only what did nothing (executemany outside a transaction may have written some rows).
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or self._conn.total_changes != changes:
                raise
        return await asyncio.to_thread(self._patiently, work)

    def _patiently(self, work: Callable[[], T]) -> T:
        # Nobody else uses the connection meanwhile: the caller holds the lock, or the transaction is its own.
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            return work()
        finally:
            self._conn.execute("PRAGMA busy_timeout = 0")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the last inserted rowid (0 if none)."""

        def work() -> int:
            cursor = self._conn.execute(sql, params)
            try:
                return cursor.lastrowid or 0
            finally:
                cursor.close()

        async with self._access():
            return await self._run(work)

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""

        def work() -> int:
            cursor = self._conn.execute(sql, params)
            try:
                return cursor.rowcount
            finally:
                cursor.close()

        async with self._access():
            return await self._run(work)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        listed = list(rows)  # a generator could not be run twice
        async with self._access():
            await self._run(lambda: self._conn.executemany(sql, listed).close())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        def work() -> sqlite3.Row | None:
            cursor = self._conn.execute(sql, params)
            try:
                row: sqlite3.Row | None = cursor.fetchone()
                return row
            finally:
                cursor.close()

        async with self._access():
            return await self._run(work)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        def work() -> list[sqlite3.Row]:
            cursor = self._conn.execute(sql, params)
            try:
                return list(cursor.fetchall())
            finally:
                cursor.close()

        async with self._access():
            return await self._run(work)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]
