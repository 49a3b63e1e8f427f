"""The append-only audit log: who did what, when (the database refuses to change or delete a row).

Who: `actor_id`, the Telegram id of the person in chat. An action with no person in chat is either the bot's own
(its jobs: reminders, escalations, the outbox) or an operator's on the server (`safety-bot invite`, `deactivate`,
`import`, `backup` …): a `safety-bot` command sets `operator` ("cli:<os user>") and every entry it appends without
an actor carries it in its detail, so "who gave this person city-admin rights" has an answer."""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import Clock
from storage.db import Database
from storage.models import AuditEvent
from storage.repositories._codec import dump_json, from_db_time, prefix_glob, to_db_time

_COLUMNS = "id, at, actor_id, action, target, detail"
OPERATOR = "operator"  # the detail's key naming the command line's operator


class AuditRepository:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self.operator: str | None = None  # "cli:<os user>" in a command-line process; None in the bot

    async def append(
        self,
        actor_id: int | None,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEvent:
        at = self._clock.now()
        if actor_id is None and self.operator is not None:
            detail = {**(detail or {}), OPERATOR: self.operator}
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


    async def trail(
        self, since: datetime | None = None, until: datetime | None = None, person: int | None = None
    ) -> builtins.list[AuditEvent]:
        """Every entry from `since` up to (not including) `until`, oldest first; with `person`, those they did and
        those done to them (target "user:<id>")."""
        clauses = ["1 = 1"]
        params: builtins.list[object] = []
        if since is not None:
            clauses.append("at >= ?")
            params.append(to_db_time(since))
        if until is not None:
            clauses.append("at < ?")
            params.append(to_db_time(until))
        if person is not None:
            clauses.append("(actor_id = ? OR target = ?)")
            params.extend((person, f"user:{person}"))
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id", tuple(params)
        )
        return [_event(row) for row in rows]


def _event(row: aiosqlite.Row) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        at=from_db_time(row["at"]),
        actor_id=row["actor_id"],
        action=row["action"],
        target=row["target"],
        detail=json.loads(row["detail"]),
    )
