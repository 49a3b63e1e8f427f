"""Issue a warning (/warn, county staff within their county, city admins anywhere): kind → level → text (or the
kind's template) → regions → institution types → risk tags → expiry → a preview of the exact message and of how
many people and groups it reaches → Send. Each answer is saved as it is given, so a restart resumes the journey.

Sending queues one message per recipient chat in the transaction that sends the warning, and shows the sender one
status message that edits itself as delivery goes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.roles import Role, region_in_scope
from bot.domain.text import is_blank, split_warning_text
from bot.domain.warnings import NewWarning, WarningChange, WarningKind, WarningLevel, WarningOrigin, WarningTarget
from bot.i18n import Html, Translator, counted
from bot.services.errors import Refusal
from bot.services.warning_settings import load_checklists
from bot.services.warnings import ManualWarning
from handlers.common import Caller, answer, cancel_journey, identify, is_private, place_name
from handlers.warning_delivery import Audience, alike_line, audience_line, deliver, no_one_line, round_lines
from handlers.warning_outbox import show_progress
from handlers.warning_text import LEVEL_ICONS, from_template, kind_label, level_label, template, title, warning_text
from storage.models import Institution, InstitutionType, RiskTag, User
from storage.repositories.warning_drafts import WarnDraft, WarningDraftRepository

PICKING_KIND = "warn.picking_kind"
PICKING_LEVEL = "warn.picking_level"
WRITING = "warn.writing"
PICKING_REGIONS = "warn.picking_regions"
PICKING_TYPES = "warn.picking_types"
PICKING_TAGS = "warn.picking_tags"
PICKING_EXPIRY = "warn.picking_expiry"
PREVIEWING = "warn.previewing"

EXPIRY_HOURS = (6, 12, 24, 48)
MAX_HEADLINE = 100
MAX_WARNING_TEXT = 1000  # with the checklist, the message must still fit one Telegram message
CITY = "city"  # the "whole city" choice among the regions

Choice = TypeVar("Choice", InstitutionType, RiskTag)
# A manual warning reaches whom staff choose; these are suggestions, preselected, for the kinds where the seed
# names the institutions at risk (三(三): near mountains, rivers, the sea or low-lying, for typhoons and floods).
SUGGESTED_TAGS: dict[WarningKind, tuple[RiskTag, ...]] = {
    WarningKind.TYPHOON: (RiskTag.NEAR_SEA, RiskTag.NEAR_RIVER, RiskTag.NEAR_MOUNTAIN, RiskTag.LOW_LYING),
    WarningKind.RAINSTORM: (RiskTag.NEAR_RIVER, RiskTag.NEAR_MOUNTAIN, RiskTag.LOW_LYING, RiskTag.NEAR_SEA),
    WarningKind.GALE: (RiskTag.NEAR_SEA, RiskTag.NEAR_MOUNTAIN),
}
# Shown by name in the preview when the risk features leave institutions of the area out; the others counted.
LEFT_OUT_NAMED = 3


def suggested_tags(kind: WarningKind, level: WarningLevel | None) -> tuple[RiskTag, ...]:
    """The risk features preselected. A red warning is the highest level: every institution of the area prepares
    (each reads only the actions that apply to it), so nothing is preselected that would leave a home out; the
    sender may still narrow it. Below red, the seed's institutions at risk."""
    return () if level is WarningLevel.RED else SUGGESTED_TAGS.get(kind, ())


def _drafts(context: BotContext) -> WarningDraftRepository:
    return WarningDraftRepository(context.services.storage.db)


# ---- keyboards -------------------------------------------------------------------------------------------------


def _cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.plain("button.cancel"), callback_data="wn:cancel")]


def _pairs(buttons: list[InlineKeyboardButton], width: int = 2) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _kind_keyboard(t: Translator) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(kind_label(k, t), callback_data=f"wn:kind:{k.value}") for k in WarningKind]
    return InlineKeyboardMarkup([*_pairs(buttons), _cancel_row(t)])


def _level_keyboard(t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(f"{LEVEL_ICONS[level]} {level_label(level, t)}", callback_data=f"wn:level:{level.value}")
        for level in WarningLevel
    ]
    return InlineKeyboardMarkup([*_pairs(buttons), _cancel_row(t)])


def _toggle(label: str, chosen: bool, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(("✓ " if chosen else "") + label, callback_data=data)


def _next_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.plain("warn.button_next"), callback_data="wn:next")]


def _flipped(chosen: list[Choice], item: Choice) -> list[Choice]:
    """A press on a toggle button: `item` leaves the choice if it was in, else joins it at the end."""
    kept = [k for k in chosen if k is not item]
    if len(kept) == len(chosen):
        kept.append(item)
    return kept


# ---- loading and saving -------------------------------------------------------------------------------------


async def _load(update: Update, context: BotContext) -> tuple[Caller, User, WarnDraft] | None:
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    draft = await _drafts(context).get(caller.user.telegram_id, WarnDraft)
    if draft is None:
        await answer(update, caller.t("warn.lost"))
        return None
    return caller, caller.user, draft


async def _save(context: BotContext, user: User, draft: WarnDraft) -> None:
    await _drafts(context).save(user.telegram_id, draft, context.services.clock.now())


async def _pressed(update: Update) -> str:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    return query.data


# ---- the journey ---------------------------------------------------------------------------------------------


async def start_warning(update: Update, context: BotContext) -> str | int:
    caller = await identify(update, context)
    if caller is None or caller.user is None or not is_private(update):
        return ConversationHandler.END
    if caller.user.role not in (Role.COUNTY, Role.CITY):
        await context.services.storage.audit.append(
            caller.telegram_user.id, "authz.refused", detail={"command": "warn"}
        )
        await answer(update, caller.t("refusal.warning_staff_only"))
        return ConversationHandler.END
    await _save(context, caller.user, WarnDraft())
    await answer(update, caller.t("warn.ask_kind"), reply_markup=_kind_keyboard(caller.t))
    return PICKING_KIND


async def chose_kind(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, user, draft = loaded
    kind = WarningKind((await _pressed(update)).removeprefix("wn:kind:"))
    await _save(context, user, draft.model_copy(update={"kind": kind}))
    await answer(update, caller.t("warn.ask_level", kind=kind_label(kind, caller.t)),
                 reply_markup=_level_keyboard(caller.t), edit=True)
    return PICKING_LEVEL


async def chose_level(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, user, draft = loaded
    level = WarningLevel((await _pressed(update)).removeprefix("wn:level:"))
    draft = draft.model_copy(update={"level": level})
    await _save(context, user, draft)
    return await _ask_text(update, caller, draft)


def _template(draft: WarnDraft, t: Translator) -> tuple[str, str]:
    assert draft.kind is not None and draft.level is not None
    return template(draft.kind, draft.level, t)


def _writing_keyboard(t: Translator) -> InlineKeyboardMarkup:
    """Under the question for the text, and under each answer that asks for it again: the template, or Cancel."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.plain("warn.button_template"), callback_data="wn:template")], _cancel_row(t)]
    )


async def _ask_text(update: Update, caller: Caller, draft: WarnDraft) -> str:
    t = caller.t
    headline, description = _template(draft, t)
    await answer(update, t("warn.ask_text", headline=headline, description=description, max=MAX_WARNING_TEXT),
                 reply_markup=_writing_keyboard(t), edit=update.callback_query is not None)
    return WRITING


async def chose_template(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, user, draft = loaded
    await _pressed(update)
    headline, description = _template(draft, caller.t)
    return await _texted(update, context, caller, user, draft, headline, description)


def warning_text_refused(headline: str, rest: str, t: Translator) -> str | None:
    """Why a warning's typed text (its first line the headline, the rest the description) cannot be sent, or None:
    for a new warning (/warn) and for an update of one sent (/warnings, 更新) alike."""
    if is_blank(headline):  # only invisible characters
        return t("refusal.headline_too_short", min=1)
    if len(headline) > MAX_HEADLINE:
        return t("refusal.headline_too_long", max=MAX_HEADLINE)
    if len(rest) > MAX_WARNING_TEXT:
        return t("refusal.text_too_long", max=MAX_WARNING_TEXT)
    return None


async def wrote_text(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    message = update.effective_message
    if loaded is None or message is None or message.text is None:
        return WRITING
    caller, user, draft = loaded
    headline, rest = split_warning_text(message.text)
    refused = warning_text_refused(headline, rest, caller.t)
    if refused is not None:
        await answer(update, refused, reply_markup=_writing_keyboard(caller.t))
        return WRITING
    return await _texted(update, context, caller, user, draft, headline, rest)


async def _texted(
    update: Update, context: BotContext, caller: Caller, user: User, draft: WarnDraft, headline: str, text: str
) -> str:
    assert draft.kind is not None
    kind_defaults = _default_types(context, draft.kind)
    draft = draft.model_copy(
        update={
            "headline": headline,
            "description": text,
            "institution_types": list(kind_defaults),
            "risk_tags": list(suggested_tags(draft.kind, draft.level)),
        }
    )
    if user.role is Role.COUNTY and user.region_code is not None:
        # County staff warn their own county: there is nothing to choose.
        draft = draft.model_copy(update={"regions": [user.region_code]})
        await _save(context, user, draft)
        return await _ask_types(update, caller, draft)
    draft = draft.model_copy(update={"regions": []})
    await _save(context, user, draft)
    return await _ask_regions(update, context, caller, draft)


def _default_types(context: BotContext, kind: WarningKind) -> tuple[InstitutionType, ...]:
    """The kinds the seed singles out (epidemics: the residential institutions), as the checklists say."""
    checklists = load_checklists(context.services.warnings.settings.checklists_path)
    return tuple(sorted(checklists.defaults(kind).institution_types))


async def _ask_regions(update: Update, context: BotContext, caller: Caller, draft: WarnDraft) -> str:
    t = caller.t
    counties = await context.services.storage.regions.counties()
    chosen = set(draft.regions)
    buttons = [_toggle(place_name(c, t), c.code in chosen, f"wn:region:{c.code}") for c in counties]
    rows = [[_toggle(t.plain("warn.whole_city"), CITY in chosen, f"wn:region:{CITY}")], *_pairs(buttons, 3)]
    if chosen:
        rows.append(_next_row(t))
    rows.append(_cancel_row(t))
    await answer(update, t("warn.ask_regions"), reply_markup=InlineKeyboardMarkup(rows),
                 edit=update.callback_query is not None)
    return PICKING_REGIONS


async def toggled_region(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, user, draft = loaded
    code = (await _pressed(update)).removeprefix("wn:region:")
    chosen = [r for r in draft.regions if r != code]
    if len(chosen) == len(draft.regions):
        # The whole city and single counties exclude each other: one contains the others.
        chosen = [code] if code == CITY else [r for r in chosen if r != CITY] + [code]
    draft = draft.model_copy(update={"regions": chosen})
    await _save(context, user, draft)
    return await _ask_regions(update, context, caller, draft)


async def chose_regions(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, _, draft = loaded
    await _pressed(update)
    if not draft.regions:
        return await _ask_regions(update, context, caller, draft)
    return await _ask_types(update, caller, draft)


@dataclass(frozen=True)
class Choices(Generic[Choice]):
    """A step where any number of options are ticked: the institution types a warning is for, or its risk tags."""

    field: str  # the draft's list of what is ticked
    options: type[Choice]
    prefix: str  # callback data of a toggle: prefix + option
    labels: str  # catalog prefix of an option's name
    question: str
    state: str

    def chosen(self, draft: WarnDraft) -> list[Choice]:
        chosen: list[Choice] = getattr(draft, self.field)
        return chosen


TYPES = Choices("institution_types", InstitutionType, "wn:type:", "winst", "warn.ask_types", PICKING_TYPES)
TAGS = Choices("risk_tags", RiskTag, "wn:tag:", "wtag", "warn.ask_tags", PICKING_TAGS)


async def _ask(update: Update, caller: Caller, draft: WarnDraft, choices: Choices[Choice]) -> str:
    t = caller.t
    chosen = set(choices.chosen(draft))
    buttons: list[InlineKeyboardButton] = [
        _toggle(t.plain(f"{choices.labels}.{option.value}"), option in chosen, choices.prefix + option.value)
        for option in choices.options
    ]
    rows = [*_pairs(buttons), _next_row(t), _cancel_row(t)]
    await answer(update, t(choices.question), reply_markup=InlineKeyboardMarkup(rows),
                 edit=update.callback_query is not None)
    return choices.state


async def _ask_types(update: Update, caller: Caller, draft: WarnDraft) -> str:
    return await _ask(update, caller, draft, TYPES)


def _toggled(choices: Choices[Choice]) -> Callable[[Update, BotContext], Coroutine[Any, Any, str | int]]:
    """The handler of a toggle button of `choices`: the option is ticked or unticked, and the step shown again."""

    async def toggled(update: Update, context: BotContext) -> str | int:
        loaded = await _load(update, context)
        if loaded is None:
            return ConversationHandler.END
        caller, user, draft = loaded
        option = choices.options((await _pressed(update)).removeprefix(choices.prefix))
        draft = draft.model_copy(update={choices.field: _flipped(choices.chosen(draft), option)})
        await _save(context, user, draft)
        return await _ask(update, caller, draft, choices)

    return toggled


async def chose_types(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, _, draft = loaded
    await _pressed(update)
    return await _ask(update, caller, draft, TAGS)


async def chose_tags(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, _, _ = loaded
    await _pressed(update)
    t = caller.t
    buttons = [
        InlineKeyboardButton(t.plain("warn.button_hours", hours=hours), callback_data=f"wn:hours:{hours}")
        for hours in EXPIRY_HOURS
    ]
    await answer(update, t("warn.ask_expiry"), reply_markup=InlineKeyboardMarkup([buttons, _cancel_row(t)]),
                 edit=True)
    return PICKING_EXPIRY


async def chose_expiry(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, user, draft = loaded
    hours = int((await _pressed(update)).removeprefix("wn:hours:"))
    if hours not in EXPIRY_HOURS:
        return PICKING_EXPIRY
    draft = draft.model_copy(update={"expiry_hours": hours})
    await _save(context, user, draft)
    return await _show_preview(update, context, caller, user, draft)


# ---- preview and sending -------------------------------------------------------------------------------------


async def _target(context: BotContext, draft: WarnDraft) -> WarningTarget:
    regions = set(draft.regions)
    if CITY in regions:
        city = await context.services.storage.regions.city()
        regions = {context.services.warnings.settings.city_code if city is None else city.code}
    return WarningTarget(
        regions=frozenset(regions),
        institution_types=frozenset(draft.institution_types),
        risk_tags=frozenset(draft.risk_tags),
    )


def _as_warning(draft: WarnDraft, target: WarningTarget, user: User, now: datetime) -> NewWarning:
    """The warning the preview shows: exactly what create_manual will store, had it been sent now."""
    assert draft.kind is not None and draft.level is not None and draft.headline is not None
    return NewWarning(
        kind=draft.kind,
        level=draft.level,
        headline=draft.headline,
        description=draft.description,
        onset=now,
        expires=now + timedelta(hours=draft.expiry_hours or EXPIRY_HOURS[0]),
        target=target,
        origin=WarningOrigin.MANUAL,
        created_by=user.telegram_id,
        created_at=now,
    )


async def _show_preview(update: Update, context: BotContext, caller: Caller, user: User, draft: WarnDraft) -> str:
    services, t = context.services, caller.t
    if draft.kind is None or draft.level is None or draft.headline is None or not draft.regions:
        await answer(update, t("warn.lost"))
        return PICKING_KIND
    target = await _target(context, draft)
    warning = _as_warning(draft, target, user, services.clock.now())
    audience = Audience.of(await services.warnings.preview_target(target))
    body = warning_text(warning, WarningChange.ISSUE, t, services.settings.tz,
                        services.warnings.checklist(warning.kind),
                        default_duration=services.warnings.settings.default_duration)
    notes = [t("warn.preview_rule"), *([t("warn.preview_template")] if from_template(warning) else [])]
    lines = [t("warn.preview_intro"), "", body, "", *notes, audience_line(audience, t)]
    if target.risk_tags and (left_out := await services.warnings.left_out_by_tags(target)):
        lines.append(_left_out_line(left_out, target, t))
    alike, already = await alike_line(services, warning.kind, target.regions, t)
    if alike is not None:
        lines.append(alike)
    text = Html("\n".join(lines))
    # Raising the one in force is what the sender most likely means: offered first, where it is theirs to change
    # (an official warning belongs to its feed; a county's staff cannot change the city's).
    rows = [
        [InlineKeyboardButton(t.plain("warn.button_upgrade_alike", id=other.id), callback_data=f"wl:up:{other.id}")]
        for other in already
        if other.origin is not WarningOrigin.OFFICIAL and other.level is not WarningLevel.RED
        and (user.role is Role.CITY or all(region_in_scope(user.region_code, r) for r in other.target.regions))
    ]
    rows += [[InlineKeyboardButton(t.plain("warn.button_send"), callback_data="wn:send")]] if audience.people or \
        audience.groups else []
    rows += [[InlineKeyboardButton(t.plain("warn.button_retarget"), callback_data="wn:retarget")], _cancel_row(t)]
    await answer(update, text, reply_markup=InlineKeyboardMarkup(rows), edit=True)
    return PREVIEWING


def _left_out_line(left_out: list[Institution], target: WarningTarget, t: Translator) -> str:
    """How many institutions of the area the risk features leave out, a few by name: a filter ticked by default
    must not silently skip the homes a sender means to warn."""
    separator = t.plain("warn.list_separator")
    names = separator.join(place_name(i, t) for i in left_out[:LEFT_OUT_NAMED])
    tags = separator.join(t.plain(f"wtag.{tag.value}") for tag in RiskTag if tag in target.risk_tags)
    others = len(left_out) - LEFT_OUT_NAMED
    more = t("warn.preview_left_out_more", count=others) if others > 0 else Html("")
    return t(counted("warn.preview_left_out", len(left_out)), count=len(left_out), tags=tags, names=names, more=more)


async def chose_retarget(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, user, draft = loaded
    await _pressed(update)
    if user.role is Role.COUNTY:
        return await _ask_types(update, caller, draft)
    return await _ask_regions(update, context, caller, draft)


async def chose_send(update: Update, context: BotContext) -> str | int:
    loaded = await _load(update, context)
    if loaded is None:
        return ConversationHandler.END
    caller, user, draft = loaded
    await _pressed(update)
    services, t = context.services, caller.t
    if draft.kind is None or draft.level is None or draft.headline is None or draft.expiry_hours is None:
        await answer(update, t("warn.lost"))
        return ConversationHandler.END
    now = services.clock.now()
    spec = ManualWarning(
        kind=draft.kind,
        level=draft.level,
        headline=draft.headline,
        description=draft.description,
        expires=now + timedelta(hours=draft.expiry_hours),
        target=await _target(context, draft),
    )
    try:
        # One transaction: the warning exists, is sent and has its messages queued, and its draft is gone, or none
        # of it happened. With the draft deleted after the commit, a refused delete left the Send button working,
        # and pressing it again sent the warning a second time.
        async with services.storage.db.transaction():
            warning = await services.warnings.create_manual(user, spec)
            delivered = await deliver(services, await services.warnings.send(user, warning.id), user.telegram_id)
            await _drafts(context).delete(user.telegram_id, WarnDraft)
    except Refusal as refusal:
        await answer(update, t(refusal.message_key, **refusal.params))
        return PREVIEWING
    sent = delivered.warning
    total = delivered.queued.total
    lines = [t(counted("warn.sent", total), title=title(sent, t), id=sent.id, total=total)]
    if (unreached := no_one_line(delivered, t)) is not None:
        lines.append(unreached)
    lines += round_lines(delivered, t)
    await answer(update, Html("\n".join(lines)), edit=True)
    chat = update.effective_chat
    assert chat is not None
    await show_progress(context, chat.id, t, delivered.queued.batch, delivered.queued.total)
    return ConversationHandler.END


async def cancelled(update: Update, context: BotContext) -> int:
    return await cancel_journey(
        update, context, "warn.cancelled", lambda c, telegram_id: _drafts(c).delete(telegram_id, WarnDraft)
    )


async def guided(update: Update, context: BotContext) -> None:
    caller = await identify(update, context)
    if caller is not None:
        await answer(update, caller.t("flow.use_buttons"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    other = private & ~filters.COMMAND
    kinds = "|".join(k.value for k in WarningKind)
    levels = "|".join(level.value for level in WarningLevel)
    types = "|".join(k.value for k in InstitutionType)
    tags = "|".join(tag.value for tag in RiskTag)
    application.add_handler(
        ConversationHandler(
            name="warn",
            persistent=True,
            entry_points=[CommandHandler("warn", start_warning, filters=private)],
            states={
                PICKING_KIND: [CallbackQueryHandler(chose_kind, pattern=rf"^wn:kind:({kinds})$")],
                PICKING_LEVEL: [CallbackQueryHandler(chose_level, pattern=rf"^wn:level:({levels})$")],
                WRITING: [
                    CallbackQueryHandler(chose_template, pattern=r"^wn:template$"),
                    MessageHandler(text, wrote_text),
                ],
                PICKING_REGIONS: [
                    CallbackQueryHandler(toggled_region, pattern=rf"^wn:region:(\d+|{CITY})$"),
                    CallbackQueryHandler(chose_regions, pattern=r"^wn:next$"),
                ],
                PICKING_TYPES: [
                    CallbackQueryHandler(_toggled(TYPES), pattern=rf"^wn:type:({types})$"),
                    CallbackQueryHandler(chose_types, pattern=r"^wn:next$"),
                ],
                PICKING_TAGS: [
                    CallbackQueryHandler(_toggled(TAGS), pattern=rf"^wn:tag:({tags})$"),
                    CallbackQueryHandler(chose_tags, pattern=r"^wn:next$"),
                ],
                PICKING_EXPIRY: [CallbackQueryHandler(chose_expiry, pattern=r"^wn:hours:\d+$")],
                PREVIEWING: [
                    CallbackQueryHandler(chose_send, pattern=r"^wn:send$"),
                    CallbackQueryHandler(chose_retarget, pattern=r"^wn:retarget$"),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancelled),
                CallbackQueryHandler(cancelled, pattern=r"^wn:cancel$"),
                MessageHandler(other, guided),
            ],
            allow_reentry=True,
        )
    )
