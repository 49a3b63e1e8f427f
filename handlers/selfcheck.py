"""The monthly self-inspection (/selfcheck): the institution's checklist on ONE message that edits itself.

The head answers item by item with ✅ / ❌ / ➖ (not applicable) on the sheet. A ❌ asks, on the same sheet, for a
note, an optional photo and a severity, and becomes a hazard in the hazard loop (found by a self-check) whose
notices go out at once. The answers are in the database as they are given (`SelfInspectionService`); the draft
only remembers which message is the sheet, which item it shows and the ❌ being described, so a restart resumes.

A sheet is open only during its month. Once the month has ended, whatever the head does on it (a button of the
sheet, /selfcheck) puts a notice in its place instead: the month's sheet has closed, unfinished (it does not count)
or, if it was being amended, finished as it stood; the answers are kept; this month's sheet is a button away. A ❌
being described as the month ended is the exception: its note, photo and severity are still taken, and it becomes
a hazard, before the notice.

The sheet is edited when a button is pressed, and sent anew (the old one deleted) when the head types or sends a
photo, so that it always sits below the head's last message. It is never edited into what it already shows:
Telegram answers that with 400 "message is not modified".
"""

from __future__ import annotations

import hashlib
import json
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.catalog import SEVERITY_ORDER, Severity
from bot.domain.compliance import SELF_INSPECTION_RULE, period_of
from bot.domain.roles import Role
from bot.domain.text import clean_text, is_blank, says_no_photo
from bot.i18n import Html, Translator
from bot.services.errors import Refusal
from bot.services.self_inspection import AnswerOutcome, InspectionSheet, most_note
from handlers.calendar_common import (
    ENTRY_LABELS,
    ENTRY_SELFCHECK,
    SELFCHECK,
    drafts,
    period_label,
    refuse_role,
    status_line,
)
from handlers.common import (
    Caller,
    answer,
    catalog_label,
    deadline_terms,
    identify,
    is_private,
    place_name,
    popup_text,
    typed_label,
)
from handlers.evidence import keep_photo, photo_step_hint
from handlers.resume import Resumable, Unfinished, resumable
from storage.calendar_models import Answer
from storage.repositories.calendar_drafts import SelfCheckDraft

log = logging.getLogger(__name__)

ANSWERING = "selfcheck.answering"
NOTING = "selfcheck.noting"
PHOTOGRAPHING = "selfcheck.photographing"
GRADING = "selfcheck.grading"
STATES = {"answer": ANSWERING, "note": NOTING, "photo": PHOTOGRAPHING, "severity": GRADING}

MARKS = {Answer.OK: "✅", Answer.FAIL: "❌", Answer.NA: "➖"}
UNANSWERED = "▫️"


# ---- the sheet -------------------------------------------------------------------------------------------


def _button(t: Translator, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.plain(key), callback_data=data)


def _keyboard(sheet: InspectionSheet, draft: SelfCheckDraft, t: Translator) -> InlineKeyboardMarkup:
    undo = [_button(t, "selfcheck.button_undo", "sc:undo")]
    if draft.step == "note":
        return InlineKeyboardMarkup([undo, [_button(t, "selfcheck.button_pause", "sc:pause")]])
    if draft.step == "photo":
        return InlineKeyboardMarkup([[_button(t, "selfcheck.button_skip_photo", "sc:skip")], undo])
    item = sheet.items[draft.cursor]
    if draft.step == "severity":
        row = [
            InlineKeyboardButton(("✓ " if s is item.severity else "") + catalog_label(s, t),
                                 callback_data=f"sc:sev:{s}")
            for s in SEVERITY_ORDER
        ]
        return InlineKeyboardMarkup([row, undo])
    answers = [
        _button(t, "selfcheck.button_ok", f"sc:a:{item.code}:ok"),
        _button(t, "selfcheck.button_fail", f"sc:a:{item.code}:fail"),
        _button(t, "selfcheck.button_na", f"sc:a:{item.code}:na"),
    ]
    moves = [_button(t, "selfcheck.button_back", "sc:back")] if draft.cursor > 0 else []
    moves.append(_button(t, "selfcheck.button_pause", "sc:pause"))
    return InlineKeyboardMarkup([answers, moves])


def _month(sheet: InspectionSheet, t: Translator) -> str:
    return period_label(sheet.period, t)


def _render(
    sheet: InspectionSheet,
    draft: SelfCheckDraft,
    t: Translator,
    hint: str | None,
    terms: dict[str, str],
    closed: bool,
) -> tuple[Html, InlineKeyboardMarkup]:
    items, answered = sheet.items, sum(1 for item in sheet.items if item.code in sheet.answers)
    lines = [
        t("selfcheck.sheet_header", institution=place_name(sheet.institution, t), month=_month(sheet, t),
          answered=answered, total=len(items))
    ]
    if closed:  # only while a ❌ begun before the month ended is being described
        lines.append(t("selfcheck.closed_describing", month=_month(sheet, t)))
    elif draft.amending:
        lines.append(t("selfcheck.amending"))
    lines.append("")
    for index, item in enumerate(items):
        given = sheet.answers.get(item.code)
        if index == draft.cursor:
            lines.append(t("selfcheck.item_current", item=item.text(t.language)))
        else:
            lines.append(t("selfcheck.item_line", mark=MARKS[given.answer] if given else UNANSWERED,
                           item=item.text(t.language)))
    current = items[draft.cursor]
    lines += ["", _prompt(sheet, draft, t, terms)]
    if draft.step == "answer" and (previous := sheet.answers.get(current.code)) is not None:
        lines.append(t("selfcheck.previous_answer", mark=MARKS[previous.answer]))
    if hint:
        lines.append(hint)
    return Html("\n".join(lines)), _keyboard(sheet, draft, t)


def _prompt(sheet: InspectionSheet, draft: SelfCheckDraft, t: Translator, terms: dict[str, str]) -> str:
    item = sheet.items[draft.cursor].text(t.language)
    if draft.step == "note":
        return t("selfcheck.ask_note", item=item)
    if draft.step == "photo":
        return t("selfcheck.ask_photo", item=item)
    if draft.step == "severity":
        return t("selfcheck.ask_severity", item=item, **terms)
    return t("selfcheck.ask_item", number=draft.cursor + 1, total=len(sheet.items), item=item)


def _fingerprint(text: str, markup: InlineKeyboardMarkup | None) -> str:
    shape = json.dumps(markup.to_dict() if markup else None, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{text}\n{shape}".encode()).hexdigest()[:16]


async def _show(
    update: Update,
    context: BotContext,
    caller: Caller,
    draft: SelfCheckDraft,
    sheet: InspectionSheet,
    *,
    move: bool = False,
    hint: str | None = None,
) -> str:
    """Put the sheet on screen as the draft says, and answer the conversation state it is in."""
    terms = deadline_terms(context.services.settings.deadline_policy, caller.t)
    closed = context.services.self_inspections.closed(sheet.inspection)
    text, markup = _render(sheet, draft, caller.t, hint, terms, closed)
    await _put(update, context, caller, draft, text, markup, move=move)
    return STATES[draft.step]


async def _put(
    update: Update,
    context: BotContext,
    caller: Caller,
    draft: SelfCheckDraft,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    move: bool,
) -> SelfCheckDraft:
    chat = update.effective_chat
    assert chat is not None and caller.user is not None
    fingerprint = _fingerprint(text, markup)
    if not move and draft.message_id is not None:
        if fingerprint == draft.shown:
            return draft
        try:
            await context.bot.edit_message_text(text, chat_id=chat.id, message_id=draft.message_id, reply_markup=markup)
        except BadRequest as error:
            # Deleted by the head, or too old to edit: the sheet moves below instead.
            log.info("could not edit the self-inspection sheet: %s", error.message)
        else:
            draft = draft.model_copy(update={"shown": fingerprint})
            await drafts(context).save(caller.user.telegram_id, draft, context.services.clock.now())
            return draft
    sent = await chat.send_message(text, reply_markup=markup)
    previous = draft.message_id
    draft = draft.model_copy(update={"message_id": sent.message_id, "shown": fingerprint})
    await drafts(context).save(caller.user.telegram_id, draft, context.services.clock.now())
    if previous is not None and previous != sent.message_id:
        try:
            await context.bot.delete_message(chat.id, previous)
        except TelegramError:
            log.info("could not delete the previous self-inspection sheet %s", previous)
    return draft


# ---- loading ---------------------------------------------------------------------------------------------


async def _load(update: Update, context: BotContext) -> tuple[Caller, SelfCheckDraft, InspectionSheet] | None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    draft = await drafts(context).get(caller.user.telegram_id, SelfCheckDraft)
    sheet = None
    if draft is not None:
        try:
            sheet = await context.services.self_inspections.sheet(caller.user, draft.inspection_id)
        except Refusal:
            sheet = None
    if draft is None or sheet is None or not 0 <= draft.cursor < len(sheet.items):
        if update.callback_query is not None:
            await update.callback_query.answer(caller.t.plain("fallback.stale_button"), show_alert=True)
        else:
            await answer(update, caller.t("selfcheck.lost"))
        return None
    return caller, draft, sheet


def _on_sheet(update: Update, draft: SelfCheckDraft) -> bool:
    """Whether a button was pressed on the sheet now on screen, not on one it replaced."""
    query = update.callback_query
    return query is not None and isinstance(query.message, Message) and query.message.message_id == draft.message_id


# ---- the journey -----------------------------------------------------------------------------------------


async def start_selfcheck(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return ConversationHandler.END
    if caller.user.role is not Role.HEAD:
        await refuse_role(update, context, caller, "refusal.selfcheck", "selfcheck")
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    draft = await drafts(context).get(caller.user.telegram_id, SelfCheckDraft)
    left = await _closed_sheet(context, caller, draft)
    if left is not None and draft is not None:
        if draft.failing is not None and 0 <= draft.cursor < len(left.items):
            # A ❌ begun before the month ended: its description is still taken, then the notice.
            return await _show(update, context, caller, draft, left, move=True)
        return await _close(update, context, caller, draft, left, move=True)
    try:
        sheet = await context.services.self_inspections.start(caller.user)
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params))
        return ConversationHandler.END
    if draft is None or draft.inspection_id != sheet.inspection.id or draft.cursor >= len(sheet.items):
        amending = sheet.inspection.done
        draft = SelfCheckDraft(
            inspection_id=sheet.inspection.id,
            message_id=None if draft is None else draft.message_id,
            cursor=0 if amending else _first_unanswered(sheet),
            amending=amending,
        )
    if not draft.amending and sheet.complete:
        # Every item was answered before the bot stopped, but the inspection was never closed.
        return await _finish(update, context, caller, draft, move=True)
    return await _show(update, context, caller, draft, sheet, move=True)


async def _closed_sheet(
    context: BotContext, caller: Caller, draft: SelfCheckDraft | None
) -> InspectionSheet | None:
    """The sheet the head's draft points at, when its month has ended (on the bus at midnight on the 31st, or back
    weeks later); otherwise None, and /selfcheck opens this month's."""
    if draft is None or caller.user is None:
        return None
    try:
        sheet = await context.services.self_inspections.sheet(caller.user, draft.inspection_id)
    except Refusal:
        return None  # another institution's since: the head has moved on
    return sheet if context.services.self_inspections.closed(sheet.inspection) else None


async def _close(
    update: Update,
    context: BotContext,
    caller: Caller,
    draft: SelfCheckDraft,
    sheet: InspectionSheet,
    *,
    move: bool = False,
) -> int:
    """The sheet's month has ended: the notice takes the sheet's place, with this month's sheet a button away."""
    assert caller.user is not None
    services, t = context.services, caller.t
    sheet = await services.self_inspections.acknowledge_closed(caller.user, sheet.inspection.id)
    this_month = period_of(SELF_INSPECTION_RULE, services.self_inspections.today())
    lines = [
        t(
            "selfcheck.closed_amending" if sheet.inspection.done else "selfcheck.expired",
            institution=place_name(sheet.institution, t),
            month=_month(sheet, t),
            end=sheet.period.end.isoformat(),
            answered=len(sheet.items) - len(sheet.unanswered),
            total=len(sheet.items),
        )
    ]
    lines += await _failed_lines(context, sheet, t)
    lines.append(t("selfcheck.this_month", month=period_label(this_month, t)))
    markup = InlineKeyboardMarkup([[_button(t, ENTRY_LABELS[ENTRY_SELFCHECK], ENTRY_SELFCHECK)]])
    await _put(update, context, caller, draft, Html("\n".join(lines)), markup, move=move)
    await drafts(context).delete(caller.user.telegram_id, SelfCheckDraft)
    return ConversationHandler.END


async def _failed_lines(context: BotContext, sheet: InspectionSheet, t: Translator) -> list[str]:
    """A line for each ❌ on the sheet, with the hazard it became."""
    lines = []
    for item in sheet.items:
        given = sheet.answers.get(item.code)
        if given is None or given.answer is not Answer.FAIL:
            continue
        hazard = None if given.hazard_id is None else await context.services.storage.hazards.get(given.hazard_id)
        lines.append(t("selfcheck.failed_line", item=item.text(t.language), code=hazard.code if hazard else "—"))
    return lines


def _is_closed(context: BotContext, sheet: InspectionSheet) -> bool:
    return context.services.self_inspections.closed(sheet.inspection)


def _first_unanswered(sheet: InspectionSheet) -> int:
    pending = sheet.next_item
    return 0 if pending is None else sheet.items.index(pending)


async def pressed_answer(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    if _is_closed(context, sheet):
        await query.answer()
        return await _close(update, context, caller, draft, sheet)
    _, _, code, given = query.data.split(":")
    if not _on_sheet(update, draft) or draft.step != "answer" or code != sheet.items[draft.cursor].code:
        # A second tap on a button already answered, or on a sheet that has moved: nothing to do.
        await query.answer()
        return STATES[draft.step]
    return await _answered(update, context, caller, draft, sheet, Answer(given))


async def typed_answer(update: Update, context: BotContext) -> str | int:
    """The words of an answer's button typed ("合格", "不合格", "不适用", "N/A") are that button pressed on the item
    shown; other text is guided, as before."""
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    t = caller.t
    labels = {t.plain(f"selfcheck.button_{given}"): given for given in (Answer.OK, Answer.FAIL, Answer.NA)}
    given = typed_label(message.text, labels)
    if given is None or draft.step != "answer" or _is_closed(context, sheet):
        return await guided(update, context)
    return await _answered(update, context, caller, draft, sheet, given, move=True)


async def _answered(
    update: Update, context: BotContext, caller: Caller, draft: SelfCheckDraft, sheet: InspectionSheet,
    given: Answer, *, move: bool = False,
) -> str | int:
    """The item on the sheet answered, pressed or typed (`move`: the sheet comes down below the typed answer)."""
    query = update.callback_query
    if given is Answer.FAIL:
        if query is not None:
            await query.answer()
        draft = draft.model_copy(update={"step": "note", "failing": sheet.items[draft.cursor].code, "note": None,
                                         "photo": None})
        return await _show(update, context, caller, draft, sheet, move=move)
    assert caller.user is not None
    code = sheet.items[draft.cursor].code
    try:
        outcome = await context.services.self_inspections.answer(caller.user, draft.inspection_id, code, given)
    except Refusal as refusal:
        if refusal.code == "selfcheck_closed":  # the month ended as the button was pressed
            if query is not None:
                await query.answer()
            return await _close(update, context, caller, draft, sheet, move=move)
        if query is None:
            return await _show(update, context, caller, draft, sheet, move=True,
                               hint=caller.t(refusal.message_key, **refusal.params))
        await query.answer(popup_text(caller.t, refusal), show_alert=True)
        return STATES[draft.step]
    if query is not None:
        await query.answer()
    return await _advance(update, context, caller, draft, outcome.sheet, move=move)


async def _advance(
    update: Update, context: BotContext, caller: Caller, draft: SelfCheckDraft, sheet: InspectionSheet,
    *, move: bool = False,
) -> str | int:
    cursor = draft.cursor + 1
    if cursor >= len(sheet.items):
        if sheet.complete:
            return await _finish(update, context, caller, draft, move=move)
        cursor = _first_unanswered(sheet)
    draft = draft.model_copy(update={"cursor": cursor, "step": "answer", "failing": None, "note": None, "photo": None})
    return await _show(update, context, caller, draft, sheet, move=move)


async def pressed_back(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None or update.callback_query is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    await update.callback_query.answer()
    if _is_closed(context, sheet):
        return await _close(update, context, caller, draft, sheet)
    if not _on_sheet(update, draft) or draft.step != "answer":
        return STATES[draft.step]
    draft = draft.model_copy(update={"cursor": max(draft.cursor - 1, 0)})
    return await _show(update, context, caller, draft, sheet)


async def pressed_undo(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None or update.callback_query is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    await update.callback_query.answer()
    draft = draft.model_copy(update={"step": "answer", "failing": None, "note": None, "photo": None})
    if _is_closed(context, sheet):
        return await _close(update, context, caller, draft, sheet)
    return await _show(update, context, caller, draft, sheet)


async def noted(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return NOTING
    caller, draft, sheet = loaded
    note = clean_text(message.text)
    if is_blank(note):  # only invisible characters: the item still needs words saying what is wrong
        return await _show(update, context, caller, draft, sheet, move=True, hint=caller.t("refusal.note_required"))
    most = most_note(sheet.items[draft.cursor])  # the note goes into the hazard behind the item's name
    if len(note) > most:
        return await _show(update, context, caller, draft, sheet, move=True,
                           hint=caller.t("refusal.note_too_long", max=most))
    # A photo sent before the note was kept: the optional photo step is already done.
    step = "severity" if draft.photo is not None else "photo"
    draft = draft.model_copy(update={"note": note, "step": step})
    return await _show(update, context, caller, draft, sheet, move=True)


async def photographed(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    photo = await keep_photo(message, context)
    caption = clean_text(message.caption)
    fits = not is_blank(caption) and len(caption) <= most_note(sheet.items[draft.cursor])
    note = draft.note or (caption if fits else None)
    if note is None:
        draft = draft.model_copy(update={"photo": photo, "step": "note"})
        return await _show(update, context, caller, draft, sheet, move=True, hint=caller.t("selfcheck.hint_note_first"))
    draft = draft.model_copy(update={"photo": photo, "note": note, "step": "severity"})
    return await _show(update, context, caller, draft, sheet, move=True)


async def skipped_photo(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None or update.callback_query is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    await update.callback_query.answer()
    if draft.step != "photo":
        return STATES[draft.step]
    return await _show(update, context, caller, draft.model_copy(update={"step": "severity"}), sheet)


async def typed_at_photo(update: Update, context: BotContext) -> str | int:
    """Text where the optional photo is asked for: "跳过", "没有照片", "无"… is the 跳过照片 button's answer."""
    message = update.effective_message
    if message is None or not says_no_photo(message.text):
        return await guided(update, context)
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    if draft.step != "photo":
        return STATES[draft.step]
    return await _show(update, context, caller, draft.model_copy(update={"step": "severity"}), sheet, move=True)


async def graded(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    query = update.callback_query
    if loaded is None or query is None or query.data is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    if draft.step != "severity" or draft.failing is None:
        await query.answer()
        return STATES[draft.step]
    return await _graded(update, context, caller, draft, sheet, Severity(query.data.removeprefix("sc:sev:")))


async def typed_severity(update: Update, context: BotContext) -> str | int:
    """A severity's label typed ("重大", "major") is its button pressed; other text is guided, as before."""
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    severity = typed_label(message.text, {catalog_label(s, caller.t): s for s in SEVERITY_ORDER})
    if severity is None or draft.step != "severity" or draft.failing is None:
        return await guided(update, context)
    return await _graded(update, context, caller, draft, sheet, severity, move=True)


async def _graded(
    update: Update, context: BotContext, caller: Caller, draft: SelfCheckDraft, sheet: InspectionSheet,
    severity: Severity, *, move: bool = False,
) -> str | int:
    """The ❌ graded, pressed or typed (`move`: the sheet comes down below the typed answer, which hears in a
    message what a press hears in its toast)."""
    query = update.callback_query
    closed = _is_closed(context, sheet)
    try:
        outcome = await _record_failure(context, caller, draft, severity, closed=closed)
    except Refusal as refusal:
        if query is not None:
            await query.answer()
        draft = draft.model_copy(update={"step": "note", "note": None})
        return await _show(update, context, caller, draft, sheet, move=move,
                           hint=caller.t(refusal.message_key, **refusal.params))
    if outcome.hazard is not None:
        key, code = "selfcheck.hazard_opened", outcome.hazard.hazard.code
    else:
        # The item's hazard (from this sheet or an earlier month's) is still open: the answer points at it.
        kept = None if outcome.kept is None else await context.services.storage.hazards.get(outcome.kept)
        key, code = "selfcheck.hazard_kept", kept.code if kept else "—"
    if query is not None:
        await query.answer(caller.t.plain(key, code=code))
    else:
        await answer(update, caller.t(key, code=code))
    if closed:
        return await _close(update, context, caller, draft, outcome.sheet, move=move)
    return await _advance(update, context, caller, draft, outcome.sheet, move=move)


async def _record_failure(
    context: BotContext, caller: Caller, draft: SelfCheckDraft, severity: Severity, *, closed: bool
) -> AnswerOutcome:
    """The ❌ described on the sheet; on a sheet whose month has ended since it was begun, kept as a late finding."""
    assert caller.user is not None and draft.failing is not None
    service = context.services.self_inspections
    if closed:
        return await service.keep_late_failure(
            caller.user, draft.inspection_id, draft.failing, note=draft.note, photo=draft.photo, severity=severity
        )
    return await service.answer(
        caller.user, draft.inspection_id, draft.failing, Answer.FAIL,
        note=draft.note, photo=draft.photo, severity=severity,
    )


async def _finish(
    update: Update, context: BotContext, caller: Caller, draft: SelfCheckDraft, *, move: bool = False
) -> str | int:
    assert caller.user is not None
    services, t = context.services, caller.t
    try:
        finished = await services.self_inspections.finish(caller.user, draft.inspection_id)
    except Refusal as refusal:
        if refusal.code == "selfcheck_closed":  # the month ended between the last answer and the finish
            closed = await services.self_inspections.sheet(caller.user, draft.inspection_id)
            return await _close(update, context, caller, draft, closed, move=move)
        # An item was added to the checklist since the sheet was drawn: it is the one left to answer.
        sheet = await services.self_inspections.sheet(caller.user, draft.inspection_id)
        draft = draft.model_copy(update={"cursor": _first_unanswered(sheet), "step": "answer"})
        return await _show(update, context, caller, draft, sheet, hint=t(refusal.message_key, **refusal.params))
    lines = [
        t(
            "selfcheck.amended" if draft.amending else "selfcheck.finished",
            institution=place_name(finished.institution, t),
            month=_month(finished, t),
            total=len(finished.items),
            ok=finished.count(Answer.OK),
            failed=finished.count(Answer.FAIL),
            na=finished.count(Answer.NA),
        )
    ]
    lines += await _failed_lines(context, finished, t)
    lines.append(status_line(SELFCHECK, await services.self_inspections.status(finished.institution), t))
    await _put(update, context, caller, draft, Html("\n".join(lines)), None, move=move)
    await drafts(context).delete(caller.user.telegram_id, SelfCheckDraft)
    return ConversationHandler.END


async def paused(update: Update, context: BotContext) -> int:
    """The answers given so far are already saved: /selfcheck carries on from the next item."""
    caller = await identify(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
    if caller is None or caller.user is None:
        return ConversationHandler.END
    draft = await drafts(context).get(caller.user.telegram_id, SelfCheckDraft)
    text = caller.t("selfcheck.paused")
    if draft is None:
        await answer(update, text)
        return ConversationHandler.END
    draft = draft.model_copy(update={"step": "answer", "failing": None, "note": None, "photo": None})
    # /cancel is typed below the sheet: the notice then takes the sheet's place below it.
    await _put(update, context, caller, draft, text, None, move=update.callback_query is None)
    return ConversationHandler.END


async def guided(update: Update, context: BotContext) -> str | int:
    """Something the current step cannot use: the sheet comes down below it, saying what it needs."""
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, draft, sheet = loaded
    if draft.step == "answer" and _is_closed(context, sheet):
        return await _close(update, context, caller, draft, sheet, move=True)
    hints = {
        "answer": "selfcheck.hint_use_buttons",
        "note": "selfcheck.hint_note_text",
        "photo": "selfcheck.hint_photo_or_skip",
        "severity": "selfcheck.hint_use_buttons",
    }
    hint = hints[draft.step]
    if draft.step in ("note", "photo"):  # both take the ❌'s photo
        hint = photo_step_hint(update.effective_message, hint)
    return await _show(update, context, caller, draft, sheet, move=True, hint=caller.t(hint))


# ---- put aside --------------------------------------------------------------------------------------------


async def _unfinished(context: BotContext, caller: Caller) -> Unfinished | None:
    """This month's sheet with answers on it (or a ❌ being described), for the journey switch, /start and /help:
    described by the items answered, since the sheet has no steps. Every answer is saved as given, and /selfcheck
    carries on where the sheet stood. None for a sheet with nothing answered, a finished month being amended (it
    counts already), or a sheet whose month has ended (it no longer can be finished)."""
    assert caller.user is not None
    draft = await drafts(context).get(caller.user.telegram_id, SelfCheckDraft)
    if draft is None or draft.amending:
        return None
    try:
        sheet = await context.services.self_inspections.sheet(caller.user, draft.inspection_id)
    except Refusal:
        return None
    answered = len(sheet.items) - len(sheet.unanswered)
    if _is_closed(context, sheet) or not (answered or draft.failing):
        return None
    return Unfinished(step=STATES[draft.step], number=answered, brief=_month(sheet, caller.t), of=len(sheet.items))


# Taken up again by its own command (/selfcheck carries on at the sheet's item): described, never offered.
resumable(Resumable("selfcheck", _unfinished))


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    photo = private & filters.PHOTO
    other = private & ~filters.COMMAND
    undo = r"^sc:undo$"
    application.add_handler(
        ConversationHandler(
            name="selfcheck",
            persistent=True,
            entry_points=[
                CommandHandler("selfcheck", start_selfcheck, filters=private),
                CallbackQueryHandler(start_selfcheck, pattern=rf"^{ENTRY_SELFCHECK}$"),
            ],
            states={
                ANSWERING: [
                    CallbackQueryHandler(pressed_answer, pattern=r"^sc:a:[a-z_]+\.[a-z0-9_]+:(ok|fail|na)$"),
                    CallbackQueryHandler(pressed_back, pattern=r"^sc:back$"),
                    MessageHandler(text, typed_answer),
                ],
                NOTING: [MessageHandler(text, noted), MessageHandler(photo, photographed),
                         CallbackQueryHandler(pressed_undo, pattern=undo)],
                PHOTOGRAPHING: [
                    MessageHandler(photo, photographed),
                    CallbackQueryHandler(skipped_photo, pattern=r"^sc:skip$"),
                    MessageHandler(text, typed_at_photo),
                    CallbackQueryHandler(pressed_undo, pattern=undo),
                ],
                GRADING: [
                    CallbackQueryHandler(graded, pattern=r"^sc:sev:(general|major|serious)$"),
                    MessageHandler(text, typed_severity),
                    CallbackQueryHandler(pressed_undo, pattern=undo),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", paused),
                CallbackQueryHandler(paused, pattern=r"^sc:pause$"),
                MessageHandler(other, guided),
            ],
            allow_reentry=True,
        )
    )
