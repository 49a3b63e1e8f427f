"""Unfinished journeys taken up again: a drill, a report or a study session put aside for another command is offered
back by its own command (carry on at the saved step, or start over), /help mentions it, and an old button pressed
while a journey waits says where it waits."""

from __future__ import annotations

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardState
from bot.stage import Stage
from storage.repositories.action_drafts import Journey
from tests.calendar_people import local
from tests.hazard_people import cast, hazard_now, report
from tests.test_calendar_journeys import through_the_drill
from tests.test_report import cadre_and_head, to_the_description


async def test_a_drill_put_aside_for_the_selfcheck_is_offered_back_by_drill(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    await through_the_drill(head, "消防疏散演练", "今天（2026-03-10）", "40", "30", "夜间火灾疏散，灭火器使用")
    assert "第 7 步" in head.last_message().text

    await head.send_text("/selfcheck")
    assert "未完成的演练记录" in head.messages()[-2].text + head.last_message().text  # the drill was put aside
    await head.press("⏸ 暂停")
    await head.send_text("/help")
    assert "您有一份未完成的演练记录（已填到第 7 步" in head.last_message().text
    assert "发送 /drill 可继续填写" in head.last_message().text

    await head.send_text("/drill")
    offer = head.last_message()
    assert "您有一份未完成的演练记录（已填到第 7 步：消防疏散演练，2026-03-10，40 人，30 分钟，1 张照片）" in offer.text
    assert offer.buttons == [["▶ 继续填写"], ["🔄 重新开始"]]
    await head.press("▶ 继续填写")
    assert "第 7 步" in head.last_message().text
    await head.send_text("无")
    await head.press("✅ 确认记录")
    assert "已记录演练：消防疏散演练，2026-03-10" in head.last_message().text

    # The offer's buttons went with the answer; pressed again from an old client, it starts nothing.
    assert offer.buttons == []
    pressed = await head.press_data(offer, "rs:drill:go")
    assert pressed.answer is not None and "失效" in (pressed.answer.text or "")
    assert "已记录演练" in head.last_message().text


async def test_starting_over_discards_the_unfinished_drill(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage, "en")).head
    await head.send_text("/drill")
    await head.press("Fire evacuation")
    await head.send_text("/help")
    await head.send_text("/drill")
    assert "You have an unfinished drill record (filled in up to step 2: Fire evacuation)" in (
        head.last_message().text)
    await head.press("🔄 Start over")
    assert "step 1 of 7" in head.last_message().text
    await head.send_text("/help")
    assert "unfinished" not in head.last_message().text  # nothing entered in the new one yet


async def test_a_report_is_not_overwritten_by_a_second_report_command(bot_stage: Stage) -> None:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text("/start")
    assert "您有一份未完成的隐患上报" in cadre.last_message().text and "发送 /report 可继续填写" in (
        cadre.last_message().text)
    await cadre.send_text("/report")
    offer = cadre.last_message()
    assert "您有一份未完成的隐患上报（已填到第 4 步：鹿城区社会福利院，用火" in offer.text
    await cadre.press("▶ 继续填写")
    assert "描述" in cadre.last_message().text
    await cadre.send_text("二楼安全出口被杂物堵塞，无法正常通行")
    assert "照片" in cadre.last_message().text


async def test_done_under_a_kept_rectification_still_submits_after_a_detour(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head = people.head
    hazard = await report(bot_stage)
    notice = head.last_message()
    await head.press("📤 提交整改结果", notice)
    await head.send_text("已清理消防通道内的杂物，并安排专人每日巡查")
    await head.send_photo()
    received = head.last_message()
    assert "已收到第 1 张照片" in received.text

    await head.press("申请延期", notice)
    assert "未完成的整改结果提交（已填到第 2 步" in head.messages()[-2].text + head.last_message().text
    await head.send_text("/cancel")
    await head.send_text("/help")
    assert f"未完成的整改结果提交（已填到第 2 步：{hazard.code}，1 张照片）" in head.last_message().text

    await head.press("📤 提交整改结果", notice)
    assert "已保存 1 张整改后的照片" in head.last_message().text  # the step says what is kept
    await head.send_text("/cancel")  # ends it: the draft goes with it
    await head.press("📤 提交整改结果", notice)
    await head.send_text("已清理消防通道内的杂物，并安排专人每日巡查")
    await head.send_photo()
    received = head.last_message()
    await head.press("申请延期", notice)
    await head.send_text("/cancel")

    pressed = await head.press("完成", received)
    assert pressed.answer is None or "失效" not in (pressed.answer.text or "")
    assert hazard.code in head.last_message().text and "整改" in head.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION


async def test_an_old_button_pressed_while_a_drill_waits_repeats_the_step(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 10))
    head = (await cast(bot_stage)).head
    await head.send_text("/drill")
    kinds = head.last_message()
    await head.press("消防疏散演练")
    await head.press("今天（2026-03-10）")
    assert "参加人数" in head.last_message().text

    pressed = await head.press("消防疏散演练", kinds)  # the kind's button, one step back
    assert pressed.answer is not None
    assert "已过期" in (pressed.answer.text or "") and "第 3 步" in (pressed.answer.text or "")
    assert "重新发起" not in (pressed.answer.text or "")
    assert "第 3 步：参加人数" in head.last_message().text  # the step's question again
    await head.send_text("40")
    assert "时长" in head.last_message().text  # and the drill went on from there


async def test_a_study_session_put_aside_is_offered_back_by_study(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 6, 5))
    staff = (await cast(bot_stage)).staff
    await staff.send_text("/study")
    await staff.press("昨天（2026-06-04）")
    await staff.send_text("《2024年全市民政系统安全工作要点》专题学习")
    assert "参加人数" in staff.last_message().text

    await staff.send_text("/report")  # another journey: the study's answers are kept
    assert "未完成的学习记录" in staff.messages()[-2].text + staff.last_message().text
    await staff.send_text("/cancel")
    await staff.send_text("/help")
    kept = "您有一份未完成的学习记录（已填到第 3 步：2026-06-04，《2024年全市民政系统安全工作要点》…）"
    assert kept in staff.last_message().text
    assert "发送 /study 可继续填写" in staff.last_message().text

    await staff.send_text("/study")
    offer = staff.last_message()
    assert "您有一份未完成的学习记录（已填到第 3 步" in offer.text
    assert offer.buttons == [["▶ 继续填写"], ["🔄 重新开始"]]
    await staff.press("▶ 继续填写")
    assert "参加人数" in staff.last_message().text
    await staff.send_text("18")
    assert "已记录 鹿城区 的安全理论学习：2026-06-04" in staff.last_message().text


async def test_starting_a_study_session_over_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 6, 5))
    staff = (await cast(bot_stage, "en")).staff
    await staff.send_text("/study")
    await staff.send_text("2026-06-01")
    await staff.send_text("/study")
    assert "You have an unfinished study session record (filled in up to step 2: 2026-06-01)" in (
        staff.last_message().text)
    await staff.press("🔄 Start over")
    assert "When was it held?" in staff.last_message().text
    await staff.send_text("/start")
    assert "unfinished" not in staff.last_message().text


async def test_an_old_done_of_one_hazard_does_not_submit_the_rectification_of_another(bot_stage: Stage) -> None:
    """完成 names its hazard: pressed under an earlier rectification's photo, after the head went on to rectify
    another hazard, it must not submit that other one half-done (its photos still coming)."""
    people = await cast(bot_stage)
    head = people.head
    first = await report(bot_stage)
    first_notice = head.last_message()
    second = await report(bot_stage, area=HazardArea.ELECTRICITY, description="配电箱门锁损坏")
    second_notice = head.last_message()
    assert first.id != second.id and first_notice.message_id != second_notice.message_id

    await head.press("📤 提交整改结果", first_notice)
    await head.send_text("已清理消防通道内的杂物，并安排专人每日巡查")
    await head.send_photo()
    first_done = head.last_message()
    await head.send_text("/cancel")
    await head.press("📤 提交整改结果", second_notice)
    await head.send_text("已更换配电箱门锁，并张贴警示标识")
    await head.send_photo()

    await head.press("完成", first_done)
    assert (await hazard_now(bot_stage, second)).state is not HazardState.AWAITING_VERIFICATION
    assert (await hazard_now(bot_stage, first)).state is not HazardState.AWAITING_VERIFICATION


async def test_an_old_button_pressed_while_a_report_field_is_being_changed_does_not_show_the_summary(
    bot_stage: Stage,
) -> None:
    """Changing the description from the summary, the report waits for the new text, while its draft says "the
    summary". An old button then must not bring the summary (its ✅ 确认 would itself be an old button there): it
    says the report waits for an answer, and the text typed next is the new description."""
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    severities = cadre.messages()[-2]
    await cadre.send_text("三楼走廊堆放杂物，堵塞消防通道")
    await cadre.send_photo()
    await cadre.press("完成")
    await cadre.send_location(28.0123, 120.6543)
    await cadre.press("互查")
    await cadre.press("✏️ 修改")
    await cadre.press("描述")
    asking = cadre.last_message()

    pressed = await cadre.press("一般", severities)
    assert pressed.answer is not None and "还在等您回答" in (pressed.answer.text or "")
    assert cadre.last_message().message_id == asking.message_id
    await cadre.send_text("二楼安全出口被杂物堵塞，无法正常通行")
    assert "二楼安全出口被杂物堵塞" in cadre.last_message().text




async def test_a_selfcheck_put_aside_says_it_is_kept_counting_the_items_answered(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage)).head
    await head.send_text("/selfcheck")
    sheet = head.last_message()
    total = int(sheet.text.split("进度：0/")[1].split()[0])
    await head.press("✅ 合格", sheet)
    await head.press("➖ 不适用", sheet)

    await head.send_text("/drill")  # another journey: the sheet's answers are kept, and the head is told so
    kept = f"📝 您有一份未完成的月度隐患自查（2026年3月，已答 2/{total} 项），已保存；发送 /selfcheck 可继续。"
    assert head.messages()[-2].text == kept
    assert "第 1 步" in head.last_message().text
    await head.send_text("/cancel")
    await head.send_text("/help")
    assert kept in head.last_message().text
    await head.send_text("/start")
    assert kept in head.last_message().text

    await head.send_text("/selfcheck")  # carries on at the third item
    assert f"进度：2/{total}" in head.last_message().text and f"第 3/{total} 项" in head.last_message().text


async def test_a_selfcheck_with_nothing_answered_is_not_named_and_english_counts_items(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    head = (await cast(bot_stage, "en")).head
    await head.send_text("/selfcheck")
    await head.send_text("/help")
    assert "unfinished" not in head.last_message().text  # nothing answered: nothing to keep
    await head.send_text("/selfcheck")
    await head.press("✅ OK")
    await head.send_text("/drill")
    kept = head.messages()[-2].text
    assert kept.startswith("📝 You have an unfinished monthly self-inspection (March 2026, answered so far: 1/")
    assert kept.endswith("); it is kept: send /selfcheck to carry on.")


async def test_a_kept_rectification_whose_measures_are_too_short_cannot_be_submitted_by_its_done(
    bot_stage: Stage,
) -> None:
    """The measures' minimum is the service's rule, not only the typing step's: a draft kept with thin measures (from
    before the rule, or written by any other path) is refused at 完成, pressed at once or after a detour, and the head
    is asked for the measures again, the photos kept."""
    people = await cast(bot_stage)
    head = people.head
    hazard = await report(bot_stage)
    notice = head.last_message()
    await head.press("📤 提交整改结果", notice)
    await head.send_text("已清理消防通道内的杂物，并安排专人每日巡查")
    await head.send_photo()
    received = head.last_message()
    drafts = bot_stage.services.storage.action_drafts
    draft = await drafts.get(head.id, Journey.RECTIFY)
    assert draft is not None
    await drafts.save(head.id, Journey.RECTIFY, draft.model_copy(update={"measures": "好"}), bot_stage.clock.now())

    await head.press("申请延期", notice)  # a detour: 完成 is then the journey's entry (rx:done:<id>)
    await head.send_text("/cancel")
    await head.press("完成", received)
    said = head.messages()[-2].text + "\n" + head.last_message().text
    assert "整改措施写得太简略了，核查人员无法据此核实：请至少写 4 个字，说清做了什么。" in said
    assert "请重新说明已采取的整改措施。" in said
    assert (await hazard_now(bot_stage, hazard)).state is not HazardState.AWAITING_VERIFICATION

    await head.press("完成", received)  # pressed again at once: refused again, never submitted
    assert (await hazard_now(bot_stage, hazard)).state is not HazardState.AWAITING_VERIFICATION

    await head.send_text("已清理消防通道内的杂物")
    asked = head.last_message()
    assert ["完成"] in asked.buttons  # the photo was kept
    await head.press("完成", asked)
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
