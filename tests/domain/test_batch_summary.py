"""The county tally of a long reminder message (`bot.domain.batch_summary`): the end of a duty period read from its
key decides whether a line counts as missed or as still due."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.batch_summary import Topic, period_key_end, tally


@pytest.mark.parametrize(("key", "end"), [
    ("2026", date(2026, 12, 31)),
    ("2026-H1", date(2026, 6, 30)),
    ("2026-H2", date(2026, 12, 31)),
    ("2026-02", date(2026, 2, 28)),
    ("2028-02", date(2028, 2, 29)),
    ("2026-11", date(2026, 11, 30)),
    ("2026-12", date(2026, 12, 31)),  # not 2025-12-31: December's self-inspection is not missed all December
])
def test_a_periods_last_day_from_its_key(key: str, end: date) -> None:
    assert period_key_end(key) == end


def test_the_citys_own_first_then_the_counties_in_code_order() -> None:
    counties, city = ["330302", "330303"], "330300"
    places = [("330303001", Topic.NO_HEAD), ("330300", Topic.STUDY_OVERDUE), ("330302005", Topic.NO_HEAD),
              ("330302005", Topic.DRILL_OVERDUE), ("330399", Topic.SELFCHECK_DUE)]
    tallies = tally(places, counties, city)
    assert [t.code for t in tallies] == ["330300", "330302", "330303"]
    assert tallies[0].counts == ((Topic.SELFCHECK_DUE, 1), (Topic.STUDY_OVERDUE, 1))
    assert tallies[1].counts == ((Topic.DRILL_OVERDUE, 1), (Topic.NO_HEAD, 1)) and tallies[1].total == 2
