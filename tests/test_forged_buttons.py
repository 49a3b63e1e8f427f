"""Buttons nobody could have been given: ids beyond what the bot stores, pages already shown."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.stage import Stage


async def test_an_id_beyond_64_bits_is_refused_as_forged_not_crashed_on(bot_stage: Stage) -> None:
    staff = bot_stage.sandbox.user(user_id=31, first_name="Zhou", language_code="en")
    await bot_stage.register(staff, Role.COUNTY, region="330302")
    for data in ("hz:view:18446744073709551616", "hz:accept:99999999999999999999", "invite:inst:9223372036854775808"):
        await staff.press_data(staff.last_message(), data)
        assert staff.answers()[-1].text == "This button is no longer valid. Please start again."
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [event.detail["reason"] for event in refused] == ["forged_id"] * 3
    assert not any("went wrong" in message.text for message in staff.messages())


async def test_a_page_button_for_the_page_already_shown_changes_nothing_quietly(bot_stage: Stage) -> None:
    head = bot_stage.sandbox.user(user_id=32, first_name="Head", language_code="en")
    await bot_stage.register(head, Role.HEAD, institution="WZ-330302-ELDER-01")
    await head.send_text("/tasks")
    shown = head.last_message()
    await head.press_data(shown, "tk:page:0")
    await head.press_data(shown, "tk:page:0")
    assert head.last_message().message_id == shown.message_id
    assert not any("went wrong" in message.text for message in head.messages())
    assert all("went wrong" not in (answer.text or "") for answer in head.answers())
