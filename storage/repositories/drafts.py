"""Half-finished hazard reports, one per person, kept so that a restart of the bot loses nothing typed."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from storage.db import Database
from storage.hazard_models import ReportDraft
from storage.repositories._codec import to_db_time


class DraftRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int) -> ReportDraft | None:
        data = await self._db.fetchval("SELECT data FROM report_drafts WHERE telegram_id = ?", (telegram_id,))
        if data is None:
            return None
        try:
            return ReportDraft.model_validate_json(data)
        except ValidationError:
            # A draft saved by an older version that no longer fits the model: starting over is better than
            # a report that cannot be loaded, and a draft is not evidence.
            return None

    async def save(self, telegram_id: int, draft: ReportDraft, at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO report_drafts (telegram_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (telegram_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (telegram_id, draft.model_dump_json(), to_db_time(at)),
        )

    async def delete(self, telegram_id: int) -> bool:
        changed = await self._db.execute_rowcount("DELETE FROM report_drafts WHERE telegram_id = ?", (telegram_id,))
        return changed > 0
