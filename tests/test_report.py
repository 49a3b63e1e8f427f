"""Reporting a hazard from a phone, as a cadre would: every step, every wrong turn, a restart, a crowd."""

from __future__ import annotations

import asyncio
import re

from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.lifecycle import HazardState
from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from storage.hazard_models import PhotoKind
from storage.models import GroupPurpose

LUCHENG = "330302"
HOME = "WZ-330302-ELDER-01"
HOME_ZH, HOME_EN = "鹿城区社会福利院", "Lucheng District Social Welfare Home"
CODE = re.compile(r"YH-\d{8}-\d{4}")


async def cadre_and_head(bot_stage: Stage, language: str = "zh-hans") -> tuple[SimUser, SimUser]:
    cadre = bot_stage.sandbox.user(user_id=100, first_name="李", last_name="娜", language_code=language)
    head = bot_stage.sandbox.user(user_id=200, first_name="张", last_name="院长", language_code=language)
    await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    await bot_stage.register(head, Role.HEAD, institution=HOME)
    return cadre, head


async def bind_county_group(bot_stage: Stage) -> int:
    staff = bot_stage.sandbox.user(user_id=300, first_name="县", language_code="zh-hans")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    group = bot_stage.sandbox.group(chat_id=-5001, title="鹿城区民政安全工作群")
    group.add(staff)
    await staff.send_text("/bindgroup", chat=group)
    await staff.press("鹿城区", chat=group)
    await staff.press("隐患通知", chat=group)
    bound = await bot_stage.services.storage.groups.get(-5001)
    assert bound is not None and bound.purpose is GroupPurpose.HAZARDS
    return -5001


FIRE_EXIT_BLOCKED = "三楼走廊堆放杂物，堵塞消防通道"


async def to_the_description(cadre: SimUser, *, area: str = "用火", severity: str = "较大") -> None:
    """/report at 鹿城区社会福利院, up to the step that asks for the description."""
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press(area)
    await cadre.press(severity)


async def report_in_chinese(cadre: SimUser, *, area: str = "用火", description: str = FIRE_EXIT_BLOCKED) -> None:
    await to_the_description(cadre, area=area)
    await cadre.send_text(description)
    await cadre.send_photo()
    await cadre.press("完成")
    await cadre.send_location(28.0123, 120.6543)
    await cadre.press("互查")


async def test_a_cadre_reports_a_hazard_with_a_photo_and_a_location(bot_stage: Stage) -> None:
    cadre, head = await cadre_and_head(bot_stage)
    group_id = await bind_county_group(bot_stage)
    await report_in_chinese(cadre)
    summary = cadre.last_message().text
    assert "机构：鹿城区社会福利院" in summary and "领域：用火" in summary and "严重程度：较大" in summary
    assert "照片：1 张" in summary and "北纬 28.01230" in summary and "发现层级：互查" in summary
    await cadre.press("✅ 确认上报")
    done = cadre.last_message().text
    code = CODE.search(done)
    assert code is not None and "整改期限" in done

    storage = bot_stage.services.storage
    hazard = await storage.hazards.get_by_code(code.group(0))
    assert hazard is not None
    assert (hazard.area, hazard.severity, hazard.source_level) == (
        HazardArea.FIRE, Severity.MAJOR, SourceLevel.CROSS_CHECK)
    assert hazard.state is HazardState.ASSIGNED and hazard.assignee_id == 200
    assert hazard.latitude == 28.0123 and hazard.reporter_id == 100
    assert hazard.deadline is not None and hazard.deadline - hazard.reported_at == (
        bot_stage.settings.deadline_policy.allowed(Severity.MAJOR))
    photos = await storage.hazards.photos(hazard.id)
    assert len(photos) == 1 and bot_stage.services.evidence.exists(photos[0].sha256)
    assert bot_stage.services.evidence.read(photos[0].sha256)[:2] == b"\xff\xd8"  # the JPEG the cadre sent

    told = head.last_message()
    assert code.group(0) in told.text and "三楼走廊堆放杂物" in told.text
    assert len(told.buttons) >= 1 and any("hz:ack:" in (data or "") for row in told.button_data for data in row)
    group_post = bot_stage.sandbox.group(chat_id=group_id, title="鹿城区民政安全工作群").last_message()
    assert group_post is not None and code.group(0) in group_post.text
    assert await bot_stage.services.hazards.load_draft(100) is None  # the draft is gone once reported


async def test_an_english_report_searches_types_an_address_and_edits_a_field(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    await cadre.send_text("/report")
    await cadre.send_text("Nanhui")
    assert [row[0] for row in cadre.last_message().buttons][:1] == ["Nanhui Subdistrict Home-Care Service Centre"]
    await cadre.send_text("welfare home")
    await cadre.press(HOME_EN)
    await cadre.press("Electricity")
    await cadre.press("General")
    await cadre.send_text("Socket strip overloaded in the laundry room")
    await cadre.press("No photos")
    assert cadre.reply_keyboard() == [["📍 Share my location"], ["Skip"]]
    await cadre.send_text("Laundry room, building 2, 1st floor")
    # A cadre's own level, suggested: the county-wide check (县级全域检查 → 合力改), not an internal cross-check.
    levels = [label for row in cadre.last_message().buttons for label in row]
    assert "✓ County inspection" in levels and "Cross-check" in levels, levels
    await cadre.press("✓ County inspection")
    assert "Severity: General" in cadre.last_message().text
    assert "Location: Laundry room, building 2, 1st floor" in cadre.last_message().text
    await cadre.press("✏️ Edit")
    await cadre.press("Severity")
    await cadre.press("Serious")
    summary = cadre.last_message().text
    assert "Severity: Serious" in summary and "Description: Socket strip overloaded" in summary
    await cadre.press("✅ Confirm")
    assert "Reported as" in cadre.last_message().text
    hazards = await bot_stage.services.storage.hazards.duplicates(
        (await bot_stage.services.storage.institutions.get_by_code(HOME)).id, HazardArea.ELECTRICITY)  # type: ignore[union-attr]
    assert len(hazards) == 1 and hazards[0].severity is Severity.SERIOUS
    assert hazards[0].address_text == "Laundry room, building 2, 1st floor"


async def test_a_reporter_gives_up_with_the_cancel_under_a_refused_description(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    assert cadre.last_message().buttons == [["取消"]]  # the question, as every step that asks for text
    await cadre.send_text("短")
    refused = cadre.last_message()
    assert "请至少写 5 个字" in refused.text and refused.buttons == [["取消"]]
    await cadre.press("取消", refused)
    assert refused.text == "已取消上报，草稿已删除。"
    assert await bot_stage.services.hazards.load_draft(cadre.id) is None
    await cadre.send_text(FIRE_EXIT_BLOCKED)  # no longer a description: nothing is reported
    assert await bot_stage.services.storage.hazards.recent_institutions(cadre.id, limit=1) == []


async def test_wrong_kinds_of_input_get_guidance_and_the_flow_goes_on(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.send_text("我直接打字")
    assert "请点击上方的按钮" in cadre.last_message().text
    await cadre.press("燃气")
    await cadre.press("一般")
    await cadre.send_photo()
    assert "请先用文字描述隐患" in cadre.last_message().text and cadre.last_message().buttons == [["取消"]]
    await cadre.send_text("短")
    assert "请至少写 5 个字" in cadre.last_message().text and cadre.last_message().buttons == [["取消"]]
    await cadre.send_text("厨房燃气软管老化开裂")
    await cadre.send_text("这是文字")
    assert "这一步请发送现场照片" in cadre.last_message().text
    await cadre.send_sticker()
    assert "这一步请发送现场照片" in cadre.last_message().text
    await cadre.send_photo()
    await cadre.send_photo()
    assert "已收到第 2 张照片" in cadre.last_message().text
    await cadre.press("完成")
    await cadre.send_photo()
    assert "请点按钮发送位置" in cadre.last_message().text
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "照片：2 张" in cadre.last_message().text and "位置：未提供" in cadre.last_message().text
    await cadre.press("✅ 确认上报")
    assert CODE.search(cadre.last_message().text)


async def test_corrected_on_the_spot_goes_straight_to_verification(bot_stage: Stage) -> None:
    cadre, head = await cadre_and_head(bot_stage)
    await report_in_chinese(cadre, area="用电", description="配电箱门未关，已当场关闭上锁")
    await cadre.press("✔ 已立查立改（附整改后照片）")
    await cadre.send_text("没有照片")
    assert "请发送一张整改后的照片" in cadre.last_message().text
    await cadre.send_photo()
    assert "已收到第 1 张整改后照片" in cadre.last_message().text
    await cadre.press("完成")
    assert "立查立改：已附整改后照片 1 张" in cadre.last_message().text
    await cadre.press("✅ 确认上报")
    assert "已上报并立查立改" in cadre.last_message().text
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    hazard = await bot_stage.services.storage.hazards.get_by_code(code.group(0))
    assert hazard is not None and hazard.state is HazardState.AWAITING_VERIFICATION
    assert not any(code.group(0) in message.text for message in head.messages())


async def test_after_photos_sent_as_an_album_are_all_kept(bot_stage: Stage) -> None:
    """Three after-photos sent at once (an album): each is kept, none is answered with "use the buttons"."""
    cadre, _ = await cadre_and_head(bot_stage)
    await report_in_chinese(cadre, area="用电", description="配电箱门未关，已当场关闭上锁")
    await cadre.press("✔ 已立查立改（附整改后照片）")
    asked = len(cadre.messages())
    for _ in range(3):
        await cadre.send_photo(wait=False)
    await bot_stage.sandbox.settle()
    answers = [message.text for message in cadre.messages()[asked:]]
    assert not any("按钮" in text for text in answers), answers
    await cadre.press("完成")
    assert "立查立改：已附整改后照片 3 张" in cadre.last_message().text
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    hazard = await bot_stage.services.storage.hazards.get_by_code(code.group(0))
    assert hazard is not None and hazard.state is HazardState.AWAITING_VERIFICATION
    photos = await bot_stage.services.storage.hazards.photos(hazard.id)
    assert [photo.kind for photo in photos].count(PhotoKind.AFTER) == 3


async def offered_a_duplicate(cadre: SimUser) -> re.Match[str]:
    """A report confirmed, then a second of the same place and area, up to its offer to add the photos to the first;
    returns the first's code."""
    await report_in_chinese(cadre)
    await cadre.press("✅ 确认上报")
    first = CODE.search(cadre.last_message().text)
    assert first is not None
    await report_in_chinese(cadre, description="消防通道仍然堵塞，杂物更多了")
    assert f"可能重复：{first.group(0)}" in cadre.last_message().text
    return first


async def test_a_possible_duplicate_is_shown_and_photos_can_be_added_to_it(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    first = await offered_a_duplicate(cadre)
    await cadre.press(f"📎 把照片追加到 {first.group(0)}")
    assert f"照片已追加到隐患 {first.group(0)}" in cadre.last_message().text
    hazard = await bot_stage.services.storage.hazards.get_by_code(first.group(0))
    assert hazard is not None
    assert len(await bot_stage.services.storage.hazards.photos(hazard.id)) == 2
    institution = await bot_stage.services.storage.institutions.get_by_code(HOME)
    assert institution is not None
    assert len(await bot_stage.services.storage.hazards.duplicates(institution.id, HazardArea.FIRE)) == 1


async def test_photos_are_not_added_to_a_possible_duplicate_closed_meanwhile(bot_stage: Stage) -> None:
    """The cadre is offered the earlier hazard, but it is verified and closed before they press: their photos must
    not vanish into a closed record nobody will look at again; they are told to report it as a new hazard."""
    cadre, _ = await cadre_and_head(bot_stage)
    first = await offered_a_duplicate(cadre)
    hazards = bot_stage.services.storage.hazards
    earlier = await hazards.get_by_code(first.group(0))
    assert earlier is not None
    now = bot_stage.services.clock.now()
    closed = earlier.model_copy(update={"state": HazardState.CLOSED, "closed_at": now, "updated_at": now})
    assert await hazards.update_state(closed, expected_state=earlier.state)  # verified and closed meanwhile
    await cadre.press(f"📎 把照片追加到 {first.group(0)}")
    assert "原隐患已不能再补充照片或说明（可能已销号），请作为新隐患上报" in cadre.last_message().text
    assert "照片已追加" not in cadre.last_message().text
    assert len(await hazards.photos(earlier.id)) == 1
    assert "add_evidence" not in [event.action for event in await hazards.events(earlier.id)]


async def test_a_restart_in_the_middle_of_a_report_continues_at_the_same_step(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre, area="房屋", severity="重大")
    await cadre.send_text("外墙瓷砖大面积松动，有坠落风险")
    await bot_stage.restart()
    await cadre.send_photo()
    assert "已收到第 1 张照片" in cadre.last_message().text
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    summary = cadre.last_message().text
    assert "领域：房屋" in summary and "严重程度：重大" in summary and "外墙瓷砖" in summary
    await cadre.press("✅ 确认上报")
    assert CODE.search(cadre.last_message().text)


async def test_thirty_people_reporting_at_once_lose_nothing(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    head = sandbox.user(user_id=200, first_name="院长")
    await bot_stage.register(head, Role.HEAD, institution=HOME)
    cadres = [sandbox.user(user_id=1000 + n, first_name=f"干部{n}") for n in range(30)]
    for cadre in cadres:
        await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)

    async def one_report(cadre: SimUser, n: int) -> None:
        # Thirty coroutines interleave: each person's step waits only for the bot to go quiet.
        await cadre.send_text("/report")
        for step in (HOME_ZH, "食品", "一般"):
            await cadre.press(step)
        await cadre.send_text(f"第{n}号：留样柜温度异常，未按规定留样")
        await cadre.press("无照片")
        await cadre.send_text("跳过")
        await cadre.press("互查")
        await cadre.press("✅ 确认上报")

    await asyncio.gather(*(one_report(cadre, n) for n, cadre in enumerate(cadres)))
    codes = {CODE.search(cadre.last_message().text).group(0) for cadre in cadres}  # type: ignore[union-attr]
    assert len(codes) == 30
    notices = [message for message in head.messages() if CODE.search(message.text)]
    assert len({CODE.search(message.text).group(0) for message in notices}) == 30  # type: ignore[union-attr]


async def test_a_rights_protection_hazard_reaches_neither_the_head_nor_a_group(bot_stage: Stage) -> None:
    cadre, head = await cadre_and_head(bot_stage)
    group_id = await bind_county_group(bot_stage)
    staff = bot_stage.sandbox.user(user_id=300, first_name="县")
    before_head, before_group = len(head.messages()), len(bot_stage.sandbox.group(group_id, "g").messages())
    await report_in_chinese(cadre, area="权益保障", description="有老人反映护工推搡打骂，身上有淤青")
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    assert len(head.messages()) == before_head
    assert len(bot_stage.sandbox.group(group_id, "g").messages()) == before_group
    assert any(code.group(0) in message.text for message in staff.messages())


async def test_the_reporter_is_told_who_was_told_of_a_sensitive_hazard_or_one_without_a_head(bot_stage: Stage) -> None:
    """A cadre reporting elder abuse must not read that the home's head was told: the head never is."""
    cadre, _ = await cadre_and_head(bot_stage)
    await report_in_chinese(cadre, area="权益保障", description="有老人反映护工推搡打骂，身上有淤青")
    await cadre.press("✅ 确认上报")
    done = cadre.last_message().text
    assert "机构负责人" in done and "不会告知机构负责人" in done and "已收到通知" not in done

    # An institution whose head has not registered: nobody there was told either, county staff were.
    await cadre.send_text("/report")
    await cadre.send_text("南汇")
    await cadre.press("鹿城区南汇街道居家养老服务中心")
    await cadre.press("用电")
    await cadre.press("一般")
    await cadre.send_text("配电箱门损坏，线路外露")
    await cadre.press("无照片")
    await cadre.tap("跳过")
    await cadre.press("互查")
    await cadre.press("✅ 确认上报")
    done = cadre.last_message().text
    assert "该机构目前没有负责人在本助手中接收隐患" in done and "机构负责人和县级民政部门已收到通知" not in done

    english = bot_stage.sandbox.user(user_id=101, first_name="Li", language_code="en")
    await bot_stage.register(english, Role.CADRE, region=LUCHENG)
    await english.send_text("/report")
    await english.press(HOME_EN)
    await english.press("Rights protection")
    await english.press("Major")
    await english.send_text("A resident says a carer hit her")
    await english.press("No photos")
    await english.tap("Skip")
    await english.press("Cross-check")
    await english.press("✅ Confirm")
    done = english.last_message().text
    assert "never told to the institution's head" in done and "The institution head and" not in done


async def test_the_severity_question_names_the_deadlines_in_force(bot_stage: Stage) -> None:
    """A city that set DEADLINE_HOURS to 12 / 48 / 120 hours must not be told 24 hours, 3 days and 7 days."""
    bot_stage.settings = bot_stage.settings.model_copy(
        update={"deadline_hours": {Severity.SERIOUS: 12, Severity.MAJOR: 48, Severity.GENERAL: 120}})
    await bot_stage.restart()
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    asked = cadre.last_message().text
    assert "重大隐患 12 小时内整改，较大 2 天，一般 5 天" in asked and "24" not in asked
    english = bot_stage.sandbox.user(user_id=101, first_name="Li", language_code="en")
    await bot_stage.register(english, Role.CADRE, region=LUCHENG)
    await english.send_text("/report")
    await english.press(HOME_EN)
    await english.press("Fire")
    assert "serious: fix within 12 hours; major: 2 days; general: 5 days" in english.last_message().text


async def test_a_forged_institution_button_is_refused_and_audited(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    other = await bot_stage.services.storage.institutions.get_by_code("WZ-330303-SOCIAL-01")
    assert other is not None
    await cadre.press_data(cadre.last_message(), f"rp:inst:{other.id}")
    assert "超出了您的负责范围" in cadre.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [event.target for event in audit] == [f"institution:{other.id}"]


async def test_cancel_discards_the_draft(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.send_text("/cancel")
    assert cadre.last_message().text == "已取消上报，草稿已删除。"
    assert await bot_stage.services.hazards.load_draft(100) is None


async def test_corrected_on_the_spot_in_english_counts_its_after_photos(bot_stage: Stage) -> None:
    """English read "1 after-photo(s) attached"; it says "1 after-photo" and "2 after-photos"."""
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    await cadre.send_text("/report")
    await cadre.send_text("welfare home")
    await cadre.press(HOME_EN)
    await cadre.press("Electricity")
    await cadre.press("General")
    await cadre.send_text("Distribution box left open; closed and locked on the spot")
    await cadre.press("No photos")
    await cadre.send_text("Laundry room")
    await cadre.press("✓ County inspection")
    await cadre.press("✔ Corrected on the spot (add after-photo)")
    await cadre.send_photo()
    await cadre.press("Done")
    summary = cadre.last_message().text
    assert "Corrected on the spot: 1 after-photo attached;" in summary and "(s)" not in summary
    await cadre.press("✔ Corrected on the spot (add after-photo)")
    await cadre.send_photo()
    await cadre.press("Done")
    assert "Corrected on the spot: 2 after-photos attached;" in cadre.last_message().text


async def details(reader: SimUser, code: str) -> list[BotMessage]:
    """What /hazard CODE sends the reader, in order."""
    before = len(reader.messages())
    await reader.send_text(f"/hazard {code}")
    return reader.messages()[before:]


async def reported_without_photos(cadre: SimUser, location: tuple[float, float] | None) -> str:
    """An 用电 hazard at 鹿城区社会福利院 reported with no photo, its location shared or skipped; its code."""
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用电")
    await cadre.press("一般")
    await cadre.send_text("二楼配电箱老化，线路裸露")
    await cadre.press("无照片")
    if location is None:
        await cadre.send_text("跳过")
    else:
        await cadre.send_location(*location)
    await cadre.press("互查")
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    return code.group(0)


async def test_the_hazards_details_show_where_it_is_on_a_map(bot_stage: Stage) -> None:
    """A location sent with the report comes back with the hazard's details as a map pin, after its photos and
    before what the reader may do: staff going to verify it on site open it in their maps."""
    cadre, head = await cadre_and_head(bot_stage)
    await report_in_chinese(cadre)
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    shown = await details(head, code.group(0))
    assert [m.kind for m in shown] == ["text", "photo", "location", "text"]
    assert shown[2].location == (28.0123, 120.6543)
    assert "位置：北纬 28.01230，东经 120.65430（见下方地图）" in shown[0].text
    assert shown[-1].buttons  # the head's actions come last, under the map
    # A report without a location shows no map.
    assert [m.kind for m in await details(head, await reported_without_photos(cadre, None))] == ["text"]


async def test_a_hazard_reported_without_photos_still_shows_where_it_is_on_a_map(bot_stage: Stage) -> None:
    """No photo, but a location: the details still end with the map pin, then what the reader may do."""
    cadre, head = await cadre_and_head(bot_stage)
    shown = await details(head, await reported_without_photos(cadre, (28.0123, 120.6543)))
    assert [m.kind for m in shown] == ["text", "location", "text"]
    assert shown[1].location == (28.0123, 120.6543)
    assert shown[-1].buttons
