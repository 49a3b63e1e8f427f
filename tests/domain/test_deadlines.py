from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from bot.domain.catalog import Severity
from bot.domain.deadlines import DEFAULT_DEADLINE_POLICY, DeadlinePolicy, deadline_for

REPORTED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("severity", "allowed"),
    [
        (Severity.SERIOUS, timedelta(hours=24)),
        (Severity.MAJOR, timedelta(days=3)),
        (Severity.GENERAL, timedelta(days=7)),
    ],
)
def test_default_policy(severity: Severity, allowed: timedelta) -> None:
    assert deadline_for(severity, REPORTED) == REPORTED + allowed
    assert DEFAULT_DEADLINE_POLICY.allowed(severity) == allowed


def test_deadline_keeps_the_callers_timezone_and_counts_elapsed_hours() -> None:
    wenzhou = timezone(timedelta(hours=8))
    reported = datetime(2026, 3, 1, 23, 0, tzinfo=wenzhou)
    due = deadline_for(Severity.SERIOUS, reported)
    assert due == datetime(2026, 3, 2, 23, 0, tzinfo=wenzhou)
    assert due - reported == timedelta(hours=24)


def test_policy_loads_from_a_settings_dict() -> None:
    policy = DeadlinePolicy.model_validate({"hours": {"serious": 12, "major": "48", "general": 120}})
    assert deadline_for(Severity.SERIOUS, REPORTED, policy) == REPORTED + timedelta(hours=12)
    assert deadline_for(Severity.MAJOR, REPORTED, policy) == REPORTED + timedelta(hours=48)


def test_equal_hours_across_severities_are_allowed() -> None:
    DeadlinePolicy(hours={Severity.SERIOUS: 24, Severity.MAJOR: 24, Severity.GENERAL: 24})


@pytest.mark.parametrize(
    "hours",
    [
        {"serious": 0, "major": 72, "general": 168},
        {"serious": -1, "major": 72, "general": 168},
        {"serious": 24, "major": 72},
        {"serious": 24, "major": 72, "general": 168, "trivial": 500},
        {"serious": 72, "major": 24, "general": 168},
        {"serious": 24, "major": 200, "general": 168},
        {"serious": 24, "major": 72, "general": "a week"},
    ],
)
def test_invalid_policies_are_refused(hours: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DeadlinePolicy.model_validate({"hours": hours})


def test_unknown_settings_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        DeadlinePolicy.model_validate({"hours": {"serious": 1, "major": 2, "general": 3}, "days": 1})


def test_policy_is_immutable() -> None:
    with pytest.raises(ValidationError):
        DEFAULT_DEADLINE_POLICY.hours = {}


def test_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline_for(Severity.GENERAL, datetime(2026, 3, 1, 9, 30))
