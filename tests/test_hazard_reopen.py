"""Staff reopen a closed hazard whose problem came back: from the hazard's details, with a reason, a fresh deadline
by its severity, and the head and the reporter told."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from bot.domain.catalog import Severity
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.stage import Stage
from storage.calendar_models import ReminderState, SubjectType
from storage.hazard_models import Hazard
from tests.hazard_people import (
    LONGWAN,
    LONGWAN_STAFF,
    LUCHENG,
    OTHER_STAFF,
    STAFF,
    act,
    cast,
    hazard_now,
    report,
    submitted,
)
from tests.resilience.speech import phrasebook


async def closed_hazard(stage: Stage, severity: Severity = Severity.SERIOUS) -> Hazard:
    hazard = await submitted(stage, await report(stage, severity=severity))
    return (await act(stage, STAFF, hazard, HazardAction.ACCEPT)).hazard


async def test_staff_reopen_a_closed_hazard_from_its_details_with_a_reason_and_a_fresh_deadline(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await closed_hazard(bot_stage)
    bot_stage.clock.advance(timedelta(days=20))  # its 24-hour deadline is long past

    await staff.send_text(f"/hazard {hazard.code}")
    dossier = staff.last_message()
    assert dossier.buttons == [["重新打开"], ["💬 留言"]]
    await staff.press("重新打开", dossier)
    assert f"重新打开已销号的隐患 {hazard.code}" in staff.last_message().text
    await staff.send_photo()  # a photo where the reason was expected
    assert "请用文字输入重新打开的原因" in staff.last_message().text
    await staff.send_text("复查发现<消防通道>又被杂物堵塞")

    now = bot_stage.clock.now()
    fresh = now + timedelta(hours=24)
    local = fresh.astimezone(bot_stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")
    done = staff.last_message()
    assert f"隐患 {hazard.code} 已重新打开" in done.text and local in done.text
    assert "&lt;消防通道&gt;" in (done.html or "")
    reopened = await hazard_now(bot_stage, hazard)
    assert reopened.state is HazardState.RECTIFYING and reopened.deadline == fresh
    assert reopened.closed_at is None

    told = head.last_message()
    assert f"隐患 {hazard.code} 已重新打开" in told.text and "又被杂物堵塞" in told.text and local in told.text
    assert told.buttons == [["📤 重新提交整改结果"], ["详情"]]
    assert "已重新打开" in cadre.last_message().text and cadre.last_message().buttons == [["💬 留言"], ["详情"]]

    # The head finds it in /tasks, due again and not overdue; nothing escalates at once.
    await head.send_text("/tasks")
    tasks = head.last_message()
    assert hazard.code in tasks.text and "⏰" not in tasks.text
    pending = await bot_stage.services.storage.reminders.find(
        state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id))
    )
    assert pending and all(reminder.due_at > now for reminder in pending)

    # The reopening is on the record, with its reason and the deadline it replaced.
    seen = len(staff.messages())
    await staff.send_text(f"/hazard {hazard.code}")
    history = "\n".join(message.text for message in staff.messages()[seen:])
    assert "重新打开" in history and "又被杂物堵塞" in history
    # The fix that did not hold is named as the earlier one, not as the hazard's current measures and photos.
    assert "上次整改措施（隐患已重新打开）：已清理通道杂物" in history and "\n整改措施：" not in history
    captions = [m.caption for m in staff.messages()[seen:] if m.kind == "photo"]
    assert captions == [f"{hazard.code} · 整改前 1/1", f"{hazard.code} · 上次整改后 1/1"]
    audit = await bot_stage.services.storage.audit.list(action_prefix="hazard.reopened")
    assert [(event.actor_id, event.target) for event in audit] == [(STAFF, f"hazard:{hazard.code}")]


async def test_a_second_tap_on_reopen_does_not_reopen_twice(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await closed_hazard(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    dossier = staff.last_message()
    await staff.press("Reopen", dossier)
    await staff.send_text("The fire exit is blocked again")
    assert "was reopened" in staff.last_message().text

    reopened_at = bot_stage.clock.now().astimezone(bot_stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")
    bot_stage.clock.advance(timedelta(minutes=5))
    pressed = await staff.press_data(dossier, f"hz:reopen:{hazard.id}")
    assert pressed.answer is not None and pressed.answer.show_alert
    assert pressed.answer.text == (
        f"Hazard {hazard.code} was already reopened by Zhou at {reopened_at} and is being rectified again."
    )
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events.count("reopen") == 1


async def test_a_colleague_who_reopens_second_is_told_who_reopened_it_first(bot_stage: Stage) -> None:
    """Two staff open the reason step on the same closed hazard; the one who types second is told, in Chinese,
    that the other already reopened it, and nothing is reopened twice."""
    people = await cast(bot_stage)
    staff = people.staff
    second = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(second, Role.COUNTY, region=LUCHENG)
    hazard = await closed_hazard(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("重新打开", staff.last_message())
    await second.send_text(f"/hazard {hazard.code}")
    await second.press("重新打开", second.last_message())
    await staff.send_text("复查发现消防通道又被堵塞")
    await second.send_text("消防通道再次堵塞")
    assert f"隐患 {hazard.code} 已由 周科长 于" in second.last_message().text
    assert "重新打开，正在重新整改" in second.last_message().text
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events.count("reopen") == 1


async def test_the_reason_step_keeps_classified_text_out_and_cancel_keeps_it_closed(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await closed_hazard(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("重新打开", staff.last_message())
    await staff.send_text("机密 文件要求重新整改")
    assert "密级" in staff.last_message().text
    await staff.send_text("\u200b\u2060")  # nothing that shows: no reason
    refused = staff.last_message()
    assert phrasebook("zh_CN").said(refused.text, "refusal.reason_required"), refused.text
    # Asked to write it again, the person may rather stop: the answer offers Cancel, as the question did.
    await staff.press("取消", refused)
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    await staff.send_text("没有密级的理由")  # the step ended: this is no reason
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    assert not any("机密" in (e.note or "") for e in await bot_stage.services.storage.hazards.events(hazard.id))


async def test_a_reason_too_long_is_asked_again_and_the_shorter_one_reopens_it(bot_stage: Stage) -> None:
    """A reason past the 2000 characters a record keeps (a pasted inspection report, say) is refused with the limit,
    and the step stays open with Cancel under the answer: the next, shorter text is the reason, with no second press
    of Reopen."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await closed_hazard(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("重新打开", staff.last_message())
    await staff.send_text("复查发现消防通道又被堵塞。" * 200)  # 2600 characters
    refused = staff.last_message()
    assert refused.text == "文字太长了，请不超过 2000 个字。"
    assert refused.buttons == [["取消"]]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    await staff.send_text("复查发现消防通道又被堵塞")
    assert f"隐患 {hazard.code} 已重新打开" in staff.last_message().text
    reopened = await hazard_now(bot_stage, hazard)
    assert reopened.state is HazardState.RECTIFYING
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert [e.note for e in events if e.action == "reopen"] == ["复查发现消防通道又被堵塞"]


async def test_a_reason_step_begun_before_an_upgrade_resumes_after_it(bot_stage: Stage) -> None:
    """The step's state is stored under its name ("reopen.awaiting_reason", as every release since the step came has
    written it): a new release that named it otherwise would not know the stored step, and the reason typed after the
    upgrade would be taken for no reason at all."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await closed_hazard(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("重新打开", staff.last_message())
    await bot_stage.stop_bot()
    # The step as the release before this one stored it.
    with sqlite3.connect(bot_stage.settings.database_path) as stored:
        stored.execute("UPDATE ptb_conversations SET state = ? WHERE name = 'reopen'",
                       (json.dumps("reopen.awaiting_reason"),))
        assert stored.execute("SELECT count(*) FROM ptb_conversations WHERE name = 'reopen'").fetchone() == (1,)
    stored.close()
    await bot_stage.start_bot()
    await staff.send_text("复查发现消防通道又被堵塞")
    assert f"隐患 {hazard.code} 已重新打开" in staff.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING


async def test_reopen_is_refused_to_another_county_and_past_ninety_days(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    hazard = await closed_hazard(bot_stage)
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)
    await outsider.send_text("/help")
    forged = await outsider.press_data(outsider.last_message(), f"hz:reopen:{hazard.id}")
    assert forged.answer is not None and forged.answer.show_alert
    assert forged.answer.text == "No such hazard, or you may not see it."
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["action"]) for e in refused] == [(LONGWAN_STAFF, "reopen")]

    staff = people.staff
    await staff.send_text(f"/hazard {hazard.code}")
    dossier = staff.last_message()
    assert dossier.buttons == [["Reopen"], ["💬 Comment"]]
    bot_stage.clock.advance(timedelta(days=91))
    late = await staff.press("Reopen", dossier)
    assert late.answer is not None and late.answer.show_alert
    assert "closed more than 90 days ago" in (late.answer.text or "") and "/report" in (late.answer.text or "")
    await staff.send_text(f"/hazard {hazard.code}")
    assert staff.last_message().buttons == []
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED


async def test_after_accept_the_notice_keeps_details_only_and_details_offers_reopen(bot_stage: Stage) -> None:
    """Accept and Reopen never sit on the same message (a slip between them would undo a verdict): the verified
    notice keeps Details, and the closed hazard's details offer Reopen to staff, one tap away."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    notice = next(m for m in staff.messages() if "待您验收" in m.text and hazard.code in m.text)
    await staff.press("验收通过", notice)
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    notice = next(m for m in staff.messages() if m.message_id == notice.message_id)
    assert notice.buttons == [["详情"]]
    await staff.press("详情", notice)
    assert ["重新打开"] in staff.last_message().buttons
