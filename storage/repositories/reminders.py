"""The reminders table: planned messages, claimed atomically by a sweeper, then sent, released or cancelled.

Every state change that a second sweeper could race is one UPDATE guarded by the state it expects, so two
sweepers (or a sweeper restarted half-way) can never both own a row: `claim_due` turns pending rows into claimed
ones and returns exactly those it changed.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain.reminders import ReminderKind
from storage.calendar_models import NewReminder, Reminder, ReminderState, SubjectType
from storage.db import Database
from storage.repositories._codec import dump_json, from_db_time, from_db_time_or_none, marks, to_db_time

_COLUMNS = (
    "id, dedupe_key, kind, step, subject_type, subject_id, period, recipient_id, topic_id, due_at, urgent, detail, "
    "state, claimed_by, claimed_at, sent_at, retry_at, late, attempts, created_at"
)
_CLAIMED_COLUMNS = (
    "id, kind, step, subject_type, subject_id, period, recipient_id, topic_id, due_at, urgent, detail, late, attempts"
)
_NEW_COLUMNS = (
    "dedupe_key, kind, step, subject_type, subject_id, period, recipient_id, topic_id, due_at, urgent, detail, "
    "state, created_at"
)
_PENDING, _CLAIMED = ReminderState.PENDING.value, ReminderState.CLAIMED.value
_CANCELLED = ReminderState.CANCELLED.value
# Where the rows are named by id, the state is a guard, not a search: the unary + keeps SQLite from walking an index
# of that state for it (every pending row of the city, a hundred thousand of them) instead of looking the ids up.
_NOT_INDEXED_STATE = "+state = ?"
# The partial indexes of migration 0011 hold the pending rows (by due time, by subject) and the claimed ones (by
# claim time). SQLite uses a partial index only for a statement whose WHERE names that state as it is written in
# the index, not through a parameter.
_IS_PENDING = f"state = '{_PENDING}'"
_IS_CLAIMED = f"state = '{_CLAIMED}'"
# Rows settled by one statement: well under SQLite's limit of parameters (32,766).
_SETTLE_SLICE = 5000
# A dictionary lookup rather than an Enum call for each of a thousand claimed rows.
_KINDS = {kind.value: kind for kind in ReminderKind}
_SUBJECT_TYPES = {subject_type.value: subject_type for subject_type in SubjectType}


@dataclass(frozen=True, slots=True)
class ClaimedReminder:
    """A row as a sweep has just claimed it: what building and sending it needs. A plain dataclass rather than
    the pydantic `Reminder`: a sweep claims up to a thousand rows at a time (the first morning of a month), and
    validating rows this repository wrote itself was most of the claim's cost."""

    id: int
    kind: ReminderKind
    step: str
    subject_type: SubjectType
    subject_id: str
    period: str | None
    recipient_id: int
    topic_id: int | None
    due_at: datetime
    urgent: bool
    detail: dict[str, Any]
    late: bool
    attempts: int  # 1 on the first claim



@dataclass(frozen=True, slots=True)
class CountedReminder:
    """A row claimed to be counted in a message, not listed: what tells its subject apart (`row_subject`)."""

    id: int
    subject_type: SubjectType
    subject_id: str
    period: str | None
    duty: str | None  # the detail's duty, for an institution's


@dataclass(frozen=True, slots=True)
class GivenBack:
    """A claim taken back from a sweeper presumed dead: its message may have reached Telegram already."""

    id: int
    recipient_id: int
    claimed_by: str | None  # None when it is not known (a claim past its lease)


class ReminderRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def plan(self, rows: Iterable[NewReminder], now: datetime, *, move_pending: bool = False) -> None:
        """Add rows whose dedupe key is new, and revive cancelled ones planned again (a reopened hazard).

        A row that is claimed, sent or failed is left exactly as it is: planning twice never resends. So is a pending
        one, unless `move_pending`: then a pending row not yet due whose planned time has changed moves to it (the
        ladder's rule changed under a live table: the weekly repeats moved to Monday). Never one already due: it may
        be waiting for a retry, or for the end of quiet hours, and its key still says it has not gone out.
        """
        params = [
            (
                row.dedupe_key,
                row.kind.value,
                row.step,
                row.subject_type.value,
                row.subject_id,
                row.period,
                row.recipient_id,
                row.topic_id,
                to_db_time(row.due_at),
                int(row.urgent),
                dump_json(row.detail),
                _PENDING,
                to_db_time(now),
            )
            for row in rows
        ]
        if not params:
            return
        # A pending row not yet due has never been claimed: resetting its claim, retry and lateness changes nothing.
        moved = (
            f" OR (reminders.state = '{_PENDING}' AND reminders.due_at > '{to_db_time(now)}' "
            "AND reminders.due_at <> excluded.due_at)"
            if move_pending else ""
        )
        await self._db.executemany(
            f"INSERT INTO reminders ({_NEW_COLUMNS}) VALUES ({marks(params[0])}) "
            "ON CONFLICT (dedupe_key) DO UPDATE SET state = excluded.state, due_at = excluded.due_at, "
            "urgent = excluded.urgent, detail = excluded.detail, retry_at = NULL, claimed_by = NULL, "
            f"claimed_at = NULL, late = 0 WHERE reminders.state = '{_CANCELLED}'{moved}",
            params,
        )

    async def cancel_pending_except(
        self, subject_type: SubjectType, subject_ids: Sequence[str], keep: Container[str]
    ) -> int:
        """Cancel the subjects' pending rows whose key is not in `keep` (a set, or anything that can tell); returns how
        many."""
        if not subject_ids:
            return 0
        rows = await self._db.fetchall(
            "SELECT id, dedupe_key FROM reminders "
            f"WHERE subject_type = ? AND subject_id IN ({marks(subject_ids)}) AND {_IS_PENDING}",
            (subject_type.value, *subject_ids),
        )
        stale = [int(row["id"]) for row in rows if row["dedupe_key"] not in keep]
        if not stale:
            return 0
        return await self._db.execute_rowcount(
            f"UPDATE reminders SET state = ? WHERE id IN ({marks(stale)}) AND {_NOT_INDEXED_STATE}",
            (_CANCELLED, *stale, _PENDING),
        )

    async def subjects_pending_after(
        self, subject_type: SubjectType, subject_ids: Sequence[str], after: datetime
    ) -> set[str]:
        """Which of these subjects have a pending row due after `after`."""
        if not subject_ids:
            return set()
        rows = await self._db.fetchall(
            "SELECT DISTINCT subject_id FROM reminders "
            f"WHERE subject_type = ? AND subject_id IN ({marks(subject_ids)}) AND {_IS_PENDING} AND due_at > ?",
            (subject_type.value, *subject_ids, to_db_time(after)),
        )
        return {str(row["subject_id"]) for row in rows}

    async def cancel_pending_of_period(
        self, subject_type: SubjectType, subject_ids: Sequence[str], period: str, kinds: Collection[ReminderKind]
    ) -> int:
        """Cancel the subjects' pending rows of these kinds about this period (a duty done); returns how many."""
        if not subject_ids or not kinds:
            return 0
        kind_values = sorted(kind.value for kind in kinds)
        return await self._db.execute_rowcount(
            f"UPDATE reminders SET state = ? WHERE subject_type = ? AND subject_id IN ({marks(subject_ids)}) "
            f"AND {_IS_PENDING} AND period = ? AND kind IN ({marks(kind_values)})",
            (_CANCELLED, subject_type.value, *subject_ids, period, *kind_values),
        )

    async def claim_due(
        self,
        now: datetime,
        worker_id: str,
        *,
        include_non_urgent: bool,
        late_before: datetime,
        limit: int = 1000,
        recipient: tuple[int, int | None] | None = None,
    ) -> list[ClaimedReminder]:
        """Claim pending rows due by `now` in one statement, and return them; rows due before `late_before`
        are flagged late. Non-urgent rows are left pending when `include_non_urgent` is False (quiet hours).
        `recipient`: that chat's (and topic's) rows alone, the most pressing first (`PRESSING_ORDER`), as the
        message lists them (`reminder_items.pressing_first`)."""
        rows = await self._db.fetchall(
            f"{_claim(recipient, pressing=True)} RETURNING {_CLAIMED_COLUMNS}",
            _claim_params(now, worker_id, include_non_urgent, late_before, limit, recipient),
        )
        return sorted((_claimed(row) for row in rows), key=lambda r: (r.due_at, r.id))

    async def claim_counted(
        self,
        now: datetime,
        worker_id: str,
        recipient: tuple[int, int | None],
        *,
        include_non_urgent: bool,
        late_before: datetime,
        limit: int,
    ) -> list[CountedReminder]:
        """`claim_due` for one recipient, answering only what counting the rows needs (no detail to parse): the rows
        a message counts but does not list, in whatever order the index walks them (all are counted alike)."""
        rows = await self._db.fetchall(
            f"{_claim(recipient, pressing=False)} "
            "RETURNING id, subject_type, subject_id, period, json_extract(detail, '$.duty')",
            _claim_params(now, worker_id, include_non_urgent, late_before, limit, recipient),
        )
        return [
            CountedReminder(int(id_), _SUBJECT_TYPES[subject_type], subject_id, period, duty)
            for id_, subject_type, subject_id, period, duty in rows
        ]

    async def mark_sent(self, ids: Sequence[int], worker_id: str, now: datetime) -> int:
        return await self._finish_claim(
            ids, worker_id, "state = ?, sent_at = ?", (ReminderState.SENT.value, to_db_time(now))
        )

    async def cancel_claimed(self, ids: Sequence[int], worker_id: str) -> int:
        return await self._finish_claim(ids, worker_id, "state = ?", (_CANCELLED,))

    async def move_recipient(self, old_chat_id: int, new_chat_id: int) -> int:
        """Reminders still to come for a group that became a supergroup go to its new id, under the keys a plan
        for the new id makes (each key ends with the recipient), so that planning again adds nothing twice. A
        supergroup has no topics yet, nor had the group. Returns how many moved; any whose new key a plan had
        already made are cancelled."""
        old_tag, new_tag = f":{old_chat_id}", f":{new_chat_id}"
        moved = await self._db.execute_rowcount(
            "UPDATE OR IGNORE reminders SET recipient_id = ?, "
            "dedupe_key = substr(dedupe_key, 1, length(dedupe_key) - ?) || ?, "
            "subject_id = CASE WHEN subject_type = ? AND subject_id = ? THEN ? ELSE subject_id END "
            f"WHERE recipient_id = ? AND {_IS_PENDING} AND topic_id IS NULL AND dedupe_key LIKE ?",
            (new_chat_id, len(old_tag), new_tag, SubjectType.GROUP.value, str(old_chat_id), str(new_chat_id),
             old_chat_id, f"%{old_tag}"),
        )
        await self._db.execute(
            f"UPDATE reminders SET state = ? WHERE recipient_id = ? AND {_IS_PENDING}", (_CANCELLED, old_chat_id)
        )
        return moved

    async def cancel_pending_for(self, recipient_id: int) -> int:
        """Reminders still to come for a person (or chat) no longer to be reminded; how many."""
        return await self._db.execute_rowcount(
            f"UPDATE reminders SET state = ? WHERE recipient_id = ? AND {_IS_PENDING}", (_CANCELLED, recipient_id)
        )

    async def leave_topic(self, chat_id: int, topic_id: int, *, follow: bool) -> int:
        """Reminders still to come for a forum topic that refuses messages: with `follow`, they go to the group's
        general chat under the keys a plan for it makes (any the plan had already made are cancelled); without,
        they are cancelled. Returns how many moved."""
        old_tag, new_tag = f":{chat_id}/{topic_id}", f":{chat_id}"
        moved = 0
        if follow:
            moved = await self._db.execute_rowcount(
                "UPDATE OR IGNORE reminders SET topic_id = NULL, "
                "dedupe_key = substr(dedupe_key, 1, length(dedupe_key) - ?) || ? "
                f"WHERE recipient_id = ? AND topic_id = ? AND {_IS_PENDING} AND dedupe_key LIKE ?",
                (len(old_tag), new_tag, chat_id, topic_id, f"%{old_tag}"),
            )
        await self._db.execute(
            f"UPDATE reminders SET state = ? WHERE recipient_id = ? AND topic_id = ? AND {_IS_PENDING}",
            (_CANCELLED, chat_id, topic_id),
        )
        return moved

    async def release(
        self, ids: Sequence[int], worker_id: str, *, retry_at: datetime | None, failed: bool = False
    ) -> int:
        """Give claimed rows back: pending again (not before `retry_at`), or failed for good."""
        state = ReminderState.FAILED.value if failed else _PENDING
        return await self._finish_claim(
            ids,
            worker_id,
            "state = ?, retry_at = ?, claimed_by = NULL, claimed_at = NULL",
            (state, None if retry_at is None else to_db_time(retry_at)),
        )

    async def claimants(self) -> list[str]:
        """The sweepers holding claims now."""
        rows = await self._db.fetchall(f"SELECT DISTINCT claimed_by FROM reminders WHERE {_IS_CLAIMED}")
        return [str(row["claimed_by"]) for row in rows if row["claimed_by"] is not None]

    async def recover_from(self, workers: Sequence[str]) -> list[GivenBack]:
        """Every claim of these (dead) sweepers goes back to pending, however young."""
        given_back = []
        for worker in workers:  # one at a time: RETURNING sees the row after the update, without its claimant
            rows = await self._db.fetchall(
                f"UPDATE reminders SET state = ?, claimed_by = NULL, claimed_at = NULL "
                f"WHERE {_IS_CLAIMED} AND claimed_by = ? RETURNING id, recipient_id",
                (_PENDING, worker),
            )
            given_back += [GivenBack(int(row[0]), int(row[1]), worker) for row in rows]
        return sorted(given_back, key=lambda claim: claim.id)

    async def recover_stale(self, claimed_before: datetime) -> list[GivenBack]:
        """Claims a crashed sweeper left behind go back to pending."""
        rows = await self._db.fetchall(
            f"UPDATE reminders SET state = ?, claimed_by = NULL, claimed_at = NULL WHERE {_IS_CLAIMED} "
            "AND claimed_at < ? RETURNING id, recipient_id",
            (_PENDING, to_db_time(claimed_before)),
        )
        return sorted((GivenBack(int(row[0]), int(row[1]), None) for row in rows), key=lambda claim: claim.id)

    async def next_due(self, *, urgent: bool) -> datetime | None:
        """The earliest moment a pending row of that urgency may be claimed."""
        value = await self._db.fetchval(
            f"SELECT MIN(COALESCE(retry_at, due_at)) FROM reminders WHERE {_IS_PENDING} AND urgent = ?",
            (int(urgent),),
        )
        return None if value is None else from_db_time(value)

    async def get_by_key(self, dedupe_key: str) -> Reminder | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM reminders WHERE dedupe_key = ?", (dedupe_key,))
        return None if row is None else _reminder(row)

    async def find(
        self,
        *,
        state: ReminderState | None = None,
        kind: ReminderKind | None = None,
        subject: tuple[SubjectType, str] | None = None,
    ) -> list[Reminder]:
        clauses, params = ["1 = 1"], []
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value)
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind.value)
        if subject is not None:
            clauses.append("subject_type = ? AND subject_id = ?")
            params += [subject[0].value, subject[1]]
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM reminders WHERE {' AND '.join(clauses)} ORDER BY due_at, id", params
        )
        return [_reminder(row) for row in rows]

    async def _finish_claim(
        self, ids: Sequence[int], worker_id: str, assignments: str, values: tuple[object, ...]
    ) -> int:
        if not ids:
            return 0
        # Only the sweeper that holds the claim may settle it: a stale claim recovered and re-claimed by another
        # sweeper is not marked sent by the first one. A message covers all of a person's due rows (a city admin's
        # first morning: tens of thousands), past what one statement may name: settled a slice at a time, all in one
        # transaction, so that a crash leaves none of them sent and the rest claimed (to go out a second time).
        if len(ids) <= _SETTLE_SLICE:
            return await self._settle(ids, worker_id, assignments, values)
        settled = 0
        async with self._db.transaction():
            for start in range(0, len(ids), _SETTLE_SLICE):
                settled += await self._settle(ids[start : start + _SETTLE_SLICE], worker_id, assignments, values)
        return settled

    async def _settle(
        self, ids: Sequence[int], worker_id: str, assignments: str, values: tuple[object, ...]
    ) -> int:
        return await self._db.execute_rowcount(
            f"UPDATE reminders SET {assignments} WHERE id IN ({marks(ids)}) AND {_NOT_INDEXED_STATE} "
            "AND claimed_by = ?",
            (*values, *ids, _CLAIMED, worker_id),
        )


# A person's rows, the most pressing first, as `reminder_items.pressing_first` orders the items built from them:
# urgent (重大) first, then by when the hazard's deadline or the duty's period ended (the longest overdue first, then
# the soonest due; an institution's "no head" line after the duties of the same day), then by the row's own due
# time. Not the row's due time first: a week's overdue hazards all repeat at Monday 09:00, and that tie put them in
# id order, listing hazards 1 day overdue and counting those 115 days overdue among "the rest". Read from the row's
# detail (hazard rows keep the deadline they were planned for, duty rows their period): the sort runs once per
# person per round, before their list is full.
PRESSING_ORDER = (
    "urgent DESC, COALESCE(json_extract(detail, '$.deadline'), json_extract(detail, '$.end')), "
    f"kind = '{ReminderKind.HEADLESS.value}', due_at, id"
)


def _claim(recipient: tuple[int, int | None] | None, *, pressing: bool = True) -> str:
    """The claim's UPDATE (without RETURNING): pending rows due, the earliest first; a recipient's, the most pressing
    first (`pressing`), or in the index's order (migration 0028) when they are only to be counted. due_at <= now
    bounds the walk along the index to the rows already due; COALESCE alone cannot be searched, so a minute with a
    handful of rows due read every pending row of the city (35 ms at 65,000). A retry comes after its row's due time
    (release: the claim's time plus a delay), so the bound loses none."""
    whose, order = "", "due_at, id"
    if recipient is not None:
        whose = "AND recipient_id = ? AND topic_id IS ? "
        order = PRESSING_ORDER if pressing else "urgent DESC, due_at, id"
    return (
        "UPDATE reminders SET state = ?, claimed_by = ?, claimed_at = ?, attempts = attempts + 1, "
        "late = CASE WHEN late = 1 OR due_at < ? THEN 1 ELSE 0 END "
        f"WHERE {_NOT_INDEXED_STATE} AND id IN (SELECT id FROM reminders WHERE {_IS_PENDING} {whose}"
        "AND due_at <= ? AND COALESCE(retry_at, due_at) <= ? AND (urgent = 1 OR ? = 1) "
        f"ORDER BY {order} LIMIT ?)"
    )


def _claim_params(
    now: datetime,
    worker_id: str,
    include_non_urgent: bool,
    late_before: datetime,
    limit: int,
    recipient: tuple[int, int | None] | None,
) -> tuple[object, ...]:
    stamp = to_db_time(now)
    whom = () if recipient is None else recipient
    return (
        _CLAIMED, worker_id, stamp, to_db_time(late_before), _PENDING, *whom, stamp, stamp, int(include_non_urgent),
        limit,
    )


def _claimed(row: aiosqlite.Row) -> ClaimedReminder:
    # By position (the order of _CLAIMED_COLUMNS): looking a thousand rows' columns up by name is measurable.
    (id_, kind, step, subject_type, subject_id, period, recipient_id, topic_id, due_at, urgent, detail, late,
     attempts) = row
    return ClaimedReminder(
        id=id_,
        kind=_KINDS[kind],
        step=step,
        subject_type=_SUBJECT_TYPES[subject_type],
        subject_id=subject_id,
        period=period,
        recipient_id=recipient_id,
        topic_id=topic_id,
        due_at=from_db_time(due_at),
        urgent=bool(urgent),
        detail=json.loads(detail),
        late=bool(late),
        attempts=attempts,
    )


def _reminder(row: aiosqlite.Row) -> Reminder:
    return Reminder(
        id=row["id"],
        dedupe_key=row["dedupe_key"],
        kind=ReminderKind(row["kind"]),
        step=row["step"],
        subject_type=SubjectType(row["subject_type"]),
        subject_id=row["subject_id"],
        period=row["period"],
        recipient_id=row["recipient_id"],
        topic_id=row["topic_id"],
        due_at=from_db_time(row["due_at"]),
        urgent=bool(row["urgent"]),
        detail=json.loads(row["detail"]),
        state=ReminderState(row["state"]),
        claimed_by=row["claimed_by"],
        claimed_at=from_db_time_or_none(row["claimed_at"]),
        sent_at=from_db_time_or_none(row["sent_at"]),
        retry_at=from_db_time_or_none(row["retry_at"]),
        late=bool(row["late"]),
        attempts=row["attempts"],
        created_at=from_db_time(row["created_at"]),
    )
