"""Log a safety study session (/study, county staff and city admins): date → topic → participants → logged, with the
unit's half-year standing. County staff log for their county's bureau, city admins for the city bureau.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import Html, clipped, counted
from bot.services.calendar import MAX_PARTICIPANTS
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_TEXT
from handlers import calendar_common as calendar
from handlers.common import Caller, answer, cancel_journey, cancel_keyboard, identify, is_private, place_name, read_text
from handlers.resume import RESUMING, Resumable, Unfinished, resumable
from storage.models import Region, User
from storage.repositories.calendar_drafts import StudyDraft

PICKING_DATE = "study.picking_date"
NAMING_TOPIC = "study.naming_topic"
COUNTING_PEOPLE = "study.counting_people"
MIN_TOPIC = 2
REDATE = "st:redate"  # back from the topic question to the date


async def _unit(context: BotContext, user: User) -> Region | None:
    """The bureau the person logs for (StudyService decides the same way, and checks it again)."""
    regions = context.services.storage.regions
    if user.role is Role.COUNTY and user.region_code is not None:
        return await regions.get(user.region_code)
    if user.role is Role.CITY:
        return await regions.city()
    return None


async def _load(update: Update, context: BotContext) -> tuple[Caller, StudyDraft] | None:
    return await calendar.load_draft(update, context, StudyDraft, "study.lost")


async def start_study(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return ConversationHandler.END
    unit = await _unit(context, caller.user)
    if unit is None:
        await calendar.refuse_role(update, context, caller, "refusal.staff_only", "study")
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    asked = await UNFINISHED.offer(update, context, caller)
    return asked if asked is not None else await _afresh(update, context, caller)


async def _afresh(update: Update, context: BotContext, caller: Caller) -> str | int:
    assert caller.user is not None
    t, services = caller.t, context.services
    unit = await _unit(context, caller.user)
    if unit is None:
        return ConversationHandler.END
    await calendar.save_draft(context, caller, StudyDraft())
    record = await services.studies.record(unit)
    standing = calendar.status_line(calendar.STUDY, record.status, t)
    text = Html("\n".join([t("study.intro", unit=place_name(unit, t)), standing, "", t("study.ask_date")]))
    await answer(update, text, reply_markup=calendar.day_keyboard("st", services.studies.today(), t))
    return PICKING_DATE


async def _unfinished(context: BotContext, caller: Caller) -> Unfinished | None:
    """The person's study draft, once its date is given (the first answer; the topic follows it)."""
    assert caller.user is not None
    draft = await calendar.drafts(context).get(caller.user.telegram_id, StudyDraft)
    if draft is None or draft.held_on is None:
        return None
    t = caller.t
    parts = [draft.held_on.isoformat(), clipped(draft.topic, 20) if draft.topic else None]
    brief = t.plain("resume.separator").join(part for part in parts if part is not None)
    if draft.topic is None:
        return Unfinished(step=NAMING_TOPIC, number=2, brief=brief)
    return Unfinished(step=COUNTING_PEOPLE, number=3, brief=brief)


async def _carry_on(update: Update, context: BotContext, caller: Caller, step: str) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    draft = loaded[1]
    if step == COUNTING_PEOPLE:
        return await _ask_participants(update, caller)
    return await _dated(update, context, caller, draft)


UNFINISHED = resumable(Resumable("study", _unfinished, _carry_on, _afresh))


async def chose_day(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    caller, draft = loaded
    held_on = await calendar.pressed_day(update, caller, query.data, "st", context.services.studies.today())
    if held_on is None:
        return PICKING_DATE
    return await _dated(update, context, caller, draft.model_copy(update={"held_on": held_on}))


async def typed_day(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return PICKING_DATE
    caller, draft = loaded
    held_on = await calendar.read_day(update, caller, message.text, "st", context.services.studies.today())
    if held_on is None:
        return PICKING_DATE
    return await _dated(update, context, caller, draft.model_copy(update={"held_on": held_on}))


async def _dated(update: Update, context: BotContext, caller: Caller, draft: StudyDraft) -> str:
    """The date as read said back, with a way back to it (a typed 12月5日 may have been read as last year's), then
    the topic asked."""
    await calendar.save_draft(context, caller, draft)
    t = caller.t
    read = draft.held_on.isoformat() if draft.held_on is not None else "—"
    if draft.held_on is not None and draft.held_on.year < context.services.studies.today().year:
        read += t.plain("drill.date_last_year")
    redate = InlineKeyboardButton(t.plain("button.drill_redate"), callback_data=REDATE)
    cancel = InlineKeyboardButton(t.plain("button.cancel"), callback_data="st:cancel")
    await answer(update, t("study.ask_topic_dated", day=read), reply_markup=InlineKeyboardMarkup([[redate, cancel]]))
    return NAMING_TOPIC


async def redate(update: Update, context: BotContext) -> str | int:
    """↩ under the topic question: the date again (the one read may not be the one meant)."""
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None:
        return ConversationHandler.END
    await query.answer()
    caller, draft = loaded
    await calendar.save_draft(context, caller, draft.model_copy(update={"held_on": None}))
    today = context.services.studies.today()
    await answer(update, caller.t("study.ask_date"), reply_markup=calendar.day_keyboard("st", today, caller.t))
    return PICKING_DATE


async def named_topic(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return NAMING_TOPIC
    caller, draft = loaded
    topic = await read_text(update, caller, message.text, least=MIN_TOPIC, most=MAX_TEXT,
                            too_short="refusal.topic_too_short", too_long="refusal.topic_too_long",
                            cancel_data="st:cancel")
    if topic is None:
        return NAMING_TOPIC
    await calendar.save_draft(context, caller, draft.model_copy(update={"topic": topic}))
    return await _ask_participants(update, caller)


async def _ask_participants(update: Update, caller: Caller) -> str:
    await answer(update, caller.t("study.ask_participants"), reply_markup=cancel_keyboard(caller.t, "st:cancel"))
    return COUNTING_PEOPLE


async def counted_people(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return COUNTING_PEOPLE
    caller, draft = loaded
    assert caller.user is not None
    t, services = caller.t, context.services
    count = await calendar.read_count(update, caller, message.text, "st", guide="calendar.guide_number",
                             refusal="refusal.participants_invalid", most=MAX_PARTICIPANTS)
    if count is None:
        return COUNTING_PEOPLE
    if draft.held_on is None or draft.topic is None:
        await calendar.drafts(context).delete(caller.user.telegram_id, StudyDraft)
        await answer(update, t("study.lost"))
        return ConversationHandler.END
    try:
        async with services.storage.db.transaction():  # the record and the end of its draft, or neither
            record = await services.studies.log(caller.user, draft.held_on, draft.topic, count)
            await calendar.drafts(context).delete(caller.user.telegram_id, StudyDraft)
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        if refusal.code.startswith("topic_"):
            await answer(update, t("study.ask_topic"), reply_markup=cancel_keyboard(t, "st:cancel"))
            return NAMING_TOPIC
        await calendar.drafts(context).delete(caller.user.telegram_id, StudyDraft)
        return ConversationHandler.END
    text = t(counted("study.logged", count), unit=place_name(record.unit, t), day=draft.held_on.isoformat(),
             topic=draft.topic, participants=count)
    await answer(update, Html("\n".join([text, calendar.status_line(calendar.STUDY, record.status, t)])))
    return ConversationHandler.END


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "study.cancelled", lambda c, telegram_id: calendar.drafts(c).delete(telegram_id, StudyDraft)
    )


async def guided(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("study.guide_text"), reply_markup=cancel_keyboard(caller.t, "st:cancel"))


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
                CallbackQueryHandler(start_study, pattern=rf"^{calendar.ENTRY_STUDY}$"),
            ],
            states={
                RESUMING: UNFINISHED.handlers(),
                PICKING_DATE: [
                    CallbackQueryHandler(chose_day, pattern=calendar.day_pattern("st")),
                    MessageHandler(text, typed_day),
                ],
                NAMING_TOPIC: [
                    CallbackQueryHandler(redate, pattern=f"^{REDATE}$"),
                    MessageHandler(text, named_topic),
                ],
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
