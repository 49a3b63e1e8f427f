"""/warnstatus and the silent's escalation under a warning for the whole city, as the city admin meets them: every
institution listed while there is room, the reason for "no one to reach" said once, and one escalation message
for all the counties the admin stands in for."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from bot.warning_jobs import follow_up
from storage.warning_models import AckResponse, WarningAck
from tests.test_city_wide_warnings import warn_the_whole_city
from tests.warning_people import DONGTOU, LUCHENG, containing, drain, enrol


def _as_now(user: SimUser, message_id: int) -> BotMessage:
    (message,) = [m for m in user.messages() if m.message_id == message_id]
    return message


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


async def test_the_city_admin_standing_in_for_counties_gets_one_escalation_grouped_by_county(
    typhoon_stage: Stage,
) -> None:
    """At the two-hour mark the city admin, standing in for the counties with no staff, got ten messages at once,
    one per county, none naming its county. One message now, a heading for each county and a ☎️ button each: the
    follow-up stays per county (take it on, hand it back), and nothing is sent twice."""
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    seen = len(cast.admin.messages())
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    typhoon_stage.clock.advance(timedelta(minutes=1))
    await follow_up(typhoon_stage.services)  # the next minute: nothing again
    await drain(typhoon_stage)

    late = [m for m in cast.admin.messages()[seen:] if "仍未回复" in m.text]
    assert len(late) == 1, [m.text for m in late]
    (grouped,) = late
    assert "您负责的 10 个地区（含市直）共有 13 家机构仍未回复" in grouped.text
    assert "\n温州市（市直） 4 家：温州市救助管理站、" in grouped.text
    assert "\n永嘉县 1 家：永嘉县社会福利中心" in grouped.text
    assert ["☎️ 我来跟进永嘉县"] in grouped.buttons and ["☎️ 我来跟进温州市（市直）"] in grouped.buttons
    assert len(grouped.buttons) == 10
    # Staff with a county of their own keep their one message, as before.
    (dongtou,) = containing(cast.dongtou_staff, "仍未回复")
    assert dongtou.text.startswith("⚠️ 高温橙色预警发出已超过规定时间，以下 2 家机构仍未回复")
    assert dongtou.buttons == [["☎️ 我来跟进"]]

    await cast.admin.press("☎️ 我来跟进永嘉县", message=grouped)
    assert "永嘉县" in (cast.admin.answers()[-1].text or "")
    edited = _as_now(cast.admin, grouped.message_id)
    assert edited.text.endswith("☎️ 永嘉县跟进人：王 局长（2026-09-10 11:02 接手）")
    assert ["↩️ 交回永嘉县的跟进"] in edited.buttons and ["☎️ 我来跟进温州市（市直）"] in edited.buttons
    assert len(edited.buttons) == 10
    await cast.admin.press("☎️ 我来跟进温州市（市直）", message=edited)
    edited = _as_now(cast.admin, grouped.message_id)
    assert "☎️ 永嘉县跟进人：王 局长" in edited.text and "☎️ 温州市（市直）跟进人：王 局长" in edited.text
    await cast.admin.press("↩️ 交回永嘉县的跟进", message=edited)
    edited = _as_now(cast.admin, grouped.message_id)
    assert "永嘉县跟进人" not in edited.text and "☎️ 温州市（市直）跟进人：王 局长" in edited.text
    assert ["☎️ 我来跟进永嘉县"] in edited.buttons and ["↩️ 交回温州市（市直）的跟进"] in edited.buttons
    assert edited.text.startswith(grouped.text)
    await cast.admin.send_text("/warnstatus")
    status = cast.admin.last_message().text
    assert "温州市（市直）\n☎️ 跟进人：王 局长" in status and "永嘉县\n☎️ 尚无人接手跟进" in status



async def test_counties_answering_after_the_grouped_escalation_bring_no_second_message(typhoon_stage: Stage) -> None:
    """The escalation is looked at again every minute: all but one of the admin's counties answering in between must
    not turn the grouped message into a new one for the county left (the admin had it already)."""
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    seen = len(cast.admin.messages())
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    assert len([m for m in cast.admin.messages()[seen:] if "仍未回复" in m.text]) == 1

    services = typhoon_stage.services
    status = await services.warnings.ack_status(1)
    left = "330324"  # 永嘉县: the one county of the admin's still silent
    for county in status.counties:
        if county.county_code in (left, DONGTOU, LUCHENG):  # 洞头区 and 鹿城区 have staff of their own
            continue
        for row in county.pending:
            await services.storage.warnings.record_ack(WarningAck(
                warning_id=1, user_id=cast.admin.id, institution_id=row.institution_id,
                response=AckResponse.RECEIVED, revision=1, at=services.clock.now()))
    typhoon_stage.clock.advance(timedelta(minutes=1))
    await follow_up(services)
    await drain(typhoon_stage)
    late = [m for m in cast.admin.messages()[seen:] if "仍未回复" in m.text]
    assert len(late) == 1, [m.text for m in late]


async def test_a_colleagues_grouped_escalation_offers_to_take_on_a_county_not_to_hand_it_back(
    typhoon_stage: Stage,
) -> None:
    """Two city admins stand in for the counties with no staff. 王局长 takes on 永嘉县; 赵处长, pressing the same
    county on their own message, is told who follows it up, and their message offers ☎️ for it, never ↩️ 交回 (only
    the one who follows it up may hand it back)."""
    cast = await enrol(typhoon_stage)
    colleague = typhoon_stage.sandbox.user(user_id=2, first_name="赵", last_name="处长", language_code="zh-hans")
    await typhoon_stage.register(colleague, Role.CITY)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (mine,) = [m for m in cast.admin.messages() if "您负责的" in m.text and "仍未回复" in m.text]
    (theirs,) = [m for m in colleague.messages() if "您负责的" in m.text and "仍未回复" in m.text]

    await cast.admin.press("☎️ 我来跟进永嘉县", message=mine)
    await colleague.press("☎️ 我来跟进永嘉县", message=theirs)
    assert "王 局长" in (colleague.answers()[-1].text or "")
    edited = _as_now(colleague, theirs.message_id)
    assert "☎️ 永嘉县跟进人：王 局长" in edited.text
    assert ["☎️ 我来跟进永嘉县"] in edited.buttons and ["↩️ 交回永嘉县的跟进"] not in edited.buttons
