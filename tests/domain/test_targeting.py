"""Who is asked to verify a rectification: never the person who submitted it (four eyes)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import Actor, HazardAction, HazardFacts, HazardState
from bot.domain.roles import Role
from bot.domain.targeting import Audience, NoticeKind, on_action, on_report, verifiers

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
