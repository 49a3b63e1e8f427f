"""The head rectifies, staff verify: the closed loop from the phones of the people in it, in Chinese and English."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.services.errors import Refusal
from bot.stage import Stage
from storage.hazard_models import PhotoKind, ReportDraft
from tests.hazard_people import (
    HEAD,
    HOME,
    LONGWAN_HEAD,
    LONGWAN_HOME,
    LUCHENG,
    OTHER_STAFF,
    SECOND_HEAD,
    STAFF,
    act,
    cast,
    hazard_now,
    report,
    submitted,
    telegram_photo,
)

CITY_ADMIN = 48


async def test_the_head_acknowledges_and_submits_a_rectification_with_guidance_on_the_way(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await report(bot_stage)

    notice = head.last_message()
    assert f"本机构有新的安全隐患 {hazard.code}" in notice.text
    assert "鹿城区社会福利院" in notice.text and "用火" in notice.text and "消防通道被杂物堵塞" in notice.text
    assert notice.buttons == [["确认收到"], ["📤 提交整改结果"], ["申请延期"], ["详情"]]
    post = people.group.last_message()
    assert hazard.code in post.text and "鹿城区社会福利院" in post.text
    assert "消防通道被杂物堵塞" not in post.text and post.buttons == []

    pressed = await head.press("确认收到", notice)
    assert pressed.answer is not None and hazard.code in (pressed.answer.text or "")
    assert notice.buttons == [["📤 提交整改结果"], ["申请延期"], ["详情"]]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING

    await head.press("📤 提交整改结果", notice)
    assert "第 1 步" in head.last_message().text
    await head.send_photo()  # a photo where the measures were expected: kept, and the head is guided
    assert "照片已保存（目前 1 张）" in head.last_message().text and "文字" in head.last_message().text
    await head.send_text("已清理消防通道内的杂物，并安排专人每日巡查")
    assert "第 2 步" in head.last_message().text and ["完成"] in head.last_message().buttons
    await head.send_text("好了")  # text where a photo was expected
    assert "这一步需要照片" in head.last_message().text
    await head.send_photo()
    assert "已收到第 2 张照片" in head.last_message().text
    await head.press("完成")
    assert f"隐患 {hazard.code} 的整改已提交（照片 2 张）" in head.last_message().text

    after = await hazard_now(bot_stage, hazard)
    assert after.state is HazardState.AWAITING_VERIFICATION
    assert after.measures == "已清理消防通道内的杂物，并安排专人每日巡查"
    photos = await bot_stage.services.storage.hazards.photos(hazard.id)
    assert [p.kind for p in photos] == [PhotoKind.BEFORE, PhotoKind.AFTER, PhotoKind.AFTER]
    assert all(bot_stage.services.evidence.exists(p.sha256) for p in photos)

    verify = staff.last_message()
    assert "待您验收" in verify.text and "已清理消防通道内的杂物" in verify.text
    assert verify.buttons == [["验收通过", "退回整改"], ["详情"]]
    news = cadre.last_message()
    assert "您上报的隐患" in news.text and news.buttons == [["💬 留言"], ["详情"]]
    assert len(people.group.messages()) == 1  # the group hears of new hazards only


async def test_a_rectification_sent_back_retitles_the_card_it_was_pressed_on(bot_stage: Stage) -> None:
    """Scrolling back, staff read 待您验收 on a fix they had sent back an hour before: the card now says it was sent
    back, by whom, when and why, keeps the facts (the measures), and offers Details only."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    card = staff.last_message()
    assert "待您验收" in card.text
    measures = (await hazard_now(bot_stage, hazard)).measures
    assert measures and measures in card.text

    await staff.press("退回整改", card)
    assert not card.edited  # nothing is decided until the reason comes
    await staff.send_text("照片看不出消防通道已清空")
    assert "已退回重新整改" in staff.last_message().text
    assert card.text.startswith(f"↩️ 已退回整改：{hazard.code}\n（由 周科长 于 ")
    assert "退回，原因：照片看不出消防通道已清空）" in card.text
    assert "待您验收" not in card.text and measures in card.text and card.buttons == [["详情"]]


async def test_staff_reject_with_a_reason_and_then_accept_in_english(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await submitted(bot_stage, await report(bot_stage))
    verify = staff.last_message()
    assert verify.buttons == [["Accept", "Reject"], ["Details"]]

    await staff.press("Reject", verify)
    assert "Please type the reason" in staff.last_message().text
    await staff.send_photo()
    assert "type the reason as text" in staff.last_message().text
    await staff.send_text("The photo does not show the <fire exit>")
    assert "sent back for rectification" in staff.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING
    # Scrolled back to, the card pressed says it was sent back, by whom and why, not that it awaits verification.
    assert verify.edited and verify.buttons == [["Details"]]
    assert verify.text.startswith(f"↩️ Sent back for rectification: {hazard.code}\n(by Zhou at ")
    assert "reason: The photo does not show the <fire exit>)" in verify.text
    assert "&lt;fire exit&gt;" in (verify.html or "")
    assert "for your verification" not in verify.text and "accept or reject" not in verify.text

    rejected = head.last_message()
    assert "The rectification of" in rejected.text and "The photo does not show the <fire exit>" in rejected.text
    assert "&lt;fire exit&gt;" in (rejected.html or "")
    assert rejected.buttons == [["📤 Submit the fix again"], ["Details"]]
    assert "it is being rectified again" in cadre.last_message().text
    assert cadre.last_message().buttons == [["💬 Comment"], ["Details"]]

    await head.press("📤 Submit the fix again", rejected)
    await head.send_text("Cleared the exit and fixed a sign")
    await head.send_photo()
    await head.press("Done")
    assert "awaits verification" in head.last_message().text

    card = staff.last_message()
    await staff.press("Accept", card)
    assert "accepted and closed" in staff.last_message().text and "on time" in staff.last_message().text
    # The card no longer reads "submitted for your verification": it says the verdict, by whom, with Details only.
    assert card.text.startswith(f"✅ Accepted and closed: {hazard.code}\n(by Zhou at ")
    assert "for your verification" not in card.text and "accept or reject" not in card.text
    assert "Cleared the exit" in card.text and card.buttons == [["Details"]]
    closed = await hazard_now(bot_stage, hazard)
    assert closed.state is HazardState.CLOSED and closed.closed_on_time is True
    assert "verified and closed, on time" in head.last_message().text
    assert "verified and closed, on time" in cadre.last_message().text
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events == ["report", "acknowledge", "submit_rectification", "reject", "submit_rectification", "accept"]


async def test_a_restart_in_the_middle_of_a_rectification_resumes_at_the_same_step(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    await people.head.press("📤 提交整改结果")
    await bot_stage.restart()
    await people.head.send_text("更换了老化电线")
    assert "第 2 步" in people.head.last_message().text
    await people.head.send_photo()
    await bot_stage.restart()
    await people.head.send_photo()
    assert "已收到第 2 张照片" in people.head.last_message().text
    await bot_stage.restart()
    await people.head.press("完成")
    assert "整改已提交（照片 2 张）" in people.head.last_message().text
    after = await hazard_now(bot_stage, hazard)
    assert after.state is HazardState.AWAITING_VERIFICATION and after.measures == "更换了老化电线"


async def test_cancelling_a_rectification_keeps_the_hazard_with_the_head(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    await people.head.press("📤 提交整改结果")
    await people.head.send_text("已处理")
    await people.head.send_text("/cancel")
    assert "已取消" in people.head.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING
    await people.head.send_photo()  # outside the journey now: not taken as the fix unless the head says so
    offer = people.head.last_message()
    assert offer.text.startswith("这张照片是已整改隐患的整改后照片吗？")
    assert offer.buttons == [[f"📤 提交整改 {hazard.code}"], ["📝 上报隐患", "取消"]]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING


async def test_a_heads_after_photo_sent_outside_the_journey_can_submit_the_fix(bot_stage: Stage) -> None:
    """A head with an open hazard who typed "杂物已经清理好了" was told how to report, and their after-photo was offered
    only as a NEW hazard (inviting a duplicate). The hint now says how to submit a fix, and the photo offers
    📤 提交整改 YH-…, which starts the rectification with the photo already attached. A forged press is refused."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    head = people.head

    await head.send_text("杂物已经清理好了")
    assert "/tasks" in head.last_message().text and "提交整改" in head.last_message().text

    await head.send_photo()
    offer = head.last_message()
    assert offer.buttons == [[f"📤 提交整改 {hazard.code}"], ["📝 上报隐患", "取消"]]

    # Someone else's hazard named in a forged press is refused as one not there (an outsider learns nothing of it),
    # and the offer stays for the head to use.
    longwan = bot_stage.sandbox.user(user_id=LONGWAN_HEAD, first_name="吴院长")
    await bot_stage.register(longwan, Role.HEAD, institution=LONGWAN_HOME)
    await longwan.send_photo()
    token = str(longwan.last_message().button_data[-1][0]).rsplit(":", 1)[1]  # their own offer's
    forged = await longwan.press_data(longwan.last_message(), f"rx:photo:{hazard.id}:{token}")
    assert forged.answer is not None and forged.answer.text == "找不到这条隐患，或您无权查看。"
    assert "第 1 步" not in longwan.last_message().text

    await head.press(f"📤 提交整改 {hazard.code}", offer)
    assert offer.text == f"📎 已将这张照片作为隐患 {hazard.code} 的整改后照片。" and offer.buttons == []
    assert "第 1 步（共 2 步）：请用文字说明已采取的整改措施" in head.last_message().text
    await head.send_text("已清理消防通道内的杂物")
    assert head.last_message().buttons[0] == ["完成"]  # the photo is already there
    await head.press("完成")
    assert f"隐患 {hazard.code} 的整改已提交（照片 1 张）" in head.last_message().text
    after = await hazard_now(bot_stage, hazard)
    assert after.state is HazardState.AWAITING_VERIFICATION and after.measures == "已清理消防通道内的杂物"

    fix_data = str(offer.button_data[0][0]) if offer.button_data else f"rx:photo:{hazard.id}:0"
    pressed = await head.press_data(offer, fix_data)  # pressed again: the offer was used
    assert pressed.answer is not None and pressed.answer.show_alert


async def test_typed_cancel_or_slash_cancel_ends_a_heads_photo_offer_and_the_next_fix_has_only_the_next_photo(
    bot_stage: Stage,
) -> None:
    """取消 typed under the after-photo offer got the general hint and left the buttons alive; /cancel said there was
    nothing to cancel. Either way the cancelled photo joined the next one and went out with the fix. Now both end
    the offer as its 取消 button does: the photo forgotten, the buttons gone, "照片未保存"."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    head = people.head
    for cancel in ("取消", "/cancel"):
        await head.send_photo()
        offer = head.last_message()
        assert offer.text.startswith("这张照片是已整改隐患的整改后照片吗？")
        await head.send_text(cancel)
        assert head.last_message().text == "已取消。", cancel
        assert offer.text == "好的，不上报。照片未保存。" and offer.buttons == [], cancel
        draft = await bot_stage.services.hazards.load_draft(head.id)
        assert draft is None or draft.offer is None
    await head.send_photo()
    offer = head.last_message()
    assert offer.text.startswith("这张照片是已整改隐患的整改后照片吗？") and "2 张" not in offer.text
    await head.press(f"📤 提交整改 {hazard.code}", offer)
    await head.send_text("已清理消防通道内的杂物")
    await head.press("完成")
    assert f"隐患 {hazard.code} 的整改已提交（照片 1 张）" in head.last_message().text
    await head.send_text("/cancel")
    assert head.last_message().text == "当前没有进行中的操作。"  # with no offer waiting, as before


async def test_a_photo_used_for_a_fix_is_not_offered_again_with_the_next_photo(bot_stage: Stage) -> None:
    """The offer a head's after-photo went to a fix with is used up: a photo sent a few minutes later (of something
    new to report) is offered on its own. Left in the draft, the used offer took the new photo in as its second, and
    📝 上报隐患 would have reported the fixed hazard's after-photo as a new hazard."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    head = people.head
    await head.send_photo()
    offer = head.last_message()
    await head.press(f"📤 提交整改 {hazard.code}", offer)
    await head.send_text("已清理消防通道内的杂物")
    await head.press("完成")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION

    bot_stage.clock.advance(timedelta(minutes=5))
    await head.send_photo()
    assert head.last_message().text == "要用这张照片上报隐患吗？"


async def test_an_accepted_card_keeps_measures_written_in_two_paragraphs(bot_stage: Stage) -> None:
    """Accepted from its notice, the card reads as what became of it: the title replaced, the facts kept, the closing
    request to act (the card's last paragraph) dropped. Measures typed in two paragraphs are facts: cut at their
    first blank line, the card lost the rest of them and the time the fix was handed in."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION,
              reason="已清理消防通道内的杂物\n\n并安排专人每日巡查", photos=1)
    card = people.staff.last_message()
    assert "待您验收" in card.text and "请查看详情中的整改照片" in card.text
    await people.staff.press("验收通过", card)
    assert card.text.startswith(f"✅ 已验收销号：{hazard.code}")
    assert "已清理消防通道内的杂物\n\n并安排专人每日巡查" in card.text and "提交时间" in card.text
    assert "请查看详情中的整改照片" not in card.text and card.buttons == [["详情"]]


async def test_a_head_who_blocked_the_bot_does_not_stop_the_other_notices(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    second = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="副院长")
    await bot_stage.register(second, Role.HEAD, institution=HOME)
    people.head.block_bot()
    await bot_stage.sandbox.settle()

    hazard = await report(bot_stage)
    assert hazard.code in second.last_message().text
    assert hazard.code in people.group.last_message().text
    # Recorded as undeliverable, and never tried again.
    assert await undeliverable(bot_stage) == [(HEAD, "blocked")]

    await act(bot_stage, SECOND_HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已整改完毕", photos=1)
    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="照片模糊")
    assert "照片模糊" in second.last_message().text
    assert "照片模糊" in people.cadre.last_message().text
    assert await undeliverable(bot_stage) == [(HEAD, "blocked")] * 2


async def undeliverable(stage: Stage) -> list[tuple[int, str]]:
    rows = await stage.services.storage.db.fetchall(
        "SELECT chat_id, state FROM outbox WHERE state IN ('blocked', 'failed') ORDER BY id"
    )
    return [(int(row["chat_id"]), str(row["state"])) for row in rows]


async def test_a_rights_protection_hazard_never_reaches_the_head_or_a_group(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head_messages, group_messages = len(people.head.messages()), len(people.group.messages())
    hazard = await report(bot_stage, area=HazardArea.RIGHTS, description="有护工疑似殴打老人")

    assert len(people.head.messages()) == head_messages
    assert len(people.group.messages()) == group_messages
    staff_notice = people.staff.last_message()
    assert "新的敏感隐患" in staff_notice.text and "不会告知机构负责人" in staff_notice.text
    assert "有护工疑似殴打老人" in staff_notice.text and staff_notice.buttons == [["详情"]]

    await people.head.send_text("/tasks")
    assert people.head.last_message().text.startswith("目前没有需要您整改的隐患")  # its drills are late, besides
    await people.head.send_text(f"/hazard {hazard.code}")
    assert people.head.last_message().text == "找不到这条隐患，或您无权查看。"
    forged = await people.head.press_data(people.head.last_message(), f"hz:fix:{hazard.id}")
    assert forged.answer is not None and forged.answer.show_alert
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused", actor_id=HEAD)
    assert [e.detail["reason"] for e in refused] == ["not_in_scope", "sensitive_hidden"]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.REPORTED


async def test_a_journey_started_ends_the_hazard_step_left_unfinished(bot_stage: Stage) -> None:
    """Staff press Reject and, before typing the reason, log a study session: its topic is not the rejection's
    reason, and the head is told nothing. Nor does a report left half-way swallow the reason of a later rejection."""
    people = await cast(bot_stage)
    staff, head = people.staff, people.head
    hazard = await submitted(bot_stage, await report(bot_stage))
    heard = len(head.messages())
    await staff.press("退回整改", staff.last_message())
    await staff.send_text("/study")
    await staff.press(staff.last_message().buttons[0][0])
    await staff.send_text("2024年安全工作要点专题学习")
    assert "参加" in staff.last_message().text  # the study journey goes on: how many took part
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    assert len(head.messages()) == heard

    await staff.send_text("/cancel")
    await staff.send_text("/report")
    await staff.press("鹿城区社会福利院")
    await staff.press("用电")
    await staff.press("一般")  # the report now waits for its description
    await staff.press("退回整改", next(m for m in staff.messages() if "待您验收" in m.text))
    await staff.send_text("照片看不清消防通道")
    assert "已退回重新整改" in staff.last_message().text
    rejected = await hazard_now(bot_stage, hazard)
    assert rejected.state is HazardState.RECTIFYING
    assert "照片看不清消防通道" in head.last_message().text
    assert await bot_stage.services.hazards.load_draft(STAFF) is not None  # the draft itself is kept, unsent


async def test_county_staff_rectify_a_rights_protection_hazard_and_another_clerk_accepts_it(bot_stage: Stage) -> None:
    """Nobody at the home may take a sensitive hazard on, so county staff handle it directly: from the dossier they
    record what was done, with evidence. Four eyes (四查四改): the clerk who fixed it is not offered Accept, a forged
    press is refused and recorded, and the county's other clerk is asked to verify it and accepts."""
    people = await cast(bot_stage)
    staff, head, cadre = people.staff, people.head, people.cadre
    second = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(second, Role.COUNTY, region=LUCHENG)
    heard = len(head.messages())
    hazard = await report(bot_stage, area=HazardArea.RIGHTS, description="有老人反映护工推搡打骂")
    notice = staff.last_message()
    assert "敏感隐患" in notice.text
    await staff.press("详情", notice)
    dossier = staff.last_message()
    assert ["📤 提交整改结果"] in dossier.buttons
    await staff.press("📤 提交整改结果", dossier)
    await staff.send_text("已约谈涉事护工并调离岗位，通知家属，报公安机关备案")
    await staff.send_photo()
    await staff.press("完成")
    assert "整改已提交" in staff.last_message().text
    fixed = await hazard_now(bot_stage, hazard)
    assert fixed.state is HazardState.AWAITING_VERIFICATION and fixed.fixed_by == STAFF
    assert "您上报的隐患" in cadre.last_message().text
    assert not any("待您验收" in m.text for m in staff.messages())  # the fixer is not asked to verify

    await staff.press("详情", notice)
    own = staff.last_message()
    labels = [label for row in own.buttons for label in row]
    assert "验收通过" not in labels and "退回整改" in labels
    forged = await staff.press_data(own, f"hz:accept:{hazard.id}")
    assert forged.answer is not None and forged.answer.show_alert
    assert f"隐患 {hazard.code} 的整改是您本人提交的，不能由您验收" in (forged.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.target, e.detail["reason"]) for e in refused] == [
        (STAFF, f"hazard:{hazard.code}", "self_verification")
    ]

    # Their /tasks leaves it to the others: nothing there is theirs to do; the second clerk's lists it to verify.
    await staff.send_text("/tasks")
    assert hazard.code not in staff.last_message().text
    await second.send_text("/tasks")
    assert hazard.code in second.last_message().text
    asked = next(m for m in second.messages() if "待您验收" in m.text)
    assert hazard.code in asked.text
    await second.press("验收通过", asked)
    closed = await hazard_now(bot_stage, hazard)
    assert closed.state is HazardState.CLOSED and closed.fixed_by == STAFF
    accepted = [e for e in await bot_stage.services.storage.hazards.events(hazard.id) if e.action == "accept"]
    assert [e.actor_id for e in accepted] == [OTHER_STAFF]
    assert "已验收通过并销号" in cadre.last_message().text
    assert len(head.messages()) == heard  # the head heard of none of it


async def test_the_countys_only_clerk_fixes_one_on_the_spot_and_the_city_admin_verifies_it(bot_stage: Stage) -> None:
    """立查立改 by the only county clerk of Lucheng: the city admin, who covers every county, is asked instead, in
    English; the clerk's own Accept is refused."""
    people = await cast(bot_stage, "en")
    staff = people.staff
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    found = await bot_stage.services.storage.institutions.get_by_code(HOME)
    clerk = await people.user(STAFF)
    assert found is not None
    draft = ReportDraft(
        institution_id=found.id, area=HazardArea.RIGHTS, severity=Severity.MAJOR,
        description="A carer shouted at a resident", photos=[telegram_photo(bot_stage)],
        fixed_on_spot_photos=[telegram_photo(bot_stage)],
    )
    hazard = (await bot_stage.services.hazards.submit_report(clerk, draft)).hazard
    await bot_stage.sandbox.settle()
    assert hazard.state is HazardState.AWAITING_VERIFICATION and hazard.fixed_by == STAFF

    asked = admin.last_message()
    assert hazard.code in asked.text and ["Accept", "Reject"] in asked.buttons
    assert not any(hazard.code in m.text and ["Accept", "Reject"] in m.buttons for m in staff.messages())
    with pytest.raises(Refusal) as refusal:
        await bot_stage.services.hazards.act(clerk, hazard.id, HazardAction.ACCEPT)
    assert refusal.value.code == "self_verification"
    await admin.press("Accept", asked)
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED


async def test_a_head_who_reported_a_rights_protection_hazard_is_not_asked_to_rectify_it(bot_stage: Stage) -> None:
    """A head may report abuse at their own home, but never deals with it: a rejection tells them, with no Rectify
    button that would only earn them a refusal recorded as a forged press."""
    head = (await cast(bot_stage)).head
    hazard = await report(bot_stage, HEAD, area=HazardArea.RIGHTS, description="护工对老人有辱骂行为")
    await act(bot_stage, STAFF, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已约谈涉事护工", photos=1)
    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="需补充家属沟通记录")
    told = head.last_message()
    assert "需补充家属沟通记录" in told.text and told.buttons == [["💬 留言"], ["详情"]]


async def test_a_verifier_pressing_after_a_colleague_sent_it_back_is_told_who_did_and_when(bot_stage: Stage) -> None:
    """Two clerks are asked to verify the head's rectification; one rejects it. The other's Accept or Reject on
    their notice, pressed afterwards, said only "cannot take that step in its current state"."""
    await cast(bot_stage, "en")
    second = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(second, Role.COUNTY, region=LUCHENG)
    hazard = await submitted(bot_stage, await report(bot_stage))
    asked = next(m for m in second.messages() if hazard.code in m.text and ["Accept", "Reject"] in m.buttons)
    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="The photo does not show the exit")
    rejected_at = bot_stage.clock.now().astimezone(bot_stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")

    expected = (f"The rectification of hazard {hazard.code} was already sent back by Zhou at {rejected_at}"
                " and is being rectified again.")
    for label in ("Accept", "Reject"):
        pressed = await second.press(label, asked)
        assert pressed.answer is not None and pressed.answer.show_alert
        assert pressed.answer.text == expected
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events.count("reject") == 1 and "accept" not in events


async def test_an_english_rectification_counts_its_photos(bot_stage: Stage) -> None:
    """English read "submitted with 1 photo(s)"; it says "1 photo", and "2 photos" for two."""
    people = await cast(bot_stage, "en")
    head = people.head
    hazard = await report(bot_stage)
    await head.press("📤 Submit the fix", head.last_message())
    await head.send_text("Cleared the fire exit")
    await head.send_photo()
    await head.press("Done")
    told = head.last_message().text
    assert f"Rectification of {hazard.code} submitted with 1 photo." in told and "(s)" not in told

    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="Show the whole exit")
    await head.press("📤 Submit the fix again", head.last_message())
    await head.send_text("Cleared the exit and fixed a sign")
    await head.send_photo()
    await head.send_photo()
    await head.press("Done")
    assert f"Rectification of {hazard.code} submitted with 2 photos." in head.last_message().text
