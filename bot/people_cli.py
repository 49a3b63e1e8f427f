"""`safety-bot people`, `deactivate` and `revoke`: the server operator's view of who may use the bot, and the same
ending of an access and taking back of an invitation that staff have in `/people`, for when no admin can (the last
city admin leaves, a link of the command line's went astray). What the bot must send (the person's farewell, the news
to their supervisors) waits in the outbox for the running bot."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator, counted
from bot.operator import command_line_operator
from bot.services.errors import Refusal
from bot.services.people import describe_scope
from bot.services_factory import BotServices, open_services
from storage.models import User

COMMANDS = frozenset({"people", "deactivate", "revoke"})
EXIT_REFUSED = 1


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    people = commands.add_parser(
        "people", help="list the people registered (or, with --invites, the unused invitations)",
        description="One line per active person: Telegram id, role, name, place. With --invites: the invitations "
                    "nobody has used yet, with their tokens.",
    )
    people.add_argument("--region", help="only this administrative division and below, e.g. 330302")
    people.add_argument("--invites", action="store_true", help="list the unused invitations instead")
    deactivate = commands.add_parser(
        "deactivate", help="end a person's access (as /people does)",
        description="End the access of the person with this Telegram id: their hazards, contacts and unused "
                    "invitations are released, and they and their supervisors are told when the bot runs.",
    )
    deactivate.add_argument("telegram_id", type=int)
    revoke = commands.add_parser("revoke", help="cancel an unused invitation",
                                 description="Cancel an invitation nobody has used: its link registers nobody.")
    revoke.add_argument("invitation", help="the invitation's link, or its token (the part after ?start=)")


def main(arguments: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_main(arguments, settings))


async def _main(arguments: argparse.Namespace, settings: Settings, clock: Clock | None = None) -> int:
    services = await open_services(settings, clock, operator=command_line_operator())
    t = services.i18n.get(None)
    try:
        # Something that never existed is named so and fails, as `invite --region` does, rather than read as gone
        # ("their access has ended", "the invitation was used") or as an empty list with success.
        if arguments.command == "people":
            if arguments.region is not None and await services.storage.regions.get(arguments.region) is None:
                raise Refusal("unknown_region", code=arguments.region)
            if arguments.invites:
                await _list_invites(services, arguments.region, t)
            else:
                await _list_people(services, arguments.region, t)
            return 0
        if arguments.command == "deactivate":
            if await services.storage.users.get(arguments.telegram_id) is None:
                print(t.plain("cli.no_such_person", id=arguments.telegram_id), file=sys.stderr)
                return EXIT_REFUSED
            departure = await services.people.deactivate(None, arguments.telegram_id)
            # A county's last clerk gone, the city admins answer for its hazards (a head gone, the county staff stand in
            # for their institution's duties): reminded of them from today.
            await services.reminders.plan_for_arrival_or_departure(departure.person)
            print(t.plain("cli.deactivated", id=departure.person.telegram_id, name=departure.person.full_name,
                          hazards=len(departure.hazards), contacts=departure.contacts,
                          invites=departure.invites_revoked))
            await _still_in_groups(services, departure.person, t)
            return 0
        token = arguments.invitation.rsplit("start=", 1)[-1].strip()
        if await services.storage.invites.get(token) is None:
            print(t.plain("cli.no_such_invite", token=token), file=sys.stderr)
            return EXIT_REFUSED
        invite = await services.people.revoke_invite(None, token)
        print(t.plain("cli.revoked", role=t.plain(f"role.{invite.role.value}"), region=invite.region_code or "—"))
        return 0
    except Refusal as refusal:
        print(t.plain(refusal.message_key, **refusal.params), file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await services.close()


async def _still_in_groups(services: BotServices, person: User, t: Translator) -> None:
    """Ending the access stops what the bot sends them, not what they read in a bound group: the operator hears
    which bound groups still have them, or, where Telegram cannot be asked, which to check."""
    groups = {group.chat_id: group.title for group in await services.storage.groups.within(None)}
    if not groups:
        return
    separator = t.plain("warn.list_separator")
    settings = services.settings
    if settings.bot_token:
        from telegram import Bot
        from telegram.error import TelegramError

        from handlers.leaver_groups import groups_still_holding

        try:
            async with Bot(settings.bot_token, base_url=settings.bot_api_base_url) as bot:
                found = await groups_still_holding(bot, services.storage, person.telegram_id)
        except TelegramError:
            pass
        else:
            if found:
                titles = separator.join(item.group.title for item in found)
                print(t.plain("cli.still_in_groups", name=person.full_name, groups=titles), file=sys.stderr)
            return
    print(t.plain("cli.groups_unchecked", name=person.full_name, groups=separator.join(groups.values())),
          file=sys.stderr)


async def _list_people(services: BotServices, region: str | None, t: Translator) -> None:
    people = await services.storage.users.in_scope(None, region)
    for person in people:
        scope = await describe_scope(services.storage, person.region_code, person.institution_id, t.language)
        print(f"{person.telegram_id}\t{person.role.value}\t{person.full_name}\t{scope}")
    print(t.plain(counted("cli.people_count", len(people)), count=len(people)), file=sys.stderr)


async def _list_invites(services: BotServices, region: str | None, t: Translator) -> None:
    invites = await services.storage.invites.standing(services.clock.now(), region_prefix=region)
    for invite in invites:
        expires = invite.expires_at.astimezone(services.settings.tz).strftime("%Y-%m-%d %H:%M")
        print(f"{invite.token}\t{invite.role.value}\t{invite.region_code or '—'}\t{expires}")
    print(t.plain("cli.invites_count", count=len(invites)), file=sys.stderr)
