"""Text that looks filled in but is not: zero-width spaces, NULs and bidi overrides typed into the bot's free-text
steps. Only what shows counts towards a minimum; controls and overrides are never stored nor shown to anyone."""

from __future__ import annotations

from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.domain.warnings import WarningStatus
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import STAFF, act, cast, hazard_now, report, submitted
from tests.test_report import CODE, cadre_and_head, report_in_chinese, to_the_description
from tests.warning_people import enrol

# Zero-width space, word joiner, byte order mark, zero-width joiner, a variation selector: five characters, none shows.
INVISIBLE = "\u200b\u2060\ufeff\u200d\ufe0f"
NUL, RLO, PDF = "\x00", "\u202e", "\u202c"


async def test_a_description_of_zero_width_spaces_is_too_short_and_the_report_stays_at_that_step(
    bot_stage: Stage,
) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("\u200b" * 5)
    assert "描述太短了，请至少写 5 个字" in cadre.last_message().text
    await cadre.send_text(f" {INVISIBLE}短{INVISIBLE} ")  # one character that shows, padded with invisible ones
    assert "描述太短了，请至少写 5 个字" in cadre.last_message().text
    await cadre.send_photo()  # still the description step: a photo is not what it wants
    assert "请先用文字描述隐患" in cadre.last_message().text
    await cadre.send_text("厨房燃气软管老化开裂")
    assert "照片" in cadre.last_message().text and "描述太短" not in cadre.last_message().text


async def test_an_english_description_of_invisible_characters_is_too_short(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    await cadre.send_text("/report")
    await cadre.press("Lucheng District Social Welfare Home")
    await cadre.press("Electricity")
    await cadre.press("General")
    await cadre.send_text(INVISIBLE * 3)
    assert "The description is too short: please write at least 5 characters." in cadre.last_message().text
    await cadre.send_photo()
    assert "Please describe the hazard in words first" in cadre.last_message().text  # still at that step


async def test_a_nul_and_a_bidi_override_in_a_description_reach_neither_the_record_nor_the_head(
    bot_stage: Stage,
) -> None:
    cadre, head = await cadre_and_head(bot_stage)
    await report_in_chinese(cadre, description=f"三楼走廊{NUL}堆放{RLO}杂物{PDF}，堵塞消防通道\r\n请尽快处理")
    summary = cadre.last_message().text
    assert "三楼走廊堆放杂物，堵塞消防通道\n请尽快处理" in summary
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    hazard = await bot_stage.services.storage.hazards.get_by_code(code.group(0))
    assert hazard is not None and hazard.description == "三楼走廊堆放杂物，堵塞消防通道\n请尽快处理"
    told = head.last_message().text
    assert "三楼走廊堆放杂物，堵塞消防通道" in told
    assert NUL not in told and RLO not in told and PDF not in told


async def test_a_reason_of_only_invisible_characters_is_refused_in_english(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    await staff.press("Reject", staff.last_message())
    await staff.send_text(INVISIBLE)
    assert "Please give a reason." in staff.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    await staff.send_text(f"{RLO}The photo does not show the fire exit{PDF}")
    assert "sent back for rectification" in staff.last_message().text
    rejected = people.head.last_message().text
    assert "The photo does not show the fire exit" in rejected and RLO not in rejected
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert events[-1].note == "The photo does not show the fire exit"


async def test_a_reopen_reason_of_only_invisible_characters_is_refused(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    hazard = (await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)).hazard
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("重新打开", staff.last_message())
    await staff.send_text("\u3000" + INVISIBLE + "\u3000")
    assert "请填写原因。" in staff.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED


async def test_measures_of_only_invisible_characters_are_asked_for_again(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head = people.head
    hazard = await report(bot_stage)
    await head.press("📤 提交整改结果")
    await head.send_text(INVISIBLE)
    assert "这一步需要文字：请说明已采取的整改措施" in head.last_message().text
    await head.send_text(f"已清理{NUL}消防通道")
    assert "第 2 步" in head.last_message().text
    await head.send_photo()
    await head.press("完成")
    assert (await hazard_now(bot_stage, hazard)).measures == "已清理消防通道"


async def test_a_self_inspection_note_of_only_invisible_characters_is_asked_for_again(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage, "en")
    head = people.head
    await head.send_text("/selfcheck")
    await head.press("❌ Not OK")
    await head.send_text(INVISIBLE)
    assert "A failed item needs a note saying what is wrong." in head.last_message().text
    assert "Skip photo" not in str(head.last_message().buttons)
    await head.send_text("Two extinguishers expired in January")
    assert "Skip photo" in str(head.last_message().buttons)


async def test_a_warning_typed_as_invisible_characters_has_no_headline(typhoon_stage: Stage) -> None:
    people = await enrol(typhoon_stage)
    staff = people.dongtou_staff
    await staff.send_text("/warn")
    await staff.press("暴雨")
    await staff.press("黄色")
    await staff.send_text(f"{INVISIBLE}\n{INVISIBLE}")
    assert "预警标题至少需要 1 个字。" in staff.last_message().text
    await staff.send_text(f"{RLO}暴雨预警{PDF}\n注意防范")
    assert "机构类型" in staff.last_message().text
    assert await typhoon_stage.services.storage.warnings.with_status({WarningStatus.DRAFT}) == []


async def test_a_profile_name_with_a_bidi_override_is_registered_without_it(bot_stage: Stage) -> None:
    tricky = bot_stage.sandbox.user(user_id=77, first_name=f"李{RLO}娜{NUL}", language_code="zh-hans")
    await tricky.send_text(f"/start {await bot_stage.invite_token(Role.CITY)}")
    assert "注册成功" in tricky.messages()[0].text and RLO not in tricky.messages()[0].text
    user = await bot_stage.services.storage.users.get(77)
    assert user is not None and user.full_name == "李娜"
