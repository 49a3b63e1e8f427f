"""Who an audience is, right now: a snapshot of users, institutions and groups, loaded once per planning run or
sweep so that hundreds of reminders resolve their recipients in memory instead of a query each.

The rules mirror those of the hazard loop (storage.repositories.users.heads_of / staff_for_region,
bot.domain.targeting): a sensitive hazard never reaches a head or a group, whatever the audience says.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from bot.domain.catalog import is_sensitive
from bot.domain.reminders import Audience
from bot.domain.roles import Role, region_in_scope
from storage import Storage
from storage.hazard_models import Hazard
from storage.models import Group, GroupPurpose, Institution, Region, RegionLevel, User
from storage.repositories.groups import BoundGroups

Recipient = tuple[int, int | None]  # (user or chat id, forum topic)


class Heads:
    """The one rule of who an institution's heads are, over some active people: those registered as its head, and
    the person named its head (`head_user_id`) when among them. An institution with none has stand-ins (reminders
    here) and is marked at /invite's head step (bot.services.head_invites): both ask this, of the people they read."""

    def __init__(self, people: Iterable[User]) -> None:
        self._people = {person.telegram_id: person for person in people}
        self._registered: dict[int, list[User]] = {}
        for person in sorted(self._people.values(), key=lambda u: u.telegram_id):
            if person.role is Role.HEAD and person.institution_id is not None:
                self._registered.setdefault(person.institution_id, []).append(person)

    def of(self, institution_id: int, institution: Institution | None) -> list[User]:
        """By Telegram id; `institution` None (not read): its registered heads only."""
        heads = self._registered.get(institution_id, [])
        named = None if institution is None else self._people.get(institution.head_user_id or 0)
        if named is None or named in heads:
            return list(heads)
        return sorted([*heads, named], key=lambda u: u.telegram_id)


@dataclass
class RoundReads:
    """What every sweep of a tick's round reads alike, read by its first sweep: the county staff and city admins
    (any place's escalation needs them) and the regions. A round at 09:00 on the 1st is over a hundred sweeps."""

    staff: list[User] | None = None
    regions: dict[str, Region] | None = None


@dataclass
class Directory:
    storage: Storage
    # Active users a reminder can reach or name: all of them (UserRepository.reachable_by_reminders), or those
    # concerning some institutions and hazards (load_concerning).
    users: dict[int, User]
    institutions: dict[int, Institution]  # active or not: all of them, or those asked for
    regions: dict[str, Region]
    _hazard_groups: dict[str, list[Group]] = field(default_factory=dict)  # by region code
    _bound_for_hazards: BoundGroups | None = None
    _digest_groups: list[Group] | None = None
    # Indexes of `users`, built once: a city has tens of thousands of people, and planning its open hazards asks
    # these questions hundreds of thousands of times (a scan each made planning 150 ms a hazard).
    _heads: Heads = field(init=False)
    _county_staff: list[User] = field(init=False)
    _city_admins: list[User] = field(init=False)
    _staff_for_place: dict[str, list[User]] = field(init=False, default_factory=dict)  # by region code

    def __post_init__(self) -> None:
        ordered = sorted(self.users.values(), key=lambda u: u.telegram_id)
        self._heads = Heads(ordered)
        self._county_staff = [u for u in ordered if u.role is Role.COUNTY and u.region_code is not None]
        self._city_admins = [u for u in ordered if u.role is Role.CITY]

    @classmethod
    async def load(cls, storage: Storage) -> Directory:
        users = await storage.users.reachable_by_reminders()
        institutions = await storage.institutions.in_scope(None, active_only=False)
        regions = await storage.regions.all()
        return cls(
            storage,
            {u.telegram_id: u for u in users},
            {i.id: i for i in institutions},
            {r.code: r for r in regions},
        )

    @classmethod
    async def load_for_hazard(cls, storage: Storage, hazard: Hazard) -> Directory:
        """Only the people one hazard's reminders can reach. Planning one hazard after each change must not read
        every user of the city."""
        return await cls.load_concerning(
            storage, {hazard.institution_id}, set() if hazard.assignee_id is None else {hazard.assignee_id}
        )

    @classmethod
    async def load_concerning(
        cls,
        storage: Storage,
        institution_ids: Collection[int],
        assignee_ids: Collection[int],
        shared: RoundReads | None = None,
    ) -> Directory:
        """Enough to answer for these institutions (their hazards and duties) and the named assignees: the
        institutions, their heads, the assignees, and every county staff member and city admin (a few hundred at
        most, and any place's escalation needs them). A reminder sweep claims hundreds of rows about a few dozen
        institutions; reading all the city's institutions and people for them was most of its time."""
        shared = shared or RoundReads()
        if shared.staff is None:
            shared.staff = await storage.users.staff()
        if shared.regions is None:
            shared.regions = {r.code: r for r in await storage.regions.all()}
        people = [
            *await storage.users.heads_of_many(institution_ids),
            *shared.staff,
            *await storage.users.get_many(assignee_ids),
        ]
        return cls(
            storage,
            {u.telegram_id: u for u in people},
            {i.id: i for i in await storage.institutions.get_many(institution_ids)},
            dict(shared.regions),
        )

    # ---- people -------------------------------------------------------------------------------------------

    def heads_of(self, institution_id: int) -> list[User]:
        """As UserRepository.heads_of: registered heads of the institution and the person named its head."""
        return self._heads.of(institution_id, self.institutions.get(institution_id))

    def county_staff(self, region_code: str) -> list[User]:
        """County staff whose county covers the place; the city admins where none does (city institutions)."""
        if region_code not in self._staff_for_place:
            county = [u for u in self._county_staff if u.region_code and region_in_scope(u.region_code, region_code)]
            self._staff_for_place[region_code] = county or self._city_admins
        return list(self._staff_for_place[region_code])

    def stand_ins_for(self, institution: Institution) -> list[User]:
        """Who takes an institution's duty reminders in its heads' place: nobody while it has an active head, else
        the county staff covering it (the city admins where none do)."""
        return [] if self.heads_of(institution.id) else self.county_staff(institution.region_code)

    def city_admins(self) -> list[User]:
        return list(self._city_admins)

    def unit_staff(self, unit_code: str) -> list[User]:
        """The staff of a bureau: county staff of exactly that county, or the city admins for the city."""
        region = self.regions.get(unit_code)
        if region is not None and region.level is RegionLevel.CITY:
            return self.city_admins()
        return [u for u in self._county_staff if u.region_code == unit_code]

    def responsible_for(self, hazard: Hazard) -> list[User]:
        """The person named responsible, else the institution's heads (none for a sensitive hazard)."""
        if hazard.assignee_id is not None:
            assignee = self.users.get(hazard.assignee_id)
            return [] if assignee is None else [assignee]
        return [] if is_sensitive(hazard.area) else self.heads_of(hazard.institution_id)

    # ---- groups -------------------------------------------------------------------------------------------

    async def hazard_groups(self, region_code: str) -> list[Group]:
        # The bindings are read once: a sweep at 07:30 asks about a hundred places, and a query each was a sixth
        # of its time.
        if region_code not in self._hazard_groups:
            if self._bound_for_hazards is None:
                self._bound_for_hazards = await self.storage.groups.bound({GroupPurpose.HAZARDS})
            self._hazard_groups[region_code] = self._bound_for_hazards.for_region(region_code)
        return self._hazard_groups[region_code]

    async def digest_groups(self, level: RegionLevel) -> list[Group]:
        """Groups taking digests that are bound to a region of this level (county groups, the city's groups)."""
        if self._digest_groups is None:
            self._digest_groups = await self.storage.groups.within(None, {GroupPurpose.DIGESTS})
        return [
            g
            for g in self._digest_groups
            if (region := self.regions.get(g.region_code)) is not None and region.level is level
        ]

    # ---- audiences ----------------------------------------------------------------------------------------

    async def for_hazard(self, hazard: Hazard, audiences: frozenset[Audience]) -> list[Recipient]:
        recipients: list[Recipient] = []
        if Audience.RESPONSIBLE in audiences:
            # Nobody at the institution may take a sensitive hazard: county staff answer for it until assigned.
            people = self.responsible_for(hazard) or self.county_staff(hazard.region_code)
            recipients += [(u.telegram_id, None) for u in people]
        if Audience.COUNTY_STAFF in audiences:
            recipients += [(u.telegram_id, None) for u in self.county_staff(hazard.region_code)]
        if Audience.CITY_ADMIN in audiences:
            recipients += [(u.telegram_id, None) for u in self.city_admins()]
        if Audience.COUNTY_GROUP in audiences and not is_sensitive(hazard.area):
            recipients += [(g.chat_id, g.topic_id) for g in await self.hazard_groups(hazard.region_code)]
        if Audience.CITY_GROUP in audiences and not is_sensitive(hazard.area):
            await self.hazard_groups(hazard.region_code)  # reads the bindings, once
            assert self._bound_for_hazards is not None
            recipients += [(g.chat_id, g.topic_id) for g in self._bound_for_hazards.city_wide()]
        if Audience.HAZARDS_ONLY_GROUP in audiences and not is_sensitive(hazard.area):
            recipients += [(g.chat_id, g.topic_id) for g in await self.hazard_groups(hazard.region_code)
                           if g.purpose is GroupPurpose.HAZARDS]
        return _unique(recipients)

    def for_institution(self, institution: Institution, audiences: frozenset[Audience]) -> list[Recipient]:
        recipients: list[Recipient] = []
        if Audience.RESPONSIBLE in audiences:
            recipients += [(u.telegram_id, None) for u in self.heads_of(institution.id)]
        if Audience.STAND_IN in audiences:
            recipients += [(u.telegram_id, None) for u in self.stand_ins_for(institution)]
        if Audience.COUNTY_STAFF in audiences:
            recipients += [(u.telegram_id, None) for u in self.county_staff(institution.region_code)]
        if Audience.CITY_ADMIN in audiences:
            recipients += [(u.telegram_id, None) for u in self.city_admins()]
        return _unique(recipients)

    def for_unit(self, unit_code: str, audiences: frozenset[Audience]) -> list[Recipient]:
        recipients: list[Recipient] = []
        if Audience.RESPONSIBLE in audiences:
            recipients += [(u.telegram_id, None) for u in self.unit_staff(unit_code)]
        if Audience.COUNTY_STAFF in audiences:
            recipients += [(u.telegram_id, None) for u in self.county_staff(unit_code)]
        if Audience.CITY_ADMIN in audiences:
            recipients += [(u.telegram_id, None) for u in self.city_admins()]
        return _unique(recipients)


def _unique(recipients: list[Recipient]) -> list[Recipient]:
    # A person in two audiences (a city admin who is also the county's only staff) gets the reminder once.
    return list(dict.fromkeys(recipients))
