"""The chart buttons under /stats: hazards by county (or township) stacked by state, the weekly trend of found vs
closed, fire-drill compliance by county, and the acknowledgement curve of one warning, each sent as a photo.

Drawing takes a few hundred milliseconds of CPU, so it runs in a worker thread while the chat shows "sending a
photo…"; the figures come from the same service as /stats, for the presser's own scope.
"""

from __future__ import annotations

import asyncio
import re

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain.lifecycle import HazardState
from bot.domain.stats import PeriodKind, Ratio, StatsPeriod, current_period, period_from_token
from bot.i18n import Translator, counted
from bot.services import charts
from bot.services.errors import Refusal
from bot.services.stats import StatsService
from handlers.common import answer
from handlers.insight_common import asker, insight_of, may_see_figures, percent, period_name, refuse, unit_name
from handlers.repeats import Press, answered_repeat, first_press
from storage.models import User
from storage.repositories.stats import OVERDUE_STATE

CHART = re.compile(r"^ch:([utdw]):([a-z0-9-]+)$")
WARNING = re.compile(r"^ch:a:(\d+)$")
# An open hazard past its deadline is its own band (OVERDUE_STATE, first and darkest): what the ranking counts first.
STATES = (
    OVERDUE_STATE,
    HazardState.REPORTED,
    HazardState.ASSIGNED,
    HazardState.RECTIFYING,
    HazardState.AWAITING_VERIFICATION,
    HazardState.CLOSED,
    HazardState.WITHDRAWN,
)
# From warm (still to do) to green (done), so a county's bar reads at a glance; withdrawn (作废) in grey: ended, not
# rectified.
STATE_COLOURS = ("#7f0000", "#d62728", "#ff7f0e", "#f2c12e", "#98df8a", "#2ca02c", "#9e9e9e")


def _state_label(state: str, t: Translator) -> str:
    return t.plain("insight.chart.overdue") if state == OVERDUE_STATE else t.plain(f"state.{state}")


async def _units(stats: StatsService, user: User, period: StatsPeriod, t: Translator) -> charts.Chart:
    counts = await stats.states_by_unit(user, period)
    regions = {r.code: r for r in await stats.regions()}
    codes = sorted(counts)
    stacks = [
        charts.Series(_state_label(state, t), tuple(float(counts[c].get(str(state), 0)) for c in codes))
        for state in STATES
    ]
    title = t.plain("insight.chart.units", period=period_name(period, t))
    names = [unit_name(c, regions, t) for c in codes]
    return await asyncio.to_thread(
        charts.stacked_bars, title, names, stacks, t.plain("insight.chart.count"), STATE_COLOURS
    )


async def _trend(stats: StatsService, user: User, period: StatsPeriod, t: Translator) -> charts.Chart:
    trend = await stats.weekly_trend(user, period)
    lines = [
        charts.Series(t.plain("insight.chart.found"), tuple(float(n) for n in trend.found)),
        charts.Series(t.plain("insight.chart.closed"), tuple(float(n) for n in trend.closed)),
    ]
    title = t.plain("insight.chart.trend", period=period_name(period, t))
    # Weeks start on Monday; the first one is labelled by the period's first day, not the Monday before it (a chart of
    # October began at "09-28"), as its count holds only what the period holds.
    weeks = [max(week, period.start) for week in trend.weeks]
    return await asyncio.to_thread(charts.weekly_lines, title, weeks, lines, t.plain("insight.chart.count"))


async def _drills(stats: StatsService, user: User, period: StatsPeriod, t: Translator) -> charts.Chart:
    report = await stats.report(user, period)
    units = [u for u in report.units if u.drills.whole or u.hazards.found]
    title = t.plain("insight.chart.drills", as_of=report.as_of.isoformat())
    return await asyncio.to_thread(
        charts.percentage_bars,
        title,
        [unit_name(u.code, report.regions, t) for u in units],
        [u.drills.rate for u in units],
        t.plain("insight.chart.no_institutions"),
    )


async def _send(update: Update, chart: charts.Chart, caption: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_photo(chart.png, caption=caption)


async def pressed_chart(update: Update, context: BotContext) -> None:
    query = update.callback_query
    found = await asker(update, context)
    match = CHART.match(query.data or "") if query is not None else None
    if query is None or found is None or match is None:
        return
    caller, user = found
    if not await may_see_figures(update, context, caller, user, "chart"):
        return
    if match.group(1) == "w":  # the warning picker: a list of buttons, not a picture
        await query.answer()
        stats = insight_of(context).stats
        period = period_from_token(match.group(2)) or current_period(PeriodKind.MONTH, stats.today())
        try:
            await _warning_picker(update, stats, user, period, caller.t)
        except Refusal as refusal:
            await refuse(update, context, caller, refusal, "chart", answered=True)
        return
    async with first_press(update, context, user.telegram_id, "chart") as press:
        if await _repeated(query, press, caller.t):
            return
        # Drawing takes a while: the press is answered first, so a later refusal comes as a message.
        await query.answer()
        stats = insight_of(context).stats
        period = period_from_token(match.group(2)) or current_period(PeriodKind.MONTH, stats.today())
        t = caller.t
        try:
            chat = update.effective_chat
            if chat is not None:
                await chat.send_chat_action(ChatAction.UPLOAD_PHOTO)
            draw = {"u": _units, "t": _trend, "d": _drills}[match.group(1)]
            chart = await draw(stats, user, period, t)
        except Refusal as refusal:
            await refuse(update, context, caller, refusal, "chart", answered=True)
            return
        await _send(update, chart, t("insight.chart.caption", title=chart.title))
        press.sent()



async def _repeated(query: CallbackQuery, press: Press, t: Translator) -> bool:
    return await answered_repeat(query, press, t, "insight.chart.just_sent", "insight.chart.on_its_way")


async def _warning_picker(update: Update, stats: StatsService, user: User, period: StatsPeriod, t: Translator) -> None:
    warnings = await stats.recent_warnings(user, period)
    if not warnings:
        await answer(update, t("insight.chart.no_warnings", period=period_name(period, t)))
        return
    rows = [[InlineKeyboardButton(text[:60], callback_data=f"ch:a:{warning_id}")] for warning_id, text in warnings]
    await answer(update, t("insight.chart.pick_warning"), reply_markup=InlineKeyboardMarkup(rows))


async def pressed_warning(update: Update, context: BotContext) -> None:
    query = update.callback_query
    found = await asker(update, context)
    match = WARNING.match(query.data or "") if query is not None else None
    if query is None or found is None or match is None:
        return
    caller, user = found
    stats, t = insight_of(context).stats, caller.t
    async with first_press(update, context, user.telegram_id, "chart") as press:
        if await _repeated(query, press, t):
            return
        try:
            curve = await stats.ack_curve(user, int(match.group(1)))
        except Refusal as refusal:
            # The press's one answer: answered before, the alert would be refused and the person never told why.
            await refuse(update, context, caller, refusal, "chart")
            return
        await query.answer()
        if curve.sent_at is None:
            return
        chat = update.effective_chat
        if chat is not None:
            await chat.send_chat_action(ChatAction.UPLOAD_PHOTO)
        chart = await asyncio.to_thread(
            charts.cumulative_curve,
            t.plain("insight.chart.acks", headline=curve.headline[:40]),
            curve.sent_at,
            curve.answers,
            curve.reached,
            context.services.clock.now(),
            t.plain("insight.chart.answered"),
            t.plain("insight.chart.hours_after"),
        )
        caption = t(counted("insight.chart.acks_caption", curve.reached), answered=len(curve.answers),
                    reached=curve.reached, percent=percent(Ratio(len(curve.answers), curve.reached), t))
        await _send(update, chart, caption)
        press.sent()


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(pressed_chart, pattern=CHART))
    application.add_handler(CallbackQueryHandler(pressed_warning, pattern=WARNING))
