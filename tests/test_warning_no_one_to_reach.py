"""An institution a warning concerns but nobody can be told of — no head ever registered, the head's access ended,
the only head blocked the bot — still counts: it is unanswered in /warnstatus ("no one to reach — phone them"),
in the rate and the acknowledgement chart, its county's staff hear of it at once, and the sender is told at
sending time how many there are. Nobody whose access ended is sent anything, and nobody gets anything twice."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.stats import Scope, ScopeLevel
from bot.stage import Stage
from bot.warning_jobs import follow_up
from storage.models import InstitutionType, NewInstitution, RiskTag
from storage.repositories.stats import StatsRepository
from tests.warning_people import (
    DONGTOU,
    HOME_1_ZH,
    HOME_2,
    HOME_2_ZH,
    TYPHOON_TEMPLATE,
    compose_typhoon,
    containing,
    drain,
    enrol,
)

LONELY_ZH = "洞头区东屏街道海岛养老院"


async def _lonely_home(stage: Stage) -> None:
    """A home by the sea in 洞头区 that nobody has registered for."""
    storage = stage.services.storage
    home = await storage.institutions.get_by_code(HOME_2)
    assert home is not None
    await storage.institutions.upsert(NewInstitution(
        code="WZ-330305-ELDER-99", name_zh=LONELY_ZH, name_en="Dongtou Island Care Home",
        type=InstitutionType.ELDERLY_CARE, region_code=home.region_code, risk_tags=frozenset({RiskTag.NEAR_SEA}),
    ))


async def test_institutions_with_no_one_to_reach_count_show_and_reach_staff_at_once(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff, services = cast.dongtou_staff, typhoon_stage.services
    await _lonely_home(typhoon_stage)
    actor = await services.storage.users.get(staff.id)
    assert actor is not None
    await services.people.deactivate(actor, cast.head_2.id)  # 陈院长 leaves: 大门镇敬老院 has no head now
    await drain(typhoon_stage)
    seen = len(cast.head_2.messages())

    await compose_typhoon(cast)
    await staff.press("📤 发送")
    sent = containing(staff, "已发送")[-1].text
    assert "2 家目标机构无人可联系（没有能联系上的负责人：未登记、已停用或已屏蔽本机器人），请电话通知" in sent
    await drain(typhoon_stage)
    assert cast.head_2.messages()[seen:] == []  # access ended: nothing
    assert len(containing(cast.head_1, TYPHOON_TEMPLATE)) == 1
    # The city admin, who did not send it, is told it is in force: the count, but no list promised (洞头区's staff
    # are named the homes).
    (in_force,) = containing(cast.admin, "已发布，覆盖洞头区")
    assert "其中 2 家无人可联系，需电话通知；名单已发给所在县（市、区）民政部门" in in_force.text

    await staff.send_text("/warnstatus")
    status = staff.last_message().text
    assert "已收到并落实 0 · 需要帮助 0 · 未回复 3（共 3 家机构）" in status
    # The reason once, in the count; each line short (a city-wide status may list a dozen of them).
    assert "其中 2 家无人可联系（没有能联系上的负责人：未登记、已停用或已屏蔽本机器人），下面标 ☎️ 的请电话联系" \
        in status
    assert status.count("已屏蔽本机器人") == 1
    assert f"⏳ {HOME_2_ZH}：无人可联系 ☎️\n" in status
    assert f"⏳ {LONELY_ZH}：无人可联系 ☎️\n" in status
    assert f"{HOME_1_ZH}：未回复" in status

    # Nobody can answer for them: their county's staff hear of them at once, not after the follow-up's delay.
    await follow_up(services)
    await follow_up(services)  # again: nothing twice
    await drain(typhoon_stage)
    unreached = containing(staff, "无法收到预警")
    assert len(unreached) == 1, [m.text for m in unreached]
    at_once = unreached[0]
    assert HOME_2_ZH in at_once.text and LONELY_ZH in at_once.text and HOME_1_ZH not in at_once.text
    assert containing(cast.lucheng_staff, "无法收到预警") == []

    # The acknowledgement chart counts them as unanswered.
    sent_at, reached, answers = await StatsRepository(services.storage.db).ack_times(
        Scope(ScopeLevel.COUNTY, DONGTOU), 1)
    assert sent_at is not None and (reached, answers) == (3, [])

    await cast.head_1.press("✅ 已收到并落实")
    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(services)
    await drain(typhoon_stage)
    assert cast.head_2.messages()[seen:] == []
    late = containing(staff, "仍未回复")
    assert len(late) == 1 and HOME_2_ZH in late[0].text and LONELY_ZH in late[0].text


async def test_a_home_whose_only_head_blocked_the_bot_shows_as_no_one_to_reach(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    cast.head_2.block_bot()
    await typhoon_stage.sandbox.settle()

    await compose_typhoon(cast)
    await staff.press("📤 发送")
    assert "1 家目标机构无人可联系" in containing(staff, "已发送")[-1].text
    await drain(typhoon_stage)
    await staff.send_text("/warnstatus")
    status = staff.last_message().text
    assert "未回复 2（共 2 家机构）" in status
    assert f"⏳ {HOME_2_ZH}：无人可联系 ☎️" in status


async def test_an_english_sender_reads_of_one_institution_with_no_one_to_reach_in_the_singular(
    typhoon_stage: Stage,
) -> None:
    cast = await enrol(typhoon_stage, language="en")
    staff = cast.dongtou_staff
    await _lonely_home(typhoon_stage)
    await compose_typhoon(cast, "Red", "24 h", language="en")
    await staff.press("📤 Send")
    sent = [m for m in staff.messages() if "sent (no." in m.text][-1].text
    assert ("1 targeted institution has no one to reach (no head the bot can reach: none registered, access ended, "
            "or the bot blocked): phone it.") in sent


async def test_the_preview_counts_a_home_whose_only_head_blocked_the_bot_as_the_confirmation_does(
    typhoon_stage: Stage,
) -> None:
    """The preview counted only homes with no active head: 陈院长, who blocked the bot, still counted as someone
    to reach, and the home showed up as one to phone only once the warning was out."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    cast.head_2.block_bot()
    await typhoon_stage.sandbox.settle()

    await compose_typhoon(cast)
    preview = containing(staff, "预览")[-1].text
    assert "1 家目标机构无人可联系（没有能联系上的负责人：未登记、已停用或已屏蔽本机器人）" in preview
    await staff.press("📤 发送")
    assert "1 家目标机构无人可联系" in containing(staff, "已发送")[-1].text


async def test_staff_are_told_only_of_the_homes_newly_without_anyone_to_reach(typhoon_stage: Stage) -> None:
    """The home nobody registered for was named when the warning went out; when 陈院长 later blocked the bot the
    follow-up named both homes again, as if staff had not been told of the first."""
    cast = await enrol(typhoon_stage)
    staff, services = cast.dongtou_staff, typhoon_stage.services
    await _lonely_home(typhoon_stage)
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    (first,) = containing(staff, "无法收到预警")
    assert LONELY_ZH in first.text and HOME_2_ZH not in first.text

    cast.head_2.block_bot()
    await typhoon_stage.sandbox.settle()
    await follow_up(services)
    await follow_up(services)
    await drain(typhoon_stage)
    first_again, later = containing(staff, "无法收到预警")
    assert first_again.text == first.text
    assert HOME_2_ZH in later.text and LONELY_ZH not in later.text
    assert "又有 1 家机构无人可联系" in later.text and "此前已告知的 1 家不再重复" in later.text

    # 陈院长 unblocks and blocks again: staff know of the home already.
    cast.head_2.unblock_bot()
    await typhoon_stage.sandbox.settle()
    await follow_up(services)
    cast.head_2.block_bot()
    await typhoon_stage.sandbox.settle()
    await follow_up(services)
    await drain(typhoon_stage)
    assert len(containing(staff, "无法收到预警")) == 2


async def test_the_follow_up_counts_the_homes_it_newly_named_not_all_of_them_each_minute(typhoon_stage: Stage) -> None:
    """The follow-up runs every minute and added up, each time, every home with no one to reach, though staff had
    been told of them once: its count said 1, 1, 1… for a home named once, at sending time."""
    cast = await enrol(typhoon_stage)
    staff, services = cast.dongtou_staff, typhoon_stage.services
    await _lonely_home(typhoon_stage)
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    assert len(containing(staff, "无法收到预警")) == 1  # the lonely home, named at sending time

    assert (await follow_up(services)).no_one_to_reach == 0
    cast.head_2.block_bot()
    await typhoon_stage.sandbox.settle()
    assert (await follow_up(services)).no_one_to_reach == 1  # 大门镇敬老院, named now
    assert (await follow_up(services)).no_one_to_reach == 0
    await drain(typhoon_stage)
    assert len(containing(staff, "无法收到预警")) == 2
