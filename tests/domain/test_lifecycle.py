"""The hazard lifecycle, checked against an expected table written here from the issue, not from the code.

Every state x every action x every kind of person (in and out of scope, own and other institution, reporter,
assignee), for a regular and a sensitive area, with and without a named assignee, and with the rectification
submitted by someone else or by the person acting (four eyes: its fixer may not accept it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import (
    CLOSED_STATES,
    COMMENT_WINDOW,
    FIXED_STATES,
    OPEN_STATES,
    REOPEN_WINDOW,
    UNRESOLVED_STATES,
    Actor,
    Allowed,
    HazardAction,
    HazardFacts,
    HazardState,
    RefusalCode,
    Refused,
    StateKind,
    available_actions,
    can_view,
    days_late,
    decide,
    is_overdue,
    may_verify,
    state_kind,
    visible_to_groups,
    withdraws_as_reporter,
)
from bot.domain.roles import Role

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)
# A new deadline later than any a hazard here has: what a deadline change sets, and what an extension asks for.
ASKED = LATER + timedelta(days=5)
# The free text an action carries, where a test is not about it: enough for every action, measures included.
TEXT = "已清理走廊杂物"
HAZARD_REGION = "330302001"  # a street in 鹿城区 (330302), in 温州市 (330300)
INSTITUTION = 10
OTHER_INSTITUTION = 11
REPORTER = 500
ASSIGNEE = 600
NEW_ASSIGNEE = 700

# Rows: action; columns: the state it is taken in; cells: the next state, or "-" when the pair is illegal.
# "awaiting" stands for awaiting_verification, to keep the columns narrow.
EXPECTED_GRID = """
action                reported    assigned    rectifying  awaiting    closed      withdrawn
assign                assigned    assigned    assigned    -           -           -
acknowledge           reported    rectifying  rectifying  -           -           -
start_rectification   rectifying  rectifying  -           -           -           -
submit_rectification  awaiting    awaiting    awaiting    -           -           -
report_fixed_on_spot  awaiting    -           -           -           -           -
accept                -           -           -           closed      -           -
reject                -           -           -           rectifying  -           -
reopen                -           -           -           -           rectifying  rectifying
change_deadline       reported    assigned    rectifying  awaiting    -           -
add_evidence          reported    assigned    rectifying  awaiting    -           -
comment               reported    assigned    rectifying  awaiting    closed      withdrawn
withdraw              withdrawn   withdrawn   withdrawn   withdrawn   -           -
request_extension     reported    assigned    rectifying  -           -           -
"""

# staff: county staff / city admin in scope. rectifier: head of own institution (not sensitive) or the
# assignee; for a sensitive hazard with no assignee, staff in scope. reporter: the person who reported it.
# viewer: anyone who may see the hazard.
WHO = {
    "assign": "staff",
    "acknowledge": "rectifier",
    "start_rectification": "rectifier",
    "submit_rectification": "rectifier",
    "report_fixed_on_spot": "reporter",
    "accept": "staff",
    "reject": "staff",
    "reopen": "staff",
    "change_deadline": "staff",
    "add_evidence": "viewer",
    "comment": "viewer",
    # The person correcting it, unless they are staff in scope, who change the deadline rather than ask for it.
    "request_extension": "rectifier_not_staff",
    # Staff in scope; besides them its reporter, until someone works on it (see `expected_outcome`).
    "withdraw": "staff_or_reporter",
}


def _parse_grid(text: str) -> dict[tuple[str, str], str | None]:
    def full(name: str) -> str:
        return "awaiting_verification" if name == "awaiting" else name

    lines = [[full(word) for word in line.split()] for line in text.strip().splitlines()]
    states = lines[0][1:]
    grid: dict[tuple[str, str], str | None] = {}
    for action, *cells in lines[1:]:
        assert len(cells) == len(states)
        for state, cell in zip(states, cells, strict=True):
            grid[(state, action)] = None if cell == "-" else cell
    return grid


GRID = _parse_grid(EXPECTED_GRID)


@dataclass(frozen=True)
class Profile:
    name: str
    actor: Actor
    staff_in_scope: bool  # stated by hand for each profile rather than computed


PROFILES = [
    Profile("city_unscoped", Actor(1, Role.CITY, None, None), True),
    Profile("city_wenzhou", Actor(2, Role.CITY, "330300", None), True),
    Profile("city_elsewhere", Actor(3, Role.CITY, "330400", None), False),
    Profile("county_in", Actor(4, Role.COUNTY, "330302", None), True),
    Profile("county_township_in", Actor(5, Role.COUNTY, "330302001", None), True),
    Profile("county_out", Actor(6, Role.COUNTY, "330303", None), False),
    Profile("county_no_region", Actor(7, Role.COUNTY, None, None), False),
    Profile("head_own", Actor(8, Role.HEAD, None, INSTITUTION), False),
    Profile("head_other", Actor(9, Role.HEAD, None, OTHER_INSTITUTION), False),
    Profile("cadre", Actor(11, Role.CADRE, "330302001", None), False),
    Profile("reporter_cadre", Actor(REPORTER, Role.CADRE, "330302001", None), False),
    Profile("reporter_head_own", Actor(REPORTER, Role.HEAD, None, INSTITUTION), False),
    Profile("reporter_head_other", Actor(REPORTER, Role.HEAD, None, OTHER_INSTITUTION), False),
    Profile("reporter_county_in", Actor(REPORTER, Role.COUNTY, "330302", None), True),
    Profile("reporter_county_out", Actor(REPORTER, Role.COUNTY, "330303", None), False),
    Profile("assignee_cadre", Actor(ASSIGNEE, Role.CADRE, None, None), False),
    Profile("assignee_head_own", Actor(ASSIGNEE, Role.HEAD, None, INSTITUTION), False),
    Profile("assignee_head_other", Actor(ASSIGNEE, Role.HEAD, None, OTHER_INSTITUTION), False),
    Profile("assignee_county_out", Actor(ASSIGNEE, Role.COUNTY, "330303", None), False),
]

AREAS = [HazardArea.FIRE, HazardArea.RIGHTS]
ASSIGNEES = [None, ASSIGNEE]


def facts(
    state: str | HazardState = HazardState.REPORTED,
    area: HazardArea = HazardArea.FIRE,
    assignee: int | None = None,
    deadline: datetime | None = LATER,
    fixed_at: datetime | None = None,
    closed_at: datetime | None = None,
    fixed_by: int | None = None,
) -> HazardFacts:
    return HazardFacts(
        state=HazardState(state),
        region_code=HAZARD_REGION,
        institution_id=INSTITUTION,
        reporter_id=REPORTER,
        area=area,
        deadline=deadline,
        assignee_id=assignee,
        fixed_at=fixed_at,
        fixed_by=fixed_by,
        closed_at=closed_at,
    )


def expected_visible(p: Profile, sensitive: bool, assignee: int | None) -> bool:
    a = p.actor
    own_head = a.role is Role.HEAD and a.institution_id == INSTITUTION
    return (
        a.role is Role.CITY
        or a.telegram_id == REPORTER
        or (assignee is not None and a.telegram_id == assignee)
        or p.staff_in_scope
        or (own_head and not sensitive)
    )


def expected_outcome(
    p: Profile, state: str, action: str, sensitive: bool, assignee: int | None, own_fix: bool = False
) -> str:
    """The next state's name, or the refusal code's name, for an actor who supplied every input. `own_fix`: the
    actor is the one who submitted the rectification (four eyes: they may reject it, never accept it)."""
    a = p.actor
    own_head = a.role is Role.HEAD and a.institution_id == INSTITUTION
    if not expected_visible(p, sensitive, assignee):
        return "SENSITIVE_HIDDEN" if own_head and sensitive else "NOT_IN_SCOPE"
    who = WHO[action]
    if who == "staff_or_reporter" and a.telegram_id == REPORTER and not p.staff_in_scope:
        # The reporter takes their report back while it is open and nobody has worked on it (the grid's facts carry
        # no submitted rectification: only a hazard awaiting verification, closed or withdrawn is past that).
        if state == "withdrawn":
            return "WITHDRAWN"
        if state == "closed":
            return "ALREADY_CLOSED"
        return "WITHDRAW_TOO_LATE" if state == "awaiting_verification" else "withdrawn"
    if who in ("staff", "staff_or_reporter"):
        if a.role not in (Role.COUNTY, Role.CITY):
            return "WRONG_ROLE"
        if not p.staff_in_scope:
            return "NOT_IN_SCOPE"
    elif who in ("rectifier", "rectifier_not_staff"):
        county_handles_it = sensitive and assignee is None and p.staff_in_scope
        if not (assignee is not None and a.telegram_id == assignee) and not county_handles_it:
            if a.role is not Role.HEAD:
                return "WRONG_ROLE"
            if a.institution_id != INSTITUTION:
                return "NOT_IN_SCOPE"
            if sensitive:
                return "SENSITIVE_HIDDEN"
        if who == "rectifier_not_staff" and p.staff_in_scope:
            return "WRONG_ROLE"
    elif who == "reporter" and a.telegram_id != REPORTER:
        return "NOT_REPORTER"
    nxt = GRID[(state, action)]
    if nxt is None:
        if state == "withdrawn":
            return "WITHDRAWN"
        return "ALREADY_CLOSED" if state == "closed" else "ILLEGAL_TRANSITION"
    if own_fix and action == "accept":
        return "SELF_VERIFICATION"
    return nxt


def full_inputs_decide(f: HazardFacts, actor: Actor, action: HazardAction) -> Allowed | Refused:
    return decide(
        f, actor, action, reason=TEXT, photo_count=1, now=NOW, deadline=ASKED, assignee_id=NEW_ASSIGNEE
    )


def outcome_name(d: Allowed | Refused) -> str:
    return d.next_state.value if isinstance(d, Allowed) else d.reason_code.name


STATES = ["reported", "assigned", "rectifying", "awaiting_verification", "closed", "withdrawn"]
ACTIONS = list(WHO)


def test_grid_and_enums_agree_on_names() -> None:
    assert [s.value for s in HazardState] == STATES
    assert {a.value for a in HazardAction} == set(ACTIONS)


@pytest.mark.parametrize("own_fix", [False, True], ids=["fixed_by_another", "fixed_by_actor"])
@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("assignee", ASSIGNEES)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_every_state_action_and_person(
    profile: Profile, assignee: int | None, area: HazardArea, own_fix: bool
) -> None:
    sensitive = area is HazardArea.RIGHTS
    fixer = profile.actor.telegram_id if own_fix else NEW_ASSIGNEE
    mismatches = []
    for state, action in product(STATES, ACTIONS):
        f = facts(state, area, assignee, fixed_by=fixer)
        decision = full_inputs_decide(f, profile.actor, HazardAction(action))
        want = expected_outcome(profile, state, action, sensitive, assignee, own_fix)
        if outcome_name(decision) != want:
            mismatches.append(f"{state} + {action}: got {outcome_name(decision)}, want {want}")
        if isinstance(decision, Allowed):
            assert decision.previous_state is HazardState(state)
            assert decision.state_changed == (decision.next_state.value != state)
        offered = HazardAction(action) in available_actions(f, profile.actor, now=NOW)
        assert offered == isinstance(decision, Allowed), (state, action)
    assert not mismatches, "\n".join(mismatches)


def test_the_matrix_reaches_every_outcome() -> None:
    # Guards the oracle itself: a table that refused everything would agree with a code that did too.
    seen: set[str] = set()
    for p, area, assignee, state, action, own in product(PROFILES, AREAS, ASSIGNEES, STATES, ACTIONS, [False, True]):
        seen.add(expected_outcome(p, state, action, area is HazardArea.RIGHTS, assignee, own))
    assert set(STATES) <= seen
    for code in (
        "SENSITIVE_HIDDEN",
        "NOT_IN_SCOPE",
        "WRONG_ROLE",
        "NOT_REPORTER",
        "ALREADY_CLOSED",
        "ILLEGAL_TRANSITION",
        "SELF_VERIFICATION",
    ):
        assert code in seen


@pytest.mark.parametrize(
    ("profile", "state", "action", "area", "assignee", "want"),
    [
        # Hand-worked examples, independent of both the grid parser and the oracle.
        ("county_in", "reported", "assign", HazardArea.FIRE, None, "assigned"),
        ("county_out", "reported", "assign", HazardArea.FIRE, None, "NOT_IN_SCOPE"),
        ("county_no_region", "reported", "assign", HazardArea.FIRE, None, "NOT_IN_SCOPE"),
        ("city_elsewhere", "reported", "assign", HazardArea.FIRE, None, "NOT_IN_SCOPE"),
        ("head_own", "assigned", "acknowledge", HazardArea.FIRE, ASSIGNEE, "rectifying"),
        ("head_own", "assigned", "acknowledge", HazardArea.RIGHTS, ASSIGNEE, "SENSITIVE_HIDDEN"),
        ("assignee_cadre", "assigned", "acknowledge", HazardArea.RIGHTS, ASSIGNEE, "rectifying"),
        ("head_other", "rectifying", "submit_rectification", HazardArea.FIRE, None, "NOT_IN_SCOPE"),
        ("reporter_head_other", "rectifying", "submit_rectification", HazardArea.FIRE, None, "NOT_IN_SCOPE"),
        (
            "reporter_head_own",
            "rectifying",
            "submit_rectification",
            HazardArea.RIGHTS,
            None,
            "SENSITIVE_HIDDEN",
        ),
        ("cadre", "reported", "comment", HazardArea.FIRE, None, "NOT_IN_SCOPE"),
        (
            "reporter_cadre",
            "reported",
            "report_fixed_on_spot",
            HazardArea.FIRE,
            None,
            "awaiting_verification",
        ),
        ("reporter_cadre", "assigned", "report_fixed_on_spot", HazardArea.FIRE, None, "ILLEGAL_TRANSITION"),
        ("county_in", "reported", "report_fixed_on_spot", HazardArea.FIRE, None, "NOT_REPORTER"),
        ("reporter_cadre", "awaiting_verification", "accept", HazardArea.FIRE, None, "WRONG_ROLE"),
        ("reporter_county_out", "awaiting_verification", "accept", HazardArea.FIRE, None, "NOT_IN_SCOPE"),
        ("city_unscoped", "awaiting_verification", "accept", HazardArea.RIGHTS, None, "closed"),
        ("county_in", "closed", "accept", HazardArea.FIRE, None, "ALREADY_CLOSED"),
        ("county_in", "closed", "reopen", HazardArea.FIRE, None, "rectifying"),
        ("county_in", "closed", "comment", HazardArea.FIRE, None, "closed"),
        ("county_in", "closed", "add_evidence", HazardArea.FIRE, None, "ALREADY_CLOSED"),
        ("county_in", "rectifying", "reopen", HazardArea.FIRE, None, "ILLEGAL_TRANSITION"),
        ("head_own", "closed", "reopen", HazardArea.FIRE, None, "WRONG_ROLE"),
        ("head_own", "rectifying", "start_rectification", HazardArea.FIRE, None, "ILLEGAL_TRANSITION"),
    ],
)
def test_hand_worked_examples(
    profile: str, state: str, action: str, area: HazardArea, assignee: int | None, want: str
) -> None:
    actor = next(p.actor for p in PROFILES if p.name == profile)
    assert outcome_name(full_inputs_decide(facts(state, area, assignee), actor, HazardAction(action))) == want


# --- four eyes: the fixer does not verify their own fix ------------------------------------------------

CITY = next(p.actor for p in PROFILES if p.name == "city_wenzhou")
COUNTY_CLERK = next(p.actor for p in PROFILES if p.name == "county_in")
SECOND_CLERK = next(p.actor for p in PROFILES if p.name == "county_township_in")
REPORTER_CLERK = next(p.actor for p in PROFILES if p.name == "reporter_county_in")


@pytest.mark.parametrize(
    ("fixer", "actor", "action", "assignee", "want"),
    [
        # A rights-protection hazard nobody is named for: the county clerk rectified it.
        (COUNTY_CLERK, COUNTY_CLERK, "accept", None, "SELF_VERIFICATION"),
        (COUNTY_CLERK, COUNTY_CLERK, "reject", None, "rectifying"),  # withdrawing one's own fix is harmless
        (COUNTY_CLERK, SECOND_CLERK, "accept", None, "closed"),
        (COUNTY_CLERK, CITY, "accept", None, "closed"),
        # Assign named the clerk responsible.
        (COUNTY_CLERK, COUNTY_CLERK, "accept", COUNTY_CLERK.telegram_id, "SELF_VERIFICATION"),
        (COUNTY_CLERK, SECOND_CLERK, "accept", COUNTY_CLERK.telegram_id, "closed"),
        # A city admin who rectified it is no more their own verifier.
        (CITY, CITY, "accept", CITY.telegram_id, "SELF_VERIFICATION"),
        (CITY, COUNTY_CLERK, "accept", CITY.telegram_id, "closed"),
        # 立查立改: the clerk who reported it fixed on the spot.
        (REPORTER_CLERK, REPORTER_CLERK, "accept", None, "SELF_VERIFICATION"),
        (REPORTER_CLERK, COUNTY_CLERK, "accept", None, "closed"),
    ],
)
def test_the_fixer_may_not_accept_their_own_rectification(
    fixer: Actor, actor: Actor, action: str, assignee: int | None, want: str
) -> None:
    f = facts("awaiting_verification", HazardArea.RIGHTS, assignee, fixed_at=NOW, fixed_by=fixer.telegram_id)
    assert outcome_name(full_inputs_decide(f, actor, HazardAction(action))) == want
    offered = available_actions(f, actor, now=NOW)
    assert (HazardAction(action) in offered) == (want != "SELF_VERIFICATION")


def test_the_fixer_is_offered_reject_but_not_accept() -> None:
    f = facts("awaiting_verification", HazardArea.RIGHTS, fixed_at=NOW, fixed_by=COUNTY_CLERK.telegram_id)
    offered = available_actions(f, COUNTY_CLERK, now=NOW)
    assert HazardAction.ACCEPT not in offered
    assert HazardAction.REJECT in offered
    assert HazardAction.ACCEPT in available_actions(f, SECOND_CLERK, now=NOW)


def test_four_eyes_waived_lets_the_fixer_accept_but_nobody_outside_the_rule() -> None:
    """The service waives four eyes only when nobody else may verify; waived, the fixer may accept, and nothing else
    about who may act changes: a head who fixed it still may not verify, an outsider still learns nothing."""
    f = facts("awaiting_verification", HazardArea.RIGHTS, fixed_at=NOW, fixed_by=COUNTY_CLERK.telegram_id)
    assert not may_verify(f, COUNTY_CLERK, now=NOW)
    assert may_verify(f, COUNTY_CLERK, now=NOW, four_eyes_waived=True)
    assert outcome_name(decide(f, COUNTY_CLERK, HazardAction.ACCEPT, now=NOW, four_eyes_waived=True)) == "closed"
    assert HazardAction.ACCEPT in available_actions(f, COUNTY_CLERK, now=NOW, four_eyes_waived=True)
    head = next(p.actor for p in PROFILES if p.name == "head_own")
    by_head = facts("awaiting_verification", fixed_at=NOW, fixed_by=head.telegram_id)
    assert decide(by_head, head, HazardAction.ACCEPT, now=NOW, four_eyes_waived=True) == Refused(RefusalCode.WRONG_ROLE)
    county_out = next(p.actor for p in PROFILES if p.name == "county_out")
    assert not may_verify(f, county_out, now=NOW, four_eyes_waived=True)


def test_four_eyes_speaks_only_to_a_fix_awaiting_verification() -> None:
    # A closed hazard is closed, whoever fixed it; an outsider learns nothing, not even who fixed it.
    closed = facts("closed", HazardArea.RIGHTS, fixed_at=NOW, fixed_by=COUNTY_CLERK.telegram_id, closed_at=NOW)
    assert full_inputs_decide(closed, COUNTY_CLERK, HazardAction.ACCEPT) == Refused(RefusalCode.ALREADY_CLOSED)
    county_out = next(p.actor for p in PROFILES if p.name == "county_out")
    awaiting = facts("awaiting_verification", fixed_at=NOW, fixed_by=county_out.telegram_id)
    assert full_inputs_decide(awaiting, county_out, HazardAction.ACCEPT) == Refused(RefusalCode.NOT_IN_SCOPE)


def test_a_verdict_on_an_earlier_rectification_is_refused_before_four_eyes_and_after_scope() -> None:
    """Accept or Reject pressed on a rectification since sent back and submitted anew: a stale button, not a forged
    one, so it is refused as earlier even for the fixer of the latest; an outsider still learns nothing."""
    f = facts("awaiting_verification", HazardArea.RIGHTS, fixed_at=NOW, fixed_by=COUNTY_CLERK.telegram_id)
    earlier = Refused(RefusalCode.EARLIER_RECTIFICATION)
    for actor in (SECOND_CLERK, CITY, COUNTY_CLERK):
        for action in (HazardAction.ACCEPT, HazardAction.REJECT):
            assert decide(f, actor, action, reason="照片不清", now=NOW, shown_current=False) == earlier
    county_out = next(p.actor for p in PROFILES if p.name == "county_out")
    assert decide(f, county_out, HazardAction.ACCEPT, now=NOW, shown_current=False) == Refused(
        RefusalCode.NOT_IN_SCOPE)
    rectifying = facts("rectifying", HazardArea.RIGHTS)
    assert decide(rectifying, SECOND_CLERK, HazardAction.ACCEPT, now=NOW, shown_current=False) == Refused(
        RefusalCode.ILLEGAL_TRANSITION)
    # Only the verdicts name a rectification: nothing else is refused so.
    assert outcome_name(decide(f, SECOND_CLERK, HazardAction.COMMENT, reason="好", now=NOW,
                               shown_current=False)) == "awaiting_verification"


# --- what each action needs -----------------------------------------------------------------------

COUNTY = next(p.actor for p in PROFILES if p.name == "county_in")
HEAD = next(p.actor for p in PROFILES if p.name == "head_own")
REPORTER_CADRE = next(p.actor for p in PROFILES if p.name == "reporter_cadre")

# A capable actor and a state in which each action is legal.
CAPABLE = {
    HazardAction.ASSIGN: (COUNTY, "reported"),
    HazardAction.ACKNOWLEDGE: (HEAD, "assigned"),
    HazardAction.START_RECTIFICATION: (HEAD, "assigned"),
    HazardAction.SUBMIT_RECTIFICATION: (HEAD, "rectifying"),
    HazardAction.REPORT_FIXED_ON_SPOT: (REPORTER_CADRE, "reported"),
    HazardAction.ACCEPT: (COUNTY, "awaiting_verification"),
    HazardAction.REJECT: (COUNTY, "awaiting_verification"),
    HazardAction.REOPEN: (COUNTY, "closed"),
    HazardAction.CHANGE_DEADLINE: (COUNTY, "rectifying"),
    HazardAction.ADD_EVIDENCE: (HEAD, "rectifying"),
    HazardAction.COMMENT: (REPORTER_CADRE, "closed"),
    HazardAction.REQUEST_EXTENSION: (HEAD, "rectifying"),
    HazardAction.WITHDRAW: (COUNTY, "assigned"),
}

TEXT_NEEDED = {
    HazardAction.SUBMIT_RECTIFICATION: RefusalCode.MEASURES_REQUIRED,
    HazardAction.REJECT: RefusalCode.REASON_REQUIRED,
    HazardAction.REOPEN: RefusalCode.REASON_REQUIRED,
    HazardAction.CHANGE_DEADLINE: RefusalCode.REASON_REQUIRED,
    HazardAction.COMMENT: RefusalCode.TEXT_REQUIRED,
    HazardAction.REQUEST_EXTENSION: RefusalCode.REASON_REQUIRED,
    HazardAction.WITHDRAW: RefusalCode.REASON_REQUIRED,
}
PHOTO_NEEDED = {
    HazardAction.SUBMIT_RECTIFICATION,
    HazardAction.REPORT_FIXED_ON_SPOT,
    HazardAction.ADD_EVIDENCE,
}


def test_capable_table_covers_every_action() -> None:
    assert set(CAPABLE) == set(HazardAction)


@pytest.mark.parametrize("action", list(HazardAction))
@pytest.mark.parametrize("text", [None, "", "   \n\t"])
def test_blank_text(action: HazardAction, text: str | None) -> None:
    actor, state = CAPABLE[action]
    d = decide(
        facts(state),
        actor,
        action,
        reason=text,
        photo_count=1,
        now=NOW,
        deadline=ASKED,
        assignee_id=NEW_ASSIGNEE,
    )
    if action in TEXT_NEEDED:
        assert d == Refused(TEXT_NEEDED[action])
    else:
        assert isinstance(d, Allowed)


@pytest.mark.parametrize("action", list(HazardAction))
def test_missing_photo(action: HazardAction) -> None:
    actor, state = CAPABLE[action]
    d = decide(
        facts(state),
        actor,
        action,
        reason=TEXT,
        photo_count=0,
        now=NOW,
        deadline=ASKED,
        assignee_id=NEW_ASSIGNEE,
    )
    if action in PHOTO_NEEDED:
        assert d == Refused(RefusalCode.PHOTO_REQUIRED)
    else:
        assert isinstance(d, Allowed)


def test_text_is_asked_for_before_photos() -> None:
    d = decide(facts("rectifying"), HEAD, HazardAction.SUBMIT_RECTIFICATION, now=NOW)
    assert d == Refused(RefusalCode.MEASURES_REQUIRED)


@pytest.mark.parametrize("measures", ["好", "ok", "done", "已改", "已清理", "\u200b好\u200b"])
def test_measures_too_short_to_verify_are_refused_whoever_submits_them(measures: str) -> None:
    d = decide(facts("rectifying"), HEAD, HazardAction.SUBMIT_RECTIFICATION, reason=measures, photo_count=1, now=NOW)
    assert d == Refused(RefusalCode.MEASURES_TOO_SHORT)
    enough = decide(facts("rectifying"), HEAD, HazardAction.SUBMIT_RECTIFICATION, reason="已清理杂物", photo_count=1,
                    now=NOW)
    assert isinstance(enough, Allowed)


def test_inputs_are_not_examined_for_an_illegal_pair() -> None:
    d = decide(facts("reported"), COUNTY, HazardAction.REJECT, now=NOW)
    assert d == Refused(RefusalCode.ILLEGAL_TRANSITION)


def test_assign_names_a_person_responsible() -> None:
    d = decide(facts("reported"), COUNTY, HazardAction.ASSIGN, now=NOW, deadline=LATER)
    assert d == Refused(RefusalCode.ASSIGNEE_REQUIRED)
    d = decide(
        facts("rectifying", assignee=ASSIGNEE), COUNTY, HazardAction.ASSIGN, now=NOW, assignee_id=NEW_ASSIGNEE
    )
    assert isinstance(d, Allowed)
    assert d.assignee_id == NEW_ASSIGNEE
    assert d.next_state is HazardState.ASSIGNED


def test_assign_uses_the_severity_deadline_unless_given_one() -> None:
    kept = decide(facts(deadline=LATER), COUNTY, HazardAction.ASSIGN, now=NOW, assignee_id=NEW_ASSIGNEE)
    assert isinstance(kept, Allowed)
    assert kept.deadline == LATER
    sooner = NOW + timedelta(hours=5)
    moved = decide(
        facts(deadline=LATER), COUNTY, HazardAction.ASSIGN, now=NOW, assignee_id=NEW_ASSIGNEE, deadline=sooner
    )
    assert isinstance(moved, Allowed)
    assert moved.deadline == sooner
    none = decide(facts(deadline=None), COUNTY, HazardAction.ASSIGN, now=NOW, assignee_id=NEW_ASSIGNEE)
    assert none == Refused(RefusalCode.DEADLINE_REQUIRED)


@pytest.mark.parametrize("action", [HazardAction.ASSIGN, HazardAction.CHANGE_DEADLINE])
@pytest.mark.parametrize("new_deadline", [NOW, NOW - timedelta(microseconds=1), NOW - timedelta(days=3)])
def test_a_new_deadline_must_be_in_the_future(action: HazardAction, new_deadline: datetime) -> None:
    d = decide(
        facts("reported"),
        COUNTY,
        action,
        reason=TEXT,
        now=NOW,
        deadline=new_deadline,
        assignee_id=NEW_ASSIGNEE,
    )
    assert d == Refused(RefusalCode.DEADLINE_IN_PAST)


@pytest.mark.parametrize("state", ["reported", "assigned", "rectifying", "awaiting_verification"])
def test_change_deadline_needs_a_new_one_and_keeps_the_state(state: str) -> None:
    assert decide(facts(state), COUNTY, HazardAction.CHANGE_DEADLINE, reason="typhoon", now=NOW) == Refused(
        RefusalCode.DEADLINE_REQUIRED
    )
    new = NOW + timedelta(days=10)
    d = decide(
        facts(state, assignee=ASSIGNEE),
        COUNTY,
        HazardAction.CHANGE_DEADLINE,
        reason="typhoon",
        now=NOW,
        deadline=new,
    )
    assert isinstance(d, Allowed)
    assert (d.next_state, d.deadline, d.assignee_id, d.state_changed) == (
        HazardState(state),
        new,
        ASSIGNEE,
        False,
    )


def test_other_actions_carry_deadline_and_assignee_through() -> None:
    d = decide(
        facts("assigned", assignee=ASSIGNEE),
        HEAD,
        HazardAction.ACKNOWLEDGE,
        now=NOW,
        deadline=NOW + timedelta(days=30),
        assignee_id=NEW_ASSIGNEE,
    )
    assert isinstance(d, Allowed)
    assert (d.deadline, d.assignee_id, d.on_time) == (LATER, ASSIGNEE, None)


# --- on time or late ------------------------------------------------------------------------------

DUE = NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("action", "actor", "state"),
    [
        (HazardAction.SUBMIT_RECTIFICATION, HEAD, "rectifying"),
        (HazardAction.REPORT_FIXED_ON_SPOT, REPORTER_CADRE, "reported"),
    ],
)
@pytest.mark.parametrize(
    ("at", "on_time"),
    [(DUE - timedelta(hours=1), True), (DUE, True), (DUE + timedelta(microseconds=1), False)],
)
def test_fixing_records_on_time(
    action: HazardAction, actor: Actor, state: str, at: datetime, on_time: bool
) -> None:
    d = decide(facts(state, deadline=DUE), actor, action, reason="new wiring", photo_count=2, now=at)
    assert isinstance(d, Allowed)
    assert d.next_state is HazardState.AWAITING_VERIFICATION
    assert d.on_time is on_time


@pytest.mark.parametrize(
    ("fixed_at", "accepted_at", "on_time"),
    [
        (
            DUE - timedelta(hours=1),
            DUE + timedelta(days=5),
            True,
        ),  # slow verification is not the head's fault
        (DUE, DUE + timedelta(days=5), True),
        (DUE + timedelta(seconds=1), DUE + timedelta(days=5), False),
        (None, DUE, True),  # no record of submission: judged at acceptance
        (None, DUE + timedelta(seconds=1), False),
    ],
)
def test_accept_records_on_time_by_submission(
    fixed_at: datetime | None, accepted_at: datetime, on_time: bool
) -> None:
    d = decide(
        facts("awaiting_verification", deadline=DUE, fixed_at=fixed_at),
        COUNTY,
        HazardAction.ACCEPT,
        now=accepted_at,
    )
    assert isinstance(d, Allowed)
    assert d.next_state is HazardState.CLOSED
    assert d.on_time is on_time


@pytest.mark.parametrize(
    ("action", "actor", "state"),
    [
        (HazardAction.SUBMIT_RECTIFICATION, HEAD, "rectifying"),
        (HazardAction.REPORT_FIXED_ON_SPOT, REPORTER_CADRE, "reported"),
        (HazardAction.ACCEPT, COUNTY, "awaiting_verification"),
    ],
)
def test_without_a_deadline_on_time_does_not_arise(action: HazardAction, actor: Actor, state: str) -> None:
    d = decide(facts(state, deadline=None), actor, action, reason=TEXT, photo_count=1, now=NOW)
    assert isinstance(d, Allowed)
    assert d.on_time is None


def test_naive_times_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(facts(), COUNTY, HazardAction.COMMENT, reason=TEXT, now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="aware"):
        decide(
            facts(), COUNTY, HazardAction.ASSIGN, now=NOW, deadline=LATER.replace(tzinfo=None), assignee_id=1
        )
    with pytest.raises(ValueError, match="aware"):
        is_overdue(LATER, HazardState.REPORTED, NOW.replace(tzinfo=None))


# --- state kinds and overdue ----------------------------------------------------------------------


def test_state_kinds() -> None:
    assert {s.value: state_kind(s).value for s in HazardState} == {
        "reported": "open",
        "assigned": "open",
        "rectifying": "open",
        "awaiting_verification": "fixed",
        "closed": "closed",
        "withdrawn": "withdrawn",
    }
    assert {s.value for s in OPEN_STATES} == {"reported", "assigned", "rectifying"}
    assert {s.value for s in FIXED_STATES} == {"awaiting_verification"}
    assert {s.value for s in CLOSED_STATES} == {"closed"}
    assert {s.value for s in UNRESOLVED_STATES} == {
        "reported",
        "assigned",
        "rectifying",
        "awaiting_verification",
    }
    assert [k.value for k in StateKind] == ["open", "fixed", "closed", "withdrawn"]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(
    ("now", "past_deadline"),
    [
        (DUE - timedelta(days=1), False),
        (DUE - timedelta(microseconds=1), False),
        (DUE, False),
        (DUE + timedelta(microseconds=1), True),
        (DUE + timedelta(days=30), True),
    ],
)
def test_overdue_only_while_open_and_strictly_after_the_deadline(
    state: str, now: datetime, past_deadline: bool
) -> None:
    open_ = state in ("reported", "assigned", "rectifying")
    assert is_overdue(DUE, HazardState(state), now) is (open_ and past_deadline)
    assert is_overdue(None, HazardState(state), now) is False


@pytest.mark.parametrize(
    ("late_by", "days"),
    [(timedelta(minutes=1), 1), (timedelta(hours=23), 1), (timedelta(days=1), 1), (timedelta(days=1, hours=1), 1),
     (timedelta(days=2), 2), (timedelta(days=15, hours=20), 15)],
)
def test_days_late_are_whole_days_and_one_from_the_first_minute(late_by: timedelta, days: int) -> None:
    """"逾期 1 天" from the first minute late, never "逾期 0 天", as the 通报 and the problem list both count."""
    assert days_late(DUE, DUE + late_by) == days


def test_overdue_compares_instants_across_timezones() -> None:
    from datetime import timezone

    wenzhou = timezone(timedelta(hours=8))
    due = datetime(2026, 3, 2, 17, 0, tzinfo=wenzhou)  # 09:00 UTC
    assert not is_overdue(due, HazardState.RECTIFYING, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert is_overdue(due, HazardState.RECTIFYING, datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC))


# --- visibility -----------------------------------------------------------------------------------


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("assignee", ASSIGNEES)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_can_view(profile: Profile, assignee: int | None, area: HazardArea) -> None:
    expected = expected_visible(profile, area is HazardArea.RIGHTS, assignee)
    for state in HazardState:
        assert can_view(facts(state, area, assignee), profile.actor) is expected


def test_sensitive_hazards_are_hidden_from_the_head_and_cadres() -> None:
    f = facts(area=HazardArea.RIGHTS)
    visible = {p.name for p in PROFILES if can_view(f, p.actor)}
    assert visible == {
        "city_unscoped",
        "city_wenzhou",
        "city_elsewhere",
        "county_in",
        "county_township_in",
        "reporter_cadre",
        "reporter_head_own",
        "reporter_head_other",
        "reporter_county_in",
        "reporter_county_out",
    }
    visible_fire = {p.name for p in PROFILES if can_view(facts(), p.actor)}
    assert visible_fire == visible | {"head_own", "assignee_head_own"}


def test_only_sensitive_areas_stay_out_of_groups() -> None:
    assert {a for a in HazardArea if not visible_to_groups(a)} == {HazardArea.RIGHTS}


def test_replace_keeps_facts_frozen() -> None:
    f = facts()
    with pytest.raises(AttributeError):
        f.state = HazardState.CLOSED  # type: ignore[misc]
    assert replace(f, state=HazardState.CLOSED).state is HazardState.CLOSED


# --- reopening -------------------------------------------------------------------------------------------


def test_a_reopened_hazard_gets_the_fresh_deadline_it_is_given_not_its_old_past_one() -> None:
    long_past = NOW - timedelta(days=30)
    fresh = NOW + timedelta(days=7)
    closed = facts("closed", deadline=long_past, closed_at=NOW - timedelta(days=1))
    d = decide(closed, COUNTY, HazardAction.REOPEN, reason="杂物又堆回", now=NOW, deadline=fresh)
    assert isinstance(d, Allowed)
    assert d.next_state is HazardState.RECTIFYING and d.deadline == fresh
    assert not is_overdue(d.deadline, d.next_state, NOW)


def test_reopening_without_a_fresh_deadline_is_refused_rather_than_keeping_the_old_one() -> None:
    closed = facts("closed", deadline=NOW - timedelta(days=30))
    d = decide(closed, COUNTY, HazardAction.REOPEN, reason="杂物又堆回", now=NOW)
    assert d == Refused(RefusalCode.DEADLINE_REQUIRED)
    past = decide(closed, COUNTY, HazardAction.REOPEN, reason=TEXT, now=NOW, deadline=NOW - timedelta(hours=1))
    assert past == Refused(RefusalCode.DEADLINE_IN_PAST)


@pytest.mark.parametrize(
    ("closed_ago", "allowed"),
    [(timedelta(hours=1), True), (REOPEN_WINDOW, True), (REOPEN_WINDOW + timedelta(seconds=1), False)],
)
def test_staff_may_reopen_only_within_the_window_after_closing(closed_ago: timedelta, allowed: bool) -> None:
    closed = facts("closed", closed_at=NOW - closed_ago)
    d = decide(closed, COUNTY, HazardAction.REOPEN, reason=TEXT, now=NOW, deadline=LATER)
    assert isinstance(d, Allowed) is allowed
    assert (HazardAction.REOPEN in available_actions(closed, COUNTY, now=NOW)) is allowed
    if not allowed:
        assert d == Refused(RefusalCode.REOPEN_WINDOW_PASSED)


def test_an_outsider_learns_nothing_of_the_window_and_a_head_is_refused_for_the_role() -> None:
    old = facts("closed", closed_at=NOW - REOPEN_WINDOW * 2)
    county_out = next(p.actor for p in PROFILES if p.name == "county_out")
    assert decide(old, county_out, HazardAction.REOPEN, reason=TEXT, now=NOW, deadline=LATER) == Refused(
        RefusalCode.NOT_IN_SCOPE
    )
    assert decide(old, HEAD, HazardAction.REOPEN, reason=TEXT, now=NOW, deadline=LATER) == Refused(
        RefusalCode.WRONG_ROLE
    )


# --- asking for more time (申请延期) ------------------------------------------------------------------


def test_asking_for_more_time_changes_neither_state_nor_deadline() -> None:
    d = decide(facts("rectifying"), HEAD, HazardAction.REQUEST_EXTENSION, reason="需要招标", now=NOW, deadline=ASKED)
    assert isinstance(d, Allowed)
    assert (d.next_state, d.deadline) == (HazardState.RECTIFYING, LATER)


def test_the_date_asked_for_must_be_later_than_the_deadline_in_force() -> None:
    for asked in (LATER, LATER - timedelta(hours=1)):
        d = decide(facts("assigned"), HEAD, HazardAction.REQUEST_EXTENSION, reason=TEXT, now=NOW, deadline=asked)
        assert d == Refused(RefusalCode.DEADLINE_NOT_LATER)
    past = decide(facts("assigned"), HEAD, HazardAction.REQUEST_EXTENSION, reason=TEXT, now=NOW, deadline=NOW)
    assert past == Refused(RefusalCode.DEADLINE_IN_PAST)


def test_staff_who_correct_a_sensitive_hazard_change_its_deadline_rather_than_ask() -> None:
    sensitive = facts("rectifying", HazardArea.RIGHTS)
    assert decide(sensitive, COUNTY, HazardAction.REQUEST_EXTENSION, reason=TEXT, now=NOW, deadline=ASKED) == (
        Refused(RefusalCode.WRONG_ROLE)
    )
    assert HazardAction.CHANGE_DEADLINE in available_actions(sensitive, COUNTY, now=NOW)


# --- comments ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closed_ago", "allowed"),
    [(timedelta(hours=1), True), (COMMENT_WINDOW, True), (COMMENT_WINDOW + timedelta(seconds=1), False)],
)
def test_a_closed_hazard_takes_comments_while_it_may_be_reopened(closed_ago: timedelta, allowed: bool) -> None:
    """A remark on a closed hazard may still lead to its reopening; past the window its record is final."""
    closed = facts("closed", closed_at=NOW - closed_ago)
    for person in (HEAD, COUNTY):
        d = decide(closed, person, HazardAction.COMMENT, reason="通道标识已补齐", now=NOW)
        assert isinstance(d, Allowed) is allowed
        assert (HazardAction.COMMENT in available_actions(closed, person, now=NOW)) is allowed
        if allowed:
            assert isinstance(d, Allowed) and not d.state_changed
        else:
            assert d == Refused(RefusalCode.COMMENT_WINDOW_PASSED)


def test_an_outsider_learns_nothing_of_the_comment_window_and_an_open_hazard_has_none() -> None:
    county_out = next(p.actor for p in PROFILES if p.name == "county_out")
    old = facts("closed", closed_at=NOW - COMMENT_WINDOW * 2)
    assert decide(old, county_out, HazardAction.COMMENT, reason=TEXT, now=NOW) == Refused(RefusalCode.NOT_IN_SCOPE)
    sensitive = facts("rectifying", area=HazardArea.RIGHTS)
    assert decide(sensitive, HEAD, HazardAction.COMMENT, reason=TEXT, now=NOW) == Refused(
        RefusalCode.SENSITIVE_HIDDEN
    )
    assert decide(facts("rectifying"), HEAD, HazardAction.COMMENT, reason=" ", now=NOW) == Refused(
        RefusalCode.TEXT_REQUIRED
    )


def test_a_withdrawn_hazard_takes_comments_for_as_long_as_a_closed_one() -> None:
    recent = facts("withdrawn", closed_at=NOW - timedelta(days=1))
    assert isinstance(decide(recent, COUNTY, HazardAction.COMMENT, reason="已与机构核实", now=NOW), Allowed)
    old = facts("withdrawn", closed_at=NOW - COMMENT_WINDOW - timedelta(seconds=1))
    assert decide(old, COUNTY, HazardAction.COMMENT, reason="已与机构核实", now=NOW) == Refused(
        RefusalCode.COMMENT_WINDOW_PASSED
    )


# --- its reporter taking the report back (撤回上报) -------------------------------------------------------------


@pytest.mark.parametrize("state", ["reported", "assigned", "rectifying"])
def test_the_reporter_withdraws_an_open_report_until_someone_works_on_it(state: str) -> None:
    cadre = REPORTER_CADRE
    untouched = facts(state, assignee=ASSIGNEE)
    assert withdraws_as_reporter(untouched, cadre)
    assert outcome_name(full_inputs_decide(untouched, cadre, HazardAction.WITHDRAW)) == "withdrawn"
    # A rectification submitted in an earlier round (since sent back), or staff reinstating it: too late.
    worked = replace(untouched, worked_on=True)
    assert outcome_name(full_inputs_decide(worked, cadre, HazardAction.WITHDRAW)) == "WITHDRAW_TOO_LATE"
    assert HazardAction.WITHDRAW not in available_actions(worked, cadre, now=NOW)
    # Without its reason, the reporter is asked for one, as staff are.
    decision = decide(untouched, cadre, HazardAction.WITHDRAW, now=NOW)
    assert isinstance(decision, Refused) and decision.reason_code is RefusalCode.REASON_REQUIRED


def test_a_follower_or_staff_who_reported_it_withdraw_as_what_they_are() -> None:
    follower = Actor(REPORTER + 1, Role.CADRE, "330302001", None)
    followed = replace(facts("assigned"), followers=frozenset({follower.telegram_id}))
    assert can_view(followed, follower) and not withdraws_as_reporter(followed, follower)
    assert outcome_name(full_inputs_decide(followed, follower, HazardAction.WITHDRAW)) == "WRONG_ROLE"
    # Staff in scope who reported it withdraw it as staff: even once worked on.
    assert not withdraws_as_reporter(followed, REPORTER_CLERK)
    worked = replace(facts("rectifying"), worked_on=True)
    assert outcome_name(full_inputs_decide(worked, REPORTER_CLERK, HazardAction.WITHDRAW)) == "withdrawn"
