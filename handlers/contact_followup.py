"""What a contact round tells its cadres as it runs and when it ends, and the lists it takes the buttons off.

A round lasts while the warning it runs under is in force (`ContactRounds.round_due_to_close`). Each cadre with
people still pending is reminded halfway to the staff's escalation, and again when the round is within
CONTACT_ROUND_ESCALATE_AFTER_MINUTES of its end; when it ends, a cadre with people still pending hears that it has
ended and that those people go to the county's staff (named in the summary), and every list of the round is edited
to say it ended, without buttons, so that a contact made later is told to the staff rather than pressed in vain.
Everything is queued under keys named by the round and the cadre, so a follow-up run twice sends each once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.i18n import Translator
from bot.services.warnings import RoundSummary
from handlers.common import place_name
from handlers.contact_lists import SUMMARY_CODES, focus_of, list_message, reason_line
from handlers.warning_outbox import markup_json, queue_personal, translator_for
from handlers.warning_text import local_time
from storage.repositories.contact_followups import ContactFollowUpRepository
from storage.warning_models import ContactEntry

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

CLOSED_WITHIN = timedelta(days=2)  # lists of rounds closed longer ago are left as they are (too old to edit)
EDITS_PER_RUN = 60


def _pending_by_cadre(summary: RoundSummary) -> dict[int, list[ContactEntry]]:
    found: dict[int, list[ContactEntry]] = defaultdict(list)
    for entry in summary.pending:
        if entry.cadre_id is not None:  # the unassigned are the staff's, who get the escalation and the summary
            found[entry.cadre_id].append(entry)
    return found


def _codes(entries: list[ContactEntry], t: Translator) -> str:
    codes = t.plain("warn.list_separator").join(e.person_code for e in entries[:SUMMARY_CODES])
    if len(entries) > SUMMARY_CODES:
        codes += t.plain("contact.remind_codes_more", count=len(entries) - SUMMARY_CODES)
    return codes


async def remind_cadres(services: BotServices, summary: RoundSummary, ends_at: datetime, *, closing: bool) -> int:
    """Each cadre with people still pending: how many and who, and (`closing`) when the round ends."""
    region = await services.storage.regions.get(summary.round.region_code[:6])
    end = local_time(ends_at, services.settings.tz)
    kind = "closing" if closing else "remind"
    queued = 0
    for cadre, entries in _pending_by_cadre(summary).items():

        def render(t: Translator, entries: list[ContactEntry] = entries) -> tuple[str, InlineKeyboardMarkup | None]:
            return t(f"contact.{kind}", round=summary.round.number, region=place_name(region, t),
                     count=len(entries), codes=_codes(entries, t), end=end), None

        queued += await queue_personal(services, [cadre], f"contact:{summary.round.id}:{kind}", render)
    return queued


async def tell_cadres_closed(services: BotServices, summary: RoundSummary) -> int:
    """The round has ended: each cadre with people still pending hears so, and that the staff follow them up."""
    region = await services.storage.regions.get(summary.round.region_code[:6])
    queued = 0
    for cadre, entries in _pending_by_cadre(summary).items():

        def render(t: Translator, entries: list[ContactEntry] = entries) -> tuple[str, InlineKeyboardMarkup | None]:
            return t("contact.closed_notice", round=summary.round.number, region=place_name(region, t),
                     count=len(entries), codes=_codes(entries, t)), None

        queued += await queue_personal(services, [cadre], f"contact:{summary.round.id}:closed", render)
    return queued


async def close_lists(bot: Bot, services: BotServices) -> int:
    """Edit the lists of rounds closed lately that still carry buttons (as the outbox recorded them) to read that
    the round ended, without buttons; returns how many were edited. A list its owner pressed after the end was
    redrawn then; its edit here changes nothing and is only recorded."""
    budget = EDITS_PER_RUN
    since = services.clock.now() - CLOSED_WITHIN
    for contact_round in await ContactFollowUpRepository(services.storage.db).closed_since(since):
        if budget <= 0:
            break
        copies = await services.storage.outbox.delivered_with_prefix(f"contact:{contact_round.id}:list:")
        entries = await services.storage.contacts.entries(contact_round.id)
        for copy in copies:
            if copy.payload.reply_markup is None or copy.message_id is None or budget <= 0:
                continue
            cadre = _owner(copy.dedupe_key)
            mine = [e for e in entries if e.cadre_id == cadre]
            text, _ = await list_message(services, contact_round, mine, None, await translator_for(services,
                                                                                                   copy.chat_id))
            try:
                await bot.edit_message_text(text, chat_id=copy.chat_id, message_id=copy.message_id, reply_markup=None)
            except TelegramError as error:  # deleted, too old, or already so: nothing more to do with it
                log.info("the list %s in chat %s was not closed: %s", copy.dedupe_key, copy.chat_id, error)
            await services.storage.outbox.record_buttons(copy.id, None)
            budget -= 1
    return EDITS_PER_RUN - budget


async def retire_lists(bot: Bot, services: BotServices) -> int:
    """Lists of open rounds whose buttons are no longer the way to record: a cadre's whose access has ended (the
    people still to reach went to the staff, whose fresh list has the buttons; the leaver's answered "您的账号已停用"),
    and a staff member's list of the unassigned that a fresher one in the same chat replaced. Each is edited to say
    so, without buttons; returns how many were edited."""
    budget = EDITS_PER_RUN
    for contact_round in await ContactFollowUpRepository(services.storage.db).open_rounds():
        prefix = f"contact:{contact_round.id}:list:"
        copies = [copy for copy in await services.storage.outbox.delivered_with_prefix(prefix)
                  if copy.message_id is not None]
        newest: dict[int, int] = {}
        for copy in copies:
            if _owner(copy.dedupe_key) is None:
                newest[copy.chat_id] = max(newest.get(copy.chat_id, 0), copy.id)
        entries = await services.storage.contacts.entries(contact_round.id)
        for copy in copies:
            if copy.payload.reply_markup is None or budget <= 0:
                continue
            owner = _owner(copy.dedupe_key)
            if owner is None:
                if copy.id == newest[copy.chat_id]:
                    continue
                ending = "contact.list_superseded"
            else:
                cadre = await services.storage.users.get(owner)
                if cadre is None or cadre.active:
                    continue
                ending = "contact.list_handed_over"
            mine = [e for e in entries if e.cadre_id == owner]
            text, _ = await list_message(services, contact_round, mine, None,
                                         await translator_for(services, copy.chat_id), ending)
            try:
                await bot.edit_message_text(text, chat_id=copy.chat_id, message_id=copy.message_id, reply_markup=None)
            except TelegramError as error:
                log.info("the list %s in chat %s was not retired: %s", copy.dedupe_key, copy.chat_id, error)
            await services.storage.outbox.record_buttons(copy.id, None)
            budget -= 1
    return EDITS_PER_RUN - budget


async def refresh_lists(bot: Bot, services: BotServices) -> int:
    """Lists of open rounds whose header no longer names the warning they run under (orange raised to red: the list
    read 因台风橙色预警启动 under a red warning), redrawn as they stand now, with their buttons; returns how many were
    edited. Compared with the text the outbox recorded (sent, or last redrawn here): a list its owner pressed since
    was redrawn with the same header, and a second edit of it changes only the person in focus."""
    budget = EDITS_PER_RUN
    for contact_round in await ContactFollowUpRepository(services.storage.db).open_rounds():
        if contact_round.warning_id is None:
            continue
        entries = await services.storage.contacts.entries(contact_round.id)
        reasons: dict[str, str] = {}  # by language: one round's lists all read the same
        for copy in await services.storage.outbox.delivered_with_prefix(f"contact:{contact_round.id}:list:"):
            if copy.payload.reply_markup is None or copy.message_id is None or budget <= 0:
                continue
            t = await translator_for(services, copy.chat_id)
            if t.language not in reasons:
                reasons[t.language] = await reason_line(services, contact_round, t)
            if reasons[t.language] == _header(copy.payload.text):
                continue
            owner = _owner(copy.dedupe_key)
            mine = [e for e in entries if e.cadre_id == owner]
            text, markup = await list_message(services, contact_round, mine, focus_of(mine), t)
            try:
                await bot.edit_message_text(text, chat_id=copy.chat_id, message_id=copy.message_id,
                                            reply_markup=markup)
            except TelegramError as error:
                log.info("the list %s in chat %s was not redrawn: %s", copy.dedupe_key, copy.chat_id, error)
            await services.storage.outbox.record_text(copy.id, text)
            await services.storage.outbox.record_buttons(copy.id, markup_json(markup))
            budget -= 1
    return EDITS_PER_RUN - budget


def _header(text: str) -> str:
    """A list's second line: the warning it runs under."""
    lines = text.split("\n")
    return lines[1] if len(lines) > 1 else ""


def _owner(dedupe_key: str) -> int | None:
    """The cadre a list copy is for, None for a list of the unassigned (contact:{round}:list:{owner}…:chat:{chat})."""
    owner = dedupe_key.split(":")[3]
    return None if owner == "unassigned" else int(owner)
