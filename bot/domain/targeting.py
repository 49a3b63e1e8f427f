"""Who must be told when something happens to a hazard: pure rules, no I/O, no message text.

The caller gathers the audience (the institution's heads, the staff whose scope covers the hazard, the bound
groups of its county) and these functions pick from it. Whatever the rule, two guards apply to every notice:
a person is told only if `can_view` admits them, and a group only if the hazard's area may be posted in groups.
So a rights-protection hazard (权益保障) cannot reach a head or a group through a mistake in one rule. The
person who acted is never told of their own action: they see the answer in their own chat. Nor is anyone whose
access has ended: the outbox would never deliver it, and an answer that counts who was told must not count them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.catalog import is_sensitive
from bot.domain.lifecycle import Actor, HazardAction, HazardFacts, HazardState, can_view, visible_to_groups
from bot.domain.roles import Role


class NoticeKind(StrEnum):
    NEW_HAZARD_FOR_HEAD = "new_hazard_for_head"  # private, with Acknowledge / Start / Details buttons
    NEW_HAZARD_FOR_GROUP = "new_hazard_for_group"  # a short post in the county's bound group
    # The loop closed where it opened: one line to the groups that were told of the hazard, when it is closed (销号).
    CLOSED_FOR_GROUP = "closed_for_group"
    # Sensitive hazards (instead of head and group), and hazards nobody at the institution can take on.
    NEW_HAZARD_FOR_STAFF = "new_hazard_for_staff"
    ASSIGNED = "assigned"  # staff named this person responsible
    UNASSIGNED = "unassigned"  # staff named someone else: the hazard is no longer this person's
    HANDED_OVER = "handed_over"  # to the institution's heads and the reporter: whom staff named responsible
    RECTIFICATION_SUBMITTED = "rectification_submitted"  # to verifiers and the reporter
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # reason: why
    DEADLINE_CHANGED = "deadline_changed"  # reason: why
    REOPENED = "reopened"  # reason: why
    EVIDENCE_ADDED = "evidence_added"  # more photos on a hazard someone is correcting
    EXTENSION_REQUESTED = "extension_requested"  # to staff who may change the deadline, with Approve / Refuse
    EXTENSION_APPROVED = "extension_approved"  # to whoever asked for more time
    EXTENSION_REFUSED = "extension_refused"  # to whoever asked for more time; reason: why
    WITHDRAWN = "withdrawn"  # reason: why staff (or its reporter, 撤回) withdrew it (作废)
    COMMENTED = "commented"  # someone wrote on the hazard's record (on_comment)


class NoticeReason(StrEnum):
    """Why staff are told of a new hazard (the `reason` of a NEW_HAZARD_FOR_STAFF notice)."""

    SENSITIVE = "sensitive"
    NO_HEAD = "no_head"


# The notices posted in groups: never a rights-protection hazard's (`guard`), never a description.
GROUP_KINDS = frozenset({NoticeKind.NEW_HAZARD_FOR_GROUP, NoticeKind.CLOSED_FOR_GROUP})


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    hazard_id: int
    recipient_id: int  # a Telegram user id, or a chat id for group notices
    topic_id: int | None = None  # forum topic, for group notices
    reason: str | None = None


@dataclass(frozen=True)
class GroupTarget:
    chat_id: int
    topic_id: int | None = None


@dataclass(frozen=True)
class Audience:
    heads: tuple[Actor, ...] = ()  # active heads of the hazard's institution
    staff: tuple[Actor, ...] = ()  # active county staff and city admins whose scope covers the hazard
    groups: tuple[GroupTarget, ...] = ()  # the county's bound groups for hazards
    # The reporter or the person named responsible, whose access has ended: `can_view` admits them by id, whatever
    # their access, so the audience names them to be left out.
    ended: frozenset[int] = frozenset()


def rectifiers(facts: HazardFacts, audience: Audience) -> list[int]:
    """Who corrects the hazard: the person named responsible, and the institution's heads unless sensitive."""
    people = [] if facts.assignee_id is None else [facts.assignee_id]
    if not is_sensitive(facts.area):
        people += [head.telegram_id for head in audience.heads]
    return people


def reporters(facts: HazardFacts) -> list[int]:
    """Who reported it: its reporter, and those who added their own report of it since (its followers), who hear
    what its reporter hears."""
    return [facts.reporter_id, *sorted(facts.followers)]


def on_merge(
    facts: HazardFacts, hazard_id: int, audience: Audience, actor_id: int, *, severity_raised: bool
) -> list[Notice]:
    """Notices for a second report of the hazard folded into it (photos, a description): those correcting it hear
    what was added and by whom; staff too when the newcomer judged it more severe than it stands (a severity is
    theirs to change, so it is put to them, not applied), or when no one corrects it."""
    doers = rectifiers(facts, audience)
    staff = verifiers(facts, audience) if severity_raised or not doers else []
    return guard(_people(NoticeKind.EVIDENCE_ADDED, hazard_id, [*doers, *staff]), facts, audience, actor_id)


def verifiers(facts: HazardFacts, audience: Audience) -> list[int]:
    """County staff covering the hazard; city admins only where no county staff does (city institutions),
    so that the bureau is not told of every verification in the city.

    Never the person who submitted the rectification (four eyes: `lifecycle.VERIFYING_ACTIONS`): where they are the
    only county staff covering it, the city admins are asked, who cover every county, so no fix waits unseen."""
    staff = [s for s in audience.staff if facts.fixed_by is None or s.telegram_id != facts.fixed_by]
    county = [s.telegram_id for s in staff if s.role is Role.COUNTY]
    return county or [s.telegram_id for s in staff if s.role is Role.CITY]


def deciders(audience: Audience) -> list[int]:
    """Who is asked to decide a request for more time: the county staff covering the hazard, city admins only where
    none does, as for verification. Any staff member in scope may decide it (lifecycle: CHANGE_DEADLINE)."""
    county = [s.telegram_id for s in audience.staff if s.role is Role.COUNTY]
    return county or [s.telegram_id for s in audience.staff if s.role is Role.CITY]


def on_extension_request(facts: HazardFacts, hazard_id: int, audience: Audience, actor_id: int) -> list[Notice]:
    """Notices for a request for more time just made: to staff, privately (never a group, whatever the area)."""
    return guard(_people(NoticeKind.EXTENSION_REQUESTED, hazard_id, deciders(audience)), facts, audience, actor_id)


def on_extension_decided(
    kind: NoticeKind, facts: HazardFacts, hazard_id: int, audience: Audience, actor_id: int, requester_id: int,
    notices: Sequence[Notice] = (), reason: str | None = None,
) -> list[Notice]:
    """The requester hears the decision (`kind`: approved or refused) instead of any other notice of the same
    change (an approval changes the deadline: the others responsible hear that as usual)."""
    others = [notice for notice in notices if notice.recipient_id != requester_id]
    return [*others, *guard([Notice(kind, hazard_id, requester_id, reason=reason)], facts, audience, actor_id)]


def on_report(facts: HazardFacts, hazard_id: int, audience: Audience, actor_id: int) -> list[Notice]:
    """Notices for a hazard just reported (already in its initial state)."""
    notices: list[Notice] = []
    if facts.state is HazardState.AWAITING_VERIFICATION:  # corrected on the spot: only verification is left
        notices += _people(NoticeKind.RECTIFICATION_SUBMITTED, hazard_id, verifiers(facts, audience))
    elif is_sensitive(facts.area):
        staff = [s.telegram_id for s in audience.staff]
        notices += _people(NoticeKind.NEW_HAZARD_FOR_STAFF, hazard_id, staff, NoticeReason.SENSITIVE)
    else:
        doers = rectifiers(facts, audience)
        notices += _people(NoticeKind.NEW_HAZARD_FOR_HEAD, hazard_id, doers)
        if facts.assignee_id is None:
            staff = verifiers(facts, audience)
            notices += _people(NoticeKind.NEW_HAZARD_FOR_STAFF, hazard_id, staff, NoticeReason.NO_HEAD)
    notices += [
        Notice(NoticeKind.NEW_HAZARD_FOR_GROUP, hazard_id, group.chat_id, group.topic_id) for group in audience.groups
    ]
    return guard(notices, facts, audience, actor_id)


def on_action(
    action: HazardAction,
    facts: HazardFacts,
    hazard_id: int,
    audience: Audience,
    actor_id: int,
    reason: str | None = None,
) -> list[Notice]:
    """Notices for an action just applied; `facts` are the hazard's after it."""
    doers = rectifiers(facts, audience)
    reporter = reporters(facts)
    plan: dict[HazardAction, tuple[NoticeKind, list[int], str | None]] = {
        HazardAction.SUBMIT_RECTIFICATION: (
            NoticeKind.RECTIFICATION_SUBMITTED,
            verifiers(facts, audience) + reporter,
            None,
        ),
        HazardAction.REPORT_FIXED_ON_SPOT: (NoticeKind.RECTIFICATION_SUBMITTED, verifiers(facts, audience), None),
        HazardAction.ACCEPT: (NoticeKind.ACCEPTED, doers + reporter, None),
        HazardAction.REJECT: (NoticeKind.REJECTED, doers + reporter, reason),
        HazardAction.REOPEN: (NoticeKind.REOPENED, doers + reporter, reason),
        HazardAction.CHANGE_DEADLINE: (NoticeKind.DEADLINE_CHANGED, doers, reason),
        HazardAction.ASSIGN: (NoticeKind.ASSIGNED, [] if facts.assignee_id is None else [facts.assignee_id], None),
        HazardAction.ADD_EVIDENCE: (NoticeKind.EVIDENCE_ADDED, doers, None),
        # The reporter and whoever was correcting it (never a sensitive hazard's heads: `rectifiers`, then `guard`);
        # taken back by its reporter, the county too, whose hazard it was to verify (and to reinstate, if need be).
        HazardAction.WITHDRAW: (
            NoticeKind.WITHDRAWN,
            doers + reporter + (verifiers(facts, audience) if actor_id == facts.reporter_id else []),
            reason,
        ),
    }
    if action not in plan:
        return []
    kind, recipients, why = plan[action]
    notices = _people(kind, hazard_id, recipients, why)
    if action is HazardAction.ACCEPT:
        # Its groups saw it open (🆕) and, with no digest, never saw it closed: they see the ✅ too (the caller
        # gives the hazard's groups; the notifier keeps those its 🆕 reached).
        notices += [Notice(NoticeKind.CLOSED_FOR_GROUP, hazard_id, g.chat_id, g.topic_id) for g in audience.groups]
    return guard(notices, facts, audience, actor_id)


def on_comment(
    facts: HazardFacts, hazard_id: int, audience: Audience, actor_id: int, participants: Iterable[int]
) -> list[Notice]:
    """Who reads a comment: whoever follows the hazard, as a comment thread's subscribers do. They are its rectifiers
    (the person named, the institution's heads), its reporter, and everyone who took part in its history
    (`participants`: the staff who assigned, verified, rejected or commented on it, a cadre who commented...). The
    county hears through the staff who took part; where no county official has yet, through those who would verify
    it, so a head's question reaches someone without every official of the county hearing of every remark. Never a
    group; never anyone `can_view` refuses (a rights-protection hazard's heads), never the commenter, nor anyone
    whose access ended (`guard`)."""
    involved = list(dict.fromkeys(participants))
    county_took_part = any(s.role is Role.COUNTY and s.telegram_id in involved for s in audience.staff)
    county = [] if county_took_part else verifiers(facts, audience)
    people = [*rectifiers(facts, audience), *reporters(facts), *involved, *county]
    return guard(_people(NoticeKind.COMMENTED, hazard_id, people), facts, audience, actor_id)


def on_reassign(
    previous_id: int | None, facts: HazardFacts, hazard_id: int, audience: Audience, actor_id: int
) -> list[Notice]:
    """After staff named someone responsible (`facts.assignee_id`): the person relieved is told it is no longer
    theirs; the institution's heads, who still see the hazard, and its reporter hear whom it is with now.

    The relieved person's notice skips `guard`: once relieved they may no longer see the hazard, and it names only
    its code, which they knew. The others go through it, so a rights-protection hazard's heads are never told; its
    reporter is not told either, so that who handles a rights case stays with staff and the person named."""
    notices: list[Notice] = []
    if previous_id is not None and previous_id not in (facts.assignee_id, actor_id):
        notices.append(Notice(NoticeKind.UNASSIGNED, hazard_id, previous_id))
    if facts.assignee_id is None or is_sensitive(facts.area):
        return notices
    told = {previous_id, facts.assignee_id}
    others = [head.telegram_id for head in audience.heads] + reporters(facts)
    handed = _people(NoticeKind.HANDED_OVER, hazard_id, [person for person in others if person not in told])
    return notices + guard(handed, facts, audience, actor_id)


def guard(notices: Iterable[Notice], facts: HazardFacts, audience: Audience, actor_id: int) -> list[Notice]:
    """Drop notices nobody may receive, the actor's own, those to people whose access ended, and repeats; keep the
    first of each recipient."""
    known = {a.telegram_id: a for a in (*audience.heads, *audience.staff)}
    group_ids = {(g.chat_id, g.topic_id) for g in audience.groups}
    kept: list[Notice] = []
    seen: set[tuple[int, int | None]] = set()
    for notice in notices:
        key = (notice.recipient_id, notice.topic_id)
        if key in seen:
            continue
        if notice.kind in GROUP_KINDS:
            if not visible_to_groups(facts.area) or key not in group_ids:
                continue
        else:
            person = notice.recipient_id
            if person == actor_id or person in audience.ended or not _may_view(facts, person, known):
                continue
        seen.add(key)
        kept.append(notice)
    return kept


def _may_view(facts: HazardFacts, person_id: int, known: dict[int, Actor]) -> bool:
    if facts.follows(person_id) or person_id == facts.assignee_id:
        return True  # can_view admits them by id, whatever their role
    actor = known.get(person_id)
    return actor is not None and can_view(facts, actor)


def _people(kind: NoticeKind, hazard_id: int, ids: Sequence[int], reason: str | None = None) -> list[Notice]:
    return [Notice(kind, hazard_id, person, reason=reason) for person in ids]
