"""The reminder engine: plans every scheduled message into the reminders table, then sweeps it.

The table, not the job queue, is the source of truth. Planning is idempotent (each row has a dedupe key), so it
can run after every hazard action, every day and at every start. A sweep claims due rows atomically, drops
those nobody needs any more, and hands back one `Delivery` per recipient; the caller sends it and then
`confirm`s (sent) or `release`s it (retried later). A row due while the bot was down is still pending when it
comes back, and goes out on the first sweep, flagged late.

    deliveries = await reminders.sweep(clock.now(), worker_id)
    for delivery in deliveries:
        try:
            await send(delivery)
        except TelegramError:
            await reminders.release(delivery)
        else:
            await reminders.confirm(delivery)
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.calendar_reminders import (
    DEFAULT_SCHEDULE,
    CalendarSchedule,
    DutyStep,
    PlannedDuty,
    digest_key,
    duty_key,
    plan_digests,
    plan_duty_reminders,
)
from bot.domain.compliance import SELF_INSPECTION_RULE, STUDY_RULE, Duty, DutyRule, drill_rule, owes
from bot.domain.reminders import (
    DEFAULT_LADDER,
    DEFAULT_QUIET_HOURS,
    LATE_AFTER,
    EscalationLadder,
    QuietHours,
    ReminderKind,
    deadline_stamp,
    hazard_key,
    hazard_key_prefix,
    in_quiet_hours,
    next_allowed_time,
    passed_repeats,
    plan_hazard_reminders,
    recipient_tag,
    repeat_number,
)
from bot.domain.roles import Role, region_in_scope
from bot.services.duties import DutySnapshot, load_duties
from bot.services.reminder_items import Delivery, ItemBuilder, ReminderItem, pressing_first, row_subject
from bot.services.reminder_people import Directory, Recipient, RoundReads
from bot.workers import is_dead
from storage import Storage
from storage.calendar_models import NewReminder, SubjectType
from storage.hazard_models import Hazard
from storage.models import Institution, Region, RegionLevel, User
from storage.repositories.reminders import ClaimedReminder

log = logging.getLogger(__name__)

__all__ = ["Delivery", "ReminderItem", "ReminderService", "RoundReads", "Sweep"]

# A claim older than this is taken to be from a sweeper that died mid-send; its rows go back to pending (at once,
# if it was a process on this host that is gone). The one case where a reminder can go out twice: a crash after
# Telegram accepted the message but before `confirm`.
CLAIM_LEASE = timedelta(minutes=15)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
# How many due rows one sweep claims. A sweep is one stretch of work (claim, check, build: about 70 µs a row of
# hazards, 35 of duties), and a minute's tick sweeps again at once while a sweep claims its limit, sending what
# a round of sweeps claimed as one message per person (bot/jobs.py): so the limit bounds how long a sweep takes
# (8 ms as a median at city scale, 14 at most: under the 20 ms the bot may spend on it), not how many messages
# people get.
CLAIM_LIMIT = 100
# A hazard's next weekly repeat is added by the daily plan (which runs each local day, and at every start) rather
# than by the sweep that sent the one before, when the repeats are at least this far apart: at 07:30, when quiet
# hours end, a sweep sends hundreds of repeats held overnight, and re-planning each hazard was 0.3 s of it.
DAILY_PLAN_REACH = timedelta(days=2)
# A duty's subjects whose period is done, by the kind of subject, the duty's reminder kinds and the period's key.
DonePeriods = defaultdict[tuple[SubjectType, frozenset[ReminderKind], str], list[str]]
# The first part of the dedupe key of an institution's monthly "no head" line, in the place of a duty's name.
HEADLESS_DUTY = "headless"
# The daily plan goes through the open hazards this many at a time (one transaction each: short enough not to hold
# up the bot's other writes for long) and writes the calendar's rows this many at a time.
PLAN_PAGE = 500
PLAN_CHUNK = 2000


@dataclass(frozen=True)
class Sweep:
    deliveries: list[Delivery]
    claimed: int  # rows claimed: those in the deliveries, and those cancelled as no longer needed
    full: bool  # it claimed as many as it may: more may be due already
    counted: bool = False  # rows claimed to be counted in a message, none built (`reminder_rounds.Round`)


class ReminderService:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        tz: ZoneInfo,
        ladder: EscalationLadder = DEFAULT_LADDER,
        quiet_hours: QuietHours = DEFAULT_QUIET_HOURS,
        schedule: CalendarSchedule = DEFAULT_SCHEDULE,
        *,
        tracking_since: date | None = None,
        claim_limit: int = CLAIM_LIMIT,
    ) -> None:
        """`tracking_since`: duty periods that ended before it are never reported missed (a new deployment)."""
        self.claim_limit = claim_limit
        self._storage = storage
        self._clock = clock
        self.tz = tz
        self.ladder = ladder
        self.quiet_hours = quiet_hours
        self.schedule = schedule
        self.tracking_since = tracking_since

    # ---- planning ------------------------------------------------------------------------------------------

    async def plan_for_hazard(self, hazard: Hazard | int, directory: Directory | None = None) -> None:
        """Bring the hazard's reminders in line with its state, deadline and people. Call after every change.

        Rows for steps that no longer apply (the hazard closed, the deadline moved, someone else is now
        responsible) are cancelled if still pending; missing rows are added; sent rows are never touched.
        """
        if isinstance(hazard, int):
            loaded = await self._storage.hazards.get(hazard)
            if loaded is None:
                return
            hazard = loaded
        directory = directory or await Directory.load_for_hazard(self._storage, hazard)
        await self._plan_hazards([hazard], directory)

    async def plan_for_institution(self, institution_id: int) -> None:
        """Plan the institution's open hazards and its duties again: a head who has just registered (one who took
        over from another in the morning) is reminded from now on, of a deadline or a self-inspection that falls
        due today too, not from the next nightly plan."""
        now, hazards, offset = self._clock.now(), [], 0
        while page := await self._storage.hazards.open_for_institution(
            institution_id, now=now, limit=PLAN_PAGE, offset=offset
        ):
            hazards += page
            offset += len(page)
        assignees = {hazard.assignee_id for hazard in hazards if hazard.assignee_id is not None}
        directory = await Directory.load_concerning(self._storage, {institution_id}, assignees)
        for start in range(0, len(hazards), PLAN_PAGE):
            await self._plan_hazards(hazards[start : start + PLAN_PAGE], directory)
        institution = directory.institutions.get(institution_id)
        if institution is None or not institution.active:
            return
        today = now.astimezone(self.tz).date()
        duties = await load_duties(self._storage, today, judged_from=self.tracking_since, institution_id=institution_id)
        rows = [
            row
            for subject_rows in self._institution_duty_rows(
                institution, self._duty_plans(today), directory, duties, defaultdict(list)
            )
            for row in subject_rows
        ]
        await self._storage.reminders.plan(rows, now)

    async def _plan_hazards(
        self,
        hazards: Sequence[Hazard],
        directory: Directory,
        *,
        add_only: bool = False,
        only_for: Collection[int] | None = None,
    ) -> None:
        """`plan_for_hazard` for several hazards, written in one transaction. `add_only` adds the rows of the
        steps still to come (and the one catch-up) and cancels nothing: for a hazard whose state, deadline and
        people have not changed, re-planning only adds. `only_for` (with `add_only`): the rows of these recipients
        alone, those of someone who has just joined the hazards' audiences; planning every recipient's again was
        twenty times the work, all of it found planned already.

        The plan lists a hazard's weekly repeats from the latest that has certainly passed on; a row of an earlier
        one, still pending (the bot was down when it fell due, and every start plans before it sweeps), is kept
        as before, matched by `_KeptKeys` when found rather than its key worked out for every hazard every day."""
        if not hazards:
            return
        now = self._clock.now()
        keep = _KeptKeys()
        rows: list[NewReminder] = []
        for hazard in hazards:
            facts = hazard.facts()
            for step in plan_hazard_reminders(
                facts, hazard.severity, now, ladder=self.ladder, quiet_hours=self.quiet_hours, tz=self.tz
            ):
                assert hazard.deadline is not None  # plan_hazard_reminders plans nothing without one
                if add_only and not step.add:
                    continue
                for recipient_id, topic_id in _among(await directory.for_hazard(hazard, step.audiences), only_for):
                    key = hazard_key(hazard.id, hazard.deadline, step.step, recipient_id, topic_id)
                    keep.keys.add(key)
                    if step.add:
                        rows.append(
                            NewReminder(
                                dedupe_key=key,
                                kind=step.kind,
                                step=step.step,
                                subject_type=SubjectType.HAZARD,
                                subject_id=str(hazard.id),
                                recipient_id=recipient_id,
                                topic_id=topic_id,
                                due_at=step.due_at,
                                urgent=step.urgent,
                                detail={
                                    "deadline": deadline_stamp(hazard.deadline),
                                    "audiences": sorted(step.audiences),
                                },
                            )
                        )
            passed = 0 if add_only else passed_repeats(facts, hazard.severity, now, ladder=self.ladder, tz=self.tz)
            if passed:
                assert hazard.deadline is not None  # no repeat has passed without one
                audience = await directory.for_hazard(hazard, self.ladder.repeat_audiences)  # full plans: everyone's
                keep.passed_repeats[hazard_key_prefix(hazard.id, hazard.deadline)] = (
                    passed,
                    frozenset(recipient_tag(recipient_id, topic_id) for recipient_id, topic_id in audience),
                )
        # A step still to come is planned at the same time whenever it is planned, unless the rule changed under a
        # live table (the weekly repeats moved to Monday): its pending row moves with it, under its key, so that it
        # goes out once, at the new time (`ReminderRepository.plan`). A repeat whose new moment has already passed
        # is the plan's catch-up, at the next 09:00.
        if add_only:
            await self._storage.reminders.plan(rows, now, move_pending=True)
            return
        async with self._storage.db.transaction():
            await self._storage.reminders.cancel_pending_except(SubjectType.HAZARD, [str(h.id) for h in hazards], keep)
            await self._storage.reminders.plan(rows, now, move_pending=True)

    async def plan_day(self, today: date) -> None:
        """What the scheduler runs once a day and at every start: the calendar, then every open hazard."""
        directory = await Directory.load(self._storage)
        await self.plan_calendar(today, directory)
        await self.plan_open_hazards(directory)

    async def plan_open_hazards(
        self,
        directory: Directory | None = None,
        *,
        region_code: str | None = None,
        only_for: Collection[int] | None = None,
    ) -> int:
        """Plan every open hazard: a safety net for any change that was not followed by `plan_for_hazard`, and
        what adds each next weekly repeat. A page of hazards at a time, each page one transaction: a city has
        fifteen thousand open hazards, and holding them all (as models) was a third of the daily plan's memory.
        `region_code`: the hazards of the region and below it; `only_for`: add the rows of these recipients only,
        cancelling nothing (`_plan_hazards`). Returns how many hazards it went through."""
        directory = directory or await Directory.load(self._storage)
        after, planned = 0, 0
        while page := await self._storage.hazard_watch.open_hazards(
            after_id=after, limit=PLAN_PAGE, region_code=region_code
        ):
            await self._plan_hazards(page, directory, add_only=only_for is not None, only_for=only_for)
            after, planned = page[-1].id, planned + len(page)
        return planned

    async def plan_for_arrival_or_departure(self, person: User) -> int:
        """Add the reminders that a county staff member or city admin who has just registered, or whose access has
        just ended, or a head whose access has just ended, changes the recipients of; returns how many open hazards
        that meant going through.

        Reminders name their recipients when planned: a clerk who registered mid-day heard of nothing in their
        county until the next daily plan, and when a county's last clerk left, the city admins who answer for it in
        their place heard nothing either. Now the county's (the city's, for a city admin, who is escalated to about
        all of it) open hazards and calendar duties get the rows of whoever has just joined their audiences: the
        newcomer; or, once a clerk has left, whoever answers for the county now (the city admins if nobody is left).
        For a hazard, every step still to come, plus the one catch-up that a hazard first planned late gets
        (`plan_hazard_reminders`); for a duty, the steps from today on, as the daily plan gives them (one due at
        09:00 goes out at once to someone who came at 10:00, as after a start at 10:00; the days before are not
        planned). Nobody else's rows change, and a row planned already is not planned again (its key), so nothing
        already sent goes out again. Rows of someone no longer in an audience (a city admin's, once the county's
        first clerk registers) are dropped by the sweep; a city admin leaving adds nobody's (theirs were cancelled
        with their access). The digests go to bound groups, not to people: nobody's arrival changes them.

        Callers run it once the person has been answered: a new city admin's fifteen thousand hazards take
        seconds. Should the bot stop before it is done, nothing is lost: the daily plan, run at every start, plans
        every open hazard and the calendar for everyone.

        A head whose access has ended may leave their institution with none: its hazards and duties are planned
        again (`plan_for_institution`), so the county staff stand in for the head from that day, not the next."""
        if person.role is Role.HEAD:
            if not person.active and person.institution_id is not None:
                await self.plan_for_institution(person.institution_id)
            return 0
        if person.role is Role.COUNTY and person.region_code is not None:
            region_code: str | None = person.region_code
        elif person.role is Role.CITY and person.active:
            region_code = None
        else:
            return 0
        directory = await Directory.load(self._storage)
        if person.active:
            joined = {person.telegram_id}
        else:
            successors = directory.county_staff(person.region_code or "")
            if any(user.role is Role.COUNTY for user in successors):
                return 0  # the county's other clerks were in every audience already: nobody has joined one
            joined = {user.telegram_id for user in successors}
        today = self._clock.now().astimezone(self.tz).date()
        await self.plan_calendar(today, directory, region_code=region_code, only_for=joined)
        return await self.plan_open_hazards(directory, region_code=region_code, only_for=joined)

    async def plan_calendar(
        self,
        today: date,
        directory: Directory | None = None,
        *,
        region_code: str | None = None,
        only_for: Collection[int] | None = None,
    ) -> None:
        """Plan the duty reminders due within the planning horizon and the next digests, for every
        institution, unit and bound group. Safe to run any number of times a day.

        `region_code`: the duties of the institutions and units of the region and below it alone; `only_for`: add
        the rows of these recipients only (someone who has just joined the audiences,
        `plan_for_arrival_or_departure`), with no digest and cancelling nothing.

        A period already done is not planned, and its rows still pending (planned before it was done) are
        cancelled: on the first morning of a month most institutions have done last month's self-inspection, and
        their "overdue" rows to every county staff member were three quarters of that morning's forty thousand.
        The sweep still checks each row, since a duty can be done between this plan and the row falling due.

        Written a chunk at a time: the city's ninety thousand rows, held at once, were most of the daily plan's
        memory (about 200 MiB). A plan cut short by a crash is completed by the next one."""
        directory = directory or await Directory.load(self._storage)
        now = self._clock.now()
        institutions = [
            institution
            for institution in directory.institutions.values()
            if institution.active and region_in_scope(region_code, institution.region_code)
        ]
        # A county clerk's arrival concerns their county's duties alone: at city scale 9 ms for the busiest county's
        # 280 institutions, against 70 ms going through the city's 3,000 for their rows.
        duties = await load_duties(
            self._storage,
            today,
            judged_from=self.tracking_since,
            institutions=None if region_code is None else [institution.id for institution in institutions],
        )
        units = [
            unit
            for unit in directory.regions.values()
            if unit.level in (RegionLevel.CITY, RegionLevel.COUNTY) and region_in_scope(region_code, unit.code)
        ]
        done: DonePeriods = defaultdict(list)
        rows: list[NewReminder] = []
        for subject_rows in self._duty_rows_of(institutions, units, today, directory, duties, done, only_for):
            rows += subject_rows
            if len(rows) >= PLAN_CHUNK:
                await self._storage.reminders.plan(rows, now)
                rows = []
        if only_for is None:
            rows += await self._digest_rows(directory, today)
        await self._storage.reminders.plan(rows, now)
        if only_for is not None:
            return  # the done periods' rows were cancelled by the daily plan (and the sweep checks every row)
        for (subject_type, kinds, period), subject_ids in done.items():
            for start in range(0, len(subject_ids), PLAN_CHUNK):
                await self._storage.reminders.cancel_pending_of_period(
                    subject_type, subject_ids[start : start + PLAN_CHUNK], period, kinds
                )

    def _duty_rows_of(
        self,
        institutions: Iterable[Institution],
        units: Iterable[Region],
        today: date,
        directory: Directory,
        duties: DutySnapshot,
        done: DonePeriods,
        only_for: Collection[int] | None,
    ) -> Iterator[list[NewReminder]]:
        """The rows of these institutions' and units' duties not yet done (those of `only_for`'s recipients alone,
        if given); the done ones are added to `done` instead."""
        plan = self._duty_plans(today)
        for institution in institutions:
            yield from self._institution_duty_rows(institution, plan, directory, duties, done, only_for)
        for unit in units:
            steps = self.schedule.study_steps
            for planned in plan(STUDY_RULE, steps):
                if duties.study_done_in(unit.code, planned.period):
                    done[(SubjectType.UNIT, _kinds_of(steps), planned.period.key)].append(unit.code)
                    continue
                audience = _among(directory.for_unit(unit.code, planned.step.audiences), only_for)
                yield self._duty_rows(Duty.STUDY, SubjectType.UNIT, unit.code, planned, audience)

    def _duty_plans(self, today: date) -> Callable[[DutyRule, tuple[DutyStep, ...]], list[PlannedDuty]]:
        plans: dict[tuple[DutyRule, tuple[DutyStep, ...]], list[PlannedDuty]] = {}

        def plan(rule: DutyRule, steps: tuple[DutyStep, ...]) -> list[PlannedDuty]:
            # The same for every institution of a type: worked out once, not three thousand times.
            if (rule, steps) not in plans:
                plans[(rule, steps)] = self._duty_plan(rule, steps, today)
            return plans[(rule, steps)]

        return plan

    def _institution_duty_rows(
        self,
        institution: Institution,
        plan: Callable[[DutyRule, tuple[DutyStep, ...]], list[PlannedDuty]],
        directory: Directory,
        duties: DutySnapshot,
        done: DonePeriods,
        only_for: Collection[int] | None = None,
    ) -> Iterator[list[NewReminder]]:
        """The rows of one institution's duties not yet done (`only_for`'s alone, if given); the done ones are added
        to `done` instead."""
        for duty, rule, steps in (
            (Duty.FIRE_DRILL, drill_rule(institution.type), self.schedule.drill_steps),
            (Duty.SELF_INSPECTION, SELF_INSPECTION_RULE, self.schedule.self_inspection_steps),
        ):
            for planned in plan(rule, steps):
                if not duties.judges(duty, institution, planned.period):
                    continue  # not owed (ended before the institution was added, or it joined late in it)
                if duties.institution_duty_done_in(duty, institution, planned.period):
                    done[(SubjectType.INSTITUTION, _kinds_of(steps), planned.period.key)].append(str(institution.id))
                    continue
                audience = _among(directory.for_institution(institution, planned.step.audiences), only_for)
                yield self._duty_rows(duty, SubjectType.INSTITUTION, str(institution.id), planned, audience)
        if not directory.heads_of(institution.id):
            # Monthly, to the city: whether it has gone long enough without a head is judged as it goes out.
            for planned in plan(SELF_INSPECTION_RULE, self.schedule.headless_steps):
                audience = _among(directory.for_institution(institution, planned.step.audiences), only_for)
                yield self._duty_rows(None, SubjectType.INSTITUTION, str(institution.id), planned, audience)

    def _duty_plan(self, rule: DutyRule, steps: tuple[DutyStep, ...], today: date) -> list[PlannedDuty]:
        planned = plan_duty_reminders(
            rule, steps, today, self.schedule.duty_time, self.tz, horizon_days=self.schedule.planning_horizon_days
        )
        return [p for p in planned if owes(rule, p.period, self.tracking_since)]

    def _duty_rows(
        self,
        duty: Duty | None,
        subject_type: SubjectType,
        subject_id: str,
        planned: PlannedDuty,
        audience: list[Recipient],
    ) -> list[NewReminder]:
        """`duty` None: an institution's monthly "no head" line (`HEADLESS_STEPS`), which is about no duty."""
        due = next_allowed_time(planned.due_at, False, self.quiet_hours, self.tz)
        detail: dict[str, object] = {
            "start": planned.period.start.isoformat(),
            "end": planned.period.end.isoformat(),
            "audiences": sorted(planned.step.audiences),
        }
        if duty is not None:
            detail["duty"] = duty.value
        name = HEADLESS_DUTY if duty is None else duty.value
        return [
            NewReminder(
                dedupe_key=duty_key(name, subject_id, planned.period, planned.step.name, recipient, topic),
                kind=planned.step.kind,
                step=planned.step.name,
                subject_type=subject_type,
                subject_id=subject_id,
                period=planned.period.key,
                recipient_id=recipient,
                topic_id=topic,
                due_at=due,
                detail=detail,
            )
            for recipient, topic in audience
        ]

    async def _digest_rows(self, directory: Directory, today: date) -> list[NewReminder]:
        rows = []
        for digest in plan_digests(today, self.schedule, self.tz):
            weekly = digest.kind is ReminderKind.WEEKLY_SUMMARY
            for group in await directory.digest_groups(RegionLevel.CITY if weekly else RegionLevel.COUNTY):
                rows.append(
                    NewReminder(
                        dedupe_key=digest_key(digest.kind, digest.day, group.chat_id, group.topic_id),
                        kind=digest.kind,
                        step=digest.kind.value,
                        subject_type=SubjectType.GROUP,
                        subject_id=str(group.chat_id),
                        period=digest.day.isoformat(),
                        recipient_id=group.chat_id,
                        topic_id=group.topic_id,
                        due_at=next_allowed_time(digest.due_at, False, self.quiet_hours, self.tz),
                        detail={"window_days": digest.window.days},
                    )
                )
        return rows

    # ---- sweeping ------------------------------------------------------------------------------------------

    async def sweep(self, now: datetime, worker_id: str) -> list[Delivery]:
        """Claim what is due by `now` (up to the claim limit) and group it per recipient; reminders nobody needs
        are cancelled. Quiet hours hold back what is not urgent, however late it already is."""
        return (await self.sweep_batch(now, worker_id)).deliveries

    async def sweep_batch(
        self,
        now: datetime,
        worker_id: str,
        shared: RoundReads | None = None,
        *,
        recipient: Recipient | None = None,
    ) -> Sweep:
        """`sweep`, saying also how many rows it claimed: a sweep that claimed its limit may have left more due.
        `shared`: what the round's earlier sweeps read that this one may use again (`reminder_rounds.Round`);
        `recipient`: that chat's (and topic's) rows alone, the rest of a person's for the round's one message."""
        repo = self._storage.reminders
        if recipient is None or shared is None:
            # Once a round (its first sweeps: those of a person's rest come after): each asks for every claim held,
            # and the round holds thousands of its own by then.
            await self._recover(now)
        claimed = await repo.claim_due(
            now,
            worker_id,
            include_non_urgent=not in_quiet_hours(now, self.quiet_hours, self.tz),
            late_before=now - LATE_AFTER,
            limit=self.claim_limit,
            recipient=recipient,
        )
        if not claimed:
            return Sweep([], 0, full=False)
        hazards = await self._storage.hazards.get_many(
            int(r.subject_id) for r in claimed if r.subject_type is SubjectType.HAZARD
        )
        directory = await self._directory_for(claimed, hazards, shared)
        builder = ItemBuilder(
            self._storage, directory, now, self.tz, self.tracking_since, hazards,
            headless_after_days=self.schedule.headless_after_days,
        )
        grouped: dict[Recipient, list[ReminderItem]] = defaultdict(list)
        stale: list[int] = []
        extended: set[int] = set()
        built = await builder.build_all(claimed)
        for reminder, item in built.items:
            if item is None:
                stale.append(reminder.id)
                continue
            grouped[(reminder.recipient_id, reminder.topic_id)].append(item)
            if reminder.subject_type is SubjectType.HAZARD and self._extends_plan(reminder.step):
                extended.add(int(reminder.subject_id))
        await repo.cancel_claimed(stale, worker_id)
        for reminder in built.broken:
            await self._retry_later([reminder.id], worker_id, reminder.attempts)
        # Adds the next repeat once the last step has gone out (for a ladder repeating too often for the daily plan
        # to add it in time), unless it is planned already (a plan reaches one repeat ahead). The sweep has just
        # checked that the hazard is open, with the same deadline and people, so planning it again only adds.
        if extended:
            planned_ahead = await repo.subjects_pending_after(SubjectType.HAZARD, [str(h) for h in extended], now)
            unplanned = sorted(h for h in extended if str(h) not in planned_ahead)
            await self._plan_hazards([hazards[h] for h in unplanned], directory, add_only=True)
        return Sweep(_deliveries(grouped, worker_id), len(claimed), full=len(claimed) >= self.claim_limit)

    async def _recover(self, now: datetime) -> None:
        """A sweeper of a process on this host that is gone (a killed bot, now restarted) gives its claims back at
        once; any other only after the lease, since it may be alive elsewhere."""
        repo = self._storage.reminders
        given_back = await repo.recover_from([worker for worker in await repo.claimants() if is_dead(worker)])
        given_back += await repo.recover_stale(now - CLAIM_LEASE)
        for claim in given_back:
            # The message may have reached Telegram just before the sweeper died, and the Bot API cannot be asked:
            # it is sent again, because a reminder twice is better than none. Named, so a second copy is explained.
            log.warning("reminder %d to chat %d: claim by %s died with it; queued again (it may arrive twice)",
                        claim.id, claim.recipient_id, claim.claimed_by or "a sweeper past its lease")

    async def _directory_for(
        self, claimed: list[ClaimedReminder], hazards: dict[int, Hazard], shared: RoundReads | None
    ) -> Directory:
        """The people and institutions the claimed rows concern; the whole city's only for a digest, which
        names institutions and people all over its region (digests go out once a day)."""
        if any(r.subject_type is SubjectType.GROUP for r in claimed):
            return await Directory.load(self._storage)
        institutions = {int(r.subject_id) for r in claimed if r.subject_type is SubjectType.INSTITUTION}
        institutions |= {hazard.institution_id for hazard in hazards.values()}
        assignees = {hazard.assignee_id for hazard in hazards.values() if hazard.assignee_id is not None}
        return await Directory.load_concerning(self._storage, institutions, assignees, shared)

    async def claim_counted(
        self, now: datetime, worker_id: str, recipient: Recipient, limit: int
    ) -> list[tuple[int, tuple[object, ...]]]:
        """Claim up to `limit` more of the recipient's due rows to be counted in their message but not listed: each
        row's id and what it is about (`row_subject`), nothing built. The round has listed the most pressing of
        theirs already (built and checked); planning cancels a hazard's or a duty's pending rows as soon as it is
        closed or done, so these are counted as they stand rather than checked one by one: a city admin's first
        morning had 50,000, each a hazard to read. Not for a ladder that plans on sending (`builds_every_row`)."""
        rows = await self._storage.reminders.claim_counted(
            now,
            worker_id,
            recipient,
            include_non_urgent=not in_quiet_hours(now, self.quiet_hours, self.tz),
            late_before=now - LATE_AFTER,
            limit=limit,
        )
        return [(row.id, row_subject(row)) for row in rows]

    @property
    def builds_every_row(self) -> bool:
        """Whether every row sent must be built, rather than some counted (`claim_counted`): a ladder repeating
        more often than the daily plan reaches plans each hazard's next repeat as one is sent (`_extends_plan`)."""
        repeat = self.ladder.repeat_every
        return repeat is not None and repeat < DAILY_PLAN_REACH

    def _extends_plan(self, step: str) -> bool:
        """Whether re-planning the hazard once this step has gone out can add a step that the daily plan would add
        too late. Planning reaches one repeat interval past the later of now and the ladder's last step, so only
        the last step and the weekly repeats move that horizon on; and the daily plan re-plans every open hazard,
        so a repeat a week later is added by the next day's plan, six days before it falls due. Only a ladder that
        repeats more often needs the sweep to add the next one. (A step sent days late moves the horizon too, but
        only after the bot was down, and every start plans every open hazard before its first sweep.)"""
        repeat = self.ladder.repeat_every
        if repeat is not None and repeat >= DAILY_PLAN_REACH:
            return False
        return all(step != ladder_step.name for ladder_step in self.ladder.steps[:-1])

    async def confirm(self, delivery: Delivery) -> None:
        await self._storage.reminders.mark_sent(delivery.reminder_ids, delivery.worker_id, self._clock.now())

    async def cancel(self, delivery: Delivery) -> None:
        """A delivery no longer to be sent (its person's access ended after the sweep claimed it): cancelled."""
        await self._storage.reminders.cancel_claimed(delivery.reminder_ids, delivery.worker_id)

    async def release(self, delivery: Delivery, *, permanent: bool = False) -> None:
        """Put a delivery that failed back for a later sweep, with growing delays; `permanent` (the bot was
        blocked, the chat is gone) or too many attempts mark it failed instead."""
        attempt = max((item.attempt for item in delivery.items), default=1)
        await self._retry_later(delivery.reminder_ids, delivery.worker_id, attempt, permanent=permanent)

    async def _retry_later(self, ids: Sequence[int], worker_id: str, attempt: int, *, permanent: bool = False) -> None:
        failed = permanent or attempt > len(RETRY_DELAYS)
        retry_at = None if failed else self._clock.now() + RETRY_DELAYS[attempt - 1]
        await self._storage.reminders.release(ids, worker_id, retry_at=retry_at, failed=failed)

    async def next_wakeup(self, now: datetime) -> datetime | None:
        """When the next sweep would find something to claim (quiet hours considered); for tests and for a
        scheduler that wants to sleep until then."""
        urgent = await self._storage.reminders.next_due(urgent=True)
        relaxed = await self._storage.reminders.next_due(urgent=False)
        if relaxed is not None:
            relaxed = next_allowed_time(max(relaxed, now), False, self.quiet_hours, self.tz)
        candidates = [moment for moment in (urgent, relaxed) if moment is not None]
        return min(candidates) if candidates else None


class _KeptKeys:
    """The keys of the hazard rows a full re-plan keeps: those of the steps planned (`keys`), and those of the weekly
    repeats that have passed before the plan's first (`passed_repeats`: by `hazard_key_prefix`, how many, and the
    tags of their recipients), recognised in a key rather than listed: a hazard a year overdue has fifty, and only
    after an outage is any of their rows still pending."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.passed_repeats: dict[str, tuple[int, frozenset[str]]] = {}

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in self.keys:
            return True
        parts = key.rsplit(":", 2)  # hazard_key's form: the prefix, the step, the recipient's tag
        if len(parts) != 3:
            return False
        prefix, step, tag = parts
        passed = self.passed_repeats.get(prefix)
        number = repeat_number(step)
        return passed is not None and number is not None and number <= passed[0] and tag in passed[1]


def _among(audience: list[Recipient], only_for: Collection[int] | None) -> list[Recipient]:
    return audience if only_for is None else [(person, topic) for person, topic in audience if person in only_for]


def _kinds_of(steps: tuple[DutyStep, ...]) -> frozenset[ReminderKind]:
    return frozenset(step.kind for step in steps)


def _deliveries(items: dict[Recipient, list[ReminderItem]], worker_id: str) -> list[Delivery]:
    """A delivery per recipient, in recipient order, each with its items the most pressing first."""
    return [
        Delivery(recipient, topic, worker_id, tuple(sorted(found, key=pressing_first)))
        for (recipient, topic), found in sorted(items.items(), key=lambda pair: (pair[0][0], pair[0][1] or 0))
    ]
