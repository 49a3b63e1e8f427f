"""The closed loop through HazardService: report → acknowledge → rectify → verify → close, and its refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.targeting import NoticeKind
from bot.services.errors import Refusal
from storage.hazard_models import PhotoKind
from tests.services.hazard_world import (
    CADRE,
    CITY_ADMIN,
    HEAD,
    LONGWAN_STAFF,
    LUCHENG_GROUP,
    LUCHENG_STAFF,
    OTHER_CADRE,
    OTHER_HEAD,
    START,
    World,
    clock,
    recipients,
    world,
)

__all__ = ["clock", "world"]

A = HazardAction
K = NoticeKind


async def test_the_whole_loop_closes_on_time_with_history_audit_and_notices(world: World) -> None:
    service = world.service
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)

    reported = await service.submit_report(cadre, world.draft(latitude=28.01, longitude=120.65))
    hazard = reported.hazard
    assert hazard.code == "YH-20260301-0001"
    assert hazard.state is HazardState.ASSIGNED and hazard.assignee_id == HEAD
    assert hazard.deadline == START + timedelta(days=7)
    assert recipients(reported.notices) == {(K.NEW_HAZARD_FOR_HEAD, HEAD), (K.NEW_HAZARD_FOR_GROUP, LUCHENG_GROUP)}

    acknowledged = await service.act(head, hazard.id, A.ACKNOWLEDGE)
    assert acknowledged.hazard.state is HazardState.RECTIFYING
    assert acknowledged.hazard.acknowledged_at == START
    assert acknowledged.notices == []

    with pytest.raises(Refusal) as no_photo:
        await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="清理了杂物")
    assert no_photo.value.code == "photo_required"
    with pytest.raises(Refusal) as thin:  # the measures' minimum is the service's rule, whoever calls it
        await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="已改", photos=[world.photo()])
    assert thin.value.code == "measures_too_short" and thin.value.params["min"] == 4
    assert (await world.storage.hazards.get(hazard.id)).state is HazardState.RECTIFYING  # type: ignore[union-attr]
    world.clock.advance(timedelta(days=1))
    submitted = await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="清理了杂物", photos=[world.photo()])
    assert submitted.hazard.state is HazardState.AWAITING_VERIFICATION
    assert submitted.hazard.measures == "清理了杂物" and submitted.hazard.fixed_at == world.clock.now()
    # County staff verify; the city bureau is not told of every rectification.
    assert recipients(submitted.notices) == {
        (K.RECTIFICATION_SUBMITTED, LUCHENG_STAFF),
        (K.RECTIFICATION_SUBMITTED, CADRE),
    }

    with pytest.raises(Refusal) as no_reason:
        await service.act(staff, hazard.id, A.REJECT, reason="  ")
    assert no_reason.value.code == "reason_required"
    rejected = await service.act(staff, hazard.id, A.REJECT, reason="照片看不清通道")
    assert rejected.hazard.state is HazardState.RECTIFYING and rejected.hazard.fixed_at is None
    assert recipients(rejected.notices) == {(K.REJECTED, HEAD), (K.REJECTED, CADRE)}
    assert {n.reason for n in rejected.notices} == {"照片看不清通道"}

    await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="已重新清理并拍照", photos=[world.photo()])
    accepted = await service.act(staff, hazard.id, A.ACCEPT)
    assert accepted.hazard.state is HazardState.CLOSED
    assert accepted.hazard.closed_on_time is True and accepted.hazard.closed_at == world.clock.now()
    # The county's group, told of it when it was reported, sees it closed too.
    assert recipients(accepted.notices) == {
        (K.ACCEPTED, HEAD), (K.ACCEPTED, CADRE), (K.CLOSED_FOR_GROUP, LUCHENG_GROUP)
    }

    with pytest.raises(Refusal) as stale:  # a second tap on an old Accept button
        await service.act(staff, hazard.id, A.ACCEPT)
    assert stale.value.code == "already_closed" and stale.value.params == {"hazard": hazard.code}

    dossier = await service.view(staff, " yh-20260301-0001 ")
    assert [e.action for e in dossier.events] == [
        "report",
        "acknowledge",
        "submit_rectification",
        "reject",
        "submit_rectification",
        "accept",
    ]
    assert dossier.events[3].note == "照片看不清通道"
    assert [p.kind for p in dossier.photos] == [PhotoKind.BEFORE, PhotoKind.AFTER, PhotoKind.AFTER]
    assert dossier.actions == (A.REOPEN, A.COMMENT)
    audit = await world.storage.audit.list(target=f"hazard:{hazard.code}")
    assert [e.action for e in audit] == [
        "hazard.reported",
        "hazard.acknowledged",
        "hazard.rectification_submitted",
        "hazard.rejected",
        "hazard.rectification_submitted",
        "hazard.accepted",
    ]


async def test_acceptance_is_judged_by_when_the_fix_was_submitted(world: World) -> None:
    service, clock = world.service, world.clock
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)
    late = (await service.submit_report(cadre, world.draft(severity=Severity.SERIOUS))).hazard
    in_time = (await service.submit_report(cadre, world.draft(area=HazardArea.GAS, severity=Severity.SERIOUS))).hazard
    assert late.deadline == START + timedelta(hours=24)

    clock.advance(timedelta(hours=23))
    await service.act(head, in_time.id, A.SUBMIT_RECTIFICATION, reason="更换燃气软管", photos=[world.photo()])
    clock.advance(timedelta(hours=2))  # both deadlines have passed
    tasks = await service.tasks(head, 0, 10)
    # The submitted one waits for staff: not the head's to act on, so not in their tasks.
    assert [(item.hazard.id, item.overdue) for item in tasks.items] == [(late.id, True)]
    await service.act(head, late.id, A.SUBMIT_RECTIFICATION, reason="清理通道", photos=[world.photo()])
    clock.advance(timedelta(hours=5))
    assert (await service.act(staff, late.id, A.ACCEPT)).hazard.closed_on_time is False
    # Waiting for verification past the deadline is staff's delay, not the institution's.
    assert (await service.act(staff, in_time.id, A.ACCEPT)).hazard.closed_on_time is True


async def test_corrected_on_the_spot_goes_straight_to_verification(world: World) -> None:
    cadre, staff = await world.user(CADRE), await world.user(LUCHENG_STAFF)
    draft = world.draft(fixed_on_spot_photos=[world.photo()])
    outcome = await world.service.submit_report(cadre, draft)
    hazard = outcome.hazard
    assert hazard.state is HazardState.AWAITING_VERIFICATION
    assert hazard.fixed_at == START and hazard.assignee_id == HEAD
    # Nothing is left for the head to do: staff verify, and the group hears of it.
    assert recipients(outcome.notices) == {
        (K.RECTIFICATION_SUBMITTED, LUCHENG_STAFF),
        (K.NEW_HAZARD_FOR_GROUP, LUCHENG_GROUP),
    }
    dossier = await world.service.view(cadre, hazard.code)
    assert [(e.action, e.to_state) for e in dossier.events] == [
        ("report", HazardState.REPORTED),
        ("report_fixed_on_spot", HazardState.AWAITING_VERIFICATION),
    ]
    assert [p.kind for p in dossier.photos] == [PhotoKind.BEFORE, PhotoKind.AFTER]
    closed = await world.service.act(staff, hazard.id, A.ACCEPT)
    assert closed.hazard.closed_on_time is True


async def test_deadline_change_is_recorded_with_its_reason(world: World) -> None:
    service = world.service
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)
    hazard = (await service.submit_report(cadre, world.draft())).hazard
    new_deadline = START + timedelta(days=14)

    with pytest.raises(Refusal) as by_head:
        await service.act(head, hazard.id, A.CHANGE_DEADLINE, reason="需要采购", deadline=new_deadline)
    assert by_head.value.code == "wrong_role"
    with pytest.raises(Refusal) as no_reason:
        await service.act(staff, hazard.id, A.CHANGE_DEADLINE, deadline=new_deadline)
    assert no_reason.value.code == "reason_required"

    changed = await service.act(staff, hazard.id, A.CHANGE_DEADLINE, reason="需采购消防器材", deadline=new_deadline)
    assert changed.hazard.deadline == new_deadline and changed.hazard.state is HazardState.ASSIGNED
    assert changed.event is not None and changed.event.note == "需采购消防器材"
    assert changed.event.detail == {
        "previous_deadline": (START + timedelta(days=7)).isoformat(),
        "deadline": new_deadline.isoformat(),
    }
    assert recipients(changed.notices) == {(K.DEADLINE_CHANGED, HEAD)}
    assert (await world.storage.hazards.get(hazard.id)).deadline == new_deadline  # type: ignore[union-attr]
    audit = await world.storage.audit.list(action_prefix="hazard.deadline_changed")
    assert [e.actor_id for e in audit] == [LUCHENG_STAFF]


async def test_staff_reopen_a_closed_hazard_with_a_reason(world: World) -> None:
    service = world.service
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)
    hazard = (await service.submit_report(cadre, world.draft())).hazard
    await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="清理杂物", photos=[world.photo()])
    await service.act(staff, hazard.id, A.ACCEPT)

    reopened = await service.act(staff, hazard.id, A.REOPEN, reason="复查发现杂物又堆回")
    assert reopened.hazard.state is HazardState.RECTIFYING
    assert reopened.hazard.closed_at is None and reopened.hazard.closed_on_time is None
    assert recipients(reopened.notices) == {(K.REOPENED, HEAD), (K.REOPENED, CADRE)}
    assert (await service.tasks(head, 0, 5)).total == 1


async def test_a_reopened_hazard_gets_a_fresh_deadline_by_its_severity_and_is_not_overdue(world: World) -> None:
    service, clock = world.service, world.clock
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)
    hazard = (await service.submit_report(cadre, world.draft(severity=Severity.SERIOUS))).hazard
    await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="清理杂物", photos=[world.photo()])
    await service.act(staff, hazard.id, A.ACCEPT)
    clock.advance(timedelta(days=20))  # the old 24-hour deadline is long past

    reopened = await service.act(staff, hazard.id, A.REOPEN, reason="复查发现杂物又堆回")
    assert reopened.hazard.deadline == clock.now() + timedelta(hours=24)
    assert reopened.event is not None and reopened.event.detail["previous_deadline"] == (
        START + timedelta(hours=24)
    ).isoformat()
    tasks = await service.tasks(head, 0, 5)
    assert [(item.hazard.id, item.overdue) for item in tasks.items] == [(hazard.id, False)]
    audit = await world.storage.audit.list(action_prefix="hazard.reopened")
    assert [(e.actor_id, e.detail["from"], e.detail["to"]) for e in audit] == [
        (LUCHENG_STAFF, "closed", "rectifying")
    ]
    with pytest.raises(Refusal) as twice:  # a second reopening of the same hazard, e.g. a double tap
        await service.act(staff, hazard.id, A.REOPEN, reason="再次")
    assert twice.value.code == "already_reopened"  # and who reopened it, and when


async def test_a_hazard_closed_more_than_ninety_days_ago_is_reported_anew_not_reopened(world: World) -> None:
    service, clock = world.service, world.clock
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)
    hazard = (await service.submit_report(cadre, world.draft())).hazard
    await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="清理杂物", photos=[world.photo()])
    await service.act(staff, hazard.id, A.ACCEPT)
    clock.advance(timedelta(days=91))
    assert A.REOPEN not in (await service.view(staff, hazard.id)).actions
    with pytest.raises(Refusal) as refused:
        await service.act(staff, hazard.id, A.REOPEN, reason="又出现了")
    assert refused.value.code == "reopen_window_passed"
    assert (await world.storage.hazards.get(hazard.id)).state is HazardState.CLOSED  # type: ignore[union-attr]


async def test_forged_actions_are_refused_and_audited(world: World) -> None:
    service = world.service
    cadre = await world.user(CADRE)
    hazard = (await service.submit_report(cadre, world.draft())).hazard
    head = await world.user(HEAD)
    await service.act(head, hazard.id, A.SUBMIT_RECTIFICATION, reason="清理杂物", photos=[world.photo()])

    attempts = [
        # Told what View tells them, so that no action confirms the hazard exists; audited as out of scope (below).
        (LONGWAN_STAFF, A.ACCEPT, "not_found"),  # another county's staff
        (OTHER_HEAD, A.ACKNOWLEDGE, "not_found"),  # another institution's head
        (OTHER_CADRE, A.ACCEPT, "not_found"),  # a cadre who cannot even see it
        (CADRE, A.ACCEPT, "wrong_role"),  # the reporter is no verifier
    ]
    for telegram_id, action, code in attempts:
        with pytest.raises(Refusal) as refused:
            await service.act(await world.user(telegram_id), hazard.id, action)
        assert refused.value.code == code
        assert refused.value.params == {}  # an outsider is not even told the hazard's code
    with pytest.raises(Refusal) as hidden:
        await service.view(await world.user(LONGWAN_STAFF), hazard.code)
    assert hidden.value.code == "not_found"
    with pytest.raises(Refusal) as other_county:
        await service.submit_report(cadre, world.draft(institution_id=world.longwan_id))
    assert other_county.value.code == "not_in_scope"

    refused_audit = await world.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["action"], e.detail["reason"]) for e in refused_audit] == [
        (LONGWAN_STAFF, "accept", "not_in_scope"),
        (OTHER_HEAD, "acknowledge", "not_in_scope"),
        (OTHER_CADRE, "accept", "not_in_scope"),
        (CADRE, "accept", "wrong_role"),
        (LONGWAN_STAFF, "view", "not_in_scope"),
        (CADRE, "report", "not_in_scope"),
    ]
    assert (await world.storage.hazards.get(hazard.id)).state is HazardState.AWAITING_VERIFICATION  # type: ignore[union-attr]
    with pytest.raises(Refusal) as missing:
        await service.act(cadre, 9999, A.ACCEPT)
    assert missing.value.code == "not_found"


async def test_a_rights_hazard_never_reaches_the_head_or_a_group(world: World) -> None:
    service = world.service
    cadre, head, staff = await world.user(CADRE), await world.user(HEAD), await world.user(LUCHENG_STAFF)
    draft = world.draft(area=HazardArea.RIGHTS, severity=Severity.SERIOUS, description="护工疑似殴打老人")
    reported = await service.submit_report(cadre, draft)
    hazard = reported.hazard
    assert hazard.state is HazardState.REPORTED and hazard.assignee_id is None
    assert recipients(reported.notices) == {
        (K.NEW_HAZARD_FOR_STAFF, LUCHENG_STAFF),
        (K.NEW_HAZARD_FOR_STAFF, CITY_ADMIN),
    }
    assert {n.reason for n in reported.notices} == {"sensitive"}

    assert (await service.tasks(head, 0, 10)).total == 0
    assert await service.duplicates(world.home_id, HazardArea.RIGHTS, viewer=head) == []
    assert await service.duplicates(world.home_id, HazardArea.RIGHTS) == []
    assert [h.id for h in await service.duplicates(world.home_id, HazardArea.RIGHTS, viewer=staff)] == [hazard.id]
    with pytest.raises(Refusal) as hidden:
        await service.view(head, hazard.code)
    assert hidden.value.code == "not_found"
    with pytest.raises(Refusal) as acknowledge:
        await service.act(head, hazard.id, A.ACKNOWLEDGE)
    assert acknowledge.value.code == "sensitive_hidden"
    assert (await service.tasks(staff, 0, 10)).items[0].hazard.id == hazard.id  # nobody is responsible yet

    # Staff name someone to deal with it; every later notice still avoids the head and the groups.
    notices = []
    assigned = await service.act(
        staff, hazard.id, A.ASSIGN, assignee_id=OTHER_CADRE, deadline=START + timedelta(hours=12)
    )
    notices += assigned.notices
    assert recipients(assigned.notices) == {(K.ASSIGNED, OTHER_CADRE)}
    other = await world.user(OTHER_CADRE)
    notices += (await service.act(other, hazard.id, A.ACKNOWLEDGE)).notices
    notices += (
        await service.act(other, hazard.id, A.SUBMIT_RECTIFICATION, reason="已报警并隔离", photos=[world.photo()])
    ).notices
    notices += (await service.act(staff, hazard.id, A.REJECT, reason="需要书面材料")).notices
    notices += (
        await service.act(staff, hazard.id, A.CHANGE_DEADLINE, reason="延期", deadline=START + timedelta(days=2))
    ).notices
    assert all(n.recipient_id != HEAD and n.kind is not K.NEW_HAZARD_FOR_GROUP for n in notices)
    assert {n.recipient_id for n in notices} == {OTHER_CADRE, LUCHENG_STAFF, CADRE}
