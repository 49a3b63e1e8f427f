"""Where each bot's time goes under the throughput benchmark's crowd, from py-spy's samples.

Each bot runs alone in its own process (the bare bot replays what the people sent the full bot, as in
bench/throughput.py), sampled by py-spy; `table` sorts the busy samples of every thread into the parts of the work
and prints both bots side by side. py-spy is not one of the project's dependencies:

    .venv/bin/pip install py-spy
    .venv/bin/py-spy record -r 250 -f raw -o /tmp/full.txt -- .venv/bin/python -m bench.profile run full
    .venv/bin/py-spy record -r 250 -f raw -o /tmp/bare.txt -- .venv/bin/python -m bench.profile run bare
    .venv/bin/python -m bench.profile table /tmp/full.txt /tmp/bare.txt --rate 250
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.load import Script, run_bare, run_full

SCRIPT = Path(tempfile.gettempdir()) / "safety-bot-profile-script.json"
CROWD = (120, 30, 12)  # cadres, heads, county staff

# Leaves where a thread waits for work: py-spy counts some of them as busy.
IDLE = (
    "_worker (concurrent/futures/thread.py:81)",
    "_connection_worker_thread (aiosqlite/core.py:59)",
    "_connection_worker_thread (aiosqlite/core.py:63)",
    "EpollSelector.select (selectors.py",
)
REQUESTS = ("_baserequest.py", "httpx/", "httpcore/", "h11/", "anyio/")
OWN_CODE = (" (handlers/", " (bot/services", " (bot/domain", " (bot/i18n", " (bot/processing")


def part(stack: str) -> str | None:
    """The part of the work a sample belongs to (None: a thread waiting)."""
    leaf = stack.rsplit(";", 1)[-1]
    if leaf.startswith(IDLE):
        return None
    if "city (bench/load.py" in stack or "load_city_data" in stack or "open_services" in stack:
        return "setup"
    if "make_jpeg" in stack:
        return "the simulated people making their photos (JPEG synthesis)"
    handling = "process_update" in stack
    if not handling and "bench/load.py" in stack and ("Driver." in stack or "replay" in stack):
        return "the people's other work"
    if "sandbox/" in stack and not handling and "delivery.py" not in stack:
        return "the emulator answering"
    if "_network_loop" in stack or "get_updates" in stack:
        return "polling getUpdates (requests and parsing the updates)"
    if "OutboxSender._send" in stack:
        return "the outbox sender sending notices"
    if "delivery.py" in stack:
        return "the outbox sender's claims, marks and pace"
    if handling:
        if any(marker in stack for marker in REQUESTS):
            return "the handlers' Bot API requests"
        if "storage/" in stack or "aiosqlite" in stack:
            return "the handlers' storage calls on the event loop"
        if any(marker in stack for marker in OWN_CODE):
            return "the handlers' own code (journeys, services, domain rules, words)"
        return "python-telegram-bot's dispatch"
    if "aiosqlite" in stack or "storage/db.py" in stack:
        return "SQLite on aiosqlite's thread"
    if "evidence.py" in stack:
        return "hashing and writing evidence photos (a thread)"
    return "the event loop, sockets, thread wake-ups"


def seconds_by_part(path: Path, rate: float) -> Counter[str]:
    samples: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        where = part(stack)
        if where is not None and where != "setup":
            samples[where] += int(count)
    return Counter({where: n / rate for where, n in samples.items()})


def table(full: Path, bare: Path, rate: float) -> None:
    of_full, of_bare = seconds_by_part(full, rate), seconds_by_part(bare, rate)
    print("| where | full bot | bare bot |\n|---|---|---|")
    for where in sorted(set(of_full) | set(of_bare), key=lambda w: -of_full.get(w, 0.0)):
        bare_part = f"{of_bare[where]:.2f} s" if where in of_bare else "—"
        print(f"| {where} | {of_full.get(where, 0.0):.2f} s | {bare_part} |")
    print(f"| **total** | **{sum(of_full.values()):.2f} s** | **{sum(of_bare.values()):.2f} s** |")


async def run(bot: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        started, cpu = time.perf_counter(), time.process_time()
        if bot == "full":
            result, script = await run_full(Path(folder) / "full", *CROWD)
            SCRIPT.write_text(json.dumps({"sent": script.sent, "phases": script.phases}))
        else:
            saved = json.loads(SCRIPT.read_text())
            script = Script({int(person): kinds for person, kinds in saved["sent"].items()}, saved["phases"])
            result = await run_bare(script)
        print(f"{bot}: {result.rate:.1f} updates/s over {result.seconds:.1f} s; the whole run "
              f"{time.perf_counter() - started:.1f} s, {time.process_time() - cpu:.1f} s of CPU")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run", help="run one bot under the crowd (the full bot first: the bare one replays it)")
    one.add_argument("bot", choices=["full", "bare"])
    both = commands.add_parser("table", help="the two py-spy raw files as a table of seconds per part")
    both.add_argument("full", type=Path)
    both.add_argument("bare", type=Path)
    both.add_argument("--rate", type=float, default=250.0, help="py-spy's samples per second (-r)")
    args = parser.parse_args()
    if args.command == "run":
        asyncio.run(run(args.bot))
    else:
        table(args.full, args.bare, args.rate)


if __name__ == "__main__":
    cli()
