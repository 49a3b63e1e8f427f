"""Rows for the spreadsheets a bureau files: the problem list (问题清单) and the registers of drills, self-inspections
and warning acknowledgements, a page at a time.

Pages are keyset-paginated (`after` the last id seen), so a city's 100,000 hazards stream through in bounded memory
and each page costs the same however deep into the list it is. Rows come back as plain dicts of column values;
names are joined in SQL, so no page needs a query per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.domain.catalog import SENSITIVE_AREAS
from bot.domain.stats import Scope
from storage.db import Database
from storage.repositories._codec import from_db_time, from_db_time_or_none, marks, to_db_time
from storage.repositories.stats import answered_in_force, hazard_scope, institution_scope

_HEAD = "head"  # storage.warning_models.RecipientKind.HEAD
_SENSITIVE = sorted(a.value for a in SENSITIVE_AREAS)

# Region names of an institution's (or hazard's) county and township, by code prefix.
_PLACES = (
    "LEFT JOIN regions c ON c.code = substr({a}.region_code, 1, 6) "
    "LEFT JOIN regions t ON length({a}.region_code) >= 9 AND t.code = substr({a}.region_code, 1, 9)"
)
_PLACE_COLUMNS = (
    "c.name_zh AS county_zh, c.name_en AS county_en, c.level AS county_level, "
    "t.name_zh AS township_zh, t.name_en AS township_en"
)


def _row(row: aiosqlite.Row, times: Sequence[str] = ()) -> dict[str, Any]:
    values = dict(zip(row.keys(), tuple(row), strict=True))
    for column in times:
        values[column] = from_db_time_or_none(values[column])
    return values


class ExportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def count_hazards(self, scope: Scope, since: datetime, until: datetime) -> int:
        where, params = hazard_scope(scope)
        return int(
            await self._db.fetchval(
                f"SELECT COUNT(*) FROM hazards h WHERE h.reported_at >= ? AND h.reported_at < ? AND {where}",
                (to_db_time(since), to_db_time(until), *params),
            )
        )

    async def hazard_page(
        self, scope: Scope, since: datetime, until: datetime, *, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """The problem list, in report order: each hazard with its place, institution and the people named."""
        where, params = hazard_scope(scope)
        rows = await self._db.fetchall(
            "SELECT h.id, h.code, h.area, h.severity, h.source_level, h.description, h.reported_at, h.deadline, "
            "h.state, h.measures, h.closed_at, h.closed_on_time, h.withdrawal_category, h.withdrawal_reason, "
            "i.name_zh AS institution_zh, "
            f"i.name_en AS institution_en, {_PLACE_COLUMNS}, rep.full_name AS reporter, h.institution_id, "
            # The person named; where nobody is, the caller names the institution's heads (`heads`), except for a
            # rights-protection hazard, never the head's to rectify (nor to see): the county answers for it.
            f"asg.full_name AS assignee, h.area IN ({marks(_SENSITIVE)}) AS sensitive, "
            # The latest check-back (回访) of the hazard, its latest closing's: its answer, 'asked' while unanswered,
            # NULL while not yet asked or when skipped. One step into (hazard, id) per row, as the page streams.
            "(SELECT CASE c.state WHEN 'answered' THEN c.answer WHEN 'asked' THEN 'asked' END FROM check_backs c "
            "WHERE c.hazard_id = h.id ORDER BY c.id DESC LIMIT 1) AS check_back "
            "FROM hazards h JOIN institutions i ON i.id = h.institution_id "
            f"{_PLACES.format(a='h')} "
            "LEFT JOIN users rep ON rep.telegram_id = h.reporter_id "
            "LEFT JOIN users asg ON asg.telegram_id = h.assignee_id "
            f"WHERE h.id > ? AND h.reported_at >= ? AND h.reported_at < ? AND {where} ORDER BY h.id LIMIT ?",
            (*_SENSITIVE, after, to_db_time(since), to_db_time(until), *params, limit),
        )
        return [_row(row, ("reported_at", "deadline", "closed_at")) for row in rows]

    async def heads(self, scope: Scope) -> dict[int, list[str]]:
        """Institution id → who answers for its hazards nobody is named responsible for: its named head, or, when
        none is named (their access ended and nobody has registered since), its other active heads by Telegram id,
        whom the reminders and Rectify then reach (UserRepository.heads_of). Read once per export: a few thousand
        people for the whole city."""
        one = "AND u.institution_id = ?" if scope.institution_id is not None else ""
        named = "AND i.id = ?" if scope.institution_id is not None else ""
        extra = [scope.institution_id] if scope.institution_id is not None else []
        rows = await self._db.fetchall(
            "SELECT i.id AS institution_id, 1 AS named, u.telegram_id, u.full_name FROM institutions i "
            f"JOIN users u ON u.telegram_id = i.head_user_id AND u.active = 1 WHERE 1 = 1 {named} "
            "UNION ALL SELECT u.institution_id, 0, u.telegram_id, u.full_name FROM users u "
            f"WHERE u.active = 1 AND u.role = ? AND u.institution_id IS NOT NULL {one} "
            "ORDER BY 1, 2 DESC, 3",
            (*extra, _HEAD, *extra),
        )
        found: dict[int, list[str]] = {}
        named_ones: set[int] = set()
        for row in rows:
            institution = int(row["institution_id"])
            if institution in named_ones:
                continue
            if row["named"]:
                named_ones.add(institution)
            found.setdefault(institution, []).append(str(row["full_name"]))
        return found

    async def institutions(self, scope: Scope) -> list[dict[str, Any]]:
        """The active institutions in scope with their places, in the order of the registers (place, then code)."""
        where, params = institution_scope(scope)
        rows = await self._db.fetchall(
            "SELECT i.id, i.code AS institution_code, i.name_zh AS institution_zh, i.name_en AS institution_en, "
            f"i.type AS institution_type, {_PLACE_COLUMNS} FROM institutions i {_PLACES.format(a='i')} "
            f"WHERE {where} ORDER BY i.region_code, i.code",
            params,
        )
        return [_row(row) for row in rows]

    async def drill_page(self, scope: Scope, start: date, end: date, *, after: int, limit: int) -> list[dict[str, Any]]:
        where, params = institution_scope(scope)
        rows = await self._db.fetchall(
            "SELECT d.id, i.code AS institution_code, i.name_zh AS institution_zh, i.name_en AS institution_en, "
            f"i.type AS institution_type, {_PLACE_COLUMNS}, d.kind, d.held_on, d.participants, d.duration_minutes, "
            "d.practised, d.problems, json_array_length(d.hazard_ids) AS hazards, u.full_name AS logged_by, "
            "d.logged_at FROM drills d JOIN institutions i ON i.id = d.institution_id "
            f"{_PLACES.format(a='i')} LEFT JOIN users u ON u.telegram_id = d.logged_by "
            f"WHERE d.id > ? AND d.held_on >= ? AND d.held_on <= ? AND {where} ORDER BY d.id LIMIT ?",
            (after, start.isoformat(), end.isoformat(), *params, limit),
        )
        found = [_row(row, ("logged_at",)) for row in rows]
        for values in found:
            values["held_on"] = date.fromisoformat(values["held_on"])
        return found

    async def inspection_page(self, scope: Scope, month: str, *, after: int, limit: int) -> list[dict[str, Any]]:
        """The self-inspections of one month ('YYYY-MM'), by id: read along the (month, id) index, so a page
        costs the same however deep into the register it is."""
        where, params = institution_scope(scope)
        rows = await self._db.fetchall(
            "SELECT s.id, i.code AS institution_code, i.name_zh AS institution_zh, i.name_en AS institution_en, "
            f"i.type AS institution_type, {_PLACE_COLUMNS}, s.month, s.started_at, s.finished_at, s.amended_at, "
            "(SELECT COUNT(*) FROM self_inspection_answers a WHERE a.inspection_id = s.id AND a.answer = 'fail') "
            "AS failed, u.full_name AS finished_by FROM self_inspections s "
            f"JOIN institutions i ON i.id = s.institution_id {_PLACES.format(a='i')} "
            "LEFT JOIN users u ON u.telegram_id = s.finished_by "
            f"WHERE s.month = ? AND s.id > ? AND {where} ORDER BY s.id LIMIT ?",
            (month, after, *params, limit),
        )
        return [_row(row, ("started_at", "finished_at", "amended_at")) for row in rows]

    async def warnings_sent(self, since: datetime, until: datetime) -> list[int]:
        """The warnings sent in [since, until), oldest first: the acknowledgement register has a page for each."""
        rows = await self._db.fetchall(
            "SELECT id FROM warnings WHERE sent_at >= ? AND sent_at < ? ORDER BY id",
            (to_db_time(since), to_db_time(until)),
        )
        return [int(row["id"]) for row in rows]

    async def acknowledgement_page(self, scope: Scope, warning_id: int) -> list[dict[str, Any]]:
        """One row per institution in scope the warning reached, by institution id, with the first answer of any
        of its heads. A page per warning: at most the city's institutions, and each page reads only its own
        recipients (paging through all warnings' recipients at once re-read and re-sorted the rest every page)."""
        where, params = hazard_scope(Scope(scope.level, scope.region_code, scope.institution_id), alias="r")
        rows = await self._db.fetchall(
            "SELECT r.warning_id, r.institution_id, w.kind, w.level, w.headline, w.sent_at, "
            f"i.name_zh AS institution_zh, i.name_en AS institution_en, {_PLACE_COLUMNS}, "
            "a.response, a.at AS answered_at, u.full_name AS answered_by, "
            "(SELECT COUNT(*) FROM warning_reports d WHERE d.warning_id = r.warning_id "
            "AND d.institution_id = r.institution_id) AS reports, "
            "(SELECT json_group_array(json_object('at', d.at, 'by', du.full_name, 'text', d.text)) FROM "
            "(SELECT * FROM warning_reports d WHERE d.warning_id = r.warning_id "
            "AND d.institution_id = r.institution_id ORDER BY d.at, d.id) d "
            "LEFT JOIN users du ON du.telegram_id = d.user_id) AS what_was_done "
            "FROM (SELECT r.warning_id, r.institution_id, r.region_code FROM warning_institutions r "
            f"WHERE r.warning_id = ? AND {where}) r "
            "JOIN warnings w ON w.id = r.warning_id JOIN institutions i ON i.id = r.institution_id "
            f"{_PLACES.format(a='r')} "
            "LEFT JOIN warning_acks a ON a.rowid = (SELECT b.rowid FROM warning_acks b WHERE "
            f"b.warning_id = r.warning_id AND b.institution_id = r.institution_id AND {answered_in_force('b')} "
            "ORDER BY b.at LIMIT 1) "
            "LEFT JOIN users u ON u.telegram_id = a.user_id ORDER BY r.institution_id",
            (warning_id, *params),
        )
        found = [_row(row, ("answered_at",)) for row in rows]
        for values in found:
            values["sent_at"] = from_db_time(values["sent_at"])
        return found
