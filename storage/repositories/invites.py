"""One-time invitation tokens that bring a person in with a role and scope."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain.roles import Role
from storage.db import Database
from storage.models import Invite
from storage.repositories._codec import (
    from_db_time,
    from_db_time_or_none,
    prefix_glob,
    to_db_time,
    to_db_time_or_none,
)

_COLUMNS = "token, role, region_code, institution_id, created_by, created_at, expires_at, used_by, used_at"
_READ = f"{_COLUMNS}, revoked_at, revoked_by"
# An invitation that can still register someone.
_STANDING = "used_by IS NULL AND revoked_at IS NULL AND expires_at > ?"


def _values(invite: Invite) -> tuple[object, ...]:
    """The row's values in `_COLUMNS`' order."""
    return (
        invite.token, invite.role.value, invite.region_code, invite.institution_id, invite.created_by,
        to_db_time(invite.created_at), to_db_time(invite.expires_at),
        invite.used_by, to_db_time_or_none(invite.used_at),
    )


class InviteRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, invite: Invite) -> Invite:
        await self._db.execute(f"INSERT INTO invites ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _values(invite))
        return invite

    async def create_unless_standing(self, invite: Invite) -> bool:
        """Store an invitation for a head unless one for a head of the same institution still stands (as of the new
        one's `created_at`); True when stored. The check and the write are one statement, so two clerks pressing at
        once make one invitation, not two."""
        changed = await self._db.execute_rowcount(
            f"INSERT INTO invites ({_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS ("
            f"SELECT 1 FROM invites WHERE institution_id = ? AND role = ? AND {_STANDING})",
            (*_values(invite), invite.institution_id, invite.role.value, to_db_time(invite.created_at)),
        )
        return changed == 1

    async def standing_for_head(self, institution_id: int, now: datetime) -> Invite | None:
        """The newest invitation for a head of the institution that can still register someone (valid longest)."""
        row = await self._db.fetchone(
            f"SELECT {_READ} FROM invites WHERE institution_id = ? AND role = ? AND {_STANDING} "
            "ORDER BY created_at DESC, token LIMIT 1",
            (institution_id, Role.HEAD.value, to_db_time(now)),
        )
        return None if row is None else _invite(row)

    async def get(self, token: str) -> Invite | None:
        row = await self._db.fetchone(f"SELECT {_READ} FROM invites WHERE token = ?", (token,))
        return None if row is None else _invite(row)

    async def consume(self, token: str, telegram_id: int, at: datetime) -> bool:
        """Mark the invite used by this person; True for exactly one caller, and only while it is valid.

        The check and the write are one statement, so two people racing for the same link cannot both win.
        """
        at_text = to_db_time(at)
        changed = await self._db.execute_rowcount(
            "UPDATE invites SET used_by = ?, used_at = ? "
            f"WHERE token = ? AND {_STANDING}",
            (telegram_id, at_text, token, at_text),
        )
        return changed == 1

    async def standing(self, now: datetime, *, region_prefix: str | None = None) -> list[Invite]:
        """Invitations that can still register someone, oldest first; with `region_prefix`, only those for a place
        inside it (an invitation of a city admin has no place, so it is only in the list of the whole city)."""
        clauses, params = [_STANDING], [to_db_time(now)]
        if region_prefix is not None:
            clauses.append("region_code GLOB ?")
            params.append(prefix_glob(region_prefix))
        rows = await self._db.fetchall(
            f"SELECT {_READ} FROM invites WHERE {' AND '.join(clauses)} ORDER BY created_at, token", params
        )
        return [_invite(row) for row in rows]

    async def revoke(self, token: str, *, by: int | None, at: datetime) -> bool:
        """Take a standing invitation back; False if it was used, had expired or was taken back already."""
        changed = await self._db.execute_rowcount(
            f"UPDATE invites SET revoked_at = ?, revoked_by = ? WHERE token = ? AND {_STANDING}",
            (to_db_time(at), by, token, to_db_time(at)),
        )
        return changed == 1

    async def revoke_for_institution(self, institution_id: int, *, by: int | None, at: datetime) -> int:
        """Take back every standing invitation for a head of the institution; how many."""
        return await self._db.execute_rowcount(
            f"UPDATE invites SET revoked_at = ?, revoked_by = ? WHERE institution_id = ? AND {_STANDING}",
            (to_db_time(at), by, institution_id, to_db_time(at)),
        )

    async def revoke_made_by(self, creator_id: int, *, by: int | None, at: datetime) -> int:
        """Take back every standing invitation the person made; how many."""
        return await self._db.execute_rowcount(
            f"UPDATE invites SET revoked_at = ?, revoked_by = ? WHERE created_by = ? AND {_STANDING}",
            (to_db_time(at), by, creator_id, to_db_time(at)),
        )


def _invite(row: aiosqlite.Row) -> Invite:
    return Invite(
        token=row["token"],
        role=Role(row["role"]),
        region_code=row["region_code"],
        institution_id=row["institution_id"],
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        used_by=row["used_by"],
        used_at=from_db_time_or_none(row["used_at"]),
        revoked_at=from_db_time_or_none(row["revoked_at"]),
        revoked_by=row["revoked_by"],
    )
