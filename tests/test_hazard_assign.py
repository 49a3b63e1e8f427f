"""Staff name the person responsible for a hazard (指定责任人): from its details, a paged list of the people who may
take it on; the one chosen is told, with the buttons a rectifier gets, and finds it in /tasks."""

from __future__ import annotations

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.stage import Stage
from tests.hazard_people import (
    CADRE,
    HEAD,
    LONGWAN,
    LONGWAN_STAFF,
    LUCHENG,
    OTHER_STAFF,
    SECOND_HEAD,
    STAFF,
    act,
    cast,
    hazard_now,
    report,
)

NO_HEAD_HOME = "WZ-330302-ELDER-02"  # another home of Lucheng, whose head never registered
REPORTER = 47


async def test_staff_name_a_cadre_for_a_home_with_no_head_who_rectifies_and_staff_accept(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff, cadre = people.staff, people.cadre
    reporter = bot_stage.sandbox.user(user_id=REPORTER, first_name="王干部", language_code="zh-hans")
    await bot_stage.register(reporter, Role.CADRE, region=LUCHENG)
    hazard = await report(bot_stage, REPORTER, institution=NO_HEAD_HOME)
    assert hazard.state is HazardState.REPORTED and hazard.assignee_id is None

    await staff.send_text(f"/hazard {hazard.code}")
    dossier = staff.last_message()
    assert ["指定责任人"] in dossier.buttons
    await staff.press("指定责任人", dossier)
    choice = staff.last_message()
    assert f"隐患 {hazard.code}" in choice.text and "责任人" in choice.text
    labels = [label for row in choice.buttons for label in row]
    # No head: the cadres whose region covers the home, then the county staff; nobody of another county.
    assert labels[:3] == ["李娜（社区/村干部）", "王干部（社区/村干部）", "周科长（县级民政工作人员）"]
    await staff.press("李娜（社区/村干部）", choice)
    done = staff.last_message()
    assert f"已指定 李娜 为隐患 {hazard.code} 的整改责任人" in done.text

    assigned = await hazard_now(bot_stage, hazard)
    assert assigned.state is HazardState.ASSIGNED and assigned.assignee_id == CADRE
    assert assigned.deadline == hazard.deadline  # the deadline set at report time stays
    told = cadre.last_message()
    assert f"您已被指定为隐患 {hazard.code} 的整改责任人" in told.text
    assert told.buttons == [["确认收到"], ["📤 提交整改结果"], ["申请延期"], ["详情"]]

    # A second tap on the same name assigns nothing twice.
    again = await staff.press_data(choice, f"as:pick:{hazard.id}:{CADRE}")
    assert again.answer is not None and again.answer.show_alert and "已是" in (again.answer.text or "")
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events.count("assign") == 1

    await cadre.send_text("/tasks")
    assert hazard.code in cadre.last_message().text

    await cadre.press("确认收到", told)
    await cadre.press("📤 提交整改结果", told)
    await cadre.send_text("已清理消防通道内的杂物")
    await cadre.send_photo()
    await cadre.press("完成")
    assert f"隐患 {hazard.code} 的整改已提交" in cadre.last_message().text
    await staff.press("验收通过", next(m for m in staff.messages() if "待您验收" in m.text))
    closed = await hazard_now(bot_stage, hazard)
    assert closed.state is HazardState.CLOSED
    assert "已验收通过并销号" in cadre.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="hazard.assigned")
    assert [(e.actor_id, e.target) for e in audit] == [(STAFF, f"hazard:{hazard.code}")]


async def test_a_rights_protection_hazard_is_never_offered_to_the_head_and_a_new_assignee_relieves_the_old(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage, "en")
    staff, cadre, head = people.staff, people.cadre, people.head
    hazard = await report(bot_stage, area=HazardArea.RIGHTS, description="A carer shouted at a resident")
    heard = len(head.messages())
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("Assign", staff.last_message())
    labels = [label for row in staff.last_message().buttons for label in row]
    assert not any(label.startswith("Chen") for label in labels)
    assert any(label.startswith("Li Na") for label in labels)

    # Forged: the head was never offered.
    forged = await staff.press_data(staff.last_message(), f"as:pick:{hazard.id}:{HEAD}")
    assert forged.answer is not None and forged.answer.show_alert
    assert (await hazard_now(bot_stage, hazard)).assignee_id is None

    await staff.press("Li Na", staff.last_message())
    assert (await hazard_now(bot_stage, hazard)).assignee_id == CADRE
    # Reassigned to the county staff member: Li Na hears it is no longer hers.
    await act(bot_stage, STAFF, hazard, HazardAction.COMMENT, reason="Moving it to the county office")
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("Assign", staff.last_message())
    await staff.press("Zhou", staff.last_message())
    assert (await hazard_now(bot_stage, hazard)).assignee_id == STAFF
    assert f"no longer responsible for hazard {hazard.code}" in cadre.last_message().text
    assert len(head.messages()) == heard  # the head heard of none of it
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["action"]) for e in refused] == [(STAFF, "assign")]


async def test_a_forged_assign_outside_scope_is_refused_and_audited_and_stale_ones_explained(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)
    hazard = await report(bot_stage, CADRE, institution=NO_HEAD_HOME)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("Assign", staff.last_message())
    choice = staff.last_message()

    forged = await staff.press_data(choice, f"as:pick:{hazard.id}:{LONGWAN_STAFF}")
    assert forged.answer is not None and forged.answer.show_alert
    assert "outside" in (forged.answer.text or "")
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["action"], e.detail["reason"]) for e in refused] == [
        (STAFF, "assign", "assignee_not_in_scope")
    ]
    # Another county's staff may not even open the list.
    await outsider.send_text("/help")
    opened = await outsider.press_data(outsider.last_message(), f"hz:assign:{hazard.id}")
    assert opened.answer is not None
    assert opened.answer.text == "No such hazard, or you may not see it."
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.REPORTED

    # The candidate's access ended meanwhile: a clear answer, nothing assigned, nothing audited as forged.
    await bot_stage.services.storage.users.set_active(CADRE, False)
    gone = await staff.press("Li Na", choice)
    assert gone.answer is not None and "no longer" in (gone.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).assignee_id is None
    await bot_stage.services.storage.users.set_active(CADRE, True)

    # The hazard moved on (rectified and awaiting verification): the list is stale.
    await act(bot_stage, CADRE, hazard, HazardAction.REPORT_FIXED_ON_SPOT, photos=1)
    fixed_at = bot_stage.clock.now().astimezone(bot_stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")
    late = await staff.press("Li Na", choice)
    assert late.answer is not None and late.answer.text == (
        f"The rectification of hazard {hazard.code} was already submitted by Li Na at {fixed_at} and awaits "
        "verification; it can no longer be assigned.")
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["reason"]) for e in refused] == [
        (STAFF, "assignee_not_in_scope"), (LONGWAN_STAFF, "not_in_scope")
    ]


async def test_the_candidates_come_eight_to_a_page_heads_first(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    for n in range(10):  # cadres of the home's township: they cover it too; a neighbouring township's do not
        township = "330302001" if n < 9 else "330302007"
        person = bot_stage.sandbox.user(user_id=500 + n, first_name=f"干部{n}", language_code="zh-hans")
        await bot_stage.register(person, Role.CADRE, region=township)
    hazard = await report(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("指定责任人", staff.last_message())
    first = staff.last_message()
    assert "第 1/2 页" in first.text and "当前责任人：陈院长" in first.text
    labels = [label for row in first.buttons for label in row]
    # The head is responsible already (named at report time), so the list starts with the cadres.
    assert labels[0] == "李娜（社区/村干部）" and len(labels) == 10 and labels[-2:] == ["下一页 ▶", "取消"]
    await staff.press("下一页 ▶", first)
    second = staff.last_message()
    rest = [label for row in second.buttons for label in row]
    assert "第 2/2 页" in second.text and rest[-2:] == ["◀ 上一页", "取消"]
    assert "周科长（县级民政工作人员）" in rest and "干部9（社区/村干部）" not in labels + rest


async def test_county_staff_named_responsible_find_the_hazard_in_their_tasks(bot_stage: Stage) -> None:
    """Staff's /tasks listed what awaits verification, what is overdue and what nobody was responsible for: a
    rights-protection hazard named to a colleague, within its deadline, was in nobody's list at all."""
    people = await cast(bot_stage)
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    hazard = await report(bot_stage, CADRE, area=HazardArea.RIGHTS)
    await colleague.send_text("/tasks")
    assert hazard.code in colleague.last_message().text  # nobody responsible yet: every county clerk sees it

    await people.staff.send_text(f"/hazard {hazard.code}")
    await people.staff.press("指定责任人")
    await people.staff.press("吴科员（县级民政工作人员）")
    assert (await hazard_now(bot_stage, hazard)).assignee_id == OTHER_STAFF
    await colleague.send_text("/tasks")
    assert hazard.code in colleague.last_message().text
    await people.staff.send_text("/tasks")
    assert hazard.code not in people.staff.last_message().text  # named to someone else, and not yet overdue


async def test_the_candidate_list_has_a_cancel_that_names_nobody(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("指定责任人", staff.last_message())
    choice = staff.last_message()
    assert ["取消"] in choice.buttons
    await staff.press("取消", choice)
    cancelled = staff.last_message()
    assert f"未指定新的责任人，隐患 {hazard.code} 仍由 陈院长 负责" in cancelled.text
    assert cancelled.buttons == [["详情"]]
    assert (await hazard_now(bot_stage, hazard)).assignee_id == HEAD
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert "assign" not in events


async def test_the_heads_and_the_reporter_hear_who_the_hazard_is_now_with(bot_stage: Stage) -> None:
    """Staff naming a cadre for a home's hazard told the cadre and relieved the head named at report time, but the
    home's other heads, who still see the hazard, and the reporter never heard who now had it."""
    people = await cast(bot_stage, "en")
    staff, head, cadre = people.staff, people.head, people.cadre
    second = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="Lin", language_code="en")
    await bot_stage.register(second, Role.HEAD, institution="WZ-330302-ELDER-01")
    reporter = bot_stage.sandbox.user(user_id=REPORTER, first_name="Wang", language_code="en")
    await bot_stage.register(reporter, Role.CADRE, region=LUCHENG)
    hazard = await report(bot_stage, REPORTER)
    named_at_report = (await hazard_now(bot_stage, hazard)).assignee_id
    assert named_at_report in (HEAD, SECOND_HEAD)  # the head the home names, the other one a head all the same
    if named_at_report == SECOND_HEAD:
        head, second = second, head
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("Assign", staff.last_message())
    await staff.press("Li Na", staff.last_message())
    await bot_stage.sandbox.settle()

    assert f"You are now responsible for hazard {hazard.code}" in cadre.last_message().text
    relieved = head.last_message().text
    assert f"no longer responsible for hazard {hazard.code}" in relieved and "Li Na" in relieved
    told = second.last_message()
    assert f"hazard {hazard.code}" in told.text and "Li Na" in told.text and told.buttons == [["Details"]]
    heard = reporter.last_message()
    assert f"hazard {hazard.code}" in heard.text and "Li Na" in heard.text and heard.buttons == []
    # One message each: the cadre named is not told twice, nor the head relieved.
    assert sum(hazard.code in m.text for m in cadre.messages()) == 1
    assert sum("Li Na" in m.text for m in head.messages()) == 1
