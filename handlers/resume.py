"""Unfinished journeys: a journey whose answers are kept in a draft can be put aside and taken up again.

A person logging a drill who sent /selfcheck half-way, or a cadre who looked something up in the middle of a report,
came back with /drill or /report and found their answers thrown away: the command always started afresh. Here a
journey says where its draft stands (`Unfinished`), and its command, finding something already entered, asks
whether to carry on at the saved step or start over. The same description serves the journey switch, which says
what it put aside and how to get back to it, /start and /help, which mention it, and an old button pressed while a
journey waits, which is told where the journey waits and sees that step's question again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from bot.context import BotContext
from handlers.common import Caller, answer, identify
from handlers.hazard_buttons import replace_buttons

RESUMING = "resuming"  # the state of a journey whose command asked: carry on, or start over?
PRESS = re.compile(r"^rs:(\w+):(go|new)$")


@dataclass(frozen=True)
class Unfinished:
    """Where a draft stands: the step to ask again (a state of the journey), its number and a brief of what is in."""

    step: str
    number: int
    brief: str


Reader = Callable[[BotContext, Caller], Awaitable[Unfinished | None]]
Step = Callable[[Update, BotContext, Caller, str], Awaitable[str | int]]
Start = Callable[[Update, BotContext, Caller], Awaitable[str | int]]


@dataclass(frozen=True)
class Resumable:
    """A journey that can be taken up again. `name`: its conversation's name (and the locale keys'
    `resume.journey.<name>`, `resume.back.<name>`); `unfinished`: where the person's draft stands, None when there
    is nothing they entered; `ask`: ask the question of a step again, returning the state; `afresh`: discard the
    draft and start over. A journey with no `afresh` is never offered (its own entry resumes it), only described."""

    name: str
    unfinished: Reader
    ask: Step | None = None
    afresh: Start | None = None

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        """The state RESUMING: the two buttons of the question."""
        return [CallbackQueryHandler(self._chose, pattern=rf"^rs:{self.name}:(go|new)$")]

    async def offer(self, update: Update, context: BotContext, caller: Caller) -> str | None:
        """Ask whether to carry on, when the person has an unfinished draft; None (nothing said) when not."""
        found = await self.unfinished(context, caller)
        if found is None:
            return None
        t = caller.t
        keyboard = InlineKeyboardMarkup([
            [InlineKeyboardButton(t.plain("resume.button_continue"), callback_data=f"rs:{self.name}:go")],
            [InlineKeyboardButton(t.plain("resume.button_afresh"), callback_data=f"rs:{self.name}:new")],
        ])
        await answer(update, self.describe(caller, found, "resume.offer"), reply_markup=keyboard)
        return RESUMING

    def describe(self, caller: Caller, found: Unfinished, key: str) -> str:
        t = caller.t
        return t(key, journey=t.plain(f"resume.journey.{self.name}"), number=found.number, brief=found.brief,
                 back=t.plain(f"resume.back.{self.name}"))

    async def _chose(self, update: Update, context: BotContext) -> str | int:
        caller = await identify(update, context)
        query = update.callback_query
        if caller is None or caller.user is None or query is None or self.ask is None or self.afresh is None:
            return ConversationHandler.END
        match = PRESS.match(query.data or "")
        found = await self.unfinished(context, caller)
        if match is not None and match.group(2) == "new":
            await query.answer()
            await _settled(query.message)
            return await self.afresh(update, context, caller)
        if found is None:
            # Finished, cancelled or started over since the question was asked: nothing is left to carry on.
            await query.answer(caller.t.plain("resume.gone"), show_alert=True)
            await _settled(query.message)
            return await self.afresh(update, context, caller)
        await query.answer()
        await _settled(query.message)
        return await self.ask(update, context, caller, found.step)


async def _settled(message: object) -> None:
    """The question loses its buttons once answered: pressed again, it would be answered as an old button."""
    if isinstance(message, Message):
        await replace_buttons(message, None)


RESUMABLE: dict[str, Resumable] = {}


def resumable(journey: Resumable) -> Resumable:
    RESUMABLE[journey.name] = journey
    return journey


async def unfinished_lines(context: BotContext, caller: Caller, names: list[str] | None = None) -> list[str]:
    """"You have an unfinished …, send … to carry on", for each of the person's unfinished journeys (of `names`)."""
    lines = []
    for name, journey in RESUMABLE.items():
        if names is not None and name not in names:
            continue
        found = await journey.unfinished(context, caller)
        if found is not None:
            lines.append(journey.describe(caller, found, "resume.kept"))
    return lines
