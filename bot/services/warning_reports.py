"""What a head did under a warning (落实情况), as evidence on a checklist: the relief station's street patrol
(夏季送清凉、冬季送温暖), the funeral home's body-transport vehicles checked and drivers briefed and logged, the
elderly home's power, water and fire risk checked. The warning's checklist says what to do; 已收到并落实 says
only that it will be done.

Only a head (or stand-in) of an institution the warning reached may report, while it is in force, as answers are
recorded. Several reports per warning (a patrol each night), each kept with its time and photos. A first report from
a head who had not answered counts as their 已收到并落实. Staff are not paged per report: they read them in
/warnstatus and the export; a head who needs help presses 🆘, which stays apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.warnings import DELIVERED_STATUSES, EarlyWarning
from bot.services.errors import Refusal
from bot.services.hazard_core import checked_text
from bot.services.warning_core import WarningCore
from storage.hazard_models import PhotoRef
from storage.models import User
from storage.warning_models import AckResponse, RecipientKind, WarningAck, WarningReport

# A few sentences: who, when, what was done, with what result. Shorter than four characters ("好的", "已办") says
# nothing staff could read; longer than a thousand is a document, not a line in a tally.
MIN_REPORT, MAX_REPORT = 4, 1000


@dataclass(frozen=True)
class ReportScope:
    """A warning in force and the institutions the person reports for under it."""

    warning: EarlyWarning
    institutions: tuple[int, ...]


@dataclass(frozen=True)
class ReportOutcome:
    warning: EarlyWarning
    reports: tuple[WarningReport, ...]  # one per institution the person answers for
    answered: bool  # the report was also recorded as their 已收到并落实 (they had not answered)
    count: int  # reports under the warning for the person's institution, this one included


def report_text(text: str | None) -> str:
    """The report's words, cleaned and within the limits, or a Refusal (too short, too long, classified)."""
    return checked_text(text, field_name="warning_report", minimum=MIN_REPORT, maximum=MAX_REPORT) or ""


class WarningReports(WarningCore):
    async def report_scope(self, user: User, warning_id: int) -> ReportScope:
        """The institutions `user` reports for under the warning; a Refusal when it is not theirs to report on
        (not sent, not reaching them as a head) or has ended."""
        warning = await self.get(warning_id)
        if warning.sent_at is None:
            raise Refusal("warning_not_recipient")
        mine = await self._storage.warnings.recipients_in_chat(warning_id, user.telegram_id, (RecipientKind.HEAD,))
        places = tuple(sorted({r.institution_id for r in mine if r.institution_id is not None}))
        if not places:
            raise Refusal("warning_not_recipient")
        if self._has_ended(warning):
            raise Refusal("warning_report_ended")
        return ReportScope(warning, places)

    async def add_report(
        self, user: User, warning_id: int, text: str | None, photos: Sequence[PhotoRef] = ()
    ) -> ReportOutcome:
        now = self._clock.now()
        async with self._storage.db.transaction():
            scope = await self.report_scope(user, warning_id)
            words = report_text(text)
            warning = scope.warning
            answered = {a.institution_id for a in await self._storage.warnings.acks(warning_id, user.telegram_id)}
            unanswered = [place for place in scope.institutions if place not in answered]
            for place in unanswered:
                await self._storage.warnings.record_ack(WarningAck(
                    warning_id=warning_id, user_id=user.telegram_id, institution_id=place,
                    response=AckResponse.RECEIVED, revision=warning.revision, at=now,
                ))
            if unanswered:
                await self._audit(user.telegram_id, "warning.ack_received", warning, institutions=unanswered,
                                  by="report")
            reports = tuple([
                await self._storage.warning_reports.add(warning_id, place, user.telegram_id, words, photos,
                                                        warning.revision, now)
                for place in scope.institutions
            ])
            await self._audit(user.telegram_id, "warning.report", warning, institutions=list(scope.institutions),
                              reports=[r.id for r in reports], photos=len(photos), length=len(words))
            first = scope.institutions[0]
            count = sum(1 for r in await self._storage.warning_reports.of_warning(warning_id)
                        if r.institution_id == first)
        return ReportOutcome(warning, reports, bool(unanswered), count)

    async def reports(self, warning_id: int) -> dict[int, list[WarningReport]]:
        """The reports under the warning by institution, oldest first."""
        found: dict[int, list[WarningReport]] = {}
        for report in await self._storage.warning_reports.of_warning(warning_id):
            found.setdefault(report.institution_id, []).append(report)
        return found

    async def newest_reportable(self, user_id: int) -> EarlyWarning | None:
        """The newest warning in force that reached this person as a head, answered or not: what a typed
        "巡查已完成，救助 3 人" most likely reports on."""
        warnings = await self._storage.warnings.with_status(DELIVERED_STATUSES)
        for warning in sorted(warnings, key=lambda w: (w.sent_at or w.created_at, w.id), reverse=True):
            if self._has_ended(warning):
                continue
            if await self._storage.warnings.recipients_in_chat(warning.id, user_id, (RecipientKind.HEAD,)):
                return warning
        return None
