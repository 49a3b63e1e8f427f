"""The append-only audit log: who did what, when (the database refuses to change or delete a row)."""

from __future__ import annotations

import builtins
import json
from typing import Any

import aiosqlite

from bot.clock import Clock
from storage.db import Database
from storage.models import AuditEvent
from storage.repositories._codec import dump_json, from_db_time, prefix_glob, to_db_time

_COLUMNS = "id, at, actor_id, action, target, detail"


class AuditRepository:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def append(
        self,
        actor_id: int | None,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEvent:
        at = self._clock.now()
        detail_json = dump_json(detail or {})
        event_id = await self._db.execute(
            "INSERT INTO audit_log (at, actor_id, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            (to_db_time(at), actor_id, action, target, detail_json),
        )
        # Read back through JSON so the caller sees exactly what a later reader will (e.g. dates as text).
        return AuditEvent(
            id=event_id,
            at=at,
            actor_id=actor_id,
            action=action,
            target=target,
            detail=json.loads(detail_json),
        )

    async def list(
        self,
        action_prefix: str | None = None,
        target: str | None = None,
        actor_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[AuditEvent]:
        """The newest `limit` matching events, oldest first; prefix "invite." matches "invite.created"…"""
        clauses = ["1 = 1"]
        params: builtins.list[object] = []
        if action_prefix is not None:
            clauses.append("action GLOB ?")
            params.append(prefix_glob(action_prefix))
        if target is not None:
            clauses.append("target = ?")
            params.append(target)
        if actor_id is not None:
            clauses.append("actor_id = ?")
            params.append(actor_id)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [_event(row) for row in reversed(rows)]


def _event(row: aiosqlite.Row) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        at=from_db_time(row["at"]),
        actor_id=row["actor_id"],
        action=row["action"],
        target=row["target"],
        detail=json.loads(row["detail"]),
    )
