"""/mine (我的上报): the hazards the caller reported, as FixMyStreet's "Your reports", so a reporter follows each one
to its end without keeping its code: the unresolved first, then those closed recently, newest first, a page at a
time, each a tap from its dossier (the Details button checks again who may see it)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.lifecycle import REPORTER_CLOSED_WINDOW
from bot.i18n import Translator, counted
from bot.services.hazards import TaskItem
from handlers.common import answer, identify
from handlers.hazard_buttons import MINE_PAGE, list_keyboard, list_lines, names_homes, page_homes, page_pressed
from handlers.notify import hazard_params, when
from storage.models import Institution

PAGE_SIZE = 5
DAYS = REPORTER_CLOSED_WINDOW.days


def _line(item: TaskItem, institution: Institution | None, t: Translator, tz: ZoneInfo, reader_id: int) -> str:
    params = hazard_params(item.hazard, institution, t, tz)
    params["reported"] = when(item.hazard.reported_at, tz, t)
    # One she added her report to (a follower) rather than reported herself is marked so (（补充） / (added to)).
    added = reader_id != item.hazard.reporter_id and reader_id in item.hazard.followers
    params["added"] = t.plain("mine.added_tag") if added else ""
    if item.hazard.withdrawal_category is not None:  # withdrawn (作废): the reporter reads why
        category = t.plain(f"withdraw.category.{item.hazard.withdrawal_category}")
        return t("mine.line_withdrawn", category=category, reason=item.hazard.withdrawal_reason or "—", **params)
    return t("mine.line_overdue" if item.overdue else "mine.line", **params)


async def _show(update: Update, context: BotContext, page_number: int) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    t, services = caller.t, context.services
    page = await services.hazards.reported(caller.user, page_number, PAGE_SIZE)
    editing = update.callback_query is not None
    if not page.items:
        if page.closed_before:
            text = t(counted("mine.empty_closed_before", page.closed_before), count=page.closed_before, days=DAYS)
        else:
            text = t("mine.empty")
        await answer(update, text, edit=editing)
        return
    tz = services.settings.tz
    reader = caller.user.telegram_id
    homes = await page_homes(services.storage.institutions, [item.hazard for item in page.items])
    lines = list_lines(homes, page, lambda item, place: _line(item, place, t, tz, reader))
    # Staff report at many homes: each button starts with its hazard's home, as its line above names it.
    keyboard = list_keyboard(page, t, "mn:page:{page}", homes if names_homes(caller.user) else None)
    # One who added to others' reports reads them here too, marked （补充）: the heading names both.
    heading = "mine.header_with_added" if page.adds else "mine.header"
    parts = [t(heading, total=page.total, page=page.page + 1, pages=page.pages), *lines]
    if page.closed_before:
        parts.append(t(counted("mine.closed_before", page.closed_before), count=page.closed_before, days=DAYS))
    await answer(update, "\n\n".join(parts), reply_markup=keyboard, edit=editing)


async def show_mine(update: Update, context: BotContext) -> None:
    await _show(update, context, 0)


async def turned_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    # A page past the end (the list shrank, or a made-up number) shows the last page there is.
    await _show(update, context, page_pressed(query, MINE_PAGE))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("mine", show_mine, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(turned_page, pattern=MINE_PAGE))
