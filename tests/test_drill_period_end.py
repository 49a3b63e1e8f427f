"""Fire drills in the figures of the month their half-year or year ends in, and drills logged after their period
closed (补录), through the emulator with the clock moving over 30 June / 1 July and 31 December / 1 January.

The stage tracks duties from 1 January 2026, as a city that began then: the second half of 2025 is nobody's miss.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.compliance import DrillKind
from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.services.calendar import DrillEntry
from bot.stage import Stage, stage
from tests.calendar_people import institution_id, local
from tests.hazard_people import telegram_photo

CITY_ADMIN = 50
LUCHENG_HOME, NANHUI = "WZ-330302-ELDER-01", "WZ-330302-ELDER-02"  # 鹿城区社会福利院, 南汇: half-yearly
LONGWAN_SOCIAL = "WZ-330303-SOCIAL-01"  # 龙湾区爱心志愿者协会: yearly
RUIAN_FUNERAL = "WZ-330381-FUNERAL-01"  # 瑞安市殡仪馆: yearly


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
