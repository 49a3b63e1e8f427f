"""/institution (机构档案): one institution whole, for the phone call "how is that home doing?". Staff type part of a
name and get the card at once when one institution of their scope matches, or the matches as buttons, eight a page;
a head gets their own institution's card. Every press is checked again on the server (bot.services.institution_cards).
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.compliance import drill_rule
from bot.domain.lifecycle import UNRESOLVED_STATES, HazardState
from bot.domain.roles import Role
from bot.i18n import Html, Translator, counted
from bot.services.errors import Refusal
from bot.services.institution_cards import (
    MIN_SEARCH,
    RECENTLY_CLOSED,
    Found,
    InstitutionCard,
    SearchPage,
    may_open_cards,
)
from handlers.calendar_common import DRILL, SELFCHECK, late_entry_day, refuse_role, status_line
from handlers.common import Caller, answer, identify, page_row, place_name, popup_text
from handlers.hazard_buttons import VIEW, data, distinct_labels
from handlers.notify import hazard_params
from storage.models import Institution

SHOW = re.compile(r"^ic:show:(\d+)$")
PAGE = re.compile(r"^ic:page:(\d+):(\d+)$")
HEADS_LISTED = 10  # a home has one or two; a list past this is counted, so the card stays one message


# ---- the card --------------------------------------------------------------------------------------------------


def card_text(card: InstitutionCard, t: Translator, tz: ZoneInfo) -> str:
    institution = card.institution
    places = t.plain("institution.place_separator").join(place_name(region, t) for region in card.places) or "—"
    lines = [
        t("institution.title", name=place_name(institution, t)),
        t("institution.facts", type=t.plain(f"insight.type.{institution.type.value}"), place=places),
        _status_line(card, t, tz),
        _heads_line(card, t),
        "",
        *_hazard_lines(card, t, tz),
        "",
        *_duty_lines(card, t, tz),
    ]
    return Html("\n".join(lines))


def _status_line(card: InstitutionCard, t: Translator, tz: ZoneInfo) -> str:
    institution = card.institution
    if institution.active:
        return t("institution.active")
    if institution.closed_at is None:  # made inactive before closings were recorded
        return t("institution.inactive")
    day = institution.closed_at.astimezone(tz).date().isoformat()
    return t("institution.closed_status", day=day, reason=institution.closed_reason or "—")


def _heads_line(card: InstitutionCard, t: Translator) -> str:
    if not card.heads:
        return t("institution.no_head")
    names = [
        t("institution.head_blocked" if head.unreachable_since is not None else "institution.head", name=head.full_name)
        for head in card.heads[:HEADS_LISTED]
    ]
    more = len(card.heads) - HEADS_LISTED
    if more > 0:
        names.append(t(counted("institution.heads_more", more), count=more))
    return t("institution.heads", names=Html(t.plain("institution.separator").join(names)))


def _hazard_lines(card: InstitutionCard, t: Translator, tz: ZoneInfo) -> list[str]:
    counts = card.counts
    closed = t(counted("institution.closed_recently", counts.closed_recently), count=counts.closed_recently,
               days=RECENTLY_CLOSED.days)
    ended = [closed]
    if counts.withdrawn_recently:  # ended without a fix (作废): never counted as closed
        ended.append(t(counted("institution.withdrawn_recently", counts.withdrawn_recently),
                       count=counts.withdrawn_recently, days=RECENTLY_CLOSED.days))
    total = counts.unresolved_total
    if not total:
        return [t("institution.no_unresolved"), *ended]
    by_state = t.plain("institution.separator").join(
        t("institution.state_count", state=t.plain(f"state.{state.value}"), count=counts.unresolved[state])
        for state in HazardState
        if state in UNRESOLVED_STATES and counts.unresolved.get(state)
    )
    lines = [t(counted("institution.unresolved", total), count=total, overdue=counts.overdue, states=Html(by_state))]
    if not card.institution.active:
        # Closing keeps them open: nothing found is lost, nor counted as rectified (bot.services.institution_closure).
        lines.append(t("institution.closed_hazards_note"))
    for item in card.urgent:
        params = hazard_params(item.hazard, card.institution, t, tz)
        lines.append(t("institution.hazard_overdue" if item.overdue else "institution.hazard", **params))
    if total > len(card.urgent):
        lines.append(t(counted("institution.more_unresolved", total - len(card.urgent)),
                       count=total - len(card.urgent)))
    lines += ended
    return lines


def _duty_lines(card: InstitutionCard, t: Translator, tz: ZoneInfo) -> list[str]:
    lines = []
    if card.drill is None or card.self_inspection is None:
        lines.append(t("institution.duties_inactive"))
    else:
        lines += [status_line(DRILL, card.drill, t), status_line(SELFCHECK, card.self_inspection, t)]
    last = card.last_drill
    if last is None:
        lines.append(t("institution.no_drill"))
    else:
        late = late_entry_day(last, drill_rule(card.institution.type), tz)
        lines.append(t(
            "institution.last_drill_late" if late else "institution.last_drill", day=last.held_on.isoformat(),
            kind=t.plain(f"calendar.kind.{last.kind.value}"), logged=late.isoformat() if late else "",
        ))
    month = card.last_inspected_month
    lines.append(t("institution.last_selfcheck", month=month) if month is not None else t("institution.no_selfcheck"))
    return lines


def card_keyboard(card: InstitutionCard, t: Translator) -> InlineKeyboardMarkup | None:
    """One Details button per hazard listed, labelled by `hazard_label` (the hazard view checks again who may see
    it); Close or Reopen for staff who may (checked again at the press)."""
    labels = distinct_labels([(item.hazard, item.overdue) for item in card.urgent], t)
    rows = [
        [InlineKeyboardButton(label, callback_data=data(VIEW, item.hazard.id))]
        for item, label in zip(card.urgent, labels, strict=True)
    ]
    if card.may_close:
        institution = card.institution
        rows.append([
            InlineKeyboardButton(t.plain("institution.close_button"), callback_data=f"ic:close:{institution.id}")
            if institution.active else
            InlineKeyboardButton(t.plain("institution.reopen_button"), callback_data=f"ic:reopen:{institution.id}")
        ])
    return InlineKeyboardMarkup(rows) if rows else None


async def _send_card(update: Update, context: BotContext, caller: Caller, card: InstitutionCard) -> None:
    text = card_text(card, caller.t, context.services.settings.tz)
    await answer(update, text, reply_markup=card_keyboard(card, caller.t))


# ---- a search's pages --------------------------------------------------------------------------------------------


def _page_text(page: SearchPage, t: Translator) -> str:
    text = t("institution.matches", query=page.search.text, total=page.total, page=page.page + 1, pages=page.pages)
    # 116 matches over 15 pages: typing more of the name is quicker than turning pages.
    return Html(f"{text}\n{t('institution.matches_narrow')}") if page.pages > 1 else text


def _page_keyboard(page: SearchPage, t: Translator) -> InlineKeyboardMarkup:
    def label(institution: Institution) -> str:
        name = place_name(institution, t)
        return name if institution.active else t.plain("institution.closed_label", name=name)

    rows = [[InlineKeyboardButton(label(i), callback_data=f"ic:show:{i.id}")] for i in page.institutions]
    serial = page.search.serial
    rows += page_row(page.page, page.pages, t, lambda number: f"ic:page:{serial}:{number}")
    return InlineKeyboardMarkup(rows)


# ---- what people do ----------------------------------------------------------------------------------------------


async def _caller_who_may(update: Update, context: BotContext, command: str) -> Caller | None:
    """The caller, if their role has institution cards; anyone else is refused (and audited)."""
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    if not may_open_cards(caller.user):
        await refuse_role(update, context, caller, "refusal.institution_role", command)
        return None
    return caller


async def show_institution(update: Update, context: BotContext) -> None:
    caller = await _caller_who_may(update, context, "institution")
    if caller is None or caller.user is None:
        return
    user, t, cards = caller.user, caller.t, context.services.institution_cards
    text = " ".join(context.args or [])
    try:
        if not text.strip():
            if user.role is not Role.HEAD:
                await answer(update, t("institution.ask", least=MIN_SEARCH))
                return
            await _send_card(update, context, caller, await cards.own_card(user))
            return
        found: Found = await cards.search(user, text)
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        return
    if found.card is not None:
        await _send_card(update, context, caller, found.card)
    elif found.page is not None and found.page.total:
        await answer(update, _page_text(found.page, t), reply_markup=_page_keyboard(found.page, t))
    else:
        query = found.page.search.text if found.page is not None else text
        await answer(update, t("institution.no_match", query=query))


async def chose_institution(update: Update, context: BotContext) -> None:
    query = update.callback_query
    caller = await _caller_who_may(update, context, "ic:show")
    if query is None or caller is None or caller.user is None:
        return
    match = SHOW.match(query.data or "")
    try:
        card = await context.services.institution_cards.card(caller.user, int(match.group(1)) if match else 0)
    except Refusal as refusal:
        await query.answer(popup_text(caller.t, refusal), show_alert=True)
        return
    # Made inactive since the list was shown: said at once, and the card says what it means.
    await query.answer(None if card.institution.active else caller.t.plain("institution.inactive_toast"))
    await _send_card(update, context, caller, card)


async def turned_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    caller = await _caller_who_may(update, context, "ic:page")
    if query is None or caller is None or caller.user is None:
        return
    t = caller.t
    match = PAGE.match(query.data or "")
    serial, number = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    try:
        page = await context.services.institution_cards.page(caller.user, serial, number)
    except Refusal as refusal:
        await query.answer(popup_text(t, refusal), show_alert=True)
        return
    if page is None:
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return
    if not page.total:
        await query.answer()
        await answer(update, t("institution.no_match", query=page.search.text), edit=True)
        return
    await query.answer(t.plain("institution.page_gone") if page.clamped else None)
    await answer(update, _page_text(page, t), reply_markup=_page_keyboard(page, t), edit=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("institution", show_institution, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(chose_institution, pattern=SHOW))
    application.add_handler(CallbackQueryHandler(turned_page, pattern=PAGE))
