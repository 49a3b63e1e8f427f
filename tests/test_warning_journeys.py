"""Warnings from a phone, as staff, heads and cadres would use them: /warn with its preview, delivery through the
outbox (one copy each, forum topics respected), 升级 / 更新 / 解除 to the same people, acknowledgements and the call
for help, /warnstatus by county."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import NetworkError

from bot.delivery import OutboxSender
from bot.domain.roles import Role
from bot.domain.warnings import WarningChange, WarningLevel, WarningStatus
from bot.sandbox import SimUser
from bot.sandbox.views import BotMessage
from bot.services.warning_acks import WarningAckStatus
from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers import warn, warning_followup
from handlers.warn import MAX_HEADLINE, MAX_WARNING_TEXT
from handlers.warning_outbox import show_progress
from storage.models import InstitutionType, NewInstitution, User
from storage.repositories.warning_drafts import WarnDraft, WarningDraftRepository
from storage.warning_models import AckResponse, RecipientKind, WarningRecipient
from tests.db_faults import failing_first, refuse_next_own_write
from tests.warning_people import (
    DONGTOU,
    FORUM_TOPIC,
    HOME_1,
    HOME_1_ZH,
    HOME_2,
    HOME_2_ZH,
    START,
    TYPHOON_TEMPLATE,
    Cast,
    compose_typhoon,
    containing,
    drain,
    enrol,
    outbox_sender,
)

HEAT_WAVE = "Heat wave: 38 °C expected\nKeep residents cool and check the air conditioning."


async def test_warn_previews_the_exact_message_and_counts_then_everyone_gets_one_copy(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    preview = staff.last_message().text
    assert "预览" in preview and TYPHOON_TEMPLATE in preview
    assert "将发送给 3 人（机构负责人 2，社区/村干部 1）和 2 个工作群" in preview
    assert [row[0] for row in staff.last_message().buttons][:1] == ["📤 发送"]

    sender = outbox_sender(typhoon_stage)
    typhoon_stage.application.bot_data["outbox_sender"] = sender  # as the running bot keeps it
    await staff.press("📤 发送")
    assert "✅ 已发送台风红色预警" in containing(staff, "已发送")[-1].text
    await drain(typhoon_stage, sender)

    for chat in cast.dongtou_recipients:
        copies = containing(chat, TYPHOON_TEMPLATE)
        assert len(copies) == 1, chat
    for chat in cast.bystanders:
        assert containing(chat, "台风红色预警") == [], chat
    # The group reads exactly what the preview showed (heads see only the actions for their institution).
    group_copy = containing(cast.group, TYPHOON_TEMPLATE)[0].text
    shown = preview.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]
    assert group_copy == shown
    (topic_copy,) = containing(cast.forum, TYPHOON_TEMPLATE)
    assert topic_copy.stored.thread_id == FORUM_TOPIC
    head_copy = containing(cast.head_1, TYPHOON_TEMPLATE)[0]
    assert head_copy.buttons == [["✅ 已收到并落实"], ["📝 报告落实情况"], ["🆘 需要帮助"]]
    assert containing(cast.cadre, TYPHOON_TEMPLATE)[0].buttons == []
    status = containing(staff, "发送完毕")
    assert len(status) == 1 and "已送达 5 / 5，失败 0" in status[0].text and status[0].edited


async def at_the_preview(stage: Stage) -> tuple[Cast, BotMessage, str, OutboxSender]:
    """林科长's typhoon warning at its preview, with its Send button's data and the sender the bot keeps."""
    cast = await enrol(stage)
    await compose_typhoon(cast)
    preview = cast.dongtou_staff.last_message()
    send = preview.button_data[0][0]
    assert send is not None
    sender = outbox_sender(stage)
    stage.application.bot_data["outbox_sender"] = sender
    return cast, preview, send, sender


async def test_a_warning_whose_draft_could_not_be_cleared_is_not_sent_twice(
    typhoon_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """📤 发送 commits the warning. Its draft used to be deleted after that commit, on its own: when the database
    refused that delete (another process holding the write lock), the sender read that the step had failed, the
    preview's Send button still worked, and pressing it again sent the warning to everyone a second time."""
    cast, preview, send, sender = await at_the_preview(typhoon_stage)
    staff = cast.dongtou_staff
    refuse_next_own_write(monkeypatch)
    await staff.press_data(preview, send)
    await staff.press_data(preview, send)  # told to try again, or tapped twice
    await drain(typhoon_stage, sender)
    for chat in cast.dongtou_recipients:
        assert len(containing(chat, TYPHOON_TEMPLATE)) == 1, chat
    rows = await typhoon_stage.services.storage.db.fetchall("SELECT id FROM warnings")
    assert len(rows) == 1


async def test_a_warning_whose_confirmation_was_lost_is_not_sent_twice(
    typhoon_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """📤 发送 commits the warning; then Telegram fails the sender's status message (or the bot dies there). The
    sender, seeing no confirmation, presses 📤 发送 again: everyone still gets the warning once, and there is one
    warning, not two."""
    cast, preview, send, sender = await at_the_preview(typhoon_stage)
    staff = cast.dongtou_staff
    monkeypatch.setattr(warn, "show_progress", failing_first(show_progress, 1, NetworkError("Bad Gateway")))
    await staff.press_data(preview, send)
    await staff.press_data(preview, send)  # no status message came: pressed again
    await drain(typhoon_stage, sender)
    for chat in cast.dongtou_recipients:
        assert len(containing(chat, TYPHOON_TEMPLATE)) == 1, chat
    rows = await typhoon_stage.services.storage.db.fetchall("SELECT id FROM warnings")
    assert len(rows) == 1


async def test_an_english_city_admin_warns_two_counties_and_sees_the_numbers(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage, language="en")
    admin = cast.admin
    await two_county_preview(admin, "High Temperature", "🟠 Orange", HEAT_WAVE)
    preview = admin.last_message().text
    assert "High Temperature Orange Warning" in preview and "Heat wave: 38 °C expected" in preview
    assert "Recipients: 5 (institution heads: 3; cadres: 2). Work groups: 2." in preview
    assert "In force until 2026-09-10 21:00" in preview  # 09:00 local + 12 h
    await admin.press("📤 Send")
    await drain(typhoon_stage)
    for chat in [*cast.dongtou_recipients, cast.lucheng_head, cast.lucheng_cadre]:
        assert len(containing(chat, "38 °C")) == 1, chat
    # Staff do not get the warning itself (no buttons to answer), but hear, in their language, that it is in force.
    (told,) = containing(cast.lucheng_staff, "38 °C")
    assert told.text.startswith("📢 High Temperature Orange Warning (#1) has been issued and covers Lucheng")
    assert told.buttons == []
    # Heads read their own language; groups the bureau's default (Chinese).
    assert "High Temperature Orange Warning" in containing(cast.head_1, "38 °C")[0].text
    assert "高温橙色预警" in containing(cast.group, "38 °C")[0].text


async def test_county_staff_cannot_warn_beyond_their_county_and_heads_cannot_warn(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    await cast.head_1.send_text("/warn")
    assert "只有县（市、区）民政部门和市民政局" in cast.head_1.last_message().text
    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    await staff.press("暴雨")
    await staff.press("黄色")
    await staff.send_text("暴雨预警\n注意防范")
    # No region step for county staff: their county is the only choice.
    assert "机构类型" in staff.last_message().text
    warnings = await typhoon_stage.services.storage.warnings.with_status({WarningStatus.DRAFT})
    assert warnings == []


async def test_upgrade_update_and_lift_reach_exactly_the_first_recipients(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, level="橙色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    # A cadre registered after the first message is not among its recipients, and hears none of its changes.
    latecomer = typhoon_stage.sandbox.user(user_id=33, first_name="新", last_name="干部")
    await typhoon_stage.register(latecomer, Role.CADRE, region=DONGTOU)

    await staff.send_text("/warnings")
    await staff.press("⬆️ 升级")
    await staff.press("🔴 红色")
    await drain(typhoon_stage)
    await staff.send_text("/warnings")
    await staff.press("✏️ 更新")
    await staff.send_text("台风“海燕”路径北移\n请临海机构今晚18时前完成人员转移。")
    await drain(typhoon_stage)
    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    assert "原来的 5 个接收方" in staff.last_message().text
    await staff.press("✅ 确认解除")
    await drain(typhoon_stage)

    for chat in cast.dongtou_recipients:
        texts = [m.text for m in chat.messages() if "预警" in m.text and "【" in m.text]
        assert [t.split("】")[0][-2:] for t in texts] == ["发布", "升级", "更新", "解除"], (chat, texts)
    assert [m.text for m in latecomer.messages() if "【" in m.text] == []
    revised = containing(cast.head_1, "【更新】")[0]
    assert "请临海机构今晚18时前完成人员转移" in revised.text and revised.buttons
    assert containing(cast.head_1, "【解除】")[0].buttons == []
    warning = (await typhoon_stage.services.storage.warnings.with_status({WarningStatus.CANCELLED}))[0]
    assert warning.level is WarningLevel.RED and warning.revision == 4
    changes = [r.change for r in await typhoon_stage.services.warnings.revisions(warning.id)]
    assert changes == [WarningChange.ISSUE, WarningChange.UPGRADE, WarningChange.UPDATE, WarningChange.CANCEL]
    assert "已解除台风红色预警" in containing(staff, "已解除")[-1].text


async def test_heads_answer_need_help_alerts_staff_and_warnstatus_shows_it_by_county(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)

    await cast.head_1.press("✅ 已收到并落实")
    assert cast.head_1.answers()[-1].text == "已确认：已收到并落实。谢谢！"
    assert containing(cast.head_1, TYPHOON_TEMPLATE)[0].buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]
    await cast.head_1.press("🆘 需要帮助")  # after all, they do
    await cast.head_2.press("🆘 需要帮助")
    await cast.head_2.press_data(containing(cast.head_2, TYPHOON_TEMPLATE)[0], "wa:help:1")  # twice: one alert
    await drain(typhoon_stage)
    alerts = containing(staff, "紧急求助")
    assert len(alerts) == 2 and any(HOME_2_ZH in a.text and "陈 院长" in a.text for a in alerts)
    assert containing(cast.lucheng_staff, "紧急求助") == []
    ack = await typhoon_stage.services.storage.warnings.acks(1)
    assert {(a.user_id, a.response) for a in ack} == {
        (cast.head_1.id, AckResponse.NEED_HELP), (cast.head_2.id, AckResponse.NEED_HELP)}

    await staff.send_text("/warnstatus")
    status = staff.last_message().text
    assert "已收到并落实 0 · 需要帮助 2 · 未回复 0（共 2 家机构）" in status
    assert "洞头区" in status and f"🆘 {HOME_1_ZH}：张 院长" in status
    await cast.lucheng_staff.send_text("/warnstatus")
    assert "当前没有已发送且生效中的预警" in cast.lucheng_staff.last_message().text
    await cast.admin.send_text("/warnstatus")
    assert "需要帮助 2" in cast.admin.last_message().text
    # A forged press on someone else's warning status is refused and audited.
    await cast.lucheng_staff.press_data(cast.lucheng_staff.last_message(), "ws:remind:1")
    assert "辖区以外" in (cast.lucheng_staff.answers()[-1].text or "")


async def test_a_home_one_of_whose_heads_asked_for_help_is_counted_as_needing_help(typhoon_stage: Stage) -> None:
    """A home with two heads: its director confirms 已收到并落实, its deputy then asks for help. /warnstatus counts
    the home under 需要帮助 and names the deputy: a home that needs help is not shown to staff as settled."""
    cast = await enrol(typhoon_stage)
    deputy = typhoon_stage.sandbox.user(user_id=43, first_name="赵", last_name="副院长", language_code="zh-hans")
    await typhoon_stage.register(deputy, Role.HEAD, institution=HOME_1)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    assert len(containing(deputy, TYPHOON_TEMPLATE)) == 1

    await cast.head_1.press("✅ 已收到并落实")
    await deputy.press("🆘 需要帮助")
    await cast.head_2.press("✅ 已收到并落实")
    await staff.send_text("/warnstatus")
    status = staff.last_message().text
    assert "已收到并落实 1 · 需要帮助 1 · 未回复 0（共 2 家机构）" in status
    assert f"🆘 {HOME_1_ZH}：赵 副院长" in status
    assert f"✅ {HOME_1_ZH}" not in status


async def test_a_call_for_help_pressed_again_later_reaches_staff_once(typhoon_stage: Stage) -> None:
    """A head asks for help, and a minute later presses 🆘 需要帮助 again (under the reminder, or on a message
    whose buttons had not yet gone): staff, woken at once, are not woken a second time for the same call."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    warning = containing(cast.head_2, TYPHOON_TEMPLATE)[0]

    await cast.head_2.press("🆘 需要帮助")
    typhoon_stage.clock.advance(timedelta(minutes=1))
    await cast.head_2.press_data(warning, "wa:help:1")
    typhoon_stage.clock.advance(timedelta(minutes=5))
    await cast.head_2.press_data(warning, "wa:help:1")
    await drain(typhoon_stage)
    alerts = containing(staff, "紧急求助")
    assert len(alerts) == 1 and HOME_2_ZH in alerts[0].text


async def test_remind_the_silent_then_the_follow_up_escalates_to_county_staff(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    await cast.head_1.press("✅ 已收到并落实")

    await staff.send_text("/warnstatus")
    await staff.press("🔔 提醒未回复的机构")
    assert staff.answers()[-1].text == "已提醒 1 位尚未回复的机构负责人。"
    await drain(typhoon_stage)
    assert len(containing(cast.head_2, "请确认预警")) == 1
    assert containing(cast.head_1, "请确认预警") == []

    services = typhoon_stage.services
    assert (await follow_up(services)).reminded == 0  # too early for the automatic reminder
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    report = await follow_up(services)
    again = await follow_up(services)  # a second run (or a restart) sends nothing twice
    await drain(typhoon_stage)
    assert (report.reminded, report.escalated) == (1, 1)
    assert len(containing(cast.head_2, "请确认预警")) == 2
    escalations = containing(staff, "仍未回复")
    assert len(escalations) == 1 and HOME_2_ZH in escalations[0].text
    assert again.redelivered == 0
    status = containing(staff, "回复情况")[-1]
    assert "尚无人接手跟进" not in status.text
    await staff.press("🔄 刷新", message=status)
    assert "☎️ 尚无人接手跟进" in status.text  # escalated since, and nobody has taken it on
    edits = len(typhoon_stage.sandbox.calls_to("editMessageText"))
    await staff.press("🔄 刷新", message=status)
    assert len(typhoon_stage.sandbox.calls_to("editMessageText")) == edits  # nothing changed: no edit


async def sent_and_one_answered(stage: Stage) -> Cast:
    """林科长's red typhoon warning sent and delivered; 张院长's home has answered, 陈院长's is silent."""
    cast = await enrol(stage)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(stage)
    await cast.head_1.press("✅ 已收到并落实")
    return cast


async def test_four_hours_on_the_city_admins_hear_which_counties_are_still_silent(typhoon_stage: Stage) -> None:
    """The last rung of the ladder, for an orange or red warning: four hours after it went out, the city admins get
    one message counting, county by county, the institutions still silent, and a button to the full status."""
    cast = await sent_and_one_answered(typhoon_stage)
    services = typhoon_stage.services

    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    assert (await follow_up(services)).city_escalated == 0  # the county's staff first
    await drain(typhoon_stage)
    assert containing(cast.admin, "全市仍有") == []
    typhoon_stage.clock.advance(timedelta(hours=2))
    first, again = await follow_up(services), await follow_up(services)
    await drain(typhoon_stage)
    assert (first.city_escalated, again.city_escalated) == (1, 1)  # counted each minute, sent once
    (told,) = containing(cast.admin, "全市仍有")
    assert told.text.startswith("🔺 台风红色预警（#1）2026-09-10 09:00 发出，至今全市仍有 1 家机构未回复")
    assert "• 洞头区：1 家未回复（共 2 家），尚无人接手跟进" in told.text
    assert told.buttons == [["📋 查看回复情况"]]
    for staff in (cast.dongtou_staff, cast.lucheng_staff):
        assert containing(staff, "全市仍有") == []
    await cast.admin.press("📋 查看回复情况", told)
    assert HOME_2_ZH in told.text and "回复情况" in told.text  # the message became the status


async def test_one_of_the_county_staff_takes_charge_of_the_silent_and_everyone_sees_who(typhoon_stage: Stage) -> None:
    """☎️ 我来跟进 under the county's escalation, as an on-call pager's acknowledgement: the first official to press
    it follows the silent institutions up; a colleague who presses later is told who does, /warnstatus names them,
    and so does the city admins' count two hours on. Another county's official cannot take it on."""
    cast = await enrol(typhoon_stage)
    services = typhoon_stage.services
    colleague = typhoon_stage.sandbox.user(user_id=21, first_name="吴", last_name="科员", language_code="zh-hans")
    await typhoon_stage.register(colleague, Role.COUNTY, region=DONGTOU)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    await cast.head_1.press("✅ 已收到并落实")
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(services)
    await drain(typhoon_stage)
    (mine,) = containing(cast.dongtou_staff, "仍未回复")
    (theirs,) = containing(colleague, "仍未回复")
    assert mine.buttons == theirs.buttons == [["☎️ 我来跟进"]]

    forged = await cast.lucheng_staff.press_data(cast.lucheng_staff.last_message(), mine.button_data[0][0] or "")
    assert forged.answer is not None and "辖区以外" in (forged.answer.text or "")
    take = theirs.button_data[0][0] or ""
    taken = await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    assert taken.answer is not None and "已记录：由您跟进洞头区未回复的机构" in (taken.answer.text or "")
    assert mine.text.endswith("☎️ 跟进人：林 科长（2026-09-10 11:01 接手）") and mine.buttons == [["↩️ 交回跟进"]]
    late = await colleague.press_data(theirs, take)  # a press already on its way when the copy lost its button
    assert late.answer is not None
    assert late.answer.text == "林 科长 已于 2026-09-10 11:01 接手跟进洞头区未回复的机构，无需重复。"
    assert theirs.text.endswith("☎️ 跟进人：林 科长（2026-09-10 11:01 接手）") and theirs.buttons == []
    audit = await services.storage.audit.list(action_prefix="warning.taken_in_charge")
    assert [(event.actor_id, event.detail["county"]) for event in audit] == [(20, DONGTOU)]

    await colleague.send_text("/warnstatus")
    assert "☎️ 跟进人：林 科长（2026-09-10 11:01 接手）" in colleague.last_message().text
    typhoon_stage.clock.advance(timedelta(hours=2))
    await follow_up(services)
    await drain(typhoon_stage)
    (told,) = containing(cast.admin, "全市仍有")
    assert "• 洞头区：1 家未回复（共 2 家），林 科长 2026-09-10 11:01 起跟进" in told.text


async def escalated_with_a_colleague(stage: Stage) -> tuple[Cast, SimUser, BotMessage, BotMessage]:
    """林科长's red typhoon warning two hours on, 陈院长's home silent: the escalation to 林科长 and to 吴科员, a
    colleague of the same county."""
    cast = await enrol(stage)
    colleague = stage.sandbox.user(user_id=21, first_name="吴", last_name="科员", language_code="zh-hans")
    await stage.register(colleague, Role.COUNTY, region=DONGTOU)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(stage)
    await cast.head_1.press("✅ 已收到并落实")
    stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(stage.services)
    await drain(stage)
    (mine,) = containing(cast.dongtou_staff, "仍未回复")
    (theirs,) = containing(colleague, "仍未回复")
    return cast, colleague, mine, theirs


async def test_the_follower_hands_back_and_a_colleague_takes_it_on(typhoon_stage: Stage) -> None:
    """↩️ 交回跟进, as an on-call pager's unacknowledge: the follower gives the county's silent institutions back; the
    county's other staff are told nobody follows them up, with ☎️ 我来跟进, and the first to press takes them on.
    Only the follower can hand back: a colleague's press, a second press and a stale one change nothing."""
    cast, colleague, mine, theirs = await escalated_with_a_colleague(typhoon_stage)
    services = typhoon_stage.services
    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    assert mine.buttons == [["↩️ 交回跟进"]]
    hand_back = mine.button_data[0][0] or ""
    assert hand_back.startswith("ws:back:")

    forged = await colleague.press_data(theirs, hand_back)
    assert forged.answer is not None and forged.answer.text == (
        "洞头区未回复的机构现由 林 科长 于 2026-09-10 11:01 接手跟进，只有跟进人本人可以交回，未作任何更改。")
    typhoon_stage.clock.advance(timedelta(minutes=30))
    back = await cast.dongtou_staff.press("↩️ 交回跟进", mine)
    assert back.answer is not None and back.answer.text == (
        "已交回：洞头区未回复的机构现在无人跟进，已告知其他负责同事，请同事接手。")
    assert mine.text.endswith("↩️ 林 科长 已于 2026-09-10 11:31 交回跟进，目前尚无人接手跟进。")
    assert mine.buttons == [["☎️ 我来跟进"]]
    audit = await services.storage.audit.list(action_prefix="warning.handed_back")
    assert [(event.actor_id, event.detail["county"]) for event in audit] == [(20, DONGTOU)]
    again = await cast.dongtou_staff.press_data(mine, hand_back)  # a second tap that was already on its way
    assert again.answer is not None and again.answer.text == "洞头区未回复的机构目前无人跟进，无需交回。"
    await drain(typhoon_stage)
    (notice,) = containing(colleague, "已交回")
    assert notice.text.startswith("↩️ 林 科长 已交回洞头区未回复机构的跟进（台风红色预警），目前尚无人接手跟进。")
    assert HOME_2_ZH in notice.text and notice.buttons == [["☎️ 我来跟进"]]
    assert containing(cast.dongtou_staff, "已交回洞头区") == []  # the one who handed it back knows

    taken = await colleague.press("☎️ 我来跟进", notice)
    assert taken.answer is not None and "已记录：由您跟进洞头区未回复的机构" in (taken.answer.text or "")
    assert notice.buttons == [["↩️ 交回跟进"]]
    stale = await cast.dongtou_staff.press_data(mine, hand_back)
    assert stale.answer is not None and "现由 吴 科员 于 2026-09-10 11:31 接手跟进" in (stale.answer.text or "")
    await cast.dongtou_staff.send_text("/warnstatus")
    status = cast.dongtou_staff.last_message()
    assert "☎️ 跟进人：吴 科员（2026-09-10 11:31 接手）" in status.text and "林 科长（" not in status.text
    assert status.buttons == [["🔔 提醒未回复的机构", "🔄 刷新"]]  # nothing of his to hand back
    typhoon_stage.clock.advance(timedelta(hours=2))
    await follow_up(services)
    await drain(typhoon_stage)
    (told,) = containing(cast.admin, "全市仍有")
    assert "• 洞头区：1 家未回复（共 2 家），吴 科员 2026-09-10 11:31 起跟进" in told.text


async def test_a_colleagues_copy_of_the_escalation_follows_a_take_and_a_hand_back(typhoon_stage: Stage) -> None:
    """The colleague's copy kept offering ☎️ 我来跟进 for institutions someone followed up already, until pressed;
    and named a follower who had handed them back. It now follows both, unpressed, as the grouped escalation does."""
    cast, colleague, mine, theirs = await escalated_with_a_colleague(typhoon_stage)
    sent = theirs.text
    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    assert theirs.text.startswith(sent) and theirs.text.endswith("☎️ 跟进人：林 科长（2026-09-10 11:01 接手）")
    assert theirs.buttons == []
    typhoon_stage.clock.advance(timedelta(minutes=30))
    await cast.dongtou_staff.press("↩️ 交回跟进", mine)
    assert theirs.text.startswith(sent)
    assert theirs.text.endswith("↩️ 林 科长 已于 2026-09-10 11:31 交回跟进，目前尚无人接手跟进。")
    assert "跟进人：林 科长" not in theirs.text and theirs.buttons == [["☎️ 我来跟进"]]
    taken = await colleague.press("☎️ 我来跟进", theirs)
    assert taken.answer is not None and "已记录：由您跟进洞头区未回复的机构" in (taken.answer.text or "")
    assert mine.text.endswith("☎️ 跟进人：吴 科员（2026-09-10 11:31 接手）") and mine.buttons == []


async def test_the_escalation_says_who_follows_up_in_one_line_however_often_it_changes_hands(
    typhoon_stage: Stage,
) -> None:
    """Taken on, handed back, taken on again, and taken by a colleague meanwhile: the escalation keeps its text and
    has one state line under it, the one true now (the presses used to add a line each, which left colleagues
    reading an old follower above the hand-back), with the button that fits it."""
    cast, colleague, mine, _ = await escalated_with_a_colleague(typhoon_stage)
    sent = mine.text

    def state_lines() -> list[str]:
        lines = [line.lstrip("\u2060") for line in mine.text.splitlines()]  # the footer's invisible marker
        return [line for line in lines if line.startswith(("☎️ 跟进人：", "↩️ 林 科长 已于"))]

    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    assert state_lines() == ["☎️ 跟进人：林 科长（2026-09-10 11:01 接手）"]
    assert mine.text.startswith(sent) and mine.buttons == [["↩️ 交回跟进"]]
    typhoon_stage.clock.advance(timedelta(minutes=35))
    await cast.dongtou_staff.press("↩️ 交回跟进", mine)
    assert state_lines() == ["↩️ 林 科长 已于 2026-09-10 11:36 交回跟进，目前尚无人接手跟进。"]
    assert mine.text.startswith(sent) and mine.buttons == [["☎️ 我来跟进"]]
    typhoon_stage.clock.advance(timedelta(minutes=5))
    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    assert state_lines() == ["☎️ 跟进人：林 科长（2026-09-10 11:41 接手）"]
    assert mine.text.startswith(sent) and mine.buttons == [["↩️ 交回跟进"]]
    hand_back = mine.button_data[0][0] or ""
    typhoon_stage.clock.advance(timedelta(minutes=5))
    await cast.dongtou_staff.press("↩️ 交回跟进", mine)
    await drain(typhoon_stage)
    notice = containing(colleague, "已交回")[-1]  # of the second hand-back
    await colleague.press("☎️ 我来跟进", notice)
    assert notice.text.count("☎️ 跟进人：") == 1 and notice.buttons == [["↩️ 交回跟进"]]
    await cast.dongtou_staff.press_data(mine, hand_back)  # stale: the message now names the colleague instead
    assert mine.text.startswith(sent) and mine.buttons == []
    assert [line.lstrip("\u2060") for line in mine.text.splitlines() if "跟进人" in line or "交回跟进" in line] == [
        "☎️ 跟进人：吴 科员（2026-09-10 11:46 接手）"]


async def test_the_state_line_escapes_the_follower_name(typhoon_stage: Stage) -> None:
    """A name with HTML in it is shown as typed under the escalation, pressed again and again."""
    cast, _, mine, _ = await escalated_with_a_colleague(typhoon_stage)
    services = typhoon_stage.services
    user = await services.storage.users.get(cast.dongtou_staff.id)
    assert user is not None
    await services.storage.users.upsert(user.model_copy(update={"full_name": "林 <b>科长</b> & Co"}))
    for _ in range(2):
        await cast.dongtou_staff.press("☎️ 我来跟进", mine)
        await cast.dongtou_staff.press("↩️ 交回跟进", mine)
    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    assert mine.text.endswith("☎️ 跟进人：林 <b>科长</b> & Co（2026-09-10 11:01 接手）")
    assert mine.text.count("跟进人") == 1 and "交回跟进，" not in mine.text


def test_an_escalation_footed_by_appending_loses_all_its_old_lines() -> None:
    """A message edited before the footer had its marker (lines appended) is footed with one line all the same."""
    sent = "⚠️ 台风红色预警发出已超过规定时间，以下 1 家机构仍未回复，请督促落实：洞头区大门镇敬老院"
    old = (f"{sent}\n\n☎️ 跟进人：林 科长（11:01 接手）\n↩️ 林 科长 已于 11:36 交回跟进。"
           "\n\n☎️ 跟进人：吴 科员（11:40 接手）")
    assert warning_followup.unfooted(old) == sent == warning_followup.unfooted(sent)
    assert warning_followup.unfooted(warning_followup.footed(sent, "↩️ x")) == sent


async def test_the_follower_hands_back_from_warnstatus_and_the_city_reads_that_nobody_follows(
    typhoon_stage: Stage,
) -> None:
    """/warnstatus gives the follower ↩️ 交回洞头区的跟进; pressed, the status says nobody follows the county up, and so
    does the city admins' count later. The record is in the database: the bot started again knows it."""
    cast, colleague, mine, _ = await escalated_with_a_colleague(typhoon_stage)
    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    await cast.dongtou_staff.send_text("/warnstatus")
    status = cast.dongtou_staff.last_message()
    assert status.buttons == [["🔔 提醒未回复的机构", "🔄 刷新"], ["↩️ 交回洞头区的跟进"]]
    await cast.dongtou_staff.press("↩️ 交回洞头区的跟进", status)
    assert "☎️ 尚无人接手跟进" in status.text and "跟进人" not in status.text
    assert status.buttons == [["🔔 提醒未回复的机构", "🔄 刷新"]]
    await typhoon_stage.restart()
    services = typhoon_stage.services
    await drain(typhoon_stage)
    assert len(containing(colleague, "已交回洞头区")) == 1  # queued with the hand-back, sent once across the restart
    await colleague.send_text("/warnstatus")
    assert "☎️ 尚无人接手跟进" in colleague.last_message().text
    typhoon_stage.clock.advance(timedelta(hours=2))
    await follow_up(services)
    await drain(typhoon_stage)
    (told,) = containing(cast.admin, "全市仍有")
    assert "• 洞头区：1 家未回复（共 2 家），尚无人接手跟进" in told.text


async def test_a_warning_that_has_ended_is_not_handed_back(typhoon_stage: Stage) -> None:
    """↩️ 交回跟进 after the warning's 24 hours: it has ended, the record stays as it was and nobody is told."""
    cast, colleague, mine, _ = await escalated_with_a_colleague(typhoon_stage)
    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    typhoon_stage.clock.advance(timedelta(hours=22))
    late = await cast.dongtou_staff.press("↩️ 交回跟进", mine)
    assert late.answer is not None and late.answer.text == "这条预警已解除或已过期。"
    await drain(typhoon_stage)
    assert containing(colleague, "已交回") == []
    assert await typhoon_stage.services.storage.audit.list(action_prefix="warning.handed_back") == []


async def test_a_warning_that_has_ended_is_not_taken_on(typhoon_stage: Stage) -> None:
    """The escalation's ☎️ 我来跟进 pressed after the warning's 24 hours: the official is told it has ended, and
    nobody is recorded as following it up."""
    cast = await sent_and_one_answered(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (escalation,) = containing(cast.dongtou_staff, "仍未回复")
    warning_id = escalation_warning_id(escalation)
    typhoon_stage.clock.advance(timedelta(hours=22))
    late = await cast.dongtou_staff.press("☎️ 我来跟进", escalation)
    assert late.answer is not None and late.answer.text == "这条预警已解除或已过期。"
    status = await typhoon_stage.services.warnings.ack_status(warning_id)
    assert [county.follower for county in status.counties] == [None]
    # The message loses its button, and says the warning ended.
    assert escalation.buttons == [] and escalation.text.endswith("无需再跟进。")


def escalation_warning_id(message: BotMessage) -> int:
    data = message.button_data[0][0]
    assert data is not None and data.startswith("ws:own:")
    return int(data.split(":")[2])


async def test_a_yellow_warning_is_not_escalated_to_the_city(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    services = typhoon_stage.services
    await compose_typhoon(cast, "黄色")
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    assert (await follow_up(services)).city_escalated == 0
    await drain(typhoon_stage)
    assert containing(cast.admin, "全市仍有") == []


async def test_a_bureau_that_adds_yellow_to_the_city_levels_hears_of_a_silent_yellow_warning(
    typhoon_stage: Stage,
) -> None:
    """WARNING_CITY_ESCALATE_LEVELS=yellow,orange,red: the city admins get the count for a yellow warning too, after
    the same four hours, and still nothing for a blue one."""
    cast = await enrol(typhoon_stage)
    services = typhoon_stage.services
    services.settings = services.settings.model_copy(update={"warning_city_escalate_levels": "yellow,orange,red"})
    await compose_typhoon(cast, "黄色")
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=3, minutes=59))
    assert (await follow_up(services)).city_escalated == 0
    typhoon_stage.clock.advance(timedelta(minutes=2))
    assert (await follow_up(services)).city_escalated == 2
    await drain(typhoon_stage)
    (told,) = containing(cast.admin, "全市仍有")
    assert told.text.startswith("🔺 台风黄色预警（#1）2026-09-10 09:00 发出，至今全市仍有 2 家机构未回复")
    assert "• 洞头区：2 家未回复（共 2 家），尚无人接手跟进" in told.text


async def test_a_silent_head_is_reminded_once_however_long_the_follow_up_runs(typhoon_stage: Stage) -> None:
    """The automatic reminder comes once per warning: the follow-up runs every minute, and a head who has not
    answered yet is not sent 请确认预警 again each minute for the rest of the warning's day."""
    cast = await enrol(typhoon_stage)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    await cast.head_1.press("✅ 已收到并落实")

    services = typhoon_stage.services
    typhoon_stage.clock.advance(timedelta(hours=1, minutes=1))
    assert (await follow_up(services)).reminded == 1
    for _ in range(5):  # the next five minutes' runs, and one three hours later
        typhoon_stage.clock.advance(timedelta(minutes=1))
        await follow_up(services)
    typhoon_stage.clock.advance(timedelta(hours=3))
    await follow_up(services)
    await drain(typhoon_stage)
    assert len(containing(cast.head_2, "请确认预警")) == 1
    assert containing(cast.head_1, "请确认预警") == []
    assert len(containing(cast.dongtou_staff, "仍未回复")) == 1  # named to staff once too


async def test_a_bureau_can_tighten_the_follow_up_ladder_by_setting(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    services = typhoon_stage.services
    # As WARNING_REMIND_AFTER_MINUTES=20 and WARNING_ESCALATE_AFTER_MINUTES=40 would set it, for a rainstorm.
    services.settings = services.settings.model_copy(
        update={"warning_remind_after_minutes": 20, "warning_escalate_after_minutes": 40}
    )
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    await cast.head_1.press("✅ 已收到并落实")

    typhoon_stage.clock.advance(timedelta(minutes=19))
    assert (await follow_up(services)).reminded == 0
    typhoon_stage.clock.advance(timedelta(minutes=2))
    early = await follow_up(services)
    await drain(typhoon_stage)
    assert (early.reminded, early.escalated) == (1, 0)
    assert len(containing(cast.head_2, "请确认预警")) == 1  # reminded after 21 minutes, not an hour
    typhoon_stage.clock.advance(timedelta(minutes=20))
    assert (await follow_up(services)).escalated == 1
    await drain(typhoon_stage)
    assert HOME_2_ZH in containing(cast.dongtou_staff, "仍未回复")[-1].text


async def test_a_half_composed_warning_survives_a_restart(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    await staff.press("寒潮")
    await staff.press("橙色")
    await typhoon_stage.restart()
    await staff.send_text("寒潮来袭\n今晚最低气温零下3度，请做好防寒保暖。")
    await staff.press("下一步 ▶")
    await staff.press("下一步 ▶")
    await staff.press("48 小时")
    preview = staff.last_message().text
    assert "寒潮橙色预警" in preview and "今晚最低气温零下3度" in preview and "2026-09-12 09:00" in preview
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    assert len(containing(cast.head_2, "今晚最低气温零下3度")) == 1


async def test_a_warning_text_refused_is_asked_for_again_with_the_template_and_cancel(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    await staff.press("寒潮")
    await staff.press("橙色")
    for typed, refusal in [
        ("\u200b\u200b", "预警标题至少需要 1 个字。"),
        ("寒" * (MAX_HEADLINE + 1), f"预警标题太长了，请不超过 {MAX_HEADLINE} 个字。"),
        ("寒潮来袭\n" + "冷" * (MAX_WARNING_TEXT + 1), f"文字太长了，请不超过 {MAX_WARNING_TEXT} 个字。"),
    ]:
        await staff.send_text(typed)
        refused = staff.last_message()
        assert refused.text == refusal and refused.buttons == [["📄 使用模板"], ["取消"]]
    await staff.press("取消", refused)
    assert refused.text == "已取消，没有发布预警。"
    assert await WarningDraftRepository(typhoon_stage.services.storage.db).get(staff.id, WarnDraft) is None
    await staff.send_text("寒潮来袭\n今晚最低气温零下3度，请做好防寒保暖。")  # no longer the warning's text
    assert "下一步 ▶" not in [label for row in staff.last_message().buttons for label in row]


async def test_an_update_text_refused_is_asked_for_again_with_cancel(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, level="橙色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    await staff.send_text("/warnings")
    await staff.press("✏️ 更新")
    for typed, refusal in [
        ("\u200b\u200b", "预警标题至少需要 1 个字。"),
        ("台" * (MAX_HEADLINE + 1), f"预警标题太长了，请不超过 {MAX_HEADLINE} 个字。"),
        ("台风路径北移\n" + "风" * (MAX_WARNING_TEXT + 1), f"文字太长了，请不超过 {MAX_WARNING_TEXT} 个字。"),
    ]:
        await staff.send_text(typed)
        refused = staff.last_message()
        assert refused.text == refusal and refused.buttons == [["取消"]]
    await staff.press("取消", refused)
    assert refused.text == "已取消，没有发布预警。"
    await staff.send_text("台风“海燕”路径北移\n请临海机构今晚18时前完成人员转移。")  # no longer the update's text
    await drain(typhoon_stage)
    (warning,) = await typhoon_stage.services.storage.warnings.with_status({WarningStatus.SENT})
    assert warning.revision == 1 and containing(cast.head_1, "【更新】") == []


async def test_a_warning_to_hundreds_of_institutions_keeps_its_status_and_escalation_to_one_message_each(
    typhoon_stage: Stage,
) -> None:
    """A county's warning reaches every home care centre in its villages: a line for each in /warnstatus, and
    each name in the escalation, would be past what one Telegram message holds, and Telegram would refuse both.
    The status shows them a page at a time, the most urgent first; the escalation names the first and counts the
    rest."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    storage = typhoon_stage.services.storage
    home = await storage.institutions.get_by_code(HOME_2)
    assert home is not None
    centres = [
        await storage.institutions.upsert(NewInstitution(
            code=f"WZ-330305-CARE-{n:03}", name_zh=f"洞头区第{n:03}村居家养老服务照料中心",
            name_en=f"Dongtou Village {n:03} Home Care Centre", type=InstitutionType.ELDERLY_CARE,
            region_code=home.region_code,
        ))
        for n in range(300)
    ]
    for centre in centres:  # each with a registered head the warning reached
        await storage.users.upsert(User(telegram_id=900_000 + centre.id, full_name=f"照料中心负责人{centre.id}",
                                        role=Role.HEAD, institution_id=centre.id, created_at=START))
    await storage.warnings.add_recipients(1, [
        WarningRecipient(kind=RecipientKind.HEAD, chat_id=900_000 + centre.id, institution_id=centre.id,
                         region_code=centre.region_code)
        for centre in centres
    ], START)
    await cast.head_2.press("🆘 需要帮助")
    await drain(typhoon_stage)

    await staff.send_text("/warnstatus")
    status = staff.last_message()
    assert "已收到并落实 0 · 需要帮助 1 · 未回复 301（共 302 家机构）" in status.text
    assert status.text.splitlines()[2] == "全部 302 家，第 1/21 页（求助、无人可联系、未回复的在前）"
    assert f"🆘 {HOME_2_ZH}：陈 院长" in status.text.splitlines()[4]  # who needs help comes first
    listed = [centre for centre in centres if centre.name_zh in status.text]
    assert 0 < len(listed) < 15 and listed == centres[: len(listed)]
    await staff.press("下一页 ▶", message=status)  # the next page: the next fifteen, bounded the same way
    assert "第 2/21 页" in status.text
    assert [centre for centre in centres if centre.name_zh in status.text] == centres[len(listed): len(listed) + 15]

    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    assert (await follow_up(typhoon_stage.services)).escalated == 301
    await drain(typhoon_stage)
    (escalation,) = containing(staff, "仍未回复")
    assert "以下 301 家机构仍未回复" in escalation.text
    named = [centre for centre in centres if centre.name_zh in escalation.text]
    assert 0 < len(named) < len(centres) and named == centres[: len(named)]
    assert f"另有 {301 - len(named) - 1} 家未列出" in escalation.text
    assert escalation.text.endswith("发送 /warnstatus，点「⏳ 未回复」和「☎️ 无人可联系」可逐页查看全部。")


async def city_wide_heat_warning(stage: Stage, cast: Cast | None = None) -> Cast:
    """The English city admin sends an orange heat warning to 鹿城区 (two homes, one with nobody to tell) and 洞头区
    (two homes)."""
    cast = cast or await enrol(stage, language="en")
    await city_wide_warning(stage, cast, "High Temperature", "🟠 Orange", HEAT_WAVE)
    return cast


async def two_county_preview(admin: SimUser, kind: str, level: str, text: str) -> None:
    """An English city admin's /warn to the elderly-care homes of Lucheng and Dongtou for 12 hours, up to its
    preview."""
    await admin.send_text("/warn")
    await admin.press(kind)
    await admin.press(level)
    await admin.send_text(text)
    await admin.press("Lucheng District")
    await admin.press("Dongtou District")
    await admin.press("Next ▶")
    await admin.press("Elderly care")
    await admin.press("Next ▶")
    await admin.press("Next ▶")
    await admin.press("12 h")


async def city_wide_warning(stage: Stage, cast: Cast, kind: str, level: str, text: str) -> None:
    await two_county_preview(cast.admin, kind, level, text)
    await cast.admin.press("📤 Send")
    await drain(stage)


async def test_the_city_admins_read_the_most_silent_county_first_each_with_who_follows_it_up(
    typhoon_stage: Stage,
) -> None:
    """Two counties silent: the city admins' count lists the one with more silent institutions first, though its
    code comes after, and names each county's own follower, not only the first's."""
    cast = await city_wide_heat_warning(typhoon_stage)
    services = typhoon_stage.services
    await cast.lucheng_head.press("✅ Received, acting", containing(cast.lucheng_head, "38 °C")[0])
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(services)
    await drain(typhoon_stage)
    for staff in (cast.lucheng_staff, cast.dongtou_staff):
        (escalation,) = containing(staff, "still not answered; please follow up")
        taken = await staff.press("☎️ I'll follow up", escalation)
        assert taken.answer is not None and "Noted" in (taken.answer.text or "")
    typhoon_stage.clock.advance(timedelta(hours=2))
    await follow_up(services)
    await drain(typhoon_stage)
    (told,) = containing(cast.admin, "across the city")
    counties = [line for line in told.text.splitlines() if line.startswith("• ")]
    assert counties == [
        "• Dongtou District: 2 of 2 not answered; followed up by 林 科长 since 2026-09-10 11:01",
        "• Lucheng District: 1 of 2 not answered; 1 with no one to reach, to be phoned; followed up by 周 科长 since "
        "2026-09-10 11:01",
    ]


async def test_the_city_admins_are_told_once_however_the_silent_count_changes_after(typhoon_stage: Stage) -> None:
    """The count goes to the city admins once per warning: a head answering after it does not bring another."""
    cast = await city_wide_heat_warning(typhoon_stage)
    services = typhoon_stage.services
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    await follow_up(services)
    await drain(typhoon_stage)
    assert len(containing(cast.admin, "across the city")) == 1
    await cast.head_1.press("✅ Received, acting", containing(cast.head_1, "38 °C")[0])
    typhoon_stage.clock.advance(timedelta(minutes=1))
    assert (await follow_up(services)).city_escalated == 3
    await drain(typhoon_stage)
    assert len(containing(cast.admin, "across the city")) == 1


async def test_the_city_admins_hear_nothing_when_every_institution_has_answered(typhoon_stage: Stage) -> None:
    cast = await sent_and_one_answered(typhoon_stage)
    services = typhoon_stage.services
    await cast.head_2.press("✅ 已收到并落实")
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    assert (await follow_up(services)).city_escalated == 0
    await drain(typhoon_stage)
    assert containing(cast.admin, "全市仍有") == []


async def test_an_untaken_call_for_help_reaches_the_city_admins_though_every_institution_answered(
    typhoon_stage: Stage,
) -> None:
    """A 🆘 is an answer, so a warning everyone answered had nothing to tell the city: but a call for help nobody has
    taken (✋ 我来处理) four hours on is what the bureau must hear of. Told once, like the silent."""
    cast = await sent_and_one_answered(typhoon_stage)
    services = typhoon_stage.services
    await cast.head_2.press("🆘 需要帮助")
    await drain(typhoon_stage)
    assert len(containing(cast.dongtou_staff, "紧急求助")) == 1  # the county's staff heard at once; nobody took it
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    assert (await follow_up(services)).city_escalated == 1
    assert (await follow_up(services)).city_escalated == 1
    await drain(typhoon_stage)
    (told,) = containing(cast.admin, "求助尚无人处理")
    assert told.text.startswith("🔺 台风红色预警（#1）2026-09-10 09:00 发出，各机构均已回复，"
                                "但全市仍有 1 家机构的求助尚无人处理")
    assert "• 洞头区：均已回复（共 2 家）；🆘 1 家求助尚无人处理" in told.text
    assert "未回复" not in told.text and told.buttons == [["📋 查看回复情况"]]
    for staff in (cast.dongtou_staff, cast.lucheng_staff):
        assert containing(staff, "求助尚无人处理") == []


async def test_a_call_for_help_taken_and_resolved_is_not_the_city_admins_concern(typhoon_stage: Stage) -> None:
    cast = await sent_and_one_answered(typhoon_stage)
    services = typhoon_stage.services
    await cast.head_2.press("🆘 需要帮助")
    await drain(typhoon_stage)
    (alert,) = containing(cast.dongtou_staff, "紧急求助")
    await cast.dongtou_staff.press("✋ 我来处理", alert)
    await cast.dongtou_staff.press("✅ 已解决", alert)
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    assert (await follow_up(services)).city_escalated == 0
    await drain(typhoon_stage)
    assert [m for m in cast.admin.messages() if "🔺" in m.text] == []


async def test_the_city_admins_read_the_silent_and_the_calls_being_handled_county_by_county(
    typhoon_stage: Stage,
) -> None:
    """One home silent, one whose call for help 林科长 took but has not resolved: the city's line for the county
    counts both; a call taken is not a reason to tell the city on its own."""
    cast = await enrol(typhoon_stage)
    services = typhoon_stage.services
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    await cast.head_2.press("🆘 需要帮助")
    await drain(typhoon_stage)
    (alert,) = containing(cast.dongtou_staff, "紧急求助")
    await cast.dongtou_staff.press("✋ 我来处理", alert)
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    assert (await follow_up(services)).city_escalated == 1
    await drain(typhoon_stage)
    (told,) = containing(cast.admin, "全市仍有")
    assert "• 洞头区：1 家未回复（共 2 家），尚无人接手跟进；✋ 1 家处理中" in told.text
    assert "尚无人处理" not in told.text


async def test_a_call_for_help_raised_after_the_four_hours_is_left_to_the_county(typhoon_stage: Stage) -> None:
    """Everyone answered by four hours; a 🆘 pressed after that goes to the county's staff at once, as always, and
    does not bring the city a message a minute later."""
    cast = await sent_and_one_answered(typhoon_stage)
    services = typhoon_stage.services
    await cast.head_2.press("✅ 已收到并落实")
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    assert (await follow_up(services)).city_escalated == 0
    warning = containing(cast.head_2, TYPHOON_TEMPLATE)[0]
    await cast.head_2.press("🆘 需要帮助", warning)
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(minutes=1))
    assert (await follow_up(services)).city_escalated == 0
    await drain(typhoon_stage)
    assert len(containing(cast.dongtou_staff, "紧急求助")) == 1
    assert [m for m in cast.admin.messages() if "🔺" in m.text] == []


async def test_a_warning_whose_status_cannot_be_read_costs_the_follow_up_of_that_warning_alone(
    typhoon_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of ours reading one warning's replies (a row the code cannot read) is logged and costs that warning's
    follow-up alone: the city admins still hear of the other warning's silent institutions."""
    cast = await city_wide_heat_warning(typhoon_stage)
    await city_wide_warning(typhoon_stage, cast, "Rainstorm", "🔴 Red",
                            "Rainstorm: 100 mm expected\nCheck the drains and move residents from low floors.")
    services = typhoon_stage.services
    heat = min(row["id"] for row in await services.storage.db.fetchall("SELECT id FROM warnings"))
    read = services.warnings.ack_status

    async def unreadable(warning_id: int) -> WarningAckStatus:
        if warning_id == heat:
            raise ValueError("a row the code cannot read")
        return await read(warning_id)

    monkeypatch.setattr(services.warnings, "ack_status", unreadable)
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    report = await follow_up(services)
    await drain(typhoon_stage)
    assert report.city_escalated > 0
    (told,) = containing(cast.admin, "across the city")
    assert "Rainstorm" in told.text


async def test_a_county_handed_back_again_and_again_is_told_each_time(typhoon_stage: Stage) -> None:
    """Each hand-back is a notice of its own (keyed by its audit entry): handed back, taken on and handed back again
    by two colleagues in turn, each hears of every hand-back of the other."""
    cast, colleague, mine, _ = await escalated_with_a_colleague(typhoon_stage)
    await cast.dongtou_staff.press("☎️ 我来跟进", mine)
    typhoon_stage.clock.advance(timedelta(minutes=30))
    await cast.dongtou_staff.press("↩️ 交回跟进", mine)
    await drain(typhoon_stage)
    (notice,) = containing(colleague, "已交回")
    await colleague.press("☎️ 我来跟进", notice)
    typhoon_stage.clock.advance(timedelta(minutes=30))
    back = await colleague.press("↩️ 交回跟进", notice)
    assert back.answer is not None and "已交回" in (back.answer.text or "")
    await drain(typhoon_stage)
    (told,) = containing(cast.dongtou_staff, "已交回洞头区")
    assert told.text.startswith("↩️ 吴 科员 已交回洞头区未回复机构的跟进") and told.buttons == [["☎️ 我来跟进"]]
    # And back again: the colleague hears of this hand-back as of the first.
    await cast.dongtou_staff.press("☎️ 我来跟进", told)
    typhoon_stage.clock.advance(timedelta(minutes=30))
    await cast.dongtou_staff.press("↩️ 交回跟进", told)
    await drain(typhoon_stage)
    assert len(containing(colleague, "已交回洞头区")) == 2
