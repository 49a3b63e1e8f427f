"""Throughput of the full bot against a bare python-telegram-bot echo bot, in the same run, on the same emulator.

A few hundred people (cadres reporting hazards with photos, heads acknowledging and rectifying with two after-photos
sent at once, county staff accepting, everyone checking /tasks) drive the full bot; then the bare bot gets exactly
the same kinds of update from the same people, in the same order, phases and bursts. Printed: both rates and their
ratio (target ≥ 0.8).

Then per-chat order, on a smaller crowd with a simulated network round trip (the emulator otherwise answers at once,
and with no waiting on the network there is nothing for concurrency to win): the full bot handling updates
concurrently across chats and in order within each (what it runs), one at a time, and with python-telegram-bot's
plain concurrency. For each: how many conversations had an update begun before the one before it was done (must be
0), and how many after-photos sent together were lost to that.

    .venv/bin/python -m bench.throughput                       # 240 cadres, 60 heads, 24 county staff
    .venv/bin/python -m bench.throughput --cadres 60 --heads 16 --staff 8 --rtt-ms 100
    .venv/bin/python -m bench.throughput --rate-limiter         # both with python-telegram-bot's AIORateLimiter
    .venv/bin/python -m bench.throughput --modes --same-requests  # also a bare bot making the full bot's requests
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import tempfile
from pathlib import Path

from bench.load import Result, SameRequests, run_bare, run_full


def line(result: Result) -> str:
    return (f"    {result.bot:<4} {result.processor:<14} {result.updates:>6} updates in {result.seconds:6.1f} s = "
            f"{result.rate:7.1f}/s   conversations out of order: {result.reordered}/{result.conversations}"
            + (f"   after-photos lost: {result.photos_lost}"
               if result.bot == "full" and any(t.kind == "photo" for t in result.timings) else ""))


def requests_line(result: Result) -> str:
    """The Bot API requests a bot made per update handled (photo downloads aside: they are not API methods)."""
    polls = result.requests.get("getUpdates", 0)
    made = sum(result.requests.values()) - polls
    methods = ", ".join(f"{n:,} {method}" for method, n in result.requests.most_common() if method != "getUpdates")
    return (f"    {result.bot:<4} Bot API requests: {made / result.updates:.2f} per update and "
            f"{polls / result.updates:.2f} polls ({methods}; {polls:,} getUpdates)")


async def main(args: argparse.Namespace) -> None:
    print(f"throughput, {datetime.date.today()} (rate limiter {'on' if args.rate_limiter else 'off'} in both bots)")
    with tempfile.TemporaryDirectory() as folder:
        full, script = await run_full(Path(folder) / "a", args.cadres, args.heads, args.staff, "per-chat",
                                      args.rate_limiter)
        bare = await run_bare(script, "per-chat")
        print(f"  full bot against the bare bot: {full.people} people, {full.updates} updates, no network delay")
        for phase_full, phase_bare in zip(full.phases, bare.phases, strict=True):
            print(f"    {phase_full.name:<50} full {phase_full.rate:7.1f}/s   bare {phase_bare.rate:7.1f}/s   "
                  f"({phase_full.updates} updates)")
        print(line(bare))
        print(line(full))
        print(requests_line(bare))
        print(requests_line(full))
        print(f"    ratio full/bare: {full.rate / bare.rate:.2f} (target ≥ 0.80)")
        if args.same_requests:
            same = await run_bare(script, "per-chat", same=SameRequests.of(full))
            print("  for reference, not the target: the bare bot making the full bot's requests as well (its photos")
            print("  fetched, as many edits and messages to other people), none of its work behind them")
            print(line(same))
            print(requests_line(same))
            print(f"    ratio full/same-requests: {full.rate / same.rate:.2f}")
        if not args.modes:
            return
        small = (args.small_cadres, args.small_heads, args.small_staff)
        results = [(await run_full(Path(folder) / f"m{n}", *small, mode, args.rate_limiter, args.rtt_ms))[0]
                   for n, mode in enumerate(args.modes)]
        print(f"  per-chat order: {results[0].people} people, {results[0].updates} updates, "
              f"{args.rtt_ms:.0f} ms round trip to the emulator")
        for result in results:
            print(line(result))
        for result in results[1:]:
            print(f"    {results[0].processor} against {result.processor}: {results[0].rate / result.rate:.2f}×")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cadres", type=int, default=240)
    parser.add_argument("--heads", type=int, default=60)
    parser.add_argument("--staff", type=int, default=24)
    parser.add_argument("--rate-limiter", action="store_true")
    parser.add_argument("--same-requests", action="store_true",
                        help="also a bare bot that makes the full bot's requests, for reference")
    parser.add_argument("--modes", nargs="*", default=["per-chat", "one at a time", "unordered"],
                        help="update processors to compare for per-chat order (none: skip that part)")
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="simulated round trip for the order part")
    parser.add_argument("--small-cadres", type=int, default=40)
    parser.add_argument("--small-heads", type=int, default=12)
    parser.add_argument("--small-staff", type=int, default=8)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
