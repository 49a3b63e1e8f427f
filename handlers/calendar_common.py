"""What the calendar journeys share: reading a date or a number from a person, naming a period, saying where a duty
stands, and the buttons that open a journey from anywhere (a reminder, a record)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.domain.compliance import Compliant, DueSoon, DutyRule, DutyStatus, Overdue, Period, entered_late
from bot.domain.days import NoSuchDay, Toward, parse_typed_day
from bot.domain.text import people_count, several_numbers
from bot.i18n import Translator, counted
from bot.services.calendar import MAX_AGE
from handlers.common import Caller, answer, cancel_keyboard, identify, no_such_day
from storage.calendar_models import Drill
from storage.repositories.calendar_drafts import CalendarDraftRepository, Draft, DrillDraft, SelfCheckDraft, StudyDraft

# Buttons that start a journey; each journey lists its own as a ConversationHandler entry point.
ENTRY_DRILL, ENTRY_SELFCHECK, ENTRY_STUDY = "cal:drill", "cal:selfcheck", "cal:study"
ENTRY_LABELS = {
    ENTRY_DRILL: "calendar.button_log_drill",
    ENTRY_SELFCHECK: "calendar.button_start_selfcheck",
    ENTRY_STUDY: "calendar.button_log_study",
}

# The kind of duty a status sentence is about: the key part of `calendar.status.<duty>.<state>`.
DRILL, SELFCHECK, STUDY = "drill", "selfcheck", "study"



def drafts(context: BotContext) -> CalendarDraftRepository:
    return CalendarDraftRepository(context.services.storage.db)


async def load_draft(
    update: Update, context: BotContext, kind: type[Draft], lost_key: str
) -> tuple[Caller, Draft] | None:
    """The caller and their draft of `kind`; None when there is no one to answer, or (said with `lost_key`) no draft."""
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    draft = await drafts(context).get(caller.user.telegram_id, kind)
    if draft is None:
        await answer(update, caller.t(lost_key))
        return None
    return caller, draft


async def save_draft(context: BotContext, caller: Caller, draft: DrillDraft | SelfCheckDraft | StudyDraft) -> None:
    assert caller.user is not None
    await drafts(context).save(caller.user.telegram_id, draft, context.services.clock.now())


async def refuse_role(update: Update, context: BotContext, caller: Caller, key: str, command: str) -> None:
    """A journey outside the caller's role: said plainly, and recorded like every other refusal."""
    await context.services.storage.audit.append(
        caller.telegram_user.id, "authz.refused", target=f"user:{caller.telegram_user.id}",
        detail={"command": command, "reason": "wrong_role"},
    )
    if update.callback_query is not None:
        await update.callback_query.answer(caller.t.plain(key), show_alert=True)
    else:
        await answer(update, caller.t(key))


def entry_button(entry: str, t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.plain(ENTRY_LABELS[entry]), callback_data=entry)


def head_duty_keyboard(inspection: DutyStatus, t: Translator) -> InlineKeyboardMarkup:
    """Under a head's view of their institution's duties: 🔥 记录演练, and 📋 开始本月自查 while this month's sheet is
    not done (the self-inspection is the head's alone: /selfcheck opens their own institution's sheet)."""
    row = [entry_button(ENTRY_DRILL, t)]
    if not (isinstance(inspection, Compliant) and inspection.done_on is not None):
        row.append(entry_button(ENTRY_SELFCHECK, t))
    return InlineKeyboardMarkup([row])


# ---- reading what people type ---------------------------------------------------------------------------


def day_problem(day: date, today: date) -> str | None:
    """The refusal key a day would earn when logged. The services check again when logging; asking here saves
    the person the steps between the date and the confirmation."""
    if day > today:
        return "refusal.date_in_future"
    if day < today - MAX_AGE:
        return "refusal.date_too_old"
    return None


def parse_count(text: str) -> int | None:
    """The one number typed ("25", "25人", "全体员工和老人共40人"), whatever words are around it, in digits or whole
    Chinese numerals ("三十人", "一百二十人"); a guess ("三四十人", "几十人") is none."""
    return people_count(text)


async def read_day(update: Update, caller: Caller, text: str, prefix: str, today: date) -> date | None:
    """The day typed at a journey's date step; None once the person has been told what is wrong with it (not a day,
    in the future, too long ago) and shown the journey's day buttons (`prefix`) again."""
    held_on = parse_typed_day(text, today, Toward.PAST)
    if isinstance(held_on, NoSuchDay):
        await answer(update, no_such_day(held_on, caller.t), reply_markup=day_keyboard(prefix, today, caller.t))
        return None
    problem = "calendar.guide_date" if held_on is None else day_problem(held_on, today)
    if problem is not None:
        await answer(update, caller.t(problem), reply_markup=day_keyboard(prefix, today, caller.t))
        return None
    return held_on


async def read_count(
    update: Update, caller: Caller, text: str, prefix: str, *, guide: str, refusal: str, most: int,
    keyboard: InlineKeyboardMarkup | None = None, reader: Callable[[str], int | None] = parse_count,
) -> int | None:
    """A number typed (people, minutes) from 1 to `most`, as `reader` reads it; None once the person has been guided
    (`guide`: not a number; more than one number is told so) or refused (`refusal`: out of range); either answer
    carries the question's buttons (`keyboard`; the journey's Cancel when it had no others)."""
    number = reader(text)
    cancel = keyboard or cancel_keyboard(caller.t, f"{prefix}:cancel")
    if number is None:
        # "全院共40人，其中老人30人" or "40-50人": digits were typed, so "type a number" would not say what is wrong.
        said = "calendar.guide_one_number" if several_numbers(text) else guide
        await answer(update, caller.t(said), reply_markup=cancel)
        return None
    if not 0 < number <= most:
        await answer(update, caller.t(refusal, max=most), reply_markup=cancel)
        return None
    return number


def day_keyboard(prefix: str, today: date, t: Translator) -> InlineKeyboardMarkup:
    # Each button carries the day its label shows, not "today": a journey left open past midnight (or overnight)
    # would otherwise log the next day, and a drill of 30 June pressed at 00:05 would miss its half-year.
    yesterday = today - timedelta(days=1)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.plain("calendar.button_today", day=today.isoformat()),
                    callback_data=f"{prefix}:day:{today.isoformat()}",
                ),
                InlineKeyboardButton(
                    t.plain("calendar.button_yesterday", day=yesterday.isoformat()),
                    callback_data=f"{prefix}:day:{yesterday.isoformat()}",
                ),
            ],
            [InlineKeyboardButton(t.plain("button.cancel"), callback_data=f"{prefix}:cancel")],
        ]
    )


def day_pattern(prefix: str) -> str:
    """The day buttons' callback data; `today` and `yesterday` are those of keyboards sent before they named it."""
    return rf"^{prefix}:day:(today|yesterday|\d{{4}}-\d{{2}}-\d{{2}})$"


def chosen_day(callback_data: str, today: date) -> date | None:
    """The day a day button stands for; None for one that names no real day."""
    value = callback_data.rsplit(":", 1)[-1]
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


async def pressed_day(update: Update, caller: Caller, callback_data: str, prefix: str, today: date) -> date | None:
    """The day a day button stands for; None once the person has been told what is wrong with it (a button of
    long ago, or forged) and shown the day buttons again. The services check the day again when logging."""
    held_on = chosen_day(callback_data, today)
    problem = "calendar.guide_date" if held_on is None else day_problem(held_on, today)
    if problem is not None:
        await answer(update, caller.t(problem), reply_markup=day_keyboard(prefix, today, caller.t))
        return None
    return held_on


# ---- saying it back -------------------------------------------------------------------------------------


def late_entry_day(drill: Drill, rule: DutyRule, tz: ZoneInfo) -> date | None:
    """The local day a drill was logged on, when that was after its period had ended (补录); None when in time."""
    logged_on = drill.logged_at.astimezone(tz).date()
    return logged_on if entered_late(rule, drill.held_on, logged_on) else None


def period_label(period: Period, t: Translator) -> str:
    key = period.key
    year = period.start.year
    if key == str(year):
        return t.plain("calendar.period.year", year=year)
    if key.endswith("-H1"):
        return t.plain("calendar.period.h1", year=year)
    if key.endswith("-H2"):
        return t.plain("calendar.period.h2", year=year)
    # Written as people write a month, not as a key: 2026年9月 (never 09月), September 2026, as /stats names one.
    month = period.start.month
    return t.plain("calendar.period.month", year=year, month_name=t.plain(f"date.month.{month}"))


def status_line(duty: str, status: DutyStatus, t: Translator) -> str:
    """One whole sentence on where a duty stands, with its icon (✅ done, 🟢 not yet due or not owed, ⚠️ due soon,
    ⏰ overdue). An overdue one names the current period and its end too: the missed period can no longer be made
    good (a record counts for the period it is made in), and the current one is what is owed now. On a period's
    last day it says "today", not "0 days left"."""
    if isinstance(status, Overdue):
        key = f"calendar.status.{duty}.overdue"
        return t(
            f"{key}_due_today" if status.days_left == 0 else counted(key, status.days_overdue),
            missed=period_label(status.missed, t),
            days=status.days_overdue,
            period=period_label(status.period, t),
            end=status.period.end.isoformat(),
        )
    if isinstance(status, DueSoon):
        if status.days_left == 0:
            return t(
                f"calendar.status.{duty}.due_today",
                period=period_label(status.period, t),
                end=status.period.end.isoformat(),
            )
        return t(
            counted(f"calendar.status.{duty}.due_soon", status.days_left),
            period=period_label(status.period, t),
            days=status.days_left,
            end=status.period.end.isoformat(),
        )
    assert isinstance(status, Compliant)
    if status.done_on is not None:
        return t(f"calendar.status.{duty}.done", period=period_label(status.period, t), day=status.done_on.isoformat())
    period, end = period_label(status.period, t), status.period.end.isoformat()
    if status.first_owed is not None:  # joined in the period's second half: the next one is its first
        first = status.first_owed
        first_label = period_label(first, t)
        return t(f"calendar.status.{duty}.joined", period=period, first=first_label, end=first.end.isoformat())
    return t(f"calendar.status.{duty}.pending", period=period, end=end)


def urgency(status: DutyStatus) -> tuple[int, int]:
    """The longest overdue first, then the nearest due, then the rest: the order a list is read in."""
    if isinstance(status, Overdue):
        return (0, -status.days_overdue)
    if isinstance(status, DueSoon):
        return (1, status.days_left)
    return (2, 0)
