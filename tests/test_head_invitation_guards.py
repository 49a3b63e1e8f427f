"""What an invitation for a head must never do, whichever way it was made: name another home than the one chosen,
outlive a closing for a reopening to wake it, take other homes' invitations with it when one home closes, or come
twice for one press. Driven through the emulator as people would."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.jobs import plan_once
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import LUCHENG, STAFF, cast, long_named_centres
from tests.test_institution_closure import close_other_home
from tests.test_invite_heads import head_of
from tests.test_onboarding import link_token
from tests.test_reminder_delivery import sweep
from tests.warning_people import drain

NANHUI_CODE = "WZ-330302-ELDER-02"  # 鹿城区南汇街道居家养老服务中心: no head in the cast
NANHUI_STREET = "330302007"
WELFARE_CODE = "WZ-330302-ELDER-01"  # 鹿城区社会福利院
INVITE = "✉️ 邀请负责人 · "


async def test_each_homes_button_under_one_stand_in_reminder_invites_that_homes_head_in_one_message(
    bot_stage: Stage,
) -> None:
    # The presser's unused invitation for one home, shown again for the press of another home's button of the same
    # street, registered the second home's head as the first's; and a press brings one message with the link, not two.
    bot_stage.clock.set(local(2026, 3, 2, 10))
    clerk = bot_stage.sandbox.user(user_id=STAFF, first_name="周科长", language_code="zh-hans")
    await bot_stage.register(clerk, Role.COUNTY, region=LUCHENG)  # no head anywhere in the county
    (centre,) = await long_named_centres(bot_stage, NANHUI_STREET, count=1)  # in Nanhui's street
    await drain(bot_stage)
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 3, 25, 9, 1))
    await sweep(bot_stage)
    reminder = clerk.last_message()
    buttons = [label for row in reminder.buttons for label in row if label.startswith(INVITE)]
    nanhui = next(label for label in buttons if "南汇" in label)
    other = next(label for label in buttons if "五马" in label)

    seen = len(clerk.messages())
    await clerk.press(nanhui, reminder)
    assert len(clerk.messages()) == seen + 1
    first = clerk.last_message().text
    assert "鹿城区南汇街道居家养老服务中心" in first

    seen = len(clerk.messages())
    await clerk.press(other, reminder)
    assert len(clerk.messages()) == seen + 1
    second = clerk.last_message().text
    assert centre.name_zh in second and "尚未使用的邀请" not in second
    assert link_token(second) != link_token(first)

    centre_head = bot_stage.sandbox.user(user_id=91, first_name="陈主任", language_code="zh-hans")
    assert await head_of(bot_stage, centre_head, link_token(second)) == centre.code
    nanhui_head = bot_stage.sandbox.user(user_id=92, first_name="黄主任", language_code="zh-hans")
    assert await head_of(bot_stage, nanhui_head, link_token(first)) == NANHUI_CODE


async def invited(staff: SimUser, role_label: str, typed: str | None = None) -> str:
    """The token of an invitation the clerk makes with /invite: the role pressed, then a home's name typed."""
    await staff.send_text("/invite")
    await staff.press(role_label)
    if typed is not None:
        await staff.send_text(typed)
    return link_token(staff.last_message().text)


async def test_closing_one_home_takes_back_its_invitations_and_no_one_elses(bot_stage: Stage) -> None:
    # Closing took back every standing invitation of the city, not only those for the closed home's head.
    people = await cast(bot_stage)
    nanhui = await invited(people.staff, "机构负责人", "南汇")
    welfare = await invited(people.staff, "机构负责人", "福利院")  # a second head for the welfare home
    cadre = await invited(people.staff, "社区/村干部")
    await close_other_home(bot_stage, people.staff)  # 南汇 closes
    (closed,) = await bot_stage.services.storage.audit.list(action_prefix="institution.closed")
    assert closed.detail["invites_revoked"] == 1
    standing = {invite.token for invite in await bot_stage.services.storage.invites.standing(bot_stage.clock.now())}
    assert standing == {welfare, cadre} and nanhui not in standing

    second_head = bot_stage.sandbox.user(user_id=91, first_name="林副院长", language_code="zh-hans")
    assert await head_of(bot_stage, second_head, welfare) == WELFARE_CODE
    cadre_person = bot_stage.sandbox.user(user_id=92, first_name="王书记", language_code="zh-hans")
    await cadre_person.send_text(f"/start {cadre}")
    registered = await bot_stage.services.storage.users.get(cadre_person.id)
    assert registered is not None and registered.role is Role.CADRE


async def test_an_invitation_taken_back_by_a_closing_stays_dead_when_the_home_reopens(bot_stage: Stage) -> None:
    # Closing left the home's unused invitations standing (only `register`'s closed check stopped them): reopened,
    # the home took a head by a link made before it closed, which the clerk believed taken back.
    people = await cast(bot_stage)
    token = await invited(people.staff, "机构负责人", "南汇")
    await close_other_home(bot_stage, people.staff)
    await people.staff.send_text("/institution 南汇")
    await people.staff.press("♻️ 恢复机构", people.staff.last_message())
    await people.staff.press("♻️ 确认恢复", people.staff.last_message())
    nanhui = await bot_stage.services.storage.institutions.get_by_code(NANHUI_CODE)
    assert nanhui is not None and nanhui.active

    newcomer = bot_stage.sandbox.user(user_id=90, first_name="新院长", language_code="zh-hans")
    await newcomer.send_text(f"/start {token}")
    assert await bot_stage.services.storage.users.get(newcomer.id) is None
    assert token not in {i.token for i in await bot_stage.services.storage.invites.standing(bot_stage.clock.now())}


async def test_a_home_whose_named_head_runs_another_home_is_not_marked_head_less(bot_stage: Stage) -> None:
    # A home whose head is an active person named in the institutions list, registered for another home, was marked
    # ⚠️ and counted among the head-less: the clerk was led to invite a second head, whose registration would take
    # the post from the one named.
    people = await cast(bot_stage)
    storage = bot_stage.services.storage
    nanhui = await storage.institutions.get_by_code(NANHUI_CODE)
    assert nanhui is not None
    await storage.institutions.set_head(nanhui.id, people.head.id)  # the welfare home's head, named for Nanhui too
    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    picker = people.staff.last_message()
    assert picker.buttons == [["鹿城区社会福利院"], ["鹿城区南汇街道居家养老服务中心"], ["取消"]]
    assert "⚠️" not in picker.text
