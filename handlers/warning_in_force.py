"""County staff hear at once that a warning is in force in their county.

A warning the city sends (or an official one over several counties) goes to heads, cadres and work groups; the
county's staff, who answer for the follow-up, heard of it only two hours later, when the silent homes were named
to them. Like the feed's note to staff of an official warning sent by itself, each county's staff now get one
message when it goes out: what it is, how many of their institutions it concerns and reached, and /warnstatus.

Not told: the sender (the confirmation is theirs), a recipient of the warning itself (they have it), and, for an
official warning sent by itself, the staff the feed's own note reaches (`queue_auto_sent_notice`). Queued in the
transaction that sends the warning, under a key named by the warning, so a restart (or the repair of a warning never
queued) tells nobody twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.domain.roles import Role, region_in_scope
from bot.domain.warnings import EarlyWarning
from bot.i18n import Html, Translator, counted
from bot.services.warning_acks import CountyAckStatus, WarningAckStatus
from bot.services.warnings import WarningDelivery
from handlers.common import place_name
from handlers.warning_outbox import Render, queue_personal, staff_answerable
from handlers.warning_text import title
from handlers.warnstatus import name_of
from storage.models import Region

if TYPE_CHECKING:
    from bot.services_factory import BotServices


def in_force_key(warning_id: int) -> str:
    return f"warning:{warning_id}:in-force"


async def queue_in_force_notice(
    services: BotServices, delivery: WarningDelivery, status: WarningAckStatus, sender: int | None
) -> int:
    """One message to each county staff member of the counties the warning covers (see the module); returns how
    many were queued now."""
    warning = delivery.warning
    sender = sender if sender is not None else warning.created_by
    left_out = {chat_id for chat_id in (sender,) if chat_id is not None}
    left_out |= {recipient.chat_id for recipient in delivery.recipients}
    if warning.official and sender is None:  # sent by itself: the feed's note tells these staff already
        left_out |= {user.telegram_id for user in await staff_answerable(services, warning.target.regions)}
    by_county = {county.county_code: county for county in status.counties}
    issuer = None if warning.official else await name_of(services, sender)
    queued = 0
    for county in await _covered_counties(services, warning):
        staff = [user.telegram_id for user in await services.storage.users.staff_for_region(county.code)
                 if user.role is Role.COUNTY and user.telegram_id not in left_out]
        if staff:
            words = _words(warning, county, by_county.get(county.code), issuer)
            queued += await queue_personal(services, staff, in_force_key(warning.id), words)
    return queued


async def _covered_counties(services: BotServices, warning: EarlyWarning) -> list[Region]:
    """The counties a warning's regions hold or lie in (全市: every county)."""
    regions = warning.target.regions
    return [
        county for county in await services.storage.regions.counties()
        if any(region_in_scope(region, county.code) or region_in_scope(county.code, region) for region in regions)
    ]


def _words(warning: EarlyWarning, county: Region, institutions: CountyAckStatus | None, issuer: str | None) -> Render:
    total = institutions.total if institutions is not None else 0
    no_one = len(institutions.no_one_to_reach) if institutions is not None else 0

    def render(t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
        name = place_name(county, t)
        by = t("warn.in_force_official") if issuer is None else t("warn.in_force_by", name=issuer)
        lines = [t("warn.in_force", title=title(warning, t), id=warning.id, county=name, by=by,
                   headline=warning.headline)]
        if total:
            lines.append(t(counted("warn.in_force_reached", total), county=name, total=total, reached=total - no_one))
        else:
            lines.append(t("warn.in_force_no_institution", county=name))
        if no_one:
            lines.append(t(counted("warn.in_force_no_one", no_one), count=no_one))
        lines.append(t("warn.in_force_status"))
        return Html("\n".join(lines)), None

    return render
