"""/stats, the charts, /export, /ranking, /notice and imports through the emulator, as the people who use them."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.clock import FakeClock
from bot.domain.catalog import HazardArea
from bot.domain.roles import Role
from bot.stage import Stage, stage
from handlers import export
from storage.models import Group, GroupPurpose, InstitutionType, NewInstitution, Region, RegionLevel
from tests.calendar_people import local
from tests.hazard_people import CADRE, HOME, LONGWAN, LONGWAN_HOME, LUCHENG, cast, long_named_centres, report

CITY_ADMIN, LONGWAN_CADRE, CITY_GROUP = 50, 51, -2002


async def with_longwan(stage: Stage) -> None:
    """A Longwan hazard that Lucheng's staff and 鹿城区社会福利院's head must never count."""
    cadre = stage.sandbox.user(user_id=LONGWAN_CADRE, first_name="龙湾干部", language_code="zh-hans")
    await stage.register(cadre, Role.CADRE, region=LONGWAN)
    await report(stage, LONGWAN_CADRE, institution=LONGWAN_HOME, description="龙湾的隐患")


async def test_county_staff_see_their_county_switch_periods_draw_and_export(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await with_longwan(bot_stage)
    ours = [await report(bot_stage), await report(bot_stage, area=HazardArea.ELECTRICITY)]

    await people.staff.send_text("/stats")
    figures = people.staff.last_message()
    assert "安全工作统计 · 鹿城区" in figures.text
    assert "本期发现 2，其中已销号 0、未销号 2（逾期 0）" in figures.text
    assert "按领域：用电 1 · 用火 1" in figures.text and "五马街道：发现 2" in figures.text
    assert figures.buttons[0] == ["• 本月", "本季度", "本年", "自定义时段…"]

    await people.staff.press("本年", figures)
    assert figures.edited and figures.buttons[0][2] == "• 本年" and "发现 2，" in figures.text

    await people.staff.press("📈 每周趋势", figures)
    chart = people.staff.last_message()
    assert chart.kind == "photo" and chart.text.startswith("📊 每周新发现与销号隐患 · ")  # says which chart it is

    await people.staff.press("📥 导出 Excel", figures)
    sent = people.staff.messages()
    document = next(m for m in reversed(sent) if m.kind == "document")
    assert document.document_name is not None and document.document_name.endswith(".xlsx")
    status = next(m for m in sent if m.text.startswith(("⏳", "✅ 导出完成")))
    assert status.edited and status.text == "✅ 导出完成，共 2 条隐患。"
    book = load_workbook(io.BytesIO(document.document or b""))
    codes = [row[0] for row in book["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert codes == [h.code for h in ours]  # not Longwan's


async def test_the_export_offer_names_every_sheet_the_file_holds(bot_stage: Stage) -> None:
    """It said Excel held four sheets after a fifth (合规情况) was added."""
    people = await cast(bot_stage)
    await report(bot_stage)
    await people.staff.send_text("/export")
    offer = people.staff.last_message()
    await people.staff.press("Excel", offer)
    document = next(m for m in reversed(people.staff.messages()) if m.kind == "document")
    sheets = load_workbook(io.BytesIO(document.document or b"")).sheetnames
    assert len(sheets) == 5 and "Excel 含问题清单、演练、自查、预警签收和合规情况五张表" in offer.text
    assert [name[:2] for name in sheets] == ["问题", "演练", "月度", "预警", "合规"]


async def test_a_head_sees_only_their_institution_whatever_the_button_says(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await with_longwan(bot_stage)
    mine = await report(bot_stage, CADRE)
    await report(bot_stage, CADRE, area=HazardArea.RIGHTS)  # 权益保障: never shown to the head

    await people.head.send_text("/stats")
    figures = people.head.last_message()
    assert "安全工作统计 · 鹿城区社会福利院" in figures.text and "发现 1，" in figures.text
    assert "分县" not in figures.text and "📊 分区域图" not in str(figures.buttons)

    token = str(figures.button_data[2][1]).split(":")[2]  # the CSV button of this very message
    await people.head.press_data(figures, f"ex:c:{token}")
    document = next(m for m in reversed(people.head.messages()) if m.kind == "document")
    rows = list(csv.reader((document.document or b"").decode("utf-8-sig").splitlines()))
    assert [row[0] for row in rows[1:]] == [mine.code]

    await people.cadre.send_text("/stats")
    assert "统计功能仅向机构负责人" in people.cadre.last_message().text


async def test_a_typed_range_and_the_ranking(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await report(bot_stage)
    await people.staff.send_text("/stats")
    await people.staff.press("自定义时段…")
    assert "请输入起止日期" in people.staff.last_message().text
    await people.staff.send_text("2026-13-01 到 2026-12-31")
    assert "没看懂这个时段" in people.staff.last_message().text
    today = bot_stage.services.settings.tz
    start = bot_stage.clock.now().astimezone(today).date().replace(day=1)
    await people.staff.send_text(f"{start.isoformat()} 至 {start.replace(day=28).isoformat()}")
    assert f"{start.isoformat()} 至" in people.staff.last_message().text

    await people.staff.send_text("/ranking")
    ranking = people.staff.last_message()
    assert "排名" in ranking.text and ranking.buttons == [["• 上月", "本月"]]
    await people.staff.press("本月", ranking)
    assert "1. 鹿城区社会福利院" in ranking.text


async def test_the_city_admin_reviews_and_sends_the_notice_to_groups(bot_stage: Stage) -> None:
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    group = bot_stage.sandbox.group(chat_id=CITY_GROUP, title="全市民政安全工作群")
    await bot_stage.services.storage.groups.bind(Group(
        chat_id=CITY_GROUP, title=group.title, region_code="330300", purpose=GroupPurpose.DIGESTS, bound_by=CITY_ADMIN,
        bound_at=bot_stage.clock.now()))

    await admin.send_text("/notice")
    preview = admin.last_message()
    assert "将发送到 1 个工作群" in preview.text and "民政系统安全工作通报" in preview.text
    assert "一、各县（市、区）排名" in preview.text and "三、负面清单" in preview.text
    reviewed = preview.text
    await admin.press("📢 发送到 1 个工作群", preview)
    assert "✅ 通报已发送：1/1 个工作群" in preview.text
    notice = group.last_message()
    assert notice.text.startswith("📢 温州市民政系统安全工作通报")
    assert notice.text in reviewed  # what went out is what was reviewed

    county = bot_stage.sandbox.user(user_id=52, first_name="周", language_code="zh-hans")
    await bot_stage.register(county, Role.COUNTY, region="330302")
    await county.send_text("/notice")
    assert "只有市局管理员可以起草和发送通报" in county.last_message().text


async def test_an_english_admin_is_told_the_groups_read_the_notice_in_chinese(bot_stage: Stage) -> None:
    """The English admin's preview was all Chinese under English buttons, with no word why: the groups get the
    bureau's Chinese notice, and the admin is told so, in English, above it."""
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    group = bot_stage.sandbox.group(chat_id=CITY_GROUP, title="全市民政安全工作群")
    await bot_stage.services.storage.groups.bind(Group(
        chat_id=CITY_GROUP, title=group.title, region_code="330300", purpose=GroupPurpose.DIGESTS, bound_by=CITY_ADMIN,
        bound_at=bot_stage.clock.now()))

    await admin.send_text("/notice")
    preview = admin.last_message()
    assert "It will go to 1 group" in preview.text
    assert "The groups receive the notice in Chinese, the bureau's language, as shown below" in preview.text
    assert "民政系统安全工作通报" in preview.text

    chinese = bot_stage.sandbox.user(user_id=590, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(chinese, Role.CITY)
    await chinese.send_text("/notice")
    assert "工作语言" not in chinese.last_message().text  # the notice is in their language: nothing to explain


async def test_an_admin_imports_by_sending_a_spreadsheet(bot_stage: Stage) -> None:
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/template")
    await admin.press("人员邀请模板")
    template = admin.last_message()
    assert template.kind == "document" and (template.document_name or "").endswith(".xlsx")

    bad = "姓名,角色,区划代码\n王五,社区/村干部,339999\n".encode()
    await admin.send_document(bad, "people.csv", "text/csv")
    assert "第 2 行「区划代码」：区划代码 339999 不在系统中" in admin.last_message().text

    good = "姓名,角色,区划代码\n王五,社区/村干部,330302\n赵六,县级民政工作人员,330303\n".encode()
    await admin.send_document(good, "people.csv", "text/csv")
    links = admin.last_message()
    assert links.kind == "document" and "2 个一次性邀请链接" in links.text
    rows = list(load_workbook(io.BytesIO(links.document or b"")).active.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]
    assert [row[1] for row in rows] == ["王五", "赵六"]
    token = str(rows[1][4]).rsplit("start=", 1)[1]
    newcomer = bot_stage.sandbox.user(user_id=53, first_name="赵六", language_code="zh-hans")
    await newcomer.send_text(f"/start {token}")
    user = await bot_stage.services.storage.users.get(53)
    assert user is not None and user.role is Role.COUNTY and user.region_code == "330303"


async def test_a_spreadsheet_with_a_classified_cell_is_refused_whole_without_quoting_it(bot_stage: Stage) -> None:
    """The secrecy guard reads messages and captions; a spreadsheet's cells went into the database unread."""
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    secret = "秘密★1年 战备物资库"
    sheet = f"机构编码,机构名称,机构类型,区划代码,地址\nNEW-01,鹿城区新建养老院,养老机构,330302001,{secret}\n"
    await admin.send_document(sheet.encode(), "机构.csv", "text/csv")
    answer = admin.last_message().text
    assert "第 2 行「地址」：含有密级标识“秘密”：涉密内容不得导入或存储" in answer
    assert "战备物资库" not in answer and "数据库未做任何改动" in answer
    assert await bot_stage.services.storage.institutions.get_by_code("NEW-01") is None
    rows = await bot_stage.services.storage.db.fetchall("SELECT address FROM institutions WHERE address LIKE ?",
                                                        ("%战备物资库%",))
    assert rows == []


async def test_an_imported_name_counts_what_shows_and_is_stored_without_bidi_overrides(bot_stage: Stage) -> None:
    """Cells were stored as they came: a name of zero-width spaces passed "must not be empty" and became an
    institution nobody could see, and a right-to-left override (U+202E) went into the name, reversing it in
    every message that named the institution."""
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    headers = ["机构编码", "机构名称", "机构类型", "区划代码", "地址"]
    blank = csv_text([headers, ["NEW-01", "\u200b\u200b\u200b\u200b", "养老机构", "330302001", "学院路1号"]])
    await admin.send_document(blank.encode(), "机构.csv", "text/csv")
    answer = admin.last_message().text
    assert "第 2 行「机构名称」：不能为空" in answer and "数据库未做任何改动" in answer
    assert await bot_stage.services.storage.institutions.get_by_code("NEW-01") is None

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (headers, ["NEW-02", "\u202e鹿城区新建养老院\u202c", "养老机构", "330302001", "学院路\u202e2号"]):
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    await admin.send_document(data.getvalue(), "机构.xlsx")
    assert "数据库未做任何改动" not in admin.last_message().text
    stored = await bot_stage.services.storage.institutions.get_by_code("NEW-02")
    assert stored is not None and stored.name_zh == "鹿城区新建养老院" and stored.address == "学院路2号"


def csv_text(rows: list[list[str]]) -> str:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue()


async def test_with_the_bots_own_sender_the_preview_follows_the_delivery(tmp_path: Path) -> None:
    async with stage(tmp_path / "safety.db", background=True) as running:
        admin = running.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
        await running.register(admin, Role.CITY)
        group = running.sandbox.group(chat_id=CITY_GROUP, title="全市民政安全工作群")
        await running.services.storage.groups.bind(Group(
            chat_id=CITY_GROUP, title=group.title, region_code="330300", purpose=GroupPurpose.GENERAL,
            bound_by=CITY_ADMIN, bound_at=running.clock.now()))
        await admin.send_text("/notice")
        preview = admin.last_message()
        await admin.press("📢 发送到 1 个工作群", preview)
        for _ in range(100):
            if "✅ 通报已发送：1/1" in preview.text:
                break
            await asyncio.sleep(0.05)
        assert "✅ 通报已发送：1/1 个工作群" in preview.text
        assert group.last_message().text.startswith("📢 温州市民政系统安全工作通报")
        assert running.sandbox.violations == []


async def test_a_spreadsheet_whose_first_row_is_long_notes_gets_an_error_report_telegram_accepts(
    bot_stage: Stage,
) -> None:
    """A sheet exported with its filling-in notes as the first row: every note is an unknown column, quoted twice
    in its error. Quoted whole, the report was past what one Telegram message holds, Telegram refused it, and the
    admin heard nothing. The report quotes the beginning of each, lists what fits and counts the rest."""
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    notes = [f"Note {n}: " + "fill in the six, nine or twelve digit region code, never the place name. " * 5
             for n in range(1, 31)]
    sheet = io.StringIO()
    csv.writer(sheet).writerows([notes, ["Wang Wu", "cadre", "330302", *[""] * 27]])
    await admin.send_document(sheet.getvalue().encode(), "people.csv", "text/csv")

    report = admin.last_message().text
    assert report.startswith("❌") and "nothing was changed" in report
    assert "Unknown column “Note 1: fill in" in report and notes[0] not in report and "…" in report
    listed = [n for n in range(1, 31) if f"Unknown column “Note {n}:" in report]
    assert listed == list(range(1, len(listed) + 1)) and len(listed) < 25
    found = int(report.split(" problems found")[0].rsplit(" ", 1)[1])
    assert found >= len(notes) and f"… and {found - len(listed)} more." in report


async def test_a_county_ranking_of_many_long_english_names_fits_one_message(bot_stage: Stage) -> None:
    """Chinese official names become long in English: thirty lines of them were past what one Telegram message
    holds, and /ranking answered nothing. The ranking shows as many of the top and the bottom as fit."""
    people = await cast(bot_stage, "en")
    storage = bot_stage.services.storage
    home = await storage.institutions.get_by_code(HOME)
    assert home is not None
    await long_named_centres(bot_stage, home.region_code)

    await people.staff.send_text("/ranking")
    ranking = people.staff.last_message()
    assert "Ranking" in ranking.text and "places not shown)" in ranking.text
    places = [line for line in ranking.text.splitlines() if line[:1].isdigit()]
    ranked = len(await storage.institutions.in_scope(home.region_code[:6]))
    # Nothing tells them apart (no hazard, no warning, every fire drill overdue): they share the first place, the
    # top and the bottom of it shown.
    assert ranked > 40 and all(line.startswith("1. ") and " (tied): " in line for line in places)
    assert places[-1].startswith("1. Nanhui Subdistrict")  # the last by code
    assert f"({ranked - len(places)} places not shown)" in ranking.text

    # Where does a home in the middle stand? 📋 Full ranking: every place, a page at a time, and back.
    await people.staff.press("📋 Full ranking", ranking)
    assert ranking.edited and "Full ranking: page 1 of " in ranking.text
    assert ranking.buttons == [["Next ▶"], ["« Back to the summary"]]
    pages = [[line for line in ranking.text.splitlines() if line[:1].isdigit()]]
    while ranking.buttons[0] != ["« Back to the summary"]:
        if ranking.buttons[0][-1] != "Next ▶":
            break
        await people.staff.press("Next ▶", ranking)
        assert len(ranking.text) <= 4096
        pages.append([line for line in ranking.text.splitlines() if line[:1].isdigit()])
    assert f"page {len(pages)} of {len(pages)}" in ranking.text and len(pages) > 1
    every = [line for page in pages for line in page]
    assert len(every) == len(set(every)) == ranked and every[-1] == places[-1]
    await people.staff.press("« Back to the summary", ranking)
    assert "places not shown)" in ranking.text and ["📋 Full ranking"] in ranking.buttons


async def test_an_english_notice_naming_long_official_names_fits_one_message(bot_stage: Stage) -> None:
    """Where the groups read English, official names are long: the ranking and three lists of ten such names were
    past what one Telegram message holds, and the preview (and the notice) would be refused. Each list names what
    fits and counts the rest, with where to find them all."""
    bot_stage.services.settings = bot_stage.services.settings.model_copy(update={"default_language": "en"})
    bot_stage.clock.set(local(2026, 3, 2))
    await cast(bot_stage, "en")
    storage = bot_stage.services.storage
    home = await storage.institutions.get_by_code(HOME)
    assert home is not None
    for n, centre in enumerate((await long_named_centres(bot_stage, home.region_code))[:12], 1):
        await report(bot_stage, institution=centre.code, description=f"Blocked fire exit no. {n}")
    bot_stage.clock.set(local(2026, 4, 2))  # every deadline long past; March's self-inspections missing
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)

    await admin.send_text("/notice")
    preview = admin.last_message().text
    assert "(1) Hazards overdue at the period's end, 2026-03-31: 12 (days overdue counted to that day)" in preview
    assert "… 12 in all (full list: /export)" in preview
    named = [n for n in range(1, 13) if f"YH-20260302-{n:04} Wenzhou Lucheng" in preview]
    assert named == list(range(1, len(named) + 1)) and 0 < len(named) < 10
    # The counties' ranking whole: ten tied first, Lucheng (12 overdue at March's end) eleventh, Ouhai (no
    # institution) unranked, and the city's own institutions listed apart, not a county.
    assert "1. Longwan District (tied): on time — · overdue at period end 0 · self-inspections 0% · drills 0% · " \
           "acks —" in preview
    assert "11. Lucheng District: on time — · overdue at period end 12" in preview
    assert "(Ordered by hazards overdue at the period's end, whenever found," in preview  # the rule the lines use
    assert "overdue now" not in preview
    assert "Nothing measured, not ranked: Ouhai District" in preview
    assert "Wenzhou (city-run), listed apart (not a county, not ranked): on time — · overdue at period end 0 · " \
           "self-inspections 0% · drills 0% · acks —" in preview


async def _townships(stage: Stage, count: int, name_en: str) -> list[str]:
    """`count` more townships of 鹿城区, each with an elderly-care centre, named 第N街道 / `name_en` N."""
    storage = stage.services.storage
    names = []
    for n in range(1, count + 1):
        code = f"330302{100 + n:03d}"
        name = f"第{n}街道"
        await storage.regions.upsert(Region(code=code, name_zh=name, name_en=f"{name_en} {n}",
                                            level=RegionLevel.TOWNSHIP, parent_code="330302"))
        await storage.institutions.upsert(NewInstitution(
            code=f"WZ-{code}-ELDER", name_zh=f"{name}居家养老服务中心", name_en=f"{name_en} {n} Care Centre",
            type=InstitutionType.ELDERLY_CARE, region_code=code))
        names.append(name)
    return names


async def test_county_staff_see_every_township_of_a_large_county(bot_stage: Stage) -> None:
    """乐清市 and 瑞安市 have more than twenty townships and streets. /stats listed the first twenty by code and
    silently left the rest out, so their staff never saw the figures of the last few. Every township is listed
    now, and only where the names would not fit one message are the last ones counted instead."""
    people = await cast(bot_stage)
    names = await _townships(bot_stage, 24, "Street")
    await people.staff.send_text("/stats")
    text = people.staff.last_message().text
    assert all(f"{name}：发现 0" in text for name in names), text

    await _townships(bot_stage, 60, "Long Named Subdistrict of the Lucheng District of Wenzhou Number")
    english = bot_stage.sandbox.user(user_id=77, first_name="Zhou", language_code="en")
    await bot_stage.register(english, Role.COUNTY, region=LUCHENG)
    await english.send_text("/stats")
    figures = english.last_message()
    assert "By township" in figures.text
    assert "more townships not listed" in figures.text and len(figures.text) <= 4096


async def test_a_double_tap_on_an_export_button_sends_the_file_once(bot_stage: Stage) -> None:
    """Presses in one chat are handled one after another, so the second tap of a double tap on "📥 导出 Excel" was
    handled once the first export was sent, and exported (and uploaded) the whole file again: the clerk got two
    identical spreadsheets, and for the city's three years waited twice as long. The second tap is now told that
    the file was just sent."""
    people = await cast(bot_stage)
    await report(bot_stage)
    await people.staff.send_text("/stats")
    figures = people.staff.last_message()
    await people.staff.press("📥 导出 Excel", figures, wait=False)
    second = await people.staff.press("📥 导出 Excel", figures)
    await bot_stage.sandbox.settle()
    documents = [m for m in people.staff.messages() if m.kind == "document"]
    assert len(documents) == 1
    assert second.answer is not None and "刚刚已发送" in (second.answer.text or "")

    bot_stage.clock.advance(timedelta(seconds=120))  # asked for again later: a fresh file, as ever
    await people.staff.press("📥 导出 Excel", figures)
    assert len([m for m in people.staff.messages() if m.kind == "document"]) == 2
    await people.staff.press("📄 导出 CSV", figures)  # and the other format is another file
    assert len([m for m in people.staff.messages() if m.kind == "document"]) == 3


async def test_a_double_tap_on_a_chart_button_sends_the_picture_once(bot_stage: Stage) -> None:
    """The chart buttons had no guard: the second tap of a double tap on "📈 每周趋势" (handled once the first
    picture was sent, as presses in one chat are) drew and sent the same chart again. It now shares the export's
    guard: the second tap is told the chart was just sent, a press after the window draws it afresh."""
    people = await cast(bot_stage)
    await report(bot_stage)
    await people.staff.send_text("/stats")
    figures = people.staff.last_message()
    await people.staff.press("📈 每周趋势", figures, wait=False)
    second = await people.staff.press("📈 每周趋势", figures)
    await bot_stage.sandbox.settle()
    assert len([m for m in people.staff.messages() if m.kind == "photo"]) == 1
    assert second.answer is not None and "刚刚已发送" in (second.answer.text or "")

    await people.staff.press("📊 分区域图", figures)  # another chart is another picture
    assert len([m for m in people.staff.messages() if m.kind == "photo"]) == 2
    bot_stage.clock.advance(timedelta(seconds=120))  # asked for again later: drawn afresh
    await people.staff.press("📈 每周趋势", figures)
    assert len([m for m in people.staff.messages() if m.kind == "photo"]) == 3


async def test_a_chart_or_file_just_sent_is_not_sent_again_after_a_restart(bot_stage: Stage) -> None:
    """The double-tap guard kept its memory in the process: a bot restarted between the two taps (a deployment,
    a crash) forgot the first one and sent the spreadsheet, or the chart, a second time. The claim is in SQLite."""
    people = await cast(bot_stage)
    await report(bot_stage)
    await people.staff.send_text("/stats")
    figures = people.staff.last_message()
    await people.staff.press("📥 导出 Excel", figures)
    await people.staff.press("📈 每周趋势", figures)
    await bot_stage.restart()
    bot_stage.clock.advance(timedelta(seconds=20))
    export = await people.staff.press("📥 导出 Excel", figures)
    chart = await people.staff.press("📈 每周趋势", figures)
    await bot_stage.sandbox.settle()
    assert len([m for m in people.staff.messages() if m.kind == "document"]) == 1
    assert len([m for m in people.staff.messages() if m.kind == "photo"]) == 1
    assert export.answer is not None and "刚刚已发送" in (export.answer.text or "")
    assert chart.answer is not None and "刚刚已发送" in (chart.answer.text or "")

    bot_stage.clock.advance(timedelta(seconds=60))  # the window has passed: asked for again, sent again
    await people.staff.press("📈 每周趋势", figures)
    assert len([m for m in people.staff.messages() if m.kind == "photo"]) == 2


async def test_an_english_notice_says_one_day_overdue_in_the_singular(bot_stage: Stage) -> None:
    bot_stage.services.settings = bot_stage.services.settings.model_copy(update={"default_language": "en"})
    bot_stage.clock.set(local(2026, 2, 20))
    await cast(bot_stage, "en")
    hazard = await report(bot_stage, description="Blocked fire exit")  # general: seven days
    bot_stage.clock.set(local(2026, 3, 10))  # February's notice: a day and a bit past its deadline at the month's end
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)

    await admin.send_text("/notice")
    preview = admin.last_message().text
    assert f"{hazard.code} " in preview and "), 1 day overdue" in preview
    assert "1 days" not in preview


async def test_an_english_export_of_one_hazard_counts_it_in_the_singular(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status message and the file's caption of an export said "1 of 1 hazards written" and "1 hazards"."""
    monkeypatch.setattr(export, "EDIT_EVERY", 0.0)  # every step of the status message shows, as in a long export
    people = await cast(bot_stage, "en")
    await report(bot_stage)
    await people.staff.send_text("/stats")
    mark = len(bot_stage.sandbox.transcript)
    await people.staff.press("📥 Export Excel", people.staff.last_message())
    seen = [entry.text for entry in bot_stage.sandbox.transcript[mark:] if entry.direction == "out"]
    assert any("1 of 1 hazard written" in text for text in seen), seen
    document = next(m for m in reversed(people.staff.messages()) if m.kind == "document")
    assert document.text.endswith("hazards 1, register rows 0"), document.text
    assert not any("1 hazards" in text or "1 register rows" in text for text in seen)

    # A CSV holds the problem list alone: its caption said "register rows 0", as if there were none.
    await people.staff.send_text("/stats")
    await people.staff.press("📄 Export CSV", people.staff.last_message())
    document = next(m for m in reversed(people.staff.messages()) if m.kind == "document")
    assert (document.document_name or "").endswith(".csv") and "register rows" not in document.text
    assert "hazards 1 (a CSV holds the problem list only" in document.text


async def test_each_townships_line_gives_its_own_drill_compliance(bot_stage: Stage) -> None:
    """A township's line in /stats gives the share of its homes not overdue on their fire drill ("演练"). Tracked
    from 10 March, every Lucheng home is in order on its drill, though none has done March's self-inspection yet:
    each line says 演练 100%, not the 0 % of the self-inspections."""
    bot_stage.clock.set(local(2026, 3, 10, 10))
    people = await cast(bot_stage)
    await bot_stage.services.storage.db.execute(
        "UPDATE institutions SET tracked_from = '2026-03-10' WHERE region_code GLOB '330302*'"
    )
    await people.staff.send_text("/stats")
    text = people.staff.last_message().text
    assert "月度自查本月进行中：已完成 0/" in text and "（100%）；月度自查" in text  # the county's own figures
    township = next(line for line in text.split("\n") if line.startswith("五马街道："))
    assert "· 演练 100% ·" in township


async def test_a_ranking_of_nothing_measured_ranks_no_one_and_ties_share_a_place(tmp_path: Path) -> None:
    """A city's first month on the bot: every figure "—", and /ranking numbered the counties 1 to 13 by region code,
    the ranking the notice sends to the groups, so a county stood last for nothing. Nothing measured is not ranked;
    places that measure alike share a place, marked tied."""
    clock = FakeClock(datetime(2026, 9, 10, 1, tzinfo=UTC))  # the database first runs: nothing before is owed
    async with stage(tmp_path / "safety.db", clock=clock, settings_options={"TRACKING_SINCE": ""}) as bot_stage:
        await cast(bot_stage)
        admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
        await bot_stage.register(admin, Role.CITY)
        bot_stage.clock.set(local(2026, 9, 20))
        await admin.send_text("/ranking")
        lines = admin.last_message().text.split("\n")
        assert lines[0] == "🏆 全市排名 · 2026年8月"
        # August ended before the bot tracked anything: no drill was owed in it, so no county has a drill rate (it
        # is not 100% for homes that owed nothing), and none is ranked, none last.
        everyone = ("温州市（市直）、鹿城区、龙湾区、瓯海区、洞头区、永嘉县、平阳县、"
                    "苍南县、文成县、泰顺县、瑞安市、乐清市、龙港市")
        assert lines[1:] == [f"暂无数据，不参与排名：{everyone}"]

        await with_longwan(bot_stage)  # a hazard of Longwan, overdue by October
        bot_stage.clock.set(local(2026, 10, 8))
        await admin.send_text("/ranking")
        lines = admin.last_message().text.split("\n")
        assert lines[0] == "🏆 全市排名 · 2026年9月"
        assert "1. 鹿城区（并列）：按期 — · 期末逾期 0 · 自查 0% · 演练 100% · 签收 —" in lines
        # Homes that owe a drill a year first owe 2027's, joining on 10 September: no drill rate, rather than 100%
        # for nothing; September's self-inspection they did owe (joined by the 15th), and none did it.
        assert "8. 苍南县（并列）：按期 — · 期末逾期 0 · 自查 0% · 演练 — · 签收 —" in lines
        assert "11. 龙湾区：按期 — · 期末逾期 1 · 自查 0% · 演练 — · 签收 —" in lines  # overdue at September's end
        assert lines[-2] == "暂无数据，不参与排名：瓯海区"
        # The city's own institutions are no county: listed apart, never numbered among the counties.
        assert lines[-1] == "温州市（市直）另列，不参与排名：按期 — · 期末逾期 0 · 自查 0% · 演练 100% · 签收 —"


async def test_an_english_export_names_its_month_in_words_and_its_file_by_date(bot_stage: Stage) -> None:
    """"9/2026" read as a date to nobody (and as 9 February to some); the file "…_9_2026.xlsx" sorted November
    before September in a folder of exports."""
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    await cast(bot_stage)
    await report(bot_stage)
    month = bot_stage.clock.now().astimezone(bot_stage.settings.tz)

    await admin.send_text("/stats")
    figures = admin.last_message()
    assert f"{month:%B} {month.year}" in figures.text and f"{month.month}/{month.year}" not in figures.text
    await admin.press("📥 Export Excel", figures)
    document = next(m for m in reversed(admin.messages()) if m.kind == "document")
    assert document.document_name == f"safety-problem-list_{month:%Y-%m}.xlsx"
    assert f"{month:%B} {month.year}" in document.text
