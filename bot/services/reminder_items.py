"""What a due reminder is about, checked and filled in at the moment it goes out.

A reminder was planned days or weeks ago; by the time it is due the hazard may be closed, the drill logged, the
head replaced. `ItemBuilder.build` answers None for a reminder nobody needs any more (the sweep cancels it), and
otherwise the data the renderer needs: the hazard's code, deadline and how overdue, the person responsible by
name, the duty's period and status, the digest's numbers. No text: messages are the renderer's job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot.domain.batch_summary import county_of
from bot.domain.calendar_reminders import DEFAULT_SCHEDULE, escalates_headless, headless_days, urges_too_late
from bot.domain.catalog import HazardArea, Severity, severity_rank
from bot.domain.compliance import Duty, DutyStatus, Period
from bot.domain.lifecycle import OPEN_STATES, HazardState
from bot.domain.reminders import Audience, ReminderKind, deadline_stamp
from bot.services.digests import DigestData, Person, build_digest, people
from bot.services.duties import DutySnapshot, load_duties
from bot.services.reminder_people import Directory
from storage import Storage
from storage.calendar_models import SubjectType
from storage.hazard_models import Hazard
from storage.models import GroupPurpose, Institution, RegionLevel
from storage.repositories.reminders import ClaimedReminder, CountedReminder

log = logging.getLogger(__name__)

# The bindings that take digests (as `GroupRepository.within(…, {DIGESTS})` plans them).
DIGEST_PURPOSES = frozenset({GroupPurpose.GENERAL, GroupPurpose.DIGESTS})


@dataclass(frozen=True)
class Built:
    """What a sweep's claimed rows became."""

    items: list[tuple[ClaimedReminder, ReminderItem | None]]  # None: nobody needs that reminder any more
    broken: list[ClaimedReminder]  # could not be worded, for a fault of ours (logged): to be tried again later


@dataclass(frozen=True)
class HazardReminderData:
    hazard_id: int
    code: str
    institution_id: int
    institution_name_zh: str
    institution_name_en: str
    area: HazardArea
    severity: Severity
    state: HazardState
    deadline: datetime
    overdue_by: timedelta | None  # None while the deadline has not passed
    responsible: tuple[Person, ...]  # the person named responsible, else the heads; empty if nobody yet


@dataclass(frozen=True)
class DutyReminderData:
    duty: Duty
    period: Period  # the period the reminder is about (for "overdue", the one that was missed)
    status: DutyStatus  # where the institution or unit stands today
    institution_id: int | None  # drills and self-inspections
    unit_code: str | None  # study sessions: the bureau's region code
    name_zh: str  # of the institution or unit
    name_en: str
    responsible: tuple[Person, ...]  # the heads, or the unit's staff


@dataclass(frozen=True)
class HeadlessReminderData:
    """An institution long without a registered head, named to the city admins once a month."""

    institution_id: int
    name_zh: str
    name_en: str
    county_code: str  # the county it is in; the city's code for one the city runs
    county_name_zh: str
    county_name_en: str
    city_run: bool  # run by the city itself (市直): under no county
    since: date | None  # when it last had a head, or was added; None: never had one, for as long as is known
    days: int | None  # since then
    period: Period  # the month it is named in (one line a month)


ReminderData = HazardReminderData | DutyReminderData | HeadlessReminderData | DigestData


@dataclass(frozen=True)
class ReminderItem:
    reminder_id: int
    kind: ReminderKind
    step: str  # the ladder or schedule step: before24h, overdue3d, repeat2, due30, open, …
    due_at: datetime
    late: bool  # it was due well before it went out: the bot was down, or quiet hours held it
    urgent: bool
    attempt: int  # 1 on the first try
    data: ReminderData


# A message lists at most this many items, the most pressing first, and counts the rest (handlers/reminder_text.py):
# so a round keeps no more than these of a person's items, however many rows it claims for them.
LISTED_ITEMS = 10


@dataclass(frozen=True)
class Delivery:
    """Everything due for one recipient, to be sent as one message: the items to list, the most pressing first, and
    how many more it stands for (`unlisted`, counted by what they are about, as `subject_of` tells them apart), whose
    rows (`covered`) are settled with it."""

    recipient_id: int  # a user, or a chat for groups (negative)
    topic_id: int | None
    worker_id: str  # the sweeper holding the claim; confirm / release must come from it
    items: tuple[ReminderItem, ...]
    unlisted: int = 0  # hazards and duties due besides those of `items`, counted in the message
    covered: tuple[int, ...] = ()  # the rows of those, and of earlier steps said by a listed item's later one
    # Every subject of the message, listed and counted (`subject_of`), when some are counted: to say by county what
    # the count stands for (`reminder_summary`); empty otherwise.
    subjects: tuple[tuple[object, ...], ...] = ()

    @property
    def reminder_ids(self) -> list[int]:
        return [item.reminder_id for item in self.items] + list(self.covered)

    @property
    def is_group(self) -> bool:
        return self.recipient_id < 0

    @property
    def urgent(self) -> bool:
        return any(item.urgent for item in self.items)


def pressing_first(item: ReminderItem) -> tuple[int, str, bool, int, datetime, int]:
    """The order of a message's items: urgent (重大) hazards, then by when the hazard's deadline or the duty's
    period ended, the longest overdue first and then the soonest due; on the same day an institution long without a
    head after the duties (it asks for an invitation, not for something overdue), and the graver hazard first on the
    same deadline. Not by when the reminder row fell due: a week's overdue hazards all repeat at Monday 09:00, so
    that tie put them in code order and a hazard one day overdue was listed above one 115 days overdue. The same
    order as a person's rows are claimed in (`storage.repositories.reminders.PRESSING_ORDER`), so that the rows
    built to be listed are the most pressing ones."""
    data = item.data
    if isinstance(data, HazardReminderData):
        ended, gravity = deadline_stamp(data.deadline), severity_rank(data.severity)
    elif isinstance(data, DutyReminderData | HeadlessReminderData):
        ended, gravity = data.period.end.isoformat(), 0
    else:
        ended, gravity = "", 0
    headless = item.kind is ReminderKind.HEADLESS
    return (0 if item.urgent else 1, ended, headless, -gravity, item.due_at, item.reminder_id)


def subject_of(item: ReminderItem) -> tuple[object, ...]:
    """What the item is about: one hazard, one duty of one period, or (for digests) the row itself. Several steps
    about the same subject due together (the bot was down across a deadline) are said once, by the latest."""
    data = item.data
    if isinstance(data, HazardReminderData):
        return ("hazard", data.hazard_id)
    if isinstance(data, DutyReminderData):
        return ("duty", data.duty, data.institution_id, data.unit_code, data.period.key)
    if isinstance(data, HeadlessReminderData):
        return ("headless", data.institution_id, data.period.key)
    return ("digest", item.reminder_id)


def row_subject(row: CountedReminder) -> tuple[object, ...]:
    """`subject_of` for a row counted without being built: the same key for the same hazard or duty."""
    if row.subject_type is SubjectType.HAZARD:
        return ("hazard", int(row.subject_id))
    if row.subject_type is SubjectType.INSTITUTION and row.duty is not None:
        return ("duty", Duty(row.duty), int(row.subject_id), None, row.period)
    if row.subject_type is SubjectType.INSTITUTION:
        return ("headless", int(row.subject_id), row.period)
    if row.subject_type is SubjectType.UNIT:
        return ("duty", Duty.STUDY, None, row.subject_id, row.period)
    return ("digest", row.id)


class ItemBuilder:
    """One per sweep: caches what several reminders share (a hazard, the duty snapshot, the directory).

    A claim is hundreds of rows about a few dozen subjects (an institution's overdue self-inspection goes to its
    heads and every county staff member of its county), so what a subject's rows have in common (its data, who
    its audiences are) is worked out once per subject and shared by its rows.
    """

    def __init__(
        self,
        storage: Storage,
        directory: Directory,
        now: datetime,
        tz: ZoneInfo,
        judged_from: date | None,
        hazards: dict[int, Hazard] | None = None,
        *,
        headless_after_days: int = DEFAULT_SCHEDULE.headless_after_days,
    ) -> None:
        """`hazards`: those of the claimed rows, read at once (`HazardRepository.get_many`); any other is read
        when asked for. `headless_after_days`: how long an institution goes without a head before the city hears."""
        self._headless_after = headless_after_days
        self._storage = storage
        self._directory = directory
        self._now = now
        self._tz = tz
        self._today = now.astimezone(tz).date()
        self._judged_from = judged_from
        self._hazards: dict[int, Hazard | None] = dict(hazards or {})
        self._prefetched = hazards is not None
        self._duties: DutySnapshot | None = None
        self._months: tuple[str, ...] = ()
        self._needed: frozenset[Duty] = frozenset(Duty)
        self._institutions: frozenset[int] | None = None
        self._data: dict[tuple[object, ...], ReminderData | None] = {}
        self._audiences: dict[tuple[object, ...], frozenset[tuple[int, int | None]]] = {}
        self._joined_after_slot: list[ClaimedReminder] = []

    async def build_all(self, reminders: list[ClaimedReminder]) -> Built:
        self._months = tuple(sorted({r.period for r in reminders if r.step and _is_monthly(r) and r.period}))
        self._needed = frozenset(duty for kind in {_duty_kind(r) for r in reminders} for duty in _duties_needed(kind))
        # A digest judges every institution of its region; otherwise only the claimed rows' institutions are asked.
        if not any(r.subject_type is SubjectType.GROUP for r in reminders):
            self._institutions = frozenset(
                int(r.subject_id) for r in reminders if r.subject_type is SubjectType.INSTITUTION
            )
        built = Built([], [])
        for reminder in reminders:
            try:
                built.items.append((reminder, await self.build(reminder)))
            except Exception:
                # One row that cannot be worded (a fault of ours) must not hold up every reminder due with it: the
                # round would fail, and each tick after would claim the same row first and fail again.
                log.exception("reminder %d (%s, %s) could not be worded; it is tried again later, the others go out",
                              reminder.id, reminder.kind.value, reminder.step)
                built.broken.append(reminder)
        return built

    async def build(self, reminder: ClaimedReminder) -> ReminderItem | None:
        data: ReminderData | None
        duty = reminder.subject_type in (SubjectType.INSTITUTION, SubjectType.UNIT)
        if duty and urges_too_late(reminder.kind, _period(reminder), self._today):
            return None  # "do it by the 30th", sent on 3 December: nobody can any more
        if reminder.subject_type is SubjectType.HAZARD:
            data = await self._hazard(reminder)
        elif reminder.kind is ReminderKind.HEADLESS:
            data = await self._headless(reminder)
        elif reminder.subject_type is SubjectType.INSTITUTION:
            data = await self._institution_duty(reminder)
        elif reminder.subject_type is SubjectType.UNIT:
            data = await self._unit_duty(reminder)
        else:
            data = await self._digest(reminder)
        if data is None:
            return None
        # A group bound after the digest's slot (bound at 10:00, the digest due at 08:30) was not kept waiting: its
        # first digest is not "late", whatever the slot says.
        late = reminder.late and reminder not in self._joined_after_slot
        return ReminderItem(
            reminder_id=reminder.id,
            kind=reminder.kind,
            step=reminder.step,
            due_at=reminder.due_at,
            late=late,
            urgent=reminder.urgent,
            attempt=reminder.attempts,
            data=data,
        )

    async def hazard(self, hazard_id: int) -> Hazard | None:
        if hazard_id not in self._hazards:
            self._hazards[hazard_id] = None if self._prefetched else await self._storage.hazards.get(hazard_id)
        return self._hazards[hazard_id]

    async def _hazard(self, reminder: ClaimedReminder) -> HazardReminderData | None:
        hazard = await self.hazard(int(reminder.subject_id))
        if hazard is None or hazard.state not in OPEN_STATES or hazard.deadline is None:
            return None
        if reminder.detail.get("deadline") != deadline_stamp(hazard.deadline):
            return None  # planned for a deadline that has since changed
        audiences = _audiences(reminder)
        key = ("hazard", hazard.id, audiences)
        if key not in self._audiences:
            self._audiences[key] = frozenset(await self._directory.for_hazard(hazard, audiences))
        if _recipient(reminder) not in self._audiences[key]:
            return None  # reassigned, or the person left
        data = self._data.get(("hazard", hazard.id))
        if data is None:
            data = self._data[("hazard", hazard.id)] = self._hazard_data(hazard)
        assert isinstance(data, HazardReminderData)
        return data

    def _hazard_data(self, hazard: Hazard) -> HazardReminderData:
        assert hazard.deadline is not None
        institution = self._directory.institutions.get(hazard.institution_id)
        return HazardReminderData(
            hazard_id=hazard.id,
            code=hazard.code,
            institution_id=hazard.institution_id,
            institution_name_zh=institution.name_zh if institution else "",
            institution_name_en=institution.name_en if institution else "",
            area=hazard.area,
            severity=hazard.severity,
            state=hazard.state,
            deadline=hazard.deadline,
            overdue_by=self._now - hazard.deadline if self._now > hazard.deadline else None,
            responsible=people(self._directory.responsible_for(hazard)),
        )

    async def _institution_duty(self, reminder: ClaimedReminder) -> DutyReminderData | None:
        institution = self._directory.institutions.get(int(reminder.subject_id))
        if institution is None or not institution.active:
            return None
        audiences = _audiences(reminder)
        key = ("institution", institution.id, audiences)
        if key not in self._audiences:
            self._audiences[key] = frozenset(self._directory.for_institution(institution, audiences))
        if _recipient(reminder) not in self._audiences[key]:
            return None
        duty, start, end = reminder.detail["duty"], reminder.detail["start"], reminder.detail["end"]
        data_key = ("institution", institution.id, duty, start, end)
        if data_key not in self._data:
            self._data[data_key] = await self._institution_duty_data(institution, Duty(duty), _period(reminder))
        data = self._data[data_key]
        assert data is None or isinstance(data, DutyReminderData)
        return data

    async def _institution_duty_data(
        self, institution: Institution, duty: Duty, period: Period
    ) -> DutyReminderData | None:
        """None once the duty is done for the period, or for a period the institution does not owe
        (`compliance.owes`)."""
        duties = await self._snapshot()
        if not duties.judges(duty, institution, period) or duties.institution_duty_done_in(duty, institution, period):
            return None
        return DutyReminderData(
            duty=duty,
            period=period,
            status=duties.institution_duty(duty, institution),
            institution_id=institution.id,
            unit_code=None,
            name_zh=institution.name_zh,
            name_en=institution.name_en,
            responsible=people(self._directory.heads_of(institution.id)),
        )

    async def _headless(self, reminder: ClaimedReminder) -> HeadlessReminderData | None:
        """None once it has a head again, is closed, or has not yet gone `headless_after_days` without one; and for a
        month gone by (the bot was down on the 1st): this month's line says the same, with the days counted to now."""
        if _period(reminder).end < self._today:
            return None
        institution = self._directory.institutions.get(int(reminder.subject_id))
        if institution is None or not institution.active or self._directory.heads_of(institution.id):
            return None
        if _recipient(reminder) not in self._directory.for_institution(institution, _audiences(reminder)):
            return None
        former = await self._storage.users.former_head(institution.id)
        ended = None if former is None or former.access_ended_at is None else former.access_ended_at
        known = [
            day for day in (
                None if ended is None else ended.astimezone(self._tz).date(),
                institution.tracked_from,
                self._judged_from,
            ) if day is not None
        ]
        since = max(known, default=None)
        if not escalates_headless(since, self._today, self._headless_after):
            return None
        county_code = self._county_of(institution.region_code)
        county = self._directory.regions.get(county_code)
        return HeadlessReminderData(
            institution_id=institution.id,
            name_zh=institution.name_zh,
            name_en=institution.name_en,
            county_code=county_code,
            county_name_zh=county.name_zh if county else county_code,
            county_name_en=county.name_en if county else county_code,
            city_run=county is not None and county.level is RegionLevel.CITY,
            since=since,
            days=headless_days(since, self._today),
            period=_period(reminder),
        )

    def _county_of(self, region_code: str) -> str:
        regions = self._directory.regions.values()
        counties = [r.code for r in regions if r.level is RegionLevel.COUNTY]
        city = next((r.code for r in regions if r.level is RegionLevel.CITY), region_code)
        return county_of(region_code, counties, city)

    async def _unit_duty(self, reminder: ClaimedReminder) -> DutyReminderData | None:
        unit = self._directory.regions.get(reminder.subject_id)
        period = _period(reminder)
        duties = await self._snapshot()
        if unit is None or duties.study_done_in(unit.code, period):
            return None
        if _recipient(reminder) not in self._directory.for_unit(unit.code, _audiences(reminder)):
            return None
        return DutyReminderData(
            duty=Duty.STUDY,
            period=period,
            status=duties.study(unit.code),
            institution_id=None,
            unit_code=unit.code,
            name_zh=unit.name_zh,
            name_en=unit.name_en,
            responsible=people(self._directory.unit_staff(unit.code)),
        )

    async def _digest(self, reminder: ClaimedReminder) -> DigestData | None:
        group = await self._storage.groups.get(reminder.recipient_id, reminder.topic_id)
        region = None if group is None else self._directory.regions.get(group.region_code)
        if group is None or not group.active or region is None:
            return None
        until = reminder.due_at
        since = until - timedelta(days=int(reminder.detail["window_days"]))
        weekly = reminder.kind is ReminderKind.WEEKLY_SUMMARY
        if region.level is not (RegionLevel.CITY if weekly else RegionLevel.COUNTY):
            return None  # rebound to another level since it was planned
        if group.purpose not in DIGEST_PURPOSES:
            return None  # rebound to another purpose (warnings only, say) since it was planned
        if group.bound_at > reminder.due_at:
            self._joined_after_slot.append(reminder)
        duties = await self._snapshot()
        return await build_digest(self._storage, self._directory, duties, region, since, until, per_county=weekly)

    async def _snapshot(self) -> DutySnapshot:
        if self._duties is None:
            self._duties = await load_duties(
                self._storage,
                self._today,
                judged_from=self._judged_from,
                extra_months=self._months,
                only=self._needed,
                institutions=self._institutions,
            )
        return self._duties


def _recipient(reminder: ClaimedReminder) -> tuple[int, int | None]:
    return reminder.recipient_id, reminder.topic_id


def _audiences(reminder: ClaimedReminder) -> frozenset[Audience]:
    return _audience_set(tuple(reminder.detail.get("audiences", ())))


@cache
def _audience_set(names: tuple[str, ...]) -> frozenset[Audience]:
    # A handful of combinations, asked about by every claimed row.
    return frozenset(Audience(name) for name in names)


def _period(reminder: ClaimedReminder) -> Period:
    return Period(date.fromisoformat(reminder.detail["start"]), date.fromisoformat(reminder.detail["end"]))


def _duty_kind(reminder: ClaimedReminder) -> tuple[SubjectType, str | None]:
    return reminder.subject_type, reminder.detail.get("duty")


def _duties_needed(kind: tuple[SubjectType, str | None]) -> tuple[Duty, ...]:
    """The duties whose records a claimed row of this kind is judged by."""
    subject_type, duty = kind
    if subject_type is SubjectType.INSTITUTION and duty is not None:
        return (Duty(duty),)
    if subject_type is SubjectType.UNIT:
        return (Duty.STUDY,)
    if subject_type is SubjectType.GROUP:
        return tuple(Duty)  # a digest lists every duty due in its region
    return ()


def _is_monthly(reminder: ClaimedReminder) -> bool:
    return reminder.subject_type is SubjectType.INSTITUTION and reminder.detail.get("duty") == Duty.SELF_INSPECTION
