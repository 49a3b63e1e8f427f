"""The loop closed where it opened. A group bound for hazards alone saw each hazard's 🆕 and its ⏰ overdue posts,
but never its closing: it takes no digest, so its members kept seeing an open hazard that had long been corrected.
Now the groups told of a hazard hear one line when it is closed (销号), with no description and no buttons, as its
🆕; never of a rights-protection hazard, and not a group that never heard of it."""

from __future__ import annotations

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction
from bot.stage import Stage
from storage.models import Group, GroupPurpose
from tests.calendar_people import local
from tests.hazard_people import CADRE, GROUP, LUCHENG, STAFF, act, cast, report, submitted
from tests.warning_people import drain


async def test_a_hazards_group_sees_the_hazard_it_was_told_of_closed(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)  # 鹿城区隐患通报群, bound for hazards
    hazard = await report(bot_stage, description="消防通道被杂物堵塞，联系人13800000000")
    assert f"🆕 新隐患 {hazard.code}" in people.group.last_message().text
    later = bot_stage.sandbox.group(chat_id=-1002, title="鹿城区民政工作群")  # bound after the 🆕
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=-1002, title=later.title, region_code=LUCHENG, purpose=GroupPurpose.HAZARDS,
              bound_by=STAFF, bound_at=bot_stage.clock.now())
    )

    await submitted(bot_stage, hazard)
    assert f"隐患 {hazard.code}" not in people.group.last_message().text.replace("🆕 新隐患", "")
    await people.staff.press("验收通过", next(m for m in people.staff.messages() if "待您验收" in m.text))
    await drain(bot_stage)
    closed = people.group.last_message()
    assert closed.text.startswith(f"✅ 隐患 {hazard.code} 已整改销号（按期完成）")
    assert "鹿城区社会福利院" in closed.text and "13800000000" not in closed.text and "杂物" not in closed.text
    assert closed.buttons == []
    assert later.messages() == []  # it never heard of the hazard: no ✅ out of nowhere


async def test_a_rights_protection_hazard_closing_is_never_posted(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    await cast(bot_stage)
    secret = await report(bot_stage, area=HazardArea.RIGHTS, description="疑似虐待老人")
    await act(bot_stage, CADRE, secret, HazardAction.REPORT_FIXED_ON_SPOT, reason="已处置", photos=1)
    closed = await act(bot_stage, STAFF, secret, HazardAction.ACCEPT)
    assert closed.hazard.state.value == "closed"
    await drain(bot_stage)
    assert all(secret.code not in (m.text or "") for m in bot_stage.sandbox.world.chat_messages(GROUP))
