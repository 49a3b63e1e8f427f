"""Callback data of the hazard journeys: opaque ids only; every handler re-checks role, scope and state.

Accept and Reject (and the fixer's own acceptance) also name the rectification they were shown with, by its history
entry: `hz:accept:{hazard}:{fix}`. Pressed once another rectification awaits verification, they change nothing. Those
sent before carry no fix (`hz:accept:{hazard}`) and stand for the only one ever submitted (LEGACY_FIX).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterable, Sequence

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

from bot.context import BotContext
from bot.domain.catalog import is_sensitive
from bot.domain.checklists import shown_description
from bot.domain.lifecycle import ACTION_RULES, HazardAction
from bot.domain.roles import STAFF_ROLES
from bot.i18n import LANGUAGES, Translator, catalog_messages, clipped_width, text_width
from bot.services.errors import Refusal
from bot.services.hazards import LEGACY_FIX, HazardService, TaskItem, TaskPage
from handlers.common import BUTTON_CHARACTERS, Caller, catalog_label, page_row, place_name, popup_text, pressed
from storage.hazard_models import Hazard
from storage.models import Institution, User
from storage.repositories.action_drafts import CardRef
from storage.repositories.institutions import InstitutionRepository

VIEW, ACKNOWLEDGE, RECTIFY, ACCEPT, REJECT, DEADLINE = "view", "ack", "fix", "accept", "reject", "deadline"
REOPEN, ASSIGN, WITHDRAW = "reopen", "assign", "withdraw"
# The person correcting a hazard asks for more time (申请延期, handlers/extension.py).
EXTEND = "extend"
COMMENT = "comment"  # 💬 a comment on the hazard's record (handlers.comment)
# Four eyes waived: the fixer, whom nobody else can relieve, confirms accepting their own rectification, or keeps it.
ACCEPT_OWN, KEEP_OWN = "acceptown", "keepown"
PATTERN = re.compile(
    r"^hz:(view|ack|fix|accept|reject|deadline|reopen|assign|acceptown|keepown|extend|withdraw|comment):(\d+)(?::(\d+))?$"
)
# The buttons that give a verdict on one rectification, and name it.
VERDICT_VERBS = frozenset({ACCEPT, REJECT, ACCEPT_OWN})
TASKS_PAGE = re.compile(r"^tk:page:(\d+)$")
MINE_PAGE = re.compile(r"^mn:page:(\d+)$")

# The buttons a person gets for the actions decide() would allow them, in this order.
ACTION_BUTTONS: tuple[tuple[HazardAction, str, str], ...] = (
    (HazardAction.ACKNOWLEDGE, ACKNOWLEDGE, "button.acknowledge"),
    (HazardAction.SUBMIT_RECTIFICATION, RECTIFY, "button.rectify"),
    (HazardAction.REQUEST_EXTENSION, EXTEND, "button.request_extension"),
    (HazardAction.ACCEPT, ACCEPT, "button.accept"),
    (HazardAction.REJECT, REJECT, "button.reject"),
    (HazardAction.ASSIGN, ASSIGN, "button.assign"),
    (HazardAction.CHANGE_DEADLINE, DEADLINE, "button.change_deadline"),
    (HazardAction.REOPEN, REOPEN, "button.reopen"),
    (HazardAction.COMMENT, COMMENT, "button.comment"),
    (HazardAction.WITHDRAW, WITHDRAW, "button.withdraw"),  # last: the one that ends it (handlers/withdraw.py)
)


# Staff decide a request for more time; the buttons name the request, which names its hazard.
APPROVE_EXTENSION = re.compile(r"^xt:ok:(\d+)$")
REFUSE_EXTENSION = re.compile(r"^xt:no:(\d+)$")


def extension_row(request_id: int, t: Translator) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(t.plain("button.approve_extension"), callback_data=f"xt:ok:{request_id}"),
        InlineKeyboardButton(t.plain("button.refuse_extension"), callback_data=f"xt:no:{request_id}"),
    ]


def data(verb: str, hazard_id: int, fix: int | None = None) -> str:
    return f"hz:{verb}:{hazard_id}" if fix is None else f"hz:{verb}:{hazard_id}:{fix}"


def pattern(verb: str) -> str:
    """The CallbackQueryHandler pattern of one verb (with or without the rectification it names)."""
    return rf"^hz:{verb}:\d+(?::\d+)?$"


def button(
    verb: str, hazard_id: int, label_key: str, t: Translator, fix: int | None = None
) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.plain(label_key), callback_data=data(verb, hazard_id, fix))


def parse(callback_data: str | None) -> tuple[str, int, int | None] | None:
    match = PATTERN.match(callback_data or "")
    if not match:
        return None
    return match.group(1), int(match.group(2)), None if match.group(3) is None else int(match.group(3))


def hazard_id_of(query: CallbackQuery) -> int | None:
    parsed = parse(query.data)
    return parsed[1] if parsed else None


def shown_fix_of(query: CallbackQuery) -> int | None:
    """The rectification a verdict button was shown with (LEGACY_FIX: sent before buttons named it); None for any
    other button."""
    parsed = parse(query.data)
    if parsed is None or parsed[0] not in VERDICT_VERBS:
        return None
    return LEGACY_FIX if parsed[2] is None else parsed[2]


# Withdraw as its reporter sees it: taking back their own report (撤回上报), the same button and journey as staff's.
WITHDRAW_OWN_LABEL = "button.withdraw_own"


def action_buttons(
    hazard: Hazard, actions: Iterable[HazardAction], t: Translator, fix: int | None = None, *, own: bool = False
) -> list[InlineKeyboardButton]:
    """`fix`: the rectification awaiting verification, which Accept and Reject name. `own`: the reader would
    withdraw it as its reporter (HazardService.withdraws_as_reporter), and reads Withdraw as taking it back."""
    allowed = set(actions)
    buttons = []
    for action, verb, label_key in ACTION_BUTTONS:
        if action not in allowed:
            continue
        # Acknowledging twice changes nothing; once done, the button would only add noise to the history.
        if action is HazardAction.ACKNOWLEDGE and hazard.acknowledged_at is not None:
            continue
        label = WITHDRAW_OWN_LABEL if own and action is HazardAction.WITHDRAW else label_key
        buttons.append(button(verb, hazard.id, label, t, fix if verb in VERDICT_VERBS else None))
    return buttons


def action_keyboard(
    hazard: Hazard, actions: Iterable[HazardAction], t: Translator, *, details: bool = True, fix: int | None = None,
    own: bool = False,
) -> InlineKeyboardMarkup | None:
    """One row per action the person may take, then Details; None when there is nothing to offer. A message with
    Details (a notice) leaves Comment to the details, where the record it adds to is read first. `own`: see
    `action_buttons`."""
    if details:
        actions = [action for action in actions if action is not HazardAction.COMMENT]
    rows = [[b] for b in action_buttons(hazard, actions, t, fix, own=own)]
    if details:
        rows.append([button(VIEW, hazard.id, "button.details", t)])
    return InlineKeyboardMarkup(rows) if rows else None


# A home's name at the start of a staff list's button: about six Chinese characters (or twelve letters), then "…".
HOME_COLUMNS = 13
# The city and district (county) a home's official name starts with, which a clerk's homes all share and a button has
# no room for: 温州市, 鹿城区, 永嘉县 (not 社区, a community, which tells homes apart); Lucheng District, Wenzhou ….
DIVISION_PREFIX = re.compile(
    r"^(?:[\u4e00-\u9fff]{2}(?<!社)[市区县])+|^(?:[A-Z][a-z]+ )?[A-Z][a-z]+ (?:City|District|County) "
)


def names_homes(user: User) -> bool:
    """Whether `user`'s lists name each hazard's home on its button: staff (county, city), whose lists hold hazards
    of many homes; not a head or a cadre, whose lists are their own home's or their own reports."""
    return user.role in STAFF_ROLES


def home_short(hazard: Hazard, institution: Institution | None, t: Translator) -> str:
    """A home's name as a staff list's button starts: its name as the line above calls it (`place_name`), without
    the city and district it starts with (DIVISION_PREFIX), cut to HOME_COLUMNS; where the home is gone (or
    nameless), "#" and the last four digits of the hazard's code instead."""
    name = " ".join(place_name(institution, t).split()) if institution is not None else ""
    if not name or name == "—":
        return "#" + hazard.code[-4:]
    short = DIVISION_PREFIX.sub("", name)
    return clipped_width(short if len(short) >= 2 else name, HOME_COLUMNS)


def hazard_label(
    hazard: Hazard, t: Translator, *, overdue: bool = False, key: str = "hazard.button_label", home: str | None = None,
    numbered: bool | None = None,
) -> str:
    """A hazard's button in a list, so that it says which hazard it is without matching codes against the text
    above: ⏰ when late (`overdue`, as the list's line says it), the area, the start of the description. Plain text
    (a button renders no HTML), on one line, cut where a phone would wrap it (a Chinese character counts as two
    letters). A rights-protection (权益保障) hazard never puts its description on a button: the lists do not show
    it; its code tells it apart instead. `key` takes {area} and {what}; its `_overdue` twin is used when late.
    `home` (`home_short`, for staff, whose lists span many homes) starts the label: `key`'s `_home` twin, which
    takes {home} too, is used instead, unless it would cut a rights-protection hazard's code. `numbered`: whether
    the label ends with the number its code ends with (`code_number`), kept whatever the cut takes; by default for
    staff (`home` given), whose homes' names often start alike ("Street 19 No.39 …", "Street 19 No.9 …": cut, they
    read the same), and otherwise where two labels of a list would read alike (`distinct_labels`)."""
    sensitive = is_sensitive(hazard.area)
    what = hazard.code if sensitive else " ".join(shown_description(hazard.description).split()) or hazard.code
    params = {"area": catalog_label(hazard.area, t), "what": what}
    plain_key = key
    if home is not None:
        key, params["home"] = f"{key}_home", home
    label = t.plain(f"{key}_overdue" if overdue else key, **params)
    if sensitive:
        if home is not None and clipped_width(label, BUTTON_CHARACTERS) != label:
            # The code is all that tells such a hazard apart: it keeps its whole code and gives up the home.
            return hazard_label(hazard, t, overdue=overdue, key=plain_key)
        return clipped_width(label, BUTTON_CHARACTERS)
    if not (home is not None if numbered is None else numbered):
        return clipped_width(label, BUTTON_CHARACTERS)
    # The number is what the lines above name each hazard by (YH-…-0216): it stays whatever the cut takes.
    number = code_number(hazard.code)
    room = BUTTON_CHARACTERS - text_width(t.plain("hazard.button_numbered", label="", number=number))
    return t.plain("hazard.button_numbered", label=clipped_width(label, room), number=number)


def distinct_labels(
    items: Sequence[tuple[Hazard, bool]], t: Translator, key: str = "hazard.button_label",
    homes: Sequence[str | None] | None = None, *, numbered: bool | None = None,
) -> list[str]:
    """The buttons of a list of hazards (each with whether it is overdue), as `hazard_label` says them (`numbered`
    as it takes it), and numbered where two of them would read alike anyway: a home's five reports of the same
    blocked exit were five identical buttons. `homes`: each hazard's home, for staff lists."""
    where = list(homes) if homes is not None else [None] * len(items)
    labels = [hazard_label(h, t, overdue=late, key=key, home=home, numbered=numbered)
              for (h, late), home in zip(items, where, strict=True)]
    alike = {label for label in labels if labels.count(label) > 1}
    return [
        hazard_label(h, t, overdue=late, key=key, home=home, numbered=True) if label in alike else label
        for (h, late), home, label in zip(items, where, labels, strict=True)
    ]


def code_number(code: str) -> str:
    """The number a hazard's code ends with (YH-20260302-0007: 0007), which tells it from the others of a list."""
    return code.rsplit("-", 1)[-1]


def list_keyboard(
    page: TaskPage, t: Translator, page_data: str, homes: dict[int, Institution | None] | None = None
) -> InlineKeyboardMarkup:
    """A list of hazards a page at a time (/tasks, /mine): one Details button per hazard, a row each, labelled as
    `hazard_label` says, then previous and next. `page_data` is the page buttons' callback data with `{page}` for
    the page number. `homes` (`page_homes`), given for staff, starts each label with the hazard's home."""
    shorts = None if homes is None else [home_short(i.hazard, homes.get(i.hazard.institution_id), t)
                                         for i in page.items]
    labels = distinct_labels([(item.hazard, item.overdue) for item in page.items], t, homes=shorts)
    rows = [[InlineKeyboardButton(label, callback_data=data(VIEW, item.hazard.id))]
            for item, label in zip(page.items, labels, strict=True)]
    rows += page_row(page.page, page.pages, t, lambda number: page_data.format(page=number))
    return InlineKeyboardMarkup(rows)


async def page_homes(institutions: InstitutionRepository, hazards: Iterable[Hazard]) -> dict[int, Institution | None]:
    """The homes of `hazards`, each read once, by id (None: gone)."""
    read: dict[int, Institution | None] = {}
    for hazard in hazards:
        if hazard.institution_id not in read:
            read[hazard.institution_id] = await institutions.get(hazard.institution_id)
    return read


def list_lines(
    homes: dict[int, Institution | None], page: TaskPage, line: Callable[[TaskItem, Institution | None], str]
) -> list[str]:
    """Each hazard's line of a list page (/tasks, /mine), with its home from `homes` (`page_homes`)."""
    return [line(item, homes.get(item.hazard.institution_id)) for item in page.items]


def page_pressed(query: CallbackQuery, pattern: re.Pattern[str]) -> int:
    """The page a list's page button asks for; 0 for data that is not one (the list shows its first page)."""
    match = pattern.match(query.data or "")
    return int(match.group(1)) if match else 0


async def set_buttons(bot: Bot, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
    """Swap the buttons under a message of ours, its text as it stands (None takes them all away).

    Not through `Bot.edit_message_reply_markup`: with Defaults(parse_mode) python-telegram-bot sends parse_mode to
    editMessageReplyMarkup too, a parameter that method does not have (the bundled emulator refuses it, as the
    spec has it); nor through editMessageText, which needs the text as the reader sees it now (a head's copy carries
    the line their answer left), which only Telegram knows.
    """
    buttons = {} if markup is None else {"reply_markup": markup.to_json()}
    with warnings.catch_warnings():  # PTB suggests the method we cannot use here (see above)
        warnings.simplefilter("ignore", PTBUserWarning)
        await bot.do_api_request(
            "editMessageReplyMarkup", api_kwargs={"chat_id": chat_id, "message_id": message_id, **buttons}
        )


async def replace_buttons(message: Message, markup: InlineKeyboardMarkup | None) -> None:
    """Swap the buttons under a message of ours (`set_buttons`), where a press came from."""
    if message.text is None:
        return
    try:
        await set_buttons(message.get_bot(), message.chat_id, message.message_id, markup)
    except BadRequest as error:
        # Pressed twice in a row: the buttons are already what they should be.
        if "not modified" not in error.message:
            raise


def settled_text(text_html: str, title: str, *, closing: bool = True) -> str:
    """A card's text once acted on: its first line (the title: "待审批", "待您验收") replaced by `title`, the facts
    below kept, its closing request to act (a paragraph of its own) dropped. `closing` False: the card has no such
    request, and ends with a fact (a request for more time, with its reason): a blank line in that is the reason's
    own, not the start of a request to drop."""
    lines = text_html.split("\n", 1)
    body = lines[1] if len(lines) > 1 else ""
    if closing and "\n\n" in body:
        body = body.rsplit("\n\n", 1)[0]
    return f"{title}\n{body}" if body else title


async def settle_card(
    message: Message, title: str, markup: InlineKeyboardMarkup | None, *, closing: bool = True
) -> None:
    """A notice acted on reads as what became of it (`settled_text`), its buttons swapped. Staff scrolling back saw
    "延期申请待审批" on a request approved an hour before."""
    if message.text is None:
        return
    try:
        await message.edit_text(settled_text(message.text_html, title, closing=closing), reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


def card_language(message: Message) -> str | None:
    """The language a card was sent in: that of its Details button's label (every hazard card carries one), None
    when it has none. A settled card's title is written in it, whoever presses: staff who had switched to English
    retitled a Chinese card "✅ More time approved…" over its Chinese lines."""
    markup = message.reply_markup
    labels = {button.text for row in markup.inline_keyboard for button in row} if markup is not None else set()
    return next((language for language, details in _details_labels().items() if details in labels), None)


@functools.cache
def _details_labels() -> dict[str, str]:
    """Each language's Details label, read from the catalogs once: parsing them on every verdict pressed cost a
    tenth of the throughput benchmark's rate."""
    return {language: catalog_messages(language)["button.details"] for language in LANGUAGES}


def card_words(context: BotContext, language: str | None, t: Translator) -> Translator:
    """The words of a settled card's title and Details button: the card's own language (`card_language`), so that
    the card reads in one language; the presser's (`t`) when it is not known."""
    return context.services.i18n.get(language) if language is not None else t


def card_of(query: CallbackQuery) -> CardRef | None:
    """The card a decision that waits for its reason was pressed on, to retitle once the reason is typed."""
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        return None
    return CardRef(chat_id=message.chat_id, message_id=message.message_id, text_html=message.text_html,
                   language=card_language(message))


async def settle_stored_card(
    bot: Bot, card: CardRef | None, title: str, markup: InlineKeyboardMarkup | None, *, closing: bool = True
) -> None:
    """`settle_card` for a card pressed a message or more before (a verdict whose reason came after): edited by its
    chat and message, from its text as it read when pressed. The verdict is given by now: a card deleted meanwhile
    (or one Telegram no longer lets us edit) stays as it was, and the verdict stands."""
    if card is None:
        return
    try:
        await bot.edit_message_text(
            settled_text(card.text_html, title, closing=closing), chat_id=card.chat_id, message_id=card.message_id,
            reply_markup=markup,
        )
    except BadRequest:
        return


async def pressed_hazard(update: Update, context: BotContext) -> tuple[Caller, User, CallbackQuery, int] | None:
    """Who pressed a hazard button and which hazard it names; None when storage does not know the person or the
    button names no hazard. The user comes apart from the caller so that it is typed as present."""
    press = await pressed(update, context, PATTERN)
    if press is None:
        return None
    return press.caller, press.user, press.query, int(press.match.group(2))


# The refusal of a verdict on an earlier rectification: its buttons give way to Details, which shows the latest.
EARLIER_RECTIFICATION = "earlier_rectification"
# Refusals after which a message's buttons have nothing left to do: they give way to Details. A withdrawn hazard
# takes no verdict, no fix and no request any more (Details offers what it still takes: Reopen, Comment); nor may its
# reporter withdraw one worked on since (Details offers Comment).
STALE_BUTTONS = frozenset({EARLIER_RECTIFICATION, "withdrawn", "withdraw_too_late"})
# Refusals of a typed reason the person puts right by typing it again (Reject, Reopen, Deadline, refusing more
# time); anything else ends the step.
REASON_REFUSALS = frozenset({"reason_required", "text_too_long", "classified"})


def details_keyboard(hazard_id: int, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(VIEW, hazard_id, "button.details", t)]])


async def refuse(query: CallbackQuery, t: Translator, refusal: Refusal) -> None:
    """A pop-up the person must dismiss: a stale or forged button deserves more than a passing toast. Pressed on an
    earlier rectification, the message's buttons become Details, the way to the one awaiting verification now; so
    do they on a hazard withdrawn since."""
    await query.answer(popup_text(t, refusal), show_alert=True)
    hazard_id = hazard_id_of(query)
    if refusal.code in STALE_BUTTONS and hazard_id is not None and isinstance(query.message, Message):
        await replace_buttons(query.message, details_keyboard(hazard_id, t))


async def ensure_allowed(
    hazards: HazardService, actor: User, hazard_id: int, action: HazardAction, *, shown_fix: int | None = None
) -> None:
    """Raise the Refusal that taking `action` now would earn, before asking the person for its inputs.

    decide() checks who and when before what the action needs (see bot.domain.lifecycle), so the service asked
    without the text either refuses for who or when (and audits a forged press) or only asks for the text: a
    check with no effect. Only for actions that require text, which cannot succeed without it.
    """
    needed = ACTION_RULES[action].text
    if needed is None:
        raise ValueError(f"{action} needs no text: asking the service would perform it")
    try:
        await hazards.act(actor, hazard_id, action, shown_fix=shown_fix)
    except Refusal as refusal:
        if refusal.code == needed.value:
            return
        raise
    raise RuntimeError(f"{action} succeeded without its text")  # pragma: no cover - decide() forbids it
