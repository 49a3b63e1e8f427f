"""The outbox sender: drains `bot.services.outbox` into Telegram at the pace Telegram allows, losing nothing.

    sender = OutboxSender(application, services, worker_id="bot")
    sender.start()                      # the running bot: a background loop
    await sender.run_until_drained()    # tests, benchmarks, the command line
    await sender.stop()

Exactly once, as far as the Bot API allows. A message is claimed just before it goes (so a crash leaves only the few
in flight claimed), marked sent in the same task right after Telegram answers, and never claimed while another
message to the same chat is in flight. The one window left is between Telegram accepting a message and our UPDATE:
if the process dies there, the row stays `sending`, and after `OutboxService.stale_after` it is sent again. The Bot
API has no idempotency key and no way to ask whether a message arrived, so that rare case is a duplicate, never a
loss. A graceful `stop()` lets requests in flight finish and gives back the claims that never left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from telegram import (
    Bot,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ExtBot

from bot.delivery_errors import act_on_refusal, classify
from bot.delivery_status import StatusMessage
from bot.pacing import Limits, Pacer
from bot.retrying import RetryingRequest
from bot.services.outbox import DeliveryFailure, FailureKind, OutboxService
from storage.db import patiently, refused_pause
from storage.outbox_models import BatchProgress, OutboxItem

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

ProgressCallback = Callable[[BatchProgress], Awaitable[None]]

CLAIM_AHEAD = 0.25  # seconds of the overall pace claimed at once: short, so a crash strands few claims
RECOVER_EVERY = 5.0  # seconds between looks for claims that a dead sender left behind


@dataclass
class _Watch:
    batch: str
    callback: ProgressCallback
    every: float
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    last: float = float("-inf")
    task: asyncio.Task[None] | None = None


class OutboxSender:
    def __init__(
        self,
        bot: Bot | Application[Any, Any, Any, Any, Any, Any],
        services: BotServices,
        *,
        worker_id: str,
        outbox: OutboxService | None = None,
        limits: Limits | None = None,
        concurrency: int = 16,
        poll_interval: float = 1.0,
        lane: str | None = None,
    ) -> None:
        """`outbox`: share the service that enqueues, so that the sender wakes as soon as something is queued
        (otherwise it looks every `poll_interval` seconds). `lane`: send only the messages whose dedupe key starts
        with it (e.g. hazard notices, while a test drives the rest of the outbox itself)."""
        self.worker_id = worker_id
        self.lane = lane
        self._services = services
        self._outbox = outbox or OutboxService(services.storage, services.clock)
        self.pacer = Pacer(limits or Limits())
        self._bot, self._owns_bot = _delivery_bot(bot, services, concurrency)
        self._concurrency = concurrency
        self._poll = poll_interval
        self._tasks: dict[asyncio.Task[None], OutboxItem] = {}
        self._dispatched: set[int] = set()
        self._watches: list[_Watch] = []
        self._photo_ids: dict[str, str] = {}  # sha256 -> file_id: a broadcast photo is uploaded once
        self._uploads: dict[str, asyncio.Lock] = {}
        self._stopping = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._last_recover = float("-inf")
        self._pumping = False
        self._quiet = False
        self._finished = asyncio.Event()  # a delivery ended since the loop last looked
        self._settling: set[int] = set()  # chats whose failed message is being put back: not claimed meanwhile
        # People marked unreachable, read every RECOVER_EVERY seconds and kept up with this sender's own refusals: a
        # message delivered to one of them means the bot missed their unblocking (`_back_in_reach`). A set, so that
        # a delivery costs no database read.
        self._unreachable: set[int] = set()

    @property
    def quiet(self) -> bool:
        """Not running, or nothing to do now: no message on its way, nothing queued since the last look, nothing
        due to a chat that only waits for its pace or a quick retry. What tests wait for (with the updates being
        handled) before they look at what people got."""
        if not self._pumping:
            return not self._tasks
        return self._quiet and not self._tasks and not self._outbox.has_news

    @property
    def bot(self) -> Bot:
        return self._bot

    # ---- running -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Deliver in the background until `stop()`."""
        if self._loop_task is None or self._loop_task.done():
            self._stopping.clear()
            self._loop_task = asyncio.create_task(self._pump(drain=False, batch=None), name="outbox-sender")

    async def stop(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Stop claiming, let requests in flight finish (up to `timeout`), give back claims that never left."""
        self._stopping.set()
        if self._loop_task is not None:
            # First the loop, so that nothing new is claimed while the claims in hand are sorted out.
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        waiting = [task for task, item in self._tasks.items() if item.id not in self._dispatched]
        unsent = [self._tasks[task] for task in waiting]
        for task in waiting:
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        await self._outbox.release(unsent, self.worker_id)
        for watch in self._watches:
            if watch.task is not None:
                watch.task.cancel()
        self._watches.clear()
        if self._owns_bot:
            await self._bot.shutdown()

    async def run_until_drained(self, batch: str | None = None) -> None:
        """Send until nothing of `batch` (of any batch, if None) is owed. Cancelling this is a crash: claims in
        flight are left as they are, to be recovered as stale."""
        self._stopping.clear()
        await self._pump(drain=True, batch=batch)
        # The last word of each progress report (its final edit) belongs to the drain.
        await asyncio.gather(*(w.task for w in list(self._watches) if w.task and batch in (None, w.batch)))

    # ---- progress ----------------------------------------------------------------------------------------

    def watch(self, batch: str, callback: ProgressCallback, *, every: float = 2.0) -> None:
        """Call `callback` with the batch's progress as it changes, at most once every `every` seconds, and once
        more when it is done (e.g. `StatusMessage`, the broadcaster's message that edits itself)."""
        watch = _Watch(batch, callback, every)
        watch.dirty.set()
        watch.task = asyncio.create_task(self._report(watch), name=f"outbox-progress-{batch}")
        self._watches.append(watch)

    def status_message(
        self, chat_id: int, message_id: int, render: Callable[[BatchProgress], str], *, text: str | None = None
    ) -> StatusMessage:
        """A self-editing status message that shares this sender's bot and pace, for `watch`."""
        return StatusMessage(self._bot, chat_id, message_id, render, pacer=self.pacer, text=text)

    async def _report(self, watch: _Watch) -> None:
        while True:
            await watch.dirty.wait()
            await asyncio.sleep(max(0.0, watch.last + watch.every - time.monotonic()))
            watch.dirty.clear()
            watch.last = time.monotonic()
            try:
                progress = await self._outbox.progress(watch.batch)
            except Exception:
                # As the loop: a database that refuses for a while must not end the report for good.
                log.exception("the progress of batch %s could not be read; read again shortly", watch.batch)
                watch.dirty.set()
                continue
            try:
                await watch.callback(progress)
            except Exception:
                # A status message that cannot be edited must not stop the delivery it reports on.
                log.exception("progress callback for batch %s failed", watch.batch)
            if progress.done:
                self._watches.remove(watch)
                return

    # ---- the loop ----------------------------------------------------------------------------------------

    async def _pump(self, *, drain: bool, batch: str | None) -> None:
        self._pumping = True
        failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    if await self._turn(drain=drain, batch=batch):
                        return
                    failures = 0
                except Exception:
                    # The database refused (a write lock held past the busy timeout by the command line beside the
                    # bot, a full disk): the loop is the only thing that sends warnings and notices, so it must
                    # outlive that, not end and leave every message unsent until a restart.
                    failures += 1
                    pause = refused_pause(failures - 1)  # as for any write the database refuses, but without end
                    log.exception("the outbox sender could not look for work (%d in a row); it looks again in %.1f s",
                                  failures, pause)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), pause)
        except asyncio.CancelledError:
            # A crash takes everything with it, progress reports included, and writes nothing on the way out.
            doomed = [*self._tasks, *(watch.task for watch in self._watches if watch.task is not None)]
            for task in doomed:
                task.cancel()
            await asyncio.gather(*doomed, return_exceptions=True)
            self._watches.clear()
            raise
        finally:
            self._pumping = False

    async def _turn(self, *, drain: bool, batch: str | None) -> bool:
        """One look for work: claim what the pace allows and start it, or wait for something to change. True when
        draining and nothing of `batch` is owed any more."""
        self._quiet = False
        self._finished.clear()
        self._outbox.looking()
        await self._recover_now_and_then()
        # Claimed but not yet on its way counts against the pace too: a crash then strands only the few messages
        # the next quarter of a second would have sent, not a whole concurrency's worth.
        waiting = len(self._tasks) - len(self._dispatched)
        limit = min(self._concurrency - len(self._tasks), self.pacer.capacity(CLAIM_AHEAD) - waiting)
        claimed: list[OutboxItem] = []
        if limit > 0:
            busy = [*self.pacer.busy_chats(), *self._settling]
            claimed = await self._outbox.claim(self.worker_id, limit, busy_chats=busy, lane=self.lane)
        elif waiting:
            await asyncio.sleep(CLAIM_AHEAD / 2)
            return False
        for item in claimed:
            task = asyncio.create_task(self._deliver(item), name=f"outbox-{item.id}")
            self._tasks[task] = item
            task.add_done_callback(self._forget)
        if claimed:
            return False
        if drain and not self._tasks and await self._outbox.owed(batch) == 0:
            return True
        await self._idle()
        return False

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._finished.set()
        item = self._tasks.pop(task, None)
        if item is not None:
            self._dispatched.discard(item.id)
        if not task.cancelled() and task.exception() is not None:
            log.error("delivering outbox %s crashed", item.id if item else "?", exc_info=task.exception())

    async def _recover_now_and_then(self) -> None:
        if time.monotonic() - self._last_recover >= RECOVER_EVERY:
            self._last_recover = time.monotonic()
            await self._outbox.recover()
            self._unreachable = await self._services.storage.users.unreachable_ids()

    async def _idle(self) -> None:
        """Nothing could be claimed: wait for a delivery to finish, a chat to be free, a retry to fall due, or
        something new to be queued."""
        timeout = self._poll
        # A message already due but not claimed waits for its chat: a delivery in flight (awaited below), the
        # chat's pace (next_free_chat) or a stale claim (the poll). Only a future due time shortens the wait.
        for wait in (await self._outbox.seconds_until_due(), self.pacer.next_free_chat()):
            if wait:
                timeout = min(timeout, wait)
        busy = set(self.pacer.busy_chats())
        paced = bool(busy & await self._outbox.due_chats(self.lane)) if busy else False
        # No await between this and the wait below: a delivery that ended during the awaits above has set
        # `_finished`, so the wait returns at once instead of sitting out the poll.
        self._quiet = not self._tasks and not paced
        waiters = [
            asyncio.create_task(self._outbox.wait_for_work(timeout)),
            asyncio.create_task(self._stopping.wait()),
            asyncio.create_task(self._finished.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # ---- one message -------------------------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem) -> None:
        slot = await self.pacer.acquire(item.chat_id, retry=item.attempts > 1)
        # From here on the request may reach Telegram: a graceful stop waits for it instead of cancelling it.
        self._dispatched.add(item.id)
        try:
            # The claim may have been given up while the message waited for its turn (the person's access ended
            # meanwhile): what was given up is not sent. Only a request already on its way can still arrive after.
            if not await self._outbox.claim_stands(item, self.worker_id):
                log.info("outbox %d to chat %d was given up while it waited; not sent", item.id, item.chat_id)
                return
            message_id = await self._send(item)
        except TelegramError as exc:
            failure = classify(exc)
            if failure.kind is FailureKind.FLOOD and failure.retry_after:
                self.pacer.refused(slot, failure.retry_after)
            self.pacer.answered(slot)
            # Until the chat is held for a quick retry's backoff, the message is due again and must not be claimed.
            self._settling.add(item.chat_id)
            try:
                if failure.kind is FailureKind.BLOCKED and item.chat_id > 0:
                    self._unreachable.add(item.chat_id)
                if failure.new_chat_id is not None:
                    # The group became a supergroup: its binding and everything else queued for it follow it.
                    await self._services.onboarding.group_moved(item.chat_id, failure.new_chat_id, actor_id=None)
                elif await act_on_refusal(self._services.onboarding, item.chat_id, item.topic_id, failure):
                    # The topic is deleted or closed, the group is not: this message goes to the group's general
                    # chat (`OutboxService.failed`).
                    failure = replace(failure, leave_topic=True)
                decision = await self._outbox.failed(item, self.worker_id, failure)
                if decision.hold:
                    self.pacer.hold(item.chat_id, decision.hold)
            finally:
                self._settling.discard(item.chat_id)
        except FileNotFoundError as exc:
            await self._outbox.failed(item, self.worker_id, DeliveryFailure(FailureKind.REJECTED, f"photo: {exc}"))
        except Exception as exc:
            # A fault of ours with this message, not Telegram's answer. Left to crash, it stayed claimed, holding
            # its chat's queue, and crashed again at every claim after the lease. It is retried with the backoff of
            # a passing failure (a mended bot sends it) and given up after `max_attempts`, logged each time.
            log.exception("outbox %d to chat %d could not be sent: a fault of ours", item.id, item.chat_id)
            failure = DeliveryFailure(FailureKind.TRANSIENT, f"{type(exc).__name__}: {exc}")
            await self._outbox.failed(item, self.worker_id, failure)
        else:
            self.pacer.answered(slot)
            # Telegram has it: only our record is missing while the database refuses it. Left to crash, the claim
            # went stale and the message was sent again.
            where = f"outbox {item.id} to chat {item.chat_id}, delivered as message {message_id}:"
            await patiently(where, lambda: self._outbox.sent(item, self.worker_id, message_id), log)
            if item.chat_id in self._unreachable and not item.payload.clear_menu:
                await self._back_in_reach(item.chat_id)
        finally:
            self.pacer.answered(slot)  # a no-op when already closed; closes it when the request was cut short
        for watch in self._watches:
            if watch.batch == item.batch:
                watch.dirty.set()

    async def _back_in_reach(self, chat_id: int) -> None:
        """A message reached someone marked unreachable: they unblocked the bot while it was not listening and have
        not written since. Their supervisors hear they are back (once: `person_back` says so only to the first)."""
        self._unreachable.discard(chat_id)
        try:
            await self._services.onboarding.person_back(chat_id)
        except Exception:
            # The message is delivered and recorded; the news waits for the next delivery to them or their next word.
            log.exception("chat %d was reached again but could not be marked reachable", chat_id)
            self._unreachable.add(chat_id)

    async def _send(self, item: OutboxItem) -> int | None:
        payload = item.payload
        if payload.clear_menu:
            await self._clear_menu(item.chat_id)
            return None  # no message
        common: dict[str, Any] = {
            "chat_id": item.chat_id,
            "message_thread_id": item.topic_id,
            "disable_notification": payload.disable_notification,
            "reply_markup": _markup(payload.reply_markup),
            "parse_mode": ParseMode.HTML,
        }
        if payload.photo_file_id is not None:
            message = await self._bot.send_photo(photo=payload.photo_file_id, caption=payload.text, **common)
        elif payload.photo_sha256 is not None:
            message = await self._send_stored_photo(payload.photo_sha256, payload.text, common)
        else:
            message = await self._bot.send_message(text=payload.text, **common)
        return message.message_id

    async def _clear_menu(self, chat_id: int) -> None:
        """The person's access ended: their own command menu goes (Telegram then shows them the menu of people it
        does not know). Not if they were registered again meanwhile: the menu is that of their new access."""
        person = await self._services.storage.users.get(chat_id)
        if person is not None and person.active:
            log.info("the menu of %d stays: they were registered again", chat_id)
            return
        await self._bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))

    async def _send_stored_photo(self, sha256: str, caption: str, common: dict[str, Any]) -> Message:
        """Upload the bytes once; the copies to everyone else wait for that and reuse Telegram's file_id."""
        async with self._uploads.setdefault(sha256, asyncio.Lock()):
            file_id = self._photo_ids.get(sha256)
            if file_id is None:
                data = self._services.evidence.read(sha256)
                message = await self._bot.send_photo(photo=data, caption=caption, **common)
                if message.photo:
                    self._photo_ids[sha256] = message.photo[-1].file_id
                return message
        return await self._bot.send_photo(photo=file_id, caption=caption, **common)


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def _markup(data: dict[str, Any] | None) -> Markup | None:
    if data is None:
        return None
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(data, None)
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, None)
    if "remove_keyboard" in data:
        return ReplyKeyboardRemove.de_json(data, None)
    return ForceReply.de_json(data, None)


def _delivery_bot(
    given: Bot | Application[Any, Any, Any, Any, Any, Any], services: BotServices, concurrency: int
) -> tuple[Bot, bool]:
    """The bot to send with, and whether the sender owns it.

    An application built with AIORateLimiter retries 429s inside the request and pauses every request of the bot
    meanwhile; the sender must see the 429 to reschedule just that message. So it then gets a plain Bot of its
    own, with its own connections, which also keeps a broadcast from crowding out the answers to people. Its
    requests are retried after a 5xx, a timeout or a dropped connection as the application's are
    (bot/retrying.py): the outbox's own retries are for what that cannot mend.
    """
    bot = given.bot if isinstance(given, Application) else given
    if not (isinstance(bot, ExtBot) and bot.rate_limiter is not None):
        return bot, False
    settings = services.settings
    request = RetryingRequest(connection_pool_size=concurrency + 2, read_timeout=15, write_timeout=20)
    own = Bot(settings.bot_token, base_url=settings.bot_api_base_url, base_file_url=settings.file_base_url,
              request=request)
    return own, True
