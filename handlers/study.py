"""Log a safety study session (/study, county staff and city admins): date → topic → participants → logged, with the
unit's half-year standing. County staff log for their county's bureau, city admins for the city bureau.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import Html
from bot.services.calendar import MAX_PARTICIPANTS
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_TEXT
from handlers.calendar_common import (
    ENTRY_STUDY,
    STUDY,
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
from handlers.common import Caller, answer, cancel_journey, identify, is_private
from storage.models import Region, User
from storage.repositories.calendar_drafts import StudyDraft

PICKING_DATE = "study.picking_date"
NAMING_TOPIC = "study.naming_topic"
COUNTING_PEOPLE = "study.counting_people"
MIN_TOPIC = 2


async def _unit(context: BotContext, user: User) -> Region | None:
    """The bureau the person logs for (StudyService decides the same way, and checks it again)."""
    regions = context.services.storage.regions
    if user.role is Role.COUNTY and user.region_code is not None:
        return await regions.get(user.region_code)
    if user.role is Role.CITY:
        return await regions.city()
    return None


async def _load(update: Update, context: BotContext) -> tuple[Caller, StudyDraft] | None:
    return await load_draft(update, context, StudyDraft, "study.lost")


async def start_study(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return ConversationHandler.END
    t, services = caller.t, context.services
    unit = await _unit(context, caller.user)
    if unit is None:
        await refuse_role(update, context, caller, "refusal.staff_only", "study")
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    await save_draft(context, caller, StudyDraft())
    record = await services.studies.record(unit)
    text = Html("\n".join([t("study.intro", unit=place_name(unit, t)), status_line(STUDY, record.status, t),
                           "", t("study.ask_date")]))
    await answer(update, text, reply_markup=day_keyboard("st", services.studies.today(), t))
    return PICKING_DATE


async def chose_day(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    caller, draft = loaded
    return await _dated(update, context, caller, draft.model_copy(
        update={"held_on": chosen_day(query.data, context.services.studies.today())}
    ))


async def typed_day(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return PICKING_DATE
    caller, draft = loaded
    today = context.services.studies.today()
    held_on = parse_day(message.text)
    problem = "calendar.guide_date" if held_on is None else day_problem(held_on, today)
    if problem is not None:
        await answer(update, caller.t(problem), reply_markup=day_keyboard("st", today, caller.t))
        return PICKING_DATE
    return await _dated(update, context, caller, draft.model_copy(update={"held_on": held_on}))


async def _dated(update: Update, context: BotContext, caller: Caller, draft: StudyDraft) -> str:
    await save_draft(context, caller, draft)
    await answer(update, caller.t("study.ask_topic"), reply_markup=cancel_keyboard("st", caller.t))
    return NAMING_TOPIC


async def named_topic(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return NAMING_TOPIC
    caller, draft = loaded
    topic = message.text.strip()
    if len(topic) < MIN_TOPIC:
        await answer(update, caller.t("refusal.topic_too_short", min=MIN_TOPIC))
        return NAMING_TOPIC
    if len(topic) > MAX_TEXT:
        await answer(update, caller.t("refusal.topic_too_long", max=MAX_TEXT))
        return NAMING_TOPIC
    await save_draft(context, caller, draft.model_copy(update={"topic": topic}))
    await answer(update, caller.t("study.ask_participants"), reply_markup=cancel_keyboard("st", caller.t))
    return COUNTING_PEOPLE


async def counted_people(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return COUNTING_PEOPLE
    caller, draft = loaded
    assert caller.user is not None
    t, services = caller.t, context.services
    count = parse_count(message.text)
    if count is None:
        await answer(update, t("calendar.guide_number"), reply_markup=cancel_keyboard("st", t))
        return COUNTING_PEOPLE
    if not 0 < count <= MAX_PARTICIPANTS:
        await answer(update, t("refusal.participants_invalid", max=MAX_PARTICIPANTS))
        return COUNTING_PEOPLE
    if draft.held_on is None or draft.topic is None:
        await drafts(context).delete(caller.user.telegram_id, StudyDraft)
        await answer(update, t("study.lost"))
        return ConversationHandler.END
    try:
        record = await services.studies.log(caller.user, draft.held_on, draft.topic, count)
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        if refusal.code.startswith("topic_"):
            await answer(update, t("study.ask_topic"), reply_markup=cancel_keyboard("st", t))
            return NAMING_TOPIC
        await drafts(context).delete(caller.user.telegram_id, StudyDraft)
        return ConversationHandler.END
    await drafts(context).delete(caller.user.telegram_id, StudyDraft)
    text = t("study.logged", unit=place_name(record.unit, t), day=draft.held_on.isoformat(), topic=draft.topic,
             participants=count)
    await answer(update, Html("\n".join([text, status_line(STUDY, record.status, t)])))
    return ConversationHandler.END


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "study.cancelled", lambda c, telegram_id: drafts(c).delete(telegram_id, StudyDraft)
    )


async def guided(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("study.guide_text"), reply_markup=cancel_keyboard("st", caller.t))


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    other = private & ~filters.COMMAND
    application.add_handler(
        ConversationHandler(
            name="study",
            persistent=True,
            entry_points=[
                CommandHandler("study", start_study, filters=private),
                CallbackQueryHandler(start_study, pattern=rf"^{ENTRY_STUDY}$"),
            ],
            states={
                PICKING_DATE: [
                    CallbackQueryHandler(chose_day, pattern=r"^st:day:(today|yesterday)$"),
                    MessageHandler(text, typed_day),
                ],
                NAMING_TOPIC: [MessageHandler(text, named_topic)],
                COUNTING_PEOPLE: [MessageHandler(text, counted_people)],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=r"^st:cancel$"),
                MessageHandler(other, guided),
            ],
            allow_reentry=True,
        )
    )
