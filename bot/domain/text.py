"""Free text as people type it: cleaned before it is stored or shown to anyone else, and measured by what shows.

A message can look filled in and not be: five zero-width spaces pass a five-character minimum, a NUL or another
control character is stored and echoed as typed, and a bidi override (U+202E) makes a hazard code or a name read
backwards in someone else's chat, inside our own sentences. So every free text a person types (a hazard's
description, a reason, the measures of a rectification, a note, a topic, a warning typed by staff) goes through
`clean_text` before it is kept, and its minimum counts `visible_length`, not raw characters.

What stays: letters of every script (Arabic and Hebrew read right to left by themselves, through the Unicode bidi
algorithm), emoji with their joiners and variation selectors, Chinese, newlines and tabs, and the plain marks of
direction (LRM, RLM, ALM), which only nudge neutral characters and cannot reorder a strong one.
What goes: control characters other than newline and tab, lone surrogates, and every explicit bidi embedding,
override or isolate (U+202A–U+202E, U+2066–U+2069). We remove them all, paired or not: a paired override still
reverses the letters between its ends (RLO "abc" PDF shows "cba"), which is exactly the trick that makes a code
read as another one, and ordinary typing never needs them, since right-to-left text shows correctly without them.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that take up no room: the soft hyphen, the combining grapheme joiner, the Arabic letter mark, Hangul
# fillers, Khmer and Mongolian invisibles, zero-width spaces and joiners, the marks and controls of direction, word
# joiners and invisible operators, variation selectors, the byte order mark, tags. A regex class body, shared with
# the secrecy guard, which lets them stand between the characters of a classification mark.
INVISIBLE = (
    r"\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    r"\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
# Explicit embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI).
_BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Line ends of every kind become "\n": CRLF, CR, NEL, and the line and paragraph separators.
_LINE_END = re.compile(r"\r\n|[\r\u0085\u2028\u2029]")
# What an emoji may end with, so never stripped from the end of a text: the zero-width joiner, variation selectors
# (❤️ is U+2764 U+FE0F) and tags (the flag of a region ends with U+E007F).
_EMOJI_TAIL = re.compile(r"[\u200d\ufe00-\ufe0f\U000e0020-\U000e007f\U000e0100-\U000e01ef]")
_KEPT_CONTROLS = frozenset("\n\t")


def clean_text(text: str | None) -> str:
    """The text without control characters (other than newline and tab), lone surrogates and bidi overrides,
    with its line ends as "\\n", and stripped of whitespace and invisible characters at both ends."""
    if not text:
        return ""
    text = _LINE_END.sub("\n", text)
    text = _BIDI_CONTROL.sub("", text)
    text = "".join(
        char for char in text if char in _KEPT_CONTROLS or unicodedata.category(char) not in ("Cc", "Cs")
    )
    start, end = 0, len(text)
    while start < end and not _shows(text[start]):
        start += 1
    while end > start and not _shows(text[end - 1]) and not _EMOJI_TAIL.match(text[end - 1]):
        end -= 1
    return text[start:end]


def _shows(char: str) -> bool:
    if char.isspace() or _INVISIBLE.match(char):
        return False
    return unicodedata.category(char) not in ("Cc", "Cf", "Cs")


def visible_length(text: str | None) -> int:
    """How many characters of the text show: not whitespace, controls, format characters (zero-width space,
    joiners, marks of direction, tags), variation selectors or fillers."""
    return sum(1 for char in text or "" if _shows(char))


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """`text` as people sort names: the numbers in it as numbers, so that 第10街道2号 comes before 第10街道12号 and
    30号 before 120号 (as text, 0, 120, 130 … 290, 30)."""
    return tuple((1, int(part)) if part.isdigit() else (0, part.casefold()) for part in _DIGITS.split(text) if part)


def is_blank(text: str | None) -> bool:
    """Whether nothing of the text shows: empty, or only whitespace and invisible characters."""
    return visible_length(text) == 0


def split_warning_text(text: str | None) -> tuple[str, str]:
    """A warning as staff type it, cleaned: its first line the headline, the rest its text."""
    headline, _, rest = clean_text(text).partition("\n")
    return clean_text(headline), clean_text(rest)


# What a person types at a photo step when they have no photo (or no more): the words on the step's own buttons
# (无照片 / 完成 / 跳过照片) and the ways people say it. Compared whole, after cleaning, in lower case and without the
# punctuation a phone keyboard adds, so "没有照片。" counts and "没有照片但有视频" does not.
NO_PHOTO_WORDS = frozenset({
    "无", "没有", "没", "没有照片", "没照片", "无照片", "不用", "不需要", "跳过", "跳过照片", "暂无", "暂无照片",
    "完成",
    "none", "no", "nope", "skip", "no photo", "no photos", "skip photo", "skip photos", "done",
})
_TRAILING_PUNCTUATION = " \t\n.。!！,，~～"


def says_no_photo(text: str | None) -> bool:
    """The typed answer of a photo step means "no photo" (or "no more"), as its button would."""
    said = clean_text(text).strip(_TRAILING_PUNCTUATION).lower()
    return " ".join(said.split()) in NO_PHOTO_WORDS


# What a person types to go back a step ("返回", "上一步", "back"): a journey that has no way back at that step says
# where the way back is, rather than take the word as the step's answer. Compared as `says_no_photo` compares.
BACK_WORDS = frozenset({
    "返回", "后退", "上一步", "返回上一步", "回到上一步", "退回上一步", "重选", "重新选择",
    "back", "go back", "previous", "previous step",
})


def says_back(text: str | None) -> bool:
    """The typed text asks to go back a step."""
    said = clean_text(text).strip(_TRAILING_PUNCTUATION).lower()
    return " ".join(said.split()) in BACK_WORDS


# What a person types at a step that asks where something is when they cannot (or will not) say: the photo step's
# words too, since the answer just given there is what a person unsure whether it was taken types again ("没有照片"
# typed twice became a hazard's address, which everyone reading the hazard then saw), and the ways people say they
# do not know. Compared as `says_no_photo` compares: whole, so "没有门牌号的那栋楼" is still an address.
NO_LOCATION_WORDS = NO_PHOTO_WORDS | frozenset({
    "不知道", "不清楚", "不确定", "无地址", "没有地址", "暂无地址", "不详", "未知", "没有位置", "无位置", "跳过位置",
    "unknown", "don't know", "dont know", "not sure", "n/a", "no address", "no location", "skip location",
})


def says_no_location(text: str | None) -> bool:
    """The typed answer of a location step means "no location", as its Skip button would: never an address."""
    said = clean_text(text).strip(_TRAILING_PUNCTUATION).lower()
    return " ".join(said.split()) in NO_LOCATION_WORDS


# ---- answers typed where a list, a number or an address is asked for ---------------------------------------------

# A mark that numbers an item on one line: "1、" "1." "1)" "1）" "(1)" "（1）" "①". Not part of a longer number ("12、"
# is not "2、"); which number it is, and its style (a list keeps one), are read by `_numbered`.
_ITEM_MARK = re.compile(
    r"(?<![\d.])(?:[(（](?P<paren>\d{1,2})[)）]|(?P<number>\d{1,2})\s*(?P<sign>[.．、)）])|(?P<circled>[①-⑳]))"
)
_DIGIT_NEXT = re.compile(r"\s*\d")


def _numbered(mark: re.Match[str]) -> tuple[int, str]:
    """The number a mark gives and its style."""
    if mark.group("circled"):
        return ord(mark.group("circled")) - ord("①") + 1, "circled"
    if mark.group("paren"):
        return int(mark.group("paren")), "paren"
    sign = mark.group("sign").replace("．", ".").replace("）", ")")
    return int(mark.group("number")), sign


def split_numbered_line(line: str) -> list[str]:
    """The items of a numbered list typed on one line ("1、灭火器压力不足 2、疏散指示灯不亮"), without their marks;
    the line alone when it is not one. A list starts with 1 at the start of the line and its numbers run 2, 3… in
    order, in one style, so that "2、" inside ordinary text ("共2、3楼") never cuts it: a mark followed by a digit
    is one number of several ("2、3楼", "1.5米"), not an item."""
    text = clean_text(line)
    first = _ITEM_MARK.match(text)
    if first is None or _numbered(first)[0] != 1:
        return [line]
    style = _numbered(first)[1]
    cuts = [first]
    for mark in _ITEM_MARK.finditer(text, first.end()):
        number, its_style = _numbered(mark)
        if its_style == style and number == len(cuts) + 1 and not _DIGIT_NEXT.match(text, mark.end()):
            cuts.append(mark)
    if len(cuts) < 2:
        return [line]
    ends = [mark.start() for mark in cuts[1:]] + [len(text)]
    items = [clean_text(text[mark.end() : end].rstrip(" ;；,，")) for mark, end in zip(cuts, ends, strict=True)]
    return [item for item in items if not is_blank(item)]


_NUMBER = re.compile(r"\d+")
_HOURS = re.compile(r"小时|钟头|hour|hr", re.IGNORECASE)


def single_number(text: str | None) -> int | None:
    """The one number in a typed answer ("35", "35人", "全体员工和老人共40人"); None when there is none, more than
    one ("1小时30分钟", "1.5"), or it counts hours where people or minutes are asked for ("2个小时" is not 2)."""
    said = clean_text(text)
    numbers = _NUMBER.findall(said)
    if len(numbers) != 1 or _HOURS.search(said) or len(numbers[0]) > 6:
        return None
    return int(numbers[0])


def several_numbers(text: str | None) -> bool:
    """Whether a typed answer holds more than one number ("全院共40人，其中老人30人", "40-50人"): it was a number,
    only not one that could be kept."""
    return len(_NUMBER.findall(clean_text(text))) > 1


# A length of time said in hours, as people say it: "2小时", "大约2个小时", "1.5小时", "1个半小时", "半小时",
# "1小时30分钟", "2 hours", "1.5 hrs", "half an hour". Words before or after it ("大约", "左右") are allowed; a
# second length or number is not.
_IN_HOURS = re.compile(
    r"[^\d.]*?(?:(?P<hours>\d{1,2}(?:\.\d{1,2})?)\s*个?\s*(?P<half>半)?|(?P<alone>半)\s*个?)\s*"
    r"(?:小时|钟头|hours?|hrs?)\s*(?:(?P<minutes>\d{1,2})\s*(?:分钟|分|minutes?|mins?))?[^\d.]*"
)
_HALF_AN_HOUR = re.compile(r"[^\d]*half an hour[^\d]*")


# A length of time in Chinese numerals, as people type it as often as in digits: "两小时", "一个半小时", "三十分钟",
# "一小时二十分". A run of numerals is read only right before its unit (个 小时 钟头 分 半), so words that hold a
# numeral ("一起", "一会儿") are never a number; a run that is not one number ("一两个小时", "三四十分钟") or a
# guess ("十几分钟", "几十分钟") stays unread, and the length with it.
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_NUMERALS = "零〇一二两三四五六七八九十百"
_CN_UNIT = r"\s*(?:个|半|小时|钟头|分)"
_CN_RUN = re.compile(rf"(?<![几{_CN_NUMERALS}])[{_CN_NUMERALS}]+(?={_CN_UNIT})")
_CN_DIGIT = "[一二两三四五六七八九]"
_CN_NUMBER = re.compile(
    rf"(?:(?P<hundreds>{_CN_DIGIT})百)?(?P<zero>[零〇])?(?:(?P<tens>{_CN_DIGIT})?(?P<ten>十))?(?P<units>{_CN_DIGIT})?"
)
# A numeral (or 几) still before a unit once the numbers are read: a length nobody can keep ("一两个半小时" is not
# half an hour).
_CN_UNREAD = re.compile(rf"[几{_CN_NUMERALS}]{_CN_UNIT}")


def _chinese_number(run: str) -> int | None:
    """The number a run of Chinese numerals writes ("两" 2, "十五" 15, "二十" 20, "一百零五" 105); None when it writes
    none, or not one only ("一两", "一百五": a hundred and five, or a hundred and fifty?)."""
    found = _CN_NUMBER.fullmatch(run)
    if found is None or not any(found.groupdict().values()):
        return None
    hundreds, zero, tens, ten, units = (found.group(g) for g in ("hundreds", "zero", "tens", "ten", "units"))
    if hundreds and units and not (zero or ten):
        return None
    value = _CN_DIGITS[hundreds] * 100 if hundreds else 0
    if ten:
        value += (_CN_DIGITS[tens] if tens else 1) * 10
    return value + (_CN_DIGITS[units] if units else 0)


def _in_digits(said: str) -> str:
    """The text with each run of Chinese numerals before a unit of time written in digits ("一个半小时" "1个半小时")."""
    def digits(run: re.Match[str]) -> str:
        number = _chinese_number(run.group())
        return run.group() if number is None else str(number)

    return _CN_RUN.sub(digits, said)


# People counted in Chinese numerals, as often typed as in digits: "三十人", "四十五人", "一百二十名", or the numerals
# alone ("三十"). A run is read only right before 人 (个人, 名, 位) or as the whole answer, so words holding a numeral
# ("一起", "全体一线员工") are never a count; a vague amount ("三四十人", "几十人", "十几个人") stays unread, and is
# asked again.
_CN_PEOPLE_RUN = re.compile(rf"(?<![几{_CN_NUMERALS}])[{_CN_NUMERALS}]+(?=\s*(?:个人|人|名|位)|$)")
_CN_PEOPLE_UNREAD = re.compile(rf"[几{_CN_NUMERALS}]\s*(?:个人|人|名|位)|^[几{_CN_NUMERALS}]+$")
# A guess past a number ("10多人", "一个多小时", "1小时多"): more than it, by how much nobody said.
_MORE_THAN = re.compile(r"(?:\d|个|小时|钟头|分钟|分|人)\s*多(?![少])")


def people_count(text: str | None) -> int | None:
    """The number of people a typed answer says: one number in digits as `single_number` reads it ("35", "35人"),
    or whole Chinese numerals ("三十人" 30, "四十五人" 45, "一百二十人" 120); None for none, several, or a guess
    ("三四十人", "几十人", "30多人")."""
    said = clean_text(text)
    if _MORE_THAN.search(said):
        return None

    def digits(run: re.Match[str]) -> str:
        number = _chinese_number(run.group())
        return run.group() if number is None else str(number)

    said = _CN_PEOPLE_RUN.sub(digits, said)
    if _CN_PEOPLE_UNREAD.search(said):
        return None
    return single_number(said)


# Quarters of an hour: "一刻钟" is 15 minutes, "三刻钟" 45 ("一小时一刻钟" 75).
_QUARTERS = re.compile(rf"(?<![\d几{_CN_NUMERALS}])([一两二三123])\s*刻钟?")


def said_in_hours(text: str | None) -> bool:
    """Whether a typed length of time counts hours (so the minutes kept are worth saying back)."""
    said = clean_text(text).lower()
    return bool(_HOURS.search(said)) or _HALF_AN_HOUR.fullmatch(said) is not None


def said_in_words(text: str | None) -> bool:
    """Whether the minutes kept from a typed length of time are worth saying back: it counts hours, or is written
    in Chinese numerals ("三十分钟") or quarters ("一刻钟")."""
    said = clean_text(text)
    return said_in_hours(said) or _in_digits(said) != said or _QUARTERS.search(said) is not None


def _in_minutes(quarters: re.Match[str]) -> str:
    said = quarters.group(1)
    return f"{(int(said) if said.isdigit() else _CN_DIGITS[said]) * 15}分钟"


def duration_minutes(text: str | None) -> int | None:
    """The minutes a typed length of time says: "40", "40分钟" as `single_number` reads them; hours converted
    ("2小时" 120, "1.5小时" 90, "半小时" 30, "1小时30分钟" 90, "2 hours" 120); Chinese numerals read as digits ("两小时"
    120, "一个半小时" 90, "三十分钟" 30, "一小时二十分" 80); quarters of an hour ("一刻钟" 15).
    None when it says no one length, or a guess past one ("一个多小时", "10多分钟")."""
    said = _in_digits(_QUARTERS.sub(_in_minutes, clean_text(text).lower()))
    if _CN_UNREAD.search(said) or _MORE_THAN.search(said):
        return None
    if not said_in_hours(said):
        return single_number(said)
    if _HALF_AN_HOUR.fullmatch(said):
        return 30
    found = _IN_HOURS.fullmatch(said)
    if found is None:
        return None
    hours = float(found.group("hours")) if found.group("hours") else 0.0
    half = 0.5 if found.group("half") or found.group("alone") else 0.0
    minutes = int(found.group("minutes") or 0)
    total = round((hours + half) * 60) + minutes
    return total or None


# Where a hazard is: "3" or "3-" says nothing anyone could walk to.
MIN_ADDRESS = 2
_ADDRESS_FILLER = re.compile(r"[\d\W_]+")


def is_plausible_address(text: str | None) -> bool:
    """A typed address of at least MIN_ADDRESS characters that show, not only digits and punctuation."""
    said = clean_text(text)
    return visible_length(said) >= MIN_ADDRESS and _ADDRESS_FILLER.fullmatch(said) is None


# The measures of a rectification, as the county staff who verify it read them: "好" or "ok" tells them nothing.
# Four characters that show, as "已清理杂物"; text without Chinese needs two words too ("done" is not measures).
MIN_MEASURES = 4
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def says_enough_measures(text: str | None) -> bool:
    """Whether typed measures say what was done: MIN_MEASURES characters that show, and two words when there is no
    Chinese in them."""
    said = clean_text(text)
    if visible_length(said) < MIN_MEASURES:
        return False
    return bool(_HAN.search(said)) or len(said.split()) >= 2
