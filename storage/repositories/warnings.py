"""Warnings, their revisions, who received them and who acknowledged them (migration 0005).

The service decides what a warning becomes; this repository only stores it. `add` writes the warning with its
revision 1, `save` replaces the latest state, `add_revision` appends to the append-only history.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime

import aiosqlite

from bot.domain.warnings import (
    EarlyWarning,
    NewWarning,
    WarningChange,
    WarningKind,
    WarningLevel,
    WarningOrigin,
    WarningStatus,
    WarningTarget,
)
from storage.db import Database
from storage.models import InstitutionType, RiskTag
from storage.repositories._codec import from_db_time, from_db_time_or_none, marks, to_db_time, to_db_time_or_none
from storage.warning_models import (
    AckResponse,
    Follower,
    RecipientKind,
    WarningAck,
    WarningRecipient,
    WarningRevision,
)

_CONTENT = (
    "kind, level, headline, description, instruction, onset, expires, target_regions, target_types, target_tags, "
    "origin, status, revision, sender, identifier, refs, rule, feed_url, created_by, created_at"
)
_COLUMNS = f"id, {_CONTENT}, updated_at, sent_at, ended_at"
_REVISION_COLUMNS = (
    "warning_id, revision, change, level, headline, description, instruction, onset, expires, msg_type, sender, "
    "identifier, cap_sent, refs, source_url, actor_id, at"
)
_RECIPIENT_COLUMNS = "kind, chat_id, topic_id, institution_id, region_code"


class WarningRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- warnings ------------------------------------------------------------------------------------------

    async def add(self, new: NewWarning, first: WarningRevision) -> EarlyWarning:
        """Store a new warning and its revision 1 (whose warning_id is ignored) together."""
        async with self._db.transaction():
            warning_id = await self._db.execute(
                f"INSERT INTO warnings ({_CONTENT}, updated_at) VALUES ({', '.join('?' * 21)})",
                (*_content(new), to_db_time(new.created_at)),
            )
            await self.add_revision(first.model_copy(update={"warning_id": warning_id}))
            stored = await self.get(warning_id)
        assert stored is not None
        return stored

    async def save(self, warning: EarlyWarning) -> EarlyWarning:
        """Replace the latest state; the id, origin, feed identity and creation never change."""
        await self._db.execute(
            "UPDATE warnings SET kind = ?, level = ?, headline = ?, description = ?, instruction = ?, onset = ?, "
            "expires = ?, target_regions = ?, target_types = ?, target_tags = ?, status = ?, revision = ?, "
            "refs = ?, rule = ?, updated_at = ?, sent_at = ?, ended_at = ? WHERE id = ?",
            (
                warning.kind.value,
                warning.level.value,
                warning.headline,
                warning.description,
                warning.instruction,
                to_db_time(warning.onset),
                to_db_time_or_none(warning.expires),
                *_target(warning.target),
                warning.status.value,
                warning.revision,
                json.dumps(list(warning.references), ensure_ascii=False),
                warning.rule,
                to_db_time(warning.updated_at),
                to_db_time_or_none(warning.sent_at),
                to_db_time_or_none(warning.ended_at),
                warning.id,
            ),
        )
        return warning

    async def get(self, warning_id: int) -> EarlyWarning | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM warnings WHERE id = ?", (warning_id,))
        return None if row is None else _warning(row)

    async def by_message(self, sender: str, identifier: str) -> EarlyWarning | None:
        """The warning that a CAP message (its first, or any later revision) belongs to."""
        row = await self._db.fetchone(
            f"SELECT {', '.join('w.' + c.strip() for c in _COLUMNS.split(','))} FROM warnings w "
            "JOIN warning_revisions r ON r.warning_id = w.id WHERE r.sender = ? AND r.identifier = ?",
            (sender, identifier),
        )
        return None if row is None else _warning(row)

    async def source_seen(self, url: str) -> bool:
        """Whether a CAP document at this address has already been stored as some warning's revision."""
        found = await self._db.fetchval("SELECT 1 FROM warning_revisions WHERE source_url = ? LIMIT 1", (url,))
        return found is not None

    async def with_status(
        self,
        statuses: Collection[WarningStatus],
        *,
        origin: WarningOrigin | None = None,
        kind: WarningKind | None = None,
    ) -> list[EarlyWarning]:
        clauses = [f"status IN ({', '.join('?' * len(statuses))})"]
        params: list[object] = [status.value for status in statuses]
        if origin is not None:
            clauses.append("origin = ?")
            params.append(origin.value)
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind.value)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM warnings WHERE {' AND '.join(clauses)} ORDER BY id", params
        )
        return [_warning(row) for row in rows]

    async def ended_since(self, since: datetime) -> list[EarlyWarning]:
        """Warnings sent, then lifted or run out at `since` or later, the latest ended first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM warnings WHERE status IN (?, ?) AND sent_at IS NOT NULL AND ended_at >= ? "
            "ORDER BY ended_at DESC, id DESC",
            (WarningStatus.CANCELLED.value, WarningStatus.EXPIRED.value, to_db_time(since)),
        )
        return [_warning(row) for row in rows]

    async def sent_during(self, kind: WarningKind, start: datetime, end: datetime) -> list[EarlyWarning]:
        """Warnings of this kind sent before `end` and not ended before `start` (in force, or ended within the
        span): those whose time in force may overlap [start, end)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM warnings WHERE kind = ? AND sent_at IS NOT NULL AND sent_at < ? "
            "AND (ended_at IS NULL OR ended_at > ?) ORDER BY id",
            (kind.value, to_db_time(end), to_db_time(start)),
        )
        return [_warning(row) for row in rows]

    async def drafts_ended_since(self, since: datetime) -> list[EarlyWarning]:
        """Drafts that ended without ever being sent (set aside, withdrawn, past their time) at `since` or later."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM warnings WHERE status IN (?, ?) AND sent_at IS NULL AND ended_at >= ? "
            "ORDER BY ended_at, id",
            (WarningStatus.CANCELLED.value, WarningStatus.EXPIRED.value, to_db_time(since)),
        )
        return [_warning(row) for row in rows]

    async def source_urls(self, warning_id: int) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT source_url FROM warning_revisions WHERE warning_id = ? AND source_url IS NOT NULL", (warning_id,)
        )
        return {row["source_url"] for row in rows}

    # ---- revisions -----------------------------------------------------------------------------------------

    async def add_revision(self, revision: WarningRevision) -> WarningRevision:
        await self._db.execute(
            f"INSERT INTO warning_revisions ({_REVISION_COLUMNS}) VALUES ({', '.join('?' * 17)})",
            (
                revision.warning_id,
                revision.revision,
                revision.change.value,
                revision.level.value,
                revision.headline,
                revision.description,
                revision.instruction,
                to_db_time(revision.onset),
                to_db_time_or_none(revision.expires),
                revision.msg_type,
                revision.sender,
                revision.identifier,
                to_db_time_or_none(revision.cap_sent),
                json.dumps(list(revision.references), ensure_ascii=False),
                revision.source_url,
                revision.actor_id,
                to_db_time(revision.at),
            ),
        )
        return revision

    async def revisions(self, warning_id: int) -> list[WarningRevision]:
        rows = await self._db.fetchall(
            f"SELECT {_REVISION_COLUMNS} FROM warning_revisions WHERE warning_id = ? ORDER BY revision",
            (warning_id,),
        )
        return [_revision(row) for row in rows]

    # ---- recipients and acknowledgements -------------------------------------------------------------------

    async def add_recipients(self, warning_id: int, recipients: Iterable[WarningRecipient], at: datetime) -> None:
        """Repeats of a recipient are ignored, so the list can be topped up without duplicates. A head's
        institution is one the warning concerns (`institutions`)."""
        recipients = list(recipients)
        when = to_db_time(at)
        await self.add_institutions(warning_id, [
            (r.institution_id, r.region_code)
            for r in recipients
            if r.kind is RecipientKind.HEAD and r.institution_id is not None
        ])
        await self._db.executemany(
            f"INSERT OR IGNORE INTO warning_recipients (warning_id, {_RECIPIENT_COLUMNS}, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (warning_id, r.kind.value, r.chat_id, r.topic_id, r.institution_id, r.region_code, when)
                for r in recipients
            ],
        )

    async def add_institutions(self, warning_id: int, institutions: Iterable[tuple[int, str]]) -> None:
        """The institutions (id, region code) the warning concerns, told or not; repeats are ignored."""
        await self._db.executemany(
            "INSERT OR IGNORE INTO warning_institutions (warning_id, institution_id, region_code) VALUES (?, ?, ?)",
            [(warning_id, institution_id, region) for institution_id, region in institutions],
        )

    async def institutions(self, warning_id: int) -> dict[int, str]:
        """Institution id → region code, for every institution the warning concerns (by id)."""
        rows = await self._db.fetchall(
            "SELECT institution_id, region_code FROM warning_institutions WHERE warning_id = ? ORDER BY institution_id",
            (warning_id,),
        )
        return {int(row["institution_id"]): str(row["region_code"]) for row in rows}

    async def no_one_named(self, warning_id: int) -> dict[int, set[int]]:
        """Chat id → the institutions with no one to reach that it has been named for this warning (migration 0018)."""
        rows = await self._db.fetchall(
            "SELECT chat_id, institution_id FROM warning_no_one_named WHERE warning_id = ?", (warning_id,)
        )
        named: dict[int, set[int]] = {}
        for row in rows:
            named.setdefault(int(row["chat_id"]), set()).add(int(row["institution_id"]))
        return named

    async def add_no_one_named(self, warning_id: int, chat_id: int, institutions: Iterable[int], at: datetime) -> None:
        await self._db.executemany(
            "INSERT OR IGNORE INTO warning_no_one_named (warning_id, chat_id, institution_id, named_at) "
            "VALUES (?, ?, ?, ?)",
            [(warning_id, chat_id, institution_id, to_db_time(at)) for institution_id in institutions],
        )

    async def take_charge(self, warning_id: int, county_code: str, telegram_id: int, at: datetime) -> Follower:
        """Record `telegram_id` as following up the county's silent institutions unless someone already does
        (migration 0023); returns whoever does now."""
        await self._db.execute(
            "INSERT OR IGNORE INTO warning_followers (warning_id, county_code, telegram_id, taken_at) "
            "VALUES (?, ?, ?, ?)",
            (warning_id, county_code, telegram_id, to_db_time(at)),
        )
        followers = await self.followers(warning_id)
        return followers[county_code]

    async def release(self, warning_id: int, county_code: str, telegram_id: int) -> bool:
        """↩️ 交回跟进: `telegram_id` no longer follows the county up; False when they did not (any more). The row
        goes: who held it and since when stay in the audit log (`warning.taken_in_charge`, `warning.handed_back`)."""
        removed = await self._db.execute_rowcount(
            "DELETE FROM warning_followers WHERE warning_id = ? AND county_code = ? AND telegram_id = ?",
            (warning_id, county_code, telegram_id),
        )
        return removed > 0

    async def followers(self, warning_id: int) -> dict[str, Follower]:
        """County code → who took charge of its silent institutions of this warning."""
        rows = await self._db.fetchall(
            "SELECT county_code, telegram_id, taken_at FROM warning_followers WHERE warning_id = ?", (warning_id,)
        )
        return {
            row["county_code"]: Follower(telegram_id=int(row["telegram_id"]), taken_at=from_db_time(row["taken_at"]))
            for row in rows
        }

    async def recipients(self, warning_id: int, kinds: Iterable[RecipientKind] | None = None) -> list[WarningRecipient]:
        """Every recipient row; with `kinds`, those of these kinds alone (the status reads the heads, not the
        city's thousands of cadres)."""
        values = [] if kinds is None else [kind.value for kind in kinds]
        which = "" if kinds is None else f"AND kind IN ({marks(values)}) "
        rows = await self._db.fetchall(
            f"SELECT {_RECIPIENT_COLUMNS} FROM warning_recipients WHERE warning_id = ? {which}"
            "ORDER BY kind, region_code, chat_id, IFNULL(topic_id, 0), IFNULL(institution_id, 0)",
            (warning_id, *values),
        )
        return [_recipient(row) for row in rows]

    async def recipients_in_chat(
        self, warning_id: int, chat_id: int, kinds: Iterable[RecipientKind]
    ) -> list[WarningRecipient]:
        """The rows of one chat, of these kinds: what one person's answer needs, on the key's index (the typhoon
        morning's hundreds of answers at once must not each read every recipient)."""
        values = [kind.value for kind in kinds]
        rows = await self._db.fetchall(
            f"SELECT {_RECIPIENT_COLUMNS} FROM warning_recipients WHERE warning_id = ? "
            f"AND kind IN ({marks(values)}) AND chat_id = ? ORDER BY kind, IFNULL(institution_id, 0)",
            (warning_id, *values, chat_id),
        )
        return [_recipient(row) for row in rows]

    async def record_ack(self, ack: WarningAck) -> WarningAck:
        """Keep the person's latest answer for the institution: "need help" may follow "received", or end."""
        await self._db.execute(
            "INSERT INTO warning_acks (warning_id, user_id, institution_id, response, revision, at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (warning_id, user_id, IFNULL(institution_id, 0)) DO UPDATE SET "
            "response = excluded.response, revision = excluded.revision, at = excluded.at",
            (ack.warning_id, ack.user_id, ack.institution_id, ack.response.value, ack.revision, to_db_time(ack.at)),
        )
        return ack

    async def acks(self, warning_id: int, user_id: int | None = None) -> list[WarningAck]:
        """The answers to the warning; with `user_id`, that person's alone (on the unique key's index)."""
        mine, params = ("AND user_id = ? ", (warning_id, user_id)) if user_id is not None else ("", (warning_id,))
        rows = await self._db.fetchall(
            "SELECT warning_id, user_id, institution_id, response, revision, at FROM warning_acks "
            f"WHERE warning_id = ? {mine}ORDER BY at, user_id",
            params,
        )
        return [
            WarningAck(
                warning_id=row["warning_id"],
                user_id=row["user_id"],
                institution_id=row["institution_id"],
                response=AckResponse(row["response"]),
                revision=row["revision"],
                at=from_db_time(row["at"]),
            )
            for row in rows
        ]


def _target(target: WarningTarget) -> tuple[str, str, str]:
    return (
        json.dumps(sorted(target.regions)),
        json.dumps(sorted(t.value for t in target.institution_types)),
        json.dumps(sorted(t.value for t in target.risk_tags)),
    )


def _content(new: NewWarning) -> tuple[object, ...]:
    return (
        new.kind.value,
        new.level.value,
        new.headline,
        new.description,
        new.instruction,
        to_db_time(new.onset),
        to_db_time_or_none(new.expires),
        *_target(new.target),
        new.origin.value,
        new.status.value,
        new.revision,
        new.sender,
        new.identifier,
        json.dumps(list(new.references), ensure_ascii=False),
        new.rule,
        new.feed_url,
        new.created_by,
        to_db_time(new.created_at),
    )


def _warning(row: aiosqlite.Row) -> EarlyWarning:
    return EarlyWarning(
        id=row["id"],
        kind=WarningKind(row["kind"]),
        level=WarningLevel(row["level"]),
        headline=row["headline"],
        description=row["description"],
        instruction=row["instruction"],
        onset=from_db_time(row["onset"]),
        expires=from_db_time_or_none(row["expires"]),
        target=WarningTarget(
            regions=frozenset(json.loads(row["target_regions"])),
            institution_types=frozenset(InstitutionType(t) for t in json.loads(row["target_types"])),
            risk_tags=frozenset(RiskTag(t) for t in json.loads(row["target_tags"])),
        ),
        origin=WarningOrigin(row["origin"]),
        status=WarningStatus(row["status"]),
        revision=row["revision"],
        sender=row["sender"],
        identifier=row["identifier"],
        references=tuple(json.loads(row["refs"])),
        rule=row["rule"],
        feed_url=row["feed_url"],
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        sent_at=from_db_time_or_none(row["sent_at"]),
        ended_at=from_db_time_or_none(row["ended_at"]),
    )


def _revision(row: aiosqlite.Row) -> WarningRevision:
    return WarningRevision(
        warning_id=row["warning_id"],
        revision=row["revision"],
        change=WarningChange(row["change"]),
        level=WarningLevel(row["level"]),
        headline=row["headline"],
        description=row["description"],
        instruction=row["instruction"],
        onset=from_db_time(row["onset"]),
        expires=from_db_time_or_none(row["expires"]),
        msg_type=row["msg_type"],
        sender=row["sender"],
        identifier=row["identifier"],
        cap_sent=from_db_time_or_none(row["cap_sent"]),
        references=tuple(json.loads(row["refs"])),
        source_url=row["source_url"],
        actor_id=row["actor_id"],
        at=from_db_time(row["at"]),
    )


def _recipient(row: aiosqlite.Row) -> WarningRecipient:
    return WarningRecipient(
        kind=RecipientKind(row["kind"]),
        chat_id=row["chat_id"],
        topic_id=row["topic_id"],
        institution_id=row["institution_id"],
        region_code=row["region_code"],
    )
