"""Broadcast benchmark: one warning to N recipients (private chats and groups) through the real bot stack.

The application is the one `safety-bot run` builds (AIORateLimiter included); the emulator enforces Telegram's limits
(about 30 messages a second overall, 20 a minute per group, about 1 a second per private chat) and answers a share of
the sends with 429. Printed: the time from queueing to the last delivery, the least time the limits allow (N / 30 s),
their ratio, and how many recipients got no copy or more than one. A script that prints figures, never a test.

    .venv/bin/python bench/broadcast.py                  # N=600, 10% groups, 5% of sends answered 429
    .venv/bin/python bench/broadcast.py --n 1200 --groups 0.2 --flood 0.1 --retry-after 3
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application, running
from bot.delivery import OutboxSender
from bot.delivery_status import progress_text
from bot.sandbox import Sandbox, SimGroup, SimUser
from bot.services_factory import open_services
from bot.stage import sandbox_settings
from storage.outbox_models import NewOutboxMessage, OutboxPayload, Priority

TEXT = "🔴 台风红色预警（基准测试）：请立即检查门窗、疏通排水，做好临海低洼处人员转移准备。"
BATCH = "bench:broadcast"
TELEGRAM_PER_SECOND = 30


@dataclass
class Result:
    n: int
    private: int
    groups: int
    elapsed: float  # queueing to the last delivery
    drained: float  # queueing to the final status edit, which waits out the 2-second throttle
    lost: int
    duplicated: int
    sends: int
    injected_429: int
    enforced_429: int
    edits: int

    @property
    def least(self) -> float:
        return self.n / TELEGRAM_PER_SECOND

    @property
    def ratio(self) -> float:
        return self.elapsed / self.least


def recipients(sandbox: Sandbox, n: int, group_share: float) -> list[SimUser | SimGroup]:
    groups = round(n * group_share)
    chats: list[SimUser | SimGroup] = []
    for index in range(n - groups):
        person = sandbox.user(100_000 + index, f"院长{index}")
        # They pressed Start long ago. Having them do it now through the bot would spend the limits being measured.
        person.state.started = True
        chats.append(person)
    chats += [sandbox.group(-1_001_000_000_000 - index, f"民政工作群{index}") for index in range(groups)]
    return chats


async def broadcast(n: int, group_share: float, flood_share: float, retry_after: int, seed: int) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        async with Sandbox(enforce_rate_limits=True, seed=seed) as sandbox:
            services = await open_services(sandbox_settings(sandbox, Path(folder) / "bench.db"))
            application = build_application(services)
            try:
                # The application's own background sender stays off: two senders with a pace of ~30/s each would be
                # 60/s together, and Telegram would answer half of them with 429. This one is the same class.
                async with running(application, background=False):
                    chats = recipients(sandbox, n, group_share)
                    broadcaster = sandbox.user(99, "市民政局值班员")
                    broadcaster.state.started = True
                    status = await application.bot.send_message(broadcaster.id, "📤 …")
                    # Let the status message's second drop out of the emulator's window before the clock starts.
                    await asyncio.sleep(1.1)
                    flood = sandbox.inject_fault(
                        "sendMessage", "429", times=None, probability=flood_share, retry_after=retry_after, seed=seed
                    )
                    outbox = services.outbox
                    sender = OutboxSender(application, services, worker_id="bench", outbox=outbox)
                    t = services.i18n.get("zh_CN")
                    status_message = sender.status_message(
                        broadcaster.id, status.message_id, lambda p: progress_text(p, t), text=status.text
                    )
                    started = time.monotonic()
                    async with services.storage.db.transaction():
                        await outbox.enqueue([_message(chat) for chat in chats], batch=BATCH)
                    sender.watch(BATCH, status_message)
                    await sender.run_until_drained(BATCH)
                    drained = time.monotonic() - started
                    await sender.stop()
            finally:
                await services.close()
            counts = [sum(TEXT in m.text for m in chat.messages()) for chat in chats]
            sends = [call for call in sandbox.calls_to("sendMessage") if TEXT in call.params["text"]]
            answers = [call.error_code for call in sends]
            throttled = answers.count(429)
            # The emulator's clock is time.monotonic too: the last delivery, not the status message's final edit.
            delivered = max(call.finished_at or 0.0 for call in sends if call.ok) - started
            return Result(
                n=n,
                private=sum(isinstance(chat, SimUser) for chat in chats),
                groups=sum(isinstance(chat, SimGroup) for chat in chats),
                elapsed=delivered,
                drained=drained,
                lost=counts.count(0),
                duplicated=sum(count > 1 for count in counts),
                sends=len(answers),
                injected_429=flood.fired,
                enforced_429=throttled - flood.fired,
                edits=status_message.edits,
            )


def _message(chat: SimUser | SimGroup) -> NewOutboxMessage:
    chat_id = chat.id if isinstance(chat, SimUser) else chat.chat_id
    key = f"{BATCH}:chat:{chat_id}"
    return NewOutboxMessage(dedupe_key=key, chat_id=chat_id, payload=OutboxPayload(text=TEXT), priority=Priority.URGENT)


def report(result: Result, flood_share: float, retry_after: int) -> str:
    return "\n".join(
        [
            f"broadcast: N={result.n} ({result.private} private chats, {result.groups} groups), "
            f"{flood_share:.0%} of sends answered 429 (retry_after={retry_after} s)",
            f"elapsed                {result.elapsed:7.2f} s",
            f"final status edit at   {result.drained:7.2f} s",
            f"least the limits allow {result.least:7.2f} s  (N / {TELEGRAM_PER_SECOND} per second)",
            f"ratio                  {result.ratio:7.3f}",
            f"lost                   {result.lost:7d}",
            f"duplicated             {result.duplicated:7d}",
            f"sendMessage requests   {result.sends:7d}  ({result.injected_429} injected 429, "
            f"{result.enforced_429} 429 from the enforced limits)",
            f"status message edits   {result.edits:7d}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=600, help="recipients (default 600)")
    parser.add_argument("--groups", type=float, default=0.1, help="share of recipients that are groups (default 0.1)")
    parser.add_argument("--flood", type=float, default=0.05, help="share of sends answered 429 (default 0.05)")
    parser.add_argument("--retry-after", type=int, default=1, help="retry_after of those 429s, seconds (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="log every retry")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.ERROR, format="%(name)s: %(message)s")
    result = asyncio.run(broadcast(args.n, args.groups, args.flood, args.retry_after, args.seed))
    print(report(result, args.flood, args.retry_after))


if __name__ == "__main__":
    main()
