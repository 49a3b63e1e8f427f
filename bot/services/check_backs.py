"""The check-back (回访): a set number of days after a hazard is closed its reporter is asked, once, whether the problem
is still solved; "it came back" reaches the official who closed it, who may reopen it from the notice, and the home's
head (never of a rights-protection hazard). Its reporter alone, not the hazard's followers (who added their report
to it): one answer per closing is what /stats and the problem list count; a follower says it came back by a comment.

Why a table of its own rather than the reminders table or a deferred outbox message: the reminder sweep folds a
person's due items into one message whose buttons act on them, while this is one question with an answer of its own
that the bureau must be able to read back; and an outbox message held for a month would be worded a month early and
hold back its chat's queue, with no chance to see that the hazard was reopened meanwhile. So the row is both the
schedule and the record: planned in the acceptance's transaction, checked and worded when due, and its question
queued in the outbox in the same transaction as the row turns 'asked' (the outbox then delivers it once, retrying).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.catalog import is_sensitive
from bot.domain.check_backs import EVENT_CHECK_BACK, CheckBackAnswer, Skip, ask_at, skip_reason
from bot.domain.lifecycle import HazardAction, available_actions, can_view
from bot.domain.reminders import QuietHours, in_quiet_hours
from bot.domain.roles import STAFF_ROLES, Role
from bot.services.errors import Refusal
from bot.services.hazard_core import actor_of
from bot.services.outbox import OutboxService
from storage import Storage
from storage.check_back_models import CheckBack, CheckBackState
from storage.hazard_models import Hazard, HazardEvent
from storage.models import User
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority

log = logging.getLogger(__name__)

# Due rows read at a time; each is its own short transaction.
BATCH = 100
# Refusals that mean "not yours to answer": a forged press, audited by the handler.
NOT_YOURS = "check_back_not_yours"


class CheckBackWords(Protocol):
    """The handler layer's wording of the question and of "it came back", each in its reader's language."""

    async def question(self, check_back: CheckBack, hazard: Hazard, reporter: User) -> OutboxPayload: ...

    async def came_back(
        self, check_back: CheckBack, hazard: Hazard, reporter: User, official: User, *, may_reopen: bool
    ) -> OutboxPayload: ...

    async def came_back_head(self, check_back: CheckBack, hazard: Hazard, reporter: User, head: User) -> OutboxPayload:
        ...


@dataclass(frozen=True)
class CheckBackOutcome:
    check_back: CheckBack
    hazard: Hazard
    answer: CheckBackAnswer
    told: tuple[User, ...]  # the officials who heard that the problem is back (none for "still solved")
    heads: tuple[User, ...] = ()  # the institution's heads who heard it too


class CheckBackService:
    def __init__(
        self, storage: Storage, clock: Clock, outbox: OutboxService, tz: ZoneInfo, quiet: QuietHours, days: int
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._outbox = outbox
        self._tz = tz
        self._quiet = quiet
        self.days = days
        self.words: CheckBackWords | None = None

    # ---- planning and asking --------------------------------------------------------------------------------

    async def schedule(self, hazard: Hazard, event: HazardEvent) -> None:
        """Plan the check-back of a closing; call inside the acceptance's transaction. Whether to ask at all is
        decided when it is due, from the hazard and the people as they are then."""
        if hazard.closed_at is None:
            return
        await self._storage.check_backs.plan(
            hazard.id, closed_event_id=event.id, closed_at=hazard.closed_at, closed_by=event.actor_id,
            reporter_id=hazard.reporter_id, due_at=ask_at(hazard.closed_at, self.days, self._quiet, self._tz),
        )

    async def ask_due(self, now: datetime | None = None) -> int:
        """Ask every check-back due by `now` (not in quiet hours: they wait for the morning); returns how many were
        asked. Safe to run twice or after a restart: a row leaves 'pending' in the transaction that queues it."""
        now = now or self._clock.now()
        if in_quiet_hours(now, self._quiet, self._tz):
            return 0
        asked = 0
        while due := await self._storage.check_backs.due(now, BATCH):
            for check_back in due:
                asked += await self._ask(check_back, now)
        return asked

    async def _ask(self, check_back: CheckBack, now: datetime) -> int:
        storage = self._storage
        async with storage.db.transaction():
            hazard = await storage.hazards.get(check_back.hazard_id)
            reporter = await storage.users.get(check_back.reporter_id)
            skip = Skip.NOT_CLOSED if hazard is None else skip_reason(
                hazard.facts(), check_back.closed_at, None if reporter is None else actor_of(reporter),
                reporter is not None and reporter.active, now,
            )
            if skip is not None:
                await storage.check_backs.mark_skipped(check_back.id, skip.value)
                log.info("check-back %d of hazard %d not asked: %s", check_back.id, check_back.hazard_id, skip.value)
                return 0
            assert hazard is not None and reporter is not None and self.words is not None
            if not await storage.check_backs.mark_asked(check_back.id, now):
                return 0
            payload = await self.words.question(check_back, hazard, reporter)
            await self._outbox.enqueue([_message(hazard, check_back, "ask", reporter.telegram_id, payload)])
            await storage.audit.append(
                None, "check_back.asked", target=f"hazard:{hazard.code}",
                detail={"check_back": check_back.id, "reporter": reporter.telegram_id},
            )
        return 1

    # ---- answering ------------------------------------------------------------------------------------------

    async def answer(self, actor: User, check_back_id: int, answer: CheckBackAnswer) -> CheckBackOutcome:
        """Record the reporter's answer, once: on the hazard's history and in the audit log; "it came back" tells
        the official who closed it (or the county staff covering it), with Reopen where they may, and the home's
        heads, in the same transaction and once each (the outbox's keys). Refusals: an unknown or unasked check-back
        ("check_back_unknown"), someone else's (NOT_YOURS, for the handler to audit), one answered already, one of
        a hazard reopened since."""
        storage, now = self._storage, self._clock.now()
        async with storage.db.transaction():
            check_back = await storage.check_backs.get(check_back_id)
            if check_back is None or check_back.state in (CheckBackState.PENDING, CheckBackState.SKIPPED):
                raise Refusal("check_back_unknown")
            if check_back.reporter_id != actor.telegram_id:
                raise Refusal(NOT_YOURS)
            hazard = await storage.hazards.get(check_back.hazard_id)
            if hazard is None:
                raise Refusal("check_back_unknown")
            if check_back.state is CheckBackState.ANSWERED:
                raise _answered(check_back, hazard)
            if hazard.closed_at != check_back.closed_at:
                # Reopened (or closed again) since the question went out: nothing left to answer. Not recorded.
                raise Refusal("check_back_reopened", hazard=hazard.code)
            if not await storage.check_backs.record_answer(check_back.id, answer, now):
                raise _answered(await storage.check_backs.get(check_back.id) or check_back, hazard)
            await storage.hazards.add_event(
                hazard.id, at=now, actor_id=actor.telegram_id, action=EVENT_CHECK_BACK, from_state=hazard.state,
                to_state=hazard.state, detail={"answer": answer.value, "check_back": check_back.id},
            )
            again = answer is CheckBackAnswer.AGAIN
            told = await self._officials(hazard, check_back, actor) if again else []
            heads = await self._heads(hazard, actor, told) if again else []
            assert self.words is not None
            messages = []
            for official in told:
                # Reopen is offered on the notice as the details offer it: where the lifecycle would allow it now.
                may_reopen = HazardAction.REOPEN in available_actions(hazard.facts(), actor_of(official), now=now)
                payload = await self.words.came_back(check_back, hazard, actor, official, may_reopen=may_reopen)
                messages.append(_message(hazard, check_back, "again", official.telegram_id, payload))
            for head in heads:
                payload = await self.words.came_back_head(check_back, hazard, actor, head)
                messages.append(_message(hazard, check_back, "head", head.telegram_id, payload))
            await self._outbox.enqueue(messages)
            await storage.audit.append(
                actor.telegram_id, "hazard.check_back_answered", target=f"hazard:{hazard.code}",
                detail={"check_back": check_back.id, "answer": answer.value, "told": [p.telegram_id for p in told],
                        "heads": [p.telegram_id for p in heads]},
            )
        answered = await storage.check_backs.get(check_back.id)
        assert answered is not None
        return CheckBackOutcome(answered, hazard, answer, tuple(told), tuple(heads))

    async def _heads(self, hazard: Hazard, reporter: User, told: list[User]) -> list[User]:
        """The institution's heads, who hear that its problem is back: never of a rights-protection (权益保障) hazard,
        which heads do not see; not the reporter (who said it), nor anyone told already as its official."""
        if is_sensitive(hazard.area):
            return []
        facts, skip = hazard.facts(), {reporter.telegram_id, *(p.telegram_id for p in told)}
        return [
            head for head in await self._storage.users.heads_of(hazard.institution_id)
            if head.telegram_id not in skip and can_view(facts, actor_of(head))
        ]

    async def _officials(self, hazard: Hazard, check_back: CheckBack, reporter: User) -> list[User]:
        """Who hears that the problem is back: the official who closed it, while they may still see it; else the
        county staff covering it (the city admins where no county staff do)."""
        users, facts = self._storage.users, hazard.facts()
        closer = None if check_back.closed_by is None else await users.get(check_back.closed_by)
        if (
            closer is not None and closer.active and closer.role in STAFF_ROLES
            and closer.telegram_id != reporter.telegram_id and can_view(facts, actor_of(closer))
        ):
            return [closer]
        staff = [p for p in await users.staff_for_region(hazard.region_code) if p.telegram_id != reporter.telegram_id]
        county = [p for p in staff if p.role is Role.COUNTY]
        return county or [p for p in staff if p.role is Role.CITY]


def _answered(check_back: CheckBack, hazard: Hazard) -> Refusal:
    """A second press: it says what was answered."""
    given = check_back.answer or CheckBackAnswer.HOLDS
    return Refusal(f"check_back_answered_{given.value}", hazard=hazard.code)


def _message(
    hazard: Hazard, check_back: CheckBack, what: str, chat_id: int, payload: OutboxPayload
) -> NewOutboxMessage:
    # In the hazard notices' lane (handlers.notify.NOTICE_LANE): sent with them, and once per key.
    return NewOutboxMessage(
        dedupe_key=f"hazard:{hazard.id}:checkback:{check_back.id}:{what}:chat:{chat_id}",
        chat_id=chat_id, payload=payload, priority=Priority.NORMAL,
    )
