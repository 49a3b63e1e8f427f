"""/warnings (staff): the warnings in force in one's scope, each with what may be done to it now — send a draft
with one tap, 升级 / 降级 / 更新 / 解除 a sent one (reaching the same recipients as the first message), or withdraw
a draft. Official warnings, once sent, belong to their feed: they are shown, not changed.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role, region_in_scope
from bot.domain.text import split_warning_text
from bot.domain.warnings import EarlyWarning, WarningLevel, WarningOrigin, WarningStatus, effective_expiry
from bot.i18n import Html, Translator, counted, escape
from bot.services.errors import Refusal
from bot.services.warnings import WarningDelivery, WarningEdit
from handlers.common import (
    Caller,
    Pressed,
    answer,
    cancel_journey,
    cancel_keyboard,
    identify,
    is_private,
    pressed,
    refuse_press,
    typed,
)
from handlers.hazard_buttons import replace_buttons
from handlers.warn import warning_text_refused
from handlers.warning_delivery import SEND_DRAFT, Delivered, deliver, no_one_line, round_lines
from handlers.warning_outbox import show_progress
from handlers.warning_text import LEVEL_ICONS, headline, level_label, local_time, title
from handlers.warnstatus import edit_in_place
from storage.models import User
from storage.repositories.warning_drafts import WarningDraftRepository, WarnUpdateDraft

WRITING_UPDATE = "warnings.writing_update"
UPDATE_CANCEL = "wl:cancel_update"
KEEP = "wl:keep"  # 取消 under the level picker or the lift confirmation
MAX_LISTED = 10
# Refusals that mean "not yours to do" rather than "too late": a forged or misplaced press, worth an audit entry.
AUTHZ_REFUSALS = frozenset({"warning_staff_only", "warning_out_of_scope"})


def _id(query: CallbackQuery) -> int:
    return int((query.data or "").rsplit(":", 1)[-1])


def _scope(user: User) -> str | None:
    return user.region_code if user.role is Role.COUNTY else None


# ---- the list -----------------------------------------------------------------------------------------------


def _summary(warning: EarlyWarning, t: Translator, context: BotContext) -> Html:
    tz = context.services.settings.tz
    until = local_time(effective_expiry(warning, context.services.warnings.settings.default_duration), tz)
    lines = [
        t("warnings.item", icon=LEVEL_ICONS[warning.level], title=title(warning, t), id=warning.id,
          headline=headline(warning, t)),
        t(f"warnings.status_{warning.status.value}", until=until),
        t(f"warnings.origin_{warning.origin.value}"),
    ]
    return Html("\n".join(lines))


def _buttons(warning: EarlyWarning, t: Translator) -> InlineKeyboardMarkup | None:
    wid = warning.id
    if warning.status is WarningStatus.DRAFT:
        return InlineKeyboardMarkup([
            [InlineKeyboardButton(t.plain("warn.button_send_draft"), callback_data=f"{SEND_DRAFT}:{wid}")],
            [InlineKeyboardButton(t.plain("warnings.button_withdraw"), callback_data=f"wl:cancel:{wid}")],
        ])
    if warning.origin is WarningOrigin.OFFICIAL:
        return None
    change: list[InlineKeyboardButton] = []
    if warning.level is not WarningLevel.RED:
        change.append(InlineKeyboardButton(t.plain("warnings.button_upgrade"), callback_data=f"wl:up:{wid}"))
    if warning.level is not WarningLevel.BLUE:
        change.append(InlineKeyboardButton(t.plain("warnings.button_downgrade"), callback_data=f"wl:down:{wid}"))
    return InlineKeyboardMarkup([
        change,
        [
            InlineKeyboardButton(t.plain("warnings.button_update"), callback_data=f"wl:edit:{wid}"),
            InlineKeyboardButton(t.plain("warnings.button_lift"), callback_data=f"wl:cancel:{wid}"),
        ],
    ])


async def list_warnings(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return
    if caller.user.role not in (Role.COUNTY, Role.CITY):
        await context.services.storage.audit.append(
            caller.telegram_user.id, "authz.refused", detail={"command": "warnings"}
        )
        await answer(update, caller.t("refusal.warning_staff_only"))
        return
    warnings = await context.services.warnings.active(_scope(caller.user))
    if not warnings:
        await answer(update, caller.t("warnings.none"))
        return
    # A draft has reached nobody: counted "in force" beside what was sent, a cold wave's dozen forecast drafts read
    # as a dozen warnings out (生效中的预警共 13 条, 11 of them drafts). Counted apart, and listed after what was sent.
    sent = sorted((w for w in warnings if w.sent_at is not None), key=lambda w: -w.id)
    drafts = sorted((w for w in warnings if w.sent_at is None), key=lambda w: -w.id)
    await answer(update, _intro(caller.t, len(sent), len(drafts)))
    # The forecast rules leave a draft per county and kind, a dozen in a heat wave: listed by id, they pushed the
    # warning just sent (the one staff come to lift) past the cut. What reached people comes first, newest first.
    shown_sent = sent[:MAX_LISTED]
    for warning in shown_sent:
        await _show(update, context, caller, warning)
    shown_drafts = drafts[: MAX_LISTED - len(shown_sent)]
    if drafts and sent:
        await answer(update, caller.t(counted("warnings.drafts_heading", len(drafts)), count=len(drafts)))
    for warning in shown_drafts:
        await _show(update, context, caller, warning)
    left_sent, left_drafts = len(sent) - len(shown_sent), len(drafts) - len(shown_drafts)
    if left_sent:
        await answer(update, caller.t("warnings.more", sent=left_sent, drafts=left_drafts))
    elif left_drafts:
        await answer(update, caller.t("warnings.more_drafts", count=left_drafts))


def _intro(t: Translator, sent: int, drafts: int) -> str:
    if not drafts:
        return t(counted("warnings.intro", sent), count=sent)
    if not sent:
        return t(counted("warnings.intro_drafts_only", drafts), drafts=drafts)
    return t("warnings.intro_with_drafts", sent=sent, drafts=drafts)


async def _show(update: Update, context: BotContext, caller: Caller, warning: EarlyWarning) -> None:
    assert caller.user is not None
    text, buttons = _summary(warning, caller.t, context), _buttons(warning, caller.t)
    if buttons is not None and not _in_own_scope(caller.user, warning):
        # A county's staff see the city's warnings that cover their county, but only the city changes them:
        # a button they could not use would only answer "outside your area".
        text, buttons = Html(text + "\n" + caller.t("warnings.city_changes_it")), None
    await answer(update, text, reply_markup=buttons)


# ---- sending a draft with one tap ---------------------------------------------------------------------------


async def _after_change(
    update: Update, context: BotContext, caller: Caller, delivered: Delivered, key: str
) -> None:
    """Tell the sender what went out, then the self-editing status of its delivery."""
    t = caller.t
    total = delivered.queued.total
    text = t(counted(key, total), title=title(delivered.warning, t), id=delivered.warning.id, total=total)
    if (unreached := no_one_line(delivered, t)) is not None:
        text = Html(text + "\n" + unreached)
    text = Html("\n".join([text, *round_lines(delivered, t)]))
    await answer(update, text)
    chat = update.effective_chat
    if chat is not None and delivered.queued.total:
        await show_progress(context, chat.id, t, delivered.queued.batch, delivered.queued.total)


async def pressed_send_draft(update: Update, context: BotContext) -> None:
    press = await pressed(update, context)
    if press is None:
        return
    caller, user, query = press.caller, press.user, press.query
    services = context.services
    try:
        async with services.storage.db.transaction():
            delivered = await deliver(services, await services.warnings.send(user, _id(query)), user.telegram_id)
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await replace_buttons(query.message, None)
    await _after_change(update, context, caller, delivered, "warn.sent")


# ---- 升级 / 降级 --------------------------------------------------------------------------------------------


async def pressed_level_change(update: Update, context: BotContext) -> None:
    editable = await _pressed_editable(update, context)
    if editable is None:
        return
    press, warning = editable
    t = press.caller.t
    upward = (press.query.data or "").startswith("wl:up:")
    levels = [lvl for lvl in WarningLevel if (lvl.rank > warning.level.rank) == upward and lvl is not warning.level]
    buttons = [
        InlineKeyboardButton(f"{LEVEL_ICONS[lvl]} {level_label(lvl, t)}", callback_data=f"wl:lvl:{warning.id}:{lvl}")
        for lvl in levels
    ]
    key = "warnings.ask_upgrade" if upward else "warnings.ask_downgrade"
    keyboard = InlineKeyboardMarkup([buttons, [_keep_button(warning, t)]])
    await answer(update, t(key, title=title(warning, t)), reply_markup=keyboard)


def _keep_button(warning: EarlyWarning, t: Translator) -> InlineKeyboardButton:
    """取消 under the level picker and the lift confirmation, as under every other step of /warn."""
    return InlineKeyboardButton(t.plain("button.cancel"), callback_data=f"{KEEP}:{warning.id}")


async def kept(update: Update, context: BotContext) -> None:
    """取消 under the level picker or the lift confirmation: nothing changes, and the question says so. Staff of the
    warning's scope only, as the buttons above it; an ended warning's question is closed the same way."""
    press = await pressed(update, context)
    if press is None:
        return
    caller, query = press.caller, press.query
    warning = await context.services.warnings.get(_id(query))
    if press.user.role not in (Role.COUNTY, Role.CITY) or not _in_own_scope(press.user, warning):
        code = "warning_staff_only" if press.user.role not in (Role.COUNTY, Role.CITY) else "warning_out_of_scope"
        await refuse_press(context, caller, query, Refusal(code), AUTHZ_REFUSALS)
        return
    note = caller.t("warnings.change_kept", title=title(warning, caller.t))
    await query.answer(caller.t.plain("warnings.change_kept", title=title(warning, caller.t)))
    if isinstance(query.message, Message) and query.message.text is not None:
        await edit_in_place(query.message, Html(f"{query.message.text_html}\n{note}"), None)


async def chose_level(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return
    _, _, warning_id, level = query.data.split(":")
    chosen = WarningLevel(level)
    await _revise(update, context, caller, int(warning_id), WarningEdit(level=chosen),
                  chosen=f"{LEVEL_ICONS[chosen]} {level_label(chosen, caller.t)}")


async def _pressed_editable(update: Update, context: BotContext) -> tuple[Pressed, EarlyWarning] | None:
    """The press and the warning its button names, when the person may change it now; a refusal is told and ends
    it."""
    press = await pressed(update, context)
    if press is None:
        return None
    try:
        warning = await _editable(context, press.user, _id(press.query))
    except Refusal as refusal:
        await refuse_press(context, press.caller, press.query, refusal, AUTHZ_REFUSALS)
        return None
    await press.query.answer()
    return press, warning


async def _editable(context: BotContext, user: User, warning_id: int) -> EarlyWarning:
    """The warning, if this person may change it now; the service checks again when they do."""
    warning = await context.services.warnings.get(warning_id)
    if user.role not in (Role.COUNTY, Role.CITY):
        raise Refusal("warning_staff_only")
    if not _in_own_scope(user, warning):
        raise Refusal("warning_out_of_scope")
    services = context.services
    if warning.status in (WarningStatus.CANCELLED, WarningStatus.EXPIRED) or services.clock.now() >= effective_expiry(
        warning, services.warnings.settings.default_duration
    ):
        raise Refusal("warning_ended")
    if warning.origin is WarningOrigin.OFFICIAL and warning.sent_at is not None:
        raise Refusal("warning_official")
    return warning


def _in_own_scope(user: User, warning: EarlyWarning) -> bool:
    """Whether every region of the warning is the person's to act on, as the service requires."""
    return user.role is Role.CITY or all(region_in_scope(user.region_code, r) for r in warning.target.regions)


async def _revise(
    update: Update, context: BotContext, caller: Caller, warning_id: int, edit: WarningEdit, *, chosen: str = ""
) -> None:
    """Revise the warning and tell the sender; `chosen`: the level picked, written after the picker's question
    (which then loses its buttons), so the chat keeps what was chosen."""
    assert caller.user is not None
    services, query = context.services, update.callback_query
    try:
        async with services.storage.db.transaction():
            delivery: WarningDelivery = await services.warnings.revise(caller.user, warning_id, edit)
            delivered = await deliver(services, delivery)
    except Refusal as refusal:
        if query is not None:
            await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        else:
            await answer(update, caller.t(refusal.message_key, **refusal.params))
        return
    if query is not None:
        await query.answer()
        if isinstance(query.message, Message) and chosen and query.message.text is not None:
            await edit_in_place(query.message, Html(f"{query.message.text_html}{escape(chosen)}"), None)
        elif isinstance(query.message, Message):
            await replace_buttons(query.message, None)
    await _after_change(update, context, caller, delivered, f"warnings.done_{delivery.change.value}")


# ---- 解除 -----------------------------------------------------------------------------------------------------


async def pressed_lift(update: Update, context: BotContext) -> None:
    editable = await _pressed_editable(update, context)
    if editable is None:
        return
    press, warning = editable
    t = press.caller.t
    draft = warning.status is WarningStatus.DRAFT
    recipients = len({r.chat_id for r in await context.services.warnings.recipients(warning.id)})
    key = "warnings.confirm_withdraw" if draft else "warnings.confirm_lift"
    button = "warnings.button_confirm_withdraw" if draft else "warnings.button_confirm_lift"
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.plain(button), callback_data=f"wl:lift:{warning.id}")],
        [_keep_button(warning, t)],
    ])
    await answer(update, t(counted(key, recipients), title=title(warning, t), total=recipients), reply_markup=keyboard)


async def confirmed_lift(update: Update, context: BotContext) -> None:
    press = await pressed(update, context)
    if press is None:
        return
    caller, user, query = press.caller, press.user, press.query
    services = context.services
    try:
        async with services.storage.db.transaction():
            delivery = await services.warnings.cancel(user, _id(query))
            delivered = await deliver(services, delivery)
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await replace_buttons(query.message, None)
    if not delivery.recipients:
        await answer(update, caller.t("warnings.withdrawn", title=title(delivery.warning, caller.t)))
        return
    await _after_change(update, context, caller, delivered, "warnings.done_cancel")


# ---- 更新: new text for a sent warning ----------------------------------------------------------------------


def _drafts(context: BotContext) -> WarningDraftRepository:
    return WarningDraftRepository(context.services.storage.db)


async def pressed_update(update: Update, context: BotContext) -> str | int:
    editable = await _pressed_editable(update, context)
    if editable is None:
        return ConversationHandler.END
    press, warning = editable
    caller = press.caller
    await _drafts(context).save(press.user.telegram_id, WarnUpdateDraft(warning_id=warning.id),
                                context.services.clock.now())
    keyboard = cancel_keyboard(caller.t, UPDATE_CANCEL)
    text = caller.t("warnings.ask_update", title=title(warning, caller.t), headline=headline(warning, caller.t))
    await answer(update, text, reply_markup=keyboard)
    return WRITING_UPDATE


async def wrote_update(update: Update, context: BotContext) -> str | int:
    sent = await typed(update, context)
    if sent is None or sent.message.text is None:
        return WRITING_UPDATE
    caller, user, text = sent.caller, sent.user, sent.message.text
    draft = await _drafts(context).get(user.telegram_id, WarnUpdateDraft)
    if draft is None:
        await answer(update, caller.t("warn.lost"))
        return ConversationHandler.END
    headline, rest = split_warning_text(text)
    refused = warning_text_refused(headline, rest, caller.t)
    if refused is not None:  # asked again, with Cancel as under the question
        await answer(update, refused, reply_markup=cancel_keyboard(caller.t, UPDATE_CANCEL))
        return WRITING_UPDATE
    edit = WarningEdit(headline=headline, description=rest)
    await _drafts(context).delete(user.telegram_id, WarnUpdateDraft)
    await _revise(update, context, caller, draft.warning_id, edit)
    return ConversationHandler.END


async def cancelled_update(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "warn.cancelled", lambda c, telegram_id: _drafts(c).delete(telegram_id, WarnUpdateDraft)
    )


async def guided(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("warnings.guide_update"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    levels = "|".join(level.value for level in WarningLevel)
    application.add_handler(CommandHandler("warnings", list_warnings, filters=private))
    application.add_handler(CallbackQueryHandler(pressed_send_draft, pattern=rf"^{SEND_DRAFT}:\d+$"))
    for direction in ("up", "down"):
        application.add_handler(CallbackQueryHandler(pressed_level_change, pattern=rf"^wl:{direction}:\d+$"))
    application.add_handler(CallbackQueryHandler(chose_level, pattern=rf"^wl:lvl:\d+:({levels})$"))
    application.add_handler(CallbackQueryHandler(pressed_lift, pattern=r"^wl:cancel:\d+$"))
    application.add_handler(CallbackQueryHandler(confirmed_lift, pattern=r"^wl:lift:\d+$"))
    application.add_handler(CallbackQueryHandler(kept, pattern=rf"^{KEEP}:\d+$"))
    application.add_handler(
        ConversationHandler(
            name="warnings_update",
            persistent=True,
            entry_points=[CallbackQueryHandler(pressed_update, pattern=r"^wl:edit:\d+$")],
            states={WRITING_UPDATE: [MessageHandler(private & filters.TEXT & ~filters.COMMAND, wrote_update)]},
            fallbacks=[
                CommandHandler("cancel", cancelled_update),
                CallbackQueryHandler(cancelled_update, pattern=f"^{UPDATE_CANCEL}$"),
                MessageHandler(private & ~filters.COMMAND, guided),
            ],
            allow_reentry=True,
        )
    )
