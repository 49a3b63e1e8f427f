"""Accept and Reject name the rectification they were shown with: pressed on the notice of an earlier rectification,
since sent back and submitted anew, they change nothing and say which one is the latest, who submitted it and when.
Before, they carried only the hazard and accepted (or sent back) the new rectification nobody had looked at."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from storage.hazard_models import Hazard
from tests.hazard_people import (
    HEAD,
    HOME,
    LUCHENG,
    OTHER_STAFF,
    SECOND_HEAD,
    STAFF,
    act,
    cast,
    hazard_now,
    report,
    submitted,
)


def _local(stage: Stage) -> str:
    return stage.clock.now().astimezone(stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")


async def _second_clerk(stage: Stage) -> SimUser:
    second = stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await stage.register(second, Role.COUNTY, region=LUCHENG)
    return second


async def _rejected_and_fixed_again(stage: Stage, hazard: Hazard) -> str:
    """Zhou sends the first rectification back; an hour later the head submits another. Returns when."""
    await act(stage, STAFF, hazard, HazardAction.REJECT, reason="The photo does not show the exit")
    stage.clock.advance(timedelta(hours=1))
    await act(stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="Cleared the exit, new sign", photos=1)
    return _local(stage)


def _asked(clerk: SimUser, hazard: Hazard) -> list:  # type: ignore[type-arg]
    return [m for m in clerk.messages() if hazard.code in m.text and ["Accept", "Reject"] in m.buttons]


async def test_accept_on_the_notice_of_an_earlier_rectification_accepts_nothing(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    second = await _second_clerk(bot_stage)
    hazard = await submitted(bot_stage, await report(bot_stage))
    first_notice, zhous_first = _asked(second, hazard)[-1], _asked(people.staff, hazard)[-1]
    resubmitted_at = await _rejected_and_fixed_again(bot_stage, hazard)
    latest_notice = _asked(second, hazard)[-1]
    assert latest_notice is not first_notice and "Cleared the exit, new sign" in latest_notice.text

    expected = (f"This is an earlier rectification of hazard {hazard.code}; the latest was submitted by Chen at "
                f"{resubmitted_at}. Nothing was changed: tap Details to see it.")
    for clerk, notice, label in ((second, first_notice, "Accept"), (people.staff, zhous_first, "Reject")):
        pressed = await clerk.press(label, notice)
        assert pressed.answer is not None and pressed.answer.show_alert
        assert pressed.answer.text == expected
        assert notice.buttons == [["Details"]]  # the stale buttons give way to the hazard's details
    assert "Please type the reason" not in people.staff.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    events = [e.action for e in await bot_stage.services.storage.hazards.events(hazard.id)]
    assert events.count("accept") == 0 and events.count("reject") == 1

    seen = len(second.messages())
    await second.press("Details", first_notice)
    assert any("Cleared the exit, new sign" in m.text for m in second.messages()[seen:])

    await second.press("Accept", latest_notice)
    assert "accepted and closed" in second.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED


async def test_a_reason_typed_after_a_new_rectification_arrived_sends_nothing_back(bot_stage: Stage) -> None:
    """Reject pressed on the first rectification; before the reason is typed, a colleague sends it back and the
    head submits another: the reason, meant for the first, does not send back the second."""
    people = await cast(bot_stage, "en")
    second = await _second_clerk(bot_stage)
    hazard = await submitted(bot_stage, await report(bot_stage))
    await second.press("Reject", _asked(second, hazard)[-1])
    assert "Please type the reason" in second.last_message().text
    resubmitted_at = await _rejected_and_fixed_again(bot_stage, hazard)

    await second.send_text("The sign is missing")
    told = second.last_message()
    assert f"earlier rectification of hazard {hazard.code}" in told.text and resubmitted_at in told.text
    assert told.buttons == [["Details"]]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    assert people.head.last_message().text.count("The sign is missing") == 0


async def test_buttons_sent_before_they_named_the_rectification(bot_stage: Stage) -> None:
    """Accept and Reject carried only the hazard's id: with one rectification ever submitted they still work; once
    there has been another, nobody can tell which one the notice showed, and the press is answered as stale."""
    people = await cast(bot_stage, "en")
    second = await _second_clerk(bot_stage)
    hazard = await submitted(bot_stage, await report(bot_stage))
    notice = _asked(second, hazard)[-1]
    resubmitted_at = await _rejected_and_fixed_again(bot_stage, hazard)
    for data in (f"hz:accept:{hazard.id}", f"hz:reject:{hazard.id}"):
        pressed = await second.press_data(notice, data)
        assert pressed.answer is not None and pressed.answer.show_alert
        assert "earlier rectification" in (pressed.answer.text or "") and resubmitted_at in (pressed.answer.text or "")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION

    other = await submitted(bot_stage, await report(bot_stage, description="Extinguisher out of date"))
    await people.staff.press_data(_asked(people.staff, other)[-1], f"hz:accept:{other.id}")
    assert (await hazard_now(bot_stage, other)).state is HazardState.CLOSED


async def test_the_answer_fits_a_pop_up_whatever_the_name_of_the_latest_fixer(bot_stage: Stage) -> None:
    """A pop-up holds 200 characters: a head with a long Telegram name resubmitting must not make the answer fail."""
    await cast(bot_stage, "en")
    second = await _second_clerk(bot_stage)
    long_named = bot_stage.sandbox.user(user_id=SECOND_HEAD, first_name="Alexandra-" + "Q" * 54,
                                        last_name="Montgomery-" + "W" * 53, language_code="en")
    await bot_stage.register(long_named, Role.HEAD, institution=HOME)
    hazard = await submitted(bot_stage, await report(bot_stage))
    first_notice = _asked(second, hazard)[-1]
    await act(bot_stage, STAFF, hazard, HazardAction.REJECT, reason="The photo does not show the exit")
    await act(bot_stage, SECOND_HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="Cleared it", photos=1)

    pressed = await second.press("Accept", first_notice)
    assert pressed.answer is not None and pressed.answer.show_alert
    text = pressed.answer.text or ""
    assert text.startswith(f"This is an earlier rectification of hazard {hazard.code}") and len(text) <= 200
    assert first_notice.buttons == [["Details"]]
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
