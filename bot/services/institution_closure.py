"""Closing an institution (停用/撤销) and reopening it (恢复): a home closes, merges or stops operating, and the roster
must stop asking it for drills and self-inspections, stop warning it, and stop reminding people who run nothing.

Who may: county staff for the institution of their county, city admins for any (the same role and scope as ending
a head's access, since closing ends theirs). Checked here at every step; a refusal is audited.

What closing does, in one transaction:
- the institution is inactive from now, with the day and the reason on its card: it owes no fire drill and no monthly
  self-inspection (every duty query reads active institutions alone), no warning targets it, nobody can report on
  it, and `/institution` searches no longer offer it (its card stays open to staff by button or by its heads' card);
- its heads' access ends through the people service's own path (`PeopleService.deactivate`): they are told, their
  menu and drafts go, and the hazards they were responsible for go to the county staff, as when any head leaves;
  the unused invitations for a head of it are taken back, and no new one can be made while it is closed;
- its unresolved hazards stay open, as they are: nothing found is lost or counted as rectified. Their reminders and
  escalations reach the county staff (there is no head left), who may name someone with Assign, or verify a fix.
  The count is stated before staff confirm and in the audit entry.
Reopening makes it active again and judges its duties from the reopening day, as for an institution joining then
(the joining-period rule of bot.domain.compliance): the months it was closed are never owed. Its heads are invited
again with /invite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn, Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.roles import STAFF_ROLES, Role, region_in_scope
from bot.services.calendar import may_log_for
from bot.services.errors import HIDDEN_INSTITUTION, Refusal
from bot.services.hazard_core import checked_text
from bot.services.people import Departure, PeopleService
from storage import Storage
from storage.models import Institution, User

MIN_REASON = 2  # characters that show, as a drill's "practised" or a study topic


class InstitutionPlanner(Protocol):
    async def plan_for_institution(self, institution_id: int) -> None: ...


@dataclass(frozen=True)
class ClosurePreview:
    """What closing the institution would do, for the question staff confirm."""

    institution: Institution
    unresolved: int  # unresolved hazards, which stay open
    heads: tuple[User, ...]  # whose access will end


@dataclass(frozen=True)
class Closure:
    institution: Institution  # as closed
    unresolved: int
    departures: tuple[Departure, ...]


def may_close(actor: User, institution: Institution) -> bool:
    """County staff for their county's institutions, city admins for all."""
    if actor.role not in STAFF_ROLES or not actor.active:
        return False
    if actor.role is Role.CITY:
        return True
    return actor.region_code is not None and region_in_scope(actor.region_code, institution.region_code)


def clean_reason(text: str | None) -> str:
    """The reason as it will be kept (bot/domain/text.py), or a Refusal: too short, too long, or classified."""
    return checked_text(text, field_name="closure_reason", minimum=MIN_REASON) or ""


class InstitutionClosureService:
    def __init__(
        self, storage: Storage, clock: Clock, people: PeopleService, planner: InstitutionPlanner, tz: ZoneInfo
    ) -> None:
        self._storage = storage
        self._planner = planner
        self._clock = clock
        self._people = people
        self._tz = tz

    async def institution(self, actor: User, institution_id: int, action: str) -> Institution:
        """The institution, if the actor may close or reopen it; anyone else is refused and recorded."""
        institution = await self._storage.institutions.get(institution_id)
        if institution is None:
            raise Refusal(HIDDEN_INSTITUTION)
        if not may_log_for(actor, institution):
            # One the actor may not even see is told as one that does not exist (audited all the same); its own head
            # is told that closing is staff's.
            await self._refuse(actor, action, institution_id, HIDDEN_INSTITUTION)
        if not may_close(actor, institution):
            await self._refuse(actor, action, institution_id)
        return institution

    async def preview(self, actor: User, institution_id: int) -> ClosurePreview:
        """What closing it would do; "institution_closed_already" if it is inactive."""
        institution = await self.institution(actor, institution_id, "institution.close")
        if not institution.active:
            raise Refusal("institution_closed_already")
        return ClosurePreview(
            institution=institution,
            unresolved=await self._storage.hazards.count_open_for_institution(institution.id),
            heads=tuple(await self._leaving(institution)),
        )

    async def close(self, actor: User, institution_id: int, reason: str | None) -> Closure:
        """Close it, end its heads' access, keep its hazards open; one transaction, audited."""
        text = clean_reason(reason)
        institution = await self.institution(actor, institution_id, "institution.close")
        now = self._clock.now()
        async with self._storage.db.transaction():
            if not await self._storage.institutions.close(institution.id, at=now, reason=text):
                raise Refusal("institution_closed_already")
            unresolved = await self._storage.hazards.count_open_for_institution(institution.id)
            departures = []
            for head in await self._leaving(institution):
                departures.append(await self._people.deactivate(
                    actor, head.telegram_id, closing=institution.model_copy(update={"closed_reason": text})
                ))
            # A person named head who is registered for another institution keeps their access, not this post.
            await self._storage.institutions.set_head(institution.id, None)
            # An invitation for its head, unused, would register a head of a closed home.
            revoked = await self._storage.invites.revoke_for_institution(
                institution.id, by=actor.telegram_id, at=now
            )
            await self._storage.audit.append(
                actor.telegram_id, "institution.closed", target=f"institution:{institution.id}",
                detail={"reason": text, "unresolved_hazards": unresolved,
                        "heads_ended": [d.person.telegram_id for d in departures], "invites_revoked": revoked},
            )
        # Its hazards' reminders, all of them (not only those its heads were named for), now reach the county staff;
        # its duties' reminders stop. A crash before this leaves it to the nightly plan.
        await self._planner.plan_for_institution(institution.id)
        closed = institution.model_copy(update={"active": False, "closed_at": now, "closed_reason": text})
        return Closure(closed, unresolved, tuple(departures))

    async def reopen(self, actor: User, institution_id: int) -> Institution:
        """Make it active again, owing its duties from today; "institution_not_closed" if it is active."""
        institution = await self.institution(actor, institution_id, "institution.reopen")
        today = self._clock.now().astimezone(self._tz).date()
        async with self._storage.db.transaction():
            if not await self._storage.institutions.reopen(institution.id, tracked_from=today):
                raise Refusal("institution_not_closed")
            await self._storage.audit.append(
                actor.telegram_id, "institution.reopened", target=f"institution:{institution.id}",
                detail={"closed_at": None if institution.closed_at is None else institution.closed_at.isoformat(),
                        "closed_reason": institution.closed_reason, "tracked_from": today.isoformat()},
            )
        await self._planner.plan_for_institution(institution.id)
        return institution.model_copy(
            update={"active": True, "closed_at": None, "closed_reason": None, "tracked_from": today}
        )

    async def _leaving(self, institution: Institution) -> list[User]:
        """The heads whose access ends with it: those registered for this institution (a person named head who is
        registered for another keeps their access)."""
        heads = await self._storage.users.heads_of(institution.id)
        return [head for head in heads if head.role is Role.HEAD and head.institution_id == institution.id]

    async def _refuse(
        self, actor: User, action: str, institution_id: int, code: str = "institution_close_not_allowed"
    ) -> NoReturn:
        await self._storage.audit.append(
            actor.telegram_id, "authz.refused", target=f"institution:{institution_id}",
            detail={"action": action, "reason": "not_in_scope", "role": actor.role.value},
        )
        raise Refusal(code)
