"""Log a drill (/drill): [institution, for staff] → kind → date → participants → duration → what was practised →
photos → problems found, each line becoming a hazard (self-check) once its area and severity are chosen → summary
→ confirm. Every answer is saved as it is given, so a restart resumes the journey at its step.
The states, keyboards and questions are `handlers.drill_steps`; the problems and the summary
`handlers.drill_problems`; /drills (the record and its compliance) is `handlers.drill_records`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.catalog import HazardArea, Severity
from bot.domain.compliance import DrillKind
from bot.domain.roles import STAFF_ROLES, Role
from bot.domain.text import clean_text, duration_minutes, said_in_words, says_no_photo
from bot.i18n import Html, Translator, counted
from bot.services.calendar import (
    MAX_DURATION_MINUTES,
    MAX_PARTICIPANTS,
    DrillEntry,
    DrillLogged,
    DrillProblem,
    may_log_for,
)
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_PHOTOS, MAX_TEXT
from handlers.calendar_common import (
    DRILL,
    ENTRY_DRILL,
    day_pattern,
    drafts,
    parse_count,
    period_label,
    pressed_day,
    read_count,
    read_day,
    refuse_role,
    save_draft,
    status_line,
)
from handlers.common import (
    Caller,
    answer,
    cancel_journey,
    cancel_keyboard,
    identify,
    institution_prompt,
    is_private,
    place_name,
    read_text,
    tell_each,
    typed_label,
)
from handlers.drill_problems import (
    chose_area,
    chose_severity,
    listed_problems,
    no_problems,
    show_summary,
    typed_area,
    typed_severity,
)
from handlers.drill_steps import (
    ADDING_PHOTOS,
    CHOOSING_AREA,
    CHOOSING_SEVERITY,
    CONFIRMING,
    COUNTING_PEOPLE,
    DESCRIBING,
    INSTITUTION_PAGE,
    LISTING_PROBLEMS,
    MAX_PROBLEMS,
    NUMBERED,
    PICKING_DATE,
    PICKING_INSTITUTION,
    PICKING_KIND,
    PROBLEM_AREAS,
    REDATE,
    TIMING,
    advance,
    ask,
    brief,
    cancel_row,
    institution_keyboard,
    load,
    participants_keyboard,
    photos_keyboard,
    read_press,
    step_of,
)
from handlers.evidence import photo_added, photo_step_hint
from handlers.notify import when
from handlers.resume import RESUMING, Resumable, Unfinished, resumable
from storage.repositories.calendar_drafts import DrillDraft

MIN_PRACTISED = 2
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
    asked = await UNFINISHED.offer(update, context, caller)
    return asked if asked is not None else await _afresh(update, context, caller)


async def _afresh(update: Update, context: BotContext, caller: Caller) -> str | int:
    user = caller.user
    assert user is not None
    if user.role is Role.HEAD and user.institution_id is not None:
        return await advance(update, context, caller, DrillDraft(institution_id=user.institution_id), PICKING_KIND)
    await save_draft(context, caller, DrillDraft())
    return await _ask_institution(update, context, caller)


async def _unfinished(context: BotContext, caller: Caller) -> Unfinished | None:
    """The person's drill draft, when they entered something (a head's own institution is filled in for them)."""
    assert caller.user is not None
    draft = await drafts(context).get(caller.user.telegram_id, DrillDraft)
    if draft is None:
        return None
    entered = draft.model_dump(exclude={"institution_id", "institution_search", "asking", "step"},
                               exclude_defaults=True)
    if not entered and (draft.institution_id is None or caller.user.role is Role.HEAD):
        return None
    step = step_of(draft)
    number = NUMBERED.index(step) + 1 if step in NUMBERED else (1 if step == PICKING_INSTITUTION else len(NUMBERED))
    return Unfinished(step=step, number=number, brief=brief(draft, caller.t))


async def _carry_on(update: Update, context: BotContext, caller: Caller, step: str) -> str | int:
    loaded = await load(update, context)
    if loaded is None:
        return ConversationHandler.END
    draft = loaded[1]
    if step == PICKING_INSTITUTION:
        return await _ask_institution(update, context, caller)
    if step == CONFIRMING:
        return await show_summary(update, context, caller, draft)
    return await ask(update, context, caller, draft, step)


UNFINISHED = resumable(Resumable("drill", _unfinished, _carry_on, _afresh))


async def _ask_institution(
    update: Update, context: BotContext, caller: Caller, query: str | None = None, page: int | None = None
) -> str:
    """The institution question, as /report asks it: every institution of the person's scope, or those matching
    the `query` typed, a page at a time. A `page` turned keeps to the listing the draft remembers (the last search,
    or none); otherwise the listing asked for is remembered for the page buttons under it."""
    assert caller.user is not None
    t = caller.t
    draft = await drafts(context).get(caller.user.telegram_id, DrillDraft) or DrillDraft()
    if page is not None:
        query = draft.institution_search
    elif draft.institution_search != query:
        await save_draft(context, caller, draft.model_copy(update={"institution_search": query}))
    found = await context.services.hazards.institution_page(caller.user, query, page or 0)
    if update.callback_query is not None and page is not None:
        await update.callback_query.answer(t.plain("institution.page_gone") if found.clamped else None)
    if not found.total:
        text = t("drill.no_institution_match", query=query) if query else t("drill.no_institutions")
        await answer(update, text, reply_markup=InlineKeyboardMarkup([cancel_row(t)]), edit=page is not None)
    else:
        await answer(update, institution_prompt(t("drill.ask_institution"), found, t),
                     reply_markup=institution_keyboard(found, t), edit=page is not None)
    return PICKING_INSTITUTION


async def turned_institution_page(update: Update, context: BotContext) -> str | int:
    """◀ / ▶ under the institution question: the page worked out afresh from the person's scope."""
    loaded = await load(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return ConversationHandler.END
    return await _ask_institution(update, context, loaded[0], page=int(query.data.removeprefix(INSTITUTION_PAGE)))


async def searched_institution(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or message is None or message.text is None:
        return PICKING_INSTITUTION
    return await _ask_institution(update, context, caller, clean_text(message.text)[:50])


async def chose_institution(update: Update, context: BotContext) -> str | int:
    pressed = await read_press(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    assert caller.user is not None
    institution_id = int(data.removeprefix("dr:inst:"))
    institution = await context.services.storage.institutions.get(institution_id)
    if institution is None or not institution.active or not may_log_for(caller.user, institution):
        # Only a forged press names an institution outside the list we showed; the service checks again on logging.
        await context.services.storage.audit.append(
            caller.user.telegram_id, "authz.refused", target=f"institution:{institution_id}",
            detail={"action": "drill.log", "reason": "not_in_scope"},
        )
        await answer(update, caller.t("refusal.not_in_scope"))
        return PICKING_INSTITUTION
    draft = draft.model_copy(update={"institution_id": institution_id})
    return await advance(update, context, caller, draft, PICKING_KIND)


async def chose_kind(update: Update, context: BotContext) -> str | int:
    pressed = await read_press(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    kind = DrillKind(data.removeprefix("dr:kind:"))
    return await advance(update, context, caller, draft.model_copy(update={"kind": kind}), PICKING_DATE)


async def typed_kind(update: Update, context: BotContext) -> str | int:
    """A kind's label typed ("消防疏散演练", "fire evacuation") is its button pressed."""
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return PICKING_KIND
    caller, draft = loaded
    kind = typed_label(message.text, {caller.t.plain(f"calendar.kind.{k.value}"): k for k in DrillKind})
    if kind is None:
        await _guide("flow.use_buttons")(update, context)
        return PICKING_KIND
    return await advance(update, context, caller, draft.model_copy(update={"kind": kind}), PICKING_DATE)


async def chose_day(update: Update, context: BotContext) -> str | int:
    pressed = await read_press(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, data = pressed
    held_on = await pressed_day(update, caller, data, "dr", context.services.drills.today())
    if held_on is None:
        return PICKING_DATE
    return await advance(update, context, caller, draft.model_copy(update={"held_on": held_on}), COUNTING_PEOPLE)


async def typed_day(update: Update, context: BotContext) -> str | int:
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return PICKING_DATE
    caller, draft = loaded
    held_on = await read_day(update, caller, message.text, "dr", context.services.drills.today())
    if held_on is None:
        return PICKING_DATE
    return await advance(update, context, caller, draft.model_copy(update={"held_on": held_on}), COUNTING_PEOPLE)


async def redate(update: Update, context: BotContext) -> str | int:
    """↩ under the participants question: the date again (the one read may not be the one meant)."""
    pressed = await read_press(update, context)
    if pressed is None:
        return ConversationHandler.END
    caller, draft, _ = pressed
    return await advance(update, context, caller, draft.model_copy(update={"held_on": None}), PICKING_DATE)


async def counted_people(update: Update, context: BotContext) -> str | int:
    return await _took_number(
        update, context, COUNTING_PEOPLE, "calendar.guide_number", "refusal.participants_invalid", MAX_PARTICIPANTS,
        "participants", TIMING, keyboard=participants_keyboard,
    )


async def timed(update: Update, context: BotContext) -> str | int:
    """Minutes, or hours as people say them, in digits or Chinese numerals ("1.5小时", "一个半小时" are 90 minutes,
    said back before the next question)."""
    return await _took_number(
        update, context, TIMING, "calendar.guide_minutes", "refusal.duration_invalid", MAX_DURATION_MINUTES,
        "duration_minutes", DESCRIBING, reader=duration_minutes,
    )


async def _took_number(
    update: Update, context: BotContext, step: str, guide: str, refusal: str, most: int, field: str, then: str,
    *, keyboard: Callable[[Translator], InlineKeyboardMarkup] | None = None,
    reader: Callable[[str], int | None] = parse_count,
) -> str | int:
    """The answer to `step` is a number (people, minutes): not a number is guided, outside 1..`most` is refused,
    under the question's buttons (`keyboard`; Cancel alone when it had no others)."""
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return step
    caller, draft = loaded
    buttons = keyboard(caller.t) if keyboard is not None else None
    number = await read_count(update, caller, message.text, "dr", guide=guide, refusal=refusal, most=most,
                              keyboard=buttons, reader=reader)
    if number is None:
        return step
    if reader is duration_minutes and said_in_words(message.text):
        await answer(update, caller.t(counted("drill.minutes_from_hours", number), count=number))
    return await advance(update, context, caller, draft.model_copy(update={field: number}), then)


async def described_practice(update: Update, context: BotContext) -> str | int:
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return DESCRIBING
    caller, draft = loaded
    text = await read_text(update, caller, message.text, least=MIN_PRACTISED, most=MAX_TEXT,
                           too_short="refusal.practised_too_short", too_long="refusal.practised_too_long",
                           cancel_data="dr:cancel")
    if text is None:
        return DESCRIBING
    return await advance(update, context, caller, draft.model_copy(update={"practised": text}), ADDING_PHOTOS)


async def received_photo(update: Update, context: BotContext) -> str | int:
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return ADDING_PHOTOS
    caller, draft = loaded
    photos = await photo_added(update, message, context, caller.t, draft.photos, photos_keyboard(draft, caller.t))
    if photos is None:
        return ADDING_PHOTOS
    draft = draft.model_copy(update={"photos": photos})
    await save_draft(context, caller, draft)
    text = caller.t("drill.photo_received", count=len(draft.photos), max=MAX_PHOTOS)
    await answer(update, text, reply_markup=photos_keyboard(draft, caller.t))
    return ADDING_PHOTOS


async def photos_done(update: Update, context: BotContext) -> str | int:
    loaded = await load(update, context)
    query = update.callback_query
    if loaded is None or query is None:
        return ConversationHandler.END
    caller, draft = loaded
    if not draft.photos:
        await query.answer(caller.t.plain("drill.need_photo_first"), show_alert=True)
        return ADDING_PHOTOS
    await query.answer()
    return await ask(update, context, caller, draft, LISTING_PROBLEMS)


async def guided_photos(update: Update, context: BotContext) -> str | int:
    """Anything but a photo at the photo step, answered under the step's own buttons (Done only once there is a
    photo). A drill's record needs its photos: a typed "无" or "没有照片" cannot skip them and is told so; once there
    is one, "完成" or "没有了" typed is Done."""
    loaded = await load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return ADDING_PHOTOS
    caller, draft = loaded
    no_photo = says_no_photo(message.text)
    if no_photo and draft.photos:
        return await ask(update, context, caller, draft, LISTING_PROBLEMS)
    more = counted("drill.guide_photos_more", len(draft.photos)) if draft.photos else "drill.guide_photos"
    key = "drill.photo_required" if no_photo else photo_step_hint(message, more)
    await answer(update, caller.t(key, count=len(draft.photos), max=MAX_PHOTOS),
                 reply_markup=photos_keyboard(draft, caller.t))
    return ADDING_PHOTOS


async def confirmed(update: Update, context: BotContext) -> str | int:
    loaded = await load(update, context)
    query = update.callback_query
    if loaded is None or query is None:
        return ConversationHandler.END
    caller, draft = loaded
    assert caller.user is not None
    services, t = context.services, caller.t
    try:
        # The draft goes in the drill's own transaction: deleted after it, a refused delete left the confirm button
        # working, and a second press logged the drill twice.
        async with services.storage.db.transaction():
            logged = await services.drills.log(caller.user, _entry(draft))
            await _tell_late_entry(context, caller, logged)
            await drafts(context).delete(caller.user.telegram_id, DrillDraft)
    except (Refusal, ValueError) as error:
        await query.answer()
        return await _refused(update, context, caller, draft, error)
    await query.answer()
    drill = logged.drill
    lines = [
        t("drill.logged", kind=t.plain(f"calendar.kind.{drill.kind.value}"), day=drill.held_on.isoformat()),
        status_line(DRILL, logged.status, t),
    ]
    tz = services.settings.tz
    if logged.late is not None:
        told = logged.late.fills_miss and logged.late.tell
        lines.append(t(
            "drill.logged_late_told" if told else "drill.logged_late", period=period_label(logged.late.period, t),
            day=drill.held_on.isoformat(), logged=drill.logged_at.astimezone(tz).date().isoformat(),
        ))
    lines += [
        t("drill.logged_hazard", code=o.hazard.code, deadline=when(o.hazard.deadline, tz, t)) for o in logged.hazards
    ]
    await answer(update, Html("\n".join(lines)), edit=True)
    return ConversationHandler.END


async def _tell_late_entry(context: BotContext, caller: Caller, logged: DrillLogged) -> None:
    """A drill entered after its period had ended, and the first on record for it: the county staff, who were told
    the period was missed, are told of the entry so they can check it (inside the drill's transaction)."""
    late, drill, services = logged.late, logged.drill, context.services
    if late is None or not late.fills_miss or not late.tell or caller.user is None:
        return
    institution = await services.storage.institutions.get(drill.institution_id)
    assert institution is not None
    logged_on = drill.logged_at.astimezone(services.settings.tz).date().isoformat()
    who = caller.user.full_name

    def words(t: Translator) -> str:
        return t(
            "drill.late_news", institution=place_name(institution, t), logged=logged_on, day=drill.held_on.isoformat(),
            kind=t.plain(f"calendar.kind.{drill.kind.value}"), period=period_label(late.period, t), who=who,
        )

    await tell_each(services, late.tell, f"drill:{drill.id}:late", words)


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
    return await ask(update, context, caller, draft, step)


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "drill.cancelled", lambda c, telegram_id: drafts(c).delete(telegram_id, DrillDraft)
    )


Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def _guide(key: str, keyboard: Callable[[Translator], InlineKeyboardMarkup] | None = None) -> Callback:
    """Say what this step needs when something else arrives, under the step's buttons (`keyboard`; Cancel alone when
    it has no others); the journey stays where it is."""

    async def guide(update: Update, context: BotContext) -> None:
        caller = await identify(update, context)
        if caller is not None:
            markup = keyboard(caller.t) if keyboard is not None else cancel_keyboard(caller.t, "dr:cancel")
            await answer(update, caller.t(key, max=MAX_PROBLEMS), reply_markup=markup)

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
                RESUMING: UNFINISHED.handlers(),
                PICKING_INSTITUTION: [
                    CallbackQueryHandler(chose_institution, pattern=r"^dr:inst:\d+$"),
                    CallbackQueryHandler(turned_institution_page, pattern=rf"^{INSTITUTION_PAGE}\d+$"),
                    MessageHandler(text, searched_institution),
                ],
                PICKING_KIND: [
                    CallbackQueryHandler(chose_kind, pattern=rf"^dr:kind:({kinds})$"),
                    MessageHandler(text, typed_kind),
                ],
                PICKING_DATE: [
                    CallbackQueryHandler(chose_day, pattern=day_pattern("dr")),
                    MessageHandler(text, typed_day),
                    MessageHandler(other, _guide("calendar.guide_date")),
                ],
                COUNTING_PEOPLE: [
                    CallbackQueryHandler(redate, pattern=f"^{REDATE}$"),
                    MessageHandler(text, counted_people),
                    MessageHandler(other, _guide("calendar.guide_number", participants_keyboard)),
                ],
                TIMING: [MessageHandler(text, timed), MessageHandler(other, _guide("calendar.guide_minutes"))],
                DESCRIBING: [
                    MessageHandler(text, described_practice),
                    MessageHandler(other, _guide("drill.guide_practised")),
                ],
                ADDING_PHOTOS: [
                    MessageHandler(private & filters.PHOTO, received_photo),
                    CallbackQueryHandler(photos_done, pattern=r"^dr:photos:done$"),
                    MessageHandler(other, guided_photos),
                ],
                LISTING_PROBLEMS: [
                    CallbackQueryHandler(no_problems, pattern=r"^dr:problems:none$"),
                    MessageHandler(text, listed_problems),
                    MessageHandler(other, _guide("drill.guide_problems")),
                ],
                CHOOSING_AREA: [
                    CallbackQueryHandler(chose_area, pattern=rf"^dr:area:(\d{{1,2}}:)?(none|{areas})$"),
                    MessageHandler(text, typed_area),
                ],
                CHOOSING_SEVERITY: [
                    CallbackQueryHandler(chose_severity, pattern=r"^dr:sev:(\d{1,2}:)?(general|major|serious)$"),
                    MessageHandler(text, typed_severity),
                ],
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
