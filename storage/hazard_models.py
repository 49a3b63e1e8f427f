"""Typed records of the hazard loop (migration 0002). Times are aware datetimes in UTC, as in storage.models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.lifecycle import HazardFacts, HazardState, StateKind, state_kind


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PhotoKind(StrEnum):
    BEFORE = "before"  # the hazard as found
    AFTER = "after"  # the rectification


# History entries that are not a HazardAction: the report itself and the duplicate folded into an older hazard.
EVENT_REPORT = "report"


class NewHazard(_Model):
    """What a report stores; the repository adds the id and allocates the code."""

    institution_id: int
    region_code: str
    area: HazardArea
    severity: Severity
    source_level: SourceLevel
    description: str
    latitude: float | None = None
    longitude: float | None = None
    address_text: str | None = None
    state: HazardState
    reporter_id: int
    assignee_id: int | None = None
    deadline: datetime | None = None
    reported_at: datetime


class Hazard(NewHazard):
    id: int
    code: str  # e.g. YH-20260301-0007
    acknowledged_at: datetime | None = None
    fixed_at: datetime | None = None  # when the rectification now awaiting (or past) verification was submitted
    fixed_by: int | None = None  # and who submitted it (migration 0017): four eyes, they may not accept it
    closed_at: datetime | None = None  # when it was verified and closed, or withdrawn (migration 0021)
    closed_on_time: bool | None = None
    measures: str | None = None
    updated_at: datetime
    # Withdrawn (作废): why, as a bot.domain.withdrawal.WithdrawalCategory value, and the reason staff gave.
    withdrawal_category: str | None = None
    withdrawal_reason: str | None = None
    # Who follows it besides its reporter (migration 0028): those who added their own report of it (📎 / 💬 on a
    # possible duplicate). They see it and hear of it as its reporter does.
    followers: tuple[int, ...] = ()

    @property
    def kind(self) -> StateKind:
        return state_kind(self.state)

    def facts(self) -> HazardFacts:
        return HazardFacts(
            state=self.state,
            region_code=self.region_code,
            institution_id=self.institution_id,
            reporter_id=self.reporter_id,
            area=self.area,
            deadline=self.deadline,
            assignee_id=self.assignee_id,
            fixed_at=self.fixed_at,
            fixed_by=self.fixed_by,
            closed_at=self.closed_at,
            followers=frozenset(self.followers),
        )


class ReportedCounts(_Model):
    """How many hazards one person reported, as /mine counts them."""

    unresolved: int  # not yet verified and closed
    closed_recently: int  # closed or withdrawn since the listing's cut-off: listed after the unresolved
    closed_before: int  # closed or withdrawn before it: left out of the listing, only counted
    added_to: int = 0  # others' hazards the person follows, having added to them (any state): /mine names them too

    @property
    def listed(self) -> int:
        return self.unresolved + self.closed_recently


class InstitutionHazardCounts(_Model):
    """One institution's hazards, as its card (/institution) counts them."""

    unresolved: dict[HazardState, int]  # by state; states with none are left out
    overdue: int  # of the unresolved: open past their deadline (lifecycle.is_overdue)
    closed_recently: int  # closed since the card's cut-off
    withdrawn_recently: int = 0  # withdrawn (作废) since the same cut-off: ended, never rectified

    @property
    def unresolved_total(self) -> int:
        return sum(self.unresolved.values())


class HazardEvent(_Model):
    id: int
    hazard_id: int
    at: datetime
    actor_id: int | None  # None for the system
    action: str  # a HazardAction value, or EVENT_REPORT
    from_state: HazardState | None
    to_state: HazardState
    note: str | None = None  # the reason, measures or comment the action carried
    detail: dict[str, Any] = Field(default_factory=dict)


class PhotoRef(_Model):
    """A photo as Telegram knows it, plus the sha256 of the bytes already kept in the evidence store."""

    file_id: str
    file_unique_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class HazardPhoto(_Model):
    id: int
    hazard_id: int
    event_id: int | None
    kind: PhotoKind
    file_id: str
    file_unique_id: str
    sha256: str
    added_by: int | None
    added_at: datetime

    def ref(self) -> PhotoRef:
        return PhotoRef(file_id=self.file_id, file_unique_id=self.file_unique_id, sha256=self.sha256)


class OfferedPhoto(_Model):
    """A photo sent outside any journey, as Telegram names it; its bytes are fetched only if it is used."""

    file_id: str
    file_unique_id: str


class PhotoOffer(_Model):
    """Photos a person sent first, before any /report, and the question the bot asked about them ("report a hazard
    with this photo?"). `token` is the message id of the first photo: the buttons name it, so a press on an earlier
    offer's buttons is told it was replaced."""

    token: int
    photos: list[OfferedPhoto] = Field(default_factory=list)
    album: str | None = None  # the media group the photos came in, so its other pages join this offer
    message_id: int | None = None  # the bot's question, edited as an album's pages arrive
    at: datetime
    # The first caption the photos came with: the words of a 落实情况 made of them (handlers.warning_report).
    caption: str | None = None


class ReportDraft(_Model):
    """A report being put together, step by step; everything is optional until submit_report checks it."""

    step: str | None = None  # the step of the journey the person was at, so a restart resumes there
    institution_id: int | None = None
    institution_search: str | None = None  # what they typed to find the institution: its picker's pages turn it
    area: HazardArea | None = None
    severity: Severity | None = None
    description: str | None = None
    photos: list[PhotoRef] = Field(default_factory=list)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address_text: str | None = None
    source_level: SourceLevel | None = None  # None: the default for the reporter's role
    # 立查立改: after-photos taken by the reporter who corrected the hazard on the spot.
    fixed_on_spot_photos: list[PhotoRef] = Field(default_factory=list)
    # Set when the reporter chose to add their photos to this existing hazard instead of reporting a new one.
    merge_into_hazard_id: int | None = None
    # Photos sent before /report, waiting for the person to say whether to report a hazard with them.
    offer: PhotoOffer | None = None
    # While the photos are being changed from the summary: the ones there were, kept until new ones are done (or
    # brought back by "keep", /cancel, or a restart at the summary), so choosing the field never loses them.
    previous_photos: list[PhotoRef] | None = None
    # The album (media group) the last photos came in, and the one reply that counts its pages as they arrive.
    album: str | None = None
    album_reply_id: int | None = None
