"""A small warning world: the Wenzhou demo data with people, groups and vulnerable people, and a local HTTP server
that plays the official CAP feed (WMO SWIC mirror of CMA, cn-cma-xx) and Open-Meteo, on 127.0.0.1 only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.clock import FakeClock
from bot.domain.roles import Role
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services.warning_settings import WarningSettings
from bot.services.warnings import WarningService
from bot.stage import Stage, stage
from storage import Storage
from storage.models import GroupPurpose, User
from storage.warning_models import NewVulnerablePerson, VulnerableCategory
from tests.small_city import add_people, bind_groups
from tests.warning_people import Cast, enrol

FIXTURES = Path(__file__).parent / "fixtures"
START = datetime(2026, 9, 10, 1, 0, tzinfo=UTC)  # 09:00 in Wenzhou, as the typhoon approaches

CITY, LUCHENG, DONGTOU = "330300", "330302", "330305"
CITY_ADMIN, LUCHENG_STAFF, DONGTOU_STAFF = 1, 10, 20
DONGTOU_HEAD_1, DONGTOU_HEAD_2, LUCHENG_HEAD = 40, 41, 42
DONGTOU_CADRE, DONGTOU_CADRE_2, LUCHENG_CADRE = 30, 31, 32
CITY_GROUP, DONGTOU_WARNINGS, DONGTOU_HAZARDS, LUCHENG_GENERAL = -1000, -1001, -1002, -1003


@dataclass
class WarningWorld:
    storage: Storage
    clock: FakeClock
    service: WarningService
    institutions: dict[str, int] = field(default_factory=dict)  # by code

    async def user(self, telegram_id: int) -> User:
        found = await self.storage.users.get(telegram_id)
        assert found is not None
        return found


async def open_world(path: Path, clock: FakeClock, settings: WarningSettings) -> WarningWorld:
    storage = await Storage.open(path, clock)
    await load_city_data(storage, DEMO_DATA_DIR)
    codes = ("WZ-330305-ELDER-01", "WZ-330305-ELDER-02", "WZ-330302-ELDER-01")
    institutions = {}
    for code in codes:
        found = await storage.institutions.get_by_code(code)
        assert found is not None
        institutions[code] = found.id
    people = [
        (CITY_ADMIN, Role.CITY, None, None),
        (LUCHENG_STAFF, Role.COUNTY, LUCHENG, None),
        (DONGTOU_STAFF, Role.COUNTY, DONGTOU, None),
        (DONGTOU_HEAD_1, Role.HEAD, "330305001", institutions["WZ-330305-ELDER-01"]),
        (DONGTOU_HEAD_2, Role.HEAD, "330305102", institutions["WZ-330305-ELDER-02"]),
        (LUCHENG_HEAD, Role.HEAD, "330302001", institutions["WZ-330302-ELDER-01"]),
        (DONGTOU_CADRE, Role.CADRE, "330305001", None),
        (DONGTOU_CADRE_2, Role.CADRE, "330305102", None),
        (LUCHENG_CADRE, Role.CADRE, LUCHENG, None),
    ]
    await add_people(storage, people, START)
    for code, head in (("WZ-330305-ELDER-01", DONGTOU_HEAD_1), ("WZ-330305-ELDER-02", DONGTOU_HEAD_2)):
        await storage.institutions.set_head(institutions[code], head)
    groups = [
        (CITY_GROUP, CITY, GroupPurpose.GENERAL),
        (DONGTOU_WARNINGS, DONGTOU, GroupPurpose.WARNINGS),
        (DONGTOU_HAZARDS, DONGTOU, GroupPurpose.HAZARDS),
        (LUCHENG_GENERAL, LUCHENG, GroupPurpose.GENERAL),
    ]
    await bind_groups(storage, groups, START)
    registry = [
        ("DT-0001", VulnerableCategory.ELDERLY_ALONE, "330305001001", DONGTOU_CADRE),
        ("DT-0002", VulnerableCategory.LEFT_BEHIND_CHILD, "330305001002", DONGTOU_CADRE),
        ("DT-0003", VulnerableCategory.FIVE_GUARANTEE, "330305102001", DONGTOU_CADRE_2),
        ("DT-0004", VulnerableCategory.DIBAO, "330305102003", None),
        ("LC-0001", VulnerableCategory.THREE_NOS, "330302001004", LUCHENG_CADRE),
    ]
    for code, category, region, cadre in registry:
        person = NewVulnerablePerson(code=code, category=category, region_code=region, cadre_id=cadre)
        await storage.contacts.upsert_person(person, START)
    return WarningWorld(storage, clock, WarningService(storage, clock, settings), institutions)


# ---- the local feed server ---------------------------------------------------------------------------------


@dataclass
class FeedServer:
    """Serves whatever `files` holds, with ETags and 304s as real feeds do; `hits` counts requests per path."""

    files: dict[str, bytes] = field(default_factory=dict)
    forecasts: dict[str, Any] = field(default_factory=dict)  # by "lat,lon"; others get a calm default
    default_forecast: Any = None
    hits: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] = self.hits.get(path, 0) + 1
        if path == "/v1/forecast":
            key = f"{request.query['latitude']},{request.query['longitude']}"
            return web.json_response(self.forecasts.get(key, self.default_forecast))
        if path not in self.files:
            return web.Response(status=404)
        body = self.files[path]
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        kind = "application/rss+xml" if path.endswith(".rss") else "application/xml"
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": kind})


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    state = FeedServer(default_forecast=open_meteo(date(2026, 9, 10)))
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", state.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.server = server
    try:
        yield state
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings() -> WarningSettings:
    return WarningSettings()


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock, settings: WarningSettings) -> AsyncIterator[WarningWorld]:
    opened = await open_world(tmp_path / "safety.db", clock, settings)
    try:
        yield opened
    finally:
        await opened.storage.close()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rss(*items: tuple[str, str, str]) -> bytes:
    """An RSS 2.0 list like the WMO SWIC mirror of CMA: (title, link, CMA identifier) per item, newest first."""
    body = "".join(
        f"""
    <item>
      <title>{title}</title>
      <link>{link}</link>
      <description>{title}</description>
      <category>Met</category>
      <pubDate>Thu, 10 Sep 2026 00:30:00 GMT</pubDate>
      <guid isPermaLink="false">{guid}</guid>
    </item>"""
        for title, link, guid in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>China Meteorological Administration: CAP alerts (cn-cma-xx)</title>
    <link>https://severeweather.wmo.int/v2/cap-alerts/cn-cma-xx/</link>
    <description>Official warnings of the China Meteorological Administration in CAP</description>
    <language>zh-CN</language>{body}
  </channel>
</rss>
""".encode()


def open_meteo(
    first_day: date,
    *,
    days: int = 7,
    daily_max: list[float] | None = None,
    daily_min: list[float] | None = None,
    rain: dict[int, float] | None = None,
    gusts: dict[int, float] | None = None,
    gust_unit: str = "m/s",
    latitude: float = 28.0,
    longitude: float = 120.7,
) -> dict[str, Any]:
    """An Open-Meteo /v1/forecast answer as it really looks (local times, units blocks), calm unless told."""
    hours = days * 24
    start = datetime(first_day.year, first_day.month, first_day.day)
    return {
        "latitude": latitude,
        "longitude": longitude,
        "generationtime_ms": 0.12,
        "utc_offset_seconds": 28800,
        "timezone": "Asia/Shanghai",
        "timezone_abbreviation": "GMT+8",
        "elevation": 12.0,
        "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "precipitation": "mm", "wind_gusts_10m": gust_unit},
        "hourly": {
            "time": [(start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M") for h in range(hours)],
            "temperature_2m": [26.0] * hours,
            "precipitation": [(rain or {}).get(h, 0.0) for h in range(hours)],
            "wind_gusts_10m": [(gusts or {}).get(h, 5.0) for h in range(hours)],
        },
        "daily_units": {"time": "iso8601", "temperature_2m_max": "°C", "temperature_2m_min": "°C"},
        "daily": {
            "time": [(first_day + timedelta(days=d)).isoformat() for d in range(days)],
            "temperature_2m_max": daily_max or [30.0] * days,
            "temperature_2m_min": daily_min or [24.0] * days,
        },
    }


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


@pytest.fixture
async def fed(tmp_path: Path, clock: FakeClock, feed_server: FeedServer) -> AsyncIterator[tuple[Stage, Cast]]:
    """The real bot with the people of `enrol`, reading the local feed and forecast server."""
    async with stage(tmp_path / "safety.db", clock=clock) as current:
        services = current.services
        settings = WarningSettings(feed_urls=(feed_server.url("/cap/rss.xml"),), forecast_base_url=feed_server.url("/"))
        services.warnings = WarningService(services.storage, clock, settings)  # as WARNING_FEED_URLS would
        cast = await enrol(current)
        yield current, cast
        assert current.sandbox.violations == [], current.sandbox.violations
