"""What a county group's morning digest and the city's Monday summary say, as data for the renderer.

Groups never see a sensitive hazard (权益保障): those are left out of every count and list here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.catalog import SENSITIVE_AREAS
from bot.domain.compliance import Compliant, DueSoon, Duty, DutyStatus, Overdue
from bot.domain.roles import region_in_scope
from bot.services.duties import DutySnapshot
from bot.services.reminder_people import Directory
from storage import Storage
from storage.models import Region, RegionLevel, User
from storage.repositories.hazard_watch import HazardCounts

OVERDUE_LINES = 20  # a digest is read on a phone: the longest overdue first, the rest as a count


@dataclass(frozen=True)
class Person:
    telegram_id: int
    full_name: str


@dataclass(frozen=True)
class OverdueLine:
    hazard_id: int
    code: str
    institution_name_zh: str
    institution_name_en: str
    deadline: datetime
    overdue_by: timedelta
    responsible: tuple[Person, ...]  # named in every escalation


@dataclass(frozen=True)
class DutyLine:
    institution_id: int
    institution_name_zh: str
    institution_name_en: str
    duty: Duty
    status: DutyStatus  # DueSoon or Overdue; a region's lines come the longest overdue first


@dataclass(frozen=True)
class RegionLine:
    region_code: str
    name_zh: str
    name_en: str
    counts: HazardCounts
    drills_overdue: int  # institutions that missed their fire drill's period
    drills_due: int  # institutions whose drill is due soon (not missed yet)
    self_inspections_overdue: int
    self_inspections_due: int
    city_level: bool = False  # the institutions the city runs itself (市直), not a county


@dataclass(frozen=True)
class DigestData:
    region_code: str
    region_name_zh: str
    region_name_en: str
    since: datetime  # the window the counts of new and closed hazards cover
    until: datetime
    counts: HazardCounts
    overdue: tuple[OverdueLine, ...]
    duties_due: tuple[DutyLine, ...]
    regions: tuple[RegionLine, ...] = ()  # the weekly summary: one line per county


async def build_digest(
    storage: Storage,
    directory: Directory,
    duties: DutySnapshot,
    region: Region,
    since: datetime,
    until: datetime,
    *,
    per_county: bool,
) -> DigestData:
    counts = await storage.hazard_watch.counts(region.code, since, until, exclude_areas=SENSITIVE_AREAS)
    overdue = await storage.hazard_watch.overdue(region.code, until, exclude_areas=SENSITIVE_AREAS, limit=OVERDUE_LINES)
    lines = []
    for hazard in overdue:
        institution = directory.institutions.get(hazard.institution_id)
        assert hazard.deadline is not None  # only hazards with a deadline can be overdue
        lines.append(
            OverdueLine(
                hazard_id=hazard.id,
                code=hazard.code,
                institution_name_zh=institution.name_zh if institution else "",
                institution_name_en=institution.name_en if institution else "",
                deadline=hazard.deadline,
                overdue_by=until - hazard.deadline,
                responsible=people(directory.responsible_for(hazard)),
            )
        )
    regions: tuple[RegionLine, ...] = ()
    if per_county:
        lines_of = [
            await _region_line(storage, directory, duties, county, since, until)
            for county in sorted(directory.regions.values(), key=lambda r: r.code)
            if county.level is RegionLevel.COUNTY
        ]
        # The figures above cover the city's own institutions (市直) too: without a line of theirs the lines did
        # not add up to them, and those institutions were never named. A closed one's hazards stay open and in
        # the figures, so the line stays while it has any to count, even with no active city institution left.
        city_line = await _region_line(storage, directory, duties, region, since, until, city_level=True)
        if not city_line.counts.nothing or any(
            i.active and i.region_code == region.code for i in directory.institutions.values()
        ):
            lines_of.append(city_line)
        regions = tuple(lines_of)
    return DigestData(
        region_code=region.code,
        region_name_zh=region.name_zh,
        region_name_en=region.name_en,
        since=since,
        until=until,
        counts=counts,
        overdue=tuple(lines),
        duties_due=tuple(duties_due(directory, duties, region.code)),
        regions=regions,
    )


def duties_due(
    directory: Directory, duties: DutySnapshot, region_code: str, *, exactly: bool = False
) -> list[DutyLine]:
    """Active institutions of the region (with `exactly`, placed at the region itself) whose drill or
    self-inspection is due soon or overdue."""
    lines = []
    for institution in sorted(directory.institutions.values(), key=lambda i: i.code):
        if not institution.active or not region_in_scope(region_code, institution.region_code):
            continue
        if exactly and institution.region_code != region_code:
            continue
        for duty, state in (
            (Duty.FIRE_DRILL, duties.drill(institution)),
            (Duty.SELF_INSPECTION, duties.self_inspection(institution)),
        ):
            if not isinstance(state, Compliant):
                lines.append(DutyLine(institution.id, institution.name_zh, institution.name_en, duty, state))
    # A digest names the first ten: the longest overdue, then the nearest due (the order /drills reads in), never
    # the first ten codes while the overdue wait in the count of the rest.
    lines.sort(key=lambda line: _pressing(line.status))
    return lines


def _pressing(status: DutyStatus) -> tuple[int, int]:
    if isinstance(status, Overdue):
        return (0, -status.days_overdue)
    if isinstance(status, DueSoon):
        return (1, status.days_left)
    return (2, 0)


def people(users: list[User]) -> tuple[Person, ...]:
    return tuple(Person(u.telegram_id, u.full_name) for u in users)


def _counted(lines: list[DutyLine], duty: Duty, *, late: bool) -> int:
    """How many of the lines are this duty, missed already (`late`) or only due soon: the summary says which, since
    "待办" read as not yet late for homes that had missed a period."""
    return sum(1 for line in lines if line.duty is duty and isinstance(line.status, Overdue) is late)


async def _region_line(
    storage: Storage,
    directory: Directory,
    duties: DutySnapshot,
    county: Region,
    since: datetime,
    until: datetime,
    *,
    city_level: bool = False,
) -> RegionLine:
    counts = await storage.hazard_watch.counts(
        county.code, since, until, exclude_areas=SENSITIVE_AREAS, exactly=city_level
    )
    due = duties_due(directory, duties, county.code, exactly=city_level)
    return RegionLine(
        region_code=county.code,
        name_zh=county.name_zh,
        name_en=county.name_en,
        counts=counts,
        drills_overdue=_counted(due, Duty.FIRE_DRILL, late=True),
        drills_due=_counted(due, Duty.FIRE_DRILL, late=False),
        self_inspections_overdue=_counted(due, Duty.SELF_INSPECTION, late=True),
        self_inspections_due=_counted(due, Duty.SELF_INSPECTION, late=False),
        city_level=city_level,
    )
