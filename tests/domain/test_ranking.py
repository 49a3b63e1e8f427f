"""Places in a ranking: equal standings share a place (1, 2, 2, 4), and a place with nothing measured is not ranked,
so that a notice sent to the groups never puts a county below another for its region code or for having nothing
to measure."""

from __future__ import annotations

from bot.domain.ranking import PRAISE_RATE, Standing, best_performers, measured, places, praised, rank
from bot.domain.stats import Ratio

NOTHING = Ratio()


def _places(standings: list[Standing]) -> list[tuple[str, int | None, bool]]:
    return [(p.standing.code, p.place, p.tied) for p in places(rank(standings))]


def test_equal_standings_share_a_place_and_the_next_place_skips_as_many() -> None:
    standings = [
        Standing("d", Ratio(1, 2), 0, Ratio(1, 1), NOTHING),
        Standing("c", Ratio(3, 4), 0, Ratio(1, 1), NOTHING),
        Standing("b", Ratio(3, 4), 0, Ratio(1, 1), NOTHING),
        Standing("a", Ratio(1, 1), 0, Ratio(1, 1), NOTHING),
    ]
    # b and c tie (the code only lists them in the same order every time); d is fourth, not third.
    assert _places(standings) == [("a", 1, False), ("b", 2, True), ("c", 2, True), ("d", 4, False)]


def test_a_tie_at_the_top_and_at_the_bottom() -> None:
    same = [Standing(code, NOTHING, 0, Ratio(0, 3), NOTHING) for code in ("330383", "330302", "330324")]
    assert _places(same) == [("330302", 1, True), ("330324", 1, True), ("330383", 1, True)]
    # One county measured better: the four alike (the lowest code among them too) share second place, none last.
    alike = Standing("330300", NOTHING, 0, Ratio(0, 3), NOTHING)
    better = Standing("330399", Ratio(1, 1), 0, Ratio(0, 3), NOTHING)
    assert _places([*same, alike, better]) == [
        ("330399", 1, False), ("330300", 2, True), ("330302", 2, True), ("330324", 2, True), ("330383", 2, True),
    ]


def test_a_place_with_nothing_measured_is_listed_after_the_ranked_without_a_place() -> None:
    empty = [Standing(code, NOTHING, 0, NOTHING, NOTHING) for code in ("330303", "330302")]
    overdue_only = Standing("330304", NOTHING, 2, NOTHING, NOTHING)
    assert not measured(empty[0]) and measured(overdue_only)
    assert _places([*empty, overdue_only]) == [("330304", 1, False), ("330302", None, False), ("330303", None, False)]
    # All of them unmeasured: none is ranked, none is last.
    assert all(place is None for _, place, _ in _places(empty))


def test_praise_never_splits_a_tie() -> None:
    perfect = [Standing(code, Ratio(2, 2), 0, Ratio(1, 1), NOTHING) for code in ("a", "b", "c", "d")]
    late = Standing("e", Ratio(1, 2), 0, Ratio(1, 1), NOTHING)
    assert [s.code for s in best_performers(rank([late, *perfect]))] == ["a", "b", "c", "d"]
    # Three places earned, the fourth is not tied with the third: three praised.
    assert [s.code for s in best_performers(rank([late, *perfect[:3]]))] == ["a", "b", "c"]
    assert best_performers(rank([Standing("x", NOTHING, 0, NOTHING, NOTHING)])) == []


def test_praise_asks_for_every_duty_done_not_only_the_first_place() -> None:
    """Nothing overdue and every hazard closed on time is not enough: a place that did none of its self-inspections
    or drills was praised for ranking first. Each measured duty must be done at PRAISE_RATE (90%) or more; one
    with nothing owed (no rate) neither earns nor withholds praise."""
    done = Standing("a", Ratio(1, 1), 0, Ratio(9, 10), Ratio(), inspections=Ratio(10, 10))
    no_drills = Standing("b", Ratio(1, 1), 0, Ratio(0, 4), Ratio(), inspections=Ratio(4, 4))
    no_inspections = Standing("c", Ratio(1, 1), 0, Ratio(4, 4), Ratio(), inspections=Ratio(1, 4))
    unanswered = Standing("d", Ratio(1, 1), 0, Ratio(4, 4), Ratio(1, 2), inspections=Ratio(4, 4))
    late = Standing("e", Ratio(8, 10), 0, Ratio(4, 4), Ratio(), inspections=Ratio(4, 4))
    nothing_owed = Standing("f", Ratio(1, 1), 0, Ratio(), Ratio(), inspections=Ratio())
    assert PRAISE_RATE == 0.9
    ranked = rank([done, no_drills, no_inspections, unanswered, late, nothing_owed])
    assert not praised(no_drills) and not praised(no_inspections) and not praised(unanswered) and not praised(late)
    assert [s.code for s in best_performers(ranked)] == ["a", "f"]
