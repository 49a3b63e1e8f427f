"""What the hazard loop keeps: drafts across restarts, evidence files, an append-only history, the migration."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.domain.catalog import HazardArea, Severity
from bot.domain.deadlines import DEFAULT_DEADLINE_POLICY
from bot.domain.roles import Role
from bot.services.evidence import EvidenceStore
from bot.services.hazards import HazardService
from storage import Database, Storage
from storage.hazard_models import ReportDraft
from storage.models import InstitutionType, Region, RegionLevel, User
from storage.repositories._codec import to_db_time
from tests.services.hazard_world import (
    CADRE,
    CITY_ADMIN,
    HEAD,
    LONGWAN_STAFF,
    LUCHENG_STAFF,
    OTHER_CADRE,
    OTHER_HEAD,
    START,
    World,
    clock,
    open_world,
    world,
)

__all__ = ["clock", "world"]


async def test_a_draft_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    first = await open_world(tmp_path / "safety.db", tmp_path / "evidence", clock)
    draft = first.draft(step="photos", address_text="五马街道颐养路6号", latitude=28.0, longitude=120.6)
    await first.service.save_draft(CADRE, draft)
    await first.storage.close()

    second = await open_world(tmp_path / "safety.db", tmp_path / "evidence", clock)
    try:
        assert await second.service.load_draft(CADRE) == draft
        await second.service.save_draft(CADRE, draft.model_copy(update={"step": "location"}))
        reloaded = await second.service.load_draft(CADRE)
        assert reloaded is not None and reloaded.step == "location"
        assert await second.service.discard_draft(CADRE) is True
        assert await second.service.load_draft(CADRE) is None
        assert await second.service.discard_draft(CADRE) is False
        # A draft from an older version that no longer validates is dropped, not a crash.
        await second.storage.db.execute(
            "INSERT INTO report_drafts (telegram_id, data, updated_at) VALUES (?, ?, ?)",
            (CADRE, '{"area": "no_such_area"}', "2026-03-01T01:00:00.000000+00:00"),
        )
        assert await second.service.load_draft(CADRE) is None
    finally:
        await second.storage.close()


async def test_submitting_a_report_removes_the_draft(world: World) -> None:
    draft = world.draft()
    await world.service.save_draft(CADRE, draft)
    await world.service.submit_report(await world.user(CADRE), draft, own_draft=True)
    assert await world.service.load_draft(CADRE) is None


async def test_a_hazard_reported_from_elsewhere_leaves_the_report_draft_alone(world: World) -> None:
    draft = world.draft(description="半份草稿：还没写完")
    await world.service.save_draft(CADRE, draft)
    await world.service.submit_report(await world.user(CADRE), world.draft())
    assert await world.service.load_draft(CADRE) == draft


def test_evidence_is_content_addressed_atomic_and_idempotent(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    data = b"\xff\xd8 a jpeg"
    digest = store.store(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.path(digest) == tmp_path / "evidence" / digest[:2] / digest[2:]
    assert store.store(data) == digest
    assert store.exists(digest) and store.read(digest) == data
    assert [p.name for p in (tmp_path / "evidence").rglob("*")] == [digest[:2], digest[2:]]  # no temp files left
    missing = hashlib.sha256(b"other").hexdigest()
    assert not store.exists(missing)
    with pytest.raises(FileNotFoundError):
        store.read(missing)
    for bad in ("../../etc/passwd", digest.upper(), digest[:-1]):
        with pytest.raises(ValueError):
            store.path(bad)


async def test_a_photo_missing_from_the_evidence_store_is_a_bug_not_a_hazard(world: World) -> None:
    draft = world.draft()
    ghost = draft.photos[0].model_copy(update={"sha256": hashlib.sha256(b"never stored").hexdigest()})
    with pytest.raises(ValueError):
        await world.service.submit_report(await world.user(CADRE), draft.model_copy(update={"photos": [ghost]}))


async def test_history_and_evidence_rows_are_append_only(world: World) -> None:
    hazard = (await world.service.submit_report(await world.user(CADRE), world.draft())).hazard
    for statement in (
        "UPDATE hazard_events SET note = 'x'",
        "DELETE FROM hazard_events",
        "UPDATE hazard_photos SET sha256 = 'x'",
        "DELETE FROM hazard_photos",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            await world.storage.db.execute(statement)
    assert len(await world.storage.hazards.events(hazard.id)) == 1
    assert [p.hazard_id for p in await world.storage.hazards.photos_by_file_unique_id("uniq-1")] == [hazard.id]


async def test_migrating_a_database_with_data_from_0001_to_0002(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.db"
    old = Storage(await Database.open(path, clock=clock, migrate_to=1), clock)
    assert old.db.schema_version == 1
    await old.regions.upsert(Region(code="330300", name_zh="温州市", name_en="Wenzhou", level=RegionLevel.CITY))
    await old.regions.upsert(
        Region(code="330302", name_zh="鹿城区", name_en="Lucheng", level=RegionLevel.COUNTY, parent_code="330300")
    )
    # As the schema of 0001 has it: today's repository reads and writes columns added later.
    await old.db.execute(
        "INSERT INTO institutions (code, name_zh, name_en, type, region_code) VALUES (?, ?, ?, ?, ?)",
        ("X-1", "测试养老院", "Test Home", InstitutionType.ELDERLY_CARE.value, "330302"),
    )
    await old.db.execute(
        "INSERT INTO users (telegram_id, full_name, role, region_code, created_at) VALUES (?, ?, ?, ?, ?)",
        (CADRE, "李娜", Role.CADRE.value, "330302", to_db_time(START)),
    )
    await old.audit.append(None, "user.registered", target=f"user:{CADRE}")
    assert await old.db.fetchval("SELECT COUNT(*) FROM sqlite_master WHERE name = 'hazards'") == 0
    await old.close()

    new = await Storage.open(path, clock)
    try:
        assert new.db.schema_version >= 2
        institution = await new.institutions.get_by_code("X-1")
        assert institution is not None and institution.tracked_from is None  # judged for every period, as before
        assert (institution.name_zh, institution.type, institution.region_code, institution.head_user_id) == (
            "测试养老院", InstitutionType.ELDERLY_CARE, "330302", None
        )
        assert (await new.users.get(CADRE)) is not None
        assert [e.action for e in await new.audit.list()] == ["user.registered"]
        assert await new.db.fetchval("PRAGMA foreign_keys") == 1
        service = _service_on(new, tmp_path, clock)
        draft = ReportDraft(
            institution_id=institution.id,
            area=HazardArea.FOOD,
            severity=Severity.MAJOR,
            description="留样冰箱温度不达标",
        )
        outcome = await service.submit_report(await _user(new, CADRE), draft)
        assert outcome.hazard.code == "YH-20260301-0001" and outcome.hazard.reported_at == START
    finally:
        await new.close()


def _service_on(storage: Storage, tmp_path: Path, clock: FakeClock) -> HazardService:
    evidence = EvidenceStore(tmp_path / "evidence")
    return HazardService(storage, clock, evidence, DEFAULT_DEADLINE_POLICY, ZoneInfo("Asia/Shanghai"))


async def _user(storage: Storage, telegram_id: int) -> User:
    user = await storage.users.get(telegram_id)
    assert user is not None
    return user


async def test_reminders_reach_heads_staff_and_a_cadre_only_while_named_responsible(world: World) -> None:
    hazard = (await world.service.submit_report(await world.user(CADRE), world.draft())).hazard
    reachable = {user.telegram_id for user in await world.storage.users.reachable_by_reminders()}
    assert {HEAD, OTHER_HEAD, LUCHENG_STAFF, LONGWAN_STAFF, CITY_ADMIN} <= reachable
    assert not {CADRE, OTHER_CADRE} & reachable  # a cadre reports; no reminder is theirs to act on
    await world.storage.db.execute("UPDATE hazards SET assignee_id = ? WHERE id = ?", (OTHER_CADRE, hazard.id))
    assert OTHER_CADRE in {user.telegram_id for user in await world.storage.users.reachable_by_reminders()}
    await world.storage.db.execute("UPDATE hazards SET state = 'closed' WHERE id = ?", (hazard.id,))
    assert OTHER_CADRE not in {user.telegram_id for user in await world.storage.users.reachable_by_reminders()}
