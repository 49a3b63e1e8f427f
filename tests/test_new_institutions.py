"""An institution added in the middle of a period is judged from the day it was added, never for periods that ended
before it existed: a home imported in July did not miss the first half-year's fire drill nor June's
self-inspection. Through the emulator: the import as a city admin sends it, then /drills, /stats, /ranking, the
daily digest and the reminders, as county staff and the new home's head see them."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.jobs import plan_once
from bot.sandbox import SimUser
from bot.stage import Stage
from storage.models import Group, GroupPurpose
from tests.calendar_people import local
from tests.hazard_people import LUCHENG, STAFF, cast
from tests.test_reminder_delivery import sweep

CITY_ADMIN, NEW_HEAD = 50, 60
NEW_HOME, NEW_NAME = "WZ-330302-ELDER-09", "鹿城区新建颐养院"
OLD_NAME = "鹿城区社会福利院"  # HOME, from the demo data: judged for every period, and no drill logged
DIGESTS = -1002


async def import_new_home(stage: Stage) -> SimUser:
    """A city admin imports the new home by sending the spreadsheet; its head is invited and registers."""
    admin = stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await stage.register(admin, Role.CITY)
    sheet = f"机构编码,机构名称,机构类型,区划代码\n{NEW_HOME},{NEW_NAME},养老机构,330302001\n"
    await admin.send_document(sheet.encode(), "机构.csv", "text/csv")
    assert "新增 1 家" in admin.last_message().text
    head = stage.sandbox.user(user_id=NEW_HEAD, first_name="林院长", language_code="zh-hans")
    await stage.register(head, Role.HEAD, institution=NEW_HOME)
    return head


def line_of(text: str, name: str) -> str:
    """The status under an institution's name in a list such as /drills'."""
    lines = text.splitlines()
    return lines[lines.index(name) + 1]


async def test_a_home_imported_in_july_has_not_missed_the_first_half_years_drill(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 7, 15, 10))
    people = await cast(bot_stage)
    staff = people.staff
    digests = bot_stage.sandbox.group(chat_id=DIGESTS, title="鹿城区民政安全日报群")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=DIGESTS, title=digests.title, region_code=LUCHENG, purpose=GroupPurpose.DIGESTS,
              bound_by=STAFF, bound_at=bot_stage.clock.now())
    )
    new_head = await import_new_home(bot_stage)

    await staff.send_text("/drills")
    listing = staff.last_message().text
    assert line_of(listing, NEW_NAME) == "🟢 2026年下半年尚未开展消防演练，须在 2026-12-31 前开展。"
    assert line_of(listing, OLD_NAME).startswith("⏰ 已逾期：2026年上半年未开展消防演练")
    assert listing.index(OLD_NAME) < listing.index(NEW_NAME)  # overdue first

    await new_head.send_text("/drills")
    own = new_head.last_message().text
    assert "2026年下半年尚未开展消防演练" in own and "已逾期" not in own

    await staff.send_text("/stats")
    figures = staff.last_message().text
    assert "消防演练达标 1/3" in figures  # the new home; neither demo home has held one

    await staff.send_text("/ranking")
    ranking = staff.last_message()
    await staff.press("本月", ranking)
    assert f"1. {NEW_NAME}" in ranking.text  # drill compliance is what sets it apart

    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 7, 16, 8, 31))
    await plan_once(bot_stage.services)
    await sweep(bot_stage)
    daily = digests.last_message().text
    assert "鹿城区 安全工作日报" in daily
    assert OLD_NAME in daily and NEW_NAME not in daily  # nothing of the new home's is due yet
    assert [m.text for m in new_head.messages() if "消防演练" in m.text and "逾期" in m.text] == []


async def test_a_home_imported_on_the_first_morning_of_july_is_not_reported_for_june_or_the_half_year(
    bot_stage: Stage,
) -> None:
    """On 1 July the county hears at 09:00 of every home that held no drill in the first half-year and did not
    inspect itself in June. A home imported at 08:00 that morning (and planned by a restart) is not among them."""
    bot_stage.clock.set(local(2026, 7, 1, 8))
    people = await cast(bot_stage)
    staff = people.staff
    new_head = await import_new_home(bot_stage)
    await bot_stage.restart()  # every start plans the day, the new home with the rest
    await plan_once(bot_stage.services)
    home = await bot_stage.services.storage.institutions.get_by_code(NEW_HOME)
    assert home is not None
    periods = await bot_stage.services.storage.db.fetchall(
        "SELECT DISTINCT period FROM reminders WHERE subject_type = 'institution' AND subject_id = ?", (str(home.id),)
    )
    assert {row[0] for row in periods} == {"2026-07", "2026-08"}  # self-inspections ahead; nothing of June or H1

    bot_stage.clock.set(local(2026, 7, 1, 9, 1))
    result = await sweep(bot_stage)
    assert result.failed == []
    to_staff = staff.last_message().text
    assert f"{OLD_NAME} 在2026年上半年未开展消防演练" in to_staff
    assert to_staff.count("未完成2026年6月的月度隐患自查") == 2  # the two demo homes of Lucheng
    assert NEW_NAME not in to_staff
    to_new_head = [m.text for m in new_head.messages() if m.text.startswith(("🔔", "📋", "⏰", "🔥"))]
    assert all("上半年" not in text and "06月" not in text for text in to_new_head)
