"""One forecast run, one message: the audit's cold wave made twelve drafts and the city admin got twelve notices,
ten saying 将发送给 0 人; the next day's run announced the eleven untouched drafts again, identical, and both copies
kept their 📤 发送. Now the admin gets a digest (a 📤 row per draft that reaches someone, the others named on one
line), an unchanged draft is not announced again, and a revised one's older copies lose its button."""

from __future__ import annotations

from datetime import date, timedelta

from bot.clock import FakeClock
from bot.domain.roles import Role
from bot.stage import Stage
from bot.warning_jobs import follow_up, run_forecast
from handlers.forecast_notices import clear_revised_draft_buttons
from tests.warning_people import Cast, containing, drain
from tests.warnings.conftest import FeedServer, open_meteo

DIGEST = "预报研判草稿（非官方预警）"
SINGLE = "📝 待发送的预警草稿："
ORANGE_HEAT = [38.0, 30, 30, 30, 30, 30, 30]
YELLOW_HEAT = [36.0, 36.5, 35.5, 30, 30, 30, 30]


async def forecast(current: Stage, feed_server: FeedServer, code: str, daily_max: list[float]) -> None:
    region = await current.services.storage.regions.get(code)
    assert region is not None and region.latitude is not None and region.longitude is not None
    feed_server.forecasts[f"{region.latitude:.4f},{region.longitude:.4f}"] = open_meteo(
        date(2026, 9, 10), daily_max=daily_max, latitude=region.latitude, longitude=region.longitude
    )


async def test_a_run_over_three_counties_is_one_message_for_the_admin_and_an_unchanged_run_is_silent(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    current, cast = fed
    await forecast(current, feed_server, "330305", ORANGE_HEAT)  # 洞头区: heads, cadres, groups
    await forecast(current, feed_server, "330302", YELLOW_HEAT)  # 鹿城区: a head and a cadre
    await forecast(current, feed_server, "330303", ORANGE_HEAT)  # 龙湾区: nobody registered
    result = await run_forecast(current.services)
    assert len(result.drafts) == 3
    await drain(current)

    (digest,) = [m for m in cast.admin.messages() if DIGEST in m.text or SINGLE in m.text]
    assert "本轮数值预报研判有 2 条待发送的预警草稿" in digest.text
    assert "高温橙色预警 · 洞头区" in digest.text and "高温黄色预警 · 鹿城区" in digest.text
    assert "另有 1 条草稿没有可发送的对象" in digest.text and "龙湾区（#" in digest.text
    assert "将发送给 0 人" not in digest.text
    assert digest.buttons == [["📤 发送：鹿城区 高温黄色预警"], ["📤 发送：洞头区 高温橙色预警"]]
    # A county's staff with one draft that reaches someone read it in full, as before.
    (dongtou,) = containing(cast.dongtou_staff, SINGLE)
    assert "高温橙色预警" in dongtou.text and dongtou.buttons == [["📤 发送"]]
    assert len(containing(cast.lucheng_staff, SINGLE)) == 1

    # The admin sends 洞头区's from the digest: its heads get it.
    await cast.admin.press("📤 发送：洞头区 高温橙色预警", message=digest)
    await drain(current)
    assert len(containing(cast.head_1, "高温橙色预警")) == 1

    # An hour later the same forecast: nothing is announced again.
    before = {chat: len(chat.messages()) for chat in (cast.admin, cast.dongtou_staff, cast.lucheng_staff)}
    clock.advance(timedelta(hours=1))
    result = await run_forecast(current.services)
    assert result.drafts == [] and result.revised == []
    await follow_up(current.services)  # the repair of untold drafts finds them told
    await drain(current)
    assert {chat: len(chat.messages()) for chat in before} == before


async def test_a_revised_draft_is_announced_again_and_its_older_copies_lose_its_send_button(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    current, cast = fed
    await forecast(current, feed_server, "330305", ORANGE_HEAT)
    await forecast(current, feed_server, "330302", YELLOW_HEAT)
    await run_forecast(current.services)
    await drain(current)
    clock.advance(timedelta(hours=1))
    await forecast(current, feed_server, "330302", ORANGE_HEAT)  # 鹿城区's yellow becomes orange
    result = await run_forecast(current.services)
    assert [w.level.value for w, _ in result.revised] == ["orange"]
    await drain(current)

    # The run changed one draft: the admin reads it in full, as its county's staff do.
    (first,) = [m for m in cast.admin.messages() if DIGEST in m.text]
    (second,) = containing(cast.admin, SINGLE)
    assert "待发送的预警草稿：高温橙色预警（鹿城区）" in second.text and second.buttons == [["📤 发送"]]
    old, new = containing(cast.lucheng_staff, SINGLE)
    assert "高温黄色预警" in old.text and "高温橙色预警" in new.text

    assert await clear_revised_draft_buttons(current.application.bot, current.services) == 2
    await current.sandbox.settle()
    (first,) = [m for m in cast.admin.messages() if DIGEST in m.text]
    assert first.buttons == [["📤 发送：洞头区 高温橙色预警"]]  # 洞头区's draft did not change: its row stays
    assert containing(cast.admin, SINGLE)[0].buttons == [["📤 发送"]]
    old, new = containing(cast.lucheng_staff, SINGLE)
    assert old.buttons == [] and new.buttons == [["📤 发送"]]
    assert await clear_revised_draft_buttons(current.application.bot, current.services) == 0  # each copy once


async def test_a_county_clerks_only_draft_that_reaches_nobody_is_named_without_a_send_button(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """龙湾区 has a clerk but no home, cadre or group registered: its one draft would tell nobody. The clerk reads it
    named as such, with no 📤 发送 (sent, it would reach no one; its institutions are to be phoned), not the full
    preview that says 将发送给 0 人 above a button."""
    current, _ = fed
    clerk = current.sandbox.user(user_id=70, first_name="吴", last_name="科员", language_code="zh-hans")
    await current.register(clerk, Role.COUNTY, region="330303")
    await forecast(current, feed_server, "330303", ORANGE_HEAT)  # 龙湾区 only
    await run_forecast(current.services)
    await drain(current)
    (told,) = [m for m in clerk.messages() if "高温橙色预警" in m.text or "龙湾区（#" in m.text]
    assert "没有可发送的对象" in told.text and "龙湾区（#1）" in told.text and "将发送给 0 人" not in told.text
    assert told.buttons == []
