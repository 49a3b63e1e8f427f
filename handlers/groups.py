"""/bindgroup: county staff or city admins bind a work group (or one forum topic) to a region and a purpose; and
the news, to the staff answerable, of a bound group the bot can no longer reach."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.context import BotContext
from bot.domain.roles import STAFF_ROLES
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.onboarding import LostGroup, LostTopic
from handlers.common import answer, flow_cancelled, identify, is_group, place_name, tell_each, topic_of
from storage.models import GroupPurpose, Region

if TYPE_CHECKING:
    from bot.services_factory import BotServices

CHOOSING_REGION, CHOOSING_PURPOSE = "bindgroup.choosing_region", "bindgroup.choosing_purpose"


def _region_keyboard(regions: list[Region], t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(place_name(region, t), callback_data=f"bind:region:{region.code}")
        for region in regions
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(t.plain("button.cancel"), callback_data="bind:cancel")])
    return InlineKeyboardMarkup(rows)


def _purpose_keyboard(region_code: str, t: Translator) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(t.plain(f"purpose.{purpose.value}"),
                              callback_data=f"bind:purpose:{region_code}:{purpose.value}")]
        for purpose in GroupPurpose
    ]
    rows.append([InlineKeyboardButton(t.plain("button.cancel"), callback_data="bind:cancel")])
    return InlineKeyboardMarkup(rows)


async def start_binding(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    if caller is None:
        return ConversationHandler.END
    if not is_group(update):
        await answer(update, caller.t("group.bind_in_group"))
        return ConversationHandler.END
    if caller.user is None or caller.user.role not in STAFF_ROLES:
        await context.services.storage.audit.append(
            caller.telegram_user.id, "authz.refused", detail={"command": "bindgroup"}
        )
        await answer(update, caller.t("refusal.staff_only"))
        return ConversationHandler.END
    chat = update.effective_chat
    assert chat is not None  # is_group above
    try:
        await context.services.onboarding.may_rebind(caller.user, chat.id, topic_of(update))
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key))
        return ConversationHandler.END
    codes = await context.services.onboarding.bindable_regions(caller.user)
    regions = [region for code in codes if (region := await context.services.storage.regions.get(code))]
    await answer(update, caller.t("group.choose_region"), reply_markup=_region_keyboard(regions, caller.t))
    return CHOOSING_REGION


async def chose_region(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    region_code = query.data.removeprefix("bind:region:")
    await answer(update, caller.t("group.choose_purpose"), reply_markup=_purpose_keyboard(region_code, caller.t),
                 edit=True)
    return CHOOSING_PURPOSE


async def chose_purpose(update: Update, context: BotContext) -> int:
    caller = await identify(update, context)
    query = update.callback_query
    chat = update.effective_chat
    if caller is None or caller.user is None or query is None or query.data is None or chat is None:
        return ConversationHandler.END
    await query.answer()
    _, _, region_code, purpose_value = query.data.split(":", 3)
    try:
        await context.services.onboarding.bind_group(
            caller.user,
            chat_id=chat.id,
            topic_id=topic_of(update),
            title=chat.title or str(chat.id),
            region_code=region_code,
            purpose=GroupPurpose(purpose_value),
        )
    except (Refusal, ValueError) as problem:
        key = problem.message_key if isinstance(problem, Refusal) else "fallback.stale_button"
        await answer(update, caller.t(key), edit=True)
        return ConversationHandler.END
    region = await context.services.storage.regions.get(region_code)
    region_name = "" if region is None else place_name(region, caller.t)
    await answer(
        update,
        caller.t("group.bound", region=region_name, purpose=caller.t.plain(f"purpose.{purpose_value}")),
        edit=True,
    )
    return ConversationHandler.END


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        ConversationHandler(
            name="bindgroup",
            persistent=True,
            entry_points=[CommandHandler("bindgroup", start_binding)],
            states={
                CHOOSING_REGION: [CallbackQueryHandler(chose_region, pattern=r"^bind:region:\d+$")],
                CHOOSING_PURPOSE: [CallbackQueryHandler(chose_purpose, pattern=r"^bind:purpose:\d+:\w+$")],
            },
            fallbacks=[
                CommandHandler("cancel", flow_cancelled),
                CallbackQueryHandler(flow_cancelled, pattern=r"^bind:cancel$"),
            ],
            allow_reentry=True,
        )
    )


class GroupLossWords:
    """The onboarding service's `GroupLossNotices`: the news of a lost group, worded in each person's language and
    queued in the outbox as urgent, inside the transaction that ends the group's bindings."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, lost: LostGroup) -> None:
        services = self._services
        regions = {g.region_code: await services.storage.regions.get(g.region_code) for g in lost.bindings}
        title = lost.bindings[0].title or str(lost.chat_id)

        def words(t: Translator) -> str:
            places = ("；" if t.language == "zh_CN" else "; ").join(
                f"{place_name(regions[g.region_code], t)} · {t.plain(f'purpose.{g.purpose.value}')}"
                for g in lost.bindings
            )
            return t(f"group.bot_{lost.loss.value}", title=title, bindings=places, by=lost.by_name or "—")

        await tell_each(services, lost.tell, f"group:{lost.chat_id}:lost", words)

    async def queue_topic(self, lost: LostTopic) -> None:
        services = self._services
        topic = lost.binding
        region = await services.storage.regions.get(topic.region_code)

        def words(t: Translator) -> str:
            binding = f"{place_name(region, t)} · {t.plain(f'purpose.{topic.purpose.value}')}"
            then = t("group.topic_to_general" if lost.to_general else "group.topic_ended")
            return f"{t(f'group.topic_{lost.loss.value}', title=topic.title, binding=binding)}\n{then}"

        await tell_each(services, lost.tell, f"group:{topic.chat_id}/{topic.topic_id}:lost", words)
