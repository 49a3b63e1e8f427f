"""📝 报告落实情况: a head tells what they did under a warning, as evidence on its checklist (SafetyCulture's action
with its evidence): the relief station's night patrol and the people it helped, the funeral home's vehicles checked
and drivers briefed and logged. The step shows the warning's checklist for their institution as the prompt, takes a
few sentences and, if they like, photos (kept in the evidence store as every evidence photo is), and records it with
its time. Several reports per warning: a patrol each night.

Two ways in: the button under their copy of the warning (beside ✅ 已收到并落实), and a text typed while a warning to
them is in force that no journey took ("今天下午已完成夏送清凉街面巡查，救助流浪人员3人"): it is offered as the report,
one tap to record it, one to say it is not (then the usual hint). The offered text waits in SQLite (action_drafts),
as the journey's draft does, so a restart between the text and the tap loses nothing.

Staff are not paged per report: /warnstatus shows the latest and the count per institution, and the export lists
them. Help needed is what 🆘 is for.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict, Field
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.domain.text import clean_text, is_blank, visible_length
from bot.domain.warnings import EarlyWarning, looks_like_receipt
from bot.i18n import Translator, clipped, counted
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_PHOTOS
from bot.services.warning_reports import MIN_REPORT, ReportOutcome, report_text
from handlers.common import Caller, answer, cancel_journey, identify, refuse_press
from handlers.evidence import keep_photo, photo_step_hint
from handlers.photo_offer import fixable
from handlers.warning_ack import mark_delivered
from handlers.warning_outbox import delivered_copy
from handlers.warning_text import REPORT, help_only_keyboard, local_time, merged_checklist, title
from storage.hazard_models import PhotoRef
from storage.repositories.action_drafts import Journey, drop_draft, read_draft, write_draft

AWAITING_TEXT, AWAITING_PHOTOS = "warning_report.awaiting_text", "warning_report.awaiting_photos"
CANCEL, DONE = "wr:cancel", "wr:done"
OFFER_TAKE, OFFER_DECLINE = "wr:take:", "wr:no:"
# 📝 记为落实情况 names the text it offered (`_text_mark`): a head who typed twice under one warning has one offer
# waiting, the second, and the first message's button must not record the second text as if it were the first.
TAKE_PRESS = re.compile(rf"^{OFFER_TAKE}(\d{{1,19}})(?::([0-9a-f]{{8}}))?$")
NEW_PRESS = re.compile(rf"^{REPORT}:(\d{{1,19}})$")
# A press naming a warning not theirs to report on: forged or misplaced, audited as such. An ended warning is not.
AUTHZ_REFUSALS = frozenset({"warning_not_recipient"})
# Refusals the head puts right by typing the report again.
TYPE_AGAIN = frozenset({"warning_report_too_short", "warning_report_too_long", "classified"})
# How much of an offered text the question quotes back.
QUOTED = 200


class ReportDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    warning_id: int
    text: str | None = None
    photos: list[PhotoRef] = Field(default_factory=list)
    album: str | None = None  # the album whose photos are arriving: said once, not once a page


class OfferedReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    warning_id: int
    text: str


async def _load(context: BotContext, telegram_id: int) -> ReportDraft | None:
    return await read_draft(context.services.storage.db, telegram_id, Journey.WARNING_REPORT, ReportDraft)


async def _save(context: BotContext, telegram_id: int, draft: ReportDraft) -> None:
    await write_draft(context.services.storage.db, telegram_id, Journey.WARNING_REPORT, draft,
                      context.services.clock.now())


def _photos_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t.plain("wreport.button_submit"), callback_data=DONE),
        InlineKeyboardButton(t.plain("button.cancel"), callback_data=CANCEL),
    ]])


def _cancel_only(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("button.cancel"), callback_data=CANCEL)]])


async def _prompt(context: BotContext, warning: EarlyWarning, institutions: tuple[int, ...], t: Translator) -> str:
    """The question, with the warning's checklist for the head's institutions: what to report on."""
    services = context.services
    lists = [services.warnings.checklist(warning.kind, await services.storage.institutions.get(place))
             for place in institutions]
    items = merged_checklist(lists)
    lines = [t("wreport.ask", title=title(warning, t))]
    if items:
        lines.append(t("wreport.ask_checklist"))
        lines += [t("warn.checklist_item", text=item.zh if t.language == "zh_CN" else item.en) for item in items]
    lines.append(t("wreport.ask_how"))
    return "\n".join(lines)


# ---- the journey ----------------------------------------------------------------------------------------------


async def chose_report(update: Update, context: BotContext) -> str | int:
    """📝 报告落实情况 under the head's copy of the warning (or its reminder)."""
    query = update.callback_query
    caller = await identify(update, context)
    match = NEW_PRESS.match(query.data or "") if query is not None else None
    if query is None or caller is None or caller.user is None or match is None:
        return ConversationHandler.END
    try:
        scope = await context.services.warnings.report_scope(caller.user, int(match.group(1)))
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        return ConversationHandler.END
    await query.answer()
    await _save(context, caller.user.telegram_id, ReportDraft(warning_id=scope.warning.id))
    text = await _prompt(context, scope.warning, scope.institutions, caller.t)
    await answer(update, text, reply_markup=_cancel_only(caller.t))
    return AWAITING_TEXT


async def _draft_or_end(update: Update, context: BotContext, caller: Caller) -> ReportDraft | None:
    assert caller.user is not None
    draft = await _load(context, caller.user.telegram_id)
    if draft is None:
        await answer(update, caller.t("wreport.lost"))
    return draft


async def typed_report(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    draft = await _draft_or_end(update, context, caller)
    if draft is None:
        return ConversationHandler.END
    return await _take_text(update, context, caller, draft, message.text or message.caption)


async def _take_text(update: Update, context: BotContext, caller: Caller, draft: ReportDraft,
                     text: str | None) -> str:
    assert caller.user is not None
    t = caller.t
    try:
        words = report_text(text)
    except Refusal as refusal:
        if refusal.code not in TYPE_AGAIN:
            raise
        await _save(context, caller.user.telegram_id, draft)
        await answer(update, t(refusal.message_key, **refusal.params), reply_markup=_cancel_only(t))
        return AWAITING_TEXT
    draft = draft.model_copy(update={"text": words})
    await _save(context, caller.user.telegram_id, draft)
    count = len(draft.photos)
    key = counted("wreport.ask_photos_kept", count) if count else "wreport.ask_photos"
    await answer(update, t(key, count=count, max=MAX_PHOTOS), reply_markup=_photos_keyboard(t))
    return AWAITING_PHOTOS


async def photo_instead_of_text(update: Update, context: BotContext) -> str | int:
    """A photo first: kept; its caption, if any, is the report's words, else the words are asked for."""
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    draft = await _draft_or_end(update, context, caller)
    if draft is None:
        return ConversationHandler.END
    same_album = message.media_group_id is not None and message.media_group_id == draft.album
    draft = await _with_photo(message, context, draft)
    if not is_blank(clean_text(message.caption)):
        return await _take_text(update, context, caller, draft, message.caption)
    await _save(context, caller.user.telegram_id, draft)
    if not same_album:  # an album's pages are said once, at its first
        await answer(update, caller.t("wreport.photo_before_text", count=len(draft.photos)),
                     reply_markup=_cancel_only(caller.t))
    return AWAITING_TEXT


async def received_photo(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    draft = await _draft_or_end(update, context, caller)
    if draft is None:
        return ConversationHandler.END
    t = caller.t
    if len(draft.photos) >= MAX_PHOTOS:
        if message.media_group_id is None or message.media_group_id != draft.album:
            await answer(update, t("refusal.too_many_photos", max=MAX_PHOTOS), reply_markup=_photos_keyboard(t))
        return AWAITING_PHOTOS
    same_album = message.media_group_id is not None and message.media_group_id == draft.album
    draft = await _with_photo(message, context, draft)
    await _save(context, caller.user.telegram_id, draft)
    if not same_album:  # an album's pages are said once, at its first
        key = "wreport.album_received" if message.media_group_id else "wreport.photo_received"
        await answer(update, t(key, count=len(draft.photos), max=MAX_PHOTOS), reply_markup=_photos_keyboard(t))
    return AWAITING_PHOTOS


async def _with_photo(message: Message, context: BotContext, draft: ReportDraft) -> ReportDraft:
    if len(draft.photos) >= MAX_PHOTOS:
        return draft
    photo = await keep_photo(message, context)
    if photo is None:
        return draft
    return draft.model_copy(update={"photos": [*draft.photos, photo], "album": message.media_group_id})


async def other_instead_of_text(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("wreport.need_text", min=MIN_REPORT), reply_markup=_cancel_only(caller.t))


async def other_instead_of_photo(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        hint = photo_step_hint(update.effective_message, "wreport.need_photo")
        await answer(update, caller.t(hint), reply_markup=_photos_keyboard(caller.t))


async def pressed_done(update: Update, context: BotContext) -> str | int:
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None or caller.user is None:
        return ConversationHandler.END
    t, user = caller.t, caller.user
    draft = await _load(context, user.telegram_id)
    if draft is None or draft.text is None:
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return ConversationHandler.END
    services = context.services
    try:
        async with services.storage.db.transaction():  # the report and the end of its draft, or neither
            outcome = await services.warnings.add_report(user, draft.warning_id, draft.text, draft.photos)
            await drop_draft(services.storage.db, user.telegram_id, Journey.WARNING_REPORT)
    except Refusal as refusal:
        await query.answer()
        await drop_draft(services.storage.db, user.telegram_id, Journey.WARNING_REPORT)
        await answer(update, t(refusal.message_key, **refusal.params), edit=True)
        return ConversationHandler.END
    await query.answer()
    await answer(update, _recorded(context, outcome, len(draft.photos), t), edit=True)
    await _mark_the_warning(context, outcome, query.message.chat_id if isinstance(query.message, Message) else None,
                            t)
    return ConversationHandler.END


def _recorded(context: BotContext, outcome: ReportOutcome, photos: int, t: Translator) -> str:
    at = local_time(outcome.reports[0].at, context.services.settings.tz)
    text = t(counted("wreport.recorded", photos), title=title(outcome.warning, t), at=at, number=outcome.count,
             count=photos)
    if outcome.answered:
        text += "\n" + t("wreport.counted_as_answer")
    return text


async def _mark_the_warning(context: BotContext, outcome: ReportOutcome, chat_id: int | None,
                            t: Translator) -> None:
    """A first report is the head's 已收到并落实: their copy of the warning says so, as a press of ✅ would leave it
    (best effort, as every edit of a delivered copy)."""
    if not outcome.answered or chat_id is None:
        return
    services = context.services
    copy = await delivered_copy(services, outcome.warning, chat_id)
    if copy is None:
        return
    line = t("warn.state_received", at=local_time(outcome.reports[0].at, services.settings.tz))
    await mark_delivered(context, copy, line, help_only_keyboard(outcome.warning.id, t))


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "wreport.cancelled",
        lambda c, telegram_id: drop_draft(c.services.storage.db, telegram_id, Journey.WARNING_REPORT),
    )


# ---- a typed text offered as the report -----------------------------------------------------------------------


async def offer_typed(update: Update, context: BotContext, caller: Caller, text: str) -> bool:
    """Text no journey took, from a head with a warning in force: ask whether it is what they did under it. False
    (nothing said) when there is no such warning or the text is too short to be a report."""
    if caller.user is None or visible_length(clean_text(text)) < MIN_REPORT or looks_like_receipt(text):
        return False  # 好的收到了 after answering is no report of what was done
    services = context.services
    warning = await services.warnings.newest_reportable(caller.user.telegram_id)
    if warning is None:
        return False
    try:
        words = report_text(text)
    except Refusal:
        return False
    await write_draft(services.storage.db, caller.user.telegram_id, Journey.WARNING_REPORT_OFFER,
                      OfferedReport(warning_id=warning.id, text=words), services.clock.now())
    t = caller.t
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(t.plain("wreport.button_take"),
                             callback_data=f"{OFFER_TAKE}{warning.id}:{_text_mark(words)}"),
        InlineKeyboardButton(t.plain("wreport.button_not"), callback_data=f"{OFFER_DECLINE}{warning.id}"),
    ]])
    await answer(update, t("wreport.offer", title=title(warning, t), text=clipped(words, QUOTED)),
                 reply_markup=keyboard)
    return True


def _text_mark(text: str) -> str:
    """A short fingerprint of an offered text, carried by its 📝 button (never the text: callback data is 64 bytes)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


async def _offered(
    context: BotContext, caller: Caller, warning_id: int, mark: str | None = None
) -> OfferedReport | None:
    """The offer waiting, if it is the one pressed: of this warning, and (`mark`, from the button) of this text. A
    button without a mark (sent before it had one) is taken as of the warning alone."""
    assert caller.user is not None
    offer = await read_draft(context.services.storage.db, caller.user.telegram_id, Journey.WARNING_REPORT_OFFER,
                             OfferedReport)
    if offer is None or offer.warning_id != warning_id:
        return None
    return offer if mark is None or _text_mark(offer.text) == mark else None


async def took_offer(update: Update, context: BotContext) -> None:
    """记为落实情况: the offered text is recorded as the report, as the journey's would be."""
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None or caller.user is None or query.data is None:
        return
    t, services, user = caller.t, context.services, caller.user
    match = TAKE_PRESS.match(query.data)
    if match is None:
        return
    warning_id = int(match.group(1))
    offer = await _offered(context, caller, warning_id, match.group(2))
    if offer is None:
        try:  # a forged press names a warning not theirs: refused and audited as one, whatever the draft
            await services.warnings.report_scope(user, warning_id)
        except Refusal as refusal:
            await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
            return
        await query.answer(t.plain("wreport.offer_gone"), show_alert=True)
        return
    try:
        async with services.storage.db.transaction():
            outcome = await services.warnings.add_report(user, warning_id, offer.text)
            await drop_draft(services.storage.db, user.telegram_id, Journey.WARNING_REPORT_OFFER)
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        if refusal.code not in AUTHZ_REFUSALS:
            await drop_draft(services.storage.db, user.telegram_id, Journey.WARNING_REPORT_OFFER)
            await answer(update, t(refusal.message_key, **refusal.params), edit=True)
        return
    await query.answer()
    await answer(update, _recorded(context, outcome, 0, t) + "\n" + t("wreport.add_photos_later"), edit=True)
    await _mark_the_warning(context, outcome, query.message.chat_id if isinstance(query.message, Message) else None,
                            t)


async def declined_offer(update: Update, context: BotContext) -> None:
    """不是: the text was about something else; the hint it would have had follows (how to submit a fix, for a head
    with hazards to correct; else how to report one)."""
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None or caller.user is None:
        return
    await query.answer()
    await drop_draft(context.services.storage.db, caller.user.telegram_id, Journey.WARNING_REPORT_OFFER)
    hint = "fallback.hint_rectify" if await fixable(context, caller.user) else "fallback.hint_report"
    await answer(update, caller.t("wreport.offer_declined") + "\n" + caller.t(hint), edit=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    anything_else = private & ~filters.COMMAND
    application.add_handler(CallbackQueryHandler(took_offer, pattern=TAKE_PRESS))
    application.add_handler(CallbackQueryHandler(declined_offer, pattern=rf"^{OFFER_DECLINE}\d{{1,19}}$"))
    application.add_handler(
        ConversationHandler(
            name="warning_report",
            persistent=True,
            entry_points=[CallbackQueryHandler(chose_report, pattern=NEW_PRESS)],
            states={
                AWAITING_TEXT: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, typed_report),
                    MessageHandler(private & filters.PHOTO, photo_instead_of_text),
                    MessageHandler(anything_else, other_instead_of_text),
                ],
                AWAITING_PHOTOS: [
                    MessageHandler(private & filters.PHOTO, received_photo),
                    CallbackQueryHandler(pressed_done, pattern=rf"^{DONE}$"),
                    MessageHandler(anything_else, other_instead_of_photo),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=rf"^{CANCEL}$"),
            ],
            allow_reentry=True,
        )
    )
