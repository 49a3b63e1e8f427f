"""Choosing the institution at /invite's head step: the active institutions of the inviter's scope, those with no
head first (they are the ones that need an invitation: their drill and self-inspection reminders go to the county
staff meanwhile, bot.services.reminder_people `stand_ins_for`), then the others, each group in storage order.

The inviter may also type part of a name: it is matched as /institution matches it
(`InstitutionCardService.matching`), and a search of several is remembered (storage.repositories.searches, under
`Journey.INVITE_SEARCH`) so that its page buttons, which carry only its serial and a page, turn its pages after a
restart too. The invitation itself is made, and its scope checked again, by `OnboardingService.create_invite`.

Under a reminder a clerk received in a head's place, a button invites that institution's head at once
(`for_stand_in`): each press is checked again (staff, in scope, the institution active and still with no head), and
an invitation for its head that still stands, whoever made it, is shown again rather than a second one made
(`OnboardingService.invite_head`, the rule /invite's head step follows too).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.paging import page_of
from bot.domain.roles import STAFF_ROLES, Role, covers
from bot.services.errors import HIDDEN_INSTITUTION, Refusal
from bot.services.institution_cards import InstitutionCardService
from bot.services.onboarding import HeadInvitation, OnboardingService
from bot.services.reminder_people import Heads
from storage import Storage
from storage.models import Institution, User
from storage.repositories.action_drafts import Journey
from storage.repositories.searches import InstitutionSearch

PAGE_SIZE = 8


@dataclass(frozen=True)
class Choice:
    institution: Institution
    headless: bool  # no active head, registered or named


@dataclass(frozen=True)
class PickerPage:
    choices: list[Choice]  # this page's
    page: int  # 0-based, clamped to the last page there is
    pages: int
    total: int
    headless: int  # of all `total`, how many have no head
    search: InstitutionSearch | None = None  # None: every institution of the scope
    clamped: bool = False  # the page asked for no longer exists: this is the last one


@dataclass(frozen=True)
class StandInInvite:
    """What a press of a stand-in reminder's invitation button came to."""

    institution: Institution
    made: HeadInvitation | None  # None: the institution has a head now, and no invitation was made
    head: User | None = None  # the head it has now, when `made` is None and the head is known


class HeadInviteService:
    def __init__(
        self, storage: Storage, clock: Clock, cards: InstitutionCardService, onboarding: OnboardingService
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._cards = cards
        self._onboarding = onboarding

    async def for_stand_in(self, actor: User, institution_id: int) -> StandInInvite | None:
        """A head invitation for an institution whose reminder `actor` received in its head's place. Refused, in this
        order, "staff_only" and HIDDEN_INSTITUTION (no such institution, or one outside the scope: a forged press,
        the caller audits it), then "invite_institution_closed"."""
        if actor.role not in STAFF_ROLES:
            raise Refusal("staff_only")
        institution = await self._storage.institutions.get(institution_id)
        if institution is None or not covers(actor.role, actor.region_code, institution.region_code):
            # Outside the scope, told as one that does not exist: "outside your scope" would confirm that it does.
            raise Refusal(HIDDEN_INSTITUTION)
        if not institution.active:
            raise Refusal("invite_institution_closed")
        heads = Heads(await self._storage.users.heads_of_many([institution.id])).of(institution.id, institution)
        if heads:
            head = next((person for person in heads if person.role is Role.HEAD), heads[0])
            return StandInInvite(institution, None, head=head)
        return StandInInvite(institution, await self._onboarding.invite_head(actor, institution.code))

    async def picker(self, actor: User, page: int) -> PickerPage:
        """A page of every active institution of the person's scope, the head-less first."""
        scope = None if actor.role is Role.CITY else actor.region_code
        return await self._page_of(await self._storage.institutions.in_scope(scope), page)

    async def find(self, actor: User, text: str) -> Institution | PickerPage:
        """The active institutions of the person's scope whose name holds `text`: the one, or the first page of
        them (none: an empty page), the search remembered. "institution_search_too_short" for too short a text."""
        needle, found = await self._cards.matching(actor, text)
        active = [institution for institution in found if institution.active]
        if len(active) == 1:
            return active[0]
        search = await self._storage.searches.remember(
            actor.telegram_id, needle, self._clock.now(), Journey.INVITE_SEARCH
        )
        return await self._page_of(active, 0, search)

    async def found_page(self, actor: User, serial: int, page: int) -> PickerPage | None:
        """A page of the person's last typed search, found again now. None when they have none (a forged button);
        "invite_search_replaced" for a button of an earlier search."""
        search = await self._storage.searches.last(actor.telegram_id, Journey.INVITE_SEARCH)
        if search is None:
            return None
        if search.serial != serial:
            raise Refusal("invite_search_replaced")
        _, found = await self._cards.matching(actor, search.text)
        return await self._page_of([institution for institution in found if institution.active], page, search)

    async def headless_ids(self, institutions: list[Institution]) -> set[int]:
        """Those of them with no active head: neither a registered head nor an active person named its head."""
        heads = Heads(await self._storage.users.heads_of_many(i.id for i in institutions))
        return {institution.id for institution in institutions if not heads.of(institution.id, institution)}

    async def _page_of(
        self, institutions: list[Institution], page: int, search: InstitutionSearch | None = None
    ) -> PickerPage:
        headless = await self.headless_ids(institutions)
        ordered = sorted(institutions, key=lambda institution: institution.id not in headless)  # stable
        cut = page_of(ordered, page, PAGE_SIZE)
        return PickerPage(
            choices=[Choice(i, i.id in headless) for i in cut.items],
            page=cut.page,
            pages=cut.pages,
            total=cut.total,
            headless=len(headless),
            search=search,
            clamped=cut.clamped,
        )

