"""The grouped escalation (a city admin standing in for several counties): every admin's copy says who follows up
each county now, whoever pressed; after the warning ended a press takes the buttons away."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from bot.warning_jobs import follow_up
from tests.test_city_wide_warnings import warn_the_whole_city
from tests.warning_people import drain, enrol


def _as_now(user: SimUser, message_id: int) -> BotMessage:
    (message,) = [m for m in user.messages() if m.message_id == message_id]
    return message


def _grouped(user: SimUser) -> BotMessage:
    (message,) = [m for m in user.messages() if "仍未回复" in m.text and len(m.buttons) > 1]
    return message


async def test_a_colleagues_grouped_copy_follows_a_take_and_a_hand_back_and_loses_its_buttons_after_the_lift(
    typhoon_stage: Stage,
) -> None:
    """王局长 took 永嘉县 and handed it back; 吴局长's copy kept "☎️ 永嘉县跟进人：王 局长" above the notice saying
    nobody followed it up. After the lift its ☎️ answered "已解除或已过期" and kept all ten buttons."""
    stage = typhoon_stage
    cast = await enrol(stage)
    colleague = stage.sandbox.user(user_id=2, first_name="吴", last_name="局长", language_code="zh-hans")
    await stage.register(colleague, Role.CITY)
    await warn_the_whole_city(cast)
    await drain(stage)
    stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(stage.services)
    await drain(stage)
    mine, theirs = _grouped(cast.admin), _grouped(colleague)

    await cast.admin.press("☎️ 我来跟进永嘉县", message=mine)
    copy = _as_now(colleague, theirs.message_id)
    assert copy.text.startswith(theirs.text)
    assert copy.text.endswith("☎️ 永嘉县跟进人：王 局长（2026-09-10 11:01 接手）")
    # A colleague keeps ☎️ (a press is told who follows up): ↩️ is the follower's alone.
    assert ["☎️ 我来跟进永嘉县"] in copy.buttons and len(copy.buttons) == len(theirs.buttons)

    await cast.admin.press("↩️ 交回永嘉县的跟进", message=_as_now(cast.admin, mine.message_id))
    copy = _as_now(colleague, theirs.message_id)
    assert "永嘉县跟进人" not in copy.text and copy.text == theirs.text
    assert ["☎️ 我来跟进永嘉县"] in copy.buttons

    stage.clock.advance(timedelta(minutes=10))
    await cast.admin.send_text("/warnings")
    await cast.admin.press("✅ 解除")
    await cast.admin.press("✅ 确认解除")
    await drain(stage)
    await colleague.press("☎️ 我来跟进永嘉县", message=copy)
    assert colleague.answers()[-1].text == "这条预警已解除或已过期。"
    copy = _as_now(colleague, theirs.message_id)
    assert copy.buttons == []
    assert copy.text.endswith("⚪ 该预警已于 2026-09-10 11:11 解除，无需再跟进。")

    # The final tally names those nobody could be told of, without asking anyone to phone them now.
    await colleague.send_text("/warnstatus")
    final = colleague.last_message().text
    assert "最终回复情况" in final and "其中 14 家无人可联系" in final
    assert "请电话联系" not in final and "\n温州市（市直）\n" in final
