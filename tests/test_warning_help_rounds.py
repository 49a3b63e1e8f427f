"""Several calls for help nobody takes: each clerk gets one page a round listing them all, not a page per call.

The audit's big county: six calls over six hours, each paged on its own to each of six clerks, 21 messages each;
the first repeat anyone saw said 第 2 次提醒, and the city's 🔺 said 多次提醒 after a single one. Now a round names
every untaken call of the clerk's scope, each with its own ✋ and numbered by the pages it really had, and the city's
first word says how many pages the county had."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from bot.warning_jobs import follow_up
from storage.models import InstitutionType, NewInstitution, RiskTag
from tests.warning_people import HOME_1_ZH, HOME_2, HOME_2_ZH, containing, drain, enrol, send_typhoon

ISLAND, ISLAND_ZH = "WZ-330305-ELDER-99", "洞头区东屏街道海岛养老院"
PAGE = "尚无人接手"


def _now(user: SimUser, message: BotMessage) -> BotMessage:
    (current,) = [m for m in user.messages() if m.message_id == message.message_id]
    return current


async def test_untaken_calls_come_to_each_clerk_in_one_page_a_round(typhoon_stage: Stage) -> None:
    stage, services = typhoon_stage, typhoon_stage.services
    cast = await enrol(stage)
    staff, admin = cast.dongtou_staff, cast.admin
    colleague = stage.sandbox.user(user_id=21, first_name="吴", last_name="科员", language_code="zh-hans")
    await stage.register(colleague, Role.COUNTY, region="330305")
    home = await services.storage.institutions.get_by_code(HOME_2)
    assert home is not None
    await services.storage.institutions.upsert(NewInstitution(
        code=ISLAND, name_zh=ISLAND_ZH, name_en="Dongtou Island Care Home", type=InstitutionType.ELDERLY_CARE,
        region_code=home.region_code, risk_tags=frozenset({RiskTag.NEAR_SEA})))
    island_head = stage.sandbox.user(user_id=43, first_name="郑", last_name="院长", language_code="zh-hans")
    await stage.register(island_head, Role.HEAD, institution=ISLAND)
    await send_typhoon(stage, cast, "黄色")
    await cast.head_2.press("🆘 需要帮助")  # 09:00
    stage.clock.advance(timedelta(minutes=5))
    await cast.head_1.press("🆘 需要帮助")  # 09:05
    await island_head.press("🆘 需要帮助")
    await drain(stage)
    seen = {person.id: len(person.messages()) for person in (staff, colleague, admin)}

    async def at(minutes: int) -> None:
        stage.clock.advance(timedelta(minutes=minutes))
        await follow_up(services)
        await drain(stage)

    await at(25)  # 09:30: the first call's first repeat, alone, in the words it always had
    (first,) = containing(staff, PAGE)
    assert "第 1 次提醒，已等 30 分钟" in first.text and first.buttons == [["✋ 我来处理"]]
    await at(5)  # 09:35: the two later calls are due: one page naming all three
    pages = containing(staff, PAGE)
    assert len(pages) == 2, [p.text for p in pages]
    listing = pages[-1]
    assert listing.text.startswith("⏰ 3 个求助尚无人接手")
    lines = listing.text.splitlines()
    assert HOME_2_ZH in lines[1] and "第 2 次提醒，已等 35 分钟" in lines[1]
    assert HOME_1_ZH in lines[2] and "第 1 次提醒，已等 30 分钟" in lines[2]
    assert ISLAND_ZH in lines[3] and "第 1 次提醒" in lines[3]
    assert listing.buttons == [[f"✋ 我来处理：{name}"] for name in (HOME_2_ZH, HOME_1_ZH, ISLAND_ZH)]

    await at(25)  # 10:00: the city hears of the first call, and how many pages the county had: two, not "多次"
    (escalated,) = containing(admin, "求助无人接手")
    assert "县级工作人员已提醒 2 次仍无人接手" in escalated.text and HOME_2_ZH in escalated.text
    assert len(containing(staff, PAGE)) == 2  # the county's next round is half an hour after its last
    await at(5)  # 10:05: the county's round, and the city's naming the two calls newly past an hour
    county = containing(colleague, PAGE)[-1]
    assert county.text.startswith("⏰ 3 个求助尚无人接手") and "第 3 次提醒" in county.text.splitlines()[1]
    city = containing(admin, "个求助县级无人接手")[-1]
    assert "市局第 2 次提醒" in city.text.splitlines()[1]
    assert "县级工作人员已提醒 2 次仍无人接手（首次上报市局）" in city.text.splitlines()[2]
    # Three calls, two rounds and a notice later: three pages each, where each call paged apart made six.
    for person in (staff, colleague):
        assert len([m for m in person.messages()[seen[person.id]:] if PAGE in m.text]) == 3
    assert len(admin.messages()[seen[admin.id]:]) == 2

    # 吴科员 takes the call of 中心敬老院 from the page: that line says so; the other calls keep their ✋.
    await colleague.press(f"✋ 我来处理：{HOME_1_ZH}", county)
    county = _now(colleague, county)
    assert county.text.endswith(f"{HOME_1_ZH}：✋ 吴 科员 处理中（2026-09-10 10:05 接手）")
    assert county.buttons == [[f"✋ 我来处理：{HOME_2_ZH}"], [f"✅ 已解决：{HOME_1_ZH}"], [f"✋ 我来处理：{ISLAND_ZH}"]]
    theirs = _now(staff, containing(staff, PAGE)[-1])
    assert theirs.text.endswith(f"{HOME_1_ZH}：✋ 吴 科员 处理中（2026-09-10 10:05 接手）")
    assert theirs.buttons == [[f"✋ 我来处理：{HOME_2_ZH}"], [f"✋ 我来处理：{ISLAND_ZH}"]]
    assert [f"✋ 我来处理：{HOME_1_ZH}"] not in _now(admin, city).buttons

    await at(30)  # 10:35: each call has had its two half-hourly pages, and the city knows: hourly from now on
    assert len(containing(staff, PAGE)) == 3
    await at(30)  # 11:05: the next round lists the two calls still untaken
    assert len(containing(staff, PAGE)) == 4
    latest = containing(staff, PAGE)[-1]
    assert latest.text.startswith("⏰ 2 个求助尚无人接手") and HOME_1_ZH not in latest.text
