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

A message that mentions the bot, or a reply to the bot's message that carries a photo, a video or a file, gets the
same pointer, in the same window (`spoken_to_in_group`); a photo sent that way is offered to its sender in the
private chat. A plain text reply to the bot's message ("收到，马上处理" under a reminder) is an acknowledgement to
the group, not a request to the bot: it gets nothing, as other chatter does. The rule is the one a member can
predict: @ the bot, or show it something, and it answers; talk under its posts, and it stays out of the way.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ConversationHandler

from bot.context import BotContext
from handlers.common import Caller, answer, identify, topic_of
from handlers.photo_offer import may_report, offer_photo

log = logging.getLogger(__name__)

POINTER_WINDOW = timedelta(minutes=5)
ADDRESSED = "@"  # the window's key for messages that mention the bot or reply to it


async def to_private_chat(update: Update, context: BotContext, command: str) -> None:
    """One line in the group, in the sender's language if we know them (else the city's), and a button to the chat;
    or, within the window of an earlier one, a line in the sender's own private chat when they are registered."""
    caller = await identify(update, context)
    chat = update.effective_chat
    if caller is None or chat is None:
        return
    if command not in _commands(context):
        # Not a command of ours anywhere (/unbind, a typo): "use it in the private chat" sent people to look for it
        # there. Said plainly instead, under the same window.
        if await context.services.claims.first_within(chat.id, f"group_pointer:{topic_of(update) or 0}:{command}",
                                                      POINTER_WINDOW):
            t = caller.t if caller.user is not None or caller.former else context.services.i18n.get(None)
            await answer(update, t("group.unknown_command", command=command))
        return
    await _point(update, context, caller, command, "group.use_private_chat", "group.use_private_chat_here",
                 command=command, group=chat.title or "")


def _commands(context: BotContext) -> set[str]:
    """Every command some handler of the bot answers (a journey's entry, a conversation's fallback)."""
    names: set[str] = set()
    for handlers in context.application.handlers.values():
        for handler in handlers:
            inner = [*handler.entry_points, *handler.fallbacks] if isinstance(handler, ConversationHandler) else []
            for each in (handler, *inner):
                if isinstance(each, CommandHandler):
                    names |= each.commands
    return names


def addressed_to_bot(message: Message, bot: Bot) -> bool:
    """Whether a group message speaks to the bot: an @mention of it (in the text or a photo's caption), or a reply to
    one of its messages that carries a photo, a video or a file (a text reply is talk among the group: "收到").
    In a forum every message of a topic replies to the topic's first message: not to us."""
    replied = message.reply_to_message
    if (replied is not None and replied.forum_topic_created is None and replied.from_user is not None
            and replied.from_user.id == bot.id and carries_media(message)):
        return True
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    mentions = {**message.parse_entities(kinds), **message.parse_caption_entities(kinds)}
    username = (bot.username or "").lower()
    return any(
        (entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id)
        or (entity.type == MessageEntity.MENTION and username and word[1:].lower() == username)
        for entity, word in mentions.items()
    )


def carries_media(message: Message) -> bool:
    """A photo, a video or a file: something shown to the bot, which a reply to it may mean to report."""
    return bool(message.photo or message.video or message.document)


async def spoken_to_in_group(update: Update, context: BotContext) -> None:
    """A message that mentions the bot, or replies to it with a photo or a file, in a bound group
    ("@bot 楼道里堆满纸箱", a photo captioned so): as silent as ordinary chatter, it read as the bot being down. It
    gets the commands' pointer, under the same window (one key for every such message, whatever it says). A
    registered person who may report and sent a photo finds it offered in their private chat, as if sent there; if
    the bot may not write to them, the group's line is all they get."""
    caller = await identify(update, context)
    chat, message = update.effective_chat, update.effective_message
    if caller is None or chat is None or message is None:
        return
    offered = False
    if message.photo and caller.user is not None and await may_report(context, caller):
        try:
            await offer_photo(context, caller, message, caller.user.telegram_id, group=chat.title or "")
            offered = True
        except TelegramError:
            log.info("could not offer %s's group photo in their private chat", caller.user.telegram_id)
    await _point(update, context, caller, ADDRESSED, "group.addressed_use_private_chat",
                 None if offered else "group.addressed_here", group=chat.title or "")


async def _point(update: Update, context: BotContext, caller: Caller, what: str, group_key: str,
                 private_key: str | None, **params: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    claims = context.services.claims
    where = f"group_pointer:{topic_of(update) or 0}:{what}"
    if await claims.first_within(chat.id, where, POINTER_WINDOW):
        t = caller.t if caller.user is not None or caller.former else context.services.i18n.get(None)
        button = InlineKeyboardButton(t.plain("group.open_private_chat"), url=f"https://t.me/{context.bot.username}")
        await answer(update, t(group_key, **params), reply_markup=InlineKeyboardMarkup([[button]]))
        return
    person = caller.user
    if private_key is None or person is None:
        return
    if not await claims.first_within(person.telegram_id, f"{where}:{chat.id}", POINTER_WINDOW):
        return
    try:
        await context.bot.send_message(person.telegram_id, caller.t(private_key, **params))
    except TelegramError:
        # Blocked, or unreachable for now: the group's reply is there to read all the same.
        log.info("could not point %s to the private chat for %s in group %s", person.telegram_id, what, chat.id)
