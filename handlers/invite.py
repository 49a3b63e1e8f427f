"""/invite: county staff and city admins bring people in, within their own scope, with a one-time deep link.

The same invitation of a head is made by the button under a reminder received in the place of an institution's
missing head (`invite_from_reminder`), checked again at every press, and worded and sent by the same `_send_link`.
Either way, while an invitation for a head of that institution still stands it is shown again, saying who made it and
when, with a button to make a new one all the same (`fresh_head_invite`). The maker told that someone opened their
expired or taken-back link invites that person again with the button under the news (`invite_again`).
"""

from __future__ import annotations

import re
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.domain.roles import INVITABLE_BY, STAFF_ROLES, Role
from bot.i18n import Html, Translator, counted
from bot.services.calendar import may_log_for
from bot.services.errors import HIDDEN_INSTITUTION, Refusal
from bot.services.head_invites import PickerPage
from bot.services.institution_cards import MIN_SEARCH
from bot.services.onboarding import HeadInvitation, deep_link
from bot.services.people import describe_scope
from handlers.common import (
    Caller,
    answer,
    flow_cancelled,
    identify,
    is_private,
    page_row,
    place_name,
    popup_text,
    pressed,
    refuse_press,
)
from storage.models import Institution, Region, User

CHOOSING_ROLE, CHOOSING_TARGET = "invite.choosing_role", "invite.choosing_target"
CHOOSING_INSTITUTION = "invite.choosing_institution"  # a head's institution: pressed, or part of its name typed
FOUND_PAGE = re.compile(r"^invite:find:(\d+):(\d+)$")  # a page of a typed search: its serial, the page
HEADLESS_MARK = "⚠️ "  # before an institution with no head
# Under a reminder received in a head's place: invite that institution's head (handlers.reminders puts it there).
STAND_IN = re.compile(r"^si:invite:(\d+)$")
# A press of it the presser could never have been shown: recorded as forged.
STAND_IN_FORGED = frozenset({"staff_only", HIDDEN_INSTITUTION})
# Under a standing head invitation shown again: make a new one all the same.
FRESH = re.compile(r"^hi:fresh:(\d+)$")
# Under the news of an expired or taken-back link someone opened (handlers.invite_news `again_data`): the same role,
# for the same institution (a head's: its id), region (its code) or the city ("-").
AGAIN = re.compile(r"^inv:again:([a-z]+):(\d+|-)$")


def stand_in_data(institution_id: int) -> str:
    return f"si:invite:{institution_id}"


def _role_keyboard(actor: User, t: Translator) -> InlineKeyboardMarkup:
    roles = [role for role in Role if role in INVITABLE_BY[actor.role]]
    rows = [[InlineKeyboardButton(t.plain(f"role.{role.value}"), callback_data=f"invite:role:{role.value}")]
            for role in roles]
    rows.append([InlineKeyboardButton(t.plain("button.cancel"), callback_data="invite:cancel")])
    return InlineKeyboardMarkup(rows)


def _region_keyboard(role: Role, regions: list[Region], t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(place_name(region, t), callback_data=f"invite:region:{role.value}:{region.code}")
        for region in regions
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(t.plain("button.cancel"), callback_data="invite:cancel")])
    return InlineKeyboardMarkup(rows)


def _picker_text(picker: PickerPage, t: Translator) -> str:
    """What the picker asks, and, when some are marked, what the mark means and how many there are."""
    if picker.search is None:
        lines = [t("invite.choose_institution", least=MIN_SEARCH)]
    else:
        lines = [t("invite.matches", query=picker.search.text, total=picker.total, page=picker.page + 1,
                   pages=picker.pages)]
    if picker.headless:
        lines.append(t(counted("invite.headless_note", picker.headless), mark=HEADLESS_MARK.strip(),
                       count=picker.headless))
    return Html("\n".join(lines))


def _picker_keyboard(picker: PickerPage, t: Translator) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton((HEADLESS_MARK if choice.headless else "") + place_name(choice.institution, t),
                              callback_data=f"invite:inst:{choice.institution.id}")]
        for choice in picker.choices
    ]
    # The pages of every institution, or of a typed search (by its serial: an older search's buttons are refused).
    turn = "invite:page:" if picker.search is None else f"invite:find:{picker.search.serial}:"
    rows += page_row(picker.page, picker.pages, t, lambda number: f"{turn}{number}")
    rows.append([InlineKeyboardButton(t.plain("button.cancel"), callback_data="invite:cancel")])
    return InlineKeyboardMarkup(rows)


async def _staff(update: Update, context: BotContext) -> Caller | None:
    """The caller, if they are county staff or a city admin; otherwise they are told and None is returned."""
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    if caller.user.role not in STAFF_ROLES:
        await context.services.storage.audit.append(
            caller.user.telegram_id, "authz.refused", detail={"command": "invite", "role": caller.user.role.value}
        )
        if update.callback_query is not None:
            await update.callback_query.answer(caller.t("refusal.staff_only"), show_alert=True)
        else:
            await answer(update, caller.t("refusal.staff_only"))
        return None
    return caller


async def start_invite(update: Update, context: BotContext) -> str | int:
    if not is_private(update):
        return ConversationHandler.END
    caller = await _staff(update, context)
    if caller is None or caller.user is None:
        return ConversationHandler.END
    await answer(update, caller.t("invite.choose_role"), reply_markup=_role_keyboard(caller.user, caller.t))
    return CHOOSING_ROLE


async def chose_role(update: Update, context: BotContext) -> str | int:
    caller = await _staff(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    try:
        role = Role(query.data.removeprefix("invite:role:"))
    except ValueError:
        return CHOOSING_ROLE
    actor, t = caller.user, caller.t
    storage = context.services.storage
    if role is Role.HEAD:
        picker = await context.services.head_invites.picker(actor, 0)
        if not picker.total:
            await answer(update, t("invite.no_institutions"), edit=True)
            return ConversationHandler.END
        await answer(update, _picker_text(picker, t), reply_markup=_picker_keyboard(picker, t), edit=True)
        return CHOOSING_INSTITUTION
    if role is Role.CITY:
        return await _issue(update, context, caller, role=role)
    if actor.role is Role.COUNTY:
        return await _issue(update, context, caller, role=role, region_code=actor.region_code)
    regions = await storage.regions.counties()
    await answer(update, t("invite.choose_region"), reply_markup=_region_keyboard(role, regions, t), edit=True)
    return CHOOSING_TARGET


async def chose_page(update: Update, context: BotContext) -> str | int:
    caller = await _staff(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    page = int(query.data.removeprefix("invite:page:"))
    picker = await context.services.head_invites.picker(caller.user, page)
    await answer(update, _picker_text(picker, caller.t), reply_markup=_picker_keyboard(picker, caller.t), edit=True)
    return CHOOSING_INSTITUTION


async def turned_found_page(update: Update, context: BotContext) -> str | int:
    """A page of a typed search: of the person's last one only (a button of an earlier one shows nothing of it)."""
    caller = await _staff(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None:
        return ConversationHandler.END
    t = caller.t
    match = FOUND_PAGE.match(query.data or "")
    serial, number = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    try:
        picker = await context.services.head_invites.found_page(caller.user, serial, number)
    except Refusal as refusal:
        await query.answer(popup_text(t, refusal), show_alert=True)
        return CHOOSING_INSTITUTION
    if picker is None or picker.search is None:
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return CHOOSING_INSTITUTION
    if not picker.total:
        await query.answer()
        await answer(update, t("invite.no_match", query=picker.search.text), edit=True)
        return CHOOSING_INSTITUTION
    await query.answer(t.plain("institution.page_gone") if picker.clamped else None)
    await answer(update, _picker_text(picker, t), reply_markup=_picker_keyboard(picker, t), edit=True)
    return CHOOSING_INSTITUTION


async def typed_name(update: Update, context: BotContext) -> str | int:
    """Part of an institution's name, typed at the head step: one match is invited at once, as a press would."""
    caller = await _staff(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return ConversationHandler.END
    t = caller.t
    try:
        found = await context.services.head_invites.find(caller.user, message.text or "")
    except Refusal as refusal:
        if refusal.code != "institution_search_too_short":
            raise
        await answer(update, t("invite.search_too_short", least=MIN_SEARCH))
        return CHOOSING_INSTITUTION
    if isinstance(found, Institution):
        return await _issue(update, context, caller, role=Role.HEAD, institution_code=found.code)
    if not found.total:
        await answer(update, t("invite.no_match", query=found.search.text if found.search else message.text or ""))
        return CHOOSING_INSTITUTION
    await answer(update, _picker_text(found, t), reply_markup=_picker_keyboard(found, t))
    return CHOOSING_INSTITUTION


async def chose_institution(update: Update, context: BotContext) -> str | int:
    caller = await _staff(update, context)
    query = update.callback_query
    if caller is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    assert caller.user is not None
    institution = await _visible(context, caller.user, int(query.data.removeprefix("invite:inst:")))
    if institution is None:
        await answer(update, caller.t(Refusal(HIDDEN_INSTITUTION).message_key), edit=True)
        return ConversationHandler.END
    return await _issue(update, context, caller, role=Role.HEAD, institution_code=institution.code)


async def chose_region(update: Update, context: BotContext) -> str | int:
    caller = await _staff(update, context)
    query = update.callback_query
    if caller is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    _, _, role_value, region_code = query.data.split(":", 3)
    return await _issue(update, context, caller, role=Role(role_value), region_code=region_code)


async def _issue(
    update: Update,
    context: BotContext,
    caller: Caller,
    *,
    role: Role,
    region_code: str | None = None,
    institution_code: str | None = None,
) -> int:
    onboarding, edit = context.services.onboarding, update.callback_query is not None
    assert caller.user is not None
    try:
        if role is Role.HEAD and institution_code is not None:
            made = await onboarding.invite_head(caller.user, institution_code)
        else:
            made = HeadInvitation(await onboarding.create_invite(
                creator=caller.user, role=role, region_code=region_code, institution_code=institution_code
            ))
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params), edit=edit)
        return ConversationHandler.END
    await _send_link(update, context, caller, made, edit=edit)
    return ConversationHandler.END


def _local(context: BotContext, moment: datetime) -> str:
    return moment.astimezone(context.services.settings.tz).strftime("%Y-%m-%d %H:%M")


async def _send_link(update: Update, context: BotContext, caller: Caller, made: HeadInvitation, *, edit: bool) -> None:
    """The invitation's link, what it is for and until when; one that stood already: who made it and when, with a
    button to make a new one all the same."""
    services, t, invite = context.services, caller.t, made.invite
    link = deep_link(context.bot.username, invite.token)
    expires = _local(context, invite.expires_at)
    institution = None if invite.institution_id is None else await services.storage.institutions.get(
        invite.institution_id
    )
    markup = None
    if institution is not None and made.again:
        if invite.created_by is None:
            maker = t.plain("invite.maker_cli")
        elif invite.created_by == caller.telegram_user.id:
            maker = t.plain("invite.maker_you")
        else:
            maker = made.maker.full_name if made.maker is not None else str(invite.created_by)
        text = t("invite.standing_head", institution=place_name(institution, t), maker=maker,
                 made=_local(context, invite.created_at), link=link, expires=expires)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            t.plain("button.fresh_head_invite"), callback_data=f"hi:fresh:{institution.id}"
        )]])
    elif institution is not None:
        text = t("invite.created_head", institution=place_name(institution, t), link=link, expires=expires)
    else:
        # Where the newcomer will work (a region; the city for a city admin), as /people lists the invitation.
        place = await describe_scope(services.storage, invite.region_code, None, t.language)
        text = t("invite.created", role=t.plain(f"role.{invite.role.value}"), place=place, link=link,
                 expires=expires)
    await answer(update, text, edit=edit, reply_markup=markup)


async def invite_from_reminder(update: Update, context: BotContext) -> None:
    """The button under a reminder received in a head's place: that institution's head invited at once, as /invite
    would, after the press is checked again (who, scope, the institution open and still with no head). The reminder
    stays as it was; the link comes in a message of its own."""
    press = await pressed(update, context, STAND_IN)
    if press is None:
        return
    t = press.t
    try:
        made = await context.services.head_invites.for_stand_in(press.user, int(press.match.group(1)))
    except Refusal as refusal:
        await refuse_press(context, press.caller, press.query, refusal, STAND_IN_FORGED)
        return
    if made is None:
        await press.query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return
    if made.made is None:
        # A head registered since the reminder: nothing to invite.
        head = made.head.full_name if made.head is not None else "—"
        has_head = Refusal("institution_has_head", name=place_name(made.institution, t), head=head)
        await press.query.answer(popup_text(t, has_head), show_alert=True)
        return
    await press.query.answer()
    await _send_link(update, context, press.caller, made.made, edit=False)


async def fresh_head_invite(update: Update, context: BotContext) -> None:
    """The button under a standing head invitation shown again: a new one made all the same, checked again as /invite
    checks it (role, scope, the institution open). The message with the standing one stays as it was."""
    press = await pressed(update, context, FRESH)
    if press is None:
        return
    institution = await _visible(context, press.user, int(press.match.group(1)))
    if institution is None:
        await press.query.answer(popup_text(press.t, Refusal(HIDDEN_INSTITUTION)), show_alert=True)
        return
    try:
        made = await context.services.onboarding.invite_head(press.user, institution.code, fresh=True)
    except Refusal as refusal:
        await refuse_press(context, press.caller, press.query, refusal, frozenset())
        return
    await press.query.answer()
    await _send_link(update, context, press.caller, made, edit=False)


async def invite_again(update: Update, context: BotContext) -> None:
    """The button under the news that someone opened the presser's expired or taken-back link: an invitation of the
    same role for the same place, made and checked as /invite makes it (role, scope, the institution open; a head's
    that still stands is shown again). The news stays as it was; the link comes in a message of its own."""
    press = await pressed(update, context, AGAIN)
    if press is None:
        return
    onboarding = context.services.onboarding
    try:
        role = Role(press.match.group(1))
    except ValueError:
        role = None
    place = press.match.group(2)
    if role is None or (role is Role.HEAD and place == "-"):
        await press.query.answer(press.t.plain("fallback.stale_button"), show_alert=True)
        return
    institution = await _visible(context, press.user, int(place)) if role is Role.HEAD else None
    if role is Role.HEAD and institution is None:
        await press.query.answer(popup_text(press.t, Refusal(HIDDEN_INSTITUTION)), show_alert=True)
        return
    try:
        if institution is not None:
            made = await onboarding.invite_head(press.user, institution.code)
        else:
            made = HeadInvitation(await onboarding.create_invite(
                creator=press.user, role=role, region_code=None if place == "-" else place
            ))
    except Refusal as refusal:
        # A role or scope not the presser's is audited by the onboarding service itself.
        await refuse_press(context, press.caller, press.query, refusal, frozenset())
        return
    await press.query.answer()
    await _send_link(update, context, press.caller, made, edit=False)


async def _visible(context: BotContext, user: User, institution_id: int) -> Institution | None:
    """The institution a button names, if the presser may see it. None for one by that id they may not see (recorded
    as a forged press) or for none at all: both are told alike (HIDDEN_INSTITUTION), so that no button confirms to an
    outsider that an institution exists."""
    institution = await context.services.storage.institutions.get(institution_id)
    if institution is not None and may_log_for(user, institution):
        return institution
    if institution is not None:
        await context.services.storage.audit.append(
            user.telegram_id, "authz.refused", target=f"institution:{institution_id}",
            detail={"action": "invite.create", "reason": "outside_scope"},
        )
    return None


async def use_the_buttons(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("flow.use_buttons"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(invite_from_reminder, pattern=STAND_IN))
    application.add_handler(CallbackQueryHandler(fresh_head_invite, pattern=FRESH))
    application.add_handler(CallbackQueryHandler(invite_again, pattern=AGAIN))
    application.add_handler(
        ConversationHandler(
            name="invite",
            persistent=True,
            entry_points=[CommandHandler("invite", start_invite)],
            states={
                CHOOSING_ROLE: [CallbackQueryHandler(chose_role, pattern=r"^invite:role:")],
                CHOOSING_INSTITUTION: [
                    CallbackQueryHandler(chose_institution, pattern=r"^invite:inst:\d+$"),
                    CallbackQueryHandler(chose_page, pattern=r"^invite:page:\d+$"),
                    CallbackQueryHandler(turned_found_page, pattern=FOUND_PAGE),
                    MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, typed_name),
                    # A region button is no button of this step; forged, it is checked as at the region step.
                    CallbackQueryHandler(chose_region, pattern=r"^invite:region:\w+:\d+$"),
                ],
                CHOOSING_TARGET: [
                    # The institution buttons too: a head step saved in this state before it had its own.
                    CallbackQueryHandler(chose_institution, pattern=r"^invite:inst:\d+$"),
                    CallbackQueryHandler(chose_page, pattern=r"^invite:page:\d+$"),
                    CallbackQueryHandler(chose_region, pattern=r"^invite:region:\w+:\d+$"),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", flow_cancelled),
                CallbackQueryHandler(flow_cancelled, pattern=r"^invite:cancel$"),
                MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, use_the_buttons),
            ],
            allow_reentry=True,
        )
    )
