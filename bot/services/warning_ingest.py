"""Warnings that arrive by themselves: official CAP alerts and forecast-rule findings.

An official alert is stored once per (sender, identifier); an Update or Cancel that references a stored warning
becomes its next revision (升级 / 降级 / 更新 / 解除), never a second warning. A forecast finding becomes a draft
labelled 预报研判（非官方预警）, unless an official warning of the same kind already covers the county; an
official warning arriving withdraws the forecast drafts it makes redundant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.forecast_rules import ForecastFinding, ThresholdRule
from bot.domain.warnings import (
    ACTIVE_STATUSES,
    AutoSend,
    EarlyWarning,
    MessageType,
    NewWarning,
    WarningChange,
    WarningKind,
    WarningLevel,
    WarningOrigin,
    WarningStatus,
    WarningTarget,
    auto_send_decision,
    covered_by_official,
    effective_expiry,
    is_in_force,
    regions_overlap,
    revision_change,
)
from bot.services.cap import CapAlert, CapInfo
from bot.services.cap_mapping import CityArea, announces_lifting, map_kind, map_level, match_areas
from bot.services.warning_core import SUPERSEDED, WarningCore, WarningDelivery, first_revision

_TEST_STATUSES = frozenset({"Test", "Exercise"})


class IgnoreReason(StrEnum):
    FETCH_FAILED = "fetch_failed"  # network error, timeout or an HTTP error status
    TOO_LARGE = "too_large"
    UNSAFE_XML = "unsafe_xml"  # declared a DTD or entities: refused unparsed
    INVALID = "invalid"  # not CAP, RSS or Atom, or missing what CAP requires
    NOT_ACTUAL = "not_actual"  # status System or Draft
    NOT_A_WARNING = "not_a_warning"  # msgType Ack or Error, or no info block
    OUTSIDE_CITY = "outside_city"
    UNKNOWN_REFERENCE = "unknown_reference"  # cancels a warning we never stored
    ALREADY_ENDED = "already_ended"  # expired before it reached us, or revises a lifted warning
    DUPLICATE = "duplicate"  # this message, or an unchanged forecast, is already stored
    SUPPRESSED = "suppressed"  # a forecast finding while an official warning covers it
    FAILED = "failed"  # a fault of ours reading it, logged with its traceback; tried again at the next poll


@dataclass(frozen=True)
class Ignored:
    source: str  # the feed or document address, or "forecast:<county>"
    reason: IgnoreReason
    detail: str = ""


@dataclass(frozen=True)
class TestMessage:
    """A Test or Exercise alert for the city: shown to admins only, never stored or sent."""

    __test__ = False  # not a pytest test class, despite its name

    source: str
    status: str
    sender: str
    identifier: str
    msg_type: str
    kind: WarningKind
    level: WarningLevel
    headline: str
    regions: frozenset[str]


@dataclass(frozen=True)
class Ingested:
    warning: EarlyWarning  # as stored, at its latest revision
    change: WarningChange  # ISSUE for a new warning
    delivery: WarningDelivery | None = None  # what must go out now; None while nothing needs sending
    superseded: tuple[EarlyWarning, ...] = ()  # forecast drafts an official warning made redundant


class WarningIngest(WarningCore):
    async def city_area(self) -> CityArea:
        return CityArea.from_regions(self._settings.city_code, await self._storage.regions.all())

    async def ingest_official(
        self, alert: CapAlert, *, source_url: str, feed_url: str | None = None, city: CityArea | None = None
    ) -> Ingested | Ignored | TestMessage:
        info = alert.info()
        if alert.msg_type not in {t.value for t in MessageType}:
            return Ignored(source_url, IgnoreReason.NOT_A_WARNING, f"{alert.msg_type} {alert.identifier}")
        if info is None:
            # CAP lets a Cancel carry no <info>: its references say what ends. Anything else without one says
            # nothing we could pass on.
            if alert.msg_type == MessageType.CANCEL and alert.status == "Actual":
                return await self._cancel_bare(alert, source_url)
            return Ignored(source_url, IgnoreReason.NOT_A_WARNING, f"{alert.msg_type} {alert.identifier}")
        city = city or await self.city_area()
        kind, level = map_kind(info), map_level(info)
        area = match_areas(info.areas, city)
        if alert.status != "Actual":
            if alert.status in _TEST_STATUSES and area is not None:
                return TestMessage(
                    source_url,
                    alert.status,
                    alert.sender,
                    alert.identifier,
                    alert.msg_type,
                    kind,
                    level,
                    info.headline,
                    area.regions,
                )
            reason = IgnoreReason.NOT_ACTUAL if area is not None else IgnoreReason.OUTSIDE_CITY
            return Ignored(source_url, reason, f"{alert.status} {alert.identifier}")
        now = self._clock.now()
        message = _message(alert, source_url)
        async with self._storage.db.transaction():
            if await self._storage.warnings.by_message(alert.sender, alert.identifier) is not None:
                return Ignored(source_url, IgnoreReason.DUPLICATE, alert.identifier)
            stored = await self._referenced(alert)
            if stored is not None:
                return await self._revise_official(stored, alert, info, level, message, source_url, now)
            if alert.msg_type == MessageType.CANCEL or announces_lifting(info):
                return Ignored(source_url, IgnoreReason.UNKNOWN_REFERENCE, alert.identifier)
            if area is None:
                return Ignored(source_url, IgnoreReason.OUTSIDE_CITY, info.headline or alert.identifier)
            defaults = self._checklists.defaults(kind)
            new = NewWarning(
                kind=kind,
                level=level,
                headline=info.headline or info.event,
                description=info.description,
                instruction=info.instruction,
                onset=info.onset or info.effective or alert.sent,
                expires=info.expires,
                target=WarningTarget(
                    regions=area.regions,
                    institution_types=defaults.institution_types,
                    risk_tags=defaults.risk_tags,
                ),
                origin=WarningOrigin.OFFICIAL,
                sender=alert.sender,
                identifier=alert.identifier,
                references=tuple(str(r) for r in alert.references),
                feed_url=feed_url,
                created_at=now,
            )
            if now >= effective_expiry(new, self._settings.default_duration):
                return Ignored(source_url, IgnoreReason.ALREADY_ENDED, alert.identifier)
            warning = await self._storage.warnings.add(new, first_revision(new, actor_id=None, at=now, message=message))
            await self._audit(None, "warning.received", warning, identifier=alert.identifier)
            superseded = await self._withdraw_forecasts(warning, now)
            delivery = None
            if auto_send_decision(WarningOrigin.OFFICIAL, level, self._settings.policy) is AutoSend.SEND:
                delivery = await self._send(warning, None, now)
                warning = delivery.warning
            return Ingested(warning, WarningChange.ISSUE, delivery, superseded)

    async def _cancel_bare(self, alert: CapAlert, source_url: str) -> Ingested | Ignored:
        """A Cancel without <info>: it lifts the stored warning it references, if any."""
        now = self._clock.now()
        async with self._storage.db.transaction():
            if await self._storage.warnings.by_message(alert.sender, alert.identifier) is not None:
                return Ignored(source_url, IgnoreReason.DUPLICATE, alert.identifier)
            stored = await self._referenced(alert)
            if stored is not None:
                message = _message(alert, source_url)
                return await self._revise_official(stored, alert, None, stored.level, message, source_url, now)
        return Ignored(source_url, IgnoreReason.UNKNOWN_REFERENCE, alert.identifier)

    async def _referenced(self, alert: CapAlert) -> EarlyWarning | None:
        """The stored warning an Update or Cancel names among its references, if any."""
        for reference in alert.references:
            stored = await self._storage.warnings.by_message(reference.sender, reference.identifier)
            if stored is not None:
                return stored
        return None

    async def _revise_official(
        self,
        stored: EarlyWarning,
        alert: CapAlert,
        info: CapInfo | None,
        level: WarningLevel,
        message: dict[str, Any],
        source_url: str,
        now: datetime,
    ) -> Ingested | Ignored:
        if stored.status is WarningStatus.CANCELLED:
            return Ignored(source_url, IgnoreReason.ALREADY_ENDED, f"{alert.identifier} revises a lifted warning")
        lifts = info is None or announces_lifting(info)
        change = revision_change(MessageType(alert.msg_type), stored.level, level, lifts=lifts)
        content: dict[str, Any] = {"references": (*stored.references, *(str(r) for r in alert.references))}
        if change is not WarningChange.CANCEL and info is not None:
            content.update(
                level=level,
                headline=info.headline or stored.headline,
                description=info.description or stored.description,
                instruction=info.instruction or stored.instruction,
                onset=info.onset or info.effective or stored.onset,
                expires=info.expires,
            )
        revised = await self._revise(stored, change, content, actor_id=None, now=now, message=message)
        delivery: WarningDelivery | None = None
        if revised.sent_at is not None:
            delivery = await self._delivery_of(revised, change)
        elif change is not WarningChange.CANCEL and (
            auto_send_decision(WarningOrigin.OFFICIAL, level, self._settings.policy) is AutoSend.SEND
        ):
            delivery = await self._send(revised, None, now)  # a yellow draft raised to orange goes out now
            revised = delivery.warning
        return Ingested(revised, change, delivery)

    async def expire_left_feed(self, feed_url: str, present: set[str]) -> list[EarlyWarning]:
        """End the open-ended official warnings of a feed none of whose documents it still lists."""
        now = self._clock.now()
        ended = []
        async with self._storage.db.transaction():
            for warning in await self._storage.warnings.with_status(ACTIVE_STATUSES, origin=WarningOrigin.OFFICIAL):
                if warning.feed_url != feed_url or warning.expires is not None:
                    continue
                if not (await self._storage.warnings.source_urls(warning.id)) & present:
                    ended.append(await self._end(warning, WarningStatus.EXPIRED, now, reason="left_feed"))
        return ended

    async def _withdraw_forecasts(self, official: EarlyWarning, now: datetime) -> tuple[EarlyWarning, ...]:
        drafts = await self._storage.warnings.with_status(
            {WarningStatus.DRAFT}, origin=WarningOrigin.FORECAST, kind=official.kind
        )
        return tuple(
            [
                await self._end(draft, WarningStatus.CANCELLED, now, reason=SUPERSEDED, by=official.id)
                for draft in drafts
                if regions_overlap(draft.target.regions, official.target.regions)
            ]
        )

    # ---- forecast rules ------------------------------------------------------------------------------------

    async def store_forecast(self, county: str, finding: ForecastFinding, rule: ThresholdRule) -> Ingested | Ignored:
        """A draft for staff, kept one per kind and county: a later run revises it rather than adding another."""
        source = f"forecast:{county}"
        now = self._clock.now()
        async with self._storage.db.transaction():
            active = await self._storage.warnings.with_status(ACTIVE_STATUSES, kind=finding.kind)
            if covered_by_official(finding.kind, [county], active, now, self._settings.default_duration):
                return Ignored(source, IgnoreReason.SUPPRESSED, f"{finding.kind} {finding.level}")
            # Only one still in force: an ended one may not be marked so yet (nothing marks it without a feed), and
            # a new heat wave weeks later deserves a draft of its own, not "already sent".
            mine = [
                w
                for w in active
                if w.origin is WarningOrigin.FORECAST
                and county in w.target.regions
                and is_in_force(w, now, self._settings.default_duration)
            ]
            if mine:
                return await self._revise_forecast(mine[0], finding, rule, source, now)
            decision = auto_send_decision(WarningOrigin.FORECAST, finding.level, self._settings.policy)
            assert decision is AutoSend.DRAFT  # forecast warnings never go out by themselves
            defaults = self._checklists.defaults(finding.kind)
            new = NewWarning(
                kind=finding.kind,
                level=finding.level,
                headline=rule.summary_zh,
                onset=finding.onset,
                expires=finding.expires,
                target=WarningTarget(
                    regions=frozenset({county}),
                    institution_types=defaults.institution_types,
                    risk_tags=defaults.risk_tags,
                ),
                origin=WarningOrigin.FORECAST,
                rule=rule.id,
                created_at=now,
            )
            warning = await self._storage.warnings.add(new, first_revision(new, actor_id=None, at=now))
            await self._audit(None, "warning.forecast", warning, rule=rule.id, observed=finding.observed)
            return Ingested(warning, WarningChange.ISSUE)

    async def _revise_forecast(
        self, draft: EarlyWarning, finding: ForecastFinding, rule: ThresholdRule, source: str, now: datetime
    ) -> Ingested | Ignored:
        if draft.status is not WarningStatus.DRAFT:
            # Staff sent it: it is their warning now, and a forecast run does not speak for them.
            return Ignored(source, IgnoreReason.DUPLICATE, f"warning {draft.id} already sent")
        # Unchanged as its readers see it: level, words (the rule's) and validity. The onset alone is not shown, and
        # a cold wave's moves with the hour of the run: a "revision" that changed nothing anyone reads was announced
        # to every staff member again, identical to the day before.
        if (draft.level, draft.rule, draft.expires) == (finding.level, rule.id, finding.expires):
            return Ignored(source, IgnoreReason.DUPLICATE, f"warning {draft.id} unchanged")
        change = revision_change(MessageType.UPDATE, draft.level, finding.level)
        content = {
            "level": finding.level,
            "headline": rule.summary_zh,
            "onset": finding.onset,
            "expires": finding.expires,
            "rule": rule.id,
        }
        revised = await self._revise(draft, change, content, actor_id=None, now=now)
        return Ingested(revised, change)


def _message(alert: CapAlert, source_url: str) -> dict[str, Any]:
    """What a revision keeps of the CAP message: its identity, never the document."""
    return {
        "msg_type": alert.msg_type,
        "sender": alert.sender,
        "identifier": alert.identifier,
        "cap_sent": alert.sent,
        "references": tuple(str(r) for r in alert.references),
        "source_url": source_url,
    }
