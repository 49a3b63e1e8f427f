"""A cadre's contact result typed instead of pressed, while their contact round is open.

黄干部, with his list open, typed "DT-0001 已电话联系，老人安全": the bot answered with the hint for reporting hazards,
and an hour later reminded him that DT-0001 had not been reached. A text that names one of his people's codes is
now offered as that person's result (已联系·安全 / 需要帮助 / 联系不上, one tap, as on the list); any other text
from a cadre with people still to reach points to the list, with a button that sends it again. The list records
results, not words: the text itself is not stored (the registry holds codes and categories only, on purpose).
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain.text import clean_text
from bot.i18n import Translator, clipped, counted
from bot.services.errors import Refusal
from handlers.common import Caller, answer, identify, place_name, refuse_press
from handlers.contact_lists import ANSWERS, focus_of, list_message
from handlers.contacts import AUTHZ_REFUSALS, edit_if_changed, pressed_entry, record_answer
from handlers.photo_offer import may_report
from handlers.warning_outbox import fixed, queue_personal
from storage.repositories.contact_followups import ContactFollowUpRepository
from storage.warning_models import ContactEntry, ContactRound, ContactStatus

TAKE, AGAIN = "crt", "crl"
TAKE_PATTERN = rf"^{TAKE}:\d+:\d+:(safe|need_help|unreachable)$"
AGAIN_PATTERN = rf"^{AGAIN}:\d+$"
QUOTED = 200  # how much of the typed text the offer quotes back


async def _open_lists(context: BotContext, telegram_id: int) -> list[tuple[ContactRound, list[ContactEntry]]]:
    """The person's lists in open rounds: the people they are the cadre of."""
    found = []
    for contact_round in await ContactFollowUpRepository(context.services.storage.db).open_rounds():
        entries = await context.services.storage.contacts.entries(contact_round.id, cadre_id=telegram_id)
        if entries:
            found.append((contact_round, entries))
    return found


def _named(text: str, lists: list[tuple[ContactRound, list[ContactEntry]]]) -> tuple[ContactRound, ContactEntry] | None:
    """The first of the person's people whose code the text names (DT-0001, not DT-00012), in the text's order."""
    hits = []
    for contact_round, entries in lists:
        for entry in entries:
            code = re.escape(entry.person_code)
            found = re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", text, re.IGNORECASE)
            if found:
                hits.append((found.start(), entry.status is not ContactStatus.PENDING, contact_round, entry))
    if not hits:
        return None
    _, _, contact_round, entry = min(hits, key=lambda hit: (hit[0], hit[1]))
    return contact_round, entry


async def offer_contact(update: Update, context: BotContext, caller: Caller, text: str) -> bool:
    """Text no journey took, from a cadre with a list in an open round: offered as the result of the person it
    names, else pointed to the list. False (nothing said) when they have no list open, or nobody left on it."""
    if caller.user is None:
        return False
    lists = await _open_lists(context, caller.user.telegram_id)
    if not lists:
        return False
    t = caller.t
    named = _named(text, lists)
    if named is not None:
        contact_round, entry = named
        buttons = [
            InlineKeyboardButton(t.plain(f"contact.button_{status.value}"),
                                 callback_data=f"{TAKE}:{contact_round.id}:{entry.person_id}:{status.value}")
            for status in ANSWERS
        ]
        await answer(update, t("contact.typed_offer", code=entry.person_code,
                               category=t.plain(f"contact.category_{entry.category.value}"),
                               text=clipped(clean_text(text), QUOTED)),
                     reply_markup=InlineKeyboardMarkup([[buttons[0]], buttons[1:]]))
        return True
    waiting = [(r, [e for e in entries if e.status is ContactStatus.PENDING]) for r, entries in lists]
    waiting = [(r, pending) for r, pending in waiting if pending]
    if not waiting:
        return False  # everyone on the list answered: the text is about something else
    contact_round, pending = waiting[0]
    region = await context.services.storage.regions.get(contact_round.region_code[:6])
    lines = [t(counted("contact.typed_pointer", len(pending)), round=contact_round.number,
               region=place_name(region, t), count=len(pending), code=pending[0].person_code)]
    if await may_report(context, caller):
        lines.append(t("fallback.hint_report"))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("contact.button_list"),
                                                           callback_data=f"{AGAIN}:{contact_round.id}")]])
    await answer(update, "\n".join(lines), reply_markup=keyboard)
    return True


async def took_result(update: Update, context: BotContext) -> None:
    """A result pressed under the offer: recorded as the list's button would record it; the offer says what was
    recorded, and the cadre's list is redrawn to show it."""
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return
    _, round_id, person_id, verb = query.data.split(":")
    t = caller.t
    found = await pressed_entry(context, caller, query, int(round_id), int(person_id))
    if found is None:
        return
    contact_round, entry = found
    if contact_round.closed_at is not None:
        await query.answer()
        await answer(update, t("refusal.contact_round_closed"), edit=True)
        return
    status = ContactStatus(verb)
    if status is not entry.status:
        try:
            await record_answer(context, caller.user, contact_round, entry.person_id, status)
        except Refusal as refusal:
            await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
            return
    await query.answer()
    entries = await _list_of(context, contact_round, entry)
    done = sum(e.status is not ContactStatus.PENDING for e in entries)
    await answer(update, t("contact.typed_recorded", result=t.plain(f"contact.recorded_{verb}", code=entry.person_code),
                           done=done, total=len(entries)), edit=True)
    await _redraw_list(context, contact_round, entry, t, query.message)


async def _list_of(context: BotContext, contact_round: ContactRound, entry: ContactEntry) -> list[ContactEntry]:
    entries = await context.services.storage.contacts.entries(contact_round.id)
    return [e for e in entries if e.cadre_id == entry.cadre_id]


async def _redraw_list(
    context: BotContext, contact_round: ContactRound, entry: ContactEntry, t: Translator, offer: object
) -> None:
    """The cadre's list messages in this chat, redrawn as they stand (best effort: an old message may be past
    editing); the list the outbox delivered is where the cadre looks next."""
    if not isinstance(offer, Message):
        return
    services = context.services
    contact_round = await services.storage.contacts.get_round(contact_round.id) or contact_round
    entries = await _list_of(context, contact_round, entry)
    text, markup = await list_message(services, contact_round, entries, focus_of(entries), t)
    owner = "unassigned" if entry.cadre_id is None else str(entry.cadre_id)
    for copy in await services.storage.outbox.delivered_with_prefix(f"contact:{contact_round.id}:list:{owner}:"):
        if copy.chat_id != offer.chat_id or copy.message_id is None or copy.payload.reply_markup is None:
            continue
        try:
            await context.bot.edit_message_text(text, chat_id=copy.chat_id, message_id=copy.message_id,
                                                reply_markup=markup)
        except TelegramError:  # not modified, deleted or too old: the list's next press redraws it
            continue


async def resend_list(update: Update, context: BotContext) -> None:
    """📋 发送名单: the cadre's list of the round again, as a new message at the bottom of the chat."""
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return
    services, t, user = context.services, caller.t, caller.user
    contact_round = await services.storage.contacts.get_round(int(query.data.split(":")[1]))
    entries = [] if contact_round is None else await services.storage.contacts.entries(
        contact_round.id, cadre_id=user.telegram_id)
    if contact_round is None or not entries:
        await refuse_press(context, caller, query, Refusal("contact_not_yours"), AUTHZ_REFUSALS)
        return
    await query.answer(t.plain("contact.list_resent"))
    if isinstance(query.message, Message):
        await edit_if_changed(query.message, query.message.text_html or "", None)
    stamp = f"{services.clock.now().timestamp():.0f}"
    rendered = await list_message(services, contact_round, entries, focus_of(entries), t)
    await queue_personal(services, [user.telegram_id],
                         f"contact:{contact_round.id}:list:{user.telegram_id}:again:{stamp}", fixed(*rendered))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(took_result, pattern=TAKE_PATTERN))
    application.add_handler(CallbackQueryHandler(resend_list, pattern=AGAIN_PATTERN))
