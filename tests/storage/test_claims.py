"""Claims in SQLite (migration 0015): taken before the work, so racing presses cannot both win, and kept across a
restart; a claim left by a dead process is taken over at once."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.services.claims import WORK_LEASE, Claim, ClaimService
from bot.workers import HOST
from storage import Storage
from storage.repositories._codec import to_db_time


async def test_of_presses_racing_one_wins_in_one_process_or_two(storage: Storage, clock: FakeClock) -> None:
    here, there = ClaimService(storage, clock), ClaimService(storage, clock)
    taken = await asyncio.gather(*(service.take(7, "chart:3:ch:t:2026-03") for service in (here, there, here)))
    assert [isinstance(claim, Claim) for claim in taken].count(True) == 1
    standing = next(claim for claim in taken if not isinstance(claim, Claim))
    assert standing.worker is not None  # still at work: "on its way"


async def test_a_finished_claim_stands_for_its_window_across_a_restart(
    storage: Storage, clock: FakeClock, db_path: Path
) -> None:
    claim = await ClaimService(storage, clock).take(7, "export:3:ex:x:2026-03")
    assert isinstance(claim, Claim)
    await ClaimService(storage, clock).finish(claim, timedelta(seconds=60))
    await storage.close()
    reopened = await Storage.open(db_path, clock)
    try:
        after = ClaimService(reopened, clock)
        clock.advance(timedelta(seconds=59))
        standing = await after.take(7, "export:3:ex:x:2026-03")
        assert not isinstance(standing, Claim) and standing.worker is None  # "just sent"
        assert isinstance(await after.take(8, "export:3:ex:x:2026-03"), Claim)  # someone else's press
        clock.advance(timedelta(seconds=1))
        assert isinstance(await after.take(7, "export:3:ex:x:2026-03"), Claim)
        # the expired rows went as the claims were taken
        now = to_db_time(clock.now())
        assert await reopened.db.fetchval("SELECT COUNT(*) FROM claims WHERE until <= ?", (now,)) == 0
    finally:
        await reopened.close()


async def test_a_claim_released_after_failed_work_may_be_taken_again(storage: Storage, clock: FakeClock) -> None:
    service = ClaimService(storage, clock)
    claim = await service.take(7, "chart:3:ch:u:2026-03")
    assert isinstance(claim, Claim)
    await service.release(claim)
    assert isinstance(await service.take(7, "chart:3:ch:u:2026-03"), Claim)


async def test_a_claim_at_work_in_a_dead_process_is_taken_over_at_once(storage: Storage, clock: FakeClock) -> None:
    """Killed mid-export: the person pressing again after the restart gets the file, not "on its way" for ten
    minutes. A live worker's claim stands until its lease runs out."""
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    dead = f"claims@{HOST}:{gone.pid}:0badc0de:000000"
    until = clock.now() + WORK_LEASE
    assert await storage.claims.take(7, "export:3:ex:x:2026-03", until, dead, clock.now())
    assert isinstance(await ClaimService(storage, clock).take(7, "export:3:ex:x:2026-03"), Claim)

    alive = f"claims@{HOST}:1:0badc0de:000000"  # pid 1 is always there
    assert await storage.claims.take(7, "chart:3:ch:d:2026-03", until, alive, clock.now())
    standing = await ClaimService(storage, clock).take(7, "chart:3:ch:d:2026-03")
    assert not isinstance(standing, Claim) and standing.worker == alive
    clock.advance(WORK_LEASE)
    assert isinstance(await ClaimService(storage, clock).take(7, "chart:3:ch:d:2026-03"), Claim)
