"""A blue or yellow forecast draft found at night waits for the end of quiet hours (07:30). By then it may no longer
wait for anyone's decision: raised to orange, sent or withdrawn by staff, or made redundant by an official warning.
Staff hear of a draft once, as it stands now, and never of one already decided."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.domain.warnings import WarningLevel, WarningStatus
from bot.services.warnings import draft_notice_key
from bot.stage import Stage
from bot.warning_jobs import poll_feeds, run_forecast
from storage.outbox_models import DeliveryState
from tests.warning_people import Cast, containing, deliver_what_is_due, drain
from tests.warnings.conftest import DONGTOU_STAFF, FeedServer, open_meteo
from tests.warnings.test_feed_job import forecast_heat_at_night
from tests.warnings.test_feeds import RAIN, serve

DRAFT = "待发送的预警草稿"
YELLOW_HEAT = [36.0, 36.5, 35.5, 30, 30, 30, 30]
MORNING = datetime(2026, 9, 10, 23, 30, tzinfo=UTC)  # 07:30 in Wenzhou: quiet hours end


async def forecast_dongtou(current: Stage, feed_server: FeedServer, **answer: object) -> None:
    dongtou = await current.services.storage.regions.get("330305")
    assert dongtou is not None and dongtou.latitude is not None and dongtou.longitude is not None
    feed_server.forecasts[f"{dongtou.latitude:.4f},{dongtou.longitude:.4f}"] = open_meteo(
        datetime(2026, 9, 11).date(), latitude=dongtou.latitude, longitude=dongtou.longitude, **answer  # type: ignore[arg-type]
    )


async def test_a_held_yellow_draft_raised_to_orange_before_morning_reaches_staff_once_as_orange(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """The yellow found at 02:00 waited for 07:30; the orange it became at 03:00 came at once. Staff got both: the
    orange, then at 07:30 the yellow, a forecast that no longer stood."""
    current, cast = fed
    await forecast_heat_at_night(current, feed_server, clock, YELLOW_HEAT)
    await deliver_what_is_due(current)
    assert containing(cast.dongtou_staff, DRAFT) == []
    clock.set(datetime(2026, 9, 10, 19, 0, tzinfo=UTC))  # 03:00: the next run finds 38 °C
    await forecast_dongtou(current, feed_server, daily_max=[38.0, 30, 30, 30, 30, 30, 30])
    result = await run_forecast(current.services)
    assert [w.level for w, _ in result.revised] == [WarningLevel.ORANGE]
    await deliver_what_is_due(current)
    (orange,) = containing(cast.dongtou_staff, DRAFT)
    assert "高温橙色" in orange.text and orange.silent
    clock.set(MORNING)
    await drain(current)
    for staff in (cast.dongtou_staff, cast.admin):
        (draft,) = containing(staff, DRAFT)
        assert "高温橙色" in draft.text and "高温黄色" not in draft.text, staff


async def test_a_held_blue_draft_raised_to_yellow_in_the_night_comes_in_the_morning_once_as_yellow(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """Heavy rain forecast at 02:00 (blue) and heavier at 03:00 (yellow): both waited, and both came at 07:30."""
    current, cast = fed
    clock.set(datetime(2026, 9, 10, 18, 0, tzinfo=UTC))
    await forecast_dongtou(current, feed_server, rain={h: 5.0 for h in range(4, 16)})  # 60 mm in 12 hours
    assert [w.level for w in (await run_forecast(current.services)).drafts] == [WarningLevel.BLUE]
    clock.set(datetime(2026, 9, 10, 19, 0, tzinfo=UTC))
    await forecast_dongtou(current, feed_server, rain={h: 10.0 for h in range(4, 10)})  # 60 mm in 6 hours
    assert [w.level for w, _ in (await run_forecast(current.services)).revised] == [WarningLevel.YELLOW]
    await deliver_what_is_due(current)
    assert containing(cast.dongtou_staff, DRAFT) == []
    clock.set(MORNING)
    await drain(current)
    (draft,) = containing(cast.dongtou_staff, DRAFT)
    assert "暴雨黄色" in draft.text and not draft.silent


@pytest.mark.parametrize(
    ("button", "confirm"), [("📤 发送", None), ("🗑 撤回草稿", "🗑 确认撤回")], ids=["sent", "withdrawn"]
)
async def test_a_held_draft_that_staff_decided_at_night_is_not_offered_in_the_morning(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock, button: str, confirm: str | None
) -> None:
    """林科长, up at 02:30, found the yellow draft in /warnings and sent (or withdrew) it. At 07:30 the held notice
    still came, with a 📤 发送 button that could only say it was no longer a draft."""
    current, cast = fed
    await forecast_heat_at_night(current, feed_server, clock, YELLOW_HEAT)
    await deliver_what_is_due(current)
    clock.set(datetime(2026, 9, 10, 18, 30, tzinfo=UTC))
    await cast.dongtou_staff.send_text("/warnings")
    (listed,) = containing(cast.dongtou_staff, "预报研判")
    await cast.dongtou_staff.press(button, message=listed)
    if confirm is not None:
        await cast.dongtou_staff.press(confirm)
    await deliver_what_is_due(current)
    # Cancelled in the database, not in a process's memory: a restart before 07:30 changes nothing.
    (draft,) = await current.services.storage.warnings.with_status({WarningStatus.SENT, WarningStatus.CANCELLED})
    held = await current.services.storage.outbox.get_by_key(f"{draft_notice_key(draft.id, 1)}:chat:{DONGTOU_STAFF}")
    assert held is not None and held.state is DeliveryState.CANCELLED
    clock.set(MORNING)
    await drain(current)  # a sender of a process started afresh reads only what the database says
    for staff in (cast.dongtou_staff, cast.admin):
        assert containing(staff, DRAFT) == [], staff
    sent = containing(cast.head_1, "高温")
    assert len(sent) == (1 if confirm is None else 0)


async def test_a_held_forecast_draft_made_redundant_by_an_official_warning_is_not_offered_in_the_morning(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """The forecast's heavy rain over 洞头区 waited for 07:30; at 04:00 the observatory's own rainstorm warning
    came, and the forecast draft stood aside for it. The held draft still came at 07:30."""
    current, cast = fed
    clock.set(datetime(2026, 9, 10, 18, 0, tzinfo=UTC))
    await forecast_dongtou(current, feed_server, rain={h: 10.0 for h in range(4, 10)})
    result = await run_forecast(current.services)
    assert [w.kind for w in result.drafts] == ["rainstorm"] and result.drafts[0].level == WarningLevel.YELLOW
    await deliver_what_is_due(current)
    assert containing(cast.dongtou_staff, DRAFT) == []
    clock.set(datetime(2026, 9, 10, 20, 0, tzinfo=UTC))
    serve(feed_server, RAIN)
    await poll_feeds(current.services)
    clock.set(MORNING)
    await drain(current)
    assert containing(cast.dongtou_staff, "预报研判") == []
    assert any("暴雨黄色预警" in m.text for m in containing(cast.admin, DRAFT))  # the official one, offered at once
