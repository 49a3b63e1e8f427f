"""What a person whose access ended must no longer get, and what must not wait for them: hazard notices, a reopened
hazard, warning reminders, and a journey they had left unfinished."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.jobs import plan_once
from bot.sandbox.media import make_jpeg
from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers.warning_delivery import deliver
from storage.repositories.action_drafts import Journey
from tests.calendar_people import local
from tests.hazard_people import (
    CADRE,
    HEAD,
    HOME,
    LUCHENG,
    SECOND_HEAD,
    STAFF,
    act,
    cast,
    hazard_now,
    report,
    submitted,
)
from tests.test_people import link_token
from tests.test_reminder_delivery import sweep
from tests.test_report import to_the_description
from tests.warning_people import containing, drain, enrol, send_typhoon


async def end_access(stage: Stage, actor_id: int, telegram_id: int) -> None:
    actor = await stage.services.storage.users.get(actor_id)
    assert actor is not None
    await stage.services.people.deactivate(actor, telegram_id)
    await drain(stage)


async def test_a_reporter_whose_access_ended_is_not_told_of_the_hazards_closing(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage, reporter_id=CADRE)
    await drain(bot_stage)
    await end_access(bot_stage, STAFF, CADRE)
    seen = len(people.cadre.messages())

    await act(bot_stage, STAFF, await submitted(bot_stage, hazard), HazardAction.ACCEPT)
    await drain(bot_stage)
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    assert people.cadre.messages()[seen:] == []


async def test_a_hazard_reopened_after_its_head_left_goes_to_the_new_head_not_the_old_one(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await act(bot_stage, STAFF, await submitted(bot_stage, await report(bot_stage)), HazardAction.ACCEPT)
    await drain(bot_stage)
    # The head leaves, comes back as a cadre, and another head now runs the home.
    await end_access(bot_stage, STAFF, HEAD)
    await bot_stage.register(people.head, Role.CADRE, region=LUCHENG)
    successor = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="吴院长", language_code="zh-hans")
    await bot_stage.register(successor, Role.HEAD, institution=HOME)
    seen = len(people.head.messages())

    await people.staff.send_text(f"/hazard {hazard.hazard.code}")
    await people.staff.press("重新打开")
    await people.staff.send_text("复查发现消防通道又被堵塞")
    await drain(bot_stage)
    reopened = await hazard_now(bot_stage, hazard.hazard)
    assert reopened.state is HazardState.RECTIFYING and reopened.assignee_id == SECOND_HEAD
    assert containing(people.head, "已重新打开")[seen:] == [] and people.head.messages()[seen:] == []
    (told,) = containing(successor, "已重新打开")
    assert told.buttons == [["📤 重新提交整改结果"], ["详情"]]


async def test_a_head_whose_access_ended_is_not_reminded_of_a_warning(typhoon_stage: Stage) -> None:
    people = await enrol(typhoon_stage)
    staff = people.dongtou_staff
    await send_typhoon(typhoon_stage, people)
    await people.head_1.press("✅ 已收到并落实")
    await end_access(typhoon_stage, staff.id, people.head_2.id)
    seen = len(people.head_2.messages())

    await staff.send_text("/warnstatus")
    await staff.press("🔔 提醒未回复的机构")
    assert staff.answers()[-1].text == "尚未回复的机构已没有可提醒的负责人（其账号已停用），请电话联系。"
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    assert people.head_2.messages()[seen:] == []
    # Nor told of the warning's cancelling.
    actor = await typhoon_stage.services.storage.users.get(staff.id)
    assert actor is not None
    await deliver(typhoon_stage.services, await typhoon_stage.services.warnings.cancel(actor, 1))
    await drain(typhoon_stage)
    assert people.head_2.messages()[seen:] == []
    assert len(containing(people.head_1, "解除")) == 1


async def test_a_journey_left_unfinished_when_the_access_ended_does_not_resume_when_invited_again(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    await to_the_description(people.cadre)
    assert "描述" in people.cadre.last_message().text
    await end_access(bot_stage, STAFF, CADRE)
    await bot_stage.register(people.cadre, Role.HEAD, institution=HOME)
    seen = len(people.cadre.messages())

    await people.cadre.send_text("三楼走廊堆放杂物，堵塞消防通道")
    replies = [message.text for message in people.cadre.messages()[seen:]]
    assert not any("照片" in text for text in replies), replies


async def test_county_staff_can_neither_see_nor_cancel_an_invitation_of_a_role_they_cannot_invite(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=90, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/invite")
    await admin.press("县级民政工作人员")
    await admin.press("鹿城区")
    token = link_token(admin.last_message().text)

    await people.staff.send_text("/people")
    assert people.staff.last_message().buttons[-1] == ["🔗 未使用的邀请链接（0）"]
    pressed = await people.staff.press_data(people.staff.last_message(), f"pp:rv:{token}")
    assert pressed.answer is not None and pressed.answer.show_alert
    invite = await bot_stage.services.storage.invites.get(token)
    assert invite is not None and invite.revoked_at is None


async def test_what_a_person_left_unfinished_is_discarded_with_their_access(bot_stage: Stage) -> None:
    # A rectification half done (measures typed, a photo sent) and a report half written stayed in the database
    # for good when the access ended, the photos' bytes with them: invited again, the head was taken straight back to
    # the photos step of a rectification begun under their old access.
    people = await cast(bot_stage)
    storage, evidence = bot_stage.services.storage, bot_stage.services.evidence
    hazard = await report(bot_stage)
    await people.head.press("📤 提交整改结果")
    await people.head.send_text("更换了老化电线")
    await people.head.send_photo()
    assert "已收到第 1 张照片" in people.head.last_message().text
    await to_the_description(people.cadre)
    await people.cadre.send_text("三楼走廊堆放杂物，堵塞消防通道")
    await people.cadre.send_photo()
    rectification = await storage.action_drafts.get(HEAD, Journey.RECTIFY)
    report_draft = await storage.drafts.get(CADRE)
    assert rectification is not None and report_draft is not None
    drafted = [photo.sha256 for photo in [*rectification.photos, *report_draft.photos]]
    kept = [photo.sha256 for photo in await storage.hazards.photos(hazard.id)]
    assert len(drafted) == 2 and all(evidence.exists(sha256) for sha256 in drafted + kept)
    await bot_stage.application.update_persistence()

    await end_access(bot_stage, STAFF, HEAD)
    await end_access(bot_stage, STAFF, CADRE)

    for person in (HEAD, CADRE):
        assert await storage.db.fetchval("SELECT COUNT(*) FROM report_drafts WHERE telegram_id = ?", (person,)) == 0
        assert await storage.db.fetchval("SELECT COUNT(*) FROM action_drafts WHERE telegram_id = ?", (person,)) == 0
        steps = await storage.db.fetchval(
            "SELECT COUNT(*) FROM ptb_conversations WHERE json_extract(key, '$[#-1]') = ?", (person,))
        assert steps == 0
    assert not any(evidence.exists(sha256) for sha256 in drafted)
    assert all(evidence.exists(sha256) for sha256 in kept)  # the hazard's own evidence stays
    ended = await storage.audit.list(action_prefix="user.deactivated")
    discarded = {event.target: event.detail.get("drafts_discarded") for event in ended}
    assert discarded == {
        f"user:{HEAD}": {"report": 0, "journeys": ["rectify"], "steps": 1, "photos_deleted": 1},
        f"user:{CADRE}": {"report": 1, "journeys": [], "steps": 1, "photos_deleted": 1},
    }

    # Invited again, the head starts the rectification afresh.
    await bot_stage.register(people.head, Role.HEAD, institution=HOME)
    await people.head.press("📤 提交整改结果")
    assert "第 1 步" in people.head.last_message().text


async def test_a_photo_a_hazard_keeps_outlives_the_draft_that_named_it_too(bot_stage: Stage) -> None:
    # One picture shows two problems: the cadre reports the first with it, begins a report of the second with the
    # same picture, and leaves before finishing. Only the draft goes: the bytes stay, the first hazard's evidence.
    people = await cast(bot_stage)
    storage, evidence = bot_stage.services.storage, bot_stage.services.evidence
    picture = make_jpeg(320, 240, seed=4242)
    shown = hashlib.sha256(picture).hexdigest()
    await to_the_description(people.cadre)
    await people.cadre.send_text("三楼走廊堆放杂物，堵塞消防通道")
    await people.cadre.send_photo(picture)
    await people.cadre.press("完成")
    await people.cadre.send_location(28.0123, 120.6543)
    await people.cadre.press("互查")
    await people.cadre.press("✅ 确认上报")
    kept = await storage.db.fetchall("SELECT hazard_id FROM hazard_photos WHERE sha256 = ?", (shown,))
    assert len(kept) == 1
    await to_the_description(people.cadre, area="用电")
    await people.cadre.send_text("三楼走廊电线裸露")
    await people.cadre.send_photo(picture)
    draft = await storage.drafts.get(CADRE)
    assert draft is not None and [photo.sha256 for photo in draft.photos] == [shown]

    await end_access(bot_stage, STAFF, CADRE)

    assert await storage.drafts.get(CADRE) is None
    assert evidence.exists(shown)  # the first hazard's photo, which its record names
    ended = await storage.audit.list(action_prefix="user.deactivated")
    assert [event.detail["drafts_discarded"]["photos_deleted"] for event in ended] == [0]


async def test_a_head_who_takes_over_in_the_morning_is_reminded_of_a_deadline_that_falls_that_day(
    bot_stage: Stage,
) -> None:
    # A head who replaced another mid-day got the home's hazard reminders only from the next nightly plan: the
    # deadline that fell that very day reminded the county staff, never the head now answering for it.
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)  # 一般: deadline 2026-03-09 10:00
    await drain(bot_stage)
    bot_stage.clock.set(local(2026, 3, 9, 7))
    await plan_once(bot_stage.services)  # the nightly plan of that day
    bot_stage.clock.set(local(2026, 3, 9, 8))
    await end_access(bot_stage, STAFF, HEAD)
    successor = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="吴院长", language_code="zh-hans")
    await bot_stage.register(successor, Role.HEAD, institution=HOME)
    seen = len(successor.messages())

    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    await sweep(bot_stage)
    assert len([m for m in successor.messages()[seen:] if hazard.code in m.text]) == 1
    assert people.head.messages()[-1].text.startswith("您在本机器人中的账号已由周科长停用")


async def test_a_head_who_takes_over_in_the_morning_is_reminded_of_the_self_inspection_due_that_day(
    bot_stage: Stage,
) -> None:
    # The home's duty reminders (the self-inspection due on the 25th, at 09:00) were planned for the head of the
    # night before; one who took over in the morning heard of them only from the next nightly plan, a day late.
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    bot_stage.clock.set(local(2026, 3, 25, 7))
    await plan_once(bot_stage.services)  # the nightly plan of that day
    bot_stage.clock.set(local(2026, 3, 25, 8))
    await end_access(bot_stage, STAFF, HEAD)
    successor = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="吴院长", language_code="zh-hans")
    await bot_stage.register(successor, Role.HEAD, institution=HOME)
    seen = len(successor.messages())

    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    told = [m.text for m in successor.messages()[seen:]]
    assert len([text for text in told if "3月" in text and "自查" in text]) == 1, told
    assert people.head.messages()[-1].text.startswith("您在本机器人中的账号已由周科长停用")
