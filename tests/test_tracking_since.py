"""Institutions with no `tracked_from` of their own (rows made before migration 0013) are judged from the day the
database first ran, not for every period back to the beginning of time: a city that started using the bot on 10
September is not told in /stats that its homes missed the self-inspections of January to August, nor in /drills
that they missed the first half-year's fire drill. The TRACKING_SINCE setting names another day, or `all`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FakeClock
from bot.stage import stage
from tests.calendar_people import local
from tests.hazard_people import cast
from tests.test_new_institutions import OLD_NAME, line_of


async def test_a_city_that_began_on_10_september_has_not_missed_what_came_before(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 9, 10, 1, tzinfo=UTC))  # the database first runs, the demo city loaded
    async with stage(tmp_path / "safety.db", clock=clock, settings_options={"TRACKING_SINCE": ""}) as bot_stage:
        people = await cast(bot_stage)
        staff = people.staff
        await staff.send_text("/drills")
        pending = "🟢 2026年下半年尚未开展消防演练，须在 2026-12-31 前开展。"
        assert line_of(staff.last_message().text, OLD_NAME) == pending  # not overdue on the first half-year

        bot_stage.clock.set(local(2026, 11, 28, 10))
        await staff.send_text("/stats")
        figures = staff.last_message()
        await staff.press("本年", figures)
        # September and October, for each of Lucheng's two demo homes: not the eleven months of 2026; November is
        # not due before the 30th, so it is under way, out of the rate.
        assert "已结束月份的月度自查完成 0/4（0%）；本月进行中：已完成 0/2（2026-11-30 截止）" in figures.text


async def test_tracking_since_all_judges_every_period(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 9, 10, 1, tzinfo=UTC))
    async with stage(tmp_path / "safety.db", clock=clock, settings_options={"TRACKING_SINCE": "all"}) as bot_stage:
        people = await cast(bot_stage)
        await people.staff.send_text("/drills")
        assert line_of(people.staff.last_message().text, OLD_NAME).startswith("⏰ 已逾期：2026年上半年未开展消防演练")
