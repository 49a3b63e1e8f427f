"""The head's answer to a warning: 已收到并落实 (received, acting) or 需要帮助 (need help).

"Need help" reaches the county's staff at once, day or night: it is queued at urgent priority, ahead of any
broadcast still going out, and says who asks, for which institution and under which warning.
"""

from __future__ import annotations

import json

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.i18n import LANGUAGES, Html, Translator
from bot.services.errors import Refusal
from bot.services.warnings import AckOutcome
from handlers.common import Caller, identify, place_name, popup_text
from handlers.hazard_buttons import replace_buttons
from handlers.warning_outbox import delivered_copy, edit_delivered, queue_personal
from handlers.warning_text import (
    ACK_NEED_HELP,
    ACK_RECEIVED,
    headline,
    help_alert_key,
    help_only_keyboard,
    local_time,
    person_link,
    take_help_keyboard,
    title,
)
from handlers.warnstatus import edit_in_place
from storage.outbox_models import OutboxItem
from storage.warning_models import AckResponse

RESPONSES = {ACK_RECEIVED: AckResponse.RECEIVED, ACK_NEED_HELP: AckResponse.NEED_HELP}


def _parse(query: CallbackQuery) -> tuple[AckResponse, int] | None:
    verb, _, warning_id = (query.data or "").rpartition(":")
    response = RESPONSES.get(verb)
    return None if response is None or not warning_id.isdigit() else (response, int(warning_id))


async def answered(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    query = update.callback_query
    parsed = _parse(query) if query is not None else None
    if caller is None or caller.user is None or query is None or parsed is None:
        return
    response, warning_id = parsed
    services = context.services
    try:
        async with services.storage.db.transaction():
            outcome = await services.warnings.acknowledge(caller.user, warning_id, response)
            if outcome.help is not None:  # a new call for help: once per call, a second press wakes nobody
                await _call_for_help(context, caller, warning_id, outcome)
    except Refusal as refusal:
        if refusal.code == "warning_not_recipient":
            await services.storage.audit.append(
                caller.telegram_user.id, "authz.refused", target=f"warning:{warning_id}", detail={"code": refusal.code}
            )
        await query.answer(popup_text(caller.t, refusal), show_alert=True)
        if refusal.code == "warning_help_still_open" and isinstance(query.message, Message):
            await replace_buttons(query.message, None)  # as under the message they asked from: nothing to press
        return
    t = caller.t
    if outcome.ended is not None:
        await _answered_after_end(context, query, response, outcome, t)
        return
    if response is AckResponse.RECEIVED:
        await query.answer(t.plain("warn.ack_received"))
    else:
        sent = "warn.ack_help_sent_city" if outcome.alerted_city else "warn.ack_help_sent"
        await query.answer(t.plain(sent if outcome.alert_staff else "warn.ack_help_noted"), show_alert=True)
    # A repeated press changes nothing, and an edit into the same message would be refused.
    if (outcome.changed or outcome.help is not None) and isinstance(query.message, Message) and query.message.text:
        # The line and buttons added under the message are in the language it was written in, not the one the
        # head switched to since (/lang): the popup above is what they read now.
        t = labelled_in(context, query.message.reply_markup) or t
        markup: InlineKeyboardMarkup | None = None
        if response is AckResponse.RECEIVED:
            markup = help_only_keyboard(warning_id, t)
        at = local_time(services.clock.now(), services.settings.tz)
        line = t("warn.state_received" if response is AckResponse.RECEIVED else "warn.state_need_help", at=at)
        await edit_in_place(query.message, with_state(query.message.text_html, line), markup)
        await _mark_the_warning(context, warning_id, query.message, line, markup)


async def _mark_the_warning(
    context: BotContext, warning_id: int, pressed: Message, line: str, markup: InlineKeyboardMarkup | None
) -> None:
    """An answer given from another message (the buttons shown after a typed 收到, or an older revision's) marks the
    warning itself too: left with its buttons, it read as still unanswered. Best effort, as the help lines are."""
    services = context.services
    copy = await delivered_copy(services, await services.warnings.get(warning_id), pressed.chat_id)
    if copy is None or copy.message_id == pressed.message_id:
        return
    await mark_delivered(context, copy, line, markup)


async def mark_delivered(
    context: BotContext, copy: OutboxItem, line: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Put `line` (how the head answered, or how their call stands) under a delivered copy of the warning, in place of
    an earlier one. Best effort: a copy that can no longer be edited (deleted, too old) is left as it is."""
    await edit_delivered(context, copy, with_state(copy.payload.text, line), markup)


def labelled_in(context: BotContext, markup: InlineKeyboardMarkup | dict[str, object] | None) -> Translator | None:
    """The language a head's copy of a warning was written in, told by its buttons' labels (it has 🆘 需要帮助);
    None when it has none to tell by."""
    if markup is None:
        return None
    labels = json.dumps(markup.to_dict() if isinstance(markup, InlineKeyboardMarkup) else markup, ensure_ascii=False)
    for language in LANGUAGES:
        t = context.services.i18n.get(language)
        if t.plain("warn.button_need_help") in labels:
            return t
    return None


def with_state(text: str, line: str) -> Html:
    """The warning with `line` (how the head answered, or how their call stands) under it, in place of an earlier
    one."""
    return Html(f"{without_state(text)}\n\n{line}")


def without_state(text: str) -> str:
    """The warning as sent, without the line an earlier answer added under it (a second answer replaces it)."""
    body, gap, last = text.rpartition("\n\n")
    return body if gap and "\n" not in last and last.startswith(("✅ ", "🆘 ")) else text


async def _answered_after_end(
    context: BotContext, query: CallbackQuery, response: AckResponse, outcome: AckOutcome, t: Translator
) -> None:
    """The warning has ended: no answer is needed (none was recorded), and the message's buttons go. A call for help
    still went to staff, as the pop-up says."""
    assert outcome.ended is not None
    when = local_time(outcome.ended.at, context.services.settings.tz)
    ended = t.plain("warn.ended_lifted" if outcome.ended.lifted else "warn.ended_expired", at=when)
    city = "_city" if outcome.alerted_city else ""  # who was alerted: the county's staff, or the city admins
    if outcome.help is not None:
        text = t.plain(f"warn.ack_help_after_end{city}", ended=ended)
    elif response is AckResponse.NEED_HELP:  # their call, raised before, is still open: nobody is woken twice
        text = t.plain(f"warn.ack_help_open_after_end{city}", ended=ended)
    else:
        text = t.plain("warn.ack_after_end", ended=ended)
    await query.answer(text, show_alert=True)
    if outcome.help is not None and isinstance(query.message, Message) and query.message.text:
        # The head's copy shows the call as it would under a warning in force (in place of an earlier answer's line).
        services = context.services
        line = t("warn.state_need_help", at=local_time(services.clock.now(), services.settings.tz))
        await edit_in_place(query.message, with_state(query.message.text_html, line), None)
    elif isinstance(query.message, Message) and query.message.reply_markup is not None:
        await replace_buttons(query.message, None)


async def _call_for_help(context: BotContext, caller: Caller, warning_id: int, outcome: AckOutcome) -> None:
    assert caller.user is not None and outcome.help is not None
    services = context.services
    request = outcome.help
    warning = await services.warnings.get(warning_id)
    institutions = [await services.storage.institutions.get(i) for i in request.institutions]
    who = caller.telegram_user
    person = person_link(who.id, caller.user.full_name)

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        names = t.plain("warn.list_separator").join(
            place_name(i, t) for i in institutions if i is not None
        ) or "—"
        return t("warn.help_alert", name=person, institution=names, title=title(warning, t),
                 headline=headline(warning, t)), take_help_keyboard(request.id, t)

    await queue_personal(services, outcome.alert_staff, help_alert_key(request), render)


def register(application: Application) -> None:  # type: ignore[type-arg]
    for verb in (ACK_RECEIVED, ACK_NEED_HELP):
        application.add_handler(CallbackQueryHandler(answered, pattern=rf"^{verb}:\d+$"))
