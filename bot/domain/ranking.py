"""Monthly rankings and the notice (通报) that publicises the best and names the negative list (负面清单).

The seed's reward-and-penalty mechanism ("good examples publicised; negative ones notified") needs an order that
anyone can check by hand, so the ranking is lexicographic, not a weighted score:

1. on-time rectification rate, higher first (the closed loop is the core of the work);
2. overdue hazards now, fewer first (dynamic zeroing);
3. fire-drill compliance, higher first;
4. warning acknowledgement rate, higher first;
then the code, so that equal standings always list in the same order. A rate with nothing to measure (no hazard
closed, no warning sent) sorts after every measured rate at its step, neither rewarded nor punished.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.domain.stats import Ratio

BEST_COUNT = 3
LIST_LIMIT = 10  # names per list in a notice: a chat message has room for about this many
T = TypeVar("T")


@dataclass(frozen=True)
class Standing:
    code: str  # a county's region code, or an institution's id
    on_time: Ratio
    overdue: int
    drills: Ratio
    acks: Ratio


def _rate_key(ratio: Ratio) -> tuple[bool, float]:
    rate = ratio.rate
    return rate is None, -(rate or 0.0)


def ranking_key(standing: Standing) -> tuple[object, ...]:
    return (
        _rate_key(standing.on_time),
        standing.overdue,
        _rate_key(standing.drills),
        _rate_key(standing.acks),
        standing.code,
    )


def rank(standings: Iterable[Standing]) -> list[Standing]:
    return sorted(standings, key=ranking_key)


def best_performers(ranked: Sequence[Standing], count: int = BEST_COUNT) -> list[Standing]:
    """The top of the ranking that has earned praise: something measured, and nothing overdue."""
    return [s for s in ranked if s.on_time.rate is not None and s.overdue == 0][:count]


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
