"""Fire drills in the figures of the month their half-year or year ends in, and drills logged after their period
closed (补录), through the emulator with the clock moving over 30 June / 1 July and 31 December / 1 January.

The stage tracks duties from 1 January 2026, as a city that began then: the second half of 2025 is nobody's miss.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.clock import FakeClock
from bot.domain.compliance import DrillKind
from bot.domain.roles import Role
from bot.domain.stats import PeriodKind, StatsPeriod
from bot.i18n import Translator
from bot.sandbox import SimUser
from bot.services.calendar import DrillEntry
from bot.services.exports import ExportFormat
from bot.stage import Stage, stage
from tests.calendar_people import institution_id, local
from tests.hazard_people import HEAD, cast, telegram_photo
from tests.warning_people import drain

CITY_ADMIN = 50
LUCHENG_HOME, NANHUI = "WZ-330302-ELDER-01", "WZ-330302-ELDER-02"  # 鹿城区社会福利院, 南汇: half-yearly
LONGWAN_SOCIAL = "WZ-330303-SOCIAL-01"  # 龙湾区爱心志愿者协会: yearly
RUIAN_FUNERAL = "WZ-330381-FUNERAL-01"  # 瑞安市殡仪馆: yearly
JUNE = StatsPeriod(PeriodKind.MONTH, date(2026, 6, 1), date(2026, 6, 30))


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[Stage]:
    clock = FakeClock(datetime(2026, 1, 2, 2, tzinfo=UTC))
    async with stage(tmp_path / "safety.db", clock=clock, settings_options={"TRACKING_SINCE": "2026-01-01"}) as s:
        yield s
        assert s.sandbox.violations == [], s.sandbox.violations


async def admin_of(city: Stage) -> SimUser:
    admin = city.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await city.register(admin, Role.CITY)
    return admin


async def log_fire_drill(city: Stage, actor_id: int, code: str, held_on: date) -> None:
    """A fire drill logged through the service at the stage's current time (the test sets it)."""
    actor = await city.services.storage.users.get(actor_id)
    assert actor is not None
    entry = DrillEntry(
        institution_id=await institution_id(city, code), kind=DrillKind.FIRE, held_on=held_on, participants=20,
        duration_minutes=30, practised="夜间火灾疏散", photos=[telegram_photo(city)],
    )
    await city.services.drills.log(actor, entry)


async def test_june_and_december_rankings_judge_the_drill_period_that_ends_with_them(city: Stage) -> None:
    admin = await admin_of(city)
    city.clock.set(local(2026, 3, 10))
    await log_fire_drill(city, CITY_ADMIN, LUCHENG_HOME, date(2026, 3, 10))  # 南汇 holds none in the first half
    await log_fire_drill(city, CITY_ADMIN, RUIAN_FUNERAL, date(2026, 3, 10))  # its drill for all of 2026

    city.clock.set(local(2026, 6, 30, 20))  # June still running: the half-year is due today, not yet missed
    await admin.send_text("/ranking")
    await admin.press("本月")
    running = admin.last_message().text
    assert "全市排名 · 2026年6月" in running
    assert "演练 100%" in _county(running, "鹿城区") and "演练 100%" in _county(running, "洞头区")

    city.clock.set(local(2026, 7, 1, 10))  # June is over, and so is the first half-year
    await admin.send_text("/ranking")
    june = admin.last_message().text
    assert "全市排名 · 2026年6月" in june
    assert "演练 50%" in _county(june, "鹿城区")  # 南汇 missed it; the welfare home did not
    assert "演练 0%" in _county(june, "洞头区")  # neither Dongtou home held one
    assert "演练 100%" in _county(june, "瑞安市")  # a yearly duty: 2026 runs to December
    assert "演练 100%" in _county(june, "龙湾区")
    await admin.send_text("/stats")
    assert "演练 50%" in _county(admin.last_message().text, "鹿城区")  # /stats says the same on the same morning
    await admin.send_text("/notice")
    notice = admin.last_message().text
    drills = notice.split("（二）消防演练逾期机构")[1].split("（三）")[0]
    assert "鹿城区南汇街道居家养老服务中心" in drills and "洞头区中心敬老院" in drills
    assert "鹿城区社会福利院" not in drills and "瑞安市殡仪馆" not in drills

    city.clock.set(local(2026, 12, 31, 20))  # December running: 2026 is due today for the yearly ones
    await admin.send_text("/ranking")
    await admin.press("本月")
    assert "演练 100%" in _county(admin.last_message().text, "龙湾区")

    city.clock.set(local(2027, 1, 1, 10))
    await admin.send_text("/ranking")
    december = admin.last_message().text
    assert "全市排名 · 2026年12月" in december
    assert "演练 0%" in _county(december, "龙湾区")  # no drill in all of 2026
    assert "演练 100%" in _county(december, "瑞安市")  # March's drill covers 2026
    assert "演练 0%" in _county(december, "鹿城区")  # neither Lucheng home held one in the second half
    assert "演练 0%" in _county(december, "温州市（市直）")  # the city's own homes held none in 2026


def _county(text: str, name: str) -> str:
    """The line of a county in a ranking ("3. 洞头区（并列）：…") or /stats ("洞头区：…")."""
    for row in text.split("\n"):
        bare = row.strip().split(". ", 1)[-1]
        if bare.startswith((f"{name}：", f"{name}（并列）：", f"{name}另列")):
            return row
    raise AssertionError(f"no line for {name} in:\n{text}")


async def test_a_drill_logged_after_its_half_year_ended_is_a_late_entry_staff_are_told_of(
    city: Stage, tmp_path: Path
) -> None:
    """The welfare home's head logs, on 10 July, a fire drill held on 20 June, after the county was told on 1 July
    that the first half-year was missed. It counts as held (the seed asks that drills be held), but it is marked
    补录 with its logging day wherever it is read, the county clerk is told so as to check it, and June's ranking
    and notice, told on 1 July, stay as they were."""
    people = await cast(city)
    admin = await admin_of(city)
    city.clock.set(local(2026, 7, 1, 10))
    await people.staff.send_text("/drills")
    assert "⏰ 已逾期：2026年上半年未开展消防演练" in _block(people.staff.last_message().text, "鹿城区社会福利院")
    await admin.send_text("/ranking")
    assert "演练 0%" in _county(admin.last_message().text, "鹿城区")

    city.clock.set(local(2026, 7, 10, 10))
    logged = await drill_in_chat(people.head, "2026-06-20")
    assert "已记录演练：消防疏散演练，2026-06-20" in logged
    assert ("📝 这次演练在2026年上半年结束后才录入，记为补录（演练日期 2026-06-20，录入日期 2026-07-10）。"
            "2026年上半年结束时没有消防演练记录，已计为逾期；已告知县（市、区）民政部门核实这条补录。") in logged
    await drain(city)
    news = people.staff.last_message().text
    assert news == ("📝 演练补录，请核实：鹿城区社会福利院 于 2026-07-10 补录了 2026-06-20 的消防疏散演练，"
                    "计入2026年上半年。该期结束时没有消防演练记录，已计为逾期（当期排名和通报不变）。"
                    "补录人：陈院长。发送 /drills 查看演练记录。")

    await people.staff.send_text("/drills")
    overview = _block(people.staff.last_message().text, "鹿城区社会福利院")
    # Held in the first half-year: the home owes only the second now.
    assert "🟢 2026年下半年尚未开展消防演练，须在 2026-12-31 前开展。" in overview
    await people.staff.press("鹿城区社会福利院")
    record = people.staff.last_message().text
    assert "• 2026-06-20 消防疏散演练 · 30 人 · 40 分钟 · 📝 2026-07-10 补录" in record
    await people.staff.send_text("/institution 鹿城区社会福利院")
    assert "最近一次演练：2026-06-20（消防疏散演练，2026-07-10 补录）" in people.staff.last_message().text

    await admin.send_text("/ranking")  # June as it was told on 1 July: the entry came after June
    assert "演练 0%" in _county(admin.last_message().text, "鹿城区")
    await admin.send_text("/notice")
    drills = admin.last_message().text.split("（二）消防演练逾期机构")[1].split("（三）")[0]
    assert "鹿城区社会福利院" in drills

    city.clock.set(local(2026, 8, 1, 10))  # July, judged at its end: the home is not late any more
    await admin.send_text("/ranking")
    assert "全市排名 · 2026年7月" in admin.last_message().text
    assert "演练 50%" in _county(admin.last_message().text, "鹿城区")  # 南汇 still owes the first half-year

    path = tmp_path / "june.xlsx"
    insight = city.services.insight
    admin_user = await city.services.storage.users.get(CITY_ADMIN)
    assert admin_user is not None
    await insight.exports.export(insight.stats.scope(admin_user), JUNE, ExportFormat.XLSX, path,
                                 Translator("zh_CN", strict=True), months=["2026-06"])
    register = list(load_workbook(path)["演练台账"].iter_rows(values_only=True))
    assert register[0][-1] == "补录" and register[1][6] == datetime(2026, 6, 20) and register[1][-1] == "补录"

    audit = await city.services.storage.audit.list(action_prefix="drill.logged")
    assert audit[-1].detail["late_for"] == "2026-H1" and audit[-1].detail["fills_miss"] is True


async def test_a_second_drill_entered_late_for_a_period_already_covered_tells_nobody(city: Stage) -> None:
    people = await cast(city)
    city.clock.set(local(2026, 5, 10))
    await log_fire_drill(city, HEAD, LUCHENG_HOME, date(2026, 5, 10))  # in time
    city.clock.set(local(2027, 1, 3, 10))
    sent_before = len(people.staff.messages())
    logged = await drill_in_chat(people.head, "2026-06-20")
    assert ("📝 这次演练在2026年上半年结束后才录入，记为补录（演练日期 2026-06-20，录入日期 2027-01-03），"
            "记录中会标明。") in logged
    await drain(city)
    await people.head.send_text("/drills")
    assert "• 2026-06-20 消防疏散演练 · 30 人 · 40 分钟 · 📝 2027-01-03 补录" in people.head.last_message().text
    assert "• 2026-05-10 消防疏散演练 · 20 人 · 30 分钟\n" in people.head.last_message().text + "\n"
    assert len(people.staff.messages()) == sent_before


async def drill_in_chat(head: SimUser, day: str) -> str:
    """The head logs a fire drill held on `day` through /drill; the confirmation's text."""
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.send_text(day)
    await head.send_text("30")
    await head.send_text("40")
    await head.send_text("夜间火灾疏散")
    await head.send_photo()
    await head.press("完成")
    await head.send_text("无")
    await head.press("✅ 确认记录")
    return head.last_message().text


def _block(text: str, institution: str) -> str:
    """An institution's lines in the staff's /drills overview: its name, then its two status lines."""
    rows = text.split("\n")
    start = rows.index(institution)
    return "\n".join(rows[start:start + 3])


async def test_a_late_drill_entry_is_told_to_the_county_clerk_not_to_the_city_admins(city: Stage) -> None:
    """The county whose home it is checks a 补录; the city admins hear of it only where a county has no staff."""
    people = await cast(city)
    admin = await admin_of(city)
    city.clock.set(local(2026, 7, 10, 10))
    await drill_in_chat(people.head, "2026-06-20")
    await drain(city)
    assert any("演练补录，请核实" in m.text for m in people.staff.messages())
    assert not any("演练补录" in m.text for m in admin.messages())
