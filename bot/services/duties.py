"""Where institutions and units stand on their calendar duties today: the compliance rules fed from storage.

One snapshot answers for the whole city (or one institution, or one unit) from a handful of queries, so that
/drills, the reminder sweep and the digests all judge a duty the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.compliance import (
    DEFAULT_DRILL_RULE,
    DRILL_RULES,
    SELF_INSPECTION_RULE,
    STUDY_RULE,
    Duty,
    DutyRule,
    DutyStatus,
    Period,
    drill_rule,
    judging_start,
    owes,
    period_of,
    previous_period,
    status,
)
from storage import Storage
from storage.models import Institution


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_start(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


@dataclass(frozen=True)
class DutySnapshot:
    today: date
    drills: dict[frozenset[str], dict[int, list[date]]]  # by the drill kinds a rule counts, then institution
    inspected: dict[int, set[str]]  # institution id → months ('YYYY-MM') finished: this, last and any asked
    studies: dict[str, list[date]]  # unit region code → dates
    judged_from: date | None = None  # the deployment's; an institution's own `tracked_from` may come later
    loaded: frozenset[Duty] = frozenset(Duty)  # the duties read; asking about another is a bug, not "not done"
    institutions: frozenset[int] | None = None  # the institutions read (None: all); the same goes for them

    def judged_from_of(self, institution: Institution) -> date | None:
        """The day from which this institution's duties are judged (`compliance.judging_start`)."""
        return judging_start(self.judged_from, institution.tracked_from)

    def judges(self, duty: Duty, institution: Institution, period: Period) -> bool:
        """Whether the institution owes a duty's period at all: not one that ended before it was added, nor the one
        it was added in when less than half of it remained (`compliance.owes`)."""
        return owes(_rule_of(duty, institution), period, self.judged_from_of(institution))

    def drill(self, institution: Institution) -> DutyStatus:
        self._require(Duty.FIRE_DRILL, institution.id)
        rule = drill_rule(institution.type)
        dates = self.drills.get(_kinds(rule), {}).get(institution.id, [])
        return status(rule, dates, self.today, judged_from=self.judged_from_of(institution))

    def drill_done_in(self, institution: Institution, period: Period) -> bool:
        self._require(Duty.FIRE_DRILL, institution.id)
        rule = drill_rule(institution.type)
        return any(d in period for d in self.drills.get(_kinds(rule), {}).get(institution.id, []))

    def self_inspection(self, institution: Institution) -> DutyStatus:
        self._require(Duty.SELF_INSPECTION, institution.id)
        dates = [month_start(m) for m in self.inspected.get(institution.id, set())]
        return status(SELF_INSPECTION_RULE, dates, self.today, judged_from=self.judged_from_of(institution))

    def self_inspection_done_in(self, institution_id: int, period: Period) -> bool:
        self._require(Duty.SELF_INSPECTION, institution_id)
        return month_key(period.start) in self.inspected.get(institution_id, set())

    def institution_duty(self, duty: Duty, institution: Institution) -> DutyStatus:
        """`drill` or `self_inspection`, by the duty: the two an institution owes."""
        return self.drill(institution) if duty is Duty.FIRE_DRILL else self.self_inspection(institution)

    def institution_duty_done_in(self, duty: Duty, institution: Institution, period: Period) -> bool:
        """`drill_done_in` or `self_inspection_done_in`, by the duty."""
        if duty is Duty.FIRE_DRILL:
            return self.drill_done_in(institution, period)
        return self.self_inspection_done_in(institution.id, period)

    def study(self, unit_code: str) -> DutyStatus:
        self._require(Duty.STUDY)
        return status(STUDY_RULE, self.studies.get(unit_code, []), self.today, judged_from=self.judged_from)

    def study_done_in(self, unit_code: str, period: Period) -> bool:
        self._require(Duty.STUDY)
        return any(d in period for d in self.studies.get(unit_code, []))

    def _require(self, duty: Duty, institution_id: int | None = None) -> None:
        if duty not in self.loaded:
            raise ValueError(f"this duty snapshot was loaded without {duty.value}")
        if institution_id is not None and self.institutions is not None and institution_id not in self.institutions:
            raise ValueError(f"this duty snapshot was loaded without institution {institution_id}")


async def load_duties(
    storage: Storage,
    today: date,
    *,
    judged_from: date | None = None,
    institution_id: int | None = None,
    institutions: Collection[int] | None = None,
    unit_code: str | None = None,
    extra_months: tuple[str, ...] = (),
    only: Collection[Duty] = tuple(Duty),
) -> DutySnapshot:
    """Enough history to judge the current and the previous period of every rule; `extra_months` adds older
    months whose self-inspection a late reminder asks about. `only` reads the records of some duties alone, and
    `institutions` (or `institution_id`) those of some institutions alone: a reminder sweep of a thousand
    self-inspection reminders about a few dozen institutions need not read the city's drills, nor every
    institution's inspections."""
    since = _earliest_needed(today)
    calendar = storage.calendar
    wanted = _institutions_wanted(institution_id, institutions)
    drills: dict[frozenset[str], dict[int, list[date]]] = {}
    if Duty.FIRE_DRILL in only:
        drills = {
            kinds: await calendar.drill_dates(kinds, since=since, institutions=wanted)
            for kinds in {_kinds(rule) for rule in (*DRILL_RULES.values(), DEFAULT_DRILL_RULE)}
        }
    inspected: dict[int, set[str]] = {}
    if Duty.SELF_INSPECTION in only:
        this_month = period_of(SELF_INSPECTION_RULE, today)
        previous_month = previous_period(SELF_INSPECTION_RULE, this_month)
        months = sorted({month_key(this_month.start), month_key(previous_month.start), *extra_months})
        inspected = await calendar.done_months(months, institutions=wanted)
    studies: dict[str, list[date]] = {}
    if Duty.STUDY in only:
        studies = await calendar.study_dates(since=since, unit_region_code=unit_code)
    return DutySnapshot(today, drills, inspected, studies, judged_from, frozenset(only), wanted)


def _institutions_wanted(institution_id: int | None, institutions: Collection[int] | None) -> frozenset[int] | None:
    if institution_id is not None:
        return frozenset((institution_id,))
    return None if institutions is None else frozenset(institutions)


def _rule_of(duty: Duty, institution: Institution) -> DutyRule:
    return drill_rule(institution.type) if duty is Duty.FIRE_DRILL else SELF_INSPECTION_RULE


def _kinds(rule: DutyRule) -> frozenset[str]:
    return frozenset(kind.value for kind in rule.drill_kinds)


def _earliest_needed(today: date) -> date:
    # The longest cadence is a year: its previous period starts on 1 January of last year. A few days more
    # cover a reminder for a period that ended just before today.
    return date(today.year - 1, 1, 1) - timedelta(days=7)
