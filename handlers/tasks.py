"""/tasks: the hazards waiting for the caller, overdue first, a page at a time, each one a tap from its dossier.
Below them, a head's fixes waiting for the county to verify. With no hazard to act on, the calendar duties: a head's
own drill or monthly self-inspection when late or due soon (with the button that starts it), for staff how many homes
in their scope are late with either (/drills lists them); "nothing to do" is never said while one of those is."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.compliance import DueSoon, Overdue
from bot.domain.roles import STAFF_ROLES, Role
from bot.i18n import Translator, clipped, counted
from bot.services.duties import load_duties
from bot.services.hazard_extensions import PendingExtension
from bot.services.hazards import TaskItem
from handlers.calendar_common import DRILL, ENTRY_DRILL, ENTRY_SELFCHECK, SELFCHECK, entry_button, status_line
from handlers.common import answer, identify, place_name
from handlers.hazard_buttons import (
    TASKS_PAGE,
    VIEW,
    data,
    distinct_labels,
    home_short,
    list_keyboard,
    list_lines,
    names_homes,
    page_homes,
    page_pressed,
)
from handlers.notify import hazard_params, when
from storage.models import Institution, User

PAGE_SIZE = 5
# Requests for more time listed above the hazards: the oldest few, each reason shortened, so that the message stays
# within Telegram's limit however many wait and however long their reasons (the header counts them all).
EXTENSIONS_SHOWN = 5
REASON_SHOWN = 120
# A head's fixes waiting for staff to verify, named by code under their list.
WITH_STAFF_SHOWN = 5

Rows = list[list[InlineKeyboardButton]]


def _line(item: TaskItem, institution: Institution | None, t: Translator, tz: ZoneInfo) -> str:
    params = hazard_params(item.hazard, institution, t, tz)
    line = t("tasks.line_overdue", **params) if item.overdue else t("tasks.line", **params)
    if item.only_you_verify:
        # Four eyes with nobody else to verify: said, so that the fix is not left waiting for a verifier who is not.
        line += "\n" + t("tasks.only_you_verify")
    return line


async def _show(update: Update, context: BotContext, page_number: int) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    t, services = caller.t, context.services
    page = await services.hazards.tasks(caller.user, page_number, PAGE_SIZE)
    editing = update.callback_query is not None
    tz = services.settings.tz
    # Requests for more time wait for staff before anything else: the deadline they ask about may pass meanwhile.
    waiting = await services.hazards.pending_extensions(caller.user) if page.page == 0 else []
    total_waiting, waiting = len(waiting), waiting[:EXTENSIONS_SHOWN]
    asked = [await _extension_line(context, pending, t, tz) for pending in waiting]
    # Below the list, on its first page: a head's fixes waiting for the county (not theirs to act on, so never
    # counted as theirs).
    with_staff = await _with_staff_line(context, caller.user, t) if page.page == 0 else None
    aside = [with_staff] if with_staff is not None else []
    if not page.items and not asked:
        # No hazard to act on: the calendar duties late or nearly so are theirs too, and forbid a 🎉.
        duties, buttons = await _duties(context, caller.user, t)
        aside += duties
        nothing = await _nothing_waiting(context, caller.user, t, celebrate=not aside)
        await answer(update, "\n\n".join([nothing, *aside]), reply_markup=_markup(buttons), edit=editing)
        return
    # Staff's lists span many homes: each button starts with its hazard's home, as its line above names it.
    staff = names_homes(caller.user)
    homes = await page_homes(
        services.storage.institutions, [item.hazard for item in page.items] + [p.hazard for p in waiting]
    )
    # A few requests, each named in full above: numbered only where two would read alike, to keep their words.
    asked_homes = [home_short(p.hazard, homes.get(p.hazard.institution_id), t) if staff else None for p in waiting]
    asked_labels = distinct_labels([(p.hazard, False) for p in waiting], t, "tasks.extension_button", asked_homes,
                                   numbered=False)
    asked_buttons = [[InlineKeyboardButton(label, callback_data=data(VIEW, p.hazard.id))]
                     for p, label in zip(waiting, asked_labels, strict=True)]
    lines = list_lines(homes, page, lambda item, place: _line(item, place, t, tz))
    parts = [t("tasks.extensions_header", count=total_waiting), *asked] if asked else []
    if page.items:
        parts += [t("tasks.header", total=page.total, page=page.page + 1, pages=page.pages), *lines]
    parts += aside
    keyboard = list_keyboard(page, t, "tk:page:{page}", homes if staff else None)
    markup = InlineKeyboardMarkup([*asked_buttons, *keyboard.inline_keyboard])
    await answer(update, "\n\n".join(parts), reply_markup=markup, edit=editing)


def _markup(rows: Rows) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup(rows) if rows else None


async def _nothing_waiting(context: BotContext, user: User, t: Translator, *, celebrate: bool) -> str:
    """An empty list. Staff are thanked only when nothing is open in their region: hazards being rectified by
    others (or a fix awaiting a colleague) are not theirs to act on, but are not done either, and are counted.
    Nobody is thanked (`celebrate` False) while something is said below the list: a duty late, a fix with staff."""
    still_open = await context.services.hazards.unresolved_in_scope(user)
    if still_open == 0:
        if celebrate:
            return t("tasks.empty")
        return t("tasks.none_for_staff") if user.role in STAFF_ROLES else t("tasks.none_to_fix")
    regions = context.services.storage.regions
    region = await regions.get(user.region_code) if user.region_code is not None else await regions.city()
    place = place_name(region, t)
    return t(counted("tasks.empty_others_open", still_open), place=place, count=still_open)


async def _duties(context: BotContext, user: User, t: Translator) -> tuple[list[str], Rows]:
    """The calendar duties due, said under an empty list, and their buttons: staff hear how many homes in their
    scope are late (/drills lists them); a head sees their own, each with the button that starts it."""
    if user.role in STAFF_ROLES:
        late = await _late_homes(context, user)
        return ([t(counted("tasks.duties_late_in_scope", late), count=late)] if late else []), []
    return await _own_duties(context, user, t)


async def _own_duties(context: BotContext, user: User, t: Translator) -> tuple[list[str], Rows]:
    """A head's own drill and monthly self-inspection, when late or due soon: each as /drills says it, with the
    button that starts it."""
    if user.role is not Role.HEAD or user.institution_id is None:
        return [], []
    services = context.services
    institution = await services.storage.institutions.get(user.institution_id)
    if institution is None:
        return [], []
    due = [
        (DRILL, ENTRY_DRILL, await services.drills.status(institution)),
        (SELFCHECK, ENTRY_SELFCHECK, await services.self_inspections.status(institution)),
    ]
    due = [(kind, entry, status) for kind, entry, status in due if isinstance(status, Overdue | DueSoon)]
    if not due:
        return [], []
    lines = [t("tasks.duties_header"), *(status_line(kind, status, t) for kind, _, status in due)]
    return ["\n".join(lines)], [[entry_button(entry, t) for _, entry, _ in due]]


async def _late_homes(context: BotContext, user: User) -> int:
    """How many institutions in the staff member's scope are late with a drill or a monthly self-inspection."""
    services = context.services
    if user.role is Role.COUNTY and user.region_code is None:
        return 0  # misconfigured account: fail closed, as their hazards do
    institutions = await services.storage.institutions.in_scope(user.region_code)
    if not institutions:
        return 0
    duties = await load_duties(services.storage, services.drills.today(), judged_from=services.reminders.tracking_since)
    return sum(
        1 for i in institutions
        if isinstance(duties.drill(i), Overdue) or isinstance(duties.self_inspection(i), Overdue)
    )


async def _with_staff_line(context: BotContext, user: User, t: Translator) -> str | None:
    """"Waiting for the county to verify: YH-…" for the person's submitted fixes; None when there are none."""
    waiting, total = await context.services.hazards.awaiting_staff(user, limit=WITH_STAFF_SHOWN)
    if total == 0:
        return None
    codes = t.plain("tasks.code_separator").join(hazard.code for hazard in waiting)
    if total > len(waiting):
        codes += t.plain("tasks.codes_more", count=total - len(waiting))
    return t(counted("tasks.awaiting_staff", total), count=total, codes=codes)


async def _extension_line(context: BotContext, pending: PendingExtension, t: Translator, tz: ZoneInfo) -> str:
    person = await context.services.storage.users.get(pending.request.requested_by)
    institution = await context.services.storage.institutions.get(pending.hazard.institution_id)
    return t(
        "tasks.extension_line", name=person.full_name if person else "—",
        asked=when(pending.request.requested_deadline, tz, t), reason=clipped(pending.request.reason, REASON_SHOWN),
        **hazard_params(pending.hazard, institution, t, tz),
    )


async def show_tasks(update: Update, context: BotContext) -> None:
    await _show(update, context, 0)


async def turned_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await _show(update, context, page_pressed(query, TASKS_PAGE))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("tasks", show_tasks, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(turned_page, pattern=TASKS_PAGE))
