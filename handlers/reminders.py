"""Sending what the reminder sweep hands over: ONE message per Delivery, with the buttons that act on it.

`send_delivery` is what `bot.jobs.schedule_jobs` (and the tests, through `sweep_once`) call. It renders the
delivery in the recipient's language (groups and people who have left read the bureau's default), sends it, and
says how it went: a blocked bot or a vanished chat is UNDELIVERABLE (audited, never retried); flood control and
network trouble are RETRY. The buttons start the journeys that settle the reminder: rectify or open the hazard,
log the drill, start the self-inspection, log the study session.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from bot.delivery_errors import act_on_refusal, classify
from bot.domain.reminders import ReminderKind
from bot.i18n import Html, Translator, clipped, name_in
from bot.jobs import SendOutcome
from bot.services.reminder_items import (
    Delivery,
    DutyReminderData,
    HazardReminderData,
    HeadlessReminderData,
    ReminderItem,
)
from bot.services.reminder_summary import county_tallies
from handlers.calendar_common import ENTRY_DRILL, ENTRY_SELFCHECK, ENTRY_STUDY, entry_button
from handlers.common import BUTTON_CHARACTERS, place_name
from handlers.hazard_buttons import ASSIGN, EXTEND, RECTIFY, VIEW, data
from handlers.invite import stand_in_data
from handlers.reminder_text import STAND_INS, collapse, county_summary, lacks_head, message_text
from handlers.warnstatus import area_name

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

MAX_BUTTON_ROWS = 8

_K = ReminderKind
# Reminders to the one who owes the duty: their button starts the journey that settles it.
ENTRIES = {
    _K.DRILL_DUE_SOON: ENTRY_DRILL,
    _K.DRILL_MISSED: ENTRY_DRILL,
    _K.SELF_INSPECTION_OPEN: ENTRY_SELFCHECK,
    _K.SELF_INSPECTION_DUE: ENTRY_SELFCHECK,
    _K.SELF_INSPECTION_LAST_DAY: ENTRY_SELFCHECK,
    _K.STUDY_DUE_SOON: ENTRY_STUDY,
}


async def send_delivery(bot: Bot, services: BotServices, delivery: Delivery) -> SendOutcome:
    person = None if delivery.is_group else await services.storage.users.get(delivery.recipient_id)
    if person is not None and not person.active:
        # Their access ended after the round claimed these (ending it cancels only the reminders still pending):
        # never to be sent, and cancelled with the others, not counted as failed.
        log.info("reminders %s to %s not sent: their access has ended", _ids_said(delivery), delivery.recipient_id)
        return SendOutcome.CANCELLED
    t = services.i18n.get(person.language if person is not None else None)
    items = collapse(delivery.items)
    by_county = None if delivery.is_group else await _by_county(services, delivery, t)
    text, shown = message_text(
        items, delivery.recipient_id, t, services.settings.tz, for_group=delivery.is_group,
        group_area=await _group_area(services, delivery, t) if delivery.is_group else None,
        unlisted=delivery.unlisted, by_county=by_county,
    )
    # Group members are not all registered, and a hazard's details are not for every one of them.
    markup = None if delivery.is_group else keyboard(shown, delivery.recipient_id, t)
    left_out = invites_left_out(shown, markup)
    # A group gets no buttons at all (not something left out): its list says where to look already.
    no_button = 0 if delivery.is_group else buttons_left_out(shown, delivery.recipient_id, markup, t)
    if left_out or no_button:
        # The keyboard keeps its eight rows: the homes past them are told how to be invited, and the items past them
        # where they are acted on, not left unexplained. Said under the list, which stays as it was: a line after the
        # items changes none of them.
        text, _ = message_text(
            items, delivery.recipient_id, t, services.settings.tz, invites_left_out=left_out,
            buttons_left_out=no_button, unlisted=delivery.unlisted, by_county=by_county,
        )
    try:
        try:
            await bot.send_message(
                delivery.recipient_id, text, reply_markup=markup, message_thread_id=delivery.topic_id
            )
        except ChatMigrated as moved:
            # The group became a supergroup: its binding and reminders follow it, and this one goes there now.
            new_chat_id = int(moved.new_chat_id)
            await services.onboarding.group_moved(delivery.recipient_id, new_chat_id, actor_id=None)
            await bot.send_message(new_chat_id, text, reply_markup=markup)
    except (Forbidden, BadRequest, ChatMigrated) as error:
        refused = await act_on_refusal(services.onboarding, delivery.recipient_id, delivery.topic_id, classify(error))
        if refused is not None and refused.lost is not None and refused.lost.to_general:
            # The topic's binding moved to the group's general chat, and so does this reminder. Where that chat had a
            # binding of its own, it has reminders of its own: sending this one there would double them.
            return await send_delivery(bot, services, replace(delivery, topic_id=None))
        # Blocked, removed from the group, the chat gone: sending again would fail the same way.
        log.warning("reminders to %s are undeliverable: %s", delivery.recipient_id, error)
        await services.storage.audit.append(
            None,
            "reminder.undeliverable",
            target=f"chat:{delivery.recipient_id}",
            detail={
                "error": type(error).__name__,
                # The rows listed; a person's backlog may stand behind them in tens of thousands, counted only.
                "reminders": [item.reminder_id for item in delivery.items],
                "rows": len(delivery.reminder_ids),
                "kinds": sorted({item.kind.value for item in delivery.items}),
            },
        )
        return SendOutcome.UNDELIVERABLE
    except TelegramError as error:
        # Flood control (RetryAfter), a timeout, Telegram's own trouble: the sweep tries again later.
        log.info("reminders to %s will be retried: %s", delivery.recipient_id, error)
        return SendOutcome.RETRY
    if person is not None and person.unreachable_since is not None:
        # Marked unreachable, yet reached: the bot missed their unblocking, and they have not written since.
        await services.onboarding.person_back(person.telegram_id)
    return SendOutcome.SENT


async def _by_county(services: BotServices, delivery: Delivery, t: Translator) -> Html | None:
    """The message's subjects counted by county, when some of them are only counted (`Delivery.subjects`)."""
    if not delivery.subjects:
        return None
    now = services.clock.now()
    today = now.astimezone(services.settings.tz).date()
    tallies = await county_tallies(services.storage, delivery.subjects, now, today)
    names = {region.code: area_name(region, t) for region in await services.storage.regions.all()}
    return county_summary(tallies, names, t) if tallies else None


async def _group_area(services: BotServices, delivery: Delivery, t: Translator) -> str | None:
    """The name of the area a group is bound to ("鹿城区", "温州市"), for its heading. A group bound to the city hears
    the counties' escalations too, not its own institutions' (市直) alone: it is headed by the city's name."""
    group = await services.storage.groups.get(delivery.recipient_id, delivery.topic_id)
    if group is None:
        return None
    return place_name(await services.storage.regions.get(group.region_code), t)


def _ids_said(delivery: Delivery) -> str:
    """The rows of a delivery for a log line: the ids listed, and how many more it stands for."""
    listed = [item.reminder_id for item in delivery.items]
    return f"{listed} and {len(delivery.covered)} more" if delivery.covered else str(listed)


def keyboard(items: Sequence[ReminderItem], viewer_id: int, t: Translator) -> InlineKeyboardMarkup | None:
    """The buttons under a reminder, at most MAX_BUTTON_ROWS rows. A hazard one is responsible for takes two rows
    (📤 提交整改 and 详情, then 申请延期); when that would leave a listed item without a button, each takes one row
    (申请延期 is still under 详情), so eight items have buttons rather than four."""
    rows = _rows(items, viewer_id, t, compact=False)
    if len(rows) > MAX_BUTTON_ROWS:
        rows = _rows(items, viewer_id, t, compact=True)
    return InlineKeyboardMarkup(rows[:MAX_BUTTON_ROWS]) if rows else None


def _rows(
    items: Sequence[ReminderItem], viewer_id: int, t: Translator, *, compact: bool
) -> list[list[InlineKeyboardButton]]:
    rows: list[list[InlineKeyboardButton]] = []
    seen: set[str] = set()
    # Inviting the heads of the institutions stood in for comes after what acts on the reminders themselves.
    acting = [item for item in items if item.kind not in STAND_INS]
    inviting = [item for item in items if item.kind in STAND_INS]
    for item in (*acting, *inviting):
        for row in _buttons(item, viewer_id, t)[: 1 if compact else None]:
            key = "|".join(str(button.callback_data) for button in row)
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


def invites_left_out(items: Sequence[ReminderItem], markup: InlineKeyboardMarkup | None) -> int:
    """How many institutions the message asks to invite a head for got no "✉️ 邀请负责人" button (past the rows)."""
    wanted = {
        stand_in_data(found.institution_id) for item in items
        if (item.kind in STAND_INS or lacks_head(item))
        and isinstance(found := item.data, DutyReminderData) and found.institution_id is not None
    }
    given = {button.callback_data for row in (markup.inline_keyboard if markup else ()) for button in row}
    return len(wanted - given)


def buttons_left_out(
    items: Sequence[ReminderItem], viewer_id: int, markup: InlineKeyboardMarkup | None, t: Translator
) -> int:
    """How many listed items that have buttons got none of them (past the rows), other than the institutions whose
    "✉️ 邀请负责人" `invites_left_out` counts: the person is told where to act on them, not left to wonder."""
    given = {button.callback_data for row in (markup.inline_keyboard if markup else ()) for button in row}
    left_out = 0
    for item in items:
        if item.kind in STAND_INS or lacks_head(item):
            continue
        wanted = {button.callback_data for row in _buttons(item, viewer_id, t) for button in row}
        if wanted and not wanted & given:
            left_out += 1
    return left_out


def _buttons(item: ReminderItem, viewer_id: int, t: Translator) -> list[list[InlineKeyboardButton]]:
    found = item.data
    if isinstance(found, HazardReminderData):
        details = InlineKeyboardButton(
            t.plain("reminder.button_details", code=found.code), callback_data=data(VIEW, found.hazard_id)
        )
        if viewer_id in {p.telegram_id for p in found.responsible}:
            rectify = InlineKeyboardButton(
                t.plain("reminder.button_rectify", code=found.code), callback_data=data(RECTIFY, found.hazard_id)
            )
            # A deadline out of reach: ask for more time from the reminder that says it is near or past.
            extend = InlineKeyboardButton(
                t.plain("reminder.button_extend", code=found.code), callback_data=data(EXTEND, found.hazard_id)
            )
            return [[rectify, details], [extend]]
        if item.kind is ReminderKind.HAZARD_OVERDUE:
            # Staff told of a hazard still overdue can name someone else to correct it (checked again on the press).
            assign = InlineKeyboardButton(
                t.plain("reminder.button_assign", code=found.code), callback_data=data(ASSIGN, found.hazard_id)
            )
            return [[details, assign]]
        return [[details]]
    if isinstance(found, HeadlessReminderData):
        label = clipped(t.plain("reminder.button_invite_head", name=name_in(t.language, found.name_zh, found.name_en)),
                        BUTTON_CHARACTERS)
        return [[InlineKeyboardButton(label, callback_data=stand_in_data(found.institution_id))]]
    if isinstance(found, DutyReminderData):
        if (item.kind in STAND_INS or lacks_head(item)) and found.institution_id is not None:
            # Plain text on a button: the name unescaped, the label cut where a long name would wrap it.
            label = clipped(t.plain("reminder.button_invite_head", name=place_name(found, t)), BUTTON_CHARACTERS)
            return [[InlineKeyboardButton(label, callback_data=stand_in_data(found.institution_id))]]
        entry = ENTRIES.get(item.kind)
        if item.kind is ReminderKind.STUDY_OVERDUE and viewer_id in {p.telegram_id for p in found.responsible}:
            entry = ENTRY_STUDY  # the unit's own staff: the new half-year's session is owed now
        if entry is not None:
            return [[entry_button(entry, t)]]
        if item.kind is ReminderKind.DRILL_OVERDUE and found.institution_id is not None:
            record = InlineKeyboardButton(
                t.plain("reminder.button_drill_record"), callback_data=f"drills:inst:{found.institution_id}"
            )
            return [[record]]
    return []
