"""What a person has already answered in a calendar journey (/drill, /selfcheck, /study), one draft per journey.

The rows live in the `action_drafts` table (migration 0003), keyed by person and `Journey`: that table holds any
journey's JSON, and these journeys simply store drafts of their own shape. The conversation's step survives a
restart in the persistence tables; the answers survive here. The self-inspection's answers themselves are in
`self_inspection_answers`: its draft only remembers where the sheet is and the ❌ being described.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.catalog import HazardArea, Severity
from bot.domain.compliance import DrillKind
from storage.db import Database
from storage.hazard_models import PhotoRef
from storage.repositories.action_drafts import Journey, drop_draft, read_draft, write_draft


class _Draft(BaseModel):
    model_config = ConfigDict(frozen=True)


class DraftProblem(_Draft):
    """One line of "problems found"; area and severity stay None until the head has chosen them."""

    description: str
    area: HazardArea | None = None
    severity: Severity | None = None
    report: bool = True  # False: recorded with the drill, but no hazard is opened


class DrillDraft(_Draft):
    institution_id: int | None = None
    institution_search: str | None = None  # what staff typed to find the institution: its picker's pages turn it
    kind: DrillKind | None = None
    held_on: date | None = None
    participants: int | None = None
    duration_minutes: int | None = None
    practised: str | None = None
    photos: list[PhotoRef] = Field(default_factory=list)
    problems: list[DraftProblem] = Field(default_factory=list)
    asking: int = 0  # the problem whose area and severity are being asked
    step: str | None = None  # the question asked last, so /drill can carry on there after a detour


class SelfCheckDraft(_Draft):
    inspection_id: int
    message_id: int | None = None  # the sheet: the one message that edits itself
    cursor: int = 0  # the item on screen, by its place in the institution's checklist
    amending: bool = False  # the month was already done: this walk replaces its answers
    step: str = "answer"  # answer, or the ❌ being described: note → photo → severity
    failing: str | None = None  # the item whose ❌ is being described
    note: str | None = None
    photo: PhotoRef | None = None
    shown: str | None = None  # a fingerprint of what the sheet shows now, so that it is never edited into itself


class StudyDraft(_Draft):
    held_on: date | None = None
    topic: str | None = None


Draft = TypeVar("Draft", DrillDraft, SelfCheckDraft, StudyDraft)

JOURNEYS: dict[type[_Draft], Journey] = {
    DrillDraft: Journey.DRILL,
    SelfCheckDraft: Journey.SELFCHECK,
    StudyDraft: Journey.STUDY,
}


class CalendarDraftRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int, kind: type[Draft]) -> Draft | None:
        return await read_draft(self._db, telegram_id, JOURNEYS[kind], kind)

    async def save(self, telegram_id: int, draft: DrillDraft | SelfCheckDraft | StudyDraft, at: datetime) -> None:
        await write_draft(self._db, telegram_id, JOURNEYS[type(draft)], draft, at)

    async def delete(self, telegram_id: int, kind: type[Draft]) -> None:
        await drop_draft(self._db, telegram_id, JOURNEYS[kind])
