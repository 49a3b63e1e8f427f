"""Load a city's regions and institutions from its data directory (`regions.json`, `institutions.json`).

A city is configured, not coded: another city gets a directory of its own with the same two files. Loading is
an idempotent upsert in one transaction, so it can be re-run after editing the files, and a bad row leaves the
database as it was. Rows are checked before anything is written, and errors name the file and the row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ConfigDict, ValidationError

from storage import Storage
from storage.models import NewInstitution, Region, RegionLevel

DEMO_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "wenzhou"
REGIONS_FILE = "regions.json"
INSTITUTIONS_FILE = "institutions.json"


class CityDataError(ValueError):
    pass


@dataclass(frozen=True)
class LoadResult:
    directory: Path
    regions: int
    counties: int
    institutions: int
    institutions_added: int


# Rows refuse unknown keys, so that a misspelt field in a data file is an error, not a silent default.
class _RegionRow(Region):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _InstitutionRow(NewInstitution):
    model_config = ConfigDict(frozen=True, extra="forbid")


_Row = TypeVar("_Row", _RegionRow, _InstitutionRow)


async def load_city_data(storage: Storage, directory: Path, *, today: date | None = None) -> LoadResult:
    """`today`: the local day an institution new to the database is judged from, unless its row names a
    `tracked_from` of its own (a city loading its homes today has no record of the drills they held before). Without
    it, as for the bundled demo, new institutions are judged for every period."""
    regions = _read_rows(directory / REGIONS_FILE, _RegionRow)
    institutions = _read_rows(directory / INSTITUTIONS_FILE, _InstitutionRow)
    known_codes = {region.code for region in regions} | {region.code for region in await storage.regions.all()}
    _check_references(directory / REGIONS_FILE, regions, known_codes)
    _check_references(directory / INSTITUTIONS_FILE, institutions, known_codes)
    added = 0
    async with storage.db.transaction():
        for region in regions:
            await storage.regions.upsert(region)
        for institution in institutions:
            if await storage.institutions.get_by_code(institution.code) is None:
                added += 1
                if today is not None and institution.tracked_from is None:
                    institution = institution.model_copy(update={"tracked_from": today})
            await storage.institutions.upsert(institution)
    return LoadResult(
        directory=directory,
        regions=len(regions),
        counties=sum(1 for region in regions if region.level is RegionLevel.COUNTY),
        institutions=len(institutions),
        institutions_added=added,
    )


def _read_rows(path: Path, model: type[_Row]) -> list[_Row]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        needed = f"{REGIONS_FILE} and {INSTITUTIONS_FILE}"
        raise CityDataError(f"{path}: file not found; a city directory needs {needed}") from None
    except json.JSONDecodeError as error:
        raise CityDataError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, list):
        raise CityDataError(f"{path}: expected a JSON array of rows, found {type(data).__name__}")
    rows: list[_Row] = []
    seen: set[str] = set()
    for number, item in enumerate(data, start=1):
        label = _row_label(path, number, item)
        try:
            row = model.model_validate(item)
        except ValidationError as error:
            raise CityDataError(f"{label}: {_describe(error)}") from None
        if row.code in seen:
            raise CityDataError(f"{label}: code {row.code} appears twice")
        seen.add(row.code)
        rows.append(row)
    return rows


def _check_references(path: Path, rows: Sequence[_RegionRow | _InstitutionRow], known: set[str]) -> None:
    for number, row in enumerate(rows, start=1):
        target = row.parent_code if isinstance(row, Region) else row.region_code
        if target is not None and target not in known:
            raise CityDataError(f"{path}, row {number} (code {row.code}): unknown region {target}")


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in detail['loc']) or 'row'}: {detail['msg']}" for detail in error.errors()
    )


def _row_label(path: Path, number: int, item: object) -> str:
    code = item.get("code") if isinstance(item, dict) else None
    return f"{path}, row {number}" + (f" (code {code})" if code is not None else "")
