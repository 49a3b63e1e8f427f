"""A real bot on the bundled Bot API emulator: what the demo, the tests and the benchmarks all run on.

Nothing here is a stand-in: the same factory as `safety-bot run` builds the application, and it talks HTTP to the
emulator exactly as it would to Telegram.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from bot.app import BotApplication, build_application, idle, running
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain.roles import Role
from bot.sandbox import Sandbox
from bot.sandbox.driver import SimUser
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services_factory import BotServices, open_services
from storage.models import User


@dataclass
class Stage:
    sandbox: Sandbox
    settings: Settings
    clock: FakeClock
    # Off by default: tests move the FakeClock and run the sweeps and the outbox themselves.
    background: bool = False
    services: BotServices = field(init=False)
    application: BotApplication = field(init=False)
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def start_bot(self) -> None:
        self.services = await open_services(self.settings, self.clock, strict_i18n=True)
        self.application = build_application(self.services, rate_limiter=False)
        await self._stack.enter_async_context(
            running(self.application, poll_timeout=5, background=self.background)
        )
        self.sandbox.set_idle_probe(lambda: idle(self.application))

    async def stop_bot(self) -> None:
        await self._stack.aclose()
        self._stack = AsyncExitStack()
        await self.services.close()

    async def restart(self) -> None:
        """A graceful restart: stop, close the database, open it again and carry on."""
        await self.stop_bot()
        await self.start_bot()

    async def invite_token(
        self, role: Role, *, region: str | None = None, institution: str | None = None
    ) -> str:
        invite = await self.services.onboarding.create_invite(
            creator=None, role=role, region_code=region, institution_code=institution
        )
        return invite.token

    async def register(
        self, person: SimUser, role: Role, *, region: str | None = None, institution: str | None = None
    ) -> User:
        """Bring a person in the way people come in: an invitation link opened in Telegram."""
        token = await self.invite_token(role, region=region, institution=institution)
        await person.send_text(f"/start {token}")
        user = await self.services.storage.users.get(person.id)
        if user is None:
            raise AssertionError(f"{person} did not get registered: {person.last_message()}")
        return user


def sandbox_settings(sandbox: Sandbox, database_path: Path, options: dict[str, Any] | None = None) -> Settings:
    """Settings that point the bot at the emulator; nothing is read from the environment or `.env`. `options`
    adds or replaces settings by their variable names."""
    return Settings.model_validate(
        {
            "BOT_TOKEN": sandbox.token,
            "BOT_API_BASE_URL": sandbox.base_url,
            "BOT_API_BASE_FILE_URL": sandbox.base_file_url,
            "BOT_USERNAME": sandbox.bot_username,
            "DATABASE_PATH": database_path,
            # Offline: no forecast fetches from the network; tests and the demo serve their own feeds.
            "FORECAST_BASE_URL": "",
            # The emulator enforces no flood limits: the outbox need not wait for them.
            "OUTBOX_UNPACED": True,
            # The bundled demo city has no history to spare, and tests move the clock back before the day their
            # database was made: its institutions are judged for every period.
            "TRACKING_SINCE": "all",
            **(options or {}),
        }
    )


def working_hours_today(settings: Settings) -> datetime:
    """Today at 10:00, the city's time: where a stage's clock stands unless it is given one. A 一般 hazard's
    notices wait out quiet hours (22:00-07:30), so a clock at the hour the suite happens to run would make every
    journey that is not about the night behave differently after 22:00."""
    today = datetime.now(settings.tz).date()
    return datetime.combine(today, time(10, 0), tzinfo=settings.tz).astimezone(UTC)


@asynccontextmanager
async def stage(
    database_path: Path,
    *,
    clock: FakeClock | None = None,
    demo_data: bool = True,
    sandbox_options: dict[str, Any] | None = None,
    settings_options: dict[str, Any] | None = None,
    background: bool = False,
) -> AsyncIterator[Stage]:
    async with Sandbox(**(sandbox_options or {})) as sandbox:
        settings = sandbox_settings(sandbox, database_path, settings_options)
        current = Stage(
            sandbox=sandbox, settings=settings, clock=clock or FakeClock(working_hours_today(settings)),
            background=background
        )
        if demo_data:
            services = await open_services(settings, current.clock)
            await load_city_data(services.storage, DEMO_DATA_DIR)
            await services.close()
        await current.start_bot()
        try:
            yield current
        finally:
            await current.stop_bot()
