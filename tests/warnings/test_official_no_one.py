"""An official warning that went out by itself: the staff's word that it did says how many institutions it
concerns that nobody could be told of, and their county's staff are named them once, as for a warning staff send."""

from __future__ import annotations

from bot.stage import Stage
from bot.warning_jobs import follow_up, poll_feeds
from tests.warning_people import HOME_2_ZH, Cast, containing, drain
from tests.warnings.conftest import FeedServer
from tests.warnings.test_feeds import TYPHOON, serve


async def test_the_word_that_an_official_warning_went_out_by_itself_counts_those_nobody_could_tell(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    """陈院长 had blocked the bot. The orange typhoon went out by itself; staff read that it had gone to 5
    recipients, and of the home to phone only in a separate message."""
    current, cast = fed
    cast.head_2.block_bot()
    await current.sandbox.settle()
    serve(feed_server, TYPHOON)
    await poll_feeds(current.services)
    await follow_up(current.services)
    await drain(current)
    for staff in (cast.dongtou_staff, cast.admin):
        (notice,) = containing(staff, "官方台风橙色预警已自动发送")
        assert "1 家目标机构无人可联系（没有能联系上的负责人：未登记、已停用或已屏蔽本机器人），请电话通知" in (
            notice.text
        )
    (named,) = containing(cast.dongtou_staff, "无法收到预警")
    assert HOME_2_ZH in named.text
    assert containing(cast.admin, "无法收到预警") == []  # 洞头区 has staff of its own to phone it
