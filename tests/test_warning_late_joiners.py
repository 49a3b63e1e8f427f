"""County staff and city admins who join while a warning is in force hear of it as their colleagues did at its
sending: the same notice ("📢 … 已发布，覆盖洞头区 …", /warnstatus), once per person and warning, restart or not,
leaving and coming back or not. Before, the notice went out at the warning's first sending only, so a clerk
registered an hour into a typhoon warning knew nothing of it until the silent homes were named to them."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.stage import Stage
from tests.test_city_wide_warnings import warn_the_whole_city
from tests.warning_people import DONGTOU, LUCHENG, Cast, compose_typhoon, containing, drain, enrol, send_typhoon

CLERK, DEPUTY, LUCHENG_CLERK = 21, 2, 11


def newcomer(stage: Stage, user_id: int, name: str) -> SimUser:
    return stage.sandbox.user(user_id=user_id, first_name=name, language_code="zh-hans")


async def end_access(stage: Stage, cast: Cast, name: str) -> None:
    """The city admin ends the person's access through /people."""
    admin = cast.admin
    await admin.send_text("/people")
    await admin.press(name)
    await admin.press("⛔ 停用账号")
    await admin.press("⛔ 确认停用")
    # The confirmation, then (the person being in bound groups) the reminder to remove them from those groups.
    assert containing(admin, f"已停用{name}")
    await drain(stage)


async def test_a_clerk_and_a_city_admin_who_register_under_a_warning_are_told_of_it_once_restart_or_not(
    typhoon_stage: Stage,
) -> None:
    cast = await enrol(typhoon_stage)
    await warn_the_whole_city(cast)
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=1))

    clerk = newcomer(typhoon_stage, CLERK, "何科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    deputy = newcomer(typhoon_stage, DEPUTY, "赵副局长")
    await typhoon_stage.register(deputy, Role.CITY)
    await typhoon_stage.restart()  # queued with the registration: the restart neither loses nor repeats it
    await drain(typhoon_stage)

    (told,) = containing(clerk, "已发布，覆盖洞头区")
    assert "高温橙色预警（#1）" in told.text and "发布人：王 局长" in told.text
    assert "洞头区有 2 家机构在预警范围内，已发给其中 2 家的负责人。" in told.text
    assert "/warnstatus" in told.text
    (whole,) = containing(deputy, "已发布，覆盖温州市")
    assert "发布人：王 局长" in whole.text and "/warnstatus" in whole.text
    assert containing(deputy, "已发布，覆盖洞头区") == []

    # Leaving and coming back while it is still in force: they know of it already.
    await end_access(typhoon_stage, cast, "何科员")
    await typhoon_stage.restart()
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    await drain(typhoon_stage)
    assert len(containing(clerk, "已发布，覆盖")) == 1

    # Nor does a colleague told at its sending hear of it again on coming back.
    await end_access(typhoon_stage, cast, "林 科长")
    await typhoon_stage.register(cast.dongtou_staff, Role.COUNTY, region=DONGTOU)
    await drain(typhoon_stage)
    assert len(containing(cast.dongtou_staff, "已发布，覆盖")) == 1


async def test_only_the_warnings_in_force_over_the_newcomers_county_are_told(typhoon_stage: Stage) -> None:
    """洞头区's typhoon warning is told to a clerk joining 洞头区, not to one joining 鹿城区; its sender, who
    leaves and comes back, is not told of their own warning; and once it is lifted, nobody joining hears of it."""
    cast = await enrol(typhoon_stage)
    await send_typhoon(typhoon_stage, cast)

    lucheng_clerk = newcomer(typhoon_stage, LUCHENG_CLERK, "钱科员")
    await typhoon_stage.register(lucheng_clerk, Role.COUNTY, region=LUCHENG)
    clerk = newcomer(typhoon_stage, CLERK, "何科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    await drain(typhoon_stage)
    assert containing(lucheng_clerk, "已发布，覆盖") == []
    (told,) = containing(clerk, "已发布，覆盖洞头区")
    assert "台风红色预警（#1）" in told.text and "发布人：林 科长" in told.text

    await end_access(typhoon_stage, cast, "林 科长")
    await typhoon_stage.register(cast.dongtou_staff, Role.COUNTY, region=DONGTOU)
    await drain(typhoon_stage)
    assert containing(cast.dongtou_staff, "已发布，覆盖") == []

    await cast.dongtou_staff.send_text("/warnings")
    await cast.dongtou_staff.press("✅ 解除")
    await cast.dongtou_staff.press("✅ 确认解除")
    await drain(typhoon_stage)
    deputy = newcomer(typhoon_stage, DEPUTY, "赵副局长")
    await typhoon_stage.register(deputy, Role.CITY)
    await drain(typhoon_stage)
    assert containing(deputy, "已发布，覆盖") == []


async def test_a_draft_not_yet_sent_is_not_told_to_a_newcomer(typhoon_stage: Stage) -> None:
    """A warning composed but not sent is nobody's yet: a clerk joining meanwhile hears of it when it goes out."""
    cast = await enrol(typhoon_stage)
    await compose_typhoon(cast)  # at the preview, not sent
    clerk = newcomer(typhoon_stage, CLERK, "何科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    await drain(typhoon_stage)
    assert containing(clerk, "已发布，覆盖") == []
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    assert len(containing(clerk, "已发布，覆盖洞头区")) == 1
