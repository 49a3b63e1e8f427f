"""The closed hazard loop (DOMAIN.md: find → assign → correct → verify → close): data and one decision.

Like FixMyStreet, states are grouped into kinds (open / fixed / closed) so that reports, statistics,
reminders and the "dynamic zeroing" goal (动态清零) all ask the same question through `state_kind()` and the
*_STATES sets.

`decide()` answers in a fixed order, so that the message a user sees is the most fundamental one:
    1. may this person see the hazard at all?           SENSITIVE_HIDDEN, NOT_IN_SCOPE
    2. is this person one who may take this action?     WRONG_ROLE, NOT_REPORTER, NOT_IN_SCOPE,
                                                        SENSITIVE_HIDDEN
    3. does the action apply in the hazard's state?     ALREADY_CLOSED, ILLEGAL_TRANSITION,
                                                        REOPEN_WINDOW_PASSED, COMMENT_WINDOW_PASSED,
                                                        WITHDRAW_TOO_LATE (its reporter, once worked on)
    4. is it the rectification the person was shown?    EARLIER_RECTIFICATION
       is someone else's work being verified?           SELF_VERIFICATION
    5. did they give what the action needs?             REASON/MEASURES/TEXT/PHOTO/ASSIGNEE/DEADLINE_*
Step 1 comes first so that a refusal never tells an outsider anything about the hazard's state. Step 4 comes after
step 3 because who fixed it only means something while the fix awaits verification. A verdict (ACCEPT, REJECT) given
on an earlier rectification, since sent back and submitted anew, is refused before four eyes: its button was stale,
not forged. Which rectification the person was shown is the caller's to compare (`shown_current`).

Four eyes (四查四改: the one who verifies checks someone else's work): the person who submitted the rectification
now awaiting verification (`HazardFacts.fixed_by`, whether by SUBMIT_RECTIFICATION or REPORT_FIXED_ON_SPOT) may
not ACCEPT it. It matters to staff, who may rectify too (a rights-protection hazard nobody is named for, or one
Assign gave them). They may still REJECT it: sending one's own fix back for more work closes nothing.
The one exception is the service's to grant (`four_eyes_waived`): when no other active person may verify the fix,
the fixer may accept it after confirming so, or it could never be closed. Whether anyone else may is a question of
who is registered, which this module cannot see; `may_verify` answers it for one person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from bot.domain.catalog import HazardArea, is_sensitive
from bot.domain.roles import STAFF_ROLES, Role, region_in_scope
from bot.domain.text import says_enough_measures


class HazardState(StrEnum):
    REPORTED = "reported"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    AWAITING_VERIFICATION = "awaiting_verification"
    CLOSED = "closed"
    # Ended without a fix (作废), by staff or, before anyone worked on it, by its reporter (撤回): reported in
    # error, a duplicate, an institution closed. Not rectified.
    WITHDRAWN = "withdrawn"


class StateKind(StrEnum):
    OPEN = "open"  # someone still has to correct something
    FIXED = "fixed"  # corrected, waiting for staff to verify
    CLOSED = "closed"  # verified; the loop is closed
    WITHDRAWN = "withdrawn"  # ended without a fix (FixMyStreet's "closed: duplicate / not responsible")


class HazardAction(StrEnum):
    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    START_RECTIFICATION = "start_rectification"
    SUBMIT_RECTIFICATION = "submit_rectification"
    REPORT_FIXED_ON_SPOT = "report_fixed_on_spot"
    ACCEPT = "accept"
    REJECT = "reject"
    REOPEN = "reopen"
    CHANGE_DEADLINE = "change_deadline"
    ADD_EVIDENCE = "add_evidence"
    COMMENT = "comment"
    # The person responsible asks staff for more time (申请延期); staff approve it with CHANGE_DEADLINE. Recorded, it
    # changes neither the state nor the deadline.
    REQUEST_EXTENSION = "request_extension"
    WITHDRAW = "withdraw"


class Party(StrEnum):
    """Who may take an action, relative to the hazard (not a role: the same person can be several parties)."""

    STAFF = "staff"  # county staff or city admin whose region contains the hazard
    # The head of the hazard's institution (never for a sensitive area), or whoever staff named responsible; for a
    # sensitive hazard nobody is named for, the staff in scope.
    RECTIFIER = "rectifier"
    REPORTER = "reporter"
    VIEWER = "viewer"  # anyone `can_view` admits


class RefusalCode(StrEnum):
    """Why an action was refused; each maps to one localized message."""

    SENSITIVE_HIDDEN = "sensitive_hidden"
    NOT_IN_SCOPE = "not_in_scope"
    WRONG_ROLE = "wrong_role"
    NOT_REPORTER = "not_reporter"
    ALREADY_CLOSED = "already_closed"
    ILLEGAL_TRANSITION = "illegal_transition"
    REASON_REQUIRED = "reason_required"
    MEASURES_REQUIRED = "measures_required"
    # Measures that say nothing a verifier could check ("好", "ok", "已改"): text.says_enough_measures.
    MEASURES_TOO_SHORT = "measures_too_short"
    TEXT_REQUIRED = "text_required"
    PHOTO_REQUIRED = "photo_required"
    ASSIGNEE_REQUIRED = "assignee_required"
    DEADLINE_REQUIRED = "deadline_required"
    DEADLINE_IN_PAST = "deadline_in_past"
    REOPEN_WINDOW_PASSED = "reopen_window_passed"
    # The actor submitted the rectification awaiting verification: someone else must accept it (four eyes).
    SELF_VERIFICATION = "self_verification"
    # A verdict pressed on an earlier rectification than the one awaiting verification now (a stale button).
    EARLIER_RECTIFICATION = "earlier_rectification"
    # More time was asked for, but the date asked is not later than the deadline in force.
    DEADLINE_NOT_LATER = "deadline_not_later"
    # Staff withdrew the hazard (作废): nothing more is done on it but reinstating it (REOPEN) or a comment.
    WITHDRAWN = "withdrawn"
    # A comment on a hazard closed longer ago than it may be reopened: its record is final.
    COMMENT_WINDOW_PASSED = "comment_window_passed"
    # Its reporter may no longer take it back: a rectification was submitted (or staff reinstated it) since.
    WITHDRAW_TOO_LATE = "withdraw_too_late"


class DeadlineNeed(StrEnum):
    NONE = "none"
    NEW = "new"  # the action must set a new deadline
    NEW_OR_CURRENT = "new_or_current"  # a new one, or the one set at report time from the severity policy


@dataclass(frozen=True)
class ActionRule:
    party: Party
    # The refusal a blank `reason` earns, or None when the action carries no text.
    text: RefusalCode | None = None
    # What the text must say besides not being blank, and the refusal of a text that does not say it.
    says_enough: tuple[Callable[[str], bool], RefusalCode] | None = None
    min_photos: int = 0
    needs_assignee: bool = False
    deadline: DeadlineNeed = DeadlineNeed.NONE


_S = HazardState
_A = HazardAction

STATE_KINDS: Mapping[HazardState, StateKind] = MappingProxyType(
    {
        _S.REPORTED: StateKind.OPEN,
        _S.ASSIGNED: StateKind.OPEN,
        _S.RECTIFYING: StateKind.OPEN,
        _S.AWAITING_VERIFICATION: StateKind.FIXED,
        _S.CLOSED: StateKind.CLOSED,
        _S.WITHDRAWN: StateKind.WITHDRAWN,
    }
)

OPEN_STATES: frozenset[HazardState] = frozenset(s for s, k in STATE_KINDS.items() if k is StateKind.OPEN)
FIXED_STATES: frozenset[HazardState] = frozenset(s for s, k in STATE_KINDS.items() if k is StateKind.FIXED)
CLOSED_STATES: frozenset[HazardState] = frozenset(s for s, k in STATE_KINDS.items() if k is StateKind.CLOSED)
WITHDRAWN_STATES: frozenset[HazardState] = frozenset(
    s for s, k in STATE_KINDS.items() if k is StateKind.WITHDRAWN
)
# What "dynamic zeroing" counts down to zero: everything not yet verified and closed.
UNRESOLVED_STATES: frozenset[HazardState] = OPEN_STATES | FIXED_STATES

# (state, action) -> next state. A missing pair is refused; an action that only records something keeps the
# state.
TRANSITIONS: Mapping[tuple[HazardState, HazardAction], HazardState] = MappingProxyType(
    {
        # Reassigning sends the hazard back to "assigned": the new person responsible has to acknowledge it.
        (_S.REPORTED, _A.ASSIGN): _S.ASSIGNED,
        (_S.ASSIGNED, _A.ASSIGN): _S.ASSIGNED,
        (_S.RECTIFYING, _A.ASSIGN): _S.ASSIGNED,
        # A head told of a hazard not yet assigned acknowledges it without taking it on.
        (_S.REPORTED, _A.ACKNOWLEDGE): _S.REPORTED,
        (_S.ASSIGNED, _A.ACKNOWLEDGE): _S.RECTIFYING,
        (_S.RECTIFYING, _A.ACKNOWLEDGE): _S.RECTIFYING,
        # 马上改: a head need not wait for staff to assign what they found themselves.
        (_S.REPORTED, _A.START_RECTIFICATION): _S.RECTIFYING,
        (_S.ASSIGNED, _A.START_RECTIFICATION): _S.RECTIFYING,
        # Submitting from any open state spares a head who fixed it quickly the intermediate taps.
        (_S.REPORTED, _A.SUBMIT_RECTIFICATION): _S.AWAITING_VERIFICATION,
        (_S.ASSIGNED, _A.SUBMIT_RECTIFICATION): _S.AWAITING_VERIFICATION,
        (_S.RECTIFYING, _A.SUBMIT_RECTIFICATION): _S.AWAITING_VERIFICATION,
        # 立查立改 only makes sense before anyone else has taken the hazard on.
        (_S.REPORTED, _A.REPORT_FIXED_ON_SPOT): _S.AWAITING_VERIFICATION,
        (_S.AWAITING_VERIFICATION, _A.ACCEPT): _S.CLOSED,
        (_S.AWAITING_VERIFICATION, _A.REJECT): _S.RECTIFYING,
        (_S.CLOSED, _A.REOPEN): _S.RECTIFYING,
        (_S.REPORTED, _A.CHANGE_DEADLINE): _S.REPORTED,
        (_S.ASSIGNED, _A.CHANGE_DEADLINE): _S.ASSIGNED,
        (_S.RECTIFYING, _A.CHANGE_DEADLINE): _S.RECTIFYING,
        (_S.AWAITING_VERIFICATION, _A.CHANGE_DEADLINE): _S.AWAITING_VERIFICATION,
        (_S.REPORTED, _A.ADD_EVIDENCE): _S.REPORTED,
        (_S.ASSIGNED, _A.ADD_EVIDENCE): _S.ASSIGNED,
        (_S.RECTIFYING, _A.ADD_EVIDENCE): _S.RECTIFYING,
        (_S.AWAITING_VERIFICATION, _A.ADD_EVIDENCE): _S.AWAITING_VERIFICATION,
        # Comments stay possible after closing, within COMMENT_WINDOW: follow-up remarks belong on its record.
        (_S.REPORTED, _A.COMMENT): _S.REPORTED,
        (_S.ASSIGNED, _A.COMMENT): _S.ASSIGNED,
        (_S.RECTIFYING, _A.COMMENT): _S.RECTIFYING,
        (_S.AWAITING_VERIFICATION, _A.COMMENT): _S.AWAITING_VERIFICATION,
        (_S.CLOSED, _A.COMMENT): _S.CLOSED,
        # More time is asked for while the hazard is still to be corrected; once submitted, the wait is staff's.
        (_S.REPORTED, _A.REQUEST_EXTENSION): _S.REPORTED,
        (_S.ASSIGNED, _A.REQUEST_EXTENSION): _S.ASSIGNED,
        (_S.RECTIFYING, _A.REQUEST_EXTENSION): _S.RECTIFYING,
        # Withdrawing (作废) ends an unresolved hazard that will never be fixed; staff may reinstate it as they reopen
        # a closed one, within the same window (REOPEN_WINDOW, from the withdrawal).
        **{(state, _A.WITHDRAW): _S.WITHDRAWN for state in (_S.REPORTED, _S.ASSIGNED, _S.RECTIFYING,
                                                              _S.AWAITING_VERIFICATION)},
        (_S.WITHDRAWN, _A.REOPEN): _S.RECTIFYING,
        (_S.WITHDRAWN, _A.COMMENT): _S.WITHDRAWN,
    }
)

ACTION_RULES: Mapping[HazardAction, ActionRule] = MappingProxyType(
    {
        _A.ASSIGN: ActionRule(Party.STAFF, needs_assignee=True, deadline=DeadlineNeed.NEW_OR_CURRENT),
        _A.ACKNOWLEDGE: ActionRule(Party.RECTIFIER),
        _A.START_RECTIFICATION: ActionRule(Party.RECTIFIER),
        # The measures' minimum is the rule's, not the chat's: every way of submitting (a kept draft's 完成 too)
        # meets it.
        _A.SUBMIT_RECTIFICATION: ActionRule(
            Party.RECTIFIER, text=RefusalCode.MEASURES_REQUIRED, min_photos=1,
            says_enough=(says_enough_measures, RefusalCode.MEASURES_TOO_SHORT),
        ),
        _A.REPORT_FIXED_ON_SPOT: ActionRule(Party.REPORTER, min_photos=1),
        _A.ACCEPT: ActionRule(Party.STAFF),
        _A.REJECT: ActionRule(Party.STAFF, text=RefusalCode.REASON_REQUIRED),
        # A reopened hazard starts a new round of correction: the caller gives the deadline its severity allows from
        # the moment of reopening (deadlines.deadline_for), never the old one, which has usually passed long ago and
        # would make the hazard overdue, and escalate, the instant it reopens.
        _A.REOPEN: ActionRule(Party.STAFF, text=RefusalCode.REASON_REQUIRED, deadline=DeadlineNeed.NEW),
        _A.CHANGE_DEADLINE: ActionRule(
            Party.STAFF, text=RefusalCode.REASON_REQUIRED, deadline=DeadlineNeed.NEW
        ),
        _A.ADD_EVIDENCE: ActionRule(Party.VIEWER, min_photos=1),
        _A.COMMENT: ActionRule(Party.VIEWER, text=RefusalCode.TEXT_REQUIRED),
        # Staff in scope never ask: they change the deadline themselves (see `_gate`).
        _A.REQUEST_EXTENSION: ActionRule(Party.RECTIFIER, text=RefusalCode.REASON_REQUIRED, deadline=DeadlineNeed.NEW),
        # Staff in scope, any unresolved hazard; besides them its reporter, until someone works on it (see `_gate`).
        _A.WITHDRAW: ActionRule(Party.STAFF, text=RefusalCode.REASON_REQUIRED),
    }
)


@dataclass(frozen=True)
class Actor:
    telegram_id: int
    role: Role
    region_code: str | None
    institution_id: int | None


@dataclass(frozen=True)
class HazardFacts:
    state: HazardState
    region_code: str
    institution_id: int
    reporter_id: int
    area: HazardArea
    deadline: datetime | None
    assignee_id: int | None
    # When the rectification now awaiting (or past) verification was submitted; judges on-time at acceptance.
    fixed_at: datetime | None = None
    # Who submitted that rectification (or reported the hazard fixed on the spot): they may not accept it.
    fixed_by: int | None = None
    # When it was verified and closed, or withdrawn; how long ago decides whether it may still be reopened.
    closed_at: datetime | None = None
    # Who follows it besides its reporter (they added their own report of it): they see it as its reporter does.
    followers: frozenset[int] = frozenset()
    # Whether anyone has worked on it: a rectification submitted in any round (since sent back or not), or staff
    # reinstating it. From then on its reporter may no longer withdraw it (`withdraws_as_reporter`). Read from the
    # history, which the hazard's row does not carry: the service gives it where a withdrawal is decided.
    worked_on: bool = False

    def follows(self, person_id: int) -> bool:
        """Whether this person reported it or follows it: who sees it, and hears of it, as its reporter."""
        return person_id == self.reporter_id or person_id in self.followers


@dataclass(frozen=True)
class Allowed:
    previous_state: HazardState
    next_state: HazardState
    # Set by submit / fix-on-the-spot / accept when there is a deadline; otherwise None.
    on_time: bool | None
    # The deadline and person responsible in force after the action, so the caller can write both back as is.
    deadline: datetime | None
    assignee_id: int | None

    @property
    def state_changed(self) -> bool:
        return self.previous_state is not self.next_state


@dataclass(frozen=True)
class Refused:
    reason_code: RefusalCode


Decision = Allowed | Refused

# The actions that verify a fix as done, which its fixer may not take (four eyes). Not REJECT: sending one's own fix
# back for more work is harmless, and lets staff withdraw a rectification they submitted too soon.
VERIFYING_ACTIONS: frozenset[HazardAction] = frozenset({HazardAction.ACCEPT})
# The verdicts on a rectification, which must be given on the one awaiting verification, not an earlier one.
VERDICTS: frozenset[HazardAction] = frozenset({HazardAction.ACCEPT, HazardAction.REJECT})

# The history entries after which a hazard has been worked on (HazardFacts.worked_on): a rectification submitted,
# or staff reinstating it.
WORK_ACTIONS: frozenset[str] = frozenset(
    {HazardAction.SUBMIT_RECTIFICATION.value, HazardAction.REPORT_FIXED_ON_SPOT.value, HazardAction.REOPEN.value}
)

# How long after closing staff may reopen a hazard. A problem that comes back later is a new hazard, reported anew:
# reopening one closed in an earlier quarter or year would rewrite statistics, rankings and notices (通报) already
# published from it.
REOPEN_WINDOW = timedelta(days=90)

# How long a closed hazard stays in its reporter's list (/mine) after closing: as long as staff may still reopen it,
# so the reporter can follow each hazard until its outcome is final. Older ones are counted, and open by code.
REPORTER_CLOSED_WINDOW = REOPEN_WINDOW

# How long after closing a hazard still takes comments: while it may be reopened, a remark ("the exit is blocked
# again") may lead somewhere. Later its record is final, like the statistics published from it; a problem that is
# back is reported anew.
COMMENT_WINDOW = REOPEN_WINDOW


def state_kind(state: HazardState) -> StateKind:
    return STATE_KINDS[state]


def takes(state: HazardState, action: HazardAction) -> bool:
    """Whether a hazard in `state` can still move by `action` at all, whoever asks: a kept rectification draft for a
    hazard that no longer takes a fix (a colleague submitted it, staff withdrew it) has nothing left to submit."""
    return (state, action) in TRANSITIONS


def is_overdue(deadline: datetime | None, state: HazardState, now: datetime) -> bool:
    """Derived on every read, never stored, so that a changed deadline or clock can never leave a stale flag.

    Only open hazards can be overdue. Once the rectification is submitted, the wait for verification is
    staff's delay, not the institution's; counting it would blame heads for county backlogs. A rejection
    sends the hazard back and, past the deadline, makes it overdue again. Reopening a closed hazard does not: it
    gives a fresh deadline (see ACTION_RULES). The deadline instant itself is still on time.
    """
    _require_aware(now, "now")
    if deadline is None or state not in OPEN_STATES:
        return False
    return now > deadline


def days_late(deadline: datetime, now: datetime) -> int:
    """Whole days past a deadline, and 1 from the first minute late ("逾期 1 天", never "逾期 0 天"), so every
    place that counts an overdue hazard's days counts them alike. For a deadline already passed."""
    return max(1, (now - deadline).days)


def visible_to_groups(area: HazardArea) -> bool:
    """Whether a hazard in this area may be posted in a bureau group (broadcasts, digests)."""
    return not is_sensitive(area)


def can_view(facts: HazardFacts, actor: Actor) -> bool:
    if actor.role is Role.CITY:
        return True
    if facts.follows(actor.telegram_id) or actor.telegram_id == facts.assignee_id:
        return True
    if _staff_in_scope(actor, facts.region_code):
        return True
    return _is_own_head(facts, actor) and not is_sensitive(facts.area)


def available_actions(
    facts: HazardFacts, actor: Actor, *, now: datetime, four_eyes_waived: bool = False
) -> tuple[HazardAction, ...]:
    """The actions worth offering as buttons: who and when permit them; what they need is asked for later."""
    _require_aware(now, "now")
    return tuple(
        a for a in HazardAction if not isinstance(_gate(facts, actor, a, now, four_eyes_waived), RefusalCode)
    )


def may_verify(facts: HazardFacts, actor: Actor, *, now: datetime, four_eyes_waived: bool = False) -> bool:
    """Whether the person may accept the rectification awaiting verification now."""
    _require_aware(now, "now")
    return not isinstance(_gate(facts, actor, HazardAction.ACCEPT, now, four_eyes_waived), RefusalCode)


def decide(
    facts: HazardFacts,
    actor: Actor,
    action: HazardAction,
    *,
    reason: str | None = None,
    photo_count: int = 0,
    now: datetime,
    deadline: datetime | None = None,
    assignee_id: int | None = None,
    four_eyes_waived: bool = False,
    shown_current: bool = True,
) -> Decision:
    """Whether `actor` may take `action` on the hazard now, and what follows.

    `reason` is the free text the action carries: the reason for reject / reopen / change_deadline, the
    measures taken for submit_rectification, the comment itself. `deadline` is the new deadline (assign,
    change_deadline); `assignee_id` the person responsible (assign). `four_eyes_waived`: the fixer may accept their
    own rectification, because nobody else may (the caller's to establish, see the module docstring).
    `shown_current`: for a verdict, whether the person was shown the rectification awaiting verification now (False:
    an earlier one, since sent back and submitted anew). A user's
    mistake is a Refused, never an exception; only a naive datetime, which is a programming error, raises.
    """
    _require_aware(now, "now")
    if deadline is not None:
        _require_aware(deadline, "deadline")

    gate = _gate(facts, actor, action, now, four_eyes_waived, shown_current)
    if isinstance(gate, RefusalCode):
        return Refused(gate)
    next_state = gate
    rule = ACTION_RULES[action]

    if rule.text is not None and not (reason and reason.strip()):
        return Refused(rule.text)
    if rule.says_enough is not None and not rule.says_enough[0](reason or ""):
        return Refused(rule.says_enough[1])
    if photo_count < rule.min_photos:
        return Refused(RefusalCode.PHOTO_REQUIRED)
    if rule.needs_assignee and assignee_id is None:
        return Refused(RefusalCode.ASSIGNEE_REQUIRED)

    new_deadline = facts.deadline
    if rule.deadline is not DeadlineNeed.NONE:
        if deadline is None and (rule.deadline is DeadlineNeed.NEW or facts.deadline is None):
            return Refused(RefusalCode.DEADLINE_REQUIRED)
        if deadline is not None:
            if deadline <= now:
                return Refused(RefusalCode.DEADLINE_IN_PAST)
            if action is HazardAction.REQUEST_EXTENSION:
                # Asking changes nothing yet: the deadline stays until staff approve.
                if facts.deadline is not None and deadline <= facts.deadline:
                    return Refused(RefusalCode.DEADLINE_NOT_LATER)
                deadline = facts.deadline
            new_deadline = deadline

    return Allowed(
        previous_state=facts.state,
        next_state=next_state,
        on_time=_on_time(facts, action, now),
        deadline=new_deadline,
        assignee_id=assignee_id if rule.needs_assignee else facts.assignee_id,
    )


def _gate(
    facts: HazardFacts,
    actor: Actor,
    action: HazardAction,
    now: datetime,
    four_eyes_waived: bool = False,
    shown_current: bool = True,
) -> HazardState | RefusalCode:
    """Steps 1-4 of the order in the module docstring: everything but the action's inputs."""
    if not can_view(facts, actor):
        if _is_own_head(facts, actor) and is_sensitive(facts.area):
            return RefusalCode.SENSITIVE_HIDDEN
        return RefusalCode.NOT_IN_SCOPE

    if action is HazardAction.WITHDRAW and withdraws_as_reporter(facts, actor):
        return _reporter_withdrawal(facts)
    party_refusal = _party_refusal(facts, actor, ACTION_RULES[action].party)
    if party_refusal is not None:
        return party_refusal
    if action is HazardAction.REQUEST_EXTENSION and _party_refusal(facts, actor, Party.STAFF) is None:
        return RefusalCode.WRONG_ROLE  # staff who may change the deadline have no one to ask

    next_state = TRANSITIONS.get((facts.state, action))
    if next_state is None:
        if facts.state in CLOSED_STATES:
            return RefusalCode.ALREADY_CLOSED
        if facts.state in WITHDRAWN_STATES:
            return RefusalCode.WITHDRAWN
        return RefusalCode.ILLEGAL_TRANSITION
    if action is HazardAction.REOPEN and facts.closed_at is not None and now - facts.closed_at > REOPEN_WINDOW:
        return RefusalCode.REOPEN_WINDOW_PASSED
    if action is HazardAction.COMMENT and _closed_longer_than(facts, COMMENT_WINDOW, now):
        return RefusalCode.COMMENT_WINDOW_PASSED
    if action in VERDICTS and not shown_current:
        return RefusalCode.EARLIER_RECTIFICATION
    own_fix = facts.fixed_by is not None and actor.telegram_id == facts.fixed_by
    if action in VERIFYING_ACTIONS and own_fix and not four_eyes_waived:
        return RefusalCode.SELF_VERIFICATION
    return next_state


def withdraws_as_reporter(facts: HazardFacts, actor: Actor) -> bool:
    """Whether the person would withdraw the hazard as its reporter (撤回上报), not as staff: they reported it and are
    not staff in its scope (who withdraw anything unresolved). Its followers never do: what they added is theirs,
    the report is not."""
    return actor.telegram_id == facts.reporter_id and _party_refusal(facts, actor, Party.STAFF) is not None


def _reporter_withdrawal(facts: HazardFacts) -> HazardState | RefusalCode:
    """Its reporter takes a report back while nobody has worked on it: unresolved, no rectification submitted in
    any round, never reinstated by staff. After that the county decides (Withdraw), and the reporter says what they
    know with a comment."""
    if facts.state in CLOSED_STATES:
        return RefusalCode.ALREADY_CLOSED
    if facts.state in WITHDRAWN_STATES:
        return RefusalCode.WITHDRAWN
    if facts.state not in OPEN_STATES or facts.worked_on or facts.fixed_at is not None:
        return RefusalCode.WITHDRAW_TOO_LATE
    return TRANSITIONS[(facts.state, HazardAction.WITHDRAW)]


def _party_refusal(facts: HazardFacts, actor: Actor, party: Party) -> RefusalCode | None:
    if party is Party.VIEWER:
        return None  # `_gate` has already checked visibility
    if party is Party.REPORTER:
        return None if actor.telegram_id == facts.reporter_id else RefusalCode.NOT_REPORTER
    if party is Party.STAFF:
        if actor.role not in STAFF_ROLES:
            return RefusalCode.WRONG_ROLE
        return None if _staff_in_scope(actor, facts.region_code) else RefusalCode.NOT_IN_SCOPE
    # Party.RECTIFIER. Naming someone responsible is staff's deliberate choice, so the assignee passes whatever
    # their role.
    if facts.assignee_id is not None and actor.telegram_id == facts.assignee_id:
        return None
    if is_sensitive(facts.area) and facts.assignee_id is None and _staff_in_scope(actor, facts.region_code):
        # Nobody at the institution may take a sensitive hazard on: until someone is named responsible, the county
        # deals with it directly (DOMAIN.md: restricted visibility), or it could never be rectified and closed.
        return None
    if actor.role is not Role.HEAD:
        return RefusalCode.WRONG_ROLE
    if actor.institution_id != facts.institution_id:
        return RefusalCode.NOT_IN_SCOPE
    if is_sensitive(facts.area):
        # Reached only by a head who reported a sensitive hazard at their own institution: seeing it as its
        # reporter does not make them the one who deals with it.
        return RefusalCode.SENSITIVE_HIDDEN
    return None


def _closed_longer_than(facts: HazardFacts, window: timedelta, now: datetime) -> bool:
    """Ended (closed, or withdrawn: `closed_at` is when its loop ended either way) longer ago than `window`."""
    ended = facts.state in CLOSED_STATES or facts.state in WITHDRAWN_STATES
    return ended and facts.closed_at is not None and now - facts.closed_at > window


def _staff_in_scope(actor: Actor, region_code: str) -> bool:
    if actor.role is Role.CITY:
        return region_in_scope(actor.region_code, region_code)
    # For county staff a missing region is a misconfigured account; region_in_scope would read it as the whole
    # city, so it fails closed here instead.
    if actor.role is Role.COUNTY:
        return actor.region_code is not None and region_in_scope(actor.region_code, region_code)
    return False


def corrects_it(facts: HazardFacts, actor: Actor) -> bool:
    """Whether the actor is the one correcting the hazard: named responsible, or a head of its institution for a
    hazard that is not sensitive (heads never deal with those, even one they reported themselves)."""
    if actor.telegram_id == facts.assignee_id:
        return True
    return _is_own_head(facts, actor) and not is_sensitive(facts.area)


def _is_own_head(facts: HazardFacts, actor: Actor) -> bool:
    return actor.role is Role.HEAD and actor.institution_id == facts.institution_id


def _on_time(facts: HazardFacts, action: HazardAction, now: datetime) -> bool | None:
    if facts.deadline is None:
        return None
    if action in (HazardAction.SUBMIT_RECTIFICATION, HazardAction.REPORT_FIXED_ON_SPOT):
        return now <= facts.deadline
    if action is HazardAction.ACCEPT:
        # Judged when the fix was submitted: time spent waiting for verification is not the institution's.
        return (facts.fixed_at or now) <= facts.deadline
    return None


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
