"""Contact rounds for scattered vulnerable people (特殊群体联络).

An orange or red warning starts a round by itself (handlers.warning_delivery); staff start one by hand with
/contactround. Each cadre gets their list as ONE message and works through it with 已联系·安全 / 需要帮助 /
联系不上, the message editing itself after each answer (never into the same text: Telegram refuses that). "Need
help" reaches the county's staff at once; when nobody is left pending the round closes and its summary goes to the
county's staff. People still unreached after a set time are escalated by the scheduled follow-up.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.warnings import ContactOutcome
from handlers.common import Caller, answer, identify, is_private, place_name, refuse_press
from handlers.contact_lists import FOCUS, PATTERN, focus_of, list_message, parse, queue_lists, queue_summary
from handlers.warning_outbox import queue_personal
from handlers.warning_text import help_alert_key, person_link, take_help_keyboard
from storage.models import User
from storage.warning_models import ContactEntry, ContactRound, ContactStatus

# Refusals that mean "not yours": a forged press, worth an audit entry.
AUTHZ_REFUSALS = frozenset({"contact_not_yours", "warning_staff_only", "warning_out_of_scope"})


# ---- starting a round by hand ---------------------------------------------------------------------------------


async def start_round(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return
    services, t, user = context.services, caller.t, caller.user
    if user.role not in (Role.COUNTY, Role.CITY):
        await services.storage.audit.append(caller.telegram_user.id, "authz.refused",
                                            detail={"command": "contactround"})
        await answer(update, t("refusal.warning_staff_only"))
        return
    counties = await services.storage.regions.counties()
    if user.role is Role.COUNTY:
        counties = [c for c in counties if c.code == user.region_code]
    buttons = [InlineKeyboardButton(place_name(c, t), callback_data=f"crs:{c.code}") for c in counties]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await answer(update, t("contact.ask_region"), reply_markup=InlineKeyboardMarkup(rows))


async def chose_region(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return
    services, t = context.services, caller.t
    region = query.data.removeprefix("crs:")
    try:
        async with services.storage.db.transaction():
            started = await services.warnings.start_contact_round(caller.user, region)
            people = sum(len(c.entries) for c in started.lists)
            if started.created and not people:
                # Nobody registered there: left open, it would end a day later with a summary of nobody.
                await services.warnings.close_round(None, started.round.id)
            await queue_lists(services, started, [caller.user.telegram_id])
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        return
    await query.answer()
    if not started.created:
        await answer(update, t("contact.already_open", round=started.round.number), edit=True)
        return
    cadres = len({c.cadre_id for c in started.lists if c.cadre_id is not None})
    unassigned = sum(len(c.entries) for c in started.lists if c.cadre_id is None)
    key = "contact.started" if people else "contact.nobody_registered"
    await answer(update, t(key, round=started.round.number, people=people, cadres=cadres, unassigned=unassigned),
                 edit=True)


# ---- working through a list -----------------------------------------------------------------------------------


async def _list_of(context: BotContext, round_id: int, entry: ContactEntry) -> list[ContactEntry]:
    """The list the pressed message shows: the person's cadre's, or the people nobody was assigned."""
    if entry.cadre_id is not None:
        return list((await context.services.warnings.cadre_list(round_id, entry.cadre_id)).entries)
    return [e for e in await context.services.storage.contacts.entries(round_id) if e.cadre_id is None]


async def pressed_entry(
    context: BotContext, caller: Caller, query: CallbackQuery, round_id: int, person_id: int
) -> tuple[ContactRound, ContactEntry] | None:
    """The round and the list entry a press names, for whoever may record it; None once the presser has been
    answered (no such entry, or not theirs: even bringing a person into focus shows the whole list, which is for
    the cadre and the county's staff alone)."""
    assert caller.user is not None
    contacts = context.services.storage.contacts
    entry = await contacts.entry(round_id, person_id)
    contact_round = await contacts.get_round(round_id)
    if entry is None or contact_round is None:
        await query.answer(caller.t.plain("refusal.contact_not_found"), show_alert=True)
        return None
    if not context.services.warnings.may_record(caller.user, entry):
        await refuse_press(context, caller, query, Refusal("contact_not_yours"), AUTHZ_REFUSALS)
        return None
    return contact_round, entry


async def pressed(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    query = update.callback_query
    parsed = parse(query.data if query is not None else None)
    if caller is None or caller.user is None or query is None or parsed is None:
        return
    round_id, person_id, verb = parsed
    services, t = context.services, caller.t
    found = await pressed_entry(context, caller, query, round_id, person_id)
    if found is None:
        return
    contact_round, entry = found
    focus_wanted: int | None = person_id
    after: int | None = None
    if verb != FOCUS and contact_round.closed_at is not None:
        # Too late to record (the summary has gone to staff): say who follows up, and redraw the list as ended.
        await query.answer(t.plain("refusal.contact_round_closed"), show_alert=True)
        focus_wanted = None
    elif verb != FOCUS and ContactStatus(verb) is not entry.status:
        try:
            await record_answer(context, caller.user, contact_round, person_id, ContactStatus(verb))
        except Refusal as refusal:
            await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
            return
        contact_round = await services.storage.contacts.get_round(round_id) or contact_round
        focus_wanted, after = None, person_id
        await query.answer(t.plain(f"contact.recorded_{verb}", code=entry.person_code))
    elif verb != FOCUS:
        # The answer already given, given again: nothing to record, and the cadre moves on.
        focus_wanted, after = None, person_id
        await query.answer(t.plain(f"contact.recorded_{verb}", code=entry.person_code))
    else:
        await query.answer()
    entries = await _list_of(context, round_id, entry)
    text, markup = await list_message(services, contact_round, entries, focus_of(entries, focus_wanted, after), t)
    if isinstance(query.message, Message):
        await edit_if_changed(query.message, text, markup)


async def record_answer(
    context: BotContext, user: User, contact_round: ContactRound, person_id: int, status: ContactStatus
) -> None:
    """Record the answer for the person, as a press on the list does (also a typed result's, handlers.contact_typed):
    🆘 reaches the county's staff at once; the last answer of the round closes it, with its summary to staff."""
    services = context.services
    async with services.storage.db.transaction():
        outcome = await services.warnings.record_contact(user, contact_round.id, person_id, status)
        if outcome.alert_staff and (outcome.help is not None or contact_round.warning_id is None):
            await _call_for_help(context, user, outcome)
        summary = await services.warnings.round_summary(contact_round.id)
        if summary.complete:
            # Nobody left pending: the round is done, and the county's staff get its summary.
            await queue_summary(services, await services.warnings.close_round(None, contact_round.id))


async def edit_if_changed(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Telegram refuses an edit that changes nothing; pressing the person already in focus is such a press."""
    same_markup = (message.reply_markup.to_dict() if message.reply_markup else None) == (
        markup.to_dict() if markup else None
    )
    if message.text_html == text and same_markup:
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def _call_for_help(context: BotContext, cadre: User, outcome: ContactOutcome) -> None:
    """The county's staff (or the city admins) hear at once who needs help, and from whom: the cadre's name, a tap
    to message them, since the person is only a code. Under a warning it is a call for help like a head's, with
    ✋ 我来处理 (and the pager repeats it until someone takes it); a round by hand has no warning to hold one."""
    services, entry, request = context.services, outcome.entry, outcome.help
    region = await services.storage.regions.get(entry.region_code[:6])
    contact_round = await services.storage.contacts.get_round(entry.round_id)
    number = contact_round.number if contact_round is not None else entry.round_id
    cadre_link = person_link(cadre.telegram_id, cadre.full_name)

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        key = "contact.help_alert_username" if cadre.username else "contact.help_alert"
        text = t(key, code=entry.person_code, region=place_name(region, t),
                 category=t.plain(f"contact.category_{entry.category.value}"), round=number, name=cadre_link,
                 username=cadre.username or "")
        return text, take_help_keyboard(request.id, t) if request is not None else None

    if request is not None:
        key = help_alert_key(request)
    else:
        key = f"contact:{entry.round_id}:help:{entry.person_id}:{services.clock.now().strftime('%Y%m%d%H%M%S')}"
    await queue_personal(services, outcome.alert_staff, key, render)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("contactround", start_round, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(chose_region, pattern=r"^crs:\d+$"))
    application.add_handler(CallbackQueryHandler(pressed, pattern=PATTERN))
