"""Lists shown a page at a time (pickers, search results, the invitations still unused): which page a press lands
on, and what it holds.

A stale "next page" button, after the list shrank, lands on the last page there is rather than an empty one, and
says so (`clamped`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


def page_within(page: int, total: int, size: int) -> int:
    """`page` (0-based), or the nearest page there is for `total` items, `size` a page (page 0 when there are none)."""
    last = max(0, (total - 1) // size)
    return min(max(page, 0), last)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]  # this page's
    page: int  # 0-based, within the pages there are
    pages: int  # at least 1
    total: int
    clamped: bool  # the page asked for no longer exists (fewer items now): this is the nearest one


def page_of(items: Sequence[T], page: int, size: int) -> Page[T]:
    """Page `page` (0-based) of `items`, `size` a page; the nearest page there is when that one is not."""
    shown = page_within(page, len(items), size)
    pages = max(1, -(-len(items) // size))
    return Page(list(items[shown * size : (shown + 1) * size]), shown, pages, len(items), clamped=shown != page)
