"""Fuzzing the forecast reader: Open-Meteo answers bent by hypothesis (values, times and units replaced or dropped,
series cut short, odd numbers where numbers go). Reading one either refuses it with a ValueError, which the forecast
job records for that county and goes on with the next, or gives a series the rules can judge, whose findings are
real measurements. Anything else would stop the job for every county until the forecast changed.

CI runs 200 answers, derandomized (≈ 2 s); SAFETY_FULL_SUITES=1 runs 3,000 random ones.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is a dev dependency of the fuzzing suites")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bot.domain.forecast_rules import evaluate  # noqa: E402
from bot.services.forecast import parse_open_meteo  # noqa: E402
from bot.services.warning_settings import WarningSettings, load_thresholds  # noqa: E402
from tests.resilience.suite import FULL, sized  # noqa: E402
from tests.warnings.conftest import open_meteo  # noqa: E402

RULES = load_thresholds(WarningSettings().thresholds_path).rules
NOW = datetime(2026, 9, 10, 1, tzinfo=UTC)
CALM = open_meteo(date(2026, 9, 10), daily_max=[36.0, 37.5, 40.5, 35, 30, 30, 30], gusts={30: 25.0}, rain={20: 60.0})

NUMBERS = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30), st.booleans(),
    st.sampled_from([35.5, 37.1, 40.2, -5.0, 80.0, 0, 1e308]), st.text(max_size=3),
)
TIMES = st.one_of(st.sampled_from(["2026-09-10", "2026-09-10T00:00", "2026-13-45", "", "x"]), st.text(max_size=12),
                  st.none(), st.integers())
UNITS = st.sampled_from(["°F", "km/h", "mph", "inch", "", "°C", None, 5])


@st.composite
def bent(draw: st.DrawFn) -> dict[str, Any]:
    """Open-Meteo's answer with one to six things changed."""
    data: dict[str, Any] = json.loads(json.dumps(CALM))
    for _ in range(draw(st.integers(1, 6))):
        block = draw(st.sampled_from(["hourly", "daily", "hourly_units", "daily_units", "top"]))
        if block == "top":
            key = draw(st.sampled_from(["utc_offset_seconds", "hourly", "daily", "error", "reason"]))
            data[key] = draw(st.one_of(NUMBERS, st.just({}), st.just([])))
            continue
        target = data.get(block)
        if not isinstance(target, dict) or not target:
            continue
        key = draw(st.sampled_from(sorted(target)))
        change = draw(st.sampled_from(["value", "drop", "shorten", "unit"]))
        values = target[key]
        if change == "drop":
            del target[key]
        elif change == "shorten" and isinstance(values, list):
            target[key] = values[: draw(st.integers(0, len(values)))]
        elif change == "unit":
            target[key] = draw(UNITS)
        elif isinstance(values, list) and values:
            values[draw(st.integers(0, len(values) - 1))] = draw(TIMES if key == "time" else NUMBERS)
    return data


def _with(path: tuple[str, ...], value: object) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(CALM))
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


@settings(max_examples=sized(200, 3000), derandomize=not FULL, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bent())
# Found by this fuzzer: an offset past what a time offset holds raised OverflowError, which ended the whole run.
@example(_with(("utc_offset_seconds",), 10**20))
# Python reads Infinity in JSON; a draft said the day would reach inf °C.
@example(_with(("daily", "temperature_2m_max", "2"), math.inf))
def test_a_bent_forecast_is_refused_or_judged_never_a_crash(data: dict[str, Any]) -> None:
    try:
        series = parse_open_meteo(data)
    except ValueError:
        return  # the job records it for this county (IgnoreReason.INVALID) and goes on with the next
    for finding in evaluate(series, RULES, NOW, timedelta(days=3)):
        assert math.isfinite(finding.observed), finding
