"""Answers carry over a level change: the 【升级】 copy of a head who had answered says their answer still counts,
rather than asking again as if they never had."""

from __future__ import annotations

from datetime import timedelta

from bot.stage import Stage
from tests.warning_people import compose_typhoon, containing, drain, enrol


async def test_the_upgrade_tells_a_head_who_answered_that_the_answer_still_counts(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, level="黄色")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(minutes=5))
    await cast.head_1.press("✅ 已收到并落实")
    typhoon_stage.clock.advance(timedelta(minutes=30))
    await staff.send_text("/warnings")
    await staff.press("⬆️ 升级")
    await staff.press("🟠 橙色")
    await drain(typhoon_stage)

    (upgraded,) = containing(cast.head_1, "【升级】")
    assert upgraded.text.endswith("\n\n✅ 您已于 2026-09-10 09:05 确认收到并落实，仍然有效；如有新情况可再次回复。")
    assert upgraded.buttons == [["✅ 已收到并落实"], ["📝 报告落实情况"], ["🆘 需要帮助"]]
    # The head who had not answered is asked as before; the others only read.
    (theirs,) = containing(cast.head_2, "【升级】")
    assert "仍然有效" not in theirs.text
    assert all("仍然有效" not in m.text for m in containing(cast.cadre, "【升级】"))
    # Answering again replaces the line, as any answer does.
    typhoon_stage.clock.advance(timedelta(minutes=1))
    await cast.head_1.press("🆘 需要帮助", upgraded)
    assert upgraded.text.endswith("\n\n🆘 已于 2026-09-10 09:36 请求帮助") and "仍然有效" not in upgraded.text
