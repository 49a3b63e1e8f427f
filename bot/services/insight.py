"""Insight and administration (issue 6) in one place: statistics, charts' data, exports, rankings and notices, and
bulk imports, built once from the parts every other service shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.services.exports import ExportService
from bot.services.imports import ImportService
from bot.services.notices import NoticeService
from bot.services.onboarding import OnboardingService
from bot.services.outbox import OutboxService
from bot.services.stats import StatsService
from bot.services.warnings import WarningService
from storage import Storage


@dataclass(frozen=True)
class Insight:
    stats: StatsService
    exports: ExportService
    notices: NoticeService
    imports: ImportService

    @classmethod
    def build(
        cls,
        storage: Storage,
        clock: Clock,
        settings: Settings,
        onboarding: OnboardingService,
        *,
        outbox: OutboxService | None = None,
        warnings: WarningService | None = None,
        tracking_since: date | None = None,
    ) -> Insight:
        """`outbox`, `warnings`: share the application's own, so that notices wake its sender at once and the
        registry goes through the same warning service; `tracking_since` as for the calendar duties."""
        tz = settings.tz
        stats = StatsService(storage, clock, tz, tracking_since=tracking_since)
        return cls(
            stats=stats,
            exports=ExportService(storage, tz, stats),
            notices=NoticeService(storage, clock, stats, outbox or OutboxService(storage, clock)),
            imports=ImportService(
                storage, clock, tz, onboarding, timedelta(hours=settings.invite_ttl_hours), warnings
            ),
        )
