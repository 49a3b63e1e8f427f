"""The closed hazard loop (issue 3): report → assign → rectify → verify → close, with evidence and notices.

The rules of who may do what, and when, are `bot.domain.lifecycle.decide()`; who must be told is
`bot.domain.targeting`. This service loads and stores, runs each change in one transaction with its history
entry and audit event, and returns the notices for the Telegram side to render and send.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.catalog import SENSITIVE_AREAS
from bot.domain.deadlines import deadline_for
from bot.domain.hazard_codes import format_hazard_code, parse_hazard_code
from bot.domain.lifecycle import (
    COMMENT_WINDOW,
    REOPEN_WINDOW,
    REPORTER_CLOSED_WINDOW,
    WITHDRAWN_STATES,
    WORK_ACTIONS,
    HazardAction,
    RefusalCode,
    Refused,
    available_actions,
    can_view,
    decide,
    is_overdue,
    may_verify,
    withdraws_as_reporter,
)
from bot.domain.paging import page_within
from bot.domain.roles import STAFF_ROLES, Role
from bot.domain.targeting import (
    Notice,
    NoticeKind,
    NoticeReason,
    on_action,
    on_comment,
    on_extension_decided,
    on_reassign,
)
from bot.domain.text import MIN_MEASURES
from bot.domain.withdrawal import MIN_REASON as MIN_WITHDRAWAL_REASON
from bot.domain.withdrawal import WithdrawalCategory, categories_for, duplicate_code
from bot.services.errors import Refusal
from bot.services.hazard_core import (
    AUDITED_CODES,
    FIX_ACTIONS,
    FORGERY_CODES,
    FOUR_EYES_WAIVED,
    LEGACY_FIX,
    MAX_COMMENT,
    MIN_COMMENT,
    OUTSIDER,
    HazardDossier,
    HazardOutcome,
    ReportsPage,
    TaskItem,
    TaskPage,
    Withdrawal,
    actor_of,
    checked_text,
)
from bot.services.hazard_extensions import EXTENSION_ID, HazardExtensions
from bot.services.hazard_reports import HazardReporting
from storage.extension_models import ExtensionRequest
from storage.hazard_models import Hazard, PhotoRef
from storage.models import User


@dataclass(frozen=True)
class AssigneeChoice:
    hazard: Hazard
    candidates: list[User]  # heads first (none for a sensitive hazard), then cadres, then county staff

__all__ = [
    "FOUR_EYES_WAIVED",
    "LEGACY_FIX",
    "AssigneeChoice",
    "HazardDossier",
    "HazardOutcome",
    "HazardService",
    "Notice",
    "NoticeKind",
    "NoticeReason",
    "ReportsPage",
    "TaskItem",
    "TaskPage",
    "Withdrawal",
    "WithdrawalCategory",
]


class HazardService(HazardReporting, HazardExtensions):
    # ---- acting on a hazard -------------------------------------------------------------------------------

    async def act(
        self,
        actor: User,
        hazard_id: int,
        action: HazardAction,
        *,
        reason: str | None = None,
        photos: list[PhotoRef] | None = None,
        deadline: datetime | None = None,
        assignee_id: int | None = None,
        shown_fix: int | None = None,
    ) -> HazardOutcome:
        """`shown_fix`: for Accept and Reject, the rectification (its history entry, or LEGACY_FIX) the button was
        shown with; a verdict on an earlier one is refused ("earlier_rectification"), naming the latest."""
        return await self._act(
            actor, hazard_id, action, reason=reason, photos=photos, deadline=deadline, assignee_id=assignee_id,
            shown_fix=shown_fix,
        )

    async def _act(
        self,
        actor: User,
        hazard_id: int,
        action: HazardAction,
        *,
        reason: str | None = None,
        photos: list[PhotoRef] | None = None,
        deadline: datetime | None = None,
        assignee_id: int | None = None,
        four_eyes_waived: bool = False,
        shown_fix: int | None = None,
        extension: ExtensionRequest | None = None,
        withdrawal: Withdrawal | None = None,
    ) -> HazardOutcome:
        """`extension`: the request for more time this deadline change approves (its requester hears so)."""
        photos = photos or []
        self._check_photos(photos)
        reason = checked_text(reason, field_name="text")
        now = self._clock.now()
        async with self._storage.db.transaction():
            hazard = await self._storage.hazards.get(hazard_id)
            if hazard is None:
                raise Refusal("not_found")
            applied = await self._apply(
                actor,
                hazard,
                action,
                now=now,
                reason=reason,
                photos=photos,
                deadline=deadline,
                assignee_id=assignee_id,
                four_eyes_waived=four_eyes_waived,
                shown_current=await self._shown_current(hazard, action, shown_fix),
                extra_detail=None if extension is None else {EXTENSION_ID: extension.id},
                withdrawal=withdrawal,
            )
            if isinstance(applied, Refused):
                if applied.reason_code.value in AUDITED_CODES:
                    await self._audit_refusal(actor, action.value, f"hazard:{hazard.code}", applied.reason_code.value)
            else:
                updated, event = applied
                audience = await self._audience(updated, with_groups=action is HazardAction.ACCEPT)
                notices = on_action(action, updated.facts(), updated.id, audience, actor.telegram_id, reason)
                if action is HazardAction.ASSIGN:
                    notices += on_reassign(
                        hazard.assignee_id, updated.facts(), updated.id, audience, actor.telegram_id
                    )
                if extension is not None:
                    notices = on_extension_decided(
                        NoticeKind.EXTENSION_APPROVED, updated.facts(), updated.id, audience, actor.telegram_id,
                        extension.requested_by, notices,
                    )
                if action is HazardAction.COMMENT:
                    participants = [e.actor_id for e in await self._storage.hazards.events(hazard.id) if e.actor_id]
                    notices += on_comment(updated.facts(), updated.id, audience, actor.telegram_id, participants)
                await self._queue_notices(updated, event, notices)
                if action is HazardAction.ACCEPT and self.check_backs is not None:
                    await self.check_backs.schedule(updated, event)
        # Raised after the block so that the audit entry of a refusal is committed, not rolled back.
        if isinstance(applied, Refused):
            raise await self._explained(applied.reason_code, hazard, action)
        return await self._planned(HazardOutcome(hazard=updated, notices=notices, event=event))

    async def comment(self, actor: User, hazard_id: int, text: str | None) -> HazardOutcome:
        """A comment on the hazard's record (a history entry, audited), its followers told (targeting.on_comment).
        Whoever may view the hazard may comment, until COMMENT_WINDOW after its closing (lifecycle.decide)."""
        comment = checked_text(text, field_name="comment", minimum=MIN_COMMENT, maximum=MAX_COMMENT)
        return await self._act(actor, hazard_id, HazardAction.COMMENT, reason=comment)

    async def _explained(self, reason: RefusalCode, hazard: Hazard, action: HazardAction) -> Refusal:
        """`_refusal`, but a press that came after a colleague's (or one's own) Reopen or Reject, or an Assign after
        the rectification was submitted, names who did it and when, rather than the state the hazard is in; so does a
        verdict on an earlier rectification, naming who submitted the latest."""
        if reason is RefusalCode.EARLIER_RECTIFICATION:
            fixer = await self._storage.users.get(hazard.fixed_by) if hazard.fixed_by else None
            return Refusal(
                reason.value, hazard=hazard.code, name=fixer.full_name if fixer else "—",
                at=self._local(hazard.fixed_at) if hazard.fixed_at else "—",
            )
        if reason is RefusalCode.WITHDRAWN:
            return await self._withdrawn_by(hazard)
        explained = _ALREADY.get(action)
        if reason is RefusalCode.ILLEGAL_TRANSITION and explained is not None:
            taken, code, rounds = explained
            latest = None
            for event in await self._storage.hazards.events(hazard.id):
                if event.action in rounds:
                    latest = event
            if latest is not None and latest.action in taken:
                person = await self._storage.users.get(latest.actor_id) if latest.actor_id else None
                return Refusal(
                    code, hazard=hazard.code, name=person.full_name if person else "—",
                    at=self._local(latest.at),
                )
        return _refusal(reason, hazard)

    def _local(self, at: datetime) -> str:
        """A moment as a refusal names it, in the city's time."""
        return at.astimezone(self._tz).strftime("%Y-%m-%d %H:%M")

    # ---- withdrawing (作废) ---------------------------------------------------------------------------------

    async def check_withdrawal(
        self, actor: User, hazard_id: int, category: WithdrawalCategory, reason: str | None
    ) -> tuple[str, Withdrawal]:
        """The reason as it will be kept and what the withdrawal records, if the actor may withdraw the hazard now
        with it; else a Refusal: who and when first (a forged press audited, a withdrawn hazard naming who withdrew
        it), then the reason (at least MIN_WITHDRAWAL_REASON characters that show), then a duplicate's code, which
        must name another hazard the actor may see."""
        hazard = await self._storage.hazards.get(hazard_id)
        if hazard is None:
            raise Refusal("not_found")
        try:
            await self.act(actor, hazard_id, HazardAction.WITHDRAW)
        except Refusal as refusal:
            if refusal.code != RefusalCode.REASON_REQUIRED.value:
                raise
        if category not in categories_for(self.withdraws_as_reporter(actor, hazard)):
            # Never offered (机构已停用 is the county's to say): a forged press.
            await self._audit_refusal(actor, HazardAction.WITHDRAW.value, f"hazard:{hazard.code}", "wrong_role")
            raise Refusal("wrong_role")
        text = checked_text(reason, field_name="withdrawal_reason", minimum=MIN_WITHDRAWAL_REASON) or ""
        other = duplicate_code(text) if category is WithdrawalCategory.DUPLICATE else None
        if other is not None:
            found = await self.find_by_code(other)
            if found is None or found.id == hazard.id or not can_view(found.facts(), actor_of(actor)):
                raise Refusal("withdrawal_duplicate_unknown", hazard=other)
        return text, Withdrawal(category, other)

    async def withdraw(
        self, actor: User, hazard_id: int, category: WithdrawalCategory, reason: str | None
    ) -> HazardOutcome:
        """Withdraw the hazard: it ends, unrectified, with its category and reason in the history, the audit log and
        the notices to its reporter and the person responsible; its reminders and escalations stop."""
        text, withdrawal = await self.check_withdrawal(actor, hazard_id, category, reason)
        return await self._act(actor, hazard_id, HazardAction.WITHDRAW, reason=text, withdrawal=withdrawal)

    @staticmethod
    def withdraws_as_reporter(actor: User, hazard: Hazard) -> bool:
        """Whether the person withdrawing the hazard does so as its reporter (撤回上报), not as staff: their words,
        the categories they may pick, and who is told differ (lifecycle.withdraws_as_reporter)."""
        return withdraws_as_reporter(hazard.facts(), actor_of(actor))

    async def _withdrawn_by(self, hazard: Hazard) -> Refusal:
        """Who withdrew the hazard, and when: the answer to any action pressed on it since."""
        latest = None
        for event in await self._storage.hazards.events(hazard.id):
            if event.action == HazardAction.WITHDRAW.value:
                latest = event
        if latest is None:
            return Refusal(RefusalCode.WITHDRAWN.value, hazard=hazard.code, name="—", at="—")
        person = await self._storage.users.get(latest.actor_id) if latest.actor_id else None
        return Refusal(
            RefusalCode.WITHDRAWN.value, hazard=hazard.code, name=person.full_name if person else "—",
            at=self._local(latest.at),
        )

    # ---- four eyes with nobody else to verify ---------------------------------------------------------------

    async def sole_verification(self, actor: User, hazard_id: int, shown_fix: int | None = None) -> Hazard | None:
        """The hazard, when the actor submitted the rectification now awaiting its verification, may verify it but
        for four eyes, and no other active person may: then they may accept it themselves (`accept_own`), after
        confirming so, or it would wait forever. None otherwise, when the usual rules apply (and when `shown_fix`
        names an earlier rectification than the one awaiting verification: Accept refuses that as for anyone)."""
        hazard = await self._storage.hazards.get(hazard_id)
        if hazard is None or not await self._only_fixer_may_verify(actor, hazard):
            return None
        if not await self._shown_current(hazard, HazardAction.ACCEPT, shown_fix):
            return None
        return hazard

    async def current_fix(self, hazard_id: int) -> int | None:
        """The rectification awaiting verification (its history entry), for the Accept and Reject buttons on it."""
        hazard = await self._storage.hazards.get(hazard_id)
        return None if hazard is None else await self._current_fix(hazard)

    async def accept_own(self, actor: User, hazard_id: int, shown_fix: int | None = None) -> HazardOutcome:
        """The fixer accepts their own rectification, as an exception to four eyes recorded in the history and the
        audit log, if nobody else may verify it now (checked in the same transaction). Someone else may: refused and
        audited as any Accept by the fixer. A hazard that moved on gets the Refusal of its state, or, when someone
        else's rectification awaits verification now, "not_own_fix"."""
        outcome: HazardOutcome | None = None
        async with self._storage.db.transaction():
            hazard = await self._storage.hazards.get(hazard_id)
            if hazard is None:
                raise Refusal("not_found")
            refusal = await self._own_acceptance_refusal(actor, hazard, shown_fix)
            if refusal is None:
                outcome = await self._act(
                    actor, hazard_id, HazardAction.ACCEPT, four_eyes_waived=True, shown_fix=shown_fix
                )
        if refusal is not None:
            raise refusal
        assert outcome is not None
        return outcome

    async def _own_acceptance_refusal(self, actor: User, hazard: Hazard, shown_fix: int | None) -> Refusal | None:
        """Inside a transaction; the caller raises the Refusal after it, so that an audit entry is committed."""
        decision = decide(
            hazard.facts(), actor_of(actor), HazardAction.ACCEPT, now=self._clock.now(), four_eyes_waived=True,
            shown_current=await self._shown_current(hazard, HazardAction.ACCEPT, shown_fix),
        )
        if isinstance(decision, Refused) and decision.reason_code is RefusalCode.EARLIER_RECTIFICATION:
            return await self._explained(decision.reason_code, hazard, HazardAction.ACCEPT)
        if isinstance(decision, Refused):
            if decision.reason_code.value in AUDITED_CODES:
                await self._audit_refusal(
                    actor, HazardAction.ACCEPT.value, f"hazard:{hazard.code}", decision.reason_code.value
                )
            return _refusal(decision.reason_code, hazard)
        if hazard.fixed_by != actor.telegram_id:
            # Stale for someone who once submitted a rectification of it (since sent back, and fixed by someone
            # else); a button never offered to anyone else.
            fixers = {event.actor_id for event in await self._fixes(hazard)}
            if actor.telegram_id not in fixers:
                await self._audit_refusal(actor, HazardAction.ACCEPT.value, f"hazard:{hazard.code}", "not_own_fix")
            return Refusal("not_own_fix", hazard=hazard.code)
        if await self._other_verifiers(hazard):
            code = RefusalCode.SELF_VERIFICATION
            await self._audit_refusal(actor, HazardAction.ACCEPT.value, f"hazard:{hazard.code}", code.value)
            return _refusal(code, hazard)
        return None

    async def _only_fixer_may_verify(self, actor: User, hazard: Hazard) -> bool:
        if hazard.fixed_by != actor.telegram_id:
            return False
        if not may_verify(hazard.facts(), actor_of(actor), now=self._clock.now(), four_eyes_waived=True):
            return False
        return not await self._other_verifiers(hazard)

    async def _other_verifiers(self, hazard: Hazard) -> list[User]:
        """The active people, other than its fixer, who may accept the hazard's rectification now."""
        facts, now = hazard.facts(), self._clock.now()
        staff = await self._storage.users.staff_for_region(hazard.region_code)
        return [
            person for person in staff
            if person.telegram_id != hazard.fixed_by and may_verify(facts, actor_of(person), now=now)
        ]

    # ---- naming the person responsible (指定责任人) ----------------------------------------------------------

    async def assignees(self, actor: User, hazard_id: int) -> AssigneeChoice:
        """Whom the actor may name responsible for the hazard, if they may name anyone now (else a Refusal, a forged
        press audited as `act` would)."""
        hazard = await self._storage.hazards.get(hazard_id)
        if hazard is None:
            raise Refusal("not_found")
        refusal = await self._assign_refusal(actor, hazard)
        if refusal is not None:
            raise refusal
        return AssigneeChoice(hazard, await self._candidates(hazard))

    async def assign(self, actor: User, hazard_id: int, assignee_id: int) -> HazardOutcome:
        """Name `assignee_id` responsible, if they are one of `assignees` now. A second tap on the same person, a
        person whose access ended, or a hazard that moved on gets a Refusal naming it; a person who was never a
        candidate (a forged press) is refused and audited."""
        outcome: HazardOutcome | None = None
        async with self._storage.db.transaction():
            hazard = await self._storage.hazards.get(hazard_id)
            if hazard is None:
                raise Refusal("not_found")
            refusal = await self._assign_refusal(actor, hazard) or await self._assignee_refusal(
                actor, hazard, assignee_id
            )
            if refusal is None:
                outcome = await self.act(actor, hazard_id, HazardAction.ASSIGN, assignee_id=assignee_id)
        if refusal is not None:
            raise refusal
        assert outcome is not None
        return outcome

    async def _assign_refusal(self, actor: User, hazard: Hazard) -> Refusal | None:
        """Whether decide() lets this person name anyone responsible now; a forged attempt is audited (inside a
        transaction, the caller raises the Refusal after it, so that the audit entry is committed)."""
        now = self._clock.now()
        decision = decide(
            hazard.facts(), actor_of(actor), HazardAction.ASSIGN, now=now, assignee_id=actor.telegram_id,
            deadline=hazard.deadline or deadline_for(hazard.severity, now, self._policy),
        )
        if not isinstance(decision, Refused):
            return None
        code = decision.reason_code.value
        if code in AUDITED_CODES:
            await self._audit_refusal(actor, HazardAction.ASSIGN.value, f"hazard:{hazard.code}", code)
        return await self._explained(decision.reason_code, hazard, HazardAction.ASSIGN)

    async def _assignee_refusal(self, actor: User, hazard: Hazard, assignee_id: int) -> Refusal | None:
        person = await self._storage.users.get(assignee_id)
        if assignee_id == hazard.assignee_id:
            return Refusal("already_assignee", hazard=hazard.code, name=person.full_name if person else "—")
        if any(candidate.telegram_id == assignee_id for candidate in await self._candidates(hazard)):
            return None
        if person is None or not person.active:
            return Refusal("assignee_gone", hazard=hazard.code)
        await self._audit_refusal(actor, HazardAction.ASSIGN.value, f"hazard:{hazard.code}", "assignee_not_in_scope")
        return Refusal("assignee_not_in_scope")

    # ---- reading ------------------------------------------------------------------------------------------

    async def tasks(self, actor: User, page: int = 0, page_size: int = 10) -> TaskPage:
        """Heads (and anyone named responsible): their unresolved hazards, overdue first, then by deadline.
        Staff: hazards awaiting verification in their scope (not those they fixed, unless nobody else may verify
        them: marked so), then overdue ones, then those they are named responsible for, then those nobody is named
        responsible for."""
        if page_size < 1:
            raise ValueError("page_size must be positive")
        now = self._clock.now()
        repo = self._storage.hazards
        if actor.role in STAFF_ROLES:
            if actor.role is Role.COUNTY and actor.region_code is None:
                return TaskPage([], 0, page_size, 0)  # misconfigured account: fail closed
            mine = actor.telegram_id
            # Their own rectifications wait for someone else (four eyes), but for those nobody else may verify.
            own = {
                h.id for h in await repo.awaiting_own_verification(mine) if await self._only_fixer_may_verify(actor, h)
            }
            total = await repo.count_staff_queue(actor.region_code, now=now, mine=mine, own_to_verify=sorted(own))
            page = page_within(page, total, page_size)
            hazards = await repo.staff_queue(actor.region_code, now=now, mine=mine, own_to_verify=sorted(own),
                                             limit=page_size, offset=page * page_size)
            return TaskPage(
                [TaskItem(h, is_overdue(h.deadline, h.state, now), h.id in own) for h in hazards],
                page, page_size, total,
            )
        else:
            # Only what they must act on: a fix they submitted waits for the county, whose turn it is
            # (`awaiting_staff` lists those apart).
            institution_id = actor.institution_id if actor.role is Role.HEAD else None
            total = await repo.count_open_for_institution(
                institution_id, exclude_areas=SENSITIVE_AREAS, assignee_id=actor.telegram_id, fixed=False
            )
            page = page_within(page, total, page_size)
            hazards = await repo.open_for_institution(
                institution_id,
                now=now,
                exclude_areas=SENSITIVE_AREAS,
                assignee_id=actor.telegram_id,
                fixed=False,
                limit=page_size,
                offset=page * page_size,
            )
        items = [TaskItem(h, is_overdue(h.deadline, h.state, now)) for h in hazards]
        return TaskPage(items, page, page_size, total)

    async def awaiting_staff(self, actor: User, limit: int = 10) -> tuple[list[Hazard], int]:
        """Heads (and anyone named responsible): their rectifications submitted and waiting for staff to verify, the
        first `limit` by deadline, and how many there are. Nothing for staff, whose /tasks lists them as theirs."""
        if actor.role in STAFF_ROLES:
            return [], 0
        repo = self._storage.hazards
        institution_id = actor.institution_id if actor.role is Role.HEAD else None
        mine = actor.telegram_id
        total = await repo.count_open_for_institution(
            institution_id, exclude_areas=SENSITIVE_AREAS, assignee_id=mine, fixed=True
        )
        if total == 0:
            return [], 0
        waiting = await repo.open_for_institution(
            institution_id, now=self._clock.now(), exclude_areas=SENSITIVE_AREAS, assignee_id=mine, fixed=True,
            limit=limit,
        )
        return waiting, total

    async def unresolved_in_scope(self, actor: User) -> int:
        """Staff: the unresolved hazards of their region (a city admin's: the city), whoever has them, so that an
        empty /tasks does not read as if nothing were left to do. 0 for everyone else (their /tasks is all theirs)."""
        if actor.role not in STAFF_ROLES or (actor.role is Role.COUNTY and actor.region_code is None):
            return 0
        return await self._storage.hazards.count_unresolved_in_region(actor.region_code)

    async def reported(self, actor: User, page: int = 0, page_size: int = 10) -> ReportsPage:
        """What the person reported (/mine), as FixMyStreet's "Your reports": the unresolved first, then those closed
        within REPORTER_CLOSED_WINDOW, each newest first; the older closed ones are counted.

        A reporter may always open what they reported (`can_view` admits them by name, whatever their role and the
        hazard's area: a head who reported a rights-protection hazard follows it as its reporter). The check is made
        again here, so that the list can never offer what /hazard would refuse."""
        if page_size < 1:
            raise ValueError("page_size must be positive")
        now = self._clock.now()
        repo = self._storage.hazards
        since = now - REPORTER_CLOSED_WINDOW
        counts = await repo.count_reported_by(actor.telegram_id, closed_since=since)
        page = page_within(page, counts.listed, page_size)
        hazards = await repo.reported_by(actor.telegram_id, closed_since=since, limit=page_size,
                                         offset=page * page_size)
        viewer = actor_of(actor)
        items = [TaskItem(h, is_overdue(h.deadline, h.state, now)) for h in hazards if can_view(h.facts(), viewer)]
        return ReportsPage(items, page, page_size, counts.listed, closed_before=counts.closed_before,
                           adds=counts.added_to > 0)

    async def find_by_code(self, text: str) -> Hazard | None:
        """The hazard a typed code names (case and spaces forgiven), with no check of who asks."""
        parsed = parse_hazard_code(text)
        if parsed is None:
            return None
        return await self._storage.hazards.get_by_code(format_hazard_code(*parsed))

    async def view(self, actor: User, code_or_id: str | int) -> HazardDossier:
        """The whole record, for those allowed to see it; "not_found" otherwise, so as not to reveal it exists."""
        if isinstance(code_or_id, int):
            hazard = await self._storage.hazards.get(code_or_id)
        else:
            hazard = await self.find_by_code(code_or_id)
        if hazard is None:
            raise Refusal("not_found")
        facts, viewer = hazard.facts(), actor_of(actor)
        if not can_view(facts, viewer):
            await self._audit_refusal(actor, "view", f"hazard:{hazard.code}", "not_in_scope")
            raise Refusal("not_found")
        events = await self._storage.hazards.events(hazard.id)
        facts = replace(facts, worked_on=any(event.action in WORK_ACTIONS for event in events))
        pending = await self._storage.extensions.pending_for(hazard.id)
        actions = available_actions(
            facts, viewer, now=self._clock.now(), four_eyes_waived=await self._only_fixer_may_verify(actor, hazard),
        )
        if pending is not None:  # one request at a time: the one waiting is shown instead
            actions = tuple(action for action in actions if action is not HazardAction.REQUEST_EXTENSION)
        return HazardDossier(
            hazard=hazard,
            institution=await self._storage.institutions.get(hazard.institution_id),
            events=events,
            photos=await self._storage.hazards.photos(hazard.id),
            overdue=is_overdue(hazard.deadline, hazard.state, self._clock.now()),
            # Accept for its fixer too, when nobody else may verify it: pressing it asks them to confirm.
            actions=actions,
            fix=await self._current_fix(hazard),
            extension=pending,
        )


# A refused press explained by what someone did before it: (what they did, the refusal naming them and when, the
# history entries of which theirs must be the latest, so that it is what the hazard is in now).
_A = HazardAction
_VERDICT_ROUNDS = frozenset({_A.ACCEPT.value, _A.REJECT.value, _A.REOPEN.value}) | FIX_ACTIONS
_ALREADY: dict[HazardAction, tuple[frozenset[str], str, frozenset[str]]] = {
    _A.REOPEN: (
        frozenset({_A.REOPEN.value}), "already_reopened",
        frozenset({_A.REOPEN.value, _A.ACCEPT.value, _A.WITHDRAW.value}),
    ),
    _A.ACCEPT: (frozenset({_A.REJECT.value}), "already_rejected", _VERDICT_ROUNDS),
    _A.REJECT: (frozenset({_A.REJECT.value}), "already_rejected", _VERDICT_ROUNDS),
    _A.ASSIGN: (FIX_ACTIONS, "already_submitted", _VERDICT_ROUNDS),
    # 📤 or a kept draft's Done after a colleague (or oneself, on another device) submitted the rectification.
    _A.SUBMIT_RECTIFICATION: (FIX_ACTIONS, "already_fixed", _VERDICT_ROUNDS),
}


def _refusal(reason: RefusalCode, hazard: Hazard) -> Refusal:
    """What a refused action tells the person: an outsider learns nothing about the hazard, not even its code; a
    stale button names it (and, past the reopening window, the window)."""
    code = reason.value
    if reason is RefusalCode.NOT_IN_SCOPE:
        return Refusal(OUTSIDER)
    if code in FORGERY_CODES:
        return Refusal(code)
    # A withdrawn hazard was never closed (销号): its window runs from the withdrawal, and the refusal says so.
    ended = "_withdrawn" if hazard.state in WITHDRAWN_STATES else ""
    if reason is RefusalCode.REOPEN_WINDOW_PASSED:
        return Refusal(code + ended, hazard=hazard.code, days=REOPEN_WINDOW.days)
    if reason is RefusalCode.COMMENT_WINDOW_PASSED:
        return Refusal(code + ended, hazard=hazard.code, days=COMMENT_WINDOW.days)
    if reason is RefusalCode.MEASURES_TOO_SHORT:
        return Refusal(code, hazard=hazard.code, min=MIN_MEASURES)
    return Refusal(code, hazard=hazard.code)
