"""Withdrawing a hazard (作废/撤销): the end of one that will never be fixed, as FixMyStreet closes a report as
"not responsible", "duplicate" or "won't fix" and SafetyCulture cancels an action. Pure rules; the lifecycle
(bot.domain.lifecycle: HazardAction.WITHDRAW, HazardState.WITHDRAWN) says who may and when.

Its reporter (撤回上报) may withdraw their own report too, until someone works on it (lifecycle:
`withdraws_as_reporter`): the wrong institution, a duplicate, something that turned out not to be a hazard. They pick
among REPORTER_CATEGORIES: whether an institution has closed is the county's to say.

A withdrawn hazard was never rectified: statistics count it apart (found, and withdrawn), never as closed, and leave
it out of the rectification rate's denominator (bot.domain.stats), so withdrawing neither raises nor lowers a county's
rate. Staff may reinstate it with Reopen within the reopening window, counted from the withdrawal.
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot.domain.hazard_codes import PREFIX


class WithdrawalCategory(StrEnum):
    MISTAKEN = "mistaken"  # 误报/不属于隐患: not a hazard, or the wrong institution
    DUPLICATE = "duplicate"  # 重复上报: another hazard covers it (its code may be named in the reason)
    INSTITUTION_CLOSED = "institution_closed"  # 机构已停用: nobody is left to fix it
    OTHER = "other"


# What a reporter taking back their own report may say it was (not INSTITUTION_CLOSED: the county's to establish).
REPORTER_CATEGORIES: tuple[WithdrawalCategory, ...] = (
    WithdrawalCategory.MISTAKEN, WithdrawalCategory.DUPLICATE, WithdrawalCategory.OTHER,
)


def categories_for(by_reporter: bool) -> tuple[WithdrawalCategory, ...]:
    """The categories offered to (and accepted from) the person withdrawing: staff, or the hazard's reporter."""
    return REPORTER_CATEGORIES if by_reporter else tuple(WithdrawalCategory)


# Characters that show, as an institution's closure reason: a withdrawal must say why in words.
MIN_REASON = 2

_CODE_IN_TEXT = re.compile(rf"{PREFIX}-[0-9]{{8}}-[0-9]{{4,}}", re.IGNORECASE | re.ASCII)


def duplicate_code(reason: str) -> str | None:
    """The first hazard code a duplicate's reason names (e.g. "与 YH-20260301-0007 重复"), upper-cased; None if none."""
    match = _CODE_IN_TEXT.search(reason)
    return match.group(0).upper() if match else None
