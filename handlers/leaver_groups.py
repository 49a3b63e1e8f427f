"""A person whose access ended may still sit in a bound group, where the bot posts every new hazard: ending the
access stops what the bot sends them in private, not what they read in a group. So whoever ended it is told which
bound groups still have them (the bot asks Telegram, group by group), with a button to remove them from each group
where the bot is an admin allowed to remove members. Removing is a ban lifted at once (banChatMember, then
unbanChatMember): they are out, and can be added again later if they come back.

The button is stateless and checked at each press: staff, a person whose access has ended and whom the presser may
manage, a group that is still bound.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Bot, ChatMember, ChatMemberAdministrator, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.context import BotContext
from bot.i18n import Html, Translator, clipped
from bot.services.errors import Refusal
from handlers.common import BUTTON_CHARACTERS, Caller, answer, popup_text
from storage.models import Group, User

if TYPE_CHECKING:
    from storage import Storage

log = logging.getLogger(__name__)

REMOVE = re.compile(r"^pp:kick:(\d+):(-?\d+)$")
_PRESENT = {ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER}


@dataclass(frozen=True)
class StillIn:
    group: Group
    removable: bool  # the bot is an admin there that may remove members, and the person is a plain member


async def groups_still_holding(bot: Bot, storage: Storage, telegram_id: int) -> list[StillIn]:
    """The bound groups (one per chat, whatever its topics) that the person is still a member of, as Telegram says."""
    chats: dict[int, Group] = {}
    for group in await storage.groups.within(None):
        chats.setdefault(group.chat_id, group)
    found = []
    for chat_id, group in chats.items():
        try:
            member = await bot.get_chat_member(chat_id, telegram_id)
            present = member.status in _PRESENT or getattr(member, "is_member", False)
            if not present:
                continue
            removable = False
            if member.status == ChatMember.MEMBER:
                me = await bot.get_chat_member(chat_id, bot.id)
                removable = isinstance(me, ChatMemberAdministrator) and me.can_restrict_members
        except (BadRequest, Forbidden) as error:
            # A group the bot has left or cannot ask: nothing it could tell, nor do, about it. (Telegram itself out of
            # reach is the caller's to say.)
            log.info("could not ask group %s about member %s: %s", chat_id, telegram_id, type(error).__name__)
            continue
        found.append(StillIn(group, removable))
    return found


async def tell_still_in_groups(update: Update, context: BotContext, person: User, t: Translator) -> None:
    """After the access ended: the presser hears which bound groups still have the person, if any."""
    try:
        found = await groups_still_holding(context.bot, context.services.storage, person.telegram_id)
    except TelegramError as error:
        log.warning("could not ask the bound groups about %s: %s", person.telegram_id, type(error).__name__)
        return
    if not found:
        return
    titles = t.plain("warn.list_separator").join(item.group.title for item in found)
    lines = [t("people.still_in_groups", name=person.full_name, groups=titles)]
    rows = [[InlineKeyboardButton(
        clipped(t.plain("people.remove_from_group", group=item.group.title), BUTTON_CHARACTERS),
        callback_data=f"pp:kick:{person.telegram_id}:{item.group.chat_id}",
    )] for item in found if item.removable]
    if len(rows) < len(found):
        lines.append(t("people.still_in_groups_not_admin"))
    await answer(update, Html("\n".join(lines)), reply_markup=InlineKeyboardMarkup(rows) if rows else None)


async def remove_from_group(update: Update, context: BotContext, caller: Caller) -> None:
    """The button: the person removed from the group (banned, then unbanned so they can be added again later)."""
    query = update.callback_query
    assert query is not None and query.data is not None and caller.user is not None
    match = REMOVE.match(query.data)
    assert match is not None
    services, t = context.services, caller.t
    try:
        person = await services.people.leaver(caller.user, int(match.group(1)))
    except Refusal as refusal:
        await query.answer(popup_text(t, refusal), show_alert=True)
        return
    chat_id = int(match.group(2))
    group = next((g for g in await services.storage.groups.within(None) if g.chat_id == chat_id), None)
    if group is None:
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return
    try:
        await context.bot.ban_chat_member(chat_id, person.telegram_id)
    except TelegramError as error:
        log.info("could not remove %s from group %s: %s", person.telegram_id, chat_id, type(error).__name__)
        await query.answer(t.plain("people.remove_failed", name=person.full_name, group=group.title),
                           show_alert=True)
        return
    try:
        await context.bot.unban_chat_member(chat_id, person.telegram_id, only_if_banned=True)
    except TelegramError as error:  # a basic group keeps no ban list: they are out all the same
        log.info("could not lift the ban of %s in group %s: %s", person.telegram_id, chat_id, type(error).__name__)
    await services.storage.audit.append(
        caller.user.telegram_id, "group.member_removed", target=f"user:{person.telegram_id}",
        detail={"chat_id": chat_id, "reason": "access_ended"},
    )
    await query.answer()
    await answer(update, t("people.removed_from_group", name=person.full_name, group=group.title))
