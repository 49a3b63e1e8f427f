"""How a contact round reads: each cadre's list (one message that edits itself as they work through it), the
escalation of the people still unreached, and the round's summary for county staff.

Only pseudonymous codes and categories ever appear: the registry holds nothing else, on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.warnings import EarlyWarning
from bot.i18n import Html, Translator, counted, escape
from bot.services.contact_rounds import ROUND_LEVELS
from bot.services.warnings import RoundStarted, RoundSummary
from handlers.common import place_name
from handlers.warning_outbox import county_staff, fixed, queue_personal, translator_for
from handlers.warning_text import title
from storage.outbox_models import Priority
from storage.warning_models import ContactEntry, ContactRound, ContactStatus

if TYPE_CHECKING:
    from bot.services_factory import BotServices

STATUS_ICONS = {
    ContactStatus.PENDING: "⏳",
    ContactStatus.SAFE: "✅",
    ContactStatus.NEED_HELP: "🆘",
    ContactStatus.UNREACHABLE: "📵",
}
ANSWERS = (ContactStatus.SAFE, ContactStatus.NEED_HELP, ContactStatus.UNREACHABLE)
FOCUS = "focus"
PATTERN = r"^cr:\d+:\d+:(safe|need_help|unreachable|focus)$"
# A county may register its whole 低保 roll: hundreds of people for one cadre, or with no cadre yet (staff get
# those). A line for each would be past what one Telegram message holds (4096 characters) and past reading on a
# phone, so a list shows LIST_LINES people: the one in focus and the next still pending, then the last answered,
# each with a button to bring them into focus; the rest are counted.
LIST_LINES = 40
RECENT_LINES = 5  # of them, the last answered: a mistaken tap is corrected from the list
# Codes named per status in a summary or escalation; the others are counted.
SUMMARY_CODES = 30


def button_data(round_id: int, person_id: int, verb: str) -> str:
    return f"cr:{round_id}:{person_id}:{verb}"


def parse(data: str | None) -> tuple[int, int, str] | None:
    parts = (data or "").split(":")
    if len(parts) != 4 or parts[0] != "cr" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2]), parts[3]


def focus_of(
    entries: Sequence[ContactEntry], wanted: int | None = None, after: int | None = None
) -> ContactEntry | None:
    """The person the answer buttons are for: the one asked for, else the next one still pending."""
    if wanted is not None:
        return next((e for e in entries if e.person_id == wanted), None)
    ids = [e.person_id for e in entries]
    start = ids.index(after) + 1 if after in ids else 0
    ordered = [*entries[start:], *entries[:start]]
    return next((e for e in ordered if e.status is ContactStatus.PENDING), None)


def _entry_line(entry: ContactEntry, t: Translator, focused: bool) -> str:
    key = "contact.entry_focused" if focused else "contact.entry"
    return t(key, icon=STATUS_ICONS[entry.status], code=entry.person_code,
             category=t.plain(f"contact.category_{entry.category.value}"))


async def list_message(
    services: BotServices,
    contact_round: ContactRound,
    entries: Sequence[ContactEntry],
    focus: ContactEntry | None,
    t: Translator,
    ending: str | None = None,
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """One cadre's list: every person with their status, and the answer buttons for the one in focus. `ending`: the
    last line of a list that can no longer be worked (the key of its reason), without buttons."""
    region = await services.storage.regions.get(contact_round.region_code[:6])
    done = sum(e.status is not ContactStatus.PENDING for e in entries)
    lines = [t("contact.list_title", round=contact_round.number, region=place_name(region, t)),
             await reason_line(services, contact_round, t)]
    lines.append(t("contact.progress", done=done, total=len(entries)))
    listed = listed_entries(entries, focus)
    lines += [_entry_line(e, t, focus is not None and e.person_id == focus.person_id) for e in listed]
    if len(listed) < len(entries):
        pending = sum(e.status is ContactStatus.PENDING for e in entries) - sum(
            e.status is ContactStatus.PENDING for e in listed)
        more = len(entries) - len(listed)
        lines.append(t(counted("contact.list_more", more), count=more, pending=pending))
    if ending is not None:
        lines.append(t(ending))
        return Html("\n".join(lines)), None
    if contact_round.closed_at is not None:
        lines.append(t("contact.round_closed"))
    elif focus is not None:
        lines.append(t("contact.ask", code=focus.person_code,
                       category=t.plain(f"contact.category_{focus.category.value}")))
    else:
        lines.append(t("contact.all_done"))
    return Html("\n".join(lines)), _keyboard(contact_round, listed, focus, t)


async def reason_line(services: BotServices, contact_round: ContactRound, t: Translator) -> str:
    """A list's second line: what the round runs under."""
    warning = await services.storage.warnings.get(contact_round.warning_id) if contact_round.warning_id else None
    if warning is None:
        return t("contact.started_by_staff")
    if warning.sent_at is not None and warning.sent_at > contact_round.started_at:
        return t("contact.continues", title=title(warning, t))  # a newer warning took the round over
    return await _because(services, warning, t)


async def _because(services: BotServices, warning: EarlyWarning, t: Translator) -> str:
    """Why the round runs: the warning that started it, and, once its level has changed (orange raised to red), the
    warning it runs under now. A round starts at the warning's first revision at orange or red."""
    revisions = await services.storage.warnings.revisions(warning.id)
    start = next((r for r in revisions if r.level in ROUND_LEVELS), None)
    if start is None or start.level is warning.level:
        return t("contact.because", title=title(warning, t))
    before = title(warning.model_copy(update={"level": start.level}), t)
    return t("contact.because_changed", before=before, title=title(warning, t))


def listed_entries(entries: Sequence[ContactEntry], focus: ContactEntry | None) -> list[ContactEntry]:
    """The people a list shows, in the list's order: all when they fit LIST_LINES; else the one in focus, the
    last RECENT_LINES answered, the pending who follow (the next to reach), the other pending, the other answered."""
    if len(entries) <= LIST_LINES:
        return list(entries)
    ids = [e.person_id for e in entries]
    start = ids.index(focus.person_id) if focus is not None and focus.person_id in ids else 0
    ordered = [*entries[start:], *entries[:start]]
    pending = [e for e in ordered if e.status is ContactStatus.PENDING]
    answered = sorted((e for e in entries if e.status is not ContactStatus.PENDING),
                      key=lambda e: e.at or datetime.min.replace(tzinfo=UTC), reverse=True)
    wanted = [*([focus] if focus is not None else []), *answered[:RECENT_LINES], *pending, *answered]
    chosen: set[int] = set()
    for entry in wanted:
        if len(chosen) == LIST_LINES:
            break
        chosen.add(entry.person_id)
    return [e for e in entries if e.person_id in chosen]


def _keyboard(
    contact_round: ContactRound, entries: Sequence[ContactEntry], focus: ContactEntry | None, t: Translator
) -> InlineKeyboardMarkup | None:
    if contact_round.closed_at is not None:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    if focus is not None:
        safe, need_help, unreachable = (
            InlineKeyboardButton(t.plain(f"contact.button_{s.value}"),
                                 callback_data=button_data(contact_round.id, focus.person_id, s.value))
            for s in ANSWERS
        )
        rows += [[safe], [need_help, unreachable]]
    # Any other person can be brought into focus, to answer out of order or to correct an answer.
    others = [
        InlineKeyboardButton(f"{STATUS_ICONS[e.status]} {e.person_code}",
                             callback_data=button_data(contact_round.id, e.person_id, FOCUS))
        for e in entries
        if focus is None or e.person_id != focus.person_id
    ]
    rows += [others[i : i + 3] for i in range(0, len(others), 3)]
    return InlineKeyboardMarkup(rows) if rows else None


async def queue_lists(services: BotServices, started: RoundStarted, unassigned_to: Sequence[int]) -> int:
    """Each cadre's list as one message; the people without a cadre go to `unassigned_to` (staff)."""
    if not started.created:
        return 0  # the round was already open: its lists went out when it started
    queued = 0
    for cadre_list in started.lists:
        entries = list(cadre_list.entries)
        owner = "unassigned" if cadre_list.cadre_id is None else str(cadre_list.cadre_id)
        recipients = list(unassigned_to) if cadre_list.cadre_id is None else [cadre_list.cadre_id]
        for chat_id in recipients:
            rendered = await list_message(
                services, started.round, entries, focus_of(entries), await translator_for(services, chat_id)
            )
            queued += await queue_personal(
                services, [chat_id], f"contact:{started.round.id}:list:{owner}", fixed(*rendered)
            )
    return queued


async def queue_unassigned_list(
    services: BotServices, contact_round: ContactRound, staff: Sequence[int], key: str = "unassigned",
    priority: Priority = Priority.URGENT,
) -> int:
    """The list of the round's people with no cadre, as it stands, for staff who did not get it at the start (a
    clerk who joined since) or after a cadre left (`key` then names the leaver: a fresh list, with buttons for
    the people handed over)."""
    entries = [e for e in await services.storage.contacts.entries(contact_round.id) if e.cadre_id is None]
    if not entries or contact_round.closed_at is not None:
        return 0
    queued = 0
    for chat_id in staff:
        rendered = await list_message(
            services, contact_round, entries, focus_of(entries), await translator_for(services, chat_id)
        )
        queued += await queue_personal(services, [chat_id], f"contact:{contact_round.id}:list:{key}", fixed(*rendered),
                                       priority=priority)
    return queued


async def queue_joined_notice(services: BotServices, started: RoundStarted) -> int:
    """A newer warning over a county whose round is open: its staff hear that the round goes on under it, with the
    lists already out (nothing is sent again to the cadres, whose lists now name the newer warning)."""
    region = await services.storage.regions.get(started.round.region_code[:6])
    warning = await services.storage.warnings.get(started.round.warning_id) if started.round.warning_id else None
    entries = [entry for cadre_list in started.lists for entry in cadre_list.entries]
    done = sum(e.status is not ContactStatus.PENDING for e in entries)

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        return t("contact.joined", round=started.round.number, region=place_name(region, t),
                 title=title(warning, t) if warning else "—", done=done, total=len(entries)), None

    staff = await county_staff(services, started.round.region_code)
    return await queue_personal(services, staff, f"contact:{started.round.id}:joined:{started.round.warning_id}",
                                render)


def summary_text(summary: RoundSummary, region_label: str, t: Translator, *, escalation: bool = False) -> Html:
    counts = summary.counts
    key = counted("contact.escalation" if escalation else "contact.summary", summary.total)
    lines = [
        t(key, round=summary.round.number, region=region_label, total=summary.total,
          safe=counts[ContactStatus.SAFE], need_help=counts[ContactStatus.NEED_HELP],
          unreachable=counts[ContactStatus.UNREACHABLE], pending=counts[ContactStatus.PENDING])
    ]
    for label, entries in (
        ("contact.summary_need_help", summary.need_help),
        ("contact.summary_unreachable", summary.unreachable),
        ("contact.summary_pending", summary.pending),
    ):
        if entries:
            codes = t.plain("warn.list_separator").join(e.person_code for e in entries[:SUMMARY_CODES])
            if len(entries) > SUMMARY_CODES:
                codes = Html(escape(codes) + t("contact.summary_codes_more", count=len(entries) - SUMMARY_CODES))
            lines.append(t(label, codes=codes))
    return Html("\n".join(lines))


async def queue_summary(services: BotServices, summary: RoundSummary, *, escalation: bool = False) -> int:
    """The round's summary (or, past the set time, its escalation) for the county's staff."""
    region = await services.storage.regions.get(summary.round.region_code[:6])
    kind = "escalation" if escalation else "summary"

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        return summary_text(summary, place_name(region, t), t, escalation=escalation), None

    staff = await county_staff(services, summary.round.region_code)
    return await queue_personal(services, staff, f"contact:{summary.round.id}:{kind}", render)
