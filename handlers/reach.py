"""A registered person who blocks the bot, and comes back.

Blocked, the bot's notices, reminders and warnings to them all fail. Before, each failure was recorded and nothing
more: a head's hazard waited for its deadline, and a warning's status listed them among many, while nobody knew
that they could not be reached at all. Now their supervisors hear of it at once (from Telegram's word of the block,
or, if the bot missed that, from the first message refused), and again when they are back; the person, back, is
told that what was sent meanwhile did not reach them. When the bot missed the unblocking as well and they do not
write, the outbox sender (`bot.delivery`) and the reminder tick (`handlers.reminders`) end the mark on the first
message that reaches them; the supervisors hear it as here, the person gets no welcome (they just got a message).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.constants import ChatMemberStatus

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import Translator
from bot.services.onboarding import PersonReach, Unreachable
from bot.services.people import describe_scope
from handlers.common import Caller, answer, tell_each
from storage.outbox_models import Priority

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)


async def private_membership_changed(update: Update, context: BotContext) -> None:
    """Telegram's word that a person blocked the bot (their chat with it: member → kicked), or unblocked it."""
    change = update.my_chat_member
    if change is None:
        return
    before, now = change.old_chat_member.status, change.new_chat_member.status
    onboarding = context.services.onboarding
    if now == ChatMemberStatus.BANNED and before != ChatMemberStatus.BANNED:
        reach = await onboarding.person_unreachable(change.from_user.id, Unreachable.BLOCKED)
        if reach is not None:
            log.warning("user %s blocked the bot; %d supervisors told", change.from_user.id, len(reach.tell))
    elif before == ChatMemberStatus.BANNED and now == ChatMemberStatus.MEMBER:
        await _back(update, context, change.from_user.id)


async def wrote_while_marked_unreachable(update: Update, context: BotContext, caller: Caller) -> None:
    """Someone the bot holds for unreachable wrote to it, which only an unblocked chat allows: the bot missed the
    word of the unblocking (down longer than Telegram keeps updates)."""
    await _back(update, context, caller.telegram_user.id)


async def _back(update: Update, context: BotContext, telegram_id: int) -> None:
    reach = await context.services.onboarding.person_back(telegram_id)
    if reach is None:
        return
    t = context.services.i18n.get(reach.person.language)
    key = "reach.welcome_back_cadre" if reach.person.role is Role.CADRE else "reach.welcome_back"
    chat = update.effective_chat
    if update.my_chat_member is not None and chat is not None:
        await chat.send_message(t(key))
    else:
        await answer(update, t(key))


class ReachWords:
    """The onboarding service's `ReachNotices`: the news worded in each supervisor's language and queued in the
    outbox, urgent when a person can no longer be reached, inside the transaction that records it."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, reach: PersonReach) -> None:
        state = "back" if reach.how is None else reach.how.value
        # The person's scope is named in each supervisor's language: read once per language, not per supervisor.
        translators = {t.language: t for t in (self._services.i18n.get(s.language) for s in reach.tell)}
        who = {language: await self._who(reach, t) for language, t in translators.items()}
        await tell_each(
            self._services, reach.tell, f"user:{reach.person.telegram_id}:{state}",
            lambda t: t(f"reach.{state}", who=who[t.language]),
            Priority.NORMAL if reach.how is None else Priority.URGENT,
        )

    async def _who(self, reach: PersonReach, t: Translator) -> str:
        person = reach.person
        scope = await describe_scope(
            self._services.storage, person.region_code, person.institution_id, t.language
        )
        return t.plain("reach.who", name=person.full_name, role=t.plain(f"role.{person.role.value}"), scope=scope)
