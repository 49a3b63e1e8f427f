"""The city's own institutions (市直, registered at 330300, in no county) and the forecast: drafted one per county,
a cold wave never reached the city's relief station or funeral home (the two the seed names for heat and cold)
until the admin warned by hand. They now go with the draft of the county their address places them in; one whose
address names no county is named to the city admins with the drafts."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.domain.roles import Role
from bot.stage import Stage
from bot.warning_jobs import run_forecast
from storage.models import InstitutionType, NewInstitution
from tests.warning_people import Cast, containing, drain
from tests.warnings.conftest import FeedServer
from tests.warnings.test_forecast_digest import DIGEST, ORANGE_HEAT, SINGLE, forecast

RELIEF = "WZ-330300-RELIEF-01"  # 温州市救助管理站, 温州市鹿城区过境路救助站路1号
FUNERAL = "WZ-330300-FUNERAL-01"  # 温州市殡仪馆, 温州市瓯海区娄桥街道殡仪馆路8号


async def test_the_city_relief_station_gets_the_forecast_warning_of_the_county_it_stands_in(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    current, cast = fed
    relief = current.sandbox.user(user_id=60, first_name="赵", last_name="站长", language_code="zh-hans")
    funeral = current.sandbox.user(user_id=61, first_name="钱", last_name="馆长", language_code="zh-hans")
    await current.register(relief, Role.HEAD, institution=RELIEF)
    await current.register(funeral, Role.HEAD, institution=FUNERAL)
    await forecast(current, feed_server, "330302", ORANGE_HEAT)  # 鹿城区 only
    await run_forecast(current.services)
    await drain(current)

    (draft,) = containing(cast.lucheng_staff, SINGLE)
    assert "🏛 含位于本地区的市直机构：温州市福利彩票发行中心、温州市救助管理站、温州市儿童福利院" in draft.text
    assert "机构负责人 2" in draft.text  # 鹿城区's home and the relief station
    await cast.lucheng_staff.press("📤 发送", message=draft)
    await drain(current)
    (warned,) = containing(relief, "【发布】高温橙色预警")
    assert warned.buttons  # the station's head answers it as any head does
    assert containing(funeral, "高温") == []  # the funeral home stands in 瓯海区, where no heat was found


async def test_a_city_institution_whose_address_names_no_county_is_named_to_the_city_admins(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    current, cast = fed
    await current.services.storage.institutions.upsert(NewInstitution(
        code="WZ-330300-RELIEF-02", name_zh="温州市流浪未成年人救助保护中心",
        name_en="Wenzhou Minors' Protection Centre",
        type=InstitutionType.RELIEF, region_code="330300", address=None,
    ))
    await forecast(current, feed_server, "330305", ORANGE_HEAT)
    await run_forecast(current.services)
    await drain(current)
    (digest,) = [m for m in cast.admin.messages() if DIGEST in m.text]
    assert "以下 1 家市直机构的地址未注明所在县（市、区），不在任何预报草稿内" in digest.text
    assert "温州市流浪未成年人救助保护中心" in digest.text
    assert digest.buttons == [["📤 发送：洞头区 高温橙色预警"]]
    # County staff are not told of the city's own: not theirs to warn.
    assert "市直机构" not in containing(cast.dongtou_staff, SINGLE)[0].text


async def test_a_city_institution_whose_address_names_two_counties_is_not_guessed_into_one(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """An address naming two counties (a centre on their border) places it in neither: it is named to the city
    admins with the drafts, not slipped into the draft of whichever county came first."""
    current, cast = fed
    await current.services.storage.institutions.upsert(NewInstitution(
        code="WZ-330300-RELIEF-03", name_zh="温州市救助管理站瓯江分站",
        name_en="Wenzhou Relief Station, Oujiang",
        type=InstitutionType.RELIEF, region_code="330300", address="温州市鹿城区与洞头区交界瓯江路9号",
    ))
    await forecast(current, feed_server, "330305", ORANGE_HEAT)  # 洞头区
    await run_forecast(current.services)
    await drain(current)
    (digest,) = [m for m in cast.admin.messages() if DIGEST in m.text]
    assert "以下 1 家市直机构的地址未注明所在县（市、区），不在任何预报草稿内" in digest.text
    assert "温州市救助管理站瓯江分站" in digest.text
