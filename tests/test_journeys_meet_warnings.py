"""Journeys meet what else happens meanwhile: a warning arriving in the middle of a drill, a colleague submitting the
hazard whose rectification is kept, a resume question answered by typing, and counts and durations typed as people
say them."""

from __future__ import annotations

import pytest

from bot.domain.lifecycle import HazardState
from bot.domain.roles import Role
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import HOME, SECOND_HEAD, cast, hazard_now, report
from tests.test_report import cadre_and_head, to_the_description
from tests.warning_people import compose_typhoon, drain, enrol


async def test_a_typed_shou_dao_mid_drill_answers_the_warning_and_the_drill_waits(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    head = cast.head_1
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-09-10）")
    await head.send_text("40")
    await head.send_text("30")
    assert "第 5 步" in head.last_message().text
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)

    await head.send_text("好的，收到！")
    nudge = head.last_message()
    assert "请点下面的“✅ 已收到并落实”" in nudge.text
    assert "您的演练记录仍停在第 5 步，回答完预警后请继续。" in nudge.text
    assert nudge.buttons == [["✅ 已收到并落实"], ["📝 报告落实情况"], ["🆘 需要帮助"]]
    await head.press("✅ 已收到并落实", nudge)
    assert [a.user_id for a in await typhoon_stage.services.storage.warnings.acks(1)] == [head.id]

    await head.send_text("夜间火灾疏散，灭火器使用")  # the drill was still at step 5
    assert "第 6 步" in head.last_message().text



async def test_a_typed_shou_dao_mid_selfcheck_says_how_many_items_it_has_answered(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    head = cast.head_1
    await head.send_text("/selfcheck")
    sheet = head.last_message()
    total = int(sheet.text.split("进度：0/")[1].split()[0])
    await head.press("✅ 合格", sheet)
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)

    await head.send_text("收到")
    nudge = head.last_message()
    assert f"您的月度隐患自查已答 1/{total} 项，回答完预警后请继续。" in nudge.text  # items, not a step
    await head.press("✅ 已收到并落实", nudge)
    await head.send_text("/selfcheck")
    assert f"进度：1/{total}" in head.last_message().text


@pytest.mark.parametrize("help_first", [True, False], ids=["help_then_done", "done_at_once"])
async def test_a_kept_rectification_of_a_hazard_a_colleague_submitted_is_dropped_and_said(
    bot_stage: Stage, help_first: bool
) -> None:
    people = await cast(bot_stage)
    head = people.head
    second = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="吴副院长", language_code="zh-hans")
    await bot_stage.register(second, Role.HEAD, institution=HOME)
    hazard = await report(bot_stage)
    notice = [m for m in head.messages() if "📤 提交整改结果" in str(m.buttons)][-1]
    await head.press("📤 提交整改结果", notice)
    await head.send_text("已清理消防通道内的杂物，并安排专人每日巡查")
    await head.send_photo()
    received = head.last_message()
    await head.send_text("/tasks")  # a detour: the draft is kept

    theirs = [m for m in second.messages() if "📤 提交整改结果" in str(m.buttons)][-1]
    await second.press("📤 提交整改结果", theirs)
    await second.send_text("副院长已清理通道杂物并加装标识")
    await second.send_photo()
    await second.press("完成")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION

    if help_first:
        await head.send_text("/help")
        assert "未完成的整改结果提交" not in head.last_message().text
    await head.press("完成", received)
    said = head.last_message().text
    assert f"隐患 {hazard.code} 已由 吴副院长 于" in said and "提交整改结果，正在等待验收" in said
    assert "您未提交的整改草稿（措施和照片）已删除" in said
    assert (await hazard_now(bot_stage, hazard)).measures == "副院长已清理通道杂物并加装标识"
    await head.send_text("/help")
    assert "未完成的整改结果提交" not in head.last_message().text

    await head.press("📤 提交整改结果", notice)  # the hazard's own button says the same
    assert "已由 吴副院长 于" in (head.answers()[-1].text or "")


@pytest.mark.parametrize("typed", ["继续填写", "▶ 继续填写", "继续", "Continue"])
async def test_the_resume_question_takes_its_labels_typed(bot_stage: Stage, typed: str) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("/report")
    await cadre.send_text(typed)
    assert "描述" in cadre.last_message().text and "请点击上方的按钮" not in cadre.last_message().text
    await cadre.send_text("二楼安全出口被杂物堵塞，无法正常通行")
    assert "照片" in cadre.last_message().text  # carried on at the saved step


@pytest.mark.parametrize("typed", ["重新开始", "Start over", "重来", "start again"])
async def test_the_resume_question_takes_start_over_typed(bot_stage: Stage, typed: str) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("/report")
    offer = cadre.last_message()
    await cadre.send_text(typed)
    assert "请点击上方的按钮" not in cadre.last_message().text
    assert offer.buttons == []  # answered by typing: its buttons went
    await cadre.send_text("/help")
    assert "未完成的隐患上报" not in cadre.last_message().text


async def test_a_second_offer_takes_the_first_ones_buttons_away(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("/report")
    first = cadre.last_message()
    await cadre.send_text("/report")
    second = cadre.last_message()
    assert first.buttons == [] and second.buttons == [["▶ 继续填写"], ["🔄 重新开始"]]
    assert "您有一份未完成的隐患上报" in first.text  # its text stays as it was
    await cadre.press("🔄 重新开始", second)
    assert second.buttons == []


async def test_a_drill_count_with_two_numbers_says_why_and_hours_are_taken_as_minutes(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-10）")
    for typed in ("全院共40人，其中老人30人", "40-50人"):
        await head.send_text(typed)
        assert "请只填一个数字" in head.last_message().text
    await head.send_text("40")
    await head.send_text("大约1.5小时")
    assert head.messages()[-2].text == "按 90 分钟记录。"
    assert "第 5 步" in head.last_message().text
    await head.send_text("/help")
    assert "40 人，90 分钟" in head.last_message().text
