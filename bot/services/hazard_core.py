"""What the hazard services share: their results, input checks, and applying an action that decide() allowed.

Kept apart from `hazards.py` only for size; callers import everything from `bot.services.hazards`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.catalog import HazardArea, Severity, is_sensitive
from bot.domain.deadlines import DeadlinePolicy, deadline_for
from bot.domain.lifecycle import (
    VERDICTS,
    WORK_ACTIONS,
    Actor,
    Allowed,
    HazardAction,
    HazardFacts,
    Refused,
    decide,
    visible_to_groups,
)
from bot.domain.roles import Role, region_in_scope
from bot.domain.secrecy import find_classification_mark
from bot.domain.targeting import Audience, GroupTarget, Notice
from bot.domain.text import clean_text, is_blank, visible_length
from bot.domain.withdrawal import WithdrawalCategory
from bot.services.errors import Refusal
from bot.services.evidence import EvidenceStore
from storage import Storage
from storage.extension_models import ExtensionRequest
from storage.hazard_models import Hazard, HazardEvent, HazardPhoto, PhotoKind, PhotoRef
from storage.models import Group, GroupPurpose, Institution, User

MAX_PHOTOS = 9
MIN_DESCRIPTION = 5
MAX_TEXT = 2000
# A comment is a remark in a conversation, not a report: two characters that show ("好的" is an answer), and short
# enough that the people told read it whole on a phone.
MIN_COMMENT = 2
MAX_COMMENT = 1000

# Refusals that a normal user interface never produces: a forged or replayed button, worth an audit entry.
FORGERY_CODES = frozenset({"not_in_scope", "sensitive_hidden", "wrong_role"})
# Refusals audited like a forgery, though the person may see the hazard (so the refusal names it): the fixer pressing
# Accept on their own rectification, a button they are never offered (four eyes).
AUDITED_CODES = FORGERY_CODES | {"self_verification"}
# What any press or command on a hazard outside the person's scope is told: what View says ("no such hazard, or you
# may not see it"), so that no button confirms to an outsider that the hazard exists. Audited as "not_in_scope".
OUTSIDER = "not_found"

# The rectification a button was shown with, from before Accept and Reject named it (their callback data carried
# only the hazard): it stands for the one awaiting verification only if no other was ever submitted. Submissions are
# named by their history entry, whose ids start at 1.
LEGACY_FIX = 0

# The key, in a history entry's and an audit event's detail, of an acceptance by the fixer, and why it was allowed.
FOUR_EYES_WAIVED, NO_OTHER_VERIFIER = "four_eyes_waived", "no_other_verifier"

AUDIT_ACTIONS: dict[HazardAction, str] = {
    HazardAction.ASSIGN: "hazard.assigned",
    HazardAction.ACKNOWLEDGE: "hazard.acknowledged",
    HazardAction.START_RECTIFICATION: "hazard.rectification_started",
    HazardAction.SUBMIT_RECTIFICATION: "hazard.rectification_submitted",
    HazardAction.REPORT_FIXED_ON_SPOT: "hazard.fixed_on_spot",
    HazardAction.ACCEPT: "hazard.accepted",
    HazardAction.REJECT: "hazard.rejected",
    HazardAction.REOPEN: "hazard.reopened",
    HazardAction.CHANGE_DEADLINE: "hazard.deadline_changed",
    HazardAction.ADD_EVIDENCE: "hazard.evidence_added",
    HazardAction.COMMENT: "hazard.commented",
    HazardAction.REQUEST_EXTENSION: "hazard.extension_requested",
    HazardAction.WITHDRAW: "hazard.withdrawn",
}

# The rectification's own photos show the result; anything else shows the hazard.
_AFTER_PHOTO_ACTIONS = frozenset({HazardAction.SUBMIT_RECTIFICATION, HazardAction.REPORT_FIXED_ON_SPOT})
# The history entries that submit a rectification (its own or fixed on the spot): each starts a round of verification.
FIX_ACTIONS = frozenset(action.value for action in _AFTER_PHOTO_ACTIONS)
# What ends a pending request for more time, undecided: a rectification submitted (the wait is staff's now), or staff
# setting the deadline themselves (an approval marks the request decided before it changes the deadline).
ENDS_EXTENSION = _AFTER_PHOTO_ACTIONS | {HazardAction.CHANGE_DEADLINE, HazardAction.WITHDRAW}


@dataclass(frozen=True)
class HazardOutcome:
    hazard: Hazard  # as it is after the change
    notices: list[Notice] = field(default_factory=list)
    event: HazardEvent | None = None  # the last history entry written
    merged: bool = False  # the report was added to an existing hazard instead of creating one


@dataclass(frozen=True)
class Withdrawal:
    """Why staff withdraw a hazard (作废): the category, and the other hazard a duplicate names, if any."""

    category: WithdrawalCategory
    duplicate_of: str | None = None

    def detail(self) -> dict[str, Any]:
        """What the history entry and the audit event keep of it."""
        return {"category": self.category.value, **({"duplicate_of": self.duplicate_of} if self.duplicate_of else {})}


@dataclass(frozen=True)
class TaskItem:
    hazard: Hazard
    overdue: bool
    # The reader submitted its rectification and nobody else may verify it: theirs to accept (four eyes waived).
    only_you_verify: bool = False


@dataclass(frozen=True)
class TaskPage:
    items: list[TaskItem]
    page: int  # 0-based, clamped to the last page that exists
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages



@dataclass(frozen=True)
class ReportsPage(TaskPage):
    """A page of /mine: `total` counts the hazards listed (unresolved, then closed within the window)."""

    closed_before: int = 0  # closed before the window: counted, not listed
    adds: bool = False  # the person follows hazards others reported (added to them): the heading says so

@dataclass(frozen=True)
class HazardDossier:
    hazard: Hazard
    institution: Institution | None
    events: list[HazardEvent]
    photos: list[HazardPhoto]
    overdue: bool
    actions: tuple[HazardAction, ...]  # what this viewer may do now, for buttons
    # The history entry of the rectification awaiting verification (what Accept and Reject are given on), if any.
    fix: int | None = None
    extension: ExtensionRequest | None = None  # a request for more time waiting for staff


def actor_of(user: User) -> Actor:
    return Actor(
        telegram_id=user.telegram_id, role=user.role, region_code=user.region_code, institution_id=user.institution_id
    )


def may_report_on(user: User, institution: Institution) -> bool:
    """Heads report on their own institution; everyone else on the institutions of their region."""
    if not institution.active:
        return False
    if user.role is Role.HEAD:
        return user.institution_id == institution.id
    if user.role is not Role.CITY and user.region_code is None:
        # A cadre or county account without a region is misconfigured; region_in_scope would read None as
        # the whole city, so it fails closed here.
        return False
    return region_in_scope(user.region_code, institution.region_code)


def checked_text(
    text: str | None, *, field_name: str, minimum: int = 0, maximum: int = MAX_TEXT
) -> str | None:
    """Cleaned text (bot/domain/text.py) within the length limits, or a Refusal; None when nothing of it shows
    and nothing is required. The minimum counts the characters that show: zero-width spaces do not fill it."""
    value = clean_text(text)
    if is_blank(value) and minimum == 0:
        return None
    if visible_length(value) < minimum:
        raise Refusal(f"{field_name}_too_short", min=minimum)
    if len(value) > maximum:
        raise Refusal(f"{field_name}_too_long", max=maximum)
    # The secrecy guard stops such messages before any handler; this is the last line before storage.
    mark = find_classification_mark(value)
    if mark is not None:
        raise Refusal("classified", mark=mark)
    return value


class ReminderPlanner(Protocol):
    """The reminder engine, told after every change so deadlines and escalations follow the hazard."""

    async def plan_for_hazard(self, hazard: Hazard) -> None: ...


class NoticeQueue(Protocol):
    """Words the notices of a change and queues them in the outbox, inside the change's transaction: so that no
    crash nor failed request can leave a change whose notices are lost. `event` is the history entry the change
    wrote; the notices are worded as of that moment, whatever happens to the hazard before they go out, except
    that notices held for the morning which the change makes wrong (a hazard withdrawn or closed in the night, a
    head who acted on it before their "new hazard" notice went) are cancelled. Called for every change, with no
    notices too."""

    async def queue(self, hazard: Hazard, event: HazardEvent, notices: Sequence[Notice]) -> None: ...


class CheckBackPlanner(Protocol):
    """Plans the reporter's check-back (回访) of a closing, inside the acceptance's transaction."""

    async def schedule(self, hazard: Hazard, event: HazardEvent) -> None: ...


class HazardCore:
    def __init__(
        self, storage: Storage, clock: Clock, evidence: EvidenceStore, policy: DeadlinePolicy, tz: ZoneInfo
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._evidence = evidence
        self._policy = policy
        self._tz = tz
        self.planner: ReminderPlanner | None = None
        self.notifier: NoticeQueue | None = None
        self.check_backs: CheckBackPlanner | None = None

    async def _queue_notices(self, hazard: Hazard, event: HazardEvent, notices: Sequence[Notice]) -> None:
        """Call inside the change's transaction; with no notices too: a change may make notices still waiting
        (held for the morning) wrong."""
        if self.notifier is not None:
            await self.notifier.queue(hazard, event, notices)

    async def _planned(self, outcome: HazardOutcome) -> HazardOutcome:
        """Re-plan the hazard's reminders once its change is committed (planning reads what was written)."""
        if self.planner is not None:
            await self.planner.plan_for_hazard(outcome.hazard)
        return outcome

    def _check_photos(self, photos: list[PhotoRef]) -> None:
        if len(photos) > MAX_PHOTOS:
            raise Refusal("too_many_photos", max=MAX_PHOTOS)
        for photo in photos:
            if not self._evidence.exists(photo.sha256):
                # The handler keeps the bytes before it hands over a PhotoRef; a missing file is a bug there.
                raise ValueError(f"photo {photo.file_unique_id} is not in the evidence store")

    async def hazard_groups(self, hazard: Hazard) -> list[Group]:
        """The groups that hear of a hazard (its 🆕, and its ✅ when closed): its county's groups for hazards, and
        for a 重大 one the city's own groups too, whose admins it reaches at once (README: a city group bound as
        general hears what reaches the city, not every local item)."""
        bound = await self._storage.groups.bound({GroupPurpose.HAZARDS})
        groups = bound.for_region(hazard.region_code)
        if hazard.severity is Severity.SERIOUS:
            groups += [g for g in bound.city_wide() if g not in groups]
        return groups

    async def _audience(self, hazard: Hazard, *, with_groups: bool = False) -> Audience:
        users = self._storage.users
        heads = () if is_sensitive(hazard.area) else tuple(map(actor_of, await users.heads_of(hazard.institution_id)))
        staff = tuple(map(actor_of, await users.staff_for_region(hazard.region_code)))
        groups: tuple[GroupTarget, ...] = ()
        if with_groups and visible_to_groups(hazard.area):
            groups = tuple(GroupTarget(g.chat_id, g.topic_id) for g in await self.hazard_groups(hazard))
        named = [await users.get(i) for i in {hazard.reporter_id, hazard.assignee_id} if i is not None]
        ended = frozenset(person.telegram_id for person in named if person is not None and not person.active)
        return Audience(heads=heads, staff=staff, groups=groups, ended=ended)

    async def _apply(
        self,
        actor: User,
        hazard: Hazard,
        action: HazardAction,
        *,
        now: datetime,
        reason: str | None = None,
        photos: list[PhotoRef] | None = None,
        deadline: datetime | None = None,
        assignee_id: int | None = None,
        four_eyes_waived: bool = False,
        shown_current: bool = True,
        extra_detail: dict[str, Any] | None = None,
        withdrawal: Withdrawal | None = None,
    ) -> Refused | tuple[Hazard, HazardEvent]:
        """Ask decide() and, if allowed, write the change, its history entry, photos and audit event.

        Must run inside a transaction: the hazard was read in it, so nobody can change it meanwhile.
        `four_eyes_waived`: the fixer accepts their own rectification because nobody else may (the caller checked,
        in the same transaction); the history entry and the audit event say so. `shown_current`: a verdict was given
        on the rectification awaiting verification, not an earlier one (the caller compared, see `_shown_current`).
        """
        photos = photos or []
        if action is HazardAction.REOPEN:
            # A new round of correction: the time its severity allows, from now (see lifecycle.ACTION_RULES).
            deadline = deadline_for(hazard.severity, now, self._policy)
        if action is HazardAction.ASSIGN and deadline is None and hazard.deadline is None:
            # DeadlineNeed.NEW_OR_CURRENT: the deadline in force stays; a hazard without one gets its severity's.
            deadline = deadline_for(hazard.severity, now, self._policy)
        decision = decide(
            await self._facts(hazard, action),
            actor_of(actor),
            action,
            reason=reason,
            photo_count=len(photos),
            now=now,
            deadline=deadline,
            assignee_id=assignee_id,
            four_eyes_waived=four_eyes_waived,
            shown_current=shown_current,
        )
        if isinstance(decision, Refused):
            return decision
        # A round corrected late stays late: the fresh deadline of a reopening must not make the hazard count as
        # closed on time in the rates the counties are ranked and notified (通报) by.
        # Read only when this round itself was not late: a late one is late whatever came before.
        late_before = action is HazardAction.ACCEPT and decision.on_time is not False and any(
            event.action == HazardAction.ACCEPT.value and event.detail.get("on_time") is False
            for event in await self._storage.hazards.events(hazard.id)
        )
        changes = _changes(hazard, action, decision, now, reason, late_before=late_before)
        if action is HazardAction.WITHDRAW:
            if withdrawal is None:
                raise ValueError("a withdrawal needs its category")
            changes.update(withdrawal_category=withdrawal.category.value, withdrawal_reason=reason)
        if action in _AFTER_PHOTO_ACTIONS:
            changes["fixed_by"] = actor.telegram_id  # four eyes: whoever accepts it must be someone else
        updated = hazard.model_copy(update=changes)
        if action is HazardAction.REOPEN:
            updated = updated.model_copy(update={"assignee_id": await self._responsible_again(hazard)})
        if not await self._storage.hazards.update_state(updated, expected_state=hazard.state):
            raise RuntimeError(f"hazard {hazard.id} changed inside its own transaction")
        detail = {**_event_detail(hazard, updated, decision, len(photos)), **(extra_detail or {})}
        if action is HazardAction.WITHDRAW and withdrawal is not None:
            detail.update(withdrawal.detail())
        waived = four_eyes_waived and hazard.fixed_by == actor.telegram_id
        if waived:
            detail[FOUR_EYES_WAIVED] = NO_OTHER_VERIFIER
        event = await self._storage.hazards.add_event(
            hazard.id,
            at=now,
            actor_id=actor.telegram_id,
            action=action.value,
            from_state=hazard.state,
            to_state=updated.state,
            note=reason,
            detail=detail,
        )
        if action in ENDS_EXTENSION:
            await self._storage.extensions.end_pending(hazard.id, action=action.value, by=actor.telegram_id, at=now)
        kind = PhotoKind.AFTER if action in _AFTER_PHOTO_ACTIONS else PhotoKind.BEFORE
        for photo in photos:
            await self._storage.hazards.add_photo(
                hazard.id, photo, kind=kind, event_id=event.id, added_by=actor.telegram_id, added_at=now
            )
        await self._storage.audit.append(
            actor.telegram_id,
            AUDIT_ACTIONS[action],
            target=f"hazard:{hazard.code}",
            detail={
                "from": hazard.state, "to": updated.state, "event_id": event.id,
                **({FOUR_EYES_WAIVED: NO_OTHER_VERIFIER} if waived else {}),
                **(withdrawal.detail() if action is HazardAction.WITHDRAW and withdrawal is not None else {}),
            },
        )
        return updated, event

    async def _facts(self, hazard: Hazard, action: HazardAction) -> HazardFacts:
        """The facts `action` is decided on: the row's, and for a withdrawal whether anyone has worked on the hazard,
        which only its history tells (its reporter may withdraw it until then)."""
        facts = hazard.facts()
        if action is not HazardAction.WITHDRAW:
            return facts
        events = await self._storage.hazards.events(hazard.id)
        return replace(facts, worked_on=any(event.action in WORK_ACTIONS for event in events))

    async def _fixes(self, hazard: Hazard) -> list[HazardEvent]:
        """The history entries that submitted a rectification of the hazard, oldest first."""
        return [event for event in await self._storage.hazards.events(hazard.id) if event.action in FIX_ACTIONS]

    async def _current_fix(self, hazard: Hazard) -> int | None:
        """The history entry of the rectification awaiting verification; None when none does."""
        if hazard.fixed_at is None:
            return None
        fixes = await self._fixes(hazard)
        return fixes[-1].id if fixes else None

    async def _shown_current(self, hazard: Hazard, action: HazardAction, shown_fix: int | None) -> bool:
        """Whether a verdict pressed on the rectification `shown_fix` (None: no button named one) is given on the one
        awaiting verification now. LEGACY_FIX, a button from before they were named: if no other was ever submitted."""
        if shown_fix is None or action not in VERDICTS or hazard.fixed_at is None:
            return True
        fixes = await self._fixes(hazard)
        if shown_fix == LEGACY_FIX:
            return len(fixes) <= 1
        return bool(fixes) and fixes[-1].id == shown_fix

    async def _responsible_again(self, hazard: Hazard) -> int | None:
        """Who answers for a reopened hazard: the person named before, unless their access has ended since it closed
        (whether or not they were invited back, perhaps in another role or for another institution: what they were
        named for is no longer theirs). Then the institution's head does, as on a report (nobody for a sensitive
        hazard, or where no head is registered: the county staff then see it as nobody's)."""
        if hazard.assignee_id is not None:
            previous = await self._storage.users.get(hazard.assignee_id)
            if previous is not None and previous.active and not _left_since(previous, hazard.closed_at):
                return previous.telegram_id
        institution = await self._storage.institutions.get(hazard.institution_id)
        return None if institution is None else await self._responsible(institution, hazard.area)

    async def _responsible(self, institution: Institution, area: HazardArea) -> int | None:
        """The person responsible by default: the institution's registered head; nobody there for sensitive
        areas (county staff handle those) or when no head has registered yet (staff assign it)."""
        if is_sensitive(area):
            return None
        heads = await self._storage.users.heads_of(institution.id)
        for head in heads:
            if head.telegram_id == institution.head_user_id:
                return head.telegram_id
        return heads[0].telegram_id if heads else None

    async def _candidates(self, hazard: Hazard) -> list[User]:
        """Whom staff may name responsible for the hazard: the institution's active heads first (never for a
        sensitive hazard, which they must not see), then the active cadres and county staff whose region contains
        the hazard's; each person once, the one responsible now left out."""
        users = self._storage.users
        heads = [] if is_sensitive(hazard.area) else await users.heads_of(hazard.institution_id)
        others = await users.covering((Role.CADRE, Role.COUNTY), hazard.region_code)
        seen: set[int] = set()
        chosen: list[User] = []
        for person in (*heads, *others):
            if person.telegram_id in seen or person.telegram_id == hazard.assignee_id:
                continue
            seen.add(person.telegram_id)
            chosen.append(person)
        return chosen

    async def _audit_refusal(self, actor: User, action: str, target: str, code: str) -> None:
        await self._storage.audit.append(
            actor.telegram_id, "authz.refused", target=target, detail={"action": action, "reason": code}
        )


def _changes(
    hazard: Hazard, action: HazardAction, allowed: Allowed, now: datetime, reason: str | None, *, late_before: bool
) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "state": allowed.next_state,
        "deadline": allowed.deadline,
        "assignee_id": allowed.assignee_id,
        "updated_at": now,
    }
    if action in (HazardAction.ACKNOWLEDGE, HazardAction.START_RECTIFICATION) and hazard.acknowledged_at is None:
        changes["acknowledged_at"] = now
    if action is HazardAction.ASSIGN and allowed.assignee_id != hazard.assignee_id:
        changes["acknowledged_at"] = None  # the new person responsible has not acknowledged anything yet
    if action in _AFTER_PHOTO_ACTIONS:
        changes["fixed_at"] = now
        changes["measures"] = reason.strip() if reason and reason.strip() else hazard.measures
    if action is HazardAction.ACCEPT:
        changes["closed_at"] = now
        # The verdict of the whole hazard: late if any round before this one (closed, then reopened) was.
        changes["closed_on_time"] = False if late_before else allowed.on_time
    if action in (HazardAction.REJECT, HazardAction.REOPEN):
        # The row describes the current round of correction; earlier rounds stay in the history.
        changes.update(fixed_at=None, fixed_by=None, closed_at=None, closed_on_time=None)
    if action is HazardAction.REOPEN:
        changes.update(withdrawal_category=None, withdrawal_reason=None)  # reinstated: the history keeps why
    if action is HazardAction.WITHDRAW:
        # Ended, not rectified: closed_at says when (the reopening window counts from it), closed_on_time stays
        # unset, so no rate counts it as closed on time or late. The rectification, if any, stays on the record.
        changes.update(closed_at=now, closed_on_time=None)
    return changes


def _event_detail(before: Hazard, after: Hazard, allowed: Allowed, photo_count: int) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if after.deadline != before.deadline:
        detail.update(previous_deadline=before.deadline, deadline=after.deadline)
    if after.assignee_id != before.assignee_id:
        detail.update(previous_assignee_id=before.assignee_id, assignee_id=after.assignee_id)
    if allowed.on_time is not None:
        detail["on_time"] = allowed.on_time
    if photo_count:
        detail["photos"] = photo_count
    return detail


def _left_since(person: User, since: datetime | None) -> bool:
    """Whether the person's access ended after `since` (whether or not they were invited back since)."""
    ended = person.access_ended_at
    return ended is not None and (since is None or ended >= since)
