"""Report a hazard (/report): institution → area → severity → description → photos → location → source level →
summary with Confirm / Edit / Cancel. Every step is saved to the database as it is taken, so a restart resumes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
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
from bot.domain.catalog import (
    AREAS,
    SEVERITY_ORDER,
    SOURCE_LEVELS,
    HazardArea,
    Labelled,
    Severity,
    SourceLevel,
    is_sensitive,
    severity_rank,
)
from bot.domain.catalog import default_source_level as role_default_source
from bot.domain.checklists import shown_description
from bot.domain.deadlines import deadline_for
from bot.domain.text import (
    MIN_ADDRESS,
    clean_text,
    is_blank,
    is_plausible_address,
    says_back,
    says_no_location,
    says_no_photo,
    visible_length,
)
from bot.i18n import Html, Translator, clipped, counted
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_PHOTOS, MAX_TEXT, MIN_DESCRIPTION
from bot.services.hazard_reports import InstitutionChoices
from handlers.common import (
    Caller,
    answer,
    catalog_label,
    deadline_terms,
    identify,
    institution_prompt,
    institution_rows,
    is_private,
    place_name,
    read_text,
    typed_label,
)
from handlers.evidence import keep_file, photo_added, photo_step_hint
from handlers.photo_offer import OFFER, OFFER_JOINS_WITHIN, current_offer
from handlers.resume import RESUMING, Resumable, Unfinished, resumable
from handlers.verify import tell_if_only_verifier
from storage.hazard_models import Hazard, PhotoOffer, ReportDraft

# A choice of a button step (an area, a severity, who found it), typed as its label instead of pressed.
Choice = TypeVar("Choice", bound=Labelled)

PICKING_INSTITUTION = "report.picking_institution"
INSTITUTION_PAGE = "rp:ipage:"  # ◀ / ▶ under the institution question: the page
PICKING_AREA = "report.picking_area"
PICKING_SEVERITY = "report.picking_severity"
DESCRIBING = "report.describing"
ADDING_PHOTOS = "report.adding_photos"
LOCATING = "report.locating"
PICKING_SOURCE = "report.picking_source"
CONFIRMING = "report.confirming"
CHOOSING_FIELD = "report.choosing_field"
FIXING_ON_SPOT = "report.fixing_on_spot"

EDITING = "editing"  # draft.step while one field is being changed from the summary
FIELD_STEPS = {"area": PICKING_AREA, "severity": PICKING_SEVERITY, "description": DESCRIBING,
               "photos": ADDING_PHOTOS, "location": LOCATING, "source": PICKING_SOURCE}
EDITABLE_FIELDS = ("institution", *FIELD_STEPS)
CANCEL = "rp:cancel"
MAX_ADDRESS = 200


# ---- keyboards -------------------------------------------------------------------------------------------------


def _cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.plain("button.cancel"), callback_data=CANCEL)]


def _institution_keyboard(choices: InstitutionChoices, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([*institution_rows(choices, t, "rp:inst:", INSTITUTION_PAGE), _cancel_row(t)])


def _area_keyboard(t: Translator) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(catalog_label(area, t), callback_data=f"rp:area:{area.value}") for area in AREAS]
    return InlineKeyboardMarkup([*(buttons[i : i + 2] for i in range(0, len(buttons), 2)), _cancel_row(t)])


def _severity_keyboard(t: Translator) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(catalog_label(s, t), callback_data=f"rp:sev:{s.value}") for s in SEVERITY_ORDER]
    return InlineKeyboardMarkup([row, _cancel_row(t)])


def _photos_keyboard(t: Translator, count: int, keep: int = 0) -> InlineKeyboardMarkup:
    """Done once there is a photo, else No photos; `keep`: the photos are being changed from the summary and this
    many were there, offered to be kept until a new one arrives."""
    key = "report.button_photos_done" if count else "report.button_no_photos"
    rows = [[InlineKeyboardButton(t.plain(key), callback_data="rp:photos:done")]]
    if keep and not count:
        rows.insert(0, [InlineKeyboardButton(t.plain(counted("report.button_keep_photos", keep), count=keep),
                                             callback_data="rp:photos:keep")])
    return InlineKeyboardMarkup([*rows, _cancel_row(t)])


def _photo_step_keyboard(t: Translator, draft: ReportDraft) -> InlineKeyboardMarkup:
    return _photos_keyboard(t, len(draft.photos), len(draft.previous_photos or ()))


def _after_photos_keyboard(t: Translator, count: int) -> InlineKeyboardMarkup:
    """Done once there is an after-photo (corrected on the spot needs one); before, the way back to the summary,
    for whoever has no photo of the fix and reports the hazard as it stands."""
    if count:
        first = InlineKeyboardButton(t.plain("report.button_photos_done"), callback_data="rp:onspot:done")
    else:
        first = InlineKeyboardButton(t.plain("report.button_back_to_summary"), callback_data="rp:onspot:back")
    return InlineKeyboardMarkup([[first], _cancel_row(t)])


def _location_keyboard(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t.plain("report.button_share_location"), request_location=True)],
         [KeyboardButton(t.plain("report.button_skip"))]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _source_keyboard(t: Translator, default: SourceLevel) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(("✓ " if level is default else "") + catalog_label(level, t),
                              callback_data=f"rp:src:{level.value}")]
        for level in SOURCE_LEVELS
    ]
    return InlineKeyboardMarkup([*rows, _cancel_row(t)])


def _summary_keyboard(t: Translator, duplicates: list[Hazard], draft: ReportDraft) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(t.plain("report.button_confirm"), callback_data="rp:confirm")]]
    # With photos, they go to the earlier hazard; without, the description does, as a note on it.
    merge = "report.button_merge" if draft.photos else "report.button_merge_note"
    rows += [
        [InlineKeyboardButton(t.plain(merge, code=hazard.code), callback_data=f"rp:merge:{hazard.id}")]
        for hazard in duplicates[:3]
    ]
    if not draft.fixed_on_spot_photos:
        rows.append([InlineKeyboardButton(t.plain("report.button_fixed_on_spot"), callback_data="rp:onspot")])
    rows.append([InlineKeyboardButton(t.plain("report.button_edit"), callback_data="rp:edit")])
    rows.append(_cancel_row(t))
    return InlineKeyboardMarkup(rows)


def _fields_keyboard(t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(t.plain(f"report.field_{field}"), callback_data=f"rp:edit:{field}")
        for field in EDITABLE_FIELDS
    ]
    return InlineKeyboardMarkup([*(buttons[i : i + 2] for i in range(0, len(buttons), 2)), _cancel_row(t)])


# ---- shared steps ----------------------------------------------------------------------------------------------


async def _draft(update: Update, context: BotContext) -> tuple[Caller, ReportDraft] | None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    draft = await context.services.hazards.load_draft(caller.user.telegram_id)
    return caller, draft or ReportDraft()


async def _pressed(update: Update, context: BotContext, prefix: str) -> tuple[Caller, ReportDraft, str] | None:
    """The person, their draft and what the pressed button names after `prefix`; the press is answered."""
    loaded = await _draft(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return None
    await query.answer()
    return loaded[0], loaded[1], query.data.removeprefix(prefix)


async def _save(context: BotContext, caller: Caller, draft: ReportDraft) -> None:
    assert caller.user is not None
    await context.services.hazards.save_draft(caller.user.telegram_id, draft)


async def _ask_institution(
    update: Update, context: BotContext, caller: Caller, query: str | None = None, page: int | None = None
) -> str:
    """The institution question: every institution the person may report on, or those matching the `query` they
    typed, a page at a time. A `page` turned keeps to the listing the draft remembers (the last search, or none);
    otherwise the listing asked for is remembered for the page buttons under it."""
    assert caller.user is not None
    services, t = context.services, caller.t
    draft = await services.hazards.load_draft(caller.user.telegram_id) or ReportDraft(step=PICKING_INSTITUTION)
    if page is not None:
        query = draft.institution_search
    elif draft.institution_search != query:
        await _save(context, caller, draft.model_copy(update={"institution_search": query}))
    found = await services.hazards.institution_page(caller.user, query, page or 0)
    if update.callback_query is not None and page is not None:
        await update.callback_query.answer(t.plain("institution.page_gone") if found.clamped else None)
    if not found.total:
        text = t("report.no_institution_match", query=query) if query else t("report.no_institutions")
        await answer(update, text, reply_markup=InlineKeyboardMarkup([_cancel_row(t)]), edit=page is not None)
        return PICKING_INSTITUTION
    await answer(update, institution_prompt(t("report.ask_institution"), found, t),
                 reply_markup=_institution_keyboard(found, t), edit=page is not None)
    return PICKING_INSTITUTION


async def turned_institution_page(update: Update, context: BotContext) -> str | int:
    """◀ / ▶ under the institution question: the page worked out afresh from the person's scope."""
    loaded = await _draft(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return PICKING_INSTITUTION
    return await _ask_institution(update, context, loaded[0], page=int(query.data.removeprefix(INSTITUTION_PAGE)))


async def _after(
    update: Update, context: BotContext, caller: Caller, draft: ReportDraft, next_step: str
) -> str | int:
    """Go on to the next step, or back to the summary when the person was changing one field."""
    if draft.step == EDITING:
        return await _show_summary(update, context, caller, draft.model_copy(update={"step": CONFIRMING}))
    await _save(context, caller, draft.model_copy(update={"step": next_step}))
    await _ask(update, context, caller, draft, next_step)
    return next_step


async def _ask(update: Update, context: BotContext, caller: Caller, draft: ReportDraft, next_step: str) -> None:
    t = caller.t
    if next_step == PICKING_AREA:
        await answer(update, t("report.ask_area"), reply_markup=_area_keyboard(t))
    elif next_step == PICKING_SEVERITY:
        terms = deadline_terms(context.services.settings.deadline_policy, t)
        await answer(update, t("report.ask_severity", **terms), reply_markup=_severity_keyboard(t))
    elif next_step == DESCRIBING:
        await answer(update, t("report.ask_description", min=MIN_DESCRIPTION),
                     reply_markup=InlineKeyboardMarkup([_cancel_row(t)]))
    elif next_step == ADDING_PHOTOS:
        count = len(draft.photos)  # photos sent before /report are in the draft already
        key = counted("report.ask_photos_attached", count) if count else "report.ask_photos"
        if draft.previous_photos:  # changing them from the summary: they stay until new ones are done
            count = len(draft.previous_photos)
            key = counted("report.ask_photos_replace", count)
        await answer(update, t(key, count=count, max=MAX_PHOTOS), reply_markup=_photo_step_keyboard(t, draft))
    elif next_step == LOCATING:
        await _ask_location(update, t, "report.ask_location")
    elif next_step == PICKING_SOURCE:
        assert caller.user is not None
        default = draft.source_level or role_default_source(caller.user.role)
        await answer(update, t("report.ask_source"), reply_markup=_source_keyboard(t, default))


async def _ask_location(update: Update, t: Translator, key: str) -> None:
    """The location question, under its reply keyboard (sent anew: a reply keyboard cannot go on an edited message).
    `key`: the question alone, or opening with the acknowledgement of the answer just given."""
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(t(key), reply_markup=_location_keyboard(t))


async def _show_summary(update: Update, context: BotContext, caller: Caller, draft: ReportDraft) -> str | int:
    assert caller.user is not None
    services = context.services
    t = caller.t
    if draft.previous_photos is not None:  # photos being changed and not done: the ones there were stay
        draft = draft.model_copy(update={"photos": draft.previous_photos, "previous_photos": None})
    draft = draft.model_copy(update={"step": CONFIRMING})
    await _save(context, caller, draft)
    institution = await services.storage.institutions.get(draft.institution_id or 0)
    if institution is None or draft.area is None or draft.severity is None:
        await answer(update, t("report.start_again"))
        return ConversationHandler.END
    deadline = deadline_for(draft.severity, services.clock.now(), services.settings.deadline_policy)
    source = draft.source_level or role_default_source(caller.user.role)
    if draft.latitude is not None and draft.longitude is not None:
        where = t.plain("report.location_point", latitude=f"{draft.latitude:.5f}", longitude=f"{draft.longitude:.5f}")
        if draft.address_text:  # a venue: its name and address, and where on the map
            where = t.plain("report.location_place", address=draft.address_text, point=where)
    else:
        where = draft.address_text or t.plain("report.location_none")
    text = t(
        "report.summary",
        institution=place_name(institution, t),
        area=catalog_label(draft.area, t),
        severity=catalog_label(draft.severity, t),
        description=draft.description or "",
        photos=len(draft.photos),
        location=where,
        source=catalog_label(source, t),
        deadline=deadline.astimezone(services.settings.tz).strftime("%Y-%m-%d %H:%M"),
    )
    if draft.fixed_on_spot_photos:
        after = len(draft.fixed_on_spot_photos)
        text = Html(text + "\n" + t(counted("report.summary_fixed_on_spot", after), photos=after))
    duplicates = await services.hazards.duplicates(institution.id, draft.area, viewer=caller.user)
    for hazard in duplicates[:3]:
        text = Html(text + "\n" + t("report.possible_duplicate", code=hazard.code,
                                     reported=hazard.reported_at.astimezone(services.settings.tz).strftime(
                                         "%Y-%m-%d %H:%M"), description=shown_description(hazard.description)[:60]))
    await answer(update, text, reply_markup=_summary_keyboard(t, duplicates, draft))
    return CONFIRMING


# ---- the journey ---------------------------------------------------------------------------------------------


async def start_report(update: Update, context: BotContext) -> str | int:
    """/report. Photos offered for a report and still waiting (sent within the hour an offer takes more photos, not
    declined) come with it, as 📝 上报隐患 would bring them: people used to typing /report send the photo, then the
    command, and lost the photo. An older offer is dropped with the draft, its buttons saying it is gone."""
    if not is_private(update):
        return ConversationHandler.END
    loaded = await _draft(update, context)
    if loaded is None:
        return ConversationHandler.END
    asked = await UNFINISHED.offer(update, context, loaded[0])
    return asked if asked is not None else await _afresh(update, context, loaded[0])


async def _afresh(update: Update, context: BotContext, caller: Caller) -> str | int:
    assert caller.user is not None
    draft = await context.services.hazards.load_draft(caller.user.telegram_id) or ReportDraft()
    offer = draft.offer
    if offer is not None and context.services.clock.now() - offer.at <= OFFER_JOINS_WITHIN:
        return await _start_with_offer(update, context, caller, offer, pressed=False)
    await _save(context, caller, ReportDraft(step=PICKING_INSTITUTION))
    return await _ask_institution(update, context, caller)


# The steps in the order asked, numbered from 1 when an unfinished report is described; after them, the summary.
NUMBERED = (PICKING_INSTITUTION, PICKING_AREA, PICKING_SEVERITY, DESCRIBING, ADDING_PHOTOS, LOCATING, PICKING_SOURCE)


async def _unfinished(context: BotContext, caller: Caller) -> Unfinished | None:
    """The person's report draft, when they entered something in it (photos offered and not yet taken are not)."""
    assert caller.user is not None
    draft = await context.services.hazards.load_draft(caller.user.telegram_id)
    if draft is None or draft.step is None:
        return None
    entered = draft.model_dump(exclude={"step", "offer", "institution_search"}, exclude_defaults=True)
    if not entered:
        return None
    t = caller.t
    institution = await context.services.storage.institutions.get(draft.institution_id or 0)
    parts = [place_name(institution, t) if institution is not None else None,
             catalog_label(draft.area, t) if draft.area is not None else None,
             catalog_label(draft.severity, t) if draft.severity is not None else None,
             clipped(draft.description, 20) if draft.description else None,
             t.plain(counted("resume.photos", len(draft.photos)), count=len(draft.photos)) if draft.photos else None]
    brief = t.plain("resume.separator").join(part for part in parts if part is not None)
    step = draft.step if draft.step in NUMBERED else CONFIRMING
    number = NUMBERED.index(step) + 1 if step in NUMBERED else len(NUMBERED) + 1
    return Unfinished(step=step, number=number, brief=brief or t.plain("resume.nothing_yet"))


async def _carry_on(update: Update, context: BotContext, caller: Caller, step: str) -> str | int:
    loaded = await _draft(update, context)
    if loaded is None:
        return ConversationHandler.END
    draft = loaded[1]
    if step == PICKING_INSTITUTION:
        return await _ask_institution(update, context, caller)
    if step == CONFIRMING:
        return await _show_summary(update, context, caller, draft)
    await _ask(update, context, caller, draft, step)
    return step


UNFINISHED = resumable(Resumable("report", _unfinished, _carry_on, _afresh))


async def _start_with_offer(
    update: Update, context: BotContext, caller: Caller, offer: PhotoOffer, *, pressed: bool
) -> str | int:
    """Start the report with the offer's photos (fetched into the evidence folder now), the offer used up: its
    question says the photos were attached and loses its buttons (`pressed`: its own 📝 上报隐患 was pressed; else
    /report was typed, and the question is edited where it stands). A button left on a client that missed the edit
    is answered as for any used offer, since the draft no longer holds it."""
    photos = [await keep_file(photo.file_id, photo.file_unique_id, context) for photo in offer.photos[:MAX_PHOTOS]]
    said = caller.t(counted("offer.accepted", len(photos)), count=len(photos))
    if pressed:
        await answer(update, said, edit=True)
    elif offer.message_id is not None and update.effective_chat is not None:
        # Deleted by the person, or too old to edit: the report goes on all the same.
        with contextlib.suppress(BadRequest):
            await context.bot.edit_message_text(said, chat_id=update.effective_chat.id, message_id=offer.message_id)
    await _save(context, caller, ReportDraft(step=PICKING_INSTITUTION, photos=photos))
    return await _ask_institution(update, context, caller)


async def accepted_offer(update: Update, context: BotContext) -> str | int | None:
    """📝 上报隐患 under photos sent before /report: the report starts with them in its draft (fetched into the
    evidence folder now), so the photo step counts them and asks only for more. A press that starts nothing (the
    offer gone: used, declined, replaced, or taken by a /report typed since) returns None, leaving a report under
    way at its step: this is an entry point, tried in the middle of a report too, and END would end that report."""
    query = update.callback_query
    if not is_private(update) or query is None or query.data is None:
        return None
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    offer = await current_offer(context, caller, int(query.data.removeprefix(OFFER)))
    if offer is None:
        await query.answer(caller.t.plain("offer.gone"), show_alert=True)
        return None
    await query.answer()
    return await _start_with_offer(update, context, caller, offer, pressed=True)


async def searched_institution(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return PICKING_INSTITUTION
    return await _ask_institution(update, context, loaded[0], clean_text(message.text)[:50])


async def chose_institution(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return ConversationHandler.END
    caller, draft = loaded
    await query.answer()
    institution_id = int(query.data.removeprefix("rp:inst:"))
    assert caller.user is not None
    allowed = await context.services.hazards.institutions_for_report(caller.user, limit=10_000)
    if institution_id not in {institution.id for institution in allowed}:
        await context.services.storage.audit.append(
            caller.telegram_user.id, "authz.refused", target=f"institution:{institution_id}",
            detail={"command": "report"},
        )
        await answer(update, caller.t("refusal.not_in_scope"))
        return PICKING_INSTITUTION
    draft = draft.model_copy(update={"institution_id": institution_id, "merge_into_hazard_id": None})
    return await _after(update, context, caller, draft, PICKING_AREA)


async def chose_area(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context, "rp:area:")
    if pressed is None:
        return ConversationHandler.END
    caller, draft, area = pressed
    draft = draft.model_copy(update={"area": HazardArea(area)})
    return await _after(update, context, caller, draft, PICKING_SEVERITY)


async def typed_area(update: Update, context: BotContext) -> str | int:
    """An area's label typed ("用电", "electricity") is its button pressed; other text is told to use the buttons."""
    typed = await _typed(update, context, PICKING_AREA, AREAS)
    if isinstance(typed, str):
        return typed
    caller, draft, area = typed
    return await _after(update, context, caller, draft.model_copy(update={"area": area}), PICKING_SEVERITY)


async def _typed(
    update: Update, context: BotContext, step: str, choices: Iterable[Choice]
) -> tuple[Caller, ReportDraft, Choice] | str:
    """The choice whose button label was typed at `step`, with who typed it and the draft; else `step` again, the
    person told to use the buttons."""
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return step
    caller, draft = loaded
    choice = typed_label(message.text, {catalog_label(c, caller.t): c for c in choices})
    if choice is None:
        await _guide("flow.use_buttons")(update, context)
        return step
    return caller, draft, choice


async def chose_severity(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context, "rp:sev:")
    if pressed is None:
        return ConversationHandler.END
    caller, draft, severity = pressed
    return await _after(update, context, caller, draft.model_copy(update={"severity": Severity(severity)}), DESCRIBING)


async def typed_severity(update: Update, context: BotContext) -> str | int:
    """A severity's label typed ("重大", "major") is its button pressed; other text is told to use the buttons."""
    typed = await _typed(update, context, PICKING_SEVERITY, SEVERITY_ORDER)
    if isinstance(typed, str):
        return typed
    caller, draft, severity = typed
    return await _after(update, context, caller, draft.model_copy(update={"severity": severity}), DESCRIBING)


async def described(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return DESCRIBING
    caller, draft = loaded
    if says_back(message.text):  # "返回" is no description: the way back is Edit, on the summary
        await answer(update, caller.t("report.describe_no_back", min=MIN_DESCRIPTION),
                     reply_markup=InlineKeyboardMarkup([_cancel_row(caller.t)]))
        return DESCRIBING
    text = await read_text(update, caller, message.text, least=MIN_DESCRIPTION, most=MAX_TEXT,
                           too_short="refusal.description_too_short", too_long="refusal.description_too_long",
                           cancel_data=CANCEL)
    if text is None:
        return DESCRIBING
    return await _after(update, context, caller, draft.model_copy(update={"description": text}), ADDING_PHOTOS)


async def not_text_at_description(update: Update, context: BotContext) -> None:
    """A voice note, a sticker, a file… where the description is asked for: said that it cannot be the description
    (a voice note was answered about photos), and the text asked for again."""
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or message is None:
        return
    key = "report.describe_not_voice" if message.voice or message.audio else "report.describe_not_this"
    await answer(update, caller.t(key, min=MIN_DESCRIPTION), reply_markup=InlineKeyboardMarkup([_cancel_row(caller.t)]))


# The steps of buttons before and after the photos: a photo sent at one of them is kept for the report.
_KEEPS_A_PHOTO = (PICKING_INSTITUTION, PICKING_AREA, PICKING_SEVERITY, PICKING_SOURCE)


async def photo_at_a_choice(update: Update, context: BotContext) -> None:
    """A photo where a button is to be pressed (the institution, the area, the severity, who found it): it was
    thrown away with "use the buttons". It is kept as the report's next photo, which the photo step then counts,
    and the person told so; the step stays. At any other such step (the summary, an edit) the buttons are asked
    for as before."""
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return
    caller, draft = loaded
    if draft.step not in _KEEPS_A_PHOTO:
        await _guide("flow.use_buttons")(update, context)
        return
    cancel = InlineKeyboardMarkup([_cancel_row(caller.t)])
    photos = await photo_added(update, message, context, caller.t, draft.photos, cancel)
    if photos is None:  # MAX_PHOTOS kept already: said
        return
    await _save(context, caller, draft.model_copy(update={"photos": photos}))
    key = "report.photo_kept_choose_after" if draft.step == PICKING_SOURCE else "report.photo_kept_choose"
    await answer(update, caller.t(key, count=len(photos)))


async def photo_instead_of_description(update: Update, context: BotContext) -> str | int:
    """A photo where the description is asked for. With a caption, the caption is the description (checked as a typed
    one) and the photo the first of the photos, as if both had been sent in turn; without one, the description is
    asked for first, as it always was. A caption too short or too long to be the description never costs the photo:
    it is kept, and the person told why the caption was not taken."""
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return DESCRIBING
    caller, draft = loaded
    caption = clean_text(message.caption)
    if is_blank(caption):
        await _guide("report.guide_describe", cancel=True)(update, context)
        return DESCRIBING
    if visible_length(caption) < MIN_DESCRIPTION:
        return await _photo_kept_for_description(update, context, caller, draft, message)
    if len(caption) > MAX_TEXT:
        return await _photo_kept_for_description(update, context, caller, draft, message, too_long=True)
    text = await read_text(update, caller, message.caption or "", least=MIN_DESCRIPTION, most=MAX_TEXT,
                           too_short="refusal.description_too_short", too_long="refusal.description_too_long",
                           cancel_data=CANCEL)
    if text is None:
        return DESCRIBING
    draft = draft.model_copy(update={"description": text})
    photos = await photo_added(update, message, context, caller.t, draft.photos, _photos_keyboard(caller.t, 0))
    if photos is None:  # MAX_PHOTOS sent before /report already: said; the description is kept all the same
        return await _after(update, context, caller, draft, ADDING_PHOTOS)
    draft = draft.model_copy(update={"photos": photos})
    if draft.step == EDITING:  # the description was being changed: back to the summary, the photo added
        return await _after(update, context, caller, draft, ADDING_PHOTOS)
    draft = await _photos_received(update, context, caller, draft.model_copy(update={"step": ADDING_PHOTOS}), message)
    await _save(context, caller, draft)
    return ADDING_PHOTOS


async def _photo_kept_for_description(
    update: Update, context: BotContext, caller: Caller, draft: ReportDraft, message: Message,
    *, too_long: bool = False,
) -> str:
    """A photo whose caption cannot be the description (too short to describe the hazard, or `too_long` for one):
    the photo is kept as the draft's next photo (as a rectification keeps one sent before its measures), the person
    is told why the caption was not taken, with the limit, and only the description is asked for again; the photo
    step then counts it."""
    cancel = InlineKeyboardMarkup([_cancel_row(caller.t)])
    photos = await photo_added(update, message, context, caller.t, draft.photos, cancel)
    t = caller.t
    if photos is None:  # none to keep, or MAX_PHOTOS kept already (said): the caption refused as typed
        if too_long:
            await answer(update, t("refusal.description_too_long", max=MAX_TEXT), reply_markup=cancel)
        else:
            await answer(update, t("refusal.description_too_short", min=MIN_DESCRIPTION), reply_markup=cancel)
        return DESCRIBING
    await _save(context, caller, draft.model_copy(update={"photos": photos}))
    if too_long:
        length = len(clean_text(message.caption))
        await answer(update, t("report.photo_kept_caption_too_long", max=MAX_TEXT, length=length), reply_markup=cancel)
    else:
        await answer(update, t("report.photo_kept_describe", min=MIN_DESCRIPTION), reply_markup=cancel)
    return DESCRIBING


async def added_photo(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return ADDING_PHOTOS
    caller, draft = loaded
    photos = await photo_added(update, message, context, caller.t, draft.photos, _photo_step_keyboard(caller.t, draft))
    if photos is None:
        return ADDING_PHOTOS
    draft = await _photos_received(update, context, caller, draft.model_copy(update={"photos": photos}), message)
    await _save(context, caller, draft)
    return ADDING_PHOTOS


async def _photos_received(
    update: Update, context: BotContext, caller: Caller, draft: ReportDraft, message: Message
) -> ReportDraft:
    """Say the photo was received: once a photo, but once an album. Telegram delivers an album one message a page;
    its first page is answered, and that answer is edited to count the pages that follow (as a photo sent first is
    offered once an album), rather than a reply and its buttons under every page. The album and its answer are kept
    in the draft, so the count goes on across a restart. Returns the draft naming them."""
    t, count = caller.t, len(draft.photos)
    keyboard = _photo_step_keyboard(t, draft)
    album = message.media_group_id
    if album is not None and album == draft.album and draft.album_reply_id is not None:
        text = t(counted("report.album_received", count), count=count, max=MAX_PHOTOS)
        try:
            await context.bot.edit_message_text(text, chat_id=message.chat_id, message_id=draft.album_reply_id,
                                                reply_markup=keyboard)
            return draft
        except BadRequest as error:
            if "not modified" in error.message:
                return draft
            # The answer is gone (deleted, too old to edit): a new one, which the next pages count on.
    key = counted("report.album_received", count) if album is not None else "report.photo_received"
    said = await answer(update, t(key, count=count, max=MAX_PHOTOS), reply_markup=keyboard)
    reply_id = said.message_id if album is not None and said is not None else None
    return draft.model_copy(update={"album": album, "album_reply_id": reply_id})


async def typed_at_photos(update: Update, context: BotContext) -> str | int:
    """Text at the photo step: "没有照片", "跳过", "完成"… is the button's answer; anything else is guided."""
    message = update.effective_message
    if message is not None and says_no_photo(message.text):
        return await photos_done(update, context)
    return await guided_photos(update, context)


async def guided_photos(update: Update, context: BotContext) -> str | int:
    """What the photo step needs, under the step's own buttons (无照片 before a photo, 完成 after)."""
    loaded = await _draft(update, context)
    if loaded is None:
        return ADDING_PHOTOS
    caller, draft = loaded
    count = len(draft.photos)
    key = counted("report.guide_photos_more", count) if count else "report.guide_photos"
    message = update.effective_message
    hint = photo_step_hint(message, key)
    text = caller.t(hint, count=count, max=MAX_PHOTOS)
    if hint == key and message is not None and message.text is None:
        # A voice note, a sticker, a video…: heard only "5 photos received", the person took it as kept.
        dropped = "report.voice_not_kept" if message.voice or message.audio else "report.not_a_photo_not_kept"
        text = caller.t(dropped) + "\n" + text
    await answer(update, text, reply_markup=_photo_step_keyboard(caller.t, draft))
    return ADDING_PHOTOS


async def photos_done(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    if loaded is None:
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    caller, draft = loaded
    if draft.step != EDITING and not draft.photos:
        # 无照片, pressed or typed: the location question opens with "好的，不附照片。", so whoever was unsure the
        # answer was taken does not type it again (where it would be taken for an address).
        await _save(context, caller, draft.model_copy(update={"step": LOCATING}))
        await _ask_location(update, caller.t, "report.ask_location_no_photos")
        return LOCATING
    # Done (or No photos) while changing them: what was sent now is the report's photos, the earlier ones dropped.
    return await _after(update, context, caller, draft.model_copy(update={"previous_photos": None}), LOCATING)


async def kept_photos(update: Update, context: BotContext) -> str | int:
    """"Keep the N photos" while changing them from the summary: back to the summary with them (`_show_summary`
    brings back the photos kept aside)."""
    loaded = await _draft(update, context)
    if loaded is None or update.callback_query is None:
        return ConversationHandler.END
    await update.callback_query.answer()
    return await _show_summary(update, context, *loaded)


async def shared_location(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.location is None:
        return LOCATING
    caller, draft = loaded
    location = message.location
    return await _located(update, context, caller, draft, "report.location_saved", latitude=location.latitude,
                          longitude=location.longitude, address_text=_venue_address(message, caller.t))


def _venue_address(message: Message, t: Translator) -> str | None:
    """A place picked from the map's list (a venue: "南塘街社区居委会", "鹿城区南汇街道南塘街88号") is the address
    whoever goes there reads, beside its point; a bare pin has none."""
    venue = message.venue
    if venue is None:
        return None
    title, address = clean_text(venue.title), clean_text(venue.address)
    if is_blank(title) or is_blank(address) or title == address:
        text = address if is_blank(title) else title
        return None if is_blank(text) else clipped(text, MAX_ADDRESS)
    return clipped(t.plain("report.venue_address", title=title, address=address), MAX_ADDRESS)


async def _located(
    update: Update, context: BotContext, caller: Caller, draft: ReportDraft, said: str, **where: object
) -> str | int:
    """Record where it is (or that it was skipped), take the location keyboard away, and go on."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(caller.t(said), reply_markup=ReplyKeyboardRemove(), do_quote=False)
    draft = draft.model_copy(update={"latitude": None, "longitude": None, "address_text": None, **where})
    return await _after(update, context, caller, draft, PICKING_SOURCE)


async def typed_address(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return LOCATING
    caller, draft = loaded
    text = clean_text(message.text)
    # Skip, or a typed "no" of any kind (无 / 不知道 / 没有照片 typed again…): never an address everyone then reads.
    if text == caller.t.plain("report.button_skip") or says_no_location(text):
        return await _located(update, context, caller, draft, "report.location_skipped")
    if is_blank(text):  # only invisible characters: no address was typed
        await answer(update, caller.t("report.guide_location"))
        return LOCATING
    if len(text) > MAX_ADDRESS:
        await answer(update, caller.t("refusal.address_too_long", max=MAX_ADDRESS))
        return LOCATING
    if not is_plausible_address(text):  # "3": an address no one could find, which everyone would then read
        await answer(update, caller.t("refusal.address_too_vague", min=MIN_ADDRESS))
        return LOCATING
    return await _located(update, context, caller, draft, "report.location_saved", address_text=text)


async def chose_source(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context, "rp:src:")
    if pressed is None:
        return ConversationHandler.END
    caller, draft, level = pressed
    return await _show_summary(update, context, caller, draft.model_copy(update={"source_level": SourceLevel(level)}))


async def typed_source(update: Update, context: BotContext) -> str | int:
    """Who found it typed as its button says ("互查", "county") is that button pressed."""
    typed = await _typed(update, context, PICKING_SOURCE, SOURCE_LEVELS)
    if isinstance(typed, str):
        return typed
    caller, draft, level = typed
    return await _show_summary(update, context, caller, draft.model_copy(update={"source_level": level}))


async def chose_to_edit(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    if loaded is None or update.callback_query is None:
        return ConversationHandler.END
    await update.callback_query.answer()
    caller, draft = loaded
    # Editing from here on: /cancel (or Cancel) goes back to the summary, the report kept.
    await _save(context, caller, draft.model_copy(update={"step": EDITING}))
    await answer(update, caller.t("report.ask_field"), reply_markup=_fields_keyboard(caller.t))
    return CHOOSING_FIELD


async def chose_field(update: Update, context: BotContext) -> str | int:
    pressed = await _pressed(update, context, "rp:edit:")
    if pressed is None:
        return ConversationHandler.END
    caller, draft, field = pressed
    if field not in EDITABLE_FIELDS:
        return CHOOSING_FIELD
    # The person answers that one question, then comes back to the summary.
    editing = draft.model_copy(update={"step": EDITING})
    if field == "photos" and draft.photos:
        # Kept aside, not thrown away: they come back unless new ones are sent and done.
        editing = editing.model_copy(update={"photos": [], "previous_photos": draft.photos})
    await _save(context, caller, editing)
    if field == "institution":
        return await _ask_institution(update, context, caller)
    step = FIELD_STEPS[field]
    await _ask(update, context, caller, editing, step)
    return step


async def chose_fixed_on_spot(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    if loaded is None or update.callback_query is None:
        return ConversationHandler.END
    await update.callback_query.answer()
    caller, draft = loaded
    keyboard = _after_photos_keyboard(caller.t, len(draft.fixed_on_spot_photos))
    await answer(update, caller.t("report.ask_after_photo", max=MAX_PHOTOS), reply_markup=keyboard)
    return FIXING_ON_SPOT


async def added_after_photo(update: Update, context: BotContext) -> str | int:
    """Each after-photo is kept and counted; Done goes back to the summary. Several photos sent at once (an album)
    arrive one message each, so the summary cannot follow the first of them."""
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return FIXING_ON_SPOT
    caller, draft = loaded
    keyboard = _after_photos_keyboard(caller.t, len(draft.fixed_on_spot_photos))
    photos = await photo_added(update, message, context, caller.t, draft.fixed_on_spot_photos, keyboard)
    if photos is None:
        return FIXING_ON_SPOT
    draft = draft.model_copy(update={"fixed_on_spot_photos": photos})
    await _save(context, caller, draft)
    await answer(update, caller.t("report.after_photo_received", count=len(photos), max=MAX_PHOTOS),
                 reply_markup=_after_photos_keyboard(caller.t, len(photos)))
    return FIXING_ON_SPOT


async def guided_after_photos(update: Update, context: BotContext) -> str | int:
    """Anything but a photo where the after-photos are asked for. Corrected on the spot needs one as its evidence:
    a typed "没有照片" cannot skip it, and is told so, with the way back to the summary to report it as it stands;
    "完成" typed once there are photos is the button's answer."""
    loaded = await _draft(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return FIXING_ON_SPOT
    caller, draft = loaded
    count = len(draft.fixed_on_spot_photos)
    no_photo = says_no_photo(message.text)
    if no_photo and count:
        return await _show_summary(update, context, caller, draft)
    if no_photo:
        key = "report.after_photo_required"
    else:
        key = counted("report.guide_after_photo_more", count) if count else "report.guide_after_photo"
        key = photo_step_hint(message, key)
    await answer(update, caller.t(key, count=count, max=MAX_PHOTOS),
                 reply_markup=_after_photos_keyboard(caller.t, count))
    return FIXING_ON_SPOT


async def after_photos_back(update: Update, context: BotContext) -> str | int:
    """No after-photo after all: back to the summary, to report the hazard as it stands."""
    loaded = await _draft(update, context)
    if loaded is None or update.callback_query is None:
        return ConversationHandler.END
    await update.callback_query.answer()
    return await _show_summary(update, context, *loaded)


async def after_photos_done(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    query = update.callback_query
    if loaded is None or query is None:
        return ConversationHandler.END
    caller, draft = loaded
    if not draft.fixed_on_spot_photos:
        await query.answer(caller.t.plain("report.guide_after_photo"), show_alert=True)
        return FIXING_ON_SPOT
    await query.answer()
    return await _show_summary(update, context, caller, draft)


async def chose_merge(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return ConversationHandler.END
    caller, draft = loaded
    draft = draft.model_copy(update={"merge_into_hazard_id": int(query.data.removeprefix("rp:merge:"))})
    return await _submit(update, context, caller, draft)


async def confirmed(update: Update, context: BotContext) -> str | int:
    loaded = await _draft(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, draft = loaded
    return await _submit(update, context, caller, draft.model_copy(update={"merge_into_hazard_id": None}))


async def _submit(update: Update, context: BotContext, caller: Caller, draft: ReportDraft) -> str | int:
    assert caller.user is not None
    services = context.services
    query = update.callback_query
    try:
        outcome = await services.hazards.submit_report(caller.user, draft, own_draft=True)
    except Refusal as refusal:
        if query is not None:
            await query.answer()
        await answer(update, caller.t(refusal.message_key, **refusal.params))
        return CONFIRMING
    if query is not None:
        await query.answer()
    hazard = outcome.hazard
    t = caller.t
    if outcome.merged:
        text = t("report.merged" if draft.photos else "report.merged_note", code=hazard.code)
        if hazard.reporter_id != caller.user.telegram_id:  # someone else's: she follows it from now on
            text = Html(text + "\n" + t("report.merged_following"))
        if draft.severity is not None and severity_rank(draft.severity) > severity_rank(hazard.severity):
            text = Html(text + "\n" + t("report.merged_severity_raised", reported=catalog_label(draft.severity, t),
                                         severity=catalog_label(hazard.severity, t)))
    elif draft.fixed_on_spot_photos:
        text = t("report.submitted_fixed", code=hazard.code)
    else:
        deadline = hazard.deadline.astimezone(services.settings.tz).strftime("%Y-%m-%d %H:%M") if hazard.deadline \
            else "—"
        text = t(_submitted_key(hazard), code=hazard.code, deadline=deadline)
    await answer(update, text, edit=query is not None)
    if draft.fixed_on_spot_photos and not outcome.merged:
        await tell_if_only_verifier(update, context, caller.user, hazard, t)
    return ConversationHandler.END


def _submitted_key(hazard: Hazard) -> str:
    """Who was told, as the reporter reads it: telling someone who reported elder abuse that the home's head was told
    would be false (a sensitive hazard never reaches the head) and alarming."""
    if is_sensitive(hazard.area):
        return "report.submitted_sensitive"
    if hazard.assignee_id is None:
        return "report.submitted_no_head"  # no head has registered: county staff were told instead
    return "report.submitted"


async def cancelled(update: Update, context: BotContext) -> str | int:
    """/cancel or Cancel. While one field is being changed from the summary, that change is what is cancelled: back
    to the summary with the report as it was (a second /cancel there cancels the report); else the report."""
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return ConversationHandler.END
    draft = await context.services.hazards.load_draft(caller.user.telegram_id)
    if draft is not None and draft.step == EDITING:
        return await _edit_cancelled(update, context, caller, draft)
    await context.services.hazards.discard_draft(caller.user.telegram_id)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await answer(update, caller.t("report.cancelled"), edit=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(caller.t("report.cancelled"), reply_markup=ReplyKeyboardRemove(),
                                                  do_quote=False)
    return ConversationHandler.END


async def _edit_cancelled(update: Update, context: BotContext, caller: Caller, draft: ReportDraft) -> str | int:
    said = caller.t("report.edit_cancelled")
    if update.callback_query is not None:
        await update.callback_query.answer()
        await answer(update, said, edit=True)
    elif update.effective_message is not None:  # the location's keyboard, if that was the field, goes
        await update.effective_message.reply_text(said, reply_markup=ReplyKeyboardRemove(), do_quote=False)
    return await _show_summary(update, context, caller, draft)


Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def _guide(key: str, *, cancel: bool = False) -> Callback:
    """Clear guidance when something arrives that this step cannot use; the flow stays where it is. `cancel`: at a
    step that asks for text, with Cancel under it, as under the question."""

    async def guide(update: Update, context: BotContext) -> None:
        caller = await identify(update, context)
        if caller is not None:
            markup = InlineKeyboardMarkup([_cancel_row(caller.t)]) if cancel else None
            await answer(update, caller.t(key, min=MIN_DESCRIPTION, max=MAX_PHOTOS), reply_markup=markup)

    return guide


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    photo = private & filters.PHOTO
    other = private & ~filters.COMMAND
    application.add_handler(
        ConversationHandler(
            name="report",
            persistent=True,
            entry_points=[
                CommandHandler("report", start_report),
                CallbackQueryHandler(accepted_offer, pattern=rf"^{OFFER}\d+$"),
            ],
            states={
                RESUMING: UNFINISHED.handlers(),
                PICKING_INSTITUTION: [
                    CallbackQueryHandler(chose_institution, pattern=r"^rp:inst:\d+$"),
                    CallbackQueryHandler(turned_institution_page, pattern=rf"^{INSTITUTION_PAGE}\d+$"),
                    MessageHandler(text, searched_institution),
                ],
                PICKING_AREA: [
                    CallbackQueryHandler(chose_area, pattern=r"^rp:area:(" + "|".join(AREAS) + ")$"),
                    MessageHandler(text, typed_area),
                ],
                PICKING_SEVERITY: [
                    CallbackQueryHandler(chose_severity, pattern=r"^rp:sev:(general|major|serious)$"),
                    MessageHandler(text, typed_severity),
                ],
                DESCRIBING: [
                    MessageHandler(text, described),
                    MessageHandler(photo, photo_instead_of_description),
                    MessageHandler(other, not_text_at_description),
                ],
                ADDING_PHOTOS: [
                    MessageHandler(photo, added_photo),
                    CallbackQueryHandler(photos_done, pattern=r"^rp:photos:done$"),
                    CallbackQueryHandler(kept_photos, pattern=r"^rp:photos:keep$"),
                    MessageHandler(text, typed_at_photos),
                    MessageHandler(other, guided_photos),
                ],
                LOCATING: [
                    MessageHandler(private & filters.LOCATION, shared_location),
                    MessageHandler(text, typed_address),
                    MessageHandler(other, _guide("report.guide_location")),
                ],
                PICKING_SOURCE: [
                    CallbackQueryHandler(chose_source, pattern=r"^rp:src:(self_check|cross_check|county|city)$"),
                    MessageHandler(text, typed_source),
                ],
                CONFIRMING: [
                    CallbackQueryHandler(confirmed, pattern=r"^rp:confirm$"),
                    CallbackQueryHandler(chose_merge, pattern=r"^rp:merge:\d+$"),
                    CallbackQueryHandler(chose_to_edit, pattern=r"^rp:edit$"),
                    CallbackQueryHandler(chose_fixed_on_spot, pattern=r"^rp:onspot$"),
                ],
                CHOOSING_FIELD: [CallbackQueryHandler(chose_field, pattern=r"^rp:edit:\w+$")],
                FIXING_ON_SPOT: [
                    MessageHandler(photo, added_after_photo),
                    CallbackQueryHandler(after_photos_done, pattern=r"^rp:onspot:done$"),
                    CallbackQueryHandler(after_photos_back, pattern=r"^rp:onspot:back$"),
                    MessageHandler(other, guided_after_photos),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=rf"^{CANCEL}$"),
                MessageHandler(photo, photo_at_a_choice),
                MessageHandler(other, _guide("flow.use_buttons")),
            ],
            allow_reentry=True,
        )
    )
