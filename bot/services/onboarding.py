"""Invite-only registration, languages and group binding: the rules, with no Telegram in sight."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NoReturn, Protocol

from bot.clock import Clock
from bot.domain.roles import INVITABLE_BY, Role, covers
from bot.services.errors import Refusal
from bot.services.staff import answerable_for, first_told
from storage import Storage
from storage.models import Group, GroupPurpose, Invite, InviteStatus, RegionLevel, User

log = logging.getLogger(__name__)

TOKEN_BYTES = 16  # 22 url-safe characters: well inside the 64 that a deep-link payload allows


@dataclass(frozen=True)
class Newcomer:
    telegram_id: int
    full_name: str
    username: str | None
    language: str


class GroupLoss(StrEnum):
    """Why the bot can no longer reach a bound group."""

    REMOVED = "removed"  # taken out of the group (or the group deleted)
    MUTED = "muted"  # its right to send messages taken away
    REFUSED = "refused"  # Telegram refused a message to it: the bot missed the news of which
    # A forum's General topic closed to all but admins: the general chat refuses the bot, the forum's topics do not.
    # Only the general chat's binding ends.
    GENERAL_CLOSED = "general_closed"
    # Its administrator rights (or the right to delete messages) taken away: it still posts, so the bindings stay,
    # but it can no longer see and remove classified posts (README: it is added as an administrator for that).
    DEMOTED = "demoted"
    PROMOTED = "promoted"  # not a loss: the right to delete back after DEMOTED, told to the same people


@dataclass(frozen=True)
class LostGroup:
    chat_id: int
    loss: GroupLoss
    # The bindings that ended (for GENERAL_CLOSED, the general chat's only; for DEMOTED, those that stay: none ends)
    bindings: tuple[Group, ...]
    by_name: str | None  # who did it, when Telegram said
    tell: tuple[User, ...]  # whoever bound it, and the county staff of its region


class TopicLoss(StrEnum):
    """Why the bot can no longer post in a bound forum topic (the group itself still takes its messages)."""

    DELETED = "deleted"
    CLOSED = "closed"  # only the group's admins post in a closed topic
    # Not a loss: a closed topic opened again, its binding given back (`OnboardingService.topic_reopened`).
    REOPENED = "reopened"


@dataclass(frozen=True)
class LostTopic:
    binding: Group  # the topic's binding, now ended
    loss: TopicLoss
    # The binding moved to the group's general chat; False: that chat had a binding of its own. For REOPENED: the
    # general chat's binding went back to what it was before the topic closed.
    to_general: bool
    tell: tuple[User, ...]
    # The general chat's own binding did not cover the lost topic's purpose (a hazards chat, a warnings topic): it
    # was widened to 综合 from this purpose, so that the group still gets what the topic got.
    widened_from: GroupPurpose | None = None


class Unreachable(StrEnum):
    """How the bot learned that a registered person no longer gets its messages."""

    BLOCKED = "blocked"  # Telegram said they blocked the bot
    REFUSED = "refused"  # Telegram refused a message to them: blocked while the bot did not hear, or account gone


@dataclass(frozen=True)
class PersonReach:
    """A registered person who became unreachable (`how`) or reachable again (`how` None), and who is told."""

    person: User
    how: Unreachable | None
    tell: tuple[User, ...]


class ReachNotices(Protocol):
    """Words the news of a person out of (or back within) the bot's reach for their supervisors and queues it, inside
    the transaction that records it (the words are the handler layer's)."""

    async def queue(self, reach: PersonReach) -> None: ...


class GroupLossNotices(Protocol):
    """Words the news of a lost group (or topic) for each person to tell and queues it, inside the transaction that
    ends its bindings (the words are the handler layer's)."""

    async def queue(self, lost: LostGroup) -> None: ...

    async def queue_topic(self, lost: LostTopic) -> None: ...


class InstitutionPlanner(Protocol):
    async def plan_for_institution(self, institution_id: int) -> None: ...


@dataclass(frozen=True)
class HeadInvitation:
    """What asking for an institution's head invitation came to: a new one, or one that still stands handed out."""

    invite: Invite
    again: bool = False  # `invite` was made before (by `maker`, or on the command line) and is shown again
    maker: User | None = None  # who made it, when `again` and they are registered (active or not)


@dataclass(frozen=True)
class InviteNews:
    """For the maker of an invitation: `person` registered with it (`holder` and `ended` None), or `person` opened
    it after `holder` had used it (a link forwarded to the wrong person: the maker must learn who holds the role), or
    after it had `ended` (expired, or taken back): the person could not register, and only the maker can send them a
    new link."""

    invite: Invite
    maker: User
    person: Newcomer
    holder: User | None = None
    ended: InviteStatus | None = None  # EXPIRED or REVOKED


class InviteNotices(Protocol):
    """Words the news for the invitation's maker and queues it in the outbox, inside the caller's transaction; once
    for a registration, once per person for an attempt (of a used link, or of an ended one)."""

    async def queue(self, news: InviteNews) -> None: ...


class ArrivalNotices(Protocol):
    """Words what is already under way for someone who has just registered (or come back), and queues it in the
    outbox inside the registration's transaction: a restart after it neither loses it nor sends it twice."""

    async def queue(self, person: User) -> None: ...


class OnboardingService:
    def __init__(self, storage: Storage, clock: Clock, invite_ttl: timedelta) -> None:
        self._storage = storage
        self._clock = clock
        self._invite_ttl = invite_ttl
        self.notifier: GroupLossNotices | None = None
        self.reach_notifier: ReachNotices | None = None
        self.invite_notifier: InviteNotices | None = None
        self.arrival_notifier: ArrivalNotices | None = None
        self.planner: InstitutionPlanner | None = None

    async def create_invite(
        self,
        *,
        creator: User | None,
        role: Role,
        region_code: str | None = None,
        institution_code: str | None = None,
    ) -> Invite:
        """An invite for one person. `creator` None means the command line, which may invite anyone."""
        invite = await self._checked_invite(creator, role, region_code, institution_code)
        await self._store(invite)
        return invite

    async def invite_head(self, creator: User, institution_code: str, *, fresh: bool = False) -> HeadInvitation:
        """An invitation for a head of the institution, checked as `create_invite` checks it. While one for it still
        stands (unused, unexpired, not taken back), whoever made it, that one is handed out again, with who made it,
        rather than a second made: two clerks (or a clerk after a city admin) pressing for the same home should not
        leave two live links for one post. `fresh`: a new one all the same, asked for explicitly (a home may have two
        heads, or the first link gone to the wrong person); the standing one stays valid."""
        invite = await self._checked_invite(creator, Role.HEAD, None, institution_code)
        assert invite.institution_id is not None
        unless_standing = not fresh
        while not await self._store(invite, fresh=fresh, unless_standing=unless_standing):
            standing = await self._storage.invites.standing_for_head(invite.institution_id, invite.created_at)
            if standing is not None:
                await self._storage.audit.append(
                    creator.telegram_id, "invite.shown_again", target=f"invite:{standing.token[:6]}",
                    detail={"institution_id": standing.institution_id, "made_by": standing.created_by},
                )
                maker = None if standing.created_by is None else await self._storage.users.get(standing.created_by)
                return HeadInvitation(standing, again=True, maker=maker)
            unless_standing = False  # it ended between the two statements: make the new one after all
        return HeadInvitation(invite)

    async def _store(self, invite: Invite, *, fresh: bool = False, unless_standing: bool = False) -> bool:
        """The one place a new invitation is stored and its `invite.created` audited, both or neither. False when
        `unless_standing` and an invitation for a head of its institution stands (the check and the write are one
        statement): nothing stored, nothing audited. `fresh`: asked for although another stood, said in the audit."""
        invites = self._storage.invites
        async with self._storage.db.transaction():
            if unless_standing:
                if not await invites.create_unless_standing(invite):
                    return False
            else:
                await invites.create(invite)
            detail: dict[str, object] = {
                "role": invite.role.value, "region": invite.region_code, "institution_id": invite.institution_id
            }
            if fresh:
                detail["fresh"] = True
            await self._storage.audit.append(
                invite.created_by, "invite.created", target=f"invite:{invite.token[:6]}", detail=detail
            )
        return True

    async def _checked_invite(
        self, creator: User | None, role: Role, region_code: str | None, institution_code: str | None
    ) -> Invite:
        """The invitation asked for, not yet stored, once the role, place and the creator's scope are checked."""
        institution_id: int | None = None
        closed = False
        if role is Role.HEAD:
            if institution_code is None:
                raise Refusal("invite_needs_institution")
            institution = await self._storage.institutions.get_by_code(institution_code)
            if institution is None:
                raise Refusal("unknown_institution", code=institution_code)
            closed = not institution.active
            institution_id = institution.id
            region_code = institution.region_code
        elif role in (Role.COUNTY, Role.CADRE) and region_code is None:
            raise Refusal("invite_needs_region")
        if region_code is not None:
            region = await self._storage.regions.get(region_code)
            if region is None:
                raise Refusal("unknown_region", code=region_code)
            if role is Role.COUNTY and region.level is not RegionLevel.COUNTY:
                raise Refusal("county_staff_need_county")
        if role is Role.CITY:
            region_code = None
        if creator is not None:
            if role not in INVITABLE_BY[creator.role]:
                await self._refuse_actor(creator, "invite.create", "cannot_invite_role", role=role.value)
            if not covers(creator.role, creator.region_code, region_code):
                await self._refuse_actor(creator, "invite.create", "outside_scope", role=role.value,
                                         region=region_code)
        if closed:
            # A closed home has no head (closing ended theirs): reopened first, it may have one again. After the role
            # and scope checks, so that a forged press outside the presser's scope is refused and recorded as such.
            raise Refusal("invite_institution_closed")
        now = self._clock.now()
        return Invite(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            role=role,
            region_code=region_code,
            institution_id=institution_id,
            created_by=creator.telegram_id if creator else None,
            created_at=now,
            expires_at=now + self._invite_ttl,
        )

    async def register(self, token: str, newcomer: Newcomer) -> User:
        existing = await self._storage.users.get(newcomer.telegram_id)
        if existing is not None and existing.active:
            raise Refusal("already_registered")
        invite = await self._storage.invites.get(token) if _plausible_token(token) else None
        now = self._clock.now()
        if invite is None:
            await self._refuse(newcomer, "invite_unknown")
        assert invite is not None
        status = invite.status(now)
        if status is InviteStatus.USED:
            await self._refuse_used(invite, newcomer)
        closed = False
        if invite.institution_id is not None:
            institution = await self._storage.institutions.get(invite.institution_id)
            closed = institution is None or not institution.active
        if status is InviteStatus.EXPIRED:
            await self._refuse_ended(invite, newcomer, status, maker_may_act=not closed)
        if closed:
            # Closing took its unused invitations back; said as what it is, not as a link someone cancelled.
            await self._refuse(newcomer, "invite_institution_closed_for_newcomer")
        if status is InviteStatus.REVOKED:
            await self._refuse_ended(invite, newcomer, status)
        async with self._storage.db.transaction():
            user = await self._consume(invite, newcomer, now)
        if user is None:  # someone else used it a moment ago
            await self._refuse_used(await self._storage.invites.get(token) or invite, newcomer)
        if invite.role is Role.HEAD and invite.institution_id is not None and self.planner is not None:
            try:
                # The home's open hazards remind the new head from now on, not from the next nightly plan.
                await self.planner.plan_for_institution(invite.institution_id)
            except Exception:
                # Registered all the same: the nightly plan plans them, as before.
                log.exception("could not plan the reminders of institution %d for its new head %d",
                              invite.institution_id, newcomer.telegram_id)
        return user

    async def _consume(self, invite: Invite, newcomer: Newcomer, now: datetime) -> User | None:
        """The invitation used, the person recorded and its maker told, all or nothing: a restart in between must
        neither lose the maker's news nor send it twice. None when it was used already."""
        if not await self._storage.invites.consume(invite.token, newcomer.telegram_id, now):
            return None
        user = User(
            telegram_id=newcomer.telegram_id,
            full_name=newcomer.full_name,
            username=newcomer.username,
            role=invite.role,
            region_code=invite.region_code,
            institution_id=invite.institution_id,
            language=newcomer.language,
            created_at=now,
        )
        await self._storage.users.upsert(user)
        # Someone who left and comes back in another role or for another institution is no longer the head named
        # for the old one: named, they still got its reminders and hazard notices as its head.
        await self._storage.institutions.release_head(
            newcomer.telegram_id, keep=invite.institution_id if invite.role is Role.HEAD else None
        )
        if invite.role is Role.HEAD and invite.institution_id is not None:
            await self._storage.institutions.set_head(invite.institution_id, newcomer.telegram_id)
        await self._storage.audit.append(
            newcomer.telegram_id,
            "user.registered",
            target=f"user:{newcomer.telegram_id}",
            detail={"role": invite.role.value, "region": invite.region_code, "invited_by": invite.created_by},
        )
        maker = await self._maker(invite)
        if maker is not None and self.invite_notifier is not None:
            await self.invite_notifier.queue(InviteNews(invite, maker, newcomer))
        if self.arrival_notifier is not None:
            # Staff joining while a warning over their scope is in force hear of it as their colleagues did.
            await self.arrival_notifier.queue(user)
        return user

    async def _maker(self, invite: Invite) -> User | None:
        """Who made the invitation in Telegram and is still registered; None for the command line's."""
        if invite.created_by is None:
            return None
        maker = await self._storage.users.get(invite.created_by)
        return maker if maker is not None and maker.active else None

    async def _refuse_used(self, invite: Invite, newcomer: Newcomer) -> NoReturn:
        """A used link opened again, by someone other than who used it: its maker hears who tried and who holds it
        (once per such person), or the wrong person keeps the role and nobody knows."""
        maker = await self._maker(invite)
        holder = await self._storage.users.get(invite.used_by) if invite.used_by is not None else None
        told = (maker is not None and holder is not None and self.invite_notifier is not None
                and holder.telegram_id != newcomer.telegram_id)
        async with self._storage.db.transaction():
            if told:
                assert maker is not None and self.invite_notifier is not None
                await self.invite_notifier.queue(InviteNews(invite, maker, newcomer, holder))
            await self._storage.audit.append(
                newcomer.telegram_id, "invite.refused", target=f"user:{invite.used_by}",
                detail={"reason": "invite_used", "maker_told": invite.created_by if told else None},
            )
        raise Refusal("invite_used")

    async def _refuse_ended(
        self, invite: Invite, newcomer: Newcomer, status: InviteStatus, *, maker_may_act: bool = True
    ) -> NoReturn:
        """An expired or taken-back link opened: the person cannot register and may wait for nothing, since only its
        maker can send them a new one. So the maker hears who tried (once per such person, as for a used link), in
        the transaction of the refusal's audit entry. Not when the institution it was for is closed
        (`maker_may_act` False): no new invitation could be made for it; the person is told it expired all the same."""
        code = "invite_expired" if status is InviteStatus.EXPIRED else "invite_revoked"
        maker = await self._maker(invite) if maker_may_act else None
        told = maker is not None and self.invite_notifier is not None
        async with self._storage.db.transaction():
            if told:
                assert maker is not None and self.invite_notifier is not None
                await self.invite_notifier.queue(InviteNews(invite, maker, newcomer, ended=status))
            await self._storage.audit.append(
                newcomer.telegram_id, "invite.refused", target=f"invite:{invite.token[:6]}",
                detail={"reason": code, "maker_told": invite.created_by if told else None},
            )
        raise Refusal(code)

    async def invitation_not_needed(self, user: User, token: str) -> bool:
        """A registered person opened an invitation link: it stays unused (their role never changes by a link). True
        when it is the link they registered with (opened again from the chat's history): nothing was refused."""
        invite = await self._storage.invites.get(token)
        if invite is not None and invite.used_by == user.telegram_id:
            return True
        await self._storage.audit.append(user.telegram_id, "invite.refused", detail={"reason": "already_registered"})
        return False

    async def _refuse_actor(self, actor: User, action: str, code: str, **detail: object) -> NoReturn:
        """A role or a scope the actor does not have: only a forged button asks for it, so it is recorded."""
        await self._storage.audit.append(
            actor.telegram_id, "authz.refused", target=f"user:{actor.telegram_id}",
            detail={"action": action, "reason": code, **detail},
        )
        raise Refusal(code)

    async def _refuse(self, newcomer: Newcomer, code: str) -> None:
        await self._storage.audit.append(newcomer.telegram_id, "invite.refused", detail={"reason": code})
        raise Refusal(code)

    async def set_language(self, user: User, language: str) -> User:
        await self._storage.users.set_language(user.telegram_id, language)
        await self._storage.audit.append(
            user.telegram_id, "user.language", target=f"user:{user.telegram_id}", detail={"language": language}
        )
        return user.model_copy(update={"language": language})

    async def group_lost(
        self, chat_id: int, loss: GroupLoss, *, actor_id: int | None = None, by_name: str | None = None
    ) -> LostGroup | None:
        """The bot can no longer reach a group: its bindings end, since nothing sent there arrives any more, and
        the staff answerable for it are told (`notifier`, in the same transaction), or its county would go without
        warnings and nobody would know. Told: whoever bound it, and the county staff of its region (the city
        admins where no county staff covers it). None when the group was not bound.

        GENERAL_CLOSED loses only the group's general chat (a forum whose General topic its admins closed): that
        chat's binding ends, its bound topics keep theirs. None when the general chat was not bound."""
        storage = self._storage
        async with storage.db.transaction():
            if loss is GroupLoss.GENERAL_CLOSED:
                general = await storage.groups.get(chat_id)
                closed = general is not None and await storage.groups.unbind(chat_id, None, loss.value)
                ended = [general] if general is not None and closed else []
            else:
                ended = await storage.groups.unbind_chat(chat_id, loss.value)
            if not ended:
                return None
            await storage.audit.append(
                actor_id,
                f"group.bot_{loss.value}",
                target=f"group:{chat_id}",
                detail={"bindings": [{"region": g.region_code, "purpose": g.purpose.value} for g in ended]},
            )
            lost = LostGroup(chat_id, loss, tuple(ended), by_name, tuple(await self._answerable(ended)))
            if self.notifier is not None:
                await self.notifier.queue(lost)
        return lost

    async def admin_changed(
        self, chat_id: int, *, regained: bool, actor_id: int | None, by_name: str | None
    ) -> LostGroup | None:
        """The bot is no longer an administrator of a bound group, or may no longer delete there (`regained`
        False): notices still arrive, so its bindings stay, but a classified post there is no longer seen, or no
        longer taken down. Audited, and the staff answerable told (`notifier`, in the same transaction), as for a
        removal: an integration that lost a right it needs says so. `regained`: the right came back after such a
        loss, and the same people hear that it did. None when the group is not bound, or when the right came back
        with no loss told (made an administrator for the first time)."""
        storage = self._storage
        loss = GroupLoss.PROMOTED if regained else GroupLoss.DEMOTED
        target = f"group:{chat_id}"
        async with storage.db.transaction():
            bound = [g for g in await storage.groups.of_chat(chat_id) if g.active]
            if not bound:
                return None
            if regained:
                last = await storage.audit.list("group.bot_", target=target, limit=1)
                if not last or last[-1].action != f"group.bot_{GroupLoss.DEMOTED.value}":
                    return None
            await storage.audit.append(
                actor_id,
                f"group.bot_{loss.value}",
                target=target,
                detail={"bindings": [{"region": g.region_code, "purpose": g.purpose.value} for g in bound]},
            )
            lost = LostGroup(chat_id, loss, tuple(bound), by_name, tuple(await self._answerable(bound)))
            if self.notifier is not None:
                await self.notifier.queue(lost)
        return lost

    async def topic_lost(self, chat_id: int, topic_id: int, loss: TopicLoss) -> LostTopic | None:
        """Telegram refuses messages to a bound forum topic (deleted, or closed to all but admins), but the group
        still takes them. Its binding moves to the group's general chat, unless that chat has a binding of its own;
        if that binding does not cover the topic's purpose (a hazards-only general chat and a warnings topic), it
        becomes 综合, or the forum would go without its warnings for good. The messages and reminders waiting for
        the topic follow, except what the general chat gets anyway. The staff answerable are told, in the same
        transaction. None when the topic was not bound."""
        storage = self._storage
        async with storage.db.transaction():
            topic = await storage.groups.get(chat_id, topic_id)
            if topic is None or not topic.active:
                return None
            general = await storage.groups.get(chat_id)
            live = general is not None and general.active
            to_general = not live
            widened_from = None
            if general is not None and live and general.purpose not in (GroupPurpose.GENERAL, topic.purpose):
                widened_from = general.purpose
            now = self._clock.now()
            await storage.groups.unbind(chat_id, topic_id, f"topic_{loss.value}")
            if to_general:
                await storage.groups.bind(topic.model_copy(update={"topic_id": None, "bound_at": now}))
            elif general is not None and widened_from is not None:
                await storage.groups.bind(general.model_copy(update={"purpose": GroupPurpose.GENERAL, "bound_at": now}))
            queued, dropped = await storage.outbox.leave_topic(chat_id, topic_id)
            follow = to_general or widened_from is not None
            reminders = await storage.reminders.leave_topic(chat_id, topic_id, follow=follow)
            await storage.audit.append(
                None,
                f"group.topic_{loss.value}",
                target=f"group:{chat_id}",
                detail={"topic_id": topic_id, "region": topic.region_code, "purpose": topic.purpose.value,
                        "to_general": to_general, "queued": queued, "dropped": dropped, "reminders": reminders,
                        # What the general chat's binding was made by the move, for the topic's reopening.
                        **({"general_at": now.isoformat()} if follow else {}),
                        **({"general_was": widened_from.value} if widened_from is not None else {})},
            )
            lost = LostTopic(topic, loss, to_general, tuple(await self._answerable([topic])), widened_from)
            if self.notifier is not None:
                await self.notifier.queue_topic(lost)
        return lost

    async def topic_reopened(self, chat_id: int, topic_id: int) -> LostTopic | None:
        """A closed forum topic whose binding moved away (`topic_lost`) is open again: the binding comes back to it,
        and the general chat goes back to what it was, unless staff bound it since (its binding is no longer the one
        the move made). Audited; the staff answerable are told. None when the topic's binding did not end by its
        closing (never bound, bound still, or ended otherwise: that is for staff to bind again)."""
        storage = self._storage
        target = f"group:{chat_id}"
        async with storage.db.transaction():
            topic = await storage.groups.get(chat_id, topic_id)
            if topic is None or topic.active or topic.ended != f"topic_{TopicLoss.CLOSED.value}":
                return None
            events = await storage.audit.list("group.topic_", target=target, limit=50)
            ended = next((e for e in reversed(events) if e.detail.get("topic_id") == topic_id), None)
            if ended is None or ended.action != f"group.topic_{TopicLoss.CLOSED.value}":
                return None
            now = self._clock.now()
            general = await storage.groups.get(chat_id)
            moved_at = ended.detail.get("general_at")
            restored = (general is not None and general.active and isinstance(moved_at, str)
                        and general.bound_at == datetime.fromisoformat(moved_at))
            if general is not None and restored:
                was = ended.detail.get("general_was")
                if ended.detail.get("to_general"):
                    await storage.groups.unbind(chat_id, None, "topic_back")
                elif isinstance(was, str):
                    await storage.groups.bind(general.model_copy(update={"purpose": GroupPurpose(was),
                                                                         "bound_at": now}))
            back = await storage.groups.bind(topic.model_copy(update={"active": True, "bound_at": now}))
            await storage.audit.append(
                None,
                f"group.topic_{TopicLoss.REOPENED.value}",
                target=target,
                detail={"topic_id": topic_id, "region": back.region_code, "purpose": back.purpose.value,
                        "general_restored": restored},
            )
            told = LostTopic(back, TopicLoss.REOPENED, restored, tuple(await self._answerable([back])))
            if self.notifier is not None:
                await self.notifier.queue_topic(told)
        return told

    async def person_unreachable(self, telegram_id: int, how: Unreachable) -> PersonReach | None:
        """A registered person blocked the bot: every notice, reminder and warning to them fails from now on, and a
        hazard at their institution would wait for its deadline before anyone noticed. Recorded, audited, and their
        supervisors told, once until they are back. None when they are not registered or it is already known."""
        storage = self._storage
        async with storage.db.transaction():
            person = await storage.users.get(telegram_id)
            if person is None or not await storage.users.mark_unreachable(telegram_id, self._clock.now()):
                return None
            actor = telegram_id if how is Unreachable.BLOCKED else None
            await storage.audit.append(actor, "user.unreachable", target=f"user:{telegram_id}", detail={"how": how})
            return await self._tell_reach(PersonReach(person, how, tuple(await self.supervisors(person))))

    async def person_back(self, telegram_id: int) -> PersonReach | None:
        """A person who had blocked the bot unblocked it (or wrote to it, which only an unblocked chat allows): the
        messages reach them again, and whoever was told of the block is told of this. None when nothing changed."""
        storage = self._storage
        async with storage.db.transaction():
            person = await storage.users.get(telegram_id)
            if person is None or not person.active or not await storage.users.mark_reachable(telegram_id):
                return None
            await storage.audit.append(telegram_id, "user.reachable", target=f"user:{telegram_id}")
            return await self._tell_reach(PersonReach(person, None, tuple(await self.supervisors(person))))

    async def _tell_reach(self, reach: PersonReach) -> PersonReach:
        if self.reach_notifier is not None:
            await self.reach_notifier.queue(reach)
        return reach

    async def supervisors(self, person: User) -> list[User]:
        """Who answers for the person's work: the county staff of their institution's or region's county (the city
        admins where no county staff covers it); for county staff, the city admins."""
        region = person.region_code
        if person.institution_id is not None:
            institution = await self._storage.institutions.get(person.institution_id)
            region = institution.region_code if institution is not None else region
        if region is None or person.role in (Role.COUNTY, Role.CITY):
            city = await self._storage.regions.city()
            region = city.code if city is not None else region
        # For staff, the city's region: no county covers it, so the city admins (the person aside).
        told = await first_told(self._storage, region or "")
        return [user for user in told if user.telegram_id != person.telegram_id]

    async def _answerable(self, groups: Sequence[Group]) -> list[User]:
        return await answerable_for(self._storage, groups)

    async def group_moved(self, old_chat_id: int, new_chat_id: int, *, actor_id: int | None) -> int:
        """Telegram upgraded a group to a supergroup (past 200 members, or an admin turned on a supergroup's
        feature): the chat has a new id, and the old one refuses messages. Its bindings, the messages still waiting
        for it and its reminders to come follow it, in one transaction; returns how many bindings moved (0: the
        group was not bound, and nothing else changes)."""
        storage = self._storage
        async with storage.db.transaction():
            moved = await storage.groups.move(old_chat_id, new_chat_id)
            if not moved:
                return 0
            queued = await storage.outbox.move_chat(old_chat_id, new_chat_id)
            reminders = await storage.reminders.move_recipient(old_chat_id, new_chat_id)
            await storage.audit.append(
                actor_id,
                "group.migrated",
                target=f"group:{new_chat_id}",
                detail={"from": old_chat_id, "bindings": moved, "queued": queued, "reminders": reminders},
            )
        return moved


def _plausible_token(token: str) -> bool:
    return 8 <= len(token) <= 64 and all(char.isalnum() or char in "-_" for char in token)


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"
