"""Binding a work group (or one forum topic) to a region and a purpose, changing it, ending it on purpose, and
restoring what a loss of the group ended: the rules, with no Telegram in sight.

A binding belongs to the county it serves. Whoever changes or ends it, the staff answerable for it before (the
county staff of its region, or the city admins where none is registered, and whoever bound it) are told, in the
transaction that changes it: a county whose group silently stopped getting its warnings would not know to look.
Two staff binding at once: each prompt remembers the binding it was shown (`seen`); a choice made on a prompt the
other one has overtaken is refused with the binding that now holds, so one binding stands and every message in the
group is true.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn, Protocol

from bot.clock import Clock
from bot.domain.roles import STAFF_ROLES, Role, region_in_scope
from bot.services.errors import Refusal
from bot.services.staff import answerable_for
from storage import Storage
from storage.models import Group, GroupPurpose, User

# Endings that a loss of the group made (`GroupLoss`): offered back with one tap when the bot is back. A binding
# staff ended on purpose ('unbound'), or a topic's that moved to the general chat, is not.
RESTORABLE = ("removed", "muted", "refused")
UNBOUND = "unbound"
NOTHING_SEEN = "none"


class ChangeKind(StrEnum):
    BOUND = "bound"  # where there was no binding
    REBOUND = "rebound"  # another region or purpose in place of the one before
    UNBOUND = "unbound"
    RESTORED = "restored"


@dataclass(frozen=True)
class BindingChange:
    kind: ChangeKind
    chat_id: int
    before: tuple[Group, ...]  # what ended or was replaced (for RESTORED: the bindings restored)
    after: Group | None
    actor: User
    tell: tuple[User, ...]  # the staff answerable for what was before, the actor aside


class BindingChanged(Refusal):
    """The binding changed after the prompt was shown (someone else bound or ended it meanwhile)."""

    def __init__(self, current: Group | None) -> None:
        super().__init__("group_binding_changed")
        self.current = current


class BindingNotices(Protocol):
    """Words the news of a changed binding for each person to tell and queues it, inside the transaction that
    changes it (the words are the handler layer's)."""

    async def queue(self, change: BindingChange) -> None: ...


def seen_of(group: Group | None) -> str:
    """What a prompt remembers of the binding it was shown: when it was made, or that there was none."""
    return NOTHING_SEEN if group is None or not group.active else group.bound_at.isoformat()


class GroupBindingService:
    def __init__(self, storage: Storage, clock: Clock) -> None:
        self._storage = storage
        self._clock = clock
        self.notifier: BindingNotices | None = None

    async def bindable_regions(self, actor: User) -> list[str]:
        """Regions a staff member may bind a group to: county staff their county, city admins the city and counties."""
        if actor.role not in STAFF_ROLES:
            raise Refusal("staff_only")
        if actor.role is Role.COUNTY and actor.region_code:
            return [actor.region_code]
        city = await self._storage.regions.city()
        counties = await self._storage.regions.counties()
        return ([city.code] if city else []) + [county.code for county in counties]

    async def current(self, chat_id: int, topic_id: int | None) -> Group | None:
        group = await self._storage.groups.get(chat_id, topic_id)
        return group if group is not None and group.active else None

    async def of_chat(self, chat_id: int) -> list[Group]:
        """The chat's active bindings: its general chat's first, then its topics'."""
        return [group for group in await self._storage.groups.of_chat(chat_id) if group.active]

    async def may_change(self, actor: User, chat_id: int, topic_id: int | None) -> Group | None:
        """The binding in place, once the actor is allowed to change it. A binding belongs to the county it serves:
        county staff of another county (a Longwan clerk in Lucheng's group) may not move or end it, or Lucheng's
        warnings would stop arriving there unnoticed. The city admins may."""
        if actor.role not in STAFF_ROLES:
            raise Refusal("staff_only")
        current = await self.current(chat_id, topic_id)
        scope = actor.region_code if actor.role is not Role.CITY else None
        if current is not None and not region_in_scope(scope, current.region_code):
            await self._refuse(actor, "group_bound_elsewhere", group=chat_id, region=current.region_code)
        return current

    async def bind(
        self, actor: User, *, chat_id: int, topic_id: int | None, title: str, region_code: str,
        purpose: GroupPurpose, seen: str | None = None,
    ) -> BindingChange:
        """Bind the chat (or topic), in place of any binding it had. `seen`: the binding the actor's prompt showed
        (`seen_of`); if another has been made or ended since, nothing changes (`BindingChanged`)."""
        if region_code not in await self.bindable_regions(actor):
            await self._refuse(actor, "outside_scope", region=region_code, group=chat_id)
        storage = self._storage
        await self.may_change(actor, chat_id, topic_id)  # a refusal's audit entry outside the transaction
        async with storage.db.transaction():
            before = await self._unchanged(chat_id, topic_id, seen)
            after = await storage.groups.bind(Group(
                chat_id=chat_id, topic_id=topic_id, title=title, region_code=region_code, purpose=purpose,
                bound_by=actor.telegram_id, bound_at=self._clock.now(),
            ))
            moved = before is not None and (before.region_code, before.purpose) != (region_code, purpose)
            detail: dict[str, object] = {"region": region_code, "purpose": purpose.value, "topic_id": topic_id}
            if before is not None:
                detail["replaced"] = {"region": before.region_code, "purpose": before.purpose.value,
                                      "bound_by": before.bound_by}
            await storage.audit.append(actor.telegram_id, "group.bound", target=f"group:{chat_id}", detail=detail)
            kind = ChangeKind.REBOUND if before is not None else ChangeKind.BOUND
            told = await self._answerable([before], actor) if moved and before is not None else []
            return await self._tell(BindingChange(kind, chat_id, () if before is None else (before,), after, actor,
                                                  tuple(told)))

    async def unbind(self, actor: User, chat_id: int, topic_id: int | None, seen: str | None = None) -> BindingChange:
        """End the chat's (or topic's) binding on purpose: nothing more is sent there, and it is not offered back
        when the bot is re-added. The group is told by the handler; the staff answerable here."""
        storage = self._storage
        await self.may_change(actor, chat_id, topic_id)
        async with storage.db.transaction():
            before = await self._unchanged(chat_id, topic_id, seen)
            if before is None or not await storage.groups.unbind(chat_id, topic_id, UNBOUND):
                raise BindingChanged(None)
            await storage.audit.append(
                actor.telegram_id, "group.unbound", target=f"group:{chat_id}",
                detail={"region": before.region_code, "purpose": before.purpose.value, "topic_id": topic_id,
                        "bound_by": before.bound_by},
            )
            told = await self._answerable([before], actor)
            return await self._tell(BindingChange(ChangeKind.UNBOUND, chat_id, (before,), None, actor, tuple(told)))

    async def restorable(self, chat_id: int) -> list[Group]:
        """The bindings a loss of the group ended (the bot removed, muted, refused), while the chat has none active:
        what a staff member may bring back with one tap."""
        bindings = await self._storage.groups.of_chat(chat_id)
        if any(group.active for group in bindings):
            return []
        return [group for group in bindings if group.ended in RESTORABLE]

    async def restore(self, actor: User, chat_id: int) -> BindingChange:
        """The bindings a loss ended, back as they were (by their binder, at their time: the binding is theirs), and
        the staff answerable told, the actor aside."""
        if actor.role not in STAFF_ROLES:
            raise Refusal("staff_only")
        storage = self._storage
        scope = actor.region_code if actor.role is not Role.CITY else None
        foreign = [group for group in await self.restorable(chat_id) if not region_in_scope(scope, group.region_code)]
        if foreign:
            await self._refuse(actor, "group_bound_elsewhere", group=chat_id, region=foreign[0].region_code)
        async with storage.db.transaction():
            lost = await self.restorable(chat_id)
            if not lost or not all(region_in_scope(scope, group.region_code) for group in lost):
                raise BindingChanged(await self.current(chat_id, None))
            for group in lost:
                await storage.groups.bind(group.model_copy(update={"active": True, "ended": None}))
            await storage.audit.append(
                actor.telegram_id, "group.restored", target=f"group:{chat_id}",
                detail={"bindings": [{"region": g.region_code, "purpose": g.purpose.value, "topic_id": g.topic_id}
                                     for g in lost]},
            )
            told = await self._answerable(lost, actor)
            return await self._tell(BindingChange(ChangeKind.RESTORED, chat_id, tuple(lost), None, actor,
                                                  tuple(told)))

    async def _unchanged(self, chat_id: int, topic_id: int | None, seen: str | None) -> Group | None:
        """The binding in place, read inside the transaction that changes it, as the prompt showed it."""
        before = await self.current(chat_id, topic_id)
        if seen is not None and seen_of(before) != seen:
            raise BindingChanged(before)
        return before

    async def _tell(self, change: BindingChange) -> BindingChange:
        if self.notifier is not None and change.tell:
            await self.notifier.queue(change)
        return change

    async def _answerable(self, groups: list[Group], actor: User) -> list[User]:
        return await answerable_for(self._storage, groups, besides=actor.telegram_id)

    async def _refuse(self, actor: User, code: str, **detail: object) -> NoReturn:
        await self._storage.audit.append(
            actor.telegram_id, "authz.refused", target=f"user:{actor.telegram_id}",
            detail={"action": "group.bind", "reason": code, **detail},
        )
        raise Refusal(code)
