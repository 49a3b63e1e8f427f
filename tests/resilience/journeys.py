"""The journeys the crash suite keeps going while it kills the bot: each a person's loop with its own recovery.

Every journey records what the person saw confirmed (the hazard codes) for the checks afterwards. A new journey is a
class with `async run(stop)` added to the crash suite's cast; its checks go beside the existing ones there.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from bot.sandbox.views import BotMessage
from tests.resilience.crowd import CODE, MAX_RESTARTS, QUIET, SPEECH, Astray, Person, label

REFUSED_AS_DONE = ("refusal.illegal_transition", "refusal.already_closed", "refusal.already_fixed")
# The button's own answer ("closed: YH-…") says it is done; the message with the details follows it.
ACCEPTED = ("verify.accepted_short", "verify.accepted_on_time", "verify.accepted_late", *REFUSED_AS_DONE)

T = TypeVar("T")


async def through_restarts(person: Person, attempt: Callable[[], Awaitable[T]], *, calm_only: bool = False) -> T | None:
    """The attempt, made again from its start after each time the bot lost the person (Astray), at most MAX_RESTARTS
    tries: what the first try that got through returned, or None if none did. `calm_only`: only the tries made once
    the bot runs in peace count (while it keeps being killed the person keeps trying)."""
    tries = 0
    while tries < MAX_RESTARTS:
        tries += person.life.calm if calm_only else 1
        try:
            return await attempt()
        except Astray:
            person.restarts += 1
    return None


async def went_through(person: Person, attempt: Callable[[], Awaitable[bool]], gave_up: list[str], *, never: str,
                       not_offered: str) -> bool:
    """The attempt made through restarts (`through_restarts`): True if it was done; else False, and why in `gave_up`
    (after the person's name): the attempt found nothing to press (`not_offered`), or never got through (`never`)."""
    done = await through_restarts(person, attempt)
    if not done:
        gave_up.append(f"{person.name}: {never if done is None else not_offered}")
    return bool(done)


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
            code = await through_restarts(self.person, functools.partial(self.report, description, institution, area),
                                          calm_only=True)
            if code is None:
                self.gave_up.append(description)
            else:
                self.confirmed[code] = description
            await asyncio.sleep(self.rng.uniform(0.05, 0.3))

    async def report(self, description: str, institution: str, area: str) -> str:
        p = self.person
        started = await p.step(p.say("/report"), ("report.ask_institution", "resume.offer"), "start a report")
        if started.expected is not None and SPEECH.opens(started.expected.text, "resume.offer"):
            # A report left half-way by a kill is offered back; this person starts their report from the top.
            await p.step(p.press(label("resume.button_afresh")), ("report.ask_institution",), "start over")
        await p.step(p.press(institution), ("report.ask_area",), "pick the institution")
        await p.step(p.press(area), ("report.ask_severity",), "pick the area")
        await p.step(p.press("一般"), ("report.ask_description",), "pick the severity")
        # A photo of theirs that reached the restarted bot outside the journey waits as an offer, and the report
        # takes it (sent before /report, it is part of this report): the photo step then says it is attached.
        await p.step(p.say(description), ("report.ask_photos", "report.ask_photos_attached",
                                          "report.ask_photos_attached_one"), "describe it")
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
    """Someone who acts on every notice of some kinds: `respond` to each, as a loop until `stop` and nothing is left.

    A hazard may come back (reopened after it was closed): its second notice is a second round of work, so what is
    done is counted per hazard, not just remembered."""

    NOTICES: ClassVar[tuple[str, ...]]  # the catalog keys of the notices answered
    BUTTON: ClassVar[str]  # the button on a hazard's dossier that starts the response (for /tasks, see sweep_tasks)

    person: Person
    done: Counter[str] = field(default_factory=Counter)  # responses per hazard code

    def pending(self) -> list[tuple[str, BotMessage]]:
        seen: Counter[str] = Counter()
        pending = []
        for code, message in self.person.notices(*self.NOTICES):
            seen[code] += 1
            if seen[code] > self.done[code]:
                pending.append((code, message))
        return pending

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
    """A head who acknowledges and rectifies every hazard notice of their institution, with an after-photo, and
    rectifies again a hazard that staff reopened."""

    NOTICES = ("notice.new_for_head", "notice.reopened")
    BUTTON = "📤 提交整改结果"

    async def respond(self, code: str, message: BotMessage) -> None:
        p = self.person
        buttons = [b for row in message.buttons for b in row]
        if "确认收到" in buttons:
            # The buttons may have changed under the press; rectifying is what matters.
            with contextlib.suppress(Astray):
                await p.step(p.press("确认收到", message), ("rectify.acknowledged", *REFUSED_AS_DONE), "acknowledge")
        again = "📤 重新提交整改结果"  # a reopened hazard's notice says "again"
        button = again if again in buttons else self.BUTTON
        await through_restarts(p, functools.partial(self.rectify, code, message, button))
        self.done[code] += 1

    async def rectify(self, code: str, message: BotMessage, button: str) -> None:
        """Start the rectification with the notice's button (start, or start again), then hand it in."""
        p = self.person
        start = await p.step(p.press(button, message),
                             ("rectify.ask_measures", "rectify.ask_photos", "rectify.ask_photos_kept",
                              "rectify.ask_photos_kept_one", *REFUSED_AS_DONE), "start")
        assert start.expected is not None
        if SPEECH.opens(start.expected.text, *REFUSED_AS_DONE):
            return  # already handed in (its answer was lost with the bot) or closed
        if SPEECH.opens(start.expected.text, "rectify.ask_measures"):
            await p.step(p.say(f"已清理 {code} 所述杂物，张贴禁止堆放标识"), ("rectify.ask_photos_next",),
                         "describe the measures")
        await p.step(p.photo(), ("rectify.photo_received",), "send an after-photo")
        await p.step(p.press(label("button.done")), ("rectify.submitted",), "submit")


@dataclass
class Verifying(Responding):
    """County staff who accept every rectification handed in for verification."""

    NOTICES = ("notice.submitted_for_staff",)
    BUTTON = "验收通过"

    async def respond(self, code: str, message: BotMessage) -> None:
        await through_restarts(self.person, functools.partial(self.accept, message))
        self.done[code] += 1

    async def accept(self, message: BotMessage) -> None:
        p = self.person
        if "验收通过" not in [b for row in message.buttons for b in row]:
            return  # accepted already (by a colleague, or before the bot died)
        await p.step(p.press("验收通过", message), ACCEPTED, "accept")


@dataclass
class Reopening:
    """County staff who reopen closed hazards whose problem came back: the hazard's details, Reopen, then (after a
    moment's thought) the reason. Each hazard is reopened at most once, up to `most` of them, and more until one
    reason has been typed across a kill (the crash suite's REASON_KILL waits for a reason being typed)."""

    person: Person
    closed: Callable[[], Awaitable[list[str]]]  # the codes of the hazards closed by now
    most: int
    rng: random.Random
    reopened: dict[str, str] = field(default_factory=dict)  # code -> reason, as the person saw it done
    tried: set[str] = field(default_factory=set)
    at_reason_step: asyncio.Event = field(default_factory=asyncio.Event)  # asked for the reason, not yet given
    reasons_across_a_kill: int = 0  # reasons given to a bot other than the one that asked for them

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and (len(self.tried) < self.most or not self.reasons_across_a_kill):
            fresh = [code for code in await self.closed() if code not in self.tried]
            if not fresh:
                await asyncio.sleep(0.2)
                continue
            code = fresh[0]
            self.tried.add(code)
            reason = f"复查发现 {code} 所述问题反弹：消防通道再次被堵"
            if await through_restarts(self.person, functools.partial(self.reopen, code, reason)):
                self.reopened[code] = reason
            await asyncio.sleep(self.rng.uniform(1.0, 3.0))

    async def reopen(self, code: str, reason: str) -> bool:
        """True once the bot said it is reopened, or the hazard's history shows their reason; False if the hazard is
        no longer closed (reopened already, the answer lost with the bot: the person sees it being rectified and
        leaves it)."""
        p = self.person
        await p.step(p.say(f"/hazard {code}"), ("dossier.summary",), f"open {code}")
        await asyncio.sleep(QUIET)  # the photos and the message with the buttons follow the summary
        if any(reason in m.text for m in p.user.messages()):
            # Their reason is in the hazard's history: an earlier try went through, and the answer that said so was
            # lost with the bot. They do not reopen it again, even if it has been rectified and closed since.
            return True
        offered = [m for m in reversed(p.user.messages()) if code in m.text and m.stored.inline_keyboard]
        if not offered or "重新打开" not in [b for row in offered[0].buttons for b in row]:
            return False
        await p.step(p.press("重新打开", offered[0]), ("reopen.ask_reason",), "reopen")
        asked_by = self.person.answered_by
        self.at_reason_step.set()
        # Typing the reason takes a moment: a kill may come meanwhile, and the reason must then still be taken.
        await asyncio.sleep(self.rng.uniform(1.0, 2.0))
        self.at_reason_step.clear()  # sending it now: a quiet kill waits for this step to be answered
        await p.step(p.say(reason), ("reopen.done",), "give the reason")
        self.reasons_across_a_kill += self.person.answered_by != asked_by
        return True


@dataclass
class EndingAccess:
    """County staff who end the access of the people they are asked to (/people, the person, ⛔ 停用账号, ⛔ 确认停用),
    one after another, as they are asked (`ask`), until `stop` and nobody is left."""

    person: Person
    asked: asyncio.Queue[tuple[int, str]] = field(default_factory=asyncio.Queue)  # (telegram id, name on the roster)
    ended: list[int] = field(default_factory=list)  # as the person saw it done (or saw them gone from the roster)

    def ask(self, telegram_id: int, name: str) -> None:
        self.asked.put_nowait((telegram_id, name))

    async def run(self, stop: asyncio.Event) -> None:
        while not (stop.is_set() and self.asked.empty()):
            try:
                telegram_id, name = await asyncio.wait_for(self.asked.get(), 0.2)
            except TimeoutError:
                continue
            if await through_restarts(self.person, functools.partial(self.end, name)):
                self.ended.append(telegram_id)

    async def end(self, name: str) -> bool:
        """True once the bot said the access is ended, or the person is gone from the roster."""
        p = self.person
        roster = await p.step(p.say("/people"), ("people.roster",), "list the people")
        assert roster.expected is not None
        if name not in "".join(b for row in roster.expected.buttons for b in row):
            return True  # ended already: the answer that said so was lost with the bot
        await p.step(p.press(name), ("people.card",), f"open {name}'s card")
        await p.step(p.press("⛔ 停用账号"), ("people.confirm",), "end the access")
        # Pressed again after a kill that lost the answer, the button says the person is gone: done all the same.
        await p.step(p.press("⛔ 确认停用"), ("people.deactivated", "refusal.person_gone"), "confirm")
        return True


# An empty /tasks: thanks, or (staff) how many hazards of their region others are still dealing with.
NOTHING_WAITING = ("tasks.empty", "tasks.empty_others_open", "tasks.empty_others_open_one", "tasks.none_to_fix",
                   "tasks.none_for_staff")


async def sweep_tasks(person: Person, journey: Responding) -> None:
    """What a person does when a notice never came: open /tasks and deal with every hazard listed there."""
    p = person
    listing = await p.step(p.say("/tasks"), ("tasks.header", *NOTHING_WAITING), "list the tasks")
    assert listing.expected is not None
    if any(SPEECH.said(listing.expected.text, key) for key in NOTHING_WAITING):
        return
    for code in CODE.findall(listing.expected.text):
        # The list's buttons say the area and the start of the description, not the code: open it by its code.
        offered = offering(await open_details(p, code), code, journey.BUTTON)
        if offered is not None:
            await journey.respond(code, offered)


async def open_details(person: Person, code: str) -> list[BotMessage]:
    """`/hazard CODE`: the messages of the hazard's details (the summary, its history, the message with the buttons)."""
    p = person
    mark = len(p.user.messages())
    await p.step(p.say(f"/hazard {code}"), ("dossier.summary",), f"open {code}")
    await asyncio.sleep(QUIET)  # the photos and the message with the buttons follow the summary
    return p.user.messages()[mark:]


def offering(messages: list[BotMessage], code: str, button: str) -> BotMessage | None:
    """The newest of these messages about the hazard with this button, if any."""
    for message in reversed(messages):
        if code in message.text and button in [b for row in message.buttons for b in row]:
            return message
    return None


async def still_to_do(person: Person, code: str, text: str, button: str) -> BotMessage | bool:
    """The hazard's details, where the person would do something with `button` and their `text`: True if the text is
    in its history (done already: the answer that said so was lost with the bot), else the message offering the
    button, or False if none does."""
    details = await open_details(person, code)
    if any(text in m.text for m in details):
        return True
    offered = offering(details, code, button)
    return False if offered is None else offered


async def think(person: Person, rng: random.Random, across_a_kill: bool) -> None:
    """A person typing a text after the bot asked for it: a second or so; or, `across_a_kill`, long enough for their
    step to be on disk (the persistence flushes every second), then until the bot has been killed and started again,
    so that the restarted bot must take the text as the answer to its predecessor's question."""
    life = person.life
    if not across_a_kill:
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        return
    asked_of = life.generation
    await asyncio.sleep(2.0)
    if life.generation != asked_of:
        return  # killed at once, their step perhaps not yet on disk: across a kill all the same
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60.0
    while loop.time() < deadline:
        if life.calm or life.holding:
            return  # no kill comes until they have moved on
        if life.generation != asked_of:
            # Killed after their step had the time to reach the disk: the text must be taken the first time.
            person.checking_resume = True
            return
        await asyncio.sleep(0.1)


@dataclass(eq=False)
class HeldStep:
    """One step the crash suite makes sure is taken and its answer lost: the person waits before it (`ready`) until
    the killer has made Telegram hang on what the bot says or changes next in their chat, then takes it (`go`); the
    bot commits and is killed while its answer hangs. The restarted bot takes the update again, or the person,
    answered nothing by a bot that had taken it, does it again, as a person would: the retry must change nothing."""

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    armed: bool = True
    target: str = ""  # what the step is about: the hazard code, or the comment
    # Committed, and the bot killed while its answer hung: the restarted bot takes the update again (the killed
    # one had not confirmed it) or the person repeats it (it had).
    answer_lost: bool = False

    async def hold(self, target: str, person: Person, in_conversation: bool = True) -> None:
        """Wait for the killer (once), from the moment it waits for the held steps: no kill comes until they are
        taken. In a conversation, the bot that asked for the step must still be the one running: a kill since may
        have lost the step (its state not yet on disk), and they start the item over, holding then."""
        life = person.life
        if not self.armed:
            return
        while not life.holding:
            if life.calm:
                return
            await asyncio.sleep(0.05)
        if in_conversation and person.answered_by != life.generation:
            raise Astray("the step to hold", None)
        self.armed, self.target = False, target
        self.ready.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.go.wait(), 120)


# The answers to a decision pressed again after the first went through (its answer lost with the bot).
EXTENSION_SETTLED = ("refusal.extension_already_approved", "refusal.extension_already_refused")


@dataclass
class AskingForTime:
    """A head who asks for more time (申请延期) on each of their hazards being rectified, once: the details, 申请延期,
    延期 7 天, the reason typed, 提交延期申请. The first reason is typed across a kill (`think`). After a kill that lost
    the answer, they look at the hazard's details: their reason there (waiting, or approved since) means it was asked;
    the bot saying a request already waits (theirs: nobody else asks) means so too."""

    person: Person
    codes: list[str]
    rng: random.Random
    asked: dict[str, str] = field(default_factory=dict)  # code -> reason, as the person saw it asked
    gave_up: list[str] = field(default_factory=list)
    across_a_kill: int = 0  # reasons typed to a bot other than the one that asked for them, and taken
    held: HeldStep = field(default_factory=HeldStep)  # pressing Send on the last hazard, its answer lost

    async def run(self, stop: asyncio.Event) -> None:
        for code in self.codes:
            reason = f"{code} 需更换消防管道，等待施工单位进场及预算审批"
            if await went_through(self.person, functools.partial(self.ask, code, reason), self.gave_up,
                                  never=f"never asked for more time on {code}",
                                  not_offered=f"{code} offers no 申请延期 and has no request"):
                self.asked[code] = reason
            await asyncio.sleep(self.rng.uniform(0.3, 1.0))

    async def ask(self, code: str, reason: str) -> bool:
        p = self.person
        offered = await still_to_do(p, code, reason, label("button.request_extension"))
        if isinstance(offered, bool):
            return offered
        start = await p.step(p.press(label("button.request_extension"), offered),
                             ("extension.ask_date", "refusal.extension_pending"), "ask for more time")
        assert start.expected is not None
        if SPEECH.opens(start.expected.text, "refusal.extension_pending"):
            return True  # theirs, asked before the bot died (nobody else asks on this hazard)
        await p.step(p.press(label("button.extend_7_days")), ("extension.ask_reason",), "pick 7 days")
        asked_by = p.answered_by
        held = code == self.codes[-1]
        await think(p, self.rng, across_a_kill=not self.across_a_kill and not held)
        await p.step(p.say(reason), ("extension.confirm",), "give the reason")
        typed_across = p.answered_by != asked_by
        if held:
            await self.held.hold(code, p)
        await p.step(p.press(label("button.send_extension")), ("extension.sent",), "send the request")
        self.across_a_kill += typed_across
        return True


@dataclass
class DecidingExtensions(Responding):
    """County staff who approve every request for more time they are told of (同意延期 on the notice)."""

    NOTICES = ("notice.extension_requested",)
    BUTTON = "同意延期"
    held: HeldStep = field(default_factory=HeldStep)  # the first approval, its answer lost

    async def respond(self, code: str, message: BotMessage) -> None:
        p = self.person
        await self.held.hold(code, p, in_conversation=False)
        await through_restarts(p, functools.partial(self.approve, message))
        self.done[code] += 1

    async def approve(self, message: BotMessage) -> None:
        p = self.person
        if self.BUTTON not in [b for row in message.buttons for b in row]:
            return  # decided already (the answer lost with the bot: its buttons gave way to Details)
        await p.step(p.press(self.BUTTON, message), ("extension.approved", *EXTENSION_SETTLED), "approve")


@dataclass
class Commenting:
    """County staff following some hazards, who comment on them one after another (💬 留言 on the details, then the
    text: no confirmation step). The first comment is typed across a kill. After a kill that lost the answer, they
    look at the details: their comment in the history means it was recorded."""

    person: Person
    codes: list[str]
    most: int
    rng: random.Random
    confirmed: dict[str, str] = field(default_factory=dict)  # comment -> code, as the person saw it recorded
    gave_up: list[str] = field(default_factory=list)
    across_a_kill: int = 0
    held: HeldStep = field(default_factory=HeldStep)  # the last comment typed, its answer lost

    async def run(self, stop: asyncio.Event) -> None:
        for n in range(self.most):
            code = self.codes[n % len(self.codes)]
            text = f"第{n + 1}条留言：{code} 的施工单位下周一进场，请院方提前清空通道"
            if await went_through(self.person, functools.partial(self.comment, code, text), self.gave_up,
                                  never=f"never commented {text!r}",
                                  not_offered=f"{code} offers no 💬 留言"):
                self.confirmed[text] = code
            await asyncio.sleep(self.rng.uniform(0.3, 1.0))

    async def comment(self, code: str, text: str) -> bool:
        p = self.person
        offered = await still_to_do(p, code, text, label("button.comment"))
        if isinstance(offered, bool):
            return offered
        await p.step(p.press(label("button.comment"), offered), ("comment.ask",), "comment")
        asked_by = p.answered_by
        held = text.startswith(f"第{self.most}条")
        await think(p, self.rng, across_a_kill=not self.across_a_kill and not held)
        if held:
            await self.held.hold(text, p)
        await p.step(p.say(text), ("comment.sent", "comment.sent_one", "comment.sent_to_nobody"), "type the comment")
        self.across_a_kill += p.answered_by != asked_by
        return True


@dataclass
class Withdrawing:
    """County staff who withdraw (作废) hazards nobody will fix, one after another: the details, 🗑 作废, 误报, the
    reason typed, 确认作废. The first reason is typed across a kill (the persistent conversation, the category in
    `action_drafts`); the next confirmation is pressed across one (the reason waits in `action_drafts` alone); the
    last confirmation is held (`HeldStep`), its answer lost. After a kill that lost an answer they look at the
    details: their reason there means it is withdrawn; pressed again, the bot saying it was withdrawn means so too
    (nobody else withdraws these: the checks see whose withdrawal it is)."""

    person: Person
    codes: list[str]
    rng: random.Random
    withdrawn: dict[str, str] = field(default_factory=dict)  # code -> reason, as the person saw it withdrawn
    gave_up: list[str] = field(default_factory=list)
    reasons_across_a_kill: int = 0  # reasons typed to a bot other than the one that asked for them, and taken
    confirmed_across_a_kill: int = 0  # confirmations pressed on a bot other than the one that asked for them
    held: HeldStep = field(default_factory=HeldStep)  # the last confirmation pressed, its answer lost

    async def run(self, stop: asyncio.Event) -> None:
        for code in self.codes:
            reason = f"现场核实 {code} 所述插线板为临时展陈用电，已拆除，不属于隐患"
            if await went_through(self.person, functools.partial(self.withdraw, code, reason), self.gave_up,
                                  never=f"never withdrew {code}",
                                  not_offered=f"{code} offers no 🗑 作废 and is not withdrawn"):
                self.withdrawn[code] = reason
            await asyncio.sleep(self.rng.uniform(0.3, 1.0))

    async def withdraw(self, code: str, reason: str) -> bool:
        p = self.person
        offered = await still_to_do(p, code, reason, label("button.withdraw"))
        if isinstance(offered, bool):
            return offered
        held = code == self.codes[-1]
        reason_across = not self.reasons_across_a_kill and not held
        confirm_across = not reason_across and not self.confirmed_across_a_kill and not held
        await p.step(p.press(label("button.withdraw"), offered), ("withdraw.ask_category",), "withdraw")
        await p.step(p.press(label("withdraw.category.mistaken")), ("withdraw.ask_reason",), "pick why")
        asked_by = p.answered_by
        await think(p, self.rng, across_a_kill=reason_across)
        await p.step(p.say(reason), ("withdraw.confirm",), "give the reason")
        typed_across = p.answered_by != asked_by
        shown_by = p.answered_by
        if held:
            await self.held.hold(code, p, in_conversation=False)
        else:
            await think(p, self.rng, across_a_kill=confirm_across)
        # Pressed again after a kill that lost the answer, the button says who withdrew it: done all the same.
        await p.step(p.press(label("withdraw.confirm_button")),
                     ("withdraw.done_told", "withdraw.done", "refusal.withdrawn"), "confirm")
        self.reasons_across_a_kill += typed_across
        self.confirmed_across_a_kill += p.answered_by != shown_by and not held
        return True


@dataclass
class ClosingInstitution:
    """County staff who close an institution (停用机构) of their county: `/institution NAME`, ⛔ 停用机构, the reason
    typed across a kill, then ⛔ 确认停用, held (`HeldStep`) until its answer is lost (the reason waits in
    `action_drafts` meanwhile, across the kills between). After a kill that lost an answer they look at the card:
    closed, with their reason, means it was done."""

    person: Person
    name: str  # the institution's name, as /institution finds it
    reason: str
    rng: random.Random
    closed: bool = False  # as the person saw it done
    gave_up: list[str] = field(default_factory=list)
    reason_across_a_kill: bool = False
    held: HeldStep = field(default_factory=HeldStep)  # the confirmation, its answer lost

    async def run(self, stop: asyncio.Event) -> None:
        self.closed = await went_through(self.person, self.close, self.gave_up, never=f"never closed {self.name}",
                                         not_offered=f"{self.name}'s card offers no ⛔ 停用机构")

    async def card(self) -> str:
        """The institution's card, as `/institution NAME` shows it (staff find a closed one too)."""
        p = self.person
        card = await p.step(p.say(f"/institution {self.name}"), ("institution.title",), "open the card")
        assert card.expected is not None
        return card.expected.text

    async def close(self) -> bool:
        p = self.person
        if self.reason in await self.card():
            return True  # closed already, with their reason: the answer that said so was lost with the bot
        await p.step(p.press(label("institution.close_button")), ("institution.close_ask_reason",), "close it")
        asked_by = p.answered_by
        await think(p, self.rng, across_a_kill=not self.reason_across_a_kill)
        await p.step(p.say(self.reason), ("institution.close_confirm",), "give the reason")
        self.reason_across_a_kill |= p.answered_by != asked_by
        await self.held.hold(self.name, p, in_conversation=False)
        done = await p.step(p.press(label("institution.close_confirm_button")),
                            ("institution.closed_done", "refusal.institution_closed_already", "fallback.stale_button"),
                            "confirm")
        assert done.expected is not None
        if SPEECH.opens(done.expected.text, "fallback.stale_button") and self.reason not in await self.card():
            # Pressed again after a kill, the draft gone and the institution still open: something lost the
            # reason; they start over.
            raise Astray("confirm", done)
        return True
