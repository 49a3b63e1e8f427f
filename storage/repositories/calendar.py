"""Drills with their photos, monthly self-inspections with their answers, and study sessions."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime

import aiosqlite

from bot.domain.lifecycle import UNRESOLVED_STATES
from storage.calendar_models import (
    Answer,
    Drill,
    InspectionAnswer,
    NewDrill,
    NewStudySession,
    SelfInspection,
    StudySession,
)
from storage.db import Database
from storage.hazard_models import PhotoRef
from storage.repositories._codec import from_db_time, from_db_time_or_none, marks, to_db_time

_DRILL_COLUMNS = (
    "id, institution_id, kind, held_on, participants, duration_minutes, practised, problems, hazard_ids, "
    "logged_by, logged_at"
)
_INSPECTION_COLUMNS = "id, institution_id, month, started_by, started_at, finished_by, finished_at, amended_at"
_ANSWER_COLUMNS = (
    "inspection_id, item_code, answer, note, photo_file_id, photo_file_unique_id, photo_sha256, hazard_id, "
    "answered_by, answered_at"
)
_STUDY_COLUMNS = "id, unit_region_code, held_on, topic, participants, logged_by, logged_at"



def _only_institutions(institutions: Collection[int] | None) -> tuple[str, list[int]]:
    """The condition (and its values) limiting a query to these institutions; none for every institution."""
    if institutions is None:
        return "", []
    ids = sorted(institutions)
    return f" AND institution_id IN ({marks(ids)})", ids


class CalendarRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- drills -------------------------------------------------------------------------------------------

    async def add_drill(self, new: NewDrill, photos: Sequence[PhotoRef]) -> Drill:
        async with self._db.transaction():
            drill_id = await self._db.execute(
                f"INSERT INTO drills ({_DRILL_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.institution_id,
                    new.kind.value,
                    new.held_on.isoformat(),
                    new.participants,
                    new.duration_minutes,
                    new.practised,
                    new.problems,
                    json.dumps(list(new.hazard_ids)),
                    new.logged_by,
                    to_db_time(new.logged_at),
                ),
            )
            await self._db.executemany(
                "INSERT INTO drill_photos (drill_id, file_id, file_unique_id, sha256) VALUES (?, ?, ?, ?)",
                [(drill_id, p.file_id, p.file_unique_id, p.sha256) for p in photos],
            )
        return Drill(**new.model_dump(), id=drill_id, photos=tuple(photos))

    async def drills_of(self, institution_id: int, *, since: date | None = None) -> list[Drill]:
        """The institution's drills, newest first, with their photos."""
        rows = await self._db.fetchall(
            f"SELECT {_DRILL_COLUMNS} FROM drills WHERE institution_id = ? AND held_on >= ? "
            "ORDER BY held_on DESC, id DESC",
            (institution_id, (since or date.min).isoformat()),
        )
        drills = [_drill(row) for row in rows]
        photos = await self._drill_photos([d.id for d in drills])
        return [d.model_copy(update={"photos": tuple(photos.get(d.id, []))}) for d in drills]

    async def last_drill(self, institution_id: int) -> Drill | None:
        """The institution's latest drill of any kind, without its photos (one step of the index drills_institution)."""
        row = await self._db.fetchone(
            f"SELECT {_DRILL_COLUMNS} FROM drills WHERE institution_id = ? ORDER BY held_on DESC, id DESC LIMIT 1",
            (institution_id,),
        )
        return None if row is None else _drill(row)

    async def drill_dates(
        self, kinds: Iterable[str], *, since: date, institutions: Collection[int] | None = None
    ) -> dict[int, list[date]]:
        """Institution id → the dates of its drills of these kinds on or after `since`: one query for a city,
        or for some institutions (those a reminder sweep claimed rows about, or one)."""
        wanted = sorted(kinds)
        only, ids = _only_institutions(institutions)
        rows = await self._db.fetchall(
            f"SELECT institution_id, held_on FROM drills WHERE kind IN ({marks(wanted)}) AND held_on >= ?{only} "
            "ORDER BY held_on",
            (*wanted, since.isoformat(), *ids),
        )
        dates: dict[int, list[date]] = {}
        for row in rows:
            dates.setdefault(int(row["institution_id"]), []).append(date.fromisoformat(row["held_on"]))
        return dates

    async def _drill_photos(self, drill_ids: Sequence[int]) -> dict[int, list[PhotoRef]]:
        if not drill_ids:
            return {}
        rows = await self._db.fetchall(
            "SELECT drill_id, file_id, file_unique_id, sha256 FROM drill_photos "
            f"WHERE drill_id IN ({marks(drill_ids)}) ORDER BY id",
            tuple(drill_ids),
        )
        photos: dict[int, list[PhotoRef]] = {}
        for row in rows:
            ref = PhotoRef(file_id=row["file_id"], file_unique_id=row["file_unique_id"], sha256=row["sha256"])
            photos.setdefault(int(row["drill_id"]), []).append(ref)
        return photos

    # ---- self-inspections ---------------------------------------------------------------------------------

    async def start_inspection(self, institution_id: int, month: str, by: int, now: datetime) -> SelfInspection:
        """The month's inspection of the institution, created if there is none yet (then `by` started it)."""
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO self_inspections (institution_id, month, started_by, started_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (institution_id, month) DO NOTHING",
                (institution_id, month, by, to_db_time(now)),
            )
            inspection = await self.inspection_for(institution_id, month)
        assert inspection is not None
        return inspection

    async def inspection(self, inspection_id: int) -> SelfInspection | None:
        row = await self._db.fetchone(
            f"SELECT {_INSPECTION_COLUMNS} FROM self_inspections WHERE id = ?", (inspection_id,)
        )
        return None if row is None else _inspection(row)

    async def inspection_for(self, institution_id: int, month: str) -> SelfInspection | None:
        row = await self._db.fetchone(
            f"SELECT {_INSPECTION_COLUMNS} FROM self_inspections WHERE institution_id = ? AND month = ?",
            (institution_id, month),
        )
        return None if row is None else _inspection(row)

    async def done_months(
        self, months: Sequence[str], *, institutions: Collection[int] | None = None
    ) -> dict[int, set[str]]:
        """Institution id → which of these months ('YYYY-MM') it has finished a self-inspection for; of every
        institution, or of these."""
        only, ids = _only_institutions(institutions)
        rows = await self._db.fetchall(
            f"SELECT institution_id, month FROM self_inspections WHERE month IN ({marks(months)}) "
            f"AND finished_at IS NOT NULL{only}",
            (*months, *ids),
        )
        done: dict[int, set[str]] = {}
        for row in rows:
            done.setdefault(int(row["institution_id"]), set()).add(row["month"])
        return done

    async def last_inspected_month(self, institution_id: int) -> str | None:
        """The latest month ('YYYY-MM') the institution finished a self-inspection for, if any."""
        value = await self._db.fetchval(
            "SELECT MAX(month) FROM self_inspections WHERE institution_id = ? AND finished_at IS NOT NULL",
            (institution_id,),
        )
        return None if value is None else str(value)

    async def save_answer(self, answer: InspectionAnswer) -> None:
        """Record or replace the answer to one item (amending a month's inspection replaces answers)."""
        photo = answer.photo
        await self._db.execute(
            f"INSERT INTO self_inspection_answers ({_ANSWER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (inspection_id, item_code) DO UPDATE SET answer = excluded.answer, note = excluded.note, "
            "photo_file_id = excluded.photo_file_id, photo_file_unique_id = excluded.photo_file_unique_id, "
            "photo_sha256 = excluded.photo_sha256, "
            "hazard_id = excluded.hazard_id, answered_by = excluded.answered_by, answered_at = excluded.answered_at",
            (
                answer.inspection_id,
                answer.item_code,
                answer.answer.value,
                answer.note,
                None if photo is None else photo.file_id,
                None if photo is None else photo.file_unique_id,
                None if photo is None else photo.sha256,
                answer.hazard_id,
                answer.answered_by,
                to_db_time(answer.answered_at),
            ),
        )

    async def answers(self, inspection_id: int) -> dict[str, InspectionAnswer]:
        rows = await self._db.fetchall(
            f"SELECT {_ANSWER_COLUMNS} FROM self_inspection_answers WHERE inspection_id = ?", (inspection_id,)
        )
        return {row["item_code"]: _answer(row) for row in rows}

    async def unresolved_item_hazard(self, institution_id: int, item_code: str) -> int | None:
        """The unresolved hazard an earlier ❌ on this item of this institution's sheets became, if any (the newest)."""
        states = sorted(state.value for state in UNRESOLVED_STATES)
        found = await self._db.fetchval(
            "SELECT a.hazard_id FROM self_inspection_answers a "
            "JOIN self_inspections s ON s.id = a.inspection_id JOIN hazards h ON h.id = a.hazard_id "
            f"WHERE s.institution_id = ? AND a.item_code = ? AND h.state IN ({marks(states)}) "
            "ORDER BY a.answered_at DESC LIMIT 1",
            (institution_id, item_code, *states),
        )
        return None if found is None else int(found)

    async def finish_inspection(self, inspection_id: int, by: int, now: datetime) -> SelfInspection:
        """The first finish marks the month done; a later one (an amendment) only records when."""
        stamp = to_db_time(now)
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE self_inspections SET finished_by = ?, "
                "amended_at = CASE WHEN finished_at IS NULL THEN NULL ELSE ? END, "
                "finished_at = COALESCE(finished_at, ?) WHERE id = ?",
                (by, stamp, stamp, inspection_id),
            )
            inspection = await self.inspection(inspection_id)
        assert inspection is not None
        return inspection

    # ---- study sessions -----------------------------------------------------------------------------------

    async def add_study(self, new: NewStudySession) -> StudySession:
        session_id = await self._db.execute(
            f"INSERT INTO study_sessions ({_STUDY_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?)",
            (
                new.unit_region_code,
                new.held_on.isoformat(),
                new.topic,
                new.participants,
                new.logged_by,
                to_db_time(new.logged_at),
            ),
        )
        return StudySession(**new.model_dump(), id=session_id)

    async def studies_of(self, unit_region_code: str) -> list[StudySession]:
        rows = await self._db.fetchall(
            f"SELECT {_STUDY_COLUMNS} FROM study_sessions WHERE unit_region_code = ? ORDER BY held_on DESC, id DESC",
            (unit_region_code,),
        )
        return [_study(row) for row in rows]

    async def study_dates(self, *, since: date, unit_region_code: str | None = None) -> dict[str, list[date]]:
        """Unit region code → the dates of its study sessions on or after `since`."""
        only = "" if unit_region_code is None else " AND unit_region_code = ?"
        rows = await self._db.fetchall(
            f"SELECT unit_region_code, held_on FROM study_sessions WHERE held_on >= ?{only} ORDER BY held_on",
            (since.isoformat(), *([] if unit_region_code is None else [unit_region_code])),
        )
        dates: dict[str, list[date]] = {}
        for row in rows:
            dates.setdefault(row["unit_region_code"], []).append(date.fromisoformat(row["held_on"]))
        return dates


def _drill(row: aiosqlite.Row) -> Drill:
    return Drill(
        id=row["id"],
        institution_id=row["institution_id"],
        kind=row["kind"],
        held_on=date.fromisoformat(row["held_on"]),
        participants=row["participants"],
        duration_minutes=row["duration_minutes"],
        practised=row["practised"],
        problems=row["problems"],
        hazard_ids=tuple(json.loads(row["hazard_ids"])),
        logged_by=row["logged_by"],
        logged_at=from_db_time(row["logged_at"]),
    )


def _inspection(row: aiosqlite.Row) -> SelfInspection:
    return SelfInspection(
        id=row["id"],
        institution_id=row["institution_id"],
        month=row["month"],
        started_by=row["started_by"],
        started_at=from_db_time(row["started_at"]),
        finished_by=row["finished_by"],
        finished_at=from_db_time_or_none(row["finished_at"]),
        amended_at=from_db_time_or_none(row["amended_at"]),
    )


def _answer(row: aiosqlite.Row) -> InspectionAnswer:
    photo = None
    if row["photo_sha256"] is not None:
        photo = PhotoRef(
            file_id=row["photo_file_id"], file_unique_id=row["photo_file_unique_id"], sha256=row["photo_sha256"]
        )
    return InspectionAnswer(
        inspection_id=row["inspection_id"],
        item_code=row["item_code"],
        answer=Answer(row["answer"]),
        note=row["note"],
        photo=photo,
        hazard_id=row["hazard_id"],
        answered_by=row["answered_by"],
        answered_at=from_db_time(row["answered_at"]),
    )


def _study(row: aiosqlite.Row) -> StudySession:
    return StudySession(
        id=row["id"],
        unit_region_code=row["unit_region_code"],
        held_on=date.fromisoformat(row["held_on"]),
        topic=row["topic"],
        participants=row["participants"],
        logged_by=row["logged_by"],
        logged_at=from_db_time(row["logged_at"]),
    )
