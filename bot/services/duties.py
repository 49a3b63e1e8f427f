"""Where institutions and units stand on their calendar duties today: the compliance rules fed from storage.

One snapshot answers for the whole city (or one institution, or one unit) from a handful of queries, so that
/drills, the reminder sweep and the digests all judge a duty the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.compliance import (
    DEFAULT_DRILL_RULE,
    DRILL_RULES,
    SELF_INSPECTION_RULE,
    STUDY_RULE,
    DutyRule,
    DutyStatus,
    Period,
    drill_rule,
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
    judged_from: date | None = None

    def drill(self, institution: Institution) -> DutyStatus:
        rule = drill_rule(institution.type)
        dates = self.drills.get(_kinds(rule), {}).get(institution.id, [])
        return status(rule, dates, self.today, judged_from=self.judged_from)

    def drill_done_in(self, institution: Institution, period: Period) -> bool:
        rule = drill_rule(institution.type)
        return any(d in period for d in self.drills.get(_kinds(rule), {}).get(institution.id, []))

    def self_inspection(self, institution_id: int) -> DutyStatus:
        dates = [month_start(m) for m in self.inspected.get(institution_id, set())]
        return status(SELF_INSPECTION_RULE, dates, self.today, judged_from=self.judged_from)

    def self_inspection_done_in(self, institution_id: int, period: Period) -> bool:
        return month_key(period.start) in self.inspected.get(institution_id, set())

    def study(self, unit_code: str) -> DutyStatus:
        return status(STUDY_RULE, self.studies.get(unit_code, []), self.today, judged_from=self.judged_from)

    def study_done_in(self, unit_code: str, period: Period) -> bool:
        return any(d in period for d in self.studies.get(unit_code, []))


async def load_duties(
    storage: Storage,
    today: date,
    *,
    judged_from: date | None = None,
    institution_id: int | None = None,
    unit_code: str | None = None,
    extra_months: tuple[str, ...] = (),
) -> DutySnapshot:
    """Enough history to judge the current and the previous period of every rule; `extra_months` adds older
    months whose self-inspection a late reminder asks about."""
    since = _earliest_needed(today)
    calendar = storage.calendar
    drills = {
        kinds: await calendar.drill_dates(kinds, since=since, institution_id=institution_id)
        for kinds in {_kinds(rule) for rule in (*DRILL_RULES.values(), DEFAULT_DRILL_RULE)}
    }
    this_month = period_of(SELF_INSPECTION_RULE, today)
    previous_month = previous_period(SELF_INSPECTION_RULE, this_month)
    months = sorted({month_key(this_month.start), month_key(previous_month.start), *extra_months})
    inspected = await calendar.done_months(months, institution_id=institution_id)
    studies = await calendar.study_dates(since=since, unit_region_code=unit_code)
    return DutySnapshot(today, drills, inspected, studies, judged_from)


def _kinds(rule: DutyRule) -> frozenset[str]:
    return frozenset(kind.value for kind in rule.drill_kinds)


def _earliest_needed(today: date) -> date:
    # The longest cadence is a year: its previous period starts on 1 January of last year. A few days more
    # cover a reminder for a period that ended just before today.
    return date(today.year - 1, 1, 1) - timedelta(days=7)
