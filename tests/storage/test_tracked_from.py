"""Since when an institution's calendar duties are judged (`tracked_from`): set once, when the row is created, and
never reset; rows that existed before the column came get none (judged for every period, as before)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.clock import FakeClock
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from storage import Database, Storage
from storage.migrations import load_migrations
from storage.models import InstitutionType, NewInstitution

BEFORE_TRACKED_FROM = 12  # the last migration without institutions.tracked_from


def _home(tracked_from: date | None = None) -> NewInstitution:
    return NewInstitution(code="T-1", name_zh="测试养老院", name_en="Test Care Home",
                          type=InstitutionType.ELDERLY_CARE, region_code="330302", tracked_from=tracked_from)


async def test_institutions_that_existed_before_the_migration_are_tracked_from_no_date(
    db_path: Path, clock: FakeClock
) -> None:
    assert len(load_migrations()) > BEFORE_TRACKED_FROM
    old = await Database.open(db_path, migrate_to=BEFORE_TRACKED_FROM)
    await old.execute(
        "INSERT INTO regions (code, name_zh, name_en, level) VALUES ('330300', '温州市', 'Wenzhou', 'city')"
    )
    await old.execute(
        "INSERT INTO institutions (code, name_zh, name_en, type, region_code) "
        "VALUES ('OLD-1', '老养老院', 'Old Home', 'elderly_care', '330300')"
    )
    await old.close()

    storage = await Storage.open(db_path, clock)
    try:
        old_home = await storage.institutions.get_by_code("OLD-1")
        assert old_home is not None and old_home.tracked_from is None
    finally:
        await storage.close()


async def test_tracked_from_is_set_when_created_and_never_overwritten(wenzhou: Storage) -> None:
    first = await wenzhou.institutions.upsert(_home(date(2026, 7, 15)))
    assert first.tracked_from == date(2026, 7, 15)
    again = await wenzhou.institutions.upsert(_home(date(2026, 9, 1)).model_copy(update={"name_en": "Renamed"}))
    assert (again.id, again.name_en, again.tracked_from) == (first.id, "Renamed", date(2026, 7, 15))
    assert (await wenzhou.institutions.get(first.id)) == again
    assert [i.tracked_from for i in await wenzhou.institutions.get_many([first.id])] == [date(2026, 7, 15)]
    untracked = await wenzhou.institutions.upsert(_home(None))  # a data file without the date keeps it too
    assert untracked.tracked_from == date(2026, 7, 15)


async def test_demo_data_and_rows_imported_over_them_stay_judged_for_every_period(wenzhou: Storage) -> None:
    institutions = await wenzhou.institutions.in_scope(None, active_only=False)
    assert institutions and all(i.tracked_from is None for i in institutions)
    home = institutions[0]
    updated = await wenzhou.institutions.upsert(
        NewInstitution(code=home.code, name_zh=home.name_zh, name_en=home.name_en, type=home.type,
                       region_code=home.region_code, tracked_from=date(2026, 7, 15))
    )
    assert updated.tracked_from is None  # an update of an existing row, not a new institution
    await load_city_data(wenzhou, DEMO_DATA_DIR)
    assert all(i.tracked_from is None for i in await wenzhou.institutions.in_scope(None, active_only=False))
