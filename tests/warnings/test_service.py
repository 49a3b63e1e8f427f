"""The warning service on the Wenzhou demo data: manual warnings, recipients, acknowledgements, contact rounds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.roles import Role
from bot.domain.warnings import WarningChange, WarningKind, WarningLevel, WarningStatus, WarningTarget
from bot.services.cap import parse_cap
from bot.services.errors import Refusal
from bot.services.warnings import ManualWarning, WarningEdit
from storage.models import InstitutionType, RiskTag, User
from storage.warning_models import AckResponse, ContactStatus, NewVulnerablePerson, VulnerableCategory
from tests.warnings.conftest import (
    CITY,
    CITY_ADMIN,
    CITY_GROUP,
    DONGTOU,
    DONGTOU_CADRE,
    DONGTOU_CADRE_2,
    DONGTOU_HEAD_1,
    DONGTOU_HEAD_2,
    DONGTOU_STAFF,
    DONGTOU_WARNINGS,
    LUCHENG,
    LUCHENG_GENERAL,
    LUCHENG_HEAD,
    LUCHENG_STAFF,
    START,
    WarningWorld,
    fixture,
)


def typhoon(level: WarningLevel = WarningLevel.RED, region: str = DONGTOU, **target: object) -> ManualWarning:
    return ManualWarning(
        kind=WarningKind.TYPHOON,
        level=level,
        headline="洞头区民政局：台风“海燕”将正面袭击，请立即落实防台措施",
        expires=START + timedelta(hours=36),
        target=WarningTarget.model_validate({"regions": {region}, "risk_tags": {RiskTag.NEAR_SEA}, **target}),
    )


async def sent_typhoon(world: WarningWorld, level: WarningLevel = WarningLevel.RED) -> int:
    staff = await world.user(DONGTOU_STAFF)
    draft = await world.service.create_manual(staff, typhoon(level))
    await world.service.send(staff, draft.id)
    return draft.id


async def test_preview_of_a_red_typhoon_for_dongtou_near_the_sea(world: WarningWorld) -> None:
    staff = await world.user(DONGTOU_STAFF)
    draft = await world.service.create_manual(staff, typhoon())
    assert (draft.status, draft.revision, draft.created_by) == (WarningStatus.DRAFT, 1, DONGTOU_STAFF)
    preview = await world.service.preview(draft.id)
    homes = {world.institutions["WZ-330305-ELDER-01"], world.institutions["WZ-330305-ELDER-02"]}
    assert set(preview.institutions) == homes
    assert {(r.chat_id, r.institution_id) for r in preview.heads} == {
        (DONGTOU_HEAD_1, world.institutions["WZ-330305-ELDER-01"]),
        (DONGTOU_HEAD_2, world.institutions["WZ-330305-ELDER-02"]),
    }
    assert {r.chat_id for r in preview.cadres} == {DONGTOU_CADRE, DONGTOU_CADRE_2}
    assert preview.group_chats == {(DONGTOU_WARNINGS, None)}
    assert (len(preview.people), len(preview.group_chats), preview.no_one_to_reach) == (4, 1, ())


async def test_preview_of_a_city_wide_warning(world: WarningWorld) -> None:
    admin = await world.user(CITY_ADMIN)
    draft = await world.service.create_manual(admin, typhoon(region=CITY))
    preview = await world.service.preview(draft.id)
    cangnan = await world.storage.institutions.get_by_code("WZ-330327-RELIEF-01")  # near the sea, no head yet
    assert cangnan is not None and preview.no_one_to_reach == (cangnan.id,)
    assert len(preview.institutions) == 3
    assert preview.group_chats == {(CITY_GROUP, None), (DONGTOU_WARNINGS, None), (LUCHENG_GENERAL, None)}
    epidemic = ManualWarning(
        kind=WarningKind.EPIDEMIC,
        level=WarningLevel.YELLOW,
        headline="流感进入高发期，请各机构落实早防早治",
        target=WarningTarget(regions=frozenset({CITY}), institution_types=frozenset({InstitutionType.ELDERLY_CARE})),
    )
    elderly = await world.service.preview_target(epidemic.target)
    assert {r.chat_id for r in elderly.heads} == {DONGTOU_HEAD_1, DONGTOU_HEAD_2, LUCHENG_HEAD}


@pytest.mark.parametrize(
    ("actor", "spec", "code"),
    [
        (DONGTOU_STAFF, typhoon(region=LUCHENG), "warning_out_of_scope"),
        (DONGTOU_HEAD_1, typhoon(), "warning_staff_only"),
        (DONGTOU_CADRE, typhoon(), "warning_staff_only"),
        (CITY_ADMIN, typhoon(region="330399"), "unknown_region"),
        (CITY_ADMIN, typhoon().model_copy(update={"headline": "机密文件：防台方案"}), "classified"),
        (CITY_ADMIN, typhoon().model_copy(update={"expires": START - timedelta(hours=1)}), "warning_expires_in_past"),
    ],
)
async def test_who_may_raise_what(world: WarningWorld, actor: int, spec: ManualWarning, code: str) -> None:
    with pytest.raises(Refusal) as refused:
        await world.service.create_manual(await world.user(actor), spec)
    assert refused.value.code == code


async def test_send_upgrade_downgrade_cancel_reach_the_same_recipients(world: WarningWorld) -> None:
    staff = await world.user(DONGTOU_STAFF)
    draft = await world.service.create_manual(staff, typhoon(WarningLevel.ORANGE))
    sent = await world.service.send(staff, draft.id)
    assert (sent.change, sent.warning.status, sent.revision) == (WarningChange.ISSUE, WarningStatus.SENT, 1)
    first = sent.recipients
    everyone = {DONGTOU_HEAD_1, DONGTOU_HEAD_2, DONGTOU_CADRE, DONGTOU_CADRE_2, DONGTOU_WARNINGS}
    assert {r.chat_id for r in first} == everyone
    with pytest.raises(Refusal, match="warning_not_draft"):
        await world.service.send(staff, draft.id)

    # A cadre who registers after the warning went out does not receive its revisions out of the blue.
    await world.storage.users.upsert(
        User(telegram_id=99, full_name="new", role=Role.CADRE, region_code=DONGTOU, created_at=START)
    )
    up = await world.service.revise(staff, draft.id, WarningEdit(level=WarningLevel.RED))
    assert (up.change, up.revision, up.warning.status, up.recipients) == (
        WarningChange.UPGRADE,
        2,
        WarningStatus.UPDATED,
        first,
    )
    down = await world.service.revise(staff, draft.id, WarningEdit(level=WarningLevel.YELLOW, headline="台风减弱"))
    assert (down.change, down.warning.headline, down.recipients) == (WarningChange.DOWNGRADE, "台风减弱", first)
    same = await world.service.revise(staff, draft.id, WarningEdit(instruction="继续做好排水"))
    assert same.change is WarningChange.UPDATE
    with pytest.raises(Refusal, match="warning_nothing_changed"):
        await world.service.revise(staff, draft.id, WarningEdit())
    with pytest.raises(Refusal, match="warning_out_of_scope"):
        await world.service.cancel(await world.user(LUCHENG_STAFF), draft.id)
    lifted = await world.service.cancel(staff, draft.id)
    assert (lifted.change, lifted.warning.status) == (WarningChange.CANCEL, WarningStatus.CANCELLED)
    assert lifted.recipients == first
    with pytest.raises(Refusal, match="warning_ended"):
        await world.service.revise(staff, draft.id, WarningEdit(level=WarningLevel.RED))
    changes = [r.change for r in await world.service.revisions(draft.id)]
    assert changes == [
        WarningChange.ISSUE,
        WarningChange.UPGRADE,
        WarningChange.DOWNGRADE,
        WarningChange.UPDATE,
        WarningChange.CANCEL,
    ]


async def test_a_withdrawn_draft_reaches_nobody_and_official_warnings_belong_to_their_feed(world: WarningWorld) -> None:
    staff = await world.user(DONGTOU_STAFF)
    draft = await world.service.create_manual(staff, typhoon())
    withdrawn = await world.service.cancel(staff, draft.id)
    assert withdrawn.recipients == () and withdrawn.warning.sent_at is None
    official = await world.service.ingest_official(
        parse_cap(fixture("typhoon_alert.xml")), source_url="http://127.0.0.1/t.xml"
    )
    assert not isinstance(official, Refusal)
    orange = (await world.service.active(DONGTOU))[0]
    assert orange.official and orange.status is WarningStatus.SENT
    with pytest.raises(Refusal, match="warning_official"):
        await world.service.cancel(staff, orange.id)


async def test_warnings_expire(world: WarningWorld) -> None:
    warning_id = await sent_typhoon(world)
    world.clock.advance(timedelta(hours=35, minutes=59))
    assert await world.service.expire_due() == []
    world.clock.advance(timedelta(minutes=1))
    assert [(w.id, w.status) for w in await world.service.expire_due()] == [(warning_id, WarningStatus.EXPIRED)]
    assert await world.service.active() == []


async def test_acknowledgements_by_county(world: WarningWorld) -> None:
    admin = await world.user(CITY_ADMIN)
    draft = await world.service.create_manual(
        admin,
        typhoon(region=CITY, risk_tags=frozenset(), institution_types={InstitutionType.ELDERLY_CARE}),
    )
    with pytest.raises(Refusal, match="warning_not_sent"):
        await world.service.acknowledge(await world.user(DONGTOU_HEAD_1), draft.id, AckResponse.RECEIVED)
    await world.service.send(admin, draft.id)
    before = await world.service.ack_status(draft.id)
    # The city's other elderly-care homes have no registered head: unanswered too, with no one to reach.
    headless = before.no_one_to_reach
    assert headless > 0 and all(not i.heads for c in before.counties for i in c.no_one_to_reach)
    assert (before.acknowledged, before.need_help, before.pending) == (0, 0, 3 + headless)

    head = await world.user(DONGTOU_HEAD_1)
    received = await world.service.acknowledge(head, draft.id, AckResponse.RECEIVED)
    assert received.changed and received.alert_staff == ()
    assert not (await world.service.acknowledge(head, draft.id, AckResponse.RECEIVED)).changed
    help_wanted = await world.service.acknowledge(await world.user(DONGTOU_HEAD_2), draft.id, AckResponse.NEED_HELP)
    assert help_wanted.alert_staff == (DONGTOU_STAFF,)  # the county, at once
    with pytest.raises(Refusal, match="warning_not_recipient"):
        await world.service.acknowledge(await world.user(LUCHENG_STAFF), draft.id, AckResponse.RECEIVED)

    status = await world.service.ack_status(draft.id)
    by_county = {c.county_code: c for c in status.counties}
    assert {LUCHENG, DONGTOU} <= set(by_county)
    dongtou = by_county[DONGTOU]
    assert [i.institution_id for i in dongtou.acknowledged] == [world.institutions["WZ-330305-ELDER-01"]]
    assert [(i.institution_id, i.by) for i in dongtou.need_help] == [
        (world.institutions["WZ-330305-ELDER-02"], DONGTOU_HEAD_2)
    ]
    assert [i.heads for i in by_county[LUCHENG].pending if i.reachable] == [(LUCHENG_HEAD,)]
    assert (status.acknowledged, status.need_help, status.pending) == (1, 1, 1 + headless)
    scoped = await world.service.ack_status(draft.id, scope_region=LUCHENG)
    assert [c.county_code for c in scoped.counties] == [LUCHENG]
    assert [r.chat_id for r in await world.service.unacknowledged(draft.id)] == [LUCHENG_HEAD]


async def test_a_call_for_help_where_the_county_has_no_staff_goes_to_the_city_admins(world: WarningWorld) -> None:
    admin = await world.user(CITY_ADMIN)
    home = await world.storage.institutions.get_by_code("WZ-330324-ELDER-01")  # 永嘉: no county staff registered
    assert home is not None
    head = await world.storage.users.upsert(User(
        telegram_id=43, full_name="永嘉院长", role=Role.HEAD, region_code=home.region_code, institution_id=home.id,
        created_at=START,
    ))
    draft = await world.service.create_manual(
        admin, typhoon(region=CITY, risk_tags=frozenset(), institution_types={InstitutionType.ELDERLY_CARE})
    )
    await world.service.send(admin, draft.id)
    help_wanted = await world.service.acknowledge(head, draft.id, AckResponse.NEED_HELP)
    assert help_wanted.alert_staff == (CITY_ADMIN,)


async def test_contact_round_for_a_red_warning(world: WarningWorld) -> None:
    warning_id = await sent_typhoon(world)
    rounds = await world.service.start_rounds_for_warning(warning_id)
    assert len(rounds) == 1 and rounds[0].created and rounds[0].round.region_code == DONGTOU
    started = rounds[0]
    lists = {cadre.cadre_id: [e.person_code for e in cadre.entries] for cadre in started.lists}
    assert lists == {DONGTOU_CADRE: ["DT-0001", "DT-0002"], DONGTOU_CADRE_2: ["DT-0003"], None: ["DT-0004"]}
    again = await world.service.start_contact_round(None, DONGTOU, warning_id)
    assert not again.created and again.round.id == started.round.id

    people = {e.person_code: e.person_id for cadre in started.lists for e in cadre.entries}
    round_id = started.round.id
    cadre = await world.user(DONGTOU_CADRE)
    safe = await world.service.record_contact(cadre, round_id, people["DT-0001"], ContactStatus.SAFE)
    assert safe.entry.status is ContactStatus.SAFE and safe.alert_staff == ()
    needs = await world.service.record_contact(cadre, round_id, people["DT-0002"], ContactStatus.NEED_HELP)
    assert needs.alert_staff == (DONGTOU_STAFF,)
    other = await world.user(DONGTOU_CADRE_2)
    with pytest.raises(Refusal, match="contact_not_yours"):
        await world.service.record_contact(other, round_id, people["DT-0001"], ContactStatus.SAFE)
    await world.service.record_contact(other, round_id, people["DT-0003"], ContactStatus.UNREACHABLE)

    summary = await world.service.round_summary(round_id)
    assert summary.counts == {
        ContactStatus.PENDING: 1,
        ContactStatus.SAFE: 1,
        ContactStatus.NEED_HELP: 1,
        ContactStatus.UNREACHABLE: 1,
    }
    assert [e.person_code for e in summary.pending] == ["DT-0004"] and not summary.complete
    assert [e.person_code for e in summary.unreachable] == ["DT-0003"]
    assert summary.by_cadre[DONGTOU_CADRE] == {ContactStatus.SAFE: 1, ContactStatus.NEED_HELP: 1}
    staff = await world.user(DONGTOU_STAFF)
    await world.service.record_contact(staff, round_id, people["DT-0004"], ContactStatus.SAFE)  # staff may, in scope
    closed = await world.service.close_round(staff, round_id)
    assert closed.complete and closed.round.closed_at == world.clock.now() and closed.total == 4
    with pytest.raises(Refusal, match="contact_round_closed"):
        await world.service.record_contact(cadre, round_id, people["DT-0001"], ContactStatus.UNREACHABLE)


async def test_lower_levels_start_no_round_and_the_registry_refuses_identifying_codes(world: WarningWorld) -> None:
    assert await world.service.start_rounds_for_warning(await sent_typhoon(world, WarningLevel.YELLOW)) == []
    staff = await world.user(DONGTOU_STAFF)
    for code in ("330305195001011234", "13800138000"):
        with pytest.raises(Refusal, match="person_code_identifying"):
            await world.service.register_person(
                staff,
                NewVulnerablePerson(code=code, category=VulnerableCategory.DIBAO, region_code="330305001001"),
            )
    with pytest.raises(Refusal, match="warning_out_of_scope"):
        await world.service.register_person(
            staff, NewVulnerablePerson(code="LC-9", category=VulnerableCategory.DIBAO, region_code="330302001001")
        )
    manual = await world.service.start_contact_round(staff, DONGTOU)
    assert manual.created and manual.round.warning_id is None and manual.round.started_by == DONGTOU_STAFF
