"""A long reminder message summed up by county: what each county's lines are about, counted, so that a city admin's
forty reminders of a morning say where they are before the ten listed say what the most pressing are.

Pure: the service (`bot.services.reminder_summary`) finds each subject's place and kind; this counts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.roles import region_in_scope


class Topic(StrEnum):
    """What a reminder in a batch is about, in the order a county's line names them (its locale key's last part)."""

    HAZARD_OVERDUE = "hazard_overdue"
    HAZARD_DUE = "hazard_due"
    DRILL_OVERDUE = "drill_overdue"
    DRILL_DUE = "drill_due"
    SELFCHECK_OVERDUE = "selfcheck_overdue"
    SELFCHECK_DUE = "selfcheck_due"
    STUDY_OVERDUE = "study_overdue"
    STUDY_DUE = "study_due"
    NO_HEAD = "no_head"  # an institution long without a registered head


@dataclass(frozen=True)
class CountyTally:
    code: str  # the county's region code; the city's for what the city runs or owes itself (市直, 市局)
    counts: tuple[tuple[Topic, int], ...]  # in `Topic` order, none zero

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


def county_of(region_code: str, counties: Sequence[str], city_code: str) -> str:
    """The county a place is in; the city itself for a place under no county (the institutions the city runs)."""
    return next((county for county in counties if region_in_scope(county, region_code)), city_code)


def tally(places: Iterable[tuple[str, Topic]], counties: Sequence[str], city_code: str) -> list[CountyTally]:
    """Each county's count of each topic, from (region code, topic) pairs: the city's own first, then the counties
    in code order; a county with nothing is left out."""
    counted: dict[str, Counter[Topic]] = {}
    for region_code, topic in places:
        counted.setdefault(county_of(region_code, counties, city_code), Counter())[topic] += 1
    order = sorted(counted, key=lambda code: (code != city_code, code))
    return [CountyTally(code, tuple((t, counted[code][t]) for t in Topic if counted[code][t])) for code in order]


def period_key_end(key: str) -> date:
    """The last day of a duty period from its key (`compliance.Period.key`): 2026 → 12-31, 2026-H1 → 06-30,
    2026-03 → 03-31."""
    year, _, part = key.partition("-")
    if not part:
        return date(int(year), 12, 31)
    if part in ("H1", "H2"):
        return date(int(year), 6, 30) if part == "H1" else date(int(year), 12, 31)
    month = int(part)
    following = date(int(year) + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)
