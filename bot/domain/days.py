"""Days as people write them, in chat or in a spreadsheet cell: 2026-03-05 as the templates show, 2026/3/5 as
Chinese Excel writes a date cell into a CSV, 2026.3.5 and 2026年3月5日 as people type.

In chat people also leave out the year (12月20日, 12/20), name the month in English (Sep 20, 20 September) or say
the day (明天, yesterday) or its weekday (周五, 下周五, 上星期五, next friday), and give a deadline its time of
day (18:00, 18点, 下午6点, 6pm). Those forms need today,
which the caller passes (the clock's local day), and a direction: a deadline lies ahead, so 12月20日 is the next 20
December; a drill has been held, so it is the latest one.

A day that is written as one but does not exist (9月31日, 2月30日, Sep 31) is not "no day": it comes back as a
`NoSuchDay`, so the person can be told what is wrong with it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

_YEAR_MONTH_DAY = r"(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})(?!\d)\s*[日号]?"
_MONTH_DAY = r"(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})(?!\d)\s*[日号]?"
# The day first, as British and European writers put it (20/12, 20/12/2026): read only where it cannot be a month
# and a day (a first number above 12); 5/12 stays 5月12日, as Chinese writes it.
_DAY_FIRST = r"(?P<day>1[3-9]|2\d|3[01])\s*[-/.]\s*(?P<month>\d{1,2})(?!\d)(?:\s*[-/.]\s*(?P<year>\d{4})(?!\d))?"
_DAY = re.compile(rf"^\s*{_YEAR_MONTH_DAY}\s*(?:[ T](?P<time>.*))?$")

# A month by its English name, full or short (Sep, Sept, September), before the day or after it, with an optional
# year after both and an optional ordinal suffix: Sep 20, September 20th, 20 Sep, 20 September 2026, Sep 20, 2026.
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11,
    "dec": 12,
}
_MONTH_NAME = (
    r"(?P<name>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![a-z])"
)
_NAME_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?(?![\da-z])"
_NAME_YEAR = r"(?:\s*,?\s+(?P<year>\d{4})(?!\d))?"
_MONTH_NAME_DAY = re.compile(rf"{_MONTH_NAME}\s*{_NAME_DAY}{_NAME_YEAR}", re.IGNORECASE)
_DAY_MONTH_NAME = re.compile(rf"{_NAME_DAY}\s*(?:of\s+)?{_MONTH_NAME}{_NAME_YEAR}", re.IGNORECASE)

# Days named by a word, as days after today. English words stop at a letter ("todays" is not a day).
_WORDS = {
    "前天": -2,
    "昨天": -1,
    "昨日": -1,
    "今天": 0,
    "今日": 0,
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "yesterday": -1,
    "today": 0,
    "tomorrow": 1,
}
_WORD = re.compile(r"(?P<word>" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")(?![a-z])", re.IGNORECASE)

# A weekday, on its own (the nearest one toward the parser's side, today included, as for a month-day) or in the
# previous, this or the next calendar week (weeks start on Monday): 周五, 星期五, 礼拜五, 周日/周天/星期天, 下周五,
# 下个星期五, 上周五, 本周五, 这周五; friday, fri, next friday, last friday, this friday. The number is the weekday
# as `date.weekday()` counts it (Monday 0).
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_ZH_WEEKDAY = re.compile(r"(?:(?P<week>下|上|本|这)个?)?(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天])")
_EN_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_EN_WEEKDAY = re.compile(
    r"(?:(?P<week>next|last|this)\s+)?(?P<weekday>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\.?(?![a-z])",
    re.IGNORECASE,
)
# The week a weekday is in, in weeks after this one.
_WEEKS = {"下": 1, "next": 1, "上": -1, "last": -1, "本": 0, "这": 0, "this": 0}

# A time of day: 18:00 (or 18：00 as a Chinese keyboard types it), 18点, 18点30(分), 6点半, 下午6点, 6pm, 6:30 pm.
_CLOCK = re.compile(r"^(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})$")
_DIAN = re.compile(
    r"^(?P<part>凌晨|早上|上午|中午|下午|傍晚|晚上|夜里|半夜|午夜)?\s*(?P<hour>\d{1,2})\s*[点时]\s*(?:(?P<half>半)|(?P<minute>\d{1,2})\s*分?)?$"
)
_AM_PM = re.compile(
    r"^(?P<hour>\d{1,2})(?:\s*[:：]\s*(?P<minute>\d{2}))?\s*(?P<part>am|pm|a\.m\.|p\.m\.)$", re.IGNORECASE
)
_AFTERNOON = {"中午", "下午", "傍晚", "晚上"}
# At night twelve o'clock is midnight: 晚上12点 as a deadline is the end of that evening's day (23:59, as a day
# alone), 凌晨12点 the start of it; and 夜里/半夜 name the late evening (夜里11点) or the small hours (半夜2点).
_NIGHT = {"晚上", "夜里", "半夜", "午夜"}
_SMALL_HOURS = {"凌晨"}

# A deadline given as a day alone runs to the end of that day.
END_OF_DAY = time(23, 59)


@dataclass(frozen=True)
class NoSuchDay:
    """A day written as one that no calendar has: 9月31日, 2月30日, Sep 31, or 2026-02-29 (`year` then names the year
    that lacks it; a day without its year that neither the nearest year nor the next one has names this year)."""

    month: int
    day: int
    year: int | None = None


class Toward(Enum):
    """Where a day written without its year lies from today: ahead (a deadline) or behind (a day already held)."""

    FUTURE = "future"
    PAST = "past"


def parse_day(text: str, *, with_time: bool = False) -> date | None:
    """The day `text` names with its year; None for anything else, or a day that does not exist. `with_time`: a time
    after the day (an XLSX date-time cell read as text) is ignored instead of refused."""
    match = _DAY.match(text)
    if match is None or (match.group("time") and not with_time):
        return None
    try:
        return date(int(match.group("year")), int(match.group("month")), int(match.group("day")))
    except ValueError:
        return None


def parse_typed_day(text: str, today: date, toward: Toward) -> date | NoSuchDay | None:
    """The day a person typed in chat: with its year, month and day alone (the nearest such day `toward`), a word
    (今天, 明天, yesterday …) counted from `today`, or a weekday (周五, 下周五, last friday …). `NoSuchDay` for a day
    written as one that does not exist (9月31日); None for anything else, or a day followed by more text."""
    found = _split(text, today, toward)
    if found is None or found[1]:
        return None
    return found[0]


def parse_deadline(text: str, today: date, tz: ZoneInfo) -> datetime | NoSuchDay | None:
    """A deadline typed in chat, in the zone `tz`: a day as `parse_typed_day` reads it looking ahead, then
    optionally a time of day (18:00, 18点, 下午6点, 6pm); a day alone runs to its end (23:59). `NoSuchDay` for a
    day that does not exist, whatever follows it."""
    found = _split(text, today, Toward.FUTURE)
    if found is None:
        return None
    day, rest = found
    if isinstance(day, NoSuchDay):
        return day
    at = parse_time(rest) if rest else END_OF_DAY
    return None if at is None else datetime.combine(day, at, tzinfo=tz)


def names_year(text: str) -> bool:
    """Whether `text` begins with a day written with its year (2026-12-20, 2026年12月20日, Sep 20 2026): a day read
    without one may have been taken in the next or the last year, which the person should be told."""
    cleaned = text.strip()
    if re.match(_YEAR_MONTH_DAY, cleaned):
        return True
    if (day_first := re.match(_DAY_FIRST, cleaned)) and day_first.group("year"):
        return True
    match = _MONTH_NAME_DAY.match(cleaned) or _DAY_MONTH_NAME.match(cleaned)
    return match is not None and match.group("year") is not None


def parse_time(text: str) -> time | None:
    """A time of day as people type it; None for anything else or an hour that does not exist."""
    cleaned = text.strip()
    hour, minute = _hour_minute(cleaned)
    if hour is None or not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _hour_minute(text: str) -> tuple[int | None, int]:
    if match := _CLOCK.match(text):
        return int(match.group("hour")), int(match.group("minute"))
    if match := _DIAN.match(text):
        hour = int(match.group("hour"))
        minute = 30 if match.group("half") else int(match.group("minute") or 0)
        part = match.group("part")
        if hour == 12 and part in _NIGHT:
            # Midnight ends the day; past it (晚上12点半) is the next day's, which a time of day cannot say.
            return (END_OF_DAY.hour, END_OF_DAY.minute) if minute == 0 else (None, 0)
        if hour == 12 and part in _SMALL_HOURS:
            return 0, minute
        if part == "午夜":
            return None, 0
        if hour < 12 and (part in _AFTERNOON or (part in _NIGHT and hour >= 6)):
            hour += 12
        return hour, minute
    if match := _AM_PM.match(text):
        hour = int(match.group("hour"))
        if not 1 <= hour <= 12:
            return None, 0
        afternoon = match.group("part").lower().startswith("p")
        return hour % 12 + (12 if afternoon else 0), int(match.group("minute") or 0)
    return None, 0


def _split(text: str, today: date, toward: Toward) -> tuple[date | NoSuchDay, str] | None:
    """The day at the start of `text` and what follows it, stripped; `NoSuchDay` for a day written as one that does
    not exist; None if no day starts it."""
    cleaned = text.strip()
    if match := re.match(_YEAR_MONTH_DAY, cleaned):
        year, month, day_of_month = int(match.group("year")), int(match.group("month")), int(match.group("day"))
        found = _dated(year, month, day_of_month)
        return None if found is None else (found, cleaned[match.end() :].strip())
    if match := re.match(_DAY_FIRST, cleaned):
        month, day_of_month = int(match.group("month")), int(match.group("day"))
        if match.group("year"):
            found = _dated(int(match.group("year")), month, day_of_month)
        else:
            found = _nearest(month, day_of_month, today, toward)
        return None if found is None else (found, cleaned[match.end() :].strip())
    if match := re.match(_MONTH_DAY, cleaned):
        found = _nearest(int(match.group("month")), int(match.group("day")), today, toward)
        return None if found is None else (found, cleaned[match.end() :].strip())
    if match := _MONTH_NAME_DAY.match(cleaned) or _DAY_MONTH_NAME.match(cleaned):
        month, day_of_month = _MONTHS[match.group("name")[:3].lower()], int(match.group("day"))
        if match.group("year"):
            found = _dated(int(match.group("year")), month, day_of_month)
        else:
            found = _nearest(month, day_of_month, today, toward)
        return None if found is None else (found, cleaned[match.end() :].strip())
    if match := _WORD.match(cleaned):
        return today + timedelta(days=_WORDS[match.group("word").lower()]), cleaned[match.end() :].strip()
    if match := _ZH_WEEKDAY.match(cleaned):
        weekday = _ZH_WEEKDAYS[match.group("weekday")]
        return _weekday(weekday, match.group("week"), today, toward), cleaned[match.end() :].strip()
    if match := _EN_WEEKDAY.match(cleaned):
        weekday = _EN_WEEKDAYS[match.group("weekday")[:3].lower()]
        week = match.group("week")
        return _weekday(weekday, week.lower() if week else None, today, toward), cleaned[match.end() :].strip()
    return None


def _weekday(weekday: int, week: str | None, today: date, toward: Toward) -> date:
    """The weekday (Monday 0) in the week `week` names (next, last, this), or without one the nearest such day on
    `toward`'s side, today included."""
    if week is not None:
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=_WEEKS[week], days=weekday)
    if toward is Toward.FUTURE:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def _possible(month: int, day: int) -> bool:
    """Whether a month and day are written as a day at all (a month of the year, a day 1 to 31)."""
    return 1 <= month <= 12 and 1 <= day <= 31


def _dated(year: int, month: int, day: int) -> date | NoSuchDay | None:
    try:
        return date(year, month, day)
    except ValueError:
        return NoSuchDay(month, day, year) if _possible(month, day) else None


def _nearest(month: int, day: int, today: date, toward: Toward) -> date | NoSuchDay | None:
    """The month's day nearest `today` on its side (today itself included): this year's, else the next or the last
    year's. `NoSuchDay` for a day no such year has (2月30日, or 2月29日 with neither year a leap year; the latter
    names the year that lacks it); None for no day at all (13月5日)."""
    if not _possible(month, day):
        return None
    step = 1 if toward is Toward.FUTURE else -1
    missing: int | None = None
    for year in (today.year, today.year + step):
        try:
            candidate = date(year, month, day)
        except ValueError:
            missing = year
            continue
        if (candidate >= today) if toward is Toward.FUTURE else (candidate <= today):
            return candidate
    if missing is None:
        return None  # cannot happen: this year's or the next one on the side is always on that side
    return NoSuchDay(month, day, missing if (month, day) == (2, 29) else None)
