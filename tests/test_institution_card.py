"""/institution (机构档案): one institution whole for the phone call "how is that home doing?", found by part of its
name, in scope, with its heads, its unresolved hazards, its drills and self-inspections."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.catalog import HazardArea, Severity
from bot.domain.compliance import DrillKind
from bot.domain.lifecycle import HazardAction
from bot.domain.roles import Role
from bot.services.calendar import DrillEntry
from bot.stage import Stage
from tests.calendar_people import institution_id
from tests.hazard_people import (
    HEAD,
    HOME,
    LONGWAN,
    LONGWAN_STAFF,
    LUCHENG,
    STAFF,
    act,
    cast,
    long_named_centres,
    opened,
    report,
    submitted,
    telegram_photo,
)
from tests.small_city import without_english_name


async def log_drill(stage: Stage, days_ago: int = 3) -> str:
    services = stage.services
    head = await services.storage.users.get(HEAD)
    assert head is not None
    held_on = services.drills.today() - timedelta(days=days_ago)
    await services.drills.log(head, DrillEntry(
        institution_id=await institution_id(stage, HOME), kind=DrillKind.FIRE, held_on=held_on, participants=20,
        duration_minutes=30, practised="疏散演练，检查消防通道", photos=[telegram_photo(stage)]))
    await stage.sandbox.settle()
    return held_on.isoformat()


def duty_lines(text: str) -> list[str]:
    """The drill and self-inspection status lines of /drills' record (each starts with its icon)."""
    return [line for line in text.splitlines() if line[:1] in ("✅", "🟢", "⚠", "⏰")]


async def test_staff_find_one_home_and_see_it_whole(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    closed = await report(bot_stage, area=HazardArea.ELECTRICITY)
    await act(bot_stage, STAFF, await submitted(bot_stage, closed), HazardAction.ACCEPT)
    urgent = await report(bot_stage, severity=Severity.SERIOUS)
    later = await report(bot_stage, area=HazardArea.GAS)
    sensitive = await report(bot_stage, area=HazardArea.RIGHTS)
    day = await log_drill(bot_stage)
    bot_stage.clock.advance(timedelta(days=2))  # the 重大 one (24 hours) is now late
    await people.head.send_text("/drills")
    drills_record = people.head.last_message().text

    await people.staff.send_text("/institution 社会福利院")
    card = people.staff.last_message()
    text = card.text
    assert "机构档案：鹿城区社会福利院" in text and "类型：养老机构 · 所在地：鹿城区 / 五马街道" in text
    assert "状态：在册" in text and "负责人：陈院长" in text
    # Staff count the rights-protection hazard with the others, and see it listed.
    assert "未办结隐患 3 条，其中逾期 1 条：已上报 1、已交办 2" in text
    assert f"⏰ {urgent.code} · 已交办（已逾期）· 用火 · 重大" in text
    assert f"• {later.code} · 已交办 · 燃气 · 一般" in text and f"• {sensitive.code} · 已上报 · 权益保障" in text
    assert closed.code not in text and "近 90 天已销号 1 条" in text
    # The duties in /drills' words, and the latest records.
    assert duty_lines(drills_record) and all(line in text for line in duty_lines(drills_record))
    assert f"最近一次演练：{day}（消防疏散演练）" in text and "最近一次月度自查：尚无记录" in text
    assert "1380" not in text and "+86" not in text  # never a phone number
    # The most urgent first, each a tap from its details; then Close, for county staff (test_institution_closure).
    # Each button names the hazard: ⏰ when late, area, description; a rights-protection one its code instead.
    assert [row[0] for row in card.buttons] == [
        "⏰ 用火 · 消防通道被杂物堵塞", "燃气 · 消防通道被杂物堵塞", f"权益保障 · {sensitive.code}", "⛔ 停用机构"
    ]
    assert opened(card) == [urgent.id, later.id, sensitive.id]
    await people.staff.press("燃气 · 消防通道被杂物堵塞", card)
    assert any(f"隐患 {later.code}" in m.text for m in people.staff.messages()[-4:])


async def test_several_matches_come_as_pages_of_buttons_and_stale_pages_are_told(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await long_named_centres(bot_stage, f"{LUCHENG}001", count=10)

    await people.staff.send_text("/institution 鹿城区")
    listing = people.staff.last_message()
    assert "名称含“鹿城区”的机构共 12 个（第 1/2 页）" in listing.text
    assert len(listing.buttons) == 9 and listing.buttons[-1] == ["下一页 ▶"]
    await people.staff.press("下一页 ▶", listing)
    assert listing.edited and "第 2/2 页" in listing.text and len(listing.buttons) == 5
    await people.staff.press(listing.buttons[0][0], listing)
    card = people.staff.last_message()
    assert "机构档案：" in card.text and "未办结隐患：无" in card.text and "负责人：⚠️ 尚无人登记" in card.text
    assert "演练和月度自查的到期提醒也由县级民政代收" in card.text  # the stand-ins

    # A page that no longer exists shows the last one, and says so.
    serial = (await bot_stage.services.storage.searches.last(STAFF))
    assert serial is not None
    await people.staff.press_data(listing, f"ic:page:{serial.serial}:7")
    assert "第 2/2 页" in listing.text
    assert people.staff.answers()[-1].text == "这一页已不存在（符合的机构变少了），现在显示的是最后一页。"
    # A newer search replaces the list: the old list's buttons say so instead of paging the new one.
    await people.staff.send_text("/institution 养老服务")
    await people.staff.press_data(listing, f"ic:page:{serial.serial}:0")
    assert "之前一次查找" in (people.staff.answers()[-1].text or "")
    assert "第 2/2 页" in listing.text


async def test_a_head_sees_their_own_home_without_its_rights_protection_hazards(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    seen = await report(bot_stage)
    sensitive = await report(bot_stage, area=HazardArea.RIGHTS)
    closed_sensitive = await report(bot_stage, area=HazardArea.RIGHTS)
    await act(bot_stage, STAFF, closed_sensitive, HazardAction.SUBMIT_RECTIFICATION, reason="已处置完毕", photos=1)
    other_staff = bot_stage.sandbox.user(user_id=48, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(other_staff, Role.COUNTY, region=LUCHENG)
    await act(bot_stage, 48, closed_sensitive, HazardAction.ACCEPT)

    await people.head.send_text("/institution")
    text = people.head.last_message().text
    assert "机构档案：鹿城区社会福利院" in text
    assert "未办结隐患 1 条，其中逾期 0 条：已交办 1" in text and seen.code in text
    assert sensitive.code not in text and "权益保障" not in text and "近 90 天已销号 0 条" in text
    assert people.head.last_message().buttons == [["用火 · 消防通道被杂物堵塞"]]
    assert opened(people.head.last_message()) == [seen.id]
    # A head searching finds their own home alone.
    await people.head.send_text("/institution 南汇")
    assert "没有名称含“南汇”的在册机构" in people.head.last_message().text


async def test_another_countys_home_is_refused_and_recorded(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    longwan = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="林科长", language_code="zh-hans")
    await bot_stage.register(longwan, Role.COUNTY, region=LONGWAN)
    home = await institution_id(bot_stage, HOME)

    await longwan.send_text("/institution 社会福利院")
    assert "没有名称含“社会福利院”的在册机构" in longwan.last_message().text
    await longwan.press_data(longwan.last_message(), f"ic:show:{home}")
    refusal = longwan.answers()[-1]
    # Told as a home that does not exist: "outside your scope" confirmed to an outsider that it does.
    assert refusal.show_alert and refusal.text == "找不到这家机构，或您无权查看。"
    assert "机构档案" not in longwan.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert any(e.actor_id == LONGWAN_STAFF and e.target == f"institution:{home}" for e in audit)
    await longwan.press_data(longwan.last_message(), "ic:show:999999")  # no home at all: the very same answer
    assert longwan.answers()[-1].text == refusal.text

    # A cadre has no institution files; a search too short is asked for again.
    await people.cadre.send_text("/institution 社会福利院")
    assert "机构档案仅供" in people.cadre.last_message().text
    await people.staff.send_text("/institution 院")
    assert people.staff.last_message().text == "请至少输入机构名称中的 2 个字再查找，例如：/institution 福利院"


async def test_in_english_with_a_blocked_head_and_a_home_made_inactive(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    hazard = await report(bot_stage)
    closed = await report(bot_stage)
    await act(bot_stage, STAFF, await submitted(bot_stage, closed), HazardAction.ACCEPT)
    await bot_stage.services.storage.users.mark_unreachable(HEAD, bot_stage.clock.now())

    await people.staff.send_text("/institution Social Welfare Home")
    text = people.staff.last_message().text
    assert "Institution file: Lucheng District Social Welfare Home" in text
    assert "Type: elderly care · Place: Lucheng District" in text and "Status: active" in text
    assert "Head: Chen (🚫 has blocked the bot" in text
    assert "📋 1 unresolved hazard (0 overdue): Assigned 1" in text and hazard.code in text
    assert "✅ 1 closed in the last 90 days" in text
    assert "Last drill: none recorded" in text and "Last monthly self-inspection: none recorded" in text

    await people.staff.send_text("/institution home")
    listing = people.staff.last_message()
    assert "2 institutions have \"home\" in their name (page 1 of 1)" in listing.text
    await bot_stage.services.storage.institutions.set_active(await institution_id(bot_stage, HOME), False)
    await people.staff.press("Lucheng District Social Welfare Home", listing)
    assert people.staff.answers()[-1].text == "This institution has been deactivated."
    card = people.staff.last_message().text
    assert "Status: ⛔ deactivated" in card and "owes none" in card


async def test_an_english_reader_sees_the_chinese_name_of_a_home_with_no_english_one(bot_stage: Stage) -> None:
    # A city's data file may leave `name_en` empty; a blank name would leave an English reader nothing to go by.
    people = await cast(bot_stage, "en")
    storage = bot_stage.services.storage
    home = await storage.institutions.get(await institution_id(bot_stage, HOME))
    assert home is not None
    await storage.institutions.upsert(without_english_name(home))

    await people.staff.send_text("/institution 社会福利院")
    assert "Institution file: 鹿城区社会福利院" in people.staff.last_message().text


async def test_many_matches_come_in_natural_order_with_a_hint_to_type_more(bot_stage: Stage) -> None:
    """/institution 敬老院 in a big county: 116 matches sorted as text (第10街道0号, 120号, 130号 … 290号, 30号) and
    nothing said about narrowing them. Numbers sort as numbers, and a search over a page says to type more."""
    people = await cast(bot_stage)
    await long_named_centres(bot_stage, f"{LUCHENG}001", count=20)

    await people.staff.send_text("/institution 照料中心")
    listing = people.staff.last_message()
    assert "名称含“照料中心”的机构共 20 个（第 1/3 页）" in listing.text
    assert "输入更完整的名称可缩小范围" in listing.text
    numbers = [int(label.removeprefix("鹿城区五马街道第").removesuffix("居家养老服务照料中心"))
               for row in listing.buttons for label in row if label.startswith("鹿城区五马街道第")]
    assert numbers == [1, 2, 3, 4, 5, 6, 7, 8]  # not 1, 10, 11 … 16

    await people.staff.send_text("/institution 第12居家")
    assert "输入更完整的名称" not in people.staff.last_message().text  # one match: its card
