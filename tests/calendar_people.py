"""A fixed moment and a few helpers for the calendar journey tests, on top of the hazard journeys' cast."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.stage import Stage

TZ = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def sent_by_bot(stage: Stage, chat_id: int) -> int:
    """sendMessage calls to one chat, successful or not."""
    return sum(1 for call in stage.sandbox.calls_to("sendMessage") if str(call.params.get("chat_id")) == str(chat_id))


def edits_in(stage: Stage, chat_id: int) -> int:
    return sum(
        1 for call in stage.sandbox.calls_to("editMessageText") if str(call.params.get("chat_id")) == str(chat_id)
    )


def not_modified_errors(stage: Stage) -> list[str]:
    return [
        call.description or ""
        for call in stage.sandbox.calls
        if call.ok is False and "not modified" in (call.description or "")
    ]


async def institution_id(stage: Stage, code: str) -> int:
    institution = await stage.services.storage.institutions.get_by_code(code)
    assert institution is not None
    return institution.id
