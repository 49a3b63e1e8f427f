"""Who may use the bot, after registration: the people of a scope, ending a person's access, taking back an
invitation. The rules, with no Telegram in sight.

A cadre moves to another post, a home changes hands, a phone is lost: registration alone left such a person with
their access for good, and a link sent to the wrong chat stood until it expired. Ending an access leaves nothing
hanging on the person: the hazards they were named responsible for go back to their institution (or, where nobody
is there, to the county staff, whom reminders and notices then reach), what was still to be sent to them is not,
and the invitations they made and nobody used are taken back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import NoReturn, Protocol

from bot.clock import Clock
from bot.domain.roles import INVITABLE_BY, Role, covers, may_manage, region_in_scope, significant_prefix
from bot.i18n import local_name
from bot.services.errors import HIDDEN_PERSON, Refusal
from bot.services.evidence import EvidenceStore
from bot.services.onboarding import OnboardingService
from storage import Storage
from storage.extension_models import ENDED_BY_ACCESS
from storage.hazard_models import Hazard
from storage.models import Institution, Invite, InviteStatus, Region, User

EVENT_ASSIGNEE_LEFT = "assignee_left"  # a hazard event: the person named responsible no longer has access
GIVEN_UP = "the person's access to the bot ended"

_ROLE_ORDER = {Role.CITY: 0, Role.COUNTY: 1, Role.HEAD: 2, Role.CADRE: 3}


@dataclass(frozen=True)
class Departure:
    """A person whose access ended, and what was undone with it."""

    person: User
    by: User | None  # None: the command line
    hazards: tuple[Hazard, ...]  # unresolved, and no longer theirs to rectify
    invites_revoked: int
    contacts: int  # vulnerable people they kept in touch with, now without a cadre
    tell: tuple[User, ...]  # who answers for the person's work, whoever ended it aside
    closing: Institution | None = None  # their institution, closed by staff, which ended their access
    # Open contact rounds in which they still had people to reach: those people are now on the staff's list.
    rounds: tuple[int, ...] = ()
    calls: int = 0  # how many such people, over those rounds


class DepartureNotices(Protocol):
    """Words the news for the person and for their supervisors and queues it, inside the transaction that records
    it (the words are the handler layer's)."""

    async def queue(self, departure: Departure) -> None: ...


class HazardPlanner(Protocol):
    async def plan_for_hazard(self, hazard: Hazard | int) -> None: ...


class PeopleService:
    def __init__(
        self, storage: Storage, clock: Clock, onboarding: OnboardingService, planner: HazardPlanner,
        evidence: EvidenceStore,
    ) -> None:
        self._storage = storage
        self._evidence = evidence
        self._clock = clock
        self._onboarding = onboarding
        self._planner = planner
        self.notifier: DepartureNotices | None = None

    # ---- the people of a scope ---------------------------------------------------------------------------------

    async def roster(self, actor: User, name: str | None = None) -> list[User]:
        """The active people of the actor's scope (the actor among them): staff first, then heads, then cadres,
        each by name. `name`: only those whose name (or @username) holds it, case aside (/people 院长150)."""
        self._staff_only(actor)
        people = await self._storage.users.in_scope(None, actor.region_code)
        if name is not None:
            wanted = name.strip().casefold()
            people = [u for u in people if wanted in u.full_name.casefold()
                      or (u.username is not None and wanted in u.username.casefold())]
        return sorted(people, key=lambda u: (_ROLE_ORDER[u.role], u.full_name, u.telegram_id))

    async def person(self, actor: User, telegram_id: int) -> User:
        """A person of the actor's scope, for their card. Refusal("person_gone") if their access has ended."""
        self._staff_only(actor)
        person = await self._visible(actor, telegram_id, "people.show")
        if not person.active:
            raise Refusal("person_gone")
        return person

    async def to_deactivate(self, actor: User, telegram_id: int) -> User:
        """The person, for the question whether to end their access: refused (and recorded) unless the actor may."""
        person = await self.person(actor, telegram_id)
        if not await self.manageable(actor, person):
            await self._refuse(actor, "people.ask_deactivate", "cannot_manage", person=telegram_id,
                               role=person.role.value)
        return person

    async def leaver(self, actor: User, telegram_id: int) -> User:
        """A person whose access has ended, whom the actor may remove from a bound group: one whose access the actor
        could have ended. Anyone else (still active, outside the actor's role or scope) is refused and recorded."""
        self._staff_only(actor)
        person = await self._visible(actor, telegram_id, "people.remove_from_group")
        place = await self._place(person)
        if person.active or not may_manage(
            actor.telegram_id, actor.role, actor.region_code, person.telegram_id, person.role, place
        ):
            await self._refuse(actor, "people.remove_from_group", "cannot_manage", person=telegram_id,
                               active=person.active)
        return person

    async def manageable(self, actor: User | None, person: User) -> bool:
        if actor is None:
            return person.active
        return person.active and may_manage(
            actor.telegram_id, actor.role, actor.region_code, person.telegram_id, person.role,
            await self._place(person),
        )

    # ---- ending an access --------------------------------------------------------------------------------------

    async def deactivate(
        self, actor: User | None, telegram_id: int, *, closing: Institution | None = None
    ) -> Departure:
        """End the person's access. `actor` None is the command line (the server's operator), who may end anyone's.
        `closing`: the institution they head, which staff are closing (the farewell says so).

        Refusals: "person_gone" (unknown, or ended already: a second tap), "cannot_manage" (a role or a scope the
        actor does not have over them, or themselves; audited)."""
        if actor is not None:
            self._staff_only(actor)
        now = self._clock.now()
        actor_id = None if actor is None else actor.telegram_id
        person = await self._storage.users.get(telegram_id)
        if actor is not None:
            person = await self._visible(actor, telegram_id, "people.deactivate")
        if person is None or not person.active:
            raise Refusal("person_gone")
        if not await self.manageable(actor, person):
            assert actor is not None
            await self._refuse(actor, "people.deactivate", "cannot_manage", person=telegram_id, role=person.role.value)
        async with self._storage.db.transaction():
            if not await self._storage.users.end_access(telegram_id, now):
                raise Refusal("person_gone")  # ended by someone else a moment ago
            headed = await self._storage.institutions.release_head(telegram_id)
            released = []
            for hazard in await self._storage.hazards.unresolved_assigned_to(telegram_id):
                if await self._storage.hazards.release_assignee(hazard.id, telegram_id, now):
                    await self._storage.hazards.add_event(
                        hazard.id, at=now, actor_id=actor_id, action=EVENT_ASSIGNEE_LEFT,
                        from_state=hazard.state, to_state=hazard.state,
                        detail={"previous_assignee_id": telegram_id},
                    )
                    released.append(hazard.model_copy(update={"assignee_id": None}))
            # A request for more time they made would wait for a decision nobody could act on: it ends, undecided.
            extensions = await self._storage.extensions.end_pending_of(
                telegram_id, action=ENDED_BY_ACCESS, by=actor_id, at=now
            )
            revoked = await self._storage.invites.revoke_made_by(telegram_id, by=actor_id, at=now)
            rounds = await self._storage.contacts.open_rounds_pending_with(telegram_id)
            contacts, calls = await self._storage.contacts.release_cadre(telegram_id, now)
            await self._storage.reminders.cancel_pending_for(telegram_id)
            given_up = await self._storage.outbox.give_up_chat(telegram_id, GIVEN_UP)
            # What they left unfinished would never be resumed (registered again, they start afresh): their drafts
            # and waiting journey steps go, with the bytes of photos that only those drafts named. Nothing a hazard's
            # history or the audit log needs is in a draft.
            discarded = await self._storage.unfinished.discard_of(telegram_id)
            orphans = await self._storage.unfinished.orphaned_photos(discarded.photos)
            tell = [u for u in await self._onboarding.supervisors(person) if u.telegram_id != actor_id]
            await self._storage.audit.append(
                actor_id, "user.deactivated", target=f"user:{telegram_id}",
                detail={
                    "role": person.role.value, "region": person.region_code, "institution_id": person.institution_id,
                    "hazards_released": [h.code for h in released], "headed": headed, "invites_revoked": revoked,
                    **({"extensions_ended": extensions} if extensions else {}),
                    "messages_given_up": given_up, "contacts_released": contacts, "calls_released": calls,
                    **({"drafts_discarded": {
                        "report": discarded.report, "journeys": list(discarded.journeys), "steps": discarded.steps,
                        "photos_deleted": len(orphans),
                    }} if discarded.anything else {}),
                },
            )
            ended = person.model_copy(update={"active": False, "access_ended_at": now})
            departure = Departure(ended, actor, tuple(released), revoked, contacts, tuple(tell), closing,
                                  tuple(rounds), calls)
            if self.notifier is not None:
                await self.notifier.queue(departure)
        for sha256 in orphans:
            # After the commit: a deactivation rolled back must not have lost a draft's photos. A crash before this
            # leaves bytes that nothing names, as a photo sent and never used in a report does.
            await asyncio.to_thread(self._evidence.discard, sha256)
        for hazard in released:
            # Reminders now go to whoever answers for the hazard instead: its institution's heads, or the county.
            await self._planner.plan_for_hazard(hazard.id)
        return departure

    # ---- invitations --------------------------------------------------------------------------------------------

    async def standing_invites(self, actor: User) -> list[Invite]:
        """Invitations that can still register someone, for a place in the actor's scope and of a role the actor may
        invite (county staff do not see, nor cancel, the city's invitation of a new county colleague)."""
        self._staff_only(actor)
        prefix = None if actor.role is Role.CITY or actor.region_code is None else significant_prefix(actor.region_code)
        invites = await self._storage.invites.standing(self._clock.now(), region_prefix=prefix)
        return [invite for invite in invites if invite.role in INVITABLE_BY[actor.role]]

    async def revoke_invite(self, actor: User | None, token: str) -> Invite:
        """Take an invitation back so that its link registers nobody. Refusals: "invite_gone" (used, expired or
        taken back already), "cannot_manage" (an invitation the actor could not have made; audited)."""
        now = self._clock.now()
        invite = await self._storage.invites.get(token)
        if invite is None:
            raise Refusal("invite_gone")
        if actor is not None:
            await self._may_handle(actor, invite, "invite.revoke")
        async with self._storage.db.transaction():
            actor_id = None if actor is None else actor.telegram_id
            if not await self._storage.invites.revoke(token, by=actor_id, at=now):
                raise Refusal("invite_gone")
            await self._storage.audit.append(
                actor_id, "invite.revoked", target=f"invite:{token[:6]}",
                detail={"role": invite.role.value, "region": invite.region_code, "made_by": invite.created_by},
            )
        return invite.model_copy(update={"revoked_at": now, "revoked_by": actor_id})

    async def invite_to_show(self, actor: User, token: str) -> Invite:
        """A standing invitation whose link is shown again (the same token: no new invitation is made), to its maker
        or to staff whose scope covers it and who may make one like it; audited as `invite.shown`. Refusals:
        "invite_gone" (unknown, used, expired or taken back), "cannot_manage" (one the actor could not have been
        listed: a forged press; audited)."""
        invite = await self._storage.invites.get(token)
        if invite is None:
            raise Refusal("invite_gone")
        self._staff_only(actor)
        await self._may_handle(actor, invite, "invite.show")
        if invite.status(self._clock.now()) is not InviteStatus.VALID:
            raise Refusal("invite_gone")
        await self._storage.audit.append(
            actor.telegram_id, "invite.shown", target=f"invite:{token[:6]}",
            detail={"role": invite.role.value, "region": invite.region_code, "made_by": invite.created_by},
        )
        return invite

    # ---- helpers -------------------------------------------------------------------------------------------------

    async def _may_handle(self, actor: User, invite: Invite, action: str) -> None:
        """Its maker, or staff whose scope covers its place and who may make one of its role, may see its link
        again or take it back; anyone else's press was forged, and is refused and recorded."""
        self._staff_only(actor)
        mine = invite.created_by == actor.telegram_id
        in_scope = covers(actor.role, actor.region_code, invite.region_code) and invite.role in INVITABLE_BY[actor.role]
        if not mine and not in_scope:
            await self._refuse(actor, action, "cannot_manage", invite=invite.token[:6])

    async def _place(self, person: User) -> str | None:
        """Where the person acts: their institution's region for a head, else their own region (None: the city)."""
        if person.institution_id is not None:
            institution = await self._storage.institutions.get(person.institution_id)
            if institution is not None:
                return institution.region_code
        return person.region_code

    async def _visible(self, actor: User, telegram_id: int, action: str) -> User:
        """The person, if the actor's scope holds them (active or not). Nobody by that id, or someone outside the
        scope, is told alike (HIDDEN_PERSON: "no such person, or you may not see them"), so that no button confirms
        to an outsider that a person exists; the second is recorded as a forged press."""
        person = await self._storage.users.get(telegram_id)
        if person is None:
            raise Refusal(HIDDEN_PERSON)
        if actor.role is not Role.CITY and not region_in_scope(actor.region_code, await self._place(person) or ""):
            await self._storage.audit.append(
                actor.telegram_id, "authz.refused", target=f"user:{actor.telegram_id}",
                detail={"action": action, "reason": "outside_scope", "person": telegram_id},
            )
            raise Refusal(HIDDEN_PERSON)
        return person

    @staticmethod
    def _staff_only(actor: User) -> None:
        if actor.role not in (Role.COUNTY, Role.CITY):
            raise Refusal("staff_only")

    async def _refuse(self, actor: User, action: str, code: str, **detail: object) -> NoReturn:
        """Only a forged or stale button asks for what the actor may not do: it is recorded."""
        await self._storage.audit.append(
            actor.telegram_id, "authz.refused", target=f"user:{actor.telegram_id}",
            detail={"action": action, "reason": code, **detail},
        )
        raise Refusal(code)


async def describe_scope(
    storage: Storage, region_code: str | None, institution_id: int | None, language: str
) -> str:
    """Where a person (or an invitation's newcomer) works, in the language: their institution, else their region,
    else the city."""
    place: Institution | Region | None = None
    if institution_id is not None:
        place = await storage.institutions.get(institution_id)
    if place is None and region_code is not None:
        place = await storage.regions.get(region_code)
    if place is None:
        place = await storage.regions.city()
    if place is None:
        return ""
    return local_name(place, language)
