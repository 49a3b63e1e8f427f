"""Crashes: the bot runs as its own process under a crowd of people and is killed with SIGKILL at random moments.

Cadres report hazard after hazard (with photos), heads acknowledge and rectify each one, county staff accept them,
while the bot (`python -m bot.cli run`, exactly as deployed, on the emulator) is killed and restarted. Half of the
kills come at a random instant, in the middle of whatever steps are under way; the others after every step has been
answered and 1.5 s of quiet, long enough for the conversation state (flushed every second) to be on disk. After a
kill in the middle of a step the person repeats it, as a person would; if the bot then no longer knows where they
were, they start over. Afterwards:

- no report is lost: every code a cadre was given names their hazard, with their words;
- every conversation resumes at its step after a quiet kill: the next step of everyone whose last step that bot
  answered works the first time (the killer waits for those steps before it kills again);
- every journey ends right: each hazard is closed, nobody gave up, nothing was left unanswered;
- no notice is sent twice, and none is lost (the head's, the group's, the verifiers' and the reporter's, counted
  per recipient, kind and hazard against the hazard's history); see KNOWN_GAP_NOTICES_SENT_DIRECTLY.

CI: 5 kills (≈35 s, most of it the bot starting again). SAFETY_FULL_SUITES=1: 24 kills and more people.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import open_services
from bot.clock import SystemClock
from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.sandbox import Sandbox, SimGroup
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services.onboarding import Newcomer
from bot.stage import sandbox_settings
from handlers.common import catalog_label
from storage import Storage
from storage.models import Group, GroupPurpose, InstitutionType, NewInstitution
from tests.resilience.cast import HOME, LUCHENG, OTHER_HOME
from tests.resilience.crowd import CODE, SPEECH, ZH, BotLife, Person
from tests.resilience.journeys import Rectifying, Reporting, Verifying, sweep_tasks
from tests.resilience.suite import sized

KILLS = sized(5, 24)
CADRES = sized(5, 10)
EXTRA_INSTITUTIONS = sized(2, 4)
SEED = 20260301
QUIET_FOR_FLUSH = 1.5  # the persistence flushes every second: half a second to spare
GROUP_ID = -7001

# Hazard notices are sent straight after the change is committed (handlers/notify.py send_notices): a kill in
# between loses them. The outbox will queue them in the same transaction; until then a crash that lost notices ends
# this test as xfail, naming them, and any other failure still fails it. Set False once notices go through the outbox.
KNOWN_GAP_NOTICES_SENT_DIRECTLY = True


@dataclass
class Crowd:
    life: BotLife
    reporters: list[Reporting]
    rectifiers: list[Rectifying]
    verifiers: list[Verifying]
    group: SimGroup

    @property
    def responders(self) -> list[Rectifying | Verifying]:
        return [*self.rectifiers, *self.verifiers]

    @property
    def people(self) -> list[Person]:
        return [j.person for j in self.reporters] + [j.person for j in self.responders]


async def prepare(sandbox: Sandbox, folder: Path) -> tuple[BotLife, list[str], dict[str, int]]:
    """The city, a few more institutions in Lucheng, and everyone registered (as their invitations would have)."""
    settings = sandbox_settings(sandbox, folder / "safety.db")
    services = await open_services(settings)
    try:
        storage = services.storage
        await load_city_data(storage, DEMO_DATA_DIR)
        codes = [HOME, OTHER_HOME]
        for n in range(EXTRA_INSTITUTIONS):
            extra = await storage.institutions.upsert(NewInstitution(
                code=f"WZ-330302-CRASH-{n}", name_zh=f"鹿城区第{n + 1}养老院", name_en=f"Lucheng Home {n + 1}",
                type=InstitutionType.ELDERLY_CARE, region_code="330302001"))
            codes.append(extra.code)
        heads: dict[str, int] = {}
        for n, code in enumerate(codes):
            heads[code] = 8100 + n
            await register(services, 8100 + n, Role.HEAD, institution=code)
        for n in range(CADRES):
            await register(services, 8200 + n, Role.CADRE, region=LUCHENG)
        for n in range(2):
            await register(services, 8300 + n, Role.COUNTY, region=LUCHENG)
        await storage.groups.bind(Group(chat_id=GROUP_ID, title="鹿城区隐患通报群", region_code=LUCHENG,
                                        purpose=GroupPurpose.HAZARDS, bound_by=8300, bound_at=services.clock.now()))
        names = [await _name(storage, code) for code in codes]
    finally:
        await services.close()
    return BotLife(sandbox, settings, folder), names, heads


async def register(services: object, telegram_id: int, role: Role, *, region: str | None = None,
                   institution: str | None = None) -> None:
    onboarding = services.onboarding  # type: ignore[attr-defined]
    invite = await onboarding.create_invite(creator=None, role=role, region_code=region, institution_code=institution)
    await onboarding.register(invite.token, Newcomer(telegram_id, f"{role.value}{telegram_id}", None, "zh_CN"))


async def _name(storage: Storage, code: str) -> str:
    institution = await storage.institutions.get_by_code(code)
    assert institution is not None
    return institution.name_zh


def crowd(life: BotLife, institutions: list[str], heads: dict[str, int], rng: random.Random,
          failures: list[str]) -> Crowd:
    sandbox = life.sandbox

    def person(telegram_id: int, name: str) -> Person:
        user = sandbox.user(telegram_id, name)
        user.state.started = True  # they opened the chat with the bot when they registered
        return Person(user, life, failures)

    areas = [catalog_label(area, ZH) for area in (HazardArea.FIRE, HazardArea.ELECTRICITY, HazardArea.GAS,
                                                 HazardArea.BUILDINGS, HazardArea.FOOD)]
    reporters = [Reporting(person(8200 + n, f"干部{n}"), n, institutions, areas, random.Random(rng.random()))
                 for n in range(CADRES)]
    rectifiers = [Rectifying(person(telegram_id, f"院长{telegram_id}")) for telegram_id in heads.values()]
    verifiers = [Verifying(person(8300 + n, f"科长{n}")) for n in range(2)]
    group = sandbox.group(GROUP_ID, "鹿城区隐患通报群")
    return Crowd(life, reporters, rectifiers, verifiers, group)


async def kill_at_random(crowd: Crowd, rng: random.Random) -> list[str]:
    """KILLS kills, every other one after a quiet moment; returns what went wrong on resuming after those."""
    life = crowd.life
    for n in range(KILLS):
        await asyncio.sleep(rng.uniform(0.4, 1.2))
        quiet = n % 2 == 1
        if quiet:
            await life.quiesce()
            await asyncio.sleep(QUIET_FOR_FLUSH)
        killed = life.generation
        await life.kill()
        await life.start()
        if quiet:
            # Checked: whoever this bot answered last, so that their step had the quiet time to reach the disk.
            # A step last answered by a bot killed at random may be lost with it; that person repeats it.
            for person in crowd.people:
                person.checking_resume = person.answered_by == killed
            life.reopen()
            # The next kill waits until everyone in a journey has taken their first step on the restarted bot:
            # a kill in the middle of it would hide whether the step resumed where it was.
            await asyncio.sleep(0.3)
            await life.resumed()
    return [failure for person in crowd.people for failure in person.resume_failures]


async def until_every_hazard_is_closed(crowd: Crowd, storage: Storage, within: float) -> list[str]:
    """Let the journeys finish; when they have nothing left to do, sweep /tasks for what lost notices left behind,
    as a head or an official would. Returns the hazards still open at the end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if not await storage.db.fetchall("SELECT code FROM hazards WHERE state != 'closed'"):
            return []
        if not any(journey.pending() for journey in crowd.responders):
            await asyncio.sleep(1.0)  # answers still on their way
            for journey in crowd.responders:
                await sweep_tasks(journey.person, journey)
        await asyncio.sleep(0.5)
    rows = await storage.db.fetchall("SELECT code, state FROM hazards WHERE state != 'closed'")
    return [f"{row['code']} is still {row['state']}" for row in rows]


async def notice_counts(crowd: Crowd, storage: Storage) -> tuple[list[str], list[str]]:
    """(notices sent twice, notices never sent), per recipient, kind and hazard, against the hazards' histories."""
    got: Counter[tuple[int, str, str]] = Counter()
    for person in crowd.people:
        for key in ("notice.new_for_head", "notice.submitted_for_staff", "notice.submitted_for_reporter",
                    "notice.accepted_on_time", "notice.accepted_late"):
            for code, _ in person.notices(key):
                got[(person.user.id, key.removesuffix("_on_time").removesuffix("_late"), code)] += 1
    for message in crowd.group.messages():
        if SPEECH.opens(message.text, "notice.new_for_group"):
            for code in set(CODE.findall(message.text)):
                got[(GROUP_ID, "notice.new_for_group", code)] += 1
    expected: Counter[tuple[int, str, str]] = Counter()
    heads = {journey.person.user.id for journey in crowd.rectifiers}
    staff = [journey.person.user.id for journey in crowd.verifiers]
    for row in await storage.db.fetchall("SELECT id, code, assignee_id, reporter_id FROM hazards"):
        code, head, reporter = row["code"], row["assignee_id"], row["reporter_id"]
        events = [e.action for e in await storage.hazards.events(row["id"])]
        if head in heads:
            expected[(head, "notice.new_for_head", code)] += 1
        expected[(GROUP_ID, "notice.new_for_group", code)] += 1
        submits = events.count(HazardAction.SUBMIT_RECTIFICATION.value)
        accepts = events.count(HazardAction.ACCEPT.value)
        for verifier in staff:
            expected[(verifier, "notice.submitted_for_staff", code)] += submits
        expected[(reporter, "notice.submitted_for_reporter", code)] += submits
        expected[(reporter, "notice.accepted", code)] += accepts
        if head in heads:
            expected[(head, "notice.accepted", code)] += accepts
    twice = [f"{who} got {kind} of {code} {got[(who, kind, code)]} times" for (who, kind, code), n in
             expected.items() if got[(who, kind, code)] > n]
    twice += [f"{who} got an unexpected {kind} of {code}" for (who, kind, code) in got if (who, kind, code)
              not in expected]
    never = [f"{who} never got {kind} of {code}" for (who, kind, code), n in expected.items()
             if got[(who, kind, code)] < n]
    return twice, never


async def test_killed_at_random_moments_the_bot_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    failures: list[str] = []
    async with Sandbox(seed=SEED) as sandbox:
        life, institutions, heads = await prepare(sandbox, tmp_path)
        people = crowd(life, institutions, heads, rng, failures)
        await life.start()
        stop_reporting, stop_everyone = asyncio.Event(), asyncio.Event()
        reporting = [asyncio.create_task(j.run(stop_reporting)) for j in people.reporters]
        others = [asyncio.create_task(j.run(stop_everyone)) for j in people.responders]
        storage = await Storage.open(life.settings.database_path, SystemClock())
        try:
            resume_failures = await kill_at_random(people, rng)
            life.calm = True
            stop_reporting.set()
            await asyncio.wait_for(asyncio.gather(*reporting), timeout=120)
            still_open = await until_every_hazard_is_closed(people, storage, within=sized(60.0, 180.0))
            stop_everyone.set()
            await asyncio.wait_for(asyncio.gather(*others), timeout=60)
            await sandbox.settle(timeout=30, quiet=0.5)
            twice, never = await notice_counts(people, storage)
            lost_reports = await reports_lost(people, storage)
            failed_sends = len(await storage.audit.list(action_prefix="notice.failed", limit=10_000))
        finally:
            for task in (*reporting, *others):
                task.cancel()
            await life.stop()
            await storage.close()
        summary = (
            f"{life.kills} kills; {sum(len(j.confirmed) for j in people.reporters)} reports confirmed; "
            f"{sum(p.repeats for p in people.people)} steps repeated after a kill, "
            f"{sum(p.restarts for p in people.people)} journeys started over; {failed_sends} notice sends failed"
        )
        assert life.kills == KILLS
        assert not lost_reports, f"{summary}\nreports lost:\n" + "\n".join(lost_reports)
        assert not resume_failures, f"{summary}\nnot resumed after a quiet kill:\n" + "\n".join(resume_failures)
        gave_up = [d for j in people.reporters for d in j.gave_up]
        assert not failures and not gave_up, f"{summary}\n" + "\n".join([*failures, *gave_up])
        assert not still_open, f"{summary}\njourneys that did not end:\n" + "\n".join(still_open)
        assert not twice, f"{summary}\nnotices sent twice:\n" + "\n".join(twice)
        errors = life.errors_logged()
        assert not errors, f"{summary}\nthe bot logged errors:\n" + "\n".join(errors[:20])
        assert sandbox.violations == []
        if never:
            if KNOWN_GAP_NOTICES_SENT_DIRECTLY:
                pytest.xfail(f"{summary}; a kill lost notices sent straight after their commit:\n" + "\n".join(never))
            raise AssertionError(f"{summary}\nnotices never sent:\n" + "\n".join(never))


async def reports_lost(crowd: Crowd, storage: Storage) -> list[str]:
    lost = []
    for journey in crowd.reporters:
        for code, description in journey.confirmed.items():
            hazard = await storage.hazards.get_by_code(code)
            if hazard is None:
                lost.append(f"{journey.person.name} was given {code}, which does not exist")
            elif hazard.description != description or hazard.reporter_id != journey.person.user.id:
                lost.append(f"{code} is not {journey.person.name}'s report {description!r}: {hazard.description!r}")
    states = {row["state"] for row in await storage.db.fetchall("SELECT DISTINCT state FROM hazards")}
    lost += [f"a hazard is in the unknown state {state!r}" for state in states - {s.value for s in HazardState}]
    return lost


@pytest.mark.xfail(strict=True, reason=(
    "hazard notices are sent straight after the report is committed (handlers/report.py _submit → "
    "handlers/notify.py send_notices): a crash while they are on their way loses them for good, since nothing "
    "records that they are owed. Outbox: queue them in the report's transaction (bot/services/outbox.py)"))
async def test_a_crash_while_a_notice_is_on_its_way_does_not_lose_it(tmp_path: Path) -> None:
    async with Sandbox() as sandbox:
        settings = sandbox_settings(sandbox, tmp_path / "safety.db")
        services = await open_services(settings)
        await load_city_data(services.storage, DEMO_DATA_DIR)
        await register(services, 8901, Role.CADRE, region=LUCHENG)
        await register(services, 8902, Role.HEAD, institution=HOME)
        home = await _name(services.storage, HOME)
        await services.close()
        life = BotLife(sandbox, settings, tmp_path)
        failures: list[str] = []
        cadre = Person(sandbox.user(8901, "干部"), life, failures)
        head = sandbox.user(8902, "院长")
        head.state.started = True
        reporting = Reporting(cadre, 1, [home], [catalog_label(HazardArea.FIRE, ZH)], random.Random(1))
        await life.start()
        try:
            # Telegram takes the head's notice and never answers: the bot is killed while it waits.
            sandbox.inject_fault(method="sendMessage", kind="timeout", chat_id=head.id, delay=30.0, times=1)
            code = await reporting.report("配电箱门未关闭，线路裸露", home, catalog_label(HazardArea.FIRE, ZH))
            def notice_on_its_way() -> bool:
                return any(c.method == "sendMessage" and str(c.params.get("chat_id")) == str(head.id)
                           and c.finished_at is None for c in sandbox.calls)

            await sandbox.wait_for(notice_on_its_way, timeout=20)
            await life.kill()
            sandbox.clear_faults()
            await life.start()
            await asyncio.sleep(3.0)  # the restarted bot has all the time it needs to send what it owes
        finally:
            await life.stop()
        told = [m for m in head.messages() if code in m.text and SPEECH.opens(m.text, "notice.new_for_head")]
        assert not failures, failures
        assert len(told) == 1, f"the head was told of {code} {len(told)} times"
