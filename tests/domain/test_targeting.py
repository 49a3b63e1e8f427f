"""Who is asked to verify a rectification: never the person who submitted it (four eyes). Who reads a comment."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import Actor, HazardAction, HazardFacts, HazardState
from bot.domain.roles import Role
from bot.domain.targeting import Audience, Notice, NoticeKind, on_action, on_comment, on_report, verifiers

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CLERK = Actor(4, Role.COUNTY, "330302", None)
SECOND_CLERK = Actor(5, Role.COUNTY, "330302", None)
CITY = Actor(2, Role.CITY, "330300", None)
REPORTER = 500


def _awaiting(fixed_by: int | None, area: HazardArea = HazardArea.RIGHTS) -> HazardFacts:
    return HazardFacts(
        state=HazardState.AWAITING_VERIFICATION, region_code="330302001", institution_id=10, reporter_id=REPORTER,
        area=area, deadline=None, assignee_id=None, fixed_at=NOW, fixed_by=fixed_by,
    )


def test_the_other_county_staff_are_asked_not_the_fixer() -> None:
    audience = Audience(staff=(CLERK, SECOND_CLERK, CITY))
    assert verifiers(_awaiting(CLERK.telegram_id), audience) == [SECOND_CLERK.telegram_id]
    assert verifiers(_awaiting(None), audience) == [CLERK.telegram_id, SECOND_CLERK.telegram_id]


def test_the_city_admins_are_asked_when_the_fixer_is_the_countys_only_staff() -> None:
    audience = Audience(staff=(CLERK, CITY))
    assert verifiers(_awaiting(CLERK.telegram_id), audience) == [CITY.telegram_id]
    notices = on_action(HazardAction.SUBMIT_RECTIFICATION, _awaiting(CLERK.telegram_id), 1, audience, CLERK.telegram_id)
    asked = [n.recipient_id for n in notices if n.kind is NoticeKind.RECTIFICATION_SUBMITTED]
    assert CITY.telegram_id in asked and CLERK.telegram_id not in asked


def test_a_city_admin_who_fixed_it_leaves_it_to_the_county() -> None:
    audience = Audience(staff=(CLERK, CITY))
    assert verifiers(_awaiting(CITY.telegram_id), audience) == [CLERK.telegram_id]


def test_fixed_on_the_spot_by_the_countys_only_clerk_goes_to_the_city() -> None:
    facts = HazardFacts(
        state=HazardState.AWAITING_VERIFICATION, region_code="330302001", institution_id=10,
        reporter_id=CLERK.telegram_id, area=HazardArea.FIRE, deadline=None, assignee_id=None, fixed_at=NOW,
        fixed_by=CLERK.telegram_id,
    )
    notices = on_report(facts, 1, Audience(staff=(CLERK, CITY)), CLERK.telegram_id)
    assert [(n.kind, n.recipient_id) for n in notices] == [(NoticeKind.RECTIFICATION_SUBMITTED, CITY.telegram_id)]


HEAD = Actor(8, Role.HEAD, None, 10)
ASSIGNEE = 600


def _open(area: HazardArea = HazardArea.FIRE, assignee: int | None = ASSIGNEE) -> HazardFacts:
    return HazardFacts(
        state=HazardState.RECTIFYING, region_code="330302001", institution_id=10, reporter_id=REPORTER,
        area=area, deadline=None, assignee_id=assignee,
    )


def _told(notices: list[Notice]) -> list[int]:
    assert all(n.kind is NoticeKind.COMMENTED for n in notices)
    return [n.recipient_id for n in notices]


def test_a_comment_reaches_those_following_the_hazard_and_the_verifiers_until_the_county_takes_part() -> None:
    audience = Audience(heads=(HEAD,), staff=(CLERK, SECOND_CLERK, CITY))
    # Nobody at the county has taken part: those who would verify it hear, the city admins not.
    told = _told(on_comment(_open(), 1, audience, REPORTER, participants=[REPORTER]))
    assert told == [ASSIGNEE, HEAD.telegram_id, CLERK.telegram_id, SECOND_CLERK.telegram_id]
    # Once a clerk has (assigned it, asked a question), that clerk alone, never the commenter.
    told = _told(on_comment(_open(), 1, audience, HEAD.telegram_id, participants=[REPORTER, CLERK.telegram_id]))
    assert told == [ASSIGNEE, REPORTER, CLERK.telegram_id]
    # A city admin who took part is told, and the county still hears through its verifiers.
    told = _told(on_comment(_open(), 1, audience, REPORTER, participants=[CITY.telegram_id]))
    assert told == [ASSIGNEE, HEAD.telegram_id, CITY.telegram_id, CLERK.telegram_id, SECOND_CLERK.telegram_id]


def test_a_sensitive_hazard_s_comment_never_reaches_a_head_and_nobody_outside_is_told() -> None:
    outsider = Actor(9, Role.HEAD, None, 11)  # took part once (relieved since): may no longer see it
    audience = Audience(heads=(HEAD,), staff=(CLERK,))
    facts = _open(HazardArea.RIGHTS, assignee=None)
    told = _told(on_comment(facts, 1, audience, CLERK.telegram_id, [HEAD.telegram_id, outsider.telegram_id]))
    assert told == [REPORTER]


def test_someone_whose_access_ended_is_never_told_whatever_the_notice() -> None:
    """The reporter and the person named are admitted by id, whatever their access: the audience names those whose
    access ended, and no notice goes to them (the outbox would never deliver it; a count of those told must agree)."""
    audience = Audience(heads=(HEAD,), staff=(CLERK,), ended=frozenset({REPORTER, ASSIGNEE}))
    told = _told(on_comment(_open(), 1, audience, HEAD.telegram_id, participants=[REPORTER, CLERK.telegram_id]))
    assert told == [CLERK.telegram_id]
    rejected = on_action(HazardAction.REJECT, _open(), 1, audience, CLERK.telegram_id, "still blocked")
    assert REPORTER not in [n.recipient_id for n in rejected] and ASSIGNEE not in [n.recipient_id for n in rejected]


def test_a_report_withdrawn_by_its_reporter_tells_those_correcting_it_and_the_county() -> None:
    facts = HazardFacts(
        state=HazardState.WITHDRAWN, region_code="330302001", institution_id=10, reporter_id=REPORTER,
        area=HazardArea.FIRE, deadline=None, assignee_id=ASSIGNEE, followers=frozenset({501}),
    )
    audience = Audience(heads=(HEAD,), staff=(CLERK, CITY))
    by_reporter = on_action(HazardAction.WITHDRAW, facts, 1, audience, REPORTER, "选错了机构")
    assert [n.recipient_id for n in by_reporter] == [ASSIGNEE, HEAD.telegram_id, 501, CLERK.telegram_id]
    assert {n.kind for n in by_reporter} == {NoticeKind.WITHDRAWN}
    # Withdrawn by staff, the county hears nothing: it was theirs to do.
    by_staff = on_action(HazardAction.WITHDRAW, facts, 1, audience, CLERK.telegram_id, "误报")
    assert [n.recipient_id for n in by_staff] == [ASSIGNEE, HEAD.telegram_id, REPORTER, 501]
