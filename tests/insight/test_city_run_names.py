"""The institutions the city runs itself (市直) are named alike wherever a county would be: /stats, the ranking and
the exported problem list all say 温州市（市直）, never the bare city name, which reads as the whole city."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.domain.roles import Role
from bot.stage import Stage
from tests.calendar_people import local
from tests.hazard_people import cast, report

CITY_ADMIN, CITY_RUN = 50, "WZ-330300-FUNERAL-01"


async def test_the_excel_problem_list_names_a_city_run_homes_county_as_stats_does(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 10, 10))
    await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=CITY_ADMIN, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    hazard = await report(bot_stage, CITY_ADMIN, institution=CITY_RUN, description="灵车检修记录缺失")

    await admin.send_text("/stats")
    figures = admin.last_message()
    assert "温州市（市直）：发现 1" in figures.text
    await admin.press("📥 导出 Excel", figures)
    document = next(m for m in reversed(admin.messages()) if m.kind == "document")
    book = load_workbook(io.BytesIO(document.document or b""))
    row = next(r for r in book["问题清单"].iter_rows(min_row=2, values_only=True) if r[0] == hazard.code)
    assert row[1:4] == ("温州市（市直）", None, "温州市殡仪馆")
