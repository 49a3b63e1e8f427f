"""What a head's answer to a warning does, and what it must not do: an answer under a warning that has ended (lifted
or past its time) is not recorded, and the figures count only answers given while the warning was in force."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.stats import Scope, ScopeLevel
from bot.stage import Stage
from bot.warning_jobs import follow_up
from storage.repositories.exports import ExportRepository
from storage.repositories.stats import StatsRepository
from storage.warning_models import AckResponse, WarningAck
from tests.warning_people import DONGTOU, TYPHOON_TEMPLATE, compose_typhoon, containing, drain, enrol, send_typhoon


async def _send_and_lift(stage: Stage) -> tuple:  # type: ignore[type-arg]
    cast = await enrol(stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(stage)
    await cast.head_1.press("✅ 已收到并落实")
    stage.clock.advance(timedelta(minutes=30))
    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    await staff.press("✅ 确认解除")
    await drain(stage)
    return cast, staff


async def test_an_answer_under_a_lifted_warning_is_told_it_ended_and_is_not_counted(typhoon_stage: Stage) -> None:
    cast, _ = await _send_and_lift(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=2))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    original = containing(cast.head_2, TYPHOON_TEMPLATE)[0]

    await cast.head_2.press("✅ 已收到并落实", original)
    popup = cast.head_2.answers()[-1].text or ""
    assert "该预警已于 2026-09-10 09:30 解除，无需再回复" in popup and "已确认" not in popup
    assert containing(cast.head_2, TYPHOON_TEMPLATE)[0].buttons == []
    answers = await typhoon_stage.services.storage.warnings.acks(1)
    assert [a.user_id for a in answers] == [cast.head_1.id]
    await cast.admin.send_text("/stats")
    assert "机构签收 1/2" in cast.admin.last_message().text


async def test_a_call_for_help_after_the_lift_still_reaches_staff_but_is_no_answer(typhoon_stage: Stage) -> None:
    cast, staff = await _send_and_lift(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=2))
    original = containing(cast.head_2, TYPHOON_TEMPLATE)[0]

    await cast.head_2.press("🆘 需要帮助", original)
    await cast.head_2.press_data(original, "wa:help:1")  # again: staff are not woken twice
    await drain(typhoon_stage)
    assert "求助已转告县级民政部门" in (cast.head_2.answers()[-2].text or "")
    assert "仍在处理中" in (cast.head_2.answers()[-1].text or "")
    alerts = containing(staff, "紧急求助")
    assert len(alerts) == 1 and "洞头区大门镇敬老院" in alerts[0].text and alerts[0].buttons == [["✋ 我来处理"]]
    assert [a.user_id for a in await typhoon_stage.services.storage.warnings.acks(1)] == [cast.head_1.id]


async def test_an_answer_under_an_expired_warning_says_when_it_ended(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    await compose_typhoon(cast, hours="6 小时")
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=7))

    await cast.head_1.press("✅ 已收到并落实")
    assert "该预警已于 2026-09-10 15:00 到期结束，无需再回复" in (cast.head_1.answers()[-1].text or "")
    assert await typhoon_stage.services.storage.warnings.acks(1) == []


async def test_answers_recorded_after_the_end_by_an_older_bot_are_not_counted(typhoon_stage: Stage) -> None:
    """Before this fix a press after the lift was recorded; such rows may be in a bureau's database. /stats and
    the export count only the answers given while the warning was in force."""
    cast, _ = await _send_and_lift(typhoon_stage)
    storage = typhoon_stage.services.storage
    home_2 = next(r.institution_id for r in await storage.warnings.recipients(1) if r.chat_id == cast.head_2.id)
    late = typhoon_stage.clock.now() + timedelta(hours=2)
    await storage.warnings.record_ack(WarningAck(
        warning_id=1, user_id=cast.head_2.id, institution_id=home_2, response=AckResponse.RECEIVED, revision=1,
        at=late))
    await cast.admin.send_text("/stats")
    assert "机构签收 1/2" in cast.admin.last_message().text
    scope = Scope(ScopeLevel.COUNTY, DONGTOU)
    _, reached, answers = await StatsRepository(storage.db).ack_times(scope, 1)
    assert (reached, len(answers)) == (2, 1)
    register = await ExportRepository(storage.db).acknowledgement_page(scope, 1)
    assert [row["response"] for row in register if row["institution_id"] == home_2] == [None]


async def test_a_head_who_types_shou_dao_is_shown_the_warnings_buttons_and_they_work(typhoon_stage: Stage) -> None:
    """Staff reply 收到 by reflex, then believe they answered. The bot records no answer from text: it shows the
    warning's own buttons, which answer as those under the warning do."""
    cast = await enrol(typhoon_stage)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)

    await cast.head_2.send_text("好的，收到！")
    nudge = cast.head_2.last_message()
    assert "请点下面的“✅ 已收到并落实”" in nudge.text
    assert "台风红色预警" in nudge.text and TYPHOON_TEMPLATE in nudge.text
    assert nudge.buttons == [["✅ 已收到并落实"], ["📝 报告落实情况"], ["🆘 需要帮助"]]
    assert await typhoon_stage.services.storage.warnings.acks(1) == []
    await cast.head_2.press("✅ 已收到并落实", nudge)
    assert cast.head_2.answers()[-1].text == "已确认：已收到并落实。谢谢！"
    assert [a.user_id for a in await typhoon_stage.services.storage.warnings.acks(1)] == [cast.head_2.id]
    # The warning itself says so too: left with its ✅, it read as still unanswered.
    warning = containing(cast.head_2, "【发布】")[0]
    assert warning.text.endswith("\n\n✅ 已于 2026-09-10 09:00 确认收到并落实") and TYPHOON_TEMPLATE in warning.text
    assert warning.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]

    await cast.head_2.send_text("收到")  # nothing waits for an answer any more: today's answer
    assert "请点下面" not in cast.head_2.last_message().text
    await cast.head_1.send_text("今天下午检查了消防通道")  # not a receipt: today's answer
    assert "请点下面" not in cast.head_1.last_message().text


async def test_the_heads_warning_message_keeps_how_they_answered(typhoon_stage: Stage) -> None:
    """After 已收到并落实 the warning itself says so and when, under its text; a later 🆘 replaces that line."""
    cast = await enrol(typhoon_stage)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    warning = containing(cast.head_1, TYPHOON_TEMPLATE)[0]

    typhoon_stage.clock.advance(timedelta(minutes=5))
    await cast.head_1.press("✅ 已收到并落实", warning)
    assert warning.text.endswith("\n\n✅ 已于 2026-09-10 09:05 确认收到并落实")
    assert TYPHOON_TEMPLATE in warning.text and warning.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]
    typhoon_stage.clock.advance(timedelta(minutes=3))
    await cast.head_1.press("🆘 需要帮助", warning)
    assert warning.text.endswith("有效期至：2026-09-11 09:00\n\n🆘 已于 2026-09-10 09:08 请求帮助")
    assert warning.buttons == []


async def test_the_line_under_the_heads_warning_follows_their_call_for_help(typhoon_stage: Stage) -> None:
    """Who took the call, then that it was resolved, with 🆘 需要帮助 back; a new 🆘 then shows on it again."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    warning = containing(cast.head_2, TYPHOON_TEMPLATE)[0]

    await cast.head_2.press("🆘 需要帮助", warning)
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(minutes=3))
    await staff.press("✋ 我来处理", containing(staff, "紧急求助")[0])
    assert warning.text.endswith("\n\n🆘 已于 2026-09-10 09:00 请求帮助 · ✋ 林 科长 处理中（2026-09-10 09:03 接手）")
    typhoon_stage.clock.advance(timedelta(minutes=30))
    await staff.press("✅ 已解决", containing(staff, "紧急求助")[0])
    assert warning.text.endswith("\n\n✅ 已协助（林 科长，2026-09-10 09:33 已解决）")
    assert warning.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]
    await cast.head_2.press("🆘 需要帮助", warning)
    assert warning.text.endswith("\n\n🆘 已于 2026-09-10 09:33 请求帮助") and warning.buttons == []


async def test_a_typed_shou_dao_after_the_warnings_time_is_not_shown_its_buttons(typhoon_stage: Stage) -> None:
    """Past its time the warning has ended, though the follow-up has not marked it yet (it does within a minute, or
    later after a stop): a typed 收到 is not pointed to buttons that would only say it ended."""
    cast = await enrol(typhoon_stage)
    await send_typhoon(typhoon_stage, cast, hours="6 小时")
    typhoon_stage.clock.advance(timedelta(hours=6))

    await cast.head_2.send_text("收到")
    assert "请点下面" not in cast.head_2.last_message().text
    assert cast.head_2.last_message().buttons == []


async def test_a_typed_shou_dao_is_shown_the_newest_warning_waiting_for_an_answer(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    await send_typhoon(typhoon_stage, cast, level="黄色")
    typhoon_stage.clock.advance(timedelta(minutes=30))
    await send_typhoon(typhoon_stage, cast, level="红色")

    await cast.head_2.send_text("收到")
    nudge = cast.head_2.last_message()
    assert "台风红色预警" in nudge.text and "黄色" not in nudge.text
    await cast.head_2.press("✅ 已收到并落实", nudge)
    answers = await typhoon_stage.services.storage.warnings.acks(2)
    assert [a.user_id for a in answers] == [cast.head_2.id]


async def test_an_answer_recorded_after_the_expiry_but_before_it_was_marked_is_not_counted(
    typhoon_stage: Stage,
) -> None:
    """A warning past its time is marked ended by the follow-up, a minute later or, after a stop, much later; an
    answer an older bot recorded in between came after the end all the same."""
    cast = await enrol(typhoon_stage)
    await send_typhoon(typhoon_stage, cast, hours="6 小时")
    storage = typhoon_stage.services.storage
    home_1 = next(r.institution_id for r in await storage.warnings.recipients(1) if r.chat_id == cast.head_1.id)
    typhoon_stage.clock.advance(timedelta(hours=7))
    await storage.warnings.record_ack(WarningAck(
        warning_id=1, user_id=cast.head_1.id, institution_id=home_1, response=AckResponse.RECEIVED, revision=1,
        at=typhoon_stage.clock.now()))
    typhoon_stage.clock.advance(timedelta(hours=1))
    await follow_up(typhoon_stage.services)  # the bot is back: it marks the warning ended now
    assert (await typhoon_stage.services.warnings.get(1)).ended_at == typhoon_stage.clock.now()

    await cast.admin.send_text("/stats")
    assert "机构签收 0/2" in cast.admin.last_message().text
    scope = Scope(ScopeLevel.COUNTY, DONGTOU)
    _, reached, answers = await StatsRepository(storage.db).ack_times(scope, 1)
    assert (reached, len(answers)) == (2, 0)


async def test_a_call_for_help_from_a_head_of_two_homes_names_both_to_staff(typhoon_stage: Stage) -> None:
    """张院长 heads 洞头区中心敬老院 and is named head of 洞头区大门镇敬老院 too: one message reaches them for both,
    and their 🆘 under it asks help for both. Staff are told both places, not the first only."""
    cast = await enrol(typhoon_stage)
    storage = typhoon_stage.services.storage
    head_2 = await storage.users.get(cast.head_2.id)
    assert head_2 is not None
    await storage.db.execute(
        "UPDATE institutions SET head_user_id = ? WHERE id = ?", (cast.head_1.id, head_2.institution_id)
    )
    await send_typhoon(typhoon_stage, cast)

    await cast.head_1.press("🆘 需要帮助")
    await drain(typhoon_stage)
    (alert,) = containing(cast.dongtou_staff, "紧急求助")
    assert "代表 洞头区中心敬老院、洞头区大门镇敬老院 在台风红色预警中请求帮助" in alert.text
