"""What runs before and after every journey: the secrecy guard, the access gate, and answers for the unexpected."""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from datetime import timedelta

from telegram import ChatMember, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.context import BotContext
from bot.domain.secrecy import ENGLISH_LEVELS, LEVELS, find_classification_mark
from bot.domain.warnings import looks_like_receipt
from bot.services.onboarding import GroupLoss
from handlers.common import Caller, answer, cancel_keyboard, full_name, identify, is_group, is_private, topic_of
from handlers.contact_typed import offer_contact
from handlers.conversations import cancel_button, cancel_labels, waiting
from handlers.group_pointer import addressed_to_bot, spoken_to_in_group, to_private_chat
from handlers.groups import offer_restore
from handlers.photo_offer import cancel_waiting_offer, fixable, may_report
from handlers.reach import private_membership_changed, wrote_while_marked_unreachable
from handlers.resume import waiting_at
from handlers.warning_report import offer_typed
from handlers.warning_text import ack_keyboard, headline, local_time, title
from storage.models import Group

log = logging.getLogger(__name__)

SECRECY_GROUP = -30
MIGRATION_GROUP = -25  # before the access gate: the supergroup a bound group became is not bound yet
ACCESS_GROUP = -20
# After the secrecy guard, which reads every edit, the access gate and the journey switch (ACCESS_GROUP + 2, which
# passes edits by); before every journey. A group of its own: in a shared one only the first handler would run.
EDIT_GROUP = ACCESS_GROUP + 3
# After the edits, before every journey: a typed 收到 while a warning waits is the warning's, not a step's answer.
RECEIPT_GROUP = EDIT_GROUP + 1
FALLBACK_GROUP = 50

# Commands an unregistered person may still use: registering with an invitation, and binding a group.
OPEN_COMMANDS = ("start",)
GROUP_OPEN_COMMANDS = ("bindgroup", "unbindgroup", "help")
# What a bound group answers; any other command for the bot is pointed to the private chat, where the journeys are
# (handlers.group_pointer: once in a while per group and command).
GROUP_ANSWERED_COMMANDS = (*GROUP_OPEN_COMMANDS, "cancel", "lang")
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?=\s|$)")


# An album's photos arrive within seconds of each other; ten minutes is ample. Remembered in SQLite (`claims`): a
# restart between a classified album's first photo and its other pages must not let those pages be kept.
ALBUM_MEMORY = timedelta(minutes=10)
# The claim names the mark by its place in this list: no table may hold a classification mark's text. New marks go
# at the end: an album remembered before an upgrade keeps its number.
_MARKS = (*LEVELS, "涉密", *ENGLISH_LEVELS)


def texts_of(message: Message) -> list[str]:
    """Every text a message carries that a journey may keep or show: what was typed or captioned, a place picked
    from the map (its name and address are kept with a hazard), a file's name (a document named
    "机密★5年_转移方案.pdf" is as marked as its first page), a poll's question and answers."""
    texts = [message.text, message.caption]
    if message.venue is not None:
        texts += [message.venue.title, message.venue.address]
    for media in (message.document, message.audio, message.video, message.animation):
        if media is not None:
            texts.append(media.file_name)
    if message.audio is not None:
        texts += [message.audio.title, message.audio.performer]
    if message.poll is not None:
        texts += [message.poll.question, *(option.text for option in message.poll.options)]
    return [text for text in texts if text]


async def secrecy_guard(update: Update, context: BotContext) -> None:
    """Refuse classified content before any other handler, persistence or log can keep it."""
    message = update.effective_message
    # A press carries the bot's own message, which may quote a mark (this guard's refusal does, under its Cancel).
    if message is None or update.callback_query is not None:
        return
    claims = context.services.claims
    album = f"album:{message.media_group_id}" if message.media_group_id else None
    texts = texts_of(message)
    mark = next((found for text in texts if (found := find_classification_mark(text)) is not None), None)
    follows_refused = False
    if mark is None:
        # Telegram puts an album's caption on its first photo only: the other pages of a classified document
        # arrive bare, and without this they were kept as a report's photos and their bytes as evidence.
        refused = await claims.recall(message.chat_id, album) if album is not None else None
        if refused is None:
            return
        mark, follows_refused = _MARKS[int(refused.note or 0)], True
    elif album is not None:
        await claims.remember(message.chat_id, album, ALBUM_MEMORY, note=str(_MARKS.index(mark)))
    caller = await identify(update, context)
    actor_id = update.effective_user.id if update.effective_user else None
    content = "\n".join(texts).encode()
    # Taken down first where we are allowed to (a private chat keeps the sender's own copy), so that the refusal
    # says whether it still stands: a group that took the bot's right to delete must hear that it is still up.
    kept_up = is_group(update) and not await _taken_down(message)
    await context.services.storage.audit.append(
        actor_id,
        "secrecy.refused",
        target=f"chat:{message.chat_id}",
        # Only a fingerprint: the content itself must not be stored anywhere.
        detail={"mark": mark, "sha256_prefix": hashlib.sha256(content).hexdigest()[:12], "length": len(content),
                **({"album": True} if album is not None else {}), **({"deleted": False} if kept_up else {})},
    )
    if caller is not None and not follows_refused:  # said once for an album, not once a page
        refusal = caller.t("secrecy.refused", mark=mark)
        if kept_up:
            refusal += "\n\n" + caller.t("secrecy.not_taken_down")
        sender = update.effective_user
        steps = waiting(context.application, message.chat_id, sender.id) if sender and is_private(update) else []
        # The journey never sees the text, so neither its "type it again" nor its Cancel comes: both come here.
        cancel = next((data for step in steps if (data := cancel_button(step)) is not None), None)
        if steps:
            refusal += "\n\n" + caller.t("secrecy.step_waiting_cancel" if cancel else "secrecy.step_waiting")
        markup = cancel_keyboard(caller.t, cancel) if cancel is not None else None
        await message.reply_text(refusal, reply_markup=markup, do_quote=False)
    raise ApplicationHandlerStop


async def _taken_down(message: Message) -> bool:
    try:
        await message.delete()
    except TelegramError:
        log.info("could not delete a classified message in chat %s", message.chat_id)
        return False
    return True


# Callback data carries ids that SQLite stores as 64-bit integers; anything larger was never sent by the bot.
LARGEST_ID = 2**63 - 1
_NUMBER = re.compile(r"\d+")


async def forged_numbers(update: Update, context: BotContext) -> None:
    """A button whose ids could never have come from us is forged: refuse it before any handler parses it."""
    query = update.callback_query
    if query is None or not any(int(number) > LARGEST_ID for number in _NUMBER.findall(query.data or "")):
        return
    caller = await identify(update, context)
    await context.services.storage.audit.append(
        query.from_user.id, "authz.refused", detail={"button": (query.data or "")[:64], "reason": "forged_id"}
    )
    if caller is not None:
        await query.answer(caller.t("fallback.stale_button"), show_alert=True)
    raise ApplicationHandlerStop


async def edits_are_not_answers(update: Update, context: BotContext) -> None:
    """An edit of any earlier message comes as an update of its own. No journey asks for one: taken as input, a
    corrected old message became the answer to the current question. The secrecy guard has read it already; a
    person who edited in their chat with the bot hears why nothing changed. A shared live location sends an edit
    each time it moves: those pass in silence."""
    message = update.edited_message
    if message is None:
        return
    if is_private(update) and message.location is None:
        caller = await identify(update, context)
        if caller is not None:
            await message.reply_text(caller.t("edit.not_an_answer"), do_quote=False)
    raise ApplicationHandlerStop


def _command(update: Update, bot_username: str | None = None) -> str | None:
    """The command the message starts with, lower-cased; None for text, or for `/cmd@otherbot` (a group shares its
    commands with other bots: theirs are not ours to answer)."""
    message = update.effective_message
    found = _COMMAND.match(message.text or "") if message is not None else None
    if found is None:
        return None
    command, addressed = found.group(1).lower(), found.group(2)
    if addressed is not None and bot_username is not None and addressed.lower() != bot_username.lower():
        return None
    return command


async def access_gate(update: Update, context: BotContext) -> None:
    """Invite-only: strangers learn how to get an invitation; unbound groups learn how to bind."""
    if update.my_chat_member is not None or update.effective_user is None:
        return
    if is_private(update):
        caller = await identify(update, context)
        if caller is not None and caller.user is not None and caller.user.unreachable_since is not None:
            await wrote_while_marked_unreachable(update, context, caller)
        if caller is None or caller.registered or _command(update) in OPEN_COMMANDS:
            return
        # A former insider still trying is not a stranger: the security officer must be able to tell them apart.
        await context.services.storage.audit.append(
            caller.telegram_user.id, "access.deactivated" if caller.former else "access.unregistered",
            target=f"user:{caller.telegram_user.id}" if caller.former else None,
            detail={"kind": _update_kind(update)},
        )
        if update.callback_query is not None:
            short = "access.deactivated_short" if caller.former else "access.not_registered_short"
            await update.callback_query.answer(caller.t.plain(short), show_alert=True)
        else:
            await answer(update, caller.not_registered())
        raise ApplicationHandlerStop
    if is_group(update):
        chat = update.effective_chat
        assert chat is not None
        group = await bound_group(update, context)
        command = _command(update, context.bot.username)
        if group is not None:
            if update.message is not None and command is not None and command not in GROUP_ANSWERED_COMMANDS:
                await to_private_chat(update, context, command)
                raise ApplicationHandlerStop
            if (update.message is not None and command is None and addressed_to_bot(update.message, context.bot)
                    and not waiting(context.application, chat.id, update.effective_user.id)):
                # Unless a flow of the group's own (/bindgroup) waits for this person there.
                await spoken_to_in_group(update, context)
                raise ApplicationHandlerStop
            return
        query = update.callback_query
        if command in GROUP_OPEN_COMMANDS or (query is not None and (query.data or "").startswith("bind:")):
            return
        if update.message is not None and update.message.forum_topic_reopened is not None:
            return  # a closed topic opened again may take back the binding its closing moved (handlers.group_topics)
        caller = await identify(update, context)
        if caller is not None and (command is not None or update.callback_query is not None):
            if update.callback_query is not None:
                await update.callback_query.answer(caller.t("group.unbound"), show_alert=True)
            else:
                await answer(update, caller.t("group.unbound"))
        raise ApplicationHandlerStop


def _update_kind(update: Update) -> str:
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    if message is None:
        return "other"
    if message.text is not None:
        return "command" if message.text.startswith("/") else "text"
    return "media"


PRESENT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)
GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


async def bot_membership_changed(update: Update, context: BotContext) -> None:
    """Added to a group: say how to bind it, unless it is bound. Removed from a bound group, or its right to post
    taken away: see `_lost`. Blocked or unblocked by a person: `handlers.reach`."""
    change = update.my_chat_member
    if change is not None and is_private(update):
        await private_membership_changed(update, context)
        return
    if change is None or not is_group(update):
        return
    before, now = change.old_chat_member.status, change.new_chat_member.status
    if now in GONE and before not in GONE:
        await _lost(update, context, GroupLoss.REMOVED)
        return
    if now == ChatMemberStatus.RESTRICTED and not getattr(change.new_chat_member, "can_send_messages", True):
        await _lost(update, context, GroupLoss.MUTED)
        return
    if now in PRESENT and _takes_down(change.old_chat_member) != _takes_down(change.new_chat_member):
        await _admin_changed(update, context, regained=_takes_down(change.new_chat_member))
    if now not in PRESENT or before in PRESENT:
        return
    chat = update.effective_chat
    assert chat is not None
    bound = await context.services.storage.groups.get(chat.id, None)
    if bound is not None and bound.active:
        return
    caller = await identify(update, context)
    if caller is None:
        return
    # Back after a removal (or a mute): what the group was bound for is offered back, rather than forgotten.
    if not await offer_restore(context, chat.id, chat.title or str(chat.id), caller.t):
        await chat.send_message(caller.t("group.unbound"))


def _takes_down(member: ChatMember) -> bool:
    """Whether the bot, as this member of a group, may delete others' messages there: the right the secrecy guard
    needs to take a classified post down (and, with Telegram's privacy mode, to see it at all)."""
    if member.status == ChatMemberStatus.OWNER:
        return True
    return member.status == ChatMemberStatus.ADMINISTRATOR and bool(getattr(member, "can_delete_messages", False))


async def _admin_changed(update: Update, context: BotContext, *, regained: bool) -> None:
    """Made a plain member of a bound group (or its right to delete taken away), the bot still posts there but
    no longer sees or takes down a classified post: the group hears it, and so do the staff answerable for it
    (`OnboardingService.admin_changed`); the right given back after that, both hear so too."""
    chat, change = update.effective_chat, update.my_chat_member
    assert chat is not None and change is not None
    by = change.from_user
    told = await context.services.onboarding.admin_changed(
        chat.id, regained=regained, actor_id=by.id, by_name=full_name(by)[:64]
    )
    if told is None:
        return
    i18n = context.services.i18n
    t = i18n.get(i18n.default_language)  # the group's posts are in the bureau's language
    try:
        await chat.send_message(t("group.admin_back_here" if regained else "group.demoted_here"))
    except TelegramError:
        log.info("could not tell group %s that its admin rights for the bot changed", chat.id)


async def bound_group(update: Update, context: BotContext) -> Group | None:
    """The active binding this group chat's message falls under: its forum topic's, else the whole chat's."""
    chat = update.effective_chat
    if chat is None:
        return None
    group = await context.services.storage.groups.get(chat.id, topic_of(update))
    if group is None or not group.active:  # a topic whose own binding ended is still in a bound forum
        group = await context.services.storage.groups.get(chat.id, None)
    return group if group is not None and group.active else None


async def _lost(update: Update, context: BotContext, loss: GroupLoss) -> None:
    """Removed from a bound group, or muted there (an admin tired of its notices), the bot can reach it no more:
    warnings and notices for the county stopped arriving there, each refused in silence. The bindings end and the
    staff answerable for the group are told how to bring it back (`OnboardingService.group_lost`)."""
    chat, change = update.effective_chat, update.my_chat_member
    assert chat is not None and change is not None
    by = change.from_user
    # Cleaned as a registered person's name is: it is read in the staff's chats, inside our own sentence.
    lost = await context.services.onboarding.group_lost(chat.id, loss, actor_id=by.id, by_name=full_name(by)[:64])
    if lost is not None:
        log.warning("group %s lost (%s by %s): %d binding(s) ended, %d staff told", chat.id, loss.value, by.id,
                    len(lost.bindings), len(lost.tell))


async def group_migrated(update: Update, context: BotContext) -> None:
    """Telegram upgraded a group to a supergroup and says so in both (`migrate_to_chat_id` in the old,
    `migrate_from_chat_id` in the new): its bindings, the messages waiting for it and its reminders follow it to
    the new id. Without this the bot kept writing to the old id, which refuses everything, and took the new
    supergroup for an unbound group. Only Telegram writes these messages; the second one finds nothing to move."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    actor = update.effective_user.id if update.effective_user is not None else None
    if await context.services.onboarding.group_moved(old, new, actor_id=actor):
        log.info("group %s is now supergroup %s: its bindings, queued messages and reminders moved", old, new)
    raise ApplicationHandlerStop


async def unexpected_message(update: Update, context: BotContext) -> None:
    """Nothing else took this message: say what the bot can do rather than stay silent."""
    if not is_private(update):
        return
    caller = await identify(update, context)
    if caller is None:
        return
    message = update.effective_message
    if (message is not None and message.text is not None and cancel_labels().match(message.text)
            and await cancel_waiting_offer(update, context, caller)):
        return  # 取消 typed under a photo's offer: the offer's 取消 button, as at a journey's step
    if message is not None and message.text is not None and message.text.startswith("/"):
        await answer(update, caller.t("fallback.unknown_command"))
    elif message is not None and message.text is not None and await offer_contact(update, context, caller,
                                                                                    message.text):
        return  # a cadre's words while their contact round is open: a person's result, or the way to the list
    elif message is not None and message.text is not None and await offer_typed(update, context, caller,
                                                                                  message.text):
        return  # a head's words while a warning to them is in force: offered as what they did under it
    elif message is not None and message.text is not None and await may_report(context, caller):
        # Text that reached no journey is most often someone who wants to report and does not know how: say how.
        # (A classified text never gets here: the secrecy guard, in an earlier group, refused it.) Someone with
        # hazards to correct ("杂物已经清理好了") is more likely telling of a fix: say how to submit it first.
        fixing = caller.user is not None and bool(await fixable(context, caller.user))
        await answer(update, caller.t("fallback.hint_rectify" if fixing else "fallback.hint_report"))
    else:
        await answer(update, caller.t("fallback.not_understood"))


async def receipt_before_journeys(update: Update, context: BotContext) -> None:
    """A head who types 收到 (or OK, 好的收到…) while a warning to them waits for an answer believes they answered.
    Taken by a journey waiting for text, it became a drill's "what was practised" and the warning stayed unanswered.
    So before any journey: show them the warning's own buttons (typed text is not recorded as an answer: staff could
    not tell it from a remark) and stop there; a journey that waits stays at its step. Text that is something else,
    or sent with no warning waiting, goes on to the journeys as before."""
    message = update.message
    if message is None or message.text is None or not is_private(update) or not looks_like_receipt(message.text):
        return
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return
    warning = await context.services.warnings.newest_unanswered(caller.user.telegram_id)
    if warning is None:
        return
    t = caller.t
    tz = context.services.settings.tz
    text = t("warn.typed_receipt", title=title(warning, t), headline=headline(warning, t),
             at=local_time(warning.sent_at or warning.created_at, tz))
    waits = await _where_a_journey_waits(update, context, caller)
    if waits is not None:
        text += "\n\n" + waits
    await answer(update, text, reply_markup=ack_keyboard(warning.id, t))
    raise ApplicationHandlerStop


async def _where_a_journey_waits(update: Update, context: BotContext, caller: Caller) -> str | None:
    """"Your drill record still waits at step 5" for a journey of the person's that waits (its draft agreeing with
    the step); a plainer line for a journey that keeps no numbered draft; None when none waits."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    steps = waiting(context.application, chat.id, user.id)
    at = await waiting_at(context, caller, steps, chat.id, user.id)
    if at is not None:
        journey, found = at
        named = caller.t.plain(f"resume.journey.{journey.name}")
        if found.of is not None:  # a sheet of items (the self-inspection): how far it got, not a step
            return caller.t("warn.typed_receipt_items", journey=named, number=found.number, total=found.of)
        return caller.t("warn.typed_receipt_step", journey=named, number=found.number)
    return caller.t("warn.typed_receipt_waiting") if steps else None


async def stale_button(update: Update, context: BotContext) -> None:
    """A button no handler took. While a journey of the person's waits at a step, the journey is alive: "start
    again" would be wrong. They hear that the button is old and where the journey waits, and see its question."""
    query = update.callback_query
    if query is None:
        return
    caller = await identify(update, context)
    if caller is None:
        return
    chat = update.effective_chat
    steps = waiting(context.application, chat.id, query.from_user.id) if chat and is_private(update) else []
    if not steps or caller.user is None or chat is None:
        await query.answer(caller.t("fallback.stale_button"), show_alert=True)
        return
    at = await waiting_at(context, caller, steps, chat.id, query.from_user.id, askable=True)
    ask = at[0].ask if at is not None else None
    if at is not None and ask is not None:
        journey, found = at
        await query.answer(caller.t.plain("fallback.stale_button_step", journey=caller.t.plain(
            f"resume.journey.{journey.name}"), number=found.number), show_alert=True)
        await ask(update, context, caller, found.step)
        return
    await query.answer(caller.t.plain("fallback.stale_button_waiting"), show_alert=True)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure, tell the person, and stop the update there.

    Stopping matters for the guards: python-telegram-bot goes on to the next handler group after a failed one, so
    a secrecy guard or access gate that failed (the database refusing its audit entry or its lookup) let the
    update through to the journeys: a classified text into a report draft, a stranger's update to a handler."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        await _tell_of_failure(update, context)
    except Exception:
        log.warning("could not tell the user about the failure", exc_info=True)
    raise ApplicationHandlerStop


async def _tell_of_failure(update: Update, context: BotContext) -> None:
    if update.effective_chat is None or update.effective_user is None:
        return
    try:
        caller = await identify(update, context)
    except sqlite3.Error:
        caller = None  # who they are cannot be read either: their Telegram app's language is the best guess
    t = caller.t if caller is not None else context.services.i18n.for_client(update.effective_user.language_code)
    # The database refusing for a while (a write lock held past the busy timeout, a full disk) is worth saying
    # as it is: the step was not kept, and the same step again in a moment works.
    key = "error.busy" if isinstance(context.error, sqlite3.OperationalError) else "error.generic"
    if update.callback_query is not None:
        await update.callback_query.answer(t(key), show_alert=True)
    elif is_private(update):
        await update.effective_chat.send_message(t(key))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, secrecy_guard), group=SECRECY_GROUP)
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated), group=MIGRATION_GROUP)
    application.add_handler(TypeHandler(Update, edits_are_not_answers), group=EDIT_GROUP)
    application.add_handler(TypeHandler(Update, access_gate), group=ACCESS_GROUP)
    application.add_handler(TypeHandler(Update, receipt_before_journeys), group=RECEIPT_GROUP)
    application.add_handler(TypeHandler(Update, forged_numbers), group=ACCESS_GROUP + 1)
    application.add_handler(ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(on_error)


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """Added last to group 0, so they only see what no journey claimed."""
    application.add_handler(MessageHandler(filters.ALL & filters.ChatType.PRIVATE, unexpected_message))
    application.add_handler(CallbackQueryHandler(stale_button))
