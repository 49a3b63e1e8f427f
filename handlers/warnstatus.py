"""/warnstatus (staff): for each warning in force, which institutions have answered, county by county, and a
button to remind the silent ones; the warnings ended lately as their final tally, with ✅ 已解决 under it for the
calls for help the reader took. The same reminder goes out by itself after a set time (bot.warning_jobs). Also the
helpers the warning's other handlers share: the status's text and buttons, edit_in_place, name_of, is_status.
What follows an unanswered reminder (the escalations, ☎️ 我来跟进 and ↩️ 交回跟进) is handlers.warning_followup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.paging import page_of
from bot.domain.roles import Role, region_in_scope
from bot.domain.warnings import EarlyWarning, WarningStatus, regions_overlap
from bot.i18n import Html, Translator, clipped, counted
from bot.services.errors import Refusal
from bot.services.warning_list import KINDS, Listed, Shown, counts, filtered, urgent_first
from bot.services.warnings import CountyAckStatus, InstitutionAck, WarningAckStatus
from handlers.common import answer, identify, is_private, page_row, place_name, refuse_press
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
# Telegram message holds (4096 characters). The status shows them a page at a time, PAGE_ROWS a page, the most
# urgent first, with a filter for each kind (bot.services.warning_list); a page's reports give way past
# STATUS_BUDGET characters.
PAGE_ROWS = 15
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


async def status_text(
    services: BotServices, status: WarningAckStatus, t: Translator, view: View | None = None
) -> Html:
    """The status of one warning: its figures, then a page of its institutions (`view`: which kind, which page),
    the most urgent first, under their county's name."""
    view = view or View()
    warning = status.warning
    ended = services.warnings.ended_when(warning)
    total = status.acknowledged + status.need_help + status.helped + status.pending
    # A call for help resolved (🆘→✅) is an answer, counted apart from the calls still open.
    figures = "warnstatus.counts_helped" if status.helped else "warnstatus.counts"
    lines = [
        _title(services, warning, t, ended),
        t(counted(figures, total), received=status.acknowledged, need_help=status.need_help,
          helped=status.helped, pending=status.pending, total=total),
    ]
    if status.no_one_to_reach:
        key = "warnstatus.no_one_count" if ended is None else "warnstatus.no_one_count_ended"
        lines.append(t(counted(key, status.no_one_to_reach), count=status.no_one_to_reach))
    if late := sum(1 for county in status.counties for row in _listing(county) if _late_call(row, ended)):
        lines.append(t(counted("warnstatus.late_calls", late), count=late))
    if not status.counties and status.scope_region is not None:
        # A county's share of a warning that reached heads elsewhere (a city-wide one) may be empty: say so of the
        # county, not of the warning.
        region = await services.storage.regions.get(status.scope_region)
        lines.append(t("warnstatus.no_institutions_in", region=area_name(region, t)))
        return Html("\n".join(lines))
    if not status.counties:
        lines.append(t("warnstatus.no_institutions"))
        return Html("\n".join(lines))
    listed = urgent_first(status.counties)
    cut = page_of(filtered(listed, view.shown), view.page, PAGE_ROWS)
    if _paged(listed, view):
        lines.append(t(f"warnstatus.view_{view.shown.value}", count=cut.total, page=cut.page + 1, pages=cut.pages))
    if not cut.items:
        lines.append(t("warnstatus.view_empty"))
    reports = await services.warnings.reports(warning.id)
    body = await _page_lines(services, status, cut.items, reports, t, ended)
    if sum(len(line) + 1 for line in [*lines, *body]) > STATUS_BUDGET:
        # Long names and long reports on one page: the reports give way (📝 落实情况 shows them whole).
        body = await _page_lines(services, status, cut.items, {}, t, ended)
    return Html("\n".join([*lines, *body]))


@dataclass(frozen=True)
class View:
    """Which page of which kind of institution a /warnstatus message shows (kept in its buttons' data)."""

    shown: Shown = Shown.ALL
    page: int = 0

    def data(self, warning_id: int, page: int | None = None) -> str:
        return f"ws:v:{warning_id}:{self.shown.value}:{self.page if page is None else page}"


def view_of(message: Message | None) -> View:
    """The view a status message shows, read from its 🔄 刷新 button (a message from before the pages: the first)."""
    buttons = message.reply_markup.inline_keyboard if message is not None and message.reply_markup else ()
    for data in (str(b.callback_data or "") for row in buttons for b in row):
        if data.startswith("ws:v:") and (view := parse_view(data)) is not None:
            return view
    return View()


def parse_view(data: str) -> View | None:
    parts = data.split(":")
    if len(parts) != 5 or parts[3] not in {s.value for s in Shown} or not parts[4].isdigit():
        return None
    return View(Shown(parts[3]), int(parts[4]))


def _paged(listed: list[Listed], view: View) -> bool:
    """Whether the status shows its filters and pages: when its institutions are more than one page holds (a small
    county's stays the one short message it was), or a filter was chosen (to come back from it)."""
    return len(listed) > PAGE_ROWS or view.shown is not Shown.ALL


async def _page_lines(
    services: BotServices, status: WarningAckStatus, items: list[Listed], reports: dict[int, list[WarningReport]],
    t: Translator, ended: datetime | None,
) -> list[str]:
    """The page's rows, each county's name (and who follows it up) above its first row, again where the county
    comes back after another's (the city's list goes kind by kind, each county within a kind)."""
    counties = {county.county_code: county for county in status.counties}
    lines: list[str] = []
    current: str | None = None
    for item in items:
        if item.county_code != current:
            current = item.county_code
            county = counties[current]
            region = await services.storage.regions.get(current)
            lines.append(t("warnstatus.county", region=area_name(region, t)))
            if county.follower is not None:
                lines.append(await _follower_line(services, county.follower, t))
            elif county.pending and ended is None and _escalated(services, status.warning):
                lines.append(t("warnstatus.nobody_follows"))
        line = await _row(services, item.row, t, ended)
        if done := reports.get(item.row.institution_id):
            line += "\n" + report_line(services, done, t)
        lines.append(line)
    return lines


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
    services: BotServices, status: WarningAckStatus, reader: User, t: Translator, view: View | None = None
) -> InlineKeyboardMarkup | None:
    """The filters and pages of a long list; remind (while some institution is silent) and refresh (the same page);
    for each county the reader follows up, ↩️ 交回跟进 (naming the county); ✅ 已解决 for the calls for help they
    took. A final tally has only the filters and pages, the last (and refresh), or nothing."""
    view = view or View()
    warning = status.warning
    refresh = InlineKeyboardButton(t.plain("warnstatus.button_refresh"), callback_data=view.data(warning.id))
    browse = _browse_rows(status, view, t)
    reported = await reports_in(services, status)
    read = [[InlineKeyboardButton(t.plain("warnstatus.button_reports", count=len(reported)),
                                  callback_data=f"ws:reports:{warning.id}")]] if reported else []
    if services.warnings.ended_when(warning) is not None:
        # The final tally: read-only, but for the calls for help (raised after the end too) the reader took, and
        # the reports of what was done.
        resolve = await _resolve_rows(services, status, reader, t)
        rows = [*browse, *resolve, *read]
        return InlineKeyboardMarkup([*rows, [refresh]]) if rows else None
    # 🔔 only while some institution has not answered: with none silent it would remind nobody.
    remind = [InlineKeyboardButton(t.plain("warnstatus.button_remind"), callback_data=f"ws:remind:{warning.id}")]
    rows = [*browse, [*(remind if status.pending else []), refresh]]
    for county in status.counties:
        if county.follower is not None and county.follower.telegram_id == reader.telegram_id:
            region = area_name(await services.storage.regions.get(county.county_code), t)
            rows.append([hand_back_button(warning, county.county_code, t, region)])
    rows += await _resolve_rows(services, status, reader, t)
    return InlineKeyboardMarkup([*rows, *read])


def _browse_rows(status: WarningAckStatus, view: View, t: Translator) -> list[list[InlineKeyboardButton]]:
    """A filter for each kind there is (with how many), the one shown marked; ◀ ▶ when its list runs to pages."""
    listed = urgent_first(status.counties)
    if not status.counties or not _paged(listed, view):
        return []
    told = counts(listed)
    buttons = []
    for kind in (Shown.ALL, *KINDS):
        if told[kind] == 0 and kind is not view.shown:
            continue
        label = t.plain(f"warnstatus.filter_{kind.value}", count=told[kind])
        if kind is view.shown:
            label = t.plain("warnstatus.filter_chosen", label=label)
        buttons.append(InlineKeyboardButton(label, callback_data=View(kind).data(status.warning.id)))
    cut = page_of(filtered(listed, view.shown), view.page, PAGE_ROWS)
    shown = View(view.shown, cut.page)
    filters = [row for row in (buttons[:3], buttons[3:]) if row]
    return [*filters, *page_row(cut.page, cut.pages, t, lambda p: shown.data(status.warning.id, p))]


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
    _, verb, warning_id, *_ = query.data.split(":")
    # ◀ ▶ and the filters name the page they show; 🔄 刷新 the page it is on (an older message's: the first).
    view = parse_view(query.data) or View()
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
            await edit_in_place(query.message, await status_text(services, status, t, view),
                                await status_keyboard(services, status, caller.user, t, view))
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
    text = await status_text(services, status, t, view)
    await query.answer()
    if isinstance(query.message, Message) and query.message.text_html != text:
        try:
            await query.message.edit_text(
                text, reply_markup=await status_keyboard(services, status, caller.user, t, view))
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
    marks = ("ws:remind:", "ws:show:", "ws:v:")
    return any(str(b.callback_data or "").startswith(marks) for row in buttons for b in row)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("warnstatus", show_status, filters=filters.ChatType.PRIVATE))
    for verb in ("remind", "show", "reports"):
        application.add_handler(CallbackQueryHandler(pressed, pattern=rf"^ws:{verb}:\d+$"))
    kinds = "".join(kind.value for kind in Shown)
    application.add_handler(CallbackQueryHandler(pressed, pattern=rf"^ws:v:\d+:[{kinds}]:\d+$"))
