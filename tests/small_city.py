"""What the service-level test cities share: registering people and groups, photos kept as evidence, report drafts.

tests/services/hazard_world.py and tests/calendar/world.py each build their own small city from these parts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.domain.catalog import HazardArea, Severity
from bot.domain.roles import Role
from bot.services.evidence import EvidenceStore
from storage import Storage
from storage.hazard_models import PhotoRef, ReportDraft
from storage.models import Group, GroupPurpose, Institution, NewInstitution, User

Person = tuple[int, Role, str | None, int | None]  # telegram id, role, region, institution id
BoundGroup = tuple[int, str, GroupPurpose]  # chat id, region, purpose


async def add_user(
    storage: Storage, telegram_id: int, role: Role, region: str | None, institution_id: int | None, at: datetime
) -> User:
    user = User(
        telegram_id=telegram_id,
        full_name=f"user {telegram_id}",
        role=role,
        region_code=region,
        institution_id=institution_id,
        created_at=at,
    )
    return await storage.users.upsert(user)


async def add_people(storage: Storage, people: Iterable[Person], at: datetime) -> None:
    for telegram_id, role, region, institution_id in people:
        await add_user(storage, telegram_id, role, region, institution_id, at)


async def bind_groups(storage: Storage, groups: Iterable[BoundGroup], at: datetime) -> None:
    for chat_id, region, purpose in groups:
        group = Group(chat_id=chat_id, title=str(chat_id), region_code=region, purpose=purpose, bound_by=1, bound_at=at)
        await storage.groups.bind(group)


async def registered(storage: Storage, telegram_id: int) -> User:
    user = await storage.users.get(telegram_id)
    assert user is not None
    return user


class Photos:
    """Distinct photos, each stored as evidence the way a report's photos are."""

    def __init__(self, evidence: EvidenceStore, file_label: str, unique_label: str) -> None:
        self._evidence = evidence
        self._labels = (file_label, unique_label)
        self._count = 0

    def next(self) -> PhotoRef:
        self._count += 1
        file_label, unique_label = self._labels
        sha = self._evidence.store(f"{file_label} photo {self._count}".encode())
        number = self._count
        return PhotoRef(file_id=f"{file_label}-{number}", file_unique_id=f"{unique_label}-{number}", sha256=sha)


def report_draft(institution: int, photo: PhotoRef, /, **fields: object) -> ReportDraft:
    """A complete report of a blocked fire escape; `fields` change any part of it, the institution too."""
    values: dict[str, object] = {
        "institution_id": institution,
        "area": HazardArea.FIRE,
        "severity": Severity.GENERAL,
        "description": "消防通道被杂物堵塞",
        "photos": [photo],
    }
    values.update(fields)
    return ReportDraft.model_validate(values)


def without_english_name(institution: Institution) -> NewInstitution:
    """The institution as a city's data file may give it: with no English name."""
    fields = institution.model_dump(include=set(NewInstitution.model_fields))
    return NewInstitution.model_validate({**fields, "name_en": ""})
