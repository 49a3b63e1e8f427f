"""Putting warning-related messages into the outbox, and showing the sender how delivery goes.

Everything a warning sends (the warning itself, drafts for staff, reminders, calls for help, contact lists) goes
through the outbox: written in the caller's transaction, delivered by the sender at Telegram's pace, retried, and
never twice for one dedupe key. This module holds the plumbing those share; the wording lives with each journey.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.context import BotContext
from bot.delivery import OutboxSender
from bot.delivery_status import StatusMessage, progress_text
from bot.domain.roles import Role, region_in_scope
from bot.domain.warnings import EarlyWarning, WarningChange
from bot.i18n import Translator
from bot.services.staff import first_told
from storage.db import patiently
from storage.models import User
from storage.outbox_models import BatchProgress, DeliveryState, NewOutboxMessage, OutboxItem, OutboxPayload, Priority
from storage.repositories.broadcast_status import BroadcastStatus, BroadcastStatusRepository

if TYPE_CHECKING:
    from bot.services_factory import BotServices

# A broadcast's status message older than this is left as it is: nobody is watching it any more.
RESUME_WINDOW = timedelta(days=1)

log = logging.getLogger(__name__)

Render = Callable[[Translator], tuple[str, InlineKeyboardMarkup | None]]


def warning_batch(warning_id: int, revision: int) -> str:
    return f"warning:{warning_id}:rev:{revision}"


async def delivered_copy(services: BotServices, warning: EarlyWarning, chat_id: int) -> OutboxItem | None:
    """The newest revision of the warning delivered to this chat that is not its 【解除】, from the outbox's record:
    the message a head reads as the warning, where the line saying how they answered belongs. None when none was
    delivered (or Telegram gave no message id)."""
    lifts = {r.revision for r in await services.warnings.revisions(warning.id) if r.change is WarningChange.CANCEL}
    for revision in range(warning.revision, 0, -1):
        if revision in lifts:
            continue
        found = await services.storage.outbox.get_by_key(f"{warning_batch(warning.id, revision)}:chat:{chat_id}")
        if found is not None and found.state is DeliveryState.SENT and found.message_id is not None:
            return found
    return None


async def edit_delivered(context: BotContext, copy: OutboxItem, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Rewrite a message the outbox delivered (a colleague's copy of an alert or an escalation, a head's warning).
    Best effort: a copy that can no longer be edited (deleted, too old) is left as it is, and a press on it is
    answered rightly all the same."""
    assert copy.message_id is not None
    try:
        await context.bot.edit_message_text(text, chat_id=copy.chat_id, message_id=copy.message_id,
                                            reply_markup=markup)
    except TelegramError as error:
        log.info("the message %s in chat %s was not edited: %s", copy.dedupe_key, copy.chat_id, error)


async def translator_for(services: BotServices, chat_id: int) -> Translator:
    """A person reads their own language; groups, and people who have left, read the bureau's default."""
    user = await services.storage.users.get(chat_id) if chat_id > 0 else None
    return services.i18n.get(user.language if user is not None and user.active else None)


def fixed(text: str, markup: InlineKeyboardMarkup | None = None) -> Render:
    """A message already worded (in the one language its reader reads)."""
    return lambda _: (text, markup)


def markup_json(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    return None if markup is None else markup.to_dict()


async def queue_personal(
    services: BotServices,
    chat_ids: Iterable[int],
    key: str,
    render: Render,
    *,
    priority: Priority = Priority.URGENT,
    batch: str | None = None,
    silent: bool = False,
    not_before: datetime | None = None,
) -> int:
    """One message to each person, in their language; `key` names the message, the chat completes its key.
    `silent`: without a sound; `not_before`: held until then."""
    messages = []
    for chat_id in dict.fromkeys(chat_ids):
        text, markup = render(await translator_for(services, chat_id))
        messages.append(
            NewOutboxMessage(
                dedupe_key=f"{key}:chat:{chat_id}",
                chat_id=chat_id,
                payload=OutboxPayload(text=text, reply_markup=markup_json(markup), disable_notification=silent),
                priority=priority,
                not_before=not_before,
            )
        )
    return await services.outbox.enqueue(messages, batch=batch) if messages else 0


async def staff_answerable(services: BotServices, regions: Iterable[str]) -> list[User]:
    """Staff who may act on a warning over these regions: county staff whose county holds every one of them, and
    the city admins (the service refuses anyone else, so nobody gets a button they cannot use)."""
    wanted = sorted(set(regions))
    found: dict[int, User] = {}
    for region in wanted:
        for user in await services.storage.users.staff_for_region(region):
            found.setdefault(user.telegram_id, user)
    return [
        user
        for user in found.values()
        if user.role is Role.CITY or all(region_in_scope(user.region_code, region) for region in wanted)
    ]


async def county_staff(services: BotServices, region_code: str) -> list[int]:
    """Who hears about a place at once: its county's staff, or the city admins where the county has none."""
    return [user.telegram_id for user in await first_told(services.storage, region_code)]


async def show_progress(context: BotContext, chat_id: int, t: Translator, batch: str, total: int) -> None:
    """The sender's one status message, edited as the outbox delivers ("sent x / y, failed z").

    It is recorded, so that after a restart the new sender takes it up (`resume_progress`). With no sender running
    in this process (tests, the command line) the rows simply wait for one; the message shows the queued total.
    """
    services = context.services
    text = progress_text(BatchProgress(batch=batch, total=total), t)
    message = await context.bot.send_message(chat_id, text)
    status = BroadcastStatus(batch, chat_id, message.message_id, t.language, text, services.clock.now())
    statuses = BroadcastStatusRepository(services.storage.db)
    # The warning is out by now: a refused record must not read to the sender as a failure to send (they would
    # send it again). Without it, only a restart loses the message's updates.
    with contextlib.suppress(sqlite3.OperationalError):  # logged at ERROR by `patiently`
        await patiently(f"the status message of {batch}", lambda: statuses.add(status), log)
    _watch(context.application.bot_data, services, status)


async def resume_progress(bot_data: dict[Any, Any], services: BotServices) -> int:
    """Hand the status messages of broadcasts still going (or finished while nobody watched) to this process's
    sender, which brings each to its final numbers; returns how many."""
    since = services.clock.now() - RESUME_WINDOW
    found = await BroadcastStatusRepository(services.storage.db).unfinished(since)
    for status in found:
        _watch(bot_data, services, status)
    return len(found)


def _watch(bot_data: dict[Any, Any], services: BotServices, status: BroadcastStatus) -> None:
    sender = bot_data.get("outbox_sender")
    if not isinstance(sender, OutboxSender):
        return
    t = services.i18n.get(status.language)
    message = sender.status_message(
        status.chat_id, status.message_id, lambda progress: progress_text(progress, t), text=status.text
    )
    sender.watch(status.batch, _Recorded(message, status.batch, services))


class _Recorded:
    """The status message, plus a note of what it says now and of its final edit."""

    def __init__(self, message: StatusMessage, batch: str, services: BotServices) -> None:
        self._message = message
        self._batch = batch
        self._services = services
        self._recorded = message.text

    async def __call__(self, progress: BatchProgress) -> None:
        await self._message(progress)
        repository = BroadcastStatusRepository(self._services.storage.db)
        if self._message.text is not None and self._message.text != self._recorded:
            await repository.set_text(self._batch, self._message.text)
            self._recorded = self._message.text
        if progress.done:
            await repository.finish(self._batch, self._services.clock.now())
