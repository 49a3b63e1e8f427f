"""The check-back (回访, FixMyStreet's questionnaire): some weeks after a hazard is closed, its reporter is asked once
whether the problem is still solved. Pure rules: when to ask, whether to ask at all, and the answers.

Asked only of a reporter who did not fix it themselves (a head reporting at their own home: the rule the closing
notice's reporter line follows), who may still see the hazard, of a hazard that is still closed by the same
acceptance (one reopened meanwhile is not asked about; closed again, it earns a check-back of its own), while it may
still be reopened: the question is only worth asking while "it came back" can still lead to a Reopen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.lifecycle import REOPEN_WINDOW, Actor, HazardFacts, HazardState, can_view, corrects_it
from bot.domain.reminders import QuietHours, next_allowed_time
from bot.domain.stats import Ratio

DEFAULT_DAYS = 30
# The history entry an answer writes (a hazard event beside the lifecycle's actions, as "report" is).
EVENT_CHECK_BACK = "check_back"


class CheckBackAnswer(StrEnum):
    HOLDS = "holds"  # ✅ still solved
    AGAIN = "again"  # ⚠️ the problem is back


class Skip(StrEnum):
    """Why a check-back that fell due was not asked."""

    NOT_CLOSED = "not_closed"  # reopened (or withdrawn) since, or closed again by another acceptance
    WINDOW_PASSED = "window_passed"  # the bot was down past the reopening window: too late to be of use
    REPORTER_GONE = "reporter_gone"  # not registered any more, or their access ended
    FIXED_IT = "fixed_it"  # the reporter is the one who corrected it
    HIDDEN = "hidden"  # the reporter may no longer see it


def ask_at(closed_at: datetime, days: int, quiet: QuietHours, tz: ZoneInfo) -> datetime:
    """When to ask: `days` after the closing, after quiet hours if it falls in them."""
    return next_allowed_time(closed_at + timedelta(days=days), False, quiet, tz)


def valid_days(days: int) -> int:
    """The setting's rule: at least a day, and inside the reopening window (a Reopen must still be possible)."""
    if not 1 <= days < REOPEN_WINDOW.days:
        raise ValueError(f"the check-back must come 1 to {REOPEN_WINDOW.days - 1} days after closing, not {days}")
    return days


def skip_reason(
    facts: HazardFacts, closed_at: datetime, reporter: Actor | None, reporter_active: bool, now: datetime
) -> Skip | None:
    """None when the check-back planned for the closing at `closed_at` is to be asked now; else why not."""
    if facts.state is not HazardState.CLOSED or facts.closed_at != closed_at:
        return Skip.NOT_CLOSED
    if now >= closed_at + REOPEN_WINDOW:
        return Skip.WINDOW_PASSED
    if reporter is None or not reporter_active:
        return Skip.REPORTER_GONE
    if corrects_it(facts, reporter):
        return Skip.FIXED_IT
    if not can_view(facts, reporter):
        return Skip.HIDDEN
    return None


@dataclass(frozen=True)
class CheckBackCounts:
    """The check-backs asked in a period (/stats): how many were asked, and how their reporters answered. A skipped
    one was never asked and a pending one not yet, so neither counts."""

    asked: int = 0
    holds: int = 0  # ✅ still solved
    again: int = 0  # ⚠️ the problem is back

    @property
    def answered(self) -> int:
        return self.holds + self.again

    @property
    def unanswered(self) -> int:
        return self.asked - self.answered

    @property
    def rebound(self) -> Ratio:
        """The rebound rate (反弹率): came back / answered; an unanswered one says nothing either way."""
        return Ratio(self.again, self.answered)
