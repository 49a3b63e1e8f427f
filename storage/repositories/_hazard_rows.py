"""Decoding rows of the hazard tables (migration 0002) into their models."""

from __future__ import annotations

import json

import aiosqlite

from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.domain.lifecycle import HazardState
from storage.hazard_models import Hazard, HazardEvent, HazardPhoto, PhotoKind
from storage.repositories._codec import from_db_time, from_db_time_or_none

HAZARD_COLUMNS_NEW = (
    "institution_id, region_code, area, severity, source_level, description, latitude, longitude, "
    "address_text, state, reporter_id, assignee_id, deadline, reported_at"
)
HAZARD_TABLE_COLUMNS = (
    f"id, code, {HAZARD_COLUMNS_NEW}, acknowledged_at, fixed_at, fixed_by, closed_at, closed_on_time, measures, "
    "updated_at, withdrawal_category, withdrawal_reason"
)


def followers_column(table: str) -> str:
    """Who follows the hazard of `table` (its name or alias) besides its reporter (migration 0028), as one column:
    every check of who may see a hazard, and who hears of it, reads them with the hazard."""
    return f"(SELECT group_concat(f.telegram_id) FROM hazard_followers f WHERE f.hazard_id = {table}.id)"


# The columns `hazard_row` reads, from `FROM hazards` (unaliased).
HAZARD_COLUMNS = f"{HAZARD_TABLE_COLUMNS}, {followers_column('hazards')}"
# The same, from a query that names the table `h`.
QUALIFIED_HAZARD_COLUMNS = (
    ", ".join(f"h.{column}" for column in HAZARD_TABLE_COLUMNS.split(", ")) + f", {followers_column('h')}"
)
EVENT_COLUMNS = "id, hazard_id, at, actor_id, action, from_state, to_state, note, detail"
PHOTO_COLUMNS = "id, hazard_id, event_id, kind, file_id, file_unique_id, sha256, added_by, added_at"


def hazard_row(row: aiosqlite.Row) -> Hazard:
    """A row of `HAZARD_COLUMNS`, in their order. Read by position, with the enums looked up in dictionaries: a
    reminder sweep reads hundreds of hazards at once, and naming each column of each row was half the cost."""
    (id_, code, institution_id, region_code, area, severity, source_level, description, latitude, longitude,
     address_text, state, reporter_id, assignee_id, deadline, reported_at, acknowledged_at, fixed_at, fixed_by,
     closed_at, closed_on_time, measures, updated_at, withdrawal_category, withdrawal_reason, followers) = row
    return Hazard(
        id=id_,
        code=code,
        institution_id=institution_id,
        region_code=region_code,
        area=_AREAS[area],
        severity=_SEVERITIES[severity],
        source_level=_SOURCE_LEVELS[source_level],
        description=description,
        latitude=latitude,
        longitude=longitude,
        address_text=address_text,
        state=_STATES[state],
        reporter_id=reporter_id,
        assignee_id=assignee_id,
        deadline=from_db_time_or_none(deadline),
        reported_at=from_db_time(reported_at),
        acknowledged_at=from_db_time_or_none(acknowledged_at),
        fixed_at=from_db_time_or_none(fixed_at),
        fixed_by=fixed_by,
        closed_at=from_db_time_or_none(closed_at),
        closed_on_time=None if closed_on_time is None else bool(closed_on_time),
        measures=measures,
        updated_at=from_db_time(updated_at),
        withdrawal_category=withdrawal_category,
        withdrawal_reason=withdrawal_reason,
        followers=() if not followers else tuple(sorted(int(i) for i in str(followers).split(","))),
    )


_AREAS = {area.value: area for area in HazardArea}
_SEVERITIES = {severity.value: severity for severity in Severity}
_SOURCE_LEVELS = {level.value: level for level in SourceLevel}
_STATES = {state.value: state for state in HazardState}


def event_row(row: aiosqlite.Row) -> HazardEvent:
    return HazardEvent(
        id=row["id"],
        hazard_id=row["hazard_id"],
        at=from_db_time(row["at"]),
        actor_id=row["actor_id"],
        action=row["action"],
        from_state=None if row["from_state"] is None else HazardState(row["from_state"]),
        to_state=HazardState(row["to_state"]),
        note=row["note"],
        detail=json.loads(row["detail"]),
    )


def photo_row(row: aiosqlite.Row) -> HazardPhoto:
    return HazardPhoto(
        id=row["id"],
        hazard_id=row["hazard_id"],
        event_id=row["event_id"],
        kind=PhotoKind(row["kind"]),
        file_id=row["file_id"],
        file_unique_id=row["file_unique_id"],
        sha256=row["sha256"],
        added_by=row["added_by"],
        added_at=from_db_time(row["added_at"]),
    )
