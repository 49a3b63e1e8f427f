"""Classified content is refused before anything keeps it (DOMAIN.md, secrecy)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.roles import Role
from bot.domain.secrecy import find_classification_mark
from bot.stage import Stage


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("秘密★1年 关于防汛值班的通知", "秘密"),
        ("★机密 人员名单", "机密"),
        ("机 密 ★ 10年", "机密"),
        ("【秘密】会议纪要", "秘密"),
        ("绝密", "绝密"),
        ("这是一份机密文件，请勿外传", "机密"),
        ("附件：涉密资料清单", "涉密"),
        ("秘\u200b密★启用前", "秘密"),
        ("机密\n第三季度检查结果", "机密"),
        # Invisible characters inside a mark, as pasted or typed to slip past a filter: a soft hyphen, a combining
        # grapheme joiner, a variation selector, a word joiner, a Hangul filler, a tag character.
        ("秘\u00ad密★1年", "秘密"),
        ("机\u034f密文件", "机密"),
        ("绝\ufe0f密", "绝密"),
        ("【机\u2063密】", "机密"),
        ("秘\u3164密★", "秘密"),
        ("机\U000e0041密★10年", "机密"),
    ],
)
def test_classification_marks_are_recognised(text: str, level: str) -> None:
    assert find_classification_mark(text) == level


@pytest.mark.parametrize(
    "text",
    ["保密工作要常抓不懈", "网络安全要保证数据的机密性和完整性", "孩子说想告诉老师一个小秘密", "消防通道堵塞", ""],
)
def test_ordinary_safety_talk_passes(text: str) -> None:
    assert find_classification_mark(text) is None


async def test_a_classified_message_is_refused_with_the_rule_and_audited_without_content(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    cadre = sandbox.user(user_id=20, first_name="C", language_code="zh-hans")
    await bot_stage.register(cadre, Role.CADRE, region="330302")
    await cadre.send_text("秘密★1年 关于鹿城区防汛人员的内部名单")
    reply = cadre.last_message().text
    assert "密级标识“秘密”" in reply and "严禁通过微信、QQ、浙政钉" in reply
    await cadre.send_photo(caption="机密★ 现场照片")
    assert "密级标识“机密”" in cadre.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert [event.detail["mark"] for event in audit] == ["秘密", "机密"]
    assert all("防汛" not in str(event.detail) and "现场" not in str(event.detail) for event in audit)


async def test_classified_text_from_strangers_and_in_groups_is_refused_too(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    stranger = sandbox.user(user_id=21, first_name="S", language_code="en")
    await stranger.send_text("TOP: 绝密 plan")
    assert "classification mark “绝密”" in stranger.last_message().text

    staff = sandbox.user(user_id=22, first_name="县")
    await bot_stage.register(staff, Role.COUNTY, region="330302")
    group = sandbox.group(chat_id=-2001, title="工作群", bot_status="administrator")
    group.add(staff)
    await staff.send_text("/bindgroup", chat=group)
    await staff.press("鹿城区", chat=group)
    await staff.press("综合（全部通知）", chat=group)
    posted = await staff.send_text("机密★ 值班表", chat=group)
    assert "密级标识“机密”" in staff.last_message(chat=group).text
    assert sandbox.calls_to("deleteMessage")[-1].params["message_id"] == posted.message_id


async def test_the_rest_of_an_album_whose_caption_is_classified_is_refused_too(bot_stage: Stage) -> None:
    """An album of photos of a classified document carries its caption on the first photo only: the guard refused
    that one, and the other pages were kept in the report and their bytes downloaded into the evidence folder."""
    from bot.sandbox.content import store_photo
    from bot.sandbox.media import make_jpeg
    from tests.test_report import cadre_and_head, to_the_description

    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("三楼走廊堆放杂物，堵塞消防通道")
    world, album = bot_stage.sandbox.world, "album-1"
    for page in range(3):
        sizes = store_photo(world, make_jpeg(320, 240, 90 + page))
        caption = "机密★ 内部名单" if page == 0 else None
        await cadre._post(None, "photo", False, photo=sizes, caption=caption, caption_raw=caption,
                          media_group_id=album)
    await bot_stage.sandbox.settle()
    refusals = [m.text for m in cadre.messages() if "密级标识“机密”" in m.text]
    assert len(refusals) == 1  # said once for the album, not once a page
    assert not any("已收到第" in m.text for m in cadre.messages()), [m.text for m in cadre.messages()[-4:]]
    assert not any(bot_stage.settings.evidence_dir.glob("**/*.jpg"))
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert len(audit) == 3 and all(event.detail["mark"] == "机密" for event in audit)
    # A later photo of the same cadre, not in that album, is taken as usual.
    await cadre.send_photo()
    assert "已收到第 1 张" in cadre.last_message().text


async def test_an_album_refused_for_its_caption_stays_refused_across_a_restart(bot_stage: Stage) -> None:
    """The guard remembered a refused album in the process only: a bot restarted between an album's first photo
    (the classified caption) and its other pages forgot it, and kept those pages as the report's photos, their bytes
    as evidence. The album is now remembered in SQLite (`claims`), under its mark's level, never the caption."""
    from bot.domain.secrecy import find_classification_mark
    from bot.sandbox.content import store_photo
    from bot.sandbox.media import make_jpeg
    from tests.test_report import cadre_and_head, to_the_description

    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("三楼走廊堆放杂物，堵塞消防通道")
    world, album = bot_stage.sandbox.world, "album-2"

    async def page(number: int) -> None:
        sizes = store_photo(world, make_jpeg(320, 240, 90 + number))
        caption = "秘密★1年 内部名单" if number == 0 else None
        await cadre._post(None, "photo", False, photo=sizes, caption=caption, caption_raw=caption,
                          media_group_id=album)
        await bot_stage.sandbox.settle()

    await page(0)
    kept = await bot_stage.services.storage.db.fetchall("SELECT * FROM claims")
    assert not any(find_classification_mark(str(value)) for row in kept for value in tuple(row))
    await bot_stage.restart()
    await page(1)
    await page(2)
    assert not any("已收到第" in m.text for m in cadre.messages()), [m.text for m in cadre.messages()[-4:]]
    assert not any(bot_stage.settings.evidence_dir.glob("**/*.jpg"))
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert len(audit) == 3 and all(event.detail["mark"] == "秘密" for event in audit)
    assert len([m for m in cadre.messages() if "密级标识“秘密”" in m.text]) == 1

    bot_stage.clock.advance(timedelta(minutes=11))  # long after: the same album id is not held against anyone
    await cadre.send_photo()
    assert "已收到第 1 张" in cadre.last_message().text


async def test_an_edited_message_is_checked_for_marks_but_never_taken_as_an_answer(bot_stage: Stage) -> None:
    """Telegram sends an edit of any earlier message as an update of its own. A cadre at the description step who
    corrected a typo in an older message had that message taken as the hazard's description; at the photo step
    each edit was answered "this step, send photos". Now the edit is read by the secrecy guard, then only answered."""
    from tests.test_report import cadre_and_head, to_the_description

    cadre, _ = await cadre_and_head(bot_stage)
    hello = await cadre.send_text("你好，我是新来的网格员")
    await to_the_description(cadre)
    await cadre.edit_text(hello, "你好，我是新来的网格员李娜，负责南汇街道")
    assert "修改过的消息不会被当作回答" in cadre.last_message().text
    description = await cadre.send_text("三楼走廊堆放杂物，堵塞消防通道")
    assert "请发送现场照片" in cadre.last_message().text
    await cadre.edit_text(description, "三楼走廊堆放杂物，堵塞消防通道和安全出口")
    assert "修改过的消息不会被当作回答" in cadre.last_message().text

    # The secrecy guard still reads every edit: a mark added afterwards is refused and audited.
    await cadre.edit_text(hello, "秘密★1年 防汛人员名单")
    assert "密级标识“秘密”" in cadre.last_message().text
    assert [event.detail["mark"] for event in await bot_stage.services.storage.audit.list(
        action_prefix="secrecy.")] == ["秘密"]
    await cadre.press("无照片")
    assert "位置" in cadre.last_message().text
    draft = await bot_stage.services.storage.db.fetchone("SELECT data FROM report_drafts WHERE telegram_id = 100")
    assert draft is not None
    assert "三楼走廊堆放杂物，堵塞消防通道\"" in draft["data"], draft["data"]


async def test_classified_text_at_a_step_is_refused_with_word_that_the_step_waits_and_its_cancel(
    bot_stage: Stage,
) -> None:
    """The guard refuses before any journey sees the text, so the journey's own "type it again" answer, and its
    Cancel, never come: the refusal itself says the step is still waiting, and carries the step's Cancel button."""
    from tests.test_report import cadre_and_head, to_the_description

    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("秘密★1年 关于防汛值班的通知")
    assert "仍在等待" not in cadre.last_message().text  # nothing is waiting: the refusal alone
    assert cadre.last_message().buttons == []
    await to_the_description(cadre)
    await cadre.send_text("机密 三楼走廊堆放杂物，堵塞消防通道")
    refused = cadre.last_message()
    assert "密级标识“机密”" in refused.text
    assert refused.text.endswith("您正在进行的操作仍在等待回复：请去掉密级标识后重新发送；如不再继续，请点“取消”。")
    assert refused.buttons == [["取消"]]
    await cadre.press("取消")
    assert cadre.last_message().text == "已取消上报，草稿已删除。"
    assert await bot_stage.services.hazards.load_draft(cadre.id) is None


async def test_the_figures_range_step_has_its_cancel_under_its_question_and_under_a_refusal(bot_stage: Stage) -> None:
    """/stats' custom range asks for text like any step, so it has a Cancel button as they do; a classified range
    is refused with it too, in English."""
    from tests.hazard_people import cast

    staff = (await cast(bot_stage, "en")).staff
    await staff.send_text("/stats")
    await staff.press("Custom range…")
    assert staff.last_message().buttons == [["Cancel"]]
    await staff.send_text("2026-13-01 2026-12-31")
    assert "could not read" in staff.last_message().text and staff.last_message().buttons == [["Cancel"]]
    await staff.send_text("绝密 2026-01-01 2026-03-31")
    refused = staff.last_message()
    assert refused.text.endswith("send it again without the classification mark, or press Cancel to stop.")
    assert refused.buttons == [["Cancel"]]
    await staff.press("Cancel", refused)
    assert staff.last_message().text == "Cancelled."
    assert refused.text == "Cancelled." and refused.buttons == []  # the pressed Cancel does not stay behind
    await staff.send_text("2026-01-01 2026-03-31")
    assert "could not read" not in staff.last_message().text and "2026-01-01" not in staff.last_message().text


async def test_every_guard_has_a_handler_group_of_its_own(bot_stage: Stage) -> None:
    """In a handler group only the first handler that accepts an update runs: a guard sharing a group with another
    would silently switch that one off (the edit guard once did so to the journey switch)."""
    guards = {group: handlers for group, handlers in bot_stage.application.handlers.items() if group < 0}
    assert all(len(handlers) == 1 for handlers in guards.values()), guards


async def test_every_journey_that_takes_cancel_has_a_cancel_button_for_the_refusal(bot_stage: Stage) -> None:
    """The refusal of a classified answer offers the waiting journey's Cancel button, found among its fallbacks: a
    journey whose /cancel has no button beside it would leave the person with the command alone."""
    from telegram.ext import CommandHandler

    from handlers.conversations import cancel_button, conversations

    journeys = [
        conversation for conversation in conversations(bot_stage.application)
        if any(isinstance(h, CommandHandler) and "cancel" in h.commands for h in conversation.fallbacks)
    ]
    assert len(journeys) >= 15
    assert [journey.name for journey in journeys if cancel_button(journey) is None] == []


# A security officer's marks as people paste or type them (tests/domain/test_secrecy.py holds the full table).
REALISTIC_MARKS = [
    ("通知 机密(★5年) 台风期间转移方案：三楼老人名单见附件", "机密"),
    ("CONFIDENTIAL - evacuation list of residents, do not forward", "CONFIDENTIAL"),
    ("ＣＯＮＦＩＤＥＮＴＩＡＬ 转移名单", "CONFIDENTIAL"),
    ("TOP SECRET evacuation plan for the home", "TOP SECRET"),
    ("機密★5年 轉移方案（繁体）", "机密"),
    ("〖机密〗三楼老人转移名单", "机密"),
    ("⭐机密⭐ 三楼老人转移名单", "机密"),
    ("涉 密 文件：三楼老人转移名单", "涉密"),
    ("这是机密，请勿外传：三楼老人转移名单", "机密"),
    ("秘-密★1年 三楼老人转移名单", "秘密"),
    ("内部资料，注意保密\n三楼老人转移名单", "内部资料"),  # internal material, forbidden in chat as secrets are
]


async def test_realistic_marks_typed_as_a_description_are_refused_and_the_step_waits(bot_stage: Stage) -> None:
    """Each of these was taken as the hazard's description and the report went on to its photos. Each is now
    refused with the rule, audited by fingerprint, and the description step still waits for a text without it."""
    from tests.test_report import cadre_and_head, to_the_description

    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    for text, mark in REALISTIC_MARKS:
        await cadre.send_text(text)
        refused = cadre.last_message()
        assert f"密级标识“{mark}”" in refused.text, (text, refused.text)
        assert refused.text.endswith("请去掉密级标识后重新发送；如不再继续，请点“取消”。")
        assert refused.buttons == [["取消"]]
    draft = await bot_stage.services.storage.db.fetchone("SELECT data FROM report_drafts WHERE telegram_id = 100")
    assert draft is not None and "转移" not in draft["data"] and "evacuation" not in draft["data"]
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert sorted(event.detail["mark"] for event in audit) == sorted(mark for _, mark in REALISTIC_MARKS)
    assert not any("转移" in str(event.detail) or "evacuation" in str(event.detail) for event in audit)
    # Ordinary talk that holds the same characters is a description as any other.
    await cadre.send_text("保密室的秘密通道被杂物堵塞，密码锁损坏")
    assert "请发送现场照片" in cadre.last_message().text


async def test_realistic_marks_posted_in_a_bound_group_are_refused_and_deleted(bot_stage: Stage) -> None:
    """In a bound group these stayed up with no refusal; only the textbook 秘密★1年 was taken down."""
    from tests.hazard_people import cast

    people = await cast(bot_stage)
    people.group.set_bot_status("administrator")
    people.group.add(people.head)
    world = bot_stage.sandbox.world
    for text, mark in [("CONFIDENTIAL: list attached", "CONFIDENTIAL"), ("〖机密〗转移名单", "机密"),
                       ("機密★ 名單", "机密"), ("TOP SECRET evacuation plan", "TOP SECRET")]:
        posted = await people.head.send_text(text, chat=people.group)
        assert f"密级标识“{mark}”" in people.group.last_message().text, text
        assert world.get_message(people.group.chat_id, posted.message_id) is None, text  # taken down
    # An ordinary remark stays up, unanswered.
    kept = await people.head.send_text("机房密码箱已更换，涉密计算机已断开外网", chat=people.group)
    assert world.get_message(people.group.chat_id, kept.message_id) is not None
    assert len(await bot_stage.services.storage.audit.list(action_prefix="secrecy.")) == 4


def _evidence_files(stage: Stage) -> list[object]:
    return [path for path in stage.settings.evidence_dir.glob("**/*") if path.is_file()]


async def test_a_photo_whose_caption_carries_a_traditional_mark_is_never_offered_nor_kept(bot_stage: Stage) -> None:
    """A photo captioned 機密★1年 sent outside a journey was offered for a report (要用这张照片上报隐患吗？); reported,
    it became a hazard photo and a file in the evidence folder, with no secrecy entry in the audit trail. Now it is
    refused before the offer can keep its file id, and a photo sent next is offered alone."""
    from tests.test_report import cadre_and_head

    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_photo(caption="機密★1年 轉移名單（照片）")
    refused = cadre.last_message()
    assert "密级标识“机密”" in refused.text and refused.buttons == []
    assert not any("要用" in m.text for m in cadre.messages())
    draft = await bot_stage.services.storage.db.fetchone("SELECT data FROM report_drafts WHERE telegram_id = 100")
    assert draft is None
    await cadre.send_photo()
    assert cadre.last_message().text == "要用这张照片上报隐患吗？"  # this one alone, not "these 2 photos"
    await cadre.press("📝 上报隐患")
    assert "隐患在哪个机构" in cadre.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert [event.detail["mark"] for event in audit] == ["机密"]
    assert not any("轉移" in str(event.detail) for event in audit)


async def test_a_heads_after_photo_with_a_mark_is_not_offered_as_a_fix(bot_stage: Stage) -> None:
    """The after-photo offer (📤 提交整改 YH-…) is the same path: a captioned mark is refused there too, and at the
    rectification's own step the measures typed with a mark are refused while the step waits."""
    from tests.hazard_people import cast, report

    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    head = people.head
    await head.send_photo(caption="絕密 整改方案附件")
    assert "密级标识“绝密”" in head.last_message().text
    assert not any(f"提交整改 {hazard.code}" in label for m in head.messages() for row in m.buttons for label in row)
    await head.send_photo()
    offer = head.last_message()
    await head.press(f"📤 提交整改 {hazard.code}", offer)
    await head.send_text("祕密★ 已按内部方案整改")
    refused = head.last_message()
    assert "密级标识“秘密”" in refused.text and refused.buttons == [["取消"]]
    await head.send_text("已清理消防通道内的杂物")
    await head.press("完成")
    assert f"隐患 {hazard.code} 的整改已提交（照片 1 张）" in head.last_message().text
    assert len(await bot_stage.services.storage.audit.list(action_prefix="secrecy.")) == 2


async def test_a_caption_at_the_description_step_and_a_photo_in_a_bound_group_are_refused(bot_stage: Stage) -> None:
    """A photo captioned at the description step gives the report its description (and its first photo): with a
    mark, neither is kept. In a bound group a captioned photo with an English mark is taken down."""
    from tests.hazard_people import cast
    from tests.test_report import to_the_description

    people = await cast(bot_stage)
    cadre = people.cadre
    await to_the_description(cadre)
    await cadre.send_photo(caption="⭐机密⭐ 三楼走廊堆放杂物，堵塞消防通道")
    assert "密级标识“机密”" in cadre.last_message().text
    draft = await bot_stage.services.hazards.load_draft(cadre.id)
    assert draft is not None and draft.description is None and draft.photos == []
    assert not _evidence_files(bot_stage)

    people.group.set_bot_status("administrator")
    people.group.add(cadre)
    posted = await cadre.send_photo(caption="CONFIDENTIAL site photo", chat=people.group)
    assert "密级标识“CONFIDENTIAL”" in people.group.last_message().text
    assert bot_stage.sandbox.world.get_message(people.group.chat_id, posted.message_id) is None
    assert not _evidence_files(bot_stage)


async def test_a_place_picked_from_the_map_with_a_mark_in_its_name_or_address_is_refused(bot_stage: Stage) -> None:
    """A venue titled 机密★ 档案室 was accepted at the location step (📍 位置已记录) and its name kept with the
    hazard, shown to everyone who reads it. Its name and its address are read as a caption is."""
    from tests.test_report import FIRE_EXIT_BLOCKED, cadre_and_head, to_the_description
    from tests.test_report_steps import share_venue

    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    await cadre.press("无照片")
    await share_venue(cadre, title="机密★ 档案室", address="鹿城区南汇街道南塘街88号")
    refused = cadre.last_message()
    assert "密级标识“机密”" in refused.text and refused.buttons == [["取消"]]
    await share_venue(cadre, title="南塘街社区居委会", address="涉密文件存放处 鹿城区")
    assert "密级标识“涉密”" in cadre.last_message().text
    draft = await bot_stage.services.hazards.load_draft(cadre.id)
    assert draft is not None and draft.address_text is None and draft.latitude is None
    await share_venue(cadre)  # an ordinary place is taken as before, and the report goes on
    assert "哪一级检查中发现" in cadre.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert [event.detail["mark"] for event in audit] == ["机密", "涉密"]
    assert not any("档案室" in str(event.detail) or "存放处" in str(event.detail) for event in audit)


async def test_a_document_whose_file_name_or_caption_carries_a_mark_is_refused_and_audited(bot_stage: Stage) -> None:
    """A document named 机密★5年_转移方案.pdf got only 没有看懂这条消息: no refusal, no rule cited, no audit entry.
    Its name is read as a caption is, in a private chat and in a bound group (where it is taken down)."""
    from tests.hazard_people import cast

    people = await cast(bot_stage)
    cadre = people.cadre
    await cadre.send_document(b"%PDF-1.4 fake", "机密★5年_转移方案.pdf", "application/pdf")
    answer = cadre.last_message().text
    assert "密级标识“机密”" in answer and "没有看懂" not in answer
    await cadre.send_document(b"%PDF-1.4 fake", "plan.pdf", "application/pdf", caption="CONFIDENTIAL")
    assert "密级标识“CONFIDENTIAL”" in cadre.last_message().text
    await cadre.send_document(b"%PDF-1.4 fake", "消防演练方案.pdf", "application/pdf")
    assert "密级标识" not in cadre.last_message().text  # an ordinary file is answered as before

    people.group.set_bot_status("administrator")
    people.group.add(cadre)
    posted = await cadre.send_document(b"%PDF-1.4 fake", "機密★ 名單.pdf", "application/pdf", chat=people.group)
    assert "密级标识“机密”" in people.group.last_message().text
    assert bot_stage.sandbox.world.get_message(people.group.chat_id, posted.message_id) is None
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert [event.detail["mark"] for event in audit] == ["机密", "CONFIDENTIAL", "机密"]
    assert not any("转移" in str(event.detail) or "名單" in str(event.detail) for event in audit)
