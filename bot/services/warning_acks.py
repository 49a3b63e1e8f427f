"""Acknowledgements: every institution head answers 已收到并落实 (received, acting) or 需要帮助 (need help), and
the bureau sees, county by county, which institutions have not answered.

An institution counts as answered when any of its heads has; "need help" outranks "received", because a head who
first confirmed and then asked for help still needs it. A call for help names the staff to tell at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.domain.roles import STAFF_ROLES, Role, region_in_scope
from bot.domain.warnings import (
    DELIVERED_STATUSES,
    EarlyWarning,
    WarningStatus,
    county_of,
    effective_expiry,
    regions_overlap,
)
from bot.services.errors import Refusal
from bot.services.warning_core import WarningCore
from storage.models import User
from storage.warning_models import AckResponse, Follower, HelpRequest, RecipientKind, WarningAck, WarningRecipient


@dataclass(frozen=True)
class AckOutcome:
    acks: tuple[WarningAck, ...]  # one per institution the person answers for; one without institution for a cadre
    changed: bool  # False when the same answer had already been given
    alert_staff: tuple[int, ...]  # for "need help": county staff to tell at once (city admins if none)
    # For "need help": the call for help this press raised, to be told to `alert_staff`; None when the person's
    # earlier call is still open (a second press wakes nobody), or when it is not "need help".
    help: HelpRequest | None = None
    # The warning had ended (lifted or past its time) when the press came: no answer was recorded (`acks` is
    # empty). A call for help still reaches staff (`help`): someone in trouble after the lift is still in trouble.
    ended: Ended | None = None
    # `alert_staff` are the city admins, no county staff covering the place: the person is told so.
    alerted_city: bool = False


@dataclass(frozen=True)
class Ended:
    """When a warning ended, and whether it was lifted (解除) rather than past its time."""

    at: datetime
    lifted: bool


@dataclass(frozen=True)
class InstitutionAck:
    institution_id: int
    region_code: str
    heads: tuple[int, ...]  # the heads the warning reached
    response: AckResponse | None  # None: not answered yet
    by: int | None = None
    at: datetime | None = None
    reachable: bool = True  # False: no head the bot can still reach (none registered, access ended, blocked)
    help: HelpRequest | None = None  # for "need help": its call (an open one first, else the latest resolved)
    # The answer was given to another warning of the same kind over the same place, in force at the same time (an
    # orange from the county, then the city's red): its id. A home that confirmed one has confirmed the danger.
    via: int | None = None

    @property
    def helped(self) -> bool:
        """Asked for help, and the official who took it marked it resolved: answered, no longer flagged."""
        return self.response is AckResponse.NEED_HELP and self.help is not None and self.help.resolved

    @property
    def no_one_to_reach(self) -> bool:
        """Unanswered, and nobody the bot could remind: staff must phone it."""
        return self.response is None and not self.reachable


@dataclass(frozen=True)
class CountyAckStatus:
    county_code: str  # a county, or the city's own code for city-level institutions
    acknowledged: tuple[InstitutionAck, ...]
    need_help: tuple[InstitutionAck, ...]  # asked for help, not resolved yet
    pending: tuple[InstitutionAck, ...]
    follower: Follower | None = None  # who took charge of its silent institutions (☎️ 我来跟进)
    helped: tuple[InstitutionAck, ...] = ()  # asked for help, resolved (🆘→✅): answered

    @property
    def total(self) -> int:
        return len(self.acknowledged) + len(self.need_help) + len(self.helped) + len(self.pending)

    @property
    def no_one_to_reach(self) -> tuple[InstitutionAck, ...]:
        """Of the pending, those nobody can be told of."""
        return tuple(i for i in self.pending if i.no_one_to_reach)


@dataclass(frozen=True)
class Charge:
    """A press of ☎️ 我来跟进: who follows the county's silent institutions up now, and whether it is the presser
    from this press on (False: someone had taken charge before, perhaps the presser)."""

    warning: EarlyWarning
    follower: Follower
    took: bool


@dataclass(frozen=True)
class HandBack:
    """A press of ↩️ 交回跟进: the charge the presser handed back (None: they held none when it came), and who
    follows the county up now (None: nobody; someone else when the press was stale)."""

    warning: EarlyWarning
    released: Follower | None
    current: Follower | None
    event_id: int = 0  # the audit entry of the hand-back: names the notice to the colleagues, once per hand-back


@dataclass(frozen=True)
class WarningAckStatus:
    warning: EarlyWarning
    counties: tuple[CountyAckStatus, ...]
    scope_region: str | None = None  # the reader's county, for a county's staff: the counties are theirs alone

    @property
    def acknowledged(self) -> int:
        return sum(len(c.acknowledged) for c in self.counties)

    @property
    def need_help(self) -> int:
        return sum(len(c.need_help) for c in self.counties)

    @property
    def helped(self) -> int:
        return sum(len(c.helped) for c in self.counties)

    @property
    def pending(self) -> int:
        return sum(len(c.pending) for c in self.counties)

    @property
    def no_one_to_reach(self) -> int:
        return sum(len(c.no_one_to_reach) for c in self.counties)


class WarningAcks(WarningCore):
    async def acknowledge(
        self, user: User, warning_id: int, response: AckResponse, institution_id: int | None = None
    ) -> AckOutcome:
        now = self._clock.now()
        async with self._storage.db.transaction():
            warning = await self.get(warning_id)
            if warning.sent_at is None:
                raise Refusal("warning_not_sent")
            mine = await self._storage.warnings.recipients_in_chat(
                warning_id, user.telegram_id, (RecipientKind.HEAD, RecipientKind.CADRE)
            )
            if not mine:
                raise Refusal("warning_not_recipient")
            headed = sorted({r.institution_id for r in mine if r.institution_id is not None})
            if institution_id is not None and institution_id not in headed:
                raise Refusal("warning_not_recipient")
            if self._has_ended(warning):
                return await self._pressed_after_end(user, warning, response, mine, institution_id, headed)
            answering: list[int | None] = [institution_id] if institution_id is not None else [*headed] or [None]
            if response is AckResponse.RECEIVED:
                await self._refuse_over_open_call(warning_id, user)
            answered = await self._storage.warnings.acks(warning_id, user.telegram_id)
            before = {a.institution_id: a.response for a in answered}
            acks = []
            for place in answering:
                ack = WarningAck(
                    warning_id=warning_id,
                    user_id=user.telegram_id,
                    institution_id=place,
                    response=response,
                    revision=warning.revision,
                    at=now,
                )
                acks.append(await self._storage.warnings.record_ack(ack))
            changed = any(before.get(place) is not response for place in answering)
            await self._audit(user.telegram_id, f"warning.ack_{response.value}", warning, institutions=headed)
            staff: tuple[int, ...] = ()
            raised, city = None, False
            if response is AckResponse.NEED_HELP:
                # A repeated 需要帮助 with no call on record (answered before calls were kept) raises none.
                staff, raised, city = await self._call_for_help(warning, user, mine, answering, first_call=changed)
        return AckOutcome(tuple(acks), changed, staff, raised, alerted_city=city)

    async def _refuse_over_open_call(self, warning_id: int, user: User) -> None:
        """已收到并落实 from a head whose call for help is still open (a stale button, a revision sent before the
        rule): recording it would replace their 需要帮助 and take the open call off /warnstatus and the tally, as if
        nobody needed help any more. Their call stays as it is; the one who takes it marks it resolved."""
        latest = await self._storage.help_requests.latest_of(warning_id, user.telegram_id)
        if latest is not None and not latest.resolved:
            raise Refusal("warning_help_still_open")

    async def _call_for_help(
        self, warning: EarlyWarning, user: User, mine: list[WarningRecipient], places: list[int | None], *,
        first_call: bool = True,
    ) -> tuple[tuple[int, ...], HelpRequest | None, bool]:
        """The staff to alert of a 需要帮助 for these places, and the call it raises: a new one once the person's
        last was resolved (or, with `first_call`, when they have none); none while one is open, so that pressing
        again wakes nobody. Last, whether the staff are the city admins (no county staff covers the place)."""
        region = next((r.region_code for r in mine if r.institution_id in places), mine[0].region_code)
        staff, city = await self._alerted(region)
        latest = await self._storage.help_requests.latest_of(warning.id, user.telegram_id)
        if (latest is None and not first_call) or (latest is not None and not latest.resolved):
            return staff, None, city
        asked = [place for place in places if place is not None]
        raised = await self._storage.help_requests.add(warning.id, user.telegram_id, asked, region, self._clock.now())
        return staff, raised, city

    async def _pressed_after_end(
        self, user: User, warning: EarlyWarning, response: AckResponse, mine: list[WarningRecipient],
        institution_id: int | None, headed: list[int],
    ) -> AckOutcome:
        """A press under a warning that has ended: nothing is recorded as an answer (the figures count answers to
        a warning in force). 需要帮助 still raises a call for help, as any call (once while it is open)."""
        ended = self.ended(warning)
        if response is not AckResponse.NEED_HELP:
            return AckOutcome((), False, (), ended=ended)
        places: list[int | None] = [institution_id] if institution_id is not None else [*headed]
        staff, raised, city = await self._call_for_help(warning, user, mine, places)
        if raised is None:
            return AckOutcome((), False, (), ended=ended, alerted_city=city)
        await self._audit(user.telegram_id, "warning.help_after_end", warning, institutions=list(raised.institutions))
        return AckOutcome((), True, staff, raised, ended=ended, alerted_city=city)

    async def newest_unanswered(self, user_id: int) -> EarlyWarning | None:
        """The newest warning in force that reached this head and that no head of their institutions has answered:
        what a typed 收到 most likely means to answer."""
        warnings = await self._storage.warnings.with_status(DELIVERED_STATUSES)
        for warning in sorted(warnings, key=lambda w: (w.sent_at or w.created_at, w.id), reverse=True):
            if self._has_ended(warning):
                continue
            mine = await self._storage.warnings.recipients_in_chat(warning.id, user_id, (RecipientKind.HEAD,))
            places = {r.institution_id for r in mine if r.institution_id is not None}
            answered = {a.institution_id for a in await self._storage.warnings.acks(warning.id)}
            if places - answered:
                return warning
        return None

    def ended(self, warning: EarlyWarning) -> Ended | None:
        """When the warning ended and how; None while it is in force."""
        if not self._has_ended(warning):
            return None
        if warning.status is WarningStatus.CANCELLED:
            return Ended(warning.ended_at or warning.updated_at, lifted=True)
        # Past its time: it ended then, not when the follow-up marked it (within a minute, or later after a stop).
        return Ended(effective_expiry(warning, self._settings.default_duration), lifted=False)

    async def ack_status(self, warning_id: int, scope_region: str | None = None) -> WarningAckStatus:
        """Per county, which institutions the warning reached have answered; `scope_region` limits the counties
        (a county's staff see their own)."""
        warning = await self.get(warning_id)
        # The heads alone (a city-wide warning's recipients are mostly cadres), and of them those in scope.
        head_rows = [
            r for r in await self._storage.warnings.recipients(warning_id, (RecipientKind.HEAD,))
            if region_in_scope(scope_region, r.region_code)
        ]
        institutions = _institutions(head_rows, scope_region)
        # Those it concerns that nobody could be told of count too: unanswered, with no heads.
        for institution_id, region in (await self._storage.warnings.institutions(warning_id)).items():
            if region_in_scope(scope_region, region):
                institutions.setdefault(institution_id, (region, []))
        reachable = await self._reachable(head_rows)
        answers: dict[int, WarningAck] = {}
        for ack in await self._storage.warnings.acks(warning_id):
            if ack.institution_id is None:
                continue
            current = answers.get(ack.institution_id)
            if current is None or _outranks(ack, current):
                answers[ack.institution_id] = ack
        carried = await self._answered_alike(warning, set(institutions) - set(answers))
        calls = _calls_by_institution(await self._storage.help_requests.of_warning(warning_id))
        by_county: dict[str, list[InstitutionAck]] = defaultdict(list)
        for institution_id, (region, heads) in sorted(institutions.items()):
            answer = answers.get(institution_id)
            via = None
            if answer is None and institution_id in carried:
                answer, via = carried[institution_id]
            by_county[county_of(region)].append(
                InstitutionAck(
                    institution_id=institution_id,
                    region_code=region,
                    heads=tuple(heads),
                    response=None if answer is None else answer.response,
                    by=None if answer is None else answer.user_id,
                    at=None if answer is None else answer.at,
                    reachable=any(head in reachable for head in heads),
                    help=calls.get(institution_id),
                    via=via,
                )
            )
        followers = await self._storage.warnings.followers(warning_id)
        counties = tuple(
            CountyAckStatus(
                county_code=county,
                acknowledged=tuple(i for i in rows if i.response is AckResponse.RECEIVED),
                need_help=tuple(i for i in rows if i.response is AckResponse.NEED_HELP and not i.helped),
                pending=tuple(i for i in rows if i.response is None),
                follower=followers.get(county),
                helped=tuple(i for i in rows if i.helped),
            )
            for county, rows in sorted(by_county.items())
        )
        return WarningAckStatus(warning, counties, scope_region)

    async def take_charge(self, actor: User, warning_id: int, county_code: str) -> Charge:
        """☎️ 我来跟进 under the escalation of a county's silent institutions: the first member of staff covering the
        county to press it follows them up, and everyone reading the status sees who. Refused: anyone not staff,
        county staff of another county, a county the warning does not concern, a warning not sent or ended."""
        warning = await self._chargeable(actor, warning_id, county_code)
        now = self._clock.now()
        async with self._storage.db.transaction():
            before = (await self._storage.warnings.followers(warning_id)).get(county_code)
            if before is not None:
                return Charge(warning, before, took=False)
            follower = await self._storage.warnings.take_charge(warning_id, county_code, actor.telegram_id, now)
            await self._audit(actor.telegram_id, "warning.taken_in_charge", warning, county=county_code)
        return Charge(warning, follower, took=True)

    async def hand_back(self, actor: User, warning_id: int, county_code: str) -> HandBack:
        """↩️ 交回跟进, as an on-call pager's unacknowledge: the follower of a county's silent institutions gives
        them back, so that a colleague can take them on (☎️ 我来跟进 again). Only the follower's own press changes
        anything: anyone else's (a stale button, someone took it since) and a second press are answered with who
        follows now. Refused as taking charge is: not staff, out of scope, a warning not sent or ended."""
        warning = await self._chargeable(actor, warning_id, county_code)
        async with self._storage.db.transaction():
            current = (await self._storage.warnings.followers(warning_id)).get(county_code)
            if current is None or current.telegram_id != actor.telegram_id:
                return HandBack(warning, released=None, current=current)
            await self._storage.warnings.release(warning_id, county_code, actor.telegram_id)
            event = await self._audit(actor.telegram_id, "warning.handed_back", warning, county=county_code,
                                      taken_at=current.taken_at.isoformat())
        return HandBack(warning, released=current, current=None, event_id=event.id)

    async def _chargeable(self, actor: User, warning_id: int, county_code: str) -> EarlyWarning:
        """The warning, if `actor` may take charge of (or hand back) the county's silent institutions of it."""
        warning = await self.get(warning_id)
        if actor.role not in STAFF_ROLES:
            raise Refusal("warning_staff_only")
        if not regions_overlap(warning.target.regions, [county_code]) or (
            actor.role is Role.COUNTY and not region_in_scope(actor.region_code, county_code)
        ):
            raise Refusal("warning_out_of_scope")
        if warning.sent_at is None:
            raise Refusal("warning_not_sent")
        if self._has_ended(warning):
            raise Refusal("warning_ended")
        return warning

    async def _reachable(self, heads: list[WarningRecipient]) -> set[int]:
        """Of the heads a warning went to, those a reminder can still reach: access not ended, bot not blocked."""
        served = await self._storage.users.get_many(r.chat_id for r in heads)
        return {user.telegram_id for user in served if user.unreachable_since is None}

    async def unacknowledged(self, warning_id: int, *, newest_only: bool = False) -> list[WarningRecipient]:
        """Heads of institutions that have not answered: whom a reminder goes to. `newest_only`: leave out the
        institutions that a newer warning of the same kind in force also concerns; the follow-up reminds them of
        that one alone (one reminder, not two in a row), and their answer to it counts for both."""
        status = await self.ack_status(warning_id)
        waiting = {i.institution_id for county in status.counties for i in county.pending}
        if newest_only and waiting:
            waiting -= await self._covered_by_newer(status.warning)
        heads = await self._storage.warnings.recipients(warning_id, (RecipientKind.HEAD,))
        return [r for r in await self.still_served(heads) if r.institution_id in waiting]

    async def alike_overlapping(self, warning: EarlyWarning) -> list[EarlyWarning]:
        """Other warnings of the same kind, sent, over ground this one's shares, whose time in force overlaps its
        own: the county's orange and the city's red of one cold wave."""
        if warning.sent_at is None:
            return []
        end = self.ended_when(warning) or effective_expiry(warning, self._settings.default_duration)
        return [
            other for other in await self._storage.warnings.sent_during(warning.kind, warning.sent_at, end)
            if other.id != warning.id
            and other.sent_at is not None
            and other.sent_at < end
            and (self.ended_when(other) or effective_expiry(other, self._settings.default_duration)) > warning.sent_at
            and regions_overlap(other.target.regions, warning.target.regions)
        ]

    def ended_when(self, warning: EarlyWarning) -> datetime | None:
        """When the warning was lifted or ran out; None while in force. One run out is marked so a minute later at
        most (or when gone from the feed, earlier): its time, whichever came first."""
        if not self._has_ended(warning):
            return None
        expiry = effective_expiry(warning, self._settings.default_duration)
        if warning.status is WarningStatus.CANCELLED and warning.ended_at is not None:
            return warning.ended_at
        return min(expiry, warning.ended_at) if warning.ended_at is not None else expiry

    async def _answered_alike(
        self, warning: EarlyWarning, unanswered: set[int]
    ) -> dict[int, tuple[WarningAck, int]]:
        """For institutions that have not answered this warning, a 已收到并落实 given to an overlapping warning of
        the same kind (`alike_overlapping`), with that warning's id: the first given. A call for help is not carried:
        it stays with its own warning, where it was raised and is handled."""
        found: dict[int, tuple[WarningAck, int]] = {}
        if not unanswered:
            return found
        for other in await self.alike_overlapping(warning):
            for ack in await self._storage.warnings.acks(other.id):
                if ack.institution_id not in unanswered or ack.response is not AckResponse.RECEIVED:
                    continue
                current = found.get(ack.institution_id)
                if current is None or ack.at < current[0].at:
                    found[ack.institution_id] = (ack, other.id)
        return found

    async def _covered_by_newer(self, warning: EarlyWarning) -> set[int]:
        """Institutions that a newer warning of the same kind, still in force, concerns too."""
        covered: set[int] = set()
        for other in await self.alike_overlapping(warning):
            if self._has_ended(other) or (other.sent_at, other.id) <= (warning.sent_at, warning.id):
                continue
            covered |= set(await self._storage.warnings.institutions(other.id))
        return covered


def _institutions(recipients: list[WarningRecipient], scope_region: str | None) -> dict[int, tuple[str, list[int]]]:
    found: dict[int, tuple[str, list[int]]] = {}
    for r in recipients:
        if r.kind is not RecipientKind.HEAD or r.institution_id is None:
            continue
        if not region_in_scope(scope_region, r.region_code):
            continue
        found.setdefault(r.institution_id, (r.region_code, []))[1].append(r.chat_id)
    return found


def _calls_by_institution(requests: list[HelpRequest]) -> dict[int, HelpRequest]:
    """Institution → the call for help that stands for it: the first still open, else the latest resolved (two
    heads of one home may each have asked)."""
    found: dict[int, HelpRequest] = {}
    for request in requests:  # oldest first
        for institution_id in request.institutions:
            current = found.get(institution_id)
            if current is None or current.resolved:  # a later one stands for it: open, or resolved since
                found[institution_id] = request
    return found


def _outranks(ack: WarningAck, current: WarningAck) -> bool:
    if ack.response is not current.response:
        return ack.response is AckResponse.NEED_HELP
    return ack.at < current.at  # the first to answer is the one named
