"""The outbox: messages owed to chats, claimed by senders and marked with what Telegram answered.

Every state change after the claim is guarded by `state = 'sending' AND claimed_by = worker`, so a sender that
lost its claim (reclaimed as stale after a crash elsewhere) cannot overwrite what another sender recorded.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database
from storage.outbox_models import BatchProgress, DeliveryState, NewOutboxMessage, OutboxItem, OutboxPayload, Priority
from storage.repositories._codec import (
    dump_json,
    from_db_time,
    from_db_time_or_none,
    to_db_time,
)

_COLUMNS = (
    "id, dedupe_key, batch, chat_id, topic_id, payload, priority, state, attempts, next_attempt_at, claimed_by, "
    "claimed_at, last_error, message_id, created_at, sent_at"
)

# The head of each chat's queue, if it is due: a chat with a message in flight is skipped altogether, so one chat's
# messages go out one at a time and in order (a warning before its update), while other chats go in parallel.
_CLAIM = f"""
UPDATE outbox SET state = 'sending', claimed_by = :worker, claimed_at = :now, attempts = attempts + 1
WHERE id IN (
    SELECT o.id FROM outbox AS o
    WHERE o.state = 'pending' AND o.next_attempt_at <= :now
      AND (:lane IS NULL OR substr(o.dedupe_key, 1, length(:lane)) = :lane)
      AND o.chat_id NOT IN (SELECT value FROM json_each(:busy))
      AND NOT EXISTS (
          SELECT 1 FROM outbox AS e
          WHERE e.chat_id = o.chat_id AND e.state IN ('pending', 'sending') AND e.id != o.id
            AND (e.state = 'sending' OR e.priority < o.priority OR (e.priority = o.priority AND e.id < o.id))
      )
    ORDER BY o.priority, o.id
    LIMIT :limit
)
RETURNING {_COLUMNS}
"""

_GUARD = "WHERE id = ? AND state = 'sending' AND claimed_by = ?"
# Of a message to a forum topic: the group's general chat has a copy too (both bound), of the same batch (a warning)
# or under the same key less its topic (a hazard notice: `…:chat:<id>:topic:<topic>`).
_COPY_IN_GENERAL = (
    "EXISTS (SELECT 1 FROM outbox AS general WHERE general.chat_id = outbox.chat_id AND general.topic_id IS NULL "
    "AND general.state IN ('pending', 'sending', 'sent') AND ((outbox.batch IS NOT NULL AND general.batch = "
    "outbox.batch) OR general.dedupe_key = replace(outbox.dedupe_key, ':topic:' || outbox.topic_id, '')))"
)
_GENERAL_HAS_IT = "the forum topic refuses messages; the group's general chat has its own copy"


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, messages: Sequence[NewOutboxMessage], *, batch: str | None, at: datetime) -> int:
        """Queue the messages in the caller's transaction; a dedupe key queued before is skipped. Returns how
        many were new."""
        at_text = to_db_time(at)
        rows = [
            (
                message.dedupe_key,
                batch,
                message.chat_id,
                message.topic_id,
                message.payload.model_dump_json(exclude_defaults=True),
                int(message.priority),
                at_text if message.not_before is None or message.not_before <= at else to_db_time(message.not_before),
                at_text,
            )
            for message in messages
        ]
        async with self._db.transaction():
            before = await self._db.fetchval("SELECT total_changes()")
            # ON CONFLICT on the key alone: INSERT OR IGNORE would also swallow a broken row without a word.
            await self._db.executemany(
                "INSERT INTO outbox (dedupe_key, batch, chat_id, topic_id, payload, priority, next_attempt_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
                rows,
            )
            after = await self._db.fetchval("SELECT total_changes()")
        return int(after) - int(before)

    async def claim(
        self,
        worker: str,
        *,
        now: datetime,
        limit: int,
        exclude_chats: Collection[int] = (),
        lane: str | None = None,
    ) -> list[OutboxItem]:
        """Atomically take up to `limit` due messages for `worker`, at most one per chat, most urgent first;
        `lane`: only those whose dedupe key starts with it."""
        params = {
            "worker": worker,
            "now": to_db_time(now),
            "busy": dump_json(sorted(exclude_chats)),
            "limit": limit,
            "lane": lane,
        }
        rows = await self._db.fetchall(_CLAIM, params)
        # RETURNING gives no order; callers send in queue order.
        return sorted((_item(row) for row in rows), key=lambda item: (item.priority, item.id))

    async def mark_sent(self, outbox_id: int, worker: str, *, message_id: int | None, at: datetime) -> bool:
        changed = await self._db.execute_rowcount(
            f"UPDATE outbox SET state = 'sent', message_id = ?, sent_at = ?, last_error = NULL {_GUARD}",
            (message_id, to_db_time(at), outbox_id, worker),
        )
        return changed == 1

    async def mark_retry(
        self, outbox_id: int, worker: str, *, at: datetime, error: str, chat_id: int | None = None,
        general: bool = False,
    ) -> bool:
        """Back in the queue until `at`; `chat_id` follows a group that became a supergroup, `general` leaves a
        forum topic for the group's general chat."""
        changed = await self._db.execute_rowcount(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, claimed_by = NULL, "
            "claimed_at = NULL, chat_id = COALESCE(?, chat_id), "
            f"topic_id = CASE WHEN ? THEN NULL ELSE topic_id END {_GUARD}",
            (to_db_time(at), error, chat_id, general, outbox_id, worker),
        )
        return changed == 1

    async def mark_undeliverable(self, outbox_id: int, worker: str, state: DeliveryState, *, error: str) -> bool:
        if state not in (DeliveryState.FAILED, DeliveryState.BLOCKED):
            raise ValueError(f"{state} is not a final failure")
        changed = await self._db.execute_rowcount(
            f"UPDATE outbox SET state = ?, last_error = ?, claimed_by = NULL, claimed_at = NULL {_GUARD}",
            (state.value, error, outbox_id, worker),
        )
        return changed == 1

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """Messages still waiting for a group that became a supergroup go to its new id; returns how many."""
        return await self._db.execute_rowcount(
            "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND state = 'pending'", (new_chat_id, old_chat_id)
        )

    async def leave_topic(self, chat_id: int, topic_id: int) -> tuple[int, int]:
        """Messages waiting for a forum topic that refuses them go to the group's general chat, except those whose
        batch already has a copy there (given up, not sent twice). Returns (moved, given up)."""
        given_up = await self._db.execute_rowcount(
            "UPDATE outbox SET state = 'failed', last_error = ? WHERE chat_id = ? AND topic_id = ? "
            f"AND state = 'pending' AND {_COPY_IN_GENERAL}",
            (_GENERAL_HAS_IT, chat_id, topic_id),
        )
        moved = await self._db.execute_rowcount(
            "UPDATE outbox SET topic_id = NULL WHERE chat_id = ? AND topic_id = ? AND state = 'pending'",
            (chat_id, topic_id),
        )
        return moved, given_up

    async def give_up_chat(self, chat_id: int, reason: str) -> int:
        """Messages still waiting for this chat are not to be sent (recorded as cancelled, with why: not a delivery
        failure); how many. A message a sender has claimed but not yet sent is given up too: the sender looks at its
        claim just before the request (`claim_stands`), and a claim of a dead sender is not queued again."""
        return await self._db.execute_rowcount(
            "UPDATE outbox SET state = 'cancelled', last_error = ?, claimed_by = NULL, claimed_at = NULL "
            "WHERE chat_id = ? AND state IN ('pending', 'sending')",
            (reason, chat_id),
        )

    async def cancel_waiting(self, key_prefix: str, *, reason: str) -> int:
        """Cancel the messages still waiting (not in flight) whose dedupe key starts with `key_prefix`: they are
        never sent, and their keys stay taken. Returns how many."""
        return await self._db.execute_rowcount(
            "UPDATE outbox SET state = 'cancelled', last_error = ? "
            "WHERE state = 'pending' AND dedupe_key >= ? AND dedupe_key < ?",
            (reason, *_keys_starting_with(key_prefix)),
        )

    async def cancel_held(
        self, key_prefix: str, *, now: datetime, reason: str, chat_id: int | None = None, containing: str = ""
    ) -> list[OutboxItem]:
        """Cancel the messages held for later (waiting, never tried, not due before `now`: quiet hours) whose key
        starts with `key_prefix`, and contains `containing`; of one chat if `chat_id`. They are never sent, and
        their keys stay taken. Returns them."""
        rows = await self._db.fetchall(
            "UPDATE outbox SET state = 'cancelled', last_error = ? "
            "WHERE state = 'pending' AND attempts = 0 AND next_attempt_at > ? AND dedupe_key >= ? AND dedupe_key < ? "
            "AND (? IS NULL OR chat_id = ?) AND instr(dedupe_key, ?) > 0 "
            f"RETURNING {_COLUMNS}",
            (reason, to_db_time(now), *_keys_starting_with(key_prefix), chat_id, chat_id, containing),
        )
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    async def reaches(self, key_prefix: str, chat_id: int, topic_id: int | None) -> bool:
        """Whether a message whose key starts with `key_prefix` went, goes or is to go to this chat (and topic)."""
        return await self._db.fetchone(
            "SELECT 1 FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? AND chat_id = ? AND topic_id IS ? "
            "AND state IN ('pending', 'sending', 'sent') LIMIT 1",
            (*_keys_starting_with(key_prefix), chat_id, topic_id),
        ) is not None

    async def queued(self, key: str) -> bool:
        """Whether any chat's copy of the message `key` names was ever queued (`{key}:chat:{id}`), in any state."""
        return await self._db.fetchone(
            "SELECT 1 FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? LIMIT 1", _keys_starting_with(f"{key}:")
        ) is not None

    async def queued_since(self, key_prefix: str, since: datetime) -> bool:
        """Whether any message whose key starts with `key_prefix` was queued at or after `since`, in any state."""
        low, high = _keys_starting_with(key_prefix)
        return await self._db.fetchone(
            "SELECT 1 FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? AND created_at >= ? LIMIT 1",
            (low, high, to_db_time(since)),
        ) is not None

    async def claim_stands(self, outbox_id: int, worker: str) -> bool:
        """Whether the worker still holds its claim on the message (not given up, nor taken back as stale)."""
        return await self._db.fetchone(f"SELECT 1 FROM outbox {_GUARD}", (outbox_id, worker)) is not None

    async def copy_in_general(self, outbox_id: int) -> bool:
        """Whether the group's general chat has a message of this one's batch (sent or to be sent)."""
        row = await self._db.fetchone(f"SELECT 1 FROM outbox WHERE id = ? AND {_COPY_IN_GENERAL}", (outbox_id,))
        return row is not None

    async def release(self, outbox_ids: Collection[int], worker: str) -> int:
        """Give back claims that never reached Telegram (a graceful stop): the try does not count."""
        changed = await self._db.execute_rowcount(
            "UPDATE outbox SET state = 'pending', attempts = attempts - 1, claimed_by = NULL, claimed_at = NULL "
            "WHERE id IN (SELECT value FROM json_each(?)) AND state = 'sending' AND claimed_by = ?",
            (dump_json(sorted(outbox_ids)), worker),
        )
        return changed

    async def reclaim_stale(self, *, claimed_before: datetime) -> list[OutboxItem]:
        """Put claims older than `claimed_before` back in the queue (their sender is presumed dead)."""
        rows = await self._db.fetchall(
            "UPDATE outbox SET state = 'pending', last_error = 'claim by ' || claimed_by || ' went stale', "
            f"claimed_by = NULL, claimed_at = NULL WHERE state = 'sending' AND claimed_at < ? RETURNING {_COLUMNS}",
            (to_db_time(claimed_before),),
        )
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    async def claimants(self) -> list[str]:
        """The workers holding claims now."""
        rows = await self._db.fetchall("SELECT DISTINCT claimed_by FROM outbox WHERE state = 'sending'")
        return [str(row["claimed_by"]) for row in rows if row["claimed_by"] is not None]

    async def reclaim_from(self, workers: Collection[str]) -> list[OutboxItem]:
        """Put every claim of these (dead) workers back in the queue, however young."""
        rows = await self._db.fetchall(
            "UPDATE outbox SET state = 'pending', last_error = 'claim by ' || claimed_by || ' died with it', "
            "claimed_by = NULL, claimed_at = NULL WHERE state = 'sending' "
            f"AND claimed_by IN (SELECT value FROM json_each(?)) RETURNING {_COLUMNS}",
            (dump_json(sorted(workers)),),
        )
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    async def due_chats(self, *, now: datetime, lane: str | None = None) -> set[int]:
        """Chats with a message due by `now` (of `lane`, if given)."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT chat_id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "AND (? IS NULL OR substr(dedupe_key, 1, length(?)) = ?)",
            (to_db_time(now), lane, lane, lane),
        )
        return {int(row["chat_id"]) for row in rows}

    async def next_due(self) -> datetime | None:
        """When the earliest waiting message becomes due (it may already be)."""
        text = await self._db.fetchval("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'")
        return None if text is None else from_db_time(text)

    async def owed(self, batch: str | None = None) -> int:
        """Messages not yet sent nor given up (all batches when `batch` is None)."""
        if batch is None:
            value = await self._db.fetchval("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
        else:
            value = await self._db.fetchval(
                "SELECT COUNT(*) FROM outbox WHERE batch = ? AND state IN ('pending', 'sending')", (batch,)
            )
        return int(value)

    async def progress(self, batch: str) -> BatchProgress:
        # A cancelled message counts in `total` (it was queued: the batch is not to be queued again) but is neither
        # sent nor still to go (`meant`, `waiting`).
        rows = await self._db.fetchall(
            "SELECT state, COUNT(*) AS n FROM outbox WHERE batch = ? GROUP BY state",
            (batch,),
        )
        counts = {str(row["state"]): int(row["n"]) for row in rows}
        return BatchProgress(
            batch=batch,
            total=sum(counts.values()),
            sent=counts.get(DeliveryState.SENT, 0),
            failed=counts.get(DeliveryState.FAILED, 0),
            blocked=counts.get(DeliveryState.BLOCKED, 0),
            cancelled=counts.get(DeliveryState.CANCELLED, 0),
        )

    async def in_batch(self, batch: str, states: Collection[DeliveryState] | None = None) -> list[OutboxItem]:
        wanted = [state.value for state in (states or DeliveryState)]
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM outbox WHERE batch = ? AND state IN (SELECT value FROM json_each(?)) "
            "ORDER BY id",
            (batch, dump_json(wanted)),
        )
        return [_item(row) for row in rows]

    async def get(self, outbox_id: int) -> OutboxItem | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (outbox_id,))
        return None if row is None else _item(row)

    async def delivered_with_prefix(self, prefix: str) -> list[OutboxItem]:
        """The messages whose key starts with `prefix` that reached their chat, with Telegram's message id: the
        copies of one alert, to edit once it is answered."""
        low, high = _keys_starting_with(prefix)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? AND state = 'sent' "
            "AND message_id IS NOT NULL ORDER BY id",
            (low, high),
        )
        return [_item(row) for row in rows]

    async def delivered_offering(self, prefix: str, callback_data: str, *, limit: int) -> list[OutboxItem]:
        """Delivered messages under `prefix` whose buttons, as last recorded, include `callback_data`: the copies of
        a warning still offering an answer once it has ended. At most `limit`, oldest first."""
        low, high = _keys_starting_with(prefix)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? AND state = 'sent' "
            "AND message_id IS NOT NULL AND instr(json_extract(payload, '$.reply_markup'), ?) > 0 ORDER BY id LIMIT ?",
            (low, high, f'"{callback_data}"', limit),
        )
        return [_item(row) for row in rows]

    async def record_buttons(self, outbox_id: int, reply_markup: dict[str, Any] | None) -> None:
        """Record the buttons a delivered message carries now, after an edit changed them."""
        await self._db.execute(
            "UPDATE outbox SET payload = json_set(payload, '$.reply_markup', json(?)) WHERE id = ?",
            (json.dumps(reply_markup), outbox_id),
        )

    async def record_text(self, outbox_id: int, text: str) -> None:
        """Record the text a delivered message shows now, after an edit changed it."""
        await self._db.execute(
            "UPDATE outbox SET payload = json_set(payload, '$.text', ?) WHERE id = ?", (text, outbox_id)
        )

    async def queued_times(self, key_prefix: str) -> list[datetime]:
        """When each message under `key_prefix` was queued (not those cancelled), the earliest first: how often and
        how lately someone was paged."""
        rows = await self._db.fetchall(
            "SELECT created_at FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? AND state != 'cancelled' "
            "ORDER BY created_at",
            _keys_starting_with(key_prefix),
        )
        return [from_db_time(row["created_at"]) for row in rows]

    async def rewrite_waiting(self, outbox_id: int, payload: OutboxPayload) -> bool:
        """Put `payload` in place of a message's while it still waits its turn (no sender has claimed it); False when
        it is on its way or gone."""
        changed = await self._db.execute_rowcount(
            "UPDATE outbox SET payload = ? WHERE id = ? AND state = 'pending' AND claimed_by IS NULL",
            (payload.model_dump_json(exclude_defaults=True), outbox_id),
        )
        return changed == 1

    async def get_by_key(self, dedupe_key: str) -> OutboxItem | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM outbox WHERE dedupe_key = ?", (dedupe_key,))
        return None if row is None else _item(row)


def _item(row: aiosqlite.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        dedupe_key=row["dedupe_key"],
        batch=row["batch"],
        chat_id=row["chat_id"],
        topic_id=row["topic_id"],
        payload=OutboxPayload.model_validate_json(row["payload"]),
        priority=Priority(row["priority"]),
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=from_db_time(row["next_attempt_at"]),
        claimed_by=row["claimed_by"],
        claimed_at=from_db_time_or_none(row["claimed_at"]),
        last_error=row["last_error"],
        message_id=row["message_id"],
        created_at=from_db_time(row["created_at"]),
        sent_at=from_db_time_or_none(row["sent_at"]),
    )


def _keys_starting_with(prefix: str) -> tuple[str, str]:
    """The range of dedupe keys that start with `prefix` (from it, up to the prefix whose last character comes next):
    a search of the unique key's index, where a prefix match would read the whole table."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
