"""落实情况 as heads actually send it: two texts typed in a row, each offered and each recorded as its own question
quotes it; a second text typed at the photo step added, not dropped; a photo sent under a warning offered as what
was done too; an album counted right while it arrives; /lang in the middle of the step."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.sandbox.content import store_photo
from bot.sandbox.media import make_jpeg
from bot.stage import Stage
from tests.test_warning_reports import HEAT, HOME, _heat_warning
from tests.warning_people import containing


async def _report_texts(stage: Stage) -> list[str]:
    return [r.text for r in await stage.services.storage.warning_reports.of_warning(1)]


async def test_each_offered_text_is_recorded_as_its_own_question_quotes_it(bot_stage: Stage) -> None:
    """Two texts typed in a row: pressing the older question's 记为落实情况 recorded the newer text (the button named
    only the warning) and the older text was lost; the newer question then said it was already handled."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.send_text("夜间值班已安排两人")
    older = head.last_message()
    await head.send_text("发电机试机正常")
    newer = head.last_message()
    assert "夜间值班已安排两人" in older.text and "发电机试机正常" in newer.text

    await head.press("📝 记为落实情况", older)
    assert "第 1 次报告" in older.text  # the question becomes its answer
    assert await _report_texts(bot_stage) == ["夜间值班已安排两人"]
    await head.press("📝 记为落实情况", newer)
    assert "第 2 次报告" in newer.text
    assert await _report_texts(bot_stage) == ["夜间值班已安排两人", "发电机试机正常"]

    # 不是 under one question leaves another waiting one as it was.
    await head.send_text("请问下个月的培训在哪里举行")
    question = head.last_message()
    await head.send_text("柴油已备足三天用量")
    third = head.last_message()
    await head.press("不是", question)
    assert "好的，未记录" in question.text
    take_third = third.button_data[0][0]
    assert take_third is not None
    await head.press("📝 记为落实情况", third)
    assert "第 3 次报告" in third.text
    assert (await _report_texts(bot_stage))[-1] == "柴油已备足三天用量"
    # Pressed again (an old copy of the question), a recorded text says so and is not recorded twice.
    await head.press_data(third, take_third)
    assert "这段文字已处理过" in (head.answers()[-1].text or "")
    assert len(await _report_texts(bot_stage)) == 3


async def test_a_second_text_at_the_photo_step_is_added_not_dropped(bot_stage: Stage) -> None:
    """📝 → "门窗加固" → /mine → "另外沙袋已就位": answered "请发送照片", the second line was dropped and the report
    read only "门窗加固". Now it is added, said so with the words as they now read; a captioned photo adds its
    caption."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.press("📝 报告落实情况", containing(head, HEAT)[0])
    await head.send_text("门窗加固，排水沟已疏通")
    await head.send_text("/mine")
    await head.send_text("另外沙袋已就位")
    said = head.last_message()
    assert "已补充" in said.text and "门窗加固，排水沟已疏通\n另外沙袋已就位" in said.text
    assert ["✅ 提交", "取消"] in said.buttons
    await head.send_photo(caption="配电房已检查")
    assert "已补充，已附 1 张照片" in head.last_message().text
    await head.send_text("完成")  # the step's word for its button is guided, not added
    assert "请发送照片" in head.last_message().text
    await head.press("✅ 提交")
    assert "附 1 张照片" in head.last_message().text
    assert await _report_texts(bot_stage) == ["门窗加固，排水沟已疏通\n另外沙袋已就位\n配电房已检查"]


async def _album(stage: Stage, head: SimUser, album: str, pages: int, caption: str | None = None) -> None:
    """An album as Telegram delivers it, one message a page, the caption on the first."""
    for page in range(pages):
        sizes = store_photo(stage.sandbox.world, make_jpeg(320, 240, 60 + page))
        said = caption if page == 0 else None
        await head._post(None, "photo", False, photo=sizes, caption=said, caption_raw=said, media_group_id=album)
    await stage.sandbox.settle()


async def test_an_album_is_answered_once_with_its_whole_count(bot_stage: Stage) -> None:
    """A captioned 3-photo album was answered "已记下，已附 1 张照片" (its first page) and the submit then said 3: the
    answer is now edited as the pages arrive. The same for an album without words, and one at the photo step."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.press("📝 报告落实情况", containing(head, HEAT)[0])
    before = len(head.messages())
    await _album(bot_stage, head, "alb-1", 3, caption="门窗加固完成，转移老人12名")
    answers = head.messages()[before:]
    assert [m.text for m in answers] == ["已记下，已附 3 张照片。可继续发送照片（最多 9 张），或点“✅ 提交”。"]
    await _album(bot_stage, head, "alb-2", 2)
    answers = head.messages()[before:]
    assert [m.text for m in answers][1:] == ["已收到 5 张照片（最多 9 张）。可继续发送，或点“✅ 提交”。"]
    await head.press("✅ 提交")
    assert "附 5 张照片" in head.last_message().text

    await head.press("📝 报告落实情况", containing(head, HEAT)[0])
    before = len(head.messages())
    await _album(bot_stage, head, "alb-3", 2)  # photos first, the words asked for
    assert [m.text for m in head.messages()[before:]] == ["照片已收到（2 张）。请再用几句话写明落实情况。"]


async def test_lang_in_the_middle_of_the_step_asks_it_again_and_the_copy_is_one_language(bot_stage: Stage) -> None:
    """/lang in the step said "please answer the question above" under a Chinese question, and the warning's copy,
    marked at submit, came out with a Chinese body under an English line and English buttons (and stayed so after
    switching back)."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.press("📝 报告落实情况", containing(head, HEAT)[0])
    await head.send_text("/lang")
    await head.press("English")
    asked = head.last_message()
    assert asked.text.startswith("📝 Report what was done:") and "street patrols" in asked.text
    assert asked.buttons == [["Cancel"]]
    await head.send_text("Street patrol 20:00-22:00, 3 homeless people helped")
    await head.send_text("/lang")
    await head.press("中文")
    asked = head.last_message()
    assert asked.text.startswith("已记下") and ["✅ 提交", "取消"] in asked.buttons
    await head.send_text("/lang")
    await head.press("English")
    await head.press("✅ Submit")
    assert "Recorded what was done under the" in head.last_message().text
    # The copy keeps the language it was written in, its new line and buttons too.
    copy = containing(head, HEAT)[0]
    assert "确认收到并落实" in copy.text and "有效期至" in copy.text and "Confirmed" not in copy.text
    assert copy.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]


async def test_an_answer_pressed_after_lang_keeps_the_copy_in_its_own_language(bot_stage: Stage) -> None:
    """✅ pressed on a Chinese copy after /lang English edited it into a Chinese body under an English line and
    English buttons. The popup is in the language the head reads now; the copy keeps the one it was written in."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.send_text("/lang")
    await head.press("English")
    copy = containing(head, HEAT)[0]
    await head.press("✅ 已收到并落实", copy)
    assert "Confirmed: received and acting" in (head.answers()[-1].text or "")
    assert "确认收到并落实" in copy.text and "Confirmed" not in copy.text
    assert copy.buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]]


async def test_a_photo_under_a_warning_is_offered_as_what_was_done_too(bot_stage: Stage) -> None:
    """A head's photo captioned "沙袋已堆好" under the warning was offered only as a hazard report, while their typed
    text was offered as 落实情况. Now both are offered; 📝 作为落实情况 starts the step with the photo and its
    caption as the words."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.send_photo(caption="沙袋已堆好，门窗已加固")
    offer = head.last_message()
    assert "这张照片是您在高温橙色预警下的落实情况吗" in offer.text
    assert offer.buttons == [["📝 作为落实情况"], ["📷 上报隐患", "取消"]]
    await head.press("📝 作为落实情况", offer)
    assert "已记下，已附 1 张照片" in offer.text and ["✅ 提交", "取消"] in offer.buttons
    await head.press("✅ 提交")
    assert "附 1 张照片" in head.last_message().text
    reports = await bot_stage.services.storage.warning_reports.of_warning(1)
    assert [(r.text, len(r.photos)) for r in reports] == [("沙袋已堆好，门窗已加固", 1)]

    # Without a caption the words are asked for, the photo kept; pressed again, the offer is gone.
    await head.send_photo(caption=None)
    offer = head.last_message()
    take = offer.button_data[0][0]
    assert take is not None
    await head.press("📝 作为落实情况", offer)
    assert "已附上这张照片，作为落实情况" in offer.text
    assert head.last_message().text.startswith("📝 报告落实情况：高温橙色预警")
    await head.send_text("午间巡查一次，补水点正常")
    assert "已记下，已附 1 张照片" in head.last_message().text
    await head.press_data(offer, take)
    assert "这个上报提示已失效" in (head.answers()[-1].text or "")
    await head.press("✅ 提交")
    assert (await _report_texts(bot_stage))[-1] == "午间巡查一次，补水点正常"

    # A head the warning never reached is refused, and the press audited.
    outsider = bot_stage.sandbox.user(user_id=41, first_name="李", last_name="院长", language_code="zh-hans")
    await bot_stage.register(outsider, Role.HEAD, institution=HOME)
    await outsider.send_photo(caption="消防通道堆放杂物")
    assert outsider.last_message().buttons[0] != ["📝 作为落实情况"]  # no warning of theirs: the usual offer
    await outsider.press_data(outsider.last_message(), "wr:photo:1:1")
    assert "这条预警不是发给您的" in (outsider.answers()[-1].text or "")
    assert len(await bot_stage.services.storage.audit.list(action_prefix="authz.refused")) == 1


async def test_the_newest_of_many_offered_texts_is_kept_and_the_oldest_let_go(bot_stage: Stage) -> None:
    """Eleven texts typed in a row (a night's patrol notes): the bot keeps the newest ten offers waiting. The last
    one typed, the one on screen, records; the first one's button says it is gone rather than recording it."""
    _, head, _ = await _heat_warning(bot_stage)
    questions = []
    for hour in range(11):
        await head.send_text(f"{hour + 8}点巡查完成，老人均已补水，情况正常")
        questions.append(head.last_message())
    await head.press("📝 记为落实情况", questions[-1])
    assert "第 1 次报告" in questions[-1].text
    assert await _report_texts(bot_stage) == ["18点巡查完成，老人均已补水，情况正常"]
    await head.press("📝 记为落实情况", questions[0])
    assert await _report_texts(bot_stage) == ["18点巡查完成，老人均已补水，情况正常"]
    await head.press("📝 记为落实情况", questions[1])
    assert (await _report_texts(bot_stage))[-1] == "9点巡查完成，老人均已补水，情况正常"


async def test_the_newer_of_two_offered_texts_pressed_first_records_the_newer(bot_stage: Stage) -> None:
    """Pressed out of order (the newer question first, as it is the one on screen), each records the text its own
    question quotes; 不是 under the newer leaves the older waiting."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.send_text("夜间值班已安排两人")
    older = head.last_message()
    await head.send_text("发电机试机正常")
    newer = head.last_message()
    await head.press("📝 记为落实情况", newer)
    assert await _report_texts(bot_stage) == ["发电机试机正常"]
    await head.press("📝 记为落实情况", older)
    assert await _report_texts(bot_stage) == ["发电机试机正常", "夜间值班已安排两人"]

    await head.send_text("柴油已备足三天用量")
    kept = head.last_message()
    await head.send_text("请问下个月的培训在哪里举行")
    question = head.last_message()
    await head.press("不是", question)
    await head.press("📝 记为落实情况", kept)
    assert (await _report_texts(bot_stage))[-1] == "柴油已备足三天用量"
