"""A step that takes the next text typed as a reason and acts on a hazard (Reject, refusing more time, Reopen,
💬 Comment) ends when another command comes, as /deadline does, and says so: kept waiting in silence, the staff
member's next sentence, typed about something else after a detour through /hazard or /tasks, sent a fix back,
refused a request, reopened a hazard or posted a comment, and the head was told."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import HazardAction, HazardState
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from storage.extension_models import ExtensionStatus
from storage.repositories.action_drafts import Journey
from tests.hazard_people import STAFF, Cast, act, cast, hazard_now, report, submitted
from tests.test_hazard_extension import asked_by_service


async def detour(person: SimUser, command: str) -> list[str]:
    """The person sends `command` in the middle of a step: what the bot answers, in order."""
    seen = len(person.messages())
    await person.send_text(command)
    return [message.text for message in person.messages()[seen:]]


async def heard_nothing_more(people: Cast, heard: dict[int, int]) -> bool:
    return all(len(person.messages()) == heard[person.id] for person in (people.head, people.cadre))


def counts(people: Cast) -> dict[int, int]:
    return {person.id: len(person.messages()) for person in (people.head, people.cadre)}


async def test_a_command_in_the_middle_of_reject_ends_it_and_a_later_sentence_sends_nothing_back(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    card = staff.last_message()
    await staff.press("退回整改", card)
    assert "请输入退回原因" in staff.last_message().text
    heard = counts(people)

    answers = await detour(staff, "/tasks")
    assert answers[0] == (f"⏹ 隐患 {hazard.code} 的退回整改已取消，整改结果未退回。"
                          f"如需退回，请发送 /hazard {hazard.code} 后点击“退回整改”。")
    assert len(answers) > 1  # then /tasks answers as ever
    await staff.send_text("下午去福利院看看消防通道")
    assert "已退回重新整改" not in staff.last_message().text
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.AWAITING_VERIFICATION
    assert await heard_nothing_more(people, heard)
    assert not card.edited and card.buttons == [["验收通过", "退回整改"], ["详情"]]
    assert await bot_stage.services.storage.action_drafts.get(STAFF, Journey.REJECT) is None

    await staff.press("退回整改", card)  # pressed again, it works as before
    await staff.send_text("照片看不出消防通道已清空")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING


async def test_a_command_in_the_middle_of_refusing_more_time_ends_it_and_the_request_still_waits(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await report(bot_stage)
    request_id = await asked_by_service(bot_stage, hazard)
    await staff.press("Refuse", staff.last_message())
    heard = counts(people)

    answers = await detour(staff, f"/hazard {hazard.code}")
    assert answers[0] == (f"⏹ Refusing more time on {hazard.code} was cancelled; the request still awaits your "
                          "decision. To decide it, send /tasks and pick it among the requests awaiting you.")
    assert any(hazard.code in text for text in answers[1:])
    await staff.send_text("Call the contractor tomorrow")
    request = await bot_stage.services.storage.extensions.get(request_id)
    assert request is not None and request.status is ExtensionStatus.PENDING
    assert "was refused" not in staff.last_message().text
    assert await heard_nothing_more(people, heard)


async def test_a_command_in_the_middle_of_reopen_ends_it_and_nothing_is_reopened(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)
    bot_stage.clock.advance(timedelta(days=2))
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("Reopen", staff.last_message())
    heard = counts(people)

    answers = await detour(staff, "/tasks")
    assert answers[0] == (f"⏹ Reopening {hazard.code} was cancelled; it was not reopened. To reopen it, send "
                          f"/hazard {hazard.code} and press Reopen.")
    await staff.send_text("The exit is blocked again, seen on today's visit")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    assert await heard_nothing_more(people, heard)


async def test_a_journey_started_in_the_middle_of_a_comment_ends_it_and_nothing_is_posted(bot_stage: Stage) -> None:
    """A comment is kept in the hazard's record for good and sent to those following it: a sentence typed after
    a detour must not become one. Starting another journey (/report) ends the step with the same word."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    await staff.send_text(f"/hazard {hazard.code}")
    await staff.press("💬 留言", staff.last_message())
    heard = counts(people)
    events = len(await bot_stage.services.storage.hazards.events(hazard.id))

    answers = await detour(staff, "/report")
    assert (f"⏹ 对隐患 {hazard.code} 的留言已取消，未发送。"
            f"如需留言，请发送 /hazard {hazard.code} 后点击“💬 留言”。") in answers
    await staff.send_text("/cancel")
    await staff.send_text("明天上午施工单位进场，请院方提前清空通道")
    assert len(await bot_stage.services.storage.hazards.events(hazard.id)) == events
    assert await heard_nothing_more(people, heard)


# ---- /lang is no detour: the step is asked again in the new language --------------------------------------------


async def switch_language(person: SimUser, language: str) -> list[str]:
    """/lang, then the language's button: what the bot says after the press, in order."""
    await person.send_text("/lang")
    choice = person.last_message()
    seen = len(person.messages())
    await person.press(language, choice)
    return [choice.text, *(message.text for message in person.messages()[seen:])]


async def test_lang_in_the_middle_of_reject_asks_the_reason_again_in_english_and_the_reason_sends_it_back(
    bot_stage: Stage,
) -> None:
    """Staff who switched to English after pressing 退回整改 were told the rejection was cancelled, and the reason
    they typed next got the general hint. /lang now leaves the step waiting and asks its question again, in English
    with its Cancel; the reason typed next sends the fix back."""
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    await staff.press("退回整改", staff.last_message())
    said = await switch_language(staff, "English")
    assert said[0] == "Language switched to English."
    assert said[1] == (f"↩️ Rejecting the rectification of {hazard.code}. Please type the reason; the head of the "
                       "institution will read it.")
    assert staff.last_message().buttons == [["Cancel"]]
    assert not any("⏹" in text for text in said)
    await staff.send_text("Photo is blurry, retake")
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.RECTIFYING
    assert "Photo is blurry, retake" in people.head.last_message().text


async def test_lang_in_the_middle_of_refusing_more_time_asks_again_in_chinese_and_cancel_still_ends_it(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage, "en")
    staff = people.staff
    hazard = await report(bot_stage)
    request_id = await asked_by_service(bot_stage, hazard)
    await staff.press("Refuse", staff.last_message())
    said = await switch_language(staff, "中文")
    assert said[0] == "语言已切换为中文。"
    assert said[1] == f"不同意隐患 {hazard.code} 的延期申请：请输入理由，申请人将看到。"
    await staff.press("取消", staff.last_message())  # its Cancel, in the new language, still ends the step
    assert "已取消" in staff.last_message().text
    await staff.send_text("施工队明天到")
    request = await bot_stage.services.storage.extensions.get(request_id)
    assert request is not None and request.status is ExtensionStatus.PENDING


async def test_lang_at_the_reason_of_a_new_deadline_asks_it_again_and_the_reason_changes_the_deadline(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    hazard = await report(bot_stage)
    assert hazard.deadline is not None
    await staff.send_text(f"/deadline {hazard.code}")
    await staff.press("延期 3 天")
    said = await switch_language(staff, "English")
    assert said[1].startswith("New deadline: ") and "Please type the reason for the change" in said[1]
    assert staff.last_message().buttons == [["Cancel"]]
    await staff.send_text("Waiting for the fire brigade's inspection")
    assert (await hazard_now(bot_stage, hazard)).deadline == hazard.deadline + timedelta(days=3)
    # /help, a command with no question of its own, still ends the step (and says so) as before.
    await staff.send_text(f"/deadline {hazard.code}")
    await staff.press("+1 day")
    answers = await detour(staff, "/help")
    assert answers[0].startswith("⏹")
