"""The typhoon morning: a red warning has just reached every home, and all their heads answer it at once.

The throughput benchmark (bench/throughput.py) measures the hazard loop: reports with photos, rectifications,
verifications. This one measures the moment the issue names, "hundreds of people use it at the same moment (the
morning a typhoon warning goes out)": a city-wide 台风红色预警 is delivered to N heads (not timed; bench/broadcast.py
times delivery), then every head presses 已收到并落实 at once while the county staff look at /warnstatus. The full
bot is `build_application` as `safety-bot run` builds it; the bare bot is the echo bot of bench/load.py, given the
same people pressing a button at once and the same commands, on the same emulator, in the same run.

    .venv/bin/python -m bench.typhoon                # 600 heads, 24 county staff, each looking twice
    .venv/bin/python -m bench.typhoon --heads 1200
    .venv/bin/python -m bench.typhoon --runs 5       # five comparisons, and the median of their ratios
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import statistics
import tempfile
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path

from bench.load import COUNTIES, Driver, Result, Script, _person, _phase, city, full_bot, run_bare
from bench.throughput import line, requests_line
from bot.app import BotApplication
from bot.delivery import OutboxSender
from bot.domain.roles import Role
from bot.domain.warnings import WarningKind, WarningLevel, WarningTarget
from bot.pacing import Limits
from bot.sandbox import Sandbox, SimUser
from bot.services.warnings import ManualWarning
from bot.services_factory import BotServices
from handlers.warning_delivery import deliver
from handlers.warning_text import ACK_RECEIVED

LOOKS = 2  # /warnstatus by each county staff member during the answers


async def _warn_everyone(services: BotServices, application: BotApplication, sender_id: int,
                         heads: list[SimUser]) -> int:
    """A city-wide red typhoon warning, queued as the send button queues it and delivered to every head."""
    admin = await services.storage.users.get(sender_id)
    assert admin is not None
    warning = ManualWarning(kind=WarningKind.TYPHOON, level=WarningLevel.RED, headline="台风“海葵”红色预警",
                            description="预计今晚在我市沿海登陆，最大风力14级。",
                            target=WarningTarget(regions=frozenset(COUNTIES)))
    async with services.storage.db.transaction():
        created = await services.warnings.create_manual(admin, warning)
        delivered = await deliver(services, await services.warnings.send(admin, created.id))
    sender = OutboxSender(application, services, worker_id="bench-setup", limits=Limits.unlimited_for_tests())
    await sender.run_until_drained(delivered.queued.batch)
    await sender.stop()
    missing = [head for head in heads if not head.messages()]
    if missing:
        raise RuntimeError(f"{len(missing)} heads did not get the warning")
    return created.id


async def _answer(driver: Driver, head: SimUser, warning_id: int) -> None:
    await driver.press(head, f"{ACK_RECEIVED}:{warning_id}")


async def _look(driver: Driver, official: SimUser) -> None:
    for _ in range(LOOKS):
        await driver.text(official, "/warnstatus")


async def run_full_morning(folder: Path, heads: int, staff: int) -> tuple[Result, Script, int]:
    async with Sandbox() as sandbox, full_bot(sandbox, folder, "per-chat", False) as (bot, services, observed):
        crowd = await city(services, sandbox, 0, heads, staff, first_id=300_000)
        admin = await _person(services, sandbox, 399_999, Role.CITY)  # the warning is the whole city's
        warning_id = await _warn_everyone(services, bot, admin.id, crowd.heads)
        driver = Driver(sandbox, observed)
        first_call = len(sandbox.calls)
        observed.timings.clear()
        work: list[Awaitable[None]] = [_answer(driver, head, warning_id) for head in crowd.heads]
        work += [_look(driver, official) for official in crowd.staff]
        phase = await _phase("every head answers at once, staff look at /warnstatus", observed, work)
        await sandbox.settle(timeout=60)
        answered = await services.storage.db.fetchval(
            "SELECT COUNT(*) FROM warning_acks WHERE warning_id = ? AND response = 'received'", (warning_id,))
        timings = list(observed.timings.values())
        result = Result("full", "per-chat", len(crowd.heads) + len(crowd.staff), [phase], timings,
                        observed.reordered_chats(), len({t.chat_id for t in timings}),
                        requests=Counter(call.method for call in sandbox.calls[first_call:]))
        members = [p.id for p in crowd.heads] + [p.id for p in crowd.staff]
        return result, Script(dict(driver.sent), [members]), int(answered)


async def main(args: argparse.Namespace) -> None:
    print(f"typhoon morning, {datetime.date.today()}: {args.heads} heads answer a red warning at once, "
          f"{args.staff} county staff look at /warnstatus {LOOKS} times each")
    ratios = [await one_morning(args) for _ in range(args.runs)]
    if len(ratios) > 1:
        # One morning is 2 to 4 seconds of work: a single run's ratio moves by a tenth either way.
        listed = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        print(f"ratios of the {len(ratios)} runs: {listed}; median {statistics.median(ratios):.2f}")


async def one_morning(args: argparse.Namespace) -> float:
    """Both bots through the same morning, the figures printed; returns the ratio of their rates."""
    with tempfile.TemporaryDirectory() as folder:
        full, script, answered = await run_full_morning(Path(folder), args.heads, args.staff)
        bare = await run_bare(script, "per-chat")
    print(line(bare))
    print(line(full))
    print(requests_line(bare))
    print(requests_line(full))
    print(f"    answers recorded: {answered} of {args.heads}")
    print(f"    ratio full/bare: {full.rate / bare.rate:.2f}")
    for name, result in (("bare", bare), ("full", full)):
        presses = result.latency("press")
        print(f"    {name} answer press, the bot's own time: p50 {presses['p50']:.1f} ms, p95 {presses['p95']:.1f} ms, "
              f"p99 {presses['p99']:.1f} ms; from arrival: p50 {presses['queued_p50']:.1f} ms, "
              f"p95 {presses['queued_p95']:.1f} ms, p99 {presses['queued_p99']:.1f} ms")
    return full.rate / bare.rate


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heads", type=int, default=600)
    parser.add_argument("--staff", type=int, default=24)
    parser.add_argument("--runs", type=int, default=1, help="run the comparison this many times; print the median")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
