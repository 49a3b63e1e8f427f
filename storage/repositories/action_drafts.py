"""Half-finished actions on an existing hazard (migration 0003), one per person and journey.

A conversation's step survives a restart in the persistence tables; what the person already gave at earlier steps
(the hazard, the measures, the photos, the new deadline) survives here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storage.db import Database
from storage.hazard_models import PhotoRef
from storage.repositories._codec import to_db_time


class Journey(StrEnum):
    RECTIFY = "rectify"
    REJECT = "reject"
    REOPEN = "reopen"
    DEADLINE = "deadline"
    EXTENSION = "extension"  # asking for more time
    EXTENSION_REFUSE = "extension_refuse"  # staff refusing a request for more time, with a reason
    COMMENT = "comment"  # a comment on a hazard, pressed and not yet typed (handlers.comment)
    # The calendar journeys keep drafts of their own shape here (storage.repositories.calendar_drafts).
    DRILL = "drill"
    SELFCHECK = "selfcheck"
    STUDY = "study"
    # The warning journeys (/warn, updating a sent warning) likewise (storage.repositories.warning_drafts).
    WARN = "warn"
    WARN_UPDATE = "warn_update"
    # The last institution search of /institution, whose result pages its buttons turn (storage.repositories.searches).
    INSTITUTION_SEARCH = "institution_search"
    # The last institution search at /invite's head step, whose result pages its buttons turn (handlers.invite).
    INVITE_SEARCH = "invite_search"
    # Closing an institution from its card: the institution, then the reason given (handlers.institution_close).
    INSTITUTION_CLOSE = "institution_close"
    # Withdrawing a hazard (作废): the category chosen, then the reason, awaiting the confirmation (handlers.withdraw).
    WITHDRAW = "withdraw"
    # What a head did under a warning (落实情况): the words and photos so far (handlers.warning_report).
    WARNING_REPORT = "warning_report"
    # A text typed while a warning was in force, offered as its 落实情况 and awaiting 记录 or 不是 (the same module).
    WARNING_REPORT_OFFER = "warning_report_offer"


class CardRef(BaseModel):
    """A staff card a decision was pressed on, as it read then: retitled with the verdict once its reason is typed
    (handlers.hazard_buttons.settle_stored_card), a message or more later."""

    model_config = ConfigDict(frozen=True)

    chat_id: int
    message_id: int
    text_html: str
    # The language the card was sent in (its Details button's), for its verdict's title; None: not known.
    language: str | None = None


class ActionDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    hazard_id: int
    measures: str | None = None  # rectify: the measures taken
    photos: list[PhotoRef] = Field(default_factory=list)  # rectify: the after-photos so far
    deadline: datetime | None = None  # deadline: the new deadline chosen, before the reason is given
    # reject: the rectification the Reject button was shown with (its history entry); None in drafts saved before
    shown_fix: int | None = None
    reason: str | None = None  # extension: the reason given, before it is confirmed
    request_id: int | None = None  # extension_refuse: the request being refused
    card: CardRef | None = None  # reject, extension_refuse: the card the decision was pressed on


class ActionDraftRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int, journey: Journey) -> ActionDraft | None:
        return await read_draft(self._db, telegram_id, journey, ActionDraft)

    async def save(self, telegram_id: int, journey: Journey, draft: ActionDraft, at: datetime) -> None:
        await write_draft(self._db, telegram_id, journey, draft, at)

    async def delete(self, telegram_id: int, journey: Journey) -> bool:
        return await drop_draft(self._db, telegram_id, journey)


# Every journey's draft is a row of this table, whatever its shape: the hazard actions' above, the calendar's and
# the warnings' in their own modules.

Model = TypeVar("Model", bound=BaseModel)


async def read_draft(db: Database, telegram_id: int, journey: Journey, model: type[Model]) -> Model | None:
    data = await db.fetchval(
        "SELECT data FROM action_drafts WHERE telegram_id = ? AND journey = ?", (telegram_id, journey.value)
    )
    if data is None:
        return None
    try:
        return model.model_validate_json(data)
    except ValidationError:
        # Written by an older version: starting the journey again beats one that can never finish.
        return None


async def write_draft(db: Database, telegram_id: int, journey: Journey, draft: BaseModel, at: datetime) -> None:
    await db.execute(
        "INSERT INTO action_drafts (telegram_id, journey, data, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (telegram_id, journey) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        (telegram_id, journey.value, draft.model_dump_json(), to_db_time(at)),
    )


async def drop_draft(db: Database, telegram_id: int, journey: Journey) -> bool:
    """Whether there was a draft to drop."""
    changed = await db.execute_rowcount(
        "DELETE FROM action_drafts WHERE telegram_id = ? AND journey = ?", (telegram_id, journey.value)
    )
    return changed > 0
