"""A 🆘 pressed after the warning ended reaches staff as a call for help, and the final tally in /warnstatus shows it
(marked as raised after the end) with who took it and the same ✅ 已解决 as any call; it is never counted as an
answer. The head's own copy of the warning says they asked."""

from __future__ import annotations

from datetime import timedelta

from bot.stage import Stage
from tests.warning_people import HOME_1_ZH, HOME_2_ZH, TYPHOON_TEMPLATE, compose_typhoon, containing, drain, enrol


async def test_a_call_for_help_after_the_lift_shows_in_the_final_tally_and_is_resolved_from_it(
    typhoon_stage: Stage,
) -> None:
    stage = typhoon_stage
    cast = await enrol(stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(stage)
    await cast.head_1.press("✅ 已收到并落实")
    stage.clock.advance(timedelta(minutes=20))
    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    await staff.press("✅ 确认解除")
    await drain(stage)
    stage.clock.advance(timedelta(minutes=40))
    for head in (cast.head_2, cast.head_1):
        copy = containing(head, TYPHOON_TEMPLATE)[0]  # the warning, not its 【解除】
        await head.press("🆘 需要帮助", copy)
        await drain(stage)
        # The head's copy says they asked (in place of the earlier answer's line), and its buttons are gone.
        copy = containing(head, TYPHOON_TEMPLATE)[0]  # the warning, not its 【解除】
        assert copy.text.endswith("🆘 已于 2026-09-10 10:00 请求帮助"), copy.text[-80:]
        assert "确认收到并落实" not in copy.text and copy.buttons == []

    await staff.send_text("/warnstatus")
    tally = staff.last_message()
    # The figures count answers to the warning in force only.
    assert "已收到并落实 1 · 需要帮助 0 · 未回复 1（共 2 家机构）" in tally.text
    assert "另有 2 家机构在预警结束后求助" in tally.text
    assert f"🆘（解除后） {HOME_2_ZH}：陈 院长 2026-09-10 10:00 求助 · 尚无人接手" in tally.text
    assert f"🆘（解除后） {HOME_1_ZH}：张 院长 2026-09-10 10:00 求助 · 尚无人接手" in tally.text
    assert "⏳" not in tally.text and tally.buttons == []

    alert = containing(staff, "紧急求助")[0]
    await staff.press("✋ 我来处理", alert)
    await drain(stage)
    await staff.send_text("/warnstatus")
    tally = staff.last_message()
    assert f"🆘（解除后） {HOME_2_ZH}：陈 院长 2026-09-10 10:00 求助 · ✋ 林 科长 处理中" in tally.text
    assert tally.buttons == [[f"✅ 已解决：{HOME_2_ZH}"], ["🔄 刷新"]]
    # Staff of the city see it too, without buttons: they took nothing.
    await cast.admin.send_text("/warnstatus")
    assert "🆘（解除后） 洞头区大门镇敬老院" in cast.admin.last_message().text
    assert cast.admin.last_message().buttons == []

    await staff.press(f"✅ 已解决：{HOME_2_ZH}", tally)
    assert f"🆘→✅（解除后） {HOME_2_ZH}：陈 院长 2026-09-10 10:00 求助 · 已协助（林 科长）" in tally.text
    assert "最终回复情况" in tally.text and tally.buttons == []
    await drain(stage)
    assert containing(cast.head_2, "已解决")
    # The line that follows the call goes under the warning the head asked from, not under its 【解除】.
    assert "林 科长" in containing(cast.head_2, TYPHOON_TEMPLATE)[0].text
    assert all("林 科长" not in lift.text for lift in containing(cast.head_2, "【解除】"))
    assert "已收到并落实 1 · 需要帮助 0 · 未回复 1（共 2 家机构）" in tally.text
