"""/export: the problem list and the registers, for the asker's scope and a period, sent as a document.

A city's export can take a minute: meanwhile the chat shows "sending a file…" and one status message edits itself
with the rows written so far (never twice with the same text, never faster than Telegram likes). The buttons under
/stats (`ex:x:<period>`, `ex:c:<period>`) land here too; the scope always comes from the presser.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import time
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.stats import PeriodKind, StatsPeriod, current_period, period_from_token
from bot.i18n import Translator, counted
from bot.services.errors import Refusal
from bot.services.exports import ExportFormat
from handlers.common import answer
from handlers.insight_common import asker, insight_of, may_see_figures, period_name, refuse, with_typed_period
from handlers.repeats import answered_repeat, first_press

EXPORT = re.compile(r"^ex:([xc]):([a-z0-9-]+)$")
EDIT_EVERY = 2.0  # seconds between edits of the status message
ACTION_EVERY = 4.0  # a chat action shows for about five seconds
_RUNNING = "insight_exports"


class StatusMessage:
    """A message that edits itself with progress: only when the text changes, at most every `EDIT_EVERY`."""

    def __init__(self, message: Message) -> None:
        self._message = message
        self._text = message.text or ""
        self._last = time.monotonic()

    async def show(self, text: str, *, final: bool = False) -> None:
        if text == self._text or (not final and time.monotonic() - self._last < EDIT_EVERY):
            return
        try:
            await self._message.edit_text(text)
        except RetryAfter:
            if final:
                raise
            return  # the next report brings newer numbers anyway
        except BadRequest as error:
            if "not modified" not in error.message:
                raise
        self._text, self._last = text, time.monotonic()


async def _keep_uploading(update: Update) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    while True:
        with contextlib.suppress(RetryAfter):
            await chat.send_chat_action(ChatAction.UPLOAD_DOCUMENT)
        await asyncio.sleep(ACTION_EVERY)


def _file_name(period: StatsPeriod, fmt: ExportFormat, t: Translator) -> str:
    name = t.plain("insight.export.file_name", period=period_name(period, t), file_period=_file_period(period))
    return "".join("_" if char in '/\\:*?"<>| ' else char for char in name) + f".{fmt.value}"


def _file_period(period: StatsPeriod) -> str:
    """The period as files name it, so that a folder of exports sorts by date: 2026-09, 2026-Q3, 2026."""
    start = period.start
    if period.kind is PeriodKind.MONTH:
        return f"{start:%Y-%m}"
    if period.kind is PeriodKind.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if period.kind is PeriodKind.YEAR:
        return f"{start.year}"
    return f"{start:%Y-%m-%d}_{period.end:%Y-%m-%d}"


async def _export(update: Update, context: BotContext, period: StatsPeriod, fmt: ExportFormat) -> bool:
    """Whether the file was sent."""
    found = await asker(update, context)
    if found is None:
        return False
    caller, user = found
    t, insight = caller.t, insight_of(context)
    try:
        scope = insight.stats.scope(user)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "export", answered=True)
        return False
    running: set[int] = context.bot_data.setdefault(_RUNNING, set())
    if user.telegram_id in running:
        await answer(update, t("insight.export.busy"))
        return False
    running.add(user.telegram_id)
    try:
        total = await insight.exports.count(scope, period)
        started = t(counted("insight.export.started", total), period=period_name(period, t), total=total)
        sent = await answer(update, started)
        status = StatusMessage(sent) if sent is not None else None

        async def progress(done: int, of: int) -> None:
            if status is not None:
                await status.show(t(counted("insight.export.progress", of), done=done, total=of))

        action = asyncio.create_task(_keep_uploading(update))
        try:
            with tempfile.TemporaryDirectory(prefix="safety-export-") as folder:
                path = Path(folder) / _file_name(period, fmt, t)
                result = await insight.exports.export(
                    scope, period, fmt, path, t, months=period.months(insight.stats.today()), progress=progress
                )
                if status is not None:
                    uploading = t(counted("insight.export.uploading", result.hazards), total=result.hazards)
                    await status.show(uploading, final=True)
                chat = update.effective_chat
                if chat is not None:
                    await chat.send_document(
                        path, filename=path.name,
                        # A CSV holds the problem list alone: "register rows 0" read as if there were none.
                        caption=t(f"insight.export.caption{'_csv' if fmt is ExportFormat.CSV else ''}",
                                  period=period_name(period, t), hazards=result.hazards, registers=result.registers),
                    )
        finally:
            action.cancel()
        if status is not None:
            await status.show(t(counted("insight.export.done", result.hazards), total=result.hazards), final=True)
        detail = {"period": period.token, "format": fmt.value, "rows": result.hazards}
        await context.services.storage.audit.append(user.telegram_id, "export.sent", detail=detail)
    finally:
        running.discard(user.telegram_id)
    return True


def _choices(period: StatsPeriod, t: Translator, today_periods: list[StatsPeriod]) -> InlineKeyboardMarkup:
    names = ("button.stats_month", "button.stats_quarter", "button.stats_year")
    periods = [
        InlineKeyboardButton(("• " if p == period else "") + t.plain(key), callback_data=f"ex:p:{p.token}")
        for key, p in zip(names, today_periods, strict=True)
    ]
    formats = [
        InlineKeyboardButton(t.plain("button.export_xlsx"), callback_data=f"ex:x:{period.token}"),
        InlineKeyboardButton(t.plain("button.export_csv"), callback_data=f"ex:c:{period.token}"),
    ]
    return InlineKeyboardMarkup([periods, formats])


async def _offer(update: Update, context: BotContext, period: StatsPeriod | None) -> None:
    found = await asker(update, context)
    if found is None:
        return
    caller, user = found
    insight = insight_of(context)
    today = insight.stats.today()
    period = period or current_period(PeriodKind.MONTH, today)
    try:
        total = await insight.exports.count(insight.stats.scope(user), period)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "export")
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    periods = [current_period(kind, today) for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)]
    text = caller.t(counted("insight.export.choose", total), period=period_name(period, caller.t), total=total)
    try:
        await answer(update, text, reply_markup=_choices(period, caller.t, periods),
                     edit=update.callback_query is not None)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def show_export(update: Update, context: BotContext) -> None:
    await with_typed_period(update, context, _offer)


async def chose_export_period(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    # _offer answers the press: with the choices, or with the refusal.
    await _offer(update, context, period_from_token((query.data or "").removeprefix("ex:p:")))


async def chose_format(update: Update, context: BotContext) -> None:
    query = update.callback_query
    match = EXPORT.match(query.data or "") if query is not None else None
    found = await asker(update, context)
    if query is None or match is None or found is None:
        return
    caller, user = found
    if not await may_see_figures(update, context, caller, user, "export"):
        return
    async with first_press(update, context, user.telegram_id, "export") as press:
        if await answered_repeat(query, press, caller.t, "insight.export.just_sent", "insight.export.busy"):
            return
        await query.answer()
        period = period_from_token(match.group(2))
        if period is None:
            await answer(update, caller.t("fallback.stale_button"))
            return
        fmt = ExportFormat.XLSX if match.group(1) == "x" else ExportFormat.CSV
        if await _export(update, context, period, fmt):
            press.sent()


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("export", show_export, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(chose_export_period, pattern=r"^ex:p:[a-z0-9-]+$"))
    application.add_handler(CallbackQueryHandler(chose_format, pattern=EXPORT))
