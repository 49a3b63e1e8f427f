"""A warning's revision into the outbox: one message per recipient chat, each in its reader's words; then what a
warning sets off (contact rounds at orange and red) and what staff are told of warnings that arrive by themselves.

Call these inside the transaction that made the change, so a warning is never sent without its messages queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.roles import Role
from bot.domain.warnings import (
    ChecklistItem,
    DraftTiming,
    EarlyWarning,
    WarningChange,
    WarningKind,
    WarningOrigin,
    effective_expiry,
    of_concern,
)
from bot.i18n import Html, Translator, clipped, counted
from bot.services.warnings import RecipientPreview, RoundStarted, TestMessage, WarningDelivery, draft_notice_key
from handlers.common import place_name
from handlers.contact_lists import queue_joined_notice, queue_lists
from handlers.warning_followup import escalate_no_one_to_reach
from handlers.warning_in_force import queue_in_force_notice
from handlers.warning_outbox import (
    county_staff,
    markup_json,
    queue_personal,
    staff_answerable,
    translator_for,
    warning_batch,
)
from handlers.warning_text import (
    MAX_SENDER,
    ack_keyboard,
    kind_label,
    level_label,
    local_time,
    merged_checklist,
    person_link,
    title,
    warning_text,
)
from storage.models import Institution
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority
from storage.warning_models import AckResponse, HelpRequest, RecipientKind, WarningAck, WarningRecipient

if TYPE_CHECKING:
    from bot.services_factory import BotServices

SEND_DRAFT = "wn:send"


@dataclass(frozen=True)
class Queued:
    batch: str
    total: int  # chats the revision goes to (one message each)
    new: int  # of them, queued now (the rest were queued before)


@dataclass(frozen=True)
class Audience:
    """Who a warning would reach, as the preview counts them: distinct people and distinct group chats."""

    people: int
    heads: int
    cadres: int
    groups: int
    no_one_to_reach: int  # institutions concerned that no head the bot can reach answers for

    @classmethod
    def of(cls, preview: RecipientPreview) -> Audience:
        return cls(
            people=len(preview.people),
            heads=len({r.chat_id for r in preview.heads}),
            cadres=len({r.chat_id for r in preview.cadres}),
            groups=len({r.chat_id for r in preview.groups}),
            no_one_to_reach=len(preview.no_one_to_reach),
        )


async def queue_delivery(services: BotServices, delivery: WarningDelivery) -> Queued:
    """Exactly one message per chat and revision (key `warning:{id}:rev:{n}:chat:{chat_id}`), however many
    institutions a head answers for; a group bound by topic gets it in that topic."""
    warning = delivery.warning
    batch = warning_batch(warning.id, warning.revision)
    by_chat: dict[int, list[WarningRecipient]] = {}
    for recipient in delivery.recipients:
        by_chat.setdefault(recipient.chat_id, []).append(recipient)
    texts: dict[tuple[str, tuple[str, ...]], str] = {}  # one rendering per language and checklist, not per chat
    # Read in batches, not a row per chat: a city-wide warning is queued inside the write transaction that sends it,
    # and every other write (answers, reports) waits for it.
    readers = await _readers(services, list(by_chat))
    places = await _institutions(services, {r.institution_id for r in delivery.recipients if r.institution_id})
    answered = await _still_answered(services, delivery)
    calls = await _open_calls(services, delivery)
    chats, new = list(by_chat.items()), 0
    # A chunk of messages at a time, all in the caller's transaction: the city's twenty thousand, held at once
    # with their payloads, were half of the process's peak memory.
    for start in range(0, len(chats), _QUEUE_CHUNK):
        new += await services.outbox.enqueue([
            _message(services, delivery, batch, chat_id, rows, texts, readers[chat_id], places, answered.get(chat_id),
                     calls.get(chat_id))
            for chat_id, rows in chats[start : start + _QUEUE_CHUNK]
        ], batch=batch)
    return Queued(batch, len(chats), new)


_BATCH_READ = 500  # ids in one IN (…) list, well under SQLite's limit on a statement's parameters
_QUEUE_CHUNK = 250  # small enough that the broadcast tests (335 chats) cross a chunk's edge


async def _still_answered(services: BotServices, delivery: WarningDelivery) -> dict[int, datetime]:
    """Heads whose latest answer to the warning is 已收到并落实, with when: under a later revision (a level change, an
    update) their copy says the answer still counts, as the rule of answers carrying over has it."""
    if delivery.change in (WarningChange.ISSUE, WarningChange.CANCEL):
        return {}
    latest: dict[int, WarningAck] = {}
    for ack in await services.storage.warnings.acks(delivery.warning.id):  # oldest first
        latest[ack.user_id] = ack
    return {user_id: ack.at for user_id, ack in latest.items() if ack.response is AckResponse.RECEIVED}


@dataclass(frozen=True)
class _OpenCall:
    """A head's call for help still open when a revision goes out, and who took it (None: nobody yet)."""

    request: HelpRequest
    taker: str | None
    taker_id: int | None = None


async def _open_calls(services: BotServices, delivery: WarningDelivery) -> dict[int, _OpenCall]:
    """Heads whose call for help under the warning is still open: their copy of a later revision says so and
    offers no ✅ 已收到并落实 (it would replace their 需要帮助 and take the open call off /warnstatus), nor 🆘 again
    (pressing it while the call is open wakes nobody), as the message they asked from. Their 【解除】 says so too: a
    lift ends the warning, not their call, and "lifted" alone would read as if it were over."""
    if delivery.change is WarningChange.ISSUE:
        return {}
    latest: dict[int, HelpRequest] = {}
    for request in await services.storage.help_requests.of_warning(delivery.warning.id):  # oldest first
        latest[request.asker_id] = request
    found: dict[int, _OpenCall] = {}
    for asker, request in latest.items():
        if request.resolved:
            continue
        taker = None
        if request.taken_by is not None:
            person = await services.storage.users.get(request.taken_by)
            taker = person.full_name if person else "—"
        found[asker] = _OpenCall(request, taker, request.taken_by)
    return found


async def _readers(services: BotServices, chat_ids: Sequence[int]) -> dict[int, Translator]:
    """Each chat's words, as `translator_for` chooses them: a person's own language, the default for groups and
    for people who have left."""
    people = [chat_id for chat_id in chat_ids if chat_id > 0]
    language: dict[int, str] = {}
    for start in range(0, len(people), _BATCH_READ):
        for user in await services.storage.users.get_many(people[start:start + _BATCH_READ]):  # active ones only
            language[user.telegram_id] = user.language
    return {chat_id: services.i18n.get(language.get(chat_id)) for chat_id in chat_ids}


async def _institutions(services: BotServices, ids: set[int]) -> dict[int, Institution]:
    ordered = sorted(ids)
    found: dict[int, Institution] = {}
    for start in range(0, len(ordered), _BATCH_READ):
        for institution in await services.storage.institutions.get_many(ordered[start:start + _BATCH_READ]):
            found[institution.id] = institution
    return found


def _message(
    services: BotServices,
    delivery: WarningDelivery,
    batch: str,
    chat_id: int,
    rows: Sequence[WarningRecipient],
    texts: dict[tuple[str, tuple[str, ...]], str],
    t: Translator,
    places: dict[int, Institution],
    answered_at: datetime | None = None,
    call: _OpenCall | None = None,
) -> NewOutboxMessage:
    warning, change = delivery.warning, delivery.change
    heads = [r for r in rows if r.kind is RecipientKind.HEAD and r.institution_id is not None]
    checklist: list[ChecklistItem]
    if heads:
        lists = []
        for row in heads:
            lists.append(services.warnings.checklist(warning.kind, places.get(row.institution_id or 0)))
        checklist = merged_checklist(lists)
    else:
        checklist = services.warnings.checklist(warning.kind)
    rendered = (t.language, tuple(item.id for item in checklist))
    text = texts.get(rendered)
    if text is None:
        text = texts[rendered] = warning_text(warning, change, t, services.settings.tz, checklist,
                                              default_duration=services.warnings.settings.default_duration)
    # Heads answer for their institutions; groups and cadres only read (a group's members are not all registered).
    markup = ack_keyboard(warning.id, t) if heads and change is not WarningChange.CANCEL else None
    if heads and call is not None:
        markup = None
        text = f"{text}\n\n{_call_line(call, change, t, services.settings.tz)}"
    elif heads and answered_at is not None:
        # The line an answer leaves under the warning (a new answer replaces it), saying the earlier one counts.
        text = f"{text}\n\n{t('warn.state_still_received', at=local_time(answered_at, services.settings.tz))}"
    topics = [r.topic_id for r in rows if r.topic_id is not None]
    return NewOutboxMessage(
        dedupe_key=f"{batch}:chat:{chat_id}",
        chat_id=chat_id,
        topic_id=topics[0] if topics else None,
        payload=OutboxPayload(text=text, reply_markup=markup_json(markup)),
        priority=Priority.URGENT,
    )


def _call_line(call: _OpenCall, change: WarningChange, t: Translator, tz: ZoneInfo) -> str:
    """The line under a head's copy while their call is open: who has it; under a 【解除】, that it is still open
    (and whom to message, or that nobody has taken it yet)."""
    raised = local_time(call.request.raised_at, tz)
    taken_at = local_time(call.request.taken_at or call.request.raised_at, tz)
    if change is WarningChange.CANCEL:
        if call.taker is None or call.taker_id is None:
            return t("warn.lifted_call_open", raised=raised)
        return t("warn.lifted_call_taken", raised=raised, name=person_link(call.taker_id, call.taker), at=taken_at)
    if call.taker is None:
        return t("warn.state_need_help", at=raised)
    return t("warn.state_help_taken", raised=raised, name=call.taker, at=taken_at)


@dataclass(frozen=True)
class Delivered:
    warning: EarlyWarning
    queued: Queued
    rounds: tuple[RoundStarted, ...] = ()  # contact rounds this revision started
    no_one_to_reach: int = 0  # at its first sending: institutions it concerns that nobody can be told of
    joined: tuple[RoundStarted, ...] = ()  # rounds already open in its counties, that go on under it

    @property
    def people_in_rounds(self) -> int:
        return sum(len(cadre_list.entries) for started in self.rounds for cadre_list in started.lists)

    @property
    def cadres_in_rounds(self) -> int:
        return len({c.cadre_id for started in self.rounds for c in started.lists if c.cadre_id is not None})


async def deliver(services: BotServices, delivery: WarningDelivery, sender: int | None = None) -> Delivered:
    """Queue the revision, and start the contact rounds an orange or red warning calls for (once per region);
    people without a cadre are listed for the county's staff. At its first sending, the staff of the counties it
    covers hear that it is in force (`sender`: who pressed Send, not told; None for the feed's and the repair's)."""
    queued = await queue_delivery(services, delivery)
    rounds: list[RoundStarted] = []
    joined: list[RoundStarted] = []
    if delivery.change is not WarningChange.CANCEL and delivery.recipients:
        for started in await services.warnings.start_rounds_for_warning(delivery.warning.id):
            if started.joined:
                await queue_joined_notice(services, started)
                joined.append(started)
            if not started.created:
                continue
            if not any(cadre_list.entries for cadre_list in started.lists):
                # Nobody registered there: a round with nobody to reach is closed before anyone hears of it.
                await services.warnings.close_round(None, started.round.id)
                continue
            await queue_lists(services, started, await county_staff(services, started.round.region_code))
            rounds.append(started)
    unreached = 0
    if delivery.change is WarningChange.ISSUE:
        status = await services.warnings.ack_status(delivery.warning.id)
        await queue_in_force_notice(services, delivery, status, sender)
        # Nobody will answer for these: their county's staff hear of them now, not after the follow-up's delay.
        unreached = (await escalate_no_one_to_reach(services, delivery.warning, status)).total
    return Delivered(delivery.warning, queued, tuple(rounds), unreached, tuple(joined))


def round_lines(delivered: Delivered, t: Translator) -> list[str]:
    """For the sender: the contact rounds the warning started, and those already open that go on under it."""
    lines = []
    if delivered.rounds:
        lines.append(t("warn.rounds_started", people=delivered.people_in_rounds, cadres=delivered.cadres_in_rounds))
    if delivered.joined:
        people = sum(len(c.entries) for started in delivered.joined for c in started.lists)
        lines.append(t("warn.rounds_joined", people=people))
    return lines


def no_one_line(delivered: Delivered, t: Translator) -> str | None:
    """For the sender: how many institutions the warning concerns have nobody to tell, so that they phone them."""
    count = delivered.no_one_to_reach
    return t(counted("warn.sent_no_one", count), count=count) if count else None


# ---- what staff are told of warnings that arrive by themselves ------------------------------------------


async def preview_text(services: BotServices, warning: EarlyWarning, t: Translator) -> Html:
    """The message as its recipients would read it, and how many would: for drafts waiting for one tap."""
    audience = Audience.of(await services.warnings.preview_warning(warning))
    checklist = services.warnings.checklist(warning.kind)
    body = warning_text(warning, WarningChange.ISSUE, t, services.settings.tz, checklist,
                        default_duration=services.warnings.settings.default_duration)
    lines = [body, "", audience_line(audience, t)]
    alike, _ = await alike_line(services, warning.kind, warning.target.regions, t, besides=warning.id)
    if alike is not None:
        lines.append(alike)
    if own := city_own_line(await city_own_of(services, warning), t):
        lines.append(own)
    return Html("\n".join(lines))


async def alike_line(
    services: BotServices, kind: WarningKind, regions: frozenset[str], t: Translator, *, besides: int | None = None
) -> tuple[str | None, list[EarlyWarning]]:
    """Before a warning goes out: the warnings of its kind already in force over its area, named with their ids,
    areas and ends, and the way to raise one instead (a second parallel warning reaches the same homes twice). None
    when there are none; with them, for the caller's buttons."""
    alike = await services.warnings.in_force_alike(kind, regions, besides=besides)
    if not alike:
        return None, []
    separator = t.plain("warn.list_separator")
    items = []
    for other in alike:
        places = [place_name(await services.storage.regions.get(code), t) for code in sorted(other.target.regions)]
        until = local_time(effective_expiry(other, services.warnings.settings.default_duration), services.settings.tz)
        items.append(t.plain("warn.preview_alike_item", title=title(other, t), id=other.id,
                             regions=separator.join(places), until=until))
    return t("warn.preview_alike", warnings=separator.join(items)), alike


async def city_own_of(services: BotServices, warning: EarlyWarning) -> list[Institution]:
    """The city's own institutions a forecast draft concerns besides its county's (those standing in it)."""
    if warning.origin is not WarningOrigin.FORECAST:
        return []
    return [i for i in await services.warnings.city_own_in(warning.target.regions) if of_concern(warning.target, i)]


def city_own_line(institutions: Sequence[Institution], t: Translator) -> str | None:
    """For staff deciding on a draft: that it reaches the city's own institutions standing in its county too."""
    if not institutions:
        return None
    names = t.plain("warn.list_separator").join(place_name(i, t) for i in institutions)
    return t("warn.draft_city_own", names=names)


def audience_line(audience: Audience, t: Translator) -> str:
    line = t("warn.audience", people=audience.people, heads=audience.heads, cadres=audience.cadres,
             groups=audience.groups)
    if audience.no_one_to_reach:
        count = audience.no_one_to_reach
        line = Html(line + "\n" + t(counted("warn.audience_no_one", count), count=count))
    return line


def send_keyboard(warning_id: int, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.plain("warn.button_send_draft"), callback_data=f"{SEND_DRAFT}:{warning_id}")]]
    )


async def queue_draft_notice(
    services: BotServices, warning: EarlyWarning, timing: DraftTiming | None = None, *,
    chat_ids: Sequence[int] | None = None,
) -> int:
    """A draft (official blue/yellow, or a forecast finding) for the staff who may send it, with one-tap Send.
    `timing`: a forecast draft's in quiet hours (`forecast_draft_timing`); official drafts come at once.
    `chat_ids`: only these of them (a forecast run tells the others in its digest)."""
    timing = timing or DraftTiming()
    staff = [u.telegram_id for u in await staff_answerable(services, warning.target.regions)]
    if chat_ids is not None:
        staff = [chat_id for chat_id in staff if chat_id in chat_ids]
    rendered: dict[str, tuple[str, InlineKeyboardMarkup | None]] = {}
    regions = [await services.storage.regions.get(code) for code in sorted(warning.target.regions)]
    for chat_id in staff:
        t = await translator_for(services, chat_id)
        if t.language not in rendered:
            # Where it is for: the city admins hear of every county's drafts, and the text alone does not say.
            where = t.plain("warn.list_separator").join(place_name(region, t) for region in regions)
            intro = t("warn.draft_intro", title=title(warning, t), region=where)
            body = await preview_text(services, warning, t)
            rendered[t.language] = (Html("\n".join([intro, "", body])), send_keyboard(warning.id, t))
    # Held till morning, it goes as BULK so that it holds back nothing else of the staff's chat meanwhile.
    priority = Priority.URGENT if timing.not_before is None else Priority.BULK
    return await queue_personal(
        services, staff, draft_notice_key(warning.id, warning.revision), lambda t: rendered[t.language],
        priority=priority, silent=timing.silent, not_before=timing.not_before,
    )


def draft_reminder_key(warning: EarlyWarning, round_: int) -> str:
    """Under the draft's notices (`draft_notice_key`'s prefix): sent, withdrawn or revised, the draft's reminders
    still waiting are cancelled with its notices, so none offers a decision already made."""
    return f"{draft_notice_key(warning.id, warning.revision)}:again:{round_}"


async def queue_draft_reminder(services: BotServices, warning: EarlyWarning, round_: int, *, silent: bool) -> int:
    """An official draft still waiting, raised again (as a pager re-pages) to the staff who may send it: how long it
    has waited, with 📤 发送 again. `round_`: the how-many-th reminder of this revision, naming it, so each goes once.
    `silent`: in quiet hours (a blue or yellow draft is no reason to wake anyone; the morning's reminder will ring)."""
    staff = [u.telegram_id for u in await staff_answerable(services, warning.target.regions)]
    since = local_time(warning.updated_at, services.settings.tz)
    hours = int((services.clock.now() - warning.updated_at).total_seconds() // 3600)

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        text = t(counted("warn.draft_again", hours), title=title(warning, t), id=warning.id, since=since,
                 hours=hours, headline=warning.headline)
        return text, send_keyboard(warning.id, t)

    return await queue_personal(services, staff, draft_reminder_key(warning, round_), render, silent=silent)


async def queue_auto_sent_notice(services: BotServices, delivery: WarningDelivery, delivered: Delivered) -> int:
    """Staff learn that an official warning went out (or changed) by itself, and to how many chats; at its first
    sending, how many institutions it concerns nobody can be told of, as a sender's confirmation says (their
    county's staff are named them by `escalate_no_one_to_reach`, once)."""
    warning, queued = delivery.warning, delivered.queued
    staff = [u.telegram_id for u in await staff_answerable(services, warning.target.regions)]

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        key = counted(f"warn.auto_{delivery.change.value}", queued.total)
        text = t(key, title=title(warning, t), headline=warning.headline, total=queued.total)
        no_one = no_one_line(delivered, t)
        return (text if no_one is None else Html(text + "\n" + no_one)), None

    return await queue_personal(services, staff, f"{queued.batch}:staff", render)


async def queue_test_notice(services: BotServices, message: TestMessage) -> int:
    """A Test or Exercise alert: city admins see it, nobody else does, nothing is stored or sent on."""
    admins = [u.telegram_id for u in await services.storage.users.in_scope(Role.CITY, None)]

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        return t("warn.test_message", status=message.status, sender=clipped(message.sender, MAX_SENDER),
                 headline=message.headline, kind=kind_label(message.kind, t), level=level_label(message.level, t)), None

    return await queue_personal(
        services, admins, f"warning-test:{message.sender}:{message.identifier}", render, priority=Priority.NORMAL
    )
