"""The steps of logging a drill (/drill), as saved and asked: the conversation's states, the keyboards, and asking the
question of a step from the draft. The answers are handled in `handlers.drills` and, for the problems a drill found,
`handlers.drill_problems`.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.domain.catalog import AREAS, SEVERITY_ORDER, HazardArea, Severity, is_sensitive
from bot.domain.compliance import DrillKind
from bot.i18n import Translator, counted
from bot.services.hazard_core import MAX_PHOTOS
from bot.services.hazard_reports import InstitutionChoices
from handlers.calendar_common import day_keyboard, load_draft, save_draft
from handlers.common import Caller, answer, cancel_keyboard, catalog_label, deadline_terms, institution_rows
from storage.repositories.calendar_drafts import DrillDraft

PICKING_INSTITUTION = "drill.picking_institution"
INSTITUTION_PAGE = "dr:ipage:"  # ◀ / ▶ under the institution question: the page
PICKING_KIND = "drill.picking_kind"
PICKING_DATE = "drill.picking_date"
COUNTING_PEOPLE = "drill.counting_people"
TIMING = "drill.timing"
DESCRIBING = "drill.describing"
ADDING_PHOTOS = "drill.adding_photos"
LISTING_PROBLEMS = "drill.listing_problems"
CHOOSING_AREA = "drill.choosing_area"
CHOOSING_SEVERITY = "drill.choosing_severity"
CONFIRMING = "drill.confirming"

MAX_PROBLEMS = 10
REDATE = "dr:redate"  # back from the participants question to the date
# The area each kind of drill most likely uncovers problems in: the suggested answer, marked ✓.
KIND_AREA = {
    DrillKind.FIRE: HazardArea.FIRE,
    DrillKind.TYPHOON_FLOOD: HazardArea.FLOOD_TYPHOON,
    DrillKind.FOOD_POISONING: HazardArea.FOOD,
    DrillKind.EPIDEMIC: HazardArea.EPIDEMIC,
    DrillKind.OTHER: HazardArea.FIRE,
}
# Abuse and violence are not something a drill finds, and a head may not hold such a hazard (bot.domain.targeting).
PROBLEM_AREAS = tuple(area for area in AREAS if not is_sensitive(area))


# ---- keyboards -------------------------------------------------------------------------------------------


def _mark(suggested: bool) -> str:
    return "✓ " if suggested else ""


def cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.plain("button.cancel"), callback_data="dr:cancel")]


def institution_keyboard(choices: InstitutionChoices, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([*institution_rows(choices, t, "dr:inst:", INSTITUTION_PAGE), cancel_row(t)])


def _kind_keyboard(t: Translator) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(t.plain(f"calendar.kind.{k.value}"), callback_data=f"dr:kind:{k.value}")]
            for k in DrillKind]
    return InlineKeyboardMarkup([*rows, cancel_row(t)])


def photos_keyboard(draft: DrillDraft, t: Translator) -> InlineKeyboardMarkup:
    """Done only once there is a photo: a drill needs at least one."""
    rows = [[InlineKeyboardButton(t.plain("button.done"), callback_data="dr:photos:done")]] if draft.photos else []
    return InlineKeyboardMarkup([*rows, cancel_row(t)])


def participants_keyboard(t: Translator) -> InlineKeyboardMarkup:
    """↩ back to the date beside Cancel: under the participants question and under every answer that asks again."""
    redate = InlineKeyboardButton(t.plain("button.drill_redate"), callback_data=REDATE)
    return InlineKeyboardMarkup([[redate, *cancel_row(t)]])


def problems_keyboard(t: Translator) -> InlineKeyboardMarkup:
    none = InlineKeyboardButton(t.plain("drill.button_no_problems"), callback_data="dr:problems:none")
    return InlineKeyboardMarkup([[none], cancel_row(t)])


# Each problem is asked on a message of its own and the earlier messages keep their buttons, so a button names the
# problem it answers (its index): a double tap, or a tap on an earlier problem's message, must not answer the next.
AREA_PRESS = re.compile(r"^dr:area:(?:(\d{1,2}):)?([a-z_]+)$")
SEVERITY_PRESS = re.compile(r"^dr:sev:(?:(\d{1,2}):)?(general|major|serious)$")


def _area_keyboard(asking: int, suggested: HazardArea, t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(_mark(area is suggested) + catalog_label(area, t),
                             callback_data=f"dr:area:{asking}:{area}")
        for area in PROBLEM_AREAS
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    record_only = InlineKeyboardButton(t.plain("drill.button_record_only"), callback_data=f"dr:area:{asking}:none")
    return InlineKeyboardMarkup([*rows, [record_only], cancel_row(t)])


def _severity_keyboard(asking: int, t: Translator) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(_mark(s is Severity.GENERAL) + catalog_label(s, t), callback_data=f"dr:sev:{asking}:{s}")
        for s in SEVERITY_ORDER
    ]
    return InlineKeyboardMarkup([row, cancel_row(t)])


def pressed_problem_choice(pattern: re.Pattern[str], data: str, asking: int) -> str | None:
    """The choice a problem's button carries, or None when it was pressed on another problem's message. Buttons
    sent before they carried the problem's index answer the problem being asked, as they always did."""
    match = pattern.match(data)
    if match is None or (match.group(1) is not None and int(match.group(1)) != asking):
        return None
    return match.group(2)


def confirm_keyboard(t: Translator) -> InlineKeyboardMarkup:
    confirm = InlineKeyboardButton(t.plain("drill.button_confirm"), callback_data="dr:confirm")
    return InlineKeyboardMarkup([[confirm], cancel_row(t)])


# ---- the draft -------------------------------------------------------------------------------------------


async def load(update: Update, context: BotContext) -> tuple[Caller, DrillDraft] | None:
    return await load_draft(update, context, DrillDraft, "drill.lost")


async def read_press(update: Update, context: BotContext) -> tuple[Caller, DrillDraft, str] | None:
    """The person, their draft and the pressed button's data; the press is answered."""
    loaded = await load(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return None
    await query.answer()
    caller, draft = loaded
    return caller, draft, query.data


async def ask(update: Update, context: BotContext, caller: Caller, draft: DrillDraft, step: str) -> str:
    """Ask the question of `step`; the draft has already been saved, and remembers the step from here on."""
    t = caller.t
    if draft.step != step:
        draft = draft.model_copy(update={"step": step})
        await save_draft(context, caller, draft)
    if step == PICKING_KIND:
        await answer(update, t("drill.ask_kind"), reply_markup=_kind_keyboard(t))
    elif step == PICKING_DATE:
        today = context.services.drills.today()
        await answer(update, t("drill.ask_date"), reply_markup=day_keyboard("dr", today, t))
    elif step == COUNTING_PEOPLE:
        # The date as read comes first, with a way back to it: a typed 12月5日 may have been read as last year's.
        read = draft.held_on.isoformat() if draft.held_on is not None else "—"
        if draft.held_on is not None and draft.held_on.year < context.services.drills.today().year:
            read += t.plain("drill.date_last_year")
        await answer(update, t("drill.ask_participants", day=read), reply_markup=participants_keyboard(t))
    elif step == TIMING:
        await answer(update, t("drill.ask_duration"), reply_markup=cancel_keyboard(t, "dr:cancel"))
    elif step == DESCRIBING:
        await answer(update, t("drill.ask_practised"), reply_markup=cancel_keyboard(t, "dr:cancel"))
    elif step == ADDING_PHOTOS:
        count = len(draft.photos)  # taken up again after a detour: the photos kept are counted
        text = t(counted("drill.ask_photos_kept", count), count=count, max=MAX_PHOTOS) if count else t(
            "drill.ask_photos", max=MAX_PHOTOS)
        await answer(update, text, reply_markup=photos_keyboard(draft, t))
    elif step == LISTING_PROBLEMS:
        await answer(update, t("drill.ask_problems", max=MAX_PROBLEMS), reply_markup=problems_keyboard(t))
    elif step == CHOOSING_AREA:
        problem = draft.problems[draft.asking]
        suggested = KIND_AREA[draft.kind or DrillKind.OTHER]
        text = t("drill.ask_area", number=draft.asking + 1, total=len(draft.problems), problem=problem.description)
        await answer(update, text, reply_markup=_area_keyboard(draft.asking, suggested, t))
    elif step == CHOOSING_SEVERITY:
        problem = draft.problems[draft.asking]
        terms = deadline_terms(context.services.settings.deadline_policy, t)
        text = t("drill.ask_severity", number=draft.asking + 1, total=len(draft.problems), problem=problem.description,
                 **terms)
        await answer(update, text, reply_markup=_severity_keyboard(draft.asking, t))
    return step


async def advance(update: Update, context: BotContext, caller: Caller, draft: DrillDraft, step: str) -> str:
    draft = draft.model_copy(update={"step": step})
    await save_draft(context, caller, draft)
    return await ask(update, context, caller, draft, step)


# ---- where an unfinished drill stands ----------------------------------------------------------------------

# The numbered questions ("第 3 步"); the problems' areas and severities, and the summary, belong to the last.
NUMBERED = (PICKING_KIND, PICKING_DATE, COUNTING_PEOPLE, TIMING, DESCRIBING, ADDING_PHOTOS, LISTING_PROBLEMS)


def step_of(draft: DrillDraft) -> str:
    """The step a draft waits at: the one it remembers, or (a draft kept before it remembered) its first gap."""
    if draft.step is not None:
        return draft.step
    gaps = ((draft.institution_id, PICKING_INSTITUTION), (draft.kind, PICKING_KIND), (draft.held_on, PICKING_DATE),
            (draft.participants, COUNTING_PEOPLE), (draft.duration_minutes, TIMING), (draft.practised, DESCRIBING),
            (draft.photos or None, ADDING_PHOTOS))
    return next((step for value, step in gaps if value is None), LISTING_PROBLEMS)


def brief(draft: DrillDraft, t: Translator) -> str:
    """What is in the draft, in a few words: kind, date, people, minutes, photos."""
    def amount(key: str, count: int | None) -> str | None:
        return t.plain(counted(key, count), count=count) if count else None

    parts = [
        t.plain(f"calendar.kind.{draft.kind.value}") if draft.kind is not None else None,
        draft.held_on.isoformat() if draft.held_on is not None else None,
        amount("resume.people", draft.participants),
        amount("resume.minutes", draft.duration_minutes),
        amount("resume.photos", len(draft.photos)),
    ]
    return t.plain("resume.separator").join(part for part in parts if part is not None) or t.plain(
        "resume.nothing_yet")
