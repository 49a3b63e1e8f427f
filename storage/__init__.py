"""SQLite storage: the schema and its migrations, and one repository per kind of record.

storage = await Storage.open(settings.database_path, clock)
user = await storage.users.get(telegram_id)
async with storage.db.transaction():  # several repository calls, all or nothing
    ...
"""

from __future__ import annotations

from pathlib import Path

from bot.clock import Clock
from storage.db import Database
from storage.repositories.action_drafts import ActionDraftRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.drafts import DraftRepository
from storage.repositories.groups import GroupRepository
from storage.repositories.hazards import HazardRepository
from storage.repositories.institutions import InstitutionRepository
from storage.repositories.invites import InviteRepository
from storage.repositories.regions import RegionRepository
from storage.repositories.users import UserRepository

__all__ = ["Database", "Storage"]


class Storage:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.regions = RegionRepository(db)
        self.institutions = InstitutionRepository(db)
        self.users = UserRepository(db)
        self.groups = GroupRepository(db)
        self.invites = InviteRepository(db)
        self.audit = AuditRepository(db, clock)
        self.hazards = HazardRepository(db)
        self.drafts = DraftRepository(db)
        self.action_drafts = ActionDraftRepository(db)

    @classmethod
    async def open(cls, path: Path | str, clock: Clock) -> Storage:
        return cls(await Database.open(path, clock=clock), clock)

    async def close(self) -> None:
        await self.db.close()
