"""A person's last institution search (/institution), so that the buttons of its result pages can turn them.

Page buttons carry opaque numbers only (the search's serial and a page), never the text searched for. The rows live
in the `action_drafts` table (migration 0003) under `Journey.INSTITUTION_SEARCH`, one per person: a new search
replaces the last, and its serial tells the buttons of an older list apart. /invite keeps the institution search of
its head step the same way, under `Journey.INVITE_SEARCH`, so that neither replaces the other.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from storage.db import Database
from storage.repositories.action_drafts import Journey, read_draft, write_draft


class InstitutionSearch(BaseModel):
    model_config = ConfigDict(frozen=True)

    serial: int  # 1 for a person's first search, one more for each after it
    text: str  # what was searched for, cleaned


class SearchRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def last(
        self, telegram_id: int, journey: Journey = Journey.INSTITUTION_SEARCH
    ) -> InstitutionSearch | None:
        return await read_draft(self._db, telegram_id, journey, InstitutionSearch)

    async def remember(
        self, telegram_id: int, text: str, at: datetime, journey: Journey = Journey.INSTITUTION_SEARCH
    ) -> InstitutionSearch:
        """Keep this search as the person's last (of the journey), under the next serial."""
        async with self._db.transaction():
            previous = await self.last(telegram_id, journey)
            search = InstitutionSearch(serial=1 if previous is None else previous.serial + 1, text=text)
            await write_draft(self._db, telegram_id, journey, search, at)
        return search
