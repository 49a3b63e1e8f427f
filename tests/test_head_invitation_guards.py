"""What an invitation for a head must never do, whichever way it was made: name another home than the one chosen,
outlive a closing for a reopening to wake it, take other homes' invitations with it when one home closes, or come
twice for one press. Driven through the emulator as people would."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.jobs import plan_once
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import LUCHENG, STAFF, long_named_centres
from tests.test_invite_heads import head_of
from tests.test_onboarding import link_token
from tests.test_reminder_delivery import sweep
from tests.warning_people import drain

NANHUI_CODE = "WZ-330302-ELDER-02"  # 鹿城区南汇街道居家养老服务中心: no head in the cast
NANHUI_STREET = "330302007"
INVITE = "✉️ 邀请负责人 · "


async def test_each_homes_button_under_one_stand_in_reminder_invites_that_homes_head_in_one_message(
    bot_stage: Stage,
) -> None:
    # The presser's unused invitation for one home, shown again for the press of another home's button of the same
    # street, registered the second home's head as the first's; and a press brings one message with the link, not two.
    bot_stage.clock.set(local(2026, 3, 2, 10))
    clerk = bot_stage.sandbox.user(user_id=STAFF, first_name="周科长", language_code="zh-hans")
    await bot_stage.register(clerk, Role.COUNTY, region=LUCHENG)  # no head anywhere in the county
    (centre,) = await long_named_centres(bot_stage, NANHUI_STREET, count=1)  # in Nanhui's street
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    reminder = clerk.last_message()
    buttons = [label for row in reminder.buttons for label in row if label.startswith(INVITE)]
    nanhui = next(label for label in buttons if "南汇" in label)
    other = next(label for label in buttons if "五马" in label)

    seen = len(clerk.messages())
    await clerk.press(nanhui, reminder)
    assert len(clerk.messages()) == seen + 1
    first = clerk.last_message().text
    assert "鹿城区南汇街道居家养老服务中心" in first

    seen = len(clerk.messages())
    await clerk.press(other, reminder)
    assert len(clerk.messages()) == seen + 1
    second = clerk.last_message().text
    assert centre.name_zh in second and "尚未使用的邀请" not in second
    assert link_token(second) != link_token(first)

    centre_head = bot_stage.sandbox.user(user_id=91, first_name="陈主任", language_code="zh-hans")
    assert await head_of(bot_stage, centre_head, link_token(second)) == centre.code
    nanhui_head = bot_stage.sandbox.user(user_id=92, first_name="黄主任", language_code="zh-hans")
    assert await head_of(bot_stage, nanhui_head, link_token(first)) == NANHUI_CODE
