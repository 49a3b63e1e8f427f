"""Once a warning is lifted or past its time, the answer buttons come off the messages the heads still have.

A head read ✅ 已收到并落实 / 🆘 需要帮助 under every earlier message of a lifted warning (the issue, each 【升级】 or
【更新】, each reminder); a press only answered that no reply was needed. The newest copy of the warning keeps
🆘 需要帮助 alone, since a call for help after a lift is still a call for help (flooding comes after the wind); every
other copy loses its buttons. Best effort, as every edit of a delivered copy: a message that can no longer be edited
is left as it is, and a press on it is answered rightly all the same.

Paced so that the lift itself goes first: the edits wait until the lift's own messages are delivered, and a run
edits at most `EDITS_PER_RUN` messages (the minute's job does the rest). The buttons each copy carries after the edit
are recorded on its outbox row, so a copy done is never chosen again, and a restart goes on where it stopped.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.error import TelegramError

from bot.domain.warnings import EarlyWarning
from handlers.hazard_buttons import set_buttons
from handlers.warning_outbox import delivered_copy, markup_json, translator_for, warning_batch
from handlers.warning_text import ACK_RECEIVED, help_only_keyboard

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

EDITS_PER_RUN = 60  # about two seconds of Telegram's overall pace, once a minute
ENDED_WITHIN = timedelta(days=2)  # older copies are left as they are (Telegram may refuse edits of old messages)


async def clear_ended_buttons(bot: Bot, services: BotServices) -> int:
    """Take the answer buttons off the heads' copies of the warnings ended lately; returns how many were edited."""
    budget = EDITS_PER_RUN
    edited = 0
    for warning in await services.warnings.ended_since(services.clock.now() - ENDED_WITHIN):
        if budget <= 0:
            break
        if (await services.outbox.progress(warning_batch(warning.id, warning.revision))).waiting:
            continue  # the 【解除】 is still going out: it comes first
        done = await _clear(bot, services, warning, budget)
        budget -= done
        edited += done
    return edited


async def _clear(bot: Bot, services: BotServices, warning: EarlyWarning, budget: int) -> int:
    outbox = services.storage.outbox
    copies = await outbox.delivered_offering(f"warning:{warning.id}:", f"{ACK_RECEIVED}:{warning.id}", limit=budget)
    for copy in copies:
        assert copy.message_id is not None
        newest = await delivered_copy(services, warning, copy.chat_id)
        markup = None
        if newest is not None and newest.id == copy.id:
            markup = help_only_keyboard(warning.id, await translator_for(services, copy.chat_id))
        try:
            await set_buttons(bot, copy.chat_id, copy.message_id, markup)
        except TelegramError as error:  # deleted, too old, or already so: nothing more to do with it
            log.info("the buttons of %s in chat %s were not changed: %s", copy.dedupe_key, copy.chat_id, error)
        await outbox.record_buttons(copy.id, markup_json(markup))
    return len(copies)
