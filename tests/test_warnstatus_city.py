"""/warnstatus and the silent's escalation under a warning for the whole city, as the city admin meets them: every
institution listed while there is room, the reason for "no one to reach" said once, and one escalation message
for all the counties the admin stands in for."""

from __future__ import annotations

from bot.stage import Stage
from handlers.warnstatus import shares
from tests.test_city_wide_warnings import warn_the_whole_city
from tests.warning_people import drain, enrol


def test_rows_a_county_does_not_need_go_to_those_that_do() -> None:
    assert shares([4, 2, 1, 2] + [1] * 9) == [4, 2, 1, 2] + [1] * 9
    assert shares([40, 1, 1]) == [28, 1, 1]
    assert shares([40, 40]) == [15, 15]
    assert shares([5] * 13) == [3] * 13  # each county its least, though past the thirty


async def test_the_city_status_lists_all_seventeen_institutions_and_says_why_once(typhoon_stage: Stage) -> None:
    """Seventeen institutions in thirteen counties: the status showed three of 温州市's four and "……另有 1 家机构未列出"
    with half its rows unused, and repeated on fourteen lines why nobody can be told of a home."""
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    await cast.admin.send_text("/warnstatus")
    status = cast.admin.last_message().text
    assert "未回复 17（共 17 家机构）" in status
    assert "温州市福利彩票发行中心：无人可联系 ☎️" in status
    assert "未列出" not in status
    assert status.count("已屏蔽本机器人") == 1
    assert status.count("：无人可联系 ☎️") == 14
