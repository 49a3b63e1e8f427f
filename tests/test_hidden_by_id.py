"""A button naming an institution or a person by id, pressed by someone who may not see them, answers as if the id
named nobody ("找不到这家机构，或您无权查看。"), as a hazard outside one's scope does: "这超出了您的负责范围" told an
outsider guessing ids that the home or the person exists. The attempt is still recorded."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from tests.calendar_people import institution_id
from tests.hazard_people import CADRE, HEAD, HOME, LONGWAN, LONGWAN_STAFF, cast

NO_SUCH_ID = 999_999


async def outsider(stage: Stage, language: str = "zh-hans") -> SimUser:
    """County staff of Longwan, who may see none of Lucheng's homes or people."""
    person = stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="林科长", language_code=language)
    await stage.register(person, Role.COUNTY, region=LONGWAN)
    return person


async def pressed(person: SimUser, data: str) -> str:
    await person.send_text("/help")
    await person.press_data(person.last_message(), data)
    answer = person.answers()[-1]
    assert answer.show_alert
    return answer.text or ""


async def refused_targets(stage: Stage) -> list[str]:
    entries = await stage.services.storage.audit.list(action_prefix="authz.refused", actor_id=LONGWAN_STAFF)
    return [str(entry.target) for entry in entries]


async def test_another_countys_home_s_drill_record_answers_as_no_such_home(bot_stage: Stage) -> None:
    await cast(bot_stage)
    clerk = await outsider(bot_stage)
    home = await institution_id(bot_stage, HOME)

    assert await pressed(clerk, f"drills:inst:{home}") == "找不到这家机构，或您无权查看。"
    assert await pressed(clerk, f"drills:inst:{NO_SUCH_ID}") == "找不到这家机构，或您无权查看。"
    assert not any("消防演练" in message.text for message in clerk.messages())
    assert f"institution:{home}" in await refused_targets(bot_stage)


async def test_another_countys_home_named_by_a_head_invitation_button_answers_as_no_such_home(
    bot_stage: Stage,
) -> None:
    await cast(bot_stage)
    clerk = await outsider(bot_stage, "en")
    home = await institution_id(bot_stage, HOME)
    for data in (f"inv:again:head:{home}", f"inv:again:head:{NO_SUCH_ID}"):
        assert await pressed(clerk, data) == "No such institution, or you may not see it."
    assert f"institution:{home}" in await refused_targets(bot_stage)
    assert await bot_stage.services.storage.invites.standing(bot_stage.clock.now()) == []


async def test_another_countys_person_answers_as_no_such_person_active_or_not(bot_stage: Stage) -> None:
    """Their card, ending their access and its confirmation: told alike for a person of another county, one whose
    access has ended there, and an id that names nobody."""
    people = await cast(bot_stage, "en")
    clerk = await outsider(bot_stage, "en")
    await bot_stage.services.storage.users.set_active(CADRE, False)
    hidden = "No such person, or you may not see them."
    for who in (HEAD, CADRE, NO_SUCH_ID):
        for verb in ("show", "off", "offok"):
            assert await pressed(clerk, f"pp:{verb}:{who}") == hidden, (verb, who)
    assert (await bot_stage.services.storage.users.get(HEAD)).active  # type: ignore[union-attr]
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused", actor_id=LONGWAN_STAFF)
    assert len(refused) == 6  # the two who exist, each press recorded; the id naming nobody is no one's

    # Their own county's staff still read that the cadre's access has ended.
    assert "no longer on the list" in await pressed(people.staff, f"pp:show:{CADRE}")
