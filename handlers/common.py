"""Small helpers every journey uses: who is asking, in which language, and how to answer them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, overload

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram import User as TelegramUser
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot.context import BotContext
from bot.domain.catalog import Labelled, Severity, label
from bot.domain.days import NoSuchDay
from bot.domain.deadlines import DeadlinePolicy
from bot.domain.text import clean_text, visible_length
from bot.i18n import Html, Named, Translator, counted, local_name
from bot.services.errors import Refusal
from storage.models import User
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority

if TYPE_CHECKING:
    from bot.services.hazard_reports import InstitutionChoices
    from bot.services_factory import BotServices


@dataclass(frozen=True)
class Caller:
    """The person behind an update, as our storage knows them (or not), and their language."""

    telegram_user: TelegramUser
    user: User | None
    t: Translator
    former: bool = False  # registered once, and their access has ended (`user` is then None)

    @property
    def registered(self) -> bool:
        return self.user is not None and self.user.active

    def not_registered(self) -> str:
        """What someone the bot does not serve reads: how to get an invitation, or that their access ended."""
        if self.former:
            return self.t("access.deactivated")
        return self.t("access.not_registered", name=self.telegram_user.first_name)


async def identify(update: Update, context: BotContext) -> Caller | None:
    """Who sent the update. Read once per update: the access gate asks first, then the handler that answers."""
    telegram_user = update.effective_user
    if telegram_user is None:
        return None
    known = context.caller
    if isinstance(known, Caller) and known.telegram_user.id == telegram_user.id:
        return known
    services = context.services
    user = await services.storage.users.get(telegram_user.id)
    if user is not None:
        # Someone whose access ended is still answered in the language they chose, not their app's.
        translator = services.i18n.get(user.language)
    else:
        translator = services.i18n.for_client(telegram_user.language_code)
    active = user is not None and user.active
    caller = Caller(telegram_user=telegram_user, user=user if active else None, t=translator,
                    former=user is not None and not active)
    context.caller = caller
    return caller


@dataclass(frozen=True)
class Registered:
    """A registered person behind an update: `user` is their caller's user, typed as present, so that handlers need
    not check it again."""

    caller: Caller
    user: User

    @property
    def t(self) -> Translator:
        return self.caller.t


@dataclass(frozen=True)
class Pressed(Registered):
    """A button pressed by a registered person."""

    query: CallbackQuery


@dataclass(frozen=True)
class Matched(Pressed):
    """A button pressed by a registered person, whose data matched the pattern the handler reads it with."""

    match: re.Match[str]


@dataclass(frozen=True)
class Typed(Registered):
    """A message sent by a registered person (text, a photo, whatever the step's filters let through)."""

    message: Message


@overload
async def pressed(update: Update, context: BotContext, pattern: None = None) -> Pressed | None: ...


@overload
async def pressed(update: Update, context: BotContext, pattern: re.Pattern[str]) -> Matched | None: ...


async def pressed(update: Update, context: BotContext, pattern: re.Pattern[str] | None = None) -> Pressed | None:
    """The button press behind the update, and what `pattern` reads in its data; None, in silence, when there is
    no registered person to serve (identify has answered a stranger already), no press, or data the pattern does
    not match. Identify comes first whatever the update holds: it is what answers strangers."""
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None:
        return None
    if pattern is None:
        return Pressed(caller, caller.user, query)
    match = pattern.match(query.data or "")
    return Matched(caller, caller.user, query, match) if match is not None else None


async def typed(update: Update, context: BotContext) -> Typed | None:
    """The message behind the update, sent by a registered person; None, in silence, when there is no one to serve
    (identify has answered a stranger already) or no message."""
    caller = await identify(update, context)
    message = update.effective_message
    if caller is None or caller.user is None or message is None:
        return None
    return Typed(caller, caller.user, message)


def full_name(telegram_user: TelegramUser) -> str:
    """The name a person registers with, as others will read it: cleaned of controls and bidi overrides (a profile
    name is typed text too); one that shows nothing is their Telegram id."""
    name = clean_text(telegram_user.full_name)[:128]
    return name if visible_length(name) else str(telegram_user.id)


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def is_group(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def answer(
    update: Update, text: str, *, reply_markup: InlineKeyboardMarkup | None = None, edit: bool = False
) -> Message | None:
    """Answer wherever the person is: edit the message whose button they pressed, or send a new message."""
    query = update.callback_query
    if query is not None:
        if edit and isinstance(query.message, Message):
            try:
                edited = await query.message.edit_text(text, reply_markup=reply_markup)
            except BadRequest as error:
                # An old button that lands on what is already shown: there is nothing to change, which is fine.
                if "not modified" not in error.message:
                    raise
                return query.message
            return edited if isinstance(edited, Message) else None
        chat = update.effective_chat
        if chat is None:
            return None
        return await chat.send_message(text, reply_markup=reply_markup)
    if update.effective_message is not None:
        return await update.effective_message.reply_text(text, reply_markup=reply_markup, do_quote=False)
    return None


def fitting(texts: Sequence[str], budget: int, *, most: int | None = None, gap: int = 1) -> list[str]:
    """The first of these texts (at most `most`) that fit `budget` characters, each with `gap` characters between
    (a newline, a blank line): the first always, however long. For a list in one Telegram message that names what
    fits and counts the rest."""
    kept: list[str] = []
    used = 0
    for text in texts[:most]:
        if kept and used + len(text) + gap > budget:
            break
        kept.append(text)
        used += len(text) + gap
    return kept


def topic_of(update: Update) -> int | None:
    message = update.effective_message
    if message is not None and message.is_topic_message:
        return message.message_thread_id
    return None


def place_name(place: Named | None, t: Translator) -> str:
    """A region's or an institution's name as the reader reads it; a dash where the place is gone (deleted since, or
    never known), so that a sentence about it still reads whole."""
    if place is None:
        return "—"
    return local_name(place, t.language)


def catalog_label(code: Labelled, t: Translator) -> str:
    """A catalog name as shown on buttons and in summaries: capitalised in English, as is in Chinese."""
    text = label(code, t.language)
    return text[:1].upper() + text[1:]


Choice = TypeVar("Choice")
# The marks a button's label may carry around its words ("✅ 合格", "✓ 一般"), which no one types.
_LABEL_MARKS = re.compile(r"^[\W_]+|[\W_]+$")


def _bare_label(text: str | None) -> str:
    return _LABEL_MARKS.sub("", clean_text(text)).casefold()


def typed_label(text: str | None, labels: dict[str, Choice]) -> Choice | None:
    """The choice whose button label (a key of `labels`) was typed instead of pressed: the words of the label whole,
    trimmed, in any case, with or without the label's emoji; None when the text names no button."""
    said = _bare_label(text)
    if not said:
        return None
    return next((choice for label, choice in labels.items() if _bare_label(label) == said), None)


def deadline_terms(policy: DeadlinePolicy, t: Translator) -> dict[str, str]:
    """How long each severity allows, as the severity questions say it ({serious}, {major}, {general}): from the
    DEADLINE_HOURS in force, never a fixed 24 hours, 3 days and 7 days."""
    terms = {}
    for severity in Severity:
        hours = policy.hours[severity]
        if hours % 24 == 0 and hours >= 48:  # a day itself reads better as 24 hours, as the bureau says it
            terms[severity.value] = t.plain("deadline.term_days", days=hours // 24)
        else:
            terms[severity.value] = t.plain("deadline.term_hour" if hours == 1 else "deadline.term_hours", hours=hours)
    return terms


async def flow_cancelled(update: Update, context: BotContext) -> int:
    """/cancel or a Cancel button inside a flow: say so where the person is, and end the conversation."""
    caller = await identify(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
    if caller is not None:
        await answer(update, caller.t("cancel.done"), edit=update.callback_query is not None)
    return ConversationHandler.END


async def cancel_journey(
    update: Update, context: BotContext, key: str, forget: Callable[[BotContext, int], Awaitable[object]]
) -> int:
    """/cancel or a Cancel button in a journey that keeps a draft: `forget` drops the caller's draft, then `key` is said
    where the person is, and the conversation ends."""
    caller = await identify(update, context)
    query = update.callback_query
    if query is not None:
        await query.answer()
    if caller is not None and caller.user is not None:
        await forget(context, caller.user.telegram_id)
        await answer(update, caller.t(key), edit=query is not None)
    return ConversationHandler.END


def no_such_day(found: NoSuchDay, t: Translator) -> str:
    """What is wrong with a day typed that does not exist: "9月没有31日", "September has no day 31"."""
    month = t.plain(f"date.month.{found.month}")
    if found.year is not None:
        return t("date.no_such_day_in_year", month=month, day=found.day, year=found.year)
    return t("date.no_such_day", month=month, day=found.day)


def cancel_keyboard(t: Translator, data: str) -> InlineKeyboardMarkup:
    """Cancel alone, with a journey's own callback data: under a question that asks for text, and under every answer
    that asks for it again, so that a person on a phone who would rather not go on gives up with one press instead of
    having to know /cancel."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("button.cancel"), callback_data=data)]])


async def refused_text(
    update: Update, t: Translator, refusal: Refusal, *, type_again: frozenset[str], cancel_data: str,
    otherwise: InlineKeyboardMarkup | None = None,
) -> bool:
    """Tell the person why the text they typed at a step was refused. True when it is a refusal they put right by
    typing it again (`type_again`): the answer then carries the step's Cancel, as its question did; any other carries
    `otherwise`, and the step is over."""
    again = refusal.code in type_again
    markup = cancel_keyboard(t, cancel_data) if again else otherwise
    await answer(update, t(refusal.message_key, **refusal.params), reply_markup=markup)
    return again


async def read_text(
    update: Update, caller: Caller, text: str, *, least: int, most: int, too_short: str, too_long: str,
    cancel_data: str,
) -> str | None:
    """Text typed at a step (a hazard's description, what was practised, a topic), cleaned (bot/domain/text.py), of
    `least` characters that show to `most` characters; None once the person has been refused with `too_short` or
    `too_long`, with the step's Cancel under the refusal. A text of only invisible characters is as short as an
    empty one."""
    cleaned = clean_text(text)
    if visible_length(cleaned) < least:
        await answer(update, caller.t(too_short, min=least), reply_markup=cancel_keyboard(caller.t, cancel_data))
        return None
    if len(cleaned) > most:
        await answer(update, caller.t(too_long, max=most), reply_markup=cancel_keyboard(caller.t, cancel_data))
        return None
    return cleaned


async def tell_each(
    services: BotServices,
    people: Iterable[User],
    key: str,
    words: Callable[[Translator], str],
    priority: Priority = Priority.URGENT,
) -> None:
    """One message to each person, worded in their language, queued in the outbox (inside the caller's
    transaction); its dedupe key is `key`, the moment and the person, so news told again later is not dropped."""
    stamp = f"{services.clock.now().timestamp():.0f}"
    messages = [
        NewOutboxMessage(
            dedupe_key=f"{key}:{stamp}:chat:{person.telegram_id}",
            chat_id=person.telegram_id,
            payload=OutboxPayload(text=words(services.i18n.get(person.language))),
            priority=priority,
        )
        for person in people
    ]
    await services.outbox.enqueue(messages)


def page_row(page: int, pages: int, t: Translator, data: Callable[[int], str]) -> list[list[InlineKeyboardButton]]:
    """The ◀ previous / next ▶ row under a list shown a page at a time (no row on a single page); `data` gives the
    callback data of the button to a page."""
    navigation = []
    if page > 0:
        navigation.append(InlineKeyboardButton(t.plain("button.page_previous"), callback_data=data(page - 1)))
    if page + 1 < pages:
        navigation.append(InlineKeyboardButton(t.plain("button.page_next"), callback_data=data(page + 1)))
    return [navigation] if navigation else []


def institution_rows(
    choices: InstitutionChoices, t: Translator, pick: str, turn: str
) -> list[list[InlineKeyboardButton]]:
    """/report's and /drill's institution picker: a button for each institution of the page (`pick` + its id), and
    the ◀ / ▶ row to the others (`turn` + the page), as /invite's head step turns its pages."""
    rows = [[InlineKeyboardButton(place_name(i, t), callback_data=f"{pick}{i.id}")] for i in choices.institutions]
    return rows + page_row(choices.page, choices.pages, t, lambda number: f"{turn}{number}")


def institution_prompt(question: str, choices: InstitutionChoices, t: Translator) -> str:
    """The picker's question, and, when the institutions fill more than one page, how many there are and which page
    this is."""
    if choices.pages == 1:
        return question
    where = t(counted("picker.page", choices.total), total=choices.total, page=choices.page + 1, pages=choices.pages)
    return Html(question + "\n" + where)


# Telegram's limit on the text of a pop-up (answerCallbackQuery).
POPUP_LIMIT = 200
# A button naming a person or a place: longer is cut, not wrapped (a phone shows about this much on one line).
BUTTON_CHARACTERS = 40


def popup_text(t: Translator, refusal: Refusal) -> str:
    """The refusal's text within a pop-up's limit: a long name in it (Telegram allows 129 characters) is shortened
    first, so that what the person must know, and what to do, still shows."""
    text = t.plain(refusal.message_key, **refusal.params)
    name = refusal.params.get("name")
    if len(text) > POPUP_LIMIT and isinstance(name, str):
        keep = max(1, len(name) - (len(text) - POPUP_LIMIT) - 1)
        text = t.plain(refusal.message_key, **{**refusal.params, "name": name[:keep] + "…"})
    return text if len(text) <= POPUP_LIMIT else text[: POPUP_LIMIT - 1] + "…"


async def refuse_press(
    context: BotContext, caller: Caller, query: CallbackQuery, refusal: Refusal, audited: Set[str]
) -> None:
    """A refused press, told in a pop-up the person must dismiss. The `audited` codes mean "not yours to do" rather
    than "too late": a forged or misplaced press, recorded against the button it came from."""
    if refusal.code in audited:
        await context.services.storage.audit.append(
            caller.telegram_user.id, "authz.refused", target=f"button:{query.data}", detail={"code": refusal.code}
        )
    await query.answer(popup_text(caller.t, refusal), show_alert=True)
