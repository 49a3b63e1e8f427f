"""Calls for help under a warning, as an on-call pager's pages: the first official covering the person who asked
takes it (✋ 我来处理), and marks it resolved (✅ 已解决) once they have helped. Help can outlast the warning, so a
request stays takeable and resolvable after the warning ended; /warnstatus reads a resolved one as answered."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.roles import STAFF_ROLES, Role, region_in_scope
from bot.domain.warnings import EarlyWarning
from bot.services.errors import Refusal
from bot.services.warning_core import WarningCore
from storage.models import User
from storage.warning_models import HelpRequest


@dataclass(frozen=True)
class HelpPress:
    """A press of ✋ 我来处理 or ✅ 已解决: the request as it stands after it, and whether this press changed it
    (False: someone took or resolved it before, perhaps the presser)."""

    warning: EarlyWarning
    request: HelpRequest
    changed: bool


class WarningHelp(WarningCore):
    async def take_help(self, actor: User, request_id: int) -> HelpPress:
        """✋ 我来处理: the presser handles the request, unless someone already does or it is resolved. Refused: anyone
        not staff, county staff of another county (audited by the caller)."""
        request, warning = await self._helpable(actor, request_id)
        async with self._storage.db.transaction():
            took = await self._storage.help_requests.take(request.id, actor.telegram_id, self._clock.now())
            if took:
                await self._audit(actor.telegram_id, "warning.help_taken", warning, request=request.id,
                                  asker=request.asker_id, institutions=list(request.institutions))
            current = await self._storage.help_requests.get(request.id)
        assert current is not None
        return HelpPress(warning, current, took)

    async def resolve_help(self, actor: User, request_id: int) -> HelpPress:
        """✅ 已解决: the one who took the request closes it. Anyone else's press, one on a request nobody took, and a
        second press change nothing (the caller says why from the request)."""
        request, warning = await self._helpable(actor, request_id)
        async with self._storage.db.transaction():
            resolved = await self._storage.help_requests.resolve(request.id, actor.telegram_id, self._clock.now())
            if resolved:
                await self._audit(actor.telegram_id, "warning.help_resolved", warning, request=request.id,
                                  asker=request.asker_id, institutions=list(request.institutions),
                                  taken_at=request.taken_at.isoformat() if request.taken_at else None)
            current = await self._storage.help_requests.get(request.id)
        assert current is not None
        return HelpPress(warning, current, resolved)

    def has_ended(self, warning: EarlyWarning) -> bool:
        """Lifted or past its time: the asker's 🆘 需要帮助 is not offered again then."""
        return self._has_ended(warning)

    async def help_requests(self, warning_id: int) -> list[HelpRequest]:
        return await self._storage.help_requests.of_warning(warning_id)

    async def _helpable(self, actor: User, request_id: int) -> tuple[HelpRequest, EarlyWarning]:
        request = await self._storage.help_requests.get(request_id)
        if request is None:
            raise Refusal("help_unknown")
        if actor.role not in STAFF_ROLES:
            raise Refusal("warning_staff_only")
        if actor.role is Role.COUNTY and not region_in_scope(actor.region_code, request.region_code):
            raise Refusal("warning_out_of_scope")
        return request, await self.get(request.warning_id)
