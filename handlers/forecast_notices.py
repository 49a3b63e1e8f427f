"""What staff hear of one forecast run: a digest of its drafts, each with its own 📤 发送, as a pager groups the alerts
of one incident.

A cold wave over the whole city made twelve drafts, one a county, and the city admins got twelve messages at once,
ten of them saying 将发送给 0 人. Now each staff member gets one message for the run:
- a county's staff with a single draft that reaches someone get it as before, the full preview with 📤 发送;
- otherwise the run's drafts they may send, one short entry each (the level, the county, the headline, whom it would
  reach) with a 📤 发送 row each, and the drafts that would reach nobody named on one line, without a button (sent,
  they would tell no one; their institutions are to be phoned).
A digest is held through quiet hours as a draft's notice is (`forecast_draft_timing`): one message per timing.

A draft revised by a later run is announced again, and the copies announcing its older revision lose its 📤 发送
(`clear_revised_draft_buttons`), so no message offers to send a forecast that no longer stands.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.domain.roles import Role
from bot.domain.warnings import (
    DraftTiming,
    EarlyWarning,
    WarningOrigin,
    WarningStatus,
    forecast_draft_timing,
    of_concern,
)
from bot.i18n import Html, Translator, clipped_width, counted
from handlers.common import place_name
from handlers.hazard_buttons import set_buttons
from handlers.warning_delivery import (
    SEND_DRAFT,
    Audience,
    audience_line,
    city_own_line,
    city_own_of,
    queue_draft_notice,
)
from handlers.warning_outbox import markup_json, queue_personal, staff_answerable
from handlers.warning_text import LEVEL_ICONS, headline, title
from storage.models import Institution
from storage.outbox_models import Priority

if TYPE_CHECKING:
    from bot.services_factory import BotServices

log = logging.getLogger(__name__)

DIGEST = "forecast-run"  # the digests' keys: forecast-run:{run}:{timing}:{part}:chat:{id}
PER_MESSAGE = 10  # drafts in one digest message: twelve counties' entries stay well under Telegram's 4096 characters
BUTTON_COLUMNS = 48  # a county and a title, in either language; a longer one is cut with an ellipsis
EDITS_PER_RUN = 60
REVISED_WITHIN = timedelta(days=2)


def reaches_someone(audience: Audience) -> bool:
    return bool(audience.people or audience.groups)


async def announce_forecast_run(
    services: BotServices, drafts: Sequence[EarlyWarning], revised: frozenset[int] = frozenset()
) -> int:
    """Tell staff of the run's new and revised drafts (`revised`: the ids of those revised), one message each where
    possible; returns how many messages were queued."""
    if not drafts:
        return 0
    now, quiet, tz = services.clock.now(), services.settings.quiet, services.settings.tz
    audiences = {w.id: Audience.of(await services.warnings.preview_warning(w)) for w in drafts}
    own = {w.id: await city_own_of(services, w) for w in drafts}
    # The city's own institutions no draft can cover (their address names no county): the city admins hear of them
    # with the drafts, rather than find out from a relief station that heard nothing.
    nowhere = [i for i in await services.warnings.city_own_nowhere() if any(of_concern(w.target, i) for w in drafts)]
    admins = {user.telegram_id for user in await services.storage.users.in_scope(Role.CITY, None)}
    mine: dict[int, list[EarlyWarning]] = {}
    for warning in drafts:
        for user in await staff_answerable(services, warning.target.regions):
            mine.setdefault(user.telegram_id, []).append(warning)
    run = now.strftime("%Y%m%dT%H%M%S")
    queued = 0
    for chat_id, theirs in mine.items():
        left_out = nowhere if chat_id in admins else []
        if len(theirs) == 1 and reaches_someone(audiences[theirs[0].id]) and not left_out:
            only = theirs[0]
            queued += await queue_draft_notice(services, only, forecast_draft_timing(only.level, now, quiet, tz),
                                               chat_ids=[chat_id])
            continue
        by_timing: dict[DraftTiming, list[EarlyWarning]] = {}
        for warning in theirs:
            by_timing.setdefault(forecast_draft_timing(warning.level, now, quiet, tz), []).append(warning)
        for timing, batch in by_timing.items():
            when = "now" if timing.not_before is None else timing.not_before.strftime("%Y%m%dT%H%M")
            queued += await _queue_digest(services, chat_id, f"{DIGEST}:{run}:{when}", _Run(batch, audiences, own,
                                          revised, left_out), timing)
            left_out = []  # once, with the first of their digests
    return queued


@dataclass(frozen=True)
class _Run:
    drafts: list[EarlyWarning]  # one reader's, of one timing
    audiences: dict[int, Audience]
    own: dict[int, list[Institution]]  # the city's own institutions each draft reaches besides its county's
    revised: frozenset[int]
    left_out: list[Institution]  # the city's own that no draft covers (for the city admins)


async def _queue_digest(services: BotServices, chat_id: int, key: str, run: _Run, timing: DraftTiming) -> int:
    drafts, audiences, revised = run.drafts, run.audiences, run.revised
    regions = {code: await services.storage.regions.get(code) for w in drafts for code in w.target.regions}

    def where(warning: EarlyWarning, t: Translator) -> str:
        return t.plain("warn.list_separator").join(place_name(regions[c], t) for c in sorted(warning.target.regions))

    reachable = [w for w in drafts if reaches_someone(audiences[w.id])]
    nobody = [w for w in drafts if not reaches_someone(audiences[w.id])]
    parts = [reachable[i:i + PER_MESSAGE] for i in range(0, len(reachable), PER_MESSAGE)] or [[]]
    priority = Priority.URGENT if timing.not_before is None else Priority.BULK
    queued = 0
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)

        def render(t: Translator, part: list[EarlyWarning] = part, last: bool = last) -> tuple[str, Any]:
            lines = [t(counted("warn.forecast_digest_intro", len(reachable)), count=len(reachable))] if part else []
            rows = []
            for warning in part:
                entry = t("warn.forecast_digest_item", icon=LEVEL_ICONS[warning.level], title=title(warning, t),
                          id=warning.id, region=where(warning, t), headline=headline(warning, t))
                if warning.id in revised:
                    entry = Html(entry + t("warn.forecast_digest_updated"))
                lines += ["", entry, audience_line(audiences[warning.id], t)]
                if own := city_own_line(run.own[warning.id], t):
                    lines.append(own)
                label = t.plain("warn.button_send_draft_for", region=where(warning, t), title=title(warning, t))
                rows.append([InlineKeyboardButton(clipped_width(label, BUTTON_COLUMNS),
                                                  callback_data=f"{SEND_DRAFT}:{warning.id}")])
            if last and nobody:
                names = t.plain("warn.list_separator").join(f"{where(w, t)}（#{w.id}）" if t.language == "zh_CN"
                                                            else f"{where(w, t)} (#{w.id})" for w in nobody)
                lines += ["", t(counted("warn.forecast_digest_nobody", len(nobody)), count=len(nobody),
                                title=title(nobody[0], t), regions=names)]
            if last and run.left_out:
                names = t.plain("warn.list_separator").join(place_name(i, t) for i in run.left_out)
                lines += ["", t(counted("warn.forecast_digest_city_own_left_out", len(run.left_out)),
                                count=len(run.left_out), names=names)]
            return Html("\n".join(lines).strip()), InlineKeyboardMarkup(rows) if rows else None

        queued += await queue_personal(services, [chat_id], f"{key}:{number}", render, priority=priority,
                                       silent=timing.silent, not_before=timing.not_before)
    return queued


async def told_in_digest(services: BotServices, warning: EarlyWarning) -> bool:
    """Whether a digest was queued since the draft's revision was stored: the run that stored it told staff of it
    (in a digest, or named it as reaching nobody), so the repair of untold drafts leaves it alone."""
    return await services.storage.outbox.queued_since(f"{DIGEST}:", warning.updated_at)


async def clear_revised_draft_buttons(bot: Bot, services: BotServices) -> int:
    """Take a draft's 📤 发送 off the copies that announced an older revision of it (a notice, a digest's row, a
    reminder): they show a forecast that no longer stands, and their copy of the newest revision offers the button.
    Best effort, as every edit of a delivered copy; the buttons left are recorded, so a copy is done once."""
    budget, edited = EDITS_PER_RUN, 0
    since = services.clock.now() - REVISED_WITHIN
    for warning in await services.storage.warnings.with_status({WarningStatus.DRAFT}):
        if budget <= 0:
            break
        if warning.revision < 2 or warning.origin is WarningOrigin.MANUAL or warning.updated_at < since:
            continue
        button = f"{SEND_DRAFT}:{warning.id}"
        for prefix in (f"warning:{warning.id}:draft:", f"{DIGEST}:"):
            copies = await services.storage.outbox.delivered_offering(prefix, button, limit=budget)
            for copy in copies:
                if copy.created_at >= warning.updated_at or copy.message_id is None:
                    continue
                markup = _without(copy.payload.reply_markup, button)
                try:
                    await set_buttons(bot, copy.chat_id, copy.message_id, markup)
                except TelegramError as error:
                    log.info("the buttons of %s in chat %s were not changed: %s", copy.dedupe_key, copy.chat_id,
                             error)
                await services.storage.outbox.record_buttons(copy.id, markup_json(markup))
                budget -= 1
                edited += 1
    return edited


def _without(recorded: dict[str, Any] | None, callback_data: str) -> InlineKeyboardMarkup | None:
    """The buttons a copy carries, less the rows offering `callback_data`; None when nothing is left."""
    rows = [
        [InlineKeyboardButton(b["text"], callback_data=b.get("callback_data")) for b in row]
        for row in (recorded or {}).get("inline_keyboard", [])
        if not any(b.get("callback_data") == callback_data for b in row)
    ]
    return InlineKeyboardMarkup(rows) if rows else None

