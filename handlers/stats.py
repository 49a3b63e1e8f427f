"""/stats: the figures of the asker's scope for a period, in one short message with buttons for other periods, the
charts and the exports.

Buttons carry only the period (`sx:p:m202603`); who may see what is worked out again from the person pressing, so
a forwarded or forged button shows the presser their own scope, never someone else's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.domain.catalog import SENSITIVE_AREAS, SOURCE_LEVELS, label, severity_rank
from bot.domain.stats import (
    PeriodKind,
    RangeProblem,
    ScopeLevel,
    StatsPeriod,
    current_period,
    parse_range,
    period_from_token,
)
from bot.i18n import Html, Translator, counted
from bot.services.calendar import StudyHalf
from bot.services.errors import Refusal
from bot.services.stats import StatsReport
from handlers.calendar_common import period_label
from handlers.common import answer, cancel_keyboard, fitting, place_name
from handlers.insight_common import (
    asker,
    day,
    duration_hours,
    fraction,
    insight_of,
    may_see_figures,
    percent,
    period_name,
    refuse,
    scope_name,
    unit_name,
    with_typed_period,
)
from storage.models import Region, RegionLevel

TYPING_RANGE = "stats.typing_range"
RANGE_CANCEL = "sx:rc"
PERIOD = r"^sx:p:([a-z0-9-]+)$"
# What the whole message may take (Telegram holds 4096 characters; markup is counted too, so it is never reached).
# Every unit is listed while they fit: a county such as 乐清市 has more than twenty townships and streets, and each
# one's staff look for theirs. Only names too long for one message (official names in English) leave the last
# ones counted instead.
MESSAGE_BUDGET = 3900
TOP_AREAS = 6


def _joined(pairs: Iterable[tuple[str, int]], t: Translator) -> str:
    text = t.plain("insight.stats.separator").join(
        t.plain("insight.stats.item", name=name, count=count) for name, count in pairs
    )
    return text or t.plain("insight.none")


def _breakdowns(report: StatsReport, t: Translator) -> list[str]:
    lang = t.language
    severities = sorted(report.by_severity.items(), key=lambda item: -severity_rank(item[0]))
    sources = [(k, report.by_source[k]) for k in SOURCE_LEVELS if k in report.by_source]
    areas = _areas(report, t)
    types = sorted(report.by_type.items(), key=lambda item: (-item[1].found, item[0].value))
    return [
        t("insight.stats.by_severity", items=_joined(((label(k, lang), v.found) for k, v in severities), t)),
        t("insight.stats.by_source", items=_joined(((label(k, lang), v.found) for k, v in sources), t)),
        t("insight.stats.by_area", items=_joined(areas, t)),
        t("insight.stats.by_type",
          items=_joined(((t.plain(f"insight.type.{k.value}"), v.found) for k, v in types), t)),
    ]


def _areas(report: StatsReport, t: Translator) -> list[tuple[str, int]]:
    """The TOP_AREAS areas with the most hazards, then "其他 N" for the rest, so the line adds up to 本期发现. A
    rights-protection (权益保障) hazard is always named: the seed singles it out, and it is only in the figures of
    those allowed to see it (a head's scope leaves it out in SQL), so naming it shows nobody anything new."""
    ranked = sorted(report.by_area.items(), key=lambda item: (-item[1].found, item[0].value))
    shown = [(k, v) for n, (k, v) in enumerate(ranked) if n < TOP_AREAS or k in SENSITIVE_AREAS]
    rest = sum(v.found for k, v in ranked if (k, v) not in shown)
    pairs = [(label(k, t.language), v.found) for k, v in shown]
    return pairs + ([(t.plain("insight.stats.area_rest"), rest)] if rest else [])


# Answers a rebound rate needs before it says anything: "100%" of one answer alarms more than it informs.
REBOUND_MIN_ANSWERS = 5


def _check_backs(report: StatsReport, t: Translator) -> list[str]:
    """The check-backs (回访) asked in the period, only where there was one: no line of zeros for a quiet scope. The
    unanswered ones are named only when there are some; the rebound rate only from REBOUND_MIN_ANSWERS answers on."""
    c = report.check_backs
    if not c.asked:
        return []
    unanswered = t("insight.stats.check_backs_unanswered", count=c.unanswered) if c.unanswered else Html("")
    rebound = (
        t("insight.stats.check_backs_rebound", rate=percent(c.rebound, t))
        if c.answered >= REBOUND_MIN_ANSWERS else Html("")
    )
    return [t("insight.stats.check_backs", asked=c.asked, holds=c.holds, again=c.again, unanswered=unanswered,
              rebound=rebound)]


def _inspections(report: StatsReport, t: Translator) -> str:
    """The monthly self-inspections: a rate over the months that have ended, and the running month's progress
    apart, with its due day, since nobody has missed it yet; the rate alone where no month is running."""
    if report.running_due is None:
        return t("insight.stats.inspections", inspections=fraction(report.inspections, t))
    due = day(report.running_due)
    done, owed = report.inspections_running.part, report.inspections_running.whole
    if report.inspections.whole == 0:
        return t("insight.stats.inspections_running", done=done, owed=owed, due=due)
    return t("insight.stats.inspections_both", inspections=fraction(report.inspections, t), done=done, owed=owed,
             due=due)


def _unit_backlog(period_overdue: int, backlog_overdue: int, t: Translator) -> str:
    """A place's 逾期 is its own hazards of the period, as the headline counts them, so the lines add up to it. Where
    hazards found before the period are overdue too, the whole backlog is named beside it, labelled as such (the
    动态清零 line's figure for the place); nothing where the two are the same."""
    if backlog_overdue == period_overdue:
        return ""
    return t("insight.stats.unit_backlog", overdue=backlog_overdue)


def _study(halves: Sequence[StudyHalf], t: Translator) -> list[str]:
    """The safety study sessions (一(一), every half-year) of the bureaus in the scope, for each half-year the period
    reaches: how many held one, and the others by name, said missed once the half-year is over."""
    lines = []
    for half in halves:
        owed, done = len(half.held) + len(half.not_held), len(half.held)
        words = {"period": period_label(half.period, t), "done": done, "owed": owed, "end": half.period.end.isoformat(),
                 "names": t.plain("warn.list_separator").join(_bureau(unit, t) for unit in half.not_held)}
        key = "insight.stats.study_all" if not half.not_held else (
            "insight.stats.study_missed" if half.ended else "insight.stats.study_pending")
        lines.append(t(key, **words))
    return lines


def _bureau(unit: Region, t: Translator) -> str:
    return t.plain("insight.stats.study_city_bureau") if unit.level is RegionLevel.CITY else place_name(unit, t)


def render(report: StatsReport, institution: str | None, t: Translator, study: Sequence[StudyHalf] = ()) -> str:
    h = report.hazards
    ack_hours = None if report.median_ack_minutes is None else report.median_ack_minutes / 60
    parts = [
        # A period that has ended is told as it stood at its end, and says so; a running one as it stands now.
        t("insight.stats.header_ended" if report.ended else "insight.stats.header",
          scope=scope_name(report.scope, report.regions, institution, t), period=period_name(report.period, t),
          as_of=day(report.as_of)),
        t("insight.stats.hazards", found=h.found, closed=h.closed, unresolved=h.unresolved, overdue=h.overdue),
        # Withdrawn (作废) ones were never rectified: named apart, out of the rectification rate.
        *([t(counted("insight.stats.withdrawn", h.withdrawn), count=h.withdrawn)] if h.withdrawn else []),
        t("insight.stats.rates", rectification=percent(h.rectification, t), on_time=percent(h.punctuality, t),
          median=duration_hours(report.median_close_hours, t)),
        t("insight.stats.backlog_ended" if report.ended else "insight.stats.backlog",
          unresolved=report.backlog_unresolved, overdue=report.backlog_overdue),
        *_breakdowns(report, t),
        t("insight.stats.duties", drills=fraction(report.drills, t), inspections=_inspections(report, t)),
        *_study(study, t),
        t("insight.stats.warnings", acks=fraction(report.acks, t), median=duration_hours(ack_hours, t)),
        *_check_backs(report, t),
    ]
    if report.units:
        city = report.scope.level is ScopeLevel.CITY
        heading = t("insight.stats.units_county" if city else "insight.stats.units_township")
        lines = [
            t("insight.stats.unit", name=unit_name(u.code, report.regions, t), found=u.hazards.found,
              on_time=percent(u.hazards.punctuality, t), overdue=u.hazards.overdue,
              backlog=_unit_backlog(u.hazards.overdue, u.backlog_overdue, t), drills=percent(u.drills, t),
              acks=percent(u.acks, t))
            for u in report.units
        ]
        more_key = "insight.stats.units_more_county" if city else "insight.stats.units_more_township"
        room = MESSAGE_BUDGET - sum(len(part) + 1 for part in parts) - len(heading) - len(t(more_key, count=0)) - 8
        shown = fitting(lines, room)
        if len(shown) < len(lines):
            hidden = len(lines) - len(shown)
            shown.append(t(counted(more_key, hidden), count=hidden))
        parts.append("\n".join([heading, *shown]))
    return "\n".join(parts)


def keyboard(report: StatsReport, t: Translator, today_periods: dict[PeriodKind, StatsPeriod]) -> InlineKeyboardMarkup:
    shown = report.period

    def period_button(key: str, period: StatsPeriod) -> InlineKeyboardButton:
        text = t.plain(key)
        return InlineKeyboardButton(f"• {text}" if period == shown else text, callback_data=f"sx:p:{period.token}")

    token = shown.token
    rows = [
        [
            period_button("button.stats_month", today_periods[PeriodKind.MONTH]),
            period_button("button.stats_quarter", today_periods[PeriodKind.QUARTER]),
            period_button("button.stats_year", today_periods[PeriodKind.YEAR]),
            InlineKeyboardButton(t.plain("button.stats_range"), callback_data="sx:r"),
        ]
    ]
    charts = []
    if report.scope.level is not ScopeLevel.INSTITUTION:
        charts.append(InlineKeyboardButton(t.plain("button.chart_units"), callback_data=f"ch:u:{token}"))
    charts.append(InlineKeyboardButton(t.plain("button.chart_trend"), callback_data=f"ch:t:{token}"))
    if report.scope.level is not ScopeLevel.INSTITUTION:
        charts.append(InlineKeyboardButton(t.plain("button.chart_drills"), callback_data=f"ch:d:{token}"))
    charts.append(InlineKeyboardButton(t.plain("button.chart_acks"), callback_data=f"ch:w:{token}"))
    rows.append(charts)
    rows.append([
        InlineKeyboardButton(t.plain("button.export_xlsx"), callback_data=f"ex:x:{token}"),
        InlineKeyboardButton(t.plain("button.export_csv"), callback_data=f"ex:c:{token}"),
    ])
    return InlineKeyboardMarkup(rows)


async def _show(update: Update, context: BotContext, period: StatsPeriod | None) -> None:
    found = await asker(update, context)
    if found is None:
        return
    caller, user = found
    stats = insight_of(context).stats
    today = stats.today()
    period = period or current_period(PeriodKind.MONTH, today)
    try:
        report = await stats.report(user, period)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "stats")
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    institution = None
    if user.institution_id is not None:
        record = await context.services.storage.institutions.get(user.institution_id)
        institution = None if record is None else place_name(record, caller.t)
    periods = {kind: current_period(kind, today) for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)}
    studies = context.services.studies
    units = [] if report.scope.level is ScopeLevel.INSTITUTION else await studies.units_under(report.scope.region_code)
    halves = await studies.halves(units, report.period.start, report.as_of)
    text = render(report, institution, caller.t, halves)
    try:
        await answer(update, text, reply_markup=keyboard(report, caller.t, periods),
                     edit=update.callback_query is not None)
    except BadRequest as error:
        # The same period pressed again, with nothing changed since: the message already says it.
        if "not modified" not in error.message:
            raise


async def show_stats(update: Update, context: BotContext) -> None:
    await with_typed_period(update, context, _show)


async def chose_period(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    # _show answers the press: with the figures, or with the refusal.
    await _show(update, context, period_from_token((query.data or "").removeprefix("sx:p:")))


async def asked_for_range(update: Update, context: BotContext) -> str | int:
    found = await asker(update, context)
    if found is None:
        return ConversationHandler.END
    caller, user = found
    if not await may_see_figures(update, context, caller, user, "stats"):
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    await answer(update, caller.t("insight.range.ask"), reply_markup=cancel_keyboard(caller.t, RANGE_CANCEL))
    return TYPING_RANGE


async def typed_range(update: Update, context: BotContext) -> str | int:
    message = update.effective_message
    found = await asker(update, context)
    if message is None or found is None:
        return ConversationHandler.END
    parsed = parse_range(message.text or "")
    if isinstance(parsed, RangeProblem):
        t = found[0].t
        await answer(update, t(f"insight.range.{parsed.value}"), reply_markup=cancel_keyboard(t, RANGE_CANCEL))
        return TYPING_RANGE
    await _show(update, context, parsed)
    return ConversationHandler.END


async def cancelled(update: Update, context: BotContext) -> int:
    found = await asker(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
    if found is not None:
        await answer(update, found[0].t("cancel.done"), edit=update.callback_query is not None)
    return ConversationHandler.END


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("stats", show_stats, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(chose_period, pattern=PERIOD))
    application.add_handler(
        ConversationHandler(
            name="stats_range",
            persistent=True,
            entry_points=[CallbackQueryHandler(asked_for_range, pattern=r"^sx:r$")],
            states={TYPING_RANGE: [MessageHandler(filters.TEXT & ~filters.COMMAND, typed_range)]},
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=f"^{RANGE_CANCEL}$"),
            ],
            allow_reentry=True,
        )
    )
