"""People registered with the bot, their role and the scope (region or institution) they act in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from bot.domain.lifecycle import UNRESOLVED_STATES
from bot.domain.roles import STAFF_ROLES, Role, covering_codes, region_in_scope, significant_prefix
from storage.db import Database
from storage.models import RegionLevel, User
from storage.repositories._codec import from_db_time, marks, prefix_glob, to_db_time

_WRITTEN = "telegram_id, full_name, username, role, region_code, institution_id, language, active, created_at"
_COLUMNS = f"{_WRITTEN}, unreachable_since, access_ended_at"
_U_COLUMNS = ", ".join(f"u.{column.strip()}" for column in _COLUMNS.split(","))


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int) -> User | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE telegram_id = ?", (telegram_id,))
        return None if row is None else _user(row)

    async def add(self, user: User) -> User:
        """Insert a new user; sqlite3.IntegrityError if the Telegram id is already registered."""
        await self._db.execute(
            f"INSERT INTO users ({_WRITTEN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _params(user)
        )
        return user

    async def upsert(self, user: User) -> User:
        """Insert or replace everything but created_at, which keeps the first registration time."""
        async with self._db.transaction():
            await self._db.execute(
                f"INSERT INTO users ({_WRITTEN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (telegram_id) DO UPDATE SET full_name = excluded.full_name, "
                "username = excluded.username, role = excluded.role, region_code = excluded.region_code, "
                "institution_id = excluded.institution_id, language = excluded.language, "
                "active = excluded.active",
                _params(user),
            )
            stored = await self.get(user.telegram_id)
        assert stored is not None
        return stored

    async def set_language(self, telegram_id: int, language: str) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE users SET language = ? WHERE telegram_id = ?", (language, telegram_id)
        )
        return changed > 0

    async def mark_unreachable(self, telegram_id: int, since: datetime) -> bool:
        """True if the active person was reachable until now (the first news of it)."""
        changed = await self._db.execute_rowcount(
            "UPDATE users SET unreachable_since = ? WHERE telegram_id = ? AND active = 1 AND unreachable_since IS NULL",
            (to_db_time(since), telegram_id),
        )
        return changed > 0

    async def unreachable_ids(self) -> set[int]:
        """The active people marked unreachable (they blocked the bot, as far as it knows)."""
        rows = await self._db.fetchall(
            "SELECT telegram_id FROM users WHERE active = 1 AND unreachable_since IS NOT NULL"
        )
        return {int(row["telegram_id"]) for row in rows}

    async def mark_reachable(self, telegram_id: int) -> bool:
        """True if the person had been unreachable (the first news of their return)."""
        changed = await self._db.execute_rowcount(
            "UPDATE users SET unreachable_since = NULL WHERE telegram_id = ? AND unreachable_since IS NOT NULL",
            (telegram_id,),
        )
        return changed > 0

    async def end_access(self, telegram_id: int, at: datetime) -> bool:
        """Mark an active person inactive; False if they were not (a second tap, a race)."""
        changed = await self._db.execute_rowcount(
            "UPDATE users SET active = 0, access_ended_at = ? WHERE telegram_id = ? AND active = 1",
            (to_db_time(at), telegram_id),
        )
        return changed == 1

    async def set_active(self, telegram_id: int, active: bool) -> bool:
        changed = await self._db.execute_rowcount(
            "UPDATE users SET active = ? WHERE telegram_id = ?", (int(active), telegram_id)
        )
        return changed > 0

    async def in_scope(
        self, role: Role | None, region_code: str | None, *, active_only: bool = True
    ) -> list[User]:
        """Users who act inside the region: staff of a county in it, heads of its institutions, its cadres.

        A head is placed by their institution's region, anyone else by their own region_code. Users with no
        region act for the whole city, so they fall inside a scope only when that scope covers the city.
        """
        clauses = ["1 = 1"]
        params: list[object] = []
        if role is not None:
            clauses.append("u.role = ?")
            params.append(role.value)
        if active_only:
            clauses.append("u.active = 1")
        if region_code is not None:
            place = "COALESCE(i.region_code, u.region_code)"
            if await self._covers_city(region_code):
                clauses.append(f"({place} GLOB ? OR {place} IS NULL)")
            else:
                clauses.append(f"{place} GLOB ?")
            params.append(prefix_glob(significant_prefix(region_code)))
        rows = await self._db.fetchall(
            f"SELECT {_U_COLUMNS} FROM users u LEFT JOIN institutions i ON i.id = u.institution_id "
            f"WHERE {' AND '.join(clauses)} ORDER BY u.telegram_id",
            params,
        )
        return [_user(row) for row in rows]

    async def reachable_by_reminders(self) -> list[User]:
        """Active people a reminder can go to or name: heads, county staff, city admins, whoever is named head of an
        institution or responsible for an unresolved hazard. Other cadres never are, and they are most of a city's
        people: leaving them out makes each reminder sweep read a sixth of the users."""
        unresolved = sorted(state.value for state in UNRESOLVED_STATES)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE active = 1 AND (role != ? "
            "OR telegram_id IN (SELECT head_user_id FROM institutions WHERE head_user_id IS NOT NULL) "
            "OR telegram_id IN (SELECT assignee_id FROM hazards "
            f"WHERE assignee_id IS NOT NULL AND state IN ({marks(unresolved)}))) "
            "ORDER BY telegram_id",
            (Role.CADRE.value, *unresolved),
        )
        return [_user(row) for row in rows]

    async def get_many(self, telegram_ids: Iterable[int]) -> list[User]:
        """The active users among these ids, in id order (a reminder sweep's assignees)."""
        ids = sorted(set(telegram_ids))
        if not ids:
            return []
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE telegram_id IN ({marks(ids)}) AND active = 1 ORDER BY telegram_id",
            ids,
        )
        return [_user(row) for row in rows]

    async def staff(self) -> list[User]:
        """Every active county staff member and city admin: the few hundred people any reminder may escalate to."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE active = 1 AND role IN (?, ?) ORDER BY telegram_id",
            sorted(role.value for role in STAFF_ROLES),
        )
        return [_user(row) for row in rows]

    async def heads_of_many(self, institution_ids: Iterable[int]) -> list[User]:
        """As `heads_of`, for several institutions in one query: their registered heads and named heads."""
        ids = sorted(set(institution_ids))
        if not ids:
            return []
        placeholders = marks(ids)
        # +role: found through users_institution; by role SQLite would read every head of the city.
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE active = 1 AND ("
            f" (+role = ? AND institution_id IN ({placeholders}))"
            f" OR telegram_id IN (SELECT head_user_id FROM institutions WHERE id IN ({placeholders}))"
            ") ORDER BY telegram_id",
            (Role.HEAD.value, *ids, *ids),
        )
        return [_user(row) for row in rows]

    async def staff_for_region(self, region_code: str) -> list[User]:
        """Active staff answerable for a place: county staff whose region covers it, then the city admins."""
        # Only the county staff registered for a place containing it: reading every county's and filtering here
        # read a city's few hundred staff to tell the two or three of one county.
        codes = sorted(covering_codes(region_code))
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE active = 1 "
            f"AND (role = ? OR (role = ? AND region_code IN ({marks(codes)}))) ORDER BY role = ?, telegram_id",
            (Role.CITY.value, Role.COUNTY.value, *codes, Role.CITY.value),
        )
        staff = [_user(row) for row in rows]
        return [
            user for user in staff if user.role is Role.CITY or region_in_scope(user.region_code, region_code)
        ]

    async def heads_of(self, institution_id: int) -> list[User]:
        """Active heads of the institution: users registered for it, and the person named as its head."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE active = 1 AND ("
            " (role = ? AND institution_id = ?)"
            " OR telegram_id = (SELECT head_user_id FROM institutions WHERE id = ?)"
            ") ORDER BY telegram_id",
            (Role.HEAD.value, institution_id, institution_id),
        )
        return [_user(row) for row in rows]

    async def former_head(self, institution_id: int) -> User | None:
        """The institution's head whose access ended last, if any: who staff stand in for since then."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM users WHERE active = 0 AND role = ? AND institution_id = ?"
            " AND access_ended_at IS NOT NULL ORDER BY access_ended_at DESC, telegram_id DESC LIMIT 1",
            (Role.HEAD.value, institution_id),
        )
        return None if row is None else _user(row)

    async def covering(self, roles: Iterable[Role], region_code: str) -> list[User]:
        """Active people of these roles registered for a place that contains `region_code` (a cadre of the county or
        of the township, not of a neighbouring township), by role in the order given, then by Telegram id."""
        wanted = list(dict.fromkeys(roles))
        codes = sorted(covering_codes(region_code))
        if not wanted or not codes:
            return []
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE active = 1 AND role IN ({marks(wanted)}) "
            f"AND region_code IN ({marks(codes)}) ORDER BY telegram_id",
            (*(role.value for role in wanted), *codes),
        )
        found = [_user(row) for row in rows]
        return sorted(
            (user for user in found if region_in_scope(user.region_code, region_code)),
            key=lambda user: wanted.index(user.role),
        )

    async def _covers_city(self, region_code: str) -> bool:
        city = await self._db.fetchval(
            "SELECT code FROM regions WHERE level = ? ORDER BY parent_code IS NOT NULL, code LIMIT 1",
            (RegionLevel.CITY.value,),
        )
        return city is not None and region_in_scope(region_code, city)



def _params(user: User) -> tuple[object, ...]:
    return (
        user.telegram_id,
        user.full_name,
        user.username,
        user.role.value,
        user.region_code,
        user.institution_id,
        user.language,
        int(user.active),
        to_db_time(user.created_at),
    )


def _user(row: aiosqlite.Row) -> User:
    # By position (the order of _COLUMNS), the role from a dictionary: a reminder sweep reads a thousand people.
    (telegram_id, full_name, username, role, region_code, institution_id, language, active, created_at,
     unreachable_since, access_ended_at) = row
    return User(
        telegram_id=telegram_id,
        full_name=full_name,
        username=username,
        role=_ROLES[role],
        region_code=region_code,
        institution_id=institution_id,
        language=language,
        active=bool(active),
        created_at=from_db_time(created_at),
        unreachable_since=None if unreachable_since is None else from_db_time(unreachable_since),
        access_ended_at=None if access_ended_at is None else from_db_time(access_ended_at),
    )


_ROLES = {role.value: role for role in Role}
