"""The authorization matrix: every command and every button × every kind of person → allowed or denied.

Each row names a command or a callback-data prefix and what each persona (tests/resilience/cast.py) must get:

- ALLOW: the journey's first step (the message named by the row's `first_step` keys);
- REFUSE: a localized refusal, and an `authz.refused` audit entry (a forged press, or a command outside one's role);
- GATE: an unregistered person is told how to get an invitation (`access.unregistered` is audited);
- STALE: a button pressed outside its journey: "this button has expired", and nothing happens.

Whatever is denied must change nothing: the person's only audit entries are the refusal itself, and a hazard the
press was aimed at keeps its state and history. Rows run their seven cells at once, each on a fresh hazard, warning
or contact round of its own where the row asks for one, with fresh people per row, so no cell sees another's state.

A command or a button prefix the bot handles without a row here fails `test_every_command_and_button_has_a_row`:
a new journey (/drill, /selfcheck, /warn, /stats …) joins the matrix by adding its rows to ROWS.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.domain.stats import PeriodKind, current_period
from bot.domain.warnings import WarningKind, WarningLevel, WarningStatus, WarningTarget
from bot.sandbox.driver import SimGroup, SimUser
from bot.services.warnings import ManualWarning
from bot.stage import Stage, stage
from handlers.menus import GROUP_COMMANDS, GUEST_COMMANDS, ROLE_COMMANDS
from storage.hazard_models import Hazard
from storage.models import Group, GroupPurpose, InstitutionType, NewInstitution
from storage.repositories.action_drafts import Journey
from storage.warning_models import NewVulnerablePerson, VulnerableCategory
from tests.hazard_people import act as act_on
from tests.hazard_people import report as report_hazard
from tests.resilience.cast import (
    CITY_REGION,
    FOREIGN_INSTITUTION,
    FOREIGN_REGION,
    INVITATIONS,
    LONGWAN,
    LONGWAN_HOME,
    LUCHENG,
    OWN_INSTITUTION,
    OWN_REGION,
    REGISTERED,
    STAFF,
    People,
    Persona,
    enrol,
)
from tests.resilience.speech import phrasebook
from tests.resilience.surface import read_surface

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the rows share one bot, started once
DIGEST_GROUP = -999_000_001

P = Persona
SPEECH = phrasebook("zh_CN")
DENIAL_AUDITS = frozenset({"authz.refused", "access.unregistered"})


class Outcome(StrEnum):
    ALLOW = "allow"
    REFUSE = "refuse"
    GATE = "gate"
    STALE = "stale"
    # Observed only, never expected: each names what went wrong.
    REFUSED_UNAUDITED = "refused without an authz.refused audit entry"
    UNEXPLAINED = "no recognisable answer"


@dataclass
class Cell:
    """One persona trying one row, on a hazard of its own."""

    stage: Stage
    persona: Persona
    people: People
    institutions: Mapping[str, int]  # code -> id
    group: SimGroup | None = None
    hazard: Hazard | None = None
    warning_id: int | None = None  # a warning of Lucheng, prepared for rows about warnings
    contact: tuple[int, int] | None = None  # (round, person) of a contact round, on the cadre persona's list
    newcomer: int | None = None  # a person of Lucheng registered for this cell alone, for rows that end an access
    invite: str | None = None  # an unused invitation to Lucheng made for this cell alone
    earlier_fix: int | None = None  # a rectification of the cell's hazard sent back and since submitted anew

    @property
    def person(self) -> SimUser:
        return self.people[self.persona]

    @property
    def chat_id(self) -> int:
        return self.group.chat_id if self.group is not None else self.person.id

    async def say(self, text: str) -> None:
        await self.person.send_text(text, chat=self.group)

    async def press(self, data: str) -> None:
        """What a (possibly forged) client sends: this callback data under the newest message of the bot's."""
        await self.person.press_data(self.person.last_message(chat=self.group), data, chat=self.group)

    def institution(self, table: Mapping[Persona, str]) -> int:
        return self.institutions[table[self.persona]]


Step = Callable[[Cell], Awaitable[object]]


async def nothing(cell: Cell) -> None:
    return None


def say(text: str | Callable[[Cell], str]) -> Step:
    return lambda cell: cell.say(text(cell) if callable(text) else text)


def press(data: str | Callable[[Cell], str]) -> Step:
    return lambda cell: cell.press(data(cell) if callable(data) else data)


def steps(*sequence: Step) -> Step:
    async def run(cell: Cell) -> None:
        for step in sequence:
            await step(cell)

    return run


def verdict(verb: str, *, earlier: bool = False) -> Step:
    """Accept, Reject or the fixer's own acceptance as the bot now sends them, naming the rectification they are
    shown with: the one awaiting verification, or (`earlier`) the one before it, sent back (see `submitted_anew`)."""

    async def run(cell: Cell) -> None:
        assert cell.hazard is not None
        fix = cell.earlier_fix if earlier else await cell.stage.services.hazards.current_fix(cell.hazard.id)
        await cell.press(f"hz:{verb}:{cell.hazard.id}:{fix}")

    return run


async def submitted_anew(cell: Cell) -> None:
    """The cell's rectification sent back by the county's staff, and another one submitted by the head: the first
    one's buttons are now those of an earlier rectification."""
    assert cell.hazard is not None
    cell.earlier_fix = await cell.stage.services.hazards.current_fix(cell.hazard.id)
    await act_on(cell.stage, cell.people[P.COUNTY_IN].id, cell.hazard, HazardAction.REJECT, reason="照片不清楚")
    await act_on(cell.stage, cell.people[P.HEAD_OWN].id, cell.hazard, HazardAction.SUBMIT_RECTIFICATION,
                 reason="已重新整改", photos=1)


async def extension_asked(cell: Cell) -> None:
    """The head of the cell's hazard has asked for seven more days on it (through the service)."""
    assert cell.hazard is not None and cell.hazard.deadline is not None
    services = cell.stage.services
    head = await services.storage.users.get(cell.people[P.HEAD_OWN].id)
    assert head is not None
    await services.hazards.ask_extension(head, cell.hazard.id, cell.hazard.deadline + timedelta(days=7), "需要施工")
    await cell.stage.sandbox.settle()


def on_extension(verb: str) -> Step:
    """Approve or Refuse of the request waiting on the cell's hazard, as its notice carries them."""

    async def run(cell: Cell) -> None:
        assert cell.hazard is not None
        pending = await cell.stage.services.storage.extensions.pending_for(cell.hazard.id)
        await cell.press(f"xt:{verb}:{pending.id if pending else 0}")

    return run


async def check_back_asked(cell: Cell) -> None:
    """The check-back of the cell's closed hazard, asked: straight in the table (its day is weeks away, and the
    matrix runs no sender), as the asking job leaves it."""
    assert cell.hazard is not None
    await cell.stage.services.storage.db.execute(
        "UPDATE check_backs SET state = 'asked', asked_at = due_at WHERE hazard_id = ?", (cell.hazard.id,))


def on_help(verb: str) -> Step:
    """✋ 我来处理 (`take`) or ✅ 已解决 (`done`) of a call for help by the own head under the cell's warning, raised
    straight in the table (the head's own press would add to the head's trail while the head's cell watches it);
    for ✅ 已解决, taken by the persona itself, so that staff in scope press it as its taker."""

    async def run(cell: Cell) -> None:
        assert cell.warning_id is not None
        calls = cell.stage.services.storage.help_requests
        now = cell.stage.clock.now()
        request = await calls.add(cell.warning_id, cell.people[P.HEAD_OWN].id,
                                  [cell.institutions[OWN_INSTITUTION[P.HEAD_OWN]]], LUCHENG, now)
        if verb == "done":
            await calls.take(request.id, cell.person.id, now)
        await cell.press(f"wh:{verb}:{request.id}")

    return run


def press_check_back(answer: str) -> Step:
    """An answer to the check-back of the cell's hazard, as its question carries it."""

    async def run(cell: Cell) -> None:
        assert cell.hazard is not None
        found = await cell.stage.services.storage.check_backs.for_hazard(cell.hazard.id)
        await cell.press(f"chk:{answer}:{found[0].id if found else 0}")

    return run


PERIODS = {"month": PeriodKind.MONTH, "quarter": PeriodKind.QUARTER, "year": PeriodKind.YEAR}


def filled(template: str) -> Callable[[Cell], str]:
    """Text or callback data naming what the cell was given: '{hazard}' (the id) and '{code}' of its hazard,
    '{warning}', '{round}' and '{person}' of its contact round, '{newcomer}' and '{invite}' of the cell, and
    '{month}', '{quarter}' or '{year}', the tokens of the current periods as the bot's own period buttons carry them."""

    def text(cell: Cell) -> str:
        today = cell.stage.services.insight.stats.today()
        names: dict[str, object] = {name: current_period(kind, today).token for name, kind in PERIODS.items()}
        if cell.hazard is not None:
            names |= {"hazard": cell.hazard.id, "code": cell.hazard.code}
        if cell.warning_id is not None:
            names["warning"] = cell.warning_id
        if cell.contact is not None:
            names |= {"round": cell.contact[0], "person": cell.contact[1]}
        if cell.newcomer is not None:
            names["newcomer"] = cell.newcomer
        if cell.invite is not None:
            names["invite"] = cell.invite
        return template.format_map(names)

    return text






def report_until(count: int) -> Step:
    """The first `count` steps of a report on the persona's own institution (9 reach the summary)."""
    sequence: list[Step] = [
        say("/report"),
        press(lambda cell: f"rp:inst:{cell.institution(OWN_INSTITUTION)}"),
        press("rp:area:fire"),
        press("rp:sev:general"),
        say("走廊堆放杂物，堵塞消防通道"),
        lambda cell: cell.person.send_photo(chat=cell.group),
        press("rp:photos:done"),
        say("跳过"),
        press("rp:src:cross_check"),
    ]
    return steps(*sequence[:count])


def shown_data(cell: Cell, prefix: str, ending: str = "") -> str | None:
    """The callback data of the first button on the bot's newest message that starts with `prefix` (and ends with
    `ending`): what the person sees and may press."""
    rows = cell.person.last_message(chat=cell.group).button_data
    return next((data for row in rows for data in row if data and data.startswith(prefix) and data.endswith(ending)),
                None)


def press_shown(prefix: str, ending: str = "", *, otherwise: str) -> Step:
    """Press what the person sees; someone shown no such button sends `otherwise` (a forged press)."""
    return lambda cell: cell.press(shown_data(cell, prefix, ending) or otherwise)


async def forged_fix_press(cell: Cell) -> None:
    """📤 提交整改 for the cell's hazard, as shown or (not shown: the offer names only the most pressing few, of all the
    cells' hazards at the home) made on the person's own offer, the token of their 📝 上报隐患."""
    hazard = cell.hazard.id if cell.hazard is not None else 0
    offer = shown_data(cell, "rp:offer:")
    token = offer.rsplit(":", 1)[1] if offer is not None else "1"
    await cell.press(f"rx:photo:{hazard}:{token}")


def if_shown(prefix: str) -> Step:
    """Press a button only where the person's screen has one: staff pick an institution, a head does not."""

    async def run(cell: Cell) -> None:
        data = shown_data(cell, prefix)
        if data is not None:
            await cell.press(data)

    return run


def only(personas: Iterable[Persona], step: Step) -> Step:
    """A step of the journey that only some personas take (city admins pick the counties a warning goes to)."""
    chosen = frozenset(personas)

    async def run(cell: Cell) -> None:
        if cell.persona in chosen:
            await step(cell)

    return run








def drill_until(count: int) -> Step:
    """The first `count` steps of logging a fire drill (staff pick an institution first; 9 reach the problems)."""
    sequence: list[Step] = [
        say("/drill"),
        if_shown("dr:inst:"),
        press("dr:kind:fire"),
        press("dr:day:today"),
        say("20"),
        say("30"),
        say("疏散演练，检查消防通道"),
        lambda cell: cell.person.send_photo(chat=cell.group),
        press("dr:photos:done"),
    ]
    return steps(*sequence[:count])


def warn_until(count: int) -> Step:
    """The first `count` steps of /warn (city admins also pick Lucheng; 7 reach the preview)."""
    sequence: list[Step] = [
        say("/warn"),
        press("wn:kind:high_temperature"),
        press("wn:level:yellow"),
        steps(press("wn:template"), only((P.CITY,), steps(press(f"wn:region:{LUCHENG}"), press("wn:next")))),
        press("wn:next"),
        press("wn:next"),
        press("wn:hours:24"),
    ]
    return steps(*sequence[:count])


async def page_of_last_search(cell: Cell) -> None:
    """The first page of the person's last institution search, as its buttons name it (a made-up one if none)."""
    search = await cell.stage.services.storage.searches.last(cell.person.id)
    await cell.press(f"ic:page:{search.serial if search else 1}:0")


async def page_of_last_invite_search(cell: Cell) -> None:
    """The first page of the person's last institution search at /invite's head step (a made-up one if none)."""
    search = await cell.stage.services.storage.searches.last(cell.person.id, Journey.INVITE_SEARCH)
    await cell.press(f"invite:find:{search.serial if search else 1}:0")


SELFCHECK_OK = press_shown("sc:a:", ":ok", otherwise="sc:a:fire.extinguishers:ok")
SELFCHECK_FAIL = press_shown("sc:a:", ":fail", otherwise="sc:a:fire.extinguishers:fail")


def expect(
    allow: Iterable[Persona] = (),
    stale: Iterable[Persona] = (),
    *,
    others: Outcome = Outcome.REFUSE,
    unregistered: Outcome = Outcome.GATE,
) -> dict[Persona, Outcome]:
    """Registered personas: ALLOW if in `allow`, STALE if in `stale`, else `others`; the stranger: `unregistered`."""
    allowed, expired = set(allow), set(stale)
    table: dict[Persona, Outcome] = {
        p: Outcome.ALLOW if p in allowed else Outcome.STALE if p in expired else others for p in REGISTERED
    }
    table[P.UNREGISTERED] = unregistered
    return table


EVERYONE = expect(allow=REGISTERED)
# What a press naming something by id that the presser may not see is told: what an id naming nothing is told.
HIDDEN = ("refusal.institution_hidden", "refusal.person_hidden", "refusal.not_found")
# /tasks: the list, or an empty one (staff hear how many of their region's hazards others still deal with).
TASKS_ANSWERS = ("tasks.header", "tasks.empty", "tasks.empty_others_open", "tasks.empty_others_open_one",
                 "tasks.extensions_header", "tasks.none_to_fix", "tasks.none_for_staff")
NOT_STAFF = (P.CADRE, P.HEAD_OWN, P.HEAD_OTHER)
HEADS = (P.HEAD_OWN, P.HEAD_OTHER)
DRILLERS = (*HEADS, *STAFF)  # who logs drills and reads figures: heads, and staff for their scope
LUCHENG_STAFF = (P.COUNTY_IN, P.CITY)  # staff whose scope holds Lucheng, where the prepared warnings are
LUCHENG_HOME = OWN_INSTITUTION[P.HEAD_OWN]
HEADLESS_HOME = f"MX-{LUCHENG}-0"  # a home of Lucheng the fixture adds, which no row gives a head
# Who may not see another's institution (FOREIGN_INSTITUTION): everyone but the city, whose scope holds them all.
OUTSIDERS = (P.CADRE, P.HEAD_OWN, P.HEAD_OTHER, P.COUNTY_IN, P.COUNTY_OUT)
# Who may not see Lucheng's home (its own head may; county staff of Lucheng and city admins may close it).
NOT_LUCHENG_HOME = (P.CADRE, P.HEAD_OTHER, P.COUNTY_OUT)


@dataclass(frozen=True)
class Row:
    key: str  # the command ("/report") or the callback-data prefix ("hz:accept:") this row covers
    expect: Mapping[Persona, Outcome]
    act: Step
    first_step: tuple[str, ...]  # catalog keys: what the person sees when allowed
    prepare: Step = nothing
    variant: str = ""
    hazard: HazardState | None = None  # a fresh hazard of HOME in this state for every cell
    hazard_by: Persona | None = None  # who reports it (None: the row's reporter, a cadre who is no persona)
    in_group: bool = False  # in an unbound group of the persona's own, rather than in private
    warning: WarningStatus | None = None  # a fresh warning of Lucheng for every cell: a draft, or sent
    contact: bool = False  # a fresh contact round in Lucheng for every cell, with one person on the cadre's list
    newcomer: Role | None = None  # a fresh person of Lucheng of this role for every cell ('{newcomer}')
    invite: bool = False  # a fresh unused invitation to Lucheng for every cell ('{invite}')
    # The personas refused as if the institution or person named did not exist (HIDDEN): they may not see it, and
    # "outside your scope" would confirm to them that it does.
    hidden_to: tuple[Persona, ...] = ()
    marks: tuple[Any, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return f"{self.key} ({self.variant})" if self.variant else self.key


async def left_in_the_digest_group(cell: Cell) -> None:
    """The cell's newcomer, a member of the city's bound digest group (where the bot is an admin), loses access."""
    assert cell.newcomer is not None
    group = cell.stage.sandbox.world.chats[DIGEST_GROUP]
    group.members[cell.newcomer] = "member"
    group.bot_status = "administrator"
    await cell.stage.services.people.deactivate(None, cell.newcomer)


def known_gap(reason: str) -> tuple[Any, ...]:
    """A row that documents the right behaviour the bot does not have yet; it fails loudly once fixed."""
    return (pytest.mark.xfail(reason=reason, strict=True),)


ROWS: tuple[Row, ...] = (
    # ---- commands in private --------------------------------------------------------------------------------------
    Row("/start", EVERYONE | {P.UNREGISTERED: Outcome.ALLOW}, say("/start"),
        ("start.welcome_back", "access.not_registered")),
    Row("/help", EVERYONE, say("/help"), tuple(f"help.{role.value}" for role, _, _ in INVITATIONS.values())),
    Row("/lang", EVERYONE, say("/lang"), ("lang.choose",)),
    Row("/cancel", EVERYONE, say("/cancel"), ("cancel.nothing",)),
    Row("/report", EVERYONE, say("/report"), ("report.ask_institution",)),
    # /report again over an unfinished report offers it back; carrying on asks its step again.
    Row("rs:report:", EVERYONE, press("rs:report:go"), ("report.ask_severity",),
        prepare=steps(report_until(3), say("/report"))),
    # A cadre may be named responsible for a hazard: /tasks gives them their (here empty) list.
    # Staff's list opens with the requests for more time waiting for them, when there are any.
    Row("/tasks", EVERYONE, say("/tasks"), TASKS_ANSWERS),
    # Everyone registered reports, so everyone has a list of their own reports, if only an empty one.
    Row("/mine", EVERYONE, say("/mine"), ("mine.header", "mine.empty")),
    Row("/mine", EVERYONE, say("/mine"), ("mine.header", "mine.empty"), hazard=HazardState.ASSIGNED,
        hazard_by=P.CADRE, variant="after the cadre reported"),
    Row("/hazard", expect(allow=(P.HEAD_OWN, P.COUNTY_IN, P.CITY)), say(filled("/hazard {code}")),
        ("dossier.summary",), hazard=HazardState.ASSIGNED, variant="reported by someone else"),
    Row("/hazard", expect(allow=(P.CADRE, P.HEAD_OWN, P.COUNTY_IN, P.CITY)), say(filled("/hazard {code}")),
        ("dossier.summary",), hazard=HazardState.ASSIGNED, hazard_by=P.CADRE, variant="the cadre's own report"),
    Row("/deadline", expect(allow=(P.COUNTY_IN, P.CITY)), say(filled("/deadline {code}")), ("deadline.ask",),
        hazard=HazardState.ASSIGNED),
    Row("/invite", expect(allow=STAFF), say("/invite"), ("invite.choose_role",)),
    # Binding happens in a group; in private everyone is told so.
    Row("/bindgroup", EVERYONE, say("/bindgroup"), ("group.bind_in_group",), variant="in private"),
    Row("/unbindgroup", EVERYONE, say("/unbindgroup"), ("group.unbind_in_group",), variant="in private"),
    # ---- commands in an unbound group ---------------------------------------------------------------------------
    Row("/bindgroup", expect(allow=STAFF, unregistered=Outcome.REFUSE), say("/bindgroup"), ("group.choose_region",),
        in_group=True, variant="in a group"),
    Row("/help", expect(allow=REGISTERED, unregistered=Outcome.ALLOW), say("/help"), ("group.unbound",),
        in_group=True, variant="in a group"),
    Row("/unbindgroup", expect(allow=STAFF, unregistered=Outcome.REFUSE), say("/unbindgroup"),
        ("group.nothing_to_unbind",), in_group=True, variant="in a group"),
    # ---- hazard buttons: a press is checked on the server, whoever sent it ----------------------------------------
    Row("hz:view:", expect(allow=(P.HEAD_OWN, P.COUNTY_IN, P.CITY)), press(filled("hz:view:{hazard}")),
        ("dossier.summary",), hazard=HazardState.ASSIGNED),
    Row("hz:ack:", expect(allow=(P.HEAD_OWN,)), press(filled("hz:ack:{hazard}")), ("rectify.acknowledged",),
        hazard=HazardState.ASSIGNED),
    Row("hz:fix:", expect(allow=(P.HEAD_OWN,)), press(filled("hz:fix:{hazard}")), ("rectify.ask_measures",),
        hazard=HazardState.ASSIGNED),
    # Accept and Reject name the rectification they are shown with; those sent before they did carry the hazard alone,
    # and stand for the only rectification ever submitted. Pressed on an earlier rectification, since sent back and
    # submitted anew, they change nothing: staff who may verify it are told it is earlier (a stale button).
    Row("hz:accept:", expect(allow=(P.COUNTY_IN, P.CITY)), verdict("accept"), ("verify.accepted_on_time",),
        hazard=HazardState.AWAITING_VERIFICATION),
    Row("hz:accept:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("hz:accept:{hazard}")),
        ("verify.accepted_on_time",), hazard=HazardState.AWAITING_VERIFICATION, variant="sent before it named one"),
    Row("hz:accept:", expect(stale=(P.COUNTY_IN, P.CITY)), verdict("accept", earlier=True),
        ("verify.accepted_on_time",), prepare=submitted_anew, hazard=HazardState.AWAITING_VERIFICATION,
        variant="an earlier rectification"),
    Row("hz:accept:", expect(stale=(P.COUNTY_IN, P.CITY)), press(filled("hz:accept:{hazard}")),
        ("verify.accepted_on_time",), prepare=submitted_anew, hazard=HazardState.AWAITING_VERIFICATION,
        variant="sent before it named one, after a second rectification"),
    # Four eyes waived: offered only to the fixer whom nobody else can relieve (here the head fixed it, and may not
    # verify at all); from anyone else a forged press. Keeping it changes nothing, for whoever may see the hazard.
    Row("hz:acceptown:", expect(), verdict("acceptown"), ("verify.accepted_on_time",),
        hazard=HazardState.AWAITING_VERIFICATION),
    Row("hz:acceptown:", expect(), press(filled("hz:acceptown:{hazard}")), ("verify.accepted_on_time",),
        hazard=HazardState.AWAITING_VERIFICATION, variant="sent before it named one"),
    Row("hz:acceptown:", expect(stale=(P.COUNTY_IN, P.CITY)), verdict("acceptown", earlier=True),
        ("verify.accepted_on_time",), prepare=submitted_anew, hazard=HazardState.AWAITING_VERIFICATION,
        variant="an earlier rectification"),
    Row("hz:keepown:", expect(allow=(P.HEAD_OWN, P.COUNTY_IN, P.CITY)), press(filled("hz:keepown:{hazard}")),
        ("verify.own_kept",), hazard=HazardState.AWAITING_VERIFICATION),
    Row("hz:reject:", expect(allow=(P.COUNTY_IN, P.CITY)), verdict("reject"), ("verify.ask_reason",),
        hazard=HazardState.AWAITING_VERIFICATION),
    Row("hz:reject:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("hz:reject:{hazard}")), ("verify.ask_reason",),
        hazard=HazardState.AWAITING_VERIFICATION, variant="sent before it named one"),
    Row("hz:reject:", expect(stale=(P.COUNTY_IN, P.CITY)), verdict("reject", earlier=True), ("verify.ask_reason",),
        prepare=submitted_anew, hazard=HazardState.AWAITING_VERIFICATION, variant="an earlier rectification"),
    Row("hz:deadline:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("hz:deadline:{hazard}")), ("deadline.ask",),
        hazard=HazardState.ASSIGNED),
    Row("hz:reopen:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("hz:reopen:{hazard}")), ("reopen.ask_reason",),
        hazard=HazardState.CLOSED),
    # A comment: whoever may see the hazard (its reporter too), until 90 days after its closing.
    Row("hz:comment:", expect(allow=(P.HEAD_OWN, P.COUNTY_IN, P.CITY)), press(filled("hz:comment:{hazard}")),
        ("comment.ask",), hazard=HazardState.ASSIGNED),
    Row("hz:comment:", expect(allow=(P.CADRE, P.HEAD_OWN, P.COUNTY_IN, P.CITY)), press(filled("hz:comment:{hazard}")),
        ("comment.ask",), hazard=HazardState.ASSIGNED, hazard_by=P.CADRE, variant="the cadre's own report"),
    Row("hz:comment:", expect(allow=(P.HEAD_OWN, P.COUNTY_IN, P.CITY)), press(filled("hz:comment:{hazard}")),
        ("comment.ask",), hazard=HazardState.CLOSED, variant="closed"),
    # Naming the person responsible: staff in scope, while the hazard is unresolved; every press is checked again.
    # The check-back (回访) of a closed hazard: only its reporter answers it.
    Row("chk:", expect(allow=(P.CADRE,)), press_check_back("holds"), ("check_back.thanks_holds",),
        hazard=HazardState.CLOSED, hazard_by=P.CADRE, prepare=check_back_asked),
    Row("hz:assign:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("hz:assign:{hazard}")), ("assign.choose",),
        hazard=HazardState.ASSIGNED),
    Row("as:page:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("as:page:{hazard}:0")), ("assign.choose",),
        hazard=HazardState.ASSIGNED),
    Row("as:pick:", expect(allow=(P.COUNTY_IN, P.CITY)),
        press(lambda c: f"as:pick:{c.hazard.id if c.hazard else 0}:{c.people[P.CADRE].id}"), ("assign.done",),
        hazard=HazardState.ASSIGNED),
    # Another county's staff member was never offered: naming them is a forged press, whoever sends it.
    Row("as:pick:", expect(), press(lambda c: f"as:pick:{c.hazard.id if c.hazard else 0}:{c.people[P.COUNTY_OUT].id}"),
        ("assign.done",), hazard=HazardState.ASSIGNED, variant="someone outside its scope"),
    Row("as:cancel:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("as:cancel:{hazard}")),
        ("assign.cancelled", "assign.cancelled_nobody"), hazard=HazardState.ASSIGNED),
    # Asking for more time: whoever corrects the hazard (its head here), never staff, who change the deadline
    # themselves; deciding it: whoever may change its deadline (the /deadline rule), checked again at every press.
    Row("hz:extend:", expect(allow=(P.HEAD_OWN,)), press(filled("hz:extend:{hazard}")), ("extension.ask_date",),
        hazard=HazardState.ASSIGNED),
    Row("xt:ok:", expect(allow=(P.COUNTY_IN, P.CITY)), on_extension("ok"), ("extension.approved",),
        prepare=extension_asked, hazard=HazardState.ASSIGNED),
    Row("xt:no:", expect(allow=(P.COUNTY_IN, P.CITY)), on_extension("no"), ("extension.ask_refusal_reason",),
        prepare=extension_asked, hazard=HazardState.ASSIGNED),
    Row("tk:page:", EVERYONE, press("tk:page:0"), TASKS_ANSWERS),
    Row("mn:page:", EVERYONE, press("mn:page:0"), ("mine.header", "mine.empty")),
    Row("lang:", EVERYONE, press("lang:zh_CN"), ("lang.changed",)),
    # ---- the report journey --------------------------------------------------------------------------------------
    Row("rp:inst:", EVERYONE, press(lambda c: f"rp:inst:{c.institution(OWN_INSTITUTION)}"), ("report.ask_area",),
        prepare=report_until(1)),
    Row("rp:inst:", expect(allow=(P.CITY,)), press(lambda c: f"rp:inst:{c.institution(FOREIGN_INSTITUTION)}"),
        ("report.ask_area",), prepare=report_until(1), variant="outside scope"),
    # A head has one institution, so one page: a page beyond it is said to be gone, the last one shown.
    Row("rp:ipage:", EVERYONE, press("rp:ipage:1"), ("report.ask_institution", "institution.page_gone"),
        prepare=report_until(1)),
    Row("rp:area:", EVERYONE, press("rp:area:fire"), ("report.ask_severity",), prepare=report_until(2)),
    Row("rp:sev:", EVERYONE, press("rp:sev:major"), ("report.ask_description",), prepare=report_until(3)),
    Row("rp:photos:done", EVERYONE, press("rp:photos:done"), ("report.ask_location_no_photos",),
        prepare=report_until(5)),
    # Changing the photos from the summary: keep the ones there were.
    Row("rp:photos:keep", EVERYONE, press("rp:photos:keep"), ("report.summary",),
        prepare=steps(report_until(9), press("rp:edit"), press("rp:edit:photos"))),
    Row("rp:src:", EVERYONE, press("rp:src:county"), ("report.summary",), prepare=report_until(8)),
    Row("rp:confirm", EVERYONE, press("rp:confirm"), ("report.submitted", "report.submitted_no_head"),
        prepare=report_until(9)),
    Row("rp:edit", EVERYONE, press("rp:edit"), ("report.ask_field",), prepare=report_until(9)),
    Row("rp:edit:", EVERYONE, press("rp:edit:severity"), ("report.ask_severity",),
        prepare=steps(report_until(9), press("rp:edit"))),
    Row("rp:onspot", EVERYONE, press("rp:onspot"), ("report.ask_after_photo",), prepare=report_until(9)),
    Row("rp:onspot:done", EVERYONE, press("rp:onspot:done"), ("report.summary",),
        prepare=steps(report_until(9), press("rp:onspot"), lambda cell: cell.person.send_photo(chat=cell.group))),
    Row("rp:onspot:back", EVERYONE, press("rp:onspot:back"), ("report.summary",),
        prepare=steps(report_until(9), press("rp:onspot"))),
    Row("rp:cancel", EVERYONE, press("rp:cancel"), ("report.cancelled",), prepare=report_until(1)),
    # A photo sent outside any journey is offered for a report: 📝 上报隐患 starts /report with it, 取消 forgets it.
    # The offer is the presser's own (in their report draft): a button naming no offer of theirs is stale.
    Row("rp:offer:", EVERYONE, press_shown("rp:offer:", otherwise="rp:offer:1"), ("report.ask_institution",),
        prepare=lambda cell: cell.person.send_photo(chat=cell.group)),
    Row("rp:offer:", expect(stale=REGISTERED), press("rp:offer:1"), ("report.ask_institution",),
        variant="no offer of theirs"),
    Row("rp:decline:", EVERYONE, press_shown("rp:decline:", otherwise="rp:decline:1"), ("offer.declined",),
        prepare=lambda cell: cell.person.send_photo(chat=cell.group)),
    # Folding one's report into a hazard of another institution (here: of Longwan) is a forged press.
    Row("rp:merge:", expect(allow=(P.COUNTY_OUT,)), press(filled("rp:merge:{hazard}")),
        ("report.merged",), prepare=report_until(9), hazard=HazardState.REPORTED, variant="another institution"),
    # ---- the invite journey (staff only; for everyone else the press lands outside any journey) -------------------
    Row("invite:role:", expect(allow=STAFF, stale=NOT_STAFF), press("invite:role:cadre"),
        ("invite.created", "invite.choose_region"), prepare=say("/invite")),
    Row("invite:role:", expect(allow=(P.CITY,), stale=NOT_STAFF), press("invite:role:city"), ("invite.created",),
        prepare=say("/invite"), variant="a role above one's own"),
    # "Next page" of the institutions (the fixture gives both counties more than one page).
    Row("invite:page:", expect(allow=STAFF, stale=NOT_STAFF), press("invite:page:1"), ("invite.choose_institution",),
        prepare=steps(say("/invite"), press("invite:role:head"))),
    Row("invite:find:", expect(allow=STAFF, stale=NOT_STAFF), page_of_last_invite_search,
        ("invite.matches", "invite.no_match"),
        # The search made, then the whole list shown again: the press turns that message into the search's page.
        prepare=steps(say("/invite"), press("invite:role:head"), say("矩阵养老院"), say("/invite"),
                      press("invite:role:head"))),
    Row("invite:inst:", expect(allow=STAFF, stale=NOT_STAFF),
        press(lambda c: f"invite:inst:{c.institution(OWN_INSTITUTION)}"), ("invite.created", "invite.standing_head"),
        prepare=steps(say("/invite"), press("invite:role:head"))),
    Row("invite:inst:", expect(allow=(P.CITY,), stale=NOT_STAFF),
        press(lambda c: f"invite:inst:{c.institution(FOREIGN_INSTITUTION)}"),
        ("invite.created", "invite.standing_head"),
        prepare=steps(say("/invite"), press("invite:role:head")), variant="outside scope",
        hidden_to=(P.COUNTY_IN, P.COUNTY_OUT)),
    # County staff never see region buttons (their own county is implied): a region press from them is forged.
    Row("invite:region:", expect(allow=(P.CITY, P.COUNTY_OUT), stale=NOT_STAFF),
        press(f"invite:region:cadre:{LONGWAN}"), ("invite.created",),
        prepare=steps(say("/invite"), press("invite:role:head"))),
    Row("invite:cancel", expect(allow=STAFF, stale=NOT_STAFF), press("invite:cancel"), ("cancel.done",),
        prepare=say("/invite")),
    # The button under a reminder received in the place of a home's missing head: its head invited at once, by staff
    # whose scope holds the home. Once it has a head, they are told so (no invitation, nothing to audit); anyone
    # else's press is forged, whatever the home.
    # A head invitation still standing for the home (the rows share one bot) is shown again, not made twice.
    Row("si:invite:", expect(allow=LUCHENG_STAFF), press(lambda c: f"si:invite:{c.institutions[HEADLESS_HOME]}"),
        ("invite.created_head", "invite.standing_head"), hidden_to=(P.COUNTY_OUT,)),
    Row("si:invite:", expect(allow=LUCHENG_STAFF), press(lambda c: f"si:invite:{c.institutions[LUCHENG_HOME]}"),
        ("refusal.institution_has_head",), variant="a home with a head"),
    # Under a standing head invitation shown again: a new one all the same, checked as /invite checks it.
    Row("hi:fresh:", expect(allow=LUCHENG_STAFF), press(lambda c: f"hi:fresh:{c.institutions[HEADLESS_HOME]}"),
        ("invite.created_head",), hidden_to=(*NOT_STAFF, P.COUNTY_OUT)),
    # Under the news that someone opened one's expired or taken-back link: the same invitation again, checked as
    # /invite checks it (role, scope, the home open); anyone else's press is forged.
    Row("inv:again:", expect(allow=LUCHENG_STAFF), press(f"inv:again:cadre:{LUCHENG}"), ("invite.created",)),
    Row("inv:again:", expect(allow=LUCHENG_STAFF), press(lambda c: f"inv:again:head:{c.institutions[HEADLESS_HOME]}"),
        ("invite.created_head", "invite.standing_head"), variant="a head", hidden_to=(*NOT_STAFF, P.COUNTY_OUT)),
    Row("inv:again:", expect(allow=(P.CITY,)), press("inv:again:city:-"), ("invite.created",),
        variant="a role above one's own"),
    # ---- the bindgroup journey, in an unbound group --------------------------------------------------------------
    Row("bind:region:", expect(allow=STAFF, stale=NOT_STAFF, unregistered=Outcome.STALE),
        press(lambda c: f"bind:region:{OWN_REGION.get(c.persona, LONGWAN)}"), ("group.choose_purpose",),
        prepare=say("/bindgroup"), in_group=True),
    Row("bind:purpose:", expect(allow=STAFF, stale=NOT_STAFF, unregistered=Outcome.STALE),
        press(lambda c: f"bind:purpose:{OWN_REGION.get(c.persona, LONGWAN)}:hazards"), ("group.bound",),
        prepare=steps(say("/bindgroup"), press(lambda c: f"bind:region:{OWN_REGION.get(c.persona, LONGWAN)}")),
        in_group=True),
    Row("bind:purpose:", expect(allow=(P.CITY,), stale=NOT_STAFF, unregistered=Outcome.STALE),
        press(lambda c: f"bind:purpose:{FOREIGN_REGION.get(c.persona, LONGWAN)}:hazards"), ("group.bound",),
        prepare=steps(say("/bindgroup"), press(lambda c: f"bind:region:{OWN_REGION.get(c.persona, LONGWAN)}")),
        in_group=True, variant="outside scope"),
    Row("bind:cancel", expect(allow=STAFF, stale=NOT_STAFF, unregistered=Outcome.STALE), press("bind:cancel"),
        ("cancel.done",), prepare=say("/bindgroup"), in_group=True),
    # A bound chat's ✏️ / 🔓 buttons and the unbinding's confirmation, with no prompt of one's own open (in an unbound
    # group): stale for everyone. Their allowed paths, in a bound group, are tests/test_group_binding.py's.
    Row("bind:change", expect(stale=REGISTERED, unregistered=Outcome.STALE), press("bind:change"), (),
        prepare=say("/help"), in_group=True),
    Row("bind:unbind", expect(stale=REGISTERED, unregistered=Outcome.STALE), press("bind:unbind"), (),
        prepare=say("/help"), in_group=True),
    Row("bind:unbind:yes", expect(stale=REGISTERED, unregistered=Outcome.STALE), press("bind:unbind:yes"), (),
        prepare=say("/help"), in_group=True),
    # Any other bind: press no prompt of the presser's takes (a region of someone else's prompt, here none).
    Row("bind:", expect(stale=REGISTERED, unregistered=Outcome.STALE), press("bind:region:330302"), (),
        prepare=say("/help"), in_group=True, variant="no prompt open"),
    # ♻️ 恢复绑定 with nothing to restore (the group never lost a binding): stale for staff, refused to others.
    Row("bind:restore", expect(stale=STAFF, unregistered=Outcome.REFUSE), press("bind:restore"), (),
        prepare=say("/help"), in_group=True),
    # ---- the deadline, rectify and verify journeys: reachable only through an allowed entry ------------------------
    Row("dl:days:", expect(allow=(P.COUNTY_IN, P.CITY), stale=(P.CADRE, P.HEAD_OWN, P.HEAD_OTHER, P.COUNTY_OUT)),
        press("dl:days:3"), ("deadline.ask_reason",), prepare=say(filled("/deadline {code}")),
        hazard=HazardState.ASSIGNED),
    Row("dl:cancel", expect(allow=(P.COUNTY_IN, P.CITY), stale=(P.CADRE, P.HEAD_OWN, P.HEAD_OTHER, P.COUNTY_OUT)),
        press("dl:cancel"), ("cancel.done",), prepare=say(filled("/deadline {code}")), hazard=HazardState.ASSIGNED),
    Row("rx:done", expect(allow=(P.HEAD_OWN,), others=Outcome.STALE), press("rx:done"), ("rectify.submitted",),
        prepare=steps(press(filled("hz:fix:{hazard}")), say("已清理走廊杂物"), lambda c: c.person.send_photo()),
        hazard=HazardState.ASSIGNED),
    # 📤 提交整改 YH-… under a photo offer: the head's own hazard is offered; anyone else naming it in a press of
    # their own offer (its token taken from their 📝 上报隐患) is refused as for the hazard's own button.
    Row("rx:photo:", expect(allow=(P.HEAD_OWN,)),
        forged_fix_press, ("rectify.ask_measures",), prepare=lambda cell: cell.person.send_photo(chat=cell.group),
        hazard=HazardState.ASSIGNED),
    Row("rx:cancel", expect(allow=(P.HEAD_OWN,), others=Outcome.STALE), press("rx:cancel"), ("rectify.cancelled",),
        prepare=press(filled("hz:fix:{hazard}")), hazard=HazardState.ASSIGNED),
    Row("vr:cancel", expect(allow=(P.COUNTY_IN, P.CITY), others=Outcome.STALE), press("vr:cancel"),
        ("cancel.done",), prepare=press(filled("hz:reject:{hazard}")), hazard=HazardState.AWAITING_VERIFICATION),
    Row("xt:days:", expect(allow=(P.HEAD_OWN,), others=Outcome.STALE), press("xt:days:7"), ("extension.ask_reason",),
        prepare=press(filled("hz:extend:{hazard}")), hazard=HazardState.ASSIGNED),
    Row("xt:send", expect(allow=(P.HEAD_OWN,), others=Outcome.STALE), press("xt:send"),
        ("extension.sent", "extension.sent_nobody"),
        prepare=steps(press(filled("hz:extend:{hazard}")), press("xt:days:7"), say("需要施工单位进场")),
        hazard=HazardState.ASSIGNED),
    Row("xt:cancel", expect(allow=(P.HEAD_OWN,), others=Outcome.STALE), press("xt:cancel"), ("cancel.done",),
        prepare=press(filled("hz:extend:{hazard}")), hazard=HazardState.ASSIGNED),
    Row("xn:cancel", expect(allow=(P.COUNTY_IN, P.CITY), others=Outcome.STALE), press("xn:cancel"), ("cancel.done",),
        prepare=steps(extension_asked, on_extension("no")), hazard=HazardState.ASSIGNED),
    Row("ro:cancel", expect(allow=(P.COUNTY_IN, P.CITY), others=Outcome.STALE), press("ro:cancel"),
        ("cancel.done",), prepare=press(filled("hz:reopen:{hazard}")), hazard=HazardState.CLOSED),
    # Withdrawing (作废): staff in scope, on an unresolved hazard; the confirmation is checked again (who, then the
    # draft: without a reason given it has expired). A category press with no step open is checked for who too (a
    # forgery is refused and audited, as for the confirmation).
    Row("hz:withdraw:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("hz:withdraw:{hazard}")),
        ("withdraw.ask_category",), hazard=HazardState.ASSIGNED),
    Row("wd:cat:", expect(allow=(P.COUNTY_IN, P.CITY)), press(filled("wd:cat:{hazard}:other")),
        ("withdraw.ask_reason",), prepare=press(filled("hz:withdraw:{hazard}")), hazard=HazardState.ASSIGNED),
    Row("wd:ok:", expect(stale=(P.COUNTY_IN, P.CITY)), press(filled("wd:ok:{hazard}")), ("withdraw.done_told",),
        hazard=HazardState.ASSIGNED, variant="no reason given"),
    # Its reporter (the cadre persona's own report) takes it back the same way, until someone works on it; the head
    # and other cadres may not (the head sees it: refused and audited; the others: as if it did not exist).
    Row("hz:withdraw:", expect(allow=(P.CADRE, P.COUNTY_IN, P.CITY)), press(filled("hz:withdraw:{hazard}")),
        ("withdraw.ask_category_own", "withdraw.ask_category"), hazard=HazardState.ASSIGNED, hazard_by=P.CADRE,
        hidden_to=(P.HEAD_OTHER, P.COUNTY_OUT), variant="the cadre's own report"),
    Row("wd:cat:", expect(allow=(P.CADRE, P.COUNTY_IN, P.CITY)), press(filled("wd:cat:{hazard}:other")),
        ("withdraw.ask_reason_own", "withdraw.ask_reason"), prepare=press(filled("hz:withdraw:{hazard}")),
        hazard=HazardState.ASSIGNED, hazard_by=P.CADRE, variant="the cadre's own report"),
    Row("wd:ok:", expect(stale=(P.CADRE, P.COUNTY_IN, P.CITY)), press(filled("wd:ok:{hazard}")),
        ("withdraw.done_own_told", "withdraw.done_told"), hazard=HazardState.ASSIGNED, hazard_by=P.CADRE,
        variant="the cadre's own report, no reason given"),
    Row("wd:cancel", EVERYONE, press("wd:cancel"), ("cancel.done",)),
    Row("cm:cancel", expect(allow=(P.HEAD_OWN, P.COUNTY_IN, P.CITY), others=Outcome.STALE), press("cm:cancel"),
        ("cancel.done",), prepare=press(filled("hz:comment:{hazard}")), hazard=HazardState.ASSIGNED),

    # ---- calendar duties: drills (heads, and staff for institutions in scope), self-inspections (heads), study ----
    Row("/drill", expect(allow=DRILLERS), say("/drill"), ("drill.ask_kind", "drill.ask_institution")),
    Row("cal:drill", expect(allow=DRILLERS), press("cal:drill"), ("drill.ask_kind", "drill.ask_institution")),
    Row("rs:drill:", expect(allow=DRILLERS, others=Outcome.STALE), press("rs:drill:go"), ("drill.ask_date",),
        prepare=steps(drill_until(3), say("/drill"))),
    # Heads log for their own institution and are never asked which: for them the press lands outside the step.
    Row("dr:inst:", expect(allow=STAFF, others=Outcome.STALE),
        press(lambda c: f"dr:inst:{c.institution(OWN_INSTITUTION)}"), ("drill.ask_kind",), prepare=drill_until(1)),
    Row("dr:inst:", expect(allow=(P.CITY,), stale=(P.CADRE, P.HEAD_OWN, P.HEAD_OTHER)),
        press(lambda c: f"dr:inst:{c.institution(FOREIGN_INSTITUTION)}"), ("drill.ask_kind",), prepare=drill_until(1),
        variant="outside scope"),
    Row("dr:ipage:", expect(allow=STAFF, others=Outcome.STALE), press("dr:ipage:1"),
        ("drill.ask_institution", "institution.page_gone"), prepare=drill_until(1)),
    Row("dr:kind:", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:kind:typhoon_flood"), ("drill.ask_date",),
        prepare=drill_until(2)),
    Row("dr:day:", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:day:yesterday"),
        ("drill.ask_participants",), prepare=drill_until(3)),
    Row("dr:redate", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:redate"), ("drill.ask_date",),
        prepare=drill_until(4)),
    Row("dr:photos:done", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:photos:done"),
        ("drill.ask_problems",), prepare=drill_until(8)),
    Row("dr:problems:none", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:problems:none"),
        ("drill.summary",), prepare=drill_until(9)),
    Row("dr:area:", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:area:electricity"),
        ("drill.ask_severity",), prepare=steps(drill_until(9), say("安全出口指示灯不亮"))),
    Row("dr:sev:", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:sev:general"), ("drill.summary",),
        prepare=steps(drill_until(9), say("安全出口指示灯不亮"), press("dr:area:electricity"))),
    Row("dr:confirm", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:confirm"), ("drill.logged",),
        prepare=steps(drill_until(9), press("dr:problems:none"))),
    Row("dr:cancel", expect(allow=DRILLERS, others=Outcome.STALE), press("dr:cancel"), ("drill.cancelled",),
        prepare=drill_until(1)),
    # Staff's page opens with their bureau's study session, above the institutions.
    Row("/drills", expect(allow=DRILLERS), say("/drills"),
        ("drills.record_header", "drills.scope_header", "drills.study_line")),
    # The pages of institutions are staff's; a head sees one record and is never shown a page.
    Row("drills:page:", expect(allow=STAFF), press("drills:page:0"), ("drills.scope_header", "drills.study_line")),
    # ---- institution files (/institution): heads their own, staff those of their scope ----------------------------
    Row("/institution", expect(allow=DRILLERS), say("/institution"), ("institution.title", "institution.ask")),
    Row("/institution", expect(allow=DRILLERS), say("/institution 矩阵养老院"),
        ("institution.matches", "institution.no_match"), variant="search"),
    Row("ic:show:", expect(allow=DRILLERS), press(lambda c: f"ic:show:{c.institution(OWN_INSTITUTION)}"),
        ("institution.title",)),
    Row("ic:show:", expect(allow=(P.CITY,)), press(lambda c: f"ic:show:{c.institution(FOREIGN_INSTITUTION)}"),
        # A cadre, who has no institution files at all, is told so (institution_role): it names no institution.
        ("institution.title",), variant="outside scope",
        hidden_to=(P.HEAD_OWN, P.HEAD_OTHER, P.COUNTY_IN, P.COUNTY_OUT)),
    Row("ic:page:", expect(allow=DRILLERS), steps(say("/institution 矩阵养老院"), page_of_last_search),
        ("institution.matches", "institution.no_match")),
    # Closing and reopening an institution (Lucheng's home): its county's staff and city admins, nobody else. The
    # matrix never confirms a closing (the reason step comes first): the home stays active for the later rows.
    Row("ic:close:", expect(allow=LUCHENG_STAFF), press(lambda c: f"ic:close:{c.institutions[LUCHENG_HOME]}"),
        ("institution.close_ask_reason",), hidden_to=NOT_LUCHENG_HOME),
    Row("ic:closeok:", expect(stale=LUCHENG_STAFF), press(lambda c: f"ic:closeok:{c.institutions[LUCHENG_HOME]}"),
        ("institution.closed_done",), variant="no reason given", hidden_to=NOT_LUCHENG_HOME),
    Row("ic:closeno", EVERYONE, press("ic:closeno"), ("cancel.done",)),
    Row("ic:reopen:", expect(allow=LUCHENG_STAFF), press(lambda c: f"ic:reopen:{c.institutions[LUCHENG_HOME]}"),
        ("institution.reopen_confirm", "institution.still_active"), hidden_to=NOT_LUCHENG_HOME),
    Row("ic:reopenok:", expect(allow=LUCHENG_STAFF),
        steps(say("/help"), press(lambda c: f"ic:reopenok:{c.institutions[LUCHENG_HOME]}")),
        ("institution.reopened", "institution.still_active"), hidden_to=NOT_LUCHENG_HOME),
    Row("drills:inst:", expect(allow=DRILLERS), press(lambda c: f"drills:inst:{c.institution(OWN_INSTITUTION)}"),
        ("drills.record_header",), hidden_to=(P.CADRE,)),
    Row("drills:inst:", expect(allow=(P.CITY,)), press(lambda c: f"drills:inst:{c.institution(FOREIGN_INSTITUTION)}"),
        ("drills.record_header",), variant="outside scope", hidden_to=OUTSIDERS),
    Row("/selfcheck", expect(allow=HEADS), say("/selfcheck"), ("selfcheck.sheet_header",)),
    Row("cal:selfcheck", expect(allow=HEADS), press("cal:selfcheck"), ("selfcheck.sheet_header",)),
    Row("sc:a:", expect(allow=HEADS, others=Outcome.STALE), SELFCHECK_OK, ("selfcheck.sheet_header",),
        prepare=say("/selfcheck")),
    Row("sc:back", expect(allow=HEADS, others=Outcome.STALE), press("sc:back"), ("selfcheck.sheet_header",),
        prepare=steps(say("/selfcheck"), SELFCHECK_OK)),
    Row("sc:undo", expect(allow=HEADS, others=Outcome.STALE), press("sc:undo"), ("selfcheck.sheet_header",),
        prepare=steps(say("/selfcheck"), SELFCHECK_FAIL)),
    Row("sc:skip", expect(allow=HEADS, others=Outcome.STALE), press("sc:skip"), ("selfcheck.sheet_header",),
        prepare=steps(say("/selfcheck"), SELFCHECK_FAIL, say("灭火器压力不足"))),
    Row("sc:sev:", expect(allow=HEADS, others=Outcome.STALE), press("sc:sev:general"), ("selfcheck.sheet_header",),
        prepare=steps(say("/selfcheck"), SELFCHECK_FAIL, say("灭火器压力不足"), press("sc:skip"))),
    Row("sc:pause", expect(allow=HEADS, others=Outcome.STALE), press("sc:pause"), ("selfcheck.paused",),
        prepare=say("/selfcheck")),
    Row("/study", expect(allow=STAFF), say("/study"), ("study.intro",)),
    Row("cal:study", expect(allow=STAFF), press("cal:study"), ("study.intro",)),
    Row("st:day:", expect(allow=STAFF, others=Outcome.STALE), press("st:day:today"), ("study.ask_topic_dated",),
        prepare=say("/study")),
    # /study again over an unfinished session offers it back; carrying on asks its step again.
    Row("rs:study:", expect(allow=STAFF, others=Outcome.STALE), press("rs:study:go"), ("study.ask_topic_dated",),
        prepare=steps(say("/study"), press("st:day:today"), say("/study"))),
    Row("st:redate", expect(allow=STAFF, others=Outcome.STALE), press("st:redate"), ("study.ask_date",),
        prepare=steps(say("/study"), press("st:day:today"))),
    Row("st:cancel", expect(allow=STAFF, others=Outcome.STALE), press("st:cancel"), ("study.cancelled",),
        prepare=say("/study")),
    # ---- warnings: issued, changed and followed up by staff within their county; answered by those reached -------
    Row("/warn", expect(allow=STAFF), say("/warn"), ("warn.ask_kind",)),
    Row("wn:kind:", expect(allow=STAFF, others=Outcome.STALE), press("wn:kind:typhoon"), ("warn.ask_level",),
        prepare=warn_until(1)),
    Row("wn:level:", expect(allow=STAFF, others=Outcome.STALE), press("wn:level:orange"), ("warn.ask_text",),
        prepare=warn_until(2)),
    Row("wn:template", expect(allow=STAFF, others=Outcome.STALE), press("wn:template"),
        ("warn.ask_types", "warn.ask_regions"), prepare=warn_until(3)),
    # County staff warn their own county and are never asked where: a region press from them is forged.
    Row("wn:region:", expect(allow=(P.CITY,), others=Outcome.STALE), press(f"wn:region:{LONGWAN}"),
        ("warn.ask_regions",), prepare=steps(warn_until(3), press("wn:template"))),
    Row("wn:next", expect(allow=STAFF, others=Outcome.STALE), press("wn:next"), ("warn.ask_tags",),
        prepare=warn_until(4)),
    Row("wn:type:", expect(allow=STAFF, others=Outcome.STALE), press("wn:type:welfare"), ("warn.ask_types",),
        prepare=warn_until(4)),
    Row("wn:tag:", expect(allow=STAFF, others=Outcome.STALE), press("wn:tag:near_sea"), ("warn.ask_tags",),
        prepare=warn_until(5)),
    Row("wn:hours:", expect(allow=STAFF, others=Outcome.STALE), press("wn:hours:12"), ("warn.preview_intro",),
        prepare=warn_until(6)),
    Row("wn:send", expect(allow=STAFF, others=Outcome.STALE), press("wn:send"), ("warn.sent",),
        prepare=warn_until(7)),
    Row("wn:retarget", expect(allow=STAFF, others=Outcome.STALE), press("wn:retarget"),
        ("warn.ask_types", "warn.ask_regions"), prepare=warn_until(7)),
    Row("wn:cancel", expect(allow=STAFF, others=Outcome.STALE), press("wn:cancel"), ("warn.cancelled",),
        prepare=warn_until(1)),
    # A draft of Lucheng, sent with one tap from /warnings: by its county's staff or a city admin, by nobody else.
    Row("wn:send:", expect(allow=LUCHENG_STAFF), press(filled("wn:send:{warning}")), ("warn.sent",),
        warning=WarningStatus.DRAFT),
    Row("/warnings", expect(allow=STAFF), say("/warnings"),
        ("warnings.intro", "warnings.intro_with_drafts", "warnings.intro_drafts_only", "warnings.none")),
    Row("wl:up:", expect(allow=LUCHENG_STAFF), press(filled("wl:up:{warning}")), ("warnings.ask_upgrade",),
        warning=WarningStatus.SENT),
    Row("wl:down:", expect(allow=LUCHENG_STAFF), press(filled("wl:down:{warning}")), ("warnings.ask_downgrade",),
        warning=WarningStatus.SENT),
    Row("wl:lvl:", expect(allow=LUCHENG_STAFF), press(filled("wl:lvl:{warning}:blue")),
        ("warnings.done_downgrade",), warning=WarningStatus.SENT),
    Row("wl:keep:", expect(allow=LUCHENG_STAFF), press(filled("wl:keep:{warning}")), ("warnings.change_kept",),
        warning=WarningStatus.SENT),
    Row("wl:edit:", expect(allow=LUCHENG_STAFF), press(filled("wl:edit:{warning}")), ("warnings.ask_update",),
        warning=WarningStatus.SENT),
    Row("wl:cancel_update", expect(allow=LUCHENG_STAFF, others=Outcome.STALE), press("wl:cancel_update"),
        ("warn.cancelled",), prepare=press(filled("wl:edit:{warning}")), warning=WarningStatus.SENT),
    Row("wl:cancel:", expect(allow=LUCHENG_STAFF), press(filled("wl:cancel:{warning}")), ("warnings.confirm_lift",),
        warning=WarningStatus.SENT),
    Row("wl:lift:", expect(allow=LUCHENG_STAFF), press(filled("wl:lift:{warning}")),
        ("warnings.done_cancel", "warnings.withdrawn"), warning=WarningStatus.SENT),
    # Every head and cadre of Lucheng was reached; staff are not asked to answer.
    Row("wa:ok:", expect(allow=(P.CADRE, *HEADS)), press(filled("wa:ok:{warning}")), ("warn.ack_received",),
        warning=WarningStatus.SENT),
    Row("wa:help:", expect(allow=(P.CADRE, *HEADS)), press(filled("wa:help:{warning}")),
        ("warn.ack_help_sent", "warn.ack_help_sent_city", "warn.ack_help_noted"),
        warning=WarningStatus.SENT),
    # 📝 报告落实情况: the heads the warning reached, nobody else (a cadre reads it, staff are not asked to act).
    Row("wr:new:", expect(allow=HEADS), press(filled("wr:new:{warning}")), ("wreport.ask",),
        warning=WarningStatus.SENT),
    Row("wr:done", expect(allow=HEADS, others=Outcome.STALE), press("wr:done"),
        ("wreport.recorded", "wreport.recorded_one"),
        prepare=steps(press(filled("wr:new:{warning}")), say("巡查完成，救助流浪人员3人")), warning=WarningStatus.SENT),
    Row("wr:cancel", expect(allow=HEADS, others=Outcome.STALE), press("wr:cancel"), ("wreport.cancelled",),
        prepare=press(filled("wr:new:{warning}")), warning=WarningStatus.SENT),
    # A typed text offered as the report: recorded only for a head the warning reached (here none was offered).
    Row("wr:take:", expect(allow=HEADS), press(filled("wr:take:{warning}")), ("wreport.offer_gone",),
        warning=WarningStatus.SENT),
    Row("wr:no:", EVERYONE, press(filled("wr:no:{warning}")), ("wreport.offer_declined",),
        warning=WarningStatus.SENT),
    # Photos sent first, offered as what was done: only for a head the warning reached, for whom (no photo offered
    # here) the press is a stale one; anyone else is refused.
    Row("wr:photo:", expect(stale=HEADS), press(filled("wr:photo:{warning}:1")), ("wreport.ask",),
        warning=WarningStatus.SENT),
    Row("/warnstatus", expect(allow=STAFF), say("/warnstatus"),
        ("warnstatus.title", "warnstatus.none", "warnstatus.title_lifted", "warnstatus.ended_more")),
    Row("ws:show:", expect(allow=LUCHENG_STAFF), press(filled("ws:show:{warning}")), ("warnstatus.title",),
        warning=WarningStatus.SENT),
    # A page or a filter of a long status: the same people as its refresh.
    Row("ws:v:", expect(allow=LUCHENG_STAFF), press(filled("ws:v:{warning}:s:0")), ("warnstatus.title",),
        warning=WarningStatus.SENT),
    Row("ws:reports:", expect(allow=LUCHENG_STAFF), press(filled("ws:reports:{warning}")),
        ("warnstatus.reports_none",), warning=WarningStatus.SENT),
    Row("ws:remind:", expect(allow=LUCHENG_STAFF), press(filled("ws:remind:{warning}")),
        ("warnstatus.reminded", "warnstatus.nobody_to_remind"), warning=WarningStatus.SENT),
    # Taking charge of Lucheng's silent institutions: its own staff and the city's, nobody else.
    Row("ws:own:", expect(allow=LUCHENG_STAFF), press(filled(f"ws:own:{{warning}}:{LUCHENG}")),
        ("warnstatus.taken", "warnstatus.taken_already_you", "warnstatus.taken_by_other"), warning=WarningStatus.SENT),
    # Handing it back (↩️ 交回跟进): the same people may press; with nobody following Lucheng up, nothing changes.
    Row("ws:back:", expect(allow=LUCHENG_STAFF), press(filled(f"ws:back:{{warning}}:{LUCHENG}")),
        ("warnstatus.hand_back_nobody", "warnstatus.handed_back", "warnstatus.handed_back_alone",
         "warnstatus.handed_back_none_silent", "warnstatus.hand_back_not_yours"),
        warning=WarningStatus.SENT),
    # A call for help of Lucheng's own head: its county's staff and the city's take it and resolve it, nobody else.
    Row("wh:take:", expect(allow=LUCHENG_STAFF), on_help("take"), ("help.taken",), warning=WarningStatus.SENT),
    Row("wh:done:", expect(allow=LUCHENG_STAFF), on_help("done"), ("help.resolved",), warning=WarningStatus.SENT),
    Row("/contactround", expect(allow=STAFF), say("/contactround"), ("contact.ask_region",)),
    Row("crs:", expect(allow=STAFF), press(lambda c: f"crs:{OWN_REGION.get(c.persona, LUCHENG)}"),
        ("contact.started", "contact.nobody_registered")),
    Row("crs:", expect(allow=(P.CITY,)), press(lambda c: f"crs:{FOREIGN_REGION.get(c.persona, LONGWAN)}"),
        ("contact.started", "contact.nobody_registered"), variant="outside scope"),
    # The person is on the cadre's list; staff of their county may answer for the cadre.
    Row("cr:", expect(allow=(P.CADRE, *LUCHENG_STAFF)), press(filled("cr:{round}:{person}:safe")),
        ("contact.recorded_safe",), contact=True),
    Row("cr:", expect(allow=(P.CADRE, *LUCHENG_STAFF)), press(filled("cr:{round}:{person}:focus")),
        ("contact.list_title",), contact=True, variant="bringing a person into focus"),
    # Offered for a text that named the person: recorded as the list's button records it; the list sent again is
    # the cadre's own.
    Row("crt:", expect(allow=(P.CADRE, *LUCHENG_STAFF)), press(filled("crt:{round}:{person}:safe")),
        ("contact.typed_recorded",), contact=True),
    Row("crl:", expect(allow=(P.CADRE,)), press(filled("crl:{round}")), ("contact.list_resent",), contact=True),
    # ---- insight and administration: each person's own scope, whatever the button says --------------------------
    Row("/stats", expect(allow=DRILLERS), say("/stats"), ("insight.stats.header",)),
    Row("sx:p:", expect(allow=DRILLERS), press(filled("sx:p:{year}")),
        ("insight.stats.header",)),
    Row("sx:r", expect(allow=DRILLERS), press("sx:r"), ("insight.range.ask",)),
    Row("sx:rc", expect(allow=DRILLERS, others=Outcome.STALE), press("sx:rc"), ("cancel.done",),
        prepare=press("sx:r")),
    Row("ch:", expect(allow=DRILLERS), press(filled("ch:t:{month}")),
        ("insight.chart.caption",)),
    # The answers to a warning of Lucheng: the heads see their own institution's, staff their county's.
    Row("ch:a:", expect(allow=(*HEADS, *LUCHENG_STAFF)), press(filled("ch:a:{warning}")),
        ("insight.chart.acks_caption",), warning=WarningStatus.SENT),
    Row("/export", expect(allow=DRILLERS), say("/export"), ("insight.export.choose",)),
    Row("ex:p:", expect(allow=DRILLERS), press(filled("ex:p:{quarter}")),
        ("insight.export.choose",)),
    Row("ex:", expect(allow=DRILLERS), press(filled("ex:c:{month}")),
        ("insight.export.started",)),
    Row("/ranking", expect(allow=STAFF), say("/ranking"), ("insight.ranking.header", "insight.ranking.empty")),
    Row("rk:", expect(allow=STAFF), press(filled("rk:{month}")),
        ("insight.ranking.header", "insight.ranking.empty")),
    Row("rkp:", expect(allow=STAFF), press(filled("rkp:{month}:0")),
        ("insight.ranking.header", "insight.ranking.empty")),
    Row("/notice", expect(allow=(P.CITY,)), say("/notice"), ("insight.notice.preview", "insight.notice.no_groups")),
    Row("nt:p:", expect(allow=(P.CITY,)), press(filled("nt:p:{month}")),
        ("insight.notice.preview", "insight.notice.no_groups")),
    Row("nt:s:", expect(allow=(P.CITY,)),
        press_shown("nt:s:", otherwise="nt:s:y2026:0123456789"),
        ("insight.notice.sent", "insight.notice.sending", "insight.notice.changed"), prepare=say("/notice")),
    Row("nt:x", expect(allow=(P.CITY,)), press("nt:x"), ("cancel.done",), prepare=say("/notice")),
    # The vulnerable-people registry is their county's for county staff; everything else is the city's.
    Row("/template", expect(allow=STAFF), say("/template"), ("insight.import.templates",)),
    Row("tp:", expect(allow=STAFF), press("tp:vulnerable"), ("insight.import.template_caption.vulnerable",)),
    Row("tp:", expect(allow=(P.CITY,)), press("tp:institutions"), ("insight.import.template_caption.institutions",),
        variant="institutions"),
    # ---- people and invitations: staff, for the people of their scope and the roles they may invite ----------------
    Row("/people", expect(allow=STAFF), say("/people"), ("people.roster",)),
    Row("pp:page:", expect(allow=STAFF), press("pp:page:0"), ("people.roster",)),
    Row("pp:show:", expect(allow=LUCHENG_STAFF), press(filled("pp:show:{newcomer}")), ("people.card",),
        newcomer=Role.CADRE, hidden_to=(P.COUNTY_OUT,)),
    Row("pp:off:", expect(allow=LUCHENG_STAFF), press(filled("pp:off:{newcomer}")), ("people.confirm",),
        newcomer=Role.CADRE, hidden_to=(P.COUNTY_OUT,)),
    Row("pp:offok:", expect(allow=LUCHENG_STAFF), press(filled("pp:offok:{newcomer}")), ("people.deactivated",),
        newcomer=Role.CADRE, hidden_to=(P.COUNTY_OUT,)),
    # A person whose access ended, still in a bound group: staff who could have ended it remove them from it.
    Row("pp:kick:", expect(allow=LUCHENG_STAFF), press(lambda c: f"pp:kick:{c.newcomer}:{DIGEST_GROUP}"),
        ("people.removed_from_group",), prepare=left_in_the_digest_group, newcomer=Role.CADRE,
        hidden_to=(P.COUNTY_OUT,)),
    # County staff invite no county staff, so they end no county staff's access, not even in their own county.
    Row("pp:off:", expect(allow=(P.CITY,)), press(filled("pp:off:{newcomer}")), ("people.confirm",),
        newcomer=Role.COUNTY, variant="county staff", hidden_to=(P.COUNTY_OUT,)),
    Row("pp:offok:", expect(allow=(P.CITY,)), press(filled("pp:offok:{newcomer}")), ("people.deactivated",),
        newcomer=Role.COUNTY, variant="county staff", hidden_to=(P.COUNTY_OUT,)),
    # The list has pages once the other rows' invitations fill more than one.
    Row("pp:inv", expect(allow=STAFF), press("pp:inv"), ("people.invites", "people.invites_page", "people.no_invites")),
    Row("pp:invp:", expect(allow=STAFF), press("pp:invp:1"),
        ("people.invites", "people.invites_page", "people.no_invites")),
    Row("pp:rv:", expect(allow=LUCHENG_STAFF), press(filled("pp:rv:{invite}")), ("people.revoked",), invite=True),
    Row("pp:rv:", expect(allow=LUCHENG_STAFF), press(filled("pp:rv:{invite}:0")), ("people.revoked",), invite=True,
        variant="from a page"),
    Row("pp:ln:", expect(allow=LUCHENG_STAFF), press(filled("pp:ln:{invite}")), ("people.invite_shown",),
        invite=True),
)


# ---- running a row ---------------------------------------------------------------------------------------------------


@dataclass
class Matrix:
    stage: Stage
    institutions: dict[str, int]
    ids: Iterator[int]  # where each row's people start, so that no row meets another's


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def matrix(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Matrix]:
    folder: Path = tmp_path_factory.mktemp("authz")
    async with stage(folder / "safety.db") as current:
        # Enough institutions in both counties for a second page of them in /invite (eight to a page).
        for county, township in ((LUCHENG, "330302001"), (LONGWAN, "330303")):
            for n in range(8):
                await current.services.storage.institutions.upsert(NewInstitution(
                    code=f"MX-{county}-{n}", name_zh=f"矩阵养老院{county}-{n}", name_en=f"Matrix home {county}-{n}",
                    type=InstitutionType.ELDERLY_CARE, region_code=township))
        # The city's digest group: what a notice (通报) is sent to.
        digests = current.sandbox.group(DIGEST_GROUP, "温州市民政安全通报群")
        await current.services.storage.groups.bind(Group(
            chat_id=digests.chat_id, title=digests.title, region_code=CITY_REGION, purpose=GroupPurpose.DIGESTS,
            bound_by=1, bound_at=current.clock.now()))
        institutions = {}
        for code in {*OWN_INSTITUTION.values(), *FOREIGN_INSTITUTION.values(), HEADLESS_HOME}:
            found = await current.services.storage.institutions.get_by_code(code)
            assert found is not None
            institutions[code] = found.id
        yield Matrix(current, institutions, itertools.count(10_000, 100))
        assert current.sandbox.violations == [], current.sandbox.violations


async def prepared_hazard(cell: Cell, row: Row, people: People) -> Hazard | None:
    if row.hazard is None:
        return None
    current = cell.stage
    reporter = people[row.hazard_by] if row.hazard_by else people.reporter
    # Rows about folding a report into another institution's hazard aim at a hazard of Longwan.
    institution = LONGWAN_HOME if row.key == "rp:merge:" else OWN_INSTITUTION[P.HEAD_OWN]
    by = reporter.id if institution != LONGWAN_HOME else people[P.COUNTY_OUT].id
    hazard = await report_hazard(current, by, institution=institution)
    if row.hazard in (HazardState.AWAITING_VERIFICATION, HazardState.CLOSED):
        head = people[P.HEAD_OWN].id
        await act_on(current, head, hazard, HazardAction.ACKNOWLEDGE)
        hazard = (await act_on(current, head, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已整改完毕",
                               photos=1)).hazard
    if row.hazard is HazardState.CLOSED:
        hazard = (await act_on(current, people[P.COUNTY_IN].id, hazard, HazardAction.ACCEPT)).hazard
    assert hazard.state is row.hazard, f"could not prepare a hazard in {row.hazard}: it is {hazard.state}"
    return hazard


async def prepared_warning(current: Stage, row: Row, people: People) -> int | None:
    """A yellow high-temperature warning of Lucheng by the row's city admin, for every institution and cadre there."""
    if row.warning is None:
        return None
    warnings = current.services.warnings
    admin = await current.services.storage.users.get(people[P.CITY].id)
    assert admin is not None
    now = current.clock.now()
    spec = ManualWarning(kind=WarningKind.HIGH_TEMPERATURE, level=WarningLevel.YELLOW, headline="高温黄色预警",
                         description="请做好防暑降温", expires=now + timedelta(hours=24),
                         target=WarningTarget(regions=frozenset({LUCHENG})))
    warning = await warnings.create_manual(admin, spec)
    if row.warning is WarningStatus.SENT:
        # Recorded as sent to its recipients; nothing is delivered (the matrix runs no outbox sender).
        warning = (await warnings.send(admin, warning.id)).warning
    return warning.id


async def prepared_contact(current: Stage, row: Row, people: People, owner: int) -> tuple[int, int] | None:
    """A contact round in Lucheng whose list for the cadre persona holds one person, coded after the cell's owner."""
    if not row.contact:
        return None
    person = await current.services.storage.contacts.upsert_person(
        NewVulnerablePerson(code=f"LC-{owner}", category=VulnerableCategory.ELDERLY_ALONE,
                            region_code=f"{LUCHENG}001", cadre_id=people[P.CADRE].id),
        current.clock.now())
    # One open round per county: the previous row's is closed, so that this one holds the cell's person.
    if (open_round := await current.services.storage.contacts.open_round_in(LUCHENG)) is not None:
        await current.services.warnings.close_round(None, open_round.id)
    started = await current.services.warnings.start_contact_round(None, LUCHENG)
    return started.round.id, person.id


async def end_warnings(current: Stage, people: People) -> None:
    """Lift whatever the row left in force, so that no later row lists or counts it."""
    admin = await current.services.storage.users.get(people[P.CITY].id)
    assert admin is not None
    for warning in await current.services.warnings.active(None):
        await current.services.warnings.cancel(admin, warning.id)


async def retire_hazards(current: Stage) -> None:
    """Withdraw whatever the row left unresolved, so that no later row's newcomer is reminded of it, or lists it.

    Straight in the table: this is the fixture tidying up, not a person's act, so nothing is told or audited."""
    await current.services.storage.db.execute(
        "UPDATE hazards SET state = ? WHERE state NOT IN (?, ?)",
        (HazardState.WITHDRAWN, HazardState.CLOSED, HazardState.WITHDRAWN))


@dataclass
class Observation:
    outcome: Outcome
    replies: list[str]
    audits: list[str]
    changed: str | None  # what a denied attempt changed anyway


MEDIA_LABEL = re.compile(r"^\[(?:photo|document: [^\]]*)\] ")


def caption_of(text: str) -> str:
    """What a person reads under a chart or a file: the transcript writes '[photo] caption'."""
    return MEDIA_LABEL.sub("", text, count=1)


async def observe(cell: Cell, row: Row) -> Observation:
    current = cell.stage
    storage = current.services.storage
    transcript_mark = len(current.sandbox.transcript)
    audit_mark = max((e.id for e in await storage.audit.list(actor_id=cell.person.id, limit=1)), default=0)
    before = await storage.hazards.get(cell.hazard.id) if cell.hazard else None
    events_before = len(await storage.hazards.events(cell.hazard.id)) if cell.hazard else 0

    await row.act(cell)

    replies = [caption_of(entry.text) for entry in current.sandbox.transcript[transcript_mark:]
               if entry.direction == "out" and entry.chat_id == cell.chat_id]
    audits = [e.action for e in await storage.audit.list(actor_id=cell.person.id)
              if e.id > audit_mark and not _another_cells(e.target, cell)]
    refusal = any(SPEECH.which(text, prefix="refusal.") for text in replies)
    if "access.unregistered" in audits and any(
        SPEECH.said(text, "access.not_registered", "access.not_registered_short") for text in replies
    ):
        outcome = Outcome.GATE
    elif "authz.refused" in audits and refusal:
        outcome = Outcome.REFUSE
    elif any(SPEECH.said(text, "fallback.stale_button", "fallback.stale_button_waiting",
                         "fallback.stale_button_step", "refusal.earlier_rectification", "offer.gone")
             for text in replies):
        outcome = Outcome.STALE
    elif any(SPEECH.opens(text, *row.first_step) for text in replies):
        outcome = Outcome.ALLOW
    elif refusal:
        outcome = Outcome.REFUSED_UNAUDITED
    else:
        outcome = Outcome.UNEXPLAINED

    changed = None
    if outcome is not Outcome.ALLOW:
        effects = [action for action in audits if action not in DENIAL_AUDITS]
        if effects:
            changed = f"audited changes {effects}"
        if cell.hazard is not None:
            after = await storage.hazards.get(cell.hazard.id)
            events_after = len(await storage.hazards.events(cell.hazard.id))
            if before is not None and after is not None and (after.state, events_after) != (before.state,
                                                                                             events_before):
                changed = f"hazard went {before.state} -> {after.state}, {events_after - events_before} new events"
    return Observation(outcome, replies, audits, changed)


def _another_cells(target: str | None, cell: Cell) -> bool:
    """Whether an audit entry is about another cell's hazard. The cells of a row run at once, and the row's head
    rectifies every cell's hazard while preparing it: the head's trail gains those entries at any moment."""
    return cell.hazard is not None and bool(target) and str(target).startswith("hazard:") and (
        target != f"hazard:{cell.hazard.code}")


async def run_cell(matrix: Matrix, row: Row, people: People, persona: Persona) -> Observation:
    current = matrix.stage
    cell = Cell(current, persona, people, matrix.institutions)
    if row.in_group:
        group_id = -(1_000_000_000 + cell.person.id)
        cell.group = current.sandbox.group(group_id, f"工作群{cell.person.id}").add(cell.person)
    cell.hazard = await prepared_hazard(cell, row, people)
    cell.warning_id = await prepared_warning(current, row, people)
    cell.contact = await prepared_contact(current, row, people, cell.person.id)
    if row.newcomer is not None:
        # Ids past the row's people (each row has a hundred, its people the first nine).
        newcomer = current.sandbox.user(cell.person.id + 50, f"newcomer{cell.person.id}", language_code="zh-hans")
        cell.newcomer = (await current.register(newcomer, row.newcomer, region=LUCHENG)).telegram_id
    if row.invite:
        cell.invite = await current.invite_token(Role.CADRE, region=LUCHENG)
    await row.prepare(cell)
    return await observe(cell, row)


def describe(persona: Persona, wanted: Outcome, seen: Observation) -> str:
    lines = [f"{persona.value}: expected {wanted.value}, got {seen.outcome.value}"]
    lines += [f"    bot: {text[:150]!r}" for text in seen.replies]
    lines.append(f"    audited: {seen.audits}")
    if seen.changed:
        lines.append(f"    changed anyway: {seen.changed}")
    return "\n".join(lines)


@MODULE_LOOP
@pytest.mark.parametrize("row", [pytest.param(row, id=row.id, marks=row.marks) for row in ROWS])
async def test_matrix_row(matrix: Matrix, row: Row) -> None:
    people = await enrol(matrix.stage, next(matrix.ids))
    observed = await asyncio.gather(*(run_cell(matrix, row, people, persona) for persona in Persona))
    await end_warnings(matrix.stage, people)
    await retire_hazards(matrix.stage)
    # Retire the row's people: heads of HOME from earlier rows would otherwise be told of every later hazard.
    newcomers = [person.id + 50 for person in people.by.values()] if row.newcomer is not None else []
    for telegram_id in (*(person.id for person in (*people.by.values(), people.reporter)), *newcomers):
        await matrix.stage.services.storage.users.set_active(telegram_id, False)
    wrong = [
        describe(persona, row.expect[persona], seen)
        for persona, seen in zip(Persona, observed, strict=True)
        if seen.outcome is not row.expect[persona] or seen.changed
    ]
    wrong += [
        f"{persona.value}: refused, but not as something that does not exist ({', '.join(HIDDEN)})\n"
        + describe(persona, row.expect[persona], seen)
        for persona, seen in zip(Persona, observed, strict=True)
        if persona in row.hidden_to and seen.outcome is Outcome.REFUSE
        and not any(SPEECH.said(text, *HIDDEN) for text in seen.replies)
    ]
    assert not wrong, f"{row.id}:\n" + "\n".join(wrong)


# A journey that lands without its rows may wait here for them, for a while; a command or a button prefix that is in
# neither ROWS nor this list fails the coverage test at once, and anything listed here fails the test below.
AWAITING_ROWS: frozenset[str] = frozenset()


def menu_commands() -> set[str]:
    return {f"/{name}" for names in (*ROLE_COMMANDS.values(), GUEST_COMMANDS, GROUP_COMMANDS) for name in names}


@MODULE_LOOP
async def test_every_command_and_button_has_a_row(matrix: Matrix) -> None:
    seen = read_surface(matrix.stage.application.handlers.values())
    handled = seen.commands | menu_commands() | seen.prefixes
    rows = {row.key for row in ROWS}
    missing = sorted(handled - rows - AWAITING_ROWS)
    assert not missing, f"no row in the authorization matrix for: {missing} (add them to ROWS)"
    gone = sorted((rows | AWAITING_ROWS) - handled)
    assert not gone, f"rows for commands or buttons the bot no longer handles: {gone}"


def test_no_journey_awaits_its_rows() -> None:
    assert not AWAITING_ROWS, f"{len(AWAITING_ROWS)} commands and buttons await rows: {sorted(AWAITING_ROWS)}"


def test_every_menu_command_is_allowed_to_its_role() -> None:
    own = {P.CADRE: "cadre", P.HEAD_OWN: "head", P.COUNTY_IN: "county", P.CITY: "city"}
    unusable = [
        f"{persona.value}: /{command}"
        for persona, role in own.items()
        for command in ROLE_COMMANDS[INVITATIONS[persona][0]]
        if f"/{command}" not in AWAITING_ROWS
        and not any(row.key == f"/{command}" and row.expect[persona] is Outcome.ALLOW for row in ROWS)
    ]
    assert all(INVITATIONS[p][0].value == role for p, role in own.items())
    assert not unusable, f"commands in a role's menu that the matrix refuses to that role: {unusable}"
