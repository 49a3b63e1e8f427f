"""A list shown a page at a time: a stale "next page" press lands on the nearest page there is, and says so."""

from __future__ import annotations

from bot.domain.paging import page_of, page_within


def test_a_page_holds_its_share_and_the_count_of_pages_rounds_up() -> None:
    cut = page_of(list(range(17)), 2, 8)
    assert (cut.items, cut.page, cut.pages, cut.total, cut.clamped) == ([16], 2, 3, 17, False)


def test_a_page_no_longer_there_is_the_last_one_and_says_so() -> None:
    cut = page_of(list(range(9)), 6, 8)
    assert (cut.items, cut.page, cut.clamped) == ([8], 1, True)
    assert page_of(list(range(9)), -1, 8).page == 0


def test_an_empty_list_has_one_empty_page() -> None:
    cut = page_of(list[int](), 3, 8)
    assert (cut.items, cut.page, cut.pages, cut.total, cut.clamped) == ([], 0, 1, 0, True)
    assert page_within(3, 0, 8) == 0 and page_within(1, 16, 8) == 1 and page_within(2, 16, 8) == 1
