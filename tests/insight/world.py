"""A hand-built month for the statistics tests: March 2026 in Wenzhou, nine hazards, a few drills, self-inspections
and two warnings, each placed so that every figure of /stats can be worked out by hand (see test_stats.py).

    H1 A fire/general/self-check     found 03-02, closed 03-06 on time (96 h)
    H2 A electricity/major/cross     found 03-03, closed 03-10 late     (168 h)
    H3 A rights/serious/county       found 03-04, rectifying, deadline 03-05: overdue; hidden from A's head
    H4 B gas/serious/county          found 03-10, awaiting verification, deadline passed (not overdue: fixed)
    H5 C fire/general/city           found 03-12, assigned, deadline 03-19: overdue
    H6 C food/general/self-check     found 03-15, assigned, deadline 03-22
    H7 D transport/major/self-check  found 03-01, closed 03-02 on time (24 h)
    H8 A fire/general/self-check     found 02-10 (February), rectifying, overdue: backlog only
    H9 B fire/general/self-check     found 01-05 (January), closed: in no March figure

A, B: Lucheng elderly-care homes (townships 330302001, 330302007); C: a Longwan social organisation; D: the city's
funeral home (330300). "Now" is 2026-03-20 10:00 in Wenzhou.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.compliance import DrillKind
from bot.domain.lifecycle import HazardState
from bot.domain.roles import Role
from bot.domain.warnings import NewWarning, WarningKind, WarningLevel, WarningOrigin, WarningStatus, WarningTarget
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services.warning_core import first_revision
from storage import Storage
from storage.calendar_models import NewDrill
from storage.hazard_models import Hazard, NewHazard, PhotoRef
from storage.models import Group, GroupPurpose, User
from storage.warning_models import AckResponse, RecipientKind, WarningAck, WarningRecipient

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
A, B, C, D = "WZ-330302-ELDER-01", "WZ-330302-ELDER-02", "WZ-330303-SOCIAL-01", "WZ-330300-FUNERAL-01"
CITY_ADMIN, LUCHENG_STAFF, LONGWAN_STAFF, CADRE = 1, 10, 20, 30
HEAD_A, HEAD_A2, HEAD_B, HEAD_C, HEAD_D = 40, 46, 47, 41, 48
LUCHENG, LONGWAN = "330302", "330303"
GROUP = -5000
PHOTO = PhotoRef(file_id="f", file_unique_id="u", sha256="0" * 64)


def at(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@dataclass
class InsightWorld:
    storage: Storage
    clock: FakeClock
    ids: dict[str, int]  # institution code → id
    hazards: dict[str, Hazard]  # H1 … H9

    async def user(self, telegram_id: int) -> User:
        found = await self.storage.users.get(telegram_id)
        assert found is not None
        return found


async def add_people(storage: Storage, ids: dict[str, int]) -> None:
    people = [
        (CITY_ADMIN, Role.CITY, None, None), (LUCHENG_STAFF, Role.COUNTY, LUCHENG, None),
        (LONGWAN_STAFF, Role.COUNTY, LONGWAN, None), (CADRE, Role.CADRE, LUCHENG, None),
        (HEAD_A, Role.HEAD, None, ids[A]), (HEAD_A2, Role.HEAD, None, ids[A]), (HEAD_B, Role.HEAD, None, ids[B]),
        (HEAD_C, Role.HEAD, None, ids[C]), (HEAD_D, Role.HEAD, None, ids[D]),
    ]
    for telegram_id, role, region, institution in people:
        await storage.users.upsert(User(telegram_id=telegram_id, full_name=f"user {telegram_id}", role=role,
                                        region_code=region, institution_id=institution, created_at=at(1, 1)))
    for code, head in ((A, HEAD_A), (B, HEAD_B), (C, HEAD_C), (D, HEAD_D)):
        await storage.institutions.set_head(ids[code], head)


async def _hazard(
    storage: Storage, ids: dict[str, int], regions: dict[str, str], code: str, area: HazardArea,
    severity: Severity, source: SourceLevel, found: datetime, deadline: datetime, state: HazardState,
    closed: datetime | None = None, on_time: bool | None = None,
) -> Hazard:
    new = NewHazard(
        institution_id=ids[code], region_code=regions[code], area=area, severity=severity, source_level=source,
        description=f"{area.value} 隐患", state=HazardState.REPORTED, reporter_id=CADRE, assignee_id=None,
        deadline=deadline, reported_at=found,
    )
    hazard = await storage.hazards.insert(new, found.date())
    fixed = None if state in (HazardState.ASSIGNED, HazardState.RECTIFYING) else (closed or found) - timedelta(hours=1)
    changed = hazard.model_copy(update={
        "state": state, "fixed_at": fixed, "closed_at": closed, "closed_on_time": on_time,
        "measures": "清理杂物" if fixed else None, "updated_at": closed or found,
    })
    assert await storage.hazards.update_state(changed, expected_state=HazardState.REPORTED)
    return changed


async def add_hazards(storage: Storage, ids: dict[str, int], regions: dict[str, str]) -> dict[str, Hazard]:
    g, m, s = Severity.GENERAL, Severity.MAJOR, Severity.SERIOUS
    own, cross, county, city = (SourceLevel.SELF_CHECK, SourceLevel.CROSS_CHECK, SourceLevel.COUNTY,
                                SourceLevel.CITY)
    add = _hazard
    S = HazardState
    return {
        "H1": await add(storage, ids, regions, A, HazardArea.FIRE, g, own, at(3, 2), at(3, 9), S.CLOSED,
                        at(3, 6), True),
        "H2": await add(storage, ids, regions, A, HazardArea.ELECTRICITY, m, cross, at(3, 3), at(3, 6), S.CLOSED,
                        at(3, 10), False),
        "H3": await add(storage, ids, regions, A, HazardArea.RIGHTS, s, county, at(3, 4), at(3, 5), S.RECTIFYING),
        "H4": await add(storage, ids, regions, B, HazardArea.GAS, s, county, at(3, 10), at(3, 11),
                        S.AWAITING_VERIFICATION),
        "H5": await add(storage, ids, regions, C, HazardArea.FIRE, g, city, at(3, 12), at(3, 19), S.ASSIGNED),
        "H6": await add(storage, ids, regions, C, HazardArea.FOOD, g, own, at(3, 15), at(3, 22), S.ASSIGNED),
        "H7": await add(storage, ids, regions, D, HazardArea.TRANSPORT, m, own, at(3, 1), at(3, 4), S.CLOSED,
                        at(3, 2), True),
        "H8": await add(storage, ids, regions, A, HazardArea.FIRE, g, own, at(2, 10), at(2, 17), S.RECTIFYING),
        "H9": await add(storage, ids, regions, B, HazardArea.FIRE, g, own, at(1, 5), at(1, 12), S.CLOSED,
                        at(1, 8), True),
    }


async def add_duties(storage: Storage, ids: dict[str, int]) -> None:
    drills = [(A, DrillKind.FIRE, date(2026, 3, 1)), (B, DrillKind.FIRE, date(2025, 10, 10)),
              (C, DrillKind.FIRE, date(2025, 5, 1)), (D, DrillKind.TYPHOON_FLOOD, date(2026, 2, 1))]
    for code, kind, held in drills:
        await storage.calendar.add_drill(
            NewDrill(institution_id=ids[code], kind=kind, held_on=held, participants=20, duration_minutes=40,
                     practised="疏散", logged_by=CADRE, logged_at=at(3, 1)),
            [PHOTO],
        )
    for code, month, finished in ((A, "2026-03", True), (C, "2026-03", True), (B, "2026-03", False),
                                  (D, "2026-02", True)):
        inspection = await storage.calendar.start_inspection(ids[code], month, CADRE, at(3, 3))
        if finished:
            await storage.calendar.finish_inspection(inspection.id, CADRE, at(3, 3, 4))


async def add_warnings(storage: Storage, ids: dict[str, int], regions: dict[str, str]) -> None:
    def heads(*pairs: tuple[int, str]) -> list[WarningRecipient]:
        return [WarningRecipient(kind=RecipientKind.HEAD, chat_id=h, institution_id=ids[c], region_code=regions[c])
                for h, c in pairs]

    march = await _sent_warning(storage, "台风橙色预警", at(3, 5))
    await storage.warnings.add_recipients(march, heads((HEAD_A, A), (HEAD_A2, A), (HEAD_B, B), (HEAD_C, C)), at(3, 5))
    for user, code, minutes, response in ((HEAD_A2, A, 45, AckResponse.RECEIVED), (HEAD_A, A, 30, AckResponse.RECEIVED),
                                          (HEAD_C, C, 90, AckResponse.NEED_HELP)):
        await storage.warnings.record_ack(WarningAck(warning_id=march, user_id=user, institution_id=ids[code],
                                                     response=response, revision=1,
                                                     at=at(3, 5) + timedelta(minutes=minutes)))
    # What home A did under it (落实情况), twice: the register lists both, oldest first.
    for hours, text in ((2, "门窗已加固，排水沟已清理"), (5, "已转移老人12人至安置点")):
        await storage.warning_reports.add(march, ids[A], HEAD_A, text, (), 1, at(3, 5) + timedelta(hours=hours))
    february = await _sent_warning(storage, "寒潮蓝色预警", at(2, 20))
    await storage.warnings.add_recipients(february, heads((HEAD_A, A)), at(2, 20))


async def _sent_warning(storage: Storage, headline: str, sent: datetime) -> int:
    new = NewWarning(
        kind=WarningKind.TYPHOON, level=WarningLevel.ORANGE, headline=headline, onset=sent,
        target=WarningTarget(regions=frozenset({LUCHENG, LONGWAN})), origin=WarningOrigin.MANUAL,
        created_by=CITY_ADMIN, created_at=sent,
    )
    warning = await storage.warnings.add(new, first_revision(new, actor_id=CITY_ADMIN, at=sent))
    await storage.warnings.save(warning.model_copy(update={"status": WarningStatus.SENT, "sent_at": sent}))
    return warning.id


async def open_world(path: Path) -> InsightWorld:
    clock = FakeClock(NOW)
    storage = await Storage.open(path, clock)
    await load_city_data(storage, DEMO_DATA_DIR)
    institutions = await storage.institutions.in_scope(None)
    ids = {i.code: i.id for i in institutions}
    regions = {i.code: i.region_code for i in institutions}
    await add_people(storage, ids)
    hazards = await add_hazards(storage, ids, regions)
    await add_duties(storage, ids)
    await add_warnings(storage, ids, regions)
    await storage.groups.bind(Group(chat_id=GROUP, title="全市工作群", region_code="330300",
                                    purpose=GroupPurpose.DIGESTS, bound_by=CITY_ADMIN, bound_at=at(1, 1)))
    return InsightWorld(storage, clock, ids, hazards)
