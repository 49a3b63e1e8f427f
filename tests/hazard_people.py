"""People, groups and hazards for the hazard journey tests, on the real bot.

Hazards are reported through the service (the report conversation has tests of its own), which queues their
notices as every journey does; the bot's sender delivers them, so what people see afterwards is what they would see.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardAction
from bot.domain.roles import Role
from bot.i18n import Translator
from bot.sandbox.content import store_photo
from bot.sandbox.driver import SimGroup, SimUser
from bot.sandbox.media import make_jpeg
from bot.sandbox.views import BotMessage
from bot.services.hazards import HazardOutcome
from bot.stage import Stage
from handlers.hazard_buttons import hazard_label
from storage.hazard_models import Hazard, PhotoRef, ReportDraft
from storage.models import Group, GroupPurpose, Institution, InstitutionType, NewInstitution, User

LUCHENG, LONGWAN = "330302", "330303"
HOME = "WZ-330302-ELDER-01"  # 鹿城区社会福利院 / Lucheng District Social Welfare Home
LONGWAN_HOME = "WZ-330303-SOCIAL-01"
HEAD, STAFF, CADRE, OTHER_STAFF, LONGWAN_STAFF, LONGWAN_HEAD, SECOND_HEAD = 40, 41, 42, 43, 44, 45, 46
GROUP = -1001


@dataclass
class Cast:
    stage: Stage
    head: SimUser
    staff: SimUser
    cadre: SimUser
    group: SimGroup

    async def user(self, telegram_id: int) -> User:
        user = await self.stage.services.storage.users.get(telegram_id)
        assert user is not None
        return user


async def cast(stage: Stage, language: str = "zh-hans") -> Cast:
    """A head of 鹿城区社会福利院, a Lucheng county official, a Lucheng cadre and Lucheng's bound hazards group."""
    sandbox = stage.sandbox
    chinese = language.startswith("zh")
    head = sandbox.user(user_id=HEAD, first_name="陈院长" if chinese else "Chen", language_code=language)
    staff = sandbox.user(user_id=STAFF, first_name="周科长" if chinese else "Zhou", language_code=language)
    cadre = sandbox.user(user_id=CADRE, first_name="李娜" if chinese else "Li Na", language_code=language)
    await stage.register(head, Role.HEAD, institution=HOME)
    await stage.register(staff, Role.COUNTY, region=LUCHENG)
    await stage.register(cadre, Role.CADRE, region=LUCHENG)
    group = sandbox.group(chat_id=GROUP, title="鹿城区隐患通报群")
    group.add(staff)
    await stage.services.storage.groups.bind(
        Group(
            chat_id=GROUP,
            title=group.title,
            region_code=LUCHENG,
            purpose=GroupPurpose.HAZARDS,
            bound_by=STAFF,
            bound_at=stage.clock.now(),
        )
    )
    return Cast(stage, head, staff, cadre, group)


_seeds = itertools.count(1)


def telegram_photo(stage: Stage) -> PhotoRef:
    """A photo Telegram knows (so its file_id can be resent) whose bytes the evidence store also keeps."""
    data = make_jpeg(160, 120, seed=next(_seeds))
    largest = store_photo(stage.sandbox.world, data)[-1]
    sha256 = stage.services.evidence.store(data)
    return PhotoRef(file_id=largest.file_id, file_unique_id=largest.file_unique_id, sha256=sha256)


async def report(
    stage: Stage,
    reporter_id: int = CADRE,
    *,
    area: HazardArea = HazardArea.FIRE,
    severity: Severity = Severity.GENERAL,
    institution: str = HOME,
    description: str = "消防通道被杂物堵塞",
) -> Hazard:
    services = stage.services
    reporter = await services.storage.users.get(reporter_id)
    found = await services.storage.institutions.get_by_code(institution)
    assert reporter is not None and found is not None
    draft = ReportDraft(
        institution_id=found.id, area=area, severity=severity, description=description, photos=[telegram_photo(stage)]
    )
    outcome = await services.hazards.submit_report(reporter, draft)
    await stage.sandbox.settle()  # the notices on their way
    return outcome.hazard


async def act(
    stage: Stage, actor_id: int, hazard: Hazard, action: HazardAction, *, reason: str | None = None, photos: int = 0
) -> HazardOutcome:
    """An action taken through the service, its notices sent: for the steps a test is not about."""
    services = stage.services
    actor = await services.storage.users.get(actor_id)
    assert actor is not None
    outcome = await services.hazards.act(
        actor, hazard.id, action, reason=reason, photos=[telegram_photo(stage) for _ in range(photos)]
    )
    await stage.sandbox.settle()  # the notices on their way
    return outcome


async def submitted(stage: Stage, hazard: Hazard) -> Hazard:
    """The head's rectification already handed in."""
    await act(stage, HEAD, hazard, HazardAction.ACKNOWLEDGE)
    outcome = await act(stage, HEAD, hazard, HazardAction.SUBMIT_RECTIFICATION, reason="已清理通道杂物", photos=1)
    return outcome.hazard


async def hazard_now(stage: Stage, hazard: Hazard) -> Hazard:
    current = await stage.services.storage.hazards.get(hazard.id)
    assert current is not None
    return current


async def long_named_centres(stage: Stage, region_code: str, count: int = 40) -> list[Institution]:
    """Care centres with the long official names English gives them, as a county has dozens of: for the messages
    that list institutions and must still fit one Telegram message."""
    return [
        await stage.services.storage.institutions.upsert(NewInstitution(
            code=f"WZ-330302-CARE-{n:02}", name_zh=f"鹿城区五马街道第{n}居家养老服务照料中心",
            name_en=f"Wenzhou Lucheng District Wuma Subdistrict No. {n} Home-based Elderly Care Service Centre",
            type=InstitutionType.ELDERLY_CARE, region_code=region_code))
        for n in range(1, count + 1)
    ]


async def cancelled_after_refusals(person: SimUser, *refusals: tuple[str, str]) -> None:
    """At a step that asks for text (in Chinese): a photo, then each (typed, the refusal read) pair, are each answered
    with the step's Cancel alone, as its question was; pressed under the last answer, Cancel ends the step there."""
    await person.send_photo()
    refused = person.last_message()
    assert refused.buttons == [["取消"]]
    for typed, refusal in refusals:
        await person.send_text(typed)
        refused = person.last_message()
        assert refused.text == refusal and refused.buttons == [["取消"]]
    await person.press("取消", refused)
    assert refused.text == "已取消。"


def listed(hazard: Hazard, language: str = "zh_CN", *, late: bool = False, home: str | None = None) -> str:
    """The label of a hazard's button in a list (/tasks, /mine, /institution): ⏰ when late, area, description;
    `home` first in a staff list's."""
    return hazard_label(hazard, Translator(language, strict=True), overdue=late, home=home)


def opened(message: BotMessage) -> list[int]:
    """The hazards a list's buttons open (their Details callback data), in order."""
    return [int(d.split(":")[2]) for row in message.button_data for d in row if d and d.startswith("hz:view:")]
