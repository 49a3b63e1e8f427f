"""Human-readable hazard numbers, e.g. YH-20260301-0007: the 7th hazard reported on 1 March 2026 (local date).

"YH" is 隐患 (hazard). People read these codes aloud and type them back, so parsing forgives case and
surrounding spaces but nothing else: one hazard has exactly one spelling.
"""

from __future__ import annotations

import re
from datetime import date

PREFIX = "YH"

# Four digits, or more without a leading zero once the day passes 9999: the canonical spelling only.
_CODE = re.compile(rf"{PREFIX}-([0-9]{{8}})-([0-9]{{4}}|[1-9][0-9]{{4,}})", re.ASCII)


def format_hazard_code(local_date: date, sequence: int) -> str:
    if sequence < 1:
        raise ValueError(f"hazard sequence numbers start at 1, got {sequence}")
    # Not strftime: %Y does not zero-pad years before 1000 on every platform.
    return f"{PREFIX}-{local_date.year:04d}{local_date.month:02d}{local_date.day:02d}-{sequence:04d}"


def parse_hazard_code(text: str) -> tuple[date, int] | None:
    match = _CODE.fullmatch(text.strip().upper())
    if match is None:
        return None
    digits, sequence = match.groups()
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    number = int(sequence)
    if number < 1:
        return None
    return day, number
