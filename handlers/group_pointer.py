"""A command of the private chat typed in a bound group (`/report`, `/tasks` …): its journeys answer only in the
private chat, and silence there read as the bot being down, so the group is told where to go, with a button to it.

Once per `POINTER_WINDOW` for each command in each group (each forum topic: a reply in one topic is not seen from
another). When a warning arrives or a meeting asks everyone to report, ten people type /report within a minute, and
ten identical replies buried the conversation they came from. Five minutes: the people typing at the same moment read
the one reply just above their own message; after five minutes of a work group's talk it has scrolled away, and a new
one is worth its line (at most twelve an hour per command). Remembered in SQLite (`claims`), so a restart does not
start the replies again.

A registered person who types the command inside the window still needs to learn where it works: the group's reply
may be in another person's language, or missed. They hear it in their private chat, where the command works, once per
window (tapping it again adds nothing). Nobody else is written to: a stranger or a former member has no private chat
the bot may open, and the reply in the group stays readable to them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.context import BotContext
from handlers.common import answer, identify, topic_of

log = logging.getLogger(__name__)

POINTER_WINDOW = timedelta(minutes=5)


async def to_private_chat(update: Update, context: BotContext, command: str) -> None:
    """One line in the group, in the sender's language if we know them (else the city's), and a button to the chat;
    or, within the window of an earlier one, a line in the sender's own private chat when they are registered."""
    caller = await identify(update, context)
    chat = update.effective_chat
    if caller is None or chat is None:
        return
    claims = context.services.claims
    where = f"group_pointer:{topic_of(update) or 0}:{command}"
    if await claims.first_within(chat.id, where, POINTER_WINDOW):
        t = caller.t if caller.user is not None or caller.former else context.services.i18n.get(None)
        button = InlineKeyboardButton(t.plain("group.open_private_chat"), url=f"https://t.me/{context.bot.username}")
        await answer(update, t("group.use_private_chat", command=command),
                     reply_markup=InlineKeyboardMarkup([[button]]))
        return
    person = caller.user
    if person is None or not await claims.first_within(person.telegram_id, f"{where}:{chat.id}", POINTER_WINDOW):
        return
    try:
        await context.bot.send_message(
            person.telegram_id, caller.t("group.use_private_chat_here", command=command, group=chat.title or "")
        )
    except TelegramError:
        # Blocked, or unreachable for now: the group's reply is there to read all the same.
        log.info("could not point %s to the private chat for /%s typed in group %s", person.telegram_id, command,
                 chat.id)
