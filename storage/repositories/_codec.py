"""How values cross the SQLite boundary: times as fixed-width UTC ISO-8601 text, JSON as text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any


def to_db_time(value: datetime) -> str:
    # Naive datetimes are refused rather than guessed at: Asia/Shanghai and UTC differ by eight hours.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to store a naive datetime: {value!r}")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def to_db_time_or_none(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def from_db_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_db_time_or_none(text: str | None) -> datetime | None:
    return None if text is None else from_db_time(text)


def marks(values: Iterable[object]) -> str:
    """The placeholders of an IN (…) list of these values: "?, ?, ?"."""
    return ", ".join("?" for _ in values)


def prefix_glob(prefix: str) -> str:
    """A GLOB pattern matching strings that start with `prefix`; GLOB, unlike LIKE, can use a plain index."""
    escaped = "".join(f"[{char}]" if char in "*?[" else char for char in prefix)
    return f"{escaped}*"


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> Any:
    # Audit details are written once and read by people, so common Python values become their text form.
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable: {value!r}")
