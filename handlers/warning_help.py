"""A call for help gets an owner and an end, as an on-call pager's page: ✋ 我来处理 under the staff's 🆘 alert (the
first official covering the person who asked takes it; the person is told who), then ✅ 已解决 for the one who took
it, under their alert or in /warnstatus (the person is told it is closed, and may ask again).

The person's notices are queued in the transaction of the press, under keys named by the request, so a restart
sends each once. The colleagues' copies of the alert are edited afterwards from the outbox's record of the
delivered messages; an edit lost to a restart costs only that: a colleague's later press is answered with who took
it, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import Html, Translator
from bot.services.errors import Refusal
from bot.services.warnings import HelpPress
from handlers.common import identify, refuse_press
from handlers.warning_ack import mark_delivered
from handlers.warning_help_pager import alert_prefixes
from handlers.warning_help_rounds import edit_copies, redraw_pressed
from handlers.warning_outbox import delivered_copy, edit_delivered, queue_personal, translator_for
from handlers.warning_text import (
    HELP_RESOLVE,
    HELP_TAKE,
    help_alert_key,
    help_only_keyboard,
    local_time,
    person_link,
    resolve_help_button,
    title,
)
from handlers.warnstatus import (
    AUTHZ_REFUSALS,
    edit_in_place,
    is_status,
    name_of,
    status_keyboard,
    status_text,
    view_of,
)
from storage.models import User
from storage.warning_models import HelpRequest

if TYPE_CHECKING:
    from bot.services_factory import BotServices

async def took_help(update: Update, context: BotContext) -> None:
    """✋ 我来处理: the presser handles the call, unless a colleague already does or it is resolved."""
    pressed = await _pressed(update, context, context.services.warnings.take_help, "taken")
    if pressed is None:
        return
    caller, press, message = pressed
    if message is not None and not await _redraw_round(context.services, message, press.request, caller.user,
                                                           caller.t):
        await _redraw_alert(context.services, message, press.request, caller.user, caller.t)
    if press.changed:
        await _edit_colleagues(context, press.request, message)
        await _edit_askers_warning(context, press)


async def resolved_help(update: Update, context: BotContext) -> None:
    """✅ 已解决, from the taker's alert or their /warnstatus: the call is closed and the asker told."""
    pressed = await _pressed(update, context, context.services.warnings.resolve_help, "resolved")
    if pressed is None:
        return
    caller, press, message = pressed
    services, user, t = context.services, caller.user, caller.t
    if message is not None and is_status(message):
        scope = user.region_code if user.role is Role.COUNTY else None
        status = await services.warnings.ack_status(press.request.warning_id, scope)
        view = view_of(message)  # the page the reader was on
        text = await status_text(services, status, t, view)
        markup = await status_keyboard(services, status, user, t, view)
        await edit_in_place(message, text, markup)
    elif message is not None and not await _redraw_round(services, message, press.request, user, t):
        await _redraw_alert(services, message, press.request, user, t)
    if press.changed:
        await _edit_colleagues(context, press.request, message)
        await _edit_askers_warning(context, press)


@dataclass(frozen=True)
class _Caller:
    """A registered presser, and their language."""

    user: User
    t: Translator


async def _pressed(
    update: Update, context: BotContext, act: Callable[[User, int], Awaitable[HelpPress]], what: str
) -> tuple[_Caller, HelpPress, Message | None] | None:
    """Act on the press and tell the asker in one transaction (both or neither), then answer the presser's pop-up;
    None when it was refused (answered and recorded) or came from nobody we know."""
    caller = await identify(update, context)
    query = update.callback_query
    if caller is None or caller.user is None or query is None or query.data is None:
        return None
    services, user = context.services, caller.user
    try:
        async with services.storage.db.transaction():
            press = await act(user, int(query.data.rsplit(":", 1)[1]))
            if press.changed:
                await _tell_asker(services, press, user, what)
    except Refusal as refusal:
        await refuse_press(context, caller, query, refusal, AUTHZ_REFUSALS)
        return None
    await query.answer(await _answer(services, press, user, caller.t), show_alert=True)
    message = query.message if isinstance(query.message, Message) and query.message.text_html else None
    return _Caller(user, caller.t), press, message


async def _redraw_round(
    services: BotServices, message: Message, request: HelpRequest, user: User, t: Translator
) -> bool:
    """A page listing several calls: only the pressed call's line and button change (False: not such a page)."""
    mine = request.taken_by == user.telegram_id and not request.resolved
    return await redraw_pressed(services, message, request, await _state_line(services, request, t), t, mine=mine)


async def _redraw_alert(
    services: BotServices, message: Message, request: HelpRequest, user: User, t: Translator
) -> None:
    """The alert with its state line, and ✅ 已解决 while it is the presser's and still open."""
    line = await _state_line(services, request, t)
    mine = request.taken_by == user.telegram_id and not request.resolved
    markup = InlineKeyboardMarkup([[resolve_help_button(request.id, t)]]) if mine else None
    await edit_in_place(message, Html(f"{_original(message.text_html)}\n\n{line}"), markup)


async def _answer(services: BotServices, press: HelpPress, presser: User, t: Translator) -> str:
    """The pop-up: what the press did, or why it changed nothing."""
    request = press.request
    tz = services.settings.tz
    if request.resolved:
        if press.changed:
            return t.plain("help.resolved")
        return t.plain("help.already_resolved", name=await name_of(services, request.resolved_by),
                       at=local_time(request.resolved_at or services.clock.now(), tz))
    if request.taken_by is None:
        return t.plain("help.not_taken")
    at = local_time(request.taken_at or services.clock.now(), tz)
    if request.taken_by != presser.telegram_id:
        return t.plain("help.taken_by_other", name=await name_of(services, request.taken_by), at=at)
    return t.plain("help.taken" if press.changed else "help.taken_already_you", at=at)


async def _state_line(services: BotServices, request: HelpRequest, t: Translator) -> str:
    tz = services.settings.tz
    if request.resolved:
        return t("help.resolved_line", name=await name_of(services, request.resolved_by),
                 at=local_time(request.resolved_at or services.clock.now(), tz))
    return t("help.taken_line", name=await name_of(services, request.taken_by),
             at=local_time(request.taken_at or services.clock.now(), tz))


def _original(text: str) -> str:
    """The alert without the state line an earlier press added (a press edits it again)."""
    return text.split("\n\n✋ ", 1)[0].split("\n\n✅ ", 1)[0]


async def _tell_asker(services: BotServices, press: HelpPress, by: User, what: str) -> None:
    """Tell the person who asked who is on it (a link to message them, and their @username where they have one:
    the user model keeps no phone number), or that it is closed, with 🆘 需要帮助 again while the warning holds."""
    warning, request = press.warning, press.request
    in_force = not services.warnings.has_ended(warning)
    if request.person_id is not None:
        await _tell_cadre(services, press, by, what)
        return

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        name = person_link(by.telegram_id, by.full_name)
        if what == "taken":
            key = "help.taken_notice_username" if by.username else "help.taken_notice"
            return t(key, name=name, title=title(warning, t), username=by.username or ""), None
        return (t("help.resolved_notice", name=name, title=title(warning, t)),
                help_only_keyboard(warning.id, t) if in_force else None)

    await queue_personal(services, [request.asker_id], f"{help_alert_key(request)}:{what}", render)


async def _tell_cadre(services: BotServices, press: HelpPress, by: User, what: str) -> None:
    """A cadre's call for a person on their contact list: who is on it, or that it is resolved (their own warning
    message is not theirs to change: the call was not for them)."""
    request = press.request
    assert request.round_id is not None and request.person_id is not None
    entry = await services.storage.contacts.entry(request.round_id, request.person_id)
    code = entry.person_code if entry is not None else "—"

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        return t(f"help.{what}_notice_person", name=person_link(by.telegram_id, by.full_name), code=code), None

    await queue_personal(services, [request.asker_id], f"{help_alert_key(request)}:{what}", render)


async def _edit_colleagues(context: BotContext, request: HelpRequest, pressed: Message | None) -> None:
    """Edit the other copies of the alert (delivered, as the outbox recorded them) to say who handles it now, and
    take their ✋ 我来处理 away: every copy but the one pressed (redrawn by `_redraw_alert`), the presser's own other
    copies too (the first alert, the pages), which kept ✋ 我来处理, or ✅ 已解决 after a resolve from /warnstatus.
    Best effort: a copy that cannot be edited (deleted, too old) is left as it is."""
    services = context.services
    copies = [copy for prefix in alert_prefixes(request)
              for copy in await services.storage.outbox.delivered_with_prefix(prefix)]
    for copy in copies:
        if copy.message_id is None or (
            pressed is not None and (copy.chat_id, copy.message_id) == (pressed.chat_id, pressed.message_id)
        ):
            continue
        t = await translator_for(services, copy.chat_id)
        line = await _state_line(services, request, t)
        await edit_delivered(context, copy, Html(f"{copy.payload.text}\n\n{line}"), None)

    async def line_for(t: Translator) -> str:
        return await _state_line(services, request, t)

    await edit_copies(context, request, pressed, line_for)


async def _edit_askers_warning(context: BotContext, press: HelpPress) -> None:
    """The line under the asker's own warning message follows their call: who handles it, then that it was
    resolved (with 🆘 需要帮助 again while the warning holds). Best effort, as the colleagues' copies: the newest
    revision of the warning delivered to them (not a 【解除】), from the outbox's record; the copy they pressed
    under may be an older one, or the nudge after a typed 收到, and keeps its own line."""
    services, request, warning = context.services, press.request, press.warning
    if request.person_id is not None:
        return  # a call for a person on a cadre's contact list: their warning message says nothing of it
    copy = await delivered_copy(services, warning, request.asker_id)
    if copy is None:
        return
    t = await translator_for(services, request.asker_id)
    tz = services.settings.tz
    if request.resolved:
        line = t("warn.state_helped", name=await name_of(services, request.resolved_by),
                 at=local_time(request.resolved_at or services.clock.now(), tz))
        markup = help_only_keyboard(warning.id, t) if not services.warnings.has_ended(warning) else None
    else:
        line = t("warn.state_help_taken", raised=local_time(request.raised_at, tz),
                 name=await name_of(services, request.taken_by),
                 at=local_time(request.taken_at or services.clock.now(), tz))
        markup = None
    await mark_delivered(context, copy, line, markup)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(took_help, pattern=rf"^{HELP_TAKE}:\d+$"))
    application.add_handler(CallbackQueryHandler(resolved_help, pattern=rf"^{HELP_RESOLVE}:\d+$"))
