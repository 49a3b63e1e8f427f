"""Forecast rules over Open-Meteo (JSON, no key): a fallback where no official warning exists.

For each county of the configured city with coordinates, one request:
    {base}/v1/forecast?latitude=…&longitude=…&hourly=temperature_2m,precipitation,wind_gusts_10m
        &daily=temperature_2m_max,temperature_2m_min&timezone=Asia%2FShanghai&wind_speed_unit=ms
The thresholds (`bot/data/warnings/forecast_thresholds.json`) decide; findings become drafts labelled
预报研判（非官方预警）, one per kind and county, and give way to an official warning of the same kind.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import aiohttp

from bot.clock import Clock
from bot.domain.forecast_rules import ForecastFinding, ForecastSeries, ThresholdRule, evaluate
from bot.domain.warnings import EarlyWarning, WarningChange
from bot.services.feeds import FetchError, read_capped
from bot.services.warning_ingest import Ignored, IgnoreReason, Ingested
from bot.services.warning_settings import WarningSettings, load_thresholds
from bot.services.warnings import WarningService
from storage import Storage
from storage.models import Region

log = logging.getLogger(__name__)

HOURLY = "temperature_2m,precipitation,wind_gusts_10m"
DAILY = "temperature_2m_max,temperature_2m_min"

# Open-Meteo answers in the units asked for; these cover the ones it can be asked for, in case a proxy or a
# changed default answers in another.
_TO_MS: dict[str, Callable[[float], float]] = {
    "m/s": lambda v: v,
    "ms": lambda v: v,
    "km/h": lambda v: v / 3.6,
    "mph": lambda v: v * 0.44704,
    "kn": lambda v: v * 0.514444,
}
_TO_MM: dict[str, Callable[[float], float]] = {"mm": lambda v: v, "inch": lambda v: v * 25.4}
_TO_C: dict[str, Callable[[float], float]] = {"°C": lambda v: v, "°F": lambda v: (v - 32) * 5 / 9}


@dataclass
class ForecastResult:
    drafts: list[EarlyWarning] = field(default_factory=list)  # new drafts for staff
    revised: list[tuple[EarlyWarning, WarningChange]] = field(default_factory=list)  # drafts that changed level
    suppressed: list[Ignored] = field(default_factory=list)  # an official warning already covers them
    ignored: list[Ignored] = field(default_factory=list)  # fetch failures, unreadable answers, unchanged drafts
    findings: dict[str, list[ForecastFinding]] = field(default_factory=dict)  # by county code


class ForecastPoller:
    def __init__(
        self, storage: Storage, clock: Clock, settings: WarningSettings, session: aiohttp.ClientSession
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._settings = settings
        self._session = session
        self._service = WarningService(storage, clock, settings)

    async def run(self) -> ForecastResult:
        result = ForecastResult()
        rules = load_thresholds(self._settings.thresholds_path).rules
        by_id = {rule.id: rule for rule in rules}
        for county in await self._counties():
            source = f"forecast:{county.code}"
            try:
                await self._judge(county, rules, by_id, result)
            except Exception as error:
                # A fault of ours with one county's forecast must not keep every other county's from being judged.
                log.exception("the forecast for %s could not be judged; the other counties are as usual", county.code)
                result.ignored.append(Ignored(source, IgnoreReason.FAILED, type(error).__name__))
        return result

    async def _judge(
        self, county: Region, rules: Sequence[ThresholdRule], by_id: Mapping[str, ThresholdRule], result: ForecastResult
    ) -> None:
        source = f"forecast:{county.code}"
        try:
            series = parse_open_meteo(await self._fetch(county))
        except (aiohttp.ClientError, TimeoutError) as error:
            result.ignored.append(Ignored(source, IgnoreReason.FETCH_FAILED, f"{type(error).__name__}: {error}"))
            return
        except FetchError as error:
            result.ignored.append(Ignored(source, error.reason, error.detail))
            return
        except ValueError as error:
            result.ignored.append(Ignored(source, IgnoreReason.INVALID, str(error)))
            return
        findings = evaluate(series, rules, self._clock.now(), self._settings.lookahead)
        result.findings[county.code] = findings
        for finding in findings:
            outcome = await self._service.store_forecast(county.code, finding, by_id[finding.rule_id])
            _collect(outcome, result)

    async def _counties(self) -> list[Region]:
        return [
            county
            for county in await self._storage.regions.counties()
            if county.parent_code == self._settings.city_code
            and county.latitude is not None
            and county.longitude is not None
        ]

    async def _fetch(self, county: Region) -> Any:
        params = {
            "latitude": f"{county.latitude:.4f}",
            "longitude": f"{county.longitude:.4f}",
            "hourly": HOURLY,
            "daily": DAILY,
            "timezone": self._settings.forecast_timezone,
            "wind_speed_unit": "ms",
        }
        url = self._settings.forecast_base_url.rstrip("/") + "/v1/forecast"
        timeout = aiohttp.ClientTimeout(total=self._settings.forecast_timeout_seconds)
        async with self._session.get(url, params=params, timeout=timeout) as response:
            if response.status != 200:
                raise FetchError(IgnoreReason.FETCH_FAILED, f"HTTP {response.status}")
            body = await read_capped(response, self._settings.feed_max_bytes)
        return json.loads(body)


def parse_open_meteo(data: Any) -> ForecastSeries:
    """A ForecastSeries from Open-Meteo's JSON; ValueError if it is not one."""
    if not isinstance(data, Mapping):
        raise ValueError("not an Open-Meteo forecast object")
    if data.get("error"):
        raise ValueError(f"Open-Meteo refused: {data.get('reason', 'no reason given')}")
    if not isinstance(data.get("hourly"), Mapping) or not isinstance(data.get("daily"), Mapping):
        raise ValueError("an Open-Meteo forecast needs hourly and daily blocks")
    try:
        tz = timezone(timedelta(seconds=int(data.get("utc_offset_seconds", 0))))
        hourly, daily = data["hourly"], data["daily"]
        hourly_units, daily_units = data.get("hourly_units") or {}, data.get("daily_units") or {}
        hours = tuple(datetime.fromisoformat(t).replace(tzinfo=tz) for t in hourly.get("time", []))
        days = tuple(date.fromisoformat(t) for t in daily.get("time", []))
        series = ForecastSeries(
            tz=tz,
            hours=hours,
            precipitation_mm=_values(hourly, "precipitation", hourly_units, _TO_MM, len(hours)),
            gusts_ms=_values(hourly, "wind_gusts_10m", hourly_units, _TO_MS, len(hours)),
            days=days,
            daily_max=_values(daily, "temperature_2m_max", daily_units, _TO_C, len(days)),
            daily_min=_values(daily, "temperature_2m_min", daily_units, _TO_C, len(days)),
        )
    except (TypeError, AttributeError, KeyError, OverflowError) as error:
        # OverflowError: a number past what a float or a time offset holds (utc_offset_seconds of 10**20).
        raise ValueError(f"unreadable Open-Meteo forecast: {error}") from None
    return series


def _values(
    block: Mapping[str, Any],
    name: str,
    units: Mapping[str, str],
    converters: Mapping[str, Callable[[float], float]],
    length: int,
) -> tuple[float | None, ...]:
    raw: Sequence[Any] = block.get(name) or [None] * length
    if len(raw) != length:
        raise ValueError(f"{name}: {len(raw)} values for {length} times")
    unit = units.get(name, next(iter(converters)))
    if unit not in converters:
        raise ValueError(f"{name}: unknown unit {unit!r}")
    convert = converters[unit]
    values: list[float | None] = []
    for value in raw:
        if value is None:
            values.append(None)
            continue
        number = float(value)
        if not math.isfinite(number):
            # Python reads NaN and Infinity in JSON; no forecast measures them, and a draft must not say "inf °C".
            raise ValueError(f"{name}: {value!r} is not a measurement")
        # Rounded so that a conversion (50.04 km/h is 13.9 m/s) does not land a hair below a threshold.
        values.append(round(convert(number), 2))
    return tuple(values)


def _collect(outcome: Ingested | Ignored, result: ForecastResult) -> None:
    if isinstance(outcome, Ignored):
        (result.suppressed if outcome.reason is IgnoreReason.SUPPRESSED else result.ignored).append(outcome)
    elif outcome.change is WarningChange.ISSUE:
        result.drafts.append(outcome.warning)
    else:
        result.revised.append((outcome.warning, outcome.change))
