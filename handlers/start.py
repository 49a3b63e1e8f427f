"""First contact: registering with an invitation, help for each role, and /cancel outside any flow."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler

from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import Html, Translator, counted, normalize_language
from bot.processing import after_answer
from bot.services.errors import Refusal
from bot.services.onboarding import Newcomer
from bot.services.people import describe_scope
from handlers.calendar_common import DRILL, SELFCHECK, head_duty_keyboard, status_line
from handlers.common import Caller, answer, full_name, identify, is_private, topic_of
from handlers.group_binding_words import chat_bindings, language_rule
from handlers.menus import install_user_menu
from handlers.photo_offer import cancel_waiting_offer
from handlers.resume import unfinished_lines
from storage.models import User


async def start(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or not is_private(update):
        return
    token = context.args[0] if context.args else None
    services = context.services
    if caller.registered:
        assert caller.user is not None
        if token is not None:
            # Someone already registered opened an invitation (often one meant to give them another role): it is
            # left unused, and they must hear that their role stayed as it was, or they act as what they are not.
            # The link they registered with, opened again, was used: by them.
            user = caller.user
            theirs = await services.onboarding.invitation_not_needed(user, token)
            scope = await describe_scope(services.storage, user.region_code, user.institution_id, user.language)
            key = "start.invite_yours" if theirs else "start.invite_not_used"
            await answer(update, caller.t(key, role=caller.t.plain(f"role.{user.role.value}"), scope=scope))
            return
        await answer(update, caller.t("start.welcome_back", name=caller.user.full_name))
        await _help_with_unfinished(update, context, caller)
        return
    if token is None:
        await answer(update, caller.not_registered())
        return
    language = normalize_language(caller.telegram_user.language_code, services.settings.default_language)
    newcomer = Newcomer(
        telegram_id=caller.telegram_user.id,
        full_name=full_name(caller.telegram_user),
        username=caller.telegram_user.username,
        language=language,
    )
    try:
        user = await services.onboarding.register(token, newcomer)
    except Refusal as refusal:
        await answer(update, caller.t(refusal.message_key, **refusal.params))
        return
    from handlers.journeys import end_journeys  # here: journeys imports the access gate, which imports this module

    if update.effective_chat is not None:
        # Whatever they had left unfinished before their access ended stays ended (handlers.journeys).
        end_journeys(context.application, update.effective_chat.id, user.telegram_id)
    t = services.i18n.get(user.language)
    scope = await describe_scope(services.storage, user.region_code, user.institution_id, user.language)
    welcome = t("start.registered", name=user.full_name, role=t.plain(f"role.{user.role.value}"), scope=scope)
    markup = None
    if user.role is Role.HEAD:
        welcome, markup = await _handed_over(context, user, welcome, t)
    await answer(update, welcome, reply_markup=markup)
    await answer(update, t(f"help.{user.role.value}"))
    await install_user_menu(context.bot, user, t)
    # County staff and city admins are reminded of the hazards already open in their county (the city) from today,
    # not from the next daily plan; once they have their welcome, since a city's hazards take seconds to plan.
    after_answer(context.application, services.reminders.plan_for_arrival_or_departure(user),
                 f"planning the open hazards' reminders for {user.telegram_id}, newly registered")


async def _handed_over(
    context: BotContext, user: User, welcome: str, t: Translator
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """A head's welcome with what the institution owes now, as a handover: its hazards waiting, where its fire drill
    and this month's self-inspection stand (a month missed while nobody headed it included), and the buttons that
    log a drill and start the self-inspection. Otherwise a new head learned of them at the next reminder, up to a
    month later, or by sending /tasks or /drills unprompted."""
    services = context.services
    lines = [welcome]
    waiting = (await services.hazards.tasks(user, page_size=1)).total
    if waiting:
        lines.append(t(counted("start.open_hazards", waiting), count=waiting))
    institution = None if user.institution_id is None else await services.storage.institutions.get(user.institution_id)
    if institution is None:
        return Html("\n".join(lines)), None
    drill = await services.drills.status(institution)
    inspection = await services.self_inspections.status(institution)
    lines += [t("start.duties_header"), status_line(DRILL, drill, t), status_line(SELFCHECK, inspection, t)]
    return Html("\n".join(lines)), head_duty_keyboard(inspection, t)


async def show_help(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None:
        return
    if not is_private(update):
        # What this chat (and each of its forum topics) is bound for, by whom and since when; an unbound group is
        # told how to bind it: "the bot posts notices here" was untrue until it is.
        chat = update.effective_chat
        assert chat is not None
        services = context.services
        bound = await chat_bindings(services, chat.id, topic_of(update), bool(chat.is_forum), caller.t)
        if bound is None:
            await answer(update, caller.t("group.unbound"))
        else:
            await answer(update, caller.t("help.group", lines=bound, language=language_rule(services, caller.t)))
    elif caller.user is None:
        await answer(update, caller.not_registered())
    else:
        await _help_with_unfinished(update, context, caller)


async def _help_with_unfinished(update: Update, context: BotContext, caller: Caller) -> None:
    """The role's help, and under it the journeys the person left unfinished, each with the way back to it."""
    assert caller.user is not None
    lines = [caller.t(f"help.{caller.user.role.value}"), *await unfinished_lines(context, caller)]
    await answer(update, Html("\n\n".join(lines)))


async def cancel_nothing(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is None or (is_private(update) and await cancel_waiting_offer(update, context, caller)):
        return  # a photo's offer that waited is what /cancel ended
    await answer(update, caller.t("cancel.nothing"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", show_help))


def register_late(application: Application) -> None:  # type: ignore[type-arg]
    """After every conversation, so a /cancel inside a flow reaches that flow first."""
    application.add_handler(CommandHandler("cancel", cancel_nothing))
