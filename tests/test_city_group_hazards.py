"""What the city's own work group hears of a county's hazards. Bound to 温州市 as 综合（全部通知）, it got no hazard
notice at all, not even a 重大 hazard's or a three-day escalation, which reach the city admins; only the weekly
summary and the 通报. Now it hears what reaches the city: a 重大 hazard anywhere in the city at once, and every
hazard's three-day escalation; not each 一般 hazard's notice (its county's groups have those), never a
rights-protection hazard."""

from __future__ import annotations

from bot.domain.catalog import HazardArea, Severity
from bot.jobs import plan_once
from bot.sandbox import SimGroup
from bot.stage import Stage
from storage.models import Group, GroupPurpose
from tests.calendar_people import local
from tests.hazard_people import STAFF, cast, report
from tests.test_reminder_delivery import sweep

CITY, CITY_GROUP = "330300", -1009


async def test_the_city_group_hears_serious_hazards_and_three_day_escalations_from_every_county(
    bot_stage: Stage,
) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    city = bot_stage.sandbox.group(chat_id=CITY_GROUP, title="温州市民政安全群")
    await bot_stage.services.storage.groups.bind(
        Group(chat_id=CITY_GROUP, title=city.title, region_code=CITY, purpose=GroupPurpose.GENERAL,
              bound_by=STAFF, bound_at=bot_stage.clock.now())
    )
    ordinary = await report(bot_stage)  # 一般: due 9 March 10:00
    assert f"🆕 新隐患 {ordinary.code}" in people.group.last_message().text  # Lucheng's group, as ever
    other = await report(bot_stage, description="二楼疏散指示灯不亮")
    assert city.messages() == []  # not every local item

    serious = await report(bot_stage, severity=Severity.SERIOUS, description="燃气管道泄漏")  # due 3 March 10:00
    notice = city.last_message().text
    assert f"🆕 新隐患 {serious.code}" in notice and "重大" in notice
    assert "燃气管道泄漏" not in notice  # a group's notice carries no description, as the county's
    secret = await report(bot_stage, area=HazardArea.RIGHTS, severity=Severity.SERIOUS, description="疑似虐待老人")
    assert all(secret.code not in m.text for m in city.messages())

    def escalations(group: SimGroup) -> list[str]:
        return [m.text for m in group.messages() if "⏰ 隐患" in m.text]

    for day in range(3, 14):
        bot_stage.clock.set(local(2026, 3, day, 8))
        await plan_once(bot_stage.services)
        for hour in (9, 10, 11):
            bot_stage.clock.set(local(2026, 3, day, hour))
            await sweep(bot_stage)
    heard = escalations(city)
    # The 重大 hazard's three days overdue (6 March), and the 一般 one's (12 March, told at 09:00 the next
    # morning): what the city admins hear.
    assert any(f"隐患 {serious.code} 已逾期 3 天" in text for text in heard)
    (batch,) = [text for text in heard if ordinary.code in text]
    # The two 一般 ones in one 09:00 message, headed as the city's group (not 市直: they are Lucheng's).
    assert batch.startswith("🔔 温州市待办提醒 2 条") and f"隐患 {other.code} 已逾期 3 天" in batch
    assert f"隐患 {ordinary.code} 已逾期 3 天" in batch
    assert len(heard) == 2  # the one-day escalations stay with the county staff
    assert all(secret.code not in text for text in heard)
