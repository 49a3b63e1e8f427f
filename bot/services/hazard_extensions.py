"""Asking for more time (申请延期): the person correcting a hazard proposes a later deadline with a reason; staff who
may change its deadline approve it (the deadline changes exactly as /deadline changes it) or refuse it with a reason.

Who may ask, and when, is `lifecycle.decide(REQUEST_EXTENSION)`; who may decide is `decide(CHANGE_DEADLINE)`, the
rule /deadline follows. One request of a hazard waits at a time; the first decision wins, and a later press is told
who decided and when. A request still waiting when the rectification is submitted or staff change the deadline
themselves ends then, undecided (`hazard_core.ENDS_EXTENSION`), and its buttons say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.lifecycle import HazardAction, RefusalCode, Refused, decide
from bot.domain.roles import STAFF_ROLES
from bot.domain.targeting import Notice, NoticeKind, on_extension_decided, on_extension_request
from bot.services.errors import Refusal
from bot.services.hazard_core import (
    AUDITED_CODES,
    FORGERY_CODES,
    OUTSIDER,
    HazardCore,
    HazardOutcome,
    actor_of,
    checked_text,
)
from storage.extension_models import ENDED_BY_ACCESS, ExtensionRequest, ExtensionStatus
from storage.hazard_models import Hazard
from storage.models import User

# Keys of a history entry's detail: the request it belongs to, and the date it asked for.
EXTENSION_ID, REQUESTED_DEADLINE = "extension_id", "requested_deadline"
# The history entry of a refusal (an approval is the deadline change itself, naming the request).
EXTENSION_REFUSED = "extension_refused"

# A decision pressed after the request was settled: the refusal naming who settled it and when.
_SETTLED = {
    ExtensionStatus.APPROVED: "extension_already_approved",
    ExtensionStatus.REFUSED: "extension_already_refused",
}
_ENDED = {
    HazardAction.CHANGE_DEADLINE.value: "extension_ended_deadline",
    HazardAction.SUBMIT_RECTIFICATION.value: "extension_ended_submitted",
    HazardAction.REPORT_FIXED_ON_SPOT.value: "extension_ended_submitted",
    HazardAction.WITHDRAW.value: "extension_ended_withdrawn",
    ENDED_BY_ACCESS: "extension_ended_access",
}


@dataclass(frozen=True)
class ExtensionOutcome:
    hazard: Hazard
    request: ExtensionRequest
    notices: list[Notice]


@dataclass(frozen=True)
class PendingExtension:
    request: ExtensionRequest
    hazard: Hazard


class HazardExtensions(HazardCore):
    async def _act(
        self, actor: User, hazard_id: int, action: HazardAction, *, reason: str | None = None,
        deadline: datetime | None = None, extension: ExtensionRequest | None = None,
    ) -> HazardOutcome:
        raise NotImplementedError  # HazardService's: applies an action, its history, audit and notices

    # ---- asking -------------------------------------------------------------------------------------------------

    async def may_ask_extension(self, actor: User, hazard_id: int) -> Hazard:
        """The hazard, if the person may ask for more time on it now; a Refusal otherwise (a forged press audited,
        a request already waiting named)."""
        hazard = await self._hazard(hazard_id)
        decision = decide(hazard.facts(), actor_of(actor), HazardAction.REQUEST_EXTENSION, now=self._clock.now())
        if isinstance(decision, Refused) and decision.reason_code is not RefusalCode.REASON_REQUIRED:
            raise await self._refused(actor, hazard, HazardAction.REQUEST_EXTENSION, decision.reason_code)
        pending = await self._storage.extensions.pending_for(hazard.id)
        if pending is not None:
            raise await self._pending(pending, hazard)
        return hazard

    async def ask_extension(
        self, actor: User, hazard_id: int, deadline: datetime, reason: str | None
    ) -> ExtensionOutcome:
        """Record the request, its history entry and audit event, and queue its notices to staff, in one transaction."""
        text = checked_text(reason, field_name="text")
        now = self._clock.now()
        refusal: Refusal | None = None
        async with self._storage.db.transaction():
            hazard = await self._hazard(hazard_id)
            decision = decide(
                hazard.facts(), actor_of(actor), HazardAction.REQUEST_EXTENSION, reason=text, deadline=deadline,
                now=now,
            )
            request = None
            if isinstance(decision, Refused):
                refusal = await self._refused(actor, hazard, HazardAction.REQUEST_EXTENSION, decision.reason_code)
            else:
                assert text is not None  # decide() asks for a reason
                request = await self._storage.extensions.add(
                    hazard.id, requested_by=actor.telegram_id, at=now, previous_deadline=hazard.deadline,
                    requested_deadline=deadline, reason=text,
                )
                if request is None:
                    pending = await self._storage.extensions.pending_for(hazard.id)
                    assert pending is not None
                    refusal = await self._pending(pending, hazard)
            if request is not None:
                event = await self._storage.hazards.add_event(
                    hazard.id, at=now, actor_id=actor.telegram_id, action=HazardAction.REQUEST_EXTENSION.value,
                    from_state=hazard.state, to_state=hazard.state, note=text,
                    detail={EXTENSION_ID: request.id, REQUESTED_DEADLINE: deadline},
                )
                await self._storage.audit.append(
                    actor.telegram_id, "hazard.extension_requested", target=f"hazard:{hazard.code}",
                    detail={"extension_id": request.id, "event_id": event.id, "requested_deadline": deadline},
                )
                audience = await self._audience(hazard)
                notices = on_extension_request(hazard.facts(), hazard.id, audience, actor.telegram_id)
                await self._queue_notices(hazard, event, notices)
        # Raised after the block so that the audit entry of a refusal is committed, not rolled back.
        if refusal is not None:
            raise refusal
        assert request is not None
        return ExtensionOutcome(hazard, request, notices)

    # ---- deciding -----------------------------------------------------------------------------------------------

    async def may_decide_extension(self, actor: User, request_id: int) -> PendingExtension:
        """The request and its hazard, if the person may decide it now (else a Refusal naming why)."""
        request, hazard = await self._request(request_id)
        refusal = await self._decision_refusal(actor, request, hazard)
        if refusal is not None:
            raise refusal
        return PendingExtension(request, hazard)

    async def approve_extension(self, actor: User, request_id: int) -> HazardOutcome:
        """Set the deadline asked for, as /deadline sets one (history, reminders, notices), with the request's reason;
        the requester is told it was approved."""
        outcome: HazardOutcome | None = None
        async with self._storage.db.transaction():
            request, hazard = await self._request(request_id)
            refusal = await self._decision_refusal(actor, request, hazard, approving=True)
            if refusal is None:
                now = self._clock.now()
                # Decided first, so that the deadline change below does not end it as overtaken.
                await self._storage.extensions.decide(
                    request.id, ExtensionStatus.APPROVED, by=actor.telegram_id, at=now
                )
                await self._storage.audit.append(
                    actor.telegram_id, "hazard.extension_approved", target=f"hazard:{hazard.code}",
                    detail={"extension_id": request.id},
                )
                outcome = await self._act(
                    actor, hazard.id, HazardAction.CHANGE_DEADLINE, deadline=request.requested_deadline,
                    reason=request.reason, extension=request,
                )
        if refusal is not None:
            raise refusal
        assert outcome is not None
        return outcome

    async def refuse_extension(self, actor: User, request_id: int, reason: str | None) -> ExtensionOutcome:
        """Refuse the request with a reason, recorded in the history; the requester is told why."""
        text = checked_text(reason, field_name="text")
        if text is None:
            raise Refusal(RefusalCode.REASON_REQUIRED.value)
        now = self._clock.now()
        async with self._storage.db.transaction():
            request, hazard = await self._request(request_id)
            refusal = await self._decision_refusal(actor, request, hazard)
            if refusal is None:
                await self._storage.extensions.decide(
                    request.id, ExtensionStatus.REFUSED, by=actor.telegram_id, at=now, note=text
                )
                event = await self._storage.hazards.add_event(
                    hazard.id, at=now, actor_id=actor.telegram_id, action=EXTENSION_REFUSED,
                    from_state=hazard.state, to_state=hazard.state, note=text,
                    detail={EXTENSION_ID: request.id, REQUESTED_DEADLINE: request.requested_deadline},
                )
                await self._storage.audit.append(
                    actor.telegram_id, "hazard.extension_refused", target=f"hazard:{hazard.code}",
                    detail={"extension_id": request.id, "event_id": event.id},
                )
                audience = await self._audience(hazard)
                notices = on_extension_decided(
                    NoticeKind.EXTENSION_REFUSED, hazard.facts(), hazard.id, audience, actor.telegram_id,
                    request.requested_by, reason=text,
                )
                await self._queue_notices(hazard, event, notices)
        if refusal is not None:
            raise refusal
        settled = await self._storage.extensions.get(request.id)
        assert settled is not None
        return ExtensionOutcome(hazard, settled, notices)

    # ---- reading ------------------------------------------------------------------------------------------------

    async def pending_extensions(self, actor: User) -> list[PendingExtension]:
        """The requests waiting for this member of staff's decision (none for anyone else), oldest first."""
        if actor.role not in STAFF_ROLES:
            return []
        waiting = []
        for request in await self._storage.extensions.pending_in(actor.region_code):
            hazard = await self._storage.hazards.get(request.hazard_id)
            if hazard is not None and await self._may_decide(actor, hazard):
                waiting.append(PendingExtension(request, hazard))
        return waiting

    async def pending_extension(self, hazard_id: int) -> ExtensionRequest | None:
        return await self._storage.extensions.pending_for(hazard_id)

    # ---- the checks ---------------------------------------------------------------------------------------------

    async def _hazard(self, hazard_id: int) -> Hazard:
        hazard = await self._storage.hazards.get(hazard_id)
        if hazard is None:
            raise Refusal("not_found")
        return hazard

    async def _request(self, request_id: int) -> tuple[ExtensionRequest, Hazard]:
        request = await self._storage.extensions.get(request_id)
        if request is None:
            raise Refusal("not_found")
        return request, await self._hazard(request.hazard_id)

    async def _may_decide(self, actor: User, hazard: Hazard) -> bool:
        decision = decide(hazard.facts(), actor_of(actor), HazardAction.CHANGE_DEADLINE, now=self._clock.now())
        return not isinstance(decision, Refused) or decision.reason_code is RefusalCode.REASON_REQUIRED

    async def _decision_refusal(
        self, actor: User, request: ExtensionRequest, hazard: Hazard, *, approving: bool = False
    ) -> Refusal | None:
        """Who first (an outsider learns nothing of the request), then whether it still waits, then, to approve,
        whether the date asked is still ahead. Inside a transaction, the caller raises after it."""
        facts, now = hazard.facts(), self._clock.now()
        decision = decide(facts, actor_of(actor), HazardAction.CHANGE_DEADLINE, now=now)
        code = decision.reason_code if isinstance(decision, Refused) else None
        if code is not None and code.value in AUDITED_CODES:
            return await self._refused(actor, hazard, HazardAction.CHANGE_DEADLINE, code)
        if request.status is not ExtensionStatus.PENDING:
            return await self._settled(request, hazard)
        if code is not None and code is not RefusalCode.REASON_REQUIRED:
            return _refusal(code, hazard)
        if approving and request.requested_deadline <= now:
            asked = self._local_time(request.requested_deadline)
            return Refusal("extension_date_passed", hazard=hazard.code, deadline=asked)
        return None

    async def _settled(self, request: ExtensionRequest, hazard: Hazard) -> Refusal:
        # Ended with the requester's access, the request is named by its requester (the command line ends it too).
        named = request.requested_by if request.ended_by == ENDED_BY_ACCESS else request.decided_by
        person = await self._storage.users.get(named) if named is not None else None
        at = self._local_time(request.decided_at) if request.decided_at is not None else "—"
        if request.status is ExtensionStatus.ENDED:
            code = _ENDED.get(request.ended_by or "", "extension_ended_deadline")
        else:
            code = _SETTLED[request.status]
        return Refusal(code, hazard=hazard.code, name=person.full_name if person else "—", at=at)

    async def _pending(self, pending: ExtensionRequest, hazard: Hazard) -> Refusal:
        person = await self._storage.users.get(pending.requested_by)
        return Refusal(
            "extension_pending", hazard=hazard.code, name=person.full_name if person else "—",
            at=self._local_time(pending.requested_at), deadline=self._local_time(pending.requested_deadline),
        )

    async def _refused(self, actor: User, hazard: Hazard, action: HazardAction, code: RefusalCode) -> Refusal:
        if code.value in AUDITED_CODES:
            await self._audit_refusal(actor, action.value, f"hazard:{hazard.code}", code.value)
        return _refusal(code, hazard)

    def _local_time(self, at: datetime) -> str:
        return at.astimezone(self._tz).strftime("%Y-%m-%d %H:%M")


def _refusal(code: RefusalCode, hazard: Hazard) -> Refusal:
    """An outsider learns nothing about the hazard, not even its code; anyone else reads which hazard it was."""
    if code is RefusalCode.NOT_IN_SCOPE:
        return Refusal(OUTSIDER)
    return Refusal(code.value) if code.value in FORGERY_CODES else Refusal(code.value, hazard=hazard.code)
