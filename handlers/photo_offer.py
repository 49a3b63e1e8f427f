"""A photo sent first, outside any journey (as people do on FixMyStreet: the picture, then the words): the bot asks
whether to report a hazard with it, rather than drop it. A head under a warning in force is asked first whether it
shows what was done (📝 作为落实情况, handlers.warning_report, its caption the words), as their typed text is.
📝 上报隐患 starts /report with the photo(s) already in the draft (handlers.report, `accepted_offer`), and so does
/report typed while the offer waits (`start_report`); 取消 forgets them, and so do 取消 typed and /cancel sent while
the offer waits (`cancel_waiting_offer`).

The offer is kept in the person's report draft (`ReportDraft.offer`), so a restart between the photo and the press
loses nothing. Only the file ids are kept: the bytes are fetched into the evidence folder when the photos are used,
never for a photo sent by mistake. Anything else that reaches no journey gets a hint that fits the person.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.lifecycle import HazardAction, takes
from bot.domain.roles import STAFF_ROLES
from bot.domain.text import clean_text, is_blank
from bot.domain.warnings import EarlyWarning
from bot.i18n import Translator, counted
from bot.services.hazard_core import MAX_PHOTOS
from handlers.common import Caller, answer, identify, is_private
from handlers.warning_text import title
from storage.hazard_models import Hazard, OfferedPhoto, PhotoOffer, ReportDraft
from storage.models import User

OFFER = "rp:offer:"  # 📝 上报隐患: the report journey's entry (handlers.report)
DECLINE = "rp:decline:"
# 📤 提交整改 YH-…: the rectification's entry with the offer's photos attached (handlers.rectify): rx:photo:HAZARD:TOKEN
FIX_WITH = "rx:photo:"
# A head's after-photo was offered only as a new report, inviting a duplicate of the hazard it shows fixed: the hazards
# they may submit a fix for are offered too, the most pressing few (their /tasks order), each named by its code.
FIXES_OFFERED = 3
# 📝 作为落实情况: the photos as what was done under a warning in force (handlers.warning_report):
# wr:photo:WARNING:TOKEN
AS_WARNING_REPORT = "wr:photo:"
# Photos sent one after another (not as an album) join the offer still waiting, within this time; a photo sent
# later is a new offer, and the earlier offer's buttons are told it was replaced.
OFFER_JOINS_WITHIN = timedelta(hours=1)


def offer_keyboard(t: Translator, token: int, fixes: Sequence[Hazard] = (),
                   warning: EarlyWarning | None = None) -> InlineKeyboardMarkup:
    """With `warning` (one in force that reached the person as a head), 📝 作为落实情况 first: under a warning a photo
    is most likely what was done, and the hazard report beside it becomes 📷 上报隐患 (two 📝 would read alike)."""
    rows = [
        [InlineKeyboardButton(t.plain("offer.button_fix", code=hazard.code),
                              callback_data=f"{FIX_WITH}{hazard.id}:{token}")]
        for hazard in fixes
    ]
    if warning is not None:
        rows.insert(0, [InlineKeyboardButton(t.plain("offer.button_wreport"),
                                             callback_data=f"{AS_WARNING_REPORT}{warning.id}:{token}")])
    report = "offer.button_report_photo" if warning is not None else "offer.button_report"
    return InlineKeyboardMarkup([*rows, [
        InlineKeyboardButton(t.plain(report), callback_data=f"{OFFER}{token}"),
        InlineKeyboardButton(t.plain("button.cancel"), callback_data=f"{DECLINE}{token}"),
    ]])


def _question(t: Translator, offer: PhotoOffer, fixes: Sequence[Hazard], warning: EarlyWarning | None) -> str:
    count = len(offer.photos)
    if warning is not None:
        key = "offer.ask_wreport_or_fix" if fixes else "offer.ask_wreport"
        return t(counted(key, count), count=count, title=title(warning, t))
    if fixes:
        return t(counted("offer.ask_or_fix", count), count=count)
    return t(counted("offer.ask", count), count=count)


async def fixable(context: BotContext, user: User) -> list[Hazard]:
    """The hazards the person is to correct and may submit a fix for now, most pressing first: a few. Staff's /tasks
    is a queue of others' work, so they are offered none (they fix through a hazard's own button)."""
    if user.role in STAFF_ROLES:
        return []
    page = await context.services.hazards.tasks(user, 0, FIXES_OFFERED)
    return [item.hazard for item in page.items if takes(item.hazard.state, HazardAction.SUBMIT_RECTIFICATION)]


async def may_report(context: BotContext, caller: Caller) -> bool:
    """Whether /report would offer this person any institution: the same rule the report's first step applies."""
    if caller.user is None or not caller.registered:
        return False
    return bool(await context.services.hazards.institutions_for_report(caller.user, limit=1))


async def sent_photo(update: Update, context: BotContext) -> None:
    """A photo no journey took: offer to report a hazard with it (an album's pages join the same offer)."""
    message = update.effective_message
    if not is_private(update) or message is None or not message.photo:
        return
    caller = await identify(update, context)
    if caller is None:
        return
    if caller.user is None or not await may_report(context, caller):
        await answer(update, caller.t("fallback.not_understood"))
        return
    await offer_photo(context, caller, message, message.chat_id)


async def offer_photo(context: BotContext, caller: Caller, message: Message, chat_id: int, *,
                      group: str | None = None) -> None:
    """Ask in `chat_id` (the person's private chat) whether to report a hazard with the message's photo. `group`:
    the title of the bound group the photo was sent to the bot in; the question then says where it came from.
    Raises TelegramError when the private chat cannot be written to."""
    assert caller.user is not None and message.photo
    services = context.services
    now = services.clock.now()
    fixes = await fixable(context, caller.user)
    warning = await services.warnings.newest_reportable(caller.user.telegram_id)
    draft = await services.hazards.load_draft(caller.user.telegram_id) or ReportDraft()
    largest = message.photo[-1]
    photo = OfferedPhoto(file_id=largest.file_id, file_unique_id=largest.file_unique_id)
    offer = draft.offer
    album = message.media_group_id
    same_album = offer is not None and album is not None and offer.album == album
    joins = offer is not None and (same_album or (album is None and offer.album is None
                                                   and now - offer.at <= OFFER_JOINS_WITHIN))
    if offer is None or not joins:
        offer = PhotoOffer(token=message.message_id, photos=[photo], album=album, at=now)
    elif len(offer.photos) >= MAX_PHOTOS:
        if not same_album:  # a tenth album page is left out quietly: its question already says how many are kept
            await context.bot.send_message(chat_id, caller.t("refusal.too_many_photos", max=MAX_PHOTOS),
                                           reply_markup=offer_keyboard(caller.t, offer.token, fixes, warning))
        return
    else:
        offer = offer.model_copy(update={"photos": [*offer.photos, photo], "at": now})
    caption = clean_text(message.caption)
    if offer.caption is None and not is_blank(caption):
        offer = offer.model_copy(update={"caption": caption})
    text = _question(caller.t, offer, fixes, warning)
    keyboard = offer_keyboard(caller.t, offer.token, fixes, warning)
    if group is not None:
        text = caller.t("offer.from_group", group=group) + "\n\n" + text
    asked: Message | None = None
    if same_album and offer.message_id is not None:
        try:  # the album's question counts its pages as they arrive, rather than asking once a page
            await context.bot.edit_message_text(text, chat_id=chat_id, message_id=offer.message_id,
                                                reply_markup=keyboard)
        except BadRequest as error:
            if "not modified" not in error.message:
                raise
    else:
        asked = await context.bot.send_message(chat_id, text, reply_markup=keyboard)
    if asked is not None:
        offer = offer.model_copy(update={"message_id": asked.message_id})
    await services.hazards.save_draft(caller.user.telegram_id, draft.model_copy(update={"offer": offer}))


async def declined(update: Update, context: BotContext) -> None:
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or query.data is None or caller is None or caller.user is None:
        return
    token = int(query.data.removeprefix(DECLINE))
    services = context.services
    draft = await services.hazards.load_draft(caller.user.telegram_id)
    if draft is None or draft.offer is None or draft.offer.token != token:
        await query.answer(caller.t.plain("offer.gone"), show_alert=True)
        return
    await query.answer()
    await services.hazards.save_draft(caller.user.telegram_id, draft.model_copy(update={"offer": None}))
    await answer(update, caller.t("offer.declined"), edit=True)


async def cancel_waiting_offer(update: Update, context: BotContext, caller: Caller) -> bool:
    """取消 typed, or /cancel sent, while an offer waits: the offer ends as its 取消 button ends it (the photos
    forgotten, the question turned into "照片未保存" without its buttons), and "已取消" is said, as a journey's /cancel
    says it. Left waiting, the cancelled photo joined the next one and went out with the next fix or report. False
    (nothing said) when no offer waits."""
    chat = update.effective_chat
    if caller.user is None or chat is None:
        return False
    hazards = context.services.hazards
    draft = await hazards.load_draft(caller.user.telegram_id)
    if draft is None or draft.offer is None:
        return False
    offer = draft.offer
    await hazards.save_draft(caller.user.telegram_id, draft.model_copy(update={"offer": None}))
    if offer.message_id is not None:
        # The question reads as its 取消 button leaves it (editMessageText: see hazard_buttons.replace_buttons);
        # deleted by the person, or already edited so: nothing left to take away.
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_text(caller.t("offer.declined"), chat_id=chat.id,
                                                message_id=offer.message_id, reply_markup=None)
    await answer(update, caller.t("cancel.done"))
    return True


async def use_offer(context: BotContext, caller: Caller, token: int) -> PhotoOffer | None:
    """The offer a press names, taken out of the person's draft (used once); None when it is gone."""
    offer = await current_offer(context, caller, token)
    if offer is None or caller.user is None:
        return None
    hazards = context.services.hazards
    draft = await hazards.load_draft(caller.user.telegram_id)
    if draft is not None:
        await hazards.save_draft(caller.user.telegram_id, draft.model_copy(update={"offer": None}))
    return offer


async def current_offer(context: BotContext, caller: Caller, token: int) -> PhotoOffer | None:
    """The offer a 📝 上报隐患 press names, if it is the person's own and still waiting."""
    if caller.user is None:
        return None
    draft = await context.services.hazards.load_draft(caller.user.telegram_id)
    if draft is None or draft.offer is None or draft.offer.token != token:
        return None
    return draft.offer


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Added to group 0 after every journey and before the fallbacks: only photos no journey claimed come here."""
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.PHOTO, sent_photo))
    application.add_handler(CallbackQueryHandler(declined, pattern=rf"^{DECLINE}\d+$"))
