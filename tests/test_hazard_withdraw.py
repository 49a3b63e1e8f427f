"""Staff withdraw (作废) a hazard that will never be fixed: from its details, with a reason category, a reason and a
confirmation; the reporter and the person responsible are told once, its reminders stop, statistics never count it
as rectified, and staff may reinstate it within the reopening window."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.domain.stats import PeriodKind, current_period
from bot.domain.withdrawal import WithdrawalCategory
from bot.services.errors import Refusal
from bot.stage import Stage
from handlers.withdraw import WithdrawDraft
from storage.calendar_models import ReminderState, SubjectType
from storage.repositories.action_drafts import Journey, read_draft
from tests.hazard_people import (
    HEAD,
    LONGWAN,
    LONGWAN_HOME,
    LONGWAN_STAFF,
    LUCHENG,
    OTHER_STAFF,
    STAFF,
    act,
    cancelled_after_refusals,
    cast,
    hazard_now,
    report,
    submitted,
)

LONGWAN_CADRE = 48  # a cadre of Longwan, to report a hazard there


async def test_staff_withdraw_a_hazard_with_a_reason_and_the_reporter_and_head_are_told(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await report(bot_stage)
    group_seen = len(people.group.messages())

    await staff.send_text(f"/hazard {hazard.code}")
    dossier = staff.last_message()
    assert ["🗑 作废"] in dossier.buttons
    await staff.press("🗑 作废", dossier)
    asked = staff.last_message()
    assert f"作废隐患 {hazard.code}" in asked.text
    assert asked.buttons == [["误报/不属于隐患"], ["重复上报"], ["机构已停用"], ["其他"], ["取消"]]
    await staff.send_text("随便写")  # text before a category
    assert "请先点选" in staff.last_message().text
    await staff.press("误报/不属于隐患", asked)
    assert "请输入作废原因（至少 2 个字）" in staff.last_message().text
    await staff.send_text("\u200b问")  # one character that shows
    assert "作废原因至少 2 个字" in staff.last_message().text
    await staff.send_text("现场核实为<装饰>灯带，不属于隐患")
    confirm = staff.last_message()
    assert f"确认作废隐患 {hazard.code}" in confirm.text and "&lt;装饰&gt;" in (confirm.html or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED  # nothing until confirmed
    await staff.press("确认作废", confirm)

    done = staff.last_message()
    assert f"隐患 {hazard.code} 已作废（误报/不属于隐患）" in done.text and "已将原因告知" in done.text
    withdrawn = await hazard_now(bot_stage, hazard)
    assert withdrawn.state is HazardState.WITHDRAWN
    assert withdrawn.withdrawal_category == "mistaken"
    assert withdrawn.withdrawal_reason == "现场核实为<装饰>灯带，不属于隐患"
    assert withdrawn.closed_at == bot_stage.clock.now() and withdrawn.closed_on_time is None

    # The head and the reporter are told once, with the reason; the group hears nothing.
    for person in (head, cadre):
        told = [m for m in person.messages() if f"隐患 {hazard.code} 已作废" in m.text]
        assert len(told) == 1 and "灯带" in told[0].text and "误报/不属于隐患" in told[0].text
    assert len(people.group.messages()) == group_seen

    # Its reminders stop; the head's /tasks no longer lists it; the reporter's /mine says why.
    pending = await bot_stage.services.storage.reminders.find(
        state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id))
    )
    assert pending == []
    await head.send_text("/tasks")
    assert hazard.code not in head.last_message().text
    await cadre.send_text("/mine")
    mine = cadre.last_message().text
    assert hazard.code in mine and "已作废" in mine and "作废原因：现场核实为<装饰>灯带" in mine

    # History and audit.
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert events[-1].action == "withdraw" and events[-1].detail["category"] == "mistaken"
    audit = await bot_stage.services.storage.audit.list(action_prefix="hazard.withdrawn")
    assert [(e.actor_id, e.target) for e in audit] == [(STAFF, f"hazard:{hazard.code}")]
    await staff.send_text(f"/hazard {hazard.code}")
    details = "\n".join(m.text for m in staff.messages()[-3:])
    assert "作废（误报/不属于隐患）" in details and staff.last_message().buttons == [["重新打开"], ["💬 留言"]]


async def test_a_second_press_names_who_withdrew_it_and_when(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    second = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(second, Role.COUNTY, region=LUCHENG)
    hazard = await report(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("Withdraw", staff.last_message())
    await staff.press("Duplicate", staff.last_message())
    await second.send_text(f"/hazard {hazard.code}")
    colleague_dossier = second.last_message()
    await staff.send_text("Reported twice, by two cadres")
    confirm = staff.last_message()
    await staff.press("Withdraw it", confirm)
    assert "was withdrawn (Duplicate)" in staff.last_message().text
    at = bot_stage.clock.now().astimezone(bot_stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")

    bot_stage.clock.advance(timedelta(minutes=3))
    again = await staff.press_data(confirm, f"wd:ok:{hazard.id}")
    expected = f"Hazard {hazard.code} was withdrawn by Zhou at {at}; nothing more to do."
    assert again.answer is not None and again.answer.show_alert and again.answer.text == expected
    late = await second.press("Withdraw", colleague_dossier)
    assert late.answer is not None and late.answer.text == expected
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events.count("withdraw") == 1
    # The head's old notice: Rectify on a withdrawn hazard says so too.
    head_notice = next(m for m in people.head.messages() if "New safety hazard" in m.text or hazard.code in m.text)
    pressed = await people.head.press_data(head_notice, f"hz:fix:{hazard.id}")
    assert pressed.answer is not None and f"was withdrawn by Zhou at {at}" in (pressed.answer.text or "")


async def test_heads_cadres_and_other_counties_cannot_withdraw_and_forgeries_are_audited(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)
    hazard = await report(bot_stage)
    await people.head.send_text(f"/hazard {hazard.code}")
    assert all("Withdraw" not in label for row in people.head.last_message().buttons for label in row)
    for person in (people.head, outsider):
        await person.send_text("/help")
        for data in (f"hz:withdraw:{hazard.id}", f"wd:ok:{hazard.id}"):
            forged = await person.press_data(person.last_message(), data)
            assert forged.answer is not None and forged.answer.show_alert
            # The head sees the hazard and is told the attempt is recorded; another county's staff, that there is no
            # such hazard (as View tells them).
            expected = "recorded" if person is people.head else "No such hazard, or you may not see it."
            assert expected in (forged.answer.text or "")
        # A category pressed outside the journey, by someone who may not withdraw it, is a forgery too.
        forged = await person.press_data(person.last_message(), f"wd:cat:{hazard.id}:other")
        assert forged.answer is not None and forged.answer.show_alert
        assert expected in (forged.answer.text or "")
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert {(e.actor_id, e.detail["action"]) for e in refused} == {(HEAD, "withdraw"), (LONGWAN_STAFF, "withdraw")}
    assert len(refused) == 6
    # For staff who may withdraw it, a category of a step no longer open has merely expired: nothing is recorded.
    await people.staff.send_text("/help")
    stale = await people.staff.press_data(people.staff.last_message(), f"wd:cat:{hazard.id}:other")
    assert stale.answer is not None and "no longer valid" in (stale.answer.text or "")
    assert len(await bot_stage.services.storage.audit.list(action_prefix="authz.refused")) == 6
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED


async def test_a_withdrawal_reason_asked_again_offers_cancel_which_keeps_the_hazard(bot_stage: Stage) -> None:
    """A reason too short is asked for again with Cancel under the answer, as under the question: one press ends
    the journey, its draft is gone, and the next text is no reason; the hazard stays as it was."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("🗑 作废", staff.last_message())
    await staff.press("其他", staff.last_message())
    await cancelled_after_refusals(staff, ("问", "作废原因至少 2 个字，请再发送一次。"))
    db = bot_stage.services.storage.db
    assert await read_draft(db, STAFF, Journey.WITHDRAW, WithdrawDraft) is None
    await staff.send_text("现场核实为装饰灯带，不属于隐患")  # the journey ended: this is no reason
    assert all("确认作废" not in m.text for m in staff.messages())
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED
    assert await read_draft(db, STAFF, Journey.WITHDRAW, WithdrawDraft) is None


async def test_a_sensitive_hazard_withdrawn_tells_its_reporter_never_the_head(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage, area=HazardArea.RIGHTS)
    head_seen = len(people.head.messages())
    staff = await people.user(STAFF)
    outcome = await bot_stage.services.hazards.withdraw(staff, hazard.id, WithdrawalCategory.OTHER, "已转公安机关处理")
    await bot_stage.sandbox.settle()
    assert {n.recipient_id for n in outcome.notices} == {hazard.reporter_id}
    assert len(people.head.messages()) == head_seen
    assert any("已作废" in m.text and "已转公安机关处理" in m.text for m in people.cadre.messages())


async def test_a_duplicate_names_another_hazard_the_staff_may_see(bot_stage: Stage) -> None:
    await cast(bot_stage)
    first, second = await report(bot_stage), await report(bot_stage, description="消防通道又被堵")
    staff_user = await bot_stage.services.storage.users.get(STAFF)
    assert staff_user is not None
    hazards = bot_stage.services.hazards
    for wrong in (second.code, "YH-20990101-0001"):
        try:
            await hazards.withdraw(staff_user, second.id, WithdrawalCategory.DUPLICATE, f"与 {wrong} 重复")
        except Refusal as refusal:
            assert refusal.code == "withdrawal_duplicate_unknown"
        else:  # pragma: no cover
            raise AssertionError("a duplicate of itself or of nothing was accepted")
    duplicate = WithdrawalCategory.DUPLICATE
    outcome = await hazards.withdraw(staff_user, second.id, duplicate, f"与 {first.code.lower()} 重复")
    assert outcome.event is not None and outcome.event.detail["duplicate_of"] == first.code


async def test_a_duplicate_of_another_countys_hazard_is_refused_as_unknown(bot_stage: Stage) -> None:
    """A duplicate's code must name a hazard the staff member may see: another county's is refused exactly as a code
    that names nothing, so its existence is not confirmed and no withdrawal points at a record they may not open."""
    people = await cast(bot_stage)
    longwan_cadre = bot_stage.sandbox.user(user_id=LONGWAN_CADRE, first_name="黄干部", language_code="zh-hans")
    await bot_stage.register(longwan_cadre, Role.CADRE, region=LONGWAN)
    elsewhere = await report(bot_stage, LONGWAN_CADRE, institution=LONGWAN_HOME)
    hazard = await report(bot_stage)
    staff = people.staff

    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("🗑 作废", staff.last_message())
    await staff.press("重复上报", staff.last_message())
    await staff.send_text(f"与 {elsewhere.code} 重复")
    refused = staff.last_message()
    assert f"原因中的编号 {elsewhere.code} 不是另一条您可查看的隐患" in refused.text
    assert all("确认作废" not in label for row in refused.buttons for label in row)
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED
    try:
        await bot_stage.services.hazards.withdraw(
            await people.user(STAFF), hazard.id, WithdrawalCategory.DUPLICATE, f"与 {elsewhere.code} 重复"
        )
    except Refusal as refusal:
        assert refusal.code == "withdrawal_duplicate_unknown"
    else:  # pragma: no cover
        raise AssertionError("a duplicate of another county's hazard was accepted")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED
    assert (await hazard_now(bot_stage, elsewhere)).state is elsewhere.state


async def test_staff_reinstate_a_withdrawn_hazard_within_ninety_days_with_a_fresh_deadline(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))  # awaiting verification when withdrawn
    staff_user = await people.user(STAFF)
    await bot_stage.services.hazards.withdraw(staff_user, hazard.id, WithdrawalCategory.MISTAKEN, "误报，不属于隐患")
    bot_stage.clock.advance(timedelta(days=30))
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("重新打开", staff.last_message())
    assert f"恢复已作废的隐患 {hazard.code}" in staff.last_message().text
    await staff.send_text("复核后确属隐患")
    back = await hazard_now(bot_stage, hazard)
    assert back.state is HazardState.RECTIFYING and back.withdrawal_category is None and back.closed_at is None
    assert back.deadline is not None and back.deadline > bot_stage.clock.now()
    assert back.assignee_id == HEAD

    # Withdrawn again, it may not be reinstated past the window.
    await bot_stage.services.hazards.withdraw(staff_user, hazard.id, WithdrawalCategory.OTHER, "机构自行拆除")
    bot_stage.clock.advance(timedelta(days=91))
    try:
        await act(bot_stage, STAFF, hazard, HazardAction.REOPEN, reason="再看一次")
    except Refusal as refusal:
        assert refusal.code == "reopen_window_passed_withdrawn"
    else:  # pragma: no cover
        raise AssertionError("reinstated past the window")


async def test_statistics_count_withdrawn_hazards_apart_and_not_as_rectified(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    services = bot_stage.services
    closed = await submitted(bot_stage, await report(bot_stage))
    await act(bot_stage, STAFF, closed, HazardAction.ACCEPT)
    await report(bot_stage)  # still open
    withdrawn = await report(bot_stage)
    staff_user = await people.user(STAFF)
    await services.hazards.withdraw(staff_user, withdrawn.id, WithdrawalCategory.MISTAKEN, "误报")

    today = bot_stage.clock.now().astimezone(services.settings.tz).date()
    stats = await services.insight.stats.report(staff_user, current_period(PeriodKind.MONTH, today))
    counts = stats.hazards
    assert (counts.found, counts.closed, counts.unresolved, counts.withdrawn) == (3, 1, 1, 1)
    assert counts.rectification.rate == 0.5  # 1 closed of the 2 that could be
    assert stats.backlog_unresolved == 1

    await people.staff.send_text("/stats")
    text = people.staff.last_message().text
    assert "其中已销号 1、未销号 1" in text and "整改率 50%" in text
    assert "已作废 1（误报、重复上报等，不计入整改率）" in text

    await people.staff.send_text("/institution 鹿城区社会福利院")
    card = "\n".join(m.text for m in people.staff.messages()[-2:])
    assert "近 90 天已销号 1 条" in card and "近 90 天已作废 1 条" in card


async def test_past_the_window_a_withdrawn_hazard_is_called_withdrawn_not_closed(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff, cadre = people.staff, people.cadre
    hazard = await report(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("💬 留言", staff.last_message())
    await staff.send_text("请说明现场情况")
    notice = cadre.last_message()
    await bot_stage.services.hazards.withdraw(
        await people.user(STAFF), hazard.id, WithdrawalCategory.INSTITUTION_CLOSED, "机构已停用，原址拆除"
    )
    await bot_stage.sandbox.settle()
    await staff.send_text(f"/hazard {hazard.code}")
    details = staff.last_message()
    bot_stage.clock.advance(timedelta(days=91))

    replied = await cadre.press("💬 回复", notice)
    assert replied.answer is not None
    assert replied.answer.text == (
        f"隐患 {hazard.code} 作废已超过 90 天，不能再留言。如问题再次出现，请用 /report 重新上报。"
    )
    reopened = await staff.press("重新打开", details)
    assert reopened.answer is not None
    assert reopened.answer.text == (
        f"隐患 {hazard.code} 作废已超过 90 天，不能再重新打开。如问题再次出现，请用 /report 作为新隐患上报。"
    )


async def test_verdict_buttons_on_a_hazard_withdrawn_while_awaiting_verification_give_way_to_details(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    verify = staff.last_message()
    assert verify.buttons[0] == ["Accept", "Reject"]
    await bot_stage.services.hazards.withdraw(
        await people.user(STAFF), hazard.id, WithdrawalCategory.INSTITUTION_CLOSED, "The home closed for good"
    )
    await bot_stage.sandbox.settle()
    at = bot_stage.clock.now().astimezone(bot_stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")

    pressed = await staff.press("Accept", verify)
    assert pressed.answer is not None and pressed.answer.show_alert
    assert pressed.answer.text == f"Hazard {hazard.code} was withdrawn by Zhou at {at}; nothing more to do."
    assert verify.buttons == [["Details"]]  # nothing left to verify on it
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.WITHDRAWN
    await staff.send_text("/tasks")
    assert hazard.code not in staff.last_message().text


async def test_a_rejection_reason_typed_after_a_colleague_withdrew_the_hazard_leads_to_its_details(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    await bot_stage.sandbox.settle()
    notice = next(m for m in reversed(staff.messages()) if any("退回整改" in row for row in m.buttons))
    await staff.press("退回整改", notice)
    colleague = await people.user(STAFF)
    await bot_stage.services.hazards.withdraw(colleague, hazard.id, WithdrawalCategory.MISTAKEN, "现场核实不属于隐患")
    await bot_stage.sandbox.settle()

    await staff.send_text("照片不清晰，请补拍")
    reply = staff.last_message()
    assert "已由" in reply.text and "作废" in reply.text
    assert reply.buttons == [["详情"]]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.WITHDRAWN

    # The step is over: the next text is no reason, and is not refused for the withdrawal again.
    await staff.send_text("照片不清晰，请补拍")
    after = staff.last_message()
    assert "作废" not in after.text and "上报隐患请发送 /report" in after.text  # outside any journey: the hint


async def test_a_category_pressed_under_an_earlier_hazards_question_does_not_withdraw_the_later_one(
    bot_stage: Stage,
) -> None:
    """An official began withdrawing one hazard, then another; a category pressed under the first one's question is
    an expired button: it must not become the second hazard's reason for being withdrawn."""
    people = await cast(bot_stage)
    staff = people.staff
    first, second = await report(bot_stage), await report(bot_stage)
    await staff.send_text(f"/hazard {first.code}")
    await staff.press("🗑 作废", staff.last_message())
    asked_first = staff.last_message()
    assert f"作废隐患 {first.code}" in asked_first.text
    await staff.send_text(f"/hazard {second.code}")
    await staff.press("🗑 作废", staff.last_message())
    assert f"作废隐患 {second.code}" in staff.last_message().text

    await staff.press("重复上报", asked_first)
    assert staff.answers()[-1].text == "这个按钮已失效，请重新发起操作。"
    assert "请输入作废原因" not in staff.last_message().text
    draft = await read_draft(bot_stage.services.storage.db, STAFF, Journey.WITHDRAW, WithdrawDraft)
    assert draft is not None and draft.hazard_id == second.id and draft.category is None
    for hazard in (first, second):
        assert (await hazard_now(bot_stage, hazard)).state is HazardState.ASSIGNED
