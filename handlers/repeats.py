"""Double taps on a button that sends a file or a picture (the export and chart buttons under /stats).

Presses in one chat are handled one after another: the second tap of a double tap comes once the first file or
picture is sent, and did all the work again (a second spreadsheet, a second chart). A press of the same button on
the same message, by the same person, within `REPEAT_WINDOW` of the first one's file is that second tap: it is
answered "just sent" (or "on its way" while the first is still at work) and nothing is sent again. The press is
remembered in SQLite (`bot/services/claims.py`), so a restart between the two taps does not send it twice.

    async with first_press(update, context, user.telegram_id, "export") as press:
        if press.repeat is not None:
            ...  # answer the press with the repeat's words; nothing else
            return
        ...  # the work
        press.sent()  # only then does the window start; work that failed or was refused may be asked for again
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.i18n import Translator
from bot.services.claims import Claim

REPEAT_WINDOW = timedelta(seconds=60)


class Repeat(Enum):
    ON_ITS_WAY = "on_its_way"  # the first press is still at work
    JUST_SENT = "just_sent"


@dataclass
class Press:
    repeat: Repeat | None
    _sent: bool = False

    def sent(self) -> None:
        self._sent = True


async def answered_repeat(query: CallbackQuery, press: Press, t: Translator, just_sent: str, on_its_way: str) -> bool:
    """A second tap: answered with where the first one's file or picture is (`just_sent` or `on_its_way`, catalog
    keys), and that is all. False for a first press."""
    if press.repeat is None:
        return False
    await query.answer(t.plain(just_sent if press.repeat is Repeat.JUST_SENT else on_its_way))
    return True


@asynccontextmanager
async def first_press(update: Update, context: BotContext, person: int, what: str) -> AsyncIterator[Press]:
    query = update.callback_query
    message_id = query.message.message_id if query is not None and query.message is not None else 0
    claims = context.services.claims
    # Claimed in SQLite before the work starts: a restart inside the window remembers the press, and of two presses
    # racing (two processes, or concurrent updates) only one wins.
    claim = await claims.take(person, f"{what}:{message_id}:{query.data if query is not None else ''}")
    if not isinstance(claim, Claim):
        yield Press(Repeat.ON_ITS_WAY if claim.worker is not None else Repeat.JUST_SENT)
        return
    press = Press(None)
    try:
        yield press
    finally:
        if press._sent:
            await claims.finish(claim, REPEAT_WINDOW)
        else:
            await claims.release(claim)
