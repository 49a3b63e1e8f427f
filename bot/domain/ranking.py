"""Monthly rankings and the notice (通报) that publicises the best and names the negative list (负面清单).

The seed's reward-and-penalty mechanism ("good examples publicised; negative ones notified") needs an order that
anyone can check by hand, so the ranking is lexicographic, not a weighted score:

1. overdue hazards, fewer first (dynamic zeroing): for a period that has ended, those overdue at its end, whenever
   found; for the current one, those overdue now. A place with one must not rank above places with none for having
   closed something on time, and a place that closed nothing yet has no on-time rate to lose;
2. on-time rectification rate of the period's hazards, higher first (the closed loop is the core of the work);
3. monthly self-inspection completion (三(一) 每月开展内部隐患自查自纠), higher first: the duty a monthly ranking is
   most about;
4. fire-drill compliance, higher first;
5. warning acknowledgement rate, higher first.
A rate with nothing to measure (no hazard closed, no self-inspection owed, no warning sent) sorts after every
measured rate at its step, neither rewarded nor punished.

Equal standings share a place (standard competition ranking: 1, 2, 2, 4), marked tied, and are listed by code only
so that they always list in the same order: a ranking sent to the groups in a notice must not put one county below
another for its region code. A place with nothing measured at all (no rate to compute and nothing overdue) is not
ranked: it is listed after the ranked ones, without a number, rather than placed last for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.domain.stats import Ratio

BEST_COUNT = 3
# The share of each duty a place must have done to be praised: high enough that praise means the duties are met,
# short of 100% so that one institution's missed month among a county's dozens does not bar the county for good.
PRAISE_RATE = 0.9
LIST_LIMIT = 10  # names per list in a notice: a chat message has room for about this many
T = TypeVar("T")


@dataclass(frozen=True)
class Standing:
    code: str  # a county's region code, or an institution's id
    on_time: Ratio
    overdue: int
    drills: Ratio
    acks: Ratio
    inspections: Ratio = field(default_factory=Ratio)  # monthly self-inspections finished / owed in the period


def _rate_key(ratio: Ratio) -> tuple[bool, float]:
    rate = ratio.rate
    return rate is None, -(rate or 0.0)


def ranking_key(standing: Standing) -> tuple[object, ...]:
    """What a place is decided by, in the module docstring's order; equal keys are a tie (the code is no part of
    it)."""
    return (
        standing.overdue,
        _rate_key(standing.on_time),
        _rate_key(standing.inspections),
        _rate_key(standing.drills),
        _rate_key(standing.acks),
    )


def measured(standing: Standing) -> bool:
    """Whether there is anything to rank it by: a rate with something to measure, or hazards overdue."""
    rates = (standing.on_time, standing.inspections, standing.drills, standing.acks)
    return standing.overdue > 0 or any(ratio.rate is not None for ratio in rates)


def rank(standings: Iterable[Standing]) -> list[Standing]:
    """The ranked order: the measured by their key (a tie by code, for a stable listing), then the unmeasured."""
    return sorted(standings, key=lambda s: (not measured(s), ranking_key(s), s.code))


@dataclass(frozen=True)
class Placed:
    standing: Standing
    place: int | None  # 1, 2, 2, 4 …; None for a place with nothing measured, which is not ranked
    tied: bool  # another ranked place has the same key


def places(ranked: Sequence[Standing]) -> list[Placed]:
    """Each standing of a ranking (in `rank`'s order, where equal keys are side by side) with its place: one more
    than the number of standings ahead of it with a better key, so that equal keys share a place and the next
    place skips as many (1, 2, 2, 4)."""
    keys = [ranking_key(s) if measured(s) else None for s in ranked]
    placed: list[Placed] = []
    for index, (standing, key) in enumerate(zip(ranked, keys, strict=True)):
        if key is None:
            placed.append(Placed(standing, None, False))
            continue
        as_before = index > 0 and keys[index - 1] == key
        as_after = index + 1 < len(keys) and keys[index + 1] == key
        place = placed[-1].place if as_before else index + 1
        placed.append(Placed(standing, place, as_before or as_after))
    return placed


def praised(standing: Standing) -> bool:
    """Whether a place has earned public praise (通报表扬): nothing overdue, hazards closed in the period, and each
    duty measured done at PRAISE_RATE or more: the on-time rate, the monthly self-inspections, the fire drills and
    the warning acknowledgements. Ranking first is not enough: a county with nothing overdue but none of its
    self-inspections or drills done is first among its peers, and praising it would tell the others the duties do
    not count. A duty with nothing owed in the period (no rate) neither earns nor withholds praise."""
    rates = (standing.on_time, standing.inspections, standing.drills, standing.acks)
    return (
        standing.overdue == 0
        and standing.on_time.rate is not None
        and all(ratio.rate is None or ratio.rate >= PRAISE_RATE for ratio in rates)
    )


def best_performers(ranked: Sequence[Standing], count: int = BEST_COUNT) -> list[Standing]:
    """The top of the ranking that has earned praise (`praised`); the first `count` of them, and any tied with the
    last of those (a tie is never split by region code)."""
    earned = [p for p in places(ranked) if praised(p.standing)]
    if len(earned) > count:
        last = earned[count - 1].place
        earned = earned[:count] + [p for p in earned[count:] if p.place == last]
    return [p.standing for p in earned]


@dataclass(frozen=True)
class Listed(Generic[T]):
    """A list for a notice: the first `LIST_LIMIT` entries and how many there are in all."""

    items: tuple[T, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def listed(items: Sequence[T], total: int | None = None, limit: int = LIST_LIMIT) -> Listed[T]:
    return Listed(tuple(items[:limit]), len(items) if total is None else total)
