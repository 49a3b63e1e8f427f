"""Rankings and notices (通报): who did well this month, and the negative list (负面清单) of what is overdue or
undone, drafted for a city admin to review before it goes to the bound groups through the outbox.

The service returns typed drafts and queues already-worded text; the words themselves are the handler's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from bot.clock import Clock
from bot.domain.compliance import SELF_INSPECTION_RULE, last_joining_day, owes, period_of
from bot.domain.ranking import LIST_LIMIT, Listed, Standing, best_performers, listed, rank
from bot.domain.roles import Role
from bot.domain.stats import Ratio, Scope, ScopeLevel, StatsPeriod
from bot.services.duties import month_start
from bot.services.errors import Refusal
from bot.services.outbox import OutboxService
from bot.services.stats import StatsReport, StatsService
from storage import Storage
from storage.models import Group, GroupPurpose, Region, RegionLevel, User
from storage.outbox_models import BatchProgress, NewOutboxMessage, OutboxPayload, Priority
from storage.repositories.standings import InstitutionRow, OverdueRow
from storage.repositories.stats import GroupBy

NOTICE_PURPOSES = {GroupPurpose.DIGESTS}  # GENERAL bindings are included by the repository


@dataclass(frozen=True)
class Ranking:
    scope: Scope
    period: StatsPeriod
    standings: tuple[Standing, ...]  # ranked, best first
    regions: dict[str, Region]  # county names (a city's ranking)
    institutions: dict[str, InstitutionRow]  # institution names (a county's ranking), by id as text
    # The period has ended: its overdue figure is of the hazards overdue at its end, not now (`ranking_key`).
    ended: bool = False
    # Listed apart, neither ranked nor praised: the institutions the city runs itself (市直), which are no county
    # (县（市、区）) and answer to the bureau directly, so the counties are not measured against them.
    apart: tuple[Standing, ...] = ()


@dataclass(frozen=True)
class NoticeDraft:
    period: StatsPeriod
    ranking: Ranking
    best: tuple[Standing, ...]
    # The longest overdue hazards that may be posted in groups. Rights-protection hazards are neither named nor
    # counted, here or in the ranking above it (`draft`): a county's count one higher than its list told its groups
    # that such a case was open there.
    overdue: Listed[OverdueRow]
    # The instant the negative list is judged at: a past month's end (its hazards overdue then, their days late
    # counted to then, as its ranking's 期末逾期), or now for a month still running (ranking.ended tells which).
    as_of: datetime
    drills_overdue: Listed[InstitutionRow]
    inspections_missing: Listed[InstitutionRow]  # no self-inspection finished for the period's last month
    groups: tuple[Group, ...]  # where it would go


@dataclass(frozen=True)
class NoticeQueued:
    batch: str
    queued: int  # messages newly queued (0 when the same notice was already sent)
    groups: int


def fingerprint(text: str) -> str:
    """A short name for exactly this text: the send button carries it, so what goes out is what was reviewed."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


class NoticeService:
    def __init__(self, storage: Storage, clock: Clock, stats: StatsService, outbox: OutboxService) -> None:
        self._storage = storage
        self._clock = clock
        self._stats = stats
        self._outbox = outbox

    @property
    def outbox(self) -> OutboxService:
        return self._outbox

    async def progress(self, batch: str) -> BatchProgress:
        return await self._outbox.progress(batch)

    async def ranking(self, actor: User, period: StatsPeriod, *, for_groups: bool = False) -> Ranking:
        """City admins rank the counties; county staff rank the institutions of their county. `for_groups`: the
        ranking a notice posts in groups, of the hazards groups may see (no rights protection, as the groups' digests
        count them): a county's figures must not let its groups infer such a case. Staff's own /ranking keeps them."""
        scope = self._stats.scope(actor)
        if for_groups:
            scope = replace(scope, hide_sensitive=True)
        if scope.level is ScopeLevel.INSTITUTION:
            raise Refusal("staff_only")
        end = self._ended_at(period)
        if scope.level is ScopeLevel.CITY:
            report = await self._stats.report_for(scope, period)
            at_end = None if end is None else await self._stats.repository.overdue_at(scope, end, GroupBy.UNIT)
            standings = _county_standings(report, at_end)
            counties = [s for s in standings if not _city_level(s.code, report.regions)]
            apart = tuple(s for s in standings if _city_level(s.code, report.regions))
            return Ranking(scope, period, tuple(rank(counties)), report.regions, {}, ended=end is not None,
                           apart=apart)
        return await self._institution_ranking(scope, period, end)

    def _ended_at(self, period: StatsPeriod) -> datetime | None:
        """The instant a period ended, when it has: a past month is judged on its own data, so a hazard overdue
        today but not at the month's end (or one overdue then and closed since) does not decide its ranking."""
        _, until = period.utc_bounds(self._stats.tz)
        return until if until <= self._clock.now() else None

    async def draft(self, actor: User, period: StatsPeriod) -> NoticeDraft:
        if actor.role is not Role.CITY or not actor.active:
            raise Refusal("notice_city_only")
        ranking = await self.ranking(actor, period, for_groups=True)
        scope = ranking.scope
        standings = self._stats.standings
        _, until = period.utc_bounds(self._stats.tz)
        as_of = until if ranking.ended else self._clock.now()
        overdue = await standings.overdue_hazards(scope, as_of, LIST_LIMIT, ended=ranking.ended)
        institutions = {row.id: row for row in await standings.institution_rows(scope)}
        compliant = await self._stats.drill_status(scope, period)
        late_drills = [institutions[i] for i, (_, ok) in compliant.items() if not ok and i in institutions]
        missing = await self._missing_inspections(scope, period.months(self._stats.today()))
        return NoticeDraft(
            period=period,
            ranking=ranking,
            best=tuple(best_performers(ranking.standings)),
            overdue=listed(overdue.rows, overdue.shown),
            as_of=as_of,
            drills_overdue=listed(late_drills),
            inspections_missing=listed(missing),
            groups=tuple(await self._storage.groups.within(actor.region_code, NOTICE_PURPOSES)),
        )

    async def send(self, actor: User, period: StatsPeriod, text: str) -> NoticeQueued:
        """Queue the reviewed text for every bound group, once: sending the same notice again queues nothing."""
        if actor.role is not Role.CITY or not actor.active:
            raise Refusal("notice_city_only")
        groups = await self._storage.groups.within(actor.region_code, NOTICE_PURPOSES)
        batch = f"notice:{period.token}:{fingerprint(text)}"
        messages = [
            NewOutboxMessage(
                dedupe_key=f"{batch}:chat:{group.chat_id}:{group.topic_id or 0}",
                chat_id=group.chat_id,
                topic_id=group.topic_id,
                payload=OutboxPayload(text=text),
                priority=Priority.BULK,
            )
            for group in groups
        ]
        async with self._storage.db.transaction():
            queued = await self._outbox.enqueue(messages, batch=batch)
            await self._storage.audit.append(
                actor.telegram_id,
                "notice.sent",
                target=f"notice:{period.token}",
                detail={"fingerprint": fingerprint(text), "groups": len(groups), "queued": queued},
            )
        return NoticeQueued(batch, queued, len(groups))

    async def _missing_inspections(self, scope: Scope, months: list[str]) -> list[InstitutionRow]:
        """The institutions without the period's last month's self-inspection, of those that owed one: none before
        the deployment tracked duties, nor any added after that month's 15th (`compliance.owes`)."""
        if not months:
            return []
        month = period_of(SELF_INSPECTION_RULE, month_start(months[-1]))
        if not owes(SELF_INSPECTION_RULE, month, self._stats.tracking_since):
            return []
        joined_by = last_joining_day(SELF_INSPECTION_RULE, month)
        return await self._stats.standings.missing_inspections(scope, months[-1], joined_by)

    async def _institution_ranking(self, scope: Scope, period: StatsPeriod, end: datetime | None) -> Ranking:
        since, until = period.utc_bounds(self._stats.tz)
        now, repo = self._clock.now(), self._stats.repository
        by = GroupBy.INSTITUTION
        cohort = await repo.cohort_by(scope, since, until, now, by)
        if end is None:
            overdue = {name: counts[1] for name, counts in (await repo.backlog_by(scope, now, by)).items()}
        else:
            overdue = await repo.overdue_at(scope, end, by)
        acks = await repo.acks_by(scope, since, until, by)
        drills = await self._stats.drill_status(scope, period)
        inspections = await self._stats.inspections_by_institution(scope, period)
        rows = {str(row.id): row for row in await self._stats.standings.institution_rows(scope)}
        standings = [
            Standing(
                code=code,
                on_time=cohort[code].punctuality if code in cohort else Ratio(),
                overdue=overdue.get(code, 0),
                drills=Ratio(int(drills[int(code)][1]), 1) if int(code) in drills else Ratio(),
                acks=Ratio(acks[code].answered, acks[code].reached) if code in acks else Ratio(),
                inspections=inspections.get(int(code), Ratio()),
            )
            for code in rows
        ]
        return Ranking(scope, period, tuple(rank(standings)), {}, rows, ended=end is not None)


def _city_level(code: str, regions: dict[str, Region]) -> bool:
    """Whether a unit of a city's ranking is the city itself (its own institutions, 市直) rather than a county."""
    region = regions.get(code)
    return region is not None and region.level is RegionLevel.CITY


def _county_standings(report: StatsReport, overdue_at_end: dict[str, int] | None) -> list[Standing]:
    """The counties' standings from their /stats figures; their overdue hazards at the period's end, when given,
    in place of those overdue now."""
    return [
        Standing(
            unit.code,
            unit.hazards.punctuality,
            unit.backlog_overdue if overdue_at_end is None else overdue_at_end.get(unit.code, 0),
            unit.drills,
            unit.acks,
            inspections=unit.inspections,
        )
        for unit in report.units
    ]
