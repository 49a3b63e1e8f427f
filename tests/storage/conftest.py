from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from storage import Storage


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 1, 0, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "safety.db"


@pytest.fixture
async def storage(db_path: Path, clock: FakeClock) -> AsyncIterator[Storage]:
    opened = await Storage.open(db_path, clock)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def wenzhou(storage: Storage) -> Storage:
    await load_city_data(storage, DEMO_DATA_DIR)
    return storage
