"""/warnings when many warnings are in force: a heat wave's forecast drafts, one per county, must not hide the
warning staff sent themselves and may need to lift."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.warnings import NewWarning, WarningKind, WarningLevel, WarningOrigin, WarningTarget
from bot.services.warning_core import first_revision
from bot.stage import Stage
from tests.test_warning_journeys import TYPHOON_TEMPLATE, compose_typhoon
from tests.warning_people import START, containing, drain, enrol


async def test_the_warning_just_sent_is_listed_among_a_dozen_forecast_drafts(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    storage = typhoon_stage.services.storage
    counties = [c.code for c in await storage.regions.counties()]
    assert len(counties) == 12
    for county in counties:
        draft = NewWarning(
            kind=WarningKind.HIGH_TEMPERATURE, level=WarningLevel.YELLOW, headline=f"高温预报 {county}",
            onset=START, expires=START + timedelta(days=2), target=WarningTarget(regions=frozenset({county})),
            origin=WarningOrigin.FORECAST, rule="heat_35_3d", created_at=START,
        )
        await storage.warnings.add(draft, first_revision(draft, actor_id=None, at=START))
    await compose_typhoon(cast)
    await cast.dongtou_staff.press("📤 发送")
    await drain(typhoon_stage)
    assert len(containing(cast.head_1, TYPHOON_TEMPLATE)) == 1

    admin = cast.admin
    await admin.send_text("/warnings")
    listed = containing(admin, "预警（#")
    assert any("台风红色预警（#13）" in m.text for m in listed)  # what was sent comes first, it may need lifting
    assert "台风红色预警（#13）" in listed[0].text
    assert "另有 3 条未列出" in admin.last_message().text
