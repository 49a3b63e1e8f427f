"""Reporting: institutions in scope, validation, duplicates, simultaneous reports, and the task lists."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.domain.targeting import NoticeKind
from bot.services.errors import Refusal
from tests.services.hazard_world import (
    CADRE,
    CITY_ADMIN,
    HEAD,
    LONGWAN_STAFF,
    LUCHENG_GROUP,
    LUCHENG_STAFF,
    OTHER_CADRE,
    World,
    add_user,
    clock,
    recipients,
    world,
)

__all__ = ["clock", "world"]

K = NoticeKind


async def test_institutions_offered_follow_the_reporters_scope_recent_first(world: World) -> None:
    service = world.service
    head, cadre, city = await world.user(HEAD), await world.user(CADRE), await world.user(CITY_ADMIN)
    assert [i.id for i in await service.institutions_for_report(head, None, 10)] == [world.home_id]
    assert await service.institutions_for_report(head, "龙湾", 10) == []

    lucheng = await service.institutions_for_report(cadre, None, 10)
    assert [i.code for i in lucheng] == ["WZ-330302-ELDER-02", "WZ-330302-ELDER-01"]  # by name: 鹿城区南… < 鹿城区社…
    await service.submit_report(cadre, world.draft())
    lucheng = await service.institutions_for_report(cadre, None, 10)
    assert [i.id for i in lucheng] == [world.home_id, world.other_home_id]
    assert [i.id for i in await service.institutions_for_report(cadre, "南汇", 10)] == [world.other_home_id]
    assert await service.institutions_for_report(cadre, "龙湾", 10) == []

    everything = await service.institutions_for_report(city, None, 100)
    assert len(everything) == await world.storage.institutions.count(active_only=True)
    assert len(await service.institutions_for_report(city, None, 3)) == 3
    staff = await world.user(LONGWAN_STAFF)
    assert [i.id for i in await service.institutions_for_report(staff, None, 10)] == [world.longwan_id]


async def test_a_report_is_checked_before_anything_is_stored(world: World) -> None:
    cadre = await world.user(CADRE)
    cases = [
        (world.draft(institution_id=None), "report_incomplete", {"field": "institution"}),
        (world.draft(area=None), "report_incomplete", {"field": "area"}),
        (world.draft(severity=None), "report_incomplete", {"field": "severity"}),
        (world.draft(description=" 太短 "), "description_too_short", {"min": 5}),
        (world.draft(description="长" * 2001), "description_too_long", {"max": 2000}),
        (world.draft(photos=[world.photo() for _ in range(10)]), "too_many_photos", {"max": 9}),
        (world.draft(description="这份秘密★1年文件放在前台"), "classified", {"mark": "秘密"}),
        (world.draft(institution_id=world.other_home_id + 1000), "not_in_scope", {}),
    ]
    for draft, code, params in cases:
        with pytest.raises(Refusal) as refused:
            await world.service.submit_report(cadre, draft)
        assert (refused.value.code, refused.value.params) == (code, params)
    assert await world.storage.db.fetchval("SELECT COUNT(*) FROM hazards") == 0
    assert (await world.service.submit_report(cadre, world.draft(description="  恰好五个字  "))).hazard.description == (
        "恰好五个字"
    )


async def test_source_level_and_deadline_follow_role_and_severity(world: World) -> None:
    head, staff = await world.user(HEAD), await world.user(LUCHENG_STAFF)
    own = (await world.service.submit_report(head, world.draft(severity=Severity.MAJOR))).hazard
    assert own.source_level is SourceLevel.SELF_CHECK and own.deadline == own.reported_at + timedelta(days=3)
    assert own.state is HazardState.ASSIGNED and own.assignee_id == HEAD
    chosen = world.draft(source_level=SourceLevel.CITY, institution_id=world.other_home_id)
    outcome = await world.service.submit_report(staff, chosen)
    assert outcome.hazard.source_level is SourceLevel.CITY
    # No head has registered at this institution: nobody is responsible yet, so staff are told.
    assert outcome.hazard.state is HazardState.REPORTED and outcome.hazard.assignee_id is None
    assert recipients(outcome.notices) == {(K.NEW_HAZARD_FOR_GROUP, LUCHENG_GROUP)}  # the only staff is the actor
    cadre_outcome = await world.service.submit_report(
        await world.user(CADRE), world.draft(institution_id=world.other_home_id)
    )
    assert recipients(cadre_outcome.notices) == {
        (K.NEW_HAZARD_FOR_STAFF, LUCHENG_STAFF),
        (K.NEW_HAZARD_FOR_GROUP, LUCHENG_GROUP),
    }


async def test_a_duplicate_report_adds_its_photos_to_the_existing_hazard(world: World) -> None:
    service = world.service
    cadre, other, head = await world.user(CADRE), await world.user(OTHER_CADRE), await world.user(HEAD)
    first = (await service.submit_report(cadre, world.draft())).hazard
    assert [h.id for h in await service.duplicates(world.home_id, HazardArea.FIRE, viewer=other)] == [first.id]
    assert await service.duplicates(world.home_id, HazardArea.GAS, viewer=other) == []

    await service.save_draft(OTHER_CADRE, world.draft(merge_into_hazard_id=first.id))
    draft = await service.load_draft(OTHER_CADRE)
    assert draft is not None
    merged = await service.submit_report(
        other, draft.model_copy(update={"photos": [world.photo(), world.photo()]}), own_draft=True
    )
    assert merged.merged and merged.hazard.id == first.id
    assert merged.event is not None and merged.event.detail == {"merged_report": True, "photos": 2}
    assert recipients(merged.notices) == {(K.EVIDENCE_ADDED, HEAD)}
    assert await world.storage.db.fetchval("SELECT COUNT(*) FROM hazards") == 1
    assert len(await world.storage.hazards.photos(first.id)) == 3
    assert await service.load_draft(OTHER_CADRE) is None  # the draft is done with

    with pytest.raises(Refusal) as other_area:
        await service.submit_report(other, world.draft(area=HazardArea.GAS, merge_into_hazard_id=first.id))
    assert other_area.value.code == "merge_target_invalid"
    # Without photos the description is what it adds (a note); with neither, there is nothing to add.
    with pytest.raises(Refusal) as nothing:
        await service.submit_report(other, world.draft(photos=[], description=None, merge_into_hazard_id=first.id))
    assert nothing.value.code == "report_incomplete"
    assert (await world.storage.hazards.get(first.id)).followers == (OTHER_CADRE,)  # type: ignore[union-attr]

    # A head cannot learn of a rights hazard at their home by trying to merge into it.
    rights = (await service.submit_report(cadre, world.draft(area=HazardArea.RIGHTS))).hazard
    with pytest.raises(Refusal) as hidden:
        await service.submit_report(head, world.draft(area=HazardArea.RIGHTS, merge_into_hazard_id=rights.id))
    assert hidden.value.code == "merge_target_invalid"
    refused = await world.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.target, e.detail["reason"]) for e in refused] == [
        (HEAD, f"hazard:{rights.code}", "sensitive_hidden")
    ]
    assert len(await world.storage.hazards.photos(rights.id)) == 1


async def test_thirty_people_reporting_at_once_get_thirty_distinct_codes(world: World) -> None:
    reporters = [await add_user(world.storage, 1000 + n, Role.CADRE) for n in range(30)]
    drafts = [world.draft() for _ in reporters]
    outcomes = await asyncio.gather(
        *(world.service.submit_report(r, d) for r, d in zip(reporters, drafts, strict=True))
    )
    codes = sorted(outcome.hazard.code for outcome in outcomes)
    assert codes == [f"YH-20260301-{n:04d}" for n in range(1, 31)]
    assert await world.storage.db.fetchval("SELECT COUNT(*) FROM hazards") == 30
    head_notices = [n for o in outcomes for n in o.notices if n.kind is K.NEW_HAZARD_FOR_HEAD]
    assert len(head_notices) == 30 and {n.recipient_id for n in head_notices} == {HEAD}


async def test_codes_count_per_local_day(world: World) -> None:
    cadre = await world.user(CADRE)
    world.clock.advance(timedelta(hours=15))  # 16:00 UTC on 1 March is already 2 March in Wenzhou
    first = (await world.service.submit_report(cadre, world.draft())).hazard
    second = (await world.service.submit_report(cadre, world.draft())).hazard
    assert (first.code, second.code) == ("YH-20260302-0001", "YH-20260302-0002")
    assert await world.service.find_by_code("yh-20260302-0002") == second
    assert await world.service.find_by_code("YH-2026-1") is None


async def test_tasks_put_overdue_first_then_by_deadline_and_page(world: World) -> None:
    service, clock = world.service, world.clock
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)
    general = (await service.submit_report(cadre, world.draft(severity=Severity.GENERAL))).hazard  # 7 days
    major = (await service.submit_report(cadre, world.draft(severity=Severity.MAJOR))).hazard  # 3 days
    serious = (await service.submit_report(cadre, world.draft(severity=Severity.SERIOUS))).hazard  # 24 hours
    clock.advance(timedelta(hours=1))
    late_serious = (await service.submit_report(cadre, world.draft(severity=Severity.SERIOUS))).hazard
    fixed = (await service.submit_report(cadre, world.draft(severity=Severity.SERIOUS))).hazard
    await service.act(head, fixed.id, HazardAction.SUBMIT_RECTIFICATION, reason="已整改完毕", photos=[world.photo()])
    hidden = (await service.submit_report(cadre, world.draft(area=HazardArea.RIGHTS))).hazard
    closed = (await service.submit_report(cadre, world.draft())).hazard
    await service.act(head, closed.id, HazardAction.SUBMIT_RECTIFICATION, reason="已整改完毕", photos=[world.photo()])
    await service.act(staff, closed.id, HazardAction.ACCEPT)
    clock.advance(timedelta(hours=48))  # both serious ones are overdue; the submitted one is not

    pages = [await service.tasks(head, page, 2) for page in range(2)]
    assert [p.total for p in pages] == [4, 4] and [p.pages for p in pages] == [2, 2]
    assert [[(i.hazard.id, i.overdue) for i in p.items] for p in pages] == [
        [(serious.id, True), (late_serious.id, True)],
        [(major.id, False), (general.id, False)],
    ]
    assert (pages[0].has_previous, pages[0].has_next, pages[1].has_next) == (False, True, False)
    assert (await service.tasks(head, 7, 2)).page == 1  # a stale "next" button lands on the last page
    # The fix awaiting verification is the county's turn: listed apart for the head, never counted as theirs.
    assert await service.awaiting_staff(head) == ([await world.storage.hazards.get(fixed.id)], 1)
    assert await service.awaiting_staff(staff) == ([], 0)

    queue = await service.tasks(staff, 0, 10)
    assert [i.hazard.id for i in queue.items] == [fixed.id, serious.id, late_serious.id, hidden.id]
    assert [i.overdue for i in queue.items] == [False, True, True, False]
    assert (await service.tasks(await world.user(LONGWAN_STAFF), 0, 10)).total == 0
    assert (await service.tasks(await world.user(CITY_ADMIN), 0, 10)).total == 4
    assert hidden.id not in {i.hazard.id for p in pages for i in p.items}


async def test_whoever_is_named_responsible_sees_the_hazard_in_their_tasks(world: World) -> None:
    service = world.service
    cadre, head = await world.user(CADRE), await world.user(HEAD)
    hidden = (await service.submit_report(cadre, world.draft(area=HazardArea.RIGHTS))).hazard
    ordinary = (await service.submit_report(cadre, world.draft())).hazard
    elsewhere = (await service.submit_report(cadre, world.draft(institution_id=world.other_home_id))).hazard
    assert [i.hazard.id for i in (await service.tasks(head, 0, 10)).items] == [ordinary.id]
    assert (await service.tasks(cadre, 0, 10)).total == 0
    # Named responsible (as staff may name someone): the hazard is theirs, whatever its area or institution.
    for hazard, person in ((hidden, head), (elsewhere, head), (ordinary, cadre)):
        await world.storage.db.execute(
            "UPDATE hazards SET assignee_id = ? WHERE id = ?", (person.telegram_id, hazard.id)
        )
    assert {i.hazard.id for i in (await service.tasks(head, 0, 10)).items} == {hidden.id, ordinary.id, elsewhere.id}
    assert [i.hazard.id for i in (await service.tasks(cadre, 0, 10)).items] == [ordinary.id]
