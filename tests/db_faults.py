"""Faults injected into the bot's own steps: any step failing its first few times, and the database refusing a
write, as SQLite does while another process holds its write lock past the busy timeout."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from storage import db
from storage.db import Database

T = TypeVar("T")


def failing_first(original: Callable[..., Awaitable[T]], times: int, error: Exception,
                  when: Callable[..., bool] = lambda *args: True) -> Callable[..., Awaitable[T]]:
    """`original`, except that its first `times` calls for which `when(*args)` holds raise `error`: a fault
    injected where no fault is known yet, which then goes away."""
    left = [times]

    async def wrapper(*args: Any, **kwargs: Any) -> T:
        if left[0] and when(*args):
            left[0] -= 1
            raise error
        return await original(*args, **kwargs)

    return wrapper


def refuse_next_own_write(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next statement run on its own (not inside a transaction, where the lock is already held) is refused
    once; retries (`storage.db.patiently`) come at once. Returns the count of refusals left."""
    monkeypatch.setattr(db, "REFUSED_RETRY_FIRST", 0.01)
    left = [1]

    def refusing(write: Any) -> Any:
        async def refused_once(database: Database, sql: str, *args: Any) -> Any:
            if left[0] and database._inside_own_transaction() is None:
                left[0] -= 1
                raise sqlite3.OperationalError("database is locked")
            return await write(database, sql, *args)

        return refused_once

    for name in ("execute", "execute_rowcount"):
        monkeypatch.setattr(Database, name, refusing(getattr(Database, name)))
    return left
