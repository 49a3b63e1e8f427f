"""Calendar duties: drills (`DrillService`) and study sessions (`StudyService`); the monthly self-inspection
is `bot.services.self_inspection.SelfInspectionService`.

Each logs what was done, with evidence, and answers where an institution or unit stands (`status`, `record`).
Problems a drill uncovers become hazards through the hazard loop, found by a self-check (自查, 马上改).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.compliance import (
    STUDY_RULE,
    DrillKind,
    DutyRule,
    DutyStatus,
    Period,
    drill_rule,
    entered_late,
    judging_start,
    next_period,
    owes,
    period_of,
)
from bot.domain.roles import Role, region_in_scope
from bot.services.duties import load_duties
from bot.services.errors import Refusal
from bot.services.evidence import EvidenceStore
from bot.services.hazard_core import MAX_PHOTOS, checked_text
from bot.services.hazards import HazardOutcome, HazardService
from storage import Storage
from storage.calendar_models import Drill, NewDrill, NewStudySession, StudySession
from storage.hazard_models import Hazard, PhotoRef, ReportDraft
from storage.models import Institution, Region, RegionLevel, User

MAX_PARTICIPANTS = 10_000
MAX_DURATION_MINUTES = 24 * 60
# A drill or session logged long after the fact is more likely a typo in the year than a late entry.
MAX_AGE = timedelta(days=366)


class HazardPlanner(Protocol):
    """What the calendar services need of the reminder engine: plan a hazard they just created."""

    async def plan_for_hazard(self, hazard: Hazard) -> None: ...


class DrillProblem(BaseModel):
    """A problem a drill revealed; with `report` it becomes a hazard (source: self-check)."""

    model_config = ConfigDict(frozen=True)

    description: str
    area: HazardArea = HazardArea.FIRE
    severity: Severity = Severity.GENERAL
    photos: list[PhotoRef] = Field(default_factory=list)
    report: bool = True


class DrillEntry(BaseModel):
    """A drill as the head describes it; a pydantic model so that a journey can keep it as a draft."""

    model_config = ConfigDict(frozen=True)

    institution_id: int
    kind: DrillKind
    held_on: date
    participants: int
    duration_minutes: int
    practised: str
    photos: list[PhotoRef]
    problems: list[DrillProblem] = Field(default_factory=list)


@dataclass(frozen=True)
class LateEntry:
    """A drill entered after its period had ended (补录)."""

    period: Period  # the period it was held in
    # It is the first on record for a period the institution owed, of a kind its duty counts: the period had
    # ended with none, the county was told it was missed, and this entry is what makes it good. Those staff are
    # to check it (`tell`).
    fills_miss: bool
    tell: list[User]  # the county staff covering the institution (the city admins where none), not the logger


@dataclass(frozen=True)
class DrillLogged:
    drill: Drill
    hazards: list[HazardOutcome]  # one per reported problem, with the notices to send
    status: DutyStatus  # the institution's standing after this drill
    late: LateEntry | None = None  # entered after its period had ended (补录)


@dataclass(frozen=True)
class DrillRecord:
    institution: Institution
    rule: DutyRule
    drills: list[Drill]  # newest first
    status: DutyStatus


@dataclass(frozen=True)
class StudyHalf:
    """One half-year of the study duty across some units, as it stood on a day (`StudyService.halves`)."""

    period: Period
    ended: bool  # over by then: a unit with no session in it missed it
    held: tuple[Region, ...]
    not_held: tuple[Region, ...]


@dataclass(frozen=True)
class StudyRecord:
    unit: Region
    sessions: list[StudySession]  # newest first
    status: DutyStatus


class CalendarServiceBase:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        tz: ZoneInfo,
        *,
        hazards: HazardService | None = None,
        evidence: EvidenceStore | None = None,
        planner: HazardPlanner | None = None,
        tracking_since: date | None = None,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._tz = tz
        self._hazards = hazards
        self._evidence = evidence
        self._planner = planner
        self._tracking_since = tracking_since

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    def _check_day(self, held_on: date) -> None:
        today = self.today()
        if held_on > today:
            raise Refusal("date_in_future")
        if held_on < today - MAX_AGE:
            raise Refusal("date_too_old")

    def _check_photos(self, photos: list[PhotoRef], *, minimum: int = 0) -> None:
        if len(photos) < minimum:
            raise Refusal("photo_required")
        if len(photos) > MAX_PHOTOS:
            raise Refusal("too_many_photos", max=MAX_PHOTOS)
        for photo in photos:
            if self._evidence is not None and not self._evidence.exists(photo.sha256):
                # The handler keeps the bytes before it hands over a PhotoRef; a missing file is a bug there.
                raise ValueError(f"photo {photo.file_unique_id} is not in the evidence store")

    async def _plan(self, outcomes: list[HazardOutcome]) -> None:
        if self._planner is not None:
            for outcome in outcomes:
                await self._planner.plan_for_hazard(outcome.hazard)

    async def _refuse(self, actor: User, action: str, target: str) -> Refusal:
        await self._storage.audit.append(
            actor.telegram_id, "authz.refused", target=target, detail={"action": action, "reason": "not_in_scope"}
        )
        return Refusal("not_in_scope")


def may_log_for(actor: User, institution: Institution) -> bool:
    """The institution's own head, or staff whose region contains it."""
    if actor.role is Role.HEAD:
        return actor.institution_id == institution.id
    if actor.role is Role.CITY:
        return region_in_scope(actor.region_code, institution.region_code)
    if actor.role is Role.COUNTY:
        return actor.region_code is not None and region_in_scope(actor.region_code, institution.region_code)
    return False


class DrillService(CalendarServiceBase):
    async def log(self, actor: User, entry: DrillEntry) -> DrillLogged:
        institution = await self._storage.institutions.get(entry.institution_id)
        if institution is None or not institution.active or not may_log_for(actor, institution):
            raise await self._refuse(actor, "drill.log", f"institution:{entry.institution_id}")
        self._check_day(entry.held_on)
        if not 0 < entry.participants <= MAX_PARTICIPANTS:
            raise Refusal("participants_invalid", max=MAX_PARTICIPANTS)
        if not 0 < entry.duration_minutes <= MAX_DURATION_MINUTES:
            raise Refusal("duration_invalid", max=MAX_DURATION_MINUTES)
        practised = checked_text(entry.practised, field_name="practised", minimum=2)
        assert practised is not None
        self._check_photos(entry.photos, minimum=1)
        problems: list[str] = []
        for problem in entry.problems:
            problems.append(checked_text(problem.description, field_name="description", minimum=1) or "")
            self._check_photos(problem.photos)
        now = self._clock.now()
        late = await self._late_entry(actor, institution, entry)
        outcomes: list[HazardOutcome] = []
        async with self._storage.db.transaction():
            for problem in entry.problems:
                if problem.report:
                    outcomes.append(await self._report(actor, institution, problem))
            new = NewDrill(
                institution_id=institution.id,
                kind=entry.kind,
                held_on=entry.held_on,
                participants=entry.participants,
                duration_minutes=entry.duration_minutes,
                practised=practised,
                problems="\n".join(problems) or None,
                hazard_ids=tuple(o.hazard.id for o in outcomes),
                logged_by=actor.telegram_id,
                logged_at=now,
            )
            drill = await self._storage.calendar.add_drill(new, entry.photos)
            await self._storage.audit.append(
                actor.telegram_id,
                "drill.logged",
                target=f"institution:{institution.id}",
                detail={
                    "drill_id": drill.id, "kind": drill.kind, "held_on": drill.held_on, "hazards": new.hazard_ids,
                    **({"late_for": late.period.key, "fills_miss": late.fills_miss} if late else {}),
                },
            )
        await self._plan(outcomes)
        return DrillLogged(drill, outcomes, await self.status(institution), late)

    async def _late_entry(self, actor: User, institution: Institution, entry: DrillEntry) -> LateEntry | None:
        """Whether the drill is entered after its period ended (`compliance.entered_late`), and whether it is the
        first for a period the institution owed and had missed: then the county staff are told, to check it."""
        rule = drill_rule(institution.type)
        if not entered_late(rule, entry.held_on, self.today()):
            return None
        period = period_of(rule, entry.held_on)
        judged_from = judging_start(self._tracking_since, institution.tracked_from)
        earlier = await self._storage.calendar.drills_of(institution.id, since=period.start)
        fills_miss = entry.kind in rule.drill_kinds and owes(rule, period, judged_from) and not any(
            d.kind in rule.drill_kinds and d.held_on in period for d in earlier
        )
        staff = await self._storage.users.staff_for_region(institution.region_code) if fills_miss else []
        county = [u for u in staff if u.role is Role.COUNTY]
        tell = [u for u in county or staff if u.telegram_id != actor.telegram_id]
        return LateEntry(period, fills_miss, tell)

    async def _report(self, actor: User, institution: Institution, problem: DrillProblem) -> HazardOutcome:
        if self._hazards is None:
            raise RuntimeError("DrillService needs a HazardService to report problems as hazards")
        draft = ReportDraft(
            institution_id=institution.id,
            area=problem.area,
            severity=problem.severity,
            description=problem.description,
            photos=problem.photos,
            source_level=SourceLevel.SELF_CHECK,
        )
        return await self._hazards.submit_report(actor, draft)

    async def status(self, institution: Institution, today: date | None = None) -> DutyStatus:
        duties = await load_duties(
            self._storage, today or self.today(), judged_from=self._tracking_since, institution_id=institution.id
        )
        return duties.drill(institution)

    async def record(self, institution: Institution) -> DrillRecord:
        drills = await self._storage.calendar.drills_of(institution.id)
        return DrillRecord(institution, drill_rule(institution.type), drills, await self.status(institution))


class StudyService(CalendarServiceBase):
    async def log(
        self, actor: User, held_on: date, topic: str, participants: int, unit_code: str | None = None
    ) -> StudyRecord:
        """County staff log for their county; city admins for the city bureau or any county (`unit_code`)."""
        unit = await self._unit_for(actor, unit_code)
        if unit is None:
            raise await self._refuse(actor, "study.log", f"unit:{unit_code}")
        self._check_day(held_on)
        if not 0 < participants <= MAX_PARTICIPANTS:
            raise Refusal("participants_invalid", max=MAX_PARTICIPANTS)
        text = checked_text(topic, field_name="topic", minimum=2)
        assert text is not None
        now = self._clock.now()
        async with self._storage.db.transaction():
            session = await self._storage.calendar.add_study(
                NewStudySession(
                    unit_region_code=unit.code,
                    held_on=held_on,
                    topic=text,
                    participants=participants,
                    logged_by=actor.telegram_id,
                    logged_at=now,
                )
            )
            await self._storage.audit.append(
                actor.telegram_id, "study.logged", target=f"unit:{unit.code}", detail={"session_id": session.id}
            )
        return await self.record(unit)

    async def units(self) -> list[Region]:
        """The bureaus that owe study sessions: the city's own and each county's."""
        regions = await self._storage.regions.all()
        return [r for r in regions if r.level in (RegionLevel.CITY, RegionLevel.COUNTY)]

    async def status(self, unit: Region, today: date | None = None) -> DutyStatus:
        duties = await load_duties(
            self._storage, today or self.today(), judged_from=self._tracking_since, unit_code=unit.code
        )
        return duties.study(unit.code)

    async def units_under(self, region_code: str | None) -> list[Region]:
        """The bureaus a view of this region answers for: the city's own and every county's for the city (None, or
        the city's code), the county's alone for a county."""
        units = await self.units()
        city = next((unit for unit in units if unit.level is RegionLevel.CITY), None)
        if region_code is None or (city is not None and region_code == city.code):
            return units
        return [unit for unit in units if unit.code == region_code]

    async def halves(self, units: list[Region], start: date, as_of: date) -> list[StudyHalf]:
        """The half-years from the one holding `start` to the one holding `as_of`, each owed (`compliance.owes`)
        and begun by then, with the units that held a session in it on or before `as_of` and those that did not:
        what a statistics period says of the study duty. A half-year is `ended` once it is over by `as_of` and by
        today (a period's figures of 30 June are judged that evening, not as missed)."""
        if not units:
            return []
        sessions = await self._storage.calendar.study_dates(since=period_of(STUDY_RULE, start).start)
        today, halves = self.today(), []
        half = period_of(STUDY_RULE, start)
        while half.start <= as_of:
            if owes(STUDY_RULE, half, self._tracking_since):
                held = [u for u in units if any(d in half and d <= as_of for d in sessions.get(u.code, ()))]
                halves.append(StudyHalf(
                    period=half,
                    ended=half.end <= as_of and half.end < today,
                    held=tuple(held),
                    not_held=tuple(u for u in units if u not in held),
                ))
            half = next_period(STUDY_RULE, half)
        return halves

    async def record(self, unit: Region) -> StudyRecord:
        sessions = await self._storage.calendar.studies_of(unit.code)
        return StudyRecord(unit, sessions, await self.status(unit))

    async def _unit_for(self, actor: User, unit_code: str | None) -> Region | None:
        if actor.role is Role.COUNTY:
            if actor.region_code is None or unit_code not in (None, actor.region_code):
                return None
            unit_code = actor.region_code
        elif actor.role is Role.CITY:
            if unit_code is None:
                city = await self._storage.regions.city()
                unit_code = None if city is None else city.code
        else:
            return None
        unit = None if unit_code is None else await self._storage.regions.get(unit_code)
        if unit is None or unit.level not in (RegionLevel.CITY, RegionLevel.COUNTY):
            return None
        return unit
