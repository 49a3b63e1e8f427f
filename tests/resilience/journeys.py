"""The journeys the crash suite keeps going while it kills the bot: each a person's loop with its own recovery.

Every journey records what the person saw confirmed (the hazard codes) for the checks afterwards. A new journey is a
class with `async run(stop)` added to the crash suite's cast; its checks go beside the existing ones there.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import ClassVar

from bot.sandbox.views import BotMessage
from tests.resilience.crowd import CODE, QUIET, SPEECH, Astray, Person, label

REFUSED_AS_DONE = ("refusal.illegal_transition", "refusal.already_closed")
# The button's own answer ("closed: YH-…") says it is done; the message with the details follows it.
ACCEPTED = ("verify.accepted_short", "verify.accepted_on_time", "verify.accepted_late", *REFUSED_AS_DONE)


@dataclass
class Reporting:
    """A cadre who reports one hazard after another (with a photo) until told to stop."""

    person: Person
    index: int
    institutions: list[str]  # names on the buttons
    areas: list[str]
    rng: random.Random
    confirmed: dict[str, str] = field(default_factory=dict)  # code -> description, as the person saw it confirmed
    gave_up: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            description = f"第{self.index}-{n}号：三楼走廊堆放杂物，堵塞消防通道"
            institution = self.institutions[(self.index + n) % len(self.institutions)]
            area = self.areas[n % len(self.areas)]
            # While the bot keeps being killed a person keeps trying; once it runs in peace the report must go
            # through within a few attempts, or the bot has lost track of them for good.
            calm_attempts = 0
            while calm_attempts < 6:
                calm_attempts += self.person.life.calm
                try:
                    code = await self.report(description, institution, area)
                except Astray:
                    self.person.restarts += 1
                    continue
                self.confirmed[code] = description
                break
            else:
                self.gave_up.append(description)
            await asyncio.sleep(self.rng.uniform(0.05, 0.3))

    async def report(self, description: str, institution: str, area: str) -> str:
        p = self.person
        await p.step(p.say("/report"), ("report.ask_institution",), "start a report")
        await p.step(p.press(institution), ("report.ask_area",), "pick the institution")
        await p.step(p.press(area), ("report.ask_severity",), "pick the area")
        await p.step(p.press("一般"), ("report.ask_description",), "pick the severity")
        await p.step(p.say(description), ("report.ask_photos",), "describe it")
        await p.step(p.photo(), ("report.photo_received",), "send a photo")
        await p.step(p.press(label("report.button_photos_done")), ("report.ask_location",), "finish the photos")
        await p.step(p.say(label("report.button_skip")), ("report.ask_source",), "skip the location")
        summary = await p.step(p.press("互查"), ("report.summary",), "pick who found it")
        assert summary.expected is not None
        earlier = _earlier_report(summary.expected.text, description)
        if earlier is not None:
            # The confirmation was lost with the bot, but the report went through: the summary shows it as a
            # possible duplicate. A person would recognise their own words and cancel this second copy.
            await p.step(p.press(label("button.cancel")), ("report.cancelled",), "cancel the second copy")
            return earlier
        done = await p.step(p.press(label("report.button_confirm")), ("report.submitted",), "confirm")
        assert done.expected is not None
        code = CODE.search(done.expected.text)
        assert code is not None, done.expected.text
        return code.group(0)


def _earlier_report(summary: str, description: str) -> str | None:
    """The code of a possible duplicate the summary lists with this very description, if any."""
    for line in summary.splitlines():
        code = CODE.search(line)
        if code is not None and description[:40] in line:
            return code.group(0)
    return None


@dataclass
class Responding:
    """Someone who acts on every notice of one kind: `respond` to each, as a loop until `stop` and nothing is left."""

    NOTICE: ClassVar[str]  # the catalog key of the notices answered
    BUTTON: ClassVar[str]  # the button on a hazard's dossier that starts the response (for /tasks, see sweep_tasks)

    person: Person
    done: set[str] = field(default_factory=set)

    def pending(self) -> list[tuple[str, BotMessage]]:
        return [(code, m) for code, m in self.person.notices(self.NOTICE) if code not in self.done]

    async def run(self, stop: asyncio.Event) -> None:
        while True:
            pending = self.pending()
            if not pending:
                if stop.is_set():
                    return
                await asyncio.sleep(0.1)
                continue
            for code, message in pending:
                await self.respond(code, message)

    async def respond(self, code: str, message: BotMessage) -> None:
        raise NotImplementedError


@dataclass
class Rectifying(Responding):
    """A head who acknowledges and rectifies every hazard notice of their institution, with an after-photo."""

    NOTICE = "notice.new_for_head"
    BUTTON = "开始整改"

    async def respond(self, code: str, message: BotMessage) -> None:
        p = self.person
        if "确认收到" in [b for row in message.buttons for b in row]:
            # The buttons may have changed under the press; rectifying is what matters.
            with contextlib.suppress(Astray):
                await p.step(p.press("确认收到", message), ("rectify.acknowledged", *REFUSED_AS_DONE), "acknowledge")
        for _ in range(6):
            try:
                start = await p.step(p.press("开始整改", message),
                                     ("rectify.ask_measures", "rectify.ask_photos", *REFUSED_AS_DONE), "start")
                assert start.expected is not None
                if SPEECH.opens(start.expected.text, *REFUSED_AS_DONE):
                    break  # already handed in (its answer was lost with the bot) or closed
                if SPEECH.opens(start.expected.text, "rectify.ask_measures"):
                    await p.step(p.say(f"已清理 {code} 所述杂物，张贴禁止堆放标识"), ("rectify.ask_photos_next",),
                                 "describe the measures")
                await p.step(p.photo(), ("rectify.photo_received",), "send an after-photo")
                await p.step(p.press(label("button.done")), ("rectify.submitted",), "submit")
                break
            except Astray:
                p.restarts += 1
        self.done.add(code)


@dataclass
class Verifying(Responding):
    """County staff who accept every rectification handed in for verification."""

    NOTICE = "notice.submitted_for_staff"
    BUTTON = "验收通过"

    async def respond(self, code: str, message: BotMessage) -> None:
        p = self.person
        for _ in range(6):
            if "验收通过" not in [b for row in message.buttons for b in row]:
                break  # accepted already (by a colleague, or before the bot died)
            try:
                await p.step(p.press("验收通过", message), ACCEPTED, "accept")
                break
            except Astray:
                p.restarts += 1
        self.done.add(code)


async def sweep_tasks(person: Person, journey: Responding) -> None:
    """What a person does when a notice never came: open /tasks and deal with every hazard listed there."""
    p = person
    listing = await p.step(p.say("/tasks"), ("tasks.header", "tasks.empty"), "list the tasks")
    assert listing.expected is not None
    if SPEECH.said(listing.expected.text, "tasks.empty"):
        return
    for code in CODE.findall(listing.expected.text):
        await p.step(p.press(code), ("dossier.summary",), f"open {code}")
        await asyncio.sleep(QUIET)  # the photos and the message with the buttons follow the summary
        offered = [m for m in reversed(p.user.messages()) if code in m.text and m.stored.inline_keyboard
                   and journey.BUTTON in [b for row in m.buttons for b in row]]
        if not offered:
            continue
        journey.done.discard(code)
        await journey.respond(code, offered[0])
