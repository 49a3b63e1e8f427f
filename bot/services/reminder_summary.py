"""Where the subjects of a long reminder message are, county by county (`bot.domain.batch_summary`).

A city admin's message of a morning lists ten reminders and counts the rest; the rest were never said at all, not
even which counties they were in. The round keeps every subject it gathered for a person (`Delivery.subjects`); this
finds each one's county and what it is about, from a few reads: the hazards' places and deadlines, the institutions'
places; a bureau's study session is its own region.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from bot.domain.batch_summary import CountyTally, Topic, period_key_end, tally
from bot.domain.compliance import Duty
from storage import Storage
from storage.models import RegionLevel

_DUTY_TOPICS = {
    Duty.FIRE_DRILL: (Topic.DRILL_OVERDUE, Topic.DRILL_DUE),
    Duty.SELF_INSPECTION: (Topic.SELFCHECK_OVERDUE, Topic.SELFCHECK_DUE),
    Duty.STUDY: (Topic.STUDY_OVERDUE, Topic.STUDY_DUE),
}


async def county_tallies(
    storage: Storage, subjects: Iterable[tuple[object, ...]], now: datetime, today: date
) -> list[CountyTally]:
    """The subjects (`reminder_items.subject_of`) counted by county and topic. A hazard counts as overdue once its
    deadline has passed; a duty once its period has ended (the reminder says it was missed)."""
    hazards: list[int] = []
    institution_duties: list[tuple[int, Duty, str]] = []
    headless: list[int] = []
    places: list[tuple[str, Topic]] = []
    for subject in subjects:
        match subject:
            case ("hazard", int(hazard_id)):
                hazards.append(hazard_id)
            case ("duty", Duty() as duty, int(institution_id), None, str(period)):
                institution_duties.append((institution_id, duty, period))
            case ("duty", Duty.STUDY, None, str(unit_code), str(period)):
                places.append((unit_code, _duty_topic(Duty.STUDY, period, today)))
            case ("headless", int(institution_id), _):
                headless.append(institution_id)
    for region_code, deadline in (await storage.hazards.places(hazards)).values():
        overdue = deadline is not None and deadline <= now
        places.append((region_code, Topic.HAZARD_OVERDUE if overdue else Topic.HAZARD_DUE))
    wanted = {i for i, _, _ in institution_duties} | set(headless)
    institutions = {i.id: i for i in await storage.institutions.get_many(wanted)}
    for institution_id, duty, period in institution_duties:
        if (institution := institutions.get(institution_id)) is not None:
            places.append((institution.region_code, _duty_topic(duty, period, today)))
    places += [(institutions[i].region_code, Topic.NO_HEAD) for i in headless if i in institutions]
    regions = await storage.regions.all()
    city = next((r.code for r in regions if r.level is RegionLevel.CITY), "")
    counties = [r.code for r in regions if r.level is RegionLevel.COUNTY]
    return tally(places, counties, city)


def _duty_topic(duty: Duty, period: str, today: date) -> Topic:
    overdue, due = _DUTY_TOPICS[duty]
    return overdue if period_key_end(period) < today else due
