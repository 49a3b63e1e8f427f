"""Days and deadlines as people type them in chat: with or without the year, as a word, with a time of day."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.days import NoSuchDay, Toward, names_year, parse_day, parse_deadline, parse_time, parse_typed_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    "typed",
    ["2026-12-20", "2026/12/20", "2026.12.20", "2026年12月20日", " 2026 年 12 月 20 日 ", "12月20日", "12月20号",
     "12/20", "12-20", "12.20", "12月20"],
)
def test_the_same_day_written_each_way(typed: str) -> None:
    assert parse_typed_day(typed, TODAY, Toward.FUTURE) == date(2026, 12, 20)


@pytest.mark.parametrize(
    ("typed", "day"),
    [("今天", TODAY), ("today", TODAY), ("Today", TODAY), ("今日", TODAY), ("昨天", date(2026, 6, 14)),
     ("yesterday", date(2026, 6, 14)), ("YESTERDAY", date(2026, 6, 14)), ("前天", date(2026, 6, 13)),
     ("明天", date(2026, 6, 16)), ("tomorrow", date(2026, 6, 16)), ("后天", date(2026, 6, 17))],
)
def test_words_count_from_the_callers_today(typed: str, day: date) -> None:
    assert parse_typed_day(typed, TODAY, Toward.PAST) == day
    assert parse_typed_day(typed, TODAY, Toward.FUTURE) == day


def test_a_day_without_its_year_is_the_next_one_ahead_and_the_last_one_behind() -> None:
    # Ahead (a deadline): a day still to come this year stays this year, a day gone is next year's.
    assert parse_typed_day("12月20日", TODAY, Toward.FUTURE) == date(2026, 12, 20)
    assert parse_typed_day("3/5", TODAY, Toward.FUTURE) == date(2027, 3, 5)
    # Behind (a drill held): a day gone is this year's, a day still to come was last year's.
    assert parse_typed_day("3月5日", TODAY, Toward.PAST) == date(2026, 3, 5)
    assert parse_typed_day("12/20", TODAY, Toward.PAST) == date(2025, 12, 20)
    # Today itself is on both sides.
    assert parse_typed_day("6月15日", TODAY, Toward.FUTURE) == TODAY
    assert parse_typed_day("6月15日", TODAY, Toward.PAST) == TODAY
    # A leap day is found in the nearest year that has one on that side, or not at all.
    assert parse_typed_day("2月29日", date(2027, 6, 1), Toward.FUTURE) == date(2028, 2, 29)
    assert parse_typed_day("2月29日", date(2025, 6, 1), Toward.PAST) == date(2024, 2, 29)
    assert parse_typed_day("2月29日", date(2026, 6, 1), Toward.FUTURE) == NoSuchDay(2, 29, 2027)


@pytest.mark.parametrize(
    "typed",
    ["", "25", "next fridays", "周八", "下周", "2026-13-01", "13/20", "9/32", "5/03/2026", "2026-12-201",
     "明天 18:00", "todays", "12月20日 下午", "18:00"],
)
def test_anything_else_is_no_day(typed: str) -> None:
    assert parse_typed_day(typed, TODAY, Toward.PAST) is None


def test_a_deadline_typed_as_a_day_alone_runs_to_the_end_of_that_day_in_the_citys_zone() -> None:
    assert parse_deadline(" 2026-12-20 ", TODAY, SHANGHAI) == datetime(2026, 12, 20, 23, 59, tzinfo=SHANGHAI)
    assert parse_deadline("明天", TODAY, SHANGHAI) == datetime(2026, 6, 16, 23, 59, tzinfo=SHANGHAI)
    assert parse_deadline("3月5日", TODAY, SHANGHAI) == datetime(2027, 3, 5, 23, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("typed", "deadline"),
    [("2026-03-15 18:30", datetime(2026, 3, 15, 18, 30)), ("2026/3/15 8:05", datetime(2026, 3, 15, 8, 5)),
     ("12月20日 18:00", datetime(2026, 12, 20, 18, 0)), ("12月20日18点", datetime(2026, 12, 20, 18, 0)),
     ("明天下午6点", datetime(2026, 6, 16, 18, 0)), ("明天 上午9点半", datetime(2026, 6, 16, 9, 30)),
     ("后天18点30分", datetime(2026, 6, 17, 18, 30)), ("tomorrow 6pm", datetime(2026, 6, 16, 18, 0)),
     ("today 17：30", datetime(2026, 6, 15, 17, 30)), ("12/20 6:30 am", datetime(2026, 12, 20, 6, 30))],
)
def test_a_deadline_may_name_its_time_of_day(typed: str, deadline: datetime) -> None:
    assert parse_deadline(typed, TODAY, SHANGHAI) == deadline.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "typed", ["next fridays", "5/03/2026", "", "明天 25:00", "明天 18:60", "明天 下午", "tomorrow 13pm",
              "2026-12-20T18:00", "18:00"],
)
def test_a_deadline_that_cannot_be_read_is_none(typed: str) -> None:
    assert parse_deadline(typed, TODAY, SHANGHAI) is None


def test_times_of_day() -> None:
    assert parse_time("0:00") == time(0, 0)
    assert parse_time("12pm") == time(12, 0)
    assert parse_time("12am") == time(0, 0)
    assert parse_time("中午12点") == time(12, 0)
    assert parse_time("中午1点") == time(13, 0)
    assert parse_time("晚上8点") == time(20, 0)
    assert parse_time("20点") == time(20, 0)
    assert parse_time("24:00") is None


def test_twelve_at_night_is_midnight_not_noon() -> None:
    """晚上12点 ends the evening's day, as a day alone does; before, it was read as noon of that day."""
    assert parse_time("晚上12点") == time(23, 59)
    assert parse_time("午夜12点") == time(23, 59)
    assert parse_time("凌晨12点") == time(0, 0)
    assert parse_time("晚上12点半") is None  # the next day's, which a time of day cannot say: asked again
    assert parse_time("夜里11点") == time(23, 0)
    assert parse_time("半夜2点") == time(2, 0)
    assert parse_deadline("明天晚上12点", TODAY, SHANGHAI) == datetime(2026, 6, 16, 23, 59, tzinfo=SHANGHAI)


def test_the_day_first_is_read_where_it_cannot_be_a_month() -> None:
    """20/12 and 15/03/2026 as British writers put them; 5/12 stays 5月12日, as Chinese writes it."""
    assert parse_deadline("20/12", TODAY, SHANGHAI) == datetime(2026, 12, 20, 23, 59, tzinfo=SHANGHAI)
    assert parse_deadline("15/03/2026 18:00", TODAY, SHANGHAI) == datetime(2026, 3, 15, 18, 0, tzinfo=SHANGHAI)
    assert parse_deadline("5/12", TODAY, SHANGHAI) == datetime(2027, 5, 12, 23, 59, tzinfo=SHANGHAI)
    assert parse_deadline("31/2", TODAY, SHANGHAI) == NoSuchDay(2, 31)
    assert parse_typed_day("20/5", TODAY, Toward.PAST) == date(2026, 5, 20)
    assert names_year("15/03/2026") and not names_year("20/12")


def test_a_spreadsheet_cell_still_needs_its_year_and_may_carry_a_time() -> None:
    assert parse_day("2026/3/5") == date(2026, 3, 5)
    assert parse_day("2026-03-05 00:00:00", with_time=True) == date(2026, 3, 5)
    assert parse_day("2026-03-05 00:00:00") is None
    assert parse_day("3/5") is None
    assert parse_day("今天") is None


@pytest.mark.parametrize(
    "typed",
    ["Sep 20", "20 Sep", "September 20", "20 September", "sept 20", "SEP 20", "Sep. 20", "Sep 20th", "20th Sep",
     "20 of September", "Sep20", " Sep 20 "],
)
def test_an_english_month_name_before_or_after_the_day(typed: str) -> None:
    assert parse_typed_day(typed, TODAY, Toward.FUTURE) == date(2026, 9, 20)
    assert parse_typed_day(typed, TODAY, Toward.PAST) == date(2025, 9, 20)


def test_an_english_month_name_with_its_year_or_a_time() -> None:
    assert parse_typed_day("Sep 20, 2027", TODAY, Toward.FUTURE) == date(2027, 9, 20)
    assert parse_typed_day("20 September 2025", TODAY, Toward.FUTURE) == date(2025, 9, 20)
    assert parse_typed_day("Mar 5", TODAY, Toward.FUTURE) == date(2027, 3, 5)
    assert parse_typed_day("May 3", TODAY, Toward.PAST) == date(2026, 5, 3)
    assert parse_deadline("Sep 20 18:00", TODAY, SHANGHAI) == datetime(2026, 9, 20, 18, 0, tzinfo=SHANGHAI)
    assert parse_deadline("20 Sep 6pm", TODAY, SHANGHAI) == datetime(2026, 9, 20, 18, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "typed", ["Sept", "September", "Sep 2026", "Sepx 20", "20 Septx", "May need more time",
              "March on 5", "Sep 20 and more"],
)
def test_an_english_month_name_that_names_no_day_is_none(typed: str) -> None:
    assert parse_typed_day(typed, TODAY, Toward.FUTURE) is None


def test_whether_a_day_was_written_with_its_year() -> None:
    assert names_year("2026-12-20") and names_year("2026年12月20日 18点") and names_year("Sep 20, 2026")
    assert not names_year("12月20日") and not names_year("Sep 20") and not names_year("明天") and not names_year("x")


# 2026-06-17 is a Wednesday: its week runs from Monday 15 to Sunday 21 June.
WEDNESDAY = date(2026, 6, 17)


@pytest.mark.parametrize(
    ("typed", "ahead", "behind"),
    [
        # A weekday alone is the nearest one on the parser's side, today included (as 6月17日 would be).
        ("周五", date(2026, 6, 19), date(2026, 6, 12)), ("星期五", date(2026, 6, 19), date(2026, 6, 12)),
        ("礼拜五", date(2026, 6, 19), date(2026, 6, 12)), ("周一", date(2026, 6, 22), date(2026, 6, 15)),
        ("周日", date(2026, 6, 21), date(2026, 6, 14)), ("周天", date(2026, 6, 21), date(2026, 6, 14)),
        ("星期日", date(2026, 6, 21), date(2026, 6, 14)), ("星期天", date(2026, 6, 21), date(2026, 6, 14)),
        ("周三", WEDNESDAY, WEDNESDAY), ("friday", date(2026, 6, 19), date(2026, 6, 12)),
        ("Friday", date(2026, 6, 19), date(2026, 6, 12)), ("fri", date(2026, 6, 19), date(2026, 6, 12)),
        ("wednesday", WEDNESDAY, WEDNESDAY),
        # A week named: that weekday in the next, the previous or this calendar week, whatever the side.
        ("下周五", date(2026, 6, 26), date(2026, 6, 26)), ("下星期五", date(2026, 6, 26), date(2026, 6, 26)),
        ("下个星期一", date(2026, 6, 22), date(2026, 6, 22)), ("下周日", date(2026, 6, 28), date(2026, 6, 28)),
        ("上周五", date(2026, 6, 12), date(2026, 6, 12)), ("上星期五", date(2026, 6, 12), date(2026, 6, 12)),
        ("上周一", date(2026, 6, 8), date(2026, 6, 8)),
        ("本周五", date(2026, 6, 19), date(2026, 6, 19)), ("这周五", date(2026, 6, 19), date(2026, 6, 19)),
        ("本周一", date(2026, 6, 15), date(2026, 6, 15)),
        ("next friday", date(2026, 6, 26), date(2026, 6, 26)), ("NEXT FRIDAY", date(2026, 6, 26), date(2026, 6, 26)),
        ("last friday", date(2026, 6, 12), date(2026, 6, 12)), ("this friday", date(2026, 6, 19), date(2026, 6, 19)),
        ("this monday", date(2026, 6, 15), date(2026, 6, 15)),
    ],
)
def test_a_weekday_alone_or_in_a_named_week(typed: str, ahead: date, behind: date) -> None:
    assert parse_typed_day(typed, WEDNESDAY, Toward.FUTURE) == ahead
    assert parse_typed_day(typed, WEDNESDAY, Toward.PAST) == behind


def test_a_weekday_on_a_sunday_belongs_to_the_week_that_ends_that_day() -> None:
    sunday = date(2026, 6, 21)
    assert parse_typed_day("周日", sunday, Toward.FUTURE) == sunday
    assert parse_typed_day("本周一", sunday, Toward.PAST) == date(2026, 6, 15)
    assert parse_typed_day("下周一", sunday, Toward.FUTURE) == date(2026, 6, 22)


def test_a_deadline_on_a_weekday_may_name_its_time() -> None:
    assert parse_deadline("周五下午6点", WEDNESDAY, SHANGHAI) == datetime(2026, 6, 19, 18, 0, tzinfo=SHANGHAI)
    assert parse_deadline("下周一 18:00", WEDNESDAY, SHANGHAI) == datetime(2026, 6, 22, 18, 0, tzinfo=SHANGHAI)
    assert parse_deadline("next friday 6pm", WEDNESDAY, SHANGHAI) == datetime(2026, 6, 26, 18, 0, tzinfo=SHANGHAI)
    assert parse_deadline("friday", WEDNESDAY, SHANGHAI) == datetime(2026, 6, 19, 23, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("typed", "missing"),
    [("9月31日", NoSuchDay(9, 31)), ("2月30日", NoSuchDay(2, 30)), ("9/31", NoSuchDay(9, 31)),
     ("Sep 31", NoSuchDay(9, 31)), ("31 September", NoSuchDay(9, 31)), ("Feb 30", NoSuchDay(2, 30)),
     ("2026-02-30", NoSuchDay(2, 30, 2026)), ("2026年2月29日", NoSuchDay(2, 29, 2026)),
     ("Feb 29 2026", NoSuchDay(2, 29, 2026))],
)
def test_a_day_written_as_one_that_does_not_exist_is_told_apart_from_no_day(typed: str, missing: NoSuchDay) -> None:
    assert parse_typed_day(typed, TODAY, Toward.PAST) == missing
    assert parse_typed_day(typed, TODAY, Toward.FUTURE) == missing
    assert parse_deadline(typed, TODAY, SHANGHAI) == missing
    assert parse_deadline(f"{typed} 18:00", TODAY, SHANGHAI) == missing
