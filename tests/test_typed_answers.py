"""Answers typed (or sent) a little differently from what a step asked for, taken as the person meant them: a
numbered list on one line, a number inside a sentence, a button's label typed, a photo with its caption at the
description step, an image sent as a file; and answers too thin to be of use (a one-character rectification, an
address of "3") asked for again, under the step's own buttons."""

from __future__ import annotations

from bot.sandbox.media import make_jpeg
from bot.stage import Stage
from tests.calendar_people import institution_id, local
from tests.hazard_people import HOME, cast, hazard_now, report
from tests.test_calendar_journeys import through_the_drill
from tests.test_report import HOME_ZH, cadre_and_head, to_the_description

# ---- the drill -----------------------------------------------------------------------------------------------


async def test_a_numbered_list_typed_on_one_line_is_one_problem_an_item(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await through_the_drill(head, "消防疏散演练", "今天（2026-03-12）", "12", "25", "夜间疏散演练")
    await head.send_text("1、灭火器压力不足 2、疏散指示灯不亮")
    assert "收到 2 个问题" in head.messages()[-2].text
    assert "灭火器压力不足" in head.last_message().text and "疏散指示灯不亮" not in head.last_message().text
    await head.press("✓ 用火")
    await head.press("✓ 一般")
    assert "疏散指示灯不亮" in head.last_message().text
    await head.press("✓ 用火")
    await head.press("✓ 一般")
    await head.press("✅ 确认记录")
    hazards = await bot_stage.services.storage.hazards.open_for_institution(
        await institution_id(bot_stage, HOME), now=bot_stage.clock.now()
    )
    assert sorted(h.description for h in hazards) == ["灭火器压力不足", "疏散指示灯不亮"]


async def test_a_count_inside_a_sentence_is_read_and_a_wrong_one_keeps_the_way_back_to_the_date(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-12）")
    question = head.last_message()
    await head.send_text("很多人")
    assert "须为确切人数" in head.last_message().text and head.last_message().buttons == question.buttons
    await head.send_text("全体员工和老人共40人")
    assert "时长" in head.last_message().text
    await head.send_text("1到2小时")  # two numbers: not guessed, and told why
    assert "请只填一个数字" in head.last_message().text
    await head.send_text("1小时30分钟")  # hours and minutes: one length of time
    assert head.messages()[-2].text == "按 90 分钟记录。"
    assert "演练了哪些内容" in head.last_message().text


async def test_a_duration_in_chinese_numerals_is_read_as_minutes_and_said_back(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-12）")
    await head.send_text("40")
    assert "一个半小时" in head.last_message().text  # the question says hours may be typed, in words too
    await head.send_text("十几分钟")  # a guess is not a length: asked again, with what can be typed
    assert "三十分钟" in head.last_message().text and "演练了哪些内容" not in head.last_message().text
    await head.send_text("一个半小时")
    assert head.messages()[-2].text == "按 90 分钟记录。"
    assert "演练了哪些内容" in head.last_message().text
    await head.send_text("/help")
    assert "40 人，90 分钟" in head.last_message().text


async def test_participants_in_chinese_numerals_are_counted_and_a_guess_is_asked_again(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-12）")
    question = head.last_message()
    await head.send_text("三四十人")  # a guess is not a count: asked again, told an exact number is wanted
    assert "须为确切人数" in head.last_message().text and head.last_message().buttons == question.buttons
    await head.send_text("一百二十人")
    assert "时长" in head.last_message().text
    await head.send_text("一个多小时")  # more than an hour, by how much nobody said: asked again
    assert "演练了哪些内容" not in head.last_message().text
    await head.send_text("一刻钟")
    assert head.messages()[-2].text == "按 15 分钟记录。"
    await head.send_text("/help")
    assert "120 人，15 分钟" in head.last_message().text


# ---- the report ----------------------------------------------------------------------------------------------


async def test_a_photo_with_its_caption_at_the_description_step_is_the_description_and_the_first_photo(
    bot_stage: Stage,
) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_photo()  # no caption: the description comes first, as before
    assert "请先用文字描述隐患" in cadre.last_message().text
    await cadre.send_photo(caption="三楼走廊堆放杂物堵塞消防通道，楼梯间也有")
    taken = cadre.last_message()
    assert "已收到第 1 张照片" in taken.text and taken.buttons == [["完成"], ["取消"]]
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    summary = cadre.last_message().text
    assert "三楼走廊堆放杂物堵塞消防通道，楼梯间也有" in summary and "照片：1 张" in summary


async def test_a_photo_whose_caption_is_too_short_is_kept_and_only_the_description_asked_for(
    bot_stage: Stage,
) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_photo(caption="楼道")  # too short to describe a hazard: refused, the photo kept
    refused = cadre.last_message()
    assert refused.text == "照片已保存；请再用文字描述隐患（至少 5 个字）。" and refused.buttons == [["取消"]]
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    asked = cadre.last_message()
    assert "已附上您先前发送的 1 张照片" in asked.text and ["完成"] in asked.buttons  # counted at the photo step
    await cadre.send_photo()
    assert "已收到第 2 张照片" in cadre.last_message().text
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    summary = cadre.last_message().text
    assert "三楼走廊堆放杂物堵塞消防通道" in summary and "照片：2 张" in summary


async def test_a_photo_whose_caption_is_too_long_is_kept_and_a_shorter_description_asked_for(
    bot_stage: Stage,
) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_photo(caption="三楼走廊堆放杂物" * 251)  # 2008 characters: over the description's 2000
    refused = cadre.last_message()
    assert refused.text == (
        "照片已保存；但照片说明有 2008 个字，超过了隐患描述 2000 个字的上限，没有作为描述。"
        "请另发一段不超过 2000 个字的文字描述隐患。"
    )
    assert refused.buttons == [["取消"]]
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    asked = cadre.last_message()
    assert "已附上您先前发送的 1 张照片" in asked.text and ["完成"] in asked.buttons  # the photo was kept
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    summary = cadre.last_message().text
    assert "三楼走廊堆放杂物堵塞消防通道" in summary and "照片：1 张" in summary


async def test_an_english_photo_with_a_one_word_caption_is_kept(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    await cadre.send_text("/report")
    await cadre.press("Lucheng District Social Welfare Home")
    await cadre.press("Fire")
    await cadre.send_text("general")
    await cadre.send_photo(caption="exit")
    assert cadre.last_message().text == "Photo saved; now describe the hazard in words (at least 5 characters)."
    await cadre.send_text("The second-floor exit is blocked by boxes")
    assert "The 1 photo you sent earlier is attached" in cadre.last_message().text


# ---- an image sent as a file ---------------------------------------------------------------------------------

AS_FILE = "您发送的是文件，请以“照片”方式发送"


async def test_an_image_sent_as_a_file_is_told_to_be_sent_as_a_photo_under_the_steps_buttons(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    await cadre.send_document(make_jpeg(400, 300, seed=5), "IMG_001.jpg", "image/jpeg")
    told = cadre.last_message()
    assert AS_FILE in told.text and told.buttons == [["无照片"], ["取消"]]
    await cadre.send_document(b"%PDF-1.4", "plan.pdf", "application/pdf")  # not an image: the step's own guide
    assert AS_FILE not in cadre.last_message().text and "这一步请发送现场照片" in cadre.last_message().text


async def test_an_image_sent_as_a_file_at_the_drill_photos_is_told_the_same(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head = people.head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-12）")
    await head.send_text("12")
    await head.send_text("25")
    await head.send_text("夜间疏散演练")
    await head.send_document(make_jpeg(400, 300, seed=6), "IMG_002.jpg", "image/jpeg")
    told = head.last_message()
    assert AS_FILE in told.text and told.buttons == [["取消"]]


# ---- rectification -------------------------------------------------------------------------------------------


async def test_measures_of_one_word_are_asked_for_in_more_detail_and_a_file_for_a_photo(bot_stage: Stage) -> None:
    head = (await cast(bot_stage)).head
    hazard = await report(bot_stage)
    await head.press("📤 提交整改结果")
    await head.send_text("好")
    refused = head.last_message()
    assert "请把整改措施写具体一些（至少 4 个字）" in refused.text and refused.buttons == [["取消"]]
    await head.send_text("已清理杂物")
    assert "第 2 步" in head.last_message().text
    await head.send_document(make_jpeg(400, 300, seed=7), "IMG_003.jpg", "image/jpeg")
    assert AS_FILE in head.last_message().text and head.last_message().buttons == [["取消"]]
    await head.send_photo()
    await head.press("完成")
    assert (await hazard_now(bot_stage, hazard)).measures == "已清理杂物"


async def test_english_measures_need_a_few_words(bot_stage: Stage) -> None:
    head = (await cast(bot_stage, "en")).head
    await report(bot_stage)
    await head.press("📤 Submit the fix")
    await head.send_text("ok")
    assert "at least 4 characters, a few words" in head.last_message().text
    await head.send_text("done")
    assert "at least 4 characters, a few words" in head.last_message().text


async def test_an_address_of_only_a_number_is_asked_for_again(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    await cadre.press("无照片")
    await cadre.send_text("3")
    assert "请输入能找到的位置" in cadre.last_message().text
    await cadre.send_text("3号楼")
    await cadre.press("互查")
    assert "位置：3号楼" in cadre.last_message().text


# ---- a button's label typed ----------------------------------------------------------------------------------


async def test_a_severity_typed_as_its_button_says_is_the_button(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.send_text("很严重")  # not a label: the buttons, as before
    assert "请点击上方的按钮" in cadre.last_message().text
    await cadre.send_text(" 重大 ")
    assert "描述" in cadre.last_message().text
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    await cadre.press("无照片")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "严重程度：重大" in cadre.last_message().text


async def test_an_english_severity_typed_in_any_case_is_the_button(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    await cadre.send_text("/report")
    await cadre.press("Lucheng District Social Welfare Home")
    await cadre.press("Fire")
    await cadre.send_text("general")
    assert "describe" in cadre.last_message().text.lower()


async def test_a_self_inspection_answer_typed_as_its_button_says_answers_the_item(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/selfcheck")
    assert "第 1/" in head.last_message().text
    await head.send_text("合格")
    sheet = head.last_message()
    assert "进度：1/" in sheet.text and "第 2/" in sheet.text  # the sheet came down below, at the next item
    await head.send_text("不适用")
    assert "进度：2/" in head.last_message().text
    await head.send_text("不合格")
    assert "请用文字说明发现的问题" in head.last_message().text
    await head.send_text("三楼西侧烟感报警器不响")  # the note, not another answer
    assert "跳过照片" in str(head.last_message().buttons)


async def test_a_report_area_and_who_found_it_typed_as_their_buttons_say_are_the_buttons(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.send_text("电")  # not a label: the buttons, as before
    assert "请点击上方的按钮" in cadre.last_message().text
    await cadre.send_text("用电")
    assert "严重" in cadre.last_message().text  # the severity step: the area was taken
    await cadre.send_text("一般")
    await cadre.send_text("配电箱门未关闭，电线裸露在外")
    await cadre.press("无照片")
    await cadre.send_text("跳过")
    await cadre.send_text("上面")
    assert "请点击上方的按钮" in cadre.last_message().text
    await cadre.send_text("县级检查")  # not a cadre's own level (互查): the typed one is what is kept
    summary = cadre.last_message().text
    assert "用电" in summary and "发现层级：县级检查" in summary


async def test_an_english_drill_kind_area_and_severity_typed_as_their_buttons_say(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage, "en")).head
    await head.send_text("/drill")
    await head.send_text("fire evacuation")
    assert "Step 2: when was it held?" in head.last_message().text
    await head.send_text("2026-03-10")
    await head.send_text("40")
    await head.send_text("30")
    await head.send_text("Night-time evacuation and extinguisher practice")
    await head.send_photo()
    await head.press("Done")
    await head.send_text("The exit sign on the second floor does not light\nThe kitchen gas hose is cracked")
    assert "Problem 1 of 2" in head.last_message().text
    await head.send_text("Electricity")
    assert "How severe?" in head.last_message().text
    await head.send_text("MAJOR")
    assert "Problem 2 of 2" in head.last_message().text
    await head.send_text("record only, no hazard")
    summary = head.last_message().text
    assert "Electricity" in summary and "Major" in summary and "Please check the drill record" in summary


async def test_a_self_inspection_severity_typed_as_its_button_says_grades_the_failure(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/selfcheck")
    await head.send_text("不合格")
    await head.send_text("三楼西侧烟感报警器不响")
    await head.press("跳过照片")
    await head.send_text("很严重")  # not a label: guided, as before
    assert "进度：0/" in head.last_message().text
    await head.send_text("重大")
    assert "已登记隐患 YH-" in head.messages()[-2].text
    assert "进度：1/" in head.last_message().text and "第 2/" in head.last_message().text


async def test_part_of_an_answers_label_is_not_that_answer(bot_stage: Stage) -> None:
    """The label's words whole: "不" (or "格", or "大" at the severity) names no one button, and records nothing."""
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/selfcheck")
    for fragment in ("不", "格"):
        await head.send_text(fragment)
        assert "进度：1/" not in head.last_message().text
        assert "请用文字说明发现的问题" not in head.last_message().text
    await head.send_text("合格")
    assert "进度：1/" in head.last_message().text

    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.send_text("大")
    assert "请点击上方的按钮" in cadre.last_message().text


async def test_a_screenshot_or_an_iphone_photo_sent_as_a_file_is_told_the_same(bot_stage: Stage) -> None:
    """Not only JPEGs: a PNG screenshot, an iPhone's HEIC, any image sent under "File" is told to be sent as a photo."""
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("三楼走廊堆放杂物堵塞消防通道")
    for name, kind in (("Screenshot.png", "image/png"), ("IMG_0042.HEIC", "image/heic")):
        await cadre.send_document(make_jpeg(400, 300, seed=7), name, kind)
        assert AS_FILE in cadre.last_message().text, kind
