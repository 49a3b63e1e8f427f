"""One aiosqlite connection shared by the whole bot, with transactions that other coroutines cannot enter.

Each statement is one hand-over to aiosqlite's worker thread: the statement and its fetch run there together
(`_in_worker`). aiosqlite's public calls would take three for a fetch (execute, fetch, close), and the bot's
statements (point reads and small writes of tens of microseconds; WAL, synchronous=NORMAL) cost less than the
hand-overs: under the throughput benchmark they were about a fifth of the bot's time. The statements stay off the
event loop's thread, so a long one (an export over the whole city) or a wait for another process's write lock (the
command line beside the running bot, up to BUSY_TIMEOUT_MS) never holds up the network.

Every coroutine of the bot talks to SQLite through the same connection, so a transaction is a property of
the connection, not of the coroutine that opened it. The asyncio lock makes each transaction exclusive: while
one is open, every other coroutine's statement waits for it, instead of silently becoming part of it (and
being rolled back with it) or reading its uncommitted rows. Statements issued by the transaction's own
coroutine, or by tasks it spawned, run at once; a context variable tells the two apart.

Do not await the network inside a transaction: everybody else's database access waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from bot.clock import Clock, SystemClock
from storage.migrations import apply_migrations

Params = Sequence[Any] | Mapping[str, Any]

# Long enough for another process (the CLI beside the running bot) to finish a write, short enough to surface
# a stuck lock as an error rather than a hang.
BUSY_TIMEOUT_MS = 5000
# How often a running bot's checkpointer moves the write-ahead log into the database file (start_checkpointer).
CHECKPOINT_EVERY_SECONDS = 5.0

log = logging.getLogger(__name__)

# A write the database refuses (another process holding the write lock past BUSY_TIMEOUT_MS, a full disk) is tried
# again after this, doubling up to the most, this many times: about a minute in all (`patiently`).
REFUSED_RETRY_FIRST, REFUSED_RETRY_MAX, REFUSED_RETRIES = 0.5, 30.0, 7

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
    def __init__(self, connection: aiosqlite.Connection, path: Path, schema_version: int) -> None:
        self._conn = connection
        self._lock = asyncio.Lock()
        self._checkpointer: asyncio.Task[None] | None = None
        self._checkpoints = 0
        self._checkpoint_passed = asyncio.Event()
        self.path = path
        self.schema_version = schema_version

    @classmethod
    async def open(
        cls, path: Path | str, *, clock: Clock | None = None, migrate_to: int | None = None
    ) -> Database:
        """Open (creating if needed) and migrate; `migrate_to` stops at an earlier version, for tests."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the sqlite3 module must not open transactions behind our back; we say BEGIN.
        pending = aiosqlite.connect(path, isolation_level=None)
        try:
            connection = await pending
        except sqlite3.Error:
            # A path SQLite cannot open: aiosqlite stops its worker thread without waiting for it, and the thread's
            # last word to an event loop that has closed meanwhile was a traceback after the command's own message.
            await asyncio.to_thread(pending._thread.join, 5)
            raise
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL cannot corrupt the database; a power cut may lose only the last commits.
            await connection.execute("PRAGMA synchronous = NORMAL")
            version = await apply_migrations(connection, clock or SystemClock(), target=migrate_to)
            await connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await connection.close()
            raise
        return cls(connection, path, version)

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        async with self._lock:
            await self._conn.close()

    @property
    def checkpointing(self) -> bool:
        return self._checkpointer is not None

    async def checkpoints_passed(self, count: int) -> None:
        """Until the checkpointer has passed `count` more times: what a test waits on, rather than a timer that a
        loaded machine may not honour."""
        target = self._checkpoints + count
        while self._checkpoints < target:
            self._checkpoint_passed.clear()
            await self._checkpoint_passed.wait()

    async def start_checkpointer(self, every: float = CHECKPOINT_EVERY_SECONDS) -> None:
        """Checkpoint the write-ahead log from a connection of its own every `every` seconds, rather than inside
        whichever statement of the bot's one connection takes the log past SQLite's thousand pages. That checkpoint
        (copying the pages, then a sync to disk) held up every statement queued behind it: the wall time of the
        longest reminder sweeps at city scale, 5 to 10 ms past their CPU time. A passive checkpoint neither waits
        for a writer nor blocks one. For a long-running bot (`close` stops it); anything else keeps SQLite's own."""
        if self._checkpointer is not None or str(self.path) == ":memory:":
            return
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await self.execute("PRAGMA wal_autocheckpoint = 0")
        self._checkpointer = asyncio.create_task(self._checkpoint_forever(connection, every), name="wal-checkpoints")

    async def _checkpoint_forever(self, connection: aiosqlite.Connection, every: float) -> None:
        try:
            while True:
                await asyncio.sleep(every)
                try:
                    await connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self._checkpoints += 1
                    self._checkpoint_passed.set()
                except sqlite3.Error:
                    log.warning("checkpointing the write-ahead log failed; trying again in %s s", every, exc_info=True)
        finally:
            await connection.close()

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

    async def _in_worker(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on aiosqlite's worker thread, in one hand-over. `_execute` is how aiosqlite's own one-call
        helpers (execute_fetchall, execute_insert) reach that thread; tests/storage pin it down."""
        hand_over = cast(Callable[..., Awaitable[T]], self._conn._execute)
        return await hand_over(work, self._conn._conn)

    async def _statement(self, sql: str) -> None:
        await self._in_worker(lambda raw: raw.execute(sql).close())

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
            await self._statement("BEGIN IMMEDIATE")
            transaction = _Transaction(self)
            token = _open_transactions.set((*_open_transactions.get(), transaction))
            try:
                yield
                await self._statement("COMMIT")
            except BaseException:
                # A failed COMMIT (deferred foreign key) leaves the transaction open; some errors end it.
                if self._conn.in_transaction:
                    await self._statement("ROLLBACK")
                raise
            finally:
                transaction.open = False
                _open_transactions.reset(token)

    @asynccontextmanager
    async def _savepoint(self, transaction: _Transaction) -> AsyncIterator[None]:
        transaction.savepoints += 1
        name = f"sp_{transaction.savepoints}"
        await self._statement(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self._statement(f"ROLLBACK TO {name}")
            await self._statement(f"RELEASE {name}")
            raise
        await self._statement(f"RELEASE {name}")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the last inserted rowid (0 if none)."""

        def work(raw: sqlite3.Connection) -> int:
            cursor = raw.execute(sql, params)
            try:
                return cursor.lastrowid or 0
            finally:
                cursor.close()

        async with self._access():
            return await self._in_worker(work)

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""

        def work(raw: sqlite3.Connection) -> int:
            cursor = raw.execute(sql, params)
            try:
                return cursor.rowcount
            finally:
                cursor.close()

        async with self._access():
            return await self._in_worker(work)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._access():
            await self._in_worker(lambda raw: raw.executemany(sql, rows).close())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        def work(raw: sqlite3.Connection) -> sqlite3.Row | None:
            cursor = raw.execute(sql, params)
            try:
                row: sqlite3.Row | None = cursor.fetchone()
                return row
            finally:
                cursor.close()

        async with self._access():
            return await self._in_worker(work)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        def work(raw: sqlite3.Connection) -> list[sqlite3.Row]:
            cursor = raw.execute(sql, params)
            try:
                return list(cursor.fetchall())
            finally:
                cursor.close()

        async with self._access():
            return await self._in_worker(work)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


def refused_pause(attempt: int) -> float:
    """How long to wait before trying again after the `attempt`-th refusal in a row (0 for the first)."""
    return min(REFUSED_RETRY_MAX, REFUSED_RETRY_FIRST * 2.0**attempt)


async def patiently(what: str, write: Callable[[], Awaitable[T]], logger: logging.Logger) -> T:
    """`write`, tried again while the database refuses it, for writes that cannot simply be left to the next
    change: each retry is logged by `logger` naming `what`; after the last, the refusal is raised."""
    for attempt in range(REFUSED_RETRIES):
        try:
            result = await write()
        except sqlite3.OperationalError as refused:
            pause = refused_pause(attempt)
            logger.warning("%s not saved (%s); trying again in %.1f s", what, refused, pause)
            await asyncio.sleep(pause)
        else:
            if attempt:
                logger.info("%s saved at try %d", what, attempt + 1)
            return result
    try:
        return await write()
    except sqlite3.OperationalError as refused:
        logger.error("%s not saved after %d tries (%s)", what, REFUSED_RETRIES + 1, refused)
        raise
