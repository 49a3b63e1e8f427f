"""Telling people what happened to a hazard: each Notice rendered in its recipient's language and sent.

The service decides who is told (bot.domain.targeting); this module only words and sends it. It also holds how a
hazard reads in any message (its code, institution, area, severity, deadline), so that notices, task lists and
dossiers all say it the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.context import BotContext
from bot.domain.catalog import correction_for
from bot.domain.lifecycle import HazardAction
from bot.domain.roles import STAFF_ROLES, Role
from bot.domain.targeting import Notice, NoticeKind, NoticeReason
from bot.i18n import Translator
from handlers.common import catalog_label
from handlers.hazard_buttons import ACCEPT, ACKNOWLEDGE, RECTIFY, REJECT, VIEW, button
from storage.hazard_models import Hazard
from storage.models import Institution, User

if TYPE_CHECKING:
    from bot.app import BotServices

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M"


# ---- how a hazard reads ---------------------------------------------------------------------------------


def when(value: datetime | None, tz: ZoneInfo, t: Translator) -> str:
    return t.plain("hazard.no_deadline") if value is None else value.astimezone(tz).strftime(TIME_FORMAT)


def institution_name(institution: Institution | None, t: Translator) -> str:
    if institution is None:
        return "—"
    return institution.name_zh if t.language == "zh_CN" else institution.name_en


def hazard_params(hazard: Hazard, institution: Institution | None, t: Translator, tz: ZoneInfo) -> dict[str, Any]:
    """Every placeholder a hazard message may use; templates take the ones they need."""
    return {
        "code": hazard.code,
        "institution": institution_name(institution, t),
        "area": catalog_label(hazard.area, t),
        "severity": catalog_label(hazard.severity, t),
        "source": catalog_label(hazard.source_level, t),
        "correction": catalog_label(correction_for(hazard.source_level), t),
        "description": hazard.description,
        "deadline": when(hazard.deadline, tz, t),
        "state": t.plain(f"state.{hazard.state.value}"),
        "measures": hazard.measures or "—",
        "submitted": when(hazard.fixed_at, tz, t),
    }


# ---- delivering -----------------------------------------------------------------------------------------


async def deliver(context: BotContext, notices: Sequence[Notice]) -> None:
    """Send every notice; one recipient who blocked the bot or a failing request never stops the others."""
    await send_notices(context.bot, context.services, notices)


async def send_notices(bot: Bot, services: BotServices, notices: Sequence[Notice]) -> None:
    """`deliver` for code that has no handler context (scheduled jobs, the command line, tests)."""
    hazards: dict[int, tuple[Hazard, Institution | None] | None] = {}
    for notice in notices:
        if notice.hazard_id not in hazards:
            hazards[notice.hazard_id] = await _load(services, notice.hazard_id)
        loaded = hazards[notice.hazard_id]
        if loaded is None:
            log.warning("notice %s for hazard %s that no longer exists", notice.kind, notice.hazard_id)
            continue
        await _send_one(bot, services, notice, *loaded)


async def _load(services: BotServices, hazard_id: int) -> tuple[Hazard, Institution | None] | None:
    hazard = await services.storage.hazards.get(hazard_id)
    if hazard is None:
        return None
    return hazard, await services.storage.institutions.get(hazard.institution_id)


async def _send_one(
    bot: Bot, services: BotServices, notice: Notice, hazard: Hazard, institution: Institution | None
) -> None:
    recipient = None
    if notice.kind is not NoticeKind.NEW_HAZARD_FOR_GROUP:
        recipient = await services.storage.users.get(notice.recipient_id)
    # Groups, and people who have left, read the bureau's default language.
    t = services.i18n.get(recipient.language if recipient is not None else None)
    try:
        text, markup = await _render(services, notice, hazard, institution, recipient, t)
        await bot.send_message(
            notice.recipient_id, text, reply_markup=markup, message_thread_id=notice.topic_id
        )
    except TelegramError as error:
        log.warning("notice %s of %s to %s failed: %s", notice.kind, hazard.code, notice.recipient_id, error)
        await services.storage.audit.append(
            None,
            "notice.failed",
            target=f"hazard:{hazard.code}",
            detail={"kind": notice.kind.value, "recipient": notice.recipient_id, "error": type(error).__name__},
        )


async def _render(
    services: BotServices,
    notice: Notice,
    hazard: Hazard,
    institution: Institution | None,
    recipient: User | None,
    t: Translator,
) -> tuple[str, InlineKeyboardMarkup | None]:
    tz = services.settings.tz
    p = hazard_params(hazard, institution, t, tz)
    kind = notice.kind
    if kind is NoticeKind.NEW_HAZARD_FOR_HEAD:
        return t("notice.new_for_head", **p), _doer_keyboard(hazard, t)
    if kind is NoticeKind.NEW_HAZARD_FOR_GROUP:
        return t("notice.new_for_group", **p), None
    if kind is NoticeKind.NEW_HAZARD_FOR_STAFF:
        if notice.reason == NoticeReason.SENSITIVE:
            return t("notice.new_for_staff_sensitive", **p), _details_keyboard(hazard, t)
        return t("notice.new_for_staff_no_head", **p), _details_keyboard(hazard, t)
    if kind is NoticeKind.ASSIGNED:
        return t("notice.assigned", **p), _doer_keyboard(hazard, t)
    if kind is NoticeKind.RECTIFICATION_SUBMITTED:
        if recipient is not None and recipient.role in STAFF_ROLES:
            return t("notice.submitted_for_staff", **p), _verify_keyboard(hazard, t)
        return t("notice.submitted_for_reporter", **p), None
    if kind is NoticeKind.ACCEPTED:
        if hazard.closed_on_time is False:
            return t("notice.accepted_late", **p), None
        return t("notice.accepted_on_time", **p), None
    if kind is NoticeKind.REJECTED:
        if _rectifies(hazard, recipient):
            return t("notice.rejected", reason=notice.reason or "—", **p), _again_keyboard(hazard, t)
        return t("notice.rejected_for_others", reason=notice.reason or "—", **p), None
    if kind is NoticeKind.DEADLINE_CHANGED:
        previous = when(await _previous_deadline(services, hazard), tz, t)
        text = t("notice.deadline_changed", previous=previous, reason=notice.reason or "—", **p)
        return text, _details_keyboard(hazard, t)
    if kind is NoticeKind.REOPENED:
        if _rectifies(hazard, recipient):
            return t("notice.reopened", reason=notice.reason or "—", **p), _again_keyboard(hazard, t)
        return t("notice.reopened_for_others", reason=notice.reason or "—", **p), None
    return t("notice.evidence_added", **p), _details_keyboard(hazard, t)


async def _previous_deadline(services: BotServices, hazard: Hazard) -> datetime | None:
    """The deadline before the latest change: the notice names only the hazard, the history keeps the rest."""
    for event in reversed(await services.storage.hazards.events(hazard.id)):
        if event.action == HazardAction.CHANGE_DEADLINE.value:
            previous = event.detail.get("previous_deadline")
            return datetime.fromisoformat(previous) if isinstance(previous, str) else None
    return None


# ---- keyboards ------------------------------------------------------------------------------------------


def _details_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(VIEW, hazard.id, "button.details", t)]])


def _doer_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(ACKNOWLEDGE, hazard.id, "button.acknowledge", t)],
            [button(RECTIFY, hazard.id, "button.rectify", t)],
            [button(VIEW, hazard.id, "button.details", t)],
        ]
    )


def _verify_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(ACCEPT, hazard.id, "button.accept", t), button(REJECT, hazard.id, "button.reject", t)],
            [button(VIEW, hazard.id, "button.details", t)],
        ]
    )


def _rectifies(hazard: Hazard, recipient: User | None) -> bool:
    """Whether the recipient is the one correcting it (targeting already kept heads away from sensitive ones)."""
    if recipient is None:
        return False
    return recipient.role is Role.HEAD or recipient.telegram_id == hazard.assignee_id


def _again_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(RECTIFY, hazard.id, "button.rectify_again", t)],
            [button(VIEW, hazard.id, "button.details", t)],
        ]
    )
