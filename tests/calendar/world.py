"""A small city for the calendar tests: the Wenzhou demo data, a few people and groups, and every service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.domain.deadlines import DEFAULT_DEADLINE_POLICY
from bot.domain.roles import Role
from bot.jobs import SendOutcome
from bot.services.calendar import DrillService, StudyService
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services.evidence import EvidenceStore
from bot.services.hazards import HazardService
from bot.services.reminders import Delivery, ReminderService
from bot.services.self_inspection import SelfInspectionService
from storage import Storage
from storage.hazard_models import PhotoRef, ReportDraft
from storage.models import GroupPurpose, User
from tests.small_city import Photos, add_people, bind_groups, registered, report_draft

TZ = ZoneInfo("Asia/Shanghai")
LUCHENG, LONGWAN, CITY = "330302", "330303", "330300"
CITY_ADMIN, LUCHENG_STAFF, LONGWAN_STAFF, CADRE = 1, 10, 20, 30
HEAD, SOCIAL_HEAD, FUNERAL_HEAD, WELFARE_HEAD = 40, 41, 42, 43
LUCHENG_GROUP, LONGWAN_GROUP, CITY_GROUP, LUCHENG_WARNINGS = -100, -200, -900, -300
HOME, SOCIAL = "WZ-330302-ELDER-01", "WZ-330303-SOCIAL-01"
FUNERAL, WELFARE = "WZ-330381-FUNERAL-01", "WZ-330300-WELFARE-01"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


@dataclass
class Services:
    """What bot.jobs needs (clock, reminders) plus the calendar services."""

    clock: FakeClock
    storage: Storage
    evidence: EvidenceStore
    hazards: HazardService
    reminders: ReminderService
    drills: DrillService
    selfchecks: SelfInspectionService
    studies: StudyService
    institutions: dict[str, int] = field(default_factory=dict)  # by code
    photos: Photos = field(init=False)

    def __post_init__(self) -> None:
        self.photos = Photos(self.evidence, "cal", "cal-u")

    async def user(self, telegram_id: int) -> User:
        return await registered(self.storage, telegram_id)

    def photo(self) -> PhotoRef:
        return self.photos.next()

    def draft(self, code: str = HOME, /, **fields: object) -> ReportDraft:
        return report_draft(self.institutions[code], self.photo(), **fields)

    def today(self) -> date:
        return self.clock.now().astimezone(TZ).date()


async def open_services(
    db_path: Path, evidence_root: Path, clock: FakeClock, *, populate: bool = True, tracking_since: date | None = None
) -> Services:
    storage = await Storage.open(db_path, clock)
    if populate:
        await populate_city(storage)
    evidence = EvidenceStore(evidence_root)
    hazards = HazardService(storage, clock, evidence, DEFAULT_DEADLINE_POLICY, TZ)
    reminders = ReminderService(storage, clock, TZ, tracking_since=tracking_since)
    services = Services(
        clock=clock,
        storage=storage,
        evidence=evidence,
        hazards=hazards,
        reminders=reminders,
        drills=DrillService(
            storage, clock, TZ, hazards=hazards, evidence=evidence, planner=reminders, tracking_since=tracking_since
        ),
        selfchecks=SelfInspectionService(
            storage, clock, TZ, hazards=hazards, evidence=evidence, planner=reminders, tracking_since=tracking_since
        ),
        studies=StudyService(storage, clock, TZ, tracking_since=tracking_since),
    )
    for institution in await storage.institutions.in_scope(None):
        services.institutions[institution.code] = institution.id
    return services


async def populate_city(storage: Storage) -> None:
    await load_city_data(storage, DEMO_DATA_DIR)
    codes = {}
    for code in (HOME, SOCIAL, FUNERAL, WELFARE):
        institution = await storage.institutions.get_by_code(code)
        assert institution is not None
        codes[code] = institution
    people = [
        (CITY_ADMIN, Role.CITY, None, None),
        (LUCHENG_STAFF, Role.COUNTY, LUCHENG, None),
        (LONGWAN_STAFF, Role.COUNTY, LONGWAN, None),
        (CADRE, Role.CADRE, LUCHENG, None),
        (HEAD, Role.HEAD, None, codes[HOME].id),
        (SOCIAL_HEAD, Role.HEAD, None, codes[SOCIAL].id),
        (FUNERAL_HEAD, Role.HEAD, None, codes[FUNERAL].id),
        (WELFARE_HEAD, Role.HEAD, None, codes[WELFARE].id),
    ]
    start = datetime(2025, 12, 1, tzinfo=UTC)
    await add_people(storage, people, start)
    for code, head in ((HOME, HEAD), (SOCIAL, SOCIAL_HEAD), (FUNERAL, FUNERAL_HEAD), (WELFARE, WELFARE_HEAD)):
        await storage.institutions.set_head(codes[code].id, head)
    groups = [
        (LUCHENG_GROUP, LUCHENG, GroupPurpose.GENERAL),
        (LONGWAN_GROUP, LONGWAN, GroupPurpose.DIGESTS),
        (CITY_GROUP, CITY, GroupPurpose.GENERAL),
        (LUCHENG_WARNINGS, LUCHENG, GroupPurpose.WARNINGS),
    ]
    await bind_groups(storage, groups, start)


@dataclass
class Sent:
    at: datetime
    delivery: Delivery


@dataclass
class Outbox:
    """A stand-in for the Telegram renderer: records what would be sent, and when."""

    clock: FakeClock
    sent: list[Sent] = field(default_factory=list)
    fail_next: int = 0

    async def __call__(self, delivery: Delivery) -> SendOutcome:
        if self.fail_next:
            self.fail_next -= 1
            return SendOutcome.RETRY
        self.sent.append(Sent(self.clock.now(), delivery))
        return SendOutcome.SENT

    def items(self) -> list[tuple[datetime, int, object]]:
        return [(s.at, s.delivery.recipient_id, item) for s in self.sent for item in s.delivery.items]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local(2026, 3, 2, 10))


@pytest.fixture
async def city(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    services = await open_services(tmp_path / "safety.db", tmp_path / "evidence", clock)
    try:
        yield services
    finally:
        await services.storage.close()
