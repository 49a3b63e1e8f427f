"""What people are told after an access changed: their own link opened again, a home whose head has left."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import HEAD, LUCHENG, STAFF, cast, report
from tests.test_people_departures import end_access
from tests.warning_people import drain


async def test_opening_the_link_one_registered_with_says_so_and_points_to_help(bot_stage: Stage) -> None:
    """Opened again from the chat's history, it said 这个邀请链接未使用 (this link was not used): it was, by them."""
    token = await bot_stage.invite_token(Role.CADRE, region=LUCHENG)
    cadre = bot_stage.sandbox.user(user_id=8, first_name="陈", language_code="zh-hans")
    await cadre.send_text(f"/start {token}")
    await cadre.send_text(f"/start {token}")
    said = cadre.last_message().text
    assert said.startswith("您已经用这个邀请链接注册为社区/村干部（负责范围：鹿城区）"), said
    assert "/help" in said and "未使用" not in said
    # Nothing was refused: no refusal in the audit trail for opening one's own link.
    assert await bot_stage.services.storage.audit.list(action_prefix="invite.refused") == []

    english = bot_stage.sandbox.user(user_id=9, first_name="Eve", language_code="en")
    other = await bot_stage.invite_token(Role.CADRE, region=LUCHENG)
    await english.send_text(f"/start {other}")
    await english.send_text(f"/start {other}")
    assert english.last_message().text.startswith("You already registered with this invitation as Community cadre")
    # Somebody else's link is still "not used".
    await english.send_text(f"/start {token}")
    assert "not used" in english.last_message().text


async def test_staff_hear_that_the_heads_access_ended_and_may_invite_a_new_head(bot_stage: Stage) -> None:
    """After a head left, the next hazard's notice to staff said the head 尚未在本助手注册 (has not yet registered)."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    await end_access(bot_stage, STAFF, HEAD)
    bot_stage.clock.set(local(2026, 3, 5, 10))
    hazard = await report(bot_stage)
    await drain(bot_stage)
    notice = next(m for m in people.staff.messages() if f"新隐患 {hazard.code}" in m.text)
    assert "该机构负责人陈院长的使用权限已于 2026-03-02 结束" in notice.text, notice.text
    assert "尚未在本助手注册" not in notice.text

    await people.staff.press("✉️ 邀请新负责人", notice)
    invited = people.staff.last_message().text
    assert invited.startswith("✅ 已生成邀请（鹿城区社会福利院的机构负责人）"), invited
    assert "https://t.me/" in invited
