"""The arithmetic of statistics (issue 6): periods, scopes, ratios, medians and rollups. Pure: no I/O, no clock.

What the figures mean, so that /stats, the charts, the exports and the notices all say the same thing:

- A period is whole local days, `start` to `end` inclusive. The hazards *found* in it are its cohort; "closed",
  "unresolved", "overdue" and "on time" count that cohort as it stands now while the period runs, and as it stood
  at its end once it has ended (each hazard's state then, from its history), so a month's figures read later are
  that month's close, as its ranking is.
- The *backlog* is every unresolved hazard in scope, whenever found (now, or at a past period's end): what dynamic
  zeroing counts down.
- Unresolved and overdue are `lifecycle.UNRESOLVED_STATES` and `lifecycle.is_overdue`, asked in SQL the same way.
- A hazard staff withdrew (作废: reported in error, a duplicate, its institution closed) was found but never
  rectified: it counts in found and in `withdrawn`, never in closed, unresolved or overdue.
- Rectification rate = closed / (found - withdrawn): withdrawn hazards leave the denominator, so withdrawing one
  neither lowers a county's rate (it will never be fixed) nor raises it. On-time rate = closed on time / closed
  with a verdict (a hazard closed without a deadline has none and counts in neither part).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo

from bot.domain.roles import Role, significant_prefix

# Longer ranges are almost always a typo in the year, and would make the weekly trend unreadable.
MAX_RANGE_DAYS = 3 * 366


class PeriodKind(StrEnum):
    MONTH = "m"
    QUARTER = "q"
    YEAR = "y"
    RANGE = "r"


@dataclass(frozen=True)
class StatsPeriod:
    kind: PeriodKind
    start: date
    end: date  # inclusive

    @property
    def token(self) -> str:
        """A compact, exact name for buttons: m202603, q20261, y2026, r20260101-20260331."""
        if self.kind is PeriodKind.MONTH:
            return f"m{self.start:%Y%m}"
        if self.kind is PeriodKind.QUARTER:
            return f"q{self.start.year}{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return f"y{self.start.year}"
        return f"r{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[from, until) as aware instants: local midnight of `start` to local midnight after `end`."""
        return local_midnight(self.start, tz), local_midnight(self.end + timedelta(days=1), tz)

    def as_of(self, today: date) -> date:
        """The day duties are judged on: the period's last day, or today while the period is still running."""
        return min(self.end, today)

    def months(self, today: date) -> list[str]:
        """The months ('YYYY-MM') the period covers up to `as_of`, each owing one self-inspection."""
        last = self.as_of(today)
        months: list[str] = []
        cursor = date(self.start.year, self.start.month, 1)
        while cursor <= last:
            months.append(f"{cursor:%Y-%m}")
            cursor = _add_months(cursor, 1)
        return months


    def running_month(self, today: date) -> str | None:
        """The month ('YYYY-MM') of `months` whose self-inspection is not due yet (due by its last day, so still
        running today), if the period reaches it; None when every month of the period has ended."""
        months = self.months(today)
        if not months:
            return None
        return months[-1] if month_last_day(months[-1]) >= today else None

    def settled_months(self, today: date) -> list[str]:
        """The months of `months` whose self-inspection has fallen due: every one but the running month."""
        running = self.running_month(today)
        return [month for month in self.months(today) if month != running]


def month_last_day(month: str) -> date:
    """The last day of a month ('YYYY-MM'): the day its self-inspection is due by."""
    return _add_months(date.fromisoformat(f"{month}-01"), 1) - timedelta(days=1)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def current_period(kind: PeriodKind, today: date) -> StatsPeriod:
    if kind is PeriodKind.MONTH:
        start = date(today.year, today.month, 1)
        return StatsPeriod(kind, start, _add_months(start, 1) - timedelta(days=1))
    if kind is PeriodKind.QUARTER:
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return StatsPeriod(kind, start, _add_months(start, 3) - timedelta(days=1))
    if kind is PeriodKind.YEAR:
        return StatsPeriod(kind, date(today.year, 1, 1), date(today.year, 12, 31))
    raise ValueError("a range has no current period; use parse_range")


def previous_month(today: date) -> StatsPeriod:
    """The last whole month: what a monthly ranking and notice (通报) are about."""
    this_month = date(today.year, today.month, 1)
    return current_period(PeriodKind.MONTH, this_month - timedelta(days=1))


_TOKEN = re.compile(r"^(?:m(\d{4})(\d{2})|q(\d{4})([1-4])|y(\d{4})|r(\d{8})-(\d{8}))$")


def period_from_token(token: str) -> StatsPeriod | None:
    """The inverse of `StatsPeriod.token`; None for anything malformed (a forged or stale button)."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    try:
        if match.group(1):
            return current_period(PeriodKind.MONTH, date(int(match.group(1)), int(match.group(2)), 1))
        if match.group(3):
            return current_period(PeriodKind.QUARTER, date(int(match.group(3)), int(match.group(4)) * 3, 1))
        if match.group(5):
            return current_period(PeriodKind.YEAR, date(int(match.group(5)), 1, 1))
        start = datetime.strptime(match.group(6), "%Y%m%d").date()
        end = datetime.strptime(match.group(7), "%Y%m%d").date()
    except ValueError:
        return None
    checked = check_range(start, end)
    return checked if isinstance(checked, StatsPeriod) else None


class RangeProblem(StrEnum):
    FORMAT = "format"
    REVERSED = "reversed"
    TOO_LONG = "too_long"


_DATE = r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
_RANGE_TEXT = re.compile(rf"^\s*{_DATE}\s*(?:\.\.|~|～|－|—|-|至|到|to|\s)\s*{_DATE}\s*$", re.IGNORECASE)


def parse_range(text: str) -> StatsPeriod | RangeProblem:
    """A typed range: '2026-01-01 2026-03-31', '2026-01-01..2026-03-31', '2026年1月1日至2026年3月31日' …"""
    match = _RANGE_TEXT.match(text)
    if match is None:
        return RangeProblem.FORMAT
    numbers = [int(value) for value in match.groups()]
    try:
        start, end = date(*numbers[:3]), date(*numbers[3:])
    except ValueError:
        return RangeProblem.FORMAT
    return check_range(start, end)


def check_range(start: date, end: date) -> StatsPeriod | RangeProblem:
    if end < start:
        return RangeProblem.REVERSED
    if (end - start).days >= MAX_RANGE_DAYS:
        return RangeProblem.TOO_LONG
    return StatsPeriod(PeriodKind.RANGE, start, end)


def week_origin(period: StatsPeriod) -> date:
    """The Monday on or before the period's first day: weekly buckets count from there."""
    return period.start - timedelta(days=period.start.weekday())


def week_starts(period: StatsPeriod, today: date) -> list[date]:
    """The Mondays that start each weekly bucket of the period, up to `as_of`."""
    origin, last = week_origin(period), period.as_of(today)
    return [origin + timedelta(weeks=n) for n in range((last - origin).days // 7 + 1)]


# ---- who sees what ---------------------------------------------------------------------------------------


class ScopeLevel(StrEnum):
    CITY = "city"  # everything, broken down by county
    COUNTY = "county"  # one county, broken down by township
    INSTITUTION = "institution"  # a head's own institution


@dataclass(frozen=True)
class Scope:
    level: ScopeLevel
    region_code: str | None = None  # the county, or a city admin's region (None: the whole configured city)
    institution_id: int | None = None
    # Heads never see rights-protection hazards of their own institution (lifecycle.can_view); nor do their figures.
    hide_sensitive: bool = False

    @property
    def region_prefix(self) -> str | None:
        return None if self.region_code is None else significant_prefix(self.region_code)

    @property
    def unit_digits(self) -> int:
        """How many leading digits of a region code name a breakdown unit: a county (6), a township (9)."""
        return 6 if self.level is ScopeLevel.CITY else 9


def scope_for(user_role: Role, region_code: str | None, institution_id: int | None) -> Scope | None:
    """The scope of a person's statistics; None for those who have none (cadres, misconfigured accounts)."""
    if user_role is Role.CITY:
        return Scope(ScopeLevel.CITY, region_code=region_code)
    if user_role is Role.COUNTY and region_code is not None:
        return Scope(ScopeLevel.COUNTY, region_code=region_code)
    if user_role is Role.HEAD and institution_id is not None:
        return Scope(ScopeLevel.INSTITUTION, institution_id=institution_id, hide_sensitive=True)
    return None


def unit_of(region_code: str, scope: Scope) -> str:
    return region_code[: scope.unit_digits]


# ---- ratios, counts, medians -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    part: int = 0
    whole: int = 0

    @property
    def rate(self) -> float | None:
        return None if self.whole == 0 else self.part / self.whole

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.part + other.part, self.whole + other.whole)


@dataclass(frozen=True)
class HazardCounts:
    found: int = 0
    closed: int = 0
    unresolved: int = 0
    overdue: int = 0
    on_time: int = 0
    late: int = 0
    withdrawn: int = 0  # found, then withdrawn by staff (作废): never rectified, out of the rectification rate

    def __add__(self, other: HazardCounts) -> HazardCounts:
        return HazardCounts(
            self.found + other.found,
            self.closed + other.closed,
            self.unresolved + other.unresolved,
            self.overdue + other.overdue,
            self.on_time + other.on_time,
            self.late + other.late,
            self.withdrawn + other.withdrawn,
        )

    @property
    def rectification(self) -> Ratio:
        return Ratio(self.closed, self.found - self.withdrawn)

    @property
    def punctuality(self) -> Ratio:
        return Ratio(self.on_time, self.on_time + self.late)


class HazardStanding(IntEnum):
    """Where one hazard of a cohort stands now, as one small number: everything `HazardCounts` counts of a hazard
    follows from it, so a cohort can be tallied by (dimension, standing) pairs instead of six sums per group."""

    CLOSED_LATE = 0
    CLOSED_ON_TIME = 1
    CLOSED_UNJUDGED = 2  # closed with no deadline, so neither on time nor late
    OPEN = 3
    OPEN_OVERDUE = 4
    FIXED = 5  # unresolved but not open: waiting for verification, so never overdue
    OTHER = 6  # a state of no kind counted here: found, nothing else
    WITHDRAWN = 7  # withdrawn by staff (作废): found, and withdrawn


_ADDS: dict[HazardStanding, HazardCounts] = {
    HazardStanding.CLOSED_LATE: HazardCounts(found=1, closed=1, late=1),
    HazardStanding.CLOSED_ON_TIME: HazardCounts(found=1, closed=1, on_time=1),
    HazardStanding.CLOSED_UNJUDGED: HazardCounts(found=1, closed=1),
    HazardStanding.OPEN: HazardCounts(found=1, unresolved=1),
    HazardStanding.OPEN_OVERDUE: HazardCounts(found=1, unresolved=1, overdue=1),
    HazardStanding.FIXED: HazardCounts(found=1, unresolved=1),
    HazardStanding.OTHER: HazardCounts(found=1),
    HazardStanding.WITHDRAWN: HazardCounts(found=1, withdrawn=1),
}


@dataclass(frozen=True)
class CohortColumns:
    """The hazards of a cohort as parallel columns, one entry per hazard: what each breakdown groups by, and the
    hazard's `HazardStanding` as its number's text."""

    region_codes: Sequence[str]
    areas: Sequence[str]
    severities: Sequence[str]
    source_levels: Sequence[str]
    institution_types: Sequence[str]
    standings: Sequence[str]


@dataclass(frozen=True)
class Cohort:
    total: HazardCounts
    by_unit: dict[str, HazardCounts]
    by_area: dict[str, HazardCounts]
    by_severity: dict[str, HazardCounts]
    by_source: dict[str, HazardCounts]
    by_type: dict[str, HazardCounts]


def count_cohort(columns: CohortColumns, scope: Scope) -> Cohort:
    """Every breakdown of a cohort from three Counters over its columns (a C loop each, no sort; SQLite has no
    hash aggregation): by (region, standing), by (type, standing), and by (area, severity, source, standing), a few
    hundred distinct combinations, which the area, severity and source breakdowns are then summed from."""
    standings = columns.standings
    by_unit: dict[str, HazardCounts] = {}
    for region_code, counts in count_by(columns.region_codes, standings).items():
        unit = unit_of(region_code, scope)
        by_unit[unit] = by_unit.get(unit, HazardCounts()) + counts
    combinations = Counter(zip(columns.areas, columns.severities, columns.source_levels, standings, strict=True))
    by_area: Counter[tuple[str, str]] = Counter()
    by_severity: Counter[tuple[str, str]] = Counter()
    by_source: Counter[tuple[str, str]] = Counter()
    for (area, severity, source, standing), n in combinations.items():
        by_area[area, standing] += n
        by_severity[severity, standing] += n
        by_source[source, standing] += n
    return Cohort(
        total=sum((_times(standing, n) for standing, n in Counter(standings).items()), HazardCounts()),
        by_unit=by_unit,
        by_area=_summed(by_area),
        by_severity=_summed(by_severity),
        by_source=_summed(by_source),
        by_type=count_by(columns.institution_types, standings),
    )


def count_by(keys: Iterable[str], standings: Iterable[str]) -> dict[str, HazardCounts]:
    """Key → the counts of the hazards with that key; `keys` and `standings` run side by side, one per hazard."""
    return _summed(Counter(zip(keys, standings, strict=True)))


def _summed(tally: Mapping[tuple[str, str], int]) -> dict[str, HazardCounts]:
    """(key, standing) → how many, as key → counts."""
    sums: dict[str, HazardCounts] = {}
    for (key, standing), n in tally.items():
        sums[key] = sums.get(key, HazardCounts()) + _times(standing, n)
    return sums


def _times(standing: str, n: int) -> HazardCounts:
    adds = _ADDS[HazardStanding(int(standing))]
    return HazardCounts(
        adds.found * n, adds.closed * n, adds.unresolved * n, adds.overdue * n, adds.on_time * n, adds.late * n,
        adds.withdrawn * n,
    )


def median_window(count: int) -> tuple[int, int] | None:
    """(offset, limit) of the middle value(s) of `count` sorted values: SQLite has no MEDIAN, but it can sort and
    skip, so only one or two values ever leave the database."""
    if count <= 0:
        return None
    return (count - 1) // 2, 1 if count % 2 else 2


def median_of(middle: list[float]) -> float | None:
    return None if not middle else sum(middle) / len(middle)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
