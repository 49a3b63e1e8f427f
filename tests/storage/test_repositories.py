from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.clock import FakeClock
from bot.domain.roles import Role
from bot.services.staff import first_told
from storage import Storage
from storage.models import Group, GroupPurpose, InstitutionType, Invite, NewInstitution, User

SHANGHAI = timezone(timedelta(hours=8))


def _user(telegram_id: int, role: Role, region: str | None = None, institution: int | None = None) -> User:
    return User(
        telegram_id=telegram_id,
        full_name=f"User {telegram_id}",
        role=role,
        region_code=region,
        institution_id=institution,
        created_at=datetime(2026, 3, 1, 9, 30, tzinfo=SHANGHAI),
    )


def _group(chat_id: int, region: str, topic: int | None = None, purpose: GroupPurpose = GroupPurpose.GENERAL) -> Group:
    return Group(
        chat_id=chat_id, topic_id=topic, title=f"group {chat_id}", region_code=region, purpose=purpose,
        bound_by=1, bound_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


async def test_times_round_trip_as_aware_utc(storage: Storage) -> None:
    stored = await storage.users.add(_user(1, Role.CADRE))
    loaded = await storage.users.get(1)
    assert loaded is not None
    assert loaded.created_at == stored.created_at
    assert loaded.created_at.tzinfo is UTC
    assert loaded.created_at.hour == 1  # 09:30 in Shanghai
    with pytest.raises(ValueError, match="naive"):
        await storage.users.add(_user(2, Role.CADRE).model_copy(update={"created_at": datetime(2026, 3, 1)}))


async def test_user_upsert_keeps_the_first_registration_time(storage: Storage) -> None:
    await storage.users.add(_user(1, Role.CADRE, "330302"))
    later = _user(1, Role.COUNTY, "330305").model_copy(update={"created_at": datetime(2027, 1, 1, tzinfo=UTC)})
    updated = await storage.users.upsert(later)
    assert (updated.role, updated.region_code, updated.created_at.year) == (Role.COUNTY, "330305", 2026)
    assert await storage.users.set_language(1, "en") and not await storage.users.set_language(99, "en")
    assert await storage.users.set_active(1, False)
    user = await storage.users.get(1)
    assert user is not None and user.language == "en" and not user.active


async def test_regions(wenzhou: Storage) -> None:
    city = await wenzhou.regions.city()
    assert city is not None and city.code == "330300"
    assert len(await wenzhou.regions.counties()) == 12
    assert {region.name_zh for region in await wenzhou.regions.children("330305")} >= {"北岙街道"}
    assert await wenzhou.regions.get("999999") is None


async def test_institution_scope_by_code_prefix(wenzhou: Storage) -> None:
    everything = await wenzhou.institutions.in_scope(None)
    assert len(everything) == await wenzhou.institutions.count()
    assert await wenzhou.institutions.in_scope("330300") == everything
    dongtou = await wenzhou.institutions.in_scope("330305")
    assert dongtou and all(item.region_code.startswith("330305") for item in dongtou)
    assert any(len(item.region_code) == 9 for item in dongtou)  # townships count for their county
    assert all(item.region_code.startswith("330305001") for item in await wenzhou.institutions.in_scope("330305001"))
    await wenzhou.institutions.set_active(dongtou[0].id, False)
    assert len(await wenzhou.institutions.in_scope("330305")) == len(dongtou) - 1
    assert len(await wenzhou.institutions.in_scope("330305", active_only=False)) == len(dongtou)


async def test_institution_upsert_is_idempotent_and_keeps_the_head(wenzhou: Storage) -> None:
    new = NewInstitution(code="T-1", name_zh="测试养老院", name_en="Test Care Home",
                         type=InstitutionType.ELDERLY_CARE, region_code="330302")
    first = await wenzhou.institutions.upsert(new)
    assert await wenzhou.institutions.set_head(first.id, 42)
    again = await wenzhou.institutions.upsert(new.model_copy(update={"name_en": "Renamed"}))
    assert (again.id, again.name_en, again.head_user_id) == (first.id, "Renamed", 42)
    assert await wenzhou.institutions.get(first.id) == again
    assert await wenzhou.institutions.get_by_code("T-1") == again


async def test_institution_search(wenzhou: Storage) -> None:
    funeral = await wenzhou.institutions.search("FUNERAL home", None)
    assert {item.name_zh for item in funeral} == {"温州市殡仪馆", "瑞安市殡仪馆"}
    assert [item.name_zh for item in await wenzhou.institutions.search("殡仪馆", "330381")] == ["瑞安市殡仪馆"]
    assert len(await wenzhou.institutions.search("福利", None, limit=2)) == 2
    assert await wenzhou.institutions.search("  ", None) == []


async def test_user_scopes(wenzhou: Storage) -> None:
    home = await wenzhou.institutions.get_by_code("WZ-330305-ELDER-01")
    assert home is not None
    await wenzhou.users.add(_user(1, Role.CITY))
    await wenzhou.users.add(_user(2, Role.COUNTY, "330305"))
    await wenzhou.users.add(_user(3, Role.COUNTY, "330302"))
    await wenzhou.users.add(_user(4, Role.HEAD, institution=home.id))
    await wenzhou.users.add(_user(5, Role.CADRE, "330305001"))
    await wenzhou.users.add(_user(6, Role.COUNTY, "330305").model_copy(update={"active": False}))

    in_dongtou = await wenzhou.users.in_scope(None, "330305")
    assert [user.telegram_id for user in in_dongtou] == [2, 4, 5]
    assert [user.telegram_id for user in await wenzhou.users.in_scope(Role.HEAD, "330305")] == [4]
    assert [user.telegram_id for user in await wenzhou.users.in_scope(None, "330300")] == [1, 2, 3, 4, 5]
    assert len(await wenzhou.users.in_scope(None, None, active_only=False)) == 6

    assert [user.telegram_id for user in await wenzhou.users.staff_for_region("330305001")] == [2, 1]
    assert [user.telegram_id for user in await wenzhou.users.staff_for_region("330300")] == [1]

    assert [user.telegram_id for user in await wenzhou.users.heads_of(home.id)] == [4]
    await wenzhou.users.add(_user(7, Role.CADRE, "330305"))
    await wenzhou.institutions.set_head(home.id, 7)
    assert [user.telegram_id for user in await wenzhou.users.heads_of(home.id)] == [4, 7]

    # The batched forms a reminder sweep uses answer the same, active people only.
    other = await wenzhou.institutions.get_by_code("WZ-330302-ELDER-01")
    assert other is not None
    await wenzhou.users.add(_user(8, Role.HEAD, institution=other.id))
    await wenzhou.users.add(_user(9, Role.HEAD, institution=other.id).model_copy(update={"active": False}))
    assert [user.telegram_id for user in await wenzhou.users.heads_of_many([home.id, other.id, home.id])] == [4, 7, 8]
    assert await wenzhou.users.heads_of_many([]) == []
    assert [user.telegram_id for user in await wenzhou.users.staff()] == [1, 2, 3]
    assert [user.telegram_id for user in await wenzhou.users.get_many([9, 5, 1, 404])] == [1, 5]
    assert [i.id for i in await wenzhou.institutions.get_many([other.id, home.id, -1])] == sorted([home.id, other.id])


async def test_groups_bind_per_chat_and_topic(storage: Storage) -> None:
    await storage.groups.bind(_group(-100, "330302"))
    await storage.groups.bind(_group(-100, "330305", topic=7))
    rebound = await storage.groups.bind(_group(-100, "330324"))
    assert rebound.region_code == "330324"
    topic = await storage.groups.get(-100, 7)
    assert topic is not None and topic.region_code == "330305"
    assert await storage.groups.get(-100, 8) is None

    assert await storage.groups.unbind(-100, None, "unbound")
    assert not await storage.groups.unbind(-100, None, "unbound")
    whole_chat = await storage.groups.get(-100)
    assert whole_chat is not None and not whole_chat.active
    assert [group.topic_id for group in await storage.groups.within(None)] == [7]
    assert (await storage.groups.bind(_group(-100, "330302"))).active


async def test_groups_by_region(wenzhou: Storage) -> None:
    await wenzhou.groups.bind(_group(-1, "330300"))
    await wenzhou.groups.bind(_group(-2, "330305", purpose=GroupPurpose.WARNINGS))
    await wenzhou.groups.bind(_group(-3, "330305001"))
    await wenzhou.groups.bind(_group(-4, "330302", purpose=GroupPurpose.HAZARDS))

    def chats(groups: list[Group]) -> list[int]:
        return sorted(group.chat_id for group in groups)

    assert chats(await wenzhou.groups.for_region("330305001")) == [-3, -2]
    assert chats(await wenzhou.groups.for_region("330305")) == [-2]
    assert chats(await wenzhou.groups.for_region("330300")) == [-1]
    assert chats(await wenzhou.groups.covering("330305001")) == [-3, -2, -1]
    assert chats(await wenzhou.groups.within("330305")) == [-3, -2]
    assert chats(await wenzhou.groups.within("330300")) == [-4, -3, -2, -1]
    # GENERAL groups take every purpose.
    assert chats(await wenzhou.groups.for_region("330305001", {GroupPurpose.HAZARDS})) == [-3]
    assert chats(await wenzhou.groups.within(None, {GroupPurpose.HAZARDS})) == [-4, -3, -1]


async def test_invite_consume_has_exactly_one_winner(storage: Storage, clock: FakeClock) -> None:
    now = clock.now()
    await storage.invites.create(Invite(token="tok", role=Role.CADRE, region_code="330302", created_by=None,
                                        created_at=now, expires_at=now + timedelta(hours=72)))
    results = await asyncio.gather(*(storage.invites.consume("tok", 1000 + n, now) for n in range(20)))
    assert results.count(True) == 1
    invite = await storage.invites.get("tok")
    assert invite is not None
    assert invite.used_by == 1000 + results.index(True)
    assert invite.used_at == now and invite.created_at.tzinfo is UTC


async def test_expired_or_unknown_invites_cannot_be_consumed(storage: Storage, clock: FakeClock) -> None:
    now = clock.now()
    await storage.invites.create(Invite(token="old", role=Role.HEAD, created_at=now - timedelta(days=4),
                                        expires_at=now))
    assert not await storage.invites.consume("old", 1, now)
    assert not await storage.invites.consume("missing", 1, now)
    assert await storage.invites.consume("old", 1, now - timedelta(seconds=1))


async def test_audit_list_filters_newest_last(storage: Storage, clock: FakeClock) -> None:
    for n, action in enumerate(["invite.created", "invite.used", "user.registered", "invite.created"]):
        await storage.audit.append(n, action, target=f"user:{n % 2}", detail={"at": clock.now(), "n": n})
        clock.advance(timedelta(minutes=1))
    events = await storage.audit.list()
    assert [event.id for event in events] == sorted(event.id for event in events)
    assert [event.actor_id for event in await storage.audit.list(action_prefix="invite.")] == [0, 1, 3]
    assert [event.actor_id for event in await storage.audit.list(action_prefix="invite.", limit=2)] == [1, 3]
    assert [event.actor_id for event in await storage.audit.list(target="user:1")] == [1, 3]
    assert [event.action for event in await storage.audit.list(actor_id=2)] == ["user.registered"]
    assert await storage.audit.list(action_prefix="invite*") == []  # GLOB characters are literal
    assert events[0].at.tzinfo is UTC and events[0].detail == {"at": "2026-03-01T01:00:00+00:00", "n": 0}


async def test_staff_for_region_finds_county_staff_whose_county_is_written_in_nine_or_twelve_digits(
    wenzhou: Storage,
) -> None:
    # A county is as much 330305000 or 330305000000 as 330305 (covering_codes): staff registered under either form
    # are told first about their county's places, not passed over for the city admins.
    await wenzhou.users.add(_user(1, Role.CITY))
    await wenzhou.users.add(_user(2, Role.COUNTY, "330305000"))
    await wenzhou.users.add(_user(3, Role.COUNTY, "330305000000"))
    await wenzhou.users.add(_user(4, Role.COUNTY, "330302000"))
    assert [user.telegram_id for user in await wenzhou.users.staff_for_region("330305001")] == [2, 3, 1]
    assert [user.telegram_id for user in await wenzhou.users.staff_for_region("330305")] == [2, 3, 1]
    assert [user.telegram_id for user in await first_told(wenzhou, "330305001")] == [2, 3]
