"""Many people out of the bot's reach at once: their county's staff get one summary, not a message each.

The audit's big county: a warning went to heads who had never opened the bot, and 县科员0 got 298 separate
"消息被 Telegram 拒收" messages, burying the warning's own. Now the first refusal of a minute is told at once, as
before, and the others of that minute come together a minute later, one message for each supervisor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.roles import Role
from bot.sandbox import SimUser
from bot.stage import Stage
from handlers import reach
from tests.warning_people import HOME_1, HOME_2, compose_typhoon, containing, deliver_what_is_due, drain, enrol

REFUSED = "的消息被 Telegram 拒收"
SUMMARY = "同一分钟内另有"


async def test_heads_refused_in_the_same_minute_are_told_in_one_summary(typhoon_stage: Stage) -> None:
    stage = typhoon_stage
    cast = await enrol(stage)
    staff = cast.dongtou_staff
    heads: list[SimUser] = [cast.head_1, cast.head_2]
    for n in range(5):  # more heads of the two homes, who closed their chat with the bot without a word
        head = stage.sandbox.user(user_id=60 + n, first_name=f"副院长{n}", language_code="zh-hans")
        await stage.register(head, Role.HEAD, institution=HOME_1 if n % 2 else HOME_2)
        heads.append(head)
    await drain(stage)
    for head in heads:
        head.block_bot(tell_bot=False)
    seen = len(staff.messages())

    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await deliver_what_is_due(stage)
    told = [m for m in staff.messages()[seen:] if REFUSED in m.text]
    assert len(told) == 1  # the first, at once, as before
    assert containing(staff, SUMMARY) == []  # the others wait for the minute to end

    stage.clock.advance(timedelta(minutes=1))
    await drain(stage)
    told = [m for m in staff.messages()[seen:] if REFUSED in m.text or SUMMARY in m.text]
    assert len(told) == 2, [m.text for m in told]  # was seven
    (summary,) = containing(staff, SUMMARY)
    assert "同一分钟内另有 6 人无法再收到本机器人的消息" in summary.text and "请电话联系本人确认" in summary.text
    deputies = [f"副院长{n}" for n in range(5)]
    assert all(name in summary.text or name in told[0].text for name in deputies)  # each named, once
    assert summary.text.count("\n• ") == 6


async def test_a_summary_names_the_first_and_counts_the_rest(
    typhoon_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the names one message holds, the summary counts the others and says where each is marked."""
    monkeypatch.setattr(reach, "SUMMARY_NAMES", 2)
    stage = typhoon_stage
    cast = await enrol(stage)
    staff = cast.dongtou_staff
    heads: list[SimUser] = [cast.head_1, cast.head_2]
    for n in range(3):
        head = stage.sandbox.user(user_id=60 + n, first_name=f"副院长{n}", language_code="zh-hans")
        await stage.register(head, Role.HEAD, institution=HOME_2)
        heads.append(head)
    await drain(stage)
    for head in heads:
        head.block_bot(tell_bot=False)
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await deliver_what_is_due(stage)
    stage.clock.advance(timedelta(minutes=1))
    await drain(stage)
    (summary,) = containing(staff, SUMMARY)
    assert "同一分钟内另有 4 人" in summary.text and summary.text.count("\n• ") == 2
    assert summary.text.endswith("……另有 2 人未列出；在 /people 中打开其名片可见“消息无法送达”。")
