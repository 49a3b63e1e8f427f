"""Chat groups (or forum topics) bound to a region, which receive broadcasts, warnings and digests.

Which groups hear about a place:
- `covering(code)`: every group whose region contains the place, up to and including the city's own groups.
- `for_region(code)`: the place's local groups: those bound to it or to an ancestor below the city. A hazard
  in a township of county X goes to X's groups; city groups are left out because they take city-wide things
  (broadcasts, digests, rankings) rather than every local item. For the city's code itself, its own groups.
  `BoundGroups.city_wide()` names the city's groups, for what of a county's reaches the city (a 重大 hazard, the
  three-day escalation).
- `within(code)`: groups bound to the region or anywhere inside it, e.g. all a county broadcast reaches.
With `purposes`, a group matches if its purpose is one of them or GENERAL ("everything for the region").
Only active bindings are returned; `get` also returns inactive ones, so a handler can tell "unbound" from
"never bound".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from bot.domain.roles import region_in_scope
from storage.db import Database
from storage.models import Group, GroupPurpose, RegionLevel
from storage.repositories._codec import from_db_time, to_db_time

_COLUMNS = "chat_id, topic_id, title, region_code, purpose, bound_by, bound_at, active, ended"
_SAME_CHAT = "chat_id = ? AND IFNULL(topic_id, 0) = IFNULL(?, 0)"


class GroupRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def bind(self, group: Group) -> Group:
        """Create or replace the binding of this chat (or topic); binding again re-activates it."""
        async with self._db.transaction():
            await self._db.execute(
                f"INSERT INTO groups ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) "
                "ON CONFLICT (chat_id, IFNULL(topic_id, 0)) DO UPDATE SET title = excluded.title, "
                "region_code = excluded.region_code, purpose = excluded.purpose, "
                "bound_by = excluded.bound_by, bound_at = excluded.bound_at, active = excluded.active, ended = NULL",
                (
                    group.chat_id,
                    group.topic_id,
                    group.title,
                    group.region_code,
                    group.purpose.value,
                    group.bound_by,
                    to_db_time(group.bound_at),
                    int(group.active),
                ),
            )
            stored = await self.get(group.chat_id, group.topic_id)
        assert stored is not None
        return stored

    async def move(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group upgraded to a supergroup keeps its bindings under its new id; returns how many the old id had. A
        binding the new chat already has (bound again by hand) wins over the old one."""
        row = await self._db.fetchone("SELECT COUNT(*) FROM groups WHERE chat_id = ?", (old_chat_id,))
        await self._db.execute("UPDATE OR IGNORE groups SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
        await self._db.execute("DELETE FROM groups WHERE chat_id = ?", (old_chat_id,))
        return int(row[0]) if row is not None else 0

    async def get(self, chat_id: int, topic_id: int | None = None) -> Group | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM groups WHERE {_SAME_CHAT}", (chat_id, topic_id)
        )
        return None if row is None else _group(row)

    async def unbind_chat(self, chat_id: int, why: str) -> list[Group]:
        """Deactivate every active binding of the chat (each forum topic's too), saying `why`; returns those it
        ended."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM groups WHERE chat_id = ? AND active = 1 ORDER BY IFNULL(topic_id, 0)", (chat_id,)
        )
        await self._db.execute(
            "UPDATE groups SET active = 0, ended = ? WHERE chat_id = ? AND active = 1", (why, chat_id)
        )
        return [_group(row) for row in rows]

    async def unbind(self, chat_id: int, topic_id: int | None, why: str) -> bool:
        """Deactivate the binding, keeping who bound it and when, and saying `why`; True if an active binding was
        ended."""
        changed = await self._db.execute_rowcount(
            f"UPDATE groups SET active = 0, ended = ? WHERE {_SAME_CHAT} AND active = 1", (why, chat_id, topic_id)
        )
        return changed > 0

    async def of_chat(self, chat_id: int) -> list[Group]:
        """Every binding the chat has or had (its general chat first, then its topics), active or not."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM groups WHERE chat_id = ? ORDER BY IFNULL(topic_id, 0)", (chat_id,)
        )
        return [_group(row) for row in rows]

    async def for_region(self, region_code: str, purposes: set[GroupPurpose] | None = None) -> list[Group]:
        return (await self.bound(purposes)).for_region(region_code)

    async def bound(self, purposes: set[GroupPurpose] | None = None) -> BoundGroups:
        """The active bindings, read once, for asking about many places (a reminder sweep asks about hundreds)."""
        return BoundGroups(await self._active(purposes))

    async def covering(self, region_code: str, purposes: set[GroupPurpose] | None = None) -> list[Group]:
        bound = await self._active(purposes)
        return [group for group, _ in bound if region_in_scope(group.region_code, region_code)]

    async def within(self, region_code: str | None, purposes: set[GroupPurpose] | None = None) -> list[Group]:
        """None means the whole city: every active group."""
        bound = await self._active(purposes)
        return [group for group, _ in bound if region_in_scope(region_code, group.region_code)]

    async def _active(self, purposes: Iterable[GroupPurpose] | None) -> list[tuple[Group, str | None]]:
        # Bindings are few (one or two per county), so the region tree is walked in Python, not in SQL.
        wanted = None if purposes is None else {GroupPurpose.GENERAL.value, *(p.value for p in purposes)}
        rows = await self._db.fetchall(
            f"SELECT {', '.join('g.' + c.strip() for c in _COLUMNS.split(','))}, r.level AS level "
            "FROM groups g LEFT JOIN regions r ON r.code = g.region_code "
            "WHERE g.active = 1 ORDER BY g.region_code, g.chat_id, IFNULL(g.topic_id, 0)"
        )
        return [(_group(row), row["level"]) for row in rows if wanted is None or row["purpose"] in wanted]


@dataclass(frozen=True)
class BoundGroups:
    bindings: list[tuple[Group, str | None]]  # each active group with the level of its region

    def for_region(self, region_code: str) -> list[Group]:
        """As `GroupRepository.for_region`."""
        return [
            group
            for group, level in self.bindings
            if region_in_scope(group.region_code, region_code)
            and (level != RegionLevel.CITY.value or group.region_code == region_code)
        ]

    def city_wide(self) -> list[Group]:
        """The groups bound to the city itself: of a place's hazards they take only what reaches the city (a 重大
        hazard, the three-day escalation), not every local item."""
        return [group for group, level in self.bindings if level == RegionLevel.CITY.value]


def _group(row: aiosqlite.Row) -> Group:
    return Group(
        chat_id=row["chat_id"],
        topic_id=row["topic_id"],
        title=row["title"],
        region_code=row["region_code"],
        purpose=GroupPurpose(row["purpose"]),
        bound_by=row["bound_by"],
        bound_at=from_db_time(row["bound_at"]),
        active=bool(row["active"]),
        ended=row["ended"],
    )
