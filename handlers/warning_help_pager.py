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

Each page is queued under a key named by the call and the interval it is due at (`warning:{w}:help:{id}:repage:{n}`,
the city's `…:repage:{n}:city`), so the minute's follow-up, run twice or after a restart, sends each once; a page
missed while the bot was down is not sent late, only the one due now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.domain.roles import Role
from bot.domain.warnings import EarlyWarning, county_of
from bot.i18n import Translator
from bot.services.staff import first_told
from handlers.common import place_name
from handlers.warning_outbox import queue_personal
from handlers.warning_text import (
    headline,
    help_alert_key,
    local_time,
    person_link,
    take_help_keyboard,
    title,
    waited,
)
from handlers.warnstatus import area_name
from storage.models import Institution
from storage.warning_models import ContactEntry, HelpRequest

if TYPE_CHECKING:
    from bot.services_factory import BotServices

PAGED_FOR = timedelta(hours=12)  # older calls are not paged any more (nor, at the start, old data)
# The stop is announced in the hour after it, not later (after a long outage, or for old data at the first start).
STOP_TOLD_WITHIN = timedelta(hours=1)
ESCALATED_AT = 2  # the interval at which the city admins are told (the 🔺 notice)


def due_page(number: int) -> bool:
    """Whether interval `number` has a page: each of the first two, then every second one (the city knows)."""
    return number >= 1 and (number <= ESCALATED_AT or number % 2 == ESCALATED_AT % 2)


def county_page(number: int) -> int:
    """The county's count of the page at interval `number`: 1, 2, then one more every second interval."""
    return number if number <= ESCALATED_AT else ESCALATED_AT + (number - ESCALATED_AT) // 2


def city_page(number: int) -> int:
    """The city's count of its page at interval `number`: the 🔺 notice at ESCALATED_AT was its first."""
    return 1 + (number - ESCALATED_AT) // 2


@dataclass
class Paged:
    repaged: int = 0  # calls announced again this time
    escalated: int = 0  # calls told to the city admins this time
    stopped: int = 0  # calls whose pages stopped this time, still open, told to staff and the city admins


async def page_untaken(services: BotServices) -> Paged:
    """Announce again each untaken call whose next page is due, and escalate those past two intervals."""
    paged = Paged()
    now = services.clock.now()
    interval = services.settings.warning_settings.help_repage
    for request in await services.storage.help_requests.untaken_since(now - PAGED_FOR):
        number = int((now - request.raised_at) / interval)
        if not due_page(number):
            continue
        paged.repaged += bool(await _repage(services, request, number))
        if number >= ESCALATED_AT:
            paged.escalated += bool(await _escalate(services, request))
    for request in await services.storage.help_requests.untaken_since(now - PAGED_FOR - STOP_TOLD_WITHIN):
        if now - request.raised_at >= PAGED_FOR:
            paged.stopped += bool(await _stopped(services, request))
    return paged


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


async def _repage(services: BotServices, request: HelpRequest, number: int) -> int:
    """The page at interval `number`: to those first alerted, and, after their 🔺 notice, to the city admins in words
    of their own (unless they were the ones first alerted)."""
    told = await first_told(services.storage, request.region_code)
    call, tz, now = await _call(services, request), services.settings.tz, services.clock.now()
    key = f"{help_alert_key(request)}:repage:{number}"

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        return t("warn.help_repage", name=call.asker, institution=_names(call, t), title=title(call.warning, t),
                 headline=headline(call.warning, t), raised=local_time(request.raised_at, tz),
                 waited=waited(now - request.raised_at, t), number=county_page(number)), take_help_keyboard(
                     request.id, t)

    sent = await queue_personal(services, [user.telegram_id for user in told], key, render)
    if number <= ESCALATED_AT or any(user.role is Role.CITY for user in told):
        return sent
    admins = [user.telegram_id for user in await services.storage.users.in_scope(Role.CITY, None)]
    region = await services.storage.regions.get(county_of(request.region_code))

    def render_city(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        return t("warn.help_repage_city", name=call.asker, institution=_names(call, t), title=title(call.warning, t),
                 headline=headline(call.warning, t), raised=local_time(request.raised_at, tz),
                 waited=waited(now - request.raised_at, t), number=city_page(number),
                 region=area_name(region, t)), take_help_keyboard(request.id, t)

    return sent + await queue_personal(services, admins, f"{key}:city", render_city)


async def _escalate(services: BotServices, request: HelpRequest) -> int:
    """Once per call: the city admins hear that nobody took it (unless they were the ones alerted, paged already),
    and the person who asked is told that nobody has taken it yet, and who was told again."""
    told = await first_told(services.storage, request.region_code)
    city_alerted = any(user.role is Role.CITY for user in told)
    call, tz, now = await _call(services, request), services.settings.tz, services.clock.now()
    sent = 0
    if not city_alerted:
        admins = [user.telegram_id for user in await services.storage.users.in_scope(Role.CITY, None)]
        region = await services.storage.regions.get(county_of(request.region_code))

        def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
            return t("warn.help_escalated", name=call.asker, institution=_names(call, t),
                     title=title(call.warning, t), raised=local_time(request.raised_at, tz),
                     waited=waited(now - request.raised_at, t),
                     region=area_name(region, t)), take_help_keyboard(request.id, t)

        sent = await queue_personal(services, admins, f"{help_alert_key(request)}:city", render)

    def tell(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        key = "warn.help_waiting_city" if city_alerted else "warn.help_waiting"
        return t(key, title=title(call.warning, t), raised=local_time(request.raised_at, tz)), None

    await queue_personal(services, [request.asker_id], f"{help_alert_key(request)}:waiting", tell)
    return sent


def alert_prefixes(request: HelpRequest) -> tuple[str, ...]:
    """The outbox keys of every staff copy announcing the call: the first alert, its pages, the city's notice.
    Taken or resolved, they are all edited to say so (and lose ✋ 我来处理)."""
    key = help_alert_key(request)
    return f"{key}:chat:", f"{key}:repage:", f"{key}:city:chat:", f"{key}:stopped:chat:"
