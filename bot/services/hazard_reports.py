"""Reporting a hazard: drafts that survive a restart, the institutions a person may report on, possible
duplicates, and the report itself (with 立查立改, correction on the spot, and folding into a duplicate).

Part of `HazardService` (bot.services.hazards), split off for size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.catalog import HazardArea, default_source_level, is_sensitive, severity_rank
from bot.domain.deadlines import deadline_for
from bot.domain.lifecycle import UNRESOLVED_STATES, HazardAction, HazardState, Refused, can_view
from bot.domain.paging import page_of
from bot.domain.roles import Role
from bot.domain.targeting import on_merge, on_report
from bot.services.errors import Refusal
from bot.services.hazard_core import MIN_DESCRIPTION, HazardCore, HazardOutcome, actor_of, checked_text, may_report_on
from storage.hazard_models import EVENT_REPORT, Hazard, HazardEvent, NewHazard, PhotoKind, PhotoRef, ReportDraft
from storage.models import Institution, User

PICKER_PAGE = 8  # institutions a page of /report's and /drill's picker shows


@dataclass(frozen=True)
class InstitutionChoices:
    """A page of the institutions a person may report on (and log a drill for), as /report and /drill offer them."""

    institutions: list[Institution]  # this page's
    page: int  # 0-based, clamped to the last page there is
    pages: int
    total: int
    clamped: bool = False  # the page asked for no longer exists (fewer institutions now): this is the last one


class HazardReporting(HazardCore):
    # ---- drafts -------------------------------------------------------------------------------------------

    async def save_draft(self, telegram_id: int, draft: ReportDraft) -> None:
        await self._storage.drafts.save(telegram_id, draft, self._clock.now())

    async def load_draft(self, telegram_id: int) -> ReportDraft | None:
        return await self._storage.drafts.get(telegram_id)

    async def discard_draft(self, telegram_id: int) -> bool:
        return await self._storage.drafts.delete(telegram_id)

    # ---- reporting ----------------------------------------------------------------------------------------

    async def institutions_for_report(self, actor: User, query: str | None = None, limit: int = 8) -> list[Institution]:
        """Institutions this person may report on, matching part of a name; recently used first, then by name."""
        needle = (query or "").strip()
        repo = self._storage.institutions
        if actor.role is Role.HEAD:
            own = None if actor.institution_id is None else await repo.get(actor.institution_id)
            candidates = [] if own is None else [own]
            if needle:
                lowered = needle.lower()
                candidates = [i for i in candidates if lowered in i.name_zh.lower() or lowered in i.name_en.lower()]
        elif actor.role is not Role.CITY and actor.region_code is None:
            candidates = []  # misconfigured account: see may_report_on
        elif needle:
            candidates = await repo.search(needle, actor.region_code, limit=10_000)
        else:
            candidates = await repo.in_scope(actor.region_code)
        candidates = [i for i in candidates if may_report_on(actor, i)]
        recent = await self._storage.hazards.recent_institutions(actor.telegram_id, limit=limit)
        rank = {institution_id: position for position, institution_id in enumerate(recent)}
        candidates.sort(key=lambda i: (rank.get(i.id, len(rank)), i.name_zh, i.code))
        return candidates[:limit]

    async def institution_page(self, actor: User, query: str | None, page: int) -> InstitutionChoices:
        """A page of `institutions_for_report`, every one of them (a city admin's whole city) reachable by paging,
        not only the first eight: worked out afresh from the person's scope at every turn of a page."""
        cut = page_of(await self.institutions_for_report(actor, query, limit=10_000), page, PICKER_PAGE)
        return InstitutionChoices(cut.items, cut.page, cut.pages, cut.total, clamped=cut.clamped)

    async def duplicates(self, institution_id: int, area: HazardArea, *, viewer: User | None = None) -> list[Hazard]:
        """Unresolved hazards of the same institution and area, to offer before a report is confirmed.

        Sensitive hazards are listed only to a `viewer` allowed to see them: telling a head "there is already
        an abuse report about your home" is exactly what the sensitive area forbids.
        """
        hazards = await self._storage.hazards.duplicates(institution_id, area)
        if viewer is not None:
            institution = await self._storage.institutions.get(institution_id)
            if institution is None or not may_report_on(viewer, institution):
                return []
        return [h for h in hazards if _may_see_duplicate(h, viewer)]

    async def submit_report(self, actor: User, draft: ReportDraft, *, own_draft: bool = False) -> HazardOutcome:
        """Report a hazard. `own_draft`: `draft` is the actor's saved /report draft, cleared with the report; a
        hazard found in a drill or a self-inspection leaves a half-finished /report draft alone."""
        if draft.institution_id is None:
            raise Refusal("report_incomplete", field="institution")
        institution = await self._storage.institutions.get(draft.institution_id)
        if institution is None or not may_report_on(actor, institution):
            await self._audit_refusal(actor, "report", f"institution:{draft.institution_id}", "not_in_scope")
            raise Refusal("not_in_scope")
        if draft.area is None:
            raise Refusal("report_incomplete", field="area")
        self._check_photos(draft.photos)
        self._check_photos(draft.fixed_on_spot_photos)
        if draft.merge_into_hazard_id is not None:
            return await self._merge(actor, institution, draft, draft.merge_into_hazard_id, own_draft=own_draft)
        if draft.severity is None:
            raise Refusal("report_incomplete", field="severity")
        description = checked_text(draft.description, field_name="description", minimum=MIN_DESCRIPTION)
        assert description is not None
        now = self._clock.now()
        assignee = await self._responsible(institution, draft.area)
        fixed_on_spot = bool(draft.fixed_on_spot_photos)
        new = NewHazard(
            institution_id=institution.id,
            region_code=institution.region_code,
            area=draft.area,
            severity=draft.severity,
            source_level=draft.source_level or default_source_level(actor.role),
            description=description,
            latitude=draft.latitude,
            longitude=draft.longitude,
            address_text=checked_text(draft.address_text, field_name="address"),
            # 立查立改 starts from "reported": that is the only state decide() lets the reporter fix it from.
            state=HazardState.ASSIGNED if assignee is not None and not fixed_on_spot else HazardState.REPORTED,
            reporter_id=actor.telegram_id,
            assignee_id=assignee,
            deadline=deadline_for(draft.severity, now, self._policy),
            reported_at=now,
        )
        async with self._storage.db.transaction():
            hazard = await self._storage.hazards.insert(new, now.astimezone(self._tz).date())
            event = await self._storage.hazards.add_event(
                hazard.id,
                at=now,
                actor_id=actor.telegram_id,
                action=EVENT_REPORT,
                from_state=None,
                to_state=hazard.state,
                detail={"assignee_id": assignee, "deadline": hazard.deadline, "photos": len(draft.photos)},
            )
            await self._add_photos(hazard, draft.photos, event.id, actor, now)
            await self._storage.audit.append(
                actor.telegram_id,
                "hazard.reported",
                target=f"hazard:{hazard.code}",
                detail={"institution_id": institution.id, "area": hazard.area, "severity": hazard.severity},
            )
            if fixed_on_spot:
                applied = await self._apply(
                    actor, hazard, HazardAction.REPORT_FIXED_ON_SPOT, now=now, photos=draft.fixed_on_spot_photos
                )
                if isinstance(applied, Refused):
                    raise Refusal(applied.reason_code.value)
                hazard, event = applied
            if own_draft:
                await self._storage.drafts.delete(actor.telegram_id)
            notices = on_report(
                hazard.facts(), hazard.id, await self._audience(hazard, with_groups=True), actor.telegram_id
            )
            await self._queue_notices(hazard, event, notices)
        return await self._planned(HazardOutcome(hazard=hazard, notices=notices, event=event))

    async def _merge(
        self, actor: User, institution: Institution, draft: ReportDraft, target_id: int, *, own_draft: bool
    ) -> HazardOutcome:
        """Fold a duplicate report into the existing hazard: its photos and description become evidence there.
        A report without photos brings its description alone, as a note: refusing it ("send a photo") left whoever
        had none with nothing to press but a new, duplicate hazard.

        Not through decide(ADD_EVIDENCE): a cadre may add to a duplicate they could not otherwise open, the
        same hazard they just saw; what they may add to is checked here instead.
        """
        note = checked_text(draft.description, field_name="description")
        if not draft.photos and note is None:
            raise Refusal("report_incomplete", field="description")
        now = self._clock.now()
        async with self._storage.db.transaction():
            target = await self._storage.hazards.get(target_id)
            duplicate = target is not None and target.institution_id == institution.id and target.area is draft.area
            hidden = target is not None and not _may_see_duplicate(target, actor)
            if target is not None and hidden:
                await self._audit_refusal(actor, "merge", f"hazard:{target.code}", "sensitive_hidden")
            elif target is None or target.institution_id != institution.id:
                # Only a forged press names a hazard of another institution (a stale draft may name another area).
                where = f"hazard:{target.code}" if target is not None else f"hazard_id:{target_id}"
                await self._audit_refusal(actor, "merge", where, "not_a_duplicate")
            if target is not None and duplicate and not hidden and target.state in UNRESOLVED_STATES:
                target = target.model_copy(update={"updated_at": now})
                raised = draft.severity is not None and severity_rank(draft.severity) > severity_rank(target.severity)
                event = await self._record_merge(actor, target, draft, note, now, raised=raised)
                if actor.telegram_id != target.reporter_id:
                    # They follow it from now on, as its reporter does: /mine lists it, its details open for them,
                    # and they hear how it ends (FixMyStreet's "also reported by").
                    await self._storage.hazards.add_follower(target.id, actor.telegram_id, now, draft.severity)
                    followers = tuple(sorted({*target.followers, actor.telegram_id}))
                    target = target.model_copy(update={"followers": followers})
                if own_draft:
                    await self._storage.drafts.delete(actor.telegram_id)
                audience = await self._audience(target)
                notices = on_merge(target.facts(), target.id, audience, actor.telegram_id, severity_raised=raised)
                await self._queue_notices(target, event, notices)
            else:
                target = None
        # Refused after the block so that the audit entry of a forged attempt is committed, not rolled back.
        if target is None:
            raise Refusal("merge_target_invalid")
        return await self._planned(HazardOutcome(hazard=target, notices=notices, event=event, merged=True))

    async def _record_merge(
        self, actor: User, target: Hazard, draft: ReportDraft, note: str | None, now: datetime, *, raised: bool
    ) -> HazardEvent:
        """The second report in the hazard's history. `raised`: it judged the hazard graver than it stands; the
        severity it gave is recorded and put to staff (who may change a severity), never applied by the reporter."""
        detail: dict[str, object] = {"merged_report": True, "photos": len(draft.photos)}
        if raised and draft.severity is not None:
            detail["severity"] = draft.severity.value
        await self._storage.hazards.update_state(target, expected_state=target.state)
        event = await self._storage.hazards.add_event(
            target.id,
            at=now,
            actor_id=actor.telegram_id,
            action=HazardAction.ADD_EVIDENCE.value,
            from_state=target.state,
            to_state=target.state,
            note=note,
            detail=detail,
        )
        await self._add_photos(target, draft.photos, event.id, actor, now)
        await self._storage.audit.append(
            actor.telegram_id,
            "hazard.evidence_added",
            target=f"hazard:{target.code}",
            detail={"event_id": event.id, **detail},
        )
        return event

    async def _add_photos(
        self, hazard: Hazard, photos: list[PhotoRef], event_id: int, actor: User, now: datetime
    ) -> None:
        for photo in photos:
            await self._storage.hazards.add_photo(
                hazard.id, photo, kind=PhotoKind.BEFORE, event_id=event_id, added_by=actor.telegram_id, added_at=now
            )


def _may_see_duplicate(hazard: Hazard, viewer: User | None) -> bool:
    if not is_sensitive(hazard.area):
        return True
    return viewer is not None and can_view(hazard.facts(), actor_of(viewer))
