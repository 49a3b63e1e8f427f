"""How long an institution has to correct a hazard, by severity (DOMAIN.md: "deadline by severity").

The policy is data so that a deployment can set it from settings, e.g. `DeadlinePolicy(hours={"serious": 12,
"major": 48, "general": 120})`; validation refuses a policy that would make the loop meaningless.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain.catalog import SEVERITY_ORDER, Severity


class DeadlinePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hours: dict[Severity, int] = Field(description="Hours allowed to correct a hazard, for each severity")

    @model_validator(mode="after")
    def _check(self) -> DeadlinePolicy:
        missing = [s.value for s in SEVERITY_ORDER if s not in self.hours]
        if missing:
            raise ValueError(f"deadline policy has no hours for: {', '.join(missing)}")
        for severity, hours in self.hours.items():
            if hours <= 0:
                raise ValueError(f"deadline for {severity.value} must be positive, got {hours}")
        # A graver hazard allowed more time than a milder one is a typo in the settings, never an intention.
        for milder, graver in pairwise(SEVERITY_ORDER):
            if self.hours[graver] > self.hours[milder]:
                raise ValueError(
                    f"{graver.value} hazards get {self.hours[graver]}h, more than {milder.value} ones "
                    f"({self.hours[milder]}h)"
                )
        return self

    def allowed(self, severity: Severity) -> timedelta:
        return timedelta(hours=self.hours[severity])


DEFAULT_DEADLINE_POLICY = DeadlinePolicy(
    hours={Severity.SERIOUS: 24, Severity.MAJOR: 3 * 24, Severity.GENERAL: 7 * 24}
)


def deadline_for(
    severity: Severity, reported_at: datetime, policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY
) -> datetime:
    """The instant by which the hazard must be corrected.

    Counted in elapsed hours, not calendar days in local time: "24 hours" for a serious hazard means 24 hours
    even across a night or a weekend, which is what an urgent hazard needs.
    """
    if reported_at.tzinfo is None or reported_at.utcoffset() is None:
        raise ValueError("reported_at must be timezone-aware")
    return reported_at + policy.allowed(severity)


def extended(deadline: datetime | None, now: datetime, days: int) -> datetime:
    """A deadline `days` later: counted from the deadline in force, or from now for a hazard already late (or with
    none), so that the new one never lies in the past. /deadline's and a request for more time's quick choices."""
    base = deadline if deadline is not None and deadline > now else now
    return base + timedelta(days=days)
