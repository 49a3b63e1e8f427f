"""Journeys meet what else happens meanwhile: a warning arriving in the middle of a drill, a colleague submitting the
hazard whose rectification is kept, a resume question answered by typing, and counts and durations typed as people
say them."""

from __future__ import annotations

from bot.stage import Stage
from tests.warning_people import compose_typhoon, drain, enrol


async def test_a_typed_shou_dao_mid_drill_answers_the_warning_and_the_drill_waits(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    head = cast.head_1
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-09-10）")
    await head.send_text("40")
    await head.send_text("30")
    assert "第 5 步" in head.last_message().text
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)

    await head.send_text("好的，收到！")
    nudge = head.last_message()
    assert "请点下面的“✅ 已收到并落实”" in nudge.text
    assert "您的演练记录仍停在第 5 步，回答完预警后请继续。" in nudge.text
    assert nudge.buttons == [["✅ 已收到并落实"], ["🆘 需要帮助"]]
    await head.press("✅ 已收到并落实", nudge)
    assert [a.user_id for a in await typhoon_stage.services.storage.warnings.acks(1)] == [head.id]

    await head.send_text("夜间火灾疏散，灭火器使用")  # the drill was still at step 5
    assert "第 6 步" in head.last_message().text

