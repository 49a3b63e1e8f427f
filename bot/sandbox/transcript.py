"""Readable rendering of a conversation for terminals and test failure messages."""

from __future__ import annotations

from collections.abc import Iterable

from bot.sandbox.state import TranscriptEntry

_BOT_MARKS = {"edit": "✎", "delete": "✖", "answer": "ⓘ", "alert": "⚠"}
_INDENT = "    "


def buttons_line(rows: list[list[str]]) -> list[str]:
    return ["  ".join(f"[ {label} ]" for label in row) for row in rows if row]


def format_entry(entry: TranscriptEntry) -> str:
    if entry.direction == "in":
        where = f" @ {entry.chat_title}" if entry.chat_title else ""
        head = f"👤 {entry.actor}{where}: "
        body = f"[{entry.text}]" if entry.kind == "press" else entry.text
    else:
        head = f"🤖 {_BOT_MARKS.get(entry.kind, '→')} {entry.actor}: "
        body = entry.text
    lines = body.splitlines() or [""]
    out = [head + lines[0], *(_INDENT + line for line in lines[1:])]
    out.extend(_INDENT + line for line in buttons_line(entry.buttons))
    return "\n".join(out)


def format_transcript(entries: Iterable[TranscriptEntry]) -> str:
    return "\n".join(format_entry(e) for e in entries)
