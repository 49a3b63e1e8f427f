"""Hazards, their history (events) and photo evidence, and the daily counter behind their human codes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from bot.domain.catalog import HazardArea, Severity
from bot.domain.hazard_codes import format_hazard_code
from bot.domain.lifecycle import (
    CLOSED_STATES,
    FIXED_STATES,
    OPEN_STATES,
    UNRESOLVED_STATES,
    WITHDRAWN_STATES,
    HazardState,
)
from bot.domain.roles import significant_prefix
from storage.db import Database
from storage.hazard_models import (
    Hazard,
    HazardEvent,
    HazardPhoto,
    InstitutionHazardCounts,
    NewHazard,
    PhotoKind,
    PhotoRef,
    ReportedCounts,
)
from storage.repositories._codec import (
    dump_json,
    from_db_time_or_none,
    marks,
    prefix_glob,
    to_db_time,
    to_db_time_or_none,
)
from storage.repositories._hazard_rows import (
    EVENT_COLUMNS,
    HAZARD_COLUMNS,
    HAZARD_COLUMNS_NEW,
    PHOTO_COLUMNS,
    QUALIFIED_HAZARD_COLUMNS,
    event_row,
    hazard_row,
    photo_row,
)

_PLACES_PAGE = 500  # ids bound per statement by `places`

# Bound as parameters, never spliced: the state sets come from the domain, the SQL only mirrors them.
_UNRESOLVED = sorted(s.value for s in UNRESOLVED_STATES)
_OPEN = sorted(s.value for s in OPEN_STATES)
_FIXED = sorted(s.value for s in FIXED_STATES)
_CLOSED = sorted(s.value for s in CLOSED_STATES)
# Hazards whose loop has ended, closed or withdrawn (closed_at is when): what /mine lists after the unresolved ones.
_ENDED = sorted(s.value for s in CLOSED_STATES | WITHDRAWN_STATES)
_WITHDRAWN = sorted(s.value for s in WITHDRAWN_STATES)



class HazardRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, new: NewHazard, local_day: date) -> Hazard:
        """Store a new hazard under the next code of `local_day`, the reporter's calendar day."""
        day = f"{local_day.year:04d}{local_day.month:02d}{local_day.day:02d}"
        async with self._db.transaction():
            # One statement reads and bumps the counter, inside the insert's transaction: no two reports can
            # be handed the same number, and a failed insert gives its number back.
            sequence = await self._db.fetchval(
                "INSERT INTO hazard_code_sequences (day, last) VALUES (?, 1) "
                "ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
                (day,),
            )
            code = format_hazard_code(local_day, int(sequence))
            hazard_id = await self._db.execute(
                f"INSERT INTO hazards (code, {HAZARD_COLUMNS_NEW}, updated_at) VALUES ({marks(range(16))})",
                (
                    code,
                    new.institution_id,
                    new.region_code,
                    new.area.value,
                    new.severity.value,
                    new.source_level.value,
                    new.description,
                    new.latitude,
                    new.longitude,
                    new.address_text,
                    new.state.value,
                    new.reporter_id,
                    new.assignee_id,
                    to_db_time_or_none(new.deadline),
                    to_db_time(new.reported_at),
                    to_db_time(new.reported_at),
                ),
            )
        return Hazard(**new.model_dump(), id=hazard_id, code=code, updated_at=new.reported_at)

    async def get(self, hazard_id: int) -> Hazard | None:
        row = await self._db.fetchone(f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE id = ?", (hazard_id,))
        return None if row is None else hazard_row(row)

    async def get_many(self, hazard_ids: Iterable[int]) -> dict[int, Hazard]:
        """These hazards by id, in one query; ids not found are left out (a reminder sweep's hazards)."""
        ids = sorted(set(hazard_ids))
        if not ids:
            return {}
        rows = await self._db.fetchall(
            f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE id IN ({marks(ids)})", ids
        )
        return {hazard.id: hazard for hazard in map(hazard_row, rows)}

    async def places(self, hazard_ids: Iterable[int]) -> dict[int, tuple[str, datetime | None]]:
        """Each hazard's region code and deadline, by id, read a page of ids at a time: where a city admin's many
        reminders are (`reminder_summary`), without reading whole hazards."""
        ids = sorted(set(hazard_ids))
        found: dict[int, tuple[str, datetime | None]] = {}
        for start in range(0, len(ids), _PLACES_PAGE):
            page = ids[start : start + _PLACES_PAGE]
            rows = await self._db.fetchall(
                f"SELECT id, region_code, deadline FROM hazards WHERE id IN ({marks(page)})", page
            )
            found.update((row["id"], (row["region_code"], from_db_time_or_none(row["deadline"]))) for row in rows)
        return found

    async def get_by_code(self, code: str) -> Hazard | None:
        row = await self._db.fetchone(f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE code = ?", (code,))
        return None if row is None else hazard_row(row)

    async def update_state(self, hazard: Hazard, *, expected_state: HazardState) -> bool:
        """Write the fields an action changes; False if the hazard is no longer in `expected_state`.

        The state guard makes a lost race (two staff accepting at once) visible instead of applying both.
        """
        changed = await self._db.execute_rowcount(
            "UPDATE hazards SET state = ?, assignee_id = ?, deadline = ?, acknowledged_at = ?, fixed_at = ?, "
            "fixed_by = ?, closed_at = ?, closed_on_time = ?, measures = ?, updated_at = ?, withdrawal_category = ?, "
            "withdrawal_reason = ? WHERE id = ? AND state = ?",
            (
                hazard.state.value,
                hazard.assignee_id,
                to_db_time_or_none(hazard.deadline),
                to_db_time_or_none(hazard.acknowledged_at),
                to_db_time_or_none(hazard.fixed_at),
                hazard.fixed_by,
                to_db_time_or_none(hazard.closed_at),
                None if hazard.closed_on_time is None else int(hazard.closed_on_time),
                hazard.measures,
                to_db_time(hazard.updated_at),
                hazard.withdrawal_category,
                hazard.withdrawal_reason,
                hazard.id,
                expected_state.value,
            ),
        )
        return changed == 1

    async def unresolved_assigned_to(self, telegram_id: int) -> list[Hazard]:
        rows = await self._db.fetchall(
            f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE assignee_id = ? AND state IN ({marks(_UNRESOLVED)}) "
            "ORDER BY id",
            (telegram_id, *_UNRESOLVED),
        )
        return [hazard_row(row) for row in rows]

    async def add_follower(self, hazard_id: int, telegram_id: int, since: datetime, severity: Severity | None) -> bool:
        """This person follows the hazard from now on (they added their own report of it); False if they did."""
        changed = await self._db.execute_rowcount(
            "INSERT OR IGNORE INTO hazard_followers (hazard_id, telegram_id, since, severity) VALUES (?, ?, ?, ?)",
            (hazard_id, telegram_id, to_db_time(since), None if severity is None else severity.value),
        )
        return changed == 1

    async def release_assignee(self, hazard_id: int, telegram_id: int, at: datetime) -> bool:
        """Nobody is named responsible for the hazard any more, if this person still was."""
        changed = await self._db.execute_rowcount(
            "UPDATE hazards SET assignee_id = NULL, updated_at = ? WHERE id = ? AND assignee_id = ?",
            (to_db_time(at), hazard_id, telegram_id),
        )
        return changed == 1

    async def open_for_institution(
        self,
        institution_id: int | None,
        *,
        now: datetime,
        exclude_areas: Iterable[HazardArea] = (),
        assignee_id: int | None = None,
        fixed: bool | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[Hazard]:
        """Unresolved hazards of the institution, or assigned to `assignee_id`: overdue first, then by deadline.

        `institution_id` None: only those assigned to `assignee_id`. `fixed` False: only those someone still has
        to correct; True: only those waiting for staff to verify; None: both.
        """
        where, params = _institution_filter(institution_id, exclude_areas, assignee_id, _states(fixed))
        rows = await self._db.fetchall(
            f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE {where} "
            f"ORDER BY CASE WHEN state IN ({marks(_OPEN)}) AND deadline < ? THEN 0 ELSE 1 END, "
            "deadline IS NULL, deadline, id LIMIT ? OFFSET ?",
            (*params, *_OPEN, to_db_time(now), limit, offset),
        )
        return [hazard_row(row) for row in rows]

    async def count_open_for_institution(
        self, institution_id: int | None, *, exclude_areas: Iterable[HazardArea] = (), assignee_id: int | None = None,
        fixed: bool | None = None,
    ) -> int:
        where, params = _institution_filter(institution_id, exclude_areas, assignee_id, _states(fixed))
        return int(await self._db.fetchval(f"SELECT COUNT(*) FROM hazards WHERE {where}", params))

    async def staff_queue(
        self,
        region_code: str | None,
        *,
        now: datetime,
        mine: int | None = None,
        own_to_verify: Sequence[int] = (),
        limit: int = 20,
        offset: int = 0,
    ) -> list[Hazard]:
        """What staff of a region (None: the whole city) must act on, in this order: hazards awaiting
        verification (oldest submission first), overdue ones (oldest deadline first), those the staff member `mine`
        is named responsible for (by deadline), then open ones nobody is named responsible for (oldest first).
        `mine`'s own rectifications await someone else's verification, but for those in `own_to_verify`."""
        sql, params = _staff_queue_sql(region_code, now, mine, own_to_verify)
        # The page is chosen on (bucket, key, id) alone and only its rows are read whole: sorting whole rows of
        # a city's queue (25,000 at 100,000 hazards) cost more than the rest of the query.
        rows = await self._db.fetchall(
            f"WITH page AS (SELECT id, bucket, sort_key FROM ({sql}) ORDER BY bucket, sort_key, id LIMIT ? OFFSET ?) "
            f"SELECT {_QUALIFIED_COLUMNS} FROM page JOIN hazards h ON h.id = page.id "
            "ORDER BY page.bucket, page.sort_key, page.id",
            (*params, limit, offset),
        )
        return [hazard_row(row) for row in rows]

    async def count_staff_queue(
        self, region_code: str | None, *, now: datetime, mine: int | None = None, own_to_verify: Sequence[int] = ()
    ) -> int:
        sql, params = _staff_queue_sql(region_code, now, mine, own_to_verify)
        return int(await self._db.fetchval(f"SELECT COUNT(*) FROM ({sql})", params))

    async def count_unresolved_in_region(self, region_code: str | None) -> int:
        """Unresolved hazards of a region (None: the whole city), whoever has them: what an empty /tasks still owes
        the region. Counted on the hazards_backlog index (state, region_code, …), without reading a row."""
        scope, params = "", []
        if region_code is not None:
            scope, params = " AND region_code GLOB ?", [prefix_glob(significant_prefix(region_code))]
        return int(await self._db.fetchval(
            f"SELECT COUNT(*) FROM hazards WHERE state IN ({marks(_UNRESOLVED)}){scope}", (*_UNRESOLVED, *params)
        ))

    async def awaiting_own_verification(self, telegram_id: int) -> list[Hazard]:
        """The rectifications this person submitted that await verification (few: read by the fixed_by index)."""
        rows = await self._db.fetchall(
            f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE fixed_by = ? AND state IN ({marks(_FIXED)}) ORDER BY id",
            (telegram_id, *_FIXED),
        )
        return [hazard_row(row) for row in rows]

    async def duplicates(self, institution_id: int, area: HazardArea) -> list[Hazard]:
        """Unresolved hazards of the same institution and area, newest first."""
        rows = await self._db.fetchall(
            f"SELECT {HAZARD_COLUMNS} FROM hazards WHERE institution_id = ? AND area = ? "
            f"AND state IN ({marks(_UNRESOLVED)}) ORDER BY reported_at DESC, id DESC",
            (institution_id, area.value, *_UNRESOLVED),
        )
        return [hazard_row(row) for row in rows]

    async def recent_institutions(self, reporter_id: int, limit: int = 5) -> list[int]:
        """Institutions this person reported on, most recent first."""
        rows = await self._db.fetchall(
            "SELECT institution_id FROM hazards WHERE reporter_id = ? "
            "GROUP BY institution_id ORDER BY MAX(reported_at) DESC, institution_id LIMIT ?",
            (reporter_id, limit),
        )
        return [int(row["institution_id"]) for row in rows]

    async def reported_by(
        self, reporter_id: int, *, closed_since: datetime, limit: int = 20, offset: int = 0
    ) -> list[Hazard]:
        """What this person reported or follows (/mine): the unresolved hazards, then those closed or withdrawn
        since `closed_since`, each newest reported first. The older ones are left out (`count_reported_by` counts
        them).

        The page is chosen from the index hazards_reporter_state alone (migration 0019) and the followers' index,
        and only its rows are read whole, as in `staff_queue`."""
        rows = await self._db.fetchall(
            f"WITH page AS (SELECT id, state IN ({marks(_ENDED)}) AS done, reported_at FROM {_THEIRS} "
            f"WHERE (state IN ({marks(_UNRESOLVED)}) "
            f"OR (state IN ({marks(_ENDED)}) AND closed_at >= ?)) "
            "ORDER BY done, reported_at DESC, id DESC LIMIT ? OFFSET ?) "
            f"SELECT {_QUALIFIED_COLUMNS} FROM page JOIN hazards h ON h.id = page.id "
            "ORDER BY page.done, page.reported_at DESC, page.id DESC",
            (*_ENDED, reporter_id, reporter_id, *_UNRESOLVED, *_ENDED, to_db_time(closed_since), limit, offset),
        )
        return [hazard_row(row) for row in rows]

    async def count_reported_by(self, reporter_id: int, *, closed_since: datetime) -> ReportedCounts:
        """The counts behind `reported_by`'s pages, each a range of the index hazards_reporter_state (and the
        person's few followed hazards)."""
        row = await self._db.fetchone(
            "SELECT "
            f"(SELECT COUNT(*) FROM {_THEIRS} WHERE state IN ({marks(_UNRESOLVED)})), "
            f"(SELECT COUNT(*) FROM {_THEIRS} WHERE state IN ({marks(_ENDED)}) AND closed_at >= ?), "
            f"(SELECT COUNT(*) FROM {_THEIRS} WHERE state IN ({marks(_ENDED)})), "
            "(SELECT COUNT(*) FROM hazard_followers f JOIN hazards h ON h.id = f.hazard_id "
            "WHERE f.telegram_id = ? AND h.reporter_id <> f.telegram_id)",
            (reporter_id, reporter_id, *_UNRESOLVED, reporter_id, reporter_id, *_ENDED, to_db_time(closed_since),
             reporter_id, reporter_id, *_ENDED, reporter_id),
        )
        assert row is not None
        unresolved, recent, closed, added_to = (int(value) for value in row)
        return ReportedCounts(
            unresolved=unresolved, closed_recently=recent, closed_before=closed - recent, added_to=added_to
        )

    async def count_for_institution(
        self, institution_id: int, *, now: datetime, closed_since: datetime, exclude_areas: Iterable[HazardArea] = ()
    ) -> InstitutionHazardCounts:
        """The institution's unresolved hazards by state (and how many of them are overdue), and those closed since
        `closed_since`: ranges of the index hazards_institution_open (institution_id, state, deadline)."""
        excluded = sorted(area.value for area in exclude_areas)
        rows = await self._db.fetchall(
            f"SELECT state, COUNT(*) AS n, SUM(state IN ({marks(_OPEN)}) AND deadline < ?) AS late FROM hazards "
            f"WHERE institution_id = ? AND state IN ({marks(_UNRESOLVED)}) AND area NOT IN ({marks(excluded)}) "
            "GROUP BY state",
            (*_OPEN, to_db_time(now), institution_id, *_UNRESOLVED, *excluded),
        )
        closed = await self._db.fetchval(
            f"SELECT COUNT(*) FROM hazards WHERE institution_id = ? AND state IN ({marks(_CLOSED)}) "
            f"AND closed_at >= ? AND area NOT IN ({marks(excluded)})",
            (institution_id, *_CLOSED, to_db_time(closed_since), *excluded),
        )
        withdrawn = await self._db.fetchval(
            f"SELECT COUNT(*) FROM hazards WHERE institution_id = ? AND state IN ({marks(_WITHDRAWN)}) "
            f"AND closed_at >= ? AND area NOT IN ({marks(excluded)})",
            (institution_id, *_WITHDRAWN, to_db_time(closed_since), *excluded),
        )
        return InstitutionHazardCounts(
            unresolved={HazardState(row["state"]): int(row["n"]) for row in rows},
            overdue=sum(int(row["late"] or 0) for row in rows),
            closed_recently=int(closed),
            withdrawn_recently=int(withdrawn),
        )

    async def add_event(
        self,
        hazard_id: int,
        *,
        at: datetime,
        actor_id: int | None,
        action: str,
        from_state: HazardState | None,
        to_state: HazardState,
        note: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> HazardEvent:
        detail_json = dump_json(detail or {})
        event_id = await self._db.execute(
            f"INSERT INTO hazard_events ({EVENT_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                hazard_id,
                to_db_time(at),
                actor_id,
                action,
                None if from_state is None else from_state.value,
                to_state.value,
                note,
                detail_json,
            ),
        )
        return HazardEvent(
            id=event_id,
            hazard_id=hazard_id,
            at=at,
            actor_id=actor_id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            note=note,
            detail=json.loads(detail_json),
        )

    async def events(self, hazard_id: int) -> list[HazardEvent]:
        rows = await self._db.fetchall(
            f"SELECT {EVENT_COLUMNS} FROM hazard_events WHERE hazard_id = ? ORDER BY id", (hazard_id,)
        )
        return [event_row(row) for row in rows]

    async def add_photo(
        self,
        hazard_id: int,
        photo: PhotoRef,
        *,
        kind: PhotoKind,
        event_id: int | None,
        added_by: int | None,
        added_at: datetime,
    ) -> HazardPhoto:
        photo_id = await self._db.execute(
            f"INSERT INTO hazard_photos ({PHOTO_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                hazard_id,
                event_id,
                kind.value,
                photo.file_id,
                photo.file_unique_id,
                photo.sha256,
                added_by,
                to_db_time(added_at),
            ),
        )
        return HazardPhoto(
            id=photo_id,
            hazard_id=hazard_id,
            event_id=event_id,
            kind=kind,
            added_by=added_by,
            added_at=added_at,
            **photo.model_dump(),
        )

    async def photos(self, hazard_id: int) -> list[HazardPhoto]:
        rows = await self._db.fetchall(
            f"SELECT {PHOTO_COLUMNS} FROM hazard_photos WHERE hazard_id = ? ORDER BY id", (hazard_id,)
        )
        return [photo_row(row) for row in rows]

    async def photos_by_file_unique_id(self, file_unique_id: str) -> list[HazardPhoto]:
        """Where a Telegram photo was already used as evidence (the same picture resent is the same id)."""
        rows = await self._db.fetchall(
            f"SELECT {PHOTO_COLUMNS} FROM hazard_photos WHERE file_unique_id = ? ORDER BY id", (file_unique_id,)
        )
        return [photo_row(row) for row in rows]


def _states(fixed: bool | None) -> list[str]:
    """The unresolved states `fixed` picks: None all of them, False the open ones, True those awaiting verification."""
    return _UNRESOLVED if fixed is None else _FIXED if fixed else _OPEN


def _institution_filter(
    institution_id: int | None, exclude_areas: Iterable[HazardArea], assignee_id: int | None,
    states: list[str] = _UNRESOLVED,
) -> tuple[str, list[object]]:
    excluded = sorted(area.value for area in exclude_areas)
    # One indexed lookup for each way of being responsible, unioned. Asked as one OR, SQLite planned it on
    # (state, deadline) and read every unresolved hazard of the city: 65 ms for a head at 100,000 hazards.
    lookups: list[str] = []
    params: list[object] = []
    if institution_id is not None:
        # Whoever is named responsible sees the hazard even when its area is excluded for the institution's heads.
        lookups.append(
            f"SELECT id FROM hazards WHERE institution_id = ? AND state IN ({marks(states)}) "
            f"AND area NOT IN ({marks(excluded)})"
        )
        params += [institution_id, *states, *excluded]
    if assignee_id is not None:
        lookups.append(f"SELECT id FROM hazards WHERE assignee_id = ? AND state IN ({marks(states)})")
        params += [assignee_id, *states]
    if not lookups:
        return "0 = 1", params
    return f"id IN ({' UNION '.join(lookups)})", params


def _staff_queue_sql(
    region_code: str | None, now: datetime, mine: int | None, own_to_verify: Sequence[int] = ()
) -> tuple[str, list[object]]:
    """(id, bucket, sort_key) of each hazard in the queue. Every bucket is an unresolved state, so the state
    condition changes nothing but lets SQLite read the (state, …) indexes instead of the whole table.

    A rectification awaits the verification of anyone but `mine` when they submitted it themselves (four eyes),
    unless it is in `own_to_verify`: nobody else may verify it, so it waits for them.
    "Nobody named" is any open hazard without an assignee, not only a reported one: a hazard reopened where no head
    is registered, or one whose responsible person's access ended, waits for staff to name someone too."""
    scope, scope_params = "1 = 1", []
    if region_code is not None:
        scope, scope_params = "region_code GLOB ?", [prefix_glob(significant_prefix(region_code))]
    own = sorted(set(own_to_verify))
    theirs = f"(id NOT IN (SELECT id FROM hazards WHERE fixed_by = ?) OR id IN ({marks(own)}))" if own else (
        "id NOT IN (SELECT id FROM hazards WHERE fixed_by = ?)")
    sql = (
        "SELECT id, fixed_at, deadline, reported_at, CASE "
        f"WHEN state IN ({marks(_FIXED)}) AND {theirs} THEN 0 "
        f"WHEN state IN ({marks(_OPEN)}) AND deadline < ? THEN 1 "
        f"WHEN state IN ({marks(_OPEN)}) AND assignee_id = ? THEN 2 "
        f"WHEN state IN ({marks(_OPEN)}) AND assignee_id IS NULL THEN 3 END AS bucket "
        f"FROM hazards WHERE state IN ({marks(_UNRESOLVED)}) AND {scope}"
    )
    params: list[object] = [
        *_FIXED, mine, *own, *_OPEN, to_db_time(now), *_OPEN, mine, *_OPEN, *_UNRESOLVED, *scope_params
    ]
    return (
        "SELECT id, bucket, CASE bucket WHEN 0 THEN fixed_at WHEN 1 THEN deadline WHEN 2 THEN deadline "
        f"ELSE reported_at END AS sort_key FROM ({sql}) WHERE bucket IS NOT NULL",
        params,
    )


_QUALIFIED_COLUMNS = QUALIFIED_HAZARD_COLUMNS
# A person's own hazards (/mine), as rows of the columns the listing filters and sorts on: those they reported (from
# the index hazards_reporter_state alone, migration 0019), then those they follow, having added their own report
# (migration 0028). Two parameters: the person, twice.
_THEIRS = (
    "(SELECT id, state, closed_at, reported_at FROM hazards WHERE reporter_id = ? "
    "UNION ALL SELECT h.id, h.state, h.closed_at, h.reported_at FROM hazard_followers f "
    "JOIN hazards h ON h.id = f.hazard_id WHERE f.telegram_id = ? AND h.reporter_id <> f.telegram_id)"
)
