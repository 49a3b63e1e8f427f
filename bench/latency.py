"""The bot's own time per update, from receipt to the answer of the last request it sends: p50, p95 and p99.

"Own" is the handler's time, from the moment it may begin (its chat's earlier updates done, a slot free) until it
returns, i.e. until Telegram (here the emulator) answered the last request it made; "with queueing" adds the wait for
the chat and a slot from the moment the update reached the bot. Measured under a light crowd (a person or two at a
time) and under the throughput benchmark's crowd, for the full bot and, beside it, the bare echo bot given the same
kinds of update.

    .venv/bin/python -m bench.latency
    .venv/bin/python -m bench.latency --cadres 240 --heads 60 --staff 24
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import tempfile
from pathlib import Path

from bench.load import Result, run_bare, run_full

KINDS = (None, "command", "text", "photo", "press")


def table(title: str, full: Result, bare: Result) -> None:
    print(f"  {title}: {full.people} people, {full.updates} updates")
    print(f"    {'kind':<8} {'n':>5}  {'full p50/p95/p99 ms':>22}  {'with queueing':>22}  {'bare p50/p95/p99 ms':>22}")
    for kind in KINDS:
        f, b = full.latency(kind), bare.latency(kind)
        if not f["n"]:
            continue
        print(f"    {kind or 'all':<8} {int(f['n']):>5}  {f['p50']:6.1f} {f['p95']:7.1f} {f['p99']:7.1f}  "
              f"{f['queued_p50']:6.1f} {f['queued_p95']:7.1f} {f['queued_p99']:7.1f}  "
              f"{b['p50']:6.1f} {b['p95']:7.1f} {b['p99']:7.1f}")


async def main(cadres: int, heads: int, staff: int) -> None:
    print(f"latency, {datetime.date.today()} (milliseconds)")
    with tempfile.TemporaryDirectory() as folder:
        for title, size in (("light", (4, 4, 2)), ("crowd", (cadres, heads, staff))):
            full, script = await run_full(Path(folder) / title, *size)
            bare = await run_bare(script)
            table(title, full, bare)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cadres", type=int, default=240)
    parser.add_argument("--heads", type=int, default=60)
    parser.add_argument("--staff", type=int, default=24)
    args = parser.parse_args()
    asyncio.run(main(args.cadres, args.heads, args.staff))


if __name__ == "__main__":
    cli()
