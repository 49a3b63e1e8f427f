"""Drills, monthly self-inspections and study sessions through their services."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.compliance import Compliant, DrillKind, DueSoon, Duty, Overdue
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.reminders import ReminderKind
from bot.services.calendar import DrillEntry, DrillProblem
from bot.services.errors import Refusal
from storage.calendar_models import Answer, ReminderState, SubjectType
from tests.calendar.world import (
    CADRE,
    FUNERAL,
    FUNERAL_HEAD,
    HEAD,
    HOME,
    LONGWAN_STAFF,
    LUCHENG,
    LUCHENG_STAFF,
    SOCIAL_HEAD,
    Services,
    city,
    clock,
)

__all__ = ["city", "clock"]


def entry(city: Services, code: str = HOME, /, **fields: object) -> DrillEntry:
    values: dict[str, object] = {
        "institution_id": city.institutions[code],
        "kind": DrillKind.FIRE,
        "held_on": city.today(),
        "participants": 35,
        "duration_minutes": 40,
        "practised": "夜间火情疏散，失能老人转移",
        "photos": [city.photo()],
    }
    values.update(fields)
    return DrillEntry.model_validate(values)


async def answer_all(city: Services, inspection_id: int, answer: Answer = Answer.OK) -> None:
    head = await city.user(HEAD)
    sheet = await city.selfchecks.sheet(head, inspection_id)
    for item in sheet.unanswered:
        await city.selfchecks.answer(head, inspection_id, item.code, answer)


async def test_a_failed_item_becomes_a_self_check_hazard_with_its_deadline_and_reminders(city: Services) -> None:
    head = await city.user(HEAD)
    sheet = await city.selfchecks.start(head)
    assert sheet.inspection.month == "2026-03" and not sheet.inspection.done
    assert sheet.next_item is not None and sheet.next_item.code == "fire.extinguishers"
    assert "food.samples" in {item.code for item in sheet.items}  # the home has a kitchen

    outcome = await city.selfchecks.answer(
        head, sheet.inspection.id, "fire.exits", Answer.FAIL, note="二楼安全出口堆放杂物", photo=city.photo()
    )
    assert outcome.hazard is not None
    hazard = outcome.hazard.hazard
    assert hazard.source_level is SourceLevel.SELF_CHECK and hazard.area is HazardArea.FIRE
    assert hazard.severity is Severity.MAJOR  # the item's default
    assert hazard.deadline == city.clock.now() + timedelta(days=3)
    assert hazard.state is HazardState.ASSIGNED and hazard.assignee_id == HEAD
    assert hazard.description == "【自查】安全出口、疏散通道畅通，未上锁、未堆放杂物：二楼安全出口堆放杂物"
    assert outcome.sheet.answers["fire.exits"].hazard_id == hazard.id
    planned = await city.storage.reminders.find(subject=(SubjectType.HAZARD, str(hazard.id)))
    assert {(r.step, r.recipient_id) for r in planned} >= {("before24h", HEAD), ("deadline", LUCHENG_STAFF)}

    serious = await city.selfchecks.answer(
        head, sheet.inspection.id, "gas.valves", Answer.FAIL, note="燃气阀门漏气", severity=Severity.SERIOUS
    )
    assert serious.hazard is not None and serious.hazard.hazard.deadline == city.clock.now() + timedelta(hours=24)


async def test_answers_need_a_note_on_failure_and_the_inspection_needs_every_item(city: Services) -> None:
    head = await city.user(HEAD)
    sheet = await city.selfchecks.start(head)
    with pytest.raises(Refusal) as no_note:
        await city.selfchecks.answer(head, sheet.inspection.id, "fire.exits", Answer.FAIL, note="  ")
    assert no_note.value.code == "note_required"
    with pytest.raises(Refusal) as not_here:
        await city.selfchecks.answer(head, sheet.inspection.id, "vehicles.condition", Answer.OK)
    assert not_here.value.code == "item_unknown"
    await city.selfchecks.answer(head, sheet.inspection.id, "fire.exits", Answer.NA)
    with pytest.raises(Refusal) as incomplete:
        await city.selfchecks.finish(head, sheet.inspection.id)
    assert incomplete.value.code == "selfcheck_incomplete"
    assert incomplete.value.params["missing"] == len(sheet.items) - 1


async def test_a_second_inspection_in_the_month_amends_the_first(city: Services) -> None:
    head = await city.user(HEAD)
    first = await city.selfchecks.start(head)
    failed = await city.selfchecks.answer(head, first.inspection.id, "fire.alarm", Answer.FAIL, note="烟感报警器失灵")
    await answer_all(city, first.inspection.id)
    finished = await city.selfchecks.finish(head, first.inspection.id)
    assert finished.inspection.done and finished.inspection.amended_at is None
    assert isinstance(await city.selfchecks.status(finished.institution), Compliant)

    city.clock.advance(timedelta(days=5))
    again = await city.selfchecks.start(head)
    assert again.inspection.id == first.inspection.id and again.complete
    # The alarm is still broken: the unresolved hazard is kept, not reported twice.
    still = await city.selfchecks.answer(head, again.inspection.id, "fire.alarm", Answer.FAIL, note="仍未修复")
    assert still.hazard is None and still.sheet.answers["fire.alarm"].hazard_id == failed.hazard.hazard.id  # type: ignore[union-attr]
    new = await city.selfchecks.answer(head, again.inspection.id, "electricity.ebikes", Answer.FAIL, note="楼道充电")
    assert new.hazard is not None and new.hazard.hazard.id != failed.hazard.hazard.id  # type: ignore[union-attr]
    amended = await city.selfchecks.finish(head, again.inspection.id)
    assert amended.inspection.finished_at == finished.inspection.finished_at
    assert amended.inspection.amended_at == city.clock.now()
    assert amended.count(Answer.FAIL) == 2


async def test_only_the_head_runs_their_own_self_inspection(city: Services) -> None:
    sheet = await city.selfchecks.start(await city.user(HEAD))
    for intruder in (SOCIAL_HEAD, LUCHENG_STAFF, CADRE):
        with pytest.raises(Refusal) as refused:
            await city.selfchecks.answer(await city.user(intruder), sheet.inspection.id, "fire.exits", Answer.OK)
        assert refused.value.code == "not_in_scope"
    with pytest.raises(Refusal) as future:
        await city.selfchecks.start(await city.user(HEAD), "2026-04")
    assert future.value.code == "month_in_future"
    with pytest.raises(Refusal) as late:
        await city.selfchecks.start(await city.user(HEAD), "2026-02")
    assert late.value.code == "month_closed"


async def test_self_inspection_status_through_the_month(city: Services) -> None:
    head = await city.user(HEAD)
    home = await city.storage.institutions.get(city.institutions[HOME])
    assert home is not None
    # Nothing in February and tracking from the start of time: March opens overdue for February.
    assert isinstance(await city.selfchecks.status(home), Overdue)
    assert isinstance(await city.selfchecks.status(home, date(2026, 3, 25)), Overdue)
    sheet = await city.selfchecks.start(head)
    await answer_all(city, sheet.inspection.id)
    await city.selfchecks.finish(head, sheet.inspection.id)
    assert await city.selfchecks.status(home) == Compliant(
        (await city.selfchecks.status(home)).period, date(2026, 3, 1)
    )
    assert isinstance(await city.selfchecks.status(home, date(2026, 4, 25)), DueSoon)


async def test_a_drill_is_logged_with_photos_and_its_problems_become_hazards(city: Services) -> None:
    head = await city.user(HEAD)
    problem = DrillProblem(description="疏散时发现三楼应急照明不亮", area=HazardArea.FIRE, severity=Severity.MAJOR)
    noted = DrillProblem(description="集合点广播声音偏小", report=False)
    logged = await city.drills.log(head, entry(city, problems=[problem, noted]))
    assert logged.drill.id > 0 and len(logged.drill.photos) == 1
    assert len(logged.hazards) == 1
    hazard = logged.hazards[0].hazard
    assert hazard.source_level is SourceLevel.SELF_CHECK and hazard.severity is Severity.MAJOR
    assert logged.drill.hazard_ids == (hazard.id,)
    assert logged.drill.problems is not None and "广播" in logged.drill.problems
    assert isinstance(logged.status, Compliant) and logged.status.done_on == city.today()

    home = await city.storage.institutions.get(city.institutions[HOME])
    assert home is not None
    record = await city.drills.record(home)
    assert [d.id for d in record.drills] == [logged.drill.id]
    assert record.drills[0].photos == logged.drill.photos
    assert record.rule.duty is Duty.FIRE_DRILL


async def test_drill_entries_are_checked(city: Services) -> None:
    head = await city.user(HEAD)
    cases: list[tuple[dict[str, object], str]] = [
        ({"photos": []}, "photo_required"),
        ({"held_on": city.today() + timedelta(days=1)}, "date_in_future"),
        ({"held_on": city.today() - timedelta(days=400)}, "date_too_old"),
        ({"participants": 0}, "participants_invalid"),
        ({"duration_minutes": 0}, "duration_invalid"),
        ({"practised": " "}, "practised_too_short"),
        ({"institution_id": city.institutions[FUNERAL]}, "not_in_scope"),
    ]
    for fields, code in cases:
        with pytest.raises(Refusal) as refused:
            await city.drills.log(head, entry(city, **fields))
        assert refused.value.code == code, fields
    # County staff may log a drill they supervised in their own county, not elsewhere.
    await city.drills.log(await city.user(LUCHENG_STAFF), entry(city))
    with pytest.raises(Refusal):
        await city.drills.log(await city.user(LONGWAN_STAFF), entry(city))
    assert await city.storage.hazard_watch.open_hazards() == []


async def test_only_fire_drills_count_and_a_yearly_institution_is_covered_all_year(city: Services) -> None:
    funeral = await city.storage.institutions.get(city.institutions[FUNERAL])
    assert funeral is not None
    head = await city.user(FUNERAL_HEAD)
    await city.drills.log(head, entry(city, FUNERAL, kind=DrillKind.TYPHOON_FLOOD))
    # No fire drill logged for 2025 either (nothing is tracked from a later date in this city): overdue.
    assert isinstance(await city.drills.status(funeral, date(2026, 12, 1)), Overdue)
    await city.drills.log(head, entry(city, FUNERAL))
    for day in (date(2026, 3, 2), date(2026, 12, 31)):
        assert isinstance(await city.drills.status(funeral, day), Compliant)


async def test_study_sessions_per_unit(city: Services) -> None:
    staff = await city.user(LUCHENG_STAFF)
    record = await city.studies.log(staff, city.today(), "学习安全生产法及年度工作要点", 18)
    assert record.unit.code == LUCHENG and len(record.sessions) == 1
    assert isinstance(record.status, Compliant)
    units = {u.code for u in await city.studies.units()}
    assert LUCHENG in units and "330300" in units and "330302001" not in units
    with pytest.raises(Refusal):
        await city.studies.log(staff, city.today(), "越权登记", 5, unit_code="330303")
    with pytest.raises(Refusal):
        await city.studies.log(await city.user(HEAD), city.today(), "机构不是单位", 5)
    city_record = await city.studies.log(await city.user(1), city.today(), "局机关安全学习", 40)
    assert city_record.unit.code == "330300"


async def test_a_closed_hazard_from_a_self_check_drops_its_pending_reminders(city: Services) -> None:
    head = await city.user(HEAD)
    sheet = await city.selfchecks.start(head)
    outcome = await city.selfchecks.answer(head, sheet.inspection.id, "fire.exits", Answer.FAIL, note="通道堵塞")
    assert outcome.hazard is not None
    hazard = outcome.hazard.hazard
    fixed = await city.hazards.act(
        head, hazard.id, HazardAction.SUBMIT_RECTIFICATION, reason="已清理杂物", photos=[city.photo()]
    )
    await city.reminders.plan_for_hazard(fixed.hazard)
    rows = await city.storage.reminders.find(subject=(SubjectType.HAZARD, str(hazard.id)))
    assert rows and all(r.state is ReminderState.CANCELLED for r in rows)
    assert all(
        r.kind in (ReminderKind.HAZARD_DUE_SOON, ReminderKind.HAZARD_DEADLINE, ReminderKind.HAZARD_OVERDUE)
        for r in rows
    )


async def test_a_sheet_closes_with_its_month_and_never_counts_late(city: Services) -> None:
    """A month's inspection counts only if finished by the month's last day: after it, no answer or finish is taken,
    the answers stay, and the month stays missed. A ❌ begun before the end may still become a hazard."""
    head = await city.user(HEAD)
    sheet = await city.selfchecks.start(head)
    month = sheet.inspection.month
    early = await city.selfchecks.answer(head, sheet.inspection.id, "fire.alarm", Answer.FAIL, note="烟感报警器失灵")
    await answer_all(city, sheet.inspection.id)  # every item answered, never finished
    city.clock.advance(timedelta(days=40))
    with pytest.raises(Refusal) as answered:
        await city.selfchecks.answer(head, sheet.inspection.id, "fire.exits", Answer.OK)
    assert answered.value.code == "selfcheck_closed"
    with pytest.raises(Refusal) as finished:
        await city.selfchecks.finish(head, sheet.inspection.id)
    assert finished.value.code == "selfcheck_closed"
    with pytest.raises(Refusal) as restarted:
        await city.selfchecks.start(head, month)
    assert restarted.value.code == "month_closed"

    late = await city.selfchecks.keep_late_failure(head, sheet.inspection.id, "gas.valves", note="燃气阀门漏气")
    assert late.hazard is not None and late.sheet.answers["gas.valves"].hazard_id == late.hazard.hazard.id
    assert late.sheet.answers["fire.alarm"].hazard_id == early.hazard.hazard.id  # type: ignore[union-attr]
    kept = await city.selfchecks.acknowledge_closed(head, sheet.inspection.id)
    assert not kept.inspection.done and kept.complete
    assert await city.storage.calendar.done_months([month]) == {}
    assert isinstance(await city.selfchecks.status(kept.institution), Overdue)
    audit = await city.storage.audit.list(action_prefix="selfcheck.")
    assert [(e.action, e.detail["month"]) for e in audit] == [("selfcheck.expired", month)]
