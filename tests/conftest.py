from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.stage import Stage, stage
from tests.warning_people import frozen_clock


@pytest.fixture
async def bot_stage(tmp_path: Path) -> AsyncIterator[Stage]:
    """The real bot, on a fresh database with the Wenzhou demo data, talking HTTP to the bundled emulator."""
    async with stage(tmp_path / "safety.db") as current:
        yield current
        # Every test also proves the bot never made a request the Bot API spec would reject.
        assert current.sandbox.violations == [], current.sandbox.violations


@pytest.fixture
async def typhoon_stage(tmp_path: Path) -> AsyncIterator[Stage]:
    """The same, with the clock standing at 09:00 on 10 September 2026 in Wenzhou, as a typhoon approaches."""
    async with stage(tmp_path / "safety.db", clock=frozen_clock()) as current:
        yield current
        assert current.sandbox.violations == [], current.sandbox.violations
