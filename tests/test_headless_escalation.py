"""An institution with no registered head has its county's staff stand in for it (tests/test_stand_in_reminders.py);
left like that, 南汇 had its clerk take its reminders for ten months and the city never heard. Now an institution
without a head for more than HEADLESS_ESCALATION_DAYS (30) is named to the city admins on the 1st of each month, with
its county and how long, and staff's /drills counts the institutions in their scope that have none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.compliance import Period
from bot.domain.reminders import ReminderKind
from bot.domain.roles import Role
from bot.i18n import Translator
from bot.jobs import plan_once
from bot.sandbox.driver import SimUser
from bot.services.reminder_items import HeadlessReminderData, ReminderItem
from bot.stage import Stage, stage
from handlers.reminder_text import item_text
from handlers.reminders import keyboard
from tests.calendar_people import TZ, local
from tests.hazard_people import cast
from tests.test_reminder_delivery import sweep
from tests.warning_people import drain

CITY_ADMIN = 90
NANHUI = "鹿城区南汇街道居家养老服务中心"
NANHUI_CODE, NANHUI_HEAD = "WZ-330302-ELDER-02", 47


def since(person: SimUser, seen: int) -> list[str]:
    return [message.text for message in person.messages()[seen:]]


async def first_of_month(bot_stage: Stage, year: int, month: int) -> None:
    bot_stage.clock.set(local(year, month, 1, 9, 1))
    await plan_once(bot_stage.services)
    await sweep(bot_stage)


async def test_a_home_without_a_head_for_a_month_is_named_to_the_city_once_a_month_until_one_registers(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 1, 1, 1, tzinfo=UTC))  # the database first runs on 1 January
    async with stage(tmp_path / "safety.db", clock=clock, settings_options={"TRACKING_SINCE": ""}) as bot_stage:
        people = await cast(bot_stage)  # a head for the welfare home; none for Nanhui's
        admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
        await bot_stage.register(admin, Role.CITY)
        await drain(bot_stage)
        await plan_once(bot_stage.services)
        seen = len(admin.messages())

        await first_of_month(bot_stage, 2026, 2)
        (batch,) = [text for text in since(admin, seen) if "待办提醒" in text]
        # The city hears of Nanhui, a month without a head: in a long morning's message (every headless home of
        # the demo city, and the city-run homes' missed self-inspections, listed first), counted under its county.
        # Lucheng's clerk takes the county's missed duties; the welfare home has its head.
        assert "• 鹿城区 1 项（无负责人 1）" in batch
        # …as the county's own clerk sees in /drills.
        await people.staff.send_text("/drills")
        assert "👤 尚无已注册负责人的机构：1 家。" in people.staff.last_message().text

        # Once a month: nothing of it the next morning.
        seen = len(admin.messages())
        bot_stage.clock.set(local(2026, 2, 2, 9, 1))
        await plan_once(bot_stage.services)
        await sweep(bot_stage)
        assert not [text for text in since(admin, seen) if NANHUI in text or "无负责人" in text]

        # A head registers: March's lines leave Nanhui out, and so does the clerk's /drills.
        bot_stage.clock.set(local(2026, 2, 10, 10))
        nanhui_head = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
        await bot_stage.register(nanhui_head, Role.HEAD, institution=NANHUI_CODE)
        await drain(bot_stage)
        seen = len(admin.messages())
        await first_of_month(bot_stage, 2026, 3)
        assert not [text for text in since(admin, seen) if "• 鹿城区" in text]
        await people.staff.send_text("/drills")
        assert "尚无已注册负责人的机构" not in people.staff.last_message().text

        # The welfare home's head leaves on 5 March: 1 April is 27 days on, not yet; 1 May is 57.
        bot_stage.clock.set(local(2026, 3, 5, 10))
        await bot_stage.services.people.deactivate(None, people.head.id)
        await drain(bot_stage)
        seen = len(admin.messages())
        await first_of_month(bot_stage, 2026, 4)
        assert not [text for text in since(admin, seen) if "• 鹿城区" in text]
        seen = len(admin.messages())
        await first_of_month(bot_stage, 2026, 5)
        assert [text for text in since(admin, seen) if "• 鹿城区 1 项（无负责人 1）" in text]


def headless_item(days: int | None, *, city_run: bool = False) -> ReminderItem:
    since = None if days is None else date(2026, 5, 1) - timedelta(days=days)
    data = HeadlessReminderData(
        institution_id=7, name_zh=NANHUI, name_en="Nanhui Home-Care Centre", county_code="330302",
        county_name_zh="温州市" if city_run else "鹿城区", county_name_en="Wenzhou" if city_run else "Lucheng District",
        city_run=city_run, since=since, days=days, period=Period(date(2026, 5, 1), date(2026, 5, 31)),
    )
    due = local(2026, 5, 1, 9)
    return ReminderItem(7, ReminderKind.HEADLESS, "headless", due, late=False, urgent=False, attempt=1, data=data)


@pytest.mark.parametrize(("language", "days", "city_run", "said"), [
    ("zh_CN", 57, False, f"👤 <b>{NANHUI}</b>（鹿城区）已 57 天无已注册的负责人（自 2026-03-05 起），期间其演练"),
    ("zh_CN", None, True, f"👤 <b>{NANHUI}</b>（市直）从未有负责人注册"),
    ("en", 1, False,
     "👤 <b>Nanhui Home-Care Centre</b> (Lucheng District) has had no registered head for 1 day (since 2026-04-30)"),
])
def test_the_citys_line_names_the_county_and_how_long(
    language: str, days: int | None, city_run: bool, said: str
) -> None:
    """The line as listed when the message has room for it; with the invitation button under it."""
    t = Translator(language)
    item = headless_item(days, city_run=city_run)
    assert said in item_text(item, CITY_ADMIN, t, TZ)
    markup = keyboard([item], CITY_ADMIN, t)
    assert markup is not None and markup.inline_keyboard[0][0].callback_data == "si:invite:7"


async def test_a_home_thirty_days_without_a_head_is_named_only_past_the_setting(tmp_path: Path) -> None:
    """More than HEADLESS_ESCALATION_DAYS (30), as the setting says: the welfare home's head leaves on 2 March, so
    1 April is the 30th day without one (not named) and, with the setting at 29, it is named."""
    clock = FakeClock(datetime(2026, 1, 1, 1, tzinfo=UTC))
    async with stage(tmp_path / "safety.db", clock=clock, settings_options={"TRACKING_SINCE": ""}) as bot_stage:
        people = await cast(bot_stage)
        admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
        await bot_stage.register(admin, Role.CITY)
        nanhui_head = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
        await bot_stage.register(nanhui_head, Role.HEAD, institution=NANHUI_CODE)
        await drain(bot_stage)
        await plan_once(bot_stage.services)
        await first_of_month(bot_stage, 2026, 2)
        await first_of_month(bot_stage, 2026, 3)
        bot_stage.clock.set(local(2026, 3, 2, 10))
        await bot_stage.services.people.deactivate(None, people.head.id)
        await drain(bot_stage)
        seen = len(admin.messages())
        await first_of_month(bot_stage, 2026, 4)
        assert not [text for text in since(admin, seen) if "• 鹿城区" in text]

    clock = FakeClock(datetime(2026, 1, 1, 1, tzinfo=UTC))
    options = {"TRACKING_SINCE": "", "HEADLESS_ESCALATION_DAYS": "29"}
    async with stage(tmp_path / "again.db", clock=clock, settings_options=options) as bot_stage:
        people = await cast(bot_stage)
        admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
        await bot_stage.register(admin, Role.CITY)
        nanhui_head = bot_stage.sandbox.user(user_id=NANHUI_HEAD, first_name="黄主任", language_code="zh-hans")
        await bot_stage.register(nanhui_head, Role.HEAD, institution=NANHUI_CODE)
        await drain(bot_stage)
        await plan_once(bot_stage.services)
        await first_of_month(bot_stage, 2026, 2)
        await first_of_month(bot_stage, 2026, 3)
        bot_stage.clock.set(local(2026, 3, 2, 10))
        await bot_stage.services.people.deactivate(None, people.head.id)
        await drain(bot_stage)
        seen = len(admin.messages())
        await first_of_month(bot_stage, 2026, 4)
        assert [text for text in since(admin, seen) if "• 鹿城区 1 项（无负责人 1）" in text]

