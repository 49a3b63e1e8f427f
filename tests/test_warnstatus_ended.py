"""/warnstatus after 解除 or expiry: the final tally of a warning ended in the last 48 hours, read-only, for the
bureau's review after the event."""

from __future__ import annotations

from datetime import timedelta

from bot.stage import Stage
from bot.warning_jobs import follow_up
from tests.warning_people import drain, enrol, send_typhoon

DONGTOU_HOMES = ("洞头区中心敬老院", "洞头区大门镇敬老院")


async def test_the_final_tally_stays_in_warnstatus_for_two_days_after_the_warning_is_lifted(
    typhoon_stage: Stage,
) -> None:
    """Right after 解除, /warnstatus answered "当前没有已发送且生效中的预警。": who answered, who never did and who
    called for help were gone just when the bureau reviews the typhoon."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await send_typhoon(typhoon_stage, cast)
    await cast.head_1.press("✅ 已收到并落实")
    await staff.send_text("/warnstatus")
    before = staff.last_message()
    typhoon_stage.clock.advance(timedelta(hours=3))
    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    await staff.press("✅ 确认解除")
    await drain(typhoon_stage)

    for person in (staff, cast.admin):
        await person.send_text("/warnstatus")
        final = person.last_message()
        assert "台风红色预警</b>" not in final.text  # plain text in the driver's view
        assert final.text.startswith("🔴 台风红色预警（#1）最终回复情况 · 已于 2026-09-10 12:00 解除"), final.text
        assert "已收到并落实 1 · 需要帮助 0 · 未回复 1（共 2 家机构）" in final.text
        assert "✅ 洞头区中心敬老院" in final.text and "⏳ 洞头区大门镇敬老院：未回复" in final.text
        assert "尚无人接手跟进" not in final.text
        assert final.buttons == []
    # Staff of a county the warning did not concern see nothing of it.
    await cast.lucheng_staff.send_text("/warnstatus")
    assert cast.lucheng_staff.last_message().text == "当前没有已发送且生效中的预警。"

    # The status shown before it ended: 🔔 reminds nobody now, and the message turns into the final tally.
    heads_seen = len(cast.head_2.messages())
    await staff.press("🔔 提醒未回复的机构", message=before)
    assert staff.answers()[-1].text == "这条预警已解除或已过期。"
    await drain(typhoon_stage)
    assert cast.head_2.messages()[heads_seen:] == []
    (turned,) = [m for m in staff.messages() if m.message_id == before.message_id]
    assert "最终回复情况 · 已于 2026-09-10 12:00 解除" in turned.text and turned.buttons == []

    # Two days on, it has had its review: /warnstatus is empty again.
    typhoon_stage.clock.advance(timedelta(hours=48, minutes=1))
    await follow_up(typhoon_stage.services)
    await staff.send_text("/warnstatus")
    assert staff.last_message().text == "当前没有已发送且生效中的预警。"


async def test_a_warning_that_ran_out_shows_as_ended_at_its_time(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    await send_typhoon(typhoon_stage, cast, hours="12 小时")
    typhoon_stage.clock.advance(timedelta(hours=12, minutes=5))
    await follow_up(typhoon_stage.services)  # marks it expired
    await cast.dongtou_staff.send_text("/warnstatus")
    final = cast.dongtou_staff.last_message()
    assert final.text.startswith("🔴 台风红色预警（#1）最终回复情况 · 已于 2026-09-10 21:00 到期结束"), final.text
    assert "未回复 2（共 2 家机构）" in final.text and final.buttons == []
