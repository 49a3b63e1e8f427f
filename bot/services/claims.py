"""Claims that outlive the process (`storage/repositories/claims.py`): a press whose file or picture is at work or
was just sent, an album refused for its classified caption, a group's "use the private chat" reply given lately. A
restart inside the window forgets none of them.

A claim at work names the process doing it (`bot.workers`): if that process died (killed mid-export), the claim is
taken over at once rather than leaving the person told "on its way" for something that never comes. A claim whose
worker is alive elsewhere waits for its lease to run out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.workers import is_dead, new_worker_id
from storage import Storage
from storage.repositories.claims import ClaimRow

# Long enough for the whole city's three-year export (about 9 s) many times over; a live process stuck longer than
# this loses its claim.
WORK_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    holder: int
    what: str
    worker: str


class ClaimService:
    def __init__(self, storage: Storage, clock: Clock) -> None:
        self._claims = storage.claims
        self._clock = clock
        self._worker = new_worker_id("claims")

    async def take(self, holder: int, what: str) -> Claim | ClaimRow:
        """The claim, to `finish` or `release`; or the claim that stands in its way (still at work if it names a
        worker, else done)."""
        now = self._clock.now()
        mine = Claim(holder, what, self._worker)
        if await self._claims.take(holder, what, now + WORK_LEASE, self._worker, now):
            return mine
        standing = await self._claims.get(holder, what, now)
        if standing is None:  # it ran out between the two statements
            return await self.take(holder, what)
        dead = standing.worker
        if dead is not None and is_dead(dead) and await self._claims.take_over(
            holder, what, dead, now + WORK_LEASE, self._worker
        ):
            return mine
        return standing

    async def finish(self, claim: Claim, stands_for: timedelta) -> None:
        await self._claims.finish(claim.holder, claim.what, claim.worker, self._clock.now() + stands_for)

    async def release(self, claim: Claim) -> None:
        await self._claims.release(claim.holder, claim.what, claim.worker)

    async def first_within(self, holder: int, what: str, window: timedelta) -> bool:
        """Whether this is the first time in `window` that `what` happens for `holder`; if it is, the window starts
        now. One statement decides: of two at once, only one is first."""
        now = self._clock.now()
        return await self._claims.take(holder, what, now + window, None, now)

    async def remember(self, holder: int, what: str, stands_for: timedelta, note: str | None = None) -> None:
        now = self._clock.now()
        await self._claims.put(holder, what, now + stands_for, note, now)

    async def recall(self, holder: int, what: str) -> ClaimRow | None:
        return await self._claims.get(holder, what, self._clock.now())

    async def standing(self, holder: int, prefix: str) -> list[ClaimRow]:
        return await self._claims.standing(holder, prefix, self._clock.now())

    async def forget(self, holder: int, what: str) -> None:
        await self._claims.put(holder, what, self._clock.now(), None, self._clock.now())
