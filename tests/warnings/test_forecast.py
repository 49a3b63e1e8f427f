"""Forecast rules at their edges, and the Open-Meteo poller against a local server."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.domain.forecast_rules import ForecastFinding, evaluate
from bot.domain.warnings import WarningChange, WarningKind, WarningLevel, WarningOrigin, WarningStatus
from bot.services.cap import parse_cap
from bot.services.forecast import ForecastPoller, parse_open_meteo
from bot.services.warning_ingest import IgnoreReason
from bot.services.warning_settings import WarningSettings, load_thresholds
from bot.services.warnings import WarningService
from tests.warnings.conftest import (
    DONGTOU,
    DONGTOU_STAFF,
    LUCHENG,
    START,
    FeedServer,
    WarningWorld,
    fixture,
    open_meteo,
)

RULES = load_thresholds(WarningSettings().thresholds_path).rules
DAY0 = date(2026, 9, 10)  # START is 09:00 local on this day; hour index 9 is "now"
LOOKAHEAD = timedelta(hours=72)


def findings(**series: object) -> list[tuple[WarningKind, WarningLevel]]:
    data = open_meteo(DAY0, **series)  # type: ignore[arg-type]
    return [(f.kind, f.level) for f in evaluate(parse_open_meteo(data), RULES, START, LOOKAHEAD)]


def one(**series: object) -> ForecastFinding:
    found = evaluate(parse_open_meteo(open_meteo(DAY0, **series)), RULES, START, LOOKAHEAD)  # type: ignore[arg-type]
    assert len(found) == 1
    return found[0]


HEAT = WarningKind.HIGH_TEMPERATURE
COLD = WarningKind.COLD_WAVE
RAIN = WarningKind.RAINSTORM
GALE = WarningKind.GALE
Y, OR, R, B = WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED, WarningLevel.BLUE


@pytest.mark.parametrize(
    ("maxima", "expected"),
    [
        ([35.0, 35.0, 35.0, 30, 30, 30, 30], [(HEAT, Y)]),  # three days at 35 °C: yellow
        ([35.0, 34.9, 35.0, 35.0, 30, 30, 30], []),  # broken run, and its second run is too far ahead
        ([34.9, 34.9, 34.9, 30, 30, 30, 30], []),
        ([30, 37.0, 30, 30, 30, 30, 30], [(HEAT, OR)]),  # one day at 37 °C: orange
        ([30, 36.9, 30, 30, 30, 30, 30], []),
        ([36.9, 36.9, 36.9, 30, 30, 30, 30], [(HEAT, Y)]),
        ([30, 40.0, 30, 30, 30, 30, 30], [(HEAT, R)]),
        ([30, 39.9, 30, 30, 30, 30, 30], [(HEAT, OR)]),
        ([30, 30, 30, 30, 30, 41.0, 30], []),  # beyond the 72 h look-ahead
    ],
)
def test_high_temperature(maxima: list[float], expected: list[tuple[WarningKind, WarningLevel]]) -> None:
    assert findings(daily_max=maxima) == expected


@pytest.mark.parametrize(
    ("minima", "expected"),
    [
        ([12.0, 4.0, 4, 4, 4, 4, 4], [(COLD, B)]),  # GB/T 21987: 8 °C in 24 h, down to 4 °C
        ([12.1, 4.1, 4.1, 4.1, 4.1, 4.1, 4.1], []),  # above 4 °C
        ([12.1, 4.1, 3.0, 3, 3, 3, 3], []),  # 12.1 - 4.1 is 8 °C, but only 1.1 °C more to 3 °C
        ([11.9, 4.0, 4, 4, 4, 4, 4], []),  # 7.9 °C
        ([14.0, 9.0, 4.0, 4, 4, 4, 4], [(COLD, B)]),  # 10 °C in 48 h
        ([15.9, 10.0, 6.0, 4.0, 4, 4, 4], []),  # 11.9 °C in 72 h, and at most 5.9 in 48 h
        ([16.0, 10.0, 6.0, 4.0, 4, 4, 4], [(COLD, B)]),  # 12 °C in 72 h
        ([14.0, 4.0, 4, 4, 4, 4, 4], [(COLD, Y)]),  # CMA yellow: 10 °C in 24 h
        ([12.0, 0.0, 0, 0, 0, 0, 0], [(COLD, OR)]),  # orange: 12 °C in 24 h, down to 0 °C
        ([12.0, 0.1, 0, 0, 0, 0, 0], [(COLD, Y)]),  # 11.9 °C and above 0 °C: yellow, not orange
        ([12.3, 4.3, 4, 4, 4, 4, 4], []),  # 8.0 °C, but above 4 °C
        ([12.3, 4.0, 4, 4, 4, 4, 4], [(COLD, B)]),  # 8.3 °C
        ([16.0, 0.0, 0, 0, 0, 0, 0], [(COLD, R)]),
        ([15.9, 0.0, 0, 0, 0, 0, 0], [(COLD, OR)]),
    ],
)
def test_cold_wave(minima: list[float], expected: list[tuple[WarningKind, WarningLevel]]) -> None:
    assert findings(daily_min=minima, daily_max=[20.0] * 7) == expected


@pytest.mark.parametrize(
    ("rain", "expected"),
    [
        ({12: 20.0, 13: 20.0, 14: 10.0}, [(RAIN, OR)]),  # 50 mm in 3 h
        ({12: 20.0, 13: 20.0, 14: 9.9}, []),  # 49.9 mm, whatever the window
        ({12: 10.0, 14: 10.0, 16: 10.0, 17: 20.0}, [(RAIN, Y)]),  # 50 mm in 6 h, 30 in any 3 h
        ({12: 10.0, 16: 10.0, 20: 10.0, 23: 20.0}, [(RAIN, B)]),  # 50 mm in 12 h
        ({12: 10.0, 16: 10.0, 20: 10.0, 24: 19.9}, []),  # spread over 13 h
        ({12: 50.0, 13: 50.0}, [(RAIN, R)]),  # 100 mm in 3 h
        ({3: 80.0, 5: 80.0}, []),  # this morning's downpour is behind us
    ],
)
def test_heavy_rain(rain: dict[int, float], expected: list[tuple[WarningKind, WarningLevel]]) -> None:
    assert findings(rain=rain) == expected


@pytest.mark.parametrize(
    ("gusts", "unit", "expected"),
    [
        ({20: 13.9}, "m/s", [(GALE, B)]),  # force 7
        ({20: 13.8}, "m/s", []),
        ({20: 20.8}, "m/s", [(GALE, Y)]),  # force 9
        ({20: 28.5}, "m/s", [(GALE, OR)]),  # force 11
        ({20: 36.9}, "m/s", [(GALE, OR)]),
        ({20: 37.0}, "m/s", [(GALE, R)]),  # force 13
        ({20: 50.04}, "km/h", [(GALE, B)]),  # 13.9 m/s, in Open-Meteo's default unit
        ({20: 49.9}, "km/h", []),
    ],
)
def test_gale(gusts: dict[int, float], unit: str, expected: list[tuple[WarningKind, WarningLevel]]) -> None:
    assert findings(gusts={h: v for h, v in gusts.items()}, gust_unit=unit) == expected


def test_finding_times_and_values() -> None:
    rain = one(rain={12: 20.0, 13: 20.0, 14: 10.0})
    local = START.astimezone(rain.onset.tzinfo)
    assert rain.onset == local.replace(hour=11) and rain.expires == local.replace(hour=14)
    assert (rain.observed, rain.threshold, rain.rule_id) == (50.0, 50.0, "rain.orange.3h50")
    heat = one(daily_max=[35.0, 36.0, 35.5, 30, 30, 30, 30])
    assert heat.onset.date() == DAY0 and heat.expires.date() == DAY0 + timedelta(days=3)
    assert heat.observed == 36.0


def test_unreadable_forecasts_are_value_errors() -> None:
    broken = open_meteo(DAY0)
    broken["hourly"]["precipitation"] = [0.0]
    with pytest.raises(ValueError, match="precipitation"):
        parse_open_meteo(broken)
    with pytest.raises(ValueError):
        parse_open_meteo(["not", "a", "forecast"])


# ---- the poller --------------------------------------------------------------------------------------------


def forecast_for(server: FeedServer, lat: float, lon: float, **series: object) -> None:
    server.forecasts[f"{lat:.4f},{lon:.4f}"] = open_meteo(DAY0, latitude=lat, longitude=lon, **series)  # type: ignore[arg-type]


async def test_poller_drafts_one_labelled_warning_per_kind_and_county(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    settings = WarningSettings(forecast_base_url=feed_server.url("/"))
    forecast_for(feed_server, 27.8361, 121.1571, daily_max=[30, 40.5, 33, 30, 30, 30, 30])  # 洞头区
    forecast_for(feed_server, 28.0150, 120.6555, rain={12: 30.0, 13: 30.0})  # 鹿城区
    poller = ForecastPoller(world.storage, world.clock, settings, session)
    first = await poller.run()
    assert feed_server.hits["/v1/forecast"] == 12  # one request per county
    drafts = {(w.target.regions, w.kind, w.level) for w in first.drafts}
    assert drafts == {
        (frozenset({DONGTOU}), WarningKind.HIGH_TEMPERATURE, WarningLevel.RED),
        (frozenset({LUCHENG}), WarningKind.RAINSTORM, WarningLevel.ORANGE),
    }
    for draft in first.drafts:
        assert draft.status is WarningStatus.DRAFT and draft.origin is WarningOrigin.FORECAST
        assert draft.label_zh == "预报研判（非官方预警）" and draft.rule is not None

    again = await poller.run()
    assert again.drafts == [] and {i.reason for i in again.ignored} == {IgnoreReason.DUPLICATE}

    forecast_for(feed_server, 27.8361, 121.1571, daily_max=[30, 38.0, 33, 30, 30, 30, 30])
    third = await poller.run()
    assert [(w.kind, w.level, c) for w, c in third.revised] == [
        (WarningKind.HIGH_TEMPERATURE, WarningLevel.ORANGE, WarningChange.DOWNGRADE)
    ]
    heat = await world.storage.warnings.with_status({WarningStatus.DRAFT}, kind=WarningKind.HIGH_TEMPERATURE)
    assert len(heat) == 1 and heat[0].revision == 2 and heat[0].rule == "heat.orange.37"


async def test_a_heat_wave_over_two_counties_is_drafted_for_each_county(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    """洞头区 and 鹿城区 both face a heat wave, at different levels: each county's staff get a draft of their own,
    at their own level; neither county's finding rewrites the other's draft."""
    settings = WarningSettings(forecast_base_url=feed_server.url("/"))
    forecast_for(feed_server, 27.8361, 121.1571, daily_max=[30, 40.5, 33, 30, 30, 30, 30])  # 洞头区: red
    forecast_for(feed_server, 28.0150, 120.6555, daily_max=[30, 38.0, 33, 30, 30, 30, 30])  # 鹿城区: orange
    poller = ForecastPoller(world.storage, world.clock, settings, session)
    first = await poller.run()
    expected = {
        (frozenset({DONGTOU}), WarningLevel.RED, 1),
        (frozenset({LUCHENG}), WarningLevel.ORANGE, 1),
    }
    assert {(w.target.regions, w.level, w.revision) for w in first.drafts} == expected
    again = await poller.run()  # the next hour, the same forecast: nothing new, nothing rewritten
    assert again.drafts == [] and again.revised == []
    heat = await world.storage.warnings.with_status({WarningStatus.DRAFT}, kind=WarningKind.HIGH_TEMPERATURE)
    assert {(w.target.regions, w.level, w.revision) for w in heat} == expected


async def test_poller_is_suppressed_while_an_official_warning_covers_the_county(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    official = await world.service.ingest_official(
        parse_cap(fixture("rainstorm_no_expires.xml")), source_url="http://127.0.0.1/r.xml"
    )  # 温州市 yellow rainstorm: the whole city
    settings = WarningSettings(forecast_base_url=feed_server.url("/"))
    feed_server.default_forecast = open_meteo(DAY0, rain={12: 60.0}, daily_max=[30, 37.5, 30, 30, 30, 30, 30])
    result = await ForecastPoller(world.storage, world.clock, settings, session).run()
    assert official is not None
    assert len(result.suppressed) == 12 and all(i.reason is IgnoreReason.SUPPRESSED for i in result.suppressed)
    assert {w.kind for w in result.drafts} == {WarningKind.HIGH_TEMPERATURE}  # another kind is not covered
    world.clock.set(datetime(2026, 9, 11, 1, 0, tzinfo=UTC))  # the official one has run out
    await world.service.expire_due()
    feed_server.default_forecast = open_meteo(DAY0 + timedelta(days=1), rain={12: 60.0})
    later = await ForecastPoller(world.storage, world.clock, settings, session).run()
    assert later.suppressed == [] and {w.kind for w in later.drafts} == {WarningKind.RAINSTORM}


async def test_poller_reports_a_county_it_cannot_read(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.default_forecast = {"error": True, "reason": "Cannot initialize WeatherVariable"}
    settings = WarningSettings(forecast_base_url=feed_server.url("/"))
    result = await ForecastPoller(world.storage, world.clock, settings, session).run()
    assert result.drafts == [] and len(result.ignored) == 12


async def test_a_fault_with_one_county_keeps_no_other_county_from_being_judged(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fault not yet known, injected into storing Dongtou's finding, costs Dongtou's draft alone this hour."""
    settings = WarningSettings(forecast_base_url=feed_server.url("/"))
    forecast_for(feed_server, 27.8361, 121.1571, daily_max=[30, 40.5, 33, 30, 30, 30, 30])  # 洞头区
    forecast_for(feed_server, 28.0150, 120.6555, rain={12: 30.0, 13: 30.0})  # 鹿城区
    store = WarningService.store_forecast

    async def faulty(service: WarningService, region: str, *args: Any, **kwargs: Any) -> Any:
        if region == DONGTOU:
            raise RuntimeError("a fault of ours")
        return await store(service, region, *args, **kwargs)

    monkeypatch.setattr(WarningService, "store_forecast", faulty)
    with caplog.at_level(logging.ERROR, logger="bot.services.forecast"):
        result = await ForecastPoller(world.storage, world.clock, settings, session).run()
    assert {(w.target.regions, w.kind) for w in result.drafts} == {(frozenset({LUCHENG}), WarningKind.RAINSTORM)}
    assert [(i.source, i.reason) for i in result.ignored] == [(f"forecast:{DONGTOU}", IgnoreReason.FAILED)]
    assert any(f"forecast for {DONGTOU} could not be judged" in r.getMessage() for r in caplog.records)


async def test_a_heat_wave_weeks_after_a_sent_forecast_warning_is_drafted_again(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    """Without an official feed (WARNING_FEED_URLS unset, the forecast is then the only source) nothing marked a
    warning expired: the forecast warning staff had sent for 洞头区 stayed "sent" for ever, and every later heat
    wave there was passed over as already sent. Staff never got another forecast draft for it."""
    settings = WarningSettings(forecast_base_url=feed_server.url("/"))
    forecast_for(feed_server, 27.8361, 121.1571, daily_max=[30, 40.5, 33, 30, 30, 30, 30])  # 洞头区
    (draft,) = (await ForecastPoller(world.storage, world.clock, settings, session).run()).drafts
    await world.service.send(await world.user(DONGTOU_STAFF), draft.id)

    world.clock.set(START + timedelta(days=20))
    server_day = DAY0 + timedelta(days=20)
    feed_server.forecasts[f"{27.8361:.4f},{121.1571:.4f}"] = open_meteo(
        server_day, latitude=27.8361, longitude=121.1571, daily_max=[30, 38.0, 33, 30, 30, 30, 30]
    )
    later = await ForecastPoller(world.storage, world.clock, settings, session).run()
    assert [(w.target.regions, w.kind, w.level) for w in later.drafts] == [
        (frozenset({DONGTOU}), WarningKind.HIGH_TEMPERATURE, WarningLevel.ORANGE)
    ]
