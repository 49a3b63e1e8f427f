"""A call for help nobody takes is paged again, as an on-call pager repeats a page until someone acknowledges it.

Every `WARNING_HELP_REPAGE_MINUTES` (30 by default) after it was raised, a call still without ✋ 我来处理 is announced
again to those first alerted (its county's staff, or the city admins where the county has none), with the same
button. After the second interval the city admins hear of it too (🔺, their first message of it), and the person who
asked is told that nobody has taken it yet and that it was passed on.

Once the city is told, the page slows to every second interval (hourly by default): two levels now know, and a
page every half hour to both, for a day, was a stream nobody reads (an on-call pager escalates, it does not
shout louder). The county's pages keep their own count (第 3 次 after its second); the city's are counted from the
city's own first, the 🔺 notice (its next page is 第 2 次), and worded for the city: the county has not taken it,
the city is asked to see to it. After `PAGED_FOR` (12 hours) the pager stops: by then the call is a matter for
/warnstatus and the phone, and a page an hour through the night wakes people without reaching the one who can act.
But it does not stop in silence: those it paged (the county's staff, and the city admins) are told once that it
stopped with the call still open (⏹, with ✋ 我来处理), as an on-call pager's escalation policy ends with a word to
the people on it, never by just going quiet. A call raised longer ago is left to /warnstatus: the pager does not wake
anyone for old data, nor announces its stop later than `STOP_TOLD_WITHIN` after it.

The pages are grouped by person, as a pager groups its open incidents per responder: each round is one message to
one person naming every untaken call of their scope that is due (several: a numbered line and a ✋ button each),
never a message per call. A round comes when a call of theirs is first due, else `help_repage` after their last
while some call listed has had fewer than ESCALATED_AT pages, then every second interval. A call's number is how
many of the person's rounds named it (each round names every call due), read from the outbox: the first repeat is
第 1 次 whatever ran before, and the city's 🔺 says how many pages the county really had. Each round is queued under a
key named by the person and the minute (`help:round:{chat}:{minute}`, the city's `help:cityround:…`), so the
minute's follow-up, run twice or after a restart, sends it once; a round missed while the bot was down is not sent
late, only the one due now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.domain.roles import Role
from bot.domain.warnings import EarlyWarning, county_of
from bot.i18n import Translator, clipped_width, counted
from bot.services.staff import first_told
from handlers.common import place_name
from handlers.warning_outbox import queue_personal
from handlers.warning_text import (
    headline,
    help_alert_key,
    local_time,
    person_link,
    take_help_button,
    take_help_keyboard,
    title,
    waited,
)
from handlers.warnstatus import area_name
from storage.models import Institution, Region
from storage.warning_models import ContactEntry, HelpRequest

if TYPE_CHECKING:
    from bot.services_factory import BotServices

PAGED_FOR = timedelta(hours=12)  # older calls are not paged any more (nor, at the start, old data)
# The stop is announced in the hour after it, not later (after a long outage, or for old data at the first start).
STOP_TOLD_WITHIN = timedelta(hours=1)
ESCALATED_AT = 2  # the interval at which the city admins are told (the 🔺 notice)
BUTTON_COLUMNS = 40  # how much of a call's institution its ✋ button names


# One page a round names at most this many calls, each with its ✋ button; the others are counted, with where to see
# them (/warnstatus, 🆘 求助).
ROUND_CALLS = 8
# The county's rounds: the cadence while some call listed has had fewer pages than this, then every second interval.
ROUND_PREFIX, CITY_ROUND_PREFIX = "help:round", "help:cityround"


@dataclass
class Paged:
    repaged: int = 0  # calls announced again this time
    escalated: int = 0  # calls told to the city admins this time
    stopped: int = 0  # calls whose pages stopped this time, still open, told to staff and the city admins


@dataclass
class _Audience:
    """Whom one round goes to, and the calls it lists (the oldest first)."""

    chat_id: int
    calls: list[HelpRequest] = field(default_factory=list)


async def page_untaken(services: BotServices) -> Paged:
    """One round of pages for each person with untaken calls in their scope whose turn has come: the county's staff
    (or the city admins where the county has none) for the calls past one interval; the city admins, in words of
    their own, for those past ESCALATED_AT intervals. The asker is told once that nobody has taken it yet."""
    paged = Paged()
    now = services.clock.now()
    interval = services.settings.warning_settings.help_repage
    county: dict[int, _Audience] = {}
    city: dict[int, _Audience] = {}
    admins = [user.telegram_id for user in await services.storage.users.in_scope(Role.CITY, None)]
    firsts: dict[int, int] = {}  # a call: one of those first alerted, whose rounds count its pages
    for request in await services.storage.help_requests.untaken_since(now - PAGED_FOR):
        if now - request.raised_at < interval:
            continue
        told = await first_told(services.storage, request.region_code)
        for user in told:
            county.setdefault(user.telegram_id, _Audience(user.telegram_id)).calls.append(request)
        if told:
            firsts[request.id] = told[0].telegram_id
        if now - request.raised_at < ESCALATED_AT * interval:
            continue
        city_alerted = any(user.role is Role.CITY for user in told)
        await _tell_asker_waiting(services, request, city_alerted)
        if not city_alerted:
            for chat_id in admins:
                city.setdefault(chat_id, _Audience(chat_id)).calls.append(request)
    counted: dict[int, list[datetime]] = {}
    for audience in county.values():
        counted[audience.chat_id] = await services.storage.outbox.queued_times(f"{ROUND_PREFIX}:{audience.chat_id}:")
    repaged: set[int] = set()
    for audience in county.values():
        repaged |= await _county_round(services, audience, counted[audience.chat_id], interval)
    for chat_id in set(firsts.values()):  # the pages just queued count too
        counted[chat_id] = await services.storage.outbox.queued_times(f"{ROUND_PREFIX}:{chat_id}:")
    escalated: set[int] = set()
    for audience in city.values():
        pages = {r.id: _pages(counted.get(firsts.get(r.id, 0), []), r.raised_at + interval) for r in audience.calls}
        escalated |= await _city_round(services, audience, pages, interval)
    paged.repaged, paged.escalated = len(repaged), len(escalated)
    for request in await services.storage.help_requests.untaken_since(now - PAGED_FOR - STOP_TOLD_WITHIN):
        if now - request.raised_at >= PAGED_FOR:
            paged.stopped += bool(await _stopped(services, request))
    return paged


def _pages(rounds: list[datetime], since: datetime) -> int:
    """How many of a person's rounds named a call: those since it was first due (each round names every call due)."""
    return sum(1 for at in rounds if at >= since)


def _turn_come(now: datetime, rounds: list[datetime], counts: list[int], cadence: timedelta) -> bool:
    """Whether a person's round is due: a call not yet paged to them (its first page comes on time), or their last
    round `cadence` ago."""
    return not rounds or 0 in counts or now - rounds[-1] >= cadence


async def _county_round(
    services: BotServices, audience: _Audience, rounds: list[datetime], interval: timedelta
) -> set[int]:
    """The round of one of those first alerted, if its turn has come: every untaken call of their scope due, each
    numbered by the pages it had (the first repeat is 第 1 次). Every interval while some call has had fewer than
    ESCALATED_AT pages, then every second one (the city knows by then). Returns the calls it named."""
    now = services.clock.now()
    counts = [_pages(rounds, r.raised_at + interval) for r in audience.calls]
    cadence = interval if any(count < ESCALATED_AT for count in counts) else 2 * interval
    if not _turn_come(now, rounds, counts, cadence):
        return set()
    calls = [(r, count + 1) for r, count in zip(audience.calls, counts, strict=True)]
    render = await _round_words(services, calls, city=False)
    key = f"{ROUND_PREFIX}:{audience.chat_id}:{now:%Y%m%dT%H%M}"
    sent = await queue_personal(services, [audience.chat_id], key, render)
    return {r.id for r, _ in calls} if sent else set()


async def _city_round(
    services: BotServices, audience: _Audience, county_pages: dict[int, int], interval: timedelta
) -> set[int]:
    """A city admin's round, if its turn has come: each call the county has not taken past ESCALATED_AT intervals,
    the first time as the 🔺 notice (saying how many pages the county had), then counted from it, every second
    interval. Returns the calls told to the city for the first time."""
    now = services.clock.now()
    rounds = await services.storage.outbox.queued_times(f"{CITY_ROUND_PREFIX}:{audience.chat_id}:")
    counts = [_pages(rounds, r.raised_at + ESCALATED_AT * interval) for r in audience.calls]
    if not _turn_come(now, rounds, counts, 2 * interval):
        return set()
    calls = [(r, count + 1) for r, count in zip(audience.calls, counts, strict=True)]
    render = await _round_words(services, calls, city=True, county_pages=county_pages)
    key = f"{CITY_ROUND_PREFIX}:{audience.chat_id}:{now:%Y%m%dT%H%M}"
    sent = await queue_personal(services, [audience.chat_id], key, render)
    return {r.id for r, number in calls if number == 1} if sent else set()


async def _round_words(
    services: BotServices, calls: list[tuple[HelpRequest, int]], *, city: bool,
    county_pages: dict[int, int] | None = None,
) -> Callable[[Translator], tuple[str, InlineKeyboardMarkup | None]]:
    """A round's words: one call in the words a single page always had; several as a list, a ✋ button each."""
    tz, now = services.settings.tz, services.clock.now()
    read = [(request, number, await _call(services, request),
             await services.storage.regions.get(county_of(request.region_code))) for request, number in calls]
    pages = county_pages or {}

    def line(t: Translator, index: int | None, request: HelpRequest, number: int, call: _Call, region: Region | None
             ) -> str:
        paged = pages.get(request.id, 0)
        words = {"name": call.asker, "institution": _names(call, t), "title": title(call.warning, t),
                 "headline": headline(call.warning, t), "raised": local_time(request.raised_at, tz),
                 "waited": waited(now - request.raised_at, t), "number": number, "region": area_name(region, t),
                 "pages": paged}
        if not city:
            base = "warn.help_repage"
        elif number > 1:
            base = "warn.help_repage_city"
        else:  # the city's first word of it: how many pages the county had, as many as were sent
            base = "warn.help_escalated" if paged else "warn.help_escalated_unpaged"
        key = base if index is None else f"{base}_line"
        if base == "warn.help_escalated":
            key = counted(key, paged)
        return t(key, **words) if index is None else t(key, index=index, **words)

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        if len(read) == 1:
            request, number, call, region = read[0]
            return line(t, None, request, number, call, region), take_help_keyboard(request.id, t)
        listed = read[:ROUND_CALLS]
        text = t("warn.help_round_city" if city else "warn.help_round", count=len(read)) + "\n" + "\n".join(
            line(t, index, request, number, call, region)
            for index, (request, number, call, region) in enumerate(listed, 1))
        if len(read) > len(listed):
            text += "\n" + t("warn.help_round_more", count=len(read) - len(listed))
        buttons = [[take_help_button(request.id, t, clipped_width(_names(call, t), BUTTON_COLUMNS))]
                   for request, _, call, _ in listed]
        return text, InlineKeyboardMarkup(buttons)

    return render


async def _tell_asker_waiting(services: BotServices, request: HelpRequest, city_alerted: bool) -> None:
    """Once per call (its key): the person who asked is told that nobody has taken it yet, and who was told again."""
    key = f"{help_alert_key(request)}:waiting"
    if await services.storage.outbox.queued(f"{key}:chat:{request.asker_id}"):
        return
    warning = await services.warnings.get(request.warning_id)
    tz = services.settings.tz

    def tell(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        which = "warn.help_waiting_city" if city_alerted else "warn.help_waiting"
        return t(which, title=title(warning, t), raised=local_time(request.raised_at, tz)), None

    await queue_personal(services, [request.asker_id], key, tell)


async def _stopped(services: BotServices, request: HelpRequest) -> int:
    """Once per call (its key): the pages stopped at `PAGED_FOR` with the call still open. Everyone it paged hears
    so, the county's staff and the city admins alike, with ✋ 我来处理 (taken later, this copy says so too)."""
    told = await first_told(services.storage, request.region_code)
    admins = await services.storage.users.in_scope(Role.CITY, None)
    people = sorted({user.telegram_id for user in [*told, *admins]})
    call, tz, now = await _call(services, request), services.settings.tz, services.clock.now()
    region = await services.storage.regions.get(county_of(request.region_code))

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        return t("warn.help_pager_stopped", name=call.asker, institution=_names(call, t), title=title(call.warning, t),
                 raised=local_time(request.raised_at, tz), waited=waited(now - request.raised_at, t),
                 hours=int(PAGED_FOR.total_seconds() // 3600), region=area_name(region, t)), take_help_keyboard(
                     request.id, t)

    return await queue_personal(services, people, f"{help_alert_key(request)}:stopped", render)


@dataclass(frozen=True)
class _Call:
    warning: EarlyWarning
    asker: str  # the asker's name as a link to message them
    institutions: list[Institution | None]
    person: ContactEntry | None = None  # a cadre's call for a vulnerable person on their contact list


async def _call(services: BotServices, request: HelpRequest) -> _Call:
    warning = await services.warnings.get(request.warning_id)
    asker = await services.storage.users.get(request.asker_id)
    name = person_link(request.asker_id, asker.full_name if asker else "—")
    person = None
    if request.round_id is not None and request.person_id is not None:
        person = await services.storage.contacts.entry(request.round_id, request.person_id)
    return _Call(warning, name, [await services.storage.institutions.get(i) for i in request.institutions], person)


def _names(call: _Call, t: Translator) -> str:
    """Whom the call is for: the institutions, or the vulnerable person (by code) a cadre called for."""
    if call.person is not None:
        return t.plain("contact.person", code=call.person.person_code,
                       category=t.plain(f"contact.category_{call.person.category.value}"))
    return t.plain("warn.list_separator").join(place_name(i, t) for i in call.institutions if i is not None) or "—"


def alert_prefixes(request: HelpRequest) -> tuple[str, ...]:
    """The outbox keys of every staff copy announcing the call: the first alert, its pages, the city's notice.
    Taken or resolved, they are all edited to say so (and lose ✋ 我来处理)."""
    key = help_alert_key(request)
    return f"{key}:chat:", f"{key}:repage:", f"{key}:city:chat:", f"{key}:stopped:chat:"


async def whom(services: BotServices, request: HelpRequest, t: Translator) -> str:
    """Whom a call is for, as a page listing several calls names it."""
    return _names(await _call(services, request), t)
