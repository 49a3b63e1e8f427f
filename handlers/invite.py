"""/invite: county staff and city admins bring people in, within their own scope, with a one-time deep link."""

from __future__ import annotations

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
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.onboarding import deep_link
from handlers.common import Caller, answer, flow_cancelled, identify, is_private, place_name
from storage.models import Institution, Region, User

CHOOSING_ROLE, CHOOSING_TARGET = "invite.choosing_role", "invite.choosing_target"
PAGE_SIZE = 8


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


def _institution_keyboard(institutions: list[Institution], page: int, t: Translator) -> InlineKeyboardMarkup:
    shown = institutions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [
        [InlineKeyboardButton(place_name(item, t), callback_data=f"invite:inst:{item.id}")] for item in shown
    ]
    navigation = []
    if page > 0:
        navigation.append(InlineKeyboardButton(t.plain("button.previous"), callback_data=f"invite:page:{page - 1}"))
    if (page + 1) * PAGE_SIZE < len(institutions):
        navigation.append(InlineKeyboardButton(t.plain("button.next"), callback_data=f"invite:page:{page + 1}"))
    if navigation:
        rows.append(navigation)
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
        institutions = await storage.institutions.in_scope(actor.region_code)
        if not institutions:
            await answer(update, t("invite.no_institutions"), edit=True)
            return ConversationHandler.END
        await answer(update, t("invite.choose_institution"), reply_markup=_institution_keyboard(institutions, 0, t),
                     edit=True)
        return CHOOSING_TARGET
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
    institutions = await context.services.storage.institutions.in_scope(caller.user.region_code)
    page = max(0, min(page, (len(institutions) - 1) // PAGE_SIZE))
    await answer(update, caller.t("invite.choose_institution"),
                 reply_markup=_institution_keyboard(institutions, page, caller.t), edit=True)
    return CHOOSING_TARGET


async def chose_institution(update: Update, context: BotContext) -> str | int:
    caller = await _staff(update, context)
    query = update.callback_query
    if caller is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    institution = await context.services.storage.institutions.get(int(query.data.removeprefix("invite:inst:")))
    if institution is None:
        await answer(update, caller.t("fallback.stale_button"), edit=True)
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
    services = context.services
    try:
        invite = await services.onboarding.create_invite(
            creator=caller.user, role=role, region_code=region_code, institution_code=institution_code
        )
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params), edit=update.callback_query is not None)
        return ConversationHandler.END
    link = deep_link(context.bot.username, invite.token)
    expires = invite.expires_at.astimezone(services.settings.tz).strftime("%Y-%m-%d %H:%M")
    text = caller.t("invite.created", role=caller.t.plain(f"role.{role.value}"), link=link, expires=expires)
    await answer(update, text, edit=update.callback_query is not None)
    return ConversationHandler.END


async def use_the_buttons(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("flow.use_buttons"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        ConversationHandler(
            name="invite",
            persistent=True,
            entry_points=[CommandHandler("invite", start_invite)],
            states={
                CHOOSING_ROLE: [CallbackQueryHandler(chose_role, pattern=r"^invite:role:")],
                CHOOSING_TARGET: [
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
