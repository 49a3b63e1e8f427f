from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.insight.world import InsightWorld, open_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[InsightWorld]:
    opened = await open_world(tmp_path / "safety.db")
    try:
        yield opened
    finally:
        await opened.storage.close()
