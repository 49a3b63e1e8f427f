"""/drills: where drills and monthly self-inspections stand. A head sees their institution's drill record and both
statuses; county staff and city admins see every institution in their scope with both, the overdue first, a page at
a time, each a tap from its record. Above the institutions, staff see their own bureau's safety study session (一(一),
every half-year), and a city admin the counties that missed theirs: the reminders send them here for it too.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.domain.compliance import Cadence, Compliant, DutyStatus, Overdue
from bot.domain.paging import page_of
from bot.domain.roles import STAFF_ROLES, Role
from bot.i18n import Html, Translator, counted
from bot.services.calendar import DrillRecord, may_log_for
from bot.services.duties import DutySnapshot, load_duties
from bot.services.errors import HIDDEN_INSTITUTION, Refusal
from handlers.calendar_common import (
    DRILL,
    ENTRY_STUDY,
    SELFCHECK,
    STUDY,
    entry_button,
    head_duty_keyboard,
    late_entry_day,
    period_label,
    refuse_role,
    status_line,
    urgency,
)
from handlers.common import Caller, answer, identify, page_row, place_name, popup_text
from storage.calendar_models import Drill
from storage.models import Institution, User

PAGE_SIZE = 8
RECENT_DRILLS = 10
PAGE = re.compile(r"^drills:page:(\d+)$")
ONE = re.compile(r"^drills:inst:(\d+)$")


def _record_text(record: DrillRecord, inspection: DutyStatus, t: Translator, tz: ZoneInfo) -> str:
    rule = "calendar.rule.half_year" if record.rule.cadence is Cadence.HALF_YEAR else "calendar.rule.year"
    lines = [
        t("drills.record_header", institution=place_name(record.institution, t), rule=t.plain(rule)),
        status_line(DRILL, record.status, t),
        status_line(SELFCHECK, inspection, t),
        "",
    ]
    if record.drills:
        lines.append(t("drills.recent_header", count=len(record.drills)))
        recent = record.drills[:RECENT_DRILLS]
        lines += [_drill_line(drill, late_entry_day(drill, record.rule, tz), t) for drill in recent]
    else:
        lines.append(t("drills.none_logged"))
    return Html("\n".join(lines))


def _drill_line(drill: Drill, late: date | None, t: Translator) -> str:
    """One drill of the record; one entered after its period ended says so, and when (补录)."""
    return t(
        counted("drills.line_late" if late else "drills.line", drill.participants),
        logged=late.isoformat() if late else "",
        day=drill.held_on.isoformat(),
        kind=t.plain(f"calendar.kind.{drill.kind.value}"),
        participants=drill.participants,
        minutes=drill.duration_minutes,
    )


def _page_keyboard(
    shown: list[Institution], page: int, pages: int, t: Translator, *, study_owed: bool = False
) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(place_name(i, t), callback_data=f"drills:inst:{i.id}")] for i in shown]
    if study_owed:
        rows.append([entry_button(ENTRY_STUDY, t)])  # above the page buttons, which stay last
    rows += page_row(page, pages, t, lambda number: f"drills:page:{number}")
    return InlineKeyboardMarkup(rows)


async def _study_lines(context: BotContext, user: User, duties: DutySnapshot, t: Translator) -> tuple[list[str], bool]:
    """The staff member's own bureau's study session (county staff: their county's; city admins: the city bureau's),
    and for a city admin each county that missed its last half-year's, by name; and whether their own is still owed
    this half-year (the page then offers to log it)."""
    regions = context.services.storage.regions
    if user.role is Role.COUNTY and user.region_code is not None:
        unit = await regions.get(user.region_code)
    elif user.role is Role.CITY:
        unit = await regions.city()
    else:
        return [], False
    if unit is None:
        return [], False
    own = duties.study(unit.code)
    lines = [t("drills.study_line", unit=place_name(unit, t), status=Html(status_line(STUDY, own, t)))]
    if user.role is Role.CITY:
        missed: dict[str, list[str]] = {}
        for county in await regions.counties():
            standing = duties.study(county.code)
            if isinstance(standing, Overdue):
                missed.setdefault(period_label(standing.missed, t), []).append(place_name(county, t))
        lines += [
            t(counted("drills.study_counties_missed", len(names)), count=len(names), period=period,
              names=t.plain("warn.list_separator").join(names))
            for period, names in missed.items()
        ]
    return lines, not (isinstance(own, Compliant) and own.done_on is not None)


async def show_drills(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    user = caller.user
    if user.role is Role.HEAD and user.institution_id is not None:
        institution = await context.services.storage.institutions.get(user.institution_id)
        if institution is not None:
            await _show_record(update, context, caller, institution)
            return
    if user.role in STAFF_ROLES:
        await _show_page(update, context, caller, 0)
        return
    await refuse_role(update, context, caller, "refusal.drills_role", "drills")


async def _show_record(update: Update, context: BotContext, caller: Caller, institution: Institution) -> None:
    record = await context.services.drills.record(institution)
    inspection = await context.services.self_inspections.status(institution)
    markup = None
    if caller.user is not None and caller.user.role is Role.HEAD:
        # Staff log for an institution through /drill, which asks which one first.
        markup = head_duty_keyboard(inspection, caller.t)
    await answer(update, _record_text(record, inspection, caller.t, context.services.settings.tz), reply_markup=markup)


async def _headless_line(context: BotContext, institutions: list[Institution], t: Translator) -> list[str]:
    """How many of the institutions have no registered head (their reminders go to stand-ins), when any has none: a
    home can go months like that, its clerk taking its reminders, and nothing in /drills said so."""
    heads = await context.services.storage.users.heads_of_many(i.id for i in institutions)
    people = {u.telegram_id for u in heads}
    headed = {u.institution_id for u in heads if u.role is Role.HEAD} | {
        i.id for i in institutions if i.head_user_id in people
    }
    count = sum(1 for i in institutions if i.id not in headed)
    if not count:
        return []
    days = context.services.reminders.schedule.headless_after_days
    return [t(counted("drills.headless", count), count=count, days=days)]


async def _show_page(update: Update, context: BotContext, caller: Caller, page: int) -> None:
    assert caller.user is not None
    services, t = context.services, caller.t
    institutions = await services.storage.institutions.in_scope(caller.user.region_code)
    if not institutions:
        await answer(update, t("drills.no_institutions"))
        return
    duties = await load_duties(services.storage, services.drills.today(), judged_from=services.reminders.tracking_since)
    # Both duties an institution owes: the reminders send people here for the self-inspections too.
    statuses = {i.id: (duties.drill(i), duties.self_inspection(i)) for i in institutions}
    # The most pressing duty first, then the other: one overdue on both comes before one overdue on one.
    institutions.sort(key=lambda i: (sorted(urgency(s) for s in statuses[i.id]), i.code))
    cut = page_of(institutions, page, PAGE_SIZE)
    page, pages, shown = cut.page, cut.pages, cut.items
    study, study_owed = await _study_lines(context, caller.user, duties, t)
    study += await _headless_line(context, institutions, t)
    lines = [*study, ""] if study else []
    lines += [t(counted("drills.scope_header", len(institutions)), total=len(institutions), page=page + 1, pages=pages)]
    # How many are late, said first: 38 pages of homes, and the header never said how many of them need chasing.
    drills_late = sum(isinstance(statuses[i.id][0], Overdue) for i in institutions)
    selfchecks_late = sum(isinstance(statuses[i.id][1], Overdue) for i in institutions)
    lines.append(t("drills.scope_counts", drills=drills_late, selfchecks=selfchecks_late))
    lines += [
        t(
            "drills.scope_line",
            institution=place_name(i, t),
            status=Html(status_line(DRILL, statuses[i.id][0], t)),
            selfcheck=Html(status_line(SELFCHECK, statuses[i.id][1], t)),
        )
        for i in shown
    ]
    editing = update.callback_query is not None
    try:
        markup = _page_keyboard(shown, page, pages, t, study_owed=study_owed)
        await answer(update, Html("\n".join(lines)), reply_markup=markup, edit=editing)
    except BadRequest as error:
        # A page button pressed twice lands on the page already shown.
        if "not modified" not in error.message:
            raise


async def turned_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None or caller.user is None:
        return
    if caller.user.role not in STAFF_ROLES:
        # The pages of institutions are staff's; a head is shown their own record, never a page.
        await refuse_role(update, context, caller, "refusal.staff_only", "drills:page")
        return
    await query.answer()
    match = PAGE.match(query.data or "")
    await _show_page(update, context, caller, int(match.group(1)) if match else 0)


async def chose_institution(update: Update, context: BotContext) -> None:
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None or caller.user is None:
        return
    match = ONE.match(query.data or "")
    institution = await context.services.storage.institutions.get(int(match.group(1))) if match else None
    if institution is None or not may_log_for(caller.user, institution):
        await context.services.storage.audit.append(
            caller.user.telegram_id, "authz.refused", target=f"institution:{match.group(1) if match else '?'}",
            detail={"action": "drills.view", "reason": "not_in_scope"},
        )
        # Told as one that does not exist: "outside your scope" would confirm to an outsider that it does.
        await query.answer(popup_text(caller.t, Refusal(HIDDEN_INSTITUTION)), show_alert=True)
        return
    await query.answer()
    await _show_record(update, context, caller, institution)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("drills", show_drills, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(turned_page, pattern=PAGE))
    application.add_handler(CallbackQueryHandler(chose_institution, pattern=ONE))
