"""A contact round as a warning changes around it: raised by someone other than its issuer, joined by a clerk half
way, left by a cadre with people still to reach. Each time the people who answer for the round see it as it is now,
with buttons they can use."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers.contact_followup import refresh_lists, retire_lists
from tests.warning_people import (
    DONGTOU,
    LUCHENG,
    Cast,
    compose_typhoon,
    containing,
    drain,
    enrol,
    register_vulnerable,
    send_typhoon,
)

CLERK, ADMIN_EN = 77, 78


async def orange_raised_to_red_by_the_admin(stage: Stage) -> Cast:
    """林科长 sends 洞头区 an orange typhoon warning; 王局长, about to send the city a red one, raises 林科长's instead
    (⬆️ 改为升级 #1 from the preview)."""
    cast = await enrol(stage)
    await register_vulnerable(stage, cast.cadre)
    await compose_typhoon(cast, level="橙色")
    await cast.dongtou_staff.press("📤 发送")
    await drain(stage)
    admin = cast.admin
    await admin.send_text("/warn")
    for answer in ("台风", "红色", "📄 使用模板", "全市", "下一步 ▶", "下一步 ▶", "下一步 ▶", "24 小时"):
        await admin.press(answer)
    await admin.press("⬆️ 改为升级 #1")
    await admin.press("红色")
    confirm = [label for row in admin.last_message().buttons for label in row if "确认" in label]
    if confirm:
        await admin.press(confirm[0])
    await drain(stage)
    assert containing(cast.head_1, "【升级】台风红色预警")
    return cast


def newcomer(stage: Stage, user_id: int, name: str, language: str = "zh-hans") -> SimUser:
    first, last = name[0], name[1:]
    return stage.sandbox.user(user_id=user_id, first_name=first, last_name=last, language_code=language)


async def test_a_newcomer_is_told_who_issued_the_warning_and_who_raised_it(typhoon_stage: Stage) -> None:
    """The clerk joining under the red warning read "发布人：林 科长" only, though 王局长 raised it from orange: the
    one to ask about the red is 王局长. Both are named, in Chinese and in English."""
    await orange_raised_to_red_by_the_admin(typhoon_stage)
    clerk = newcomer(typhoon_stage, CLERK, "孙科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    admin_en = newcomer(typhoon_stage, ADMIN_EN, "郑处长", "en")
    await typhoon_stage.register(admin_en, Role.CITY)
    await drain(typhoon_stage)
    (told,) = containing(clerk, "台风红色预警（#1）已发布")
    assert "发布人：林 科长。2026-09-10 09:00 由王 局长升级为红色预警。" in told.text
    (told_en,) = containing(admin_en, "Typhoon")
    assert "Issued by 林 科长. Raised to Red by 王 局长 at 2026-09-10 09:00." in told_en.text


async def test_a_clerk_who_joins_during_a_round_hears_of_it_and_gets_the_list_of_people_with_no_cadre(
    typhoon_stage: Stage,
) -> None:
    """孙科员 registered an hour into the typhoon: the notice said nothing of round 1, he had no list of DT-0004 (the
    person nobody is assigned), and two hours on was told 'DT-0004 仍未联系' with nothing to press. Now the notice
    names the round and its progress, and his list of the unassigned follows, with the buttons to record them."""
    cast = await orange_raised_to_red_by_the_admin(typhoon_stage)
    (sheet,) = containing(cast.cadre, "📋 特殊群体联络")
    await cast.cadre.press("✅ 已联系·安全", message=sheet)  # DT-0001
    clerk = newcomer(typhoon_stage, CLERK, "孙科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    await drain(typhoon_stage)
    (told,) = containing(clerk, "台风红色预警（#1）已发布")
    assert "📋 特殊群体联络（第 1 轮 · 洞头区）正在进行：已完成 1 / 4。" in told.text
    assert "其中 1 人暂无联系干部，由县级民政部门联系，名单见下条。" in told.text
    assert told.text.endswith("发送 /warnstatus 查看各机构的回复情况。")
    (mine,) = containing(clerk, "请联系 DT-0004（低保对象）")
    assert "已完成 0 / 1" in mine.text and "DT-0001" not in mine.text
    assert mine.buttons[:2] == [["✅ 已联系·安全"], ["🆘 需要帮助", "📵 联系不上"]]
    await clerk.press("✅ 已联系·安全", message=mine)
    assert "✅ DT-0004" in containing(clerk, "已完成 1 / 1")[0].text
    entries = await typhoon_stage.services.storage.contacts.entries(1)
    assert [e.person_code for e in entries if e.status.value == "safe"] == ["DT-0001", "DT-0004"]

    # A city admin joining hears of the round too; the list stays with the county's staff.
    admin_en = newcomer(typhoon_stage, ADMIN_EN, "郑处长", "en")
    await typhoon_stage.register(admin_en, Role.CITY)
    await drain(typhoon_stage)
    (told_en,) = containing(admin_en, "Typhoon")
    assert "📋 Contact round no. 1 (Dongtou District) is under way: 2 / 4 done." in told_en.text
    assert containing(admin_en, "Done ") == []


async def test_a_cadre_who_leaves_during_a_round_hands_their_people_to_staff_who_can_record_them(
    typhoon_stage: Stage,
) -> None:
    """林科长 deactivated 黄干部 mid-round and was told his 3 people went to the county staff, but staff's list still
    showed DT-0004 alone, with no buttons for DT-0001..3, and the leaver's list kept buttons answering '您的账号已停用'.
    Staff now get a fresh list of everyone with no cadre, with buttons; the old lists lose theirs."""
    cast = await orange_raised_to_red_by_the_admin(typhoon_stage)
    staff, cadre = cast.dongtou_staff, cast.cadre
    (sheet,) = containing(cadre, "📋 特殊群体联络")
    await cadre.press("✅ 已联系·安全", message=sheet)  # DT-0001, before he leaves
    (old,) = containing(staff, "请联系 DT-0004")

    await staff.send_text("/people")
    await staff.press("黄 干部（社区/村干部，洞头区）")
    await staff.press("⛔ 停用账号")
    await staff.press("⛔ 确认停用")
    (done,) = containing(staff, "已停用黄 干部")
    assert "正在进行的联络中其尚未联系的 2 人已转入县级民政部门的联络名单" in done.text
    await drain(typhoon_stage)
    fresh = containing(staff, "请联系 DT-0002（留守儿童）")[0]
    assert fresh.message_id != old.message_id
    assert "已完成 0 / 3" in fresh.text and "DT-0003" in fresh.text and "DT-0004" in fresh.text
    assert "DT-0001" not in fresh.text  # reached by 黄干部 before he left: his, and done

    assert await retire_lists(typhoon_stage.application.bot, typhoon_stage.services) == 2  # the leaver's, the old
    assert await retire_lists(typhoon_stage.application.bot, typhoon_stage.services) == 0  # once
    leavers = next(m for m in cadre.messages() if m.message_id == sheet.message_id)
    assert leavers.buttons == [] and "名单上仍未联系的人员已交县级民政部门跟进" in leavers.text
    stale = next(m for m in staff.messages() if m.message_id == old.message_id)
    assert stale.buttons == [] and "请在新的名单消息中记录结果" in stale.text

    await staff.press("✅ 已联系·安全", message=fresh)  # DT-0002
    await staff.press("📵 联系不上", message=fresh)  # DT-0003
    assert "✅ DT-0002" in containing(staff, "已完成 2 / 3")[0].text
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=5))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (overdue,) = containing(staff, "特殊群体联络超时")
    assert "仍未联系 1" in overdue.text and "未联系：DT-0004" in overdue.text


async def test_a_list_names_the_warning_it_runs_under_after_an_upgrade(typhoon_stage: Stage) -> None:
    """After 王局长 raised 林科长's orange typhoon warning to red, 黄干部's list still read 因台风橙色预警启动 and
    nothing on it said it now ran under the red. The lists are redrawn by the follow-up with both, buttons kept."""
    cast = await orange_raised_to_red_by_the_admin(typhoon_stage)
    (sheet,) = containing(cast.cadre, "📋 特殊群体联络")
    assert "因台风橙色预警启动\n" in sheet.text  # as sent, before the upgrade
    assert await refresh_lists(typhoon_stage.application.bot, typhoon_stage.services) == 2  # the cadre's, the staff's
    assert await refresh_lists(typhoon_stage.application.bot, typhoon_stage.services) == 0  # once
    sheet = containing(cast.cadre, "📋 特殊群体联络")[0]
    assert "因台风橙色预警启动，预警已调整，现按台风红色预警继续" in sheet.text
    assert sheet.buttons[:2] == [["✅ 已联系·安全"], ["🆘 需要帮助", "📵 联系不上"]]
    await cast.cadre.press("✅ 已联系·安全", message=sheet)
    sheet = containing(cast.cadre, "📋 特殊群体联络")[0]
    assert "现按台风红色预警继续" in sheet.text and "✅ DT-0001" in sheet.text
    assert await refresh_lists(typhoon_stage.application.bot, typhoon_stage.services) == 0  # pressing does not undo it


async def test_a_cadres_typed_result_is_offered_for_the_person_it_names(typhoon_stage: Stage) -> None:
    """With his list open, 黄干部 typed "DT-0001 已电话联系，老人安全" and was told how to report a hazard; an hour
    later he was reminded that DT-0001 had not been reached. The text is now offered as DT-0001's result, one tap
    records it (the list redrawn to show it), and a text naming nobody points to the list, with a button to get it
    again."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    await send_typhoon(typhoon_stage, cast)
    cadre = cast.cadre
    (sheet,) = containing(cadre, "📋 特殊群体联络")

    await cadre.send_text("dt-0002 已电话联系，孩子安全")
    offer = cadre.last_message()
    assert "要记录 DT-0002（留守儿童）的联络结果吗？" in offer.text and "dt-0002 已电话联系，孩子安全" in offer.text
    assert "/report" not in offer.text
    assert offer.buttons == [["✅ 已联系·安全"], ["🆘 需要帮助", "📵 联系不上"]]
    await cadre.press("✅ 已联系·安全", message=offer)
    assert "已记录：DT-0002：已联系·安全（已完成 1 / 3" in cadre.last_message().text
    assert cadre.last_message().buttons == []
    sheet = next(m for m in cadre.messages() if m.message_id == sheet.message_id)
    assert "✅ DT-0002" in sheet.text and "已完成 1 / 3" in sheet.text

    await cadre.send_text("已联系")
    pointer = cadre.last_message()
    assert "还有 2 人未联系" in pointer.text and "请在名单消息中点选每人的结果" in pointer.text
    await cadre.press("📋 重新发送名单", message=pointer)
    await drain(typhoon_stage)
    again = containing(cadre, "📋 特殊群体联络（第 1 轮")
    assert len(again) == 2 and again[-1].message_id != sheet.message_id
    assert "请联系 DT-0001" in again[-1].text and again[-1].buttons[0] == ["✅ 已联系·安全"]

    typhoon_stage.clock.advance(timedelta(minutes=65))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (reminder,) = containing(cadre, "⏰ 特殊群体联络")
    assert "还有 2 人未联系：DT-0001、DT-0003" in reminder.text  # DT-0002 counted as reached

    # Someone else's code is nobody of his: the list, not an offer for a person he does not keep in touch with.
    await cadre.send_text("DT-0004 情况不明")
    assert "要记录" not in cadre.last_message().text and "还有 2 人未联系" in cadre.last_message().text


async def test_a_cadre_who_leaves_having_reached_everyone_hands_nothing_over(typhoon_stage: Stage) -> None:
    """黄干部 reached all three of his people, then left while the round was still open (DT-0004, nobody's, still
    pending): nothing of his went to the staff, so they get no fresh list of the unassigned and are told of no one
    handed over; the list they have keeps its buttons."""
    cast = await orange_raised_to_red_by_the_admin(typhoon_stage)
    staff, cadre = cast.dongtou_staff, cast.cadre
    (sheet,) = containing(cadre, "📋 特殊群体联络")
    def his_list() -> BotMessage:
        return next(m for m in cadre.messages() if m.message_id == sheet.message_id)

    for _ in range(3):  # DT-0001..3, each in focus in turn
        await cadre.press("✅ 已联系·安全", message=his_list())
    assert "已完成 3 / 3" in his_list().text
    (old,) = containing(staff, "请联系 DT-0004")

    await staff.send_text("/people")
    await staff.press("黄 干部（社区/村干部，洞头区）")
    await staff.press("⛔ 停用账号")
    await staff.press("⛔ 确认停用")
    (done,) = containing(staff, "已停用黄 干部")
    assert "尚未联系的" not in done.text
    await drain(typhoon_stage)
    assert [m.message_id for m in containing(staff, "请联系 DT-0004")] == [old.message_id]


async def test_a_newcomer_reads_the_last_change_of_level_not_the_first(typhoon_stage: Stage) -> None:
    """王局长 raised 林科长's orange warning to red; an hour later 林科长 lowered it back to orange. A clerk joining
    then is to ask 林科长 about the orange in force, not 王局长 about a red that no longer is."""
    cast = await orange_raised_to_red_by_the_admin(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=1))
    staff = cast.dongtou_staff
    await staff.send_text("/warnings")
    await staff.press("⬇️ 降级")
    await staff.press("🟠 橙色")
    await drain(typhoon_stage)
    clerk = newcomer(typhoon_stage, CLERK, "孙科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    await drain(typhoon_stage)
    (told,) = containing(clerk, "台风橙色预警（#1）已发布")
    assert "发布人：林 科长。2026-09-10 10:00 由林 科长降级为橙色预警。" in told.text
    assert "王 局长" not in told.text


async def test_a_clerk_joining_another_county_is_not_told_of_a_round_outside_it(typhoon_stage: Stage) -> None:
    """王局长's red typhoon warning covers the whole city; only 洞头区 has people to reach, so its round is the only
    one. A clerk joining 鹿城区 hears of the warning over 鹿城区, and nothing of 洞头区's round, which is not theirs
    to work or follow."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    admin = cast.admin
    await admin.send_text("/warn")
    for answer in ("台风", "红色", "📄 使用模板", "全市", "下一步 ▶", "下一步 ▶", "下一步 ▶", "24 小时", "📤 发送"):
        await admin.press(answer)
    await drain(typhoon_stage)
    assert containing(cast.cadre, "📋 特殊群体联络")
    clerk = newcomer(typhoon_stage, CLERK, "钱科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=LUCHENG)
    await drain(typhoon_stage)
    (told,) = containing(clerk, "台风红色预警（#1）已发布")
    assert "鹿城区" in told.text
    assert "特殊群体联络" not in told.text and "洞头区" not in told.text


async def test_a_typed_code_that_only_begins_with_one_of_the_cadres_codes_is_not_offered_for_it(
    typhoon_stage: Stage,
) -> None:
    """"DT-00012" is not DT-0001: a text naming someone else's longer code is not offered as DT-0001's result (one
    tap would record the wrong person as reached); it points to the list as any other text does."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    await send_typhoon(typhoon_stage, cast)
    cadre = cast.cadre
    await cadre.send_text("DT-00012 已电话联系，老人安全")
    pointer = cadre.last_message()
    assert "要记录" not in pointer.text and "还有 3 人未联系" in pointer.text
    await cadre.send_text("DT-0001，已电话联系")  # the code itself, punctuation after it
    assert "要记录 DT-0001（" in cadre.last_message().text


async def test_a_forged_typed_result_press_for_someone_already_reached_is_refused_not_shown(
    typhoon_stage: Stage,
) -> None:
    """A result press names the round and the person: pressed by someone who is not their cadre nor their county's
    staff, it is refused and audited, also when it would change nothing (the person already recorded so), rather
    than answered "已记录：DT-0001…" with the round's progress."""
    cast = await enrol(typhoon_stage)
    await register_vulnerable(typhoon_stage, cast.cadre)
    await send_typhoon(typhoon_stage, cast)
    await cast.cadre.send_text("DT-0001 已电话联系，老人安全")
    await cast.cadre.press("✅ 已联系·安全", message=cast.cadre.last_message())
    entries = await typhoon_stage.services.storage.contacts.entries(1)
    person = next(e.person_id for e in entries if e.person_code == "DT-0001")
    head = cast.head_1
    await head.press_data(head.last_message(), f"crt:1:{person}:safe")
    assert "DT-0001" not in (head.answers()[-1].text or "") and "DT-0001" not in head.last_message().text
    refused = await typhoon_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [entry.actor_id for entry in refused] == [head.id]
