"""What staff have already answered in a warning journey: composing one (/warn), or the new text of an update.

The rows live in the `action_drafts` table (migration 0003), keyed by person and `Journey`, as the calendar
journeys' do; the conversation's step survives a restart in the persistence tables, the answers survive here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.warnings import WarningKind, WarningLevel
from storage.db import Database
from storage.models import InstitutionType, RiskTag
from storage.repositories.action_drafts import Journey, drop_draft, read_draft, write_draft


class _Draft(BaseModel):
    model_config = ConfigDict(frozen=True)


class WarnDraft(_Draft):
    """A manual warning being composed; None until the step that asks for it has been answered."""

    kind: WarningKind | None = None
    level: WarningLevel | None = None
    headline: str | None = None
    description: str = ""
    regions: list[str] = Field(default_factory=list)
    institution_types: list[InstitutionType] = Field(default_factory=list)
    risk_tags: list[RiskTag] = Field(default_factory=list)
    expiry_hours: int | None = None


class WarnUpdateDraft(_Draft):
    """更新 of a sent warning: which one, while its new text is asked for."""

    warning_id: int


Draft = TypeVar("Draft", WarnDraft, WarnUpdateDraft)

JOURNEYS: dict[type[_Draft], Journey] = {WarnDraft: Journey.WARN, WarnUpdateDraft: Journey.WARN_UPDATE}


class WarningDraftRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int, kind: type[Draft]) -> Draft | None:
        return await read_draft(self._db, telegram_id, JOURNEYS[kind], kind)

    async def save(self, telegram_id: int, draft: WarnDraft | WarnUpdateDraft, at: datetime) -> None:
        await write_draft(self._db, telegram_id, JOURNEYS[type(draft)], draft, at)

    async def delete(self, telegram_id: int, kind: type[Draft]) -> None:
        await drop_draft(self._db, telegram_id, JOURNEYS[kind])
