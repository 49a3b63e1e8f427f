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
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import Update
from telegram.constants import ChatMemberStatus

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import Translator, counted
from bot.services.onboarding import PersonReach, Unreachable
from bot.services.people import describe_scope
from handlers.common import Caller, answer, fitting, tell_each
from storage.models import User
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority

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


# Names in one summary of people refused at once, within SUMMARY_BUDGET characters; the others counted.
SUMMARY_NAMES = 30
SUMMARY_BUDGET = 3000
# The summary gathers the news of this long after the first, which goes at once.
SUMMARY_AFTER = timedelta(minutes=1)


class ReachWords:
    """The onboarding service's `ReachNotices`: the news worded in each supervisor's language and queued in the
    outbox, urgent when a person can no longer be reached, inside the transaction that records it.

    Many people out of reach at once (a warning to a county freshly imported, whose people never opened the bot;
    a mass block) were one message each to every supervisor: 298 to one clerk, burying the warning's own messages.
    Now the first in a minute is told at once, as before; the others of that minute join one summary for each
    supervisor, held to the minute's end and sent after the chat's other messages (`Priority.BULK`)."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, reach: PersonReach) -> None:
        if reach.how is None:
            await self._tell(reach, "back", reach.tell)
            return
        outbox, now, person = self._services.storage.outbox, self._services.clock.now(), reach.person.telegram_id
        minute = now.replace(second=0, microsecond=0)
        first = f"reach:lost:{minute:%Y%m%dT%H%M}"
        for supervisor in reach.tell:
            chat = supervisor.telegram_id
            told = await outbox.get_by_key(f"{first}:chat:{chat}")
            summary = await outbox.get_by_key(f"{first}:more:chat:{chat}")
            if told is None:
                await self._tell(reach, reach.how.value, [supervisor], f"{first}:chat:{chat}")
            elif person in (*told.payload.about, *(summary.payload.about if summary else ())):
                # Blocked again within the minute (back in between): news of its own, at once, never held.
                again = 1
                while await outbox.get_by_key(f"{first}:{person}:{again}:chat:{chat}") is not None:
                    again += 1
                await self._tell(reach, reach.how.value, [supervisor], f"{first}:{person}:{again}:chat:{chat}")
            else:
                await self._join_summary(reach, supervisor, f"{first}:more:chat:{chat}", minute + SUMMARY_AFTER)

    async def _tell(self, reach: PersonReach, state: str, people: Sequence[User], key: str | None = None) -> None:
        # The person's scope is named in each supervisor's language: read once per language, not per supervisor.
        translators = {t.language: t for t in (self._services.i18n.get(s.language) for s in people)}
        who = {language: await self._who(reach.person, t) for language, t in translators.items()}
        priority = Priority.NORMAL if reach.how is None else Priority.URGENT

        def words(t: Translator) -> str:
            return t(f"reach.{state}", who=who[t.language])

        if key is None:
            await tell_each(self._services, people, f"user:{reach.person.telegram_id}:{state}", words, priority)
            return
        about = (reach.person.telegram_id,)  # whom it told of: a later block of theirs is not held in the summary
        await self._services.outbox.enqueue([
            NewOutboxMessage(dedupe_key=key, chat_id=person.telegram_id, priority=priority,
                             payload=OutboxPayload(text=words(self._services.i18n.get(person.language)), about=about))
            for person in people
        ])

    async def _join_summary(self, reach: PersonReach, supervisor: User, key: str, at: datetime) -> None:
        """The supervisor's summary of the minute, with this person in it: queued with the first, rewritten with each
        later one while it waits (a summary gone already, the clock having jumped, is followed by another)."""
        outbox = self._services.storage.outbox
        waiting = await outbox.get_by_key(key)
        about = (*(waiting.payload.about if waiting is not None else ()), reach.person.telegram_id)
        t = self._services.i18n.get(supervisor.language)
        payload = OutboxPayload(text=await self._summary(about, t), about=about)
        if waiting is not None and await outbox.rewrite_waiting(waiting.id, payload):
            return
        if waiting is not None:  # on its way already: this one alone
            key, payload = f"{key}:{reach.person.telegram_id}", OutboxPayload(
                text=await self._summary((reach.person.telegram_id,), t))
        await self._services.outbox.enqueue([NewOutboxMessage(
            dedupe_key=key, chat_id=supervisor.telegram_id, payload=payload, priority=Priority.BULK, not_before=at)])

    async def _summary(self, about: Sequence[int], t: Translator) -> str:
        people = {user.telegram_id: user for user in await self._services.storage.users.get_many(about[:SUMMARY_NAMES])}
        lines = [t.plain("reach.lost_line", who=await self._who(people[i], t)) for i in about if i in people]
        names = fitting(lines, SUMMARY_BUDGET, most=SUMMARY_NAMES)
        text: str = t(counted("reach.lost_more", len(about)), count=len(about), names="\n".join(names))
        if len(names) < len(about):
            text += t("reach.lost_more_rest", count=len(about) - len(names))
        return text

    async def _who(self, person: User, t: Translator) -> str:
        scope = await describe_scope(
            self._services.storage, person.region_code, person.institution_id, t.language
        )
        return t.plain("reach.who", name=person.full_name, role=t.plain(f"role.{person.role.value}"), scope=scope)
