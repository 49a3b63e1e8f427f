"""Administrative regions of the configured city: the city itself, its counties and townships."""

from __future__ import annotations

import aiosqlite

from storage.db import Database
from storage.models import Region, RegionLevel

_COLUMNS = "code, name_zh, name_en, level, parent_code, latitude, longitude"


class RegionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, region: Region) -> Region:
        await self._db.execute(
            f"INSERT INTO regions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, "
            "level = excluded.level, parent_code = excluded.parent_code, "
            "latitude = excluded.latitude, longitude = excluded.longitude",
            (
                region.code,
                region.name_zh,
                region.name_en,
                region.level.value,
                region.parent_code,
                region.latitude,
                region.longitude,
            ),
        )
        return region

    async def get(self, code: str) -> Region | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM regions WHERE code = ?", (code,))
        return None if row is None else _region(row)

    async def children(self, code: str) -> list[Region]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM regions WHERE parent_code = ? ORDER BY code", (code,)
        )
        return [_region(row) for row in rows]

    async def counties(self) -> list[Region]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM regions WHERE level = ? ORDER BY code", (RegionLevel.COUNTY.value,)
        )
        return [_region(row) for row in rows]

    async def all(self) -> list[Region]:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM regions ORDER BY code")
        return [_region(row) for row in rows]

    async def city(self) -> Region | None:
        """The root of the configured tree: one city per deployment."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM regions WHERE level = ? ORDER BY parent_code IS NOT NULL, code LIMIT 1",
            (RegionLevel.CITY.value,),
        )
        return None if row is None else _region(row)


def _region(row: aiosqlite.Row) -> Region:
    return Region(
        code=row["code"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        level=RegionLevel(row["level"]),
        parent_code=row["parent_code"],
        latitude=row["latitude"],
        longitude=row["longitude"],
    )
