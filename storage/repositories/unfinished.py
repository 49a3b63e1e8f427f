"""What a person left unfinished: their report draft, the drafts of their other journeys (action_drafts, whatever
its shape) and the step each journey of theirs was waiting at (python-telegram-bot's persistence). All of it is
discarded when their access ends (bot.services.people): it would never be resumed, and it is theirs, not the
bureau's record. What a hazard's history or the audit log needs is never in a draft: it is written when an action is
taken.

Photos: a draft names the photos it has by their sha256, and the evidence store already keeps their bytes (they are
stored when sent). `orphaned_photos` says which of them no record, no queued message and no other draft names: only
those bytes may go with the draft.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.repositories._codec import dump_json

_SHA256 = re.compile(r"[0-9a-f]{64}")
_PHOTO_KEYS = frozenset({"sha256", "photo_sha256"})


@dataclass(frozen=True)
class Discarded:
    """Counts, never content: what the audit log may say of the drafts discarded."""

    report: int  # 0 or 1: the report draft
    journeys: tuple[str, ...]  # the journeys whose draft was discarded (rectify, reject, drill, warn...), sorted
    steps: int  # journeys that were waiting for the person's next answer
    photos: frozenset[str]  # sha256 of the photos the discarded drafts named

    @property
    def anything(self) -> bool:
        return bool(self.report or self.journeys or self.steps)


class UnfinishedRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def discard_of(self, telegram_id: int) -> Discarded:
        """Delete every draft and waiting journey step of the person (inside the caller's transaction)."""
        photos: set[str] = set()
        report_data = await self._db.fetchall("SELECT data FROM report_drafts WHERE telegram_id = ?", (telegram_id,))
        action_rows = await self._db.fetchall(
            "SELECT journey, data FROM action_drafts WHERE telegram_id = ? ORDER BY journey", (telegram_id,)
        )
        for row in [*report_data, *action_rows]:
            photos.update(_photos_in(row["data"]))
        report = await self._db.execute_rowcount("DELETE FROM report_drafts WHERE telegram_id = ?", (telegram_id,))
        await self._db.execute("DELETE FROM action_drafts WHERE telegram_id = ?", (telegram_id,))
        # A journey's key is [chat_id, user_id] (per chat and person), or [chat_id] for one kept per chat alone: the
        # person's own chat has their id. Group chats have negative ids, so no group's step is taken for theirs.
        steps = await self._db.execute_rowcount(
            "DELETE FROM ptb_conversations WHERE json_valid(key) AND json_extract(key, '$[#-1]') = ?", (telegram_id,)
        )
        return Discarded(report, tuple(str(row["journey"]) for row in action_rows), steps, frozenset(photos))

    async def orphaned_photos(self, sha256s: Collection[str]) -> list[str]:
        """Those of the photos that nothing still names: no hazard's, drill's or self-inspection's record, no message
        still in the outbox, no draft of anyone."""
        if not sha256s:
            return []
        wanted = dump_json(sorted(sha256s))
        named = {
            str(row[0])
            for row in await self._db.fetchall(
                "SELECT sha256 FROM hazard_photos WHERE sha256 IN (SELECT value FROM json_each(?)) "
                "UNION SELECT sha256 FROM drill_photos WHERE sha256 IN (SELECT value FROM json_each(?)) "
                "UNION SELECT photo_sha256 FROM self_inspection_answers "
                "WHERE photo_sha256 IN (SELECT value FROM json_each(?))",
                (wanted, wanted, wanted),
            )
        }
        left = [sha for sha in sorted(sha256s) if sha not in named]
        if not left:
            return []
        # Drafts and queued messages hold photos inside JSON text: looked for as text, which a sha256 is.
        still_named = set()
        for sha in left:
            pattern = f"%{sha}%"
            row = await self._db.fetchone(
                "SELECT 1 FROM report_drafts WHERE data LIKE ? UNION ALL SELECT 1 FROM action_drafts WHERE data LIKE ? "
                "UNION ALL SELECT 1 FROM outbox WHERE state IN ('pending', 'sending') AND payload LIKE ? LIMIT 1",
                (pattern, pattern, pattern),
            )
            if row is not None:
                still_named.add(sha)
        return [sha for sha in left if sha not in still_named]


def _photos_in(data: str) -> Iterator[str]:
    try:
        parsed = json.loads(data)
    except ValueError:
        return iter(())
    return _walk(parsed)


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _PHOTO_KEYS and isinstance(item, str) and _SHA256.fullmatch(item):
                yield item
            else:
                yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
