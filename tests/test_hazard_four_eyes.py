"""Four eyes when nobody else can verify: the fixer who is the only active person who may verify a rectification
accepts it themselves, after confirming that no one else can, as an exception recorded in the hazard's history and
the audit log. Whether anyone else can is judged on the server at the moment of each press."""

from __future__ import annotations

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from storage.hazard_models import Hazard
from tests.hazard_people import LUCHENG, OTHER_STAFF, STAFF, act, cast, hazard_now, report

CITY_ADMIN = 48


async def fixed_by_the_only_clerk(stage: Stage, staff: SimUser) -> Hazard:
    """A rights-protection hazard the county's only clerk rectifies from its details, through the bot."""
    hazard = await report(stage, area=HazardArea.RIGHTS, description="A carer shouted at a resident")
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("📤 Submit the fix", staff.last_message())
    await staff.send_text("Talked to the carer and moved them off the ward; the family was told")
    await staff.send_photo()
    await staff.press("Done")
    return await hazard_now(stage, hazard)


async def test_the_only_person_who_may_verify_accepts_their_own_fix_after_confirming_it(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await fixed_by_the_only_clerk(bot_stage, staff)
    assert hazard.state is HazardState.AWAITING_VERIFICATION and hazard.fixed_by == STAFF

    told = staff.last_message()
    assert f"No one else can verify {hazard.code}" in told.text and "/invite" in told.text
    assert told.buttons == [["Accept"]]
    await staff.press("Accept", told)
    confirm = staff.last_message()
    assert "no one else can verify it" in confirm.text and "exception" in confirm.text
    assert confirm.buttons == [["Accept my own rectification"], ["Cancel"]]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION  # not yet

    await staff.press("Accept my own rectification", confirm)
    closed = await hazard_now(bot_stage, hazard)
    assert closed.state is HazardState.CLOSED
    assert f"{hazard.code} accepted and closed" in staff.last_message().text
    assert staff.messages()[-2].buttons == [["Details"]]  # the confirmation cannot be pressed again

    audit = bot_stage.services.storage.audit
    assert not await audit.list(action_prefix="authz.refused")
    accepted = await audit.list(action_prefix="hazard.accepted")
    assert [(e.actor_id, e.detail.get("four_eyes_waived")) for e in accepted] == [(STAFF, "no_other_verifier")]
    seen = len(staff.messages())
    await staff.send_text(f"/hazard {hazard.code}")
    history = "\n".join(m.text for m in staff.messages()[seen:])
    assert "Accepted by the person who fixed it: no one else could verify it" in history


async def test_the_fixer_is_told_of_nobody_else_in_its_details_too_and_may_cancel(bot_stage: Stage) -> None:
    staff = (await cast(bot_stage, "en")).staff
    hazard = await fixed_by_the_only_clerk(bot_stage, staff)
    await staff.send_text(f"/hazard {hazard.code}")
    offered = [label for m in staff.messages()[-2:] for row in m.buttons for label in row]
    assert "Accept" in offered and "Reject" in offered
    await staff.press("Accept", staff.last_message())
    await staff.press("Cancel", staff.last_message())
    assert f"{hazard.code} was not accepted" in staff.last_message().text
    assert staff.last_message().buttons == []
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION


async def test_someone_who_can_verify_arriving_before_the_confirmation_brings_back_the_refusal(
    bot_stage: Stage,
) -> None:
    """Judged at the press: a city admin registered after the fixer was asked to confirm verifies it instead."""
    staff = (await cast(bot_stage, "en")).staff
    hazard = await fixed_by_the_only_clerk(bot_stage, staff)
    await staff.press("Accept", staff.last_message())
    confirm = staff.last_message()
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)

    pressed = await staff.press("Accept my own rectification", confirm)
    assert pressed.answer is not None and pressed.answer.show_alert
    assert f"You submitted the rectification of hazard {hazard.code} yourself" in (pressed.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["reason"]) for e in refused] == [(STAFF, "self_verification")]


async def test_when_the_other_clerks_access_ends_the_fixer_may_accept_it_themselves(bot_stage: Stage) -> None:
    """A second clerk could verify it when it was submitted, so the fixer got the usual refusal; once that clerk's
    access ends, nobody else can, and the fixer's Accept asks them to confirm instead."""
    staff = (await cast(bot_stage, "en")).staff
    second = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(second, Role.COUNTY, region=LUCHENG)
    hazard = await fixed_by_the_only_clerk(bot_stage, staff)
    assert "No one else can verify" not in staff.last_message().text
    refused = await staff.press_data(staff.last_message(), f"hz:accept:{hazard.id}")
    assert refused.answer is not None and "yourself" in (refused.answer.text or "")

    await bot_stage.services.people.deactivate(None, OTHER_STAFF)
    await staff.press_data(staff.last_message(), f"hz:accept:{hazard.id}")
    assert "no one else can verify it" in staff.last_message().text
    await staff.press("Accept my own rectification", staff.last_message())
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED


async def test_a_stale_confirmation_after_the_hazard_moved_on_changes_nothing(bot_stage: Stage) -> None:
    """Sent back by the fixer themselves, then fixed by the head: the old confirmation accepts nothing."""
    staff = (await cast(bot_stage, "en")).staff
    hazard = await fixed_by_the_only_clerk(bot_stage, staff)
    await staff.press("Accept", staff.last_message())
    confirm = staff.last_message()
    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="More to do")

    pressed = await staff.press("Accept my own rectification", confirm)
    assert pressed.answer is not None and pressed.answer.show_alert
    assert hazard.code in (pressed.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING


async def test_the_fix_only_its_fixer_can_verify_is_in_their_tasks_marked_so(bot_stage: Stage) -> None:
    """/tasks left out every rectification its reader submitted (four eyes), even one nobody else may verify: the
    fixer's list said nothing waited for them, and the fix waited, forgotten, for a verifier who did not exist."""
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await fixed_by_the_only_clerk(bot_stage, staff)
    await staff.send_text("/tasks")
    listed = staff.last_message()
    assert hazard.code in listed.text and [f"Rights protection · {hazard.code}"] in listed.buttons
    assert "Only you can verify it: no one else may. Accept it from its details, or invite a colleague with /invite." \
        in listed.text

    # Once a colleague who may verify it registers, it is theirs to verify and leaves the fixer's list.
    second = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(second, Role.COUNTY, region=LUCHENG)
    await staff.send_text("/tasks")
    assert hazard.code not in staff.last_message().text
    await second.send_text("/tasks")
    assert hazard.code in second.last_message().text and "Only you can verify" not in second.last_message().text
