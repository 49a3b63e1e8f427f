"""The head's journey: acknowledge a hazard, then submit its rectification (measures taken, after-photos).

What the head has already given lives in `action_drafts`, and the conversation's step in the persistence tables,
so a restart of the bot, or the head putting the phone away for a day, resumes exactly where they were.
"""

from __future__ import annotations

import re

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
from bot.domain.lifecycle import HazardAction, takes
from bot.domain.text import MIN_MEASURES, clean_text, is_blank, says_enough_measures
from bot.i18n import Translator, counted
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_PHOTOS
from handlers.common import Caller, answer, cancel_journey, cancel_keyboard, identify, pressed, typed
from handlers.evidence import keep_file, keep_photo, photo_step_hint
from handlers.hazard_buttons import (
    ACKNOWLEDGE,
    RECTIFY,
    action_keyboard,
    ensure_allowed,
    pattern,
    pressed_hazard,
    refuse,
    replace_buttons,
)
from handlers.photo_offer import FIX_WITH, current_offer, use_offer
from handlers.resume import Resumable, Unfinished, resumable
from handlers.verify import tell_if_only_verifier
from storage.models import User
from storage.repositories.action_drafts import ActionDraft, ActionDraftRepository, Journey

AWAITING_MEASURES, AWAITING_PHOTOS = "rectify.awaiting_measures", "rectify.awaiting_photos"
CANCEL = "rx:cancel"
DONE = r"^rx:done(:\d{1,19})?$"  # without the hazard: a button sent before Done named it
FIX_WITH_PRESS = re.compile(rf"^{FIX_WITH}(\d{{1,19}}):(\d{{1,19}})$")  # 📤 提交整改 YH-… under a photo offer
# Refusals the head can put right by describing the measures again; anything else ends the journey.
MEASURES_REFUSALS = frozenset({"measures_required", "measures_too_short", "text_too_long", "classified"})


def _drafts(context: BotContext) -> ActionDraftRepository:
    return context.services.storage.action_drafts


def _photos_keyboard(draft: ActionDraft, t: Translator) -> InlineKeyboardMarkup:
    """Done only once there is something to submit: the service requires at least one after-photo."""
    rows = []
    if draft.photos:
        # It names the hazard: pressed after a detour, it submits this draft only if the draft is still this one.
        rows.append([InlineKeyboardButton(t.plain("button.done"), callback_data=f"rx:done:{draft.hazard_id}")])
    rows.append([InlineKeyboardButton(t.plain("button.cancel"), callback_data=CANCEL)])
    return InlineKeyboardMarkup(rows)


# ---- acknowledging --------------------------------------------------------------------------------------


async def acknowledged(update: Update, context: BotContext) -> None:
    press = await pressed_hazard(update, context)
    if press is None:
        return
    caller, user, query, hazard_id = press
    hazards = context.services.hazards
    try:
        outcome = await hazards.act(user, hazard_id, HazardAction.ACKNOWLEDGE)
        dossier = await hazards.view(user, hazard_id)
    except Refusal as refusal:
        await refuse(query, caller.t, refusal)
        return
    await query.answer(caller.t.plain("rectify.acknowledged", code=outcome.hazard.code))
    if isinstance(query.message, Message):
        keyboard = action_keyboard(dossier.hazard, dossier.actions, caller.t, fix=dossier.fix)
        await replace_buttons(query.message, keyboard)


# ---- rectifying -----------------------------------------------------------------------------------------


async def chose_rectify(update: Update, context: BotContext) -> str | int:
    press = await pressed_hazard(update, context)
    if press is None:
        return ConversationHandler.END
    caller, user, query, hazard_id = press
    hazards, t = context.services.hazards, caller.t
    try:
        await ensure_allowed(hazards, user, hazard_id, HazardAction.SUBMIT_RECTIFICATION)
        await _start(caller, context, hazard_id)
        hazard = (await hazards.view(user, hazard_id)).hazard
    except Refusal as refusal:
        await refuse(query, t, refusal)
        await _drop_if_done(context, caller)
        return ConversationHandler.END
    await query.answer()
    drafts, telegram_id = _drafts(context), user.telegram_id
    draft = await drafts.get(telegram_id, Journey.RECTIFY)
    if draft is None or draft.hazard_id != hazard_id:
        draft = ActionDraft(hazard_id=hazard_id)
        await drafts.save(telegram_id, Journey.RECTIFY, draft, context.services.clock.now())
    if draft.measures:
        # Pressed again in the middle of the same rectification: carry on where it stopped, with the photos kept.
        count = len(draft.photos)
        text = t(counted("rectify.ask_photos_kept", count), code=hazard.code, count=count) if count else t(
            "rectify.ask_photos", code=hazard.code)
        await answer(update, text, reply_markup=_photos_keyboard(draft, t))
        return AWAITING_PHOTOS
    await answer(update, t("rectify.ask_measures", code=hazard.code), reply_markup=cancel_keyboard(t, CANCEL))
    return AWAITING_MEASURES


async def fix_with_offered_photos(update: Update, context: BotContext) -> str | int:
    """📤 提交整改 YH-… under a photo sent outside any journey: the rectification of that hazard starts with the
    photo(s) already attached as after-photos, and asks for the measures. Role and scope are checked as for the
    hazard's own button; a press whose offer is gone (used, declined, replaced) is told so."""
    query = update.callback_query
    caller = await identify(update, context)
    match = FIX_WITH_PRESS.match(query.data or "") if query is not None else None
    if query is None or caller is None or caller.user is None or match is None:
        return ConversationHandler.END
    user, t, hazards = caller.user, caller.t, context.services.hazards
    hazard_id, token = int(match.group(1)), int(match.group(2))
    if await current_offer(context, caller, token) is None:
        await query.answer(t.plain("offer.gone"), show_alert=True)
        return ConversationHandler.END
    try:
        await ensure_allowed(hazards, user, hazard_id, HazardAction.SUBMIT_RECTIFICATION)
        await _start(caller, context, hazard_id)
        hazard = (await hazards.view(user, hazard_id)).hazard
    except Refusal as refusal:
        await refuse(query, t, refusal)
        return ConversationHandler.END
    offer = await use_offer(context, caller, token)
    if offer is None:  # taken by a press a moment before
        await query.answer(t.plain("offer.gone"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    drafts = _drafts(context)
    draft = await drafts.get(user.telegram_id, Journey.RECTIFY)
    if draft is None or draft.hazard_id != hazard_id:
        draft = ActionDraft(hazard_id=hazard_id)
    room = MAX_PHOTOS - len(draft.photos)
    kept = [await keep_file(photo.file_id, photo.file_unique_id, context) for photo in offer.photos[:room]]
    draft = draft.model_copy(update={"photos": [*draft.photos, *kept]})
    await _save(context, caller, draft)
    said = t(counted("rectify.offer_taken", len(kept)), code=hazard.code, count=len(kept))
    await answer(update, said, edit=True)
    if draft.measures:
        text = t("rectify.photo_received", count=len(draft.photos), max=MAX_PHOTOS)
        await answer(update, text, reply_markup=_photos_keyboard(draft, t))
        return AWAITING_PHOTOS
    await answer(update, t("rectify.ask_measures", code=hazard.code), reply_markup=cancel_keyboard(t, CANCEL))
    return AWAITING_MEASURES


async def _start(caller: Caller, context: BotContext, hazard_id: int) -> None:
    """Record that rectification began, when the hazard is not already being rectified."""
    assert caller.user is not None
    try:
        await context.services.hazards.act(caller.user, hazard_id, HazardAction.START_RECTIFICATION)
    except Refusal as refusal:
        # Already rectifying (acknowledged, or rejected back): there is nothing to start.
        if refusal.code != "illegal_transition":
            raise


async def described_measures(update: Update, context: BotContext) -> str | int:
    sent = await typed(update, context)
    if sent is None or sent.message.text is None:
        return ConversationHandler.END
    caller, text = sent.caller, sent.message.text
    draft = await _draft_or_end(update, context, caller)
    if draft is None:
        return ConversationHandler.END
    measures = clean_text(text)
    if is_blank(measures):  # only invisible characters: as if nothing had been typed
        await answer(update, caller.t("rectify.need_measures"), reply_markup=cancel_keyboard(caller.t, CANCEL))
        return AWAITING_MEASURES
    if not says_enough_measures(measures):
        # Said at once, before the photos are taken; the lifecycle refuses such measures at submission all the same.
        await answer(update, caller.t("rectify.measures_too_short", min=MIN_MEASURES),
                     reply_markup=cancel_keyboard(caller.t, CANCEL))
        return AWAITING_MEASURES
    draft = draft.model_copy(update={"measures": measures})
    await _save(context, caller, draft)
    await answer(update, caller.t("rectify.ask_photos_next"), reply_markup=_photos_keyboard(draft, caller.t))
    return AWAITING_PHOTOS


async def photo_instead_of_measures(update: Update, context: BotContext) -> str | int:
    """Keep the photo (it is wanted next anyway) and ask for the measures; a caption counts as the measures."""
    sent = await typed(update, context)
    if sent is None:
        return ConversationHandler.END
    caller, message = sent.caller, sent.message
    draft = await _draft_or_end(update, context, caller)
    if draft is None:
        return ConversationHandler.END
    draft = await _with_photo(message, context, draft)
    caption = clean_text(message.caption)
    if not is_blank(caption) and not says_enough_measures(caption):
        await _save(context, caller, draft)  # the photo is kept; the measures are asked for in more words
        await answer(update, caller.t("rectify.measures_too_short", min=MIN_MEASURES),
                     reply_markup=cancel_keyboard(caller.t, CANCEL))
        return AWAITING_MEASURES
    if not is_blank(caption):
        draft = draft.model_copy(update={"measures": caption})
        await _save(context, caller, draft)
        text = caller.t("rectify.photo_received", count=len(draft.photos), max=MAX_PHOTOS)
        await answer(update, text, reply_markup=_photos_keyboard(draft, caller.t))
        return AWAITING_PHOTOS
    await _save(context, caller, draft)
    await answer(update, caller.t("rectify.photo_before_measures", count=len(draft.photos)),
                 reply_markup=cancel_keyboard(caller.t, CANCEL))
    return AWAITING_MEASURES


async def other_instead_of_measures(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("rectify.need_measures"), reply_markup=cancel_keyboard(caller.t, CANCEL))


async def received_photo(update: Update, context: BotContext) -> str | int:
    sent = await typed(update, context)
    if sent is None:
        return ConversationHandler.END
    caller, message = sent.caller, sent.message
    draft = await _draft_or_end(update, context, caller)
    if draft is None:
        return ConversationHandler.END
    if len(draft.photos) >= MAX_PHOTOS:
        await answer(update, caller.t("rectify.photos_full", max=MAX_PHOTOS),
                     reply_markup=_photos_keyboard(draft, caller.t))
        return AWAITING_PHOTOS
    draft = await _with_photo(message, context, draft)
    await _save(context, caller, draft)
    text = caller.t("rectify.photo_received", count=len(draft.photos), max=MAX_PHOTOS)
    await answer(update, text, reply_markup=_photos_keyboard(draft, caller.t))
    return AWAITING_PHOTOS


async def other_instead_of_photo(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    draft = await _drafts(context).get(caller.user.telegram_id, Journey.RECTIFY)
    keyboard = _photos_keyboard(draft, caller.t) if draft is not None else cancel_keyboard(caller.t, CANCEL)
    hint = photo_step_hint(update.effective_message, "rectify.need_photo")
    await answer(update, caller.t(hint), reply_markup=keyboard)


async def pressed_done(update: Update, context: BotContext) -> str | int:
    press = await pressed(update, context)
    if press is None:
        return ConversationHandler.END
    t, user, query, drafts = press.t, press.user, press.query, _drafts(context)
    draft = await drafts.get(user.telegram_id, Journey.RECTIFY)
    named = (query.data or "").removeprefix("rx:done").removeprefix(":")
    # Also an entry: pressed after a detour (an extension request, /cancel of another journey), Done still submits
    # the draft it was sent under, as long as that draft is still there at its photo step, for the same hazard.
    if draft is None or not draft.measures or (named and int(named) != draft.hazard_id):
        if named and (draft is None or int(named) != draft.hazard_id):
            await _done_after_the_draft_went(update, context, t, user, int(named))
        else:
            await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return ConversationHandler.END
    if not draft.photos:
        await query.answer(t.plain("rectify.need_photo_first"), show_alert=True)
        return AWAITING_PHOTOS
    try:
        async with context.services.storage.db.transaction():  # the submission and the end of its draft, or neither
            outcome = await context.services.hazards.act(
                user, draft.hazard_id, HazardAction.SUBMIT_RECTIFICATION, reason=draft.measures,
                photos=draft.photos,
            )
            await drafts.delete(user.telegram_id, Journey.RECTIFY)
    except Refusal as refusal:
        await query.answer()
        if refusal.code in MEASURES_REFUSALS:
            await answer(update, t(refusal.message_key, **refusal.params))
            await answer(update, t("rectify.measures_again"), reply_markup=cancel_keyboard(t, CANCEL))
            return AWAITING_MEASURES
        # Submitted by a colleague meanwhile, withdrawn, closed…: the refusal says what happened, and that the
        # measures and photos typed here went with it (before, they vanished without a word).
        await answer(update, t(refusal.message_key, **refusal.params) + "\n" + t("rectify.draft_dropped"))
        await drafts.delete(user.telegram_id, Journey.RECTIFY)
        if isinstance(query.message, Message):
            await replace_buttons(query.message, None)
        return ConversationHandler.END
    await query.answer()
    if isinstance(query.message, Message):
        # A second tap on Done must not look as if it could submit again.
        await replace_buttons(query.message, None)
    count = len(draft.photos)
    await answer(update, t(counted("rectify.submitted", count), code=outcome.hazard.code, count=count))
    await tell_if_only_verifier(update, context, user, outcome.hazard, t)
    return ConversationHandler.END


async def _done_after_the_draft_went(
    update: Update, context: BotContext, t: Translator, user: User, hazard_id: int
) -> None:
    """Done under a draft that is gone. When its hazard no longer takes a fix (a colleague submitted it, and /help
    or 📤 found the draft left with nothing to submit), say what happened rather than "this button is old"; the
    draft is said to be deleted unless the person submitted the rectification themselves."""
    query = update.callback_query
    assert query is not None
    hazard = await context.services.storage.hazards.get(hazard_id)
    if hazard is None or takes(hazard.state, HazardAction.SUBMIT_RECTIFICATION):
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return
    try:
        await ensure_allowed(context.services.hazards, user, hazard_id, HazardAction.SUBMIT_RECTIFICATION)
    except Refusal as refusal:
        await query.answer()
        text = t(refusal.message_key, **refusal.params)
        if hazard.fixed_by != user.telegram_id:
            text += "\n" + t("rectify.draft_dropped")
        await answer(update, text)
        if isinstance(query.message, Message):
            await replace_buttons(query.message, None)
        return
    await query.answer(t.plain("fallback.stale_button"), show_alert=True)  # pragma: no cover - takes() said no


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "rectify.cancelled", lambda c, telegram_id: _drafts(c).delete(telegram_id, Journey.RECTIFY)
    )


# ---- drafts ---------------------------------------------------------------------------------------------


async def _draft_or_end(update: Update, context: BotContext, caller: Caller) -> ActionDraft | None:
    assert caller.user is not None
    draft = await _drafts(context).get(caller.user.telegram_id, Journey.RECTIFY)
    if draft is None:
        await answer(update, caller.t("rectify.lost"))
    return draft


async def _with_photo(message: Message, context: BotContext, draft: ActionDraft) -> ActionDraft:
    photo = await keep_photo(message, context)
    if photo is None or len(draft.photos) >= MAX_PHOTOS:
        return draft
    return draft.model_copy(update={"photos": [*draft.photos, photo]})


async def _save(context: BotContext, caller: Caller, draft: ActionDraft) -> None:
    assert caller.user is not None
    await _drafts(context).save(caller.user.telegram_id, Journey.RECTIFY, draft, context.services.clock.now())


async def _drop_if_done(context: BotContext, caller: Caller) -> ActionDraft | None:
    """The person's kept rectification draft; None, and the draft discarded, when its hazard no longer takes a fix
    (a colleague submitted it, staff withdrew or closed it): nothing is left that it could submit."""
    assert caller.user is not None
    draft = await _drafts(context).get(caller.user.telegram_id, Journey.RECTIFY)
    if draft is None:
        return None
    hazard = await context.services.storage.hazards.get(draft.hazard_id)
    if hazard is None or not takes(hazard.state, HazardAction.SUBMIT_RECTIFICATION):
        await _drafts(context).delete(caller.user.telegram_id, Journey.RECTIFY)
        return None
    return draft


async def _unfinished(context: BotContext, caller: Caller) -> Unfinished | None:
    """A rectification with measures or photos in it, described for the journey switch, /start and /help; one
    whose hazard no longer takes a fix is discarded rather than described."""
    assert caller.user is not None
    draft = await _drop_if_done(context, caller)
    if draft is None or not (draft.measures or draft.photos):
        return None
    hazard = await context.services.storage.hazards.get(draft.hazard_id)
    t, count = caller.t, len(draft.photos)
    parts = [hazard.code if hazard is not None else None,
             t.plain(counted("resume.photos", count), count=count) if count else None]
    brief = t.plain("resume.separator").join(part for part in parts if part is not None)
    return Unfinished(step=AWAITING_PHOTOS if draft.measures else AWAITING_MEASURES,
                      number=2 if draft.measures else 1, brief=brief or t.plain("resume.nothing_yet"))


# Taken up again by its own button (📤 提交整改结果 carries on at the saved step): described, never offered.
resumable(Resumable("rectify", _unfinished))


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    anything_else = private & ~filters.COMMAND
    application.add_handler(CallbackQueryHandler(acknowledged, pattern=pattern(ACKNOWLEDGE)))
    application.add_handler(
        ConversationHandler(
            name="rectify",
            persistent=True,
            entry_points=[
                CallbackQueryHandler(chose_rectify, pattern=pattern(RECTIFY)),
                CallbackQueryHandler(fix_with_offered_photos, pattern=FIX_WITH_PRESS),
                CallbackQueryHandler(pressed_done, pattern=DONE),
            ],
            states={
                AWAITING_MEASURES: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, described_measures),
                    MessageHandler(private & filters.PHOTO, photo_instead_of_measures),
                    MessageHandler(anything_else, other_instead_of_measures),
                ],
                AWAITING_PHOTOS: [
                    MessageHandler(private & filters.PHOTO, received_photo),
                    CallbackQueryHandler(pressed_done, pattern=DONE),
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
