from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.services.demo_data import DEMO_DATA_DIR, CityDataError, load_city_data
from storage import Storage
from storage.models import InstitutionType, RiskTag

WENZHOU_COUNTIES = {
    "330302", "330303", "330304", "330305", "330324", "330326",
    "330327", "330328", "330329", "330381", "330382", "330383",
}


async def test_wenzhou_loads_twice_without_duplicates(storage: Storage) -> None:
    first = await load_city_data(storage, DEMO_DATA_DIR)
    regions = await storage.regions.all()
    count = await storage.institutions.count()
    second = await load_city_data(storage, DEMO_DATA_DIR)

    assert first.counties == 12 and first.institutions_added == first.institutions == count
    assert second.institutions_added == 0
    assert await storage.regions.all() == regions
    assert await storage.institutions.count() == count
    assert {region.code for region in await storage.regions.counties()} == WENZHOU_COUNTIES
    assert all(region.parent_code == "330300" for region in await storage.regions.counties())


async def test_wenzhou_samples_cover_every_institution_type(wenzhou: Storage) -> None:
    institutions = await wenzhou.institutions.in_scope(None)
    assert {item.type for item in institutions} == set(InstitutionType)
    assert all(RiskTag.NEAR_SEA in item.risk_tags for item in await wenzhou.institutions.in_scope("330305"))
    funeral_homes = [item for item in institutions if item.type is InstitutionType.FUNERAL]
    assert funeral_homes and all(RiskTag.VEHICLES in item.risk_tags for item in funeral_homes)


def _write_city(directory: Path, regions: list[dict[str, object]], institutions: list[dict[str, object]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "regions.json").write_text(json.dumps(regions, ensure_ascii=False), encoding="utf-8")
    (directory / "institutions.json").write_text(json.dumps(institutions, ensure_ascii=False), encoding="utf-8")
    return directory


CITY: dict[str, object] = {"code": "330100", "name_zh": "杭州市", "name_en": "Hangzhou", "level": "city"}
COUNTY: dict[str, object] = {
    "code": "330102", "name_zh": "上城区", "name_en": "Shangcheng District", "level": "county", "parent_code": "330100"
}
HOME: dict[str, object] = {
    "code": "HZ-1", "name_zh": "上城区福利院", "name_en": "Shangcheng Welfare Home", "type": "elderly_care",
    "region_code": "330102", "risk_tags": ["kitchen"],
}


async def test_another_city_loads_from_its_own_directory(storage: Storage, tmp_path: Path) -> None:
    # Children before parents in the file must work too.
    result = await load_city_data(storage, _write_city(tmp_path / "hangzhou", [COUNTY, CITY], [HOME]))
    assert (result.regions, result.counties, result.institutions) == (2, 1, 1)
    city = await storage.regions.city()
    assert city is not None and city.name_en == "Hangzhou"


async def test_a_city_loaded_today_is_judged_from_today_unless_its_rows_say_otherwise(
    storage: Storage, tmp_path: Path
) -> None:
    """A city loading its homes has no record of the drills they held before: `safety-bot demo-data --dir` judges
    them from the day they were loaded, or from the `tracked_from` a row names; loading again changes neither."""
    older = {**HOME, "code": "HZ-2", "tracked_from": "2026-01-01"}
    city = _write_city(tmp_path / "hangzhou", [COUNTY, CITY], [HOME, older])
    await load_city_data(storage, city, today=date(2026, 7, 15))
    await load_city_data(storage, city, today=date(2026, 9, 1))
    loaded = {code: await storage.institutions.get_by_code(code) for code in ("HZ-1", "HZ-2")}
    assert {code: i.tracked_from for code, i in loaded.items() if i is not None} == {
        "HZ-1": date(2026, 7, 15), "HZ-2": date(2026, 1, 1),
    }


@pytest.mark.parametrize(
    ("regions", "institutions", "message"),
    [
        ([CITY, {**COUNTY, "level": "province-ish"}], [], r"regions\.json, row 2 \(code 330102\).*level"),
        ([CITY, {**COUNTY, "nmae_en": "typo"}], [], r"regions\.json, row 2 .*nmae_en"),
        ([CITY, COUNTY], [HOME, {**HOME, "risk_tags": ["volcano"]}], r"institutions\.json, row 2 \(code HZ-1\)"),
        ([CITY, COUNTY], [{**HOME, "region_code": "330199"}], r"institutions\.json, row 1 .*unknown region 330199"),
        ([CITY, COUNTY, COUNTY], [], r"regions\.json, row 3 .*twice"),
    ],
)
async def test_bad_rows_are_named_and_nothing_is_written(
    storage: Storage, tmp_path: Path, regions: list[dict[str, object]],
    institutions: list[dict[str, object]], message: str,
) -> None:
    with pytest.raises(CityDataError, match=message):
        await load_city_data(storage, _write_city(tmp_path / "bad", regions, institutions))
    assert await storage.regions.all() == []


async def test_missing_file_is_a_clear_error(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(CityDataError, match=r"regions\.json: file not found"):
        await load_city_data(storage, tmp_path)
