"""Photo steps from a cadre's phone: typing "没有照片" where a photo is asked for, and a photo sent before /report.

Each step answers under its own buttons ("无照片" before a photo, "完成" after): a guide that names a button the
person cannot see is a dead end on a phone. A photo sent first is offered for a report, not dropped."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import HazardState
from bot.domain.roles import Role
from bot.sandbox.content import store_photo
from bot.sandbox.driver import SimUser
from bot.sandbox.media import make_jpeg
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import cast
from tests.test_report import CODE, FIRE_EXIT_BLOCKED, HOME_ZH, cadre_and_head, report_in_chinese, to_the_description

NO_PHOTO_BUTTONS = [["无照片"], ["取消"]]
DONE_BUTTONS = [["完成"], ["取消"]]
OFFER_BUTTONS = [["📝 上报隐患", "取消"]]


async def to_the_photos(cadre: SimUser) -> None:
    await to_the_description(cadre)
    await cadre.send_text(FIRE_EXIT_BLOCKED)


async def described_in_english(cadre: SimUser) -> None:
    """After /report in English: the welfare home, fire, general and a description; the photo step is next."""
    await cadre.press("Lucheng District Social Welfare Home")
    await cadre.press("Fire")
    await cadre.press("General")
    await cadre.send_text("Fire exit blocked by furniture")


# ---- typed "no photo" at the report's photo step ------------------------------------------------------------


async def test_typing_no_photo_at_the_photo_step_goes_on_as_the_button_does(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_photos(cadre)
    assert cadre.last_message().buttons == NO_PHOTO_BUTTONS
    await cadre.send_text("没有照片")
    assert cadre.reply_keyboard() == [["📍 发送当前位置"], ["跳过"]]  # the location step: no dead end
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "照片：0 张" in cadre.last_message().text


async def test_a_guide_at_the_photo_step_carries_the_buttons_it_names(bot_stage: Stage) -> None:
    """Text that is not an answer is guided under the step's buttons: 无照片 before a photo, 完成 after one."""
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_photos(cadre)
    await cadre.send_text("照片等会儿发")
    guide = cadre.last_message()
    assert "没有照片请点“无照片”" in guide.text and guide.buttons == NO_PHOTO_BUTTONS
    await cadre.send_sticker()
    assert cadre.last_message().buttons == NO_PHOTO_BUTTONS
    await cadre.send_photo()
    await cadre.send_text("好了吗")
    guide = cadre.last_message()
    assert "已收到 1 张照片" in guide.text and "点“完成”" in guide.text and guide.buttons == DONE_BUTTONS
    await cadre.send_text("跳过")  # no more photos: the one sent is kept
    assert cadre.reply_keyboard() == [["📍 发送当前位置"], ["跳过"]]
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "照片：1 张" in cadre.last_message().text


async def test_typing_no_photo_in_english_goes_on_too(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    await cadre.send_text("/report")
    await described_in_english(cadre)
    await cadre.send_text("No photo")
    assert cadre.reply_keyboard() == [["📍 Share my location"], ["Skip"]]


async def test_corrected_on_the_spot_cannot_be_skipped_by_typing_and_has_a_way_back(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await report_in_chinese(cadre, area="用电", description="配电箱门未关，已当场关闭上锁")
    await cadre.press("✔ 已立查立改（附整改后照片）")
    assert cadre.last_message().buttons == [["↩ 返回核对"], ["取消"]]
    await cadre.send_text("无")
    refused = cadre.last_message()
    assert "不能跳过" in refused.text and "返回核对" in refused.text
    assert refused.buttons == [["↩ 返回核对"], ["取消"]]
    await cadre.press("↩ 返回核对", refused)
    summary = cadre.last_message()
    assert "机构：鹿城区社会福利院" in summary.text and "立查立改：" not in summary.text
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    hazard = await bot_stage.services.storage.hazards.get_by_code(code.group(0))
    assert hazard is not None and hazard.state is HazardState.ASSIGNED  # reported as it stands, not as fixed


async def test_a_drill_needs_its_photo_and_typing_none_says_so(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-10）")
    await head.send_text("30")
    await head.send_text("40")
    await head.send_text("夜间火灾疏散")
    await head.send_text("没有照片")
    refused = head.last_message()
    assert "不能跳过" in refused.text and refused.buttons == [["取消"]]  # no 完成 to press before a photo
    await head.send_photo()
    await head.send_text("照片就这些")
    guide = head.last_message()
    assert "已收到 1 张照片" in guide.text and guide.buttons == DONE_BUTTONS
    await head.send_text("完成")
    assert "发现了哪些问题" in head.last_message().text


async def test_typing_skip_at_the_self_inspection_photo_skips_it(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/selfcheck")
    await head.press("❌ 不合格")
    await head.send_text("三楼西侧烟感报警器不响")
    assert head.last_message().buttons[0] == ["跳过照片"]
    await head.send_text("跳过")
    assert "严重程度" in head.last_message().text


# ---- a photo sent before /report ------------------------------------------------------------------------------


async def test_a_photo_sent_first_is_offered_and_starts_the_report_with_it_after_a_restart(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_photo()
    offer = cadre.last_message()
    assert offer.text == "要用这张照片上报隐患吗？" and offer.buttons == OFFER_BUTTONS
    evidence = bot_stage.settings.evidence_dir
    assert not [path for path in evidence.glob("**/*") if path.is_file()]  # no bytes kept before it is used
    await bot_stage.restart()
    await cadre.press("📝 上报隐患", offer)
    assert "已附上这张照片" in offer.text
    assert "隐患在哪个机构" in cadre.last_message().text
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.press("较大")
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    asked = cadre.last_message()
    assert "已附上您先前发送的 1 张照片" in asked.text and asked.buttons == DONE_BUTTONS
    await cadre.send_photo()  # more may still be added
    assert "已收到第 2 张照片" in cadre.last_message().text
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "照片：2 张" in cadre.last_message().text
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    storage = bot_stage.services.storage
    hazard = await storage.hazards.get_by_code(code.group(0))
    assert hazard is not None
    photos = await storage.hazards.photos(hazard.id)
    assert len(photos) == 2 and all(bot_stage.services.evidence.exists(p.sha256) for p in photos)


async def test_an_album_sent_first_is_one_offer_of_all_its_photos(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    world = bot_stage.sandbox.world
    for page in range(3):
        sizes = store_photo(world, make_jpeg(320, 240, 70 + page))
        await cadre._post(None, "photo", False, photo=sizes, caption=None, caption_raw=None, media_group_id="alb-9")
    await bot_stage.sandbox.settle()
    offers = [m for m in cadre.messages() if "上报隐患吗" in m.text]
    assert len(offers) == 1 and offers[0].text == "要用这 3 张照片上报隐患吗？"
    await cadre.press("📝 上报隐患", offers[0])
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.press("较大")
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    assert "已附上您先前发送的 3 张照片" in cadre.last_message().text


async def test_a_declined_offer_forgets_the_photo_and_its_buttons_say_so_after(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_photo()
    offer = cadre.last_message()
    report_data = offer.button_data[0][0]
    assert report_data is not None
    await cadre.press("取消", offer)
    assert offer.text == "好的，不上报。照片未保存。" and offer.buttons == []
    draft = await bot_stage.services.hazards.load_draft(cadre.id)
    assert draft is None or draft.offer is None
    pressed = await cadre.press_data(offer, report_data)
    assert pressed.answer is not None and "已失效" in (pressed.answer.text or "")
    # An older offer's button, once a photo sent later replaced it, says the same and starts nothing.
    await cadre.send_photo()
    first = cadre.last_message()
    first_data = first.button_data[0][0]
    bot_stage.clock.advance(timedelta(hours=2))
    await cadre.send_photo()
    assert cadre.last_message().text == "要用这张照片上报隐患吗？"
    assert first_data is not None
    pressed = await cadre.press_data(first, first_data)
    assert pressed.answer is not None and "已失效" in (pressed.answer.text or "")
    assert "隐患在哪个机构" not in cadre.last_message().text


async def test_cancel_typed_in_english_or_sent_as_a_command_declines_a_cadres_offer(bot_stage: Stage) -> None:
    """The report offer ends at "Cancel" typed (in either language) or /cancel, as at its 取消 button: the next
    photo is offered on its own, not as the second of the cancelled one."""
    cadre, _ = await cadre_and_head(bot_stage)
    for cancel in ("cancel", "/cancel"):
        await cadre.send_photo()
        offer = cadre.last_message()
        assert offer.buttons == OFFER_BUTTONS
        await cadre.send_text(cancel)
        assert cadre.last_message().text == "已取消。", cancel
        assert offer.text == "好的，不上报。照片未保存。" and offer.buttons == [], cancel
    await cadre.send_photo()
    assert cadre.last_message().text == "要用这张照片上报隐患吗？"


async def test_someone_who_cannot_report_keeps_the_plain_answer(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    # A cadre account without a region is misconfigured: /report offers them no institution, so neither does this.
    await bot_stage.services.storage.db.execute("UPDATE users SET region_code = NULL WHERE telegram_id = ?",
                                                (cadre.id,))
    await cadre.send_photo()
    assert cadre.last_message().text == "没有看懂这条消息。请使用菜单中的命令，或发送 /help 查看帮助。"
    await cadre.send_text("你好")
    assert cadre.last_message().text == "没有看懂这条消息。请使用菜单中的命令，或发送 /help 查看帮助。"


async def test_text_outside_a_journey_is_told_how_to_report_and_a_secret_is_still_refused(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("三楼有个插座冒烟了")
    assert cadre.last_message().text.startswith("上报隐患请发送 /report，查看待办请发送 /tasks。")
    await cadre.send_text("机密★ 内部名单")
    assert "机密" in cadre.last_message().text and "/report" not in cadre.last_message().text
    staff = bot_stage.sandbox.user(user_id=301, first_name="市", language_code="zh-hans")
    await bot_stage.register(staff, Role.CITY)
    await staff.send_text("帮我看看")
    assert staff.last_message().text.startswith("上报隐患请发送 /report")


async def test_cancelling_an_older_offer_keeps_the_photo_offered_since(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_photo()
    first = cadre.last_message()
    decline = first.button_data[0][1]
    assert decline is not None and decline.startswith("rp:decline:")
    bot_stage.clock.advance(timedelta(hours=2))
    await cadre.send_photo()
    pressed = await cadre.press_data(first, decline)
    assert pressed.answer is not None and "已失效" in (pressed.answer.text or "")
    draft = await bot_stage.services.hazards.load_draft(cadre.id)
    assert draft is not None and draft.offer is not None and len(draft.offer.photos) == 1


async def test_an_offer_keeps_the_largest_size_of_a_photo_and_no_more_than_nine_photos(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    for _ in range(10):
        await cadre.send_photo()
    assert cadre.last_message().text.startswith("最多只能上传 9 张照片")
    draft = await bot_stage.services.hazards.load_draft(cadre.id)
    assert draft is not None and draft.offer is not None and len(draft.offer.photos) == 9
    for photo in draft.offer.photos:
        stored = bot_stage.sandbox.world.files.get(photo.file_id)
        assert stored is not None and stored.width == 320  # the photo, not its 90-pixel thumbnail


# ---- "no" typed at the location step, and the no-photo answer acknowledged ----------------------------------


async def test_no_photo_is_acknowledged_and_typing_it_again_at_the_location_is_no_address(bot_stage: Stage) -> None:
    """The audit's cadre: "无" at the photo step, then, unsure it was taken, "没有照片" again, which became the
    hazard's address for everyone. The location question now opens with 好的，不附照片。 and a typed "no" skips it."""
    cadre, head = await cadre_and_head(bot_stage)
    await to_the_photos(cadre)
    await cadre.send_text("无")
    asked = cadre.last_message()
    assert asked.text.startswith("好的，不附照片。\n隐患位置：")
    assert cadre.reply_keyboard() == [["📍 发送当前位置"], ["跳过"]]
    before = len(cadre.messages())
    await cadre.send_text("没有照片")
    said = [message.text for message in cadre.messages()[before:]]
    assert said[0] == "已跳过位置。" and said[-1].startswith("隐患是在哪一级检查中发现的"), said
    await cadre.press("互查")
    summary = cadre.last_message().text
    assert "位置：未提供" in summary and "没有照片" not in summary
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    hazard = await bot_stage.services.storage.hazards.get_by_code(code.group(0))
    assert hazard is not None and hazard.address_text is None
    before = len(head.messages())
    await head.send_text(f"/hazard {code.group(0)}")
    assert not any("地址：" in message.text for message in head.messages()[before:])


async def test_the_no_photos_button_is_acknowledged_alike_and_other_no_answers_skip_the_location(
    bot_stage: Stage,
) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    for typed in ("不知道", "跳过。", "None"):
        await to_the_photos(cadre)
        await cadre.press("无照片")
        assert cadre.last_message().text.startswith("好的，不附照片。\n隐患位置：")
        await cadre.send_text(typed)
        await cadre.press("互查")
        assert "位置：未提供" in cadre.last_message().text, typed
        await cadre.press("取消")
    # An address is still an address, even one that starts like a "no".
    await to_the_photos(cadre)
    await cadre.send_photo()
    await cadre.send_text("完成")  # with a photo: no "no photos" to acknowledge
    assert cadre.last_message().text.startswith("隐患位置：")
    await cadre.send_text("没有门牌号的那栋楼，一层")
    await cadre.press("互查")
    assert "位置：没有门牌号的那栋楼，一层" in cadre.last_message().text


async def test_no_photo_and_no_location_typed_in_english(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    await cadre.send_text("/report")
    await described_in_english(cadre)
    await cadre.send_text("none")
    assert cadre.last_message().text.startswith("OK, no photos.\nWhere is it?")
    await cadre.send_text("No photo")
    assert "Location skipped." in [message.text for message in cadre.messages()[-3:]]
    await cadre.press("Cross-check")
    summary = cadre.last_message().text
    assert "Location: not given" in summary and "No photo" not in summary, summary


# ---- /report typed after photos were offered ------------------------------------------------------------------


async def test_report_typed_after_photos_takes_them_and_the_offer_is_used(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_photo()
    await cadre.send_photo()
    offer = cadre.last_message()
    assert offer.text == "要用这 2 张照片上报隐患吗？" and offer.buttons == OFFER_BUTTONS
    report_data = offer.button_data[0][0]
    assert report_data is not None
    await cadre.send_text("/report")
    assert offer.text == "好的，已附上 2 张照片，开始上报隐患。" and offer.buttons == []  # used, as a press would
    assert "隐患在哪个机构" in cadre.last_message().text
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.press("较大")
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    asked = cadre.last_message()
    assert "已附上您先前发送的 2 张照片" in asked.text and asked.buttons == DONE_BUTTONS
    # The old button, pressed from a client that missed the edit, is told why and starts nothing.
    pressed = await cadre.press_data(offer, report_data)
    assert pressed.answer is not None and "已开始新的上报" in (pressed.answer.text or "")
    assert cadre.last_message().text == asked.text
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "照片：2 张" in cadre.last_message().text
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    storage = bot_stage.services.storage
    hazard = await storage.hazards.get_by_code(code.group(0))
    assert hazard is not None
    photos = await storage.hazards.photos(hazard.id)
    assert len(photos) == 2 and all(bot_stage.services.evidence.exists(p.sha256) for p in photos)


async def test_report_typed_after_an_offer_older_than_an_hour_or_declined_starts_without_it(
    bot_stage: Stage,
) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_photo()
    old = cadre.last_message()
    bot_stage.clock.advance(timedelta(hours=2))
    await cadre.send_text("/report")
    assert old.text == "要用这张照片上报隐患吗？"  # left as it was
    pressed = await cadre.press("📝 上报隐患", old)
    assert pressed.answer is not None and "已失效" in (pressed.answer.text or "")
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.press("较大")
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    assert cadre.last_message().buttons == NO_PHOTO_BUTTONS  # no photo came with it
    await cadre.send_text("/cancel")
    await cadre.send_photo()
    await cadre.press("取消", cadre.last_message())
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.press("较大")
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    assert cadre.last_message().buttons == NO_PHOTO_BUTTONS


async def test_report_typed_after_an_album_in_english_takes_it(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    world = bot_stage.sandbox.world
    for page in range(3):
        sizes = store_photo(world, make_jpeg(320, 240, 90 + page))
        await cadre._post(None, "photo", False, photo=sizes, caption=None, caption_raw=None, media_group_id="alb-e")
    await bot_stage.sandbox.settle()
    offer = next(m for m in cadre.messages() if "Report a hazard" in m.text)
    await cadre.send_text("/report")
    assert offer.text == "OK: 3 photos attached. Let us report the hazard." and offer.buttons == []
    await described_in_english(cadre)
    assert "3" in cadre.last_message().text and cadre.last_message().buttons[0] == ["Done"]
