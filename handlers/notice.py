"""/notice (city admins): draft the monthly notice (通报) — ranking, praise and the negative list — review it, and
send it to every bound group through the outbox.

The preview shows exactly the text the groups will get (in the bot's default language), and the Send button
carries that text's fingerprint: if the figures moved between preview and press, a fresh preview is shown instead
of sending something nobody reviewed. Sending the same notice twice queues nothing the second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.delivery import OutboxSender
from bot.domain.roles import Role
from bot.domain.stats import StatsPeriod, period_from_token, previous_month
from bot.i18n import Translator, counted
from bot.services.errors import Refusal
from bot.services.notices import NoticeDraft, fingerprint
from handlers.common import answer, is_private, place_name
from handlers.guards import stale_button
from handlers.insight_common import asker, insight_of, period_name, refuse
from handlers.notice_text import notice_text
from storage.outbox_models import BatchProgress

SEND = re.compile(r"^nt:s:([a-z0-9-]+):([0-9a-f]{10})$")
PREVIEW = re.compile(r"^nt:p:([a-z0-9-]+)$")
DELIVERY_WAIT_S = 60.0


async def _draft(context: BotContext, period: StatsPeriod, actor_id: int) -> tuple[NoticeDraft, str] | None:
    services = context.services
    actor = await services.storage.users.get(actor_id)
    if actor is None:
        return None
    draft = await insight_of(context).notices.draft(actor, period)
    city = await services.storage.regions.city()
    groups_t = services.i18n.get(services.settings.default_language)
    city_name = place_name(city, groups_t) if city is not None else ""
    return draft, notice_text(draft, city_name, groups_t)


def _keyboard(period: StatsPeriod, text: str, groups: int, t: Translator) -> InlineKeyboardMarkup:
    other = previous_month(period.start) if period.start.day == 1 else period
    rows = []
    if groups:
        rows.append([InlineKeyboardButton(t.plain(counted("button.notice_send", groups), groups=groups),
                                          callback_data=f"nt:s:{period.token}:{fingerprint(text)}")])
    rows.append([
        InlineKeyboardButton(t.plain("button.notice_earlier"), callback_data=f"nt:p:{other.token}"),
        InlineKeyboardButton(t.plain("button.cancel"), callback_data="nt:x"),
    ])
    return InlineKeyboardMarkup(rows)


async def _preview(
    update: Update, context: BotContext, period: StatsPeriod, *, changed: bool = False, answered: bool = False
) -> None:
    """The preview of the notice for `period`; a press not yet `answered` is answered with it, or with the refusal."""
    found = await asker(update, context)
    if found is None:
        return
    caller, user = found
    try:
        drafted = await _draft(context, period, user.telegram_id)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "notice", answered=answered)
        return
    if drafted is None:
        return
    if update.callback_query is not None and not answered:
        await update.callback_query.answer()
    draft, text = drafted
    t = caller.t
    key = "insight.notice.changed" if changed else "insight.notice.preview"
    intro = t(counted(key, len(draft.groups)), groups=len(draft.groups), period=period_name(period, t))
    if not draft.groups:
        intro = t("insight.notice.no_groups")
    elif t.language != (groups := context.services.settings.default_language):
        # The preview is what the groups get, word for word; a reader of another language is told why it is not theirs.
        intro += "\n" + t("insight.notice.groups_language", language=t.plain(f"insight.notice.language_{groups}"))
    await answer(update, f"{intro}\n\n{text}", reply_markup=_keyboard(period, text, len(draft.groups), t),
                 edit=update.callback_query is not None)


async def show_notice(update: Update, context: BotContext) -> None:
    if not is_private(update):
        return
    await _preview(update, context, previous_month(insight_of(context).stats.today()))


async def chose_period(update: Update, context: BotContext) -> None:
    query = update.callback_query
    match = PREVIEW.match(query.data or "") if query is not None else None
    if query is None or match is None:
        return
    period = period_from_token(match.group(1))
    if period is None:
        await stale_button(update, context)
        return
    await _preview(update, context, period)


async def pressed_send(update: Update, context: BotContext) -> None:
    query = update.callback_query
    match = SEND.match(query.data or "") if query is not None else None
    found = await asker(update, context)
    if query is None or match is None or found is None:
        return
    caller, user = found
    period = period_from_token(match.group(1))
    if period is None:
        await query.answer(caller.t.plain("fallback.stale_button"), show_alert=True)
        return
    notices = insight_of(context).notices
    try:
        drafted = await _draft(context, period, user.telegram_id)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "notice")
        return
    if drafted is None:
        return
    await query.answer()
    _, text = drafted
    if fingerprint(text) != match.group(2):
        await _preview(update, context, period, changed=True, answered=True)
        return
    try:
        queued = await notices.send(user, period, text)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "notice", answered=True)
        return
    await _deliver(update, context, queued.batch, caller.t)


async def _deliver(update: Update, context: BotContext, batch: str, t: Translator) -> None:
    """Let the outbox send the batch, and turn the preview into a status line that follows the delivery."""
    notices = insight_of(context).notices

    def render(progress: BatchProgress) -> str:
        key = "insight.notice.sent" if progress.done else "insight.notice.sending"
        return t(key, sent=progress.sent, total=progress.meant, failed=progress.undeliverable)

    running = context.bot_data.get("outbox_sender")
    message = update.effective_message
    if isinstance(running, OutboxSender) and message is not None:
        # The bot's own sender is already on it; its self-editing status message keeps this line up to date.
        text = render(await notices.progress(batch))
        await answer(update, text, edit=True)
        running.watch(batch, running.status_message(message.chat_id, message.message_id, render, text=text))
        return
    # A runner without a background sender (tests, scripts): deliver this batch now, for a minute at most; what
    # is left stays queued for whoever sends next.
    sender = OutboxSender(context.application, context.services, worker_id=f"notice-{batch}", outbox=notices.outbox)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.run_until_drained(batch), timeout=DELIVERY_WAIT_S)
    finally:
        await sender.stop()
    await answer(update, render(await notices.progress(batch)), edit=True)


async def cancelled(update: Update, context: BotContext) -> None:
    query = update.callback_query
    found = await asker(update, context)
    if query is None or found is None:
        return
    caller, user = found
    if user.role is not Role.CITY:
        # Only a city admin is ever shown a notice to cancel: anyone else's press is forged.
        await refuse(update, context, caller, Refusal("notice_city_only"), "notice")
        return
    await query.answer()
    await answer(update, caller.t("cancel.done"), edit=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("notice", show_notice, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(chose_period, pattern=PREVIEW))
    application.add_handler(CallbackQueryHandler(pressed_send, pattern=SEND))
    application.add_handler(CallbackQueryHandler(cancelled, pattern=r"^nt:x$"))
