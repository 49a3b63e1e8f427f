"""The monthly self-inspection (每月隐患自查自纠): one checklist per institution and month, answered item by item.

✅ ok, ➖ not applicable, ❌ fail: a failed item needs a note (and may carry a photo) and becomes a hazard in the
hazard loop at once, found by a self-check, its deadline set by severity. Running the checklist again in the
same month amends the month's inspection: answers are replaced. A failed item whose hazard (from this sheet or an
earlier month's) is still unresolved points at that hazard rather than opening a duplicate. The month counts as done
from the first finish.

A sheet is open only during its month (`sheet_closed`): one not finished by the month's last day is expired, never
finished late, so the month stays missed in every figure. Its answers, and the hazards its ❌ items became, stay
on record; a ❌ the head was still describing as the month ended is a problem found all the same and may still
become a hazard (`keep_late_failure`), without the sheet counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.catalog import Severity, SourceLevel
from bot.domain.checklists import (
    Checklist,
    ChecklistItem,
    default_checklist,
    hazard_description,
    items_for,
    unknown_codes,
)
from bot.domain.compliance import SELF_INSPECTION_RULE, DutyStatus, Period, period_of, sheet_closed
from bot.domain.lifecycle import UNRESOLVED_STATES
from bot.domain.roles import Role
from bot.services.calendar import CalendarServiceBase
from bot.services.duties import load_duties, month_key, month_start
from bot.services.errors import Refusal
from bot.services.hazard_core import MAX_TEXT, checked_text
from bot.services.hazards import HazardOutcome
from storage.calendar_models import Answer, InspectionAnswer, SelfInspection
from storage.hazard_models import PhotoRef, ReportDraft
from storage.models import Institution, InstitutionType, RiskTag, User


def most_note(item: ChecklistItem) -> int:
    """The longest note a ❌ on `item` may carry: the note becomes the hazard's description behind the item's name,
    and a description holds MAX_TEXT characters."""
    return MAX_TEXT - len(hazard_description(item, ""))


def inspection_period(inspection: SelfInspection) -> Period:
    """The month an inspection is of, as a duty period (its last day is when the sheet closes)."""
    return period_of(SELF_INSPECTION_RULE, month_start(inspection.month))


@dataclass(frozen=True)
class InspectionSheet:
    """The checklist as it stands: what the self-editing message shows."""

    inspection: SelfInspection
    institution: Institution
    items: list[ChecklistItem]
    answers: dict[str, InspectionAnswer]  # by item code

    @property
    def period(self) -> Period:
        return inspection_period(self.inspection)

    @property
    def unanswered(self) -> list[ChecklistItem]:
        return [item for item in self.items if item.code not in self.answers]

    @property
    def next_item(self) -> ChecklistItem | None:
        pending = self.unanswered
        return pending[0] if pending else None

    @property
    def complete(self) -> bool:
        return not self.unanswered

    def count(self, answer: Answer) -> int:
        return sum(1 for item in self.items if (a := self.answers.get(item.code)) is not None and a.answer is answer)


@dataclass(frozen=True)
class AnswerOutcome:
    sheet: InspectionSheet
    hazard: HazardOutcome | None  # set when a ❌ opened a new hazard: its notices are to be sent
    kept: int | None = None  # a ❌ that points at the item's hazard still unresolved, from this sheet or an earlier


class SelfInspectionService(CalendarServiceBase):
    checklist: Checklist = default_checklist()

    def use_checklist(self, checklist: Checklist) -> None:
        """Swap in a deployment's own checklist; refuses one naming unknown institution types or risk tags."""
        unknown = unknown_codes(checklist, (t.value for t in InstitutionType), (t.value for t in RiskTag))
        if unknown:
            raise ValueError(f"checklist names unknown codes: {', '.join(unknown)}")
        self.checklist = checklist

    async def start(self, head: User, month: str | None = None) -> InspectionSheet:
        """This month's inspection of the head's institution: new, resumed, or reopened to amend.

        A past month is closed: not started late, not carried on, not amended (the overdue notice has already told
        the county, and a finished month's record stands as it was at the month's end).
        """
        institution = await self._own_institution(head)
        current = month_key(self.today())
        month = month or current
        if month > current:
            raise Refusal("month_in_future")
        if month < current:
            raise Refusal("month_closed")
        inspection = await self._storage.calendar.start_inspection(
            institution.id, month, head.telegram_id, self._clock.now()
        )
        return await self._sheet(inspection, institution)

    async def sheet(self, head: User, inspection_id: int) -> InspectionSheet:
        inspection, institution = await self._own_inspection(head, inspection_id)
        return await self._sheet(inspection, institution)

    def closed(self, inspection: SelfInspection) -> bool:
        """Whether the inspection's month has ended: no answer, finish or amendment is taken any more."""
        return sheet_closed(inspection_period(inspection), self.today())

    async def acknowledge_closed(self, head: User, inspection_id: int) -> InspectionSheet:
        """The head has been told their sheet's month has ended. An unfinished one is recorded as expired in the
        audit log (with how far it got), for the bureau; its answers stay where they are."""
        inspection, institution = await self._own_inspection(head, inspection_id)
        sheet = await self._sheet(inspection, institution)
        if self.closed(inspection) and not inspection.done:
            await self._storage.audit.append(
                head.telegram_id,
                "selfcheck.expired",
                target=f"institution:{institution.id}",
                detail={
                    "month": inspection.month,
                    "answered": len(sheet.items) - len(sheet.unanswered),
                    "total": len(sheet.items),
                    "failed": sheet.count(Answer.FAIL),
                },
            )
        return sheet

    async def answer(
        self,
        head: User,
        inspection_id: int,
        item_code: str,
        answer: Answer,
        *,
        note: str | None = None,
        photo: PhotoRef | None = None,
        severity: Severity | None = None,
    ) -> AnswerOutcome:
        inspection, institution = await self._own_inspection(head, inspection_id)
        if self.closed(inspection):
            raise Refusal("selfcheck_closed")
        return await self._record(head, inspection, institution, item_code, answer, note, photo, severity)

    async def keep_late_failure(
        self,
        head: User,
        inspection_id: int,
        item_code: str,
        *,
        note: str | None,
        photo: PhotoRef | None = None,
        severity: Severity | None = None,
    ) -> AnswerOutcome:
        """A ❌ the head began describing before the sheet's month ended and completed after: the problem was found
        all the same, so it becomes a hazard (or points at the item's unresolved one) and is kept on the closed
        sheet. The sheet still cannot be finished: this never makes the month count."""
        inspection, institution = await self._own_inspection(head, inspection_id)
        return await self._record(head, inspection, institution, item_code, Answer.FAIL, note, photo, severity)

    async def _record(
        self,
        head: User,
        inspection: SelfInspection,
        institution: Institution,
        item_code: str,
        answer: Answer,
        note: str | None,
        photo: PhotoRef | None,
        severity: Severity | None,
    ) -> AnswerOutcome:
        item = self.checklist.get(item_code)
        if item is None or item not in items_for(institution, self.checklist):
            raise Refusal("item_unknown")
        text = checked_text(note, field_name="note")
        if answer is Answer.FAIL and text is None:
            raise Refusal("note_required")
        if answer is Answer.FAIL and text is not None and len(text) > most_note(item):
            raise Refusal("note_too_long", max=most_note(item))
        self._check_photos([] if photo is None else [photo])
        now = self._clock.now()
        outcome: HazardOutcome | None = None
        async with self._storage.db.transaction():
            previous = (await self._storage.calendar.answers(inspection.id)).get(item.code)
            hazard_id = None if previous is None else previous.hazard_id
            kept: int | None = None
            if answer is Answer.FAIL:
                if not await self._still_unresolved(hazard_id):
                    # An item that failed last month and is still being corrected is the same problem found again,
                    # not a new hazard with a deadline of its own.
                    hazard_id = await self._storage.calendar.unresolved_item_hazard(institution.id, item.code)
                if hazard_id is None:
                    assert text is not None
                    outcome = await self._report(head, institution, item, text, photo, severity or item.severity)
                    hazard_id = outcome.hazard.id
                else:
                    kept = hazard_id
            await self._storage.calendar.save_answer(
                InspectionAnswer(
                    inspection_id=inspection.id,
                    item_code=item.code,
                    answer=answer,
                    note=text,
                    photo=photo,
                    hazard_id=hazard_id,
                    answered_by=head.telegram_id,
                    answered_at=now,
                )
            )
        if outcome is not None:
            await self._plan([outcome])
        return AnswerOutcome(await self._sheet(inspection, institution), outcome, kept)

    async def finish(self, head: User, inspection_id: int) -> InspectionSheet:
        inspection, institution = await self._own_inspection(head, inspection_id)
        if self.closed(inspection):
            raise Refusal("selfcheck_closed")
        sheet = await self._sheet(inspection, institution)
        if not sheet.complete:
            raise Refusal("selfcheck_incomplete", missing=len(sheet.unanswered), counting="missing")
        amending = inspection.done
        async with self._storage.db.transaction():
            inspection = await self._storage.calendar.finish_inspection(
                inspection.id, head.telegram_id, self._clock.now()
            )
            await self._storage.audit.append(
                head.telegram_id,
                "selfcheck.amended" if amending else "selfcheck.finished",
                target=f"institution:{institution.id}",
                detail={"month": inspection.month, "failed": sheet.count(Answer.FAIL)},
            )
        return await self._sheet(inspection, institution)

    async def status(self, institution: Institution, today: date | None = None) -> DutyStatus:
        duties = await load_duties(
            self._storage, today or self.today(), judged_from=self._tracking_since, institution_id=institution.id
        )
        return duties.self_inspection(institution)

    async def _report(
        self,
        head: User,
        institution: Institution,
        item: ChecklistItem,
        note: str,
        photo: PhotoRef | None,
        severity: Severity,
    ) -> HazardOutcome:
        if self._hazards is None:
            raise RuntimeError("SelfInspectionService needs a HazardService to turn failed items into hazards")
        draft = ReportDraft(
            institution_id=institution.id,
            area=item.area,
            severity=severity,
            description=hazard_description(item, note),
            photos=[] if photo is None else [photo],
            source_level=SourceLevel.SELF_CHECK,
        )
        return await self._hazards.submit_report(head, draft)

    async def _still_unresolved(self, hazard_id: int | None) -> bool:
        if hazard_id is None:
            return False
        hazard = await self._storage.hazards.get(hazard_id)
        return hazard is not None and hazard.state in UNRESOLVED_STATES

    async def _own_institution(self, head: User) -> Institution:
        institution = None
        if head.role is Role.HEAD and head.institution_id is not None:
            institution = await self._storage.institutions.get(head.institution_id)
        if institution is None or not institution.active:
            raise await self._refuse(head, "selfcheck", f"user:{head.telegram_id}")
        return institution

    async def _own_inspection(self, head: User, inspection_id: int) -> tuple[SelfInspection, Institution]:
        institution = await self._own_institution(head)
        inspection = await self._storage.calendar.inspection(inspection_id)
        if inspection is None or inspection.institution_id != institution.id:
            raise await self._refuse(head, "selfcheck", f"self_inspection:{inspection_id}")
        return inspection, institution

    async def _sheet(self, inspection: SelfInspection, institution: Institution) -> InspectionSheet:
        answers = await self._storage.calendar.answers(inspection.id)
        return InspectionSheet(inspection, institution, items_for(institution, self.checklist), answers)
