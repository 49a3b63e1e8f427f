"""The monthly self-inspection on one message that edits itself: answered item by item, a ❌ becoming a hazard in
the loop, a restart in the middle, and a second run in the same month amending the first."""

from __future__ import annotations

from bot.domain.catalog import Severity, SourceLevel
from bot.domain.checklists import items_for
from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from storage.calendar_models import Answer
from tests.calendar_people import edits_in, institution_id, local, not_modified_errors, sent_by_bot
from tests.hazard_people import HEAD, HOME, cast

OTHER_HOME, OTHER_HOME_HEAD = "WZ-330302-ELDER-02", 47  # another elder-care home of Lucheng, and its head


async def _item_count(stage: Stage) -> int:
    institution = await stage.services.storage.institutions.get(await institution_id(stage, HOME))
    assert institution is not None
    return len(items_for(institution))


async def _answer_ok(head: SimUser, times: int, label: str = "✅ 合格") -> None:
    for _ in range(times):
        await head.press(label)


async def test_the_head_answers_the_whole_checklist_on_one_message(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    total = await _item_count(bot_stage)
    sends_before = sent_by_bot(bot_stage, HEAD)

    await head.send_text("/selfcheck")
    sheet = head.last_message()
    assert "月度隐患自查（2026年3月）" in sheet.text and "鹿城区社会福利院" in sheet.text
    assert f"进度：0/{total}" in sheet.text and f"第 1/{total} 项" in sheet.text
    assert sheet.buttons == [["✅ 合格", "❌ 不合格", "➖ 不适用"], ["⏸ 暂停"]]

    await head.press("✅ 合格", sheet)
    assert f"进度：1/{total}" in sheet.text and f"第 2/{total} 项" in sheet.text
    assert sheet.buttons[1] == ["« 上一项", "⏸ 暂停"]
    first_item = sheet.stored.inline_keyboard[0][0]["callback_data"]
    await head.press("✅ 合格", sheet)
    edits = edits_in(bot_stage, HEAD)
    stale = await head.press_data(sheet, first_item.replace(":ok", ":na"))  # a late second tap on item 1
    assert stale.answer is not None and edits_in(bot_stage, HEAD) == edits  # nothing to redraw, nothing sent
    await head.press("« 上一项", sheet)
    await head.press("« 上一项", sheet)
    assert f"第 1/{total} 项" in sheet.text and "（上次的回答：✅）" in sheet.text and sheet.buttons[1] == ["⏸ 暂停"]
    edits = edits_in(bot_stage, HEAD)
    await head.press_data(sheet, "sc:back")  # an old "previous" button: already at the first item
    assert edits_in(bot_stage, HEAD) == edits
    await _answer_ok(head, 2)

    await head.press("❌ 不合格", sheet)
    assert "请用文字说明发现的问题" in sheet.text and sheet.buttons == [["↩ 撤回“不合格”"], ["⏸ 暂停"]]
    await head.send_text("三楼西侧烟感报警器不响")
    moved = head.last_message()
    assert moved.message_id != sheet.message_id and sheet.deleted  # the sheet came down below the note
    assert "跳过照片" in moved.text or moved.buttons[0] == ["跳过照片"]
    await head.press("跳过照片", moved)
    assert "严重程度" in moved.text and moved.buttons[0] == ["一般", "✓ 较大", "重大"]
    await head.press("重大", moved)
    assert f"进度：3/{total}" in moved.text

    await head.press("➖ 不适用", moved)
    await _answer_ok(head, total - 4)
    summary = head.last_message()
    assert summary.message_id == moved.message_id and summary.buttons == []
    assert "月度隐患自查（2026年3月）已完成" in summary.text
    assert f"共 {total} 项：合格 {total - 2}，不合格 1，不适用 1" in summary.text
    assert "✅ 合规：2026年3月的月度隐患自查已完成" in summary.text

    hazard = (await bot_stage.services.storage.hazards.open_for_institution(
        await institution_id(bot_stage, HOME), now=bot_stage.clock.now()
    ))[0]
    assert f"❌ 火灾自动报警、喷淋系统及应急照明运行正常 → 隐患 {hazard.code}" in summary.text
    assert hazard.source_level is SourceLevel.SELF_CHECK and hazard.severity is Severity.SERIOUS
    assert hazard.description == "【自查】火灾自动报警、喷淋系统及应急照明运行正常：三楼西侧烟感报警器不响"
    assert hazard.assignee_id == HEAD
    # Targeting: the group hears of it; the head found it and holds it, so neither they nor the county are told.
    assert hazard.code in people.group.last_message().text
    assert not any(hazard.code in m.text for m in staff.messages())
    assert not any("本机构有新的安全隐患" in m.text for m in head.messages())

    # One sheet and one move for the typed note; everything else was an edit of the sheet.
    assert sent_by_bot(bot_stage, HEAD) - sends_before == 2
    assert edits_in(bot_stage, HEAD) >= total + 3
    assert not_modified_errors(bot_stage) == []

    await head.send_text("/tasks")
    labels = [label for row in head.last_message().buttons for label in row]
    assert any("【自查】火灾自动报" in label for label in labels), labels
    # One filed before the checklist's code left the description reads the same: the code is dropped on display.
    await bot_stage.services.storage.db.execute(
        "UPDATE hazards SET description = ? WHERE id = ?",
        ("【自查 fire.alarm】火灾自动报警、喷淋系统及应急照明运行正常：三楼西侧烟感报警器不响", hazard.id))
    await head.send_text("/tasks")
    labels = [label for row in head.last_message().buttons for label in row]
    assert any("【自查】火灾自动报" in label for label in labels) and not any("fire.alarm" in x for x in labels), labels


async def test_a_restart_in_the_middle_resumes_the_same_sheet_and_item(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head = people.head
    total = await _item_count(bot_stage)

    await head.send_text("/selfcheck")
    sheet = head.last_message()
    await _answer_ok(head, 3)
    await bot_stage.restart()
    await head.press("✅ 合格", sheet)
    assert f"进度：4/{total}" in sheet.text and f"第 5/{total} 项" in sheet.text

    await head.press("❌ 不合格", sheet)
    await bot_stage.restart()
    await head.send_text("配电箱周围堆放纸箱")
    await bot_stage.restart()
    await head.press("跳过照片")
    await head.press("✓ 较大")
    assert f"进度：5/{total}" in head.last_message().text

    await head.press("⏸ 暂停")
    assert "已暂停" in head.last_message().text and head.last_message().buttons == []
    await bot_stage.restart()
    await head.send_text("/selfcheck")  # picks up at the next item, on a fresh sheet below
    again = head.last_message()
    assert f"进度：5/{total}" in again.text and f"第 6/{total} 项" in again.text
    assert len([m for m in head.messages() if m.text.startswith("📋 月度隐患自查") and m.buttons]) == 1
    assert not_modified_errors(bot_stage) == []


async def test_a_second_inspection_in_the_month_amends_the_first_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage, "en")
    head = people.head
    total = await _item_count(bot_stage)
    home = await institution_id(bot_stage, HOME)

    await head.send_text("/selfcheck")
    await head.press("❌ Not OK")
    await head.send_photo()  # a photo before the note: kept, and the note is asked for
    assert "The photo is kept" in head.last_message().text
    await head.send_text("Two extinguishers expired in January")
    assert "How severe" in head.last_message().text  # the photo step is already done
    await head.press("✓ Major")
    await _answer_ok(head, total - 1, "✅ OK")
    assert "Self-inspection March 2026 done" in head.last_message().text
    [hazard] = await bot_stage.services.storage.hazards.open_for_institution(home, now=bot_stage.clock.now())
    assert len(await bot_stage.services.storage.hazards.photos(hazard.id)) == 1

    bot_stage.clock.set(local(2026, 3, 20))
    await head.send_text("/selfcheck")
    sheet = head.last_message()
    assert "already done: this run amends" in sheet.text and f"Item 1 of {total}" in sheet.text
    assert "(Answered before: ❌)" in sheet.text
    await head.press("❌ Not OK", sheet)
    await head.send_text("Still waiting for the new extinguishers")
    await head.press("Skip photo")
    pressed = await head.press("✓ Major")
    assert pressed.answer is not None and "still being corrected" in (pressed.answer.text or "")
    await head.press("➖ N/A")
    await _answer_ok(head, total - 2, "✅ OK")
    summary = head.last_message().text
    assert "Self-inspection March 2026 amended" in summary and "replaced the month's earlier answers" in summary
    assert f"{total} items: {total - 2} OK, 1 not OK, 1 not applicable" in summary
    assert hazard.code in summary

    # Still one inspection for the month, one hazard for the item, and the amendment on record.
    assert len(await bot_stage.services.storage.hazards.open_for_institution(home, now=bot_stage.clock.now())) == 1
    inspection = await bot_stage.services.storage.calendar.inspection_for(home, "2026-03")
    assert inspection is not None and inspection.amended_at is not None
    answers = await bot_stage.services.storage.calendar.answers(inspection.id)
    assert sum(a.answer is Answer.NA for a in answers.values()) == 1
    audit = [e.action for e in await bot_stage.services.storage.audit.list(action_prefix="selfcheck.")]
    assert audit == ["selfcheck.finished", "selfcheck.amended"]
    assert not_modified_errors(bot_stage) == []


async def test_only_heads_run_a_self_inspection_and_typing_brings_the_sheet_down(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    await people.staff.send_text("/selfcheck")
    assert "只能由本机构的负责人填写" in people.staff.last_message().text

    head = people.head
    await head.send_text("/selfcheck")
    first: BotMessage = head.last_message()
    await head.send_text("都合格")
    below = head.last_message()
    assert below.message_id != first.message_id and first.deleted
    assert "请用上面的按钮作答" in below.text and below.buttons[0] == ["✅ 合格", "❌ 不合格", "➖ 不适用"]
    await head.send_text("/cancel")
    assert "已暂停" in head.last_message().text


async def test_a_sheet_left_open_past_its_month_cannot_be_finished_later(bot_stage: Stage) -> None:
    """October's sheet, started on 31 October and left on screen, was finished with its own buttons in December,
    and October then counted as done in /drills, /stats, the rankings and the exports. A month's sheet counts only
    if it is finished by the month's end: the head is told, the answers stay on record, and December's is offered."""
    bot_stage.clock.set(local(2026, 10, 31, 23, 40))
    people = await cast(bot_stage)
    head = people.head
    total = await _item_count(bot_stage)
    home = await institution_id(bot_stage, HOME)

    await head.send_text("/selfcheck")
    sheet = head.last_message()
    await _answer_ok(head, 5)
    bot_stage.clock.set(local(2026, 12, 2, 9))
    await head.press("✅ 合格", sheet)  # the old sheet's own button, five weeks later
    assert "2026年10月的月度隐患自查已截止" in sheet.text and "不计入" in sheet.text
    assert f"已作答的 5/{total} 项已保存" in sheet.text
    assert sheet.buttons == [["📋 开始本月自查"]]
    stale = await head.press_data(sheet, "sc:a:fire.alarm:ok")  # a stale tap on what the sheet was
    assert stale.answer is not None and stale.answer.text

    october = await bot_stage.services.storage.calendar.inspection_for(home, "2026-10")
    assert october is not None and not october.done
    assert len(await bot_stage.services.storage.calendar.answers(october.id)) == 5  # kept, not lost
    assert await bot_stage.services.storage.calendar.done_months(["2026-10"]) == {}

    await head.press("📋 开始本月自查", sheet)
    december = head.last_message()
    assert "月度隐患自查（2026年12月）" in december.text and f"进度：0/{total}" in december.text
    audit = [e.action for e in await bot_stage.services.storage.audit.list(action_prefix="selfcheck.")]
    assert audit == ["selfcheck.expired"]
    assert not_modified_errors(bot_stage) == []


async def test_a_checklist_paused_at_midnight_on_the_months_last_day_expires_with_its_answers_kept(
    bot_stage: Stage,
) -> None:
    """On the bus on 31 October: the head answers half the checklist, pauses at 23:55 and sends /selfcheck at 00:10.
    October's sheet is over (the county hears in the morning that October was missed, and that is the truth): the
    head is told so in plain words, and November's sheet is offered."""
    bot_stage.clock.set(local(2026, 10, 31, 23, 40))
    people = await cast(bot_stage)
    head = people.head
    total = await _item_count(bot_stage)
    home = await institution_id(bot_stage, HOME)

    await head.send_text("/selfcheck")
    await _answer_ok(head, 5)
    await head.press("⏸ 暂停")
    bot_stage.clock.set(local(2026, 11, 1, 0, 10))
    await bot_stage.restart()
    await head.send_text("/selfcheck")
    notice = head.last_message()
    assert "2026年10月的月度隐患自查已截止" in notice.text and "2026-10-31" in notice.text
    assert f"已作答的 5/{total} 项已保存在记录中" in notice.text and "现在可以开始2026年11月的自查" in notice.text
    assert notice.buttons == [["📋 开始本月自查"]]
    october = await bot_stage.services.storage.calendar.inspection_for(home, "2026-10")
    assert october is not None and not october.done
    assert await bot_stage.services.storage.calendar.inspection_for(home, "2026-11") is None

    await head.send_text("/selfcheck")  # and then November's, as usual
    assert "月度隐患自查（2026年11月）" in head.last_message().text and "进度：0/" in head.last_message().text
    await head.send_text("/drills")
    assert "⏰ 已逾期：2026年10月未完成月度隐患自查" in head.last_message().text


async def test_a_fail_being_described_as_the_month_ends_still_becomes_a_hazard_in_english(bot_stage: Stage) -> None:
    """A ❌ answered before midnight is a hazard already and stays one; a ❌ whose note was typed at 23:58 and whose
    severity is chosen at 00:03 is a problem the head found: it becomes a hazard too, kept on October's sheet,
    which still does not count."""
    bot_stage.clock.set(local(2026, 10, 31, 23, 50))
    people = await cast(bot_stage, "en")
    head = people.head
    home = await institution_id(bot_stage, HOME)

    await head.send_text("/selfcheck")
    await head.press("❌ Not OK")
    await head.send_text("Two extinguishers expired in January")
    await head.press("Skip photo")
    await head.press("✓ Major")
    [before] = await bot_stage.services.storage.hazards.open_for_institution(home, now=bot_stage.clock.now())
    await head.press("❌ Not OK")
    await head.send_text("Cardboard boxes piled around the switchboard")

    bot_stage.clock.set(local(2026, 11, 1, 0, 3))
    await head.press("Skip photo")
    sheet = head.last_message()
    assert "The self-inspection for October 2026 has closed" in sheet.text and "still be registered" in sheet.text
    pressed = await head.press("✓ Major")
    assert pressed.answer is not None and "registered" in (pressed.answer.text or "")
    opened = await bot_stage.services.storage.hazards.open_for_institution(home, now=bot_stage.clock.now())
    assert len(opened) == 2 and before.id in {h.id for h in opened}
    [after] = [h for h in opened if h.id != before.id]
    notice = head.last_message().text
    assert "Self-inspection October 2026 has closed" in notice and "does not count" in notice
    assert before.code in notice and after.code in notice
    assert head.last_message().buttons == [["📋 Start the self-inspection"]]

    october = await bot_stage.services.storage.calendar.inspection_for(home, "2026-10")
    assert october is not None and not october.done
    answers = await bot_stage.services.storage.calendar.answers(october.id)
    assert {a.hazard_id for a in answers.values()} == {before.id, after.id}


async def test_an_amendment_left_open_at_the_months_end_keeps_the_month_done(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head = people.head
    total = await _item_count(bot_stage)
    home = await institution_id(bot_stage, HOME)
    await head.send_text("/selfcheck")
    await _answer_ok(head, total)
    bot_stage.clock.set(local(2026, 3, 31, 23, 50))
    await head.send_text("/selfcheck")
    sheet = head.last_message()
    await head.press("➖ 不适用", sheet)
    bot_stage.clock.set(local(2026, 4, 1, 8))
    await head.press("✅ 合格", sheet)
    assert "2026年3月的月度隐患自查已截止，不能再修改" in sheet.text and sheet.buttons == [["📋 开始本月自查"]]
    march = await bot_stage.services.storage.calendar.inspection_for(home, "2026-03")
    assert march is not None and march.done
    answers = await bot_stage.services.storage.calendar.answers(march.id)
    assert sum(a.answer is Answer.NA for a in answers.values()) == 1  # the change made in March is kept


async def test_a_note_too_long_for_the_hazard_is_refused_as_it_is_sent_not_after_the_severity(
    bot_stage: Stage,
) -> None:
    """A ❌'s note becomes the hazard's description behind the item's name, and a description holds MAX_TEXT
    characters. A note of 1,990 was taken, the photo skipped and the severity chosen, and only then did the head
    read "the description is too long (at most 2000)" and have to type it all again."""
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head = people.head
    home = await institution_id(bot_stage, HOME)

    await head.send_text("/selfcheck")
    await head.press("❌ 不合格")
    await head.send_text("烟" * 1990)
    sheet = head.last_message()
    assert "说明过长（最多 " in sheet.text and sheet.buttons == [["↩ 撤回“不合格”"], ["⏸ 暂停"]]
    most = int(sheet.text.split("说明过长（最多 ", 1)[1].split(" ", 1)[0])
    assert most < 1990
    note = "烟" * most
    await head.send_text(note)  # the longest the sheet allows is taken whole
    await head.press("跳过照片")
    await head.press("重大")
    [hazard] = await bot_stage.services.storage.hazards.open_for_institution(home, now=bot_stage.clock.now())
    assert hazard.description.endswith("：" + note)
    assert "描述太长" not in head.last_message().text


async def test_an_item_still_being_corrected_from_last_month_is_not_reported_again(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    head = people.head
    total = await _item_count(bot_stage)
    home = await institution_id(bot_stage, HOME)
    storage = bot_stage.services.storage

    await head.send_text("/selfcheck")
    await head.press("❌ 不合格")
    await head.send_text("两具灭火器已过期")
    await head.press("跳过照片")
    await head.press("✓ 较大")
    await _answer_ok(head, total - 1)
    [hazard] = await storage.hazards.open_for_institution(home, now=bot_stage.clock.now())

    # April: the extinguishers are still on order. The same ❌ points at March's hazard, with its code said.
    bot_stage.clock.set(local(2026, 4, 8))
    await head.send_text("/selfcheck")
    await head.press("❌ 不合格")
    await head.send_text("新灭火器仍在采购中")
    await head.press("跳过照片")
    pressed = await head.press("✓ 较大")
    assert pressed.answer is not None and f"该项的隐患 {hazard.code} 仍在整改中" in (pressed.answer.text or "")
    await _answer_ok(head, total - 1)
    summary = head.last_message().text
    assert "月度隐患自查（2026年4月）已完成" in summary and f"→ 隐患 {hazard.code}" in summary
    assert [h.id for h in await storage.hazards.open_for_institution(home, now=bot_stage.clock.now())] == [hazard.id]
    april = await storage.calendar.inspection_for(home, "2026-04")
    assert april is not None
    assert [a.hazard_id for a in (await storage.calendar.answers(april.id)).values() if a.answer is Answer.FAIL] == [
        hazard.id]

    # Once that hazard is closed, the same item failing again is a new problem: a new hazard.
    await bot_stage.services.storage.db.execute("UPDATE hazards SET state = 'closed' WHERE id = ?", (hazard.id,))
    bot_stage.clock.set(local(2026, 5, 6))
    await head.send_text("/selfcheck")
    await head.press("❌ 不合格")
    await head.send_text("一具灭火器压力不足")
    await head.press("跳过照片")
    pressed = await head.press("✓ 较大")
    [new] = await storage.hazards.open_for_institution(home, now=bot_stage.clock.now())
    assert new.id != hazard.id
    assert pressed.answer is not None and new.code in (pressed.answer.text or "")


async def test_an_item_still_being_corrected_at_another_home_is_no_reason_not_to_report_it_here(
    bot_stage: Stage,
) -> None:
    """The earlier hazard a ❌ points at is this home's own: another home failing the same item, its hazard still
    being corrected, neither swallows this home's finding nor shows this head that home's hazard code."""
    bot_stage.clock.set(local(2026, 3, 12))
    people = await cast(bot_stage)
    storage = bot_stage.services.storage
    other = bot_stage.sandbox.user(user_id=OTHER_HOME_HEAD, first_name="吴院长", language_code="zh-hans")
    await bot_stage.register(other, Role.HEAD, institution=OTHER_HOME)
    other_home, home = await institution_id(bot_stage, OTHER_HOME), await institution_id(bot_stage, HOME)
    other_institution, institution = await storage.institutions.get(other_home), await storage.institutions.get(home)
    assert other_institution is not None and institution is not None
    assert items_for(other_institution)[0].code == items_for(institution)[0].code  # the same first item

    await other.send_text("/selfcheck")
    await other.press("❌ 不合格")
    await other.send_text("两具灭火器已过期")
    await other.press("跳过照片")
    await other.press("✓ 较大")
    [theirs] = await storage.hazards.open_for_institution(other_home, now=bot_stage.clock.now())

    head = people.head
    await head.send_text("/selfcheck")
    await head.press("❌ 不合格")
    await head.send_text("疏散通道堆放杂物")
    await head.press("跳过照片")
    pressed = await head.press("✓ 较大")
    [ours] = await storage.hazards.open_for_institution(home, now=bot_stage.clock.now())
    assert ours.id != theirs.id and ours.institution_id == home
    assert pressed.answer is not None and ours.code in (pressed.answer.text or "")
    seen = " ".join([*(m.text or "" for m in head.messages()), *(a.text or "" for a in head.answers())])
    assert theirs.code not in seen
    march = await storage.calendar.inspection_for(home, "2026-03")
    assert march is not None
    assert [a.hazard_id for a in (await storage.calendar.answers(march.id)).values() if a.answer is Answer.FAIL] == [
        ours.id]


async def test_on_the_months_last_day_a_missed_month_does_not_hide_that_this_one_is_due_today(
    bot_stage: Stage,
) -> None:
    """30 November, October never done: /drills and /institution said only "October missed, 30 days overdue".
    October's sheet closed on 31 October and cannot be done; November's can, until tonight. Both are said, and the
    head's /drills offers November's sheet beside the drill."""
    bot_stage.clock.set(local(2026, 11, 30))
    people = await cast(bot_stage)
    head = people.head
    overdue = "⏰ 已逾期：2026年10月未完成月度隐患自查，已逾期 30 天；2026年11月的自查今天（2026-11-30）截止。"

    await head.send_text("/drills")
    record = head.last_message()
    assert overdue in record.text.split("\n")
    assert record.buttons == [["🔥 记录演练", "📋 开始本月自查"]]
    await head.send_text("/institution")
    assert overdue in head.last_message().text.split("\n")

    await head.send_text("/drills")
    await head.press("📋 开始本月自查")
    assert "月度隐患自查（2026年11月）" in head.last_message().text
    await _answer_ok(head, await _item_count(bot_stage))
    await head.send_text("/drills")
    record = head.last_message()
    assert "✅ 合规：2026年11月的月度隐患自查已完成。" in record.text and "未完成月度隐患自查" not in record.text
    assert record.buttons == [["🔥 记录演练"]]  # nothing left to start this month: a second run is /selfcheck's


async def test_on_the_last_day_it_says_due_today_not_zero_days_left(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 10, 20))
    people = await cast(bot_stage, "en")
    head = people.head
    await head.send_text("/selfcheck")
    await _answer_ok(head, await _item_count(bot_stage), "✅ OK")

    bot_stage.clock.set(local(2026, 11, 29))
    await head.send_text("/drills")
    assert "the monthly self-inspection for November 2026 is not done; 1 day left (until 2026-11-30)." in (
        head.last_message().text
    )
    bot_stage.clock.set(local(2026, 11, 30))
    await head.send_text("/drills")
    text = head.last_message().text
    assert "⚠️ Due today: the monthly self-inspection for November 2026 is not done; today (2026-11-30) is the " \
        "last day." in text
    assert "0 days" not in text
    await head.send_text("/lang")
    await head.press("中文")
    await head.send_text("/drills")
    assert "⚠️ 今天截止：2026年11月的月度隐患自查尚未完成，今天（2026-11-30）是最后一天。" in head.last_message().text
    assert "还剩 0 天" not in head.last_message().text
