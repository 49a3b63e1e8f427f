"""An institution whole (/institution, 机构档案), for the phone call "how is that home doing?": its place, its heads,
its unresolved hazards (the most urgent listed), those closed lately, and where its fire drills and monthly
self-inspections stand, judged as /drills judges them.

Who may open a card is who keeps the institution's calendar record (`calendar.may_log_for`): its own head, and
staff whose region contains it. Finding one reuses the report journey's institution search, so a person finds the
same institutions in both. Every hazard on a card passes `lifecycle.can_view` for the reader: a head never learns
of a rights-protection (权益保障) hazard of their home, not even as a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.domain.catalog import SENSITIVE_AREAS
from bot.domain.compliance import DutyStatus
from bot.domain.lifecycle import REOPEN_WINDOW, can_view, is_overdue
from bot.domain.paging import page_of
from bot.domain.roles import STAFF_ROLES, Role
from bot.domain.text import clean_text, natural_key, visible_length
from bot.services.calendar import DrillService, may_log_for
from bot.services.errors import HIDDEN_INSTITUTION, Refusal
from bot.services.hazard_core import TaskItem, actor_of
from bot.services.hazards import HazardService
from bot.services.institution_closure import may_close
from bot.services.self_inspection import SelfInspectionService
from storage import Storage
from storage.calendar_models import Drill
from storage.hazard_models import InstitutionHazardCounts
from storage.models import Institution, Region, RegionLevel, User
from storage.repositories.searches import InstitutionSearch

MIN_SEARCH = 2  # characters that show: one character matches half a county
MAX_SEARCH = 50  # as the report journey's search
PAGE_SIZE = 8
URGENT_LISTED = 5
# Closed hazards are counted as long as staff may still reopen them: the ones whose problem may come back.
RECENTLY_CLOSED: timedelta = REOPEN_WINDOW


@dataclass(frozen=True)
class InstitutionCard:
    institution: Institution
    places: list[Region]  # from the county down to the institution's own region; the city alone for its own
    heads: list[User]  # active heads, registered or named
    counts: InstitutionHazardCounts
    urgent: list[TaskItem]  # the most urgent unresolved hazards, overdue first, then by deadline
    drill: DutyStatus | None  # None: an inactive institution owes nothing
    self_inspection: DutyStatus | None
    last_drill: Drill | None
    last_inspected_month: str | None  # 'YYYY-MM'
    may_close: bool = False  # the reader may close it (or, closed, reopen it): bot.services.institution_closure


@dataclass(frozen=True)
class SearchPage:
    search: InstitutionSearch
    institutions: list[Institution]  # this page's
    page: int  # 0-based, clamped to the last page there is
    pages: int
    total: int
    clamped: bool = False  # the page asked for no longer exists: this is the last one


@dataclass(frozen=True)
class Found:
    """What a search found: one institution's card at once, or a page of several (none: an empty page)."""

    card: InstitutionCard | None = None
    page: SearchPage | None = None


def may_open_cards(user: User) -> bool:
    """Staff open the cards of their scope; a head that of their own institution."""
    return user.role in STAFF_ROLES or user.role is Role.HEAD


class InstitutionCardService:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        hazards: HazardService,
        drills: DrillService,
        self_inspections: SelfInspectionService,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._hazards = hazards
        self._drills = drills
        self._self_inspections = self_inspections

    async def search(self, actor: User, text: str) -> Found:
        """The institutions in the person's scope whose name holds `text`: the card when exactly one does, else the
        first page of them (remembered, so that its buttons turn the pages). "search_too_short" under MIN_SEARCH."""
        needle, found = await self.matching(actor, text)
        if len(found) == 1:
            return Found(card=await self._card_of(actor, found[0]))
        search = await self._storage.searches.remember(actor.telegram_id, needle, self._clock.now())
        return Found(page=_page_of(search, found, 0))

    async def matching(self, actor: User, text: str) -> tuple[str, list[Institution]]:
        """The text cleaned, and the institutions of the person's scope whose name holds it: the active ones first
        (staff see the closed ones after them). "search_too_short" under MIN_SEARCH. /invite finds a home this way
        too."""
        needle = clean_text(text)[:MAX_SEARCH]
        if visible_length(needle) < MIN_SEARCH:
            raise Refusal("institution_search_too_short", least=MIN_SEARCH)
        return needle, await self._matches(actor, needle)

    async def page(self, actor: User, serial: int, page: int) -> SearchPage | None:
        """A page of the person's last search, found again now. None when they have no search (a button from before
        their access ended, or a forged one); "institution_search_replaced" for a button of an earlier search."""
        search = await self._storage.searches.last(actor.telegram_id)
        if search is None:
            return None
        if search.serial != serial:
            raise Refusal("institution_search_replaced")
        return _page_of(search, await self._matches(actor, search.text), page)

    async def own_card(self, head: User) -> InstitutionCard:
        if head.role is not Role.HEAD or head.institution_id is None:
            raise Refusal("no_own_institution")
        return await self.card(head, head.institution_id)

    async def card(self, actor: User, institution_id: int) -> InstitutionCard:
        """The card, for those who may open it; the refusal of anyone else is audited (a forged or stale press)."""
        institution = await self._storage.institutions.get(institution_id)
        if institution is None:
            raise Refusal(HIDDEN_INSTITUTION)
        if not may_open_cards(actor) or not may_log_for(actor, institution):
            await self._storage.audit.append(
                actor.telegram_id, "authz.refused", target=f"institution:{institution_id}",
                detail={"action": "institution.view", "reason": "not_in_scope"},
            )
            # Told as one that does not exist: "outside your scope" would confirm to an outsider that it does.
            raise Refusal(HIDDEN_INSTITUTION)
        return await self._card_of(actor, institution)

    async def _matches(self, actor: User, needle: str) -> list[Institution]:
        if not may_open_cards(actor):
            return []
        # The report journey's search: active institutions of the person's scope, the ones they reported on lately
        # first, then by name. Every one of them passes may_log_for too (the same scope, for staff and heads).
        found = await self._hazards.institutions_for_report(actor, needle, limit=10_000)
        # By name as people read it, numbers as numbers (第10街道2号 … 12号 … 120号), in the person's language: as
        # text, 116 敬老院 ran 0号, 120号, 130号 … 290号, 30号, and nobody could guess which page held 40号.
        active = sorted((i for i in found if may_log_for(actor, i)), key=lambda i: _name_order(i, actor))
        if actor.role is Role.HEAD:
            return active
        # Staff find the closed ones of their scope too, after the others, so that they can read or reopen them.
        scope = None if actor.role is Role.CITY else actor.region_code
        closed = await self._storage.institutions.search(needle, scope, limit=10_000, active_only=False)
        return active + sorted((i for i in closed if not i.active and may_log_for(actor, i)),
                               key=lambda i: _name_order(i, actor))

    async def _card_of(self, actor: User, institution: Institution) -> InstitutionCard:
        storage, now = self._storage, self._clock.now()
        # What a head may not see is not counted for them either: the number alone would tell of it.
        hidden = SENSITIVE_AREAS if actor.role is Role.HEAD else frozenset()
        counts = await storage.hazards.count_for_institution(
            institution.id, now=now, closed_since=now - RECENTLY_CLOSED, exclude_areas=hidden
        )
        listed = await storage.hazards.open_for_institution(
            institution.id, now=now, exclude_areas=hidden, limit=URGENT_LISTED
        )
        viewer = actor_of(actor)
        urgent = [TaskItem(h, is_overdue(h.deadline, h.state, now)) for h in listed if can_view(h.facts(), viewer)]
        drill = inspection = None
        if institution.active:  # /drills judges active institutions alone
            drill = await self._drills.status(institution)
            inspection = await self._self_inspections.status(institution)
        return InstitutionCard(
            institution=institution,
            places=await self._places(institution.region_code),
            heads=await storage.users.heads_of(institution.id),
            counts=counts,
            urgent=urgent,
            drill=drill,
            self_inspection=inspection,
            last_drill=await storage.calendar.last_drill(institution.id),
            last_inspected_month=await storage.calendar.last_inspected_month(institution.id),
            may_close=may_close(actor, institution),
        )

    async def _places(self, region_code: str) -> list[Region]:
        chain: list[Region] = []
        code: str | None = region_code
        while code is not None and len(chain) < 5:
            region = await self._storage.regions.get(code)
            if region is None:
                break
            chain.append(region)
            if region.level is RegionLevel.CITY:
                break
            code = region.parent_code
        below_city = [region for region in chain if region.level is not RegionLevel.CITY]
        return list(reversed(below_city or chain))


def _page_of(search: InstitutionSearch, found: list[Institution], page: int) -> SearchPage:
    cut = page_of(found, page, PAGE_SIZE)
    return SearchPage(
        search=search, institutions=cut.items, page=cut.page, pages=cut.pages, total=cut.total, clamped=cut.clamped
    )


def _name_order(institution: Institution, actor: User) -> tuple[object, ...]:
    name = institution.name_en if actor.language.startswith("en") and institution.name_en else institution.name_zh
    return natural_key(name), institution.id
