"""A reporter takes back their own report (🗑 撤回上报) from its details, while nobody has worked on it: the same
category, reason and confirmation as staff's withdrawal; the head and the county staff are told who withdrew it and
why; its reminders stop; statistics count it as withdrawn; staff may reopen it. Once a rectification was submitted
(in any round) the reporter is refused in words that point to 💬 留言 and the county; a follower, another cadre and
the head may not withdraw it at all."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.domain.stats import PeriodKind, current_period
from bot.domain.withdrawal import WithdrawalCategory
from bot.sandbox.driver import SimUser
from bot.services.errors import Refusal
from bot.stage import Stage
from storage.calendar_models import ReminderState, SubjectType
from tests.hazard_people import CADRE, HEAD, LUCHENG, STAFF, act, cast, hazard_now, report, submitted

OTHER_CADRE, FOLLOWER = 60, 61
TOO_LATE = "上报人不能再撤回"
STALE = "这个按钮已失效，请重新发起操作。"


def buttons_of(person: SimUser) -> list[str]:
    return [label for row in person.last_message().buttons for label in row]


async def test_the_reporter_withdraws_their_report_and_the_head_and_staff_are_told(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await report(bot_stage)
    group_seen = len(people.group.messages())

    await cadre.send_text(f"/hazard {hazard.code}")
    dossier = cadre.last_message()
    assert ["🗑 撤回上报"] in dossier.buttons
    await cadre.press("🗑 撤回上报", dossier)
    asked = cadre.last_message()
    assert f"撤回您上报的隐患 {hazard.code}" in asked.text
    # Whether an institution has closed is the county's to say: a reporter is not offered it.
    assert asked.buttons == [["误报/不属于隐患"], ["重复上报"], ["其他"], ["取消"]]
    await cadre.press("误报/不属于隐患", asked)
    assert "请输入撤回原因（至少 2 个字）" in cadre.last_message().text
    await cadre.send_text("问")
    assert "作废原因至少 2 个字" in cadre.last_message().text
    await cadre.send_text("选错了机构，应为<隔壁>养老院")
    confirm = cadre.last_message()
    assert f"确认撤回您上报的隐患 {hazard.code}" in confirm.text and "&lt;隔壁&gt;" in (confirm.html or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED  # nothing until confirmed
    await cadre.press("确认撤回", confirm)

    done = cadre.last_message().text
    assert f"您已撤回上报的隐患 {hazard.code}（误报/不属于隐患）" in done and "已将原因告知整改责任人和县级民政" in done
    withdrawn = await hazard_now(bot_stage, hazard)
    assert withdrawn.state is HazardState.WITHDRAWN and withdrawn.withdrawal_category == "mistaken"

    # The head and the county staff each hear once who withdrew it and why; the group hears nothing.
    for person in (head, staff):
        told = [m for m in person.messages() if f"隐患 {hazard.code} 已由上报人撤回" in m.text]
        assert len(told) == 1, person.id
        assert "上报人：李娜" in told[0].text and "选错了机构" in told[0].text and "误报/不属于隐患" in told[0].text
    assert len(people.group.messages()) == group_seen

    # Its reminders stop; /mine says it is withdrawn and why; the audit trail names the reporter.
    pending = await bot_stage.services.storage.reminders.find(
        state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id))
    )
    assert pending == []
    await cadre.send_text("/mine")
    mine = cadre.last_message().text
    assert hazard.code in mine and "已作废" in mine and "作废原因：选错了机构" in mine
    audit = await bot_stage.services.storage.audit.list(action_prefix="hazard.withdrawn")
    assert [(e.actor_id, e.target) for e in audit] == [(CADRE, f"hazard:{hazard.code}")]

    # Statistics count it as withdrawn, not rectified; staff may reopen it as any withdrawn hazard.
    services = bot_stage.services
    staff_user = await people.user(STAFF)
    today = bot_stage.clock.now().astimezone(services.settings.tz).date()
    counts = (await services.insight.stats.report(staff_user, current_period(PeriodKind.MONTH, today))).hazards
    assert (counts.found, counts.closed, counts.withdrawn) == (1, 0, 1)
    await staff.send_text(f"/hazard {hazard.code}")
    assert ["重新打开"] in staff.last_message().buttons
    # The reporter's own details offer no second withdrawal, only a comment.
    await cadre.send_text(f"/hazard {hazard.code}")
    assert buttons_of(cadre) == ["💬 留言"]


async def test_the_reporter_is_refused_once_a_rectification_was_submitted(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    cadre = people.cadre
    hazard = await report(bot_stage)
    await cadre.send_text(f"/hazard {hazard.code}")
    old_dossier = cadre.last_message()
    assert "🗑 撤回上报" in buttons_of(cadre)

    hazard = await submitted(bot_stage, hazard)
    await cadre.send_text(f"/hazard {hazard.code}")
    assert "🗑 撤回上报" not in buttons_of(cadre)
    # The button of the details read before: refused in words that say why and where to turn; it gives way to Details.
    late = await cadre.press("🗑 撤回上报", old_dossier)
    assert late.answer is not None and late.answer.show_alert
    assert TOO_LATE in (late.answer.text or "") and "💬 留言" in (late.answer.text or "")
    assert "县级民政" in (late.answer.text or "")
    assert old_dossier.buttons == [["详情"]]

    # Sent back for more work, it is open again, but someone has worked on it: still refused.
    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="照片不清楚")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING
    await cadre.send_text(f"/hazard {hazard.code}")
    assert "🗑 撤回上报" not in buttons_of(cadre)
    again = await cadre.press_data(cadre.last_message(), f"hz:withdraw:{hazard.id}")
    assert again.answer is not None and TOO_LATE in (again.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING
    # A refusal the reporter meets in the normal course of things is not recorded as a forgery.
    assert await bot_stage.services.storage.audit.list(action_prefix="authz.refused") == []


async def test_a_confirmation_pressed_after_the_head_submitted_the_fix_changes_nothing(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    cadre = people.cadre
    hazard = await report(bot_stage)
    await cadre.send_text(f"/hazard {hazard.code}")
    await cadre.press("🗑 撤回上报", cadre.last_message())
    await cadre.press("重复上报", cadre.last_message())
    assert "可写明与哪条隐患重复" in cadre.last_message().text
    await cadre.send_text("和昨天那条重复了")
    confirm = cadre.last_message()

    await submitted(bot_stage, hazard)  # meanwhile the head hands in the rectification
    bot_stage.clock.advance(timedelta(minutes=5))
    late = await cadre.press("确认撤回", confirm)
    assert late.answer is not None and late.answer.show_alert and TOO_LATE in (late.answer.text or "")
    after = await hazard_now(bot_stage, hazard)
    assert after.state is HazardState.AWAITING_VERIFICATION and after.withdrawal_category is None
    assert not any("已由上报人撤回" in m.text for m in people.staff.messages())


async def test_a_follower_another_cadre_and_the_head_cannot_withdraw_the_report(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    sandbox = bot_stage.sandbox
    other = sandbox.user(user_id=OTHER_CADRE, first_name="王芳", language_code="zh-hans")
    follower = sandbox.user(user_id=FOLLOWER, first_name="赵强", language_code="zh-hans")
    for person in (other, follower):
        await bot_stage.register(person, Role.CADRE, region=LUCHENG)
    hazard = await report(bot_stage)
    storage = bot_stage.services.storage
    await storage.hazards.add_follower(hazard.id, FOLLOWER, bot_stage.clock.now(), None)

    # The follower sees it as its reporter does, but it is not their report: no button, and a forged press refused.
    await follower.send_text(f"/hazard {hazard.code}")
    assert "🗑 撤回上报" not in buttons_of(follower) and "🗑 作废" not in buttons_of(follower)
    expected = {FOLLOWER: "操作已记录", HEAD: "操作已记录", OTHER_CADRE: "找不到这条隐患，或您无权查看。"}
    for person in (follower, people.head, other):
        await person.send_text("/help")
        for data in (f"hz:withdraw:{hazard.id}", f"wd:cat:{hazard.id}:mistaken", f"wd:ok:{hazard.id}"):
            forged = await person.press_data(person.last_message(), data)
            assert forged.answer is not None and forged.answer.show_alert
            assert expected[person.id] in (forged.answer.text or ""), (person.id, data)
    refused = await storage.audit.list(action_prefix="authz.refused")
    assert {e.actor_id for e in refused} == {FOLLOWER, HEAD, OTHER_CADRE}
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED

    # Nor may the reporter give a category only the county may (机构已停用), by a forged press or through the service.
    cadre = people.cadre
    await cadre.send_text(f"/hazard {hazard.code}")
    await cadre.press("🗑 撤回上报", cadre.last_message())
    forged = await cadre.press_data(cadre.last_message(), f"wd:cat:{hazard.id}:institution_closed")
    assert forged.answer is not None and forged.answer.text == STALE
    reporter = await people.user(CADRE)
    try:
        await bot_stage.services.hazards.withdraw(reporter, hazard.id, WithdrawalCategory.INSTITUTION_CLOSED, "停业")
    except Refusal as refusal:
        assert refusal.code == "wrong_role"
    else:
        raise AssertionError("a reporter withdrew a hazard as 机构已停用")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED


async def test_in_english_the_reporter_reads_withdraw_my_report(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    cadre = people.cadre
    hazard = await report(bot_stage)
    await cadre.send_text(f"/hazard {hazard.code}")
    await cadre.press("🗑 Withdraw my report", cadre.last_message())
    await cadre.press("Duplicate", cadre.last_message())
    await cadre.send_text("Same as the one I sent yesterday")
    await cadre.press("Withdraw my report", cadre.last_message())
    assert f"You withdrew your report {hazard.code} (Duplicate)" in cadre.last_message().text
    told = [m.text for m in people.head.messages() if "was withdrawn by its reporter" in m.text]
    assert len(told) == 1 and "Reporter: Li Na" in told[0]


async def test_a_report_staff_reinstated_after_its_reporter_withdrew_it_is_not_theirs_to_withdraw_again(
    bot_stage: Stage,
) -> None:
    # Reinstating (Reopen) is staff working on it, as a rectification is: from then on the county decides. The other
    # tests reach "worked on" only through a rectification, which the hazard's row says too (fixed_at).
    people = await cast(bot_stage)
    cadre = people.cadre
    hazard = await report(bot_stage)
    reporter = await people.user(CADRE)
    await bot_stage.services.hazards.withdraw(reporter, hazard.id, WithdrawalCategory.MISTAKEN, "以为是别的机构")
    await bot_stage.sandbox.settle()
    await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="核实后确属该机构")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING

    await cadre.send_text(f"/hazard {hazard.code}")
    assert "🗑 撤回上报" not in buttons_of(cadre)
    again = await cadre.press_data(cadre.last_message(), f"hz:withdraw:{hazard.id}")
    assert again.answer is not None and TOO_LATE in (again.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING
