"""The problems a drill found (/drill, after the photos): one a line, or "none"; each line becomes a hazard (source
level self-check) once its area and severity are chosen, or is only recorded; then the summary to confirm.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import ConversationHandler

from bot.context import BotContext
from bot.domain.catalog import SEVERITY_ORDER, HazardArea, Severity
from bot.domain.text import clean_text, is_blank, split_numbered_line, visible_length
from bot.i18n import Html, Translator, clipped, counted
from bot.services.hazard_core import MAX_TEXT, MIN_DESCRIPTION
from handlers.calendar_common import drafts, save_draft
from handlers.common import Caller, answer, cancel_keyboard, catalog_label, place_name, typed_label
from handlers.drill_steps import (
    AREA_PRESS,
    CHOOSING_AREA,
    CHOOSING_SEVERITY,
    CONFIRMING,
    LISTING_PROBLEMS,
    MAX_PROBLEMS,
    PROBLEM_AREAS,
    SEVERITY_PRESS,
    advance,
    ask,
    confirm_keyboard,
    load,
    pressed_problem_choice,
    problems_keyboard,
    read_press,
)
from storage.repositories.calendar_drafts import DraftProblem, DrillDraft

# "1. …", "2、…", "- …": how people number a list; the marks are not part of the problem.
_LIST_MARK = re.compile(r"^\s*(?:[-•*·]|\d{1,2}\s*[.、)）])\s*")
# Typed instead of pressing "No problems found".
# What was practised may take MAX_TEXT characters and the problems a whole message of their own: quoted whole, the
# summary to confirm would be past what one Telegram message holds. It quotes their beginnings; the record keeps
# them whole.
SUMMARY_PRACTISED = 700
SUMMARY_PROBLEM = 180
QUOTED_LONG_PROBLEM = 30  # a problem too long to keep is named by its beginning
NO_PROBLEMS = frozenset({"无", "没有", "无问题", "没有问题", "未发现问题", "none", "no", "nothing", "n/a", "-"})


async def no_problems(update: Update, context: BotContext) -> str | int:
    loaded = await load(update, context)
    if loaded is None:
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    caller, draft = loaded
    draft = draft.model_copy(update={"problems": [], "asking": 0})
    await save_draft(context, caller, draft)
    return await show_summary(update, context, caller, draft)


async def listed_problems(update: Update, context: BotContext) -> str | int:
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return LISTING_PROBLEMS
    caller, draft = loaded
    typed = clean_text(message.text)
    if typed.lower() in NO_PROBLEMS:
        return await no_problems(update, context)
    # One a line, or numbered on one line ("1、… 2、…"): each item is a problem of its own.
    items = [item for line in typed.splitlines() for item in split_numbered_line(line)]
    lines = [clean_text(_LIST_MARK.sub("", item)) for item in items]
    lines = [line for line in lines if not is_blank(line)]
    if not lines or len(lines) > MAX_PROBLEMS:
        text = caller.t("drill.guide_problems", max=MAX_PROBLEMS)
        await answer(update, text, reply_markup=problems_keyboard(caller.t))
        return LISTING_PROBLEMS
    unfit = _first_unfit(lines, caller.t)
    if unfit is not None:
        await answer(update, unfit, reply_markup=problems_keyboard(caller.t))
        return LISTING_PROBLEMS
    draft = draft.model_copy(update={"problems": [DraftProblem(description=line) for line in lines], "asking": 0})
    await save_draft(context, caller, draft)
    await answer(update, caller.t(counted("drill.problems_received", len(lines)), count=len(lines)))
    return await ask(update, context, caller, draft, CHOOSING_AREA)


def _first_unfit(lines: list[str], t: Translator) -> str | None:
    """What is wrong with the first problem too short or too long to be a hazard's description, naming it; None when
    all fit. Said now, rather than at the confirmation after an area and a severity for every problem."""
    for number, line in enumerate(lines, 1):
        if visible_length(line) < MIN_DESCRIPTION:
            return t("drill.problem_too_short", number=number, problem=line, min=MIN_DESCRIPTION)
        if len(line) > MAX_TEXT:  # a maximum counts every character kept, as a description's does
            problem = clipped(line, QUOTED_LONG_PROBLEM)
            return t("drill.problem_too_long", number=number, problem=problem, length=len(line), max=MAX_TEXT)
    return None


async def chose_area(update: Update, context: BotContext) -> str | int:
    pressed = await read_press(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    return await _area_chosen(update, context, caller, draft, pressed_problem_choice(AREA_PRESS, data, draft.asking))


async def typed_area(update: Update, context: BotContext) -> str | int:
    """An area's label typed ("用电", "仅记录不上报") is its button pressed for the problem asked about."""
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return CHOOSING_AREA
    caller, draft = loaded
    t = caller.t
    labels = {catalog_label(area, t): str(area) for area in PROBLEM_AREAS}
    labels[t.plain("drill.button_record_only")] = "none"
    choice = typed_label(message.text, labels)
    if choice is None:
        return await _use_buttons(update, caller, CHOOSING_AREA)
    return await _area_chosen(update, context, caller, draft, choice)


async def _area_chosen(
    update: Update, context: BotContext, caller: Caller, draft: DrillDraft, choice: str | None
) -> str | int:
    problems = list(draft.problems)
    if draft.asking >= len(problems):
        return await show_summary(update, context, caller, draft)
    if choice is None:
        return CHOOSING_AREA
    if choice == "none":
        problems[draft.asking] = problems[draft.asking].model_copy(update={"report": False})
        return await _next_problem(update, context, caller, draft.model_copy(update={"problems": problems}))
    problems[draft.asking] = problems[draft.asking].model_copy(update={"area": HazardArea(choice), "report": True})
    return await advance(update, context, caller, draft.model_copy(update={"problems": problems}), CHOOSING_SEVERITY)


async def chose_severity(update: Update, context: BotContext) -> str | int:
    pressed = await read_press(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    choice = pressed_problem_choice(SEVERITY_PRESS, data, draft.asking)
    return await _graded(update, context, caller, draft, None if choice is None else Severity(choice))


async def typed_severity(update: Update, context: BotContext) -> str | int:
    """A severity's label typed ("重大", "major") is its button pressed for the problem asked about."""
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return CHOOSING_SEVERITY
    caller, draft = loaded
    severity = typed_label(message.text, {catalog_label(s, caller.t): s for s in SEVERITY_ORDER})
    if severity is None:
        return await _use_buttons(update, caller, CHOOSING_SEVERITY)
    return await _graded(update, context, caller, draft, severity)


async def _graded(
    update: Update, context: BotContext, caller: Caller, draft: DrillDraft, severity: Severity | None
) -> str | int:
    problems = list(draft.problems)
    if draft.asking >= len(problems):
        return await show_summary(update, context, caller, draft)
    if severity is None:
        return CHOOSING_SEVERITY
    problems[draft.asking] = problems[draft.asking].model_copy(update={"severity": severity})
    return await _next_problem(update, context, caller, draft.model_copy(update={"problems": problems}))


async def _use_buttons(update: Update, caller: Caller, step: str) -> str:
    """Text that names no button: the buttons, as the step's other answers are told (Cancel under it)."""
    await answer(update, caller.t("flow.use_buttons"), reply_markup=cancel_keyboard(caller.t, "dr:cancel"))
    return step


async def _next_problem(update: Update, context: BotContext, caller: Caller, draft: DrillDraft) -> str | int:
    draft = draft.model_copy(update={"asking": draft.asking + 1})
    await save_draft(context, caller, draft)
    if draft.asking < len(draft.problems):
        return await ask(update, context, caller, draft, CHOOSING_AREA)
    return await show_summary(update, context, caller, draft)


async def show_summary(update: Update, context: BotContext, caller: Caller, draft: DrillDraft) -> str | int:
    t, services = caller.t, context.services
    institution = await services.storage.institutions.get(draft.institution_id or 0)
    if institution is None or draft.kind is None or draft.held_on is None:
        await drafts(context).delete(caller.telegram_user.id, DrillDraft)
        await answer(update, t("drill.lost"))
        return ConversationHandler.END
    if draft.step != CONFIRMING:  # taken up again after a detour, the drill comes back to its summary
        await save_draft(context, caller, draft.model_copy(update={"step": CONFIRMING}))
    problems = "\n".join(_problem_line(number, problem, t) for number, problem in enumerate(draft.problems, 1))
    text = t(
        "drill.summary",
        institution=place_name(institution, t),
        kind=t.plain(f"calendar.kind.{draft.kind.value}"),
        day=draft.held_on.isoformat(),
        participants=draft.participants or 0,
        minutes=draft.duration_minutes or 0,
        practised=clipped(draft.practised or "", SUMMARY_PRACTISED),
        photos=len(draft.photos),
        problems=Html(problems) if problems else t("drill.summary_no_problems"),
    )
    await answer(update, text, reply_markup=confirm_keyboard(t))
    return CONFIRMING


def _problem_line(number: int, problem: DraftProblem, t: Translator) -> str:
    if not problem.report or problem.area is None:
        return t("drill.summary_problem_recorded", number=number,
                 problem=clipped(problem.description, SUMMARY_PROBLEM))
    return t(
        "drill.summary_problem_hazard",
        number=number,
        problem=clipped(problem.description, SUMMARY_PROBLEM),
        area=catalog_label(problem.area, t),
        severity=catalog_label(problem.severity or Severity.GENERAL, t),
    )
