"""📝 报告落实情况: a head tells what they did under a warning, as evidence on its checklist (SafetyCulture's action
with its evidence): the relief station's night patrol and the people it helped, the funeral home's vehicles checked
and drivers briefed and logged. The step shows the warning's checklist for their institution as the prompt, takes a
few sentences and, if they like, photos (kept in the evidence store as every evidence photo is), and records it with
its time. Several reports per warning: a patrol each night.

Two ways in: the button under their copy of the warning (beside ✅ 已收到并落实), and a text typed while a warning to
them is in force that no journey took ("今天下午已完成夏送清凉街面巡查，救助流浪人员3人"): it is offered as the report,
one tap to record it, one to say it is not (then the usual hint). Each offer records the text it quotes: two texts
typed in a row are two offers, each button naming its own (a button naming only the warning recorded the newer text
under the older question and lost the older text). The offered texts wait in SQLite (action_drafts), as the
journey's draft does, so a restart between the text and the tap loses nothing.

Staff are not paged per report: /warnstatus shows the latest and the count per institution, and the export lists
them. Help needed is what 🆘 is for.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.domain.text import clean_text, is_blank, says_no_photo, visible_length
from bot.domain.warnings import EarlyWarning, looks_like_receipt
from bot.i18n import Translator, clipped, counted
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_PHOTOS
from bot.services.warning_reports import MIN_REPORT, ReportOutcome, report_text
from handlers.common import Caller, answer, cancel_journey, identify, refuse_press
from handlers.conversations import ASKED_AGAIN
from handlers.evidence import keep_file, keep_photo, photo_step_hint
from handlers.photo_offer import AS_WARNING_REPORT, fixable, use_offer
from handlers.warning_copy import mark_copy
from handlers.warning_text import REPORT, help_only_keyboard, local_time, merged_checklist, title
from storage.hazard_models import PhotoRef
from storage.repositories.action_drafts import Journey, drop_draft, read_draft, write_draft

AWAITING_TEXT, AWAITING_PHOTOS = "warning_report.awaiting_text", "warning_report.awaiting_photos"
CANCEL, DONE = "wr:cancel", "wr:done"
OFFER_TAKE, OFFER_DECLINE = "wr:take:", "wr:no:"
# wr:take:WARNING:OFFER (the offer: the typed message's id); wr:take:WARNING alone is a button sent before offers had
# ids, naming the one offer then kept.
OFFER_PRESS = re.compile(r"^wr:(?:take|no):(\d{1,19})(?::(\d{1,19}))?$")
# Offers kept waiting at once, the newest: an older one's button then says it is gone.
OFFERS_KEPT = 10
NEW_PRESS = re.compile(rf"^{REPORT}:(\d{{1,19}})$")
# 📝 作为落实情况 under photos sent first (handlers.photo_offer).
PHOTOS_PRESS = re.compile(rf"^{AS_WARNING_REPORT}(\d{{1,19}}):(\d{{1,19}})$")
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
    album_reply_id: int | None = None  # the answer to its first page, edited to count the pages that follow
    album_said: str | None = None  # what that answer says (`Said`), counted on as pages arrive


class OfferedReport(BaseModel):
    """A typed text offered as the report, named by the typed message's id (0: an offer kept before offers had ids)."""

    model_config = ConfigDict(frozen=True)

    id: int = 0
    warning_id: int
    text: str


class OfferedReports(BaseModel):
    """The offers waiting for 记为落实情况 or 不是, oldest first."""

    model_config = ConfigDict(frozen=True)

    offers: list[OfferedReport] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _one_offer_kept_before(cls, data: Any) -> Any:
        """A draft written when one offer was kept ({warning_id, text}) is that offer, so its button still works."""
        if isinstance(data, dict) and "offers" not in data and "warning_id" in data:
            return {"offers": [data]}
        return data

    def find(self, warning_id: int, offer_id: int) -> OfferedReport | None:
        return next((o for o in self.offers if o.id == offer_id and o.warning_id == warning_id), None)

    def without(self, offer: OfferedReport) -> OfferedReports:
        return OfferedReports(offers=[o for o in self.offers if o != offer])


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


async def chose_photos(update: Update, context: BotContext) -> str | int | None:
    """📝 作为落实情况 under photos sent outside any journey while a warning to the head is in force
    (handlers.photo_offer): the step starts with them (fetched into the evidence store now), their caption the words
    if it makes some, else the words are asked for. A press that starts nothing (the offer used, declined or
    replaced) returns None, leaving a step under way as it was."""
    query = update.callback_query
    caller = await identify(update, context)
    match = PHOTOS_PRESS.match(query.data or "") if query is not None else None
    if query is None or caller is None or caller.user is None or match is None:
        return None
    try:
        scope = await context.services.warnings.report_scope(caller.user, int(match.group(1)))
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        return None
    offer = await use_offer(context, caller, int(match.group(2)))
    if offer is None:
        await query.answer(caller.t.plain("offer.gone"), show_alert=True)
        return None
    await query.answer()
    t = caller.t
    photos = [await keep_file(photo.file_id, photo.file_unique_id, context) for photo in offer.photos[:MAX_PHOTOS]]
    draft = ReportDraft(warning_id=scope.warning.id, photos=photos)
    with contextlib.suppress(Refusal):  # no caption, or one that says nothing: the words are asked for
        draft = draft.model_copy(update={"text": report_text(offer.caption)})
    await _save(context, caller.user.telegram_id, draft)
    if draft.text is not None:
        text, keyboard = _said_text(draft, Said.NOTED, t)
        await answer(update, f"{t('wreport.ask', title=title(scope.warning, t))}\n{text}", reply_markup=keyboard,
                     edit=True)
        return AWAITING_PHOTOS
    await answer(update, t(counted("wreport.photos_taken", len(photos)), count=len(photos)), edit=True)
    await answer(update, await _prompt(context, scope.warning, scope.institutions, t), reply_markup=_cancel_only(t))
    return AWAITING_TEXT


async def _draft_or_end(update: Update, context: BotContext, caller: Caller) -> ReportDraft | None:
    assert caller.user is not None
    draft = await _load(context, caller.user.telegram_id)
    if draft is None:
        await answer(update, caller.t("wreport.lost"))
    return draft


async def _in_step(update: Update, context: BotContext) -> tuple[Caller, Message, ReportDraft] | None:
    """Who answers the step, their message and the report being written; None (the step ends) for anything else,
    having said the report was lost where it was."""
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return None
    draft = await _draft_or_end(update, context, caller)
    return None if draft is None else (caller, message, draft)


async def typed_report(update: Update, context: BotContext) -> str | int:
    found = await _in_step(update, context)
    if found is None:
        return ConversationHandler.END
    caller, message, draft = found
    return await _take_text(update, context, caller, draft, message.text or message.caption)


class Said:
    """What the answer to a text or photo in the step says; an album's answer keeps saying it, counting its pages."""

    BEFORE_TEXT = "before_text"  # photos, and the words still to come
    NOTED = "noted"  # the words noted, with the photos so far
    ADDED = "added"  # words added, shown as they now read, with the photos so far
    PHOTO = "photo"  # one more photo at the photo step
    ALBUM = "album"  # an album at the photo step


SAYS_MORE = {Said.BEFORE_TEXT: 0, Said.PHOTO: 1, Said.ALBUM: 1, Said.NOTED: 2, Said.ADDED: 3}


def _said_text(draft: ReportDraft, said: str, t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    count = len(draft.photos)
    if said == Said.BEFORE_TEXT:
        return t("wreport.photo_before_text", count=count), _cancel_only(t)
    if said == Said.ADDED:
        key = counted("wreport.added_kept", count) if count else "wreport.added"
        return t(key, text=draft.text or "", count=count, max=MAX_PHOTOS), _photos_keyboard(t)
    if said == Said.PHOTO:
        return t("wreport.photo_received", count=count, max=MAX_PHOTOS), _photos_keyboard(t)
    if said == Said.ALBUM:
        return t(counted("wreport.album_received", count), count=count, max=MAX_PHOTOS), _photos_keyboard(t)
    key = counted("wreport.ask_photos_kept", count) if count else "wreport.ask_photos"
    return t(key, count=count, max=MAX_PHOTOS), _photos_keyboard(t)


async def _tell(update: Update, context: BotContext, caller: Caller, draft: ReportDraft, said: str) -> ReportDraft:
    """Answer the text or photo, and save the draft naming the answer. Once an album: Telegram delivers it one message
    a page, and its first page's answer is edited to count the pages that follow (as the report journey's photo step
    does), rather than said once at "1 photo" while three arrived, or once a page."""
    assert caller.user is not None
    message = update.effective_message
    album = message.media_group_id if message is not None else None
    if message is not None and album is not None and album == draft.album and draft.album_reply_id is not None:
        # The answer says the most it has said: the words, once given, stay shown as the pages are counted.
        said = max(said, draft.album_said or said, key=lambda said: SAYS_MORE.get(said, 0))
        text, keyboard = _said_text(draft, said, caller.t)
        try:
            await context.bot.edit_message_text(text, chat_id=message.chat_id, message_id=draft.album_reply_id,
                                                reply_markup=keyboard)
            draft = draft.model_copy(update={"album_said": said})
            await _save(context, caller.user.telegram_id, draft)
            return draft
        except BadRequest as error:
            if "not modified" in error.message:
                await _save(context, caller.user.telegram_id, draft)
                return draft
            # The answer is gone (deleted): a new one, which the next pages count on.
    text, keyboard = _said_text(draft, said, caller.t)
    reply = await answer(update, text, reply_markup=keyboard)
    kept = album is not None and reply is not None
    draft = draft.model_copy(update={"album": album, "album_reply_id": reply.message_id if kept and reply else None,
                                     "album_said": said if kept else None})
    await _save(context, caller.user.telegram_id, draft)
    return draft


async def _take_text(update: Update, context: BotContext, caller: Caller, draft: ReportDraft,
                     text: str | None) -> str:
    """The report's words, at the step that asks for them."""
    return await _set_words(update, context, caller, draft, text, adding=False)


async def photo_instead_of_text(update: Update, context: BotContext) -> str | int:
    """A photo first: kept; its caption, if any, is the report's words, else the words are asked for."""
    found = await _in_step(update, context)
    if found is None:
        return ConversationHandler.END
    caller, message, draft = found
    draft = await _with_photo(message, context, draft)
    if not is_blank(clean_text(message.caption)):
        return await _take_text(update, context, caller, draft, message.caption)
    await _tell(update, context, caller, draft, Said.BEFORE_TEXT)
    return AWAITING_TEXT


async def received_photo(update: Update, context: BotContext) -> str | int:
    found = await _in_step(update, context)
    if found is None:
        return ConversationHandler.END
    caller, message, draft = found
    t = caller.t
    if len(draft.photos) >= MAX_PHOTOS:
        if message.media_group_id is None or message.media_group_id != draft.album:
            await answer(update, t("refusal.too_many_photos", max=MAX_PHOTOS), reply_markup=_photos_keyboard(t))
        return AWAITING_PHOTOS
    draft = await _with_photo(message, context, draft)
    if not is_blank(clean_text(message.caption)):  # its caption adds to the words, as a text typed now would
        return await _add_words(update, context, caller, draft, message.caption)
    await _tell(update, context, caller, draft, Said.ALBUM if message.media_group_id else Said.PHOTO)
    return AWAITING_PHOTOS


async def _with_photo(message: Message, context: BotContext, draft: ReportDraft) -> ReportDraft:
    if len(draft.photos) >= MAX_PHOTOS:
        return draft
    photo = await keep_photo(message, context)
    if photo is None:
        return draft
    return draft.model_copy(update={"photos": [*draft.photos, photo]})


async def typed_more(update: Update, context: BotContext) -> str | int:
    """A further text at the photo step ("另外沙袋已就位"): added to the report's words, and the words shown as they
    now read. Answered "请发送照片" before, it was dropped while the head believed both lines were sent. A word the
    step's buttons answer ("没有照片", "完成") or too short to say anything is guided to the buttons."""
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    if says_no_photo(message.text) or visible_length(clean_text(message.text)) < MIN_REPORT:
        await other_instead_of_photo(update, context)
        return AWAITING_PHOTOS
    draft = await _draft_or_end(update, context, caller)
    if draft is None:
        return ConversationHandler.END
    return await _add_words(update, context, caller, draft, message.text)


async def _add_words(update: Update, context: BotContext, caller: Caller, draft: ReportDraft,
                     text: str | None) -> str:
    """The report's words with `text` added on a new line (a text, or a photo's caption, after the words were
    given); refused as a whole when the two together are too long, the words kept as they were."""
    return await _set_words(update, context, caller, draft, text, adding=True)


async def _set_words(update: Update, context: BotContext, caller: Caller, draft: ReportDraft, text: str | None,
                     *, adding: bool) -> str:
    """The words checked (and, `adding`, joined to those given before); a refusal the head puts right by typing
    again keeps the draft and the step it was at: asking for the words, or the photos with the words kept."""
    assert caller.user is not None
    t = caller.t
    try:
        words = report_text(f"{draft.text}\n{clean_text(text)}" if adding and draft.text else text)
    except Refusal as refusal:
        if refusal.code not in TYPE_AGAIN:
            raise
        await _save(context, caller.user.telegram_id, draft)
        keyboard = _photos_keyboard(t) if adding else _cancel_only(t)
        await answer(update, t(refusal.message_key, **refusal.params), reply_markup=keyboard)
        return AWAITING_PHOTOS if adding else AWAITING_TEXT
    await _tell(update, context, caller, draft.model_copy(update={"text": words}), Said.ADDED if adding else Said.NOTED)
    return AWAITING_PHOTOS


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
    """A first report is the head's 已收到并落实: their copy of the warning says so, as a press of ✅ would leave it,
    in the copy's own language (best effort, as every edit of a delivered copy)."""
    if not outcome.answered or chat_id is None:
        return
    at = local_time(outcome.reports[0].at, context.services.settings.tz)
    warning = outcome.warning
    await mark_copy(context, warning, chat_id, t, lambda t: t("warn.state_received", at=at),
                    lambda t: help_only_keyboard(warning.id, t))


async def asked_again(update: Update, context: BotContext, caller: Caller, step: object) -> bool:
    """The step's question again, with its buttons, after /lang switched the language: the checklist prompt, or (the
    words given) what is noted and the photo step's buttons. Said "please answer the question above" under a question
    in the other language, the head was left to answer in a language they had just left. False when the draft is
    gone, or the warning no longer takes a report."""
    if caller.user is None:
        return False
    draft = await _load(context, caller.user.telegram_id)
    if draft is None:
        return False
    if step == AWAITING_PHOTOS and draft.text is not None:
        text, keyboard = _said_text(draft, Said.NOTED, caller.t)
        await answer(update, text, reply_markup=keyboard)
        return True
    try:
        scope = await context.services.warnings.report_scope(caller.user, draft.warning_id)
    except Refusal:
        return False
    await answer(update, await _prompt(context, scope.warning, scope.institutions, caller.t),
                 reply_markup=_cancel_only(caller.t))
    return True


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
    message = update.effective_message
    offer = OfferedReport(id=message.message_id if message is not None else 0, warning_id=warning.id, text=words)
    kept = await _offers(context, caller.user.telegram_id)
    await _keep_offers(context, caller.user.telegram_id,
                       OfferedReports(offers=[*kept.offers, offer][-OFFERS_KEPT:]))
    t = caller.t
    named = f"{warning.id}:{offer.id}"
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(t.plain("wreport.button_take"), callback_data=f"{OFFER_TAKE}{named}"),
        InlineKeyboardButton(t.plain("wreport.button_not"), callback_data=f"{OFFER_DECLINE}{named}"),
    ]])
    await answer(update, t("wreport.offer", title=title(warning, t), text=clipped(words, QUOTED)),
                 reply_markup=keyboard)
    return True


async def _offers(context: BotContext, telegram_id: int) -> OfferedReports:
    kept = await read_draft(context.services.storage.db, telegram_id, Journey.WARNING_REPORT_OFFER, OfferedReports)
    return kept or OfferedReports()


async def _keep_offers(context: BotContext, telegram_id: int, offers: OfferedReports) -> None:
    db = context.services.storage.db
    if offers.offers:
        await write_draft(db, telegram_id, Journey.WARNING_REPORT_OFFER, offers, context.services.clock.now())
    else:
        await drop_draft(db, telegram_id, Journey.WARNING_REPORT_OFFER)


def _pressed_offer(data: str | None) -> tuple[int, int] | None:
    """The warning and the offer a 记为落实情况 / 不是 press names."""
    match = OFFER_PRESS.match(data or "")
    return (int(match.group(1)), int(match.group(2) or 0)) if match is not None else None


async def took_offer(update: Update, context: BotContext) -> None:
    """记为落实情况: the offered text is recorded as the report, as the journey's would be."""
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None or caller.user is None or query.data is None:
        return
    t, services, user = caller.t, context.services, caller.user
    pressed = _pressed_offer(query.data)
    if pressed is None:
        return
    warning_id, offer_id = pressed
    kept = await _offers(context, user.telegram_id)
    offer = kept.find(warning_id, offer_id)
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
            await _keep_offers(context, user.telegram_id, kept.without(offer))
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        if refusal.code not in AUTHZ_REFUSALS:
            await _keep_offers(context, user.telegram_id, kept.without(offer))
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
    pressed = _pressed_offer(query.data)
    kept = await _offers(context, caller.user.telegram_id)
    offer = kept.find(*pressed) if pressed is not None else None
    if offer is not None:  # only the text this question quoted: another waiting offer keeps its buttons
        await _keep_offers(context, caller.user.telegram_id, kept.without(offer))
    hint = "fallback.hint_rectify" if await fixable(context, caller.user) else "fallback.hint_report"
    await answer(update, caller.t("wreport.offer_declined") + "\n" + caller.t(hint), edit=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    ASKED_AGAIN["warning_report"] = asked_again
    private = filters.ChatType.PRIVATE
    anything_else = private & ~filters.COMMAND
    application.add_handler(CallbackQueryHandler(took_offer, pattern=r"^wr:take:\d{1,19}(?::\d{1,19})?$"))
    application.add_handler(CallbackQueryHandler(declined_offer, pattern=r"^wr:no:\d{1,19}(?::\d{1,19})?$"))
    application.add_handler(
        ConversationHandler(
            name="warning_report",
            persistent=True,
            entry_points=[CallbackQueryHandler(chose_report, pattern=NEW_PRESS),
                          CallbackQueryHandler(chose_photos, pattern=PHOTOS_PRESS)],
            states={
                AWAITING_TEXT: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, typed_report),
                    MessageHandler(private & filters.PHOTO, photo_instead_of_text),
                    MessageHandler(anything_else, other_instead_of_text),
                ],
                AWAITING_PHOTOS: [
                    MessageHandler(private & filters.PHOTO, received_photo),
                    CallbackQueryHandler(pressed_done, pattern=rf"^{DONE}$"),
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, typed_more),
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
