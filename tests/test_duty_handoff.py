"""What a head is told of the duties their institution owes: the morning after a drill period was missed, and in the
welcome when they register."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.jobs import plan_once
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import HOME, cast, report
from tests.test_institution_card import log_drill
from tests.test_invite_heads import NANHUI, head_of
from tests.test_new_institutions import CITY_ADMIN, NEW_HEAD, NEW_HOME, NEW_NAME
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
        "⚠️ 鹿城区社会福利院：2026年上半年没有消防演练记录，已计为逾期。如该期内确已开展，请补录并填写实际日期；"
        "否则请尽快开展一次并记录，计入2026年下半年，须在 2026-12-31 前完成。"
    ) in told.text
    assert "责任人" not in told.text  # the head is the one responsible: not named to themselves
    assert ["🔥 记录演练"] in told.buttons
    assert "在2026年上半年未开展消防演练，已逾期" in people.staff.last_message().text  # the county still hears

    since = len(people.head.messages())
    await _morning(bot_stage, 2026, 8, 1)
    assert _told_of_the_missed_drill(people.head, since, "上半年没有消防演练记录") == []


async def test_an_english_head_reads_the_missed_drill_in_english(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage, "en")
    before = len(people.head.messages())
    await _morning(bot_stage, 2026, 7, 1)
    [told] = _told_of_the_missed_drill(people.head, before, "no fire drill is on record")
    assert (
        "⚠️ Lucheng District Social Welfare Home: no fire drill is on record for the first half of 2026, so it counts "
        "as overdue. If one was held then, log it now with the day it was held; otherwise please hold one as soon as "
        "possible and log it: it counts for the second half of 2026, due by 2026-12-31."
    ) in told


async def test_a_new_head_is_handed_over_the_homes_drill_and_self_inspection_with_their_buttons(
    bot_stage: Stage,
) -> None:
    """A head registering on 10 June for a home with no head since spring read only the role and the menu: May's
    self-inspection missed while nobody headed it, June's due and the half-year's drill owed came up at the next
    reminder, or by sending /drills unprompted. The welcome now hands the duties over, with the buttons that act."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    await cast(bot_stage)
    await report(bot_stage, institution=NANHUI)
    bot_stage.clock.set(local(2026, 6, 10, 10))
    newcomer = bot_stage.sandbox.user(user_id=95, first_name="郑站长")
    await head_of(bot_stage, newcomer, await bot_stage.invite_token(Role.HEAD, institution=NANHUI))
    welcome = newcomer.messages()[0]
    assert welcome.text.splitlines()[1:] == [
        "本机构有 1 条待整改隐患，发送 /tasks 查看。",
        "本机构的消防演练与月度自查：",
        "⏰ 已逾期：2025年下半年未开展消防演练，已逾期 161 天；2026年上半年的消防演练须在 2026-06-30 前开展。",
        "⏰ 已逾期：2026年5月未完成月度隐患自查，已逾期 10 天；2026年6月的自查请于 2026-06-30 前完成。",
    ]
    assert welcome.buttons == [["🔥 记录演练", "📋 开始本月自查"]]
    await newcomer.press("🔥 记录演练", welcome)
    assert ["消防疏散演练"] in newcomer.last_message().buttons  # the drill journey, for the new head's home

    # In English, for a home whose half-year drill is held: said so, with both buttons (June is not done yet).
    bot_stage.clock.set(local(2026, 6, 12, 10))
    await log_drill(bot_stage, days_ago=1)
    english = bot_stage.sandbox.user(user_id=96, first_name="Ann", language_code="en")
    await head_of(bot_stage, english, await bot_stage.invite_token(Role.HEAD, institution=HOME))
    told = english.messages()[0]
    assert told.text.splitlines()[1:3] == [
        "Your institution's fire drills and monthly self-inspections:",
        "✅ Compliant: fire drill held on 2026-06-11 (counts for the first half of 2026).",
    ]
    assert told.buttons == [["🔥 Log a drill", "📋 Start the self-inspection"]]


async def test_a_head_of_a_home_added_late_in_the_period_reads_what_is_owed_first_in_english(
    bot_stage: Stage,
) -> None:
    """Added on 28 November, a home owes neither November's self-inspection nor the half-year's drill (joined with
    less than half of each left): its head's welcome says which are owed first. English said "Joined in the second
    half of the second half of 2026"."""
    bot_stage.clock.set(local(2026, 11, 28, 10))
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    sheet = f"机构编码,机构名称,机构类型,区划代码\n{NEW_HOME},{NEW_NAME},养老机构,330302001\n"
    await admin.send_document(sheet.encode(), "机构.csv", "text/csv")
    head = bot_stage.sandbox.user(user_id=NEW_HEAD, first_name="Lin", language_code="en")
    await bot_stage.register(head, Role.HEAD, institution=NEW_HOME)
    assert head.messages()[0].text.splitlines()[2:] == [
        "🟢 Added late in the second half of 2026, so no fire drill is owed for it; the first is owed in the first "
        "half of 2027, by 2027-06-30.",
        "🟢 Added late in November 2026, so no self-inspection is owed for it; the first is owed for December 2026, "
        "by 2026-12-31.",
    ]


async def test_a_drill_entered_late_for_the_half_year_before_9_spares_the_head_the_missed_line(
    bot_stage: Stage,
) -> None:
    """The head logs at 08:30 on 1 July the drill held on 20 June (a late entry, 补录): the half-year has its drill on
    record, so the 09:00 message says nothing of a miss, and only July's self-inspection opens."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    bot_stage.clock.set(local(2026, 7, 1, 8))
    await plan_once(bot_stage.services)
    bot_stage.clock.set(local(2026, 7, 1, 8, 30))
    await log_drill(bot_stage, days_ago=11)
    before = len(people.head.messages())
    bot_stage.clock.set(local(2026, 7, 1, 9))
    await sweep(bot_stage)
    told = "\n".join(m.text for m in people.head.messages()[before:])
    assert "2026年7月的月度隐患自查已开始" in told and "消防演练记录" not in told
