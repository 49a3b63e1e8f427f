"""A registered person who blocks the bot can no longer be reached by any notice, reminder or warning. Before, each
refused message was recorded and nothing more: a head's new hazard waited for its deadline before anyone noticed.
Now the people who answer for them are told at once, and again when they are back; the person, back, is told that
what was sent meanwhile did not reach them."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import HEAD, cast, report
from tests.test_reminder_delivery import sweep
from tests.warning_people import containing, drain

BLOCKED = "陈院长（机构负责人，鹿城区社会福利院）已屏蔽本机器人"
REFUSED = "发给陈院长（机构负责人，鹿城区社会福利院）的消息被 Telegram 拒收"
BACK = "陈院长（机构负责人，鹿城区社会福利院）已恢复接收本机器人的消息"


async def test_a_head_who_blocks_the_bot_is_reported_to_the_county_once_and_welcomed_back(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    people.head.block_bot()
    await bot_stage.sandbox.settle()
    await drain(bot_stage)
    (told,) = containing(people.staff, BLOCKED)
    assert "请电话联系本人" in told.text and "重新开始" in told.text
    head = await bot_stage.services.storage.users.get(HEAD)
    assert head is not None and head.unreachable_since is not None

    hazard = await report(bot_stage)  # its notice to the head is refused: nothing more to tell
    await drain(bot_stage)
    assert len(containing(people.staff, "陈院长（机构负责人")) == 1
    assert containing(people.staff, REFUSED) == []

    people.head.unblock_bot()
    await bot_stage.sandbox.settle()
    welcome = people.head.last_message().text
    assert "欢迎回来" in welcome and "/tasks" in welcome
    await drain(bot_stage)
    assert len(containing(people.staff, BACK)) == 1
    await people.head.send_text("/tasks")
    assert hazard.code in people.head.last_message().text
    assert len(containing(people.head, "欢迎回来")) == 1
    audit = await bot_stage.services.storage.audit.list(action_prefix="user.")
    reach = [(event.action, event.actor_id) for event in audit if "reachable" in event.action]
    assert reach == [("user.unreachable", HEAD), ("user.reachable", HEAD)]


async def test_a_block_the_bot_missed_is_found_at_the_first_refusal_and_ends_when_they_write(bot_stage: Stage) -> None:
    """Down longer than Telegram keeps updates, the bot heard neither the block nor the unblocking: the first
    reminder refused tells the county, and the head's next message says they are back."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    people.head.block_bot(tell_bot=False)

    bot_stage.clock.set(local(2026, 3, 9, 10, 1))  # the deadline: the head and the county staff are reminded
    result = await sweep(bot_stage)
    assert [d.recipient_id for d in result.failed] == [HEAD]
    await drain(bot_stage)
    (told,) = containing(people.staff, REFUSED)
    assert "注销了账号" in told.text
    bot_stage.clock.set(local(2026, 3, 9, 14))
    await sweep(bot_stage)
    await drain(bot_stage)
    assert len(containing(people.staff, REFUSED)) == 1

    people.head.unblock_bot(tell_bot=False)
    await people.head.send_text("/tasks")
    answers = [m.text for m in people.head.messages()[-2:]]
    assert "欢迎回来" in answers[0] and hazard.code in answers[1]
    await drain(bot_stage)
    assert len(containing(people.staff, BACK)) == 1


async def test_county_staff_who_block_the_bot_are_reported_to_the_city_in_their_language(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=90, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    people.staff.block_bot()
    await bot_stage.sandbox.settle()
    await drain(bot_stage)
    told = admin.last_message().text
    assert told.startswith("⚠️ 周科长 (County staff, Lucheng District) has blocked the bot")
    assert containing(people.head, "已屏蔽") == [] and containing(people.cadre, "已屏蔽") == []


async def test_a_missed_unblocking_ends_when_a_notice_reaches_the_head(bot_stage: Stage) -> None:
    """The bot missed the unblocking and the head never wrote: a hazard notice that reached them still left them
    marked unreachable, so their card said "blocked" and the county was never told they were back."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    people.head.block_bot(tell_bot=False)
    await report(bot_stage)  # refused: now the bot knows
    await drain(bot_stage)
    assert len(containing(people.staff, REFUSED)) == 1

    people.head.unblock_bot(tell_bot=False)
    hazard = await report(bot_stage, description="配电箱旁堆放纸箱")
    await drain(bot_stage)
    await drain(bot_stage)  # the news of their return, queued as the notice went out
    assert hazard.code in people.head.last_message().text
    assert len(containing(people.staff, BACK)) == 1
    head = await bot_stage.services.storage.users.get(HEAD)
    assert head is not None and head.unreachable_since is None
    assert containing(people.head, "欢迎回来") == []  # the notice itself says they are reached; no welcome needed

    await report(bot_stage, description="灭火器过期")
    await drain(bot_stage)
    assert len(containing(people.staff, BACK)) == 1


async def test_a_missed_unblocking_ends_when_a_reminder_reaches_the_head(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    await drain(bot_stage)
    people.head.block_bot(tell_bot=False)
    bot_stage.clock.set(local(2026, 3, 8, 10, 1))  # a day before the deadline: the head's reminder is refused
    await sweep(bot_stage)
    await drain(bot_stage)
    assert len(containing(people.staff, REFUSED)) == 1

    people.head.unblock_bot(tell_bot=False)
    bot_stage.clock.set(local(2026, 3, 9, 8, 1))  # two hours before: this one reaches them
    result = await sweep(bot_stage)
    assert HEAD not in [d.recipient_id for d in result.failed]
    assert hazard.code in people.head.last_message().text
    await drain(bot_stage)
    assert len(containing(people.staff, BACK)) == 1
    assert containing(people.head, "欢迎回来") == []
