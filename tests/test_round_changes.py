"""A contact round as a warning changes around it: raised by someone other than its issuer, joined by a clerk half
way, left by a cadre with people still to reach. Each time the people who answer for the round see it as it is now,
with buttons they can use."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.stage import Stage
from tests.warning_people import DONGTOU, Cast, compose_typhoon, containing, drain, enrol, register_vulnerable

CLERK, ADMIN_EN = 77, 78


async def orange_raised_to_red_by_the_admin(stage: Stage) -> Cast:
    """林科长 sends 洞头区 an orange typhoon warning; 王局长, about to send the city a red one, raises 林科长's instead
    (⬆️ 改为升级 #1 from the preview)."""
    cast = await enrol(stage)
    await register_vulnerable(stage, cast.cadre)
    await compose_typhoon(cast, level="橙色")
    await cast.dongtou_staff.press("📤 发送")
    await drain(stage)
    admin = cast.admin
    await admin.send_text("/warn")
    for answer in ("台风", "红色", "📄 使用模板", "全市", "下一步 ▶", "下一步 ▶", "下一步 ▶", "24 小时"):
        await admin.press(answer)
    await admin.press("⬆️ 改为升级 #1")
    await admin.press("红色")
    confirm = [label for row in admin.last_message().buttons for label in row if "确认" in label]
    if confirm:
        await admin.press(confirm[0])
    await drain(stage)
    assert containing(cast.head_1, "【升级】台风红色预警")
    return cast


def newcomer(stage: Stage, user_id: int, name: str, language: str = "zh-hans") -> SimUser:
    first, last = name[0], name[1:]
    return stage.sandbox.user(user_id=user_id, first_name=first, last_name=last, language_code=language)


async def test_a_newcomer_is_told_who_issued_the_warning_and_who_raised_it(typhoon_stage: Stage) -> None:
    """The clerk joining under the red warning read "发布人：林 科长" only, though 王局长 raised it from orange: the
    one to ask about the red is 王局长. Both are named, in Chinese and in English."""
    await orange_raised_to_red_by_the_admin(typhoon_stage)
    clerk = newcomer(typhoon_stage, CLERK, "孙科员")
    await typhoon_stage.register(clerk, Role.COUNTY, region=DONGTOU)
    admin_en = newcomer(typhoon_stage, ADMIN_EN, "郑处长", "en")
    await typhoon_stage.register(admin_en, Role.CITY)
    await drain(typhoon_stage)
    (told,) = containing(clerk, "台风红色预警（#1）已发布")
    assert "发布人：林 科长。2026-09-10 09:00 由王 局长升级为红色预警。" in told.text
    (told_en,) = containing(admin_en, "Typhoon")
    assert "Issued by 林 科长. Raised to Red by 王 局长 at 2026-09-10 09:00." in told_en.text
