"""Typed records of the calendar duties and the reminder engine (migration 0004_calendar).

Times are aware datetimes in UTC, as in storage.models; `held_on` dates are local calendar dates.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.compliance import DrillKind
from bot.domain.reminders import ReminderKind
from storage.hazard_models import PhotoRef


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class NewDrill(_Model):
    institution_id: int
    kind: DrillKind
    held_on: date
    participants: int = Field(gt=0)
    duration_minutes: int = Field(gt=0)
    practised: str
    problems: str | None = None
    hazard_ids: tuple[int, ...] = ()
    logged_by: int
    logged_at: datetime


class Drill(NewDrill):
    id: int
    photos: tuple[PhotoRef, ...] = ()


class Answer(StrEnum):
    OK = "ok"  # ✅
    FAIL = "fail"  # ❌: becomes a hazard
    NA = "na"  # not applicable here


class SelfInspection(_Model):
    id: int
    institution_id: int
    month: str  # 'YYYY-MM', local
    started_by: int
    started_at: datetime
    finished_by: int | None = None
    finished_at: datetime | None = None  # the first finish: the month is done from then on
    amended_at: datetime | None = None  # the latest finish after the first

    @property
    def done(self) -> bool:
        return self.finished_at is not None


class InspectionAnswer(_Model):
    inspection_id: int
    item_code: str
    answer: Answer
    note: str | None = None
    photo: PhotoRef | None = None
    hazard_id: int | None = None
    answered_by: int
    answered_at: datetime


class NewStudySession(_Model):
    unit_region_code: str
    held_on: date
    topic: str
    participants: int = Field(gt=0)
    logged_by: int
    logged_at: datetime


class StudySession(NewStudySession):
    id: int


class ReminderState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # a sweeper is sending it
    SENT = "sent"
    CANCELLED = "cancelled"  # no longer needed (hazard closed, drill logged, person gone)
    FAILED = "failed"  # Telegram refused it for good (bot blocked, chat gone)


class SubjectType(StrEnum):
    HAZARD = "hazard"
    INSTITUTION = "institution"
    UNIT = "unit"  # a region's bureau: study sessions
    GROUP = "group"  # digests


class NewReminder(_Model):
    dedupe_key: str
    kind: ReminderKind
    step: str
    subject_type: SubjectType
    subject_id: str
    period: str | None = None
    recipient_id: int
    topic_id: int | None = None
    due_at: datetime
    urgent: bool = False
    detail: dict[str, Any] = Field(default_factory=dict)


class Reminder(NewReminder):
    id: int
    state: ReminderState
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    retry_at: datetime | None = None
    late: bool = False
    attempts: int = 0
    created_at: datetime
