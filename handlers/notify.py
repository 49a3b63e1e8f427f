"""Telling people what happened to a hazard: each Notice worded in its recipient's language and queued.

The service decides who is told (bot.domain.targeting) and calls `HazardNotices.queue` inside the transaction of
the change; this module words each notice and puts it in the outbox, whose sender delivers it (bot/delivery.py).
It also holds how a hazard reads in any message (its code, institution, area, severity, deadline), so that
notices, task lists and dossiers all say it the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.catalog import Severity, correction_for
from bot.domain.checklists import shown_description
from bot.domain.lifecycle import REOPEN_WINDOW, HazardAction, corrects_it
from bot.domain.reminders import notice_held_until
from bot.domain.roles import STAFF_ROLES, Role
from bot.domain.targeting import GROUP_KINDS, Notice, NoticeKind, NoticeReason
from bot.i18n import Translator, clipped, counted
from bot.services.hazard_core import FIX_ACTIONS, actor_of
from handlers.common import catalog_label, place_name
from handlers.hazard_buttons import (
    ACCEPT,
    ACKNOWLEDGE,
    COMMENT,
    EXTEND,
    RECTIFY,
    REJECT,
    VIEW,
    button,
    extension_row,
)
from handlers.invite import stand_in_data
from storage.hazard_models import Hazard, HazardEvent
from storage.models import Institution, User
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority

if TYPE_CHECKING:
    from bot.services_factory import BotServices

TIME_FORMAT = "%Y-%m-%d %H:%M"
DAY_FORMAT = "%Y-%m-%d"
# How much of a comment its notice quotes: the start of it, a Details tap from the whole.
COMMENT_QUOTE = 300


# ---- how a hazard reads ---------------------------------------------------------------------------------


def when(value: datetime | None, tz: ZoneInfo, t: Translator) -> str:
    return t.plain("hazard.no_deadline") if value is None else value.astimezone(tz).strftime(TIME_FORMAT)


def hazard_params(hazard: Hazard, institution: Institution | None, t: Translator, tz: ZoneInfo) -> dict[str, Any]:
    """Every placeholder a hazard message may use; templates take the ones they need."""
    return {
        "code": hazard.code,
        "institution": place_name(institution, t),
        "area": catalog_label(hazard.area, t),
        "severity": catalog_label(hazard.severity, t),
        "source": catalog_label(hazard.source_level, t),
        "correction": catalog_label(correction_for(hazard.source_level), t),
        "description": shown_description(hazard.description),
        "deadline": when(hazard.deadline, tz, t),
        "state": t.plain(f"state.{hazard.state.value}"),
        "measures": hazard.measures or "—",
        "submitted": when(hazard.fixed_at, tz, t),
    }


# ---- queueing ---------------------------------------------------------------------------------------------

# Every hazard notice's dedupe key starts so; without background work a sender of its own delivers just these.
NOTICE_LANE = "hazard:"


def notice_key(hazard_id: int, event_id: int, notice: Notice) -> str:
    """One message per change and recipient: the history entry names the change, so a hazard that is rejected
    twice tells its head twice, and a transaction that is retried queues nothing twice."""
    topic = "" if notice.topic_id is None else f":topic:{notice.topic_id}"
    return f"{NOTICE_LANE}{hazard_id}:event:{event_id}:{notice.kind.value}:chat:{notice.recipient_id}{topic}"


class HazardNotices:
    """The service's `NoticeQueue`: each notice worded in its recipient's language and queued in the outbox, in
    the transaction of the change (the outbox sender delivers it, retries it, and never sends it twice)."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, hazard: Hazard, event: HazardEvent, notices: Sequence[Notice]) -> None:
        services = self._services
        untold = await self._overtaken(hazard, event)
        notices = [n for n in notices if (n.recipient_id, n.topic_id) not in untold
                   and (n.kind is not NoticeKind.CLOSED_FOR_GROUP or await self._was_told(hazard, n))]
        if not notices:
            return
        institution = await services.storage.institutions.get(hazard.institution_id)
        assignee = await self._assignee_name(hazard, notices)
        # Who asked for more time (for the staff asked to decide), who wrote a comment (for its readers).
        requester = await self._actor_name(event, notices, NoticeKind.EXTENSION_REQUESTED)
        author = await self._actor_name(event, notices, NoticeKind.COMMENTED)
        if event.detail.get("merged_report"):  # a second report folded in: its notice says whose
            author = await self._actor_name(event, notices, NoticeKind.EVIDENCE_ADDED)
        if _withdrawn_by_reporter(hazard, event):  # taken back by its reporter: the notice says who
            author = await self._actor_name(event, notices, NoticeKind.WITHDRAWN)
        # A home with no head because its head's access ended: staff are told so (not "never registered"), and offered
        # to invite the next one.
        former_head = None
        if any(n.kind is NoticeKind.NEW_HAZARD_FOR_STAFF and n.reason != NoticeReason.SENSITIVE for n in notices):
            former_head = await services.storage.users.former_head(hazard.institution_id)
        settings = services.settings
        held = notice_held_until(services.clock.now(), hazard.severity, settings.quiet, settings.tz)
        messages = []
        for notice in notices:
            recipient = None
            if notice.kind not in GROUP_KINDS:
                recipient = await services.storage.users.get(notice.recipient_id)
                if recipient is not None and not recipient.active:
                    # Their access ended: told nothing more. Targeting leaves them out already (guard); the notice
                    # to a person relieved of a hazard does not pass through it.
                    continue
            # Groups read the bureau's default language.
            t = services.i18n.get(recipient.language if recipient is not None else None)
            if notice.kind in _EXTENSION_KINDS:
                text, markup = _render_extension(services, notice, hazard, event, institution, t, requester)
            else:
                text, markup = _render(services, notice, hazard, event, institution, recipient, t, assignee,
                                       author, former_head)
            messages.append(
                NewOutboxMessage(
                    dedupe_key=notice_key(hazard.id, event.id, notice),
                    chat_id=notice.recipient_id,
                    topic_id=notice.topic_id,
                    payload=OutboxPayload(text=text, reply_markup=None if markup is None else markup.to_dict()),
                    # Held in the outbox (restart-safe, sent once) until quiet hours end; as BULK, so that while it
                    # waits it holds back no other message of its chat but the digests.
                    priority=Priority.NORMAL if held is None else Priority.BULK,
                    not_before=held,
                )
            )
        await services.outbox.enqueue(messages)

    async def _overtaken(self, hazard: Hazard, event: HazardEvent) -> set[tuple[int, int | None]]:
        """Notices held for the morning (quiet hours) that the change makes wrong are not sent: they were worded
        when queued, and would tell in the morning of a hazard as it no longer is.

        Withdrawn or closed in the night: every held notice of the hazard is cancelled; whoever was first to hear of
        it in those (a new hazard, a hazard now theirs) and has heard nothing else of it is not told that it ended
        either (returned, as chat and topic): they never knew it. Acted on by someone whose own "new hazard" notice
        waits (a head who acknowledged it from /tasks at 00:30): that notice alone is cancelled, as they know; the
        others' still go."""
        outbox = self._services.storage.outbox
        now = self._services.clock.now()
        lane = f"{NOTICE_LANE}{hazard.id}:"
        if event.action in _ENDING:
            cancelled = await outbox.cancel_held(lane, now=now, reason=f"overtaken: hazard {event.action}")
            introduced = {(item.chat_id, item.topic_id) for item in cancelled
                          if any(f":{kind.value}:chat:" in item.dedupe_key for kind in _INTRODUCING)}
            return {(chat, topic) for chat, topic in introduced if not await outbox.reaches(lane, chat, topic)}
        if event.actor_id is not None:
            own = f":{NoticeKind.NEW_HAZARD_FOR_HEAD.value}:chat:"
            await outbox.cancel_held(lane, now=now, reason=f"overtaken: they did {event.action}",
                                     chat_id=event.actor_id, containing=own)
        return set()

    async def _was_told(self, hazard: Hazard, notice: Notice) -> bool:
        """Whether the group was told of the hazard (its 🆕 went, goes or is to go there): a group bound since, or
        one that a 一般 hazard reported in another county never reached, is not told it closed."""
        lane = f"{NOTICE_LANE}{hazard.id}:"
        return await self._services.storage.outbox.reaches(lane, notice.recipient_id, notice.topic_id)

    async def _assignee_name(self, hazard: Hazard, notices: Sequence[Notice]) -> str:
        """Whom staff named responsible, for the notices that say so."""
        if hazard.assignee_id is None or not any(n.kind in _NAMING_ASSIGNEE for n in notices):
            return "—"
        person = await self._services.storage.users.get(hazard.assignee_id)
        return person.full_name if person is not None else str(hazard.assignee_id)


    async def _actor_name(self, event: HazardEvent, notices: Sequence[Notice], kind: NoticeKind) -> str:
        """Who took the action, when a notice of this kind names them."""
        if event.actor_id is None or not any(n.kind is kind for n in notices):
            return "—"
        person = await self._services.storage.users.get(event.actor_id)
        return person.full_name if person is not None else str(event.actor_id)


# The changes that end a hazard, and the notices by which someone first hears of one.
_ENDING = frozenset({HazardAction.WITHDRAW.value, HazardAction.ACCEPT.value})
_INTRODUCING = frozenset(
    {NoticeKind.NEW_HAZARD_FOR_HEAD, NoticeKind.NEW_HAZARD_FOR_GROUP, NoticeKind.NEW_HAZARD_FOR_STAFF,
     NoticeKind.ASSIGNED}
)
_NAMING_ASSIGNEE = frozenset({NoticeKind.UNASSIGNED, NoticeKind.HANDED_OVER})
_EXTENSION_KINDS = frozenset(
    {NoticeKind.EXTENSION_REQUESTED, NoticeKind.EXTENSION_APPROVED, NoticeKind.EXTENSION_REFUSED}
)


def _render_extension(
    services: BotServices,
    notice: Notice,
    hazard: Hazard,
    event: HazardEvent,
    institution: Institution | None,
    t: Translator,
    requester: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A request for more time (to staff, with Approve / Refuse) and its decision (to whoever asked)."""
    tz = services.settings.tz
    p = hazard_params(hazard, institution, t, tz)
    asked = when(_detail_time(event, "requested_deadline"), tz, t)
    details = [button(VIEW, hazard.id, "button.details", t)]
    if notice.kind is NoticeKind.EXTENSION_REQUESTED:
        request_id = int(event.detail.get("extension_id", 0))
        text = t("notice.extension_requested", requester=requester, asked=asked, reason=event.note or "—", **p)
        return text, InlineKeyboardMarkup([extension_row(request_id, t), details])
    if notice.kind is NoticeKind.EXTENSION_APPROVED:
        previous = when(_previous_deadline(event), tz, t)
        return t("notice.extension_approved", previous=previous, **p), InlineKeyboardMarkup([details])
    text = t("notice.extension_refused", asked=asked, reason=notice.reason or "—", **p)
    return text, _doer_keyboard(hazard, t)


def _detail_time(event: HazardEvent, key: str) -> datetime | None:
    value = event.detail.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _render(
    services: BotServices,
    notice: Notice,
    hazard: Hazard,
    event: HazardEvent,
    institution: Institution | None,
    recipient: User | None,
    t: Translator,
    assignee: str,
    author: str = "—",
    former_head: User | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    tz = services.settings.tz
    p = hazard_params(hazard, institution, t, tz)
    kind = notice.kind
    if kind is NoticeKind.NEW_HAZARD_FOR_HEAD:
        return t("notice.new_for_head", **p), _doer_keyboard(hazard, t)
    if kind is NoticeKind.NEW_HAZARD_FOR_GROUP:
        return t("notice.new_for_group", **p), None
    if kind is NoticeKind.CLOSED_FOR_GROUP:  # as its 🆕: no description, no buttons
        return t("notice.closed_for_group_late" if hazard.closed_on_time is False else "notice.closed_for_group",
                 **p), None
    if kind is NoticeKind.NEW_HAZARD_FOR_STAFF:
        if notice.reason == NoticeReason.SENSITIVE:
            return t("notice.new_for_staff_sensitive", **p), _details_keyboard(hazard, t)
        if former_head is not None and former_head.access_ended_at is not None:
            ended = former_head.access_ended_at.astimezone(tz).strftime(DAY_FORMAT)
            text = t("notice.new_for_staff_head_left", head=former_head.full_name, ended=ended, **p)
            return text, _head_left_keyboard(hazard, t)
        return t("notice.new_for_staff_no_head", **p), _details_keyboard(hazard, t)
    if kind is NoticeKind.ASSIGNED:
        return t("notice.assigned", **p), _doer_keyboard(hazard, t)
    if kind is NoticeKind.UNASSIGNED:
        return t("notice.unassigned", assignee=assignee, **p), None
    if kind is NoticeKind.HANDED_OVER:
        # The heads still see the hazard (and may still help); the reporter follows it as other notices go.
        markup = _details_keyboard(hazard, t) if _heads_it(hazard, recipient) else None
        return t("notice.handed_over", assignee=assignee, **p), markup
    if kind is NoticeKind.RECTIFICATION_SUBMITTED:
        if recipient is not None and recipient.role in STAFF_ROLES:
            return t("notice.submitted_for_staff", **p), _verify_keyboard(hazard, event, t)
        # As the closing and the withdrawal do: what they follow is a press away, and so is a word to staff.
        key = "notice.submitted_for_follower" if _added_to_it(hazard, recipient) else "notice.submitted_for_reporter"
        return t(key, **p), _comment_keyboard(hazard, t)
    if kind is NoticeKind.ACCEPTED:
        if hazard.closed_on_time is False and not _late_this_round(hazard):
            text = t("notice.accepted_late_before", **p)
        elif hazard.closed_on_time is False:
            text = t("notice.accepted_late", **p)
        else:
            text = t("notice.accepted_on_time", **p)
        if _reported_it(hazard, recipient):
            # Who saw the problem sees first whether it comes back: one press tells the county, who may reopen it.
            days = REOPEN_WINDOW.days
            if_back = t(counted("notice.accepted_if_back", days), days=days)
            return f"{text}\n{if_back}", _comment_keyboard(hazard, t)
        return text, None
    if kind is NoticeKind.REJECTED:
        if _rectifies(hazard, recipient):
            return t("notice.rejected", reason=notice.reason or "—", **p), _again_keyboard(hazard, t)
        return t("notice.rejected_for_others", reason=notice.reason or "—", **p), _comment_keyboard(hazard, t)
    if kind is NoticeKind.DEADLINE_CHANGED:
        previous = when(_previous_deadline(event), tz, t)
        text = t("notice.deadline_changed", previous=previous, reason=notice.reason or "—", **p)
        return text, _details_keyboard(hazard, t)
    if kind is NoticeKind.REOPENED:
        if _rectifies(hazard, recipient):
            return t("notice.reopened", reason=notice.reason or "—", **p), _again_keyboard(hazard, t)
        return t("notice.reopened_for_others", reason=notice.reason or "—", **p), _comment_keyboard(hazard, t)
    if kind is NoticeKind.WITHDRAWN:
        category = t.plain(f"withdraw.category.{hazard.withdrawal_category or 'other'}")
        if _withdrawn_by_reporter(hazard, event):
            days = REOPEN_WINDOW.days
            text = t(counted("notice.withdrawn_by_reporter", days), name=author, category=category,
                     reason=notice.reason or "—", days=days, **p)
        else:
            text = t("notice.withdrawn", category=category, reason=notice.reason or "—", **p)
        return text, _details_keyboard(hazard, t)
    if kind is NoticeKind.COMMENTED:
        # Everyone told may see the hazard (targeting.guard), so may answer it.
        comment = clipped(event.note or "", COMMENT_QUOTE)
        return t("notice.commented", name=author, comment=comment, **p), _reply_keyboard(hazard, t)
    if event.detail.get("merged_report"):
        staff = recipient is not None and recipient.role in STAFF_ROLES
        return _render_merged(event, t, author, p, staff=staff), _details_keyboard(hazard, t)
    return t("notice.evidence_added", **p), _details_keyboard(hazard, t)


def _render_merged(event: HazardEvent, t: Translator, author: str, p: dict[str, Any], *, staff: bool) -> str:
    """A second report of the hazard folded into it: who, how many photos, what they wrote, and, to `staff`, the
    severity they judged it, when graver than it stands: staff's to weigh (its deadline is theirs to change), never
    applied by the reporter."""
    photos = int(event.detail.get("photos", 0))
    note = clipped(event.note or "", COMMENT_QUOTE) or "—"
    if photos:
        text = t(counted("notice.merged_report", photos), name=author, photos=photos, note=note, **p)
    else:
        text = t("notice.merged_report_note", name=author, note=note, **p)
    graver = event.detail.get("severity")
    if staff and isinstance(graver, str):
        reported = catalog_label(Severity(graver), t)
        text = f"{text}\n{t('notice.merged_report_severity', name=author, reported=reported, **p)}"
    return text


def _withdrawn_by_reporter(hazard: Hazard, event: HazardEvent) -> bool:
    """Whether the change was its reporter taking the report back (撤回上报), which its notice says."""
    return event.action == HazardAction.WITHDRAW.value and event.actor_id == hazard.reporter_id


def _previous_deadline(event: HazardEvent) -> datetime | None:
    """The deadline the change replaced, as its history entry recorded it (JSON: ISO text)."""
    previous = event.detail.get("previous_deadline")
    return datetime.fromisoformat(previous) if isinstance(previous, str) else None


# ---- keyboards ------------------------------------------------------------------------------------------


def _late_this_round(hazard: Hazard) -> bool:
    """Whether the rectification just accepted came after its deadline; a hazard closed late can also be one
    corrected late in an earlier round, closed and then reopened with a fresh deadline that this round met."""
    if hazard.fixed_at is None or hazard.deadline is None:
        return True
    return hazard.fixed_at > hazard.deadline


def _details_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(VIEW, hazard.id, "button.details", t)]])


def _head_left_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    # The reminders' stand-in button: checked again when pressed (staff, scope, the home open and still headless).
    invite = InlineKeyboardButton(t.plain("button.invite_head"), callback_data=stand_in_data(hazard.institution_id))
    return InlineKeyboardMarkup([[invite], [button(VIEW, hazard.id, "button.details", t)]])


def _comment_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(COMMENT, hazard.id, "button.comment", t)], [button(VIEW, hazard.id, "button.details", t)]]
    )


def _reply_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(COMMENT, hazard.id, "button.reply", t)], [button(VIEW, hazard.id, "button.details", t)]]
    )


def _doer_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(ACKNOWLEDGE, hazard.id, "button.acknowledge", t)],
            [button(RECTIFY, hazard.id, "button.rectify", t)],
            [button(EXTEND, hazard.id, "button.request_extension", t)],
            [button(VIEW, hazard.id, "button.details", t)],
        ]
    )


def _verify_keyboard(hazard: Hazard, event: HazardEvent, t: Translator) -> InlineKeyboardMarkup:
    """Accept and Reject name the rectification they are shown with (the submission's history entry)."""
    fix = event.id if event.action in FIX_ACTIONS else None
    return InlineKeyboardMarkup(
        [
            [button(ACCEPT, hazard.id, "button.accept", t, fix), button(REJECT, hazard.id, "button.reject", t, fix)],
            [button(VIEW, hazard.id, "button.details", t)],
        ]
    )


def _rectifies(hazard: Hazard, recipient: User | None) -> bool:
    """Whether the recipient is the one correcting it. A head who reported a sensitive hazard at their own home is
    told of it as its reporter, but never deals with it: a Rectify button would only earn them a refusal."""
    return recipient is not None and corrects_it(hazard.facts(), actor_of(recipient))


def _reported_it(hazard: Hazard, recipient: User | None) -> bool:
    """The reporter, unless they were the one who fixed it (a head reporting at their own home)."""
    return recipient is not None and hazard.facts().follows(recipient.telegram_id) and not _rectifies(hazard, recipient)


def _added_to_it(hazard: Hazard, recipient: User | None) -> bool:
    """A follower: someone who added their report to it (photos, a description) rather than reported it, and is told
    of it as "the hazard you added to", never "the hazard you reported"."""
    return (recipient is not None and recipient.telegram_id != hazard.reporter_id
            and recipient.telegram_id in hazard.followers)


def _heads_it(hazard: Hazard, recipient: User | None) -> bool:
    return recipient is not None and recipient.role is Role.HEAD and recipient.institution_id == hazard.institution_id


def _again_keyboard(hazard: Hazard, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(RECTIFY, hazard.id, "button.rectify_again", t)],
            [button(VIEW, hazard.id, "button.details", t)],
        ]
    )
