"""A crowd of simulated people driving a bot through the emulator, and the instruments that time it.

Used by bench/throughput.py and bench/latency.py. The full bot is exactly what `safety-bot run` builds; the bare bot
is python-telegram-bot with the same builder settings and one echo handler per kind of update. Both run on the same
emulator, in the same process as the people (as in the tests), so the emulator's own cost is in both figures.

Every person is a closed loop: they send one update and wait until the bot has finished handling it before the next,
as a person waits for the answer. A few send bursts (several photos at once, as an album arrives) to see whether
the bot keeps each conversation in order while it handles many conversations at once.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    SimpleUpdateProcessor,
    filters,
)
from telegram.request import HTTPXRequest

from bot.app import BotApplication, build_application, running
from bot.clock import FakeClock
from bot.domain.roles import Role
from bot.incoming import PacedPolls
from bot.processing import PerChatUpdateProcessor
from bot.sandbox import Sandbox, SimUser
from bot.sandbox.media import make_jpeg
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services.onboarding import Newcomer
from bot.services_factory import BotServices, open_services
from bot.stage import sandbox_settings
from storage.models import InstitutionType, NewInstitution

START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
COUNTIES = ("330302", "330303", "330304", "330381")


# ---- timing every update ----------------------------------------------------------------------------------------


@dataclass
class Timing:
    update_id: int
    chat_id: int
    kind: str  # command, text, photo, press, other
    received: float  # handed to the update processor
    started: float = 0.0  # its handler began (after waiting for its chat and a free slot)
    finished: float = 0.0  # its handler returned: the last request it sent has been answered


class Observed(BaseUpdateProcessor):
    """Wraps the bot's own update processor and notes when each update arrives, starts and is done."""

    def __init__(self, inner: BaseUpdateProcessor) -> None:
        # Its own limit must not hold updates back before they are noted as received: the inner one limits.
        super().__init__(4096 if inner.max_concurrent_updates > 1 else 1)
        self.inner = inner
        self.timings: dict[int, Timing] = {}
        self._done: dict[int, asyncio.Event] = {}

    def done(self, update_id: int) -> asyncio.Event:
        return self._done.setdefault(update_id, asyncio.Event())

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await self.inner.process_update(update, coroutine)
            return
        chat = update.effective_chat.id if update.effective_chat else 0
        timing = Timing(update.update_id, chat, _kind(update), time.perf_counter())
        self.timings[update.update_id] = timing

        async def observed() -> None:
            timing.started = time.perf_counter()
            await coroutine

        try:
            await self.inner.process_update(update, observed())
        finally:
            timing.finished = time.perf_counter()
            self.done(update.update_id).set()

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    def reordered_chats(self) -> int:
        """Conversations in which an update began before the one sent before it had been handled completely."""
        by_chat: dict[int, list[Timing]] = defaultdict(list)
        for timing in self.timings.values():
            by_chat[timing.chat_id].append(timing)
        overlapping = 0
        for timings in by_chat.values():
            timings.sort(key=lambda t: t.update_id)
            if any(later.started < earlier.finished for earlier, later in itertools.pairwise(timings)):
                overlapping += 1
        return overlapping


def _kind(update: Update) -> str:
    if update.callback_query is not None:
        return "press"
    message = update.effective_message
    if message is None:
        return "other"
    if message.photo:
        return "photo"
    if message.text is not None:
        return "command" if message.text.startswith("/") else "text"
    return "other"


PROCESSORS: dict[str, Callable[[], BaseUpdateProcessor]] = {
    "per-chat": PerChatUpdateProcessor,  # what the bot runs: concurrent across chats, in order within each
    "one at a time": lambda: PerChatUpdateProcessor(1),
    "unordered": lambda: _Unordered(32),  # python-telegram-bot's plain concurrency, for comparison
}


class _Unordered(SimpleUpdateProcessor):
    pass


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# ---- the people -------------------------------------------------------------------------------------------------


@dataclass
class Crowd:
    cadres: list[SimUser]
    heads: list[SimUser]
    staff: list[SimUser]
    institutions: dict[int, list[int]]  # cadre id -> institution ids they may report on

    @property
    def size(self) -> int:
        return len(self.cadres) + len(self.heads) + len(self.staff)


async def city(services: BotServices, sandbox: Sandbox, cadres: int, heads: int, staff: int, first_id: int) -> Crowd:
    """Institutions with a head each in four counties, cadres and county staff there; all registered already."""
    storage = services.storage
    await load_city_data(storage, DEMO_DATA_DIR)
    per_county: dict[str, list[int]] = defaultdict(list)
    head_users = []
    for n in range(heads):
        county = COUNTIES[n % len(COUNTIES)]
        institution = await storage.institutions.upsert(NewInstitution(
            code=f"BENCH-{first_id}-{n}", name_zh=f"基准养老院{first_id}-{n}", name_en=f"Bench home {n}",
            type=InstitutionType.ELDERLY_CARE, region_code=county))
        per_county[county].append(institution.id)
        head_users.append(await _person(services, sandbox, first_id + n, Role.HEAD, institution=institution.code))
    cadre_users, reach = [], {}
    for n in range(cadres):
        county = COUNTIES[n % len(COUNTIES)]
        person = await _person(services, sandbox, first_id + 10_000 + n, Role.CADRE, region=county)
        cadre_users.append(person)
        reach[person.id] = per_county[county]
    staff_users = [await _person(services, sandbox, first_id + 20_000 + n, Role.COUNTY,
                                 region=COUNTIES[n % len(COUNTIES)]) for n in range(staff)]
    return Crowd(cadre_users, head_users, staff_users, reach)


async def _person(services: BotServices, sandbox: Sandbox, telegram_id: int, role: Role, *, region: str | None = None,
                  institution: str | None = None) -> SimUser:
    invite = await services.onboarding.create_invite(creator=None, role=role, region_code=region,
                                                     institution_code=institution)
    await services.onboarding.register(invite.token, Newcomer(telegram_id, f"{role.value}{telegram_id}", None,
                                                              "zh_CN"))
    user = sandbox.user(telegram_id, f"{role.value}{telegram_id}")
    user.state.started = True
    return user


@dataclass
class Driver:
    """Sends a person's updates one at a time, each after the bot finished the one before."""

    sandbox: Sandbox
    observed: Observed
    sent: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))  # person -> kinds, in order

    async def text(self, person: SimUser, text: str) -> None:
        sent = await person.send_text(text, wait=False)
        assert sent.update_id is not None
        self.sent[person.id].append("command" if text.startswith("/") else "text")
        await self.observed.done(sent.update_id).wait()

    async def photos(self, person: SimUser, count: int = 1) -> None:
        """`count` photos at once, without waiting in between: how an album arrives."""
        ids = []
        for _ in range(count):
            sent = await person.send_photo(wait=False)
            assert sent.update_id is not None
            ids.append(sent.update_id)
            self.sent[person.id].append("photo")
        for update_id in ids:
            await self.observed.done(update_id).wait()

    async def press(self, person: SimUser, data: str) -> None:
        message = next((m for m in reversed(person.messages()) if m.stored.inline_keyboard), None)
        if message is None:
            raise RuntimeError(f"{person} has no buttons to press")
        await person.press_data(message, data, wait=False)
        update_id = self.sandbox.world.last_update_id  # queued without yielding: the newest update is this press
        self.sent[person.id].append("press")
        await self.observed.done(update_id).wait()

    def button(self, person: SimUser, prefix: str, index: int = 0) -> str:
        """The data of the `index`-th button starting with `prefix` on the person's newest message with buttons."""
        for message in reversed(person.messages()):
            found = [d for row in message.button_data for d in row if d and d.startswith(prefix)]
            if found:
                return found[index % len(found)]
        raise RuntimeError(f"{person} sees no button {prefix}…")


# ---- the journeys of the full bot -------------------------------------------------------------------------------


async def report(driver: Driver, cadre: SimUser, n: int) -> None:
    await driver.text(cadre, "/report")
    await driver.press(cadre, driver.button(cadre, "rp:inst:", n))
    await driver.press(cadre, driver.button(cadre, "rp:area:", n))
    await driver.press(cadre, "rp:sev:general")
    await driver.text(cadre, f"基准第{n}号：三楼走廊堆放杂物，堵塞消防通道")
    await driver.photos(cadre, 1)
    await driver.press(cadre, "rp:photos:done")
    await driver.text(cadre, "跳过")
    await driver.press(cadre, "rp:src:cross_check")
    await driver.press(cadre, "rp:confirm")


async def rectify_all(driver: Driver, head: SimUser) -> None:
    """Acknowledge and rectify every hazard notice (measures, two after-photos at once), then /tasks."""
    hazards = [d.split(":")[2] for m in head.messages() for r in m.button_data for d in r
               if d and d.startswith("hz:ack:")]
    for hazard in hazards:
        await driver.press(head, f"hz:ack:{hazard}")
        await driver.press(head, f"hz:fix:{hazard}")
        await driver.text(head, "已清理走廊杂物，张贴禁止堆放标识")
        await driver.photos(head, 2)
        await driver.press(head, "rx:done")
    await driver.text(head, "/tasks")


async def verify_all(driver: Driver, official: SimUser) -> None:
    """Accept every rectification handed in, then /tasks and its second page."""
    waiting = [d for m in official.messages() for r in m.button_data for d in r if d and d.startswith("hz:accept:")]
    for data in waiting:
        await driver.press(official, data)
    await driver.text(official, "/tasks")


# ---- the bare bot -----------------------------------------------------------------------------------------------


@dataclass
class SameRequests:
    """For the bare bot that makes the full bot's Bot API requests without its work: spread evenly over the run, as
    many edits of pressed messages and messages to other people (the notices) as the full bot made, and each photo
    fetched (`getFile` and the download) as the full bot fetches it."""

    presses: int
    edits: int
    updates: int
    notices: int
    _pressed: int = 0
    _handled: int = 0

    @classmethod
    def of(cls, full: Result) -> SameRequests:
        calls = full.requests
        presses = calls["answerCallbackQuery"]
        return cls(presses, calls["editMessageText"], full.updates, max(0, calls["sendMessage"] - full.updates))

    def edit_now(self) -> bool:
        self._pressed += 1
        return _evenly(self._pressed, self.edits, self.presses)

    def notice_now(self) -> bool:
        self._handled += 1
        return _evenly(self._handled, self.notices, self.updates)


def _evenly(nth: int, share: int, of: int) -> bool:
    """Whether the nth of `of` events is one of `share` spread evenly among them."""
    return nth * share // max(1, of) > (nth - 1) * share // max(1, of)


def bare_application(sandbox: Sandbox, update_processor: BaseUpdateProcessor, same: SameRequests | None = None) -> Any:
    """python-telegram-bot with the full bot's builder settings and an echo for each kind of update; with `same`,
    also the full bot's other requests (see SameRequests)."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="bare:ok")]])
    chats: list[int] = []

    async def notice(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        if same is None:
            return
        if chat_id not in chats:
            chats.append(chat_id)
        if same.notice_now() and len(chats) > 1:
            other = chats[(chats.index(chat_id) + 1) % len(chats)]
            await context.bot.send_message(other, "通知：有一条隐患需要处理", reply_markup=keyboard)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            if same is not None and message.photo:
                photo = await message.photo[-1].get_file()
                await photo.download_as_bytearray()
            await message.reply_text(message.text or "已收到", reply_markup=keyboard, do_quote=False)
            await notice(context, message.chat_id)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is not None and chat is not None:
            await query.answer()
            if same is not None and same.edit_now() and query.message is not None:
                await query.edit_message_text(f"已选择 {query.data}（{query.message.message_id}）")
            await chat.send_message(f"按了 {query.data}", reply_markup=keyboard)
            await notice(context, chat.id)

    settings = sandbox_settings(sandbox, Path("unused.db"))
    polls = PacedPolls(connection_pool_size=2, read_timeout=40)
    application = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .concurrent_updates(update_processor)
        .request(HTTPXRequest(connection_pool_size=64, read_timeout=15, write_timeout=15))
        .get_updates_request(polls)
        .build()
    )
    polls.watch(application)  # fetches updates as the full bot does (bot/incoming.py)
    application.add_handler(MessageHandler(filters.ALL, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


async def replay(driver: Driver, person: SimUser, kinds: list[str]) -> None:
    """The same kinds of update, in the same order and bursts, as the person sent the full bot."""
    position = 0
    while position < len(kinds):
        kind = kinds[position]
        if kind == "photo":
            burst = 1
            while position + burst < len(kinds) and kinds[position + burst] == "photo":
                burst += 1
            await driver.photos(person, burst)
            position += burst
            continue
        if kind == "press":
            await driver.press(person, "bare:ok")
        else:
            await driver.text(person, "/start" if kind == "command" else "三楼走廊堆放杂物")
        position += 1


# ---- a measured run ---------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    updates: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else float("nan")


@dataclass
class Result:
    bot: str  # "full" or "bare"
    processor: str
    people: int
    phases: list[Phase]
    timings: list[Timing]
    reordered: int
    conversations: int
    photos_lost: int = 0  # after-photos sent in a burst that the hazard does not have
    requests: Counter[str] = field(default_factory=Counter)  # Bot API calls during the phases, by method

    @property
    def updates(self) -> int:
        return sum(p.updates for p in self.phases)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def latency(self, kind: str | None = None) -> dict[str, float]:
        own = [(t.finished - t.started) * 1000 for t in self.timings if kind in (None, t.kind) and t.finished]
        whole = [(t.finished - t.received) * 1000 for t in self.timings if kind in (None, t.kind) and t.finished]
        return {
            "n": len(own),
            "p50": percentile(own, 0.50), "p95": percentile(own, 0.95), "p99": percentile(own, 0.99),
            "queued_p50": percentile(whole, 0.50), "queued_p95": percentile(whole, 0.95),
            "queued_p99": percentile(whole, 0.99),
            "mean": statistics.fmean(own) if own else float("nan"),
        }


@asynccontextmanager
async def full_bot(sandbox: Sandbox, folder: Path, processor: str, rate_limiter: bool) -> AsyncIterator[
    tuple[BotApplication, BotServices, Observed]
]:
    services = await open_services(sandbox_settings(sandbox, folder / "bench.db"), FakeClock(START))
    try:
        observed = Observed(PROCESSORS[processor]())
        application = build_application(services, rate_limiter=rate_limiter, update_processor=observed)
        async with running(application, poll_timeout=5, background=False):
            yield application, services, observed
    finally:
        await services.close()


def network(sandbox: Sandbox, rtt_ms: float) -> None:
    """Telegram is a round trip away; the emulator answers at once unless told to take its time."""
    if rtt_ms > 0:
        sandbox.inject_fault(method="*", kind="slow", delay=rtt_ms / 1000, times=None)


async def photos_lost(services: BotServices) -> int:
    """After-photos the heads sent (two per rectification, at once) that did not reach the hazard."""
    db = services.storage.db
    submitted = await db.fetchval("SELECT COUNT(*) FROM hazard_events WHERE action = 'submit_rectification'")
    kept = await db.fetchval("SELECT COUNT(*) FROM hazard_photos WHERE kind = 'after'")
    return int(submitted) * 2 - int(kept)


async def _phase(
    name: str, observed: Observed, work: list[Awaitable[None]], delivered: Callable[[], Awaitable[None]] | None = None
) -> Phase:
    """The people's updates of one phase, until the bot has handled them and `delivered` the notices they caused:
    those are part of handling them, and the next phase's people act on them (county staff accept what the
    rectifications' notices brought them)."""
    before = len(observed.timings)
    started = time.perf_counter()
    await asyncio.gather(*work)
    if delivered is not None:
        await delivered()
    return Phase(name, len(observed.timings) - before, time.perf_counter() - started)


@dataclass
class Script:
    """What every person sent the full bot, phase by phase: the bare bot is given the same."""

    sent: dict[int, list[str]]
    phases: list[list[int]]


async def run_full(folder: Path, cadres: int, heads: int, staff: int, processor: str = "per-chat",
                   rate_limiter: bool = False, rtt_ms: float = 0) -> tuple[Result, Script]:
    """The full bot under the crowd: reports with photos, then rectifications, then verifications."""
    make_jpeg.cache_clear()  # see run_bare
    async with Sandbox() as sandbox, full_bot(sandbox, folder, processor, rate_limiter) as (bot, services, observed):
        crowd = await city(services, sandbox, cadres, heads, staff, first_id=100_000)
        network(sandbox, rtt_ms)
        driver = Driver(sandbox, observed)
        notices = bot.bot_data["notice_sender"]
        first_call = len(sandbox.calls)

        async def delivered() -> None:
            await sandbox.wait_for(lambda: bool(notices.quiet), timeout=60)

        phases = [
            await _phase("report (10 updates each, 1 photo)", observed,
                         [report(driver, cadre, n) for n, cadre in enumerate(crowd.cadres)], delivered),
            await _phase("acknowledge + rectify (2 photos at once) + /tasks", observed,
                         [rectify_all(driver, head) for head in crowd.heads], delivered),
            await _phase("accept + /tasks", observed, [verify_all(driver, official) for official in crowd.staff],
                         delivered),
        ]
        await sandbox.settle(timeout=60)
        timings = list(observed.timings.values())
        result = Result("full", processor, crowd.size, phases, timings, observed.reordered_chats(),
                        len({t.chat_id for t in timings}), await photos_lost(services),
                        Counter(call.method for call in sandbox.calls[first_call:]))
        members = [[p.id for p in crowd.cadres], [p.id for p in crowd.heads], [p.id for p in crowd.staff]]
        return result, Script(dict(driver.sent), members)


async def run_bare(
    script: Script, processor: str = "per-chat", rtt_ms: float = 0, same: SameRequests | None = None
) -> Result:
    """The bare bot, replaying every person's kinds of update in the same phases; with `same`, also making the full
    bot's other requests."""
    # Each bot's people make their photos anew, as the first bot's did: with the same images still cached from the
    # run before, the second bot's people worked for free, and that bot looked faster (2026-11-30: 0.41 for 0.53).
    make_jpeg.cache_clear()
    sent, phases_of = script.sent, script.phases
    async with Sandbox() as sandbox:
        network(sandbox, rtt_ms)
        observed = Observed(PROCESSORS[processor]())
        application = bare_application(sandbox, observed, same)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=5)
            people = {telegram_id: sandbox.user(telegram_id, f"p{telegram_id}") for telegram_id in sent}
            driver = Driver(sandbox, observed)
            for person in people.values():
                await driver.text(person, "/start")  # a message of the bot's to press buttons under
            observed.timings.clear()
            first_call = len(sandbox.calls)
            phases = []
            for n, members in enumerate(phases_of):
                phases.append(await _phase(f"phase {n + 1}", observed,
                                           [replay(driver, people[m], sent[m]) for m in members if m in sent]))
            requests = Counter(call.method for call in sandbox.calls[first_call:])
            await application.updater.stop()
            await application.stop()
        timings = list(observed.timings.values())
        return Result("bare" if same is None else "same", processor, len(sent), phases, timings,
                      observed.reordered_chats(), len({t.chat_id for t in timings}), requests=requests)
