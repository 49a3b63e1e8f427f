"""Requests for more time on a hazard (申请延期, migration 0020)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ExtensionStatus(StrEnum):
    PENDING = "pending"  # waits for staff
    APPROVED = "approved"  # the deadline was changed to the date asked
    REFUSED = "refused"  # staff said no, with a reason
    ENDED = "ended"  # undecided, overtaken: the rectification was submitted, or staff changed the deadline


# What ended a request besides a hazard action (`ended_by`): the requester's access ended, so nobody follows it up.
ENDED_BY_ACCESS = "access_ended"


class ExtensionRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    hazard_id: int
    requested_by: int
    requested_at: datetime
    previous_deadline: datetime | None  # the deadline in force when it was asked
    requested_deadline: datetime
    reason: str
    status: ExtensionStatus = ExtensionStatus.PENDING
    decided_by: int | None = None  # who approved or refused it, or whose action ended it
    decided_at: datetime | None = None
    decision_note: str | None = None  # why it was refused
    ended_by: str | None = None  # the HazardAction that ended it undecided, or ENDED_BY_ACCESS
