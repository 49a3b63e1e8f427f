"""/warnstatus (staff): for each warning in force, which institutions have answered, county by county, and a
button to remind the silent ones. The same reminder goes out by itself after a set time, and later the silent
institutions are escalated to their county's staff (bot.warning_jobs).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role, region_in_scope
from bot.domain.warnings import EarlyWarning, WarningStatus, regions_overlap
from bot.i18n import Html, Translator, counted
from bot.services.errors import Refusal
from bot.services.warnings import CountyAckStatus, HandBack, InstitutionAck, WarningAckStatus
from handlers.common import answer, fitting, identify, is_private, place_name, refuse_press
from handlers.warning_outbox import county_staff, queue_personal, translator_for
from handlers.warning_text import LEVEL_ICONS, ack_keyboard, headline, local_time, resolve_help_button, title
from storage.models import Institution, Region, RegionLevel, User
from storage.warning_models import AckResponse, Follower, HelpRequest

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

ICONS = {AckResponse.RECEIVED: "✅", AckResponse.NEED_HELP: "🆘", None: "⏳"}
# What `_checked` refuses besides a warning gone: a press not the presser's to make, worth an audit entry.
AUTHZ_REFUSALS = frozenset({"warning_staff_only", "warning_out_of_scope"})
# A warning may reach every institution of a county, or of the city: a line for each would be past what one
# Telegram message holds (4096 characters). The status lists this many, shared among the counties (each at least
# COUNTY_ROWS, the rows a county does not need going to those that do), those needing help and the silent first,
# within STATUS_BUDGET characters, and counts the rest.
STATUS_ROWS = 30
COUNTY_ROWS = 3
STATUS_BUDGET = 3600
# /warnstatus also shows, read-only, the warnings that ended (lifted or run out) this long ago at most.
ENDED_SHOWN = timedelta(hours=48)
# At most this many of them (the latest ended first), one message each; the others are counted.
ENDED_MOST = 5
# Names in one county's escalation, within ESCALATION_BUDGET characters; the others are counted, with where to
# see them.
ESCALATION_NAMES = 20
ESCALATION_BUDGET = 3000
# ✅ 已解决 buttons under one status message, for the calls for help its reader took.
HELP_BUTTONS = 5


def _scope(user: User) -> str | None:
    return user.region_code if user.role is Role.COUNTY else None


async def status_text(services: BotServices, status: WarningAckStatus, t: Translator) -> Html:
    warning = status.warning
    ended = services.warnings.ended_when(warning)
    total = status.acknowledged + status.need_help + status.helped + status.pending
    # A call for help resolved (🆘→✅) is an answer, counted apart from the calls still open.
    counts = "warnstatus.counts_helped" if status.helped else "warnstatus.counts"
    lines = [
        _title(services, warning, t, ended),
        t(counted(counts, total), received=status.acknowledged, need_help=status.need_help,
          helped=status.helped, pending=status.pending, total=total),
    ]
    if status.no_one_to_reach:
        key = "warnstatus.no_one_count" if ended is None else "warnstatus.no_one_count_ended"
        lines.append(t(counted(key, status.no_one_to_reach), count=status.no_one_to_reach))
    if late := sum(1 for county in status.counties for row in _listing(county) if _late_call(row, ended)):
        lines.append(t(counted("warnstatus.late_calls", late), count=late))
    used = sum(len(line) + 1 for line in lines)
    listed = [_listing(county) for county in status.counties]
    for county, rows, share in zip(status.counties, listed, shares([len(rows) for rows in listed]), strict=True):
        region = await services.storage.regions.get(county.county_code)
        lines.append(t("warnstatus.county", region=area_name(region, t)))
        if county.follower is not None:
            lines.append(await _follower_line(services, county.follower, t))
        elif county.pending and ended is None and _escalated(services, warning):
            lines.append(t("warnstatus.nobody_follows"))
        used += sum(len(line) + 1 for line in lines[-2:])
        shown = 0
        for row in rows[:share]:
            line = await _row(services, row, t, ended)
            if used + len(line) + 1 > STATUS_BUDGET:
                break
            lines.append(line)
            used += len(line) + 1
            shown += 1
        if shown < len(rows):
            silent = len(county.need_help) + len(county.pending) - shown
            more = len(rows) - shown
            key = "warnstatus.more" if ended is None else "warnstatus.more_ended"
            lines.append(t(counted(key, more), count=more, pending=max(0, silent)))
            used += len(lines[-1]) + 1
    if not status.counties:
        lines.append(t("warnstatus.no_institutions"))
    return Html("\n".join(lines))


def area_name(region: Region | None, t: Translator) -> str:
    """A county by its name; the city's own code by what it stands for here: the institutions it runs itself (市直),
    as the statistics name them."""
    if region is not None and region.level is RegionLevel.CITY:
        return t.plain("insight.city_level", city=place_name(region, t))
    return place_name(region, t)


def _title(services: BotServices, warning: EarlyWarning, t: Translator, ended: datetime | None) -> str:
    """The status's first line; a warning ended says so, with when and how: its tally is final."""
    words = {"icon": LEVEL_ICONS[warning.level], "title": title(warning, t), "id": warning.id}
    if ended is None:
        return t("warnstatus.title", **words)
    key = "warnstatus.title_lifted" if warning.status is WarningStatus.CANCELLED else "warnstatus.title_expired"
    return t(key, at=local_time(ended, services.settings.tz), **words)


def _listing(county: CountyAckStatus) -> tuple[InstitutionAck, ...]:
    """A county's institutions in the order /warnstatus lists them: the open calls for help (those raised after the
    end too), then those nobody can be told of (only a phone call reaches them), the other silent, the helped, the
    answered."""
    unreached = county.no_one_to_reach
    rows = (*county.need_help, *unreached, *(i for i in county.pending if i not in unreached),
            *county.helped, *county.acknowledged)
    calling = [row for row in rows if row.help is not None and not row.help.resolved]
    return (*calling, *(row for row in rows if row not in calling))


def _late_call(row: InstitutionAck, ended: datetime | None) -> bool:
    """Whether the row's call for help was raised after the warning ended: no answer was recorded then (the figures
    count answers to a warning in force), but staff were called, and the tally shows it."""
    return ended is not None and row.help is not None and row.help.raised_at > ended


def shares(sizes: list[int], rows: int = STATUS_ROWS, least: int = COUNTY_ROWS) -> list[int]:
    """How many institutions /warnstatus lists of each county (`sizes`: how many each has): each at least `least`
    (or all it has), then the rest of the `rows` one at a time to the counties with more to list, so that no row
    is left unused while a county's institutions go uncounted."""
    given = [min(size, least) for size in sizes]
    left = rows - sum(given)
    while left > 0 and any(g < size for g, size in zip(given, sizes, strict=True)):
        for index, size in enumerate(sizes):
            if left > 0 and given[index] < size:
                given[index] += 1
                left -= 1
    return given


def _escalated(services: BotServices, warning: EarlyWarning) -> bool:
    """Whether the county staff have had the list of the silent (and ☎️ 我来跟进) for this warning."""
    timing = services.settings.warning_settings
    return warning.sent_at is not None and services.clock.now() - warning.sent_at >= timing.escalate_after


async def _row(services: BotServices, row: InstitutionAck, t: Translator, ended: datetime | None = None) -> str:
    institution = await services.storage.institutions.get(row.institution_id)
    if _late_call(row, ended) and row.help is not None:
        return await _late_row(services, row.help, place_name(institution, t), t)
    if row.no_one_to_reach:
        return t("warnstatus.row_no_one", icon=ICONS[None], institution=place_name(institution, t))
    if row.response is None or row.by is None or row.at is None:
        return t("warnstatus.row_pending", icon=ICONS[None], institution=place_name(institution, t))
    person = await services.storage.users.get(row.by)
    call = row.help if row.response is AckResponse.NEED_HELP else None
    if call is not None and call.taken_by is not None:
        taker = await services.storage.users.get(call.resolved_by or call.taken_by)
        key = "warnstatus.row_helped" if call.resolved else "warnstatus.row_help_taken"
        return t(key, institution=place_name(institution, t), name=person.full_name if person else "—",
                 at=local_time(row.at, services.settings.tz), taker=taker.full_name if taker else "—")
    return t("warnstatus.row_answered", icon=ICONS[row.response], institution=place_name(institution, t),
             name=person.full_name if person else "—", at=local_time(row.at, services.settings.tz))


async def _late_row(services: BotServices, call: HelpRequest, institution: str, t: Translator) -> str:
    """An institution that called for help after the warning ended: who asked and when, and who took it."""
    tz = services.settings.tz
    words = {"institution": institution, "name": await name_of(services, call.asker_id),
             "at": local_time(call.raised_at, tz)}
    if call.taken_by is None:
        return t("warnstatus.row_late_help", **words)
    taker = await name_of(services, call.resolved_by or call.taken_by)
    return t("warnstatus.row_late_helped" if call.resolved else "warnstatus.row_late_help_taken", taker=taker,
             **words)


async def status_keyboard(
    services: BotServices, status: WarningAckStatus, reader: User, t: Translator
) -> InlineKeyboardMarkup | None:
    """Remind (while some institution is silent) and refresh; for each county the reader follows up, ↩️ 交回跟进
    (naming the county); ✅ 已解决 for the calls for help they took. A final tally has only the last (and refresh),
    or nothing."""
    warning = status.warning
    refresh = InlineKeyboardButton(t.plain("warnstatus.button_refresh"), callback_data=f"ws:show:{warning.id}")
    if services.warnings.ended_when(warning) is not None:
        # The final tally: read-only, but for the calls for help (raised after the end too) the reader took.
        resolve = await _resolve_rows(services, status, reader, t)
        return InlineKeyboardMarkup([*resolve, [refresh]]) if resolve else None
    # 🔔 only while some institution has not answered: with none silent it would remind nobody.
    remind = [InlineKeyboardButton(t.plain("warnstatus.button_remind"), callback_data=f"ws:remind:{warning.id}")]
    rows = [[*(remind if status.pending else []), refresh]]
    for county in status.counties:
        if county.follower is not None and county.follower.telegram_id == reader.telegram_id:
            region = area_name(await services.storage.regions.get(county.county_code), t)
            rows.append([_hand_back_button(warning, county.county_code, t, region)])
    rows += await _resolve_rows(services, status, reader, t)
    return InlineKeyboardMarkup(rows)


async def _resolve_rows(
    services: BotServices, status: WarningAckStatus, reader: User, t: Translator
) -> list[list[InlineKeyboardButton]]:
    """✅ 已解决 for each call for help the reader took and has not resolved yet (a few: one row each), whether it
    came as 需要帮助 or after the warning ended."""
    mine = [row for county in status.counties for row in _listing(county)
            if row.help is not None and not row.help.resolved and row.help.taken_by == reader.telegram_id]
    rows = []
    for request_id, row in list({row.help.id: row for row in mine if row.help is not None}.items())[:HELP_BUTTONS]:
        institution = place_name(await services.storage.institutions.get(row.institution_id), t)
        rows.append([resolve_help_button(request_id, t, institution)])
    return rows


async def show_status(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return
    services, t = context.services, caller.t
    if caller.user.role not in (Role.COUNTY, Role.CITY):
        await services.storage.audit.append(caller.telegram_user.id, "authz.refused", detail={"command": "warnstatus"})
        await answer(update, t("refusal.warning_staff_only"))
        return
    scope = _scope(caller.user)
    sent = [w for w in await services.warnings.active(scope) if w.sent_at is not None]
    # After 解除 or expiry the final tally (who answered, who never did, the calls for help) is what the bureau
    # reviews: warnings ended lately follow those in force, read-only.
    ended = await services.warnings.ended_since(services.clock.now() - ENDED_SHOWN, scope)
    if not sent and not ended:
        await answer(update, t("warnstatus.none"))
        return
    for warning in sent:
        status = await services.warnings.ack_status(warning.id, scope)
        markup = await status_keyboard(services, status, caller.user, t)
        await answer(update, await status_text(services, status, t), reply_markup=markup)
    for warning in ended[:ENDED_MOST]:
        status = await services.warnings.ack_status(warning.id, scope)
        markup = await status_keyboard(services, status, caller.user, t)
        await answer(update, await status_text(services, status, t), reply_markup=markup)
    if len(ended) > ENDED_MOST:
        left = len(ended) - ENDED_MOST
        await answer(update, t(counted("warnstatus.ended_more", left), count=left, shown=ENDED_MOST))


async def _checked(context: BotContext, user: User, warning_id: int) -> EarlyWarning:
    warning = await context.services.warnings.get(warning_id)
    if user.role not in (Role.COUNTY, Role.CITY):
        raise Refusal("warning_staff_only")
    # The status a county's staff see is their own county's share of the warning, which a city-wide warning
    # (whose region contains their county) has too: the same test as the list /warnstatus shows them.
    if user.role is Role.COUNTY and (
        user.region_code is None or not regions_overlap(warning.target.regions, [user.region_code])
    ):
        raise Refusal("warning_out_of_scope")
    return warning


async def pressed(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return
    _, verb, warning_id = query.data.split(":")
    services, t = context.services, caller.t
    try:
        warning = await _checked(context, caller.user, int(warning_id))
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        return
    if services.warnings.ended_when(warning) is not None:
        # A status message from before it ended: it turns into the final tally, without buttons; nobody is
        # reminded of a warning ended.
        if verb == "remind":
            await query.answer(t.plain("refusal.warning_ended"), show_alert=True)
        else:
            await query.answer()
        if isinstance(query.message, Message):
            status = await services.warnings.ack_status(warning.id, _scope(caller.user))
            await edit_in_place(query.message, await status_text(services, status, t),
                                await status_keyboard(services, status, caller.user, t))
        return
    if verb == "remind":
        at = services.clock.now().strftime("%Y%m%d%H%M")
        # One reminder a minute at most, however often the button is pressed.
        reminded = await remind_silent(services, warning, f"warning:{warning.id}:remind:{at}", _scope(caller.user))
        key = counted("warnstatus.reminded", reminded) if reminded else "warnstatus.nobody_to_remind"
        if not reminded:
            status = await services.warnings.ack_status(warning.id, _scope(caller.user))
            if any(county.pending for county in status.counties):
                key = "warnstatus.no_head_to_remind"  # silent institutions whose heads' access has ended
        await query.answer(t.plain(key, count=reminded), show_alert=True)
        return
    status = await services.warnings.ack_status(warning.id, _scope(caller.user))
    text = await status_text(services, status, t)
    await query.answer()
    if isinstance(query.message, Message) and query.message.text_html != text:
        try:
            await query.message.edit_text(text, reply_markup=await status_keyboard(services, status, caller.user, t))
        except BadRequest as error:
            if "not modified" not in error.message:
                raise


# ---- reminders and escalation, for the button and for the scheduled follow-up ----------------------------


async def remind_silent(services: BotServices, warning: EarlyWarning, key: str, scope: str | None = None) -> int:
    """Remind the heads whose institutions have not answered; returns how many heads."""
    silent = [r for r in await services.warnings.unacknowledged(warning.id) if region_in_scope(scope, r.region_code)]
    heads = sorted({r.chat_id for r in silent})

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        text = t("warnstatus.reminder", title=title(warning, t), headline=headline(warning, t))
        return text, ack_keyboard(warning.id, t)

    await queue_personal(services, heads, key, render)
    return len(heads)


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
        try:
            await context.bot.edit_message_text(text, chat_id=copy.chat_id, message_id=copy.message_id,
                                                reply_markup=keyboard)
        except TelegramError as error:
            log.info("the escalation %s in chat %s was not edited: %s", copy.dedupe_key, copy.chat_id, error)


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

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        if status.pending:
            lines = [t(counted("warnstatus.city_escalation", status.pending), title=title(warning, t), id=warning.id,
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
        words = _naming(warning, [known.get(row.institution_id) for row in rows], key, before=before)
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


def _naming(
    warning: EarlyWarning, institutions: list[Institution | None], key: str,
    button: Callable[[Translator], InlineKeyboardButton] | None = None, **more: int,
) -> Callable[[Translator], tuple[str, InlineKeyboardMarkup | None]]:
    """Words naming institutions of a warning to staff (`key`, with {title}, {count}, {names} and any of `more`): as
    many names as fit one message, the rest counted; with `button` under them."""

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        names = fitting([place_name(i, t) for i in institutions], ESCALATION_BUDGET, most=ESCALATION_NAMES)
        count = len(institutions)
        text = t(counted(key, count), title=title(warning, t), count=count,
                 names=t.plain("warn.list_separator").join(names), **more)
        if len(names) < count:
            text = Html(text + t("warnstatus.escalation_more", count=count - len(names)))
        return text, None if button is None else InlineKeyboardMarkup([[button(t)]])

    return render


def _hand_back_button(warning: EarlyWarning, county_code: str, t: Translator, region: str = "") -> InlineKeyboardButton:
    label = t.plain("warnstatus.button_hand_back_in", region=region) if region else t.plain(
        "warnstatus.button_hand_back")
    return InlineKeyboardButton(label, callback_data=f"ws:back:{warning.id}:{county_code}")


def _take_charge_button(warning: EarlyWarning, county_code: str) -> Callable[[Translator], InlineKeyboardButton]:
    def label(t: Translator) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            t.plain("warnstatus.button_take_charge"), callback_data=f"ws:own:{warning.id}:{county_code}"
        )

    return label


async def _follower_line(services: BotServices, follower: Follower, t: Translator) -> str:
    return t("warnstatus.follower_line", name=await name_of(services, follower.telegram_id),
             at=local_time(follower.taken_at, services.settings.tz))


async def name_of(services: BotServices, telegram_id: int | None) -> str:
    """A person's name as the bot knows them, "—" for nobody or someone no longer registered."""
    person = await services.storage.users.get(telegram_id) if telegram_id is not None else None
    return person.full_name if person else "—"


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
        markup = InlineKeyboardMarkup([[_hand_back_button(charge.warning, county_code, t)]]) if mine else None
        await edit_in_place(query.message, footed(query.message.text_html, line), markup)
    if charge.took:
        await regroup_copies(context, charge.warning.id, caller.user.telegram_id, _message(query.message))


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
            if outcome.released is not None:
                await tell_handed_back(services, outcome, caller.user, county_code)
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
        await query.answer(t.plain("warnstatus.handed_back", region=region), show_alert=True)
    if outcome.released is not None:
        await regroup_copies(context, warning.id, caller.user.telegram_id, message)
    if message is None:
        return
    markup: InlineKeyboardMarkup | None
    if is_status(message):
        scope = _scope(caller.user)
        status = await services.warnings.ack_status(warning.id, scope)
        text = await status_text(services, status, t)
        markup = await status_keyboard(services, status, caller.user, t)
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
        status = await services.warnings.ack_status(warning.id, _scope(reader))
        await edit_in_place(pressed, await status_text(services, status, t),
                            await status_keyboard(services, status, reader, t))
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


async def edit_in_place(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:  # a second tap on its way: the message says so already
        if "not modified" not in error.message:
            raise


def is_status(message: Message) -> bool:
    """Whether the message pressed is a /warnstatus message (rather than an escalation)."""
    buttons = message.reply_markup.inline_keyboard if message.reply_markup else ()
    return any(str(b.callback_data or "").startswith(("ws:remind:", "ws:show:")) for row in buttons for b in row)


async def tell_handed_back(services: BotServices, outcome: HandBack, by: User, county_code: str) -> int:
    """Tell the county's other staff (the city admins where it has none) that its silent institutions have nobody
    following them up again, naming them, with ☎️ 我来跟进; nothing when none is silent any more. Queued in the
    transaction of the hand-back and named by its audit entry: a restart sends it once, a later hand-back again."""
    warning = outcome.warning
    status = await services.warnings.ack_status(warning.id, county_code)
    # The county alone: a city's own code (its city-level institutions) would scope the whole city.
    pending = [row for county in status.counties if county.county_code == county_code for row in county.pending]
    staff = [chat_id for chat_id in await county_staff(services, county_code) if chat_id != by.telegram_id]
    if not pending or not staff:
        return 0
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
    return await queue_personal(services, staff, key, render)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("warnstatus", show_status, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(took_charge, pattern=r"^ws:own:\d+:\d+(:g)?$"))
    application.add_handler(CallbackQueryHandler(handed_back, pattern=r"^ws:back:\d+:\d+(:g)?$"))
    for verb in ("remind", "show"):
        application.add_handler(CallbackQueryHandler(pressed, pattern=rf"^ws:{verb}:\d+$"))
