"""Sweeps and daily plans that handle many subjects at once: a sweep reads only the people its claimed rows
concern, the daily plan goes through the open hazards a page at a time and writes the calendar in chunks. Each
subject must still reach, and name, exactly its own people."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import bot.services.reminder_rounds as reminder_rounds
import bot.services.reminders as reminder_engine
from bot.clock import FakeClock
from bot.domain.compliance import SELF_INSPECTION_RULE, Duty, Period, period_of
from bot.domain.lifecycle import HazardAction
from bot.jobs import Ticker
from bot.services.duties import load_duties
from bot.services.reminder_items import DutyReminderData, HazardReminderData
from storage.calendar_models import Reminder, ReminderState
from storage.hazard_models import Hazard
from tests.calendar.test_reminder_engine import sweep_at
from tests.calendar.world import (
    CADRE,
    CITY_ADMIN,
    FUNERAL,
    FUNERAL_HEAD,
    HEAD,
    HOME,
    LONGWAN_STAFF,
    LUCHENG_STAFF,
    SOCIAL,
    SOCIAL_HEAD,
    WELFARE,
    WELFARE_HEAD,
    Outbox,
    Services,
    city,
    clock,
    local,
    open_services,
)

__all__ = ["city", "clock"]


async def report(city: Services, code: str = HOME) -> Hazard:
    """A report as the bot takes it, without planning its reminders (the daily plan's job here)."""
    outcome = await city.hazards.submit_report(await city.user(CADRE), city.draft(code))
    return outcome.hazard


def duty_items(outbox: Outbox) -> list[tuple[int, DutyReminderData]]:
    return [
        (s.delivery.recipient_id, item.data)
        for s in outbox.sent
        for item in s.delivery.items
        if isinstance(item.data, DutyReminderData)
    ]


async def test_one_sweep_over_many_institutions_names_each_ones_own_heads(
    city: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reminder_rounds, "LISTED_ITEMS", 1_000)  # every item built, not the ten a message lists
    await city.reminders.plan_calendar(city.today())
    heads = {city.institutions[code]: head for code, head in (
        (HOME, HEAD), (SOCIAL, SOCIAL_HEAD), (FUNERAL, FUNERAL_HEAD), (WELFARE, WELFARE_HEAD)
    )}
    outbox = Outbox(city.clock)
    await sweep_at(city, outbox, local(2026, 3, 25, 9))  # March's self-inspection is due: the heads hear of it
    # The 1st of April: March's is overdue (heads and county staff, or city admins where no county covers the
    # place), April's opens; every institution of the city in the same sweep.
    await sweep_at(city, outbox, local(2026, 4, 1, 9))
    items = duty_items(outbox)
    assert len({data.institution_id for _, data in items}) == len(city.institutions)
    for _, data in items:
        named = [person.telegram_id for person in data.responsible]
        assert named == ([heads[data.institution_id]] if data.institution_id in heads else [])
    home, social = city.institutions[HOME], city.institutions[SOCIAL]
    funeral, welfare = city.institutions[FUNERAL], city.institutions[WELFARE]
    overdue = {(recipient, data.institution_id) for recipient, data in items if data.period.start == date(2026, 3, 1)}
    assert {pair for pair in overdue if pair[1] in heads} == {
        (HEAD, home), (LUCHENG_STAFF, home),
        (SOCIAL_HEAD, social), (LONGWAN_STAFF, social),
        (FUNERAL_HEAD, funeral), (CITY_ADMIN, funeral),  # 瑞安: no county staff registered
        (WELFARE_HEAD, welfare), (CITY_ADMIN, welfare),  # a city institution
    }


async def test_the_person_named_responsible_is_reminded_and_named(city: Services) -> None:
    hazard = await report(city)
    staff = await city.user(LUCHENG_STAFF)
    assigned = await city.hazards.act(
        staff, hazard.id, HazardAction.ASSIGN, assignee_id=CADRE, deadline=local(2026, 3, 6, 10)
    )
    await city.reminders.plan_for_hazard(assigned.hazard)
    outbox = Outbox(city.clock)
    assert await sweep_at(city, outbox, local(2026, 3, 5, 10)) == [(CADRE, "hazard_due_soon", "before24h")]
    data = outbox.sent[0].delivery.items[0].data
    assert isinstance(data, HazardReminderData)
    assert [(p.telegram_id, p.full_name) for p in data.responsible] == [(CADRE, "user 30")]


async def test_the_daily_plan_reaches_every_open_hazard_page_after_page(
    city: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reminder_engine, "PLAN_PAGE", 2)
    hazards = [await report(city) for _ in range(5)]
    head = await city.user(HEAD)
    await city.hazards.act(
        head, hazards[2].id, HazardAction.SUBMIT_RECTIFICATION, reason="已整改完毕", photos=[city.photo()]
    )
    await city.reminders.plan_open_hazards()
    planned = {r.subject_id for r in await city.storage.reminders.find(state=ReminderState.PENDING)}
    assert planned == {str(h.id) for n, h in enumerate(hazards) if n != 2}  # a fixed hazard waits for staff
    rows = await city.storage.reminders.find()
    await city.reminders.plan_open_hazards()
    assert await city.storage.reminders.find() == rows


async def test_the_calendar_written_in_chunks_is_the_calendar(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = await open_services(tmp_path / "whole.db", tmp_path / "evidence", clock)
    chunked = await open_services(tmp_path / "chunked.db", tmp_path / "evidence", clock)
    try:
        await whole.reminders.plan_calendar(whole.today())
        monkeypatch.setattr(reminder_engine, "PLAN_CHUNK", 3)
        await chunked.reminders.plan_calendar(chunked.today())

        def planned(rows: list[Reminder]) -> set[tuple[object, ...]]:
            return {(r.dedupe_key, r.kind, r.due_at, r.recipient_id, r.state) for r in rows}

        expected = planned(await whole.storage.reminders.find())
        assert len(expected) > 3 * 3
        assert planned(await chunked.storage.reminders.find()) == expected
    finally:
        await whole.storage.close()
        await chunked.storage.close()


async def test_a_duty_snapshot_answers_only_for_the_duties_it_read(city: Services) -> None:
    home = await city.storage.institutions.get(city.institutions[HOME])
    assert home is not None
    duties = await load_duties(city.storage, city.today(), only=(Duty.SELF_INSPECTION,))
    duties.self_inspection(home)
    with pytest.raises(ValueError, match="fire_drill"):
        duties.drill(home)  # not "no drill held": it was never asked
    # A sweep that claims self-inspection reminders alone reads only those records, and judges them.
    await city.reminders.plan_calendar(city.today())
    outbox = Outbox(city.clock)
    await sweep_at(city, outbox, local(2026, 3, 25, 9))
    # The heads; and the staff standing in for the demo city's head-less institutions: Lucheng's clerk for its other
    # home, the city admin for those of the counties with no clerk.
    assert {recipient for recipient, data in duty_items(outbox) if data.duty is Duty.SELF_INSPECTION} == {
        HEAD, SOCIAL_HEAD, FUNERAL_HEAD, WELFARE_HEAD, LUCHENG_STAFF, CITY_ADMIN
    }


async def test_a_duty_snapshot_of_some_institutions_answers_only_for_them(city: Services) -> None:
    home = await city.storage.institutions.get(city.institutions[HOME])
    social = await city.storage.institutions.get(city.institutions[SOCIAL])
    assert home is not None and social is not None
    inspection = await city.storage.calendar.start_inspection(home.id, "2026-03", HEAD, city.clock.now())
    await city.storage.calendar.finish_inspection(inspection.id, HEAD, city.clock.now())
    duties = await load_duties(city.storage, city.today(), institutions={home.id})
    assert duties.self_inspection_done_in(home.id, duties_period(2026, 3))
    duties.drill(home)
    with pytest.raises(ValueError, match="institution"):
        duties.self_inspection(social)  # not "not inspected": it was never asked
    with pytest.raises(ValueError, match="institution"):
        duties.drill(social)


def duties_period(year: int, month: int) -> Period:
    return period_of(SELF_INSPECTION_RULE, date(year, month, 1))


async def finish_self_inspection(city: Services, code: str, month: str, head: int) -> None:
    inspection = await city.storage.calendar.start_inspection(city.institutions[code], month, head, city.clock.now())
    await city.storage.calendar.finish_inspection(inspection.id, head, city.clock.now())


def about_february(outbox: Outbox) -> set[tuple[int, int | None]]:
    return {
        (recipient, data.institution_id)
        for recipient, data in duty_items(outbox)
        if data.duty is Duty.SELF_INSPECTION and data.period.start == date(2026, 2, 1)
    }


async def test_nobody_is_reminded_of_a_self_inspection_done_before_or_after_the_plan(city: Services) -> None:
    home, social = city.institutions[HOME], city.institutions[SOCIAL]
    city.clock.set(local(2026, 2, 10, 10))
    await finish_self_inspection(city, HOME, "2026-02", HEAD)  # done before the daily plan
    await city.reminders.plan_calendar(city.today())
    city.clock.set(local(2026, 2, 20, 10))
    await finish_self_inspection(city, SOCIAL, "2026-02", SOCIAL_HEAD)  # done after it
    await city.reminders.plan_calendar(city.today())
    # Neither institution's February rows wait in the table for the morning of 1 March: the first was never
    # planned, the second's were cancelled by the next day's plan.
    waiting = await city.storage.reminders.find(state=ReminderState.PENDING)
    assert not [r for r in waiting if r.period == "2026-02" and r.subject_id in (str(home), str(social))]
    assert [r for r in waiting if r.period == "2026-02"]  # the other institutions' are still planned
    outbox = Outbox(city.clock)
    await sweep_at(city, outbox, local(2026, 2, 25, 9))
    await sweep_at(city, outbox, local(2026, 3, 1, 9))
    reminded = about_february(outbox)
    assert reminded and not {pair for pair in reminded if pair[1] in (home, social)}
    assert (LONGWAN_STAFF, social) not in reminded and (LUCHENG_STAFF, home) not in reminded


async def test_a_backlog_larger_than_the_claim_limit_all_goes_out_on_time_in_one_tick(city: Services) -> None:
    city.reminders.claim_limit = 3
    outbox = Outbox(city.clock)
    ticker = Ticker(outbox, "worker-a")
    for minute in (local(2026, 3, 1, 0, 1), local(2026, 3, 1, 8, 30)):  # the day's plan, the morning's digests
        city.clock.set(minute)
        await ticker.tick(city)
    city.clock.set(local(2026, 3, 1, 9))
    before = len(outbox.sent)
    await ticker.tick(city)  # 09:00: the self-inspections of every institution, February's overdue, March's open
    items = [(s.at, item) for s in outbox.sent[before:] for item in s.delivery.items]
    assert len(items) > 3 * city.reminders.claim_limit
    assert all(at == local(2026, 3, 1, 9) and not item.late for at, item in items)
    # Claimed a few at a time, sent as one message per person: the limit bounds a sweep, not a person's messages.
    recipients = [s.delivery.recipient_id for s in outbox.sent[before:]]
    assert len(recipients) == len(set(recipients)) and max(len(s.delivery.items) for s in outbox.sent[before:]) > 3
    # Everything due by now went out in that tick: nothing is left for the next minute's.
    due = [r for r in await city.storage.reminders.find(state=ReminderState.PENDING) if r.due_at <= city.clock.now()]
    assert due == []
    sent_at_nine = len(outbox.sent)
    city.clock.set(local(2026, 3, 1, 9, 1))
    await ticker.tick(city)
    assert len(outbox.sent) == sent_at_nine


async def test_when_nothing_can_be_sent_a_tick_stops_after_one_round_and_the_next_goes_on(city: Services) -> None:
    """Telegram down at 09:00: the tick gives up after the first round fails instead of claiming and failing every
    round of the backlog now; the rest is still pending for the next minute's tick, which sends it all."""
    city.reminders.claim_limit = 3
    outbox = Outbox(city.clock)
    ticker = Ticker(outbox, "worker-a", round_rows=6)  # two sweeps a round
    for minute in (local(2026, 3, 1, 0, 1), local(2026, 3, 1, 8, 30)):
        city.clock.set(minute)
        await ticker.tick(city)
    city.clock.set(local(2026, 3, 1, 9))
    outbox.fail_next = 1_000
    report = await ticker.tick(city)
    tried = [row for delivery in report.retried for row in delivery.reminder_ids]
    assert report.sent == [] and tried
    # A round holds its rows and the rest of the people it met: the people it did not meet are left for later.
    tried_people = {delivery.recipient_id for delivery in report.retried}
    pending = await city.storage.reminders.find(state=ReminderState.PENDING)
    untried = [r for r in pending if r.due_at <= city.clock.now() and r.attempts == 0]
    assert untried and not {r.recipient_id for r in untried} & tried_people  # not claimed and failed round by round

    outbox.fail_next = 0
    before = len(outbox.sent)
    city.clock.set(local(2026, 3, 1, 9, 1))
    await ticker.tick(city)
    assert len(outbox.sent) > before
    due = [r for r in await city.storage.reminders.find(state=ReminderState.PENDING) if r.due_at <= city.clock.now()]
    assert due == []  # the failed batch's retry fell due too: everything went out


async def test_a_round_that_fails_half_way_gives_its_claims_back_and_the_next_minute_sends_them(
    city: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round claims sweep after sweep before it sends: when a later sweep fails (the database, say), the rows the
    earlier ones claimed must not wait out the 15-minute lease of a sweeper that is still alive."""
    city.reminders.claim_limit = 3
    outbox = Outbox(city.clock)
    ticker = Ticker(outbox, "worker-a")
    for minute in (local(2026, 3, 1, 0, 1), local(2026, 3, 1, 8, 30)):
        city.clock.set(minute)
        await ticker.tick(city)
    sweep_batch = city.reminders.sweep_batch
    sweeps = 0

    async def second_sweep_fails(*args: object, **kwargs: object) -> reminder_engine.Sweep:
        nonlocal sweeps
        sweeps += 1
        if sweeps == 2:
            raise RuntimeError("disk I/O error")
        return await sweep_batch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(city.reminders, "sweep_batch", second_sweep_fails)
    city.clock.set(local(2026, 3, 1, 9))
    before = len(outbox.sent)
    with pytest.raises(RuntimeError):
        await ticker.tick(city)
    assert len(outbox.sent) == before
    assert await city.storage.reminders.find(state=ReminderState.CLAIMED) == []

    monkeypatch.setattr(city.reminders, "sweep_batch", sweep_batch)
    city.clock.set(local(2026, 3, 1, 9, 1))  # the first retry falls due a minute later
    await ticker.tick(city)
    due = [r for r in await city.storage.reminders.find(state=ReminderState.PENDING) if r.due_at <= city.clock.now()]
    assert due == [] and len(outbox.sent) > before
