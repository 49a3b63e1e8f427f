"""/stats: the figures of a scope and a period, as typed results (the handlers word them; see bot/domain/stats.py
for what each figure means).

The scope always comes from the person asking (`scope_for`), never from a button: a head sees their institution,
county staff their county by township, city admins the whole city by county.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.check_backs import CheckBackCounts
from bot.domain.compliance import (
    SELF_INSPECTION_RULE,
    counted_compliant,
    drill_rule,
    judging_start,
    last_joining_day,
    period_of,
    previous_period,
)
from bot.domain.stats import (
    Cohort,
    HazardCounts,
    Ratio,
    Scope,
    ScopeLevel,
    StatsPeriod,
    count_cohort,
    local_midnight,
    month_last_day,
    scope_for,
    unit_of,
    week_origin,
    week_starts,
)
from bot.services.duties import month_start
from bot.services.errors import Refusal
from storage import Storage
from storage.models import InstitutionType, Region, User
from storage.repositories.standings import StandingsRepository
from storage.repositories.stats import GroupBy, Roster, StatsRepository, UnitAcks, side_reader


@dataclass(frozen=True)
class UnitFigures:
    """One county (city scope) or township (county scope), or one institution in a ranking."""

    code: str
    hazards: HazardCounts
    backlog_unresolved: int
    backlog_overdue: int
    drills: Ratio  # institutions not overdue on their fire drill / institutions that owed one (`_drill_verdicts`)
    inspections: Ratio  # monthly self-inspections finished / owed, for the months that have ended
    acks: Ratio  # institutions that answered a warning / institutions reached
    # The running month's self-inspections finished / institutions that will owe one: not due before its last day,
    # so never a rate that would read as missed (`StatsPeriod.running_month`).
    inspections_running: Ratio = field(default_factory=Ratio)


@dataclass(frozen=True)
class StatsReport:
    scope: Scope
    period: StatsPeriod
    as_of: date  # the day duties are judged on, and, for a period that has ended, the hazards' states
    hazards: HazardCounts
    median_close_hours: float | None
    backlog_unresolved: int
    backlog_overdue: int
    by_area: dict[HazardArea, HazardCounts]
    by_severity: dict[Severity, HazardCounts]
    by_source: dict[SourceLevel, HazardCounts]
    by_type: dict[InstitutionType, HazardCounts]
    drills: Ratio
    inspections: Ratio  # the months that have ended
    acks: Ratio
    median_ack_minutes: float | None
    check_backs: CheckBackCounts  # the check-backs (回访) asked in the period, and their answers
    units: tuple[UnitFigures, ...]  # empty for an institution
    regions: dict[str, Region]  # names of the units and the scope
    # The running month's self-inspections, done / owing by its end (see UnitFigures).
    inspections_running: Ratio = field(default_factory=Ratio)
    running_due: date | None = None  # the running month's last day, while the period reaches one (not yet due)
    ended: bool = False  # the period has ended: its hazards are counted as they stood at its end


@dataclass(frozen=True)
class InstitutionDuties:
    """One institution's duties for a period, judged as /stats judges them: its line of the export's compliance
    sheet (合规情况), which names those /stats and the notice only count."""

    drill_ok: bool | None  # not overdue on its fire drill at the period's end (or today); None: owed none then
    last_drill: date | None  # its last fire drill on or before then
    inspections: Ratio  # self-inspections finished / owed over the months ended
    missing: tuple[str, ...]  # the months ended it owed and did not finish
    running_done: bool | None  # the running month's self-inspection finished; None: no running month, or not owed


@dataclass(frozen=True)
class WeeklyTrend:
    weeks: tuple[date, ...]  # the Monday each week starts on
    found: tuple[int, ...]
    closed: tuple[int, ...]


@dataclass(frozen=True)
class AckCurve:
    warning_id: int
    headline: str
    sent_at: datetime | None
    reached: int
    answers: tuple[datetime, ...]  # first answer of each institution that answered, in order


class StatsService:
    def __init__(self, storage: Storage, clock: Clock, tz: ZoneInfo, *, tracking_since: date | None = None) -> None:
        self._storage = storage
        self._clock = clock
        self._tz = tz
        self._tracking_since = tracking_since
        self.repository = StatsRepository(storage.db)
        self.standings = StandingsRepository(storage.db)

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    @property
    def tracking_since(self) -> date | None:
        """The deployment's start of duty tracking: no period that ended before it was missed."""
        return self._tracking_since

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    def scope(self, actor: User) -> Scope:
        scope = scope_for(actor.role, actor.region_code, actor.institution_id) if actor.active else None
        if scope is None:
            raise Refusal("stats_not_for_role")
        return scope

    async def report(self, actor: User, period: StatsPeriod) -> StatsReport:
        return await self.report_for(self.scope(actor), period)

    async def report_for(self, scope: Scope, period: StatsPeriod) -> StatsReport:
        now, today = self._clock.now(), self.today()
        since, until = period.utc_bounds(self._tz)
        # The hazards (on the bot's connection) and the duties and warnings (on a second one) are counted at the
        # same time: each half of a year of the whole city is 60-75 ms, mostly SQLite, which releases the GIL, so
        # two cores do them side by side. An institution's figures take a few milliseconds, less than opening that
        # second connection.
        db = self._storage.db
        spread = scope.level is not ScopeLevel.INSTITUTION
        async with side_reader(db) if spread else nullcontext(db) as side, asyncio.TaskGroup() as group:
            hazard_half = group.create_task(self._hazard_figures(scope, since, until, now))
            duty_half = group.create_task(self._duty_figures(StatsRepository(side), scope, period, today))
        cohort, backlog, median_close, check_backs = hazard_half.result()
        institutions, (owed, inspected, running), (acks, median_ack), drills = duty_half.result()
        by_unit = cohort.by_unit
        codes = sorted(set(by_unit) | set(backlog) | set(institutions) | set(acks) | await self._known_units(scope))
        units = tuple(
            UnitFigures(
                code=code,
                hazards=by_unit.get(code, HazardCounts()),
                backlog_unresolved=backlog.get(code, (0, 0))[0],
                backlog_overdue=backlog.get(code, (0, 0))[1],
                drills=drills.get(code, Ratio()),
                inspections=Ratio(inspected.get(code, 0), owed.get(code, 0)),
                acks=Ratio(acks[code].answered, acks[code].reached) if code in acks else Ratio(),
                inspections_running=running.get(code, Ratio()),
            )
            for code in codes
        )
        return StatsReport(
            scope=scope,
            period=period,
            as_of=period.as_of(today),
            ended=until <= now,
            hazards=cohort.total,
            median_close_hours=median_close,
            backlog_unresolved=sum(u.backlog_unresolved for u in units),
            backlog_overdue=sum(u.backlog_overdue for u in units),
            by_area={HazardArea(k): v for k, v in cohort.by_area.items()},
            by_severity={Severity(k): v for k, v in cohort.by_severity.items()},
            by_source={SourceLevel(k): v for k, v in cohort.by_source.items()},
            by_type={InstitutionType(k): v for k, v in cohort.by_type.items()},
            drills=sum((u.drills for u in units), Ratio()),
            inspections=sum((u.inspections for u in units), Ratio()),
            acks=sum((u.acks for u in units), Ratio()),
            median_ack_minutes=median_ack,
            check_backs=check_backs,
            units=() if scope.level is ScopeLevel.INSTITUTION else units,
            regions=await self._regions(scope, codes),
            inspections_running=sum((u.inspections_running for u in units), Ratio()),
            running_due=_due(period.running_month(today)),
        )

    async def _hazard_figures(
        self, scope: Scope, since: datetime, until: datetime, now: datetime
    ) -> tuple[Cohort, dict[str, tuple[int, int]], float | None, CheckBackCounts]:
        """The cohort and its breakdowns, the backlog by unit, the median closing time and the check-backs asked.
        A period that has ended is told as it stood at its end (its last day's midnight): each hazard in the state
        its history had reached then, overdue by then, and the backlog of that moment, so October's figures read on
        20 November are October's close, not today's."""
        repo = self.repository
        if until <= now:
            cohort = count_cohort(await repo.cohort_columns(scope, since, until, until, from_history=True), scope)
            backlog = await repo.backlog_at(scope, until)
            median_close = await repo.median_close_hours(scope, since, until, cohort.total.closed, closed_by=until)
        else:
            cohort = count_cohort(await repo.cohort_columns(scope, since, until, now), scope)
            backlog = await repo.backlog_by(scope, now, GroupBy.UNIT)
            median_close = await repo.median_close_hours(scope, since, until, cohort.total.closed)
        check_backs = await repo.check_backs_asked(scope, since, until)
        return cohort, backlog, median_close, check_backs

    async def _duty_figures(
        self, repo: StatsRepository, scope: Scope, period: StatsPeriod, today: date
    ) -> tuple[Counter[str], _Inspections, tuple[dict[str, UnitAcks], float | None], dict[str, Ratio]]:
        """Institutions, self-inspections owed and finished (the months ended, and the running one apart), warnings
        answered (with the median answer time) and drill compliance, by unit. The roster of institutions is read
        once for all three duties."""
        roster = await repo.roster(scope)
        units = [unit_of(code, scope) for code in roster.region_codes]
        figures = await self._inspection_figures(repo, scope, roster, period, today)
        owed: Counter[str] = Counter()
        inspected: Counter[str] = Counter()
        running: dict[str, Ratio] = {}
        for unit, (settled, this_month) in zip(units, figures, strict=True):
            owed[unit] += settled.whole
            inspected[unit] += settled.part
            running[unit] = running.get(unit, Ratio()) + this_month
        since, until = period.utc_bounds(self._tz)
        acks = await repo.acks_with_median(scope, since, until)
        drills: dict[str, Ratio] = {}
        for unit, ok in zip(units, await self._drill_verdicts(scope, roster, period, today, repo), strict=True):
            drills[unit] = drills.get(unit, Ratio()) + (Ratio() if ok is None else Ratio(int(ok), 1))
        return Counter(units), (owed, inspected, running), acks, drills

    async def _inspection_figures(
        self, repo: StatsRepository, scope: Scope, roster: Roster, period: StatsPeriod, today: date
    ) -> list[tuple[Ratio, Ratio]]:
        """For each institution of the roster, in order: its self-inspections finished / owed over the months of
        the period that have ended, and the running month's finished / owing by the month's end. The running
        month is not due until its last day, so it is kept out of the rate: on 20 November, 1 of 17 done is
        progress, not a 6% compliance."""
        settled, running = period.settled_months(today), period.running_month(today)
        done = await repo.inspections_done(scope, [*settled, *([running] if running else [])])
        settled_owed, running_owed = _MonthsOwed(settled), _MonthsOwed([running] if running else [])
        figures = []
        for institution_id, tracked in zip(roster.ids, roster.tracked_from, strict=True):
            finished = done.get(institution_id, [])
            judged_from = judging_start(self._tracking_since, tracked)
            past = [month for month in finished if month != running]
            now = [month for month in finished if month == running]
            figures.append((
                Ratio(len(past), settled_owed.owed(judged_from, past)),
                Ratio(len(now), running_owed.owed(judged_from, now)) if running else Ratio(),
            ))
        return figures

    async def states_by_unit(self, actor: User, period: StatsPeriod) -> dict[str, dict[str, int]]:
        since, until = period.utc_bounds(self._tz)
        now = self._clock.now()
        ended = until <= now
        return await self.repository.states_by_unit(
            self.scope(actor), since, until, until if ended else now, from_history=ended
        )

    async def weekly_trend(self, actor: User, period: StatsPeriod) -> WeeklyTrend:
        since, until = period.utc_bounds(self._tz)
        origin = local_midnight(week_origin(period), self._tz)
        found, closed = await self.repository.weekly(self.scope(actor), since, until, origin)
        weeks = week_starts(period, self.today())
        return WeeklyTrend(
            weeks=tuple(weeks),
            found=tuple(found.get(n, 0) for n in range(len(weeks))),
            closed=tuple(closed.get(n, 0) for n in range(len(weeks))),
        )

    async def regions(self) -> list[Region]:
        return await self._storage.regions.all()

    async def recent_warnings(self, actor: User, period: StatsPeriod, limit: int = 5) -> list[tuple[int, str]]:
        since, until = period.utc_bounds(self._tz)
        found = await self.repository.recent_warnings(self.scope(actor), since, until, limit)
        return [(warning_id, headline) for warning_id, headline, _ in found]

    async def ack_curve(self, actor: User, warning_id: int) -> AckCurve:
        scope = self.scope(actor)
        sent, reached, answers = await self.repository.ack_times(scope, warning_id)
        warning = await self._storage.warnings.get(warning_id)
        if warning is None or reached == 0:
            # Also what a warning that never reached the asker's scope looks like: nothing to tell apart.
            raise Refusal("stats_warning_unknown")
        return AckCurve(warning_id, warning.headline, sent, reached, tuple(answers))

    async def drill_status(self, scope: Scope, period: StatsPeriod) -> dict[int, tuple[str, bool]]:
        """Institution id → (region code, compliant) with its fire-drill duty for the period (`_drill_verdicts`):
        not overdue, judged by the calendar's own rule and `compliance.status`, as /drills and the reminders judge
        it. An institution that owed no drill by then is left out: it can be neither compliant nor late."""
        roster = await self.repository.roster(scope)
        verdicts = await self._drill_verdicts(scope, roster, period, self.today(), self.repository)
        return {
            i: (code, ok)
            for i, code, ok in zip(roster.ids, roster.region_codes, verdicts, strict=True)
            if ok is not None
        }

    async def _drill_verdicts(
        self, scope: Scope, roster: Roster, period: StatsPeriod, today: date, repo: StatsRepository
    ) -> list[bool | None]:
        """Whether each institution of the roster, in order, is compliant with its fire-drill duty for the period;
        None for one that owed none then (`compliance.counted_compliant`). A running period is judged today; one
        that has ended, at its end: after its last day, so that a half-year or year ending with it, and missed,
        counts as missed in its figures, as the overdue notice of the next morning says. It is judged on the drills
        on record at its end: one entered late (补录) afterwards counts from then on, not in a month already told."""
        as_of, closed = period.as_of(today), today > period.end
        rules = {kind: drill_rule(kind) for kind in set(roster.types)}
        kinds = sorted({k.value for rule in rules.values() for k in rule.drill_kinds})
        # Only the current and the previous period of each rule decide a status.
        since = min((previous_period(r, period_of(r, as_of)).start for r in rules.values()), default=as_of)
        logged_before = period.utc_bounds(self._tz)[1] if closed else None
        dates = await repo.drill_dates(scope, kinds, since, logged_before=logged_before) if kinds else {}
        verdicts = []
        for institution_id, kind, tracked in zip(roster.ids, roster.types, roster.tracked_from, strict=True):
            rule = rules[kind]
            done = [day for drill_kind, day in dates.get(institution_id, ()) if drill_kind in rule.drill_kinds]
            judged_from = judging_start(self._tracking_since, tracked)
            verdicts.append(counted_compliant(rule, done, as_of, judged_from, closed=closed))
        return verdicts

    async def duties_by_institution(self, scope: Scope, period: StatsPeriod) -> dict[int, InstitutionDuties]:
        """Institution id → its duties for the period (`InstitutionDuties`), for each active institution in scope."""
        repo, today = self.repository, self.today()
        roster = await repo.roster(scope)
        as_of = period.as_of(today)
        verdicts = await self._drill_verdicts(scope, roster, period, today, repo)
        figures = await self._inspection_figures(repo, scope, roster, period, today)
        settled, running = period.settled_months(today), period.running_month(today)
        done = await repo.inspections_done(scope, settled)
        months_owed = _MonthsOwed(settled)
        kinds = sorted({k.value for kind in set(roster.types) for k in drill_rule(kind).drill_kinds})
        dates = await repo.drill_dates(scope, kinds, date.min) if kinds else {}
        duties: dict[int, InstitutionDuties] = {}
        for institution_id, kind, tracked, ok, (past, this_month) in zip(
            roster.ids, roster.types, roster.tracked_from, verdicts, figures, strict=True
        ):
            fire = drill_rule(kind).drill_kinds
            held = [day for drill_kind, day in dates.get(institution_id, ()) if drill_kind in fire and day <= as_of]
            judged_from = judging_start(self._tracking_since, tracked)
            duties[institution_id] = InstitutionDuties(
                drill_ok=ok,
                last_drill=max(held, default=None),
                inspections=past,
                missing=months_owed.missing(judged_from, done.get(institution_id, [])),
                running_done=bool(this_month.part) if running and this_month.whole else None,
            )
        return duties

    async def inspections_by_institution(self, scope: Scope, period: StatsPeriod) -> dict[int, Ratio]:
        """Institution id → its monthly self-inspections finished / owed over the months of the period that have
        ended, counted as /stats counts them for a unit (`_duty_figures`): the running month is not due yet, so it
        neither helps nor harms a ranking."""
        repo = self.repository
        roster = await repo.roster(scope)
        figures = await self._inspection_figures(repo, scope, roster, period, self.today())
        return {institution_id: settled for institution_id, (settled, _) in zip(roster.ids, figures, strict=True)}

    async def _known_units(self, scope: Scope) -> set[str]:
        """Every county of the city appears in its breakdown, even one with nothing to count yet."""
        if scope.level is ScopeLevel.CITY:
            return {county.code for county in await self._storage.regions.counties()}
        return set()

    async def _regions(self, scope: Scope, codes: list[str]) -> dict[str, Region]:
        wanted = set(codes) | ({scope.region_code} if scope.region_code else set())
        return {region.code: region for region in await self._storage.regions.all() if region.code in wanted}


def _due(month: str | None) -> date | None:
    return None if month is None else month_last_day(month)


_Inspections = tuple[Counter[str], Counter[str], dict[str, Ratio]]  # owed, finished (months ended), running month


class _MonthsOwed:
    """How many of these months ('YYYY-MM') owe a self-inspection for an institution judged from a day: those
    `compliance.owes` says it owes (every one for None), and any other it did one for all the same (a record made in
    the month it joined counts, as done and owed). Asked for each institution of the city, so the months' last
    joining days are worked out once and searched."""

    def __init__(self, months: list[str]) -> None:
        self._last_joining = {
            month: last_joining_day(SELF_INSPECTION_RULE, period_of(SELF_INSPECTION_RULE, month_start(month)))
            for month in months
        }
        self._sorted = sorted(self._last_joining.values())

    def missing(self, judged_from: date | None, finished: Iterable[str]) -> tuple[str, ...]:
        """The months owed (joined by their last joining day) and not finished, in order."""
        done = set(finished)
        return tuple(
            month for month, last in sorted(self._last_joining.items())
            if month not in done and (judged_from is None or last >= judged_from)
        )

    def owed(self, judged_from: date | None, finished: Iterable[str]) -> int:
        if judged_from is None:
            return len(self._sorted)
        owed = len(self._sorted) - bisect_left(self._sorted, judged_from)
        return owed + sum(1 for month in finished if self._last_joining[month] < judged_from)
