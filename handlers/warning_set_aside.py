"""A draft's notices once the draft is no longer to be sent: set aside for an official warning, withdrawn, or past
its time.

Staff were offered 📤 发送 under each notice of a draft (a forecast assessment, an official blue or yellow). Once the
draft ended unsent, a press only answered with a refusal, and the notice still read as a decision waiting. Two things
now: staff who were shown a forecast draft hear once, in one message per official warning, that it set their draft
aside (nobody was sent anything); and each delivered notice still offering 📤 is edited to say what became of the
draft, its button taken off. The edits run with the minute's job (best effort, as every edit of a delivered message);
the outbox row records the buttons the copy carries after it, so a copy done is never chosen again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.domain.warnings import EarlyWarning
from bot.i18n import Translator
from bot.services.warnings import DraftEnd, DraftGone, draft_notice_key
from handlers.warning_delivery import SEND_DRAFT
from handlers.warning_outbox import queue_personal, translator_for
from handlers.warning_text import title

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

EDITS_PER_RUN = 60
ENDED_WITHIN = timedelta(days=2)  # older notices are left as they are (Telegram may refuse edits of old messages)
MAX_NOTICES = 1000  # a draft's notices: one per staff member who may send it


def _notices(warning_id: int) -> str:
    """The prefix of every notice (and reminder) of a draft, all its revisions."""
    return draft_notice_key(warning_id, 0).removesuffix("rev:0")


async def tell_set_aside(services: BotServices, official: EarlyWarning, drafts: tuple[EarlyWarning, ...]) -> int:
    """Staff who were shown these drafts (their notice delivered) hear once that the official warning set them
    aside: one message each, naming their drafts. Those whose notice was still held (quiet hours) never saw one."""
    shown: dict[int, list[EarlyWarning]] = defaultdict(list)
    for draft in drafts:
        copies = await services.storage.outbox.delivered_offering(
            _notices(draft.id), f"{SEND_DRAFT}:{draft.id}", limit=MAX_NOTICES
        )
        for chat_id in dict.fromkeys(copy.chat_id for copy in copies):
            shown[chat_id].append(draft)
    told = 0
    for chat_id, theirs in shown.items():

        def render(t: Translator, theirs: list[EarlyWarning] = theirs) -> tuple[str, None]:
            names = t.plain("warn.list_separator").join(
                t.plain("warn.set_aside_item", title=title(d, t), id=d.id) for d in theirs
            )
            return t("warn.set_aside", official=title(official, t), id=official.id, drafts=names), None

        told += await queue_personal(services, [chat_id], f"warning:{official.id}:set-aside", render)
    return told


async def settle_ended_drafts(bot: Bot, services: BotServices) -> int:
    """Edit the delivered notices of drafts ended unsent lately: what became of the draft, and no 📤 any more.
    Returns how many were edited."""
    budget = EDITS_PER_RUN
    edited = 0
    since = services.clock.now() - ENDED_WITHIN
    for draft in await services.storage.warnings.drafts_ended_since(since):
        if budget <= 0:
            break
        copies = await services.storage.outbox.delivered_offering(
            _notices(draft.id), f"{SEND_DRAFT}:{draft.id}", limit=budget
        )
        if not copies:
            continue
        gone = await services.warnings.why_not_sent(draft)
        if gone is None:
            continue
        for copy in copies:
            assert copy.message_id is not None
            note = _note(gone, await translator_for(services, copy.chat_id))
            try:
                await bot.edit_message_text(
                    f"{copy.payload.text}\n\n{note}", chat_id=copy.chat_id, message_id=copy.message_id,
                    parse_mode=ParseMode.HTML, reply_markup=None,
                )
            except TelegramError as error:  # deleted, too old, or already so: nothing more to do with it
                log.info("the draft notice %s in chat %s was not edited: %s", copy.dedupe_key, copy.chat_id, error)
            await services.storage.outbox.record_buttons(copy.id, None)
        budget -= len(copies)
        edited += len(copies)
    return edited


def _note(gone: DraftGone, t: Translator) -> str:
    if gone.end is DraftEnd.SUPERSEDED and gone.by is not None:
        return t("warn.draft_note_superseded", id=gone.by)
    if gone.end is DraftEnd.EXPIRED:
        return t("warn.draft_note_expired")
    return t("warn.draft_note_withdrawn")
