"""A small city for the hazard service tests: the Wenzhou demo data plus a few people and bound groups."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.domain.deadlines import DEFAULT_DEADLINE_POLICY
from bot.domain.roles import Role
from bot.domain.targeting import Notice
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services.evidence import EvidenceStore
from bot.services.hazards import HazardService
from storage import Storage
from storage.hazard_models import PhotoRef, ReportDraft
from storage.models import GroupPurpose, User
from tests.small_city import Photos, add_people, bind_groups, registered, report_draft
from tests.small_city import add_user as add_person

LUCHENG, LONGWAN = "330302", "330303"
CITY_ADMIN, LUCHENG_STAFF, LONGWAN_STAFF, CADRE, OTHER_CADRE, HEAD, OTHER_HEAD = 1, 10, 20, 30, 31, 40, 41
LUCHENG_GROUP, LONGWAN_GROUP, LUCHENG_WARNINGS = -100, -200, -300
START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Wenzhou


@dataclass
class World:
    storage: Storage
    clock: FakeClock
    evidence: EvidenceStore
    service: HazardService
    home_id: int  # 鹿城区社会福利院, headed by HEAD
    other_home_id: int  # 鹿城区南汇街道居家养老服务中心, no head registered
    longwan_id: int  # an institution in another county, headed by OTHER_HEAD
    photos: Photos = field(init=False)

    def __post_init__(self) -> None:
        self.photos = Photos(self.evidence, "file", "uniq")

    async def user(self, telegram_id: int) -> User:
        return await registered(self.storage, telegram_id)

    def photo(self) -> PhotoRef:
        return self.photos.next()

    def draft(self, **fields: object) -> ReportDraft:
        return report_draft(self.home_id, self.photo(), **fields)


async def open_world(db_path: Path, evidence_root: Path, clock: FakeClock) -> World:
    storage = await Storage.open(db_path, clock)
    await load_city_data(storage, DEMO_DATA_DIR)
    home = await storage.institutions.get_by_code("WZ-330302-ELDER-01")
    other_home = await storage.institutions.get_by_code("WZ-330302-ELDER-02")
    longwan = await storage.institutions.get_by_code("WZ-330303-SOCIAL-01")
    assert home and other_home and longwan
    people = [
        (CITY_ADMIN, Role.CITY, None, None),
        (LUCHENG_STAFF, Role.COUNTY, LUCHENG, None),
        (LONGWAN_STAFF, Role.COUNTY, LONGWAN, None),
        (CADRE, Role.CADRE, LUCHENG, None),
        (OTHER_CADRE, Role.CADRE, LUCHENG, None),
        (HEAD, Role.HEAD, home.region_code, home.id),
        (OTHER_HEAD, Role.HEAD, longwan.region_code, longwan.id),
    ]
    await add_people(storage, people, START)
    await storage.institutions.set_head(home.id, HEAD)
    await storage.institutions.set_head(longwan.id, OTHER_HEAD)
    groups = [
        (LUCHENG_GROUP, LUCHENG, GroupPurpose.HAZARDS),
        (LONGWAN_GROUP, LONGWAN, GroupPurpose.GENERAL),
        (LUCHENG_WARNINGS, LUCHENG, GroupPurpose.WARNINGS),
    ]
    await bind_groups(storage, groups, START)
    evidence = EvidenceStore(evidence_root)
    service = HazardService(storage, clock, evidence, DEFAULT_DEADLINE_POLICY, ZoneInfo("Asia/Shanghai"))
    return World(storage, clock, evidence, service, home.id, other_home.id, longwan.id)


async def add_user(
    storage: Storage, telegram_id: int, role: Role, region: str | None = LUCHENG, institution_id: int | None = None
) -> User:
    return await add_person(storage, telegram_id, role, region, institution_id, START)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    opened = await open_world(tmp_path / "safety.db", tmp_path / "evidence", clock)
    try:
        yield opened
    finally:
        await opened.storage.close()


def recipients(notices: Sequence[Notice]) -> set[tuple[str, int]]:
    """(kind, recipient) pairs, to compare notices whatever their order."""
    return {(notice.kind.value, notice.recipient_id) for notice in notices}
