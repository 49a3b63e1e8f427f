"""The safety study session (一(一): at least once every half-year). The seed lays it on the party group of the
bureau (局党组中心组); the bot asks it of every bureau that has staff in it: the city's own (its city admins) and each
county's (its county staff), and judges each bureau apart (`StudyService.units`). A missed half-year went to the city
admins alone, one line among dozens, and the bureau that missed it never heard; /drills and /stats never said it.
Now the bureau is told too, with what it owes next, and /drills and /stats show where each bureau stands."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.domain.compliance import Duty, Overdue, Period
from bot.domain.reminders import ReminderKind
from bot.domain.roles import Role
from bot.i18n import Translator
from bot.jobs import plan_once
from bot.sandbox.driver import SimUser
from bot.services.digests import Person
from bot.services.reminder_items import DutyReminderData, ReminderItem
from bot.stage import Stage
from handlers.reminder_text import item_text
from handlers.reminders import keyboard
from tests.calendar_people import TZ, local
from tests.hazard_people import LONGWAN, LONGWAN_STAFF, LUCHENG, STAFF
from tests.test_reminder_delivery import sweep
from tests.warning_people import drain

CITY_ADMIN = 90
MISSED = "在2026年上半年未开展安全理论学习，已逾期"


def since(person: SimUser, seen: int) -> list[str]:
    return [message.text for message in person.messages()[seen:]]


async def bureaus(stage: Stage, language: str = "zh-hans") -> tuple[SimUser, SimUser, SimUser]:
    """Lucheng's clerk, Longwan's clerk and a city admin."""
    clerk = stage.sandbox.user(user_id=STAFF, first_name="周科长", language_code=language)
    other = stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="Xu", language_code="en")
    admin = stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await stage.register(clerk, Role.COUNTY, region=LUCHENG)
    await stage.register(other, Role.COUNTY, region=LONGWAN)
    await stage.register(admin, Role.CITY)
    await drain(stage)
    return clerk, other, admin


async def test_a_bureau_that_missed_its_half_year_study_is_told_on_the_first_with_what_it_owes_next(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 6, 20, 10))
    clerk, xu, admin = await bureaus(bot_stage)
    # Longwan held its session; Lucheng and the city bureau did not.
    longwan_staff = await bot_stage.services.storage.users.get(LONGWAN_STAFF)
    assert longwan_staff is not None
    await bot_stage.services.studies.log(longwan_staff, date(2026, 6, 18), "安全工作要点专题学习", 12)
    await plan_once(bot_stage.services)
    seen = {person.id: len(person.messages()) for person in (clerk, xu, admin)}

    bot_stage.clock.set(local(2026, 7, 1, 9, 1))
    await plan_once(bot_stage.services)
    await sweep(bot_stage)

    told = [text for text in since(clerk, seen[clerk.id]) if MISSED in text]
    assert len(told) == 1 and "鹿城区" in told[0]
    assert "2026年下半年的安全理论学习须在 2026-12-31 前开展" in told[0] and "/study" in told[0]
    assert ["📚 记录学习"] in clerk.messages()[-1].buttons
    assert "责任人" not in told[0].split(MISSED)[1].split("\n\n")[0]  # not "named" to himself
    assert not [text for text in since(xu, seen[xu.id]) if "study session" in text]  # Longwan held one
    # The city hears of the bureaus that missed it (its own among them) in its one long message of the morning:
    # ten homes listed, and every line, the study sessions too, counted by county under its heading.
    (city,) = [text for text in since(admin, seen[admin.id]) if "待办提醒" in text]
    # (Every home here is without a head, and so named to the city monthly; Longwan's clerk takes its duties.)
    assert "• 鹿城区 3 项（学习逾期 1、无负责人 2）" in city and "• 龙湾区 1 项（无负责人 1）" in city
    assert "• 温州市（市直） 10 项（演练逾期 1、自查未完成 4、学习逾期 1、无负责人 4）" in city  # the city bureau's own
    total = int(re.search(r"您有 (\d+) 条待办提醒", city).group(1))  # type: ignore[union-attr]
    assert sum(int(n) for n in re.findall(r"^• .+? (\d+) 项", city, re.MULTILINE)) == total > 10


async def test_staff_see_their_bureaus_study_in_drills_and_the_city_sees_the_counties_that_missed(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 6, 20, 10))
    clerk, xu, admin = await bureaus(bot_stage)
    longwan_staff = await bot_stage.services.storage.users.get(LONGWAN_STAFF)
    assert longwan_staff is not None
    await bot_stage.services.studies.log(longwan_staff, date(2026, 3, 18), "安全工作要点专题学习", 12)

    await clerk.send_text("/drills")
    page = clerk.last_message()
    # Every period is owed on this stage (TRACKING_SINCE=all): the last half of 2025 was missed too.
    assert "安全理论学习（鹿城区）：⏰ 已逾期：2025年下半年未开展安全理论学习" in page.text
    assert "2026年上半年的安全理论学习须在 2026-06-30 前开展" in page.text
    assert ["📚 记录学习"] in page.buttons
    await xu.send_text("/drills")
    assert "Safety study (Longwan District): ✅ Compliant" in xu.last_message().text
    assert ["📚 Log a study session"] not in xu.last_message().buttons

    bot_stage.clock.set(local(2026, 7, 2, 10))
    await admin.send_text("/drills")
    page = admin.last_message()
    assert "⏰ 已逾期：2026年上半年未开展安全理论学习" in page.text  # the city bureau's own
    counties = next(line for line in page.text.split("\n") if "未开展安全理论学习的县" in line)
    assert "鹿城区" in counties and "龙湾区" not in counties


async def test_stats_show_the_half_years_study_for_the_period(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 6, 20, 10))
    clerk, xu, admin = await bureaus(bot_stage)
    longwan_staff = await bot_stage.services.storage.users.get(LONGWAN_STAFF)
    assert longwan_staff is not None
    await bot_stage.services.studies.log(longwan_staff, date(2026, 3, 18), "安全工作要点专题学习", 12)

    await clerk.send_text("/stats")
    assert "安全理论学习（2026年上半年）：已开展 0/1；尚未开展：鹿城区，须在 2026-06-30 前开展。" in (
        clerk.last_message().text
    )
    await xu.send_text("/stats")
    assert "Safety study (the first half of 2026): held 1/1, none missing." in xu.last_message().text

    bot_stage.clock.set(local(2026, 7, 2, 10))
    await admin.send_text("/stats 2026-06-01 2026-06-30")
    text = admin.last_message().text
    line = next(line for line in text.split("\n") if "安全理论学习" in line)
    assert "已开展 1/" in line and "⏰ 未开展（已逾期）：" in line and "市局" in line and "鹿城区" in line
    assert "龙湾区" not in line


async def test_an_english_city_admins_long_batch_is_summed_up_by_county_and_a_short_one_is_not(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 6, 20, 10))
    clerk = bot_stage.sandbox.user(user_id=STAFF, first_name="周科长", language_code="zh-hans")
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(clerk, Role.COUNTY, region=LUCHENG)
    await bot_stage.register(admin, Role.CITY)
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    seen = {person.id: len(person.messages()) for person in (clerk, admin)}

    bot_stage.clock.set(local(2026, 7, 1, 9, 1))
    await plan_once(bot_stage.services)
    await sweep(bot_stage)

    (city,) = [text for text in since(admin, seen[admin.id]) if "reminders" in text.split("\n")[0]]
    assert "By county:" in city and "• Longwan District: " in city and "study sessions missed 1" in city
    assert "… and " in city  # the ten listed, the rest counted below them
    # The clerk's few reminders are all listed: nothing to sum up.
    assert all("按县" not in text for text in since(clerk, seen[clerk.id]))


async def test_on_the_half_years_last_day_stats_say_the_study_is_still_due_not_missed(bot_stage: Stage) -> None:
    """30 June is the half-year's last day: a bureau can still hold its session that afternoon, so /stats says it is
    due by 2026-06-30, not that it was missed; the next morning it was."""
    bot_stage.clock.set(local(2026, 6, 30, 10))
    clerk, _, _ = await bureaus(bot_stage)
    await clerk.send_text("/stats")
    line = next(line for line in clerk.last_message().text.split("\n") if "安全理论学习" in line)
    assert "尚未开展：鹿城区，须在 2026-06-30 前开展" in line and "逾期" not in line
    bot_stage.clock.set(local(2026, 7, 1, 10))
    await clerk.send_text("/stats 2026-06-01 2026-06-30")
    line = next(line for line in clerk.last_message().text.split("\n") if "安全理论学习" in line)
    assert "⏰ 未开展（已逾期）：鹿城区" in line



@pytest.mark.parametrize(("viewer", "owes"), [(STAFF, True), (CITY_ADMIN, False)])
def test_a_missed_study_says_what_is_owed_next_only_to_the_bureau_that_owes_it(viewer: int, owes: bool) -> None:
    """Told of 鹿城区's missed half-year, the city admin reads that it was missed, with no 📚 button; what is owed now
    and the /study that logs it are for 鹿城区's clerk, whose bureau owes it (the city's /study logs the city's)."""
    first, second = Period(date(2026, 1, 1), date(2026, 6, 30)), Period(date(2026, 7, 1), date(2026, 12, 31))
    data = DutyReminderData(
        duty=Duty.STUDY, period=first, status=Overdue(second, first, 1, 183), institution_id=None,
        unit_code=LUCHENG, name_zh="鹿城区", name_en="Lucheng District", responsible=(Person(STAFF, "周科长"),),
    )
    item = ReminderItem(3, ReminderKind.STUDY_OVERDUE, "overdue", local(2026, 7, 1, 9), late=False, urgent=False,
                        attempt=1, data=data)
    t = Translator("zh_CN")
    text = item_text(item, viewer, t, TZ)
    assert MISSED in text
    assert ("2026年下半年的安全理论学习须在 2026-12-31 前开展" in text) is owes
    markup = keyboard([item], viewer, t)
    labels = [] if markup is None else [b.text for row in markup.inline_keyboard for b in row]
    assert ("📚 记录学习" in labels) is owes
