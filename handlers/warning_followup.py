"""The follow-up of a warning's silent institutions (bot.warning_jobs runs it every minute; handlers.warning_delivery
names those nobody can be told of at once): their escalation to the county's staff (one message a county, or one
grouped for someone told of several), the escalation to the city admins, and the notice of those nobody can be told
of. Under those messages, ☎️ 我来跟进 (take charge) and ↩️ 交回跟进 (hand back, under /warnstatus too): the state
line each press writes after the marker, the grouped copies rebuilt for colleagues, the notice of a hand-back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain.roles import Role
from bot.domain.warnings import EarlyWarning, WarningStatus
from bot.i18n import Html, Translator, counted
from bot.services.errors import Refusal
from bot.services.staff import first_told
from bot.services.warnings import CountyAckStatus, HandBack, InstitutionAck, WarningAckStatus
from handlers.common import fitting, identify, place_name, refuse_press
from handlers.warning_outbox import county_staff, edit_delivered, queue_personal, translator_for
from handlers.warning_text import local_time, title
from handlers.warnstatus import (
    AUTHZ_REFUSALS,
    area_name,
    edit_in_place,
    hand_back_button,
    is_status,
    name_of,
    scope_of,
    status_keyboard,
    status_text,
    view_of,
)
from storage.models import Institution, Region, RegionLevel, User

if TYPE_CHECKING:
    from bot.services_factory import BotServices

# Names in one county's escalation, within ESCALATION_BUDGET characters; the others are counted, with where to
# see them.
ESCALATION_NAMES = 20
ESCALATION_BUDGET = 3000


async def escalate_silent(services: BotServices, warning: EarlyWarning, status: WarningAckStatus | None = None) -> int:
    """Tell each county's staff which of their institutions are still silent; returns how many were named.
    Someone told of several counties of the warning (a city admin standing in for counties with no staff) gets
    one message for all of them, county by county, with a ☎️ button for each. `status`: the warning's, if the
    caller has read it this minute."""
    status = status if status is not None else await services.warnings.ack_status(warning.id)
    silent = [county for county in status.counties if county.pending]
    if not silent:
        return 0
    # Whether a person's message is grouped depends on the counties they are told of, silent or not, so that a
    # county answering in the meantime never turns the one message into another.
    told: dict[int, list[CountyAckStatus]] = {}
    for county in status.counties:
        for chat_id in await county_staff(services, county.county_code):
            told.setdefault(chat_id, []).append(county)
    known = await _institutions(services, [row for county in silent for row in county.pending])
    regions = {county.county_code: await services.storage.regions.get(county.county_code) for county in silent}
    for chat_id, counties in told.items():
        theirs = [county for county in counties if county.pending]
        if not theirs:
            continue
        if len(counties) == 1:
            county = theirs[0]
            words = _naming(warning, [known.get(row.institution_id) for row in county.pending],
                            "warnstatus.escalation", button=_take_charge_button(warning, county.county_code))
            await queue_personal(services, [chat_id], f"warning:{warning.id}:escalate:{county.county_code}", words)
        else:
            named = [(regions[county.county_code], county.county_code,
                      [known.get(row.institution_id) for row in county.pending]) for county in theirs]
            await queue_personal(services, [chat_id], f"warning:{warning.id}:escalate:counties",
                                 _grouped_naming(warning, named))
    return sum(len(county.pending) for county in silent)


def _grouped_naming(
    warning: EarlyWarning, counties: list[tuple[Region | None, str, list[Institution | None]]]
) -> Callable[[Translator], tuple[str, InlineKeyboardMarkup | None]]:
    """One escalation for several counties: each under its name, as many names as fit its share of the message,
    and a ☎️ 我来跟进 button for each county, labelled with it."""

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        total = sum(len(institutions) for _, _, institutions in counties)
        # The city's own institutions (市直) are not a county: counted as one of the areas, and said so.
        city = any(region is not None and region.level is RegionLevel.CITY for region, _, _ in counties)
        key = "warnstatus.escalation_areas" if city else "warnstatus.escalation_counties"
        lines = [t(counted(key, total), title=title(warning, t), count=total, counties=len(counties))]
        budget = ESCALATION_BUDGET // len(counties)
        for region, _, institutions in counties:
            names = fitting([place_name(i, t) for i in institutions], budget, most=ESCALATION_NAMES)
            count = len(institutions)
            line = t(counted("warnstatus.escalation_county", count), region=area_name(region, t), count=count,
                     names=t.plain("warn.list_separator").join(names))
            if len(names) < count:
                line = Html(line + t("warnstatus.escalation_more", count=count - len(names)))
            lines.append(line)
        buttons = [[_grouped_button(warning.id, code, area_name(region, t), None, t)]
                   for region, code, _ in counties]
        return Html("\n".join(lines)), InlineKeyboardMarkup(buttons)

    return render


def _grouped_button(warning_id: int, county_code: str, region: str, mine: bool | None, t: Translator
                    ) -> InlineKeyboardButton:
    """A county's button under a grouped escalation (its data ends ":g"): ↩️ 交回 for the reader's own follow-up,
    else ☎️ 我来跟进 (a colleague's press is told who follows up, and changes nothing)."""
    if mine:
        return InlineKeyboardButton(t.plain("warnstatus.button_hand_back_in", region=region),
                                    callback_data=f"ws:back:{warning_id}:{county_code}:g")
    return InlineKeyboardButton(t.plain("warnstatus.button_take_charge_in", region=region),
                                callback_data=f"ws:own:{warning_id}:{county_code}:g")


async def regrouped(services: BotServices, warning_id: int, message: Message, reader: User, t: Translator
                    ) -> tuple[Html, InlineKeyboardMarkup]:
    """A grouped escalation as it stands now: a state line for each of its counties someone follows up (after the
    marker, as `footed` writes it), and each county's button for the reader."""
    buttons = message.reply_markup.inline_keyboard if message.reply_markup else ()
    codes = _grouped_codes(str(b.callback_data or "") for row in buttons for b in row)
    return await _regrouped(services, warning_id, message.text_html, codes, reader.telegram_id, t)


def _grouped_codes(data: Iterable[str]) -> list[str]:
    """The counties of a grouped escalation, from its buttons' data, in their order."""
    return [item.split(":")[3] for item in data if item.endswith(":g")]


async def _regrouped(services: BotServices, warning_id: int, text_html: str, codes: list[str], reader_id: int,
                     t: Translator) -> tuple[Html, InlineKeyboardMarkup]:
    followers = await services.storage.warnings.followers(warning_id)
    lines, rows = [], []
    for code in codes:
        region = area_name(await services.storage.regions.get(code), t)
        follower = followers.get(code)
        if follower is not None:
            lines.append(t("warnstatus.follower_line_in", region=region,
                           name=await name_of(services, follower.telegram_id),
                           at=local_time(follower.taken_at, services.settings.tz)))
        mine = follower is not None and follower.telegram_id == reader_id
        rows.append([_grouped_button(warning_id, code, region, mine, t)])
    text = footed(text_html, "\n".join(lines)) if lines else Html(unfooted(text_html))
    return text, InlineKeyboardMarkup(rows)


async def regroup_copies(context: BotContext, warning_id: int, presser_id: int, pressed: Message | None) -> None:
    """After a county is taken on or handed back, the other delivered copies of the grouped escalation (a colleague's,
    or the presser's own when they pressed elsewhere) say who follows up each county now, with each reader's buttons.
    Best effort, from the outbox's record of delivered messages, as the copies of a call for help: a copy that
    cannot be edited (deleted, too old) is left as it is, and a press under it is answered with who follows up."""
    services = context.services
    copies = await services.storage.outbox.delivered_with_prefix(f"warning:{warning_id}:escalate:counties:chat:")
    for copy in copies:
        if copy.message_id is None or (
            pressed is not None and copy.chat_id == presser_id and copy.message_id == pressed.message_id
        ):
            continue
        markup = copy.payload.reply_markup or {}
        codes = _grouped_codes(str(button.get("callback_data", "")) for row in markup.get("inline_keyboard", ())
                               for button in row)
        t = await translator_for(services, copy.chat_id)
        text, keyboard = await _regrouped(services, warning_id, copy.payload.text, codes, copy.chat_id, t)
        await edit_delivered(context, copy, text, keyboard)


async def _refoot_copies(
    context: BotContext, warning: EarlyWarning, county_code: str, presser_id: int, *, taken: bool
) -> None:
    """After the presser took a county on (or handed it back), their colleagues' copies of that county's escalation
    say so, as the grouped escalation's do: a taken one loses its ☎️ 我来跟进 and names the follower; one handed
    back names who handed it back and offers ☎️ 我来跟进 again. Before, a colleague's copy kept offering to take on
    what someone followed up already, or named a follower who had handed it back. Best effort, as `regroup_copies`."""
    services = context.services
    presser = await services.storage.users.get(presser_id)
    if presser is None:
        return
    now = local_time(services.clock.now(), services.settings.tz)
    prefix = f"warning:{warning.id}:escalate:{county_code}:chat:"
    for copy in await services.storage.outbox.delivered_with_prefix(prefix):
        if copy.message_id is None or copy.chat_id == presser_id:
            continue
        t = await translator_for(services, copy.chat_id)
        if taken:
            line, markup = t("warnstatus.follower_line", name=await name_of(services, presser_id), at=now), None
        else:
            line = t("warnstatus.handed_back_line", name=presser.full_name, at=now)
            markup = InlineKeyboardMarkup([[_take_charge_button(warning, county_code)(t)]])
        await edit_delivered(context, copy, footed(copy.payload.text, line), markup)


def is_grouped(data: str) -> bool:
    return data.endswith(":g")


async def escalate_to_city(services: BotServices, warning: EarlyWarning, status: WarningAckStatus | None = None) -> int:
    """Tell the city admins, county by county, how many institutions are still silent and how many calls for help
    (raised by the time of this rung) nobody has taken yet, or are being handled, once per warning, with a button to
    the full status. A call for help is an answer, so a warning everyone answered is still told of when one of its
    calls lies untaken: that is what the bureau must hear of. Returns how many institutions it counts (silent, or
    with an untaken call); nothing is sent when that is none."""
    status = status if status is not None else await services.warnings.ack_status(warning.id)
    # Calls raised after the rung's time had their county's staff alerted a moment ago: not yet the city's concern.
    by = (warning.sent_at or services.clock.now()) + services.settings.warning_settings.city_escalate_after
    calls = {county.county_code: _open_calls(county, by) for county in status.counties}
    untaken = sum(len(calls[c.county_code].untaken) for c in status.counties)
    if not status.pending and not untaken:
        return 0
    listed = sorted(
        (c for c in status.counties if c.pending or calls[c.county_code].untaken or calls[c.county_code].handled),
        key=lambda c: (-len(c.pending), -len(calls[c.county_code].untaken)),
    )
    regions = {c.county_code: await services.storage.regions.get(c.county_code) for c in listed}
    following = [c.follower.telegram_id for c in listed if c.pending and c.follower is not None]
    names = {user.telegram_id: user.full_name for user in await services.storage.users.get_many(following)}
    admins = [user.telegram_id for user in await services.storage.users.in_scope(Role.CITY, None)]
    sent_at = local_time(warning.sent_at or services.clock.now(), services.settings.tz)
    # The silent of a county without staff (and the city's own) were listed to the city admins, not to a county
    # department: the message must not say every county's staff have the list.
    unstaffed = {c.county_code for c in listed if c.pending and not await _has_county_staff(services, c.county_code)}

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        if status.pending:
            key = "warnstatus.city_escalation" if not unstaffed else "warnstatus.city_escalation_unstaffed"
            lines = [t(counted(key, status.pending), title=title(warning, t), id=warning.id,
                       sent=sent_at, count=status.pending)]
        else:
            lines = [t(counted("warnstatus.city_escalation_help", untaken), title=title(warning, t), id=warning.id,
                       sent=sent_at, count=untaken)]
        for county in listed:
            region = area_name(regions[county.county_code], t)
            if county.pending:
                line = t("warnstatus.city_county", region=region, pending=len(county.pending), total=county.total)
                if unreached := len(county.no_one_to_reach):
                    line += t("warnstatus.city_county_no_one", count=unreached)
                follower = county.follower
                line += (t("warnstatus.city_county_nobody") if follower is None else
                         t("warnstatus.city_county_follower", name=names.get(follower.telegram_id, "—"),
                           at=local_time(follower.taken_at, services.settings.tz)))
                if county.county_code in unstaffed:
                    # The city's own institutions (市直) never have county staff: that is no gap to point out.
                    area = regions[county.county_code]
                    own = area is not None and area.level is RegionLevel.CITY
                    line += t("warnstatus.city_county_city_own" if own else "warnstatus.city_county_unstaffed")
            else:
                line = t(counted("warnstatus.city_county_answered", county.total), region=region, total=county.total)
            open_calls = calls[county.county_code]
            if untaken_here := len(open_calls.untaken):
                line += t(counted("warnstatus.city_county_help_untaken", untaken_here), count=untaken_here)
            if handled_here := len(open_calls.handled):
                line += t("warnstatus.city_county_help_handled", count=handled_here)
            lines.append(line)
        button = InlineKeyboardButton(t.plain("warnstatus.button_status"), callback_data=f"ws:show:{warning.id}")
        return Html("\n".join(lines)), InlineKeyboardMarkup([[button]])

    await queue_personal(services, admins, f"warning:{warning.id}:escalate:city", render)
    return status.pending + untaken


async def _has_county_staff(services: BotServices, county_code: str) -> bool:
    """Whether county staff cover the area: those told first are otherwise the city admins (`first_told`)."""
    return any(user.role is Role.COUNTY for user in await first_told(services.storage, county_code))


@dataclass(frozen=True)
class _OpenCalls:
    untaken: tuple[InstitutionAck, ...]  # 🆘, and nobody pressed ✋ 我来处理 yet
    handled: tuple[InstitutionAck, ...]  # taken (✋), not resolved yet


def _open_calls(county: CountyAckStatus, by: datetime) -> _OpenCalls:
    """A county's institutions whose call for help, raised by `by`, is still open (a resolved one is answered and
    no longer under need_help): untaken, or taken and being handled. An answer of 需要帮助 with no call recorded
    (older than the calls' table) counts as untaken: nobody took it."""
    untaken: list[InstitutionAck] = []
    handled: list[InstitutionAck] = []
    for row in county.need_help:
        raised = row.help.raised_at if row.help is not None else row.at
        if raised is not None and raised > by:
            continue
        (handled if row.help is not None and row.help.taken_by is not None else untaken).append(row)
    return _OpenCalls(tuple(untaken), tuple(handled))


@dataclass(frozen=True)
class NoOneToReach:
    total: int  # institutions the warning concerns that nobody can be told of
    newly_named: int  # of which named just now to staff who had not been told of them


async def escalate_no_one_to_reach(
    services: BotServices, warning: EarlyWarning, status: WarningAckStatus | None = None
) -> NoOneToReach:
    """Tell each county's staff at once of their institutions the warning concerns that nobody can be told of (no
    registered head, access ended, the bot blocked): nobody will answer for them, so waiting for the follow-up's
    escalation would only lose time. One message per person (a city admin standing in for several counties gets
    them together). Later (a head left or blocked the bot) it names only the institutions that person has not been
    named yet, saying how many they were named before. Returns how many institutions nobody can be told of (the
    sender's count) and how many of them were named now (the follow-up's, which runs every minute)."""
    status = status if status is not None else await services.warnings.ack_status(warning.id)
    by_chat: dict[int, list[InstitutionAck]] = {}
    for county in status.counties:
        if county.no_one_to_reach:
            for chat_id in await county_staff(services, county.county_code):
                by_chat.setdefault(chat_id, []).extend(county.no_one_to_reach)
    # The city admins read the total (the sender's confirmation, the word that an official warning went out) and
    # then a list of those they must phone: the rest went to their counties' staff, and the list says so, or the two
    # counts (10 家, then 以下 9 家) disagree with nothing to explain why.
    elsewhere: dict[int, int] = {}
    if by_chat:
        admins = {user.telegram_id for user in await services.storage.users.in_scope(Role.CITY, None)}
        elsewhere = {chat_id: status.no_one_to_reach - len(rows) for chat_id, rows in by_chat.items()
                     if chat_id in admins}
    named = await services.storage.warnings.no_one_named(warning.id) if by_chat else {}
    news = {chat_id: [r for r in rows if r.institution_id not in named.get(chat_id, set())]
            for chat_id, rows in by_chat.items()}
    # Read once for every chat: a county's staff each name the same institutions, and this runs every minute.
    known = await _institutions(services, [row for rows in news.values() for row in rows])
    now = services.clock.now()
    for chat_id, rows in news.items():
        if not rows:
            continue
        before = len(named.get(chat_id, ()))
        key = "warnstatus.no_one_again" if before else "warnstatus.no_one_escalation"
        words = _naming(warning, [known.get(row.institution_id) for row in rows], key,
                        rest="warnstatus.escalation_more_no_one", before=before)
        if not before and elsewhere.get(chat_id, 0) > 0:
            words = _with_others(words, elsewhere[chat_id], status.no_one_to_reach)
        # The key of the list named (as before this record was kept: a list already sent is not sent again).
        which = hashlib.sha256(",".join(str(row.institution_id) for row in rows).encode()).hexdigest()[:16]
        async with services.storage.db.transaction():
            await queue_personal(services, [chat_id], f"warning:{warning.id}:no_one:{which}", words)
            await services.storage.warnings.add_no_one_named(warning.id, chat_id, [r.institution_id for r in rows], now)
    newly = {row.institution_id for rows in news.values() for row in rows}
    return NoOneToReach(status.no_one_to_reach, len(newly))


async def _institutions(services: BotServices, rows: list[InstitutionAck]) -> dict[int, Institution]:
    wanted = {row.institution_id for row in rows}
    return {i.id: i for i in await services.storage.institutions.get_many(wanted)} if wanted else {}


def _with_others(
    words: Callable[[Translator], tuple[str, InlineKeyboardMarkup | None]], others: int, total: int
) -> Callable[[Translator], tuple[str, InlineKeyboardMarkup | None]]:
    """A city admin's list, followed by how many more nobody can reach were listed to their county's staff."""

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        text, markup = words(t)
        return Html(text + "\n" + t(counted("warnstatus.no_one_elsewhere", others), count=others, total=total)), markup

    return render


def _naming(
    warning: EarlyWarning, institutions: list[Institution | None], key: str,
    button: Callable[[Translator], InlineKeyboardButton] | None = None,
    rest: str = "warnstatus.escalation_more", **more: int,
) -> Callable[[Translator], tuple[str, InlineKeyboardMarkup | None]]:
    """Words naming institutions of a warning to staff (`key`, with {title}, {count}, {names} and any of `more`): as
    many names as fit one message, the rest counted (`rest`: with the /warnstatus filter that lists them all); with
    `button` under them."""

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        names = fitting([place_name(i, t) for i in institutions], ESCALATION_BUDGET, most=ESCALATION_NAMES)
        count = len(institutions)
        text = t(counted(key, count), title=title(warning, t), count=count,
                 names=t.plain("warn.list_separator").join(names), **more)
        if len(names) < count:
            text = Html(text + t(rest, count=count - len(names)))
        return text, None if button is None else InlineKeyboardMarkup([[button(t)]])

    return render


def _take_charge_button(warning: EarlyWarning, county_code: str) -> Callable[[Translator], InlineKeyboardButton]:
    def label(t: Translator) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            t.plain("warnstatus.button_take_charge"), callback_data=f"ws:own:{warning.id}:{county_code}"
        )

    return label


async def took_charge(update: Update, context: BotContext) -> None:
    """☎️ 我来跟进 under an escalation: the presser follows the county's silent institutions up, unless a colleague
    already does; either way the message then says who, and its button goes."""
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return
    _, _, warning_id, county_code, *_ = query.data.split(":")
    services, t = context.services, caller.t
    try:
        charge = await services.warnings.take_charge(caller.user, int(warning_id), county_code)
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        await _pressed_after_end(context, refusal, int(warning_id), query.message, caller.user, t)
        return
    follower = charge.follower
    region = area_name(await services.storage.regions.get(county_code), t)
    name, at = await name_of(services, follower.telegram_id), local_time(follower.taken_at, services.settings.tz)
    if charge.took:
        await query.answer(t.plain("warnstatus.taken", region=region), show_alert=True)
    elif follower.telegram_id == caller.user.telegram_id:
        await query.answer(t.plain("warnstatus.taken_already_you", at=at), show_alert=True)
    else:
        await query.answer(t.plain("warnstatus.taken_by_other", name=name, at=at, region=region), show_alert=True)
    if isinstance(query.message, Message) and query.message.text_html and is_grouped(query.data):
        await edit_in_place(query.message, *await regrouped(services, charge.warning.id, query.message, caller.user, t))
    elif isinstance(query.message, Message) and query.message.text_html:
        line = t("warnstatus.follower_line", name=name, at=at)
        # The follower may hand it back from here (↩️ 交回跟进); a colleague's message loses its button.
        mine = follower.telegram_id == caller.user.telegram_id
        markup = InlineKeyboardMarkup([[hand_back_button(charge.warning, county_code, t)]]) if mine else None
        await edit_in_place(query.message, footed(query.message.text_html, line), markup)
    if charge.took:
        await regroup_copies(context, charge.warning.id, caller.user.telegram_id, _message(query.message))
        await _refoot_copies(context, charge.warning, county_code, caller.user.telegram_id, taken=True)


async def handed_back(update: Update, context: BotContext) -> None:
    """↩️ 交回跟进, from the follower's escalation message or their /warnstatus: the county's silent institutions
    have nobody following them up again, and the county's other staff are told so, with ☎️ 我来跟进. A press that
    is not the follower's (stale: a colleague took it since) or comes twice says who follows now and changes
    nothing."""
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return
    _, _, warning_id, county_code, *_ = query.data.split(":")
    services, t = context.services, caller.t
    try:
        async with services.storage.db.transaction():  # the hand-back and the colleagues' notice, or neither
            outcome = await services.warnings.hand_back(caller.user, int(warning_id), county_code)
            told = "warnstatus.handed_back"
            if outcome.released is not None:
                told = await tell_handed_back(services, outcome, caller.user, county_code)
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        await _pressed_after_end(context, refusal, int(warning_id), query.message, caller.user, t)
        return
    warning = outcome.warning
    region = area_name(await services.storage.regions.get(county_code), t)
    message = query.message if isinstance(query.message, Message) and query.message.text_html else None
    if outcome.current is not None:  # a colleague follows it up now: this button was stale
        current = outcome.current
        name, at = await name_of(services, current.telegram_id), local_time(current.taken_at, services.settings.tz)
        await query.answer(t.plain("warnstatus.hand_back_not_yours", name=name, at=at, region=region),
                           show_alert=True)
    elif outcome.released is None:
        await query.answer(t.plain("warnstatus.hand_back_nobody", region=region), show_alert=True)
    else:
        await query.answer(t.plain(told, region=region), show_alert=True)
    if outcome.released is not None:
        await regroup_copies(context, warning.id, caller.user.telegram_id, message)
        await _refoot_copies(context, warning, county_code, caller.user.telegram_id, taken=False)
    if message is None:
        return
    markup: InlineKeyboardMarkup | None
    if is_status(message):
        scope = scope_of(caller.user)
        status = await services.warnings.ack_status(warning.id, scope)
        text = await status_text(services, status, t, view_of(message))
        markup = await status_keyboard(services, status, caller.user, t, view_of(message))
    elif is_grouped(query.data):
        text, markup = await regrouped(services, warning.id, message, caller.user, t)
    elif outcome.released is not None:
        line = t("warnstatus.handed_back_line", name=caller.user.full_name,
                 at=local_time(services.clock.now(), services.settings.tz))
        text = footed(message.text_html, line)
        markup = InlineKeyboardMarkup([[_take_charge_button(warning, county_code)(t)]])
    elif outcome.current is not None:  # stale: the message now says who follows up instead
        current = outcome.current
        line = t("warnstatus.follower_line", name=await name_of(services, current.telegram_id),
                 at=local_time(current.taken_at, services.settings.tz))
        text, markup = footed(message.text_html, line), None
    else:
        text = Html(message.text_html)
        markup = InlineKeyboardMarkup([[_take_charge_button(warning, county_code)(t)]])
    await edit_in_place(message, text, markup)


def _message(message: object) -> Message | None:
    return message if isinstance(message, Message) and message.text_html else None


async def _pressed_after_end(
    context: BotContext, refusal: Refusal, warning_id: int, message: object, reader: User, t: Translator
) -> None:
    """☎️ or ↩️ pressed once the warning has ended (the pop-up said so): the message loses its buttons, an
    escalation saying under it that the warning ended, a status turning into the final tally."""
    pressed = _message(message)
    if refusal.code != "warning_ended" or pressed is None:
        return
    services = context.services
    warning = await services.warnings.get(warning_id)
    ended = services.warnings.ended_when(warning)
    if ended is None:
        return
    if is_status(pressed):
        status = await services.warnings.ack_status(warning.id, scope_of(reader))
        await edit_in_place(pressed, await status_text(services, status, t, view_of(pressed)),
                            await status_keyboard(services, status, reader, t, view_of(pressed)))
        return
    lifted = warning.status is WarningStatus.CANCELLED
    key = "warnstatus.escalation_lifted" if lifted else "warnstatus.escalation_expired"
    line = t(key, at=local_time(ended, services.settings.tz))
    await edit_in_place(pressed, Html(f"{pressed.text_html}\n{line}" if FOOTER in pressed.text_html
                                      else footed(pressed.text_html, line)), None)


# Where the state line under an escalation (or a hand-back notice) starts: a blank line, then a WORD JOINER
# (U+2060: invisible, and typed by nobody), so that a press finds the text it footed whatever that text holds.
FOOTER = "\n\n\u2060"


def footed(text_html: str, line: str) -> Html:
    """The message with `line` as its one state line: whoever follows its county up now, or that nobody does
    since a hand-back. Each press writes it anew, in place of the line an earlier press wrote."""
    return Html(f"{unfooted(text_html)}{FOOTER}{line}")


def unfooted(text_html: str) -> str:
    """The message as sent, without the state line under it. A message footed before the marker was (the lines were
    appended then) loses all from its first follower line: "\n\n☎️ " in either language, and in no message sent."""
    if FOOTER in text_html:
        return text_html.split(FOOTER, 1)[0]
    return text_html.split("\n\n☎️ ", 1)[0]


async def tell_handed_back(services: BotServices, outcome: HandBack, by: User, county_code: str) -> str:
    """Tell the county's other staff (the city admins where it has none) that its silent institutions have nobody
    following them up again, naming them, with ☎️ 我来跟进; nothing when none is silent any more. Queued in the
    transaction of the hand-back and named by its audit entry: a restart sends it once, a later hand-back again.
    Returns the presser's pop-up, saying what is true: colleagues told, nobody else to tell (the only city admin
    handing back a county without staff), or none silent any more."""
    warning = outcome.warning
    status = await services.warnings.ack_status(warning.id, county_code)
    # The county alone: a city's own code (its city-level institutions) would scope the whole city.
    pending = [row for county in status.counties if county.county_code == county_code for row in county.pending]
    staff = [chat_id for chat_id in await county_staff(services, county_code) if chat_id != by.telegram_id]
    if not pending:
        return "warnstatus.handed_back_none_silent"
    if not staff:
        return "warnstatus.handed_back_alone"
    known = await _institutions(services, pending)
    region = await services.storage.regions.get(county_code)
    institutions = [known.get(row.institution_id) for row in pending]
    button = _take_charge_button(warning, county_code)

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        names = fitting([place_name(i, t) for i in institutions], ESCALATION_BUDGET, most=ESCALATION_NAMES)
        count = len(institutions)
        text = t(counted("warnstatus.handed_back_notice", count), name=by.full_name, region=area_name(region, t),
                 title=title(warning, t), count=count, names=t.plain("warn.list_separator").join(names))
        if len(names) < count:
            text = Html(text + t("warnstatus.escalation_more", count=count - len(names)))
        return text, InlineKeyboardMarkup([[button(t)]])

    key = f"warning:{warning.id}:handback:{county_code}:{outcome.event_id}"
    await queue_personal(services, staff, key, render)
    return "warnstatus.handed_back"


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(took_charge, pattern=r"^ws:own:\d+:\d+(:g)?$"))
    application.add_handler(CallbackQueryHandler(handed_back, pattern=r"^ws:back:\d+:\d+(:g)?$"))
