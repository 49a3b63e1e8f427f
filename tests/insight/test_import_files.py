"""Spreadsheets sent to the bot that are not what the sender may import, or not what the bot reads: which list a
file is comes from its header row whoever sends it, a semicolon-separated CSV is read, an old .xls is told how to
become one the bot reads."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.stage import Stage

CITY_ADMIN, CLERK = 50, 52
INSTITUTIONS = "机构编码,机构名称,英文名称,机构类型,区划代码,风险标签,地址\n"
INSTITUTION_ROW = "YL-LC-941,鹿城区测试养老院,Lucheng Test Home,养老机构,330302,临河、有厨房,鹿城区某路1号\n"


async def test_a_semicolon_separated_institutions_file_is_read_as_institutions(bot_stage: Stage) -> None:
    """Excel in a European locale saves CSV with semicolons: the whole header was one unknown column, and the
    admin was told their institutions were "People to invite" missing a “name” column."""
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    sheet = (INSTITUTIONS + INSTITUTION_ROW).replace(",", ";")
    await admin.send_document(sheet.encode("utf-8-sig"), "institutions.csv", "text/csv")
    answer = admin.last_message().text
    assert answer.startswith("✅") and "People to invite" not in answer
    stored = await bot_stage.services.storage.institutions.get_by_code("YL-LC-941")
    assert stored is not None and stored.name_zh == "鹿城区测试养老院" and stored.region_code == "330302"

    tabbed = "姓名\t角色\t区划代码\n王五\t社区/村干部\t330302\n"
    await admin.send_document(tabbed.encode(), "people.csv", "text/csv")
    # One link, in the singular (it said "1 one-time invitation links").
    assert "🔗 1 one-time invitation link. Send it privately" in admin.last_message().text


async def test_a_county_clerk_sending_institutions_or_people_is_told_only_city_admins_import_them(
    bot_stage: Stage,
) -> None:
    """The clerk may import only their county's registry, so every file was read as one: "Vulnerable-people
    registry not imported: 10 problems … Unknown column “机构编码”"."""
    clerk = bot_stage.sandbox.user(user_id=CLERK, first_name="周", language_code="zh-hans")
    await bot_stage.register(clerk, Role.COUNTY, region="330302")
    await clerk.send_document((INSTITUTIONS + INSTITUTION_ROW).encode(), "机构.csv", "text/csv")
    answer = clerk.last_message().text
    assert "这份文件是“机构名单”" in answer and "只能由市局管理员导入" in answer and "无法识别的列" not in answer
    assert await bot_stage.services.storage.institutions.get_by_code("YL-LC-941") is None

    await clerk.send_document("姓名,角色,区划代码\n王五,社区/村干部,330302\n".encode(), "人员.csv", "text/csv")
    assert "这份文件是“人员邀请名单”" in clerk.last_message().text
    refused = await bot_stage.services.storage.db.fetchall(
        "SELECT detail FROM audit_log WHERE actor_id = ? AND action = 'authz.refused'", (CLERK,))
    assert len(refused) == 2

    registry = "人员代号,类别,所在村（社区）代码\nLC-0001,孤寡老人,330302001001\n"
    await clerk.send_document(registry.encode(), "名册.csv", "text/csv")
    assert clerk.last_message().text.startswith("✅ 特殊群体名册已导入")


async def test_an_old_excel_file_is_told_to_be_saved_as_xlsx_or_csv(bot_stage: Stage) -> None:
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_document(b"\xd0\xcf\x11\xe0" + bytes(100), "机构.xls")
    answer = admin.last_message().text
    assert "旧版 Excel（.xls）" in answer and "另存为" in answer


async def test_a_clerks_registry_whose_columns_fit_another_list_as_badly_is_read_as_their_registry(
    bot_stage: Stage,
) -> None:
    """A registry with its region column headed 区划代码 (as in the other two lists) and no category fits the people
    list as badly as the registry: a tie goes to the list the sender may import, and the clerk reads what their
    registry is missing, not that only city admins import people."""
    clerk = bot_stage.sandbox.user(user_id=CLERK, first_name="周", language_code="zh-hans")
    await bot_stage.register(clerk, Role.COUNTY, region="330302")
    await clerk.send_document("人员代号,区划代码\nLC-0001,330302001001\n".encode(), "名册.csv", "text/csv")
    answer = clerk.last_message().text
    assert answer.startswith("❌ 特殊群体名册未导入") and "只能由市局管理员导入" not in answer
    assert "第 1 行「类别」：缺少这一列。" in answer
