"""`safety-bot`: run the bot, load a city's data, invite people, and play the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import audit_cli, insight_cli, people_cli
from bot.cli_settings import EXIT_CONFIG, load_settings
from bot.config import BotMode, Settings
from bot.domain.roles import Role
from bot.i18n import Translator
from bot.operator import command_line_operator
from bot.services.demo_data import DEMO_DATA_DIR, CityDataError, load_city_data
from bot.services.errors import Refusal
from bot.services.onboarding import deep_link
from bot.services.people import describe_scope
from bot.services_factory import open_services
from storage import run_lock

if TYPE_CHECKING:
    from bot.app import BotApplication

EXIT_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="safety-bot", description="Telegram bot for the safety work of a city's civil-affairs system."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (polling by default; BOT_MODE=webhook for a webhook)",
                        description="Run the bot against the Bot API at BOT_API_BASE_URL.")
    data = commands.add_parser("demo-data", help="load a city's regions and institutions (idempotent)",
                               description="Load regions.json and institutions.json into DATABASE_PATH.")
    data.add_argument("--dir", type=Path, default=DEMO_DATA_DIR,
                      help="folder with regions.json and institutions.json (default: Wenzhou demo data)")
    invite = commands.add_parser("invite", help="make a one-time invitation link",
                                 description="Make a one-time, expiring invitation; the link is the last line.")
    invite.add_argument("--role", required=True, choices=[role.value for role in Role])
    target = invite.add_mutually_exclusive_group()
    target.add_argument("--region", help="administrative division code, e.g. 330302")
    target.add_argument("--institution", help="institution code, for --role head")
    demo = commands.add_parser("demo", help="play the offline demo scene against the bundled Bot API emulator",
                               description="Start the emulator and the real bot on a fresh database and play a "
                                           "scripted scene; exits 0 only if every step happened as it should.")
    demo.add_argument("--quiet", action="store_true", help="print only the verdict")
    insight_cli.add_commands(commands)
    people_cli.add_commands(commands)
    audit_cli.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if arguments.command == "run" else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if arguments.command == "demo":
        from bot.demo import play

        return asyncio.run(play(verbose=not arguments.quiet))
    settings = load_settings()
    try:
        if arguments.command == "run":
            if not settings.bot_token:
                print(Translator(settings.default_language).plain("cli.no_token"), file=sys.stderr)
                return EXIT_CONFIG
            try:
                with run_lock.exclusive(settings.database_path):
                    return asyncio.run(_run(settings))
            except run_lock.DatabaseInUse:
                # Two bots on one database would send every message twice; a restore under way must finish first.
                print(Translator(settings.default_language).plain(
                    "cli.already_running", database=str(settings.database_path),
                    lock=str(run_lock.lock_path(settings.database_path))), file=sys.stderr)
                return EXIT_FAILED
        return _operate(arguments, settings)
    except OSError as error:
        # A folder that is a file, a disk that is full, a path nobody may write: the operator's to fix, in one line.
        print(_file_problem(error, settings), file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.OperationalError as error:
        # SQLite says "unable to open database file" without the path: name DATABASE_PATH, as for any other file.
        print(Translator(settings.default_language).plain(
            "cli.file_problem", path=str(settings.database_path), reason=str(error)), file=sys.stderr)
        return EXIT_FAILED


def _operate(arguments: argparse.Namespace, settings: Settings) -> int:
    if arguments.command == "demo-data":
        return asyncio.run(_demo_data(settings, arguments.dir))
    if arguments.command in insight_cli.COMMANDS:
        return insight_cli.main(arguments, settings)
    if arguments.command in people_cli.COMMANDS:
        return people_cli.main(arguments, settings)
    if arguments.command in audit_cli.COMMANDS:
        return audit_cli.main(arguments, settings)
    if arguments.command == "invite":
        return asyncio.run(_invite(settings, Role(arguments.role), arguments.region, arguments.institution))
    return EXIT_CONFIG


def _file_problem(error: OSError, settings: Settings) -> str:
    where = error.filename if error.filename is not None else ""
    reason = error.strerror or type(error).__name__
    return Translator(settings.default_language).plain("cli.file_problem", path=str(where), reason=reason)


async def _run(settings: Settings) -> int:
    # The bot (Telegram, aiohttp, every handler) is loaded only to run it: the operator's other commands start in
    # half the time without it.
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application, freeze_startup_heap, running

    services = await open_services(settings)
    application = build_application(services)
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if settings.bot_mode is BotMode.WEBHOOK:
            await _run_webhook(application, settings, stop)
        else:
            async with running(application):
                await stop.wait()
    except InvalidToken:
        # Never the token itself: this line ends up in journald or docker logs.
        print(_translator(settings).plain("cli.token_refused", hint=token_hint(settings.bot_token)), file=sys.stderr)
        return EXIT_CONFIG
    except NetworkError as error:
        # The address or the network: the retries are logged above; the last word is one line, not a traceback.
        print(_translator(settings).plain("cli.api_unreachable", url=settings.bot_api_base_url,
                                          error=type(error).__name__), file=sys.stderr)
        return EXIT_FAILED
    finally:
        await services.close()
    return 0


def token_hint(token: str) -> str:
    """Enough of a token for the operator to tell which one was used (its bot's id, public anyway), none of its
    secret part."""
    bot_id, colon, _ = token.partition(":")
    return f"{bot_id}:…" if colon and bot_id.isdigit() else "…"


def _translator(settings: Settings) -> Translator:
    return Translator(settings.default_language)


async def _run_webhook(application: BotApplication, settings: Settings, stop: asyncio.Event) -> None:
    if not settings.webhook_url:
        print(Translator(settings.default_language).plain("cli.no_webhook_url"), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    from bot.app import running_webhook

    host, _, port = settings.webhook_listen.rpartition(":")
    async with running_webhook(
        application,
        listen=host or "127.0.0.1",
        port=int(port),
        webhook_url=settings.webhook_url,
        secret_token=settings.webhook_secret,
    ):
        await stop.wait()


async def _demo_data(settings: Settings, directory: Path) -> int:
    services = await open_services(settings, operator=command_line_operator())
    try:
        today = services.clock.now().astimezone(settings.tz).date()
        result = await load_city_data(services.storage, directory, today=today)
        # Regions and institutions loaded or overwritten change who sees what: on the record, as an import is.
        await services.storage.audit.append(None, "city_data.loaded", detail={
            "directory": str(result.directory), "regions": result.regions, "institutions": result.institutions,
            "added": result.institutions_added,
        })
    except CityDataError as error:
        print(Translator(settings.default_language).plain("cli.city_data", error=str(error)), file=sys.stderr)
        return EXIT_FAILED
    finally:
        await services.close()
    print(Translator(settings.default_language).plain(
        "cli.city_data_loaded", directory=str(result.directory), regions=result.regions, counties=result.counties,
        institutions=result.institutions, added=result.institutions_added,
    ))
    return 0


async def _bot_username(settings: Settings) -> str:
    if settings.bot_username:
        return settings.bot_username
    if not settings.bot_token:
        print(Translator(settings.default_language).plain("cli.no_link_username"), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from bot.retrying import RetryingRequest

    try:
        # The same retries as the running bot's: a 5xx or a dropped connection on the way does not stop the invite.
        async with Bot(settings.bot_token, base_url=settings.bot_api_base_url, request=RetryingRequest()) as bot:
            return bot.username
    except InvalidToken:
        print(_translator(settings).plain("cli.token_refused", hint=token_hint(settings.bot_token)), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    except TelegramError as error:
        message = Translator(settings.default_language).plain("cli.no_username", error=type(error).__name__)
        print(message, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


async def _invite(settings: Settings, role: Role, region: str | None, institution: str | None) -> int:
    username = await _bot_username(settings)
    services = await open_services(settings, operator=command_line_operator())
    t = services.i18n.get(None)
    try:
        invite = await services.onboarding.create_invite(
            creator=None, role=role, region_code=region, institution_code=institution
        )
        # Said as the chat says it: whose role, where, and until when in the city's own time, the zone named.
        place = await describe_scope(services.storage, invite.region_code, invite.institution_id, t.language)
    except Refusal as refusal:
        # A region or institution that does not exist, a role without its place: refused with exit status 1, as
        # `people --region` and `deactivate` refuse what does not exist.
        print(t.plain(refusal.message_key, **refusal.params), file=sys.stderr)
        return EXIT_FAILED
    finally:
        await services.close()
    print(t.plain("cli.invite_made", role=t.plain(f"role.{role.value}"), place=place, zone=settings.timezone,
                  expires=f"{invite.expires_at.astimezone(settings.tz):%Y-%m-%d %H:%M}"))
    print(deep_link(username, invite.token))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
