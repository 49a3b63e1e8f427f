"""An invitation link opened after it expired or was taken back: the person is refused as before, and its maker now
hears who tried, once per person, with a button that invites them again. Driven through the emulator as people
would."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.stage import Stage
from tests.hazard_people import LUCHENG, STAFF, cast
from tests.test_invite_heads import NANHUI, head_of
from tests.test_onboarding import link_token
from tests.warning_people import drain


def at(stage: Stage, hours: float = 0) -> str:
    """The local time, `hours` from now, as the bot writes it."""
    return (stage.clock.now() + timedelta(hours=hours)).astimezone(stage.settings.tz).strftime("%Y-%m-%d %H:%M")


async def test_the_maker_hears_who_opened_an_expired_link_once_each_and_invites_them_again(bot_stage: Stage) -> None:
    """A head's link sat unopened past its 72 hours: 新院长 opened it, read "expired, ask for a new one", and waited
    for a clerk who knew nothing. Now the clerk hears who tried, once however often they tap, and one press of the
    button under the news makes the new link."""
    people = await cast(bot_stage)
    staff = people.staff
    await staff.send_text("/invite")
    await staff.press("机构负责人")
    await staff.press("⚠️ 鹿城区南汇街道居家养老服务中心")
    token = link_token(staff.last_message().text)
    expired_at = at(bot_stage, 72)
    bot_stage.clock.set(bot_stage.clock.now() + timedelta(hours=73))
    told = len(staff.messages())

    newcomer = bot_stage.sandbox.user(user_id=90, first_name="新院长", username="xinyuan")
    for _ in range(3):  # tapped again and again: refused each time, the clerk told once
        await newcomer.send_text(f"/start {token}")
        assert newcomer.last_message().text == "这个邀请链接已过期。请向邀请人重新索取。"
    await drain(bot_stage)
    news = staff.messages()[told:]
    assert [m.text for m in news] == [
        "⏰ 有人（新院长，@xinyuan）尝试使用您为鹿城区南汇街道居家养老服务中心机构负责人生成的邀请链接，"
        f"但该链接已于 {expired_at} 过期，对方无法注册。如确需邀请此人，请按下方“重新邀请”生成新链接发给对方，"
        "或发送 /invite。"
    ]
    assert news[0].buttons == [["🔁 重新邀请"]]

    # Someone else with the same old link: the clerk hears of them too.
    other = bot_stage.sandbox.user(user_id=91, first_name="副院长")
    await other.send_text(f"/start {token}")
    await drain(bot_stage)
    assert len(staff.messages()) == told + 2 and "有人（副院长）尝试使用" in staff.last_message().text

    # The button makes the new link, for the same home, and the person registers with it.
    await staff.press("🔁 重新邀请", news[0])
    made = staff.last_message().text
    assert "已生成邀请（鹿城区南汇街道居家养老服务中心的机构负责人）" in made and link_token(made) != token
    assert await head_of(bot_stage, newcomer, link_token(made)) == NANHUI

    storage = bot_stage.services.storage
    refused = await storage.audit.list(action_prefix="invite.refused")
    assert [(e.actor_id, e.detail["reason"], e.detail["maker_told"]) for e in refused] == (
        [(90, "invite_expired", STAFF)] * 3 + [(91, "invite_expired", STAFF)]
    )


async def test_a_cancelled_link_tells_its_maker_in_their_language_and_the_button_is_checked(bot_stage: Stage) -> None:
    people = await cast(bot_stage, language="en")
    staff = people.staff
    await staff.send_text("/invite")
    await staff.press("Community cadre")
    token = link_token(staff.last_message().text)
    maker = await bot_stage.services.storage.users.get(STAFF)
    assert maker is not None
    await bot_stage.services.people.revoke_invite(maker, token)
    cancelled_at = at(bot_stage)
    await drain(bot_stage)
    told = len(staff.messages())

    person = bot_stage.sandbox.user(user_id=92, first_name="Wu", language_code="en")
    await person.send_text(f"/start {token}")
    await person.send_text(f"/start {token}")
    assert person.last_message().text == (
        "This invitation link was cancelled. Please ask whoever invited you for a new one."
    )
    await drain(bot_stage)
    news = staff.messages()[told:]
    assert [m.text for m in news] == [
        "⚠️ Someone (Wu) tried to use the invitation link you made for the Community cadre of Lucheng "
        f"District, but it was cancelled on {cancelled_at}, so they could not register. If they should join, press "
        "“Invite again” below and send them the new link, or use /invite."
    ]
    await staff.press("🔁 Invite again", news[0])
    fresh = link_token(staff.last_message().text)
    await person.send_text(f"/start {fresh}")
    user = await bot_stage.services.storage.users.get(92)
    assert user is not None and user.role is Role.CADRE and user.region_code == LUCHENG

    # A forged press for a role the clerk may not invite is refused and recorded, and makes nothing.
    before = len(await bot_stage.services.storage.invites.standing(bot_stage.clock.now()))
    await staff.press_data(news[0], "inv:again:city:-")
    assert len(await bot_stage.services.storage.invites.standing(bot_stage.clock.now())) == before
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["reason"]) for e in refused] == [(STAFF, "cannot_invite_role")]


async def test_nobody_is_told_of_a_command_line_link_nor_of_a_closed_home(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    cli_token = await bot_stage.invite_token(Role.CADRE, region=LUCHENG)
    tokens = []
    for _ in range(2):  # one left to expire, then one that the closing takes back
        await staff.send_text("/invite")
        await staff.press("机构负责人")
        await staff.send_text("南汇")
        tokens.append(link_token(staff.last_message().text))
        if len(tokens) == 1:
            bot_stage.clock.set(bot_stage.clock.now() + timedelta(hours=73))
    home = await bot_stage.services.storage.institutions.get_by_code(NANHUI)
    maker = await bot_stage.services.storage.users.get(STAFF)
    assert home is not None and maker is not None
    # The home closed: no new invitation could be made for it, so its maker is not asked to make one.
    await bot_stage.services.institution_closure.close(maker, home.id, "撤并")
    await drain(bot_stage)
    told = len(staff.messages())

    await bot_stage.sandbox.user(user_id=93, first_name="甲").send_text(f"/start {cli_token}")
    expired = bot_stage.sandbox.user(user_id=94, first_name="乙")
    taken_back = bot_stage.sandbox.user(user_id=95, first_name="丙")
    await expired.send_text(f"/start {tokens[0]}")
    assert expired.last_message().text == "这个邀请链接已过期。请向邀请人重新索取。"
    await taken_back.send_text(f"/start {tokens[1]}")
    assert "这个邀请对应的机构已停用" in taken_back.last_message().text
    await drain(bot_stage)
    assert len(staff.messages()) == told
