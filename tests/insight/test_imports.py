"""Bulk import: every bad row reported by row and column with nothing changed; a clean file imported whole; the
invitation links handed back as a spreadsheet; templates that import as they are."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from bot.domain.imports import ImportKind, RowError
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.import_text import result_text
from bot.services.imports import ImportService
from bot.services.onboarding import OnboardingService
from bot.services.spreadsheets import read_table
from bot.services.warnings import WarningService
from tests.insight.world import CADRE, CITY_ADMIN, HEAD_A, LUCHENG_STAFF, InsightWorld

TZ = ZoneInfo("Asia/Shanghai")
ZH = Translator("zh_CN", strict=True)


def service(world: InsightWorld) -> ImportService:
    ttl = timedelta(hours=72)
    return ImportService(world.storage, world.clock, TZ, OnboardingService(world.storage, world.clock, ttl), ttl,
                         WarningService(world.storage, world.clock))


def csv_bytes(rows: list[list[str]]) -> bytes:
    stream = io.StringIO()
    csv.writer(stream).writerows(rows)
    return stream.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def where(errors: tuple[RowError, ...]) -> set[tuple[int, str, str]]:
    return {(e.row, e.column, e.code) for e in errors}


async def test_bad_institution_rows_are_all_reported_and_nothing_changes(world: InsightWorld) -> None:
    before = len(await world.storage.institutions.in_scope(None, active_only=False))
    table = read_table(csv_bytes([
        ["机构编码", "机构名称", "机构类型", "区划代码", "风险标签"],
        ["NEW-01", "鹿城区新建养老院", "养老机构", "330302001", "临河、有厨房"],  # fine on its own
        ["NEW-02", "未知县敬老院", "养老机构", "339999", ""],  # unknown county
        ["NEW-01", "重复编码养老院", "elderly_care", "330302007", ""],  # the code again
        ["NEW-03", "鹿城区社会福利院", "养老机构", "330302001", ""],  # an institution that exists, new code
        ["NEW-04", "错误类型机构", "学校", "330303", "靠天"],  # not a type, not a tag (靠海 is taken for 临海)
    ]), "机构.csv")
    result = await service(world).run(await world.user(CITY_ADMIN), ImportKind.INSTITUTIONS, table)
    assert not result.ok and result.rows == 0
    assert where(result.errors) == {
        (3, "region_code", "unknown_region"),
        (4, "code", "duplicate"),
        (5, "name_zh", "duplicate_institution"),
        (6, "type", "bad_choice"),
        (6, "risk_tags", "bad_choice"),
    }
    assert len(await world.storage.institutions.in_scope(None, active_only=False)) == before
    assert await world.storage.institutions.get_by_code("NEW-01") is None
    text = result_text(result, table.headers, ZH)
    assert "发现 5 处问题，数据库未做任何改动" in text
    assert "第 3 行「区划代码」：区划代码 339999 不在系统中" in text
    assert "第 4 行「机构编码」：“NEW-01”重复，第 2 行已出现" in text
    assert "第 5 行「机构名称」：同一区划下已有名为“鹿城区社会福利院”的机构（编码 WZ-330302-ELDER-01）" in text


async def test_a_clean_institution_file_is_imported_whole(world: InsightWorld) -> None:
    table = read_table(xlsx_bytes([
        ["code", "name_zh", "type", "region_code", "risk_tags", "address"],
        ["NEW-01", "鹿城区新建养老院", "养老机构", 330302001, "临河、有厨房", "某路 1 号"],
        ["WZ-330302-ELDER-01", "鹿城区社会福利院", "elderly_care", "330302001", "gas", None],  # an update
    ]), "institutions.xlsx")
    result = await service(world).run(None, ImportKind.INSTITUTIONS, table)
    assert result.ok and (result.rows, result.added) == (2, 1)
    added = await world.storage.institutions.get_by_code("NEW-01")
    assert added is not None and added.region_code == "330302001" and added.name_en == "鹿城区新建养老院"
    assert {tag.value for tag in added.risk_tags} == {"near_river", "kitchen"}
    assert "新增 1 家，更新 1 家" in result_text(result, table.headers, ZH)


async def test_people_get_invitation_links_as_a_spreadsheet(world: InsightWorld, tmp_path: Path) -> None:
    imports = service(world)
    bad = read_table(csv_bytes([
        ["姓名", "角色", "区划代码", "机构编码", "链接有效期至"],
        ["王五", "社区/村干部", "330302", "", "2026-13-01"],  # no such date
        ["赵六", "机构负责人", "", "NOPE", ""],  # unknown institution
        ["钱七", "county", "330302001", "", "2026-03-10"],  # a township for county staff; a past date
    ]), "people.csv")
    result = await imports.run(await world.user(CITY_ADMIN), ImportKind.PEOPLE, bad)
    assert where(result.errors) == {
        (2, "valid_until", "bad_date"), (3, "institution_code", "unknown_institution"),
        (4, "region_code", "county_needed"), (4, "valid_until", "date_past"),
    }
    good = read_table(csv_bytes([
        ["name", "role", "region_code", "institution_code", "valid_until"],
        ["王五", "社区/村干部", "330302", "", "2026-03-31"],
        ["赵六", "机构负责人", "", "WZ-330302-ELDER-02", ""],
    ]), "people.csv")
    result = await imports.run(await world.user(CITY_ADMIN), ImportKind.PEOPLE, good)
    assert result.ok and [i.name for i in result.invitations] == ["王五", "赵六"]
    first = await world.storage.invites.get(result.invitations[0].token)
    assert first is not None and first.region_code == "330302"
    assert first.expires_at.astimezone(TZ).date().isoformat() == "2026-04-01"  # the end of 31 March
    path = tmp_path / "links.xlsx"
    imports.invitations_file(result.invitations, "civil_safety_bot", ZH, path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("行号", "姓名", "角色", "区划或机构", "邀请链接", "有效期至")
    assert rows[1][:4] == (2, "王五", "社区/村干部", "330302")
    assert rows[1][4] == f"https://t.me/civil_safety_bot?start={result.invitations[0].token}"
    assert rows[2][2:4] == ("机构负责人", "WZ-330302-ELDER-02")


async def test_the_vulnerable_registry_is_pseudonymous_and_in_scope(world: InsightWorld) -> None:
    imports = service(world)
    staff = await world.user(LUCHENG_STAFF)
    table = read_table(csv_bytes([
        ["人员代号", "类别", "所在村（社区）代码", "联系干部 Telegram ID"],
        ["LC-0001", "孤寡老人", "330302001001", str(CADRE)],
        ["330302199001011234", "留守儿童", "330302001002", ""],  # an ID number is refused by the registry
        ["LW-0001", "三无人员", "330303001001", ""],  # Longwan: not this staff member's county
        ["XX-0001", "低保", "339999001001", "abc"],  # no such category, county or cadre id
    ]), "名册.csv")
    result = await imports.run(staff, ImportKind.VULNERABLE, table)
    assert where(result.errors) == {
        (4, "region_code", "out_of_scope"), (5, "category", "bad_choice"), (5, "region_code", "unknown_county"),
        (5, "cadre_id", "bad_number"),
    }
    clean = read_table(csv_bytes([list(table.headers), list(table.rows[0]), list(table.rows[1])]), "名册.csv")
    refused = await imports.run(staff, ImportKind.VULNERABLE, clean)
    assert [(e.row, e.code, e.refusal) for e in refused.errors] == [(3, "person_code_identifying", True)]
    assert await world.storage.contacts.person_by_code("LC-0001") is None  # rolled back with the bad row
    good = read_table(csv_bytes([list(table.headers), list(table.rows[0])]), "名册.csv")
    done = await imports.run(staff, ImportKind.VULNERABLE, good)
    assert done.ok and done.added == 1
    person = await world.storage.contacts.person_by_code("LC-0001")
    assert person is not None and person.cadre_id == CADRE and person.category.value == "elderly_alone"


async def test_who_may_import_what(world: InsightWorld) -> None:
    imports = service(world)
    staff, head = await world.user(LUCHENG_STAFF), await world.user(HEAD_A)
    assert imports.allowed(staff, ImportKind.VULNERABLE) and not imports.allowed(staff, ImportKind.PEOPLE)
    assert not any(imports.allowed(head, kind) for kind in ImportKind)
    with pytest.raises(Refusal):
        await imports.run(staff, ImportKind.INSTITUTIONS, read_table(csv_bytes([["code"], ["x"]]), "a.csv"))


@pytest.mark.parametrize("kind", list(ImportKind))
async def test_templates_import_as_they_are(world: InsightWorld, tmp_path: Path, kind: ImportKind) -> None:
    path = tmp_path / f"{kind.value}.xlsx"
    service(world).template(kind, ZH, path)
    book = load_workbook(path)
    assert book.sheetnames[1] == "填写说明" and book.worksheets[0].freeze_panes == "A2"
    table = read_table(path.read_bytes(), path.name)
    result = await service(world).run(None, kind, table)
    assert [(e.row, e.code) for e in result.errors] == [(2, "no_rows")]  # headers all recognised


async def test_a_link_date_as_chinese_excel_saves_it_in_a_csv_is_read(world: InsightWorld) -> None:
    """Chinese Excel writes a date cell into a CSV as 2026/3/31, and people type 2026年3月31日. The slashes were
    turned into dashes, but 2026-3-31 is not ISO, so the whole file was refused: “不是日期”."""
    table = read_table(csv_bytes([
        ["姓名", "角色", "区划代码", "机构编码", "链接有效期至"],
        ["王五", "社区/村干部", "330302", "", "2026/3/31"],
        ["赵六", "社区/村干部", "330302", "", "2026年3月30日"],
        ["孙七", "社区/村干部", "330302", "", "2026.3.29"],
    ]), "people.csv")
    result = await service(world).run(await world.user(CITY_ADMIN), ImportKind.PEOPLE, table)
    assert result.errors == ()
    expiry = [i.expires_at.astimezone(TZ).date().isoformat() for i in result.invitations]
    assert expiry == ["2026-04-01", "2026-03-31", "2026-03-30"]  # the end of each day named


async def test_an_imported_institution_is_tracked_from_the_local_day_it_was_created(world: InsightWorld) -> None:
    """Its calendar duties are judged from that day: a home imported in July never missed the first half-year's
    drill. Importing it again later must not move that day, and a row that existed before gets no date."""
    table = read_table(csv_bytes([
        ["机构编码", "机构名称", "机构类型", "区划代码"],
        ["NEW-01", "鹿城区新建养老院", "养老机构", "330302001"],
        ["WZ-330302-ELDER-01", "鹿城区社会福利院", "养老机构", "330302001"],
    ]), "机构.csv")
    world.clock.set(datetime(2026, 7, 14, 17, 30, tzinfo=UTC))  # 01:30 on 15 July in Wenzhou
    assert (await service(world).run(None, ImportKind.INSTITUTIONS, table)).ok
    added = await world.storage.institutions.get_by_code("NEW-01")
    existing = await world.storage.institutions.get_by_code("WZ-330302-ELDER-01")
    assert added is not None and added.tracked_from == date(2026, 7, 15)
    assert existing is not None and existing.tracked_from is None

    world.clock.set(datetime(2026, 9, 1, 2, tzinfo=UTC))
    assert (await service(world).run(None, ImportKind.INSTITUTIONS, table)).ok
    again = await world.storage.institutions.get_by_code("NEW-01")
    assert again is not None and again.tracked_from == date(2026, 7, 15)


async def test_headers_as_excel_and_wps_save_them_are_recognised(world: InsightWorld) -> None:
    """A header cell carries what the eye does not see: a second byte-order mark (a file saved twice, or pasted
    from another CSV), a zero-width space, a mark of direction, a no-break space, full-width letters. Each was an
    unknown column, or the required one missing, and the whole file was refused."""
    csv_file = read_table(csv_bytes([
        ["\ufeff机构编码", "机构名称\u200b", "\u200e机构类型", "区划\u00a0代码 ", "\u3000风险标签"],
        ["NEW-01", "鹿城区新建养老院", "养老机构", "330302001", "临河"],
    ]), "机构.csv")
    result = await service(world).run(None, ImportKind.INSTITUTIONS, csv_file)
    assert result.errors == () and (result.rows, result.added) == (1, 1)

    xlsx_file = read_table(xlsx_bytes([
        ["Ｃｏｄｅ", "name_zh\u200b", "\u2066TYPE\u2069", "region_code\ufeff"],
        ["NEW-02", "鹿城区又一家养老院", "elderly_care", 330302001],
    ]), "institutions.xlsx")
    result = await service(world).run(None, ImportKind.INSTITUTIONS, xlsx_file)
    assert result.errors == () and (result.rows, result.added) == (1, 1)
    assert await world.storage.institutions.get_by_code("NEW-02") is not None


async def test_an_unknown_header_is_named_as_it_shows(world: InsightWorld) -> None:
    """The refusal quotes the header without the invisible characters around it, and a header of nothing but
    invisible characters is an empty one, not an unknown column."""
    table = read_table(csv_bytes([
        ["机构编码", "机构名称", "机构类型", "区划代码", "\u200b备注\u200e", "\u200b\u200b"],
        ["NEW-01", "鹿城区新建养老院", "养老机构", "330302001", "", ""],
    ]), "机构.csv")
    result = await service(world).run(None, ImportKind.INSTITUTIONS, table)
    assert [(e.code, e.params) for e in result.errors] == [("unknown_column", {"value": "备注"})]


async def test_common_names_of_a_type_a_tag_and_a_role_are_taken(world: InsightWorld) -> None:
    """The words people write rather than the template's: 敬老院 is an elderly-care institution, 靠海 is 临海, the
    English label with its noun, a village cadre."""
    table = read_table(csv_bytes([
        ["机构编码", "机构名称", "机构类型", "区划代码", "风险标签"],
        ["NEW-11", "鹿城区新建敬老院", "敬老院", "330302001", "靠海、厨房"],
        ["NEW-12", "Lucheng new home", "Elderly-care institution", "330302001", "coastal"],
    ]), "机构.csv")
    result = await service(world).run(await world.user(CITY_ADMIN), ImportKind.INSTITUTIONS, table)
    assert result.ok, result.errors
    stored = await world.storage.institutions.get_by_code("NEW-11")
    assert stored is not None and stored.type.value == "elderly_care"
    assert {tag.value for tag in stored.risk_tags} == {"near_sea", "kitchen"}


async def test_a_person_listed_twice_or_a_head_placed_in_another_county_is_an_error(
    world: InsightWorld, tmp_path: Path
) -> None:
    """Two identical rows made two live links for one head; a head's region of another county than their
    institution's was dropped without a word. The same name for another role or another home is another person."""
    imports = service(world)
    table = read_table(csv_bytes([
        ["姓名", "角色", "区划代码", "机构编码"],
        ["李四", "机构负责人", "", "WZ-330302-ELDER-02"],
        ["李四", "机构负责人", "", "WZ-330302-ELDER-02"],  # the same row again
        ["钱七", "机构负责人", "330303", "WZ-330302-ELDER-02"],  # a Lucheng home placed in Longwan
        ["孙八", "机构负责人", "330302", "WZ-330302-ELDER-02"],  # its own county: fine
        ["李四", "社区/村干部", "330302", ""],  # another 李四, a cadre: another person
        ["李四", "机构负责人", "", "WZ-330302-ELDER-01"],  # another home's head named 李四: another person too
    ]), "people.csv")
    result = await imports.run(await world.user(CITY_ADMIN), ImportKind.PEOPLE, table)
    assert where(result.errors) == {(3, "name", "duplicate_person"), (4, "region_code", "region_not_institutions")}
    text = result_text(result, table.headers, ZH)
    assert "第 3 行「姓名」：与第 2 行是同一人（“李四”" in text
    assert "第 4 行「区划代码」：区划代码 330303 与机构 WZ-330302-ELDER-02 所在区划 330302" in text
    assert await world.storage.db.fetchall("SELECT token FROM invites") == []


async def test_the_links_are_written_as_csv_when_the_file_is_named_so(world: InsightWorld, tmp_path: Path) -> None:
    imports = service(world)
    table = read_table(csv_bytes([["姓名", "角色", "区划代码"], ["王五", "社区/村干部", "330302"]]), "people.csv")
    result = await imports.run(await world.user(CITY_ADMIN), ImportKind.PEOPLE, table)
    path = tmp_path / "links.csv"
    imports.invitations_file(result.invitations, "civil_safety_bot", ZH, path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["行号", "姓名", "角色", "区划或机构", "邀请链接", "有效期至"]
    assert rows[1][:3] == ["2", "王五", "社区/村干部"] and rows[1][4].startswith("https://t.me/civil_safety_bot?start=")
