"""/warnstatus (staff): for each warning in force, which institutions have answered, county by county, and a
button to remind the silent ones; the warnings ended lately as their final tally, with ✅ 已解决 under it for the
calls for help the reader took. The same reminder goes out by itself after a set time (bot.warning_jobs). Also the
helpers the warning's other handlers share: the status's text and buttons, edit_in_place, name_of, is_status.
What follows an unanswered reminder (the escalations, ☎️ 我来跟进 and ↩️ 交回跟进) is handlers.warning_followup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role, region_in_scope
from bot.domain.warnings import EarlyWarning, WarningStatus, regions_overlap
from bot.i18n import Html, Translator, clipped, counted
from bot.services.errors import Refusal
from bot.services.warnings import CountyAckStatus, InstitutionAck, WarningAckStatus
from handlers.common import answer, identify, is_private, place_name, refuse_press
from handlers.warning_outbox import queue_personal
from handlers.warning_text import (
    LEVEL_ICONS,
    ack_keyboard,
    headline,
    local_time,
    resolve_help_button,
    title,
    waited,
)
from storage.models import Region, RegionLevel, User
from storage.warning_models import AckResponse, Follower, HelpRequest, WarningReport

if TYPE_CHECKING:
    from bot.services_factory import BotServices

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
# ✅ 已解决 buttons under one status message, for the calls for help its reader took.
HELP_BUTTONS = 5
# How much of an institution's latest 落实情况 its row quotes; 📝 落实情况 shows them whole.
REPORT_CLIP = 40
# 📝 落实情况 sends at most this many messages of reports (the newest first): some fifty reports of 1000 characters.
REPORT_MESSAGES = 10


def scope_of(user: User) -> str | None:
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
    reports = await services.warnings.reports(warning.id)
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
            if done := reports.get(row.institution_id):
                line += "\n" + report_line(services, done, t)
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
    if not status.counties and status.scope_region is not None:
        # A county's share of a warning that reached heads elsewhere (a city-wide one) may be empty: say so of the
        # county, not of the warning.
        region = await services.storage.regions.get(status.scope_region)
        lines.append(t("warnstatus.no_institutions_in", region=area_name(region, t)))
    elif not status.counties:
        lines.append(t("warnstatus.no_institutions"))
    return Html("\n".join(lines))


def report_line(services: BotServices, reports: list[WarningReport], t: Translator) -> str:
    """Under an institution's row: its latest 落实情况 (clipped), when, and how many it has sent."""
    latest = reports[-1]
    return t(counted("warnstatus.row_report", len(reports)), at=local_time(latest.at, services.settings.tz),
             text=clipped(" ".join(latest.text.split()), REPORT_CLIP), count=len(reports))


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
    if call is not None and not call.resolved:  # nobody pressed ✋ yet: how long it has waited, as a pager shows
        return t("warnstatus.row_help_untaken", institution=place_name(institution, t),
                 name=person.full_name if person else "—", at=local_time(row.at, services.settings.tz),
                 waited=waited(services.clock.now() - call.raised_at, t))
    if row.via is not None:  # answered the overlapping warning of the same kind: which, so staff see why
        return t("warnstatus.row_answered_via", icon=ICONS[row.response], institution=place_name(institution, t),
                 name=person.full_name if person else "—", at=local_time(row.at, services.settings.tz), id=row.via)
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
    reported = await reports_in(services, status)
    read = [[InlineKeyboardButton(t.plain("warnstatus.button_reports", count=len(reported)),
                                  callback_data=f"ws:reports:{warning.id}")]] if reported else []
    if services.warnings.ended_when(warning) is not None:
        # The final tally: read-only, but for the calls for help (raised after the end too) the reader took, and
        # the reports of what was done.
        resolve = await _resolve_rows(services, status, reader, t)
        return InlineKeyboardMarkup([*resolve, *read, [refresh]]) if resolve or read else None
    # 🔔 only while some institution has not answered: with none silent it would remind nobody.
    remind = [InlineKeyboardButton(t.plain("warnstatus.button_remind"), callback_data=f"ws:remind:{warning.id}")]
    rows = [[*(remind if status.pending else []), refresh]]
    for county in status.counties:
        if county.follower is not None and county.follower.telegram_id == reader.telegram_id:
            region = area_name(await services.storage.regions.get(county.county_code), t)
            rows.append([hand_back_button(warning, county.county_code, t, region)])
    rows += await _resolve_rows(services, status, reader, t)
    return InlineKeyboardMarkup([*rows, *read])


async def reports_in(services: BotServices, status: WarningAckStatus) -> list[WarningReport]:
    """The 落实情况 of the institutions the status lists (the reader's scope), newest first."""
    listed = {row.institution_id for county in status.counties for row in _listing(county)}
    found = await services.warnings.reports(status.warning.id)
    return sorted((r for place in listed for r in found.get(place, [])), key=lambda r: (r.at, r.id), reverse=True)


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
    scope = scope_of(caller.user)
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
    if verb == "reports":
        await query.answer()
        status = await services.warnings.ack_status(warning.id, scope_of(caller.user))
        for text in await reports_text(services, status, t):
            await answer(update, text)
        return
    if services.warnings.ended_when(warning) is not None:
        # A status message from before it ended: it turns into the final tally, without buttons; nobody is
        # reminded of a warning ended.
        if verb == "remind":
            await query.answer(t.plain("refusal.warning_ended"), show_alert=True)
        else:
            await query.answer()
        if isinstance(query.message, Message):
            status = await services.warnings.ack_status(warning.id, scope_of(caller.user))
            await edit_in_place(query.message, await status_text(services, status, t),
                                await status_keyboard(services, status, caller.user, t))
        return
    if verb == "remind":
        at = services.clock.now().strftime("%Y%m%d%H%M")
        # One reminder a minute at most, however often the button is pressed.
        reminded = await remind_silent(services, warning, f"warning:{warning.id}:remind:{at}", scope_of(caller.user))
        key = counted("warnstatus.reminded", reminded) if reminded else "warnstatus.nobody_to_remind"
        if not reminded:
            status = await services.warnings.ack_status(warning.id, scope_of(caller.user))
            if any(county.pending for county in status.counties):
                key = "warnstatus.no_head_to_remind"  # silent institutions whose heads' access has ended
        await query.answer(t.plain(key, count=reminded), show_alert=True)
        return
    status = await services.warnings.ack_status(warning.id, scope_of(caller.user))
    text = await status_text(services, status, t)
    await query.answer()
    if isinstance(query.message, Message) and query.message.text_html != text:
        try:
            await query.message.edit_text(text, reply_markup=await status_keyboard(services, status, caller.user, t))
        except BadRequest as error:
            if "not modified" not in error.message:
                raise


async def reports_text(services: BotServices, status: WarningAckStatus, t: Translator) -> list[Html]:
    """📝 落实情况: every report in the reader's scope, newest first, whole, with who, when and the photos' count; as
    many messages as they take (a Telegram message holds 4096 characters), at most REPORT_MESSAGES."""
    reported = await reports_in(services, status)
    head = t(counted("warnstatus.reports_title", len(reported)), title=title(status.warning, t), count=len(reported))
    if not reported:
        return [Html(t("warnstatus.reports_none", title=title(status.warning, t)))]
    messages, lines, used = [], [head], len(head)
    for report in reported:
        institution = place_name(await services.storage.institutions.get(report.institution_id), t)
        key = counted("warnstatus.report_entry_photos", len(report.photos)) if report.photos else (
            "warnstatus.report_entry")
        entry = t(key, institution=institution, name=await name_of(services, report.user_id),
                  at=local_time(report.at, services.settings.tz), text=report.text, count=len(report.photos))
        if used + len(entry) + 2 > STATUS_BUDGET:
            messages.append(Html("\n\n".join(lines)))
            if len(messages) == REPORT_MESSAGES:
                return messages
            lines, used = [], 0
        lines.append(entry)
        used += len(entry) + 2
    messages.append(Html("\n\n".join(lines)))
    return messages


# ---- reminders, for the button and for the scheduled follow-up -------------------------------------------


async def remind_silent(
    services: BotServices, warning: EarlyWarning, key: str, scope: str | None = None, *, newest_only: bool = False
) -> int:
    """Remind the heads whose institutions have not answered; returns how many heads. `newest_only` (the
    follow-up's): not of this warning where a newer one of the same kind covers the home (reminded of that one)."""
    silent = [
        r for r in await services.warnings.unacknowledged(warning.id, newest_only=newest_only)
        if region_in_scope(scope, r.region_code)
    ]
    heads = sorted({r.chat_id for r in silent})

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        text = t("warnstatus.reminder", title=title(warning, t), headline=headline(warning, t))
        return text, ack_keyboard(warning.id, t)

    await queue_personal(services, heads, key, render)
    return len(heads)


# ---- shared with the follow-up and the calls for help ----------------------------------------------------


def hand_back_button(warning: EarlyWarning, county_code: str, t: Translator, region: str = "") -> InlineKeyboardButton:
    label = t.plain("warnstatus.button_hand_back_in", region=region) if region else t.plain(
        "warnstatus.button_hand_back")
    return InlineKeyboardButton(label, callback_data=f"ws:back:{warning.id}:{county_code}")


async def _follower_line(services: BotServices, follower: Follower, t: Translator) -> str:
    return t("warnstatus.follower_line", name=await name_of(services, follower.telegram_id),
             at=local_time(follower.taken_at, services.settings.tz))


async def name_of(services: BotServices, telegram_id: int | None) -> str:
    """A person's name as the bot knows them, "—" for nobody or someone no longer registered."""
    person = await services.storage.users.get(telegram_id) if telegram_id is not None else None
    return person.full_name if person else "—"


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


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("warnstatus", show_status, filters=filters.ChatType.PRIVATE))
    for verb in ("remind", "show", "reports"):
        application.add_handler(CallbackQueryHandler(pressed, pattern=rf"^ws:{verb}:\d+$"))
