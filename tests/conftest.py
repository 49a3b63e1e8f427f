from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.stage import Stage, stage


@pytest.fixture
async def bot_stage(tmp_path: Path) -> AsyncIterator[Stage]:
    """The real bot, on a fresh database with the Wenzhou demo data, talking HTTP to the bundled emulator."""
    async with stage(tmp_path / "safety.db") as current:
        yield current
        # Every test also proves the bot never made a request the Bot API spec would reject.
        assert current.sandbox.violations == [], current.sandbox.violations
