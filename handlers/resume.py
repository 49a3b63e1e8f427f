"""Unfinished journeys: a journey whose answers are kept in a draft can be put aside and taken up again.

A person logging a drill who sent /selfcheck half-way, or a cadre who looked something up in the middle of a report,
came back with /drill or /report and found their answers thrown away: the command always started afresh. Here a
journey says where its draft stands (`Unfinished`), and its command, finding something already entered, asks
whether to carry on at the saved step or start over. The same description serves the journey switch, which says
what it put aside and how to get back to it, /start and /help, which mention it, and an old button pressed while a
journey waits, which is told where the journey waits and sees that step's question again.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.i18n import LANGUAGES
from handlers.common import Caller, answer, identify, typed_label
from handlers.conversations import step_of
from handlers.hazard_buttons import replace_buttons

RESUMING = "resuming"  # the state of a journey whose command asked: carry on, or start over?
PRESS = re.compile(r"^rs:(\w+):(go|new)$")
# Typed at the question, besides the buttons' own labels (in either language): what people shorten them to.
TYPED = {"继续": "go", "continue": "go", "重来": "new", "start again": "new"}
# The question last asked, remembered (SQLite claims) so that a newer question, or a typed answer, takes its buttons
# away: two /report in a row left two questions whose older ▶ still looked alive.
OFFER_MEMORY = timedelta(days=30)


@dataclass(frozen=True)
class Unfinished:
    """Where a draft stands: the step to ask again (a state of the journey), its number and a brief of what is in.
    A journey that counts items rather than steps (the self-inspection's sheet) gives `of`, the items there are:
    `number` is then how many are answered, and it is described as "已答 3/12 项", not as a step."""

    step: str
    number: int
    brief: str
    of: int | None = None


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
        """The state RESUMING: the two buttons of the question, or their labels typed."""
        return [
            CallbackQueryHandler(self._chose, pattern=rf"^rs:{self.name}:(go|new)$"),
            MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, self._typed),
        ]

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
        await self._take_back_offer(update, context)
        sent = await answer(update, self.describe(caller, found, "resume.offer"), reply_markup=keyboard)
        chat = update.effective_chat
        if sent is not None and chat is not None:
            note = json.dumps({"message": sent.message_id, "text": sent.text_html}, ensure_ascii=False)
            await context.services.claims.remember(chat.id, self._offer_key, OFFER_MEMORY, note=note)
        return RESUMING

    @property
    def _offer_key(self) -> str:
        return f"resume.offer:{self.name}"

    async def _take_back_offer(self, update: Update, context: BotContext) -> None:
        """The buttons of the question last asked in this chat go: answered, or asked again."""
        chat = update.effective_chat
        if chat is None:
            return
        asked = await context.services.claims.recall(chat.id, self._offer_key)
        if asked is None or asked.note is None:
            return
        offer = json.loads(asked.note)
        # Deleted by the person, or its buttons already gone: there is nothing to take back.
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_text(offer["text"], chat_id=chat.id, message_id=offer["message"],
                                                reply_markup=None)

    async def _typed(self, update: Update, context: BotContext) -> str | int:
        """▶ 继续填写 or 🔄 重新开始 typed rather than pressed counts as pressed, as other steps' labels do."""
        caller = await identify(update, context)
        message = update.effective_message
        if caller is None or caller.user is None or message is None:
            return ConversationHandler.END
        t = caller.t
        labels = {**TYPED}
        for language in LANGUAGES:  # a label seen in the other language, as the audit's testers typed it
            other = context.services.i18n.get(language)
            labels[other.plain("resume.button_continue")] = "go"
            labels[other.plain("resume.button_afresh")] = "new"
        choice = typed_label(message.text, labels)
        if choice is None:
            await answer(update, t("flow.use_buttons"))
            return RESUMING
        await self._take_back_offer(update, context)
        return await self._went(update, context, caller, await self._carried_on(context, caller, choice))

    def describe(self, caller: Caller, found: Unfinished, key: str) -> str:
        """`key`'s sentence about the draft; its `_items` form for a journey that counts items (never offered)."""
        t = caller.t
        if found.of is not None:
            key, total = f"{key}_items", {"total": found.of}
        else:
            total = {}
        return t(key, journey=t.plain(f"resume.journey.{self.name}"), number=found.number, brief=found.brief,
                 back=t.plain(f"resume.back.{self.name}"), **total)

    async def _chose(self, update: Update, context: BotContext) -> str | int:
        caller = await identify(update, context)
        query = update.callback_query
        if caller is None or caller.user is None or query is None or self.ask is None or self.afresh is None:
            return ConversationHandler.END
        match = PRESS.match(query.data or "")
        choice = match.group(2) if match is not None else "go"
        found = await self._carried_on(context, caller, choice)
        if choice == "go" and found is None:
            # Finished, cancelled or started over since the question was asked: nothing is left to carry on.
            await query.answer(caller.t.plain("resume.gone"), show_alert=True)
        else:
            await query.answer()
        await _settled(query.message)
        return await self._went(update, context, caller, found)

    async def _carried_on(self, context: BotContext, caller: Caller, choice: str) -> Unfinished | None:
        """The draft to carry on with for "go"; None for "new" (or nothing left to carry on)."""
        return await self.unfinished(context, caller) if choice == "go" else None

    async def _went(self, update: Update, context: BotContext, caller: Caller, found: Unfinished | None) -> str | int:
        """Carry on at the saved step (`found`), or start over (None: "new", or nothing left to carry on)."""
        assert self.ask is not None and self.afresh is not None
        if found is None:
            return await self.afresh(update, context, caller)
        return await self.ask(update, context, caller, found.step)


async def _settled(message: object) -> None:
    """The question loses its buttons once answered: pressed again, it would be answered as an old button."""
    if isinstance(message, Message):
        await replace_buttons(message, None)


RESUMABLE: dict[str, Resumable] = {}


def resumable(journey: Resumable) -> Resumable:
    RESUMABLE[journey.name] = journey
    return journey


async def waiting_at(
    context: BotContext,
    caller: Caller,
    steps: list[ConversationHandler[Any]],
    chat_id: int,
    user_id: int,
    *,
    askable: bool = False,
) -> tuple[Resumable, Unfinished] | None:
    """Of the journeys waiting for the person (`steps`), the first that keeps a draft agreeing with the step its
    conversation waits at (with `askable`, of those that can ask a step again): the journey, and where its draft
    stands. None when no waiting journey can say so."""
    for step in steps:
        journey = RESUMABLE.get(step.name or "")
        if journey is None or (askable and journey.ask is None):
            continue
        found = await journey.unfinished(context, caller)
        if found is not None and step_of(step, chat_id, user_id) == found.step:
            return journey, found
    return None


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
