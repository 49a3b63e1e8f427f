"""/ranking: the monthly ranking — counties for city admins, the institutions of their county for county staff —
by overdue hazards, then on-time rate, self-inspections, drill compliance and acknowledgement rate, in the order
bot/domain/ranking.py gives and explains."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.stats import PeriodKind, StatsPeriod, current_period, period_from_token, previous_month
from bot.services.errors import Refusal
from handlers.common import answer, is_private, page_row
from handlers.insight_common import asker, insight_of, refuse, scope_name
from handlers.notice_text import ranking_hides, ranking_page_text, ranking_text

PERIOD = re.compile(r"^rk:([a-z0-9-]+)$")
# A page of the whole ranking of a period (📋 完整排名): the top and the bottom ten leave a big county's middle
# out (中间 272 名略), and a clerk asked where one home stands had nowhere to look.
FULL = re.compile(r"^rkp:([a-z0-9-]+):(\d+)$")


async def _show(update: Update, context: BotContext, period: StatsPeriod | None, page: int | None = None) -> None:
    """The ranking of `period` (last month by default): the summary, or (`page`) a page of the whole order."""
    found = await asker(update, context)
    if found is None:
        return
    caller, user = found
    insight = insight_of(context)
    today = insight.stats.today()
    period = period or previous_month(today)
    try:
        ranking = await insight.notices.ranking(user, period)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "ranking")
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    t = caller.t
    regions = {r.code: r for r in await insight.stats.regions()}
    scope = scope_name(ranking.scope, regions, None, t)
    if page is not None:
        text, shown, pages = ranking_page_text(ranking, scope, t, page)
        rows = page_row(shown, pages, t, lambda number: f"rkp:{period.token}:{number}")
        rows.append([InlineKeyboardButton(t.plain("button.ranking_summary"), callback_data=f"rk:{period.token}")])
        keyboard = InlineKeyboardMarkup(rows)
    else:
        text = ranking_text(ranking, scope, t)
        choices = [(previous_month(today), "button.ranking_last_month"),
                   (current_period(PeriodKind.MONTH, today), "button.ranking_this_month")]
        rows = [[
            InlineKeyboardButton(("• " if p == period else "") + t.plain(key), callback_data=f"rk:{p.token}")
            for p, key in choices
        ]]
        if ranking_hides(ranking, t):
            rows.append([InlineKeyboardButton(t.plain("button.ranking_full"), callback_data=f"rkp:{period.token}:0")])
        keyboard = InlineKeyboardMarkup(rows)
    try:
        await answer(update, text, reply_markup=keyboard, edit=update.callback_query is not None)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def show_ranking(update: Update, context: BotContext) -> None:
    if is_private(update):
        await _show(update, context, None)


async def chose_period(update: Update, context: BotContext) -> None:
    query = update.callback_query
    match = PERIOD.match(query.data or "") if query is not None else None
    if query is None or match is None:
        return
    # _show answers the press: with the ranking, or with the refusal.
    await _show(update, context, period_from_token(match.group(1)))


async def turned_full_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    match = FULL.match(query.data or "") if query is not None else None
    if query is None or match is None:
        return
    # Checked again as /ranking is (_show: who may see which ranking), at every page.
    await _show(update, context, period_from_token(match.group(1)), int(match.group(2)))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("ranking", show_ranking, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(chose_period, pattern=PERIOD))
    application.add_handler(CallbackQueryHandler(turned_full_page, pattern=FULL))
