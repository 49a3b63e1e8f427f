"""Forecast rules (issue 5, item 4): when a numerical forecast alone justifies a draft warning. Pure, no I/O.

The thresholds are data (`bot/data/warnings/forecast_thresholds.json`), each citing the signal standard it comes
from; this module only knows how to measure. Only the part of the forecast still ahead counts (a downpour this
morning is not a warning this afternoon), except the baseline days of a temperature drop, which may lie behind.
Of the rules of one kind that fire, the highest level wins: staff see one draft per kind and county.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from bot.domain.warnings import WarningKind, WarningLevel

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Measure(StrEnum):
    DAILY_MAX = "daily_max"  # daily maximum °C ≥ value on `days` consecutive days
    MIN_DROP = "min_drop"  # daily minimum falls by drops[hours] within that many hours, ending ≤ min_at_most
    RAIN_SUM = "rain_sum"  # precipitation mm ≥ value within `hours`
    GUST = "gust"  # wind gust m/s ≥ value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ThresholdRule(_Model):
    id: str
    kind: WarningKind
    level: WarningLevel
    measure: Measure
    value: float = 0.0
    days: int = 1
    hours: int = 0
    drops: dict[int, float] = {}
    min_at_most: float | None = None
    source: str
    summary_zh: str
    summary_en: str

    @model_validator(mode="after")
    def _complete(self) -> ThresholdRule:
        if self.measure is Measure.MIN_DROP and (not self.drops or self.min_at_most is None):
            raise ValueError(f"{self.id}: a min_drop rule needs drops and min_at_most")
        if self.measure is Measure.MIN_DROP and any(hours % 24 for hours in self.drops):
            raise ValueError(f"{self.id}: daily minima drop over whole days (24, 48, 72 hours)")
        if self.measure is Measure.RAIN_SUM and self.hours < 1:
            raise ValueError(f"{self.id}: a rain_sum rule needs hours")
        if self.days < 1:
            raise ValueError(f"{self.id}: days must be at least 1")
        return self


class ThresholdTable(_Model):
    comment: str = ""
    rules: tuple[ThresholdRule, ...]


@dataclass(frozen=True)
class ForecastSeries:
    """One place's forecast. Hourly values are for the hour ending at the time (Open-Meteo's convention);
    days are local calendar days in `tz`. Missing values are None."""

    tz: tzinfo
    hours: tuple[datetime, ...] = ()
    precipitation_mm: tuple[float | None, ...] = ()
    gusts_ms: tuple[float | None, ...] = ()
    days: tuple[date, ...] = ()
    daily_max: tuple[float | None, ...] = ()
    daily_min: tuple[float | None, ...] = ()

    def day_start(self, index: int) -> datetime:
        day = self.days[index]
        return datetime(day.year, day.month, day.day, tzinfo=self.tz)


class ForecastFinding(_Model):
    kind: WarningKind
    level: WarningLevel
    rule_id: str
    onset: datetime
    expires: datetime
    observed: float  # the decisive measurement: °C, °C of drop, mm or m/s
    threshold: float


def evaluate(
    series: ForecastSeries, rules: Iterable[ThresholdRule], now: datetime, lookahead: timedelta
) -> list[ForecastFinding]:
    """The strongest finding of each kind whose onset lies within `lookahead` and that has not yet ended."""
    best: dict[WarningKind, ForecastFinding] = {}
    for rule in rules:
        finding = _measure(series, rule, now)
        if finding is None or finding.onset >= now + lookahead or finding.expires <= now:
            continue
        current = best.get(rule.kind)
        if current is None or (finding.level.rank, -finding.onset.timestamp()) > (
            current.level.rank,
            -current.onset.timestamp(),
        ):
            best[rule.kind] = finding
    return sorted(best.values(), key=lambda f: list(WarningKind).index(f.kind))


def _measure(series: ForecastSeries, rule: ThresholdRule, now: datetime) -> ForecastFinding | None:
    if rule.measure is Measure.DAILY_MAX:
        return _daily_max(series, rule, now)
    if rule.measure is Measure.MIN_DROP:
        return _min_drop(series, rule, now)
    if rule.measure is Measure.RAIN_SUM:
        return _rain_sum(series, rule, now)
    return _gust(series, rule, now)


def _finding(
    rule: ThresholdRule, onset: datetime, expires: datetime, observed: float, threshold: float
) -> ForecastFinding:
    return ForecastFinding(
        kind=rule.kind,
        level=rule.level,
        rule_id=rule.id,
        onset=onset,
        expires=expires,
        observed=round(observed, 1),
        threshold=threshold,
    )


def _daily_max(series: ForecastSeries, rule: ThresholdRule, now: datetime) -> ForecastFinding | None:
    run: list[int] = []
    for i in range(len(series.days)):
        if series.day_start(i) + DAY <= now:
            continue
        value = series.daily_max[i]
        if value is not None and value >= rule.value:
            run.append(i)
        elif len(run) >= rule.days:
            break
        else:
            run = []
    if len(run) < rule.days:
        return None
    observed = max(v for v in (series.daily_max[i] for i in run) if v is not None)
    return _finding(rule, series.day_start(run[0]), series.day_start(run[-1]) + DAY, observed, rule.value)


def _min_drop(series: ForecastSeries, rule: ThresholdRule, now: datetime) -> ForecastFinding | None:
    assert rule.min_at_most is not None
    lows = series.daily_min
    for d in range(len(series.days)):
        low = lows[d]
        if series.day_start(d) + DAY <= now or low is None or low > rule.min_at_most:
            continue
        for hours, drop in sorted(rule.drops.items()):
            back = d - hours // 24
            before = lows[back] if back >= 0 else None
            if before is not None and _tenths(before - low) >= drop:
                onset = max(series.day_start(back + 1), _floor_hour(now))
                return _finding(rule, onset, series.day_start(d) + DAY, _tenths(before - low), drop)
    return None


def _rain_sum(series: ForecastSeries, rule: ThresholdRule, now: datetime) -> ForecastFinding | None:
    rain = [value or 0.0 for value in series.precipitation_mm]
    ahead = [i for i, hour in enumerate(series.hours) if hour > now]
    hits: list[tuple[int, float]] = []
    for end in ahead:
        start = max(end - rule.hours + 1, ahead[0])
        total = _tenths(sum(rain[start : end + 1]))
        if total >= rule.value:
            hits.append((end, total))
    if not hits:
        return None
    first_end = hits[0][0]
    onset = series.hours[max(first_end - rule.hours + 1, ahead[0])] - HOUR
    return _finding(rule, onset, series.hours[hits[-1][0]], max(t for _, t in hits), rule.value)


def _gust(series: ForecastSeries, rule: ThresholdRule, now: datetime) -> ForecastFinding | None:
    hits = [
        (series.hours[i], value)
        for i, value in enumerate(series.gusts_ms)
        if value is not None and value >= rule.value and series.hours[i] > now
    ]
    if not hits:
        return None
    return _finding(rule, hits[0][0] - HOUR, hits[-1][0], max(v for _, v in hits), rule.value)


def _tenths(value: float) -> float:
    # Forecasts come in tenths; without this 12.1 - 4.1 = 7.999… would miss an 8 °C threshold.
    return round(value, 1)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
