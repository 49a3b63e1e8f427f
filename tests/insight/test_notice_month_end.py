"""The monthly notice (通报) judges the month it is for: its negative list names the hazards overdue at that month's
end, counted to that day, as its ranking's 期末逾期 does; not the hazards overdue on the day it is drafted."""

from __future__ import annotations

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction
from bot.domain.roles import Role
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import LONGWAN, LONGWAN_HOME, act, cast, report

CITY_ADMIN = 50
CITY_RUN, DONGTOU_HOME, DONGTOU = "WZ-330300-FUNERAL-01", "WZ-330305-ELDER-01", "330305"


async def test_a_past_months_negative_list_is_that_months_end_not_today(bot_stage: Stage) -> None:
    """Drafted on 20 November for October: Lucheng's hazard found on 10 October and still open is named with its
    days late at 31 October (14, not 34); Longwan's, overdue at 31 October and closed on 3 November, is named too;
    the one found on 10 November, overdue today, is not October's. A rights-protection hazard overdue then is
    neither counted nor named: the notice goes to groups, Lucheng's among them."""
    bot_stage.clock.set(local(2026, 10, 10))
    await cast(bot_stage)
    for user_id, name, role, where in ((60, "龙湾院长", Role.HEAD, {"institution": LONGWAN_HOME}),
                                       (61, "龙湾科长", Role.COUNTY, {"region": LONGWAN}),
                                       (62, "龙湾干部", Role.CADRE, {"region": LONGWAN})):
        await bot_stage.register(bot_stage.sandbox.user(user_id=user_id, first_name=name, language_code="zh-hans"),
                                 role, **where)
    open_since_october = await report(bot_stage)  # general: due 17 October
    secret = await report(bot_stage, area=HazardArea.RIGHTS, description="疑似虐待老人")
    closed_since = await report(bot_stage, 62, institution=LONGWAN_HOME, description="灭火器过期")
    bot_stage.clock.set(local(2026, 11, 3))
    await act(bot_stage, 60, closed_since, HazardAction.ACKNOWLEDGE)
    await act(bot_stage, 60, closed_since, HazardAction.SUBMIT_RECTIFICATION, reason="已更换全部过期灭火器", photos=1)
    await act(bot_stage, 61, closed_since, HazardAction.ACCEPT)
    bot_stage.clock.set(local(2026, 11, 10))
    november = await report(bot_stage, description="十一月发现的隐患")
    bot_stage.clock.set(local(2026, 11, 20))
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)

    await admin.send_text("/notice")
    preview = admin.last_message().text
    assert "安全工作通报（2026年10月）" in preview
    # The rule the ranking states is the one its lines use: 期末逾期, at October's end.
    assert "（依次比较：期末逾期隐患数（截至本期最后一天，不论何时发现）、本期按期整改率、" in preview
    assert "当前逾期" not in preview and "10. 鹿城区（并列）：按期 — · 期末逾期 1 ·" in preview
    assert "（一）期末逾期未整改隐患 2 项（截至 2026-10-31，逾期天数计至该日）：" in preview
    assert f"• {open_since_october.code} 鹿城区社会福利院（鹿城区），已逾期 14 天" in preview
    assert f"• {closed_since.code} " in preview  # overdue at October's end, closed since
    assert november.code not in preview  # found in November
    assert "权益保障的逾期隐患" not in preview  # neither counted nor named: the figures say they leave them out
    assert secret.code not in preview


async def test_the_city_run_institutions_are_listed_apart_and_praise_asks_for_the_duties_too(bot_stage: Stage) -> None:
    """October, drafted on 20 November. The city's own institutions (市直) closed their hazard on time and nothing
    is overdue, but they are no county: they were ranked first "among the counties" and praised with 0% drills.
    Now they are listed apart with their figures, never numbered or praised. Dongtou closed its hazard on time too,
    with none of its self-inspections or drills done: first among the counties, but not praised for it."""
    bot_stage.clock.set(local(2026, 10, 10))
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    for user_id, name, role, where in ((70, "殡仪馆馆长", Role.HEAD, {"institution": CITY_RUN}),
                                       (71, "洞头院长", Role.HEAD, {"institution": DONGTOU_HOME}),
                                       (72, "洞头科长", Role.COUNTY, {"region": DONGTOU}),
                                       (73, "洞头干部", Role.CADRE, {"region": DONGTOU})):
        await bot_stage.register(bot_stage.sandbox.user(user_id=user_id, first_name=name, language_code="zh-hans"),
                                 role, **where)
    for reporter, head, verifier, institution in ((CITY_ADMIN, 70, CITY_ADMIN, CITY_RUN), (73, 71, 72, DONGTOU_HOME)):
        hazard = await report(bot_stage, reporter, institution=institution, description="灭火器过期")
        await act(bot_stage, head, hazard, HazardAction.ACKNOWLEDGE)
        await act(bot_stage, head, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已更换全部过期灭火器", photos=1)
        await act(bot_stage, verifier, hazard, HazardAction.ACCEPT)
    bot_stage.clock.set(local(2026, 11, 20))

    await admin.send_text("/notice")
    preview = admin.last_message().text
    assert "1. 温州市（市直）" not in preview
    assert "温州市（市直）另列，不参与排名：按期 100% · 期末逾期 0 · 自查 0% · 演练 0% · 签收 —" in preview
    assert "1. 洞头区：按期 100% · 期末逾期 0 · 自查 0% · 演练 0% · 签收 —" in preview
    praise = preview.split("二、表扬\n")[1].split("\n")[0]
    assert praise == ("本期无单位达到表扬条件（无逾期隐患，且隐患按期整改率及月度自查、消防演练、预警签收完成率"
                      "均不低于 90%）。")

    await admin.send_text("/ranking")  # the same month's ranking, as the city admin sees it
    ranking = admin.last_message().text
    assert "1. 温州市（市直）" not in ranking and "1. 洞头区：" in ranking
    assert "温州市（市直）另列，不参与排名：按期 100% · 期末逾期 0 ·" in ranking
