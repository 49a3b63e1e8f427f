"""The news an invitation's maker is sent: who registered with it, who opened it after it was used (a link
forwarded to the wrong person), and who opened it after it expired or was taken back (a person left waiting, with a
button to invite them again). Worded here, queued by the onboarding service inside its transaction."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.services.onboarding import InviteNews, Newcomer
from bot.services.people import describe_scope
from handlers.warning_text import local_time
from storage.models import Invite, InviteStatus
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority

if TYPE_CHECKING:
    from bot.services_factory import BotServices


class InviteWords:
    """The onboarding service's `InviteNotices`: one message in the maker's language, its dedupe key naming the
    invitation (and, for an attempt, the person), so it is queued once however often the link is opened."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, news: InviteNews) -> None:
        services = self._services
        maker, invite = news.maker, news.invite
        t = services.i18n.get(maker.language)
        scope = await describe_scope(services.storage, invite.region_code, invite.institution_id, t.language)
        role = t.plain(f"role.{invite.role.value}")
        # The token opens the role: only a fingerprint of it names the message.
        key = f"invite:{hashlib.sha256(invite.token.encode()).hexdigest()[:16]}"
        markup = None
        if news.ended is not None:
            # One key for expired and taken back alike: once per person, whichever the link was when they tried.
            key, text = f"{key}:ended:{news.person.telegram_id}", self._ended(news, t, scope, role)
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                t.plain("button.invite_again"), callback_data=again_data(invite)
            )]]).to_dict()
        elif news.holder is None:
            key, text = f"{key}:used", t("invite.news.used", who=_who(news.person, t), scope=scope, role=role)
        else:
            assert invite.used_at is not None
            key = f"{key}:tried:{news.person.telegram_id}"
            text = t("invite.news.tried", who=_who(news.person, t, inline=True), scope=scope, role=role,
                     holder=news.holder.full_name, at=local_time(invite.used_at, services.settings.tz))
        await services.outbox.enqueue([NewOutboxMessage(
            dedupe_key=key, chat_id=maker.telegram_id, payload=OutboxPayload(text=text, reply_markup=markup),
            priority=Priority.URGENT,
        )])

    def _ended(self, news: InviteNews, t: Translator, scope: str, role: str) -> str:
        """Who tried the ended link, and since when it no longer works."""
        invite, expired = news.invite, news.ended is InviteStatus.EXPIRED
        at = invite.expires_at if expired or invite.revoked_at is None else invite.revoked_at
        return t("invite.news.expired" if expired else "invite.news.revoked", who=_who(news.person, t, inline=True),
                 scope=scope, role=role, at=local_time(at, self._services.settings.tz))


def again_data(invite: Invite) -> str:
    """The button under an ended link's news: an invitation of the same role for the same place (`handlers.invite`
    reads it, and checks it as /invite would). The place: the institution's id for a head, the region's code for the
    others, "-" for a city admin."""
    place = str(invite.institution_id) if invite.institution_id is not None else invite.region_code or "-"
    return f"inv:again:{invite.role.value}:{place}"


def _who(person: Newcomer, t: Translator, *, inline: bool = False) -> str:
    """The person's name, with their @username where they have one (two people may share a name)."""
    if not person.username:
        return person.full_name
    key = "invite.news.who_inline" if inline else "invite.news.who"
    return t.plain(key, name=person.full_name, username=person.username)
