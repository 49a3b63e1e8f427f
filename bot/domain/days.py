"""Days as people write them, in chat or in a spreadsheet cell: 2026-03-05 as the templates show, 2026/3/5 as
Chinese Excel writes a date cell into a CSV, 2026.3.5 and 2026年3月5日 as people type."""

from __future__ import annotations

import re
from datetime import date

_DAY = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:[ T](?P<time>.*))?$")


def parse_day(text: str, *, with_time: bool = False) -> date | None:
    """The day `text` names; None for anything else, or a day that does not exist. `with_time`: a time after the
    day (an XLSX date-time cell read as text) is ignored instead of refused."""
    match = _DAY.match(text)
    if match is None or (match.group("time") and not with_time):
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
