"""/people (county staff, city admins): the people registered in one's scope, each with a card and a button that
ends their access; and the invitations nobody has used yet, each of which can be taken back.

Every button is stateless and checked on the server at each press: the person or invitation it names must still be
in the presser's scope, and a role they may manage (bot.domain.roles.may_manage).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.paging import page_of
from bot.domain.roles import STAFF_ROLES
from bot.domain.text import visible_length
from bot.i18n import Html, Translator, clipped, counted
from bot.processing import after_answer
from bot.services.errors import Refusal
from bot.services.institution_cards import MIN_SEARCH
from bot.services.onboarding import deep_link
from bot.services.people import Departure, describe_scope
from handlers.common import (
    BUTTON_CHARACTERS,
    Caller,
    answer,
    identify,
    page_row,
    place_name,
    popup_text,
    tell_each,
)
from handlers.contact_lists import queue_unassigned_list
from handlers.journeys import end_journeys
from handlers.leaver_groups import REMOVE, remove_from_group, tell_still_in_groups
from handlers.notify import when
from handlers.warning_outbox import county_staff
from storage.models import Invite, User
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

PAGE_SIZE = 8
# Under the list of unused invitations: show one's link again; take one back (from a page of the list, to go back to).
SHOW_LINK = "pp:ln:"
REVOKE = re.compile(r"^pp:rv:([\w-]+?)(?::(\d+))?$")
CODES_SHOWN = 10  # hazard codes named in the news to the person's supervisors; the rest are counted
# The page of the list (and the name searched for) a button came from, at the end of its data, so that a card's
# « 返回名单 goes back there rather than to page 1 of 286 people. The searched name rides in the data: at most
# SEARCH_BYTES of it, so that the longest data (pp:offok:<id>:<page>:<name>) keeps to Telegram's 64 bytes.
SEARCH_BYTES = 30
_PLACE = r"(?::(\d+)(?::(.+))?)?"
LIST = re.compile(r"^pp:page:(\d+)(?::(.+))?$")
SHOW = re.compile(rf"^pp:show:(\d+){_PLACE}$")
ASK_OFF = re.compile(rf"^pp:off:(\d+){_PLACE}$")
OFF = re.compile(rf"^pp:offok:(\d+){_PLACE}$")


@dataclass(frozen=True)
class Place:
    """Where in the roster a button was pressed: its page, and the name searched for (/people 院长150), if any."""

    page: int = 0
    name: str | None = None

    @property
    def suffix(self) -> str:
        return f":{self.page}" + (f":{self.name}" if self.name else "")

    @property
    def back(self) -> str:
        """The data of the button back to this page of the list."""
        return f"pp:page{self.suffix}"


def _place(match: re.Match[str] | None, first: int = 2) -> Place:
    """The place in a matched button's data: its groups from `first` on are the page and the name."""
    if match is None or match.group(first) is None:
        return Place()
    return Place(int(match.group(first)), match.group(first + 1) or None)


def _search_text(text: str) -> str:
    """What is searched for: the typed name, cut to what a button's data can carry."""
    name = " ".join(text.split())
    while len(name.encode()) > SEARCH_BYTES:
        name = name[:-1]
    return name


async def _staff(update: Update, context: BotContext) -> Caller | None:
    """The caller, if county staff or a city admin; anyone else is told, and the attempt recorded."""
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    if caller.user.role in STAFF_ROLES:
        return caller
    await context.services.storage.audit.append(
        caller.user.telegram_id, "authz.refused",
        detail={"command": "people", "role": caller.user.role.value, "data": _data(update)},
    )
    if update.callback_query is not None:
        await update.callback_query.answer(caller.t.plain("refusal.staff_only"), show_alert=True)
    else:
        await answer(update, caller.t("refusal.staff_only"))
    return None


async def _staff_press(update: Update, context: BotContext) -> tuple[Caller, User, CallbackQuery, str] | None:
    """A button press by staff: the caller, who they are to us, the press and its data; None once answered."""
    caller = await _staff(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return None
    return caller, caller.user, query, query.data


def _data(update: Update) -> str | None:
    return None if update.callback_query is None else update.callback_query.data


def _number(data: str, prefix: str) -> int | None:
    value = data.removeprefix(prefix)
    return int(value) if value.isdigit() else None


async def _who(services: BotServices, person: User, t: Translator) -> str:
    scope = await describe_scope(services.storage, person.region_code, person.institution_id, t.language)
    return t.plain("reach.who", name=person.full_name, role=t.plain(f"role.{person.role.value}"), scope=scope)


# ---- the roster ----------------------------------------------------------------------------------------------------


async def show_people(update: Update, context: BotContext) -> None:
    """/people: the roster, a page at a time; /people 院长150: those whose name holds it (as /institution 敬老院)."""
    caller = await _staff(update, context)
    if caller is None or caller.user is None:
        return
    typed = " ".join(context.args or [])
    if not typed.strip():
        await _roster(update, context, caller, Place(), edit=False)
        return
    name = _search_text(typed)
    if visible_length(name) < MIN_SEARCH:
        await answer(update, caller.t("people.search_too_short", least=MIN_SEARCH))
        return
    await _roster(update, context, caller, Place(0, name), edit=False)


async def _roster(update: Update, context: BotContext, caller: Caller, place: Place, *, edit: bool) -> None:
    assert caller.user is not None
    services, t = context.services, caller.t
    people = await services.people.roster(caller.user, place.name)
    invites = await services.people.standing_invites(caller.user)
    cut = page_of(people, place.page, PAGE_SIZE)
    page, pages = cut.page, cut.pages
    here = Place(page, place.name)
    rows = []
    for person in cut.items:
        label = clipped(await _who(services, person, t), BUTTON_CHARACTERS)
        rows.append([InlineKeyboardButton(label, callback_data=f"pp:show:{person.telegram_id}{here.suffix}")])
    rows += page_row(page, pages, t, lambda number: Place(number, place.name).back)
    if place.name is not None:
        rows.append([InlineKeyboardButton(t.plain("people.everyone_button"), callback_data=Place().back)])
        if people:
            text = t("people.found", name=place.name, count=len(people), page=page + 1, pages=pages)
        else:
            text = t("people.none_found", name=place.name)
    else:
        rows.append([InlineKeyboardButton(t.plain("people.invites_button", count=len(invites)),
                                          callback_data="pp:inv")])
        text = t("people.roster", count=len(people), page=page + 1, pages=pages)
    await answer(update, text, reply_markup=InlineKeyboardMarkup(rows), edit=edit)


async def roster_page(update: Update, context: BotContext) -> None:
    pressed = await _staff_press(update, context)
    if pressed is None:
        return
    caller, _, query, data = pressed
    await query.answer()
    await _roster(update, context, caller, _place(LIST.match(data), first=1), edit=True)


# ---- a person's card, and ending their access ----------------------------------------------------------------------


async def show_person(update: Update, context: BotContext) -> None:
    pressed = await _staff_press(update, context)
    if pressed is None:
        return
    caller, _, query, data = pressed
    match = SHOW.match(data)
    telegram_id, place = (int(match.group(1)) if match else None), _place(match)
    person = await _person(update, context, caller, telegram_id)
    if person is None:
        return
    await query.answer()
    services, t = context.services, caller.t
    lines = [
        t("people.card", who=await _who(services, person, t),
          username=f"@{person.username}" if person.username else "—",
          registered=when(person.created_at, services.settings.tz, t)),
    ]
    if person.unreachable_since is not None:
        lines.append(t("people.card_unreachable", since=when(person.unreachable_since, services.settings.tz, t)))
    rows = []
    if await services.people.manageable(caller.user, person):
        rows.append([InlineKeyboardButton(t.plain("people.deactivate_button"),
                                          callback_data=f"pp:off:{person.telegram_id}{place.suffix}")])
    else:
        lines.append(t("people.card_not_yours"))
    rows.append([InlineKeyboardButton(t.plain("people.back_button"), callback_data=place.back)])
    await answer(update, Html("\n".join(lines)), reply_markup=InlineKeyboardMarkup(rows), edit=True)


async def ask_deactivate(update: Update, context: BotContext) -> None:
    pressed = await _staff_press(update, context)
    if pressed is None:
        return
    caller, actor, query, data = pressed
    match = ASK_OFF.match(data)
    place = _place(match)
    try:
        person = await context.services.people.to_deactivate(actor, int(match.group(1)) if match else 0)
    except Refusal as refusal:
        await _refused(update, context, caller, refusal)
        return
    t = caller.t
    await query.answer()
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.plain("people.confirm_button"),
                              callback_data=f"pp:offok:{person.telegram_id}{place.suffix}")],
        [InlineKeyboardButton(t.plain("button.cancel"), callback_data=f"pp:show:{person.telegram_id}{place.suffix}")],
    ])
    await answer(update, t("people.confirm", who=await _who(context.services, person, t)), reply_markup=keyboard,
                 edit=True)


async def deactivate(update: Update, context: BotContext) -> None:
    pressed = await _staff_press(update, context)
    if pressed is None:
        return
    caller, actor, query, data = pressed
    match = OFF.match(data)
    telegram_id, place = (int(match.group(1)) if match else None), _place(match)
    services, t = context.services, caller.t
    try:
        departure = await services.people.deactivate(actor, telegram_id or 0)
    except Refusal as refusal:
        await _refused(update, context, caller, refusal)
        return
    await query.answer()
    log.info("user %s ended the access of %s", actor.telegram_id, telegram_id)
    # Their drafts and journey steps are gone from the database; the journey they were in ends here too.
    end_journeys(context.application, departure.person.telegram_id, departure.person.telegram_id)
    lines = [t("people.deactivated", who=await _who(services, departure.person, t))]
    lines += _consequences(departure, t)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("people.back_button"),
                                                           callback_data=place.back)]])
    await answer(update, Html("\n".join(lines)), reply_markup=keyboard, edit=True)
    # Ending the access stops what the bot sends them, not what they read in a bound group they are still in.
    await tell_still_in_groups(update, context, departure.person, t)
    # A county's last clerk gone, the city admins answer for its hazards (a head gone, the county staff stand in
    # for their institution's duties): reminded of them from today.
    after_answer(context.application, services.reminders.plan_for_arrival_or_departure(departure.person),
                 f"planning the open hazards' reminders once {departure.person.telegram_id} left")


async def remove_leaver(update: Update, context: BotContext) -> None:
    pressed = await _staff_press(update, context)
    if pressed is not None:
        await remove_from_group(update, context, pressed[0])


def _consequences(departure: Departure, t: Translator) -> list[str]:
    lines = []
    if departure.hazards:
        codes = t.plain("warn.list_separator").join(h.code for h in departure.hazards[:CODES_SHOWN])
        more = len(departure.hazards) - CODES_SHOWN
        released = len(departure.hazards)
        lines.append(t(counted("people.hazards_released", released), count=released, codes=codes)
                     + (t("people.more", count=more) if more > 0 else ""))
    if departure.contacts:
        lines.append(t(counted("people.contacts_released", departure.contacts), count=departure.contacts))
    if departure.calls:
        lines.append(t(counted("people.calls_released", departure.calls), count=departure.calls))
    if departure.invites_revoked:
        lines.append(t("people.invites_revoked", count=departure.invites_revoked))
    return lines


async def _person(update: Update, context: BotContext, caller: Caller, telegram_id: int | None) -> User | None:
    assert caller.user is not None
    try:
        if telegram_id is None:
            raise Refusal("person_gone")
        return await context.services.people.person(caller.user, telegram_id)
    except Refusal as refusal:
        await _refused(update, context, caller, refusal)
        return None


async def _refused(update: Update, context: BotContext, caller: Caller, refusal: Refusal) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer(popup_text(caller.t, refusal), show_alert=True)


# ---- invitations not used yet --------------------------------------------------------------------------------------


async def show_invites(update: Update, context: BotContext) -> None:
    pressed = await _staff_press(update, context)
    if pressed is None:
        return
    caller, _, query, data = pressed
    await query.answer()
    await _invites(update, context, caller, _number(data, "pp:invp:") or 0)


async def _invites(
    update: Update, context: BotContext, caller: Caller, page: int = 0, note: str | None = None
) -> None:
    """A page of the invitations nobody has used yet, each with a button showing its link again and one taking it
    back; numbered across the pages, so that "no. 9" is the same invitation on the second page as in the text."""
    assert caller.user is not None
    services, t = context.services, caller.t
    invites = await services.people.standing_invites(caller.user)
    cut = page_of(invites, page, PAGE_SIZE)
    page, pages = cut.page, cut.pages
    lines = [note] if note else []
    lines.append(t("people.invites_page", count=len(invites), page=page + 1, pages=pages) if pages > 1
                 else t("people.invites", count=len(invites)) if invites else t("people.no_invites"))
    rows = []
    for number, invite in enumerate(cut.items, start=page * PAGE_SIZE + 1):
        lines.append(await _invite_line(services, invite, number, t))
        rows.append([
            InlineKeyboardButton(t.plain("people.show_link_button", number=number),
                                 callback_data=f"{SHOW_LINK}{invite.token}"),
            InlineKeyboardButton(t.plain("people.revoke_button", number=number),
                                 callback_data=f"pp:rv:{invite.token}:{page}"),
        ])
    rows += page_row(page, pages, t, lambda number: f"pp:invp:{number}")
    rows.append([InlineKeyboardButton(t.plain("people.back_button"), callback_data="pp:page:0")])
    await answer(update, Html("\n".join(lines)), reply_markup=InlineKeyboardMarkup(rows), edit=True)


async def _invite_line(services: BotServices, invite: Invite, number: int, t: Translator) -> str:
    scope = await describe_scope(services.storage, invite.region_code, invite.institution_id, t.language)
    return t("people.invite_line", number=number, role=t.plain(f"role.{invite.role.value}"), scope=scope,
             maker=await _maker(services, invite, t), expires=when(invite.expires_at, services.settings.tz, t))


async def _maker(services: BotServices, invite: Invite, t: Translator) -> str:
    maker = None if invite.created_by is None else await services.storage.users.get(invite.created_by)
    return maker.full_name if maker is not None else t.plain("people.command_line")


async def show_link(update: Update, context: BotContext) -> None:
    """The link of an invitation in the list, shown again in a message of its own (the list stays as it was): the
    same link, not a new invitation, once the press is checked again (the invitation still standing, and the
    presser its maker or covering its place)."""
    pressed = await _staff_press(update, context)
    if pressed is None:
        return
    caller, actor, query, data = pressed
    services, t = context.services, caller.t
    try:
        invite = await services.people.invite_to_show(actor, data.removeprefix(SHOW_LINK))
    except Refusal as refusal:
        await _refused(update, context, caller, refusal)
        return
    await query.answer()
    scope = await describe_scope(services.storage, invite.region_code, invite.institution_id, t.language)
    text = t("people.invite_shown", role=t.plain(f"role.{invite.role.value}"), scope=scope,
             maker=await _maker(services, invite, t), made=when(invite.created_at, services.settings.tz, t),
             expires=when(invite.expires_at, services.settings.tz, t),
             link=deep_link(context.bot.username, invite.token))
    await answer(update, text)


async def revoke(update: Update, context: BotContext) -> None:
    pressed = await _staff_press(update, context)
    if pressed is None:
        return
    caller, actor, query, data = pressed
    match = REVOKE.match(data)
    try:
        invite = await context.services.people.revoke_invite(actor, match.group(1) if match else "")
    except Refusal as refusal:
        await _refused(update, context, caller, refusal)
        return
    await query.answer()
    t = caller.t
    scope = await describe_scope(context.services.storage, invite.region_code, invite.institution_id, t.language)
    # Back to the page it was cancelled from (a button made before the list had pages: the first).
    page = int(match.group(2)) if match and match.group(2) else 0
    await _invites(update, context, caller, page,
                   note=t("people.revoked", role=t.plain(f"role.{invite.role.value}"), scope=scope))


# ---- the news ------------------------------------------------------------------------------------------------------


class DepartureWords:
    """The people service's `DepartureNotices`: the person told their access ended, and the people who answer for
    their work told what it leaves them, each in their language, queued inside the transaction that records it."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, departure: Departure) -> None:
        services, person = self._services, departure.person
        key = f"user:{person.telegram_id}:deactivated"
        by = departure.by
        # Their own menu goes, by the running bot's outbox sender: from the command line too, and a crash between
        # the deactivation and the request loses nothing. First in their queue, so it is gone when they read why.
        stamp = f"{services.clock.now().timestamp():.0f}"
        await services.outbox.enqueue([NewOutboxMessage(
            dedupe_key=f"{key}:{stamp}:menu:chat:{person.telegram_id}", chat_id=person.telegram_id,
            payload=OutboxPayload(text="", clear_menu=True), priority=Priority.NORMAL,
        )])
        await tell_each(services, [person], key, lambda t: _farewell(departure, t), Priority.NORMAL)
        translators = {t.language: t for t in (services.i18n.get(u.language) for u in departure.tell)}
        who = {language: await _who(services, person, t) for language, t in translators.items()}

        def words(t: Translator) -> str:
            by_name = by.full_name if by is not None else t.plain("people.command_line")
            lines = [t("people.told", who=who[t.language], by=by_name), *_consequences(departure, t)]
            return "\n".join(lines)

        await tell_each(services, departure.tell, key, words, Priority.NORMAL)
        await _hand_over_lists(services, departure)


async def _hand_over_lists(services: BotServices, departure: Departure) -> None:
    """The people the leaver had still to reach in an open round are the county staff's now: staff get the list of
    the round's people with no cadre afresh, with buttons for them (the leaver's list loses its own buttons by the
    follow-up, `retire_lists`)."""
    for round_id in departure.rounds:
        contact_round = await services.storage.contacts.get_round(round_id)
        if contact_round is None:
            continue
        staff = await county_staff(services, contact_round.region_code)
        # As the notice of the departure goes (NORMAL), so that it comes first and the list after it.
        await queue_unassigned_list(services, contact_round, staff, f"unassigned:left:{departure.person.telegram_id}",
                                    Priority.NORMAL)


def _farewell(departure: Departure, t: Translator) -> str:
    by = departure.by
    if departure.closing is not None and by is not None:
        # The head should know it is the home that closed, not something they did.
        return t("people.farewell_closed", by=by.full_name, institution=place_name(departure.closing, t),
                 reason=departure.closing.closed_reason or "")
    return t("people.farewell" if by is not None else "people.farewell_operator",
             by=by.full_name if by is not None else "")


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("people", show_people, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(roster_page, pattern=LIST))
    application.add_handler(CallbackQueryHandler(show_person, pattern=SHOW))
    application.add_handler(CallbackQueryHandler(ask_deactivate, pattern=ASK_OFF))
    application.add_handler(CallbackQueryHandler(deactivate, pattern=OFF))
    application.add_handler(CallbackQueryHandler(remove_leaver, pattern=REMOVE))
    application.add_handler(CallbackQueryHandler(show_invites, pattern=r"^pp:inv$"))
    application.add_handler(CallbackQueryHandler(show_invites, pattern=r"^pp:invp:\d+$"))
    application.add_handler(CallbackQueryHandler(show_link, pattern=rf"^{SHOW_LINK}[\w-]+$"))
    application.add_handler(CallbackQueryHandler(revoke, pattern=REVOKE))
