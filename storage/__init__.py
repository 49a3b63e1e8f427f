"""SQLite storage: the schema and its migrations, and one repository per kind of record.

storage = await Storage.open(settings.database_path, clock)
user = await storage.users.get(telegram_id)
async with storage.db.transaction():  # several repository calls, all or nothing
    ...
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock
from storage.db import Database
from storage.repositories.action_drafts import ActionDraftRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.calendar import CalendarRepository
from storage.repositories.check_backs import CheckBackRepository
from storage.repositories.claims import ClaimRepository
from storage.repositories.drafts import DraftRepository
from storage.repositories.extensions import ExtensionRepository
from storage.repositories.groups import GroupRepository
from storage.repositories.hazard_watch import HazardWatchRepository
from storage.repositories.hazards import HazardRepository
from storage.repositories.institutions import InstitutionRepository
from storage.repositories.invites import InviteRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.regions import RegionRepository
from storage.repositories.reminders import ReminderRepository
from storage.repositories.searches import SearchRepository
from storage.repositories.unfinished import UnfinishedRepository
from storage.repositories.users import UserRepository

if TYPE_CHECKING:
    from storage.repositories.contacts import ContactRepository
    from storage.repositories.help_requests import HelpRequestRepository
    from storage.repositories.warning_reports import WarningReportRepository
    from storage.repositories.warnings import WarningRepository

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
        self.searches = SearchRepository(db)
        self.unfinished = UnfinishedRepository(db)
        # Imported here, not above: these build bot.domain.warnings models, and that module imports
        # storage.models, so a top-level import would break `import bot.domain.warnings` run before `import storage`.
        from storage.repositories.contacts import ContactRepository
        from storage.repositories.help_requests import HelpRequestRepository
        from storage.repositories.warning_reports import WarningReportRepository
        from storage.repositories.warnings import WarningRepository

        self.warnings: WarningRepository = WarningRepository(db)
        self.contacts: ContactRepository = ContactRepository(db)
        self.outbox = OutboxRepository(db)
        self.calendar = CalendarRepository(db)
        self.reminders = ReminderRepository(db)
        self.hazard_watch = HazardWatchRepository(db)
        self.claims = ClaimRepository(db)
        self.extensions = ExtensionRepository(db)
        self.check_backs = CheckBackRepository(db)
        self.help_requests: HelpRequestRepository = HelpRequestRepository(db)
        self.warning_reports: WarningReportRepository = WarningReportRepository(db)

    @classmethod
    async def open(cls, path: Path | str, clock: Clock) -> Storage:
        return cls(await Database.open(path, clock=clock), clock)

    async def first_run(self) -> datetime | None:
        """When the database was made: the moment its first migration ran (`schema_migrations`, written once)."""
        row = await self.db.fetchone("SELECT applied_at FROM schema_migrations WHERE version = 1")
        return None if row is None else datetime.fromisoformat(row[0])

    async def close(self) -> None:
        await self.db.close()
