from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.hazard_codes import format_hazard_code, parse_hazard_code


@pytest.mark.parametrize(
    ("day", "sequence", "code"),
    [
        (date(2026, 3, 1), 7, "YH-20260301-0007"),
        (date(2026, 3, 1), 1, "YH-20260301-0001"),
        (date(2026, 12, 31), 9999, "YH-20261231-9999"),
        (date(2026, 12, 31), 10000, "YH-20261231-10000"),
        (date(2026, 12, 31), 123456, "YH-20261231-123456"),
        (date(999, 1, 2), 1, "YH-09990102-0001"),
    ],
)
def test_format_and_parse_back(day: date, sequence: int, code: str) -> None:
    assert format_hazard_code(day, sequence) == code
    assert parse_hazard_code(code) == (day, sequence)


@pytest.mark.parametrize("sequence", [0, -1])
def test_sequence_starts_at_one(sequence: int) -> None:
    with pytest.raises(ValueError):
        format_hazard_code(date(2026, 3, 1), sequence)


@pytest.mark.parametrize(
    "text",
    ["yh-20260301-0007", "  YH-20260301-0007  ", "\tYh-20260301-0007\n", "\u3000YH-20260301-0007\u3000"],
)
def test_parse_forgives_case_and_surrounding_space(text: str) -> None:
    assert parse_hazard_code(text) == (date(2026, 3, 1), 7)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "YH",
        "YH-20260301-007",  # too short
        "YH-20260301-00007",  # not the canonical spelling of 7
        "YH-20260301-0000",  # sequences start at 1
        "YH-20260230-0001",  # no such day
        "YH-2026031-0001",
        "YH20260301-0007",
        "YH-20260301 0007",
        "YH - 20260301 - 0007",
        "XX-20260301-0007",
        "YH-20260301-0007 please",
        "see YH-20260301-0007",
        "YH-２０２６0301-0007",  # full-width digits
        "YH-20260301-000７",
        "YH-20260301-+007",
    ],
)
def test_parse_rejects_anything_else(text: str) -> None:
    assert parse_hazard_code(text) is None


def test_round_trip_over_a_year() -> None:
    start = date(2026, 1, 1)
    for offset in range(0, 366, 7):
        day = start + timedelta(days=offset)
        for sequence in (1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000):
            assert parse_hazard_code(format_hazard_code(day, sequence)) == (day, sequence)
