"""/tasks: the hazards waiting for the caller, overdue first, a page at a time, each one a tap from its dossier."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.i18n import Translator
from bot.services.hazards import TaskItem
from handlers.common import answer, identify
from handlers.hazard_buttons import TASKS_PAGE, list_keyboard, list_lines, page_pressed
from handlers.notify import hazard_params
from storage.models import Institution

PAGE_SIZE = 5


def _line(item: TaskItem, institution: Institution | None, t: Translator, tz: ZoneInfo) -> str:
    params = hazard_params(item.hazard, institution, t, tz)
    line = t("tasks.line_overdue", **params) if item.overdue else t("tasks.line", **params)
    if item.only_you_verify:
        # Four eyes with nobody else to verify: said, so that the fix is not left waiting for a verifier who is not.
        line += "\n" + t("tasks.only_you_verify")
    return line


async def _show(update: Update, context: BotContext, page_number: int) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    t, services = caller.t, context.services
    page = await services.hazards.tasks(caller.user, page_number, PAGE_SIZE)
    editing = update.callback_query is not None
    if not page.items:
        await answer(update, t("tasks.empty"), edit=editing)
        return
    tz = services.settings.tz
    lines = await list_lines(services.storage.institutions, page, lambda item, place: _line(item, place, t, tz))
    header = t("tasks.header", total=page.total, page=page.page + 1, pages=page.pages)
    keyboard = list_keyboard(page, t, "tk:page:{page}")
    await answer(update, "\n\n".join([header, *lines]), reply_markup=keyboard, edit=editing)


async def show_tasks(update: Update, context: BotContext) -> None:
    await _show(update, context, 0)


async def turned_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await _show(update, context, page_pressed(query, TASKS_PAGE))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("tasks", show_tasks, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(turned_page, pattern=TASKS_PAGE))
