"""One bot per database: `safety-bot run` holds an exclusive lock on a file beside the database while it runs.

Two bots on one database send everything twice, and a restore under a running bot rewinds the database beneath it
(its next hazard took a code it had already given out). The lock is `flock` on `<database>.lock`: the operating
system releases it when the process ends, however it ends (a crash or SIGKILL leaves no stale lock to clear by hand).
The file itself stays; holding it, not its existence, is what counts.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DatabaseInUse(RuntimeError):
    """Another process (a running bot, or a restore) holds the database's lock."""

    def __init__(self, database: Path) -> None:
        super().__init__(str(database))
        self.database = database


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def exclusive(database: Path) -> Iterator[None]:
    """Hold the database's lock for the block, or raise DatabaseInUse at once if another process holds it."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(database) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())  # for the operator who looks: which process holds it
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
