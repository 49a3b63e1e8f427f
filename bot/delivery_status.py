"""The broadcaster's status message, edited in place as the outbox delivers: "sent x / y, failed z"."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

from bot.delivery_errors import classify
from bot.i18n import Translator
from bot.pacing import Pacer, Slot
from storage.outbox_models import BatchProgress


def progress_text(progress: BatchProgress, t: Translator) -> str:
    key = "outbox.progress_done" if progress.done else "outbox.progress"
    return t(key, sent=progress.sent, total=progress.meant, failed=progress.undeliverable, blocked=progress.blocked)


class StatusMessage:
    """A progress callback for `OutboxSender.watch`; the sender already calls it at most once every 2 seconds.

    An edit that would not change the text is never made (Telegram refuses it, and it costs a request). The edits
    share the sender's pace, because they count against the same limits as the broadcast.
    """

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        render: Callable[[BatchProgress], str],
        *,
        pacer: Pacer | None = None,
        text: str | None = None,
    ) -> None:
        """`text`: what the message says now, if known (after a restart, so that the first edit is a real one)."""
        self.chat_id = chat_id
        self.message_id = message_id
        self._bot = bot
        self._render = render
        self._pacer = pacer
        self.text = text
        self.edits = 0

    async def __call__(self, progress: BatchProgress) -> None:
        text = self._render(progress)
        if text == self.text:
            return
        slot: Slot | None = None
        if self._pacer is not None:
            # An intermediate edit gives way to a chat that is busy (a group's 20 a minute are better spent on the
            # broadcast itself); it still waits its turn in the overall pace, or a long broadcast would starve it.
            if not progress.done and self._pacer.chat_wait(self.chat_id) > 0:
                return
            slot = await self._pacer.acquire(self.chat_id)
        try:
            await self._bot.edit_message_text(
                text, chat_id=self.chat_id, message_id=self.message_id, parse_mode=ParseMode.HTML
            )
        except RetryAfter as exc:
            if slot is not None and self._pacer is not None:
                self._pacer.refused(slot, classify(exc).retry_after or 1.0)
            if progress.done:
                raise
            return  # the next report brings newer numbers anyway
        except BadRequest as exc:
            # Someone else (another process after a restart) may have written the same numbers already.
            if "not modified" not in exc.message:
                raise
        finally:
            if slot is not None and self._pacer is not None:
                self._pacer.answered(slot)
        self.text = text
        self.edits += 1
