"""/hazard CODE (and every Details button): a hazard's whole record; /deadline CODE: staff set a new deadline.

The dossier is what an inspector would ask for: the summary, every step of the history with who, when and why,
then the before and after photos, then the buttons for what the viewer may do now. Whoever may not see a hazard
gets the same answer as for a code that does not exist, so a guessed code reveals nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.check_backs import EVENT_CHECK_BACK, CheckBackAnswer
from bot.domain.days import NoSuchDay, names_year, parse_deadline
from bot.domain.deadlines import extended
from bot.domain.lifecycle import HazardAction
from bot.domain.roles import STAFF_ROLES
from bot.domain.text import clean_text, visible_length
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.hazard_core import FIX_ACTIONS
from bot.services.hazards import FOUR_EYES_WAIVED, HazardDossier
from handlers.common import (
    Caller,
    answer,
    cancel_journey,
    cancel_keyboard,
    identify,
    no_such_day,
    pressed,
    refused_text,
    typed,
)
from handlers.conversations import ASKED_AGAIN, ENDED_BY_A_COMMAND
from handlers.hazard_buttons import (
    DEADLINE,
    REASON_REFUSALS,
    VIEW,
    action_keyboard,
    ensure_allowed,
    extension_row,
    pattern,
    pressed_hazard,
    refuse,
)
from handlers.notify import hazard_params, when
from handlers.reason_step import ended_by_a_command
from storage.extension_models import ExtensionRequest
from storage.hazard_models import HazardEvent, HazardPhoto, PhotoKind
from storage.repositories.action_drafts import ActionDraft, ActionDraftRepository, Journey

log = logging.getLogger(__name__)

# Telegram allows 4096 characters a message; HTML tags count for nothing but leave room for them anyway.
MESSAGE_BUDGET = 3500
ALBUM_SIZE = 10

CHOOSING_DEADLINE, AWAITING_REASON = "deadline.choosing_deadline", "deadline.awaiting_reason"
# Characters that show in the reason for a new deadline (or for asking for one), as a withdrawal's reason.
MIN_DEADLINE_REASON = 2
DEADLINE_CANCEL = "dl:cancel"  # under every question of the step, and every answer that asks again
# Days offered as buttons, each with its own label so that every language can word its plural.
EXTENSIONS = ((1, "button.extend_1_day"), (3, "button.extend_3_days"), (7, "button.extend_7_days"))


# ---- the dossier ----------------------------------------------------------------------------------------


async def show_hazard(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    if not context.args:
        await answer(update, caller.t("dossier.usage"))
        return
    try:
        dossier = await context.services.hazards.view(caller.user, " ".join(context.args))
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params))
        return
    await send_dossier(update, context, caller, dossier)


async def pressed_details(update: Update, context: BotContext) -> None:
    press = await pressed_hazard(update, context)
    if press is None:
        return
    caller, user, query, hazard_id = press
    try:
        dossier = await context.services.hazards.view(user, hazard_id)
    except Refusal as refusal:
        await refuse(query, caller.t, refusal)
        return
    await query.answer()
    await send_dossier(update, context, caller, dossier)


async def send_dossier(update: Update, context: BotContext, caller: Caller, dossier: HazardDossier) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    t, tz = caller.t, context.services.settings.tz
    names = await _names(context, dossier.events)
    parts = [*_summary(dossier, t, tz), t("dossier.history_header")]
    parts += [_event(event, names, t, tz) for event in dossier.events]
    own = caller.user is not None and context.services.hazards.withdraws_as_reporter(caller.user, dossier.hazard)
    keyboard = action_keyboard(dossier.hazard, dossier.actions, t, details=False, fix=dossier.fix, own=own)
    if dossier.extension is not None:
        parts.insert(1, await _waiting_extension(context, dossier.extension, t))
        if HazardAction.CHANGE_DEADLINE in dossier.actions:  # whoever may change the deadline may decide it
            rows = [extension_row(dossier.extension.id, t), *(keyboard.inline_keyboard if keyboard else ())]
            keyboard = InlineKeyboardMarkup(rows)
    texts = _pack(parts)
    for text in texts[:-1]:
        await chat.send_message(text)
    hazard = dossier.hazard
    if not dossier.photos and (hazard.latitude is None or hazard.longitude is None):
        await chat.send_message(texts[-1], reply_markup=keyboard)
        return
    await chat.send_message(texts[-1])
    await _send_photos(chat, context, dossier, t)
    if hazard.latitude is not None and hazard.longitude is not None:
        # A pin opens in the reader's maps: staff going to verify on site find the place from it. The None keeps
        # Defaults' parse_mode out of the request: python-telegram-bot adds it to every message method, and
        # sendLocation has no such parameter.
        await chat.send_location(hazard.latitude, hazard.longitude, api_kwargs={"parse_mode": None})
    if keyboard is not None:
        await chat.send_message(t("dossier.actions_prompt", code=dossier.hazard.code), reply_markup=keyboard)


async def _waiting_extension(context: BotContext, request: ExtensionRequest, t: Translator) -> str:
    person = await context.services.storage.users.get(request.requested_by)
    tz = context.services.settings.tz
    return t(
        "dossier.extension_pending", name=person.full_name if person else str(request.requested_by),
        at=when(request.requested_at, tz, t), asked=when(request.requested_deadline, tz, t), reason=request.reason,
    )


def _summary(dossier: HazardDossier, t: Translator, tz: ZoneInfo) -> list[str]:
    """The summary, and the measures as a part of their own: each text may take MAX_TEXT characters, and the two
    in one part would be past what one message holds."""
    hazard = dossier.hazard
    p = hazard_params(hazard, dossier.institution, t, tz)
    lines = [t("dossier.summary", reported=when(hazard.reported_at, tz, t), **p)]
    if dossier.overdue:
        lines.append(t("dossier.overdue"))
    if hazard.address_text:
        lines.append(t("dossier.address", address=hazard.address_text))
    if hazard.latitude is not None and hazard.longitude is not None:
        lines.append(t("dossier.location", latitude=f"{hazard.latitude:.5f}", longitude=f"{hazard.longitude:.5f}"))
    if hazard.withdrawal_category is not None:
        category = t.plain(f"withdraw.category.{hazard.withdrawal_category}")
        lines.append(t("dossier.withdrawn", at=when(hazard.closed_at, tz, t), category=category,
                       reason=hazard.withdrawal_reason or "—"))
    elif hazard.closed_at is not None:
        closed = when(hazard.closed_at, tz, t)
        if hazard.closed_on_time is False:
            lines.append(t("dossier.closed_late", closed=closed))
        else:
            lines.append(t("dossier.closed_on_time", closed=closed))
    summary = "\n".join(lines)
    if not hazard.measures:
        return [summary]
    sent_back = _sent_back(dossier.events)
    if sent_back is None:
        return [summary, t("dossier.measures", **p)]
    # Rejected or reopened, and no new fix submitted since: what the row still holds is the earlier round's.
    return [summary, t(f"dossier.measures_earlier_{sent_back.action}", **p)]


_SENDS_BACK = (HazardAction.REJECT.value, HazardAction.REOPEN.value)


def _sent_back(events: Sequence[HazardEvent]) -> HazardEvent | None:
    """The rejection or reopening that sent the hazard's last fix back, when no fix has been submitted since."""
    for event in reversed(events):
        if event.action in FIX_ACTIONS:
            return None
        if event.action in _SENDS_BACK:
            return event
    return None


def _last_sent_back(events: Sequence[HazardEvent]) -> HazardEvent | None:
    """The newest rejection or reopening, whatever came after: the after-photos older than it belong to a fix
    that did not hold."""
    return next((event for event in reversed(events) if event.action in _SENDS_BACK), None)


async def _names(context: BotContext, events: Sequence[HazardEvent]) -> dict[int, str]:
    names: dict[int, str] = {}
    for actor_id in {event.actor_id for event in events if event.actor_id is not None}:
        user = await context.services.storage.users.get(actor_id)
        names[actor_id] = user.full_name if user is not None else str(actor_id)
    return names


def _event(event: HazardEvent, names: dict[int, str], t: Translator, tz: ZoneInfo) -> str:
    who = names.get(event.actor_id, "") if event.actor_id is not None else t.plain("dossier.system")
    if event.action == HazardAction.COMMENT.value:  # a remark changes nothing: who said what, and when
        return t("dossier.comment", at=when(event.at, tz, t), who=who, comment=event.note or "")
    if event.action == EVENT_CHECK_BACK:  # the reporter's answer, weeks after the closing (handlers.check_back)
        answer = t.plain(f"check_back.answer.{event.detail.get('answer', CheckBackAnswer.HOLDS.value)}")
        return t("dossier.check_back", at=when(event.at, tz, t), who=who, answer=answer)
    lines = [
        t(
            "dossier.event",
            at=when(event.at, tz, t),
            who=who,
            what=t.plain(f"event.{event.action}"),
            state=t.plain(f"state.{event.to_state.value}"),
        )
    ]
    if event.note:
        lines.append(t("dossier.event_note", note=event.note))
    if "previous_deadline" in event.detail or event.action == HazardAction.CHANGE_DEADLINE.value:
        previous, current = event.detail.get("previous_deadline"), event.detail.get("deadline")
        lines.append(t("dossier.event_deadline", previous=_detail_time(previous, tz, t),
                       deadline=_detail_time(current, tz, t)))
    if "requested_deadline" in event.detail:
        lines.append(t("dossier.event_extension_asked", asked=_detail_time(event.detail["requested_deadline"], tz, t)))
    if "extension_id" in event.detail and event.action == HazardAction.CHANGE_DEADLINE.value:
        lines.append(t("dossier.event_extension_approved"))
    if "on_time" in event.detail and event.action == HazardAction.ACCEPT.value:
        lines.append(t("dossier.event_on_time") if event.detail["on_time"] else t("dossier.event_late"))
    if event.detail.get(FOUR_EYES_WAIVED):
        lines.append(t("dossier.event_four_eyes_waived"))
    if event.detail.get("photos"):
        lines.append(t("dossier.event_photos", count=event.detail["photos"]))
    return "\n".join(lines)


def _detail_time(value: object, tz: ZoneInfo, t: Translator) -> str:
    # History details are JSON: times come back as ISO text.
    return when(datetime.fromisoformat(value) if isinstance(value, str) else None, tz, t)


def _pack(parts: Sequence[str]) -> list[str]:
    """Whole parts into as few messages as fit, so that no entry is ever cut in the middle of its markup."""
    messages: list[str] = []
    current = ""
    for part in parts:
        if current and len(current) + len(part) + 2 > MESSAGE_BUDGET:
            messages.append(current)
            current = part
        else:
            current = f"{current}\n\n{part}" if current else part
    messages.append(current)
    return messages


async def _send_photos(chat: Chat, context: BotContext, dossier: HazardDossier, t: Translator) -> None:
    before = [p for p in dossier.photos if p.kind is PhotoKind.BEFORE]
    after = [p for p in dossier.photos if p.kind is PhotoKind.AFTER]
    # After-photos of a fix that was rejected or reopened are not what the hazard looks like now: named so.
    back = _last_sent_back(dossier.events)
    earlier = [p for p in after if back is not None and p.event_id is not None and p.event_id < back.id]
    after = [p for p in after if p not in earlier]
    code = dossier.hazard.code
    captioned: list[tuple[HazardPhoto, str]] = []
    captioned += [(p, t("dossier.photo_before", code=code, n=i, total=len(before))) for i, p in enumerate(before, 1)]
    captioned += [(p, t("dossier.photo_after_earlier", code=code, n=i, total=len(earlier)))
                  for i, p in enumerate(earlier, 1)]
    captioned += [(p, t("dossier.photo_after", code=code, n=i, total=len(after))) for i, p in enumerate(after, 1)]
    for start in range(0, len(captioned), ALBUM_SIZE):
        chunk = captioned[start : start + ALBUM_SIZE]
        try:
            await _send_album(chat, chunk, from_store=None)
        except BadRequest:
            # Telegram may forget a file; the evidence store kept the bytes for exactly this.
            log.info("resending photos of %s from the evidence store", code)
            await _send_album(chat, chunk, from_store=context)


async def _send_album(
    chat: Chat, chunk: Sequence[tuple[HazardPhoto, str]], *, from_store: BotContext | None
) -> None:
    def source(photo: HazardPhoto) -> str | bytes:
        return photo.file_id if from_store is None else from_store.services.evidence.read(photo.sha256)

    if len(chunk) == 1:
        photo, caption = chunk[0]
        await chat.send_photo(source(photo), caption=caption)
        return
    await chat.send_media_group([InputMediaPhoto(source(photo), caption=caption) for photo, caption in chunk])


# ---- /deadline ------------------------------------------------------------------------------------------


def _drafts(context: BotContext) -> ActionDraftRepository:
    return context.services.storage.action_drafts


def _extension_keyboard(t: Translator) -> InlineKeyboardMarkup:
    extensions = [
        InlineKeyboardButton(t.plain(label_key), callback_data=f"dl:days:{days}") for days, label_key in EXTENSIONS
    ]
    cancel = InlineKeyboardButton(t.plain("button.cancel"), callback_data=DEADLINE_CANCEL)
    return InlineKeyboardMarkup([extensions, [cancel]])


async def start_deadline(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return ConversationHandler.END
    if caller.user.role not in STAFF_ROLES:
        await context.services.storage.audit.append(
            caller.user.telegram_id, "authz.refused", detail={"command": "deadline", "reason": "staff_only"}
        )
        await answer(update, caller.t("refusal.staff_only"))
        return ConversationHandler.END
    if not context.args:
        await answer(update, caller.t("deadline.usage"))
        return ConversationHandler.END
    try:
        dossier = await context.services.hazards.view(caller.user, " ".join(context.args))
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params))
        return ConversationHandler.END
    return await _ask_deadline(update, context, caller, dossier.hazard.id)


async def pressed_change_deadline(update: Update, context: BotContext) -> str | int:
    press = await pressed_hazard(update, context)
    if press is None:
        return ConversationHandler.END
    caller, _, _, hazard_id = press
    return await _ask_deadline(update, context, caller, hazard_id)


async def _ask_deadline(update: Update, context: BotContext, caller: Caller, hazard_id: int) -> str | int:
    assert caller.user is not None
    hazards, t = context.services.hazards, caller.t
    try:
        await ensure_allowed(hazards, caller.user, hazard_id, HazardAction.CHANGE_DEADLINE)
        dossier = await hazards.view(caller.user, hazard_id)
    except Refusal as refusal:
        if update.callback_query is not None:
            await refuse(update.callback_query, t, refusal)
        else:
            await answer(update, t(refusal.message_key, **refusal.params))
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    now = context.services.clock.now()
    await _drafts(context).save(caller.user.telegram_id, Journey.DEADLINE, ActionDraft(hazard_id=hazard_id), now)
    tz = context.services.settings.tz
    text = t("deadline.ask", code=dossier.hazard.code, deadline=when(dossier.hazard.deadline, tz, t))
    await answer(update, text, reply_markup=_extension_keyboard(t))
    return CHOOSING_DEADLINE


async def deadline_asked_again(update: Update, context: BotContext, caller: Caller, step: object) -> bool:
    """The step's question again, with its buttons (after /lang, in the new language): the new deadline, or the
    reason for the one chosen. False when the draft is gone, or the person may no longer see the hazard."""
    if caller.user is None:
        return False
    draft = await _drafts(context).get(caller.user.telegram_id, Journey.DEADLINE)
    if draft is None:
        return False
    t, tz = caller.t, context.services.settings.tz
    if step == AWAITING_REASON and draft.deadline is not None:
        text = t("deadline.ask_reason", deadline=when(draft.deadline, tz, t))
        await answer(update, text, reply_markup=cancel_keyboard(t, DEADLINE_CANCEL))
        return True
    try:
        hazard = (await context.services.hazards.view(caller.user, draft.hazard_id)).hazard
    except Refusal:
        return False
    await answer(update, t("deadline.ask", code=hazard.code, deadline=when(hazard.deadline, tz, t)),
                 reply_markup=_extension_keyboard(t))
    return True


async def chose_extension(update: Update, context: BotContext) -> str | int:
    press = await pressed(update, context)
    if press is None:
        return ConversationHandler.END
    caller, user, query = press.caller, press.user, press.query
    await query.answer()
    draft = await _drafts(context).get(user.telegram_id, Journey.DEADLINE)
    if draft is None:
        await answer(update, caller.t("fallback.stale_button"))
        return ConversationHandler.END
    try:
        hazard = (await context.services.hazards.view(user, draft.hazard_id)).hazard
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params))
        return ConversationHandler.END
    days = int((query.data or "dl:days:1").rsplit(":", 1)[1])
    new_deadline = extended(hazard.deadline, context.services.clock.now(), days)
    return await _chose(update, context, caller, draft, new_deadline)


async def typed_deadline(update: Update, context: BotContext, *, corrected: bool = False) -> str | int:
    """A deadline typed at the date step, or (`corrected`) at the reason step, where it replaces the date chosen."""
    sent = await typed(update, context)
    if sent is None or sent.message.text is None:
        return ConversationHandler.END
    caller, user, text = sent.caller, sent.user, sent.message.text
    draft = await _drafts(context).get(user.telegram_id, Journey.DEADLINE)
    if draft is None:
        await answer(update, caller.t("fallback.stale_button"))
        return ConversationHandler.END
    deadline = typed_deadline_of(text, context)
    if deadline is None or isinstance(deadline, NoSuchDay):
        said = caller.t("deadline.bad_date") if deadline is None else no_such_day(deadline, caller.t)
        await answer(update, said, reply_markup=_extension_keyboard(caller.t))
        return CHOOSING_DEADLINE
    if deadline <= context.services.clock.now():
        await answer(update, caller.t("refusal.deadline_in_past"), reply_markup=_extension_keyboard(caller.t))
        return CHOOSING_DEADLINE
    return await _chose(update, context, caller, draft, deadline, typed_text=text, corrected=corrected)


def typed_deadline_of(text: str, context: BotContext) -> datetime | NoSuchDay | None:
    """The deadline typed at a deadline step (`/deadline`, asking for more time), read against the local today;
    `NoSuchDay` for a day that does not exist (9月31日), which a reason step also takes as a (wrong) date."""
    tz = context.services.settings.tz
    return parse_deadline(text, context.services.clock.now().astimezone(tz).date(), tz)


def deadline_shown(deadline: datetime, typed_text: str | None, context: BotContext, t: Translator) -> str:
    """The deadline as it is said back; a day typed without its year that was taken in the next year says so."""
    tz = context.services.settings.tz
    shown = when(deadline, tz, t)
    this_year = context.services.clock.now().astimezone(tz).year
    if typed_text is not None and not names_year(typed_text) and deadline.astimezone(tz).year > this_year:
        shown += t.plain("deadline.next_year")
    return shown


def reason_too_short(text: str | None) -> bool:
    """A reason that shows, but too little of it (nothing that shows is "please give a reason", as before)."""
    return 0 < visible_length(clean_text(text)) < MIN_DEADLINE_REASON


async def _chose(
    update: Update, context: BotContext, caller: Caller, draft: ActionDraft, deadline: datetime, *,
    typed_text: str | None = None, corrected: bool = False,
) -> str:
    assert caller.user is not None
    services = context.services
    await _drafts(context).save(
        caller.user.telegram_id, Journey.DEADLINE, draft.model_copy(update={"deadline": deadline}), services.clock.now()
    )
    key = "deadline.ask_reason_corrected" if corrected else "deadline.ask_reason"
    text = caller.t(key, deadline=deadline_shown(deadline, typed_text, context, caller.t))
    await answer(update, text, reply_markup=cancel_keyboard(caller.t, DEADLINE_CANCEL))
    return AWAITING_REASON


async def gave_reason(update: Update, context: BotContext) -> str | int:
    sent = await typed(update, context)
    if sent is None:
        return ConversationHandler.END
    services, t, user, message = context.services, sent.t, sent.user, sent.message
    drafts = _drafts(context)
    draft = await drafts.get(user.telegram_id, Journey.DEADLINE)
    if draft is None or draft.deadline is None:
        await answer(update, t("fallback.stale_button"))
        return ConversationHandler.END
    if message.text is not None and typed_deadline_of(message.text, context) is not None:
        # A date typed where the reason is asked corrects the date (a clerk's "Sep 20" after "tomorrow"): it is never
        # taken as the reason, which would apply the date they meant to replace.
        return await typed_deadline(update, context, corrected=True)
    if reason_too_short(message.text):
        await answer(update, t("refusal.deadline_reason_too_short", min=MIN_DEADLINE_REASON),
                     reply_markup=cancel_keyboard(t, DEADLINE_CANCEL))
        return AWAITING_REASON
    try:
        async with services.storage.db.transaction():  # the change and the end of its draft, or neither
            outcome = await services.hazards.act(
                user, draft.hazard_id, HazardAction.CHANGE_DEADLINE, deadline=draft.deadline,
                reason=message.text,
            )
            await drafts.delete(user.telegram_id, Journey.DEADLINE)
    except Refusal as refusal:
        if await refused_text(update, t, refusal, type_again=REASON_REFUSALS, cancel_data=DEADLINE_CANCEL):
            return AWAITING_REASON
        if refusal.code == "deadline_in_past":
            await answer(update, t("deadline.ask_again"), reply_markup=_extension_keyboard(t))
            return CHOOSING_DEADLINE
        await drafts.delete(user.telegram_id, Journey.DEADLINE)
        return ConversationHandler.END
    tz = services.settings.tz
    hazard = outcome.hazard
    previous = outcome.event.detail.get("previous_deadline") if outcome.event is not None else None
    text = t(
        "deadline.changed",
        code=hazard.code,
        previous=_detail_time(previous, tz, t),
        deadline=when(hazard.deadline, tz, t),
        reason=clean_text(message.text),
    )
    await answer(update, text)
    return ConversationHandler.END


async def deadline_needs_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("deadline.need_text"), reply_markup=cancel_keyboard(caller.t, DEADLINE_CANCEL))


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "cancel.done", lambda c, telegram_id: _drafts(c).delete(telegram_id, Journey.DEADLINE)
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    # The change is two quick answers, so asking it again costs less than a deadline changed by mistake.
    ENDED_BY_A_COMMAND["deadline"] = ended_by_a_command(Journey.DEADLINE, "deadline.put_aside")
    ASKED_AGAIN["deadline"] = deadline_asked_again
    application.add_handler(CommandHandler("hazard", show_hazard, filters=private))
    application.add_handler(CallbackQueryHandler(pressed_details, pattern=pattern(VIEW)))
    text = private & filters.TEXT & ~filters.COMMAND
    application.add_handler(
        ConversationHandler(
            name="deadline",
            persistent=True,
            entry_points=[
                CommandHandler("deadline", start_deadline, filters=private),
                CallbackQueryHandler(pressed_change_deadline, pattern=pattern(DEADLINE)),
            ],
            states={
                CHOOSING_DEADLINE: [
                    CallbackQueryHandler(chose_extension, pattern=r"^dl:days:\d+$"),
                    MessageHandler(text, typed_deadline),
                ],
                AWAITING_REASON: [MessageHandler(text, gave_reason)],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=f"^{DEADLINE_CANCEL}$"),
                MessageHandler(private & ~filters.COMMAND, deadline_needs_text),
            ],
            allow_reentry=True,
        )
    )
