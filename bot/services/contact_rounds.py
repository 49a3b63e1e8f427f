"""Contact rounds for scattered vulnerable people (特殊群体联络): in extreme weather each one is reached by their
cadre, and county staff see who is safe, who needs help and who could not be reached.

The registry holds a pseudonymous code, never a name, ID number or address, so that the lists can travel through
chat. A code that looks like a resident ID number is refused for that reason.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.roles import STAFF_ROLES, Role, region_in_scope
from bot.domain.warnings import DELIVERED_STATUSES, EarlyWarning, WarningLevel, effective_expiry
from bot.services.errors import Refusal
from bot.services.warning_core import WarningCore
from storage.models import User
from storage.warning_models import (
    ContactEntry,
    ContactRound,
    ContactStatus,
    HelpRequest,
    NewVulnerablePerson,
    VulnerablePerson,
)

# 18-character resident ID (GB 11643) or a phone number: exactly what must not be stored as a "code".
_IDENTIFYING = re.compile(r"\d{17}[\dXx]|1\d{10}")
# Levels at which a warning starts contact rounds by itself (issue 5, item 7).
ROUND_LEVELS = frozenset({WarningLevel.ORANGE, WarningLevel.RED})


@dataclass(frozen=True)
class CadreList:
    cadre_id: int | None  # None: people with no cadre assigned, for staff to handle
    entries: tuple[ContactEntry, ...]


@dataclass(frozen=True)
class RoundStarted:
    round: ContactRound
    lists: tuple[CadreList, ...]  # one per cadre: what each cadre's self-editing message shows
    created: bool  # False when an open round of the county already existed
    # An open round of the county that this warning took over: it continues under the warning (its lists stand,
    # nothing is sent again); staff are told so.
    joined: bool = False


@dataclass(frozen=True)
class ContactOutcome:
    entry: ContactEntry
    alert_staff: tuple[int, ...]  # for "need help": county staff to tell at once
    # For "need help" in a round under a warning: the call for help it raised (None while one for the person is
    # open, so that a second press wakes nobody), which staff take and resolve as any call under the warning.
    help: HelpRequest | None = None


@dataclass(frozen=True)
class RoundSummary:
    round: ContactRound
    counts: dict[ContactStatus, int]
    need_help: tuple[ContactEntry, ...]
    unreachable: tuple[ContactEntry, ...]
    pending: tuple[ContactEntry, ...]
    by_cadre: dict[int | None, dict[ContactStatus, int]]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        return not self.pending


class ContactRounds(WarningCore):
    async def register_person(self, actor: User, person: NewVulnerablePerson) -> VulnerablePerson:
        self._require_staff(actor, [person.region_code])
        if _IDENTIFYING.search(person.code):
            raise Refusal("person_code_identifying")
        return await self._storage.contacts.upsert_person(person, self._clock.now())

    async def start_contact_round(
        self, actor: User | None, region_code: str, warning_id: int | None = None
    ) -> RoundStarted:
        """Start a round for everyone registered in the region. `actor` None is the system, for a warning."""
        if actor is not None:
            self._require_staff(actor, [region_code])
        if warning_id is not None:
            await self.get(warning_id)
        async with self._storage.db.transaction():
            # One open round per county, whatever started it: a second one (a double tap, a colleague's, a second
            # warning over the county half an hour later) gave each cadre the same people twice, counted answers
            # in one round only and sent two summaries that disagreed.
            existing = await self._storage.contacts.open_round_in(region_code)
            joined = False
            if existing is None:
                people = await self._storage.contacts.people_in(region_code)
                started = await self._storage.contacts.start_round(
                    region_code,
                    people,
                    warning_id=warning_id,
                    started_by=None if actor is None else actor.telegram_id,
                    at=self._clock.now(),
                )
            elif warning_id is not None and existing.warning_id != warning_id:
                # A newer warning over the county: the round goes on under it (and lasts while it is in force).
                await self._storage.contacts.set_round_warning(existing.id, warning_id)
                await self._storage.audit.append(
                    None, "contact.round_joined", target=f"contact_round:{existing.id}",
                    detail={"warning": warning_id, "previous_warning": existing.warning_id},
                )
                started = await self._round(existing.id)
                joined = True
            else:
                started = existing
            lists = await self._lists(started.id)
        return RoundStarted(started, lists, existing is None, joined)

    async def start_rounds_for_warning(self, warning_id: int) -> list[RoundStarted]:
        """An orange or red warning starts a round in each region it targets; lower levels start none."""
        warning = await self.get(warning_id)
        if warning.level not in ROUND_LEVELS or warning.sent_at is None:
            return []
        return [await self.start_contact_round(None, region, warning_id) for region in await self._round_regions(
            warning.target.regions)]

    async def _round_regions(self, regions: Iterable[str]) -> list[str]:
        """A warning's regions as counties: a round belongs to one county, whose staff get the people nobody looks
        after, the escalation and the summary; a round for the whole city would give all of it to the city admins."""
        counties = [county.code for county in await self._storage.regions.counties()]
        found: set[str] = set()
        for region in regions:
            inside = [code for code in counties if code != region and region_in_scope(region, code)]
            found.update(inside or [region])
        return sorted(found)

    async def record_contact(self, user: User, round_id: int, person_id: int, status: ContactStatus) -> ContactOutcome:
        if status is ContactStatus.PENDING:
            raise Refusal("contact_status_required")
        now = self._clock.now()
        async with self._storage.db.transaction():
            contact_round = await self._round(round_id)
            if contact_round.closed_at is not None:
                raise Refusal("contact_round_closed")
            entry = await self._storage.contacts.entry(round_id, person_id)
            if entry is None:
                raise Refusal("contact_not_found")
            if not self.may_record(user, entry):
                raise Refusal("contact_not_yours")
            await self._storage.contacts.set_status(round_id, person_id, status, by=user.telegram_id, at=now)
            updated = await self._storage.contacts.entry(round_id, person_id)
            assert updated is not None
            await self._storage.audit.append(
                user.telegram_id,
                "contact.recorded",
                target=f"contact_round:{round_id}",
                detail={"person": entry.person_code, "status": status},
            )
            staff: tuple[int, ...] = ()
            raised = None
            if status is ContactStatus.NEED_HELP:
                staff = await self._staff_to_alert(entry.region_code)
                raised = await self._call_for_person(contact_round, entry, user)
        return ContactOutcome(updated, staff, raised)

    async def _call_for_person(
        self, contact_round: ContactRound, entry: ContactEntry, user: User
    ) -> HelpRequest | None:
        """A cadre's 🆘 for a person, as a call for help under the round's warning: taken (✋ 我来处理), resolved and
        paged as a head's. A round started by hand has no warning to hold it: its alert has no owner (None)."""
        if contact_round.warning_id is None:
            return None
        if await self._storage.help_requests.open_for_person(contact_round.id, entry.person_id) is not None:
            return None
        return await self._storage.help_requests.add(
            contact_round.warning_id, user.telegram_id, (), entry.region_code, self._clock.now(),
            round_id=contact_round.id, person_id=entry.person_id,
        )

    async def cadre_list(self, round_id: int, cadre_id: int) -> CadreList:
        await self._round(round_id)
        return CadreList(cadre_id, tuple(await self._storage.contacts.entries(round_id, cadre_id=cadre_id)))

    async def round_summary(self, round_id: int) -> RoundSummary:
        contact_round = await self._round(round_id)
        entries = await self._storage.contacts.entries(round_id)
        counts = Counter(e.status for e in entries)
        by_cadre: dict[int | None, Counter[ContactStatus]] = defaultdict(Counter)
        for entry in entries:
            by_cadre[entry.cadre_id][entry.status] += 1
        return RoundSummary(
            round=contact_round,
            counts={status: counts.get(status, 0) for status in ContactStatus},
            need_help=tuple(e for e in entries if e.status is ContactStatus.NEED_HELP),
            unreachable=tuple(e for e in entries if e.status is ContactStatus.UNREACHABLE),
            pending=tuple(e for e in entries if e.status is ContactStatus.PENDING),
            by_cadre={cadre: dict(c) for cadre, c in by_cadre.items()},
        )

    async def close_round(self, actor: User | None, round_id: int) -> RoundSummary:
        contact_round = await self._round(round_id)
        if actor is not None:
            self._require_staff(actor, [contact_round.region_code])
        await self._storage.contacts.close_round(round_id, self._clock.now())
        return await self.round_summary(round_id)

    async def round_due_to_close(self, contact_round: ContactRound) -> bool:
        """Whether an open round with people still pending ends now. A round lasts while the warning it runs under
        is in force (a 48-hour heat wave's round lasts 48 hours: vulnerable people are at risk as long as the heat);
        once that one ends while another orange or red warning is in force over the county, it goes on under that
        one. A round started by hand, with no warning, ends CONTACT_ROUND_CLOSE_AFTER_HOURS after its start."""
        now = self._clock.now()
        if contact_round.warning_id is None:
            return now >= contact_round.started_at + self._settings.contact_close_after
        if not self._has_ended(await self.get(contact_round.warning_id)):
            return False
        other = await self._warning_in_force_over(contact_round.region_code)
        if other is None:
            return True
        async with self._storage.db.transaction():
            await self._storage.contacts.set_round_warning(contact_round.id, other.id)
            await self._storage.audit.append(
                None, "contact.round_joined", target=f"contact_round:{contact_round.id}",
                detail={"warning": other.id, "previous_warning": contact_round.warning_id},
            )
        return False

    async def round_ends_at(self, contact_round: ContactRound) -> datetime:
        """When the round will end if people are still pending then (see `round_due_to_close`)."""
        if contact_round.warning_id is None:
            return contact_round.started_at + self._settings.contact_close_after
        return effective_expiry(await self.get(contact_round.warning_id), self._settings.default_duration)

    async def _warning_in_force_over(self, county: str) -> EarlyWarning | None:
        """The orange or red warning in force over the county that lasts longest, if any."""
        found = [
            warning for warning in await self._storage.warnings.with_status(DELIVERED_STATUSES)
            if warning.sent_at is not None and warning.level in ROUND_LEVELS and not self._has_ended(warning)
            and county in await self._round_regions(warning.target.regions)
        ]
        return max(found, key=lambda w: effective_expiry(w, self._settings.default_duration), default=None)

    async def _round(self, round_id: int) -> ContactRound:
        found = await self._storage.contacts.get_round(round_id)
        if found is None:
            raise Refusal("contact_not_found")
        return found

    async def _lists(self, round_id: int) -> tuple[CadreList, ...]:
        grouped: dict[int | None, list[ContactEntry]] = defaultdict(list)
        for entry in await self._storage.contacts.entries(round_id):
            grouped[entry.cadre_id].append(entry)
        ordered = sorted(grouped.items(), key=lambda item: (item[0] is None, item[0] or 0))
        return tuple(CadreList(cadre, tuple(rows)) for cadre, rows in ordered)

    def may_record(self, user: User, entry: ContactEntry) -> bool:
        """The cadre who keeps in touch with the person, or staff whose county holds them: who may answer for
        them, and see the list they are on."""
        if user.telegram_id == entry.cadre_id:
            return True
        if user.role not in STAFF_ROLES:
            return False
        return user.role is Role.CITY or region_in_scope(user.region_code, entry.region_code)
