"""A head's copy of a warning, marked with the line saying how they answered, in the language it was written in.

The copy was written in the language the head read when it was delivered; the line and buttons an answer adds were
in the language they read at the answer. Switched with /lang in between, the copy came out with a Chinese body, an
English line and English buttons, and stayed so after switching back. The copy keeps its own language, line and
buttons included, as every other message in the chat keeps the one it was sent in: /lang changes what is said next,
not what was said.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardMarkup

from bot.context import BotContext
from bot.domain.warnings import EarlyWarning
from bot.i18n import Translator
from handlers.warning_ack import labelled_in, with_state
from handlers.warning_outbox import delivered_copy, edit_delivered
from storage.outbox_models import OutboxItem


async def mark_copy(
    context: BotContext,
    warning: EarlyWarning,
    chat_id: int,
    t: Translator,
    line: Callable[[Translator], str],
    markup: Callable[[Translator], InlineKeyboardMarkup | None],
) -> None:
    """Put `line` (in place of an earlier one) and `markup` under the head's delivered copy of the warning, in the
    copy's language (`t` when it cannot be told). Best effort, as every edit of a delivered copy."""
    copy = await delivered_copy(context.services, warning, chat_id)
    if copy is None:
        return
    t = written_in(context, copy) or t
    await edit_delivered(context, copy, with_state(copy.payload.text, line(t)), markup(t))


def written_in(context: BotContext, copy: OutboxItem) -> Translator | None:
    """The language the copy was delivered in, told by its buttons' labels (a head's copy has 🆘 需要帮助); None when
    it has none to tell by."""
    return labelled_in(context, copy.payload.reply_markup)
