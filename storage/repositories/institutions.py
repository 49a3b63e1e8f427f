"""Civil-affairs service institutions (养老机构, 福利机构, 救助管理站, 殡仪馆 …) and who heads them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

import aiosqlite

from bot.domain.roles import significant_prefix
from storage.db import Database
from storage.models import Institution, InstitutionType, NewInstitution, RiskTag
from storage.repositories._codec import from_db_time_or_none, marks, prefix_glob, to_db_time

_COLUMNS = (
    "id, code, name_zh, name_en, type, region_code, risk_tags, address, head_user_id, active, tracked_from, "
    "closed_at, closed_reason"
)


class InstitutionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, new: NewInstitution) -> Institution:
        """Insert, or update the descriptive fields of the institution with this code.

        The head and the active flag are left alone: they are managed in the bot, not in the data file. So is
        `tracked_from`, stored only when the row is created: importing the same institution again must not
        move the day its duties are judged from.
        """
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO institutions "
                "(code, name_zh, name_en, type, region_code, risk_tags, address, tracked_from) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, "
                "type = excluded.type, region_code = excluded.region_code, risk_tags = excluded.risk_tags, "
                "address = excluded.address",
                (
                    new.code,
                    new.name_zh,
                    new.name_en,
                    new.type.value,
                    new.region_code,
                    json.dumps(sorted(tag.value for tag in new.risk_tags)),
                    new.address,
                    None if new.tracked_from is None else new.tracked_from.isoformat(),
                ),
            )
            stored = await self.get_by_code(new.code)
        assert stored is not None
        return stored

    async def get(self, institution_id: int) -> Institution | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM institutions WHERE id = ?", (institution_id,))
        return None if row is None else _institution(row)

    async def get_many(self, institution_ids: Iterable[int]) -> list[Institution]:
        """These institutions, active or not, in id order; ids not found are left out."""
        ids = sorted(set(institution_ids))
        if not ids:
            return []
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM institutions WHERE id IN ({marks(ids)}) ORDER BY id", ids
        )
        return [_institution(row) for row in rows]

    async def get_by_code(self, code: str) -> Institution | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM institutions WHERE code = ?", (code,))
        return None if row is None else _institution(row)

    async def in_scope(self, region_code: str | None, *, active_only: bool = True) -> list[Institution]:
        """Institutions located in the region or below it; None means the whole city."""
        where, params = _scope_filter(region_code, active_only)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM institutions WHERE {where} ORDER BY region_code, code", params
        )
        return [_institution(row) for row in rows]

    async def registered_at(self, region_code: str) -> list[Institution]:
        """The active institutions registered at exactly this code, none below it: a city's own (市直)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM institutions WHERE region_code = ? AND active = 1 ORDER BY code", (region_code,)
        )
        return [_institution(row) for row in rows]

    async def search(
        self, text: str, region_code: str | None = None, limit: int = 10, *, active_only: bool = True
    ) -> list[Institution]:
        """Substring match on either name, ignoring ASCII case; shorter names (closer matches) first."""
        needle = text.strip().lower()
        if not needle:
            return []
        where, params = _scope_filter(region_code, active_only)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM institutions WHERE {where} "
            "AND (instr(lower(name_zh), ?) > 0 OR instr(lower(name_en), ?) > 0) "
            "ORDER BY length(name_zh), code LIMIT ?",
            (*params, needle, needle, limit),
        )
        return [_institution(row) for row in rows]

    async def set_head(self, institution_id: int, telegram_id: int | None) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE institutions SET head_user_id = ? WHERE id = ?", (telegram_id, institution_id)
        )
        return changed > 0

    async def release_head(self, telegram_id: int, *, keep: int | None = None) -> int:
        """The person is no longer named head of any institution but `keep`; returns how many let them go."""
        return await self._db.execute_rowcount(
            "UPDATE institutions SET head_user_id = NULL WHERE head_user_id = ? AND id IS NOT ?", (telegram_id, keep)
        )

    async def set_active(self, institution_id: int, active: bool) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE institutions SET active = ? WHERE id = ?", (int(active), institution_id)
        )
        return changed > 0

    async def close(self, institution_id: int, *, at: datetime, reason: str) -> bool:
        """Staff closed it (停用); False if it was inactive already (a second tap, a colleague a moment before)."""
        changed = await self._db.execute_rowcount(
            "UPDATE institutions SET active = 0, closed_at = ?, closed_reason = ? WHERE id = ? AND active = 1",
            (to_db_time(at), reason, institution_id),
        )
        return changed > 0

    async def reopen(self, institution_id: int, *, tracked_from: date) -> bool:
        """Staff reopened it (恢复): its duties are judged again from `tracked_from`, the day it reopened, as for an
        institution joining then; False if it was active already."""
        changed = await self._db.execute_rowcount(
            "UPDATE institutions SET active = 1, closed_at = NULL, closed_reason = NULL, tracked_from = ? "
            "WHERE id = ? AND active = 0",
            (tracked_from.isoformat(), institution_id),
        )
        return changed > 0

    async def count(self, *, active_only: bool = False) -> int:
        value = await self._db.fetchval(
            "SELECT COUNT(*) FROM institutions" + (" WHERE active = 1" if active_only else "")
        )
        return int(value)


def _scope_filter(region_code: str | None, active_only: bool) -> tuple[str, list[object]]:
    clauses: list[str] = ["1 = 1"]
    params: list[object] = []
    if region_code is not None:
        clauses.append("region_code GLOB ?")
        params.append(prefix_glob(significant_prefix(region_code)))
    if active_only:
        clauses.append("active = 1")
    return " AND ".join(clauses), params


def _institution(row: aiosqlite.Row) -> Institution:
    # By position (the order of _COLUMNS): a reminder sweep reads hundreds of institutions at once.
    (id_, code, name_zh, name_en, type_, region_code, risk_tags, address, head_user_id, active, tracked_from,
     closed_at, closed_reason) = row
    return Institution(
        id=id_,
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        type=_TYPES[type_],
        region_code=region_code,
        risk_tags=_NO_TAGS if risk_tags == "[]" else frozenset(RiskTag(tag) for tag in json.loads(risk_tags)),
        address=address,
        head_user_id=head_user_id,
        active=bool(active),
        tracked_from=None if tracked_from is None else date.fromisoformat(tracked_from),
        closed_at=from_db_time_or_none(closed_at),
        closed_reason=closed_reason,
    )


_TYPES = {institution_type.value: institution_type for institution_type in InstitutionType}
_NO_TAGS: frozenset[RiskTag] = frozenset()
