"""Answers typed where a list, a number or an address is asked for (bot/domain/text.py)."""

from __future__ import annotations

import pytest

from bot.domain.text import (
    duration_minutes,
    is_plausible_address,
    people_count,
    said_in_hours,
    said_in_words,
    says_enough_measures,
    several_numbers,
    single_number,
    split_numbered_line,
)


@pytest.mark.parametrize(
    ("line", "items"),
    [
        ("1、灭火器压力不足 2、疏散指示灯不亮", ["灭火器压力不足", "疏散指示灯不亮"]),
        ("1、灭火器压力不足2、疏散指示灯不亮3、电线老化", ["灭火器压力不足", "疏散指示灯不亮", "电线老化"]),
        ("1. 灭火器压力不足；2. 疏散指示灯不亮", ["灭火器压力不足", "疏散指示灯不亮"]),
        ("1) 灭火器压力不足 2) 疏散指示灯不亮", ["灭火器压力不足", "疏散指示灯不亮"]),
        ("（1）灭火器压力不足（2）疏散指示灯不亮", ["灭火器压力不足", "疏散指示灯不亮"]),
        ("①灭火器压力不足 ②疏散指示灯不亮", ["灭火器压力不足", "疏散指示灯不亮"]),
        ("1、共2、3楼灭火器过期 2、疏散指示灯不亮", ["共2、3楼灭火器过期", "疏散指示灯不亮"]),
        ("1.走廊宽1.5米被占 2.疏散指示灯不亮", ["走廊宽1.5米被占", "疏散指示灯不亮"]),
    ],
)
def test_a_list_numbered_on_one_line_is_its_items(line: str, items: list[str]) -> None:
    assert split_numbered_line(line) == items


@pytest.mark.parametrize(
    "line",
    [
        "检查发现共2、3楼灭火器过期",  # does not start with 1
        "1、灭火器压力不足",  # one item only
        "1、灭火器压力不足 3、疏散指示灯不亮",  # not in order
        "1、灭火器压力不足 2. 疏散指示灯不亮",  # two styles: not one list
        "12、灭火器压力不足 2、疏散指示灯不亮",  # 12 is not 1
    ],
)
def test_ordinary_text_is_not_cut(line: str) -> None:
    assert split_numbered_line(line) == [line]


@pytest.mark.parametrize(
    ("text", "number"),
    [("35", 35), ("35人", 35), ("全体员工和老人共40人", 40), ("约 45 分钟", 45), ("１２人", 12)],
)
def test_the_one_number_in_an_answer_is_read(text: str, number: int) -> None:
    assert single_number(text) == number


@pytest.mark.parametrize("text", ["", "很多人", "1小时30分钟", "2个小时", "1.5", "20到30人", "1234567"])
def test_no_number_or_several_or_hours_are_not_read(text: str) -> None:
    assert single_number(text) is None


@pytest.mark.parametrize(
    ("text", "number"),
    [("35人", 35), ("三十人", 30), ("四十五人", 45), ("一百二十人", 120), ("三十", 30), ("共二十名", 20),
     ("大约三十人左右", 30), ("两位", 2), ("全体员工和老人共40人", 40)],
)
def test_people_are_counted_in_digits_or_whole_chinese_numerals(text: str, number: int) -> None:
    assert people_count(text) == number


@pytest.mark.parametrize(
    "text", ["三四十人", "几十人", "十几个人", "30多人", "一百五人", "很多人", "20到30人", "一起"],
)
def test_a_guessed_number_of_people_is_not_read(text: str) -> None:
    assert people_count(text) is None


@pytest.mark.parametrize(
    ("text", "minutes"), [("一刻钟", 15), ("三刻钟", 45), ("一小时一刻钟", 75), ("差不多1小时", 60)],
)
def test_quarters_of_an_hour_are_read(text: str, minutes: int) -> None:
    assert duration_minutes(text) == minutes


@pytest.mark.parametrize("text", ["一个多小时", "1小时多", "10多分钟", "半个多小时"])
def test_a_length_of_time_said_as_more_than_one_is_not_read(text: str) -> None:
    assert duration_minutes(text) is None


def test_an_address_says_something_one_could_walk_to() -> None:
    assert is_plausible_address("3号楼") and is_plausible_address("三楼") and is_plausible_address("Block B")
    for nothing in ("3", "3-", "12#", "A", " \u200b ", "。。"):
        assert not is_plausible_address(nothing), nothing


def test_measures_say_what_was_done() -> None:
    assert says_enough_measures("已清理杂物") and says_enough_measures("已清理") is False
    assert says_enough_measures("Cleared the corridor")
    for thin in ("好", "ok", "done", "已改", "\u200b好\u200b"):
        assert not says_enough_measures(thin), thin


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("40", 40), ("40分钟", 40), ("大约2小时", 120), ("2个小时", 120), ("1.5小时", 90), ("半小时", 30),
     ("1个半小时", 90), ("1小时30分钟", 90), ("2 hours", 120), ("约1.5 hrs左右", 90), ("half an hour", 30)],
)
def test_a_duration_in_hours_is_read_as_minutes(text: str, minutes: int) -> None:
    assert duration_minutes(text) == minutes
    assert said_in_hours(text) is (minutes != 40)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("两小时", 120), ("一个半小时", 90), ("半小时", 30), ("三十分钟", 30), ("一小时二十分", 80), ("1个半小时", 90),
     ("1.5小时", 90), ("两个小时", 120), ("两个半小时", 150), ("十二小时", 720), ("二十五分钟", 25),
     ("一百二十分钟", 120), ("一小时零五分", 65), ("1小时二十分钟", 80), ("大约一个半小时左右", 90), ("两个钟头", 120)],
)
def test_a_duration_in_chinese_numerals_is_read_as_digits_would_be(text: str, minutes: int) -> None:
    assert duration_minutes(text) == minutes
    assert said_in_words(text)


@pytest.mark.parametrize(
    "text",
    # Not one length: two numerals run together, a guess, a hundred and five or fifty, a numeral inside a word.
    ["一两个小时", "一两个半小时", "三四十分钟", "十几分钟", "几十分钟", "一百五分钟", "零小时", "几个小时"],
)
def test_chinese_numerals_that_say_no_one_length_are_none(text: str) -> None:
    assert duration_minutes(text) is None


def test_a_numeral_inside_a_word_is_no_number() -> None:
    assert duration_minutes("一起演练了40分钟") == 40 and not said_in_words("一起演练了40分钟")
    assert not said_in_words("40分钟") and not said_in_words("40")


@pytest.mark.parametrize("text", ["", "很久", "1小时和2小时", "0小时", "1.5", "20到30分钟", "2小时3"])
def test_what_says_no_one_length_of_time_is_none(text: str) -> None:
    assert duration_minutes(text) is None


@pytest.mark.parametrize(("text", "several"), [("全院共40人，其中老人30人", True), ("40-50人", True), ("40人", False),
                                               ("很多人", False)])
def test_several_numbers_are_told_apart_from_none(text: str, several: bool) -> None:
    assert several_numbers(text) is several
