"""What the warning services share: results, who a warning reaches, and sending, revising and ending a warning.

Kept apart from `warnings.py` only for size; callers import everything from `bot.services.warnings`.

Recipients are fixed when a warning is first sent (warning_recipients), so that every later revision — 升级,
降级, 更新, 解除 — reaches exactly the people and groups that had the first message, even if the institutions,
cadres or group bindings changed in between.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.domain.roles import STAFF_ROLES, Role, region_in_scope
from bot.domain.warnings import (
    ACTIVE_STATUSES,
    EarlyWarning,
    NewWarning,
    WarningChange,
    WarningOrigin,
    WarningStatus,
    WarningTarget,
    effective_expiry,
    of_concern,
    recipients_match,
    standing_county,
)
from bot.services.errors import Refusal
from bot.services.staff import first_told
from bot.services.warning_settings import WarningSettings, load_checklists
from storage import Storage
from storage.models import AuditEvent, GroupPurpose, Institution, User
from storage.warning_models import RecipientKind, WarningRecipient, WarningRevision

_WARNING_GROUPS = {GroupPurpose.WARNINGS}  # GENERAL bindings are included by the repository

log = logging.getLogger(__name__)


def draft_notice_key(warning_id: int, revision: int) -> str:
    """Names the staff's notice of one revision of a draft (each chat completes the key)."""
    return f"{_draft_notices(warning_id)}rev:{revision}"


def _draft_notices(warning_id: int) -> str:
    return f"warning:{warning_id}:draft:"


# Why a forecast draft ended unsent when an official warning of its kind arrived over its area (`_end`'s reason).
SUPERSEDED = "superseded_by_official"


class DraftEnd(StrEnum):
    SUPERSEDED = "superseded"  # set aside for an official warning of its kind over its area
    WITHDRAWN = "withdrawn"  # 撤回草稿 by staff
    EXPIRED = "expired"  # past its time, never sent


@dataclass(frozen=True)
class DraftGone:
    """How a draft stopped being one without ever being sent; `by` is the official warning that set it aside."""

    end: DraftEnd
    by: int | None = None


@dataclass(frozen=True)
class RecipientPreview:
    """Who a warning would reach: heads of the matching institutions, cadres and bound groups of its regions."""

    institutions: tuple[int, ...]  # ids of the institutions it concerns
    heads: tuple[WarningRecipient, ...]  # one per head and institution
    cadres: tuple[WarningRecipient, ...]
    groups: tuple[WarningRecipient, ...]
    # Concerned, but no head the bot can reach (none registered, access ended, the bot blocked): to be phoned. The
    # same rule as the status after sending (`InstitutionAck.no_one_to_reach`), so the preview and the
    # confirmation count alike.
    no_one_to_reach: tuple[int, ...]
    places: tuple[tuple[int, str], ...] = ()  # (id, region code) of each institution it concerns

    @property
    def recipients(self) -> tuple[WarningRecipient, ...]:
        return (*self.heads, *self.cadres, *self.groups)

    @property
    def people(self) -> frozenset[int]:
        return frozenset(r.chat_id for r in (*self.heads, *self.cadres))

    @property
    def group_chats(self) -> frozenset[tuple[int, int | None]]:
        return frozenset((g.chat_id, g.topic_id) for g in self.groups)


@dataclass(frozen=True)
class WarningDelivery:
    """What must go out now: this revision of the warning, to these recipients (one message per chat)."""

    warning: EarlyWarning
    change: WarningChange  # ISSUE when the recipients first hear of it
    recipients: tuple[WarningRecipient, ...]

    @property
    def revision(self) -> int:
        return self.warning.revision


def first_revision(
    new: NewWarning, *, actor_id: int | None, at: datetime, message: dict[str, Any] | None = None
) -> WarningRevision:
    """Revision 1 of a new warning (the repository fills in its id)."""
    return WarningRevision(
        warning_id=0,
        revision=1,
        change=WarningChange.ISSUE,
        level=new.level,
        headline=new.headline,
        description=new.description,
        instruction=new.instruction,
        onset=new.onset,
        expires=new.expires,
        actor_id=actor_id,
        at=at,
        **(message or {}),
    )


class WarningCore:
    def __init__(self, storage: Storage, clock: Clock, settings: WarningSettings | None = None) -> None:
        self._storage = storage
        self._clock = clock
        self._settings = settings or WarningSettings()
        self._checklists = load_checklists(self._settings.checklists_path)

    @property
    def settings(self) -> WarningSettings:
        return self._settings

    async def get(self, warning_id: int) -> EarlyWarning:
        warning = await self._storage.warnings.get(warning_id)
        if warning is None:
            raise Refusal("warning_not_found")
        return warning

    # ---- recipients ----------------------------------------------------------------------------------------

    async def preview(self, warning_id: int) -> RecipientPreview:
        """Who sending the warning would reach now; for a sent warning, use `recipients()`."""
        return await self.preview_warning(await self.get(warning_id))

    async def preview_warning(self, warning: EarlyWarning) -> RecipientPreview:
        """Who sending this warning would reach now: its target's, and for a forecast draft the city's own
        institutions standing in its counties (`city_own_in`)."""
        also = await self.city_own_in(warning.target.regions) if warning.origin is WarningOrigin.FORECAST else []
        return await self.preview_target(warning.target, also=also)

    async def city_own_in(self, regions: Iterable[str]) -> list[Institution]:
        """The institutions the city runs itself (registered at the city's own code, so in no county) whose address
        places them in one of these counties. A forecast is judged at each county's point and drafted per county:
        the city's relief station and funeral home, which the seed names for heat and cold, stood in no county's
        draft and heard nothing of a forecast cold wave until someone warned by hand. They now go with the draft of
        the county they stand in, whose weather they share."""
        wanted = set(regions)
        return [institution for institution, county in await self._city_own() if county in wanted]

    async def city_own_nowhere(self) -> list[Institution]:
        """The city's own institutions whose address names no county (or several): no forecast draft covers them,
        and the city admins are told so with the drafts."""
        return [institution for institution, county in await self._city_own() if county is None]

    async def _city_own(self) -> list[tuple[Institution, str | None]]:
        """Each active institution registered at the city's own code, with the county its address names."""
        city = self._settings.city_code
        counties = {c.code: c.name_zh for c in await self._storage.regions.counties() if c.parent_code == city}
        return [
            (institution, standing_county(institution.address, counties))
            for institution in await self._storage.institutions.registered_at(city)
        ]

    async def preview_target(self, target: WarningTarget, *, also: Iterable[Institution] = ()) -> RecipientPreview:
        """Who a target would reach now; `also`: institutions outside its regions it concerns as well (of its types
        and risk features)."""
        institutions = []
        seen: set[int] = set()  # by id: a list's `in` compared every institution found so far (quadratic)
        for region in sorted(target.regions):
            for institution in await self._storage.institutions.in_scope(region):
                if recipients_match(target, institution) and institution.id not in seen:
                    seen.add(institution.id)
                    institutions.append(institution)
        for institution in also:
            if of_concern(target, institution) and institution.id not in seen:
                seen.add(institution.id)
                institutions.append(institution)
        heads: list[WarningRecipient] = []
        unreachable: list[int] = []
        for institution in institutions:
            people = await self._storage.users.heads_of(institution.id)
            if all(person.unreachable_since is not None for person in people):
                unreachable.append(institution.id)
            heads += [
                WarningRecipient(
                    kind=RecipientKind.HEAD,
                    chat_id=person.telegram_id,
                    institution_id=institution.id,
                    region_code=institution.region_code,
                )
                for person in people
            ]
        return RecipientPreview(
            institutions=tuple(i.id for i in institutions),
            heads=tuple(heads),
            cadres=tuple(await self._cadres(target.regions)),
            groups=tuple(await self._groups(target.regions)),
            no_one_to_reach=tuple(unreachable),
            places=tuple((i.id, i.region_code) for i in institutions),
        )

    async def left_out_by_tags(self, target: WarningTarget) -> list[Institution]:
        """The institutions of the target's regions and types that its risk features leave out (none without
        features), by region and name: for the sender to see whom the filter skips."""
        if not target.risk_tags:
            return []
        wider = target.model_copy(update={"risk_tags": frozenset()})
        found: dict[int, Institution] = {}
        for region in sorted(target.regions):
            for institution in await self._storage.institutions.in_scope(region):
                if recipients_match(wider, institution) and not recipients_match(target, institution):
                    found.setdefault(institution.id, institution)
        return sorted(found.values(), key=lambda i: (i.region_code, i.id))

    async def recipients(self, warning_id: int) -> list[WarningRecipient]:
        """Who a sent warning reached; every revision goes to them."""
        return await self._storage.warnings.recipients(warning_id)

    async def _cadres(self, regions: Iterable[str]) -> list[WarningRecipient]:
        found: dict[int, WarningRecipient] = {}
        for region in sorted(regions):
            for user in await self._storage.users.in_scope(Role.CADRE, region):
                place = user.region_code or region
                found.setdefault(
                    user.telegram_id,
                    WarningRecipient(kind=RecipientKind.CADRE, chat_id=user.telegram_id, region_code=place),
                )
        return list(found.values())

    async def _groups(self, regions: Iterable[str]) -> list[WarningRecipient]:
        # A county's warning goes to the groups of that county and below it (and those of a county containing a
        # township target); the city's own groups get it only when the city is targeted, as with hazards.
        found: dict[tuple[int, int | None], WarningRecipient] = {}
        for region in sorted(regions):
            bound = [
                *await self._storage.groups.for_region(region, _WARNING_GROUPS),
                *await self._storage.groups.within(region, _WARNING_GROUPS),
            ]
            for group in bound:
                found.setdefault(
                    (group.chat_id, group.topic_id),
                    WarningRecipient(
                        kind=RecipientKind.GROUP,
                        chat_id=group.chat_id,
                        topic_id=group.topic_id,
                        region_code=group.region_code,
                    ),
                )
        return list(found.values())

    # ---- changes -------------------------------------------------------------------------------------------

    async def _send(self, warning: EarlyWarning, actor_id: int | None, now: datetime) -> WarningDelivery:
        """Fix the recipients and mark the warning sent; the caller holds the transaction."""
        audience = await self.preview_warning(warning)
        # Every institution it concerns is fixed too, those nobody can be told of included: they must answer as well.
        await self._storage.warnings.add_institutions(warning.id, audience.places)
        await self._storage.warnings.add_recipients(warning.id, audience.recipients, now)
        await self._no_longer_offered(warning, "sent")
        sent = await self._storage.warnings.save(
            warning.model_copy(update={"status": WarningStatus.SENT, "sent_at": now, "updated_at": now})
        )
        await self._audit(actor_id, "warning.sent", sent, recipients=len(audience.recipients))
        return WarningDelivery(sent, WarningChange.ISSUE, tuple(await self.recipients(sent.id)))

    async def _revise(
        self,
        warning: EarlyWarning,
        change: WarningChange,
        content: dict[str, Any],
        *,
        actor_id: int | None,
        now: datetime,
        message: dict[str, Any] | None = None,
    ) -> EarlyWarning:
        """Write the next revision: `content` replaces fields of the warning, `message` describes the CAP
        message it came from. The status follows from the change and from whether it was ever sent."""
        await self._no_longer_offered(
            warning, "withdrawn" if change is WarningChange.CANCEL else f"revision {warning.revision + 1}"
        )
        if change is WarningChange.CANCEL:
            status, ended = WarningStatus.CANCELLED, now
        else:
            status = WarningStatus.UPDATED if warning.sent_at is not None else WarningStatus.DRAFT
            ended = None
        revised = warning.model_copy(
            update={
                **content,
                "status": status,
                "revision": warning.revision + 1,
                "updated_at": now,
                "ended_at": ended,
            }
        )
        await self._storage.warnings.save(revised)
        await self._storage.warnings.add_revision(
            WarningRevision(
                warning_id=revised.id,
                revision=revised.revision,
                change=change,
                level=revised.level,
                headline=revised.headline,
                description=revised.description,
                instruction=revised.instruction,
                onset=revised.onset,
                expires=revised.expires,
                actor_id=actor_id,
                at=now,
                **(message or {}),
            )
        )
        await self._audit(actor_id, f"warning.{change.value}", revised, revision=revised.revision)
        return revised

    async def _delivery_of(self, warning: EarlyWarning, change: WarningChange) -> WarningDelivery:
        """The recipients of the first sending; none for a draft, of which nobody has heard."""
        if warning.sent_at is None:
            return WarningDelivery(warning, change, ())
        return WarningDelivery(warning, change, tuple(await self.still_served(await self.recipients(warning.id))))

    async def still_served(self, recipients: Iterable[WarningRecipient]) -> list[WarningRecipient]:
        """Of those a warning reached, the ones its revisions and reminders still go to: groups, and people whose
        access has not ended since."""
        rows = list(recipients)
        people = [r.chat_id for r in rows if r.kind is not RecipientKind.GROUP]
        active = {user.telegram_id for user in await self._storage.users.get_many(people)}
        return [r for r in rows if r.kind is RecipientKind.GROUP or r.chat_id in active]

    async def expire_due(self) -> list[EarlyWarning]:
        """End every warning past its expiry (or 24 h after onset when it has none). Silent: nothing to send."""
        now = self._clock.now()
        expired = []
        async with self._storage.db.transaction():
            for warning in await self._storage.warnings.with_status(ACTIVE_STATUSES):
                if now >= effective_expiry(warning, self._settings.default_duration):
                    expired.append(await self._end(warning, WarningStatus.EXPIRED, now, reason="expired"))
        return expired

    def _has_ended(self, warning: EarlyWarning) -> bool:
        """Lifted, or past its time, marked so or not yet (the follow-up marks it within a minute)."""
        return warning.status in (WarningStatus.CANCELLED, WarningStatus.EXPIRED) or self._clock.now() >= (
            effective_expiry(warning, self._settings.default_duration)
        )

    async def _end(
        self, warning: EarlyWarning, status: WarningStatus, now: datetime, *, reason: str, by: int | None = None
    ) -> EarlyWarning:
        """`by`: for a forecast draft set aside (`SUPERSEDED`), the official warning that did it."""
        await self._no_longer_offered(warning, reason)
        ended = await self._storage.warnings.save(
            warning.model_copy(update={"status": status, "updated_at": now, "ended_at": now})
        )
        await self._audit(None, f"warning.{status.value}", ended, reason=reason, **({} if by is None else {"by": by}))
        return ended

    async def why_not_sent(self, warning: EarlyWarning) -> DraftGone | None:
        """How a draft that was never sent stopped being one: set aside for an official warning (and which),
        withdrawn by staff, or past its time. None for a draft still waiting, or a warning that was sent."""
        if warning.sent_at is not None or warning.status is WarningStatus.DRAFT:
            return None
        if warning.status is WarningStatus.EXPIRED:
            return DraftGone(DraftEnd.EXPIRED)
        for event in reversed(await self._storage.audit.list("warning.cancelled", target=f"warning:{warning.id}")):
            if event.detail.get("reason") == SUPERSEDED:
                by = event.detail.get("by")
                return DraftGone(DraftEnd.SUPERSEDED, by if isinstance(by, int) else None)
        return DraftGone(DraftEnd.WITHDRAWN)

    async def _no_longer_offered(self, warning: EarlyWarning, why: str) -> None:
        """A draft sent, revised, withdrawn or ended: its notices still waiting for staff (a forecast draft's, held
        through quiet hours) would offer a decision no longer to be made, so they are never sent. A revision that
        is still a draft gets a notice of its own, queued by the caller."""
        if warning.sent_at is not None:
            return
        cancelled = await self._storage.outbox.cancel_waiting(_draft_notices(warning.id), reason=why)
        if cancelled:
            log.info("warning %d: %d waiting notices of the draft cancelled (%s)", warning.id, cancelled, why)

    # ---- checks --------------------------------------------------------------------------------------------

    def _require_staff(self, actor: User, regions: Iterable[str]) -> None:
        """County staff act within their county, city admins anywhere."""
        if actor.role not in STAFF_ROLES or not actor.active:
            raise Refusal("warning_staff_only")
        if actor.role is Role.COUNTY and not all(region_in_scope(actor.region_code, r) for r in regions):
            raise Refusal("warning_out_of_scope")

    async def _staff_to_alert(self, region_code: str) -> tuple[int, ...]:
        """Who hears a call for help at once: the county's staff, or the city admins where no county staff is."""
        return (await self._alerted(region_code))[0]

    async def _alerted(self, region_code: str) -> tuple[tuple[int, ...], bool]:
        """As `_staff_to_alert`, and whether they are the city admins (no county staff covers the place): the
        person asking is told who was alerted, not a county department that does not exist."""
        told = await first_told(self._storage, region_code)
        return tuple(user.telegram_id for user in told), any(user.role is Role.CITY for user in told)

    def _require_own(self, warning: EarlyWarning) -> None:
        # Once sent, an official warning is the weather service's word: only its feed revises or lifts it.
        if warning.origin is WarningOrigin.OFFICIAL and warning.sent_at is not None:
            raise Refusal("warning_official")

    async def _audit(self, actor_id: int | None, action: str, warning: EarlyWarning, **detail: Any) -> AuditEvent:
        return await self._storage.audit.append(
            actor_id,
            action,
            target=f"warning:{warning.id}",
            detail={"kind": warning.kind, "level": warning.level, "origin": warning.origin, **detail},
        )
