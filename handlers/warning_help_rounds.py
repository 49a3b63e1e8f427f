"""A page listing several untaken calls for help (handlers.warning_help_pager's rounds), once one of its calls is
taken or resolved: a line under it for that call, and that call's button gone (for the one who took it, ✅ 已解决
for it in its place), the other calls' buttons kept. The pressed page is redrawn at once; the colleagues' copies
are edited from the outbox's record of the delivered pages, best effort, as the copies of a single alert."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.context import BotContext
from bot.i18n import Html, Translator
from handlers.warning_help_pager import CITY_ROUND_PREFIX, ROUND_PREFIX, whom
from handlers.warning_outbox import edit_delivered, markup_json, translator_for
from handlers.warning_text import HELP_RESOLVE, HELP_TAKE, resolve_help_button
from handlers.warnstatus import edit_in_place
from storage.warning_models import HelpRequest

if TYPE_CHECKING:
    from bot.services_factory import BotServices

# The round pages a call can be on: a person gets one a round, for a few hours.
COPIES = 200


def is_round(buttons: list[tuple[str, str]], t: Translator) -> bool:
    """Whether a message's buttons (label, data) are those of a page listing several calls: its ✋ and ✅ name
    the call's institution (a single alert's say only ✋ 我来处理 / ✅ 已解决)."""
    plain = {t.plain("help.button_take"), t.plain("help.button_resolve")}
    return any(data.startswith("wh:") and label not in plain for label, data in buttons)


def _rows_without(
    rows: list[list[tuple[str, str]]], request_id: int, instead: InlineKeyboardButton | None
) -> tuple[list[list[InlineKeyboardButton]], bool]:
    """The page's buttons with the call's own replaced by `instead` (or gone); whether the call had one."""
    own = {f"{HELP_TAKE}:{request_id}", f"{HELP_RESOLVE}:{request_id}"}
    kept: list[list[InlineKeyboardButton]] = []
    found = False
    for row in rows:
        new: list[InlineKeyboardButton] = []
        for label, data in row:
            if data in own:
                found = True
                if instead is not None:
                    new.append(instead)
            else:
                new.append(InlineKeyboardButton(label, callback_data=data))
        if new:
            kept.append(new)
    return kept, found


async def redraw_pressed(
    services: BotServices, message: Message, request: HelpRequest, line: str, t: Translator, *, mine: bool
) -> bool:
    """The page the call was taken or resolved under, if it lists several calls: False when it is a single alert
    (its caller redraws it as such). `mine`: the presser holds the call open, and gets ✅ 已解决 for it."""
    markup = message.reply_markup
    rows = [[(b.text, str(b.callback_data or "")) for b in row] for row in (markup.inline_keyboard if markup else ())]
    if not is_round([b for row in rows for b in row], t):
        return False
    institution = await whom(services, request, t)
    instead = resolve_help_button(request.id, t, institution) if mine else None
    kept, found = _rows_without(rows, request.id, instead)
    text = message.text_html
    if found:
        text = Html(f"{text}\n{t('help.round_state', institution=institution, state=line)}")
    await edit_in_place(message, text, InlineKeyboardMarkup(kept) if kept else None)
    return True


async def edit_copies(
    context: BotContext, request: HelpRequest, pressed: Message | None,
    line_for: Callable[[Translator], Awaitable[str]],
) -> None:
    """The other delivered pages still offering ✋ for the call: each says who has it now, without its button."""
    services = context.services
    for prefix in (f"{ROUND_PREFIX}:", f"{CITY_ROUND_PREFIX}:"):
        copies = await services.storage.outbox.delivered_offering(prefix, f"{HELP_TAKE}:{request.id}", limit=COPIES)
        for copy in copies:
            if copy.message_id is None or (
                pressed is not None and (copy.chat_id, copy.message_id) == (pressed.chat_id, pressed.message_id)
            ):
                continue
            t = await translator_for(services, copy.chat_id)
            line = await line_for(t)
            raw: list[list[dict[str, Any]]] = (copy.payload.reply_markup or {}).get("inline_keyboard", [])
            rows = [[(str(b.get("text", "")), str(b.get("callback_data", ""))) for b in row] for row in raw]
            if is_round([b for row in rows for b in row], t):
                kept, _ = _rows_without(rows, request.id, None)
                text = Html(f"{copy.payload.text}\n"
                            f"{t('help.round_state', institution=await whom(services, request, t), state=line)}")
                markup = InlineKeyboardMarkup(kept) if kept else None
            else:  # a round of one call: as its single alert
                text, markup = Html(f"{copy.payload.text}\n\n{line}"), None
            await edit_delivered(context, copy, text, markup)
            await services.storage.outbox.record_text(copy.id, text)
            await services.storage.outbox.record_buttons(copy.id, markup_json(markup))
