"""A head who cannot correct a hazard in time asks for more time (申请延期): a date and a reason, confirmed; the county
staff approve it (the deadline changes as /deadline changes it) or refuse it with a reason; the first decision wins."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.domain.withdrawal import WithdrawalCategory
from bot.sandbox.driver import SimUser
from bot.services.errors import Refusal
from bot.stage import Stage
from storage.calendar_models import ReminderState, SubjectType
from storage.extension_models import ExtensionStatus
from storage.hazard_models import Hazard
from storage.repositories.action_drafts import Journey
from tests.hazard_people import (
    CADRE,
    HEAD,
    LONGWAN,
    LONGWAN_STAFF,
    LUCHENG,
    OTHER_STAFF,
    STAFF,
    act,
    cancelled_after_refusals,
    cast,
    hazard_now,
    opened,
    report,
    submitted,
)
from tests.test_institution_closure import close_from_card


def local(stage: Stage, moment: datetime) -> str:
    return moment.astimezone(stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")


async def asked_by_service(stage: Stage, hazard: Hazard, days: int = 7, reason: str = "需要施工单位进场") -> int:
    """The head's request, made through the service, its notices sent: for the tests about deciding it."""
    head = await stage.services.storage.users.get(HEAD)
    assert head is not None and hazard.deadline is not None
    outcome = await stage.services.hazards.ask_extension(head, hazard.id, hazard.deadline + timedelta(days=days),
                                                         reason)
    await stage.sandbox.settle()
    return outcome.request.id


async def test_a_head_asks_for_more_time_and_county_staff_approve_it(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    hazard = await report(bot_stage)
    assert hazard.deadline is not None
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)

    await head.send_text(f"/hazard {hazard.code}")
    dossier = head.last_message()
    assert ["申请延期"] in dossier.buttons
    await head.press("申请延期", dossier)
    assert f"申请延期：隐患 {hazard.code}" in head.last_message().text
    await head.press("延期 7 天", head.last_message())
    asked = hazard.deadline + timedelta(days=7)
    assert local(bot_stage, asked) in head.last_message().text
    await head.send_text("需要更换<配电箱>，等待施工单位进场")
    summary = head.last_message()
    assert "请确认延期申请" in summary.text and "&lt;配电箱&gt;" in (summary.html or "")
    await head.press("提交延期申请", summary)
    assert "延期申请" in head.last_message().text and "已提交" in head.last_message().text
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline  # nothing changes until approved

    notice = staff.last_message()
    assert f"延期申请待审批：{hazard.code}" in notice.text and "等待施工单位进场" in notice.text
    assert local(bot_stage, asked) in notice.text and "陈院长" in notice.text
    assert notice.buttons == [["同意延期", "不同意延期"], ["详情"]]
    assert people.group.last_message().text.find("延期") == -1  # never posted to the group

    # Waiting: on the head's details (no second Ask button) and first in the staff member's /tasks.
    seen = len(head.messages())
    await head.send_text(f"/hazard {hazard.code}")
    details = head.messages()[seen:]
    assert any("延期申请待审批" in m.text for m in details) and all(["申请延期"] not in m.buttons for m in details)
    await staff.send_text("/tasks")
    tasks = staff.last_message()
    assert "待您审批的延期申请" in tasks.text and hazard.code in tasks.text
    assert tasks.buttons[0] == ["审批延期 · 社会福利院 · 用火 · 消防通道…"] and opened(tasks)[0] == hazard.id

    await staff.press("同意延期", notice)
    done = staff.last_message()
    assert f"隐患 {hazard.code} 的整改期限调整为 {local(bot_stage, asked)}" in done.text
    assert notice.buttons == [["详情"]]
    # Scrolled back to, the card says what became of the request, not that it still waits.
    assert notice.edited and "待审批" not in notice.text and "等待施工单位进场" in notice.text
    assert notice.text.startswith(f"✅ 已同意延期至 {local(bot_stage, asked)}：{hazard.code}\n（由 周科长 于 ")
    updated = await hazard_now(bot_stage, hazard)
    assert updated.deadline == asked and updated.state is HazardState.RECTIFYING

    told = head.last_message()
    assert f"延期申请已同意：{hazard.code}" in told.text and local(bot_stage, asked) in told.text
    assert sum("整改期限已调整" in m.text for m in head.messages()) == 0  # one message, not two

    # Reminders follow the new deadline; the history and the audit log keep the request and its approval.
    pending = await bot_stage.services.storage.reminders.find(
        state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id))
    )
    assert pending and max(r.due_at for r in pending) >= asked - timedelta(days=1)
    actions = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert actions[-2:] == ["request_extension", "change_deadline"]
    audit = [e.action for e in await bot_stage.services.storage.audit.list(action_prefix="hazard.extension")]
    assert sorted(audit) == ["hazard.extension_approved", "hazard.extension_requested"]
    seen = len(head.messages())
    await head.send_text(f"/hazard {hazard.code}")
    history = "\n".join(m.text for m in head.messages()[seen:])
    assert "申请延期" in history and "同意延期申请" in history and "延期申请待审批" not in history


async def test_an_approved_requests_card_keeps_a_reason_written_in_two_paragraphs(bot_stage: Stage) -> None:
    """The request's card ends with its reason: it has no closing request to act, so none is dropped when it is
    settled. A reason typed in two paragraphs lost its second on the approved card (taken for such a request)."""
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    hazard = await report(bot_stage)
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await head.send_text(f"/hazard {hazard.code}")
    await head.press("申请延期", head.last_message())
    await head.press("延期 7 天", head.last_message())
    await head.send_text("需要更换配电箱\n\n等待施工单位进场")
    await head.press("提交延期申请", head.last_message())
    notice = staff.last_message()
    assert notice.text.endswith("原因：需要更换配电箱\n\n等待施工单位进场")
    await staff.press("同意延期", notice)
    assert notice.text.startswith("✅ 已同意延期至")
    assert notice.text.endswith("原因：需要更换配电箱\n\n等待施工单位进场")


async def test_a_refused_requests_card_keeps_a_reason_written_in_two_paragraphs(bot_stage: Stage) -> None:
    """As the approved card: the refused one too keeps the request's reason whole (its card retitled a message after
    the press, once the refusal's own reason is typed)."""
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    hazard = await report(bot_stage)
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await head.send_text(f"/hazard {hazard.code}")
    await head.press("申请延期", head.last_message())
    await head.press("延期 7 天", head.last_message())
    await head.send_text("需要更换配电箱\n\n等待施工单位进场")
    await head.press("提交延期申请", head.last_message())
    notice = staff.last_message()
    await staff.press("不同意延期", notice)
    await staff.send_text("请先加装临时护盖")
    assert notice.text.startswith("❌ 已不同意延期")
    assert notice.text.endswith("原因：需要更换配电箱\n\n等待施工单位进场")


async def test_a_head_types_the_day_asked_for_without_its_year(bot_stage: Stage) -> None:
    """On 28 December, 1月10日 is next year's 10 January, by the end of that day; a day not later than the deadline
    in force (4 January) is still refused."""
    tz = bot_stage.settings.tz
    bot_stage.clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=tz))
    people = await cast(bot_stage)
    head = people.head
    hazard = await report(bot_stage)
    assert hazard.deadline is not None
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)

    await head.send_text(f"/hazard {hazard.code}")
    await head.press("申请延期", head.last_message())
    assert "12月20日、明天 18:00" in head.last_message().text  # the accepted forms, by example
    await head.send_text("明天")
    assert f"新期限须晚于现在的整改期限 {local(bot_stage, hazard.deadline)}" in head.last_message().text
    await head.send_text("1月10日")
    assert "希望的新期限：2027-01-10 23:59" in head.last_message().text
    await head.send_text("需要更换配电箱，等待施工单位进场")
    await head.press("提交延期申请", head.last_message())
    requested = await bot_stage.services.storage.extensions.pending_for(hazard.id)
    assert requested is not None
    assert requested.requested_deadline == datetime(2027, 1, 10, 23, 59, tzinfo=tz)


async def test_a_date_typed_where_the_reason_is_asked_corrects_the_day_asked_for(bot_stage: Stage) -> None:
    """A head who types a date again at the reason step changes the day asked for (said back, next year's marked);
    the date is never the reason, and a reason of one character is asked for again."""
    tz = bot_stage.settings.tz
    bot_stage.clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=tz))
    people = await cast(bot_stage)
    head = people.head
    hazard = await report(bot_stage)
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await head.send_text(f"/hazard {hazard.code}")
    await head.press("申请延期", head.last_message())
    await head.send_text("1月10日")
    assert "希望的新期限：2027-01-10 23:59（明年）。" in head.last_message().text
    await head.send_text("1月15日")
    corrected = head.last_message()
    assert "已改为希望的新期限：2027-01-15 23:59（明年）。" in corrected.text and corrected.buttons == [["取消"]]
    await head.send_text("等")
    assert "至少 2 个字" in head.last_message().text
    await head.send_text("需要更换配电箱，等待施工单位进场")
    await head.press("提交延期申请", head.last_message())
    requested = await bot_stage.services.storage.extensions.pending_for(hazard.id)
    assert requested is not None and requested.reason == "需要更换配电箱，等待施工单位进场"
    assert requested.requested_deadline == datetime(2027, 1, 15, 23, 59, tzinfo=tz)


async def test_staff_refuse_with_a_reason_the_head_reads_and_the_deadline_stays(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    head, staff = people.head, people.staff
    hazard = await report(bot_stage)
    assert hazard.deadline is not None
    await head.send_text(f"/hazard {hazard.code}")
    await head.press("Ask for more time", head.last_message())
    await head.send_text("next week")  # not a date
    assert "could not read that date" in head.last_message().text
    await head.send_text(local(bot_stage, hazard.deadline - timedelta(days=1)))  # earlier than the deadline
    assert "must be later than the deadline in force" in head.last_message().text
    wanted = (hazard.deadline + timedelta(days=20)).astimezone(bot_stage.services.settings.tz)
    await head.send_text(wanted.strftime("%Y-%m-%d"))
    await head.send_text("\u200b\u200b\u200b")  # nothing that shows
    assert "Please write the reason" in head.last_message().text
    await head.send_text("The budget for new wiring is approved next month")
    await head.press("Send the request", head.last_message())

    notice = staff.last_message()
    approve = str(notice.button_data[0][0])
    await staff.press("Refuse", notice)
    assert f"Refusing more time on {hazard.code}" in staff.last_message().text
    await staff.send_photo()
    assert "reason for refusing in text" in staff.last_message().text
    await staff.send_text("Use a temporary <b>cable</b> cover now")
    assert "was refused" in staff.last_message().text
    # Scrolled back to, the card says the request was refused, by whom and why, with Details only.
    assert notice.text.startswith(f"❌ More time refused: {hazard.code}\n(by Zhou at ")
    assert "reason: Use a temporary <b>cable</b> cover now)" in notice.text
    assert "The budget for new wiring" in notice.text and notice.buttons == [["Details"]]

    told = head.last_message()
    assert f"More time refused: {hazard.code}" in told.text and "&lt;b&gt;cable&lt;/b&gt;" in (told.html or "")
    assert ["📤 Submit the fix"] in told.buttons
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert events[-1].action == "extension_refused" and events[-1].actor_id == STAFF

    # Approve pressed afterwards (a colleague's copy, or an old client): refused, naming who decided; nothing changes.
    pressed = await staff.press_data(notice, approve)
    assert pressed.answer is not None and pressed.answer.show_alert
    assert "was already refused by Zhou at" in (pressed.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline


async def test_a_refused_request_s_card_says_so_in_chinese(bot_stage: Stage) -> None:
    """The card 不同意延期 was pressed on read 延期申请待审批 after the refusal: it now says who refused it, when and
    why, the request's facts kept, Details its only button."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await asked_by_service(bot_stage, hazard)
    notice = staff.last_message()
    assert f"延期申请待审批：{hazard.code}" in notice.text
    await staff.press("不同意延期", notice)
    assert not notice.edited
    await staff.send_text("请先加装临时护盖")
    assert "已不同意隐患" in staff.last_message().text
    assert notice.text.startswith(f"❌ 已不同意延期：{hazard.code}\n（由 周科长 于 ")
    assert "处理，理由：请先加装临时护盖）" in notice.text
    assert "待审批" not in notice.text and "需要施工单位进场" in notice.text and notice.buttons == [["详情"]]


async def test_a_refusal_reason_asked_again_offers_cancel_and_the_request_still_waits(bot_stage: Stage) -> None:
    """Staff who typed no reason (or sent a photo) are asked again with Cancel under the answer, as under the
    question: one press ends the step, the next text refuses nothing, and the request still waits."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    request_id = await asked_by_service(bot_stage, hazard)
    await staff.press("不同意延期", staff.last_message())
    await cancelled_after_refusals(staff, ("\u200b\u2060", "请填写原因。"))
    assert await bot_stage.services.storage.action_drafts.get(STAFF, Journey.EXTENSION_REFUSE) is None
    await staff.send_text("请先用临时护盖")  # the step ended: this refuses nothing
    request = await bot_stage.services.storage.extensions.get(request_id)
    assert request is not None and request.status is ExtensionStatus.PENDING
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline


async def test_a_request_reason_asked_again_offers_cancel_and_nothing_is_asked(bot_stage: Stage) -> None:
    """The head asking for more time, asked again for a reason (nothing that shows, or a photo), may give up with
    one press, as under the question: no request is made, and the next text is no reason."""
    people = await cast(bot_stage)
    head = people.head
    hazard = await report(bot_stage)
    await head.send_text(f"/hazard {hazard.code}")
    await head.press("申请延期", head.last_message())
    await head.press("延期 7 天")
    await cancelled_after_refusals(
        head, ("\u200b\u2060", "请用文字说明申请延期的原因。"), ("超长" * 1500, "文字太长了，请不超过 2000 个字。")
    )
    assert await bot_stage.services.storage.action_drafts.get(HEAD, Journey.EXTENSION) is None
    await head.send_text("需要施工单位进场")  # the step ended: this is no reason, and nothing waits to be sent
    assert await bot_stage.services.storage.action_drafts.get(HEAD, Journey.EXTENSION) is None
    assert await bot_stage.services.storage.extensions.pending_for(hazard.id) is None


async def test_refusing_checks_who_may_again_whoever_calls_it(bot_stage: Stage) -> None:
    """The refusal itself checks who may decide, on the server, as approving does: a Refuse press is only where the
    reason is asked for. Another county's staff, a head or the cadre who reported it are refused (a forgery audited),
    and the request still waits for someone who may decide it."""
    people = await cast(bot_stage)
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="吴科长", language_code="zh-hans")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)
    hazard = await report(bot_stage)
    request_id = await asked_by_service(bot_stage, hazard)
    head_seen = len(people.head.messages())
    for person_id in (LONGWAN_STAFF, HEAD, CADRE):
        person = await people.user(person_id)
        try:
            await bot_stage.services.hazards.refuse_extension(person, request_id, "不同意，请尽快整改")
        except Refusal as refusal:
            assert refusal.code in {"not_found", "wrong_role", "not_assignee"}, refusal.code
        else:
            raise AssertionError(f"{person_id} refused a request for more time they may not decide")
    await bot_stage.sandbox.settle()
    request = await bot_stage.services.storage.extensions.get(request_id)
    assert request is not None and request.status is ExtensionStatus.PENDING
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert "extension_refused" not in events
    assert len(people.head.messages()) == head_seen  # told nothing
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert LONGWAN_STAFF in {entry.actor_id for entry in refused}


async def test_a_second_request_while_one_waits_is_refused_naming_the_first(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    head = people.head
    hazard = await report(bot_stage)
    notice = head.last_message()
    await asked_by_service(bot_stage, hazard)
    pressed = await head.press("Ask for more time", notice)
    assert pressed.answer is not None and pressed.answer.show_alert
    assert f"A request for more time on {hazard.code} is already waiting: Chen asked at" in (pressed.answer.text or "")
    with_one = await bot_stage.services.storage.extensions.pending_for(hazard.id)
    assert with_one is not None


async def test_the_first_decision_wins_and_a_colleague_is_told_who_decided(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    second = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(second, Role.COUNTY, region=LUCHENG)
    hazard = await report(bot_stage)
    await asked_by_service(bot_stage, hazard)
    theirs = second.last_message()
    assert str(theirs.button_data[0][0]).startswith("xt:ok:")
    assert theirs.buttons[0] == ["同意延期", "不同意延期"]
    await people.staff.press("同意延期", people.staff.last_message())
    decided_at = local(bot_stage, bot_stage.clock.now())
    bot_stage.clock.advance(timedelta(minutes=3))

    for data in theirs.button_data[0]:
        pressed = await second.press_data(theirs, str(data))
        assert pressed.answer is not None and pressed.answer.show_alert
        assert pressed.answer.text == f"隐患 {hazard.code} 的这份延期申请已由 周科长 于 {decided_at} 同意。"
    assert theirs.buttons == [["详情"]]
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events.count("change_deadline") == 1


async def test_a_request_ends_when_the_fix_is_submitted_or_staff_set_the_deadline(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await report(bot_stage)
    request_id = await asked_by_service(bot_stage, hazard)
    notice = staff.last_message()
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已整改完毕", photos=1)
    pressed = await staff.press_data(notice, f"xt:ok:{request_id}")
    assert pressed.answer is not None
    assert f"has ended: Chen submitted the rectification of {hazard.code} at" in (pressed.answer.text or "")
    ended = await bot_stage.services.storage.extensions.get(request_id)
    assert ended is not None and ended.status is ExtensionStatus.ENDED

    # Staff changing the deadline themselves overtake a request too.
    other = await report(bot_stage)
    assert other.deadline is not None
    second_id = await asked_by_service(bot_stage, other)
    staff_user = await people.user(STAFF)
    await bot_stage.services.hazards.act(staff_user, other.id, HazardAction.CHANGE_DEADLINE, reason="统一调整",
                                         deadline=other.deadline + timedelta(days=1))
    await bot_stage.sandbox.settle()
    pressed = await staff.press_data(staff.last_message(), f"xt:no:{second_id}")
    assert pressed.answer is not None and "has ended: Zhou changed the deadline" in (pressed.answer.text or "")

    # And so does a hazard withdrawn (作废) while its request waits: nothing is left to decide.
    third = await report(bot_stage)
    third_id = await asked_by_service(bot_stage, third)
    asking = staff.last_message()
    await bot_stage.services.hazards.withdraw(staff_user, third.id, WithdrawalCategory.MISTAKEN, "现场核实不属于隐患")
    await bot_stage.sandbox.settle()
    pressed = await staff.press_data(asking, f"xt:ok:{third_id}")
    assert pressed.answer is not None and f"has ended: Zhou withdrew {third.code} at" in (pressed.answer.text or "")
    assert asking.buttons == [["Details"]]  # nothing left to decide on it
    ended = await bot_stage.services.storage.extensions.get(third_id)
    assert ended is not None and ended.status is ExtensionStatus.ENDED


async def test_a_rights_protection_hazard_request_stays_between_its_handler_and_staff(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage, STAFF, area=HazardArea.RIGHTS)
    staff = await people.user(STAFF)
    await bot_stage.services.hazards.assign(staff, hazard.id, CADRE)
    await bot_stage.sandbox.settle()
    group_before = len(people.group.messages())
    head_before = len(people.head.messages())

    cadre = people.cadre
    await cadre.press("申请延期", cadre.last_message())
    await cadre.press("延期 3 天", cadre.last_message())
    await cadre.send_text("当事人需要转介，社工下周才能上门")
    await cadre.press("提交延期申请", cadre.last_message())
    notice = people.staff.last_message()
    assert f"延期申请待审批：{hazard.code}" in notice.text and "李娜" in notice.text
    assert len(people.group.messages()) == group_before and len(people.head.messages()) == head_before

    # The head of the institution may not ask for a hazard they must not see: refused and audited.
    pressed = await people.head.press_data(people.head.last_message(), f"hz:extend:{hazard.id}")
    assert pressed.answer is not None and pressed.answer.show_alert
    refused = await bot_stage.services.storage.audit.list(actor_id=HEAD, action_prefix="authz.refused")
    assert refused


async def test_a_restart_between_the_date_and_the_reason_loses_nothing(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    assert hazard.deadline is not None
    head = people.head
    await head.press("申请延期", head.last_message())
    await head.press("延期 14 天", head.last_message())
    await bot_stage.restart()
    await head.send_text("预算审批需要两周")
    await head.press("提交延期申请", head.last_message())
    request = await bot_stage.services.storage.extensions.pending_for(hazard.id)
    assert request is not None and request.requested_deadline == hazard.deadline + timedelta(days=14)
    assert request.reason == "预算审批需要两周"


async def test_many_long_requests_still_fit_one_tasks_message_and_are_all_counted(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    for _ in range(7):
        await asked_by_service(bot_stage, await report(bot_stage), reason="预算审批流程较长，" * 150)
    await people.staff.send_text("/tasks")
    tasks = people.staff.last_message()
    assert "待您审批的延期申请</b>：7 件" in (tasks.html or "") and len(tasks.text) < 4096
    assert sum(1 for row in tasks.buttons if row[0].startswith("审批延期")) == 5


async def test_a_request_ends_when_the_requester_s_access_ends_and_staff_are_told_so(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    request_id = await asked_by_service(bot_stage, hazard)
    notice = staff.last_message()
    # The home closes: its head's access ends with it, and with it the request nobody will follow up.
    await close_from_card(bot_stage, staff)
    ended_at = local(bot_stage, bot_stage.clock.now())
    ended = await bot_stage.services.storage.extensions.get(request_id)
    assert ended is not None and ended.status is ExtensionStatus.ENDED
    await staff.send_text("/tasks")
    assert "待您审批的延期申请" not in staff.last_message().text

    bot_stage.clock.advance(timedelta(minutes=5))
    pressed = await staff.press_data(notice, f"xt:ok:{request_id}")
    assert pressed.answer is not None and pressed.answer.show_alert
    assert pressed.answer.text == f"这份延期申请已结束：申请人 陈院长 的账号已于 {ended_at} 停用。"
    assert notice.buttons == [["详情"]]
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline
    audit = await bot_stage.services.storage.audit.list(action_prefix="user.deactivated")
    assert audit[-1].detail["extensions_ended"] == [hazard.code]


async def to_english(person: SimUser) -> None:
    await person.send_text("/lang")
    await person.press("English", person.last_message())


async def test_a_chinese_card_settled_after_a_switch_to_english_keeps_a_chinese_title(bot_stage: Stage) -> None:
    """Staff who switched to English and pressed the old 同意延期 (or 不同意延期, 退回整改) saw the card retitled
    "✅ More time approved…" over its Chinese lines. The title now follows the card's own language (that of its
    buttons, the language it was sent in); the presser's own answers follow theirs."""
    people = await cast(bot_stage)
    staff = people.staff
    approved, refused, rejected = await report(bot_stage), await report(bot_stage), await report(bot_stage)
    await asked_by_service(bot_stage, approved)
    approve_card = staff.last_message()
    await asked_by_service(bot_stage, refused)
    refuse_card = staff.last_message()
    await submitted(bot_stage, rejected)
    reject_card = staff.last_message()
    assert "延期申请待审批" in approve_card.text and "延期申请待审批" in refuse_card.text
    await to_english(staff)

    await staff.press("同意延期", approve_card)
    assert staff.last_message().text.startswith("✅ Approved")  # the presser's own answer: their language
    assert approve_card.text.startswith("✅ 已同意延期至") and "More time" not in approve_card.text
    assert approve_card.buttons == [["详情"]]

    await staff.press("不同意延期", refuse_card)
    await staff.send_text("Fit a temporary cover first")
    assert refuse_card.text.startswith(f"❌ 已不同意延期：{refused.code}\n（由 周科长 于 ")
    assert "理由：Fit a temporary cover first" in refuse_card.text and refuse_card.buttons == [["详情"]]

    await staff.press("退回整改", reject_card)
    await staff.send_text("Photo is blurry, retake")
    assert reject_card.text.startswith(f"↩️ 已退回整改：{rejected.code}\n（由 周科长 于 ")
    assert reject_card.buttons == [["详情"]]
