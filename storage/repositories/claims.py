"""Claims (migration 0015): who holds what until when, each taken or changed by one statement, so two presses
racing (or two processes) cannot both win."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.repositories._codec import from_db_time, to_db_time


@dataclass(frozen=True)
class ClaimRow:
    holder: int
    what: str
    until: datetime
    worker: str | None  # the process at work on it; None once the work is done
    note: str | None


class ClaimRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(self, holder: int, what: str, until: datetime, worker: str | None, now: datetime) -> bool:
        """Claim `what` for `holder` unless a claim on it still stands; whether this call won it."""
        await self._db.execute("DELETE FROM claims WHERE until <= ?", (to_db_time(now),))
        taken = await self._db.execute_rowcount(
            "INSERT INTO claims (holder, what, until, worker) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (holder, what) DO UPDATE SET until = excluded.until, worker = excluded.worker, note = NULL "
            "WHERE claims.until <= ?",
            (holder, what, to_db_time(until), worker, to_db_time(now)),
        )
        return taken == 1

    async def take_over(self, holder: int, what: str, dead: str, until: datetime, worker: str) -> bool:
        """Take a claim from a worker known to be dead; false if anyone changed it in between."""
        taken = await self._db.execute_rowcount(
            "UPDATE claims SET until = ?, worker = ? WHERE holder = ? AND what = ? AND worker = ?",
            (to_db_time(until), worker, holder, what, dead),
        )
        return taken == 1

    async def finish(self, holder: int, what: str, worker: str, until: datetime) -> None:
        """The work is done: the claim stands, held by nobody at work, until `until`."""
        await self._db.execute(
            "UPDATE claims SET until = ?, worker = NULL WHERE holder = ? AND what = ? AND worker = ?",
            (to_db_time(until), holder, what, worker),
        )

    async def release(self, holder: int, what: str, worker: str) -> None:
        await self._db.execute(
            "DELETE FROM claims WHERE holder = ? AND what = ? AND worker = ?", (holder, what, worker)
        )

    async def put(self, holder: int, what: str, until: datetime, note: str | None, now: datetime) -> None:
        """Claim `what` for `holder` until `until` whatever stood before (a fact to remember, not work to do)."""
        await self._db.execute("DELETE FROM claims WHERE until <= ?", (to_db_time(now),))
        await self._db.execute(
            "INSERT INTO claims (holder, what, until, worker, note) VALUES (?, ?, ?, NULL, ?) "
            "ON CONFLICT (holder, what) DO UPDATE SET until = excluded.until, worker = NULL, note = excluded.note",
            (holder, what, to_db_time(until), note),
        )

    async def get(self, holder: int, what: str, now: datetime) -> ClaimRow | None:
        """The claim on `what` that still stands, if any."""
        row = await self._db.fetchone(
            "SELECT holder, what, until, worker, note FROM claims WHERE holder = ? AND what = ? AND until > ?",
            (holder, what, to_db_time(now)),
        )
        if row is None:
            return None
        return ClaimRow(row["holder"], row["what"], from_db_time(row["until"]), row["worker"], row["note"])

    async def standing(self, holder: int, prefix: str, now: datetime) -> list[ClaimRow]:
        """The claims of `holder` on anything starting with `prefix` that still stand."""
        rows = await self._db.fetchall(
            "SELECT holder, what, until, worker, note FROM claims WHERE holder = ? AND substr(what, 1, ?) = ? "
            "AND until > ? ORDER BY what",
            (holder, len(prefix), prefix, to_db_time(now)),
        )
        return [ClaimRow(row["holder"], row["what"], from_db_time(row["until"]), row["worker"], row["note"])
                for row in rows]
