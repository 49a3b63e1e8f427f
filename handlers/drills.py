"""Log a drill (/drill): [institution, for staff] → kind → date → participants → duration → what was practised →
photos → problems found, each line becoming a hazard (self-check) once its area and severity are chosen → summary
→ confirm. Every answer is saved as it is given, so a restart resumes the journey at its step.
/drills (the record and its compliance) is `handlers.drill_records`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.catalog import AREAS, SEVERITY_ORDER, HazardArea, Severity, is_sensitive
from bot.domain.compliance import DrillKind
from bot.domain.roles import STAFF_ROLES, Role
from bot.i18n import Html, Translator
from bot.services.calendar import MAX_DURATION_MINUTES, MAX_PARTICIPANTS, DrillEntry, DrillProblem
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_PHOTOS, MAX_TEXT
from handlers.calendar_common import (
    DRILL,
    ENTRY_DRILL,
    cancel_keyboard,
    chosen_day,
    day_keyboard,
    day_problem,
    drafts,
    load_draft,
    parse_count,
    parse_day,
    place_name,
    refuse_role,
    save_draft,
    status_line,
)
from handlers.common import Caller, answer, cancel_journey, catalog_label, identify, is_private
from handlers.evidence import photo_added
from handlers.notify import when
from storage.models import Institution
from storage.repositories.calendar_drafts import DraftProblem, DrillDraft

PICKING_INSTITUTION = "drill.picking_institution"
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
# "1. …", "2、…", "- …": how people number a list; the marks are not part of the problem.
_LIST_MARK = re.compile(r"^\s*(?:[-•*·]|\d{1,2}\s*[.、)）])\s*")
MIN_PRACTISED = 2
# Typed instead of pressing "No problems found".
NO_PROBLEMS = frozenset({"无", "没有", "无问题", "没有问题", "未发现问题", "none", "no", "nothing", "n/a", "-"})
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
# Where a refusal at the confirmation sends the person back to, to put it right.
REFUSAL_STEPS = {
    "date_in_future": PICKING_DATE,
    "date_too_old": PICKING_DATE,
    "participants_invalid": COUNTING_PEOPLE,
    "duration_invalid": TIMING,
    "practised_too_short": DESCRIBING,
    "practised_too_long": DESCRIBING,
    "classified": DESCRIBING,
    "photo_required": ADDING_PHOTOS,
    "description_too_short": LISTING_PROBLEMS,
    "description_too_long": LISTING_PROBLEMS,
}


# ---- keyboards -------------------------------------------------------------------------------------------


def _mark(suggested: bool) -> str:
    return "✓ " if suggested else ""


def _cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.plain("button.cancel"), callback_data="dr:cancel")]


def _institution_keyboard(institutions: list[Institution], t: Translator) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(place_name(i, t), callback_data=f"dr:inst:{i.id}")] for i in institutions]
    return InlineKeyboardMarkup([*rows, _cancel_row(t)])


def _kind_keyboard(t: Translator) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(t.plain(f"calendar.kind.{k.value}"), callback_data=f"dr:kind:{k.value}")]
            for k in DrillKind]
    return InlineKeyboardMarkup([*rows, _cancel_row(t)])


def _photos_keyboard(draft: DrillDraft, t: Translator) -> InlineKeyboardMarkup:
    """Done only once there is a photo: a drill needs at least one."""
    rows = [[InlineKeyboardButton(t.plain("button.done"), callback_data="dr:photos:done")]] if draft.photos else []
    return InlineKeyboardMarkup([*rows, _cancel_row(t)])


def _problems_keyboard(t: Translator) -> InlineKeyboardMarkup:
    none = InlineKeyboardButton(t.plain("drill.button_no_problems"), callback_data="dr:problems:none")
    return InlineKeyboardMarkup([[none], _cancel_row(t)])


def _area_keyboard(suggested: HazardArea, t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(_mark(area is suggested) + catalog_label(area, t), callback_data=f"dr:area:{area}")
        for area in PROBLEM_AREAS
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    record_only = InlineKeyboardButton(t.plain("drill.button_record_only"), callback_data="dr:area:none")
    return InlineKeyboardMarkup([*rows, [record_only], _cancel_row(t)])


def _severity_keyboard(t: Translator) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(_mark(s is Severity.GENERAL) + catalog_label(s, t), callback_data=f"dr:sev:{s}")
        for s in SEVERITY_ORDER
    ]
    return InlineKeyboardMarkup([row, _cancel_row(t)])


def _confirm_keyboard(t: Translator) -> InlineKeyboardMarkup:
    confirm = InlineKeyboardButton(t.plain("drill.button_confirm"), callback_data="dr:confirm")
    return InlineKeyboardMarkup([[confirm], _cancel_row(t)])


# ---- the draft -------------------------------------------------------------------------------------------


async def _load(update: Update, context: BotContext) -> tuple[Caller, DrillDraft] | None:
    return await load_draft(update, context, DrillDraft, "drill.lost")


async def _pressed(update: Update, context: BotContext) -> tuple[Caller, DrillDraft, str] | None:
    """The person, their draft and the pressed button's data; the press is answered."""
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return None
    await query.answer()
    caller, draft = loaded
    return caller, draft, query.data


async def _ask(update: Update, context: BotContext, caller: Caller, draft: DrillDraft, step: str) -> str:
    """Ask the question of `step`; the draft has already been saved."""
    t = caller.t
    if step == PICKING_KIND:
        await answer(update, t("drill.ask_kind"), reply_markup=_kind_keyboard(t))
    elif step == PICKING_DATE:
        today = context.services.drills.today()
        await answer(update, t("drill.ask_date"), reply_markup=day_keyboard("dr", today, t))
    elif step == COUNTING_PEOPLE:
        await answer(update, t("drill.ask_participants"), reply_markup=cancel_keyboard("dr", t))
    elif step == TIMING:
        await answer(update, t("drill.ask_duration"), reply_markup=cancel_keyboard("dr", t))
    elif step == DESCRIBING:
        await answer(update, t("drill.ask_practised"), reply_markup=cancel_keyboard("dr", t))
    elif step == ADDING_PHOTOS:
        await answer(update, t("drill.ask_photos", max=MAX_PHOTOS), reply_markup=_photos_keyboard(draft, t))
    elif step == LISTING_PROBLEMS:
        await answer(update, t("drill.ask_problems", max=MAX_PROBLEMS), reply_markup=_problems_keyboard(t))
    elif step == CHOOSING_AREA:
        problem = draft.problems[draft.asking]
        suggested = KIND_AREA[draft.kind or DrillKind.OTHER]
        text = t("drill.ask_area", number=draft.asking + 1, total=len(draft.problems), problem=problem.description)
        await answer(update, text, reply_markup=_area_keyboard(suggested, t))
    elif step == CHOOSING_SEVERITY:
        problem = draft.problems[draft.asking]
        text = t("drill.ask_severity", number=draft.asking + 1, total=len(draft.problems), problem=problem.description)
        await answer(update, text, reply_markup=_severity_keyboard(t))
    return step


async def _next(update: Update, context: BotContext, caller: Caller, draft: DrillDraft, step: str) -> str:
    await save_draft(context, caller, draft)
    return await _ask(update, context, caller, draft, step)


# ---- the journey -----------------------------------------------------------------------------------------


async def start_drill(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return ConversationHandler.END
    user = caller.user
    if user.role is not Role.HEAD and user.role not in STAFF_ROLES:
        await refuse_role(update, context, caller, "refusal.drill_role", "drill")
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    if user.role is Role.HEAD and user.institution_id is not None:
        return await _next(update, context, caller, DrillDraft(institution_id=user.institution_id), PICKING_KIND)
    await save_draft(context, caller, DrillDraft())
    return await _ask_institution(update, context, caller)


async def _ask_institution(update: Update, context: BotContext, caller: Caller, query: str | None = None) -> str:
    assert caller.user is not None
    found = await context.services.hazards.institutions_for_report(caller.user, query)
    t = caller.t
    if not found:
        text = t("drill.no_institution_match", query=query) if query else t("drill.no_institutions")
        await answer(update, text, reply_markup=InlineKeyboardMarkup([_cancel_row(t)]))
    else:
        await answer(update, t("drill.ask_institution"), reply_markup=_institution_keyboard(found, t))
    return PICKING_INSTITUTION


async def searched_institution(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or message is None or message.text is None:
        return PICKING_INSTITUTION
    return await _ask_institution(update, context, caller, message.text.strip()[:50])


async def chose_institution(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    # The service checks the scope again when the drill is logged; a forged id only gets that far.
    draft = draft.model_copy(update={"institution_id": int(data.removeprefix("dr:inst:"))})
    return await _next(update, context, caller, draft, PICKING_KIND)


async def chose_kind(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    kind = DrillKind(data.removeprefix("dr:kind:"))
    return await _next(update, context, caller, draft.model_copy(update={"kind": kind}), PICKING_DATE)


async def chose_day(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    held_on = chosen_day(data, context.services.drills.today())
    return await _next(update, context, caller, draft.model_copy(update={"held_on": held_on}), COUNTING_PEOPLE)


async def typed_day(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return PICKING_DATE
    caller, draft = loaded
    today = context.services.drills.today()
    held_on = parse_day(message.text)
    if held_on is None:
        await answer(update, caller.t("calendar.guide_date"), reply_markup=day_keyboard("dr", today, caller.t))
        return PICKING_DATE
    problem = day_problem(held_on, today)
    if problem is not None:
        await answer(update, caller.t(problem), reply_markup=day_keyboard("dr", today, caller.t))
        return PICKING_DATE
    return await _next(update, context, caller, draft.model_copy(update={"held_on": held_on}), COUNTING_PEOPLE)


async def counted_people(update: Update, context: BotContext) -> str | int:
    return await _took_number(
        update, context, COUNTING_PEOPLE, "calendar.guide_number", "refusal.participants_invalid", MAX_PARTICIPANTS,
        "participants", TIMING,
    )


async def timed(update: Update, context: BotContext) -> str | int:
    return await _took_number(
        update, context, TIMING, "calendar.guide_minutes", "refusal.duration_invalid", MAX_DURATION_MINUTES,
        "duration_minutes", DESCRIBING,
    )


async def _took_number(
    update: Update, context: BotContext, step: str, guide: str, refusal: str, most: int, field: str, then: str
) -> str | int:
    """The answer to `step` is a number (people, minutes): not a number is guided, outside 1..`most` is refused."""
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return step
    caller, draft = loaded
    number = parse_count(message.text)
    if number is None:
        await answer(update, caller.t(guide), reply_markup=cancel_keyboard("dr", caller.t))
        return step
    if not 0 < number <= most:
        await answer(update, caller.t(refusal, max=most))
        return step
    return await _next(update, context, caller, draft.model_copy(update={field: number}), then)


async def described_practice(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return DESCRIBING
    caller, draft = loaded
    text = message.text.strip()
    if len(text) < MIN_PRACTISED:
        await answer(update, caller.t("refusal.practised_too_short", min=MIN_PRACTISED))
        return DESCRIBING
    if len(text) > MAX_TEXT:
        await answer(update, caller.t("refusal.practised_too_long", max=MAX_TEXT))
        return DESCRIBING
    return await _next(update, context, caller, draft.model_copy(update={"practised": text}), ADDING_PHOTOS)


async def received_photo(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return ADDING_PHOTOS
    caller, draft = loaded
    photos = await photo_added(update, message, context, caller.t, draft.photos, _photos_keyboard(draft, caller.t))
    if photos is None:
        return ADDING_PHOTOS
    draft = draft.model_copy(update={"photos": photos})
    await save_draft(context, caller, draft)
    text = caller.t("drill.photo_received", count=len(draft.photos), max=MAX_PHOTOS)
    await answer(update, text, reply_markup=_photos_keyboard(draft, caller.t))
    return ADDING_PHOTOS


async def photos_done(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None:
        return ConversationHandler.END
    caller, draft = loaded
    if not draft.photos:
        await query.answer(caller.t.plain("drill.need_photo_first"), show_alert=True)
        return ADDING_PHOTOS
    await query.answer()
    return await _ask(update, context, caller, draft, LISTING_PROBLEMS)


async def no_problems(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    caller, draft = loaded
    draft = draft.model_copy(update={"problems": [], "asking": 0})
    await save_draft(context, caller, draft)
    return await _show_summary(update, context, caller, draft)


async def listed_problems(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return LISTING_PROBLEMS
    caller, draft = loaded
    if message.text.strip().lower() in NO_PROBLEMS:
        return await no_problems(update, context)
    lines = [_LIST_MARK.sub("", line).strip() for line in message.text.splitlines()]
    lines = [line for line in lines if line]
    if not lines or len(lines) > MAX_PROBLEMS or any(len(line) > MAX_TEXT for line in lines):
        text = caller.t("drill.guide_problems", max=MAX_PROBLEMS)
        await answer(update, text, reply_markup=_problems_keyboard(caller.t))
        return LISTING_PROBLEMS
    draft = draft.model_copy(update={"problems": [DraftProblem(description=line) for line in lines], "asking": 0})
    await save_draft(context, caller, draft)
    await answer(update, caller.t("drill.problems_received", count=len(lines)))
    return await _ask(update, context, caller, draft, CHOOSING_AREA)


async def chose_area(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    choice = data.removeprefix("dr:area:")
    problems = list(draft.problems)
    if draft.asking >= len(problems):
        return await _show_summary(update, context, caller, draft)
    if choice == "none":
        problems[draft.asking] = problems[draft.asking].model_copy(update={"report": False})
        return await _next_problem(update, context, caller, draft.model_copy(update={"problems": problems}))
    problems[draft.asking] = problems[draft.asking].model_copy(update={"area": HazardArea(choice), "report": True})
    return await _next(update, context, caller, draft.model_copy(update={"problems": problems}), CHOOSING_SEVERITY)


async def chose_severity(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    problems = list(draft.problems)
    if draft.asking >= len(problems):
        return await _show_summary(update, context, caller, draft)
    severity = Severity(data.removeprefix("dr:sev:"))
    problems[draft.asking] = problems[draft.asking].model_copy(update={"severity": severity})
    return await _next_problem(update, context, caller, draft.model_copy(update={"problems": problems}))


async def _next_problem(update: Update, context: BotContext, caller: Caller, draft: DrillDraft) -> str | int:
    draft = draft.model_copy(update={"asking": draft.asking + 1})
    await save_draft(context, caller, draft)
    if draft.asking < len(draft.problems):
        return await _ask(update, context, caller, draft, CHOOSING_AREA)
    return await _show_summary(update, context, caller, draft)


async def _show_summary(update: Update, context: BotContext, caller: Caller, draft: DrillDraft) -> str | int:
    t, services = caller.t, context.services
    institution = await services.storage.institutions.get(draft.institution_id or 0)
    if institution is None or draft.kind is None or draft.held_on is None:
        await drafts(context).delete(caller.telegram_user.id, DrillDraft)
        await answer(update, t("drill.lost"))
        return ConversationHandler.END
    problems = "\n".join(_problem_line(number, problem, t) for number, problem in enumerate(draft.problems, 1))
    text = t(
        "drill.summary",
        institution=place_name(institution, t),
        kind=t.plain(f"calendar.kind.{draft.kind.value}"),
        day=draft.held_on.isoformat(),
        participants=draft.participants or 0,
        minutes=draft.duration_minutes or 0,
        practised=draft.practised or "",
        photos=len(draft.photos),
        problems=Html(problems) if problems else t("drill.summary_no_problems"),
    )
    await answer(update, text, reply_markup=_confirm_keyboard(t))
    return CONFIRMING


def _problem_line(number: int, problem: DraftProblem, t: Translator) -> str:
    if not problem.report or problem.area is None:
        return t("drill.summary_problem_recorded", number=number, problem=problem.description)
    return t(
        "drill.summary_problem_hazard",
        number=number,
        problem=problem.description,
        area=catalog_label(problem.area, t),
        severity=catalog_label(problem.severity or Severity.GENERAL, t),
    )


async def confirmed(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None:
        return ConversationHandler.END
    caller, draft = loaded
    assert caller.user is not None
    services, t = context.services, caller.t
    try:
        logged = await services.drills.log(caller.user, _entry(draft))
    except (Refusal, ValueError) as error:
        await query.answer()
        return await _refused(update, context, caller, draft, error)
    await query.answer()
    await drafts(context).delete(caller.user.telegram_id, DrillDraft)
    drill = logged.drill
    lines = [
        t("drill.logged", kind=t.plain(f"calendar.kind.{drill.kind.value}"), day=drill.held_on.isoformat()),
        status_line(DRILL, logged.status, t),
    ]
    tz = services.settings.tz
    lines += [
        t("drill.logged_hazard", code=o.hazard.code, deadline=when(o.hazard.deadline, tz, t)) for o in logged.hazards
    ]
    await answer(update, Html("\n".join(lines)), edit=True)
    return ConversationHandler.END


def _entry(draft: DrillDraft) -> DrillEntry:
    """The drill as the service takes it; raises ValueError (pydantic) for a draft missing an answer."""
    return DrillEntry.model_validate(
        {
            "institution_id": draft.institution_id,
            "kind": draft.kind,
            "held_on": draft.held_on,
            "participants": draft.participants,
            "duration_minutes": draft.duration_minutes,
            "practised": draft.practised or "",
            "photos": draft.photos,
            "problems": [
                DrillProblem(
                    description=p.description,
                    area=p.area or HazardArea.FIRE,
                    severity=p.severity or Severity.GENERAL,
                    report=p.report and p.area is not None,
                )
                for p in draft.problems
            ],
        }
    )


async def _refused(
    update: Update, context: BotContext, caller: Caller, draft: DrillDraft, error: Refusal | ValueError
) -> str | int:
    t = caller.t
    if isinstance(error, ValueError):
        await answer(update, t("drill.lost"))
        await drafts(context).delete(caller.telegram_user.id, DrillDraft)
        return ConversationHandler.END
    await answer(update, t(error.message_key, **error.params))
    step = REFUSAL_STEPS.get(error.code)
    if step is None:
        await drafts(context).delete(caller.telegram_user.id, DrillDraft)
        return ConversationHandler.END
    return await _ask(update, context, caller, draft, step)


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "drill.cancelled", lambda c, telegram_id: drafts(c).delete(telegram_id, DrillDraft)
    )


Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def _guide(key: str) -> Callback:
    """Say what this step needs when something else arrives; the journey stays where it is."""

    async def guide(update: Update, context: BotContext) -> None:
        caller = await identify(update, context)
        if caller is not None:
            await answer(update, caller.t(key, max=MAX_PROBLEMS), reply_markup=cancel_keyboard("dr", caller.t))

    return guide


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    other = private & ~filters.COMMAND
    kinds = "|".join(k.value for k in DrillKind)
    areas = "|".join(a.value for a in PROBLEM_AREAS)
    application.add_handler(
        ConversationHandler(
            name="drill",
            persistent=True,
            entry_points=[
                CommandHandler("drill", start_drill, filters=private),
                CallbackQueryHandler(start_drill, pattern=rf"^{ENTRY_DRILL}$"),
            ],
            states={
                PICKING_INSTITUTION: [
                    CallbackQueryHandler(chose_institution, pattern=r"^dr:inst:\d+$"),
                    MessageHandler(text, searched_institution),
                ],
                PICKING_KIND: [CallbackQueryHandler(chose_kind, pattern=rf"^dr:kind:({kinds})$")],
                PICKING_DATE: [
                    CallbackQueryHandler(chose_day, pattern=r"^dr:day:(today|yesterday)$"),
                    MessageHandler(text, typed_day),
                    MessageHandler(other, _guide("calendar.guide_date")),
                ],
                COUNTING_PEOPLE: [
                    MessageHandler(text, counted_people),
                    MessageHandler(other, _guide("calendar.guide_number")),
                ],
                TIMING: [MessageHandler(text, timed), MessageHandler(other, _guide("calendar.guide_minutes"))],
                DESCRIBING: [
                    MessageHandler(text, described_practice),
                    MessageHandler(other, _guide("drill.guide_practised")),
                ],
                ADDING_PHOTOS: [
                    MessageHandler(private & filters.PHOTO, received_photo),
                    CallbackQueryHandler(photos_done, pattern=r"^dr:photos:done$"),
                    MessageHandler(other, _guide("drill.guide_photos")),
                ],
                LISTING_PROBLEMS: [
                    CallbackQueryHandler(no_problems, pattern=r"^dr:problems:none$"),
                    MessageHandler(text, listed_problems),
                    MessageHandler(other, _guide("drill.guide_problems")),
                ],
                CHOOSING_AREA: [CallbackQueryHandler(chose_area, pattern=rf"^dr:area:(none|{areas})$")],
                CHOOSING_SEVERITY: [CallbackQueryHandler(chose_severity, pattern=r"^dr:sev:(general|major|serious)$")],
                CONFIRMING: [CallbackQueryHandler(confirmed, pattern=r"^dr:confirm$")],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=r"^dr:cancel$"),
                MessageHandler(other, _guide("flow.use_buttons")),
            ],
            allow_reentry=True,
        )
    )
