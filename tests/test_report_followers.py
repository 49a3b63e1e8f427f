"""A cadre who finds a hazard already reported adds her report to it (📎 / 💬 on the possible duplicate) and follows
it from then on, as its reporter does: FixMyStreet's "also reported by"."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.catalog import Severity
from bot.domain.lifecycle import HazardAction
from bot.stage import Stage
from tests.hazard_people import HEAD, STAFF, Cast, act, cast, report
from tests.test_hazard_check_back import MORNING, QUESTION
from tests.test_report import HOME_ZH, details

CHARGING = "三楼楼道电动车充电，插座已经烧焦冒烟"


async def add_to_staffs_hazard(people: Cast, severity: str = "重大", *, photos: int = 2) -> str:
    """Staff reported a 一般 用火 hazard at 鹿城区社会福利院; the cadre reports the same, rated `severity`, and presses
    the button that adds her report to it. Returns its code."""
    stage, cadre = people.stage, people.cadre
    hazard = await report(stage, STAFF, severity=Severity.GENERAL, description="三楼楼道有居民私拉电线给电动车充电")
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用火")
    await cadre.press(severity)
    await cadre.send_text(CHARGING)
    for _ in range(photos):
        await cadre.send_photo()
    await cadre.press("完成" if photos else "无照片")
    await cadre.send_text("跳过")
    await cadre.press("县级检查")
    assert f"可能重复：{hazard.code}" in cadre.last_message().text
    await cadre.press(f"📎 把照片追加到 {hazard.code}" if photos else f"💬 补充说明到 {hazard.code}")
    return hazard.code


async def test_a_cadre_who_adds_her_photos_to_a_hazard_follows_it(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    cadre, head, staff = people.cadre, people.head, people.staff
    code = await add_to_staffs_hazard(people)
    said = cadre.last_message().text
    assert f"照片已追加到隐患 {code}" in said and "/mine" in said
    assert "您上报的严重程度“重大”高于该隐患现定的“一般”，已提请区县工作人员核实。" in said
    # The head hears who added what; staff hear the graver severity, to weigh (it is not applied).
    told_head = head.last_message().text
    assert f"李娜 也上报了隐患 {code}" in told_head and "补充照片 2 张" in told_head and CHARGING in told_head
    assert "重大" not in told_head
    told_staff = staff.last_message().text
    assert f"李娜 也上报了隐患 {code}" in told_staff
    assert "李娜 上报的严重程度为“重大”，高于本隐患现定的“一般”" in told_staff and f"/deadline {code}" in told_staff
    hazard = await bot_stage.services.storage.hazards.get_by_code(code)
    assert hazard is not None and hazard.severity is Severity.GENERAL
    # She finds it among her own, marked as one she added to, and may open it; its reporter's is not marked.
    await cadre.send_text("/mine")
    assert f"{code}（补充） · " in cadre.last_message().text
    assert cadre.last_message().text.startswith("📮 我上报和补充过的隐患")  # the heading names what she added to
    await staff.send_text("/mine")
    assert f"{code} · " in staff.last_message().text and "（补充）" not in staff.last_message().text
    assert staff.last_message().text.startswith("📮 我上报的隐患：")
    shown = await details(cadre, code)
    assert "找不到这条隐患" not in shown[0].text and "三楼楼道有居民私拉电线" in shown[0].text
    assert len([m for m in shown if m.kind == "photo"]) == 3  # staff's photo and her two
    # She hears how it ends, as its reporter does.
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已拆除飞线", photos=1)
    # Worded for what she did: she added to it, she did not report it.
    told = cadre.last_message().text
    assert f"📤 您补充过的隐患 {code}" in told and "已完成整改" in told and "您上报的" not in told
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)
    assert code in cadre.last_message().text and "销号" in cadre.last_message().text


async def test_a_description_added_without_photos_follows_too_and_says_so(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    code = await add_to_staffs_hazard(people, "一般", photos=0)
    said = people.cadre.last_message().text
    assert f"说明已补充到隐患 {code}" in said and "严重程度" not in said
    told_head = people.head.last_message().text
    assert f"李娜 也上报了隐患 {code}" in told_head and "未附照片" in told_head and CHARGING in told_head
    await people.cadre.send_text("/mine")
    assert code in people.cadre.last_message().text


async def test_a_follower_reading_english_hears_of_the_hazard_she_added_to(bot_stage: Stage) -> None:
    """A follower's notice of the fix said "The hazard you reported"; she added to it."""
    people = await cast(bot_stage)
    code = await add_to_staffs_hazard(people)
    await people.cadre.send_text("/lang")
    await people.cadre.press("English")
    hazard = await bot_stage.services.storage.hazards.get_by_code(code)
    assert hazard is not None
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已拆除飞线", photos=1)
    told = people.cadre.last_message().text
    assert f"📤 The hazard you added to, {code}" in told and "you reported" not in told
    await people.cadre.send_text("/mine")
    assert f"{code} (added to) · " in people.cadre.last_message().text


async def test_the_check_back_asks_the_reporter_alone_and_a_follower_says_it_came_back_by_a_comment(
    bot_stage: Stage,
) -> None:
    """The 30-day check-back (回访) is one question per closing, to its reporter (README: why). A follower is not
    asked; her closing notice tells her to press 💬 留言 if the problem comes back, and that reaches staff."""
    bot_stage.clock.set(MORNING)
    people = await cast(bot_stage)
    cadre, staff = people.cadre, people.staff
    code = await add_to_staffs_hazard(people)
    hazard = await bot_stage.services.storage.hazards.get_by_code(code)
    assert hazard is not None
    await act(bot_stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已拆除飞线", photos=1)
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)
    closing = cadre.last_message()
    assert "销号" in closing.text and "如发现问题反弹，请点“💬 留言”" in closing.text
    assert closing.buttons[0] == ["💬 留言"]
    bot_stage.clock.advance(timedelta(days=30))
    assert await bot_stage.services.check_backs.ask_due() == 1
    await bot_stage.sandbox.settle()
    assert not any(QUESTION in message.text for message in cadre.messages())
    assert f"回访：隐患 {code}" in staff.last_message().text
    # Hers to tell, as a comment: staff hear it.
    await cadre.press("💬 留言", closing)
    await cadre.send_text("充电的电动车又回来了")
    assert "充电的电动车又回来了" in staff.last_message().text
