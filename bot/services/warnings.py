"""Warnings before extreme weather and epidemics (issue 5): the service the handlers, jobs and feeds all call.

Staff raise manual warnings as drafts, preview who they reach, send, then revise (升级 / 降级 / 更新) or lift
(解除) them; official feeds and forecast rules come in through `ingest_official` and `store_forecast`. Heads
acknowledge; cadres work through contact rounds. Every method returns typed results and formats no message: the
Telegram side renders them, and the outbox delivers each `WarningDelivery` (one message per chat and revision).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.warnings import (
    DELIVERED_STATUSES,
    ChecklistItem,
    EarlyWarning,
    NewWarning,
    WarningChange,
    WarningKind,
    WarningLevel,
    WarningOrigin,
    WarningStatus,
    WarningTarget,
    checklist_for,
    classify_change,
    effective_expiry,
    regions_overlap,
    relevelled_headline,
)
from bot.services.contact_rounds import CadreList, ContactOutcome, ContactRounds, RoundStarted, RoundSummary
from bot.services.errors import Refusal
from bot.services.hazard_core import checked_text
from bot.services.warning_acks import (
    AckOutcome,
    CountyAckStatus,
    Ended,
    HandBack,
    InstitutionAck,
    WarningAcks,
    WarningAckStatus,
)
from bot.services.warning_core import (
    DraftEnd,
    DraftGone,
    RecipientPreview,
    WarningDelivery,
    draft_notice_key,
    first_revision,
)
from bot.services.warning_help import HelpPress, WarningHelp
from bot.services.warning_ingest import Ignored, IgnoreReason, Ingested, TestMessage, WarningIngest
from bot.services.warning_reports import ReportOutcome, ReportScope, WarningReports
from bot.services.warning_settings import WarningSettings
from storage.models import Institution, User
from storage.warning_models import WarningRevision

__all__ = [
    "AckOutcome",
    "CadreList",
    "ContactOutcome",
    "CountyAckStatus",
    "DraftEnd",
    "DraftGone",
    "Ended",
    "HandBack",
    "HelpPress",
    "IgnoreReason",
    "Ignored",
    "Ingested",
    "InstitutionAck",
    "ManualWarning",
    "RecipientPreview",
    "ReportOutcome",
    "ReportScope",
    "RoundStarted",
    "RoundSummary",
    "TestMessage",
    "WarningAckStatus",
    "WarningDelivery",
    "WarningEdit",
    "WarningService",
    "WarningSettings",
    "draft_notice_key",
]


class ManualWarning(BaseModel):
    """What staff give for a warning of their own; onset defaults to now."""

    model_config = ConfigDict(frozen=True)

    kind: WarningKind
    level: WarningLevel
    headline: str
    description: str = ""
    instruction: str = ""
    onset: datetime | None = None
    expires: datetime | None = None
    target: WarningTarget


class WarningEdit(BaseModel):
    """A revision by staff: only what is given changes. The target never does, so recipients stay the same."""

    model_config = ConfigDict(frozen=True)

    level: WarningLevel | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    expires: datetime | None = None


class WarningService(WarningIngest, WarningAcks, WarningHelp, WarningReports, ContactRounds):
    async def create_manual(self, actor: User, spec: ManualWarning) -> EarlyWarning:
        self._require_staff(actor, spec.target.regions)
        for region in spec.target.regions:
            if await self._storage.regions.get(region) is None:
                raise Refusal("unknown_region", code=region)
        now = self._clock.now()
        onset = spec.onset or now
        if spec.expires is not None and spec.expires <= max(onset, now):
            raise Refusal("warning_expires_in_past")
        new = NewWarning(
            kind=spec.kind,
            level=spec.level,
            headline=checked_text(spec.headline, field_name="headline", minimum=1) or "",
            description=checked_text(spec.description, field_name="text") or "",
            instruction=checked_text(spec.instruction, field_name="text") or "",
            onset=onset,
            expires=spec.expires,
            target=spec.target,
            origin=WarningOrigin.MANUAL,
            created_by=actor.telegram_id,
            created_at=now,
        )
        async with self._storage.db.transaction():
            warning = await self._storage.warnings.add(new, first_revision(new, actor_id=actor.telegram_id, at=now))
            await self._audit(actor.telegram_id, "warning.created", warning)
        return warning

    async def send(self, actor: User, warning_id: int) -> WarningDelivery:
        """Send a draft (manual, forecast, or an official blue/yellow one) to everyone it concerns."""
        now = self._clock.now()
        async with self._storage.db.transaction():
            warning = await self.get(warning_id)
            self._require_staff(actor, warning.target.regions)
            if warning.status is not WarningStatus.DRAFT:
                # A stale 📤 under a draft that never went out must not read "already sent": say what became of it.
                gone = await self.why_not_sent(warning)
                if gone is None:
                    raise Refusal("warning_not_draft")
                if gone.end is DraftEnd.SUPERSEDED and gone.by is not None:
                    raise Refusal("warning_draft_superseded", by=gone.by)
                raise Refusal(f"warning_draft_{gone.end.value}")
            if now >= effective_expiry(warning, self._settings.default_duration):
                raise Refusal("warning_expired")
            return await self._send(warning, actor.telegram_id, now)

    async def revise(self, actor: User, warning_id: int, edit: WarningEdit) -> WarningDelivery:
        """升级 / 降级 / 更新 by staff; a sent warning's revision goes to the same recipients."""
        now = self._clock.now()
        async with self._storage.db.transaction():
            warning = await self._editable(actor, warning_id)
            content: dict[str, object] = {}
            if edit.level is not None:
                content["level"] = edit.level
                if edit.headline is None:  # 台风黄色预警：… raised to orange must not keep "黄色" in its headline
                    content["headline"] = relevelled_headline(warning.headline, warning.level, edit.level)
            for name in ("headline", "description", "instruction"):
                value = getattr(edit, name)
                if value is not None:
                    minimum = 1 if name == "headline" else 0
                    content[name] = checked_text(value, field_name=name if minimum else "text", minimum=minimum) or ""
            if edit.expires is not None:
                if edit.expires <= now:
                    raise Refusal("warning_expires_in_past")
                content["expires"] = edit.expires
            # What is already so is no change: a second tap on the new level (or a colleague's on the same picker)
            # would otherwise reach every recipient as an 【更新】 that says nothing new.
            content = {name: value for name, value in content.items() if getattr(warning, name) != value}
            if not content:
                raise Refusal("warning_nothing_changed")
            change = classify_change(warning.level, edit.level or warning.level)
            revised = await self._revise(warning, change, content, actor_id=actor.telegram_id, now=now)
            return await self._delivery_of(revised, change)

    async def cancel(self, actor: User, warning_id: int) -> WarningDelivery:
        """解除 a sent warning (to the same recipients), or withdraw a draft (nobody to tell)."""
        now = self._clock.now()
        async with self._storage.db.transaction():
            warning = await self._editable(actor, warning_id)
            revised = await self._revise(warning, WarningChange.CANCEL, {}, actor_id=actor.telegram_id, now=now)
            return await self._delivery_of(revised, WarningChange.CANCEL)

    async def active(self, scope_region: str | None = None) -> list[EarlyWarning]:
        """Warnings in force (drafts included) that touch the scope; None is the whole city."""
        now = self._clock.now()
        found = await self._storage.warnings.with_status(
            {WarningStatus.DRAFT, WarningStatus.SENT, WarningStatus.UPDATED}
        )
        return [
            w
            for w in found
            if now < effective_expiry(w, self._settings.default_duration)
            and (scope_region is None or _touches(w.target.regions, scope_region))
        ]

    async def in_force_alike(
        self, kind: WarningKind, regions: frozenset[str], *, besides: int | None = None
    ) -> list[EarlyWarning]:
        """Sent warnings of this kind in force over ground these regions share, newest first: what a new warning
        of the kind would duplicate for the homes there (the sender is offered to raise that one instead)."""
        now = self._clock.now()
        return sorted(
            (
                w for w in await self._storage.warnings.with_status(DELIVERED_STATUSES, kind=kind)
                if w.id != besides
                and now < effective_expiry(w, self._settings.default_duration)
                and regions_overlap(w.target.regions, regions)
            ),
            key=lambda w: -w.id,
        )

    async def ended_since(self, since: datetime, scope_region: str | None = None) -> list[EarlyWarning]:
        """Warnings sent, then lifted (解除) or run out since `since`, that touch the scope: their final tally is
        what the bureau reviews after the event. The latest ended first."""
        return [
            w for w in await self._storage.warnings.ended_since(since)
            if scope_region is None or _touches(w.target.regions, scope_region)
        ]

    async def revisions(self, warning_id: int) -> list[WarningRevision]:
        await self.get(warning_id)
        return await self._storage.warnings.revisions(warning_id)

    def checklist(self, kind: WarningKind, institution: Institution | None = None) -> list[ChecklistItem]:
        """The default actions for a kind of warning; with an institution, those that apply to it."""
        return checklist_for(self._checklists, kind, institution)

    async def _editable(self, actor: User, warning_id: int) -> EarlyWarning:
        warning = await self.get(warning_id)
        self._require_staff(actor, warning.target.regions)
        self._require_own(warning)
        if self._has_ended(warning):  # a change would reach everyone as news
            raise Refusal("warning_ended")
        return warning


def _touches(regions: frozenset[str], scope: str) -> bool:
    return regions_overlap(regions, [scope])
