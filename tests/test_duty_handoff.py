"""What a head is told of the duties their institution owes: the morning after a drill period was missed, and in the
welcome when they register."""

from __future__ import annotations

from bot.jobs import plan_once
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import cast
from tests.test_reminder_delivery import sweep


async def _morning(stage: Stage, year: int, month: int, day: int) -> None:
    """The day's plan at 08:00 and the 09:00 sweep, as the scheduler runs them."""
    stage.clock.set(local(year, month, day, 8))
    await plan_once(stage.services)
    stage.clock.set(local(year, month, day, 9))
    await sweep(stage)


def _told_of_the_missed_drill(head: SimUser, since: int, words: str) -> list[str]:
    return [m.text for m in head.messages()[since:] if words in m.text]


async def test_the_head_hears_on_1_july_that_the_half_years_drill_was_missed_and_what_is_owed_now(
    bot_stage: Stage,
) -> None:
    """On 1 July the head of a home that held no fire drill in the first half-year was told only that July's
    self-inspection had opened; the miss went to the county alone. Now the same 09:00 message says so, with the
    drill now owed and its last day, and the button that logs one; it is said once, not again the next month."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    before = len(people.head.messages())
    await _morning(bot_stage, 2026, 7, 1)

    [told] = people.head.messages()[before:]  # one message for the morning, as every round sends
    assert "2026年7月的月度隐患自查已开始" in told.text
    assert (
        "⚠️ 鹿城区社会福利院：2026年上半年未开展消防演练，已记为未完成。"
        "请尽快开展一次消防演练并记录，计入2026年下半年，须在 2026-12-31 前完成。"
    ) in told.text
    assert "责任人" not in told.text  # the head is the one responsible: not named to themselves
    assert ["🔥 记录演练"] in told.buttons
    assert "在2026年上半年未开展消防演练，已逾期" in people.staff.last_message().text  # the county still hears

    since = len(people.head.messages())
    await _morning(bot_stage, 2026, 8, 1)
    assert _told_of_the_missed_drill(people.head, since, "上半年未开展消防演练") == []


async def test_an_english_head_reads_the_missed_drill_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage, "en")
    before = len(people.head.messages())
    await _morning(bot_stage, 2026, 7, 1)
    [told] = _told_of_the_missed_drill(people.head, before, "no fire drill was held")
    assert (
        "⚠️ Lucheng District Social Welfare Home: no fire drill was held in the first half of 2026, and it is "
        "recorded as missed. Please hold one as soon as possible and log it; it counts for the second half of 2026, "
        "due by 2026-12-31."
    ) in told
