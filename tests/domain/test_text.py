"""What a typed text keeps and loses (bot/domain/text.py)."""

from __future__ import annotations

from bot.domain.secrecy import find_classification_mark
from bot.domain.text import clean_text, split_warning_text, visible_length


def test_controls_and_bidi_overrides_go_and_line_ends_become_newlines() -> None:
    assert clean_text("a\x00b\x07c\x7f\x9b d\u202ee\u202cf\u2066g\u2069") == "abc defg"
    assert clean_text("一\r\n二\r三\u2028四\u0085五\t六") == "一\n二\n三\n四\n五\t六"
    assert clean_text("\ud800坏\udfff") == "坏"  # lone surrogates, as a forged JSON escape can carry


def test_the_ends_lose_whitespace_and_invisible_characters_but_an_emoji_keeps_its_selector() -> None:
    assert clean_text(" \u200b\ufeff\u3000消防通道堵塞\u200b\u2060 \n") == "消防通道堵塞"
    assert clean_text("安全 ❤️") == "安全 ❤️"
    assert clean_text("\u200b" * 5) == "" and clean_text(None) == ""


def test_scripts_emoji_and_marks_of_direction_are_kept() -> None:
    for text in ("مخرج الطوارئ مسدود", "יציאת החירום חסומה", "👨\u200d👩\u200d👧 家庭", "A\u200fB", "灭火器过期"):
        assert clean_text(text) == text


def test_visible_length_counts_what_shows() -> None:
    assert visible_length("\u200b\u200c\u200d\u2060\ufeff\ufe0f\u00ad\u3164\u2800 \t\n") == 0
    assert visible_length("消防 通道") == 4 and visible_length("❤️") == 1 and visible_length("مخرج") == 4


def test_a_warning_splits_into_a_clean_headline_and_text() -> None:
    assert split_warning_text("\u200b暴雨预警\u202e \n\n注意防范\x00\n") == ("暴雨预警", "注意防范")
    assert split_warning_text("\u200b\n\u200b") == ("", "")


def test_the_secrecy_guard_still_sees_through_invisible_characters() -> None:
    assert find_classification_mark("机\u200b密\u2800文件") == "机密"


def test_typed_no_photo_answers_are_read_as_the_button() -> None:
    from bot.domain.text import says_no_photo

    for said in ("无", "没有", "没有照片。", " 跳过 ", "无照片", "None", "no", "Skip", "No  photo", "no photos!",
                 "完成"):
        assert says_no_photo(said), said
    for other in ("没有照片但有视频", "这是文字", "", None, "now", "无法拍照，门锁着"):
        assert not says_no_photo(other), other


def test_typed_no_location_answers_are_read_as_skip_and_an_address_is_not() -> None:
    from bot.domain.text import says_no_location

    for said in ("无", "没有", "不用", "跳过", "没有照片", "没有照片。", "不知道", "None", "no", "Skip", "don't know",
                 "完成"):
        assert says_no_location(said), said
    for other in ("没有门牌号的那栋楼", "二号楼一层洗衣房", "", None, "Noah's room", "无锡路 3 号"):
        assert not says_no_location(other), other
