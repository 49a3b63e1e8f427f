"""/bindgroup: county staff or city admins bind a work group (or one forum topic) to a region and a purpose, see
and change the binding it has, or end it (/unbindgroup); a binding a loss of the group ended is offered back when the
bot returns; and the news, to the staff answerable, of a bound group the bot can no longer reach.

Each prompt is remembered (`claims`, a day) with who sent /bindgroup and the binding it showed: a press by anyone
else is told whose buttons they are, and a choice on a prompt someone else's binding has overtaken changes nothing
and says what holds now. When a binding is made or ended, the other prompts still open in the chat (topic), and the
confirmation of the binding before, are edited to say so: every message the group reads stays true."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.context import BotContext
from bot.domain.roles import STAFF_ROLES
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.group_bindings import BindingChanged, ChangeKind, seen_of
from bot.services.onboarding import LostGroup, LostTopic, TopicLoss
from handlers.common import (
    Caller,
    answer,
    flow_cancelled,
    identify,
    is_group,
    place_name,
    tell_each,
    topic_of,
)
from handlers.group_binding_words import (
    binding_in_full,
    binding_name,
    chat_bindings,
    language_rule,
)
from storage.models import Group, GroupPurpose, Region

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

SHOWING_BINDING = "bindgroup.showing_binding"
CHOOSING_REGION, CHOOSING_PURPOSE = "bindgroup.choosing_region", "bindgroup.choosing_purpose"
CONFIRMING_UNBIND = "bindgroup.confirming_unbind"

PROMPT = "bindgroup:prompt:"  # + the prompt's message id; note: "<sender>|<binding seen>|<topic or 0>"
PROMPT_LIFE = timedelta(days=1)
CONFIRMATION = "bindgroup:bound:"  # + topic or 0; note: the message id of the binding's confirmation
CONFIRMATION_LIFE = timedelta(days=400)


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


def _binding_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(t.plain("button.group_change"), callback_data="bind:change"),
         InlineKeyboardButton(t.plain("button.group_unbind"), callback_data="bind:unbind")],
        [InlineKeyboardButton(t.plain("button.cancel"), callback_data="bind:cancel")],
    ])


def _unbind_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(t.plain("button.group_unbind_confirm"), callback_data="bind:unbind:yes")],
        [InlineKeyboardButton(t.plain("button.cancel"), callback_data="bind:cancel")],
    ])


def restore_keyboard(t: Translator, chat_id: int | None = None) -> InlineKeyboardMarkup:
    data = "bind:restore" if chat_id is None else f"bind:restore:{chat_id}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("button.group_restore"), callback_data=data)]])


async def start_binding(update: Update, context: BotContext) -> str | int:
    return await _start(update, context, unbinding=False)


async def start_unbinding(update: Update, context: BotContext) -> str | int:
    return await _start(update, context, unbinding=True)


async def _start(update: Update, context: BotContext, *, unbinding: bool) -> str | int:
    caller = await identify(update, context)
    if caller is None:
        return ConversationHandler.END
    if not is_group(update):
        await answer(update, caller.t("group.unbind_in_group" if unbinding else "group.bind_in_group"))
        return ConversationHandler.END
    chat = update.effective_chat
    assert chat is not None  # is_group above
    services = context.services
    topic = topic_of(update)
    if caller.user is None or caller.user.role not in STAFF_ROLES:
        await services.storage.audit.append(
            caller.telegram_user.id, "authz.refused", detail={"command": "unbindgroup" if unbinding else "bindgroup"}
        )
        # Whoever asks learns what the chat is bound for: a member sent here to "check the binding" is answered.
        bound = await chat_bindings(services, chat.id, topic, bool(chat.is_forum), caller.t)
        text = caller.t("refusal.staff_only")
        await answer(update, text if bound is None else f"{text}\n\n{caller.t('group.bound_for', lines=bound)}")
        return ConversationHandler.END
    try:
        current = await services.group_bindings.may_change(caller.user, chat.id, topic)
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key))
        return ConversationHandler.END
    where = _where(topic, caller.t)
    if current is None and unbinding:
        await answer(update, caller.t("group.nothing_to_unbind", where=where))
        return ConversationHandler.END
    if current is None:
        codes = await services.group_bindings.bindable_regions(caller.user)
        regions = [region for code in codes if (region := await services.storage.regions.get(code))]
        sent = await answer(update, caller.t("group.choose_region"), reply_markup=_region_keyboard(regions, caller.t))
        state = CHOOSING_REGION
    elif unbinding:
        sent = await answer(update, await _unbind_question(services, current, where, caller.t),
                            reply_markup=_unbind_keyboard(caller.t))
        state = CONFIRMING_UNBIND
    else:
        text = caller.t("group.current", where=where, binding=await binding_in_full(services, current, caller.t))
        sent = await answer(update, text, reply_markup=_binding_keyboard(caller.t))
        state = SHOWING_BINDING
    if sent is not None:
        await services.claims.remember(chat.id, f"{PROMPT}{sent.message_id}", PROMPT_LIFE,
                                       note=f"{caller.user.telegram_id}|{seen_of(current)}|{topic or 0}")
    return state


def _where(topic: int | None, t: Translator) -> str:
    return t.plain("group.this_topic" if topic is not None else "group.this_group")


async def _unbind_question(services: BotServices, current: Group, where: str, t: Translator) -> str:
    region = await services.storage.regions.get(current.region_code)
    return t("group.confirm_unbind", where=where, binding=await binding_in_full(services, current, t),
             region=place_name(region, t))


async def _someone_elses(update: Update, context: BotContext) -> bool:
    """A press on a prompt another staff member sent (they may have one of their own open at the same step): told
    whose it is; their own prompt stays where it is."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not isinstance(query.message, Message):
        return False
    claim = await context.services.claims.recall(chat.id, f"{PROMPT}{query.message.message_id}")
    owner = None if claim is None or claim.note is None else int(claim.note.split("|", 1)[0])
    if owner is None or owner == query.from_user.id:
        return False
    await _tell_whose(update, context, owner)
    return True


async def _tell_whose(update: Update, context: BotContext, owner: int) -> None:
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or caller is None:
        return
    sender = await context.services.storage.users.get(owner)
    await query.answer(caller.t.plain("group.not_your_buttons", name=sender.full_name if sender else "—"),
                       show_alert=True)


async def _seen(update: Update, context: BotContext) -> str | None:
    """The binding the pressed prompt showed, when it was the presser's own (None: not known, so not checked)."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not isinstance(query.message, Message):
        return None
    claim = await context.services.claims.recall(chat.id, f"{PROMPT}{query.message.message_id}")
    if claim is None or claim.note is None:
        return None
    owner, seen, _ = claim.note.split("|", 2)
    return seen if owner == str(query.from_user.id) else None


async def chose_change(update: Update, context: BotContext) -> str | int | None:
    if await _someone_elses(update, context):
        return None
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None:
        return ConversationHandler.END
    await query.answer()
    codes = await context.services.group_bindings.bindable_regions(caller.user)
    regions = [region for code in codes if (region := await context.services.storage.regions.get(code))]
    await answer(update, caller.t("group.choose_region"), reply_markup=_region_keyboard(regions, caller.t), edit=True)
    return CHOOSING_REGION


async def chose_unbind(update: Update, context: BotContext) -> str | int | None:
    if await _someone_elses(update, context):
        return None
    caller = await identify(update, context)
    query = update.callback_query
    chat = update.effective_chat
    if caller is None or caller.user is None or query is None or chat is None:
        return ConversationHandler.END
    await query.answer()
    topic = topic_of(update)
    current = await context.services.group_bindings.current(chat.id, topic)
    if current is None:
        await answer(update, caller.t("group.nothing_to_unbind", where=_where(topic, caller.t)), edit=True)
        return ConversationHandler.END
    await answer(update, await _unbind_question(context.services, current, _where(topic, caller.t), caller.t),
                 reply_markup=_unbind_keyboard(caller.t), edit=True)
    return CONFIRMING_UNBIND


async def chose_region(update: Update, context: BotContext) -> str | int | None:
    if await _someone_elses(update, context):
        return None
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or query is None or query.data is None:
        return ConversationHandler.END
    await query.answer()
    region_code = query.data.removeprefix("bind:region:")
    await answer(update, caller.t("group.choose_purpose"), reply_markup=_purpose_keyboard(region_code, caller.t),
                 edit=True)
    return CHOOSING_PURPOSE


async def chose_purpose(update: Update, context: BotContext) -> int | None:
    if await _someone_elses(update, context):
        return None
    caller = await identify(update, context)
    query = update.callback_query
    chat = update.effective_chat
    if caller is None or caller.user is None or query is None or query.data is None or chat is None:
        return ConversationHandler.END
    await query.answer()
    _, _, region_code, purpose_value = query.data.split(":", 3)
    services, t, topic = context.services, caller.t, topic_of(update)
    try:
        change = await services.group_bindings.bind(
            caller.user,
            chat_id=chat.id,
            topic_id=topic,
            title=chat.title or str(chat.id),
            region_code=region_code,
            purpose=GroupPurpose(purpose_value),
            seen=await _seen(update, context),
        )
    except BindingChanged as changed:
        await answer(update, await _changed_meanwhile(services, changed.current, topic, t), edit=True)
        return ConversationHandler.END
    except (Refusal, ValueError) as problem:
        key = problem.message_key if isinstance(problem, Refusal) else "fallback.stale_button"
        await answer(update, t(key), edit=True)
        return ConversationHandler.END
    assert change.after is not None
    region = await services.storage.regions.get(region_code)
    text = t("group.bound", region=place_name(region, t), purpose=t.plain(f"purpose.{purpose_value}"))
    if change.kind is ChangeKind.REBOUND:
        text += "\n" + t("group.bound_before", binding=await binding_in_full(services, change.before[0], t))
    sent = await answer(update, f"{text}\n{language_rule(services, t)}", edit=True)
    await _overtaken(context, caller, chat.id, topic, sent, t("group.prompt_overtaken_bound", by=caller.user.full_name,
                     binding=await binding_name(services, change.after, t)), change.before)
    if sent is not None:
        await services.claims.remember(chat.id, f"{CONFIRMATION}{topic or 0}", CONFIRMATION_LIFE,
                                       note=str(sent.message_id))
    return ConversationHandler.END


async def confirmed_unbind(update: Update, context: BotContext) -> int | None:
    if await _someone_elses(update, context):
        return None
    caller = await identify(update, context)
    query = update.callback_query
    chat = update.effective_chat
    if caller is None or caller.user is None or query is None or chat is None:
        return ConversationHandler.END
    await query.answer()
    services, t, topic = context.services, caller.t, topic_of(update)
    try:
        change = await services.group_bindings.unbind(caller.user, chat.id, topic, seen=await _seen(update, context))
    except BindingChanged as changed:
        await answer(update, await _changed_meanwhile(services, changed.current, topic, t), edit=True)
        return ConversationHandler.END
    except Refusal as refusal:
        await answer(update, t(refusal.message_key), edit=True)
        return ConversationHandler.END
    before = change.before[0]
    sent = await answer(update, t("group.unbound_done", where=_where(topic, t), by=caller.user.full_name,
                                  binding=await binding_name(services, before, t)), edit=True)
    await _overtaken(context, caller, chat.id, topic, sent,
                     t("group.prompt_overtaken_unbound", by=caller.user.full_name), change.before)
    await services.claims.forget(chat.id, f"{CONFIRMATION}{topic or 0}")
    return ConversationHandler.END


async def _changed_meanwhile(services: BotServices, current: Group | None, topic: int | None, t: Translator) -> str:
    if current is None:
        return t("group.changed_meanwhile_unbound", where=_where(topic, t))
    return t("group.changed_meanwhile", where=_where(topic, t), binding=await binding_in_full(services, current, t))


async def _overtaken(context: BotContext, caller: Caller, chat_id: int, topic: int | None, sent: Message | None,
                     text: str, before: tuple[Group, ...]) -> None:
    """Other /bindgroup prompts still open in this chat (topic) no longer show what holds: each is edited to say what
    happened, its buttons gone; and the confirmation of the binding before says it no longer holds."""
    services = context.services
    for claim in await services.claims.standing(chat_id, PROMPT):
        message_id = int(claim.what.removeprefix(PROMPT))
        if claim.note is None or claim.note.rsplit("|", 1)[-1] != str(topic or 0):
            continue
        if sent is not None and message_id == sent.message_id:
            continue
        # Its claim stays: a choice still made on it is checked against the binding it showed, and refused.
        await _edit(context, chat_id, message_id, text)
    confirmation = await services.claims.recall(chat_id, f"{CONFIRMATION}{topic or 0}")
    if confirmation is None or confirmation.note is None or not before:
        return
    if sent is not None and int(confirmation.note) == sent.message_id:
        return
    t = caller.t
    was = t("group.confirmation_overtaken", binding=await binding_name(services, before[0], t),
            by=caller.user.full_name if caller.user is not None else "—",
            at=services.clock.now().astimezone(services.settings.tz).strftime("%Y-%m-%d %H:%M"))
    await _edit(context, chat_id, int(confirmation.note), was)


async def _edit(context: BotContext, chat_id: int, message_id: int, text: str) -> None:
    try:
        await context.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
    except TelegramError:
        # Deleted by the group's admins meanwhile, or too old to edit: the new message below says it all the same.
        log.info("could not edit the earlier binding message %s in group %s", message_id, chat_id)


async def pressed_someone_elses(update: Update, context: BotContext) -> None:
    """A /bindgroup button pressed by someone who did not send that /bindgroup (a member, a head, another clerk):
    the buttons are the sender's. "This button has expired, start again" was untrue, and invited them to bind."""
    query = update.callback_query
    chat = update.effective_chat
    caller = await identify(update, context)
    if query is None or chat is None or caller is None:
        return
    claim = None
    if isinstance(query.message, Message):
        claim = await context.services.claims.recall(chat.id, f"{PROMPT}{query.message.message_id}")
    owner = None if claim is None or claim.note is None else int(claim.note.split("|", 1)[0])
    if owner is None or owner == query.from_user.id:
        await query.answer(caller.t.plain("fallback.stale_button"), show_alert=True)
        return
    await _tell_whose(update, context, owner)


async def restore(update: Update, context: BotContext) -> None:
    """♻️ 恢复绑定 under the news that the bot is back in a group whose binding a loss ended: the same bindings again,
    by staff whose scope holds them; the group hears it, and so do the staff answerable."""
    query = update.callback_query
    caller = await identify(update, context)
    if query is None or query.data is None or caller is None:
        return
    services, t = context.services, caller.t
    in_group = is_group(update)
    chat = update.effective_chat
    chat_id = chat.id if in_group and chat is not None else int(query.data.removeprefix("bind:restore:") or 0)
    if caller.user is None or caller.user.role not in STAFF_ROLES:
        await services.storage.audit.append(caller.telegram_user.id, "authz.refused",
                                            detail={"action": "group.restore", "group": chat_id})
        await query.answer(t.plain("refusal.staff_only"), show_alert=True)
        return
    try:
        change = await services.group_bindings.restore(caller.user, chat_id)
    except BindingChanged:
        # Restored by someone else a moment ago, or bound anew: the button has done its work.
        await query.answer(t.plain("fallback.stale_button"), show_alert=True)
        return
    except Refusal as refusal:
        await query.answer(t.plain(refusal.message_key), show_alert=True)
        return
    await query.answer()
    names = "；".join([await binding_in_full(services, group, t) for group in change.before])
    done = t("group.restored", by=caller.user.full_name, bindings=names)
    await answer(update, done, edit=True)
    if not in_group:
        group_t = services.i18n.get(None)
        group_names = "；".join([await binding_in_full(services, group, group_t) for group in change.before])
        try:
            await context.bot.send_message(chat_id, group_t("group.restored", by=caller.user.full_name,
                                                            bindings=group_names))
        except TelegramError:
            log.info("could not tell group %s that its binding is restored", chat_id)


async def offer_restore(context: BotContext, chat_id: int, title: str, t: Translator) -> bool:
    """The bot is back in a group whose bindings a loss ended: the group hears what it was bound for and that staff
    may restore it with one tap, and so, in their private chat, do the staff who had bound it. False when there is
    nothing to restore."""
    services = context.services
    lost = await services.group_bindings.restorable(chat_id)
    if not lost:
        return False
    names = "；".join([await binding_in_full(services, group, t) for group in lost])
    await context.bot.send_message(chat_id, t("group.restore_offer", bindings=names), reply_markup=restore_keyboard(t))
    binders = {group.bound_by for group in lost}
    for telegram_id in sorted(binders):
        binder = await services.storage.users.get(telegram_id)
        if binder is None or not binder.active or binder.role not in STAFF_ROLES:
            continue
        bt = services.i18n.get(binder.language)
        private_names = "；".join([await binding_in_full(services, group, bt) for group in lost])
        try:
            await context.bot.send_message(telegram_id, bt("group.restore_offer_private", title=title,
                                                           bindings=private_names),
                                           reply_markup=restore_keyboard(bt, chat_id))
        except TelegramError:
            log.info("could not offer %s to restore group %s", telegram_id, chat_id)
    return True


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        ConversationHandler(
            name="bindgroup",
            persistent=True,
            entry_points=[CommandHandler("bindgroup", start_binding), CommandHandler("unbindgroup", start_unbinding)],
            states={
                SHOWING_BINDING: [
                    CallbackQueryHandler(chose_change, pattern=r"^bind:change$"),
                    CallbackQueryHandler(chose_unbind, pattern=r"^bind:unbind$"),
                ],
                CHOOSING_REGION: [CallbackQueryHandler(chose_region, pattern=r"^bind:region:\d+$")],
                CHOOSING_PURPOSE: [CallbackQueryHandler(chose_purpose, pattern=r"^bind:purpose:\d+:\w+$")],
                CONFIRMING_UNBIND: [CallbackQueryHandler(confirmed_unbind, pattern=r"^bind:unbind:yes$")],
            },
            fallbacks=[
                CommandHandler("cancel", flow_cancelled),
                CallbackQueryHandler(flow_cancelled, pattern=r"^bind:cancel$"),
            ],
            allow_reentry=True,
        )
    )
    application.add_handler(CallbackQueryHandler(restore, pattern=r"^bind:restore(:-?\d+)?$"))
    # After the conversation: a bind button it did not take was pressed by someone other than the prompt's sender.
    application.add_handler(CallbackQueryHandler(pressed_someone_elses, pattern=r"^bind:"))


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

        # Keyed by the kind of news too: a right taken and given back within the same second is two pieces of news.
        await tell_each(services, lost.tell, f"group:{lost.chat_id}:{lost.loss.value}", words)

    async def queue_topic(self, lost: LostTopic) -> None:
        services = self._services
        topic = lost.binding
        region = await services.storage.regions.get(topic.region_code)

        def words(t: Translator) -> str:
            binding = f"{place_name(region, t)} · {t.plain(f'purpose.{topic.purpose.value}')}"
            if lost.loss is TopicLoss.REOPENED:
                then = t("group.topic_back_general" if lost.to_general else "group.topic_back")
            elif lost.to_general:
                then = t("group.topic_to_general")
            elif lost.widened_from is not None:
                then = t("group.topic_widened", was=t.plain(f"purpose.{lost.widened_from.value}"),
                         purpose=t.plain(f"purpose.{topic.purpose.value}"),
                         general=t.plain(f"purpose.{GroupPurpose.GENERAL.value}"))
            else:
                then = t("group.topic_ended")
            return f"{t(f'group.topic_{lost.loss.value}', title=topic.title, binding=binding)}\n{then}"

        key = f"group:{topic.chat_id}/{topic.topic_id}:{lost.loss.value}"  # closed and reopened within a second: both
        await tell_each(services, lost.tell, key, words)
