"""Messages that do not fit the report's step: a photo where a button is to be pressed is kept, a voice note is
told it cannot be used, a typed 取消 is the Cancel button, a typed 返回 is told where the way back is."""

from __future__ import annotations

from bot.stage import Stage
from tests.test_report import HOME_ZH, cadre_and_head, to_the_description


async def test_a_photo_sent_at_a_step_of_buttons_is_kept_for_the_photo_step(bot_stage: Stage) -> None:
    """A photo sent at the institution, area, severity or found-by step was answered "请点击上方的按钮…" and thrown
    away; the person believed it attached. It is kept, and said so; the photo step then counts it."""
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.send_photo()  # at the institution
    assert cadre.last_message().text == ("照片已保存，稍后作为证据（目前 1 张）。"
                                         "请点击上方的按钮进行选择，或发送 /cancel 取消。")
    await cadre.press(HOME_ZH)
    await cadre.send_photo()  # at the area
    assert "目前 2 张" in cadre.last_message().text
    await cadre.press("用火")
    await cadre.press("较大")
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    assert "已附上您先前发送的 2 张照片" in cadre.last_message().text
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.send_photo()  # at who found it: after the photo step, kept all the same
    assert cadre.last_message().text.startswith("照片已保存，作为这次上报的证据（目前 3 张）")
    await cadre.press("互查")
    assert "照片：3 张" in cadre.last_message().text


async def test_a_voice_note_is_told_it_cannot_be_used_at_the_description_and_the_photos(bot_stage: Stage) -> None:
    """A voice note at the description was answered about photos, and at the photo step "已收到 5 张照片…" as if
    taken. Now each says the voice note cannot be used."""
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_voice()
    told = cadre.last_message()
    assert told.text == "语音消息无法作为隐患描述，请用文字输入描述（至少 5 个字）。照片可在下一步发送。"
    assert told.buttons == [["取消"]]
    await cadre.send_sticker()
    assert cadre.last_message().text.startswith("这条消息无法作为隐患描述")
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    await cadre.send_photo()
    await cadre.send_voice()
    told = cadre.last_message()
    assert told.text.startswith("语音消息没有保存：这一步只收照片。\n已收到 1 张照片。")
    assert told.buttons == [["完成"], ["取消"]]


async def test_typed_cancel_is_the_cancel_button_and_typed_back_is_told_the_way_back(bot_stage: Stage) -> None:
    """取消 typed at a step of buttons was told to use the buttons, and at the description taken as one too short;
    返回 at the description was "描述太短了". Now 取消 cancels as the button does, and 返回 hears that the choices
    made so far are changed with ✏️ 修改 on the summary."""
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.send_text("取消")  # at the area
    assert cadre.last_message().text == "已取消上报，草稿已删除。"
    await cadre.send_text("用火")  # the journey is over: not an area
    assert "已取消" not in cadre.last_message().text

    await to_the_description(cadre)
    await cadre.send_text("返回")
    told = cadre.last_message()
    assert told.text.startswith("这一步不能返回上一步。") and "✏️ 修改" in told.text and told.buttons == [["取消"]]
    await cadre.send_text(" Cancel。")
    assert cadre.last_message().text == "已取消上报，草稿已删除。"


async def test_lang_in_the_middle_of_a_report_asks_the_waiting_step_again_in_the_new_language(
    bot_stage: Stage,
) -> None:
    """/lang at the location step switched the messages to 中文 and left the reply keyboard reading "📍 Share my
    location / Skip", with no word that the report was kept. Now the switch says the report waits at its step and
    asks that step again in the new language, with its keyboard."""
    cadre, _ = await cadre_and_head(bot_stage, "en")
    await cadre.send_text("/report")
    await cadre.press("Lucheng District Social Welfare Home")
    await cadre.press("Fire")
    await cadre.press("Major")
    await cadre.send_text("Socket in room 301 is scorched")
    await cadre.press("No photos")
    assert cadre.reply_keyboard() == [["📍 Share my location"], ["Skip"]]

    await cadre.send_text("/lang")
    await cadre.press("中文")
    said = [m.text for m in cadre.messages()[-2:]]
    assert said[0] == "语言已切换为中文。您的隐患上报已保存，仍在第 6 步，请继续回答下面的问题。"
    assert cadre.reply_keyboard() == [["📍 发送当前位置"], ["跳过"]]
    await cadre.tap("跳过")
    assert cadre.messages()[-2].text == "已跳过位置。"
    await cadre.press("互查")
    assert "请核对上报内容" in cadre.last_message().text

    # With nothing under way the switch is said as before.
    await cadre.send_text("/cancel")
    await cadre.send_text("/lang")
    await cadre.press("English")
    assert cadre.last_message().text == "Language switched to English."
