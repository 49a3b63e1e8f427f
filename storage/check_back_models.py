"""Check-backs (回访, migration 0024): a closed hazard's reporter asked, weeks later, whether the fix held."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.domain.check_backs import CheckBackAnswer


class CheckBackState(StrEnum):
    PENDING = "pending"  # waits for its day
    ASKED = "asked"  # the question is in the outbox (or delivered)
    ANSWERED = "answered"
    SKIPPED = "skipped"  # fell due, and was not to be asked (`skipped_reason`)


class CheckBack(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    hazard_id: int
    closed_event_id: int
    closed_at: datetime
    closed_by: int | None
    reporter_id: int
    due_at: datetime
    state: CheckBackState = CheckBackState.PENDING
    skipped_reason: str | None = None
    asked_at: datetime | None = None
    answer: CheckBackAnswer | None = None
    answered_at: datetime | None = None
