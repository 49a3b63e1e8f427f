"""A hazard step that acts on a typed text (Reject, Reopen, 💬 Comment): a button opens the step, which is checked on
the server at once; the person's next text is the reason (or the comment); the action and the end of its draft are one
transaction. The draft lives in SQLite and the conversation is persistent, so a restart between the press and the
text loses neither."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.domain.lifecycle import HazardAction
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.hazards import HazardOutcome
from handlers.common import (
    Caller,
    answer,
    cancel_journey,
    cancel_keyboard,
    catalog_label,
    identify,
    refused_text,
    typed,
)
from handlers.conversations import ASKED_AGAIN, ENDED_BY_A_COMMAND
from handlers.hazard_buttons import (
    REASON_REFUSALS,
    STALE_BUTTONS,
    card_of,
    card_words,
    details_keyboard,
    ensure_allowed,
    pressed_hazard,
    refuse,
    settle_stored_card,
    shown_fix_of,
)
from handlers.notify import when
from storage.hazard_models import Hazard
from storage.models import User
from storage.repositories.action_drafts import ActionDraft, ActionDraftRepository, Journey

# What the person reads once the action is done: (its outcome, the reason as recorded, their words, the context).
Done = Callable[[HazardOutcome, str, Translator, BotContext], str]
# The service call the typed text goes to, inside the transaction that ends the draft: (the context, who typed, the
# draft, the text). None: the step's action, with the text as its reason.
Act = Callable[[BotContext, User, ActionDraft, str | None], Awaitable[HazardOutcome]]


async def waited_on(context: BotContext, caller: Caller, journey: Journey) -> Hazard | None:
    """The hazard a step waiting for a typed answer is about, as the person may see it now; None when the step's
    draft is gone, or the person's sight of the hazard."""
    if caller.user is None:
        return None
    draft = await context.services.storage.action_drafts.get(caller.user.telegram_id, journey)
    if draft is None:
        return None
    try:
        return (await context.services.hazards.view(caller.user, draft.hazard_id)).hazard
    except Refusal:
        return None


def ended_by_a_command(journey: Journey, said: str) -> Callable[[Update, BotContext], Awaitable[None]]:
    """What ends a hazard's step waiting for a typed answer (a reason, a new deadline) when another command comes:
    its draft deleted, nothing done, and the person told so (`said`, with the hazard's code). Kept waiting, the next
    sentence typed about something else became the answer, acted on the hazard and told others."""

    async def end(update: Update, context: BotContext) -> None:
        caller = await identify(update, context)
        if caller is None or caller.user is None:
            return
        drafts = context.services.storage.action_drafts
        draft = await drafts.get(caller.user.telegram_id, journey)
        await drafts.delete(caller.user.telegram_id, journey)
        hazard = await context.services.storage.hazards.get(draft.hazard_id) if draft is not None else None
        if hazard is not None:
            await answer(update, caller.t(said, code=hazard.code))

    return end


@dataclass(frozen=True)
class ReasonStep:
    name: str  # the conversation's name, and the prefix of its state
    journey: Journey
    action: HazardAction
    button_pattern: str  # the press that opens the step
    cancel_data: str
    ask_key: str  # asks for the reason; may name {code} and {severity}
    need_text_key: str  # something other than text came
    done: Done
    # A different question for a hazard in some state (a withdrawn hazard is reinstated, not reopened after closing).
    ask_key_by_state: tuple[tuple[str, str], ...] = ()
    act: Act | None = None
    # Refusals the person puts right by typing the text again; anything else ends the step.
    type_again: frozenset[str] = REASON_REFUSALS
    ask_params: tuple[tuple[str, int], ...] = ()  # more of the question's placeholders (a comment's length limits)
    # What the text is called in the state's name: persistent conversations are stored under that name.
    text_name: str = "reason"
    # A verdict ending the card it was pressed on (a rectification's, Reject): the card's new title once done, which
    # may name {code}, {name} (who), {at} and {reason} (handlers.hazard_buttons.settled_text).
    settled_key: str | None = None
    # The step ended by another command (handlers.journeys): what it says, naming {code}. None: it waits.
    put_aside_key: str | None = None

    @property
    def awaiting_reason(self) -> str:
        return f"{self.name}.awaiting_{self.text_name}"

    def _drafts(self, context: BotContext) -> ActionDraftRepository:
        return context.services.storage.action_drafts

    def cancel_keyboard(self, t: Translator) -> InlineKeyboardMarkup:
        return cancel_keyboard(t, self.cancel_data)

    async def chose(self, update: Update, context: BotContext) -> str | int:
        pressed = await pressed_hazard(update, context)
        if pressed is None:
            return ConversationHandler.END
        caller, user, query, hazard_id = pressed
        hazards, t = context.services.hazards, caller.t
        shown_fix = shown_fix_of(query)  # Reject: the rectification it was shown with
        try:
            # Checked on every press: the role, the scope and the hazard's state (and, to reopen or comment, the
            # window; to reject, that the rectification shown is still the one awaiting verification). A forged press
            # is refused and audited here.
            await ensure_allowed(hazards, user, hazard_id, self.action, shown_fix=shown_fix)
            hazard = (await hazards.view(user, hazard_id)).hazard
        except Refusal as refusal:
            await refuse(query, t, refusal)
            return ConversationHandler.END
        await query.answer()
        now = context.services.clock.now()
        card = card_of(query) if self.settled_key is not None else None
        draft = ActionDraft(hazard_id=hazard_id, shown_fix=shown_fix, card=card)
        await self._drafts(context).save(user.telegram_id, self.journey, draft, now)
        await answer(update, self._question(t, hazard), reply_markup=self.cancel_keyboard(t))
        return self.awaiting_reason

    def _question(self, t: Translator, hazard: Hazard) -> str:
        ask_key = dict(self.ask_key_by_state).get(hazard.state.value, self.ask_key)
        return t(ask_key, code=hazard.code, severity=catalog_label(hazard.severity, t), **dict(self.ask_params))

    async def ask_again(self, update: Update, context: BotContext, caller: Caller, step: object) -> bool:
        """The step's question again, with its Cancel (after /lang, in the new language); False when its draft, or
        the person's sight of the hazard, is gone."""
        hazard = await waited_on(context, caller, self.journey)
        if hazard is None:
            return False
        await answer(update, self._question(caller.t, hazard), reply_markup=self.cancel_keyboard(caller.t))
        return True

    async def gave_reason(self, update: Update, context: BotContext) -> str | int:
        sent = await typed(update, context)
        if sent is None:
            return ConversationHandler.END
        t, user, message, drafts = sent.t, sent.user, sent.message, self._drafts(context)
        draft = await drafts.get(user.telegram_id, self.journey)
        if draft is None:
            await answer(update, t("fallback.stale_button"))
            return ConversationHandler.END
        try:
            # Who, and when, checked again before the transaction: a refusal raised inside it (the person's rights
            # changed since the press) would roll its own audit entry back with it.
            await ensure_allowed(context.services.hazards, user, draft.hazard_id, self.action,
                                 shown_fix=draft.shown_fix)
            async with context.services.storage.db.transaction():  # the action and the end of its draft, or neither
                outcome = await self._act(context, user, draft, message.text)
                await drafts.delete(user.telegram_id, self.journey)
        except Refusal as refusal:
            # A new rectification arrived meanwhile, or the hazard was withdrawn: the way to it as it is now.
            latest = details_keyboard(draft.hazard_id, t) if refusal.code in STALE_BUTTONS else None
            if await refused_text(update, t, refusal, type_again=self.type_again, cancel_data=self.cancel_data,
                                  otherwise=latest):
                return self.awaiting_reason
            await drafts.delete(user.telegram_id, self.journey)
            return ConversationHandler.END
        reason = outcome.event.note if outcome.event is not None and outcome.event.note else ""
        if self.settled_key is not None:
            services = context.services
            # In the card's own language, which its lines below stay in (the presser may have switched since).
            words = card_words(context, draft.card.language if draft.card is not None else None, t)
            at = when(services.clock.now(), services.settings.tz, words)
            title = words(self.settled_key, code=outcome.hazard.code, name=user.full_name, at=at, reason=reason)
            await settle_stored_card(context.bot, draft.card, title, details_keyboard(draft.hazard_id, words))
        await answer(update, self.done(outcome, reason, t, context))
        return ConversationHandler.END

    async def _act(self, context: BotContext, user: User, draft: ActionDraft, text: str | None) -> HazardOutcome:
        if self.act is not None:
            return await self.act(context, user, draft, text)
        return await context.services.hazards.act(
            user, draft.hazard_id, self.action, reason=text, shown_fix=draft.shown_fix
        )

    async def needs_text(self, update: Update, context: BotContext) -> None:
        caller = await identify(update, context)
        if caller is not None:
            await answer(update, caller.t(self.need_text_key), reply_markup=self.cancel_keyboard(caller.t))

    async def cancelled(self, update: Update, context: BotContext) -> int:
        return await cancel_journey(
            update, context, "cancel.done",
            lambda c, telegram_id: self._drafts(c).delete(telegram_id, self.journey),
        )

    def conversation(self) -> BaseHandler:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE
        return ConversationHandler(
            name=self.name,
            persistent=True,
            entry_points=[CallbackQueryHandler(self.chose, pattern=self.button_pattern)],
            states={
                self.awaiting_reason: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.gave_reason),
                    MessageHandler(private & ~filters.COMMAND, self.needs_text),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", self.cancelled),
                CallbackQueryHandler(self.cancelled, pattern=f"^{self.cancel_data}$"),
            ],
            allow_reentry=True,
        )

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """The step's conversation, and (with `put_aside_key`) its end by another command (handlers.journeys)."""
        if self.put_aside_key is not None:
            ENDED_BY_A_COMMAND[self.name] = ended_by_a_command(self.journey, self.put_aside_key)
            ASKED_AGAIN[self.name] = self.ask_again
        application.add_handler(self.conversation())
