"""The reminder engine against a real database: planning, sweeping, grouping, retries, restarts, races."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardAction
from bot.domain.reminders import DEFAULT_LADDER, ReminderKind
from bot.jobs import SendOutcome, Ticker, sweep_once
from bot.services.reminder_items import HazardReminderData
from bot.services.reminders import CLAIM_LEASE
from storage.calendar_models import Reminder, ReminderState, SubjectType
from storage.hazard_models import Hazard
from storage.models import GroupPurpose
from tests.calendar.world import (
    CADRE,
    CITY_ADMIN,
    CITY_GROUP,
    HEAD,
    LONGWAN_GROUP,
    LUCHENG_GROUP,
    LUCHENG_STAFF,
    Outbox,
    Services,
    city,
    clock,
    local,
    open_services,
)

__all__ = ["city", "clock"]


async def report(city: Services, **fields: object) -> Hazard:
    outcome = await city.hazards.submit_report(await city.user(CADRE), city.draft(**fields))
    await city.reminders.plan_for_hazard(outcome.hazard)
    return outcome.hazard


def hazard_items(outbox: Outbox) -> list[tuple[int, str, bool]]:
    return [
        (s.delivery.recipient_id, item.step, item.late)
        for s in outbox.sent
        for item in s.delivery.items
        if isinstance(item.data, HazardReminderData)
    ]


async def sweep_at(city: Services, outbox: Outbox, when: object) -> list[tuple[int, str, str]]:
    city.clock.set(when)  # type: ignore[arg-type]
    before = len(outbox.sent)
    await sweep_once(city, outbox, "worker-a")
    return sorted(
        (s.delivery.recipient_id, item.kind.value, item.step) for s in outbox.sent[before:] for item in s.delivery.items
    )


async def test_a_hazard_climbs_the_ladder_to_the_right_people_naming_the_person_responsible(city: Services) -> None:
    outbox = Outbox(city.clock)
    hazard = await report(city)  # general, reported Monday 2 March 10:00, deadline 9 March 10:00
    assert await sweep_at(city, outbox, local(2026, 3, 8, 9, 59)) == []
    assert await sweep_at(city, outbox, local(2026, 3, 8, 10)) == [(HEAD, "hazard_due_soon", "before24h")]
    assert await sweep_at(city, outbox, local(2026, 3, 9, 8)) == [(HEAD, "hazard_due_soon", "before2h")]
    assert await sweep_at(city, outbox, local(2026, 3, 9, 10)) == [
        (LUCHENG_STAFF, "hazard_deadline", "deadline"),
        (HEAD, "hazard_deadline", "deadline"),
    ]
    # County staff hear a day later with the next morning's escalations, at 09:00; the city, its own group and the
    # county's group two days after that.
    assert await sweep_at(city, outbox, local(2026, 3, 10, 10)) == []
    assert await sweep_at(city, outbox, local(2026, 3, 11, 9)) == [(LUCHENG_STAFF, "hazard_overdue", "overdue1d")]
    assert await sweep_at(city, outbox, local(2026, 3, 12, 10)) == []
    assert await sweep_at(city, outbox, local(2026, 3, 13, 9)) == [
        (CITY_GROUP, "hazard_overdue", "overdue3d"),
        (LUCHENG_GROUP, "hazard_overdue", "overdue3d"),
        (CITY_ADMIN, "hazard_overdue", "overdue3d"),
    ]
    item = outbox.sent[-1].delivery.items[0]
    assert isinstance(item.data, HazardReminderData)
    assert item.data.code == hazard.code and item.data.overdue_by == timedelta(days=3, hours=23)
    assert [(p.telegram_id, p.full_name) for p in item.data.responsible] == [(HEAD, "user 40")]
    # Every week while it stays overdue: the head, the county staff and the city; on Monday, the next after the
    # three-day escalation (Friday), with everything else still overdue. Not the group: its 08:30 digest lists the
    # overdue every working day, and a 09:00 repeat was the same list there again half an hour later.
    assert await sweep_at(city, outbox, local(2026, 3, 15, 9)) == []
    assert await sweep_at(city, outbox, local(2026, 3, 16, 9)) == [
        (CITY_ADMIN, "hazard_overdue", "repeat1"),
        (LUCHENG_STAFF, "hazard_overdue", "repeat1"),
        (HEAD, "hazard_overdue", "repeat1"),
    ]
    assert await sweep_at(city, outbox, local(2026, 3, 16, 9, 1)) == []
    # The next day's plan adds the next repeat, the Monday a week after the first.
    city.clock.set(local(2026, 3, 17, 0, 1))
    await city.reminders.plan_day(city.today())
    next_repeat = await city.storage.reminders.find(
        state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id))
    )
    assert {(r.step, r.due_at) for r in next_repeat} == {("repeat2", local(2026, 3, 23, 9))}


async def test_a_ladder_repeating_twice_a_day_has_each_next_repeat_planned_by_the_sweep_that_sent_one(
    city: Services,
) -> None:
    # Batched to 09:00 (the default), repeats twice a day would go out together: this ladder sends each at its time.
    city.reminders.ladder = replace(
        DEFAULT_LADDER, repeat_every=timedelta(hours=12), batch_at=None, repeat_weekday=None
    )
    outbox = Outbox(city.clock)
    await report(city)  # deadline 9 March 10:00: overdue3d on the 12th at 10:00, repeats every 12 hours after it
    await sweep_at(city, outbox, local(2026, 3, 12, 10))
    # The first repeat falls at 22:00, in quiet hours: it goes out at 07:30, and the next is due at 10:00.
    assert await sweep_at(city, outbox, local(2026, 3, 13, 7, 30)) == [
        (CITY_ADMIN, "hazard_overdue", "repeat1"),
        (LUCHENG_STAFF, "hazard_overdue", "repeat1"),
        (HEAD, "hazard_overdue", "repeat1"),
    ]
    assert await sweep_at(city, outbox, local(2026, 3, 13, 10)) == [
        (CITY_ADMIN, "hazard_overdue", "repeat2"),
        (LUCHENG_STAFF, "hazard_overdue", "repeat2"),
        (HEAD, "hazard_overdue", "repeat2"),
    ]


async def test_planning_again_adds_nothing_and_closing_cancels_what_is_left(city: Services) -> None:
    hazard = await report(city)
    rows = await city.storage.reminders.find(subject=(SubjectType.HAZARD, str(hazard.id)))
    for _ in range(3):
        await city.reminders.plan_for_hazard(hazard)
        await city.reminders.plan_open_hazards()
    assert await city.storage.reminders.find(subject=(SubjectType.HAZARD, str(hazard.id))) == rows
    head = await city.user(HEAD)
    fixed = await city.hazards.act(
        head, hazard.id, HazardAction.SUBMIT_RECTIFICATION, reason="已清理杂物", photos=[city.photo()]
    )
    outbox = Outbox(city.clock)
    # Not re-planned: the sweep itself notices the hazard no longer needs reminding.
    assert await sweep_at(city, outbox, local(2026, 3, 8, 10)) == []
    assert (await city.storage.reminders.find(state=ReminderState.CANCELLED))[0].step == "before24h"
    await city.reminders.plan_for_hazard(fixed.hazard)
    assert await city.storage.reminders.find(state=ReminderState.PENDING) == []


async def test_a_changed_deadline_replaces_the_reminders_of_the_old_one(city: Services) -> None:
    hazard = await report(city)
    staff = await city.user(LUCHENG_STAFF)
    new_deadline = local(2026, 3, 20, 17)
    changed = await city.hazards.act(
        staff, hazard.id, HazardAction.CHANGE_DEADLINE, reason="需采购配件", deadline=new_deadline
    )
    await city.reminders.plan_for_hazard(changed.hazard)
    pending = await city.storage.reminders.find(state=ReminderState.PENDING)
    assert {r.detail["deadline"] for r in pending} == {new_deadline.isoformat(timespec="microseconds")}
    outbox = Outbox(city.clock)
    assert await sweep_at(city, outbox, local(2026, 3, 9, 10)) == []
    assert await sweep_at(city, outbox, local(2026, 3, 19, 17)) == [(HEAD, "hazard_due_soon", "before24h")]


async def test_after_an_outage_a_weekly_repeat_still_pending_is_kept_and_one_whose_recipient_left_is_cancelled(
    city: Services,
) -> None:
    # The plan no longer lists a repeat that passed days ago, but a full re-plan (every start) keeps its row as it
    # did: the bot was down when it fell due, and it goes out late. A row of someone no longer told is cancelled.
    outbox = Outbox(city.clock)
    hazard = await report(city)  # deadline 9 March 10:00; repeats on Mondays at 09:00: 16, 23, 30 March, 6 April …
    await sweep_at(city, outbox, local(2026, 3, 13, 9))
    city.clock.set(local(2026, 3, 14, 0, 1))
    await city.reminders.plan_day(city.today())  # repeat1 was planned; the bot is then down for three weeks
    await city.storage.users.set_active(CITY_ADMIN, False)  # the city's admin leaves meanwhile
    city.clock.set(local(2026, 4, 4, 10))
    await city.reminders.plan_day(city.today())  # as at the start, before the first sweep
    pending = await city.storage.reminders.find(
        state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id))
    )
    assert {(r.recipient_id, r.step, r.due_at) for r in pending} == {
        (person, step, due)
        for person in (LUCHENG_STAFF, HEAD)  # the weekly repeat: the county and the head
        for step, due in (
            ("repeat1", local(2026, 3, 16, 9)),  # kept: still to go out, late
            ("repeat3", local(2026, 4, 5, 9)),  # the catch-up, with the next morning's batch
            ("repeat4", local(2026, 4, 6, 9)),  # Monday's
        )
    }
    cancelled = await city.storage.reminders.find(
        state=ReminderState.CANCELLED, subject=(SubjectType.HAZARD, str(hazard.id))
    )
    assert [(r.recipient_id, r.step) for r in cancelled] == [(CITY_ADMIN, "repeat1")]
    sent_before = len(hazard_items(outbox))
    await sweep_at(city, outbox, local(2026, 4, 4, 10, 1))
    assert hazard_items(outbox)[sent_before:] == [
        (person, "repeat1", True) for person in (LUCHENG_STAFF, HEAD)
    ]


async def test_one_person_with_many_due_items_gets_one_delivery(city: Services) -> None:
    for _ in range(3):
        await report(city)
    outbox = Outbox(city.clock)
    await sweep_at(city, outbox, local(2026, 3, 9, 10))
    by_recipient = {s.delivery.recipient_id: s.delivery for s in outbox.sent}
    assert len(outbox.sent) == 2 == len(by_recipient)
    assert [item.step for item in by_recipient[HEAD].items] == ["before24h"] * 3 + ["before2h"] * 3 + ["deadline"] * 3
    assert all(item.late for item in by_recipient[HEAD].items[:6])  # due earlier, never swept until now
    assert not by_recipient[HEAD].items[-1].late


async def test_a_sensitive_hazard_never_reaches_the_head_or_a_group(city: Services) -> None:
    await report(city, area=HazardArea.RIGHTS, description="疑似护理员殴打老人")
    outbox = Outbox(city.clock)
    for day in range(6, 25):
        await sweep_at(city, outbox, local(2026, 3, day, 12))
    recipients = {s.delivery.recipient_id for s in outbox.sent}
    assert recipients == {LUCHENG_STAFF, CITY_ADMIN}


async def test_a_failed_send_is_retried_later_and_an_undeliverable_one_is_not(city: Services) -> None:
    await report(city)
    outbox = Outbox(city.clock, fail_next=1)
    assert await sweep_at(city, outbox, local(2026, 3, 8, 10)) == []
    # Not again before the retry delay (a minute for the first failure), then once.
    assert await sweep_at(city, outbox, local(2026, 3, 8, 10) + timedelta(seconds=59)) == []
    assert await sweep_at(city, outbox, local(2026, 3, 8, 10, 1)) == [(HEAD, "hazard_due_soon", "before24h")]
    assert outbox.sent[-1].delivery.items[0].attempt == 2

    async def blocked(delivery: object) -> SendOutcome:
        return SendOutcome.UNDELIVERABLE

    city.clock.set(local(2026, 3, 9, 8))
    result = await sweep_once(city, blocked, "worker-a")
    assert len(result.failed) == 1
    assert [r.step for r in await city.storage.reminders.find(state=ReminderState.FAILED)] == ["before2h"]


async def test_two_sweepers_at_once_never_deliver_the_same_reminder_twice(tmp_path: Path, clock: FakeClock) -> None:
    first = await open_services(tmp_path / "safety.db", tmp_path / "evidence", clock)
    second = await open_services(tmp_path / "safety.db", tmp_path / "evidence", clock, populate=False)
    try:
        for _ in range(20):
            await report(first)
        clock.set(local(2026, 3, 13, 9))  # overdue3d to the city goes out with the next morning's batch
        sweeps = [s.reminders.sweep(clock.now(), f"worker-{n}") for n, s in enumerate((first, second, first, second))]
        results = await asyncio.gather(*sweeps)
        claimed = [item.reminder_id for deliveries in results for d in deliveries for item in d.items]
        # before24h, before2h, deadline ×2, 1d, 3d ×3 (the city admin, the county's group and the city's)
        assert len(claimed) == len(set(claimed)) == 20 * 8
        assert sum(1 for deliveries in results if deliveries) >= 1
        # Confirming through the wrong worker does nothing; through the right one marks them sent.
        for worker, deliveries in enumerate(results):
            for delivery in deliveries:
                await first.reminders.confirm(replace(delivery, worker_id="intruder"))
                await (first if worker % 2 == 0 else second).reminders.confirm(delivery)
        sent = await first.storage.reminders.find(state=ReminderState.SENT)
        assert len(sent) == len(claimed)
    finally:
        await first.storage.close()
        await second.storage.close()


async def test_a_restart_keeps_what_is_due_and_recovers_a_crashed_claim(tmp_path: Path, clock: FakeClock) -> None:
    services = await open_services(tmp_path / "safety.db", tmp_path / "evidence", clock)
    await report(services)
    clock.set(local(2026, 3, 8, 10))
    crashed = await services.reminders.sweep(clock.now(), "worker-that-dies")
    assert len(crashed) == 1
    await services.storage.close()

    services = await open_services(tmp_path / "safety.db", tmp_path / "evidence", clock, populate=False)
    try:
        outbox = Outbox(clock)
        ticker = Ticker(outbox, "worker-b")
        await ticker.tick(services)
        assert hazard_items(outbox) == []  # still claimed by the dead worker, within its lease
        clock.advance(CLAIM_LEASE + timedelta(minutes=1))
        await ticker.tick(services)
        assert hazard_items(outbox) == [(HEAD, "before24h", True)]
    finally:
        await services.storage.close()


async def test_digests_go_to_bound_county_groups_daily_and_the_city_group_on_mondays(city: Services) -> None:
    await report(city)
    outbox = Outbox(city.clock)
    ticker = Ticker(outbox, "worker-a")
    city.clock.set(local(2026, 3, 9, 0, 1))  # Monday
    await ticker.tick(city)
    city.clock.set(local(2026, 3, 9, 8, 30))
    await ticker.tick(city)
    digests = {
        (s.delivery.recipient_id, i.kind)
        for s in outbox.sent
        for i in s.delivery.items
        if i.kind.value.endswith(("digest", "summary"))
    }
    assert digests == {
        (LUCHENG_GROUP, ReminderKind.DAILY_DIGEST),
        (LONGWAN_GROUP, ReminderKind.DAILY_DIGEST),
        (CITY_GROUP, ReminderKind.WEEKLY_SUMMARY),
    }
    lucheng = next(s.delivery.items[0].data for s in outbox.sent if s.delivery.recipient_id == LUCHENG_GROUP)
    city_summary = next(s.delivery.items[0].data for s in outbox.sent if s.delivery.recipient_id == CITY_GROUP)
    assert lucheng.counts.unresolved == 1 and lucheng.counts.overdue == 0  # type: ignore[union-attr]
    assert {line.region_code for line in city_summary.regions} >= {"330302", "330303"}  # type: ignore[union-attr]
    assert any(line.institution_id for line in lucheng.duties_due)  # type: ignore[union-attr]


async def test_severity_decides_urgency_at_night(city: Services) -> None:
    city.clock.set(local(2026, 3, 2, 23, 30))
    await report(city, severity=Severity.SERIOUS)
    outbox = Outbox(city.clock)
    assert await sweep_at(city, outbox, local(2026, 3, 3, 23, 30)) == [
        (LUCHENG_STAFF, "hazard_deadline", "deadline"),
        (HEAD, "hazard_deadline", "deadline"),
        (HEAD, "hazard_due_soon", "before2h"),
    ]
    assert all(item.urgent for s in outbox.sent for item in s.delivery.items)


async def test_a_group_rebound_to_warnings_only_gets_no_more_digests(city: Services) -> None:
    outbox = Outbox(city.clock)
    ticker = Ticker(outbox, "worker-a")
    city.clock.set(local(2026, 3, 10, 0, 1))  # Tuesday: the day's digests are planned, and tomorrow's
    await ticker.tick(city)
    longwan = await city.storage.groups.get(LONGWAN_GROUP, None)
    assert longwan is not None
    city.clock.set(local(2026, 3, 10, 7))  # Longwan's staff make their group the warnings group
    await city.storage.groups.bind(
        longwan.model_copy(update={"purpose": GroupPurpose.WARNINGS, "bound_at": city.clock.now()})
    )
    for day in (10, 11):
        city.clock.set(local(2026, 3, day, 8, 30))
        await ticker.tick(city)
    assert {s.delivery.recipient_id for s in outbox.sent if s.delivery.is_group} == {LUCHENG_GROUP}


async def pending_hazard_rows(city: Services) -> list[Reminder]:
    return [r for r in await city.storage.reminders.find(state=ReminderState.PENDING)
            if r.subject_type is SubjectType.HAZARD]


async def hazard_sweep_at(city: Services, outbox: Outbox, when: object) -> list[tuple[int, str, str]]:
    return [sent for sent in await sweep_at(city, outbox, when) if sent[1].startswith("hazard")]


async def test_after_the_upgrade_a_weekly_repeat_planned_for_its_own_weekday_moves_to_monday_and_goes_out_once(
    city: Services,
) -> None:
    """A live table planned before the repeats kept to Monday: the re-plan at the next start moves each pending
    repeat under its key (never renamed), so it goes out once, at its new time, and not again on its old day."""
    city.reminders.ladder = replace(DEFAULT_LADDER, repeat_weekday=None)  # the rule before
    outbox = Outbox(city.clock)
    early, late = await report(city), await report(city)  # deadlines 9 March 10:00: overdue3d on Friday the 13th
    await hazard_sweep_at(city, outbox, local(2026, 3, 13, 9))
    city.clock.set(local(2026, 3, 14, 0, 1))
    await city.reminders.plan_open_hazards()
    pending = await pending_hazard_rows(city)
    assert {(r.step, r.due_at) for r in pending} == {("repeat1", local(2026, 3, 20, 9))}  # a Friday, as before

    city.reminders.ladder = DEFAULT_LADDER  # upgraded on Saturday the 14th: repeat1 moves to Monday the 16th
    await city.hazards.act(await city.user(HEAD), late.id, HazardAction.ACKNOWLEDGE)  # re-planned at once, too
    city.clock.set(local(2026, 3, 14, 10))
    await city.reminders.plan_open_hazards()
    pending = await pending_hazard_rows(city)
    assert {(r.subject_id, r.step, r.due_at) for r in pending} == {
        (str(hazard.id), "repeat1", local(2026, 3, 16, 9)) for hazard in (early, late)
    }
    assert await hazard_sweep_at(city, outbox, local(2026, 3, 15, 9)) == []
    monday = await hazard_sweep_at(city, outbox, local(2026, 3, 16, 9))
    assert sorted({(person, step) for person, _, step in monday}) == [
        (person, "repeat1") for person in sorted((CITY_ADMIN, LUCHENG_STAFF, HEAD))
    ]
    assert len(monday) == 6  # both hazards, to each of the three
    for day in range(17, 23):
        city.clock.set(local(2026, 3, day, 0, 1))
        await city.reminders.plan_open_hazards()
        assert await hazard_sweep_at(city, outbox, local(2026, 3, day, 9)) == []  # not again on Friday the 20th
    assert [r.due_at for r in await pending_hazard_rows(city)] == [
        local(2026, 3, 23, 9)
    ] * 6


async def test_after_the_upgrade_a_repeat_whose_monday_has_passed_goes_out_the_next_morning_not_on_its_old_day(
    city: Services,
) -> None:
    city.reminders.ladder = replace(DEFAULT_LADDER, repeat_weekday=None)
    outbox = Outbox(city.clock)
    await report(city)
    await hazard_sweep_at(city, outbox, local(2026, 3, 13, 9))
    city.clock.set(local(2026, 3, 17, 0, 1))  # Tuesday: repeat1 is planned for Friday the 20th
    await city.reminders.plan_open_hazards()
    city.reminders.ladder = DEFAULT_LADDER  # upgraded at 10:00: its new moment, Monday the 16th, has gone
    city.clock.set(local(2026, 3, 17, 10))
    await city.reminders.plan_open_hazards()
    pending = await pending_hazard_rows(city)
    assert {(r.step, r.due_at) for r in pending} == {
        ("repeat1", local(2026, 3, 18, 9)),  # caught up the next morning, as a step first planned late is
        ("repeat2", local(2026, 3, 23, 9)),
    }
    assert {step for _, _, step in await hazard_sweep_at(city, outbox, local(2026, 3, 18, 9))} == {"repeat1"}
    for day in (19, 20, 21, 22):
        city.clock.set(local(2026, 3, day, 0, 1))
        await city.reminders.plan_open_hazards()
        assert await hazard_sweep_at(city, outbox, local(2026, 3, day, 9)) == []
    assert {step for _, _, step in await hazard_sweep_at(city, outbox, local(2026, 3, 23, 9))} == {"repeat2"}
