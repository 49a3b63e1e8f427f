"""Staff hear at once that a warning is in force in their scope, and so do staff who join while it is.

A warning the city sends (or an official one over several counties) goes to heads, cadres and work groups; the
county's staff, who answer for the follow-up, heard of it only two hours later, when the silent homes were named
to them. Like the feed's note to staff of an official warning sent by itself, each county's staff now get one
message when it goes out: what it is, how many of their institutions it concerns and reached, and /warnstatus.
The city admins other than its sender get one too, for the whole warning: they answer for the whole city, are paged
for the help calls of a county with no staff registered, and one who first learns of a warning from such a call has
learnt of it too late.

Not told: the sender (the confirmation is theirs), a recipient of the warning itself (they have it), and, for an
official warning sent by itself, the staff the feed's own note reaches (`queue_auto_sent_notice`). Queued in the
transaction that sends the warning, under a key named by the warning, so a restart (or the repair of a warning never
queued) tells nobody twice.

County staff and city admins who register (or come back) while warnings over their scope are in force get the same
notice of each, queued in their registration's transaction under the same key (`InForceForArrivals`): once per
person and warning, whether they heard of it at its sending, before their access ended, or never.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.domain.roles import Role, region_in_scope
from bot.domain.warnings import DELIVERED_STATUSES, EarlyWarning, WarningChange, WarningLevel
from bot.i18n import Html, Translator, counted
from bot.services.warning_acks import WarningAckStatus
from bot.services.warnings import WarningDelivery
from handlers.common import place_name
from handlers.contact_lists import queue_unassigned_list
from handlers.warning_outbox import Render, county_staff, queue_personal, staff_answerable, warning_batch
from handlers.warning_text import level_label, local_time, title
from handlers.warnstatus import name_of
from storage.models import Region, User
from storage.repositories.contact_followups import ContactFollowUpRepository
from storage.warning_models import ContactRound, ContactStatus

if TYPE_CHECKING:
    from bot.services_factory import BotServices

STAFF_ROLES = (Role.COUNTY, Role.CITY)


def in_force_key(warning_id: int) -> str:
    return f"warning:{warning_id}:in-force"


async def queue_in_force_notice(
    services: BotServices, delivery: WarningDelivery, status: WarningAckStatus, sender: int | None
) -> int:
    """One message to each county staff member of the counties the warning covers, and to each city admin (see the
    module); returns how many were queued now."""
    warning = delivery.warning
    sender = sender if sender is not None else warning.created_by
    left_out = {chat_id for chat_id in (sender,) if chat_id is not None}
    left_out |= {recipient.chat_id for recipient in delivery.recipients}
    if warning.official and sender is None:  # sent by itself: the feed's note tells these staff already
        left_out |= {user.telegram_id for user in await staff_answerable(services, warning.target.regions)}
    issuer = None if warning.official else await name_of(services, sender)
    queued = 0
    for county in await _covered_counties(services, warning):
        staff = [user.telegram_id for user in await services.storage.users.staff_for_region(county.code)
                 if user.role is Role.COUNTY and user.telegram_id not in left_out]
        if staff:
            words = _county_words(warning, county, status, issuer)
            queued += await queue_personal(services, staff, in_force_key(warning.id), words)
    admins = [user.telegram_id for user in await services.storage.users.in_scope(Role.CITY, None)
              if user.telegram_id not in left_out]
    if admins:
        words = _city_words(warning, await _places(services, warning), status, issuer)
        queued += await queue_personal(services, admins, in_force_key(warning.id), words)
    return queued


class InForceForArrivals:
    """The notice of each warning in force over their scope, for a county clerk or city admin who has just
    registered (or come back); called inside the registration's transaction (`OnboardingService`)."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, person: User) -> None:
        await queue_in_force_for_arrival(self._services, person)


async def queue_in_force_for_arrival(services: BotServices, person: User) -> int:
    """The in-force notice of every warning sent and still in force over the person's scope (their county; the city
    for a city admin), as the others were sent it; returns how many were queued now. Not the warning's sender's, nor
    an official warning's whose feed note (the staff's notice of a warning sent by itself) reached them before."""
    if person.role not in STAFF_ROLES:
        return 0
    scope = person.region_code if person.role is Role.COUNTY else None
    queued = 0
    for warning in await services.warnings.active(scope):
        if warning.status not in DELIVERED_STATUSES or warning.created_by == person.telegram_id:
            continue
        if warning.official and await _had_feed_note(services, warning, person.telegram_id):
            continue
        words = await _arrival_words(services, warning, person)
        if words is None:
            continue
        rounds = await _rounds_for(services, warning, person)
        queued += await queue_personal(services, [person.telegram_id], in_force_key(warning.id),
                                       _with_rounds(words, rounds))
        for arrival in rounds:
            if arrival.lists_unassigned:
                queued += await queue_unassigned_list(services, arrival.round, [person.telegram_id])
    return queued


@dataclass(frozen=True)
class RoundForArrival:
    """A contact round open under the warning in the newcomer's scope: how far it is, and whether the newcomer is
    among the staff who work the list of the people with no cadre (as the county's staff at its start were)."""

    round: ContactRound
    region: Region | None
    done: int
    total: int
    unassigned: int
    lists_unassigned: bool


async def _rounds_for(services: BotServices, warning: EarlyWarning, person: User) -> list[RoundForArrival]:
    found = []
    for contact_round in await ContactFollowUpRepository(services.storage.db).open_rounds():
        if contact_round.warning_id != warning.id:
            continue
        if person.role is Role.COUNTY and not region_in_scope(person.region_code, contact_round.region_code):
            continue
        entries = await services.storage.contacts.entries(contact_round.id)
        unassigned = [e for e in entries if e.cadre_id is None and e.status is ContactStatus.PENDING]
        works_it = bool(unassigned) and person.telegram_id in await county_staff(services, contact_round.region_code)
        found.append(RoundForArrival(
            contact_round, await services.storage.regions.get(contact_round.region_code[:6]),
            sum(e.status is not ContactStatus.PENDING for e in entries), len(entries), len(unassigned), works_it,
        ))
    return found


def _with_rounds(words: Render, rounds: Sequence[RoundForArrival]) -> Render:
    """The notice, with a line for each contact round running under the warning (before /warnstatus)."""
    if not rounds:
        return words

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        text, markup = words(t)
        head, _, status = text.rpartition("\n")
        lines = [head]
        for arrival in rounds:
            lines.append(t("contact.in_force_round", round=arrival.round.number, region=place_name(arrival.region, t),
                           done=arrival.done, total=arrival.total))
            if arrival.lists_unassigned:
                lines.append(t(counted("contact.in_force_unassigned", arrival.unassigned), count=arrival.unassigned))
        return Html("\n".join([*lines, status])), markup

    return render


async def _arrival_words(services: BotServices, warning: EarlyWarning, person: User) -> Render | None:
    status = await services.warnings.ack_status(warning.id)
    issuer = None if warning.official else await name_of(services, warning.created_by)
    changed = await _last_change(services, warning)
    if person.role is Role.CITY:
        return _city_words(warning, await _places(services, warning), status, issuer, changed)
    for county in await _covered_counties(services, warning):
        if region_in_scope(person.region_code, county.code):  # as `staff_for_region` finds them at the sending
            return _county_words(warning, county, status, issuer, changed)
    return None


@dataclass(frozen=True)
class LevelChange:
    """The last time staff raised or lowered the warning's level: a newcomer reading "发布人：林科长" under a red
    warning that 王局长 raised from orange would ask the wrong person about it."""

    change: WarningChange
    level: WarningLevel
    by: str
    at: str


async def _last_change(services: BotServices, warning: EarlyWarning) -> LevelChange | None:
    revisions = await services.storage.warnings.revisions(warning.id)
    changed = [r for r in revisions if r.change in (WarningChange.UPGRADE, WarningChange.DOWNGRADE)]
    if not changed:
        return None
    last = changed[-1]
    by = await name_of(services, last.actor_id) if last.actor_id is not None else None
    return LevelChange(last.change, last.level, by or "", local_time(last.at, services.settings.tz))


async def _had_feed_note(services: BotServices, warning: EarlyWarning, chat_id: int) -> bool:
    """Whether the feed's note of the official warning's first sending by itself was queued for this person."""
    key = f"{warning_batch(warning.id, 1)}:staff:chat:{chat_id}"  # queue_auto_sent_notice's, at revision 1
    return await services.storage.outbox.get_by_key(key) is not None


async def _covered_counties(services: BotServices, warning: EarlyWarning) -> list[Region]:
    """The counties a warning's regions hold or lie in (全市: every county)."""
    regions = warning.target.regions
    return [
        county for county in await services.storage.regions.counties()
        if any(region_in_scope(region, county.code) or region_in_scope(county.code, region) for region in regions)
    ]


async def _places(services: BotServices, warning: EarlyWarning) -> list[Region | None]:
    """The warning's own regions (the city itself, for a warning of the whole city), for a city admin's notice."""
    return [await services.storage.regions.get(code) for code in sorted(warning.target.regions)]


def _county_words(
    warning: EarlyWarning, county: Region, status: WarningAckStatus, issuer: str | None,
    changed: LevelChange | None = None,
) -> Render:
    found = [c for c in status.counties if c.county_code == county.code]
    total = sum(c.total for c in found)
    no_one = sum(len(c.no_one_to_reach) for c in found)
    return _words(warning, lambda t: place_name(county, t), total, no_one, issuer, "warn.in_force_no_one", changed)


def _city_words(
    warning: EarlyWarning, places: Sequence[Region | None], status: WarningAckStatus, issuer: str | None,
    changed: LevelChange | None = None,
) -> Render:
    """The whole warning: every county's institutions; those nobody can be told of are named to their county's
    staff (to the city admins only where a county has none), so the line does not promise a list."""
    total = sum(c.total for c in status.counties)

    def where(t: Translator) -> str:
        return t.plain("warn.list_separator").join(place_name(place, t) for place in places)

    return _words(warning, where, total, status.no_one_to_reach, issuer, "warn.in_force_no_one_city", changed)


def _words(
    warning: EarlyWarning, where: Callable[[Translator], str], total: int, no_one: int, issuer: str | None,
    no_one_key: str, changed: LevelChange | None = None,
) -> Render:
    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        name = where(t)
        by = t("warn.in_force_official") if issuer is None else t("warn.in_force_by", name=issuer)
        if changed is not None:
            key = f"warn.in_force_{changed.change.value}" + ("" if changed.by else "_feed")
            by = Html(by + t(key, at=changed.at, name=changed.by, level=level_label(changed.level, t)))
        lines = [t("warn.in_force", title=title(warning, t), id=warning.id, county=name, by=by,
                   headline=warning.headline)]
        if total:
            lines.append(t(counted("warn.in_force_reached", total), county=name, total=total, reached=total - no_one))
        else:
            lines.append(t("warn.in_force_no_institution", county=name))
        if no_one:
            lines.append(t(counted(no_one_key, no_one), count=no_one))
        lines.append(t("warn.in_force_status"))
        return Html("\n".join(lines)), None

    return render
