"""Who submitted the rectification awaiting verification (`hazards.fixed_by`, migration 0017): filled for the
hazards submitted before the column came, from their history, so that four eyes holds for them too."""

from __future__ import annotations

from pathlib import Path

from bot.clock import FakeClock
from storage import Database, Storage
from storage.migrations import load_migrations

BEFORE_FIXED_BY = 16  # the last migration without hazards.fixed_by
AT = "2026-03-01T01:00:00.000000+00:00"
FIRST_FIXER, SECOND_FIXER, ON_THE_SPOT, STAFF = 101, 102, 103, 104


async def _hazard(db: Database, code: str, state: str, fixed: bool, events: list[tuple[str, int]]) -> None:
    hazard_id = await db.fetchval(
        "INSERT INTO hazards (code, institution_id, region_code, area, severity, source_level, description, state, "
        "reporter_id, reported_at, fixed_at, updated_at) VALUES (?, 1, '330302', 'rights', 'major', 'county', "
        "'描述一下隐患', ?, ?, ?, ?, ?) RETURNING id",
        (code, state, STAFF, AT, AT if fixed else None, AT),
    )
    for action, actor in events:
        await db.execute(
            "INSERT INTO hazard_events (hazard_id, at, actor_id, action, from_state, to_state) "
            "VALUES (?, ?, ?, ?, 'rectifying', 'awaiting_verification')",
            (hazard_id, AT, actor, action),
        )


async def test_hazards_submitted_before_the_column_get_their_last_submitter(db_path: Path, clock: FakeClock) -> None:
    assert len(load_migrations()) > BEFORE_FIXED_BY
    old = await Database.open(db_path, migrate_to=BEFORE_FIXED_BY)
    await old.execute(
        "INSERT INTO regions (code, name_zh, name_en, level) VALUES ('330302', '鹿城区', 'Lucheng', 'county')"
    )
    await old.execute(
        "INSERT INTO institutions (code, name_zh, name_en, type, region_code) "
        "VALUES ('OLD-1', '老养老院', 'Old Home', 'elderly_care', '330302')"
    )
    await old.execute(
        "INSERT INTO users (telegram_id, full_name, role, region_code, created_at) "
        "VALUES (?, '周科长', 'county', '330302', ?)",
        (STAFF, AT),
    )
    resubmitted = [("submit_rectification", FIRST_FIXER), ("reject", STAFF), ("submit_rectification", SECOND_FIXER)]
    await _hazard(old, "YH-1", "awaiting_verification", True, resubmitted)
    await _hazard(old, "YH-2", "awaiting_verification", True, [("report_fixed_on_spot", ON_THE_SPOT)])
    await _hazard(old, "YH-3", "closed", True, [("submit_rectification", FIRST_FIXER), ("accept", STAFF)])
    # Rejected back: nothing awaits verification, so nobody is its fixer.
    await _hazard(old, "YH-4", "rectifying", False, [("submit_rectification", FIRST_FIXER), ("reject", STAFF)])
    await old.close()

    storage = await Storage.open(db_path, clock)
    try:
        fixers = {}
        for code in ("YH-1", "YH-2", "YH-3", "YH-4"):
            hazard = await storage.hazards.get_by_code(code)
            assert hazard is not None
            fixers[code] = hazard.fixed_by
            assert hazard.facts().fixed_by == hazard.fixed_by
        assert fixers == {"YH-1": SECOND_FIXER, "YH-2": ON_THE_SPOT, "YH-3": FIRST_FIXER, "YH-4": None}
    finally:
        await storage.close()
