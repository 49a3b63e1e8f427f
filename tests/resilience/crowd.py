"""People who keep using the bot while it is killed and restarted under them, as real people would.

A person takes one step (a message or a button), then waits for the answer it should bring. If the bot dies
meanwhile and their update died with it, they repeat the step once the bot is back; if the answer is something else
(the bot lost track of where they were), they start the journey over, as a person would; if the bot says nothing at
all although it ran the whole time, that is a failure. Journeys are classes with a `run()` (tests/resilience/
journeys.py): the report, the head's rectification, the staff's verification, reopening a closed hazard, ending a
person's access, asking for more time and deciding it, commenting, withdrawing a hazard and closing an institution
today; later journeys (drills, warnings, acknowledgements) join the crash suite as more classes.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from bot.i18n import Translator
from bot.sandbox import Sandbox
from bot.sandbox.driver import SimUser
from bot.sandbox.state import TranscriptEntry
from bot.sandbox.views import BotMessage
from tests.resilience.speech import Phrasebook, phrasebook

ZH = Translator("zh_CN")
SPEECH: Phrasebook = phrasebook("zh_CN")
CODE = re.compile(r"YH-\d{8}-\d{4}")
NOTICES = tuple(key for key in SPEECH.patterns if key.startswith("notice."))
# bot/services/outbox.py recover(): a claim whose process died, given back to the queue.
RESENT = re.compile(r"outbox (\d+) to chat -?\d+: claim by \S+ died with it; queued again")
REMINDER_RESENT = re.compile(r"reminder \d+ to chat (-?\d+): claim by .+? died with it; queued again")
# bot/services/outbox.py sent(): a request already on its way when the person's access ended (it cannot be recalled).
GIVEN_UP_IN_FLIGHT = re.compile(r"outbox \d+ to chat (-?\d+) was delivered while it was given up")

STEP_TIMEOUT = 20.0  # no answer at all this long, with the bot running throughout: the bot is stuck
QUIET = 1.0  # an answer that is not the expected one, and nothing more for this long: the journey went astray
MAX_REPEATS = 6
MAX_RESTARTS = 6


class BotLife:
    """The bot as a separate process (`python -m bot.cli run`), as people and the killer see it."""

    def __init__(self, sandbox: Sandbox, settings: Settings, logs: Path) -> None:
        self.sandbox = sandbox
        self.settings = settings
        self.logs = logs
        self.generation = 0  # bumped at every kill
        self.kills = 0
        self.calm = False  # no more kills to come
        self.holding = False  # the next kill waits for people to reach a step (journeys.HeldStep), not the reverse
        self.process: asyncio.subprocess.Process | None = None
        self._up = asyncio.Event()
        self._open = asyncio.Event()  # people may take a new step
        self._open.set()
        self._stepping = 0  # people between sending a step and getting its answer
        self._no_one_stepping = asyncio.Event()
        self._no_one_stepping.set()
        self._resuming = 0  # people taking their first step after a quiet kill
        self._no_one_resuming = asyncio.Event()
        self._no_one_resuming.set()

    def env(self) -> dict[str, str]:
        """The environment `safety-bot` runs in here: the bot, and the command line beside it (`safety-bot
        deactivate`), on the same database. This process's own (PYTHONPATH included), so both run this tree's code."""
        env = dict(os.environ)
        env.update(
            BOT_TOKEN=self.settings.bot_token,
            BOT_API_BASE_URL=self.settings.bot_api_base_url,
            BOT_API_BASE_FILE_URL=self.settings.file_base_url,
            DATABASE_PATH=str(self.settings.database_path),
            OUTBOX_UNPACED=str(self.settings.outbox_unpaced),
            # The bot runs on the wall clock: without this, a run at night would hold the 一般 hazards' notices
            # till morning, and the crowd would wait for them. The suite is about kills, not about quiet hours.
            QUIET_HOURS="00:00-00:00",
        )
        return env

    async def start(self) -> None:
        env = self.env()
        polls = len(self.sandbox.calls_to("getUpdates"))
        with (self.logs / f"bot-{self.generation}.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log
            )
        # The emulator runs in this event loop: wait for the new process by yielding to it, never by blocking.
        await self.sandbox.wait_for(lambda: len(self.sandbox.calls_to("getUpdates")) > polls, timeout=60)
        self._up.set()

    def log_tail(self, lines: int = 8) -> str:
        path = self.logs / f"bot-{self.generation}.log"
        written = path.read_text(errors="replace").splitlines() if path.exists() else []
        return "\n".join(f"    {line}" for line in written[-lines:]) or "    (nothing)"

    async def kill(self) -> None:
        assert self.process is not None
        self._up.clear()
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 20)
        self.generation += 1
        self.kills += 1

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                raise AssertionError("the bot did not stop on SIGTERM") from None
        self._up.clear()

    @property
    def up(self) -> bool:
        return self._up.is_set()

    async def ready(self) -> None:
        """Wait until people may act: the bot runs and no quiet kill is being prepared."""
        while not (self._up.is_set() and self._open.is_set()):
            await self._up.wait()
            await self._open.wait()

    async def quiesce(self) -> None:
        """Let every step in progress finish, and keep new ones from starting."""
        self._open.clear()
        await self._no_one_stepping.wait()

    def stepping(self, delta: int) -> None:
        self._stepping += delta
        if self._stepping:
            self._no_one_stepping.clear()
        else:
            self._no_one_stepping.set()

    def resuming(self, delta: int) -> None:
        self._resuming += delta
        if self._resuming:
            self._no_one_resuming.clear()
        else:
            self._no_one_resuming.set()

    async def resumed(self) -> None:
        """Wait until everyone who took a first step after a quiet kill has its answer."""
        await self._no_one_resuming.wait()

    def reopen(self) -> None:
        self._open.set()

    def resent_after_kill(self) -> set[int]:
        """Outbox rows a killed bot had claimed and a restarted one queued again: the Bot API's one window, where
        Telegram may have taken the message before the bot could record it (a duplicate there is documented)."""
        found: set[int] = set()
        for path in sorted(self.logs.glob("bot-*.log")):
            found |= {int(m.group(1)) for m in RESENT.finditer(path.read_text(errors="replace"))}
        return found

    def reminders_resent_after_kill(self) -> Counter[int]:
        """Reminder rows a killed bot had claimed and a restarted one queued again, counted per chat (the same
        Bot API window as the outbox's)."""
        found: Counter[int] = Counter()
        for path in sorted(self.logs.glob("bot-*.log")):
            found.update(int(m.group(1)) for m in REMINDER_RESENT.finditer(path.read_text(errors="replace")))
        return found

    def delivered_while_given_up(self) -> Counter[int]:
        """Messages, per chat, whose request was already on its way to Telegram when their person's access ended."""
        found: Counter[int] = Counter()
        for path in sorted(self.logs.glob("bot-*.log")):
            found.update(int(m.group(1)) for m in GIVEN_UP_IN_FLIGHT.finditer(path.read_text(errors="replace")))
        return found

    def errors_logged(self) -> list[str]:
        lines = []
        for path in sorted(self.logs.glob("bot-*.log")):
            lines += [f"{path.name}: {line}" for line in path.read_text(errors="replace").splitlines()
                      if " ERROR " in line]
        return lines


@dataclass
class Answer:
    entries: list[TranscriptEntry]  # what the bot said in the person's chat after the step
    expected: TranscriptEntry | None  # the one that was expected, if it came

    @property
    def texts(self) -> list[str]:
        return [entry.text for entry in self.entries]


class Astray(Exception):
    """The bot answered, but not what the step expected: the journey must start over."""

    def __init__(self, what: str, answer: Answer | None) -> None:
        super().__init__(f"{what}: {answer.texts if answer else 'the button is gone'}")
        self.answer = answer


@dataclass
class Person:
    user: SimUser
    life: BotLife
    failures: list[str]
    repeats: int = 0  # steps repeated because the bot died with them
    restarts: int = 0  # journeys started over
    checking_resume: bool = False  # the next step follows a quiet kill: it must work the first time
    answered_by: int = -1  # the bot generation that answered the person's last step
    resume_failures: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.user.name

    async def step(self, action: Callable[[], Awaitable[int]], expect: tuple[str, ...], what: str) -> Answer:
        """Do `action` (which returns the update id it sent) until the bot answers with one of `expect`."""
        for _ in range(MAX_REPEATS):
            await self.life.ready()
            resuming, self.checking_resume = self.checking_resume, False
            self.life.resuming(+resuming)
            generation = self.life.generation
            mark = len(self.life.sandbox.transcript)
            self.life.stepping(+1)
            try:
                try:
                    update_id = await action()
                except AssertionError:  # the button to press is not there
                    raise Astray(what, None) from None
                answer = await self._answer(mark, update_id, generation, expect, what)
            finally:
                self.life.stepping(-1)
                self.life.resuming(-resuming)
            if answer is None:
                # The bot died with the update (a kill in the middle of the step): repeat it.
                self.repeats += 1
                continue
            if answer.expected is None:
                if resuming and self.life.generation == generation:
                    self.resume_failures.append(f"{self.name}: after the restart, '{what}' got {answer.texts}")
                raise Astray(what, answer)
            self.answered_by = self.life.generation
            return answer
        raise AssertionError(f"{self.name}: '{what}' never went through in {MAX_REPEATS} tries")

    async def _answer(
        self, mark: int, update_id: int, generation: int, expect: tuple[str, ...], what: str
    ) -> Answer | None:
        """The answer; None if the bot died with the update, so that the step must be repeated. A step that
        follows a quiet kill runs on the restarted bot from the start, so losing it to the bot is a failure."""
        sandbox = self.life.sandbox
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STEP_TIMEOUT
        last_seen, last_count = loop.time(), 0
        while True:
            entries = [e for e in sandbox.transcript[mark:]
                       if e.direction == "out" and e.chat_id == self.user.id and not _is_notice(e.text)]
            for entry in entries:
                if SPEECH.opens(entry.text, *expect):
                    return Answer(entries, entry)
            if len(entries) != last_count:
                last_count, last_seen = len(entries), loop.time()
            if entries and loop.time() - last_seen >= QUIET and self.life.up:
                return Answer(entries, None)
            if self.life.generation != generation:
                await self.life.ready()
                generation = self.life.generation
                deadline = loop.time() + STEP_TIMEOUT
                if sandbox.world.is_confirmed(update_id):
                    # The dead process had taken the update; whatever it did not answer is lost with it.
                    await asyncio.sleep(QUIET)
                    if not any(SPEECH.opens(e.text, *expect) for e in sandbox.transcript[mark:]
                               if e.direction == "out" and e.chat_id == self.user.id):
                        return None
                continue  # still queued in the emulator: the new process will take it
            if loop.time() > deadline:
                # What tells a stuck bot from a slow machine next time: whether the bot had even fetched the update,
                # and the last words of its log.
                taken = "taken by the bot" if sandbox.world.is_confirmed(update_id) else "never fetched"
                self.failures.append(f"{self.name}: no answer to '{what}' in {STEP_TIMEOUT:.0f}s with the bot up "
                                     f"(update {update_id} {taken}); its log ends:\n{self.life.log_tail()}")
                return None
            await sandbox.world.signal.wait(0.05)

    # ---- what a person can do -----------------------------------------------------------------------------------

    def say(self, text: str) -> Callable[[], Awaitable[int]]:
        async def send() -> int:
            sent = await self.user.send_text(text, wait=False)
            assert sent.update_id is not None
            return sent.update_id

        return send

    def photo(self) -> Callable[[], Awaitable[int]]:
        async def send() -> int:
            sent = await self.user.send_photo(wait=False)
            assert sent.update_id is not None
            return sent.update_id

        return send

    def press(self, label: str, message: BotMessage | None = None) -> Callable[[], Awaitable[int]]:
        async def tap() -> int:
            await self.user.press(label, message, wait=False)
            # The press was queued without yielding to the event loop: the newest update is this one.
            return self.life.sandbox.world.last_update_id

        return tap

    def notices(self, *keys: str) -> list[tuple[str, BotMessage]]:
        """(hazard code, message) of each notice of these kinds in the person's chat, oldest first."""
        found = []
        for message in self.user.messages():
            code = CODE.search(message.text)
            if code is not None and SPEECH.opens(message.text, *keys):
                found.append((code.group(0), message))
        return found


def _is_notice(text: str) -> bool:
    # Notices about other hazards arrive whenever they like; they are never the answer to a step.
    return SPEECH.opens(text, *NOTICES)


def label(key: str) -> str:
    return ZH.plain(key)


def now() -> float:
    return time.monotonic()
