"""/stats as an analyst reads it: each place's line adds up to the headline, every area is counted, a past period
is told as it stood at its end, and a month still running is not judged as missed (audit of /stats, November)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction
from bot.domain.roles import Role
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import STAFF, act, cast, report, submitted
from tests.test_new_institutions import NEW_NAME, OLD_NAME, import_new_home

CITY_ADMIN = 50


async def test_a_places_overdue_is_the_periods_own_and_the_older_backlog_is_named_apart(bot_stage: Stage) -> None:
    """A hazard found in March and overdue since is part of April's backlog, not of April's hazards: the township's
    line said 当前逾期 1 under a headline of 逾期 0."""
    bot_stage.clock.set(local(2026, 3, 2))
    people = await cast(bot_stage)
    await report(bot_stage)  # general: due in seven days, never rectified
    bot_stage.clock.set(local(2026, 4, 10))
    await report(bot_stage, area=HazardArea.ELECTRICITY)

    await people.staff.send_text("/stats")
    text = people.staff.last_message().text
    assert "本期发现 1，其中已销号 0、未销号 1（逾期 0）" in text
    assert "动态清零：当前全部未销号 2（逾期 1）" in text
    assert "五马街道：发现 1 · 按期 — · 逾期 0（全部积压逾期 1） · 演练" in text
    assert "当前逾期" not in text

    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/stats")
    text = admin.last_message().text
    lines = [line for line in text.splitlines() if re.match(r"^\S+：发现 \d+ · ", line)]
    assert sum(int(n) for line in lines for n in re.findall(r" · 逾期 (\d+)", line)) == 0
    assert "鹿城区：发现 1 · 按期 — · 逾期 0（全部积压逾期 1）" in text


async def test_the_area_line_adds_up_with_the_rest_as_other_and_rights_protection_named(bot_stage: Stage) -> None:
    """Eight areas found: the line named six and dropped the others silently, 权益保障 among them."""
    people = await cast(bot_stage)
    areas = [HazardArea.FIRE, HazardArea.FIRE, HazardArea.ELECTRICITY, HazardArea.ELECTRICITY, HazardArea.GAS,
             HazardArea.BUILDINGS, HazardArea.TRANSPORT, HazardArea.FOOD, HazardArea.NETWORK, HazardArea.RIGHTS]
    for area in areas:
        await report(bot_stage, area=area)

    await people.staff.send_text("/stats")
    text = people.staff.last_message().text
    line = next(line for line in text.splitlines() if line.startswith("按领域："))
    assert line == "按领域：用电 2 · 用火 2 · 房屋 1 · 食品 1 · 燃气 1 · 网络安全 1 · 权益保障 1 · 其他 1"
    assert sum(int(n) for n in re.findall(r" (\d+)", line)) == len(areas)
    assert "本期发现 10，" in text

    # The head of the home never sees the rights-protection hazard, named or counted in 其他.
    await people.head.send_text("/stats")
    text = people.head.last_message().text
    line = next(line for line in text.splitlines() if line.startswith("按领域："))
    assert "权益保障" not in line and "本期发现 9，" in text
    assert sum(int(n) for n in re.findall(r" (\d+)", line)) == 9


async def test_the_running_months_self_inspection_is_under_way_not_missed(bot_stage: Stage) -> None:
    """On 20 March nobody has missed March's self-inspection (due on the 31st): /stats said 0/2（0%）and this
    month's /ranking gave every county 自查 0%. It is progress with its due day, and no rate, until the month ends."""
    bot_stage.clock.set(local(2026, 3, 20))
    people = await cast(bot_stage)
    await people.staff.send_text("/stats")
    text = people.staff.last_message().text
    assert re.search(r"月度自查本月进行中：已完成 0/[1-9]\d*（2026-03-31 截止，未到期不计入完成率）", text), text
    assert "月度自查完成" not in text

    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/ranking")
    await admin.press("本月", admin.last_message())
    ranking = admin.last_message().text
    assert "2026年3月" in ranking and "· 自查 — ·" in ranking and "自查 0%" not in ranking

    # Once March has ended, the missed self-inspections count: last month's ranking and March's /stats say so.
    bot_stage.clock.set(local(2026, 4, 2))
    await admin.send_text("/ranking")
    assert "2026年3月" in admin.last_message().text and "自查 0%" in admin.last_message().text
    await people.staff.send_text("/stats 2026-03-01 2026-03-31")
    assert re.search(r"月度自查完成 0/[1-9]\d*（0%）", people.staff.last_message().text)


async def test_a_past_period_is_told_as_it_stood_at_its_end(bot_stage: Stage) -> None:
    """October's /stats, read on 20 November, said 数据截至 2026-10-31 yet counted a hazard closed on 3 November as
    closed and the backlog of hazards found in November. A period that has ended is told as it stood at its end."""
    bot_stage.clock.set(local(2026, 3, 2))
    people = await cast(bot_stage)
    late = await report(bot_stage)  # general: due 9 March, still open on the 31st
    bot_stage.clock.set(local(2026, 3, 28))
    await report(bot_stage, area=HazardArea.ELECTRICITY)  # due 4 April: open, not overdue, at March's end
    bot_stage.clock.set(local(2026, 4, 3))
    await submitted(bot_stage, late)
    await act(bot_stage, STAFF, late, HazardAction.ACCEPT)  # closed on 3 April, late
    await report(bot_stage, area=HazardArea.GAS)  # found in April: no part of March

    await people.staff.send_text("/stats 2026-03-01 2026-03-31")
    march = people.staff.last_message().text
    assert "数据截至 2026-03-31 24:00（期末状态：各隐患按其当时所处状态统计）" in march
    assert "本期发现 2，其中已销号 0、未销号 2（逾期 1）" in march
    assert "动态清零：期末全部未销号 2（逾期 1），不论何时发现" in march
    assert "五马街道：发现 2 · 按期 — · 逾期 1 · 演练" in march

    # This month's figures are as they stand now: the March hazard closed, April's found.
    await people.staff.send_text("/stats")
    april = people.staff.last_message().text
    assert "数据截至 2026-04-03\n" in april and "期末" not in april
    assert "动态清零：当前全部未销号 2（逾期 0），不论何时发现" in april


async def test_the_export_names_each_institution_with_its_drill_and_self_inspection(bot_stage: Stage) -> None:
    """/stats counted 演练达标 and 月度自查完成 and the notice said 完整名单见 /export, but no sheet named the
    institutions behind the figures: the registers list only what was done. The 合规情况 sheet lists each one."""
    bot_stage.clock.set(local(2026, 4, 2))  # March has ended
    people = await cast(bot_stage)
    await people.staff.send_text("/stats 2026-03-01 2026-03-31")
    figures = people.staff.last_message()
    owed = re.search(r"月度自查完成 0/(\d+)（0%）", figures.text)
    assert owed, figures.text
    await people.staff.press("📥 导出 Excel", figures)
    document = next(m for m in reversed(people.staff.messages()) if m.kind == "document")
    book = load_workbook(io.BytesIO(document.document or b""))
    rows = list(book["合规情况"].iter_rows(values_only=True))
    assert rows[0] == ("机构编码", "机构", "县（市、区）", "乡镇（街道）", "机构类型", "消防演练", "最近一次消防演练",
                       "月度自查完成（已结束月份）", "未完成自查月份", "本月自查")
    lucheng = [row for row in rows[1:] if row[2] == "鹿城区"]
    assert len(lucheng) == len(rows) - 1 == int(owed.group(1))  # every one /stats counted, none of another county
    assert {row[1] for row in lucheng} >= {"鹿城区社会福利院"}
    assert all(row[7] == "0/1" and row[8] == "2026-03" and row[9] is None for row in lucheng)
    assert all(row[5] in ("达标", "逾期未开展", "暂不作要求") for row in lucheng)


async def test_on_the_months_last_day_its_self_inspection_is_still_under_way(bot_stage: Stage) -> None:
    """The self-inspection is due by the month's last day: on 31 March, in the evening, it is still not missed."""
    bot_stage.clock.set(local(2026, 3, 31, 20))
    people = await cast(bot_stage)
    await people.staff.send_text("/stats")
    text = people.staff.last_message().text
    assert re.search(r"月度自查本月进行中：已完成 0/[1-9]\d*（2026-03-31 截止，未到期不计入完成率）", text), text
    assert "月度自查完成" not in text


async def test_the_compliance_sheet_names_no_month_before_an_institution_joined_as_missing(bot_stage: Stage) -> None:
    """A home added on 10 March owes March's self-inspection, not February's: its row reads 0/1 and misses March
    alone, as /stats counts it, while a home tracked all along misses both."""
    bot_stage.clock.set(local(2026, 3, 10))
    people = await cast(bot_stage)
    await import_new_home(bot_stage)
    bot_stage.clock.set(local(2026, 4, 2))
    await people.staff.send_text("/stats 2026-02-01 2026-03-31")
    await people.staff.press("📥 导出 Excel", people.staff.last_message())
    document = next(m for m in reversed(people.staff.messages()) if m.kind == "document")
    book = load_workbook(io.BytesIO(document.document or b""))
    rows = {row[1]: row for row in book["合规情况"].iter_rows(values_only=True)}
    assert rows[NEW_NAME][7:9] == ("0/1", "2026-03")
    assert rows[OLD_NAME][7:9] == ("0/2", "2026-02、2026-03")
