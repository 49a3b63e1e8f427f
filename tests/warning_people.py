"""The people of the warning journeys, registered the way people register (invitation links), and helpers to
drain the outbox as the running bot's sender would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.clock import FakeClock
from bot.delivery import OutboxSender
from bot.domain.roles import Role
from bot.pacing import Limits
from bot.sandbox import SimGroup, SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from storage.warning_models import NewVulnerablePerson, VulnerableCategory

START = datetime(2026, 9, 10, 1, 0, tzinfo=UTC)  # 09:00 in Wenzhou, as the typhoon approaches
CITY, LUCHENG, DONGTOU = "330300", "330302", "330305"
HOME_1, HOME_2, LUCHENG_HOME = "WZ-330305-ELDER-01", "WZ-330305-ELDER-02", "WZ-330302-ELDER-01"
HOME_1_ZH, HOME_2_ZH = "洞头区中心敬老院", "洞头区大门镇敬老院"
FORUM_TOPIC = 7


@dataclass
class Cast:
    admin: SimUser
    dongtou_staff: SimUser
    lucheng_staff: SimUser
    head_1: SimUser
    head_2: SimUser
    lucheng_head: SimUser
    cadre: SimUser
    lucheng_cadre: SimUser
    group: SimGroup  # 洞头区's warnings group, bound with /bindgroup
    forum: SimGroup  # a forum whose topic FORUM_TOPIC is bound for 洞头区's warnings

    @property
    def dongtou_recipients(self) -> list[SimUser | SimGroup]:
        return [self.head_1, self.head_2, self.cadre, self.group, self.forum]

    @property
    def bystanders(self) -> list[SimUser | SimGroup]:
        return [self.lucheng_head, self.lucheng_cadre, self.lucheng_staff]


async def enrol(stage: Stage, language: str = "zh-hans") -> Cast:
    sandbox = stage.sandbox

    def person(user_id: int, first: str, last: str) -> SimUser:
        return sandbox.user(user_id=user_id, first_name=first, last_name=last, language_code=language)

    cast = Cast(
        admin=person(1, "王", "局长"),
        dongtou_staff=person(20, "林", "科长"),
        lucheng_staff=person(10, "周", "科长"),
        head_1=person(40, "张", "院长"),
        head_2=person(41, "陈", "院长"),
        lucheng_head=person(42, "李", "院长"),
        cadre=person(30, "黄", "干部"),
        lucheng_cadre=person(32, "吴", "干部"),
        group=sandbox.group(chat_id=-1001, title="洞头区防汛防台工作群"),
        forum=sandbox.group(chat_id=-1002, title="洞头区民政论坛", is_forum=True),
    )
    await stage.register(cast.admin, Role.CITY)
    await stage.register(cast.dongtou_staff, Role.COUNTY, region=DONGTOU)
    await stage.register(cast.lucheng_staff, Role.COUNTY, region=LUCHENG)
    await stage.register(cast.head_1, Role.HEAD, institution=HOME_1)
    await stage.register(cast.head_2, Role.HEAD, institution=HOME_2)
    await stage.register(cast.lucheng_head, Role.HEAD, institution=LUCHENG_HOME)
    await stage.register(cast.cadre, Role.CADRE, region=DONGTOU)
    await stage.register(cast.lucheng_cadre, Role.CADRE, region=LUCHENG)
    staff = cast.dongtou_staff
    cast.group.add(staff)
    await staff.send_text("/bindgroup", chat=cast.group)
    await staff.press("洞头区" if language.startswith("zh") else "Dongtou District", chat=cast.group)
    await staff.press_data(staff.last_message(chat=cast.group), f"bind:purpose:{DONGTOU}:warnings", chat=cast.group)
    cast.forum.add(staff).add_topic("预警" if language.startswith("zh") else "Warnings", FORUM_TOPIC)
    await staff.send_text("/bindgroup", chat=cast.forum, topic=FORUM_TOPIC)
    await staff.press("洞头区" if language.startswith("zh") else "Dongtou District", chat=cast.forum)
    await staff.press_data(staff.last_message(chat=cast.forum), f"bind:purpose:{DONGTOU}:warnings", chat=cast.forum)
    return cast


async def register_vulnerable(stage: Stage, cadre: SimUser) -> None:
    """Three people on the cadre's list in 洞头区, one with no cadre yet (staff get that list)."""
    contacts = stage.services.storage.contacts
    for code, category, village, keeper in (
        ("DT-0001", VulnerableCategory.ELDERLY_ALONE, "330305001001", cadre.id),
        ("DT-0002", VulnerableCategory.LEFT_BEHIND_CHILD, "330305001002", cadre.id),
        ("DT-0003", VulnerableCategory.FIVE_GUARANTEE, "330305102001", cadre.id),
        ("DT-0004", VulnerableCategory.DIBAO, "330305102003", None),
    ):
        person = NewVulnerablePerson(code=code, category=category, region_code=village, cadre_id=keeper)
        await contacts.upsert_person(person, START)


def outbox_sender(stage: Stage) -> OutboxSender:
    return OutboxSender(stage.application, stage.services, worker_id="test-sender", outbox=stage.services.outbox,
                        limits=Limits.unlimited_for_tests())


async def drain(stage: Stage, sender: OutboxSender | None = None) -> None:
    """Deliver everything queued, as the running bot's sender would; then let the bot answer anything it caused."""
    await asyncio.wait_for((sender or outbox_sender(stage)).run_until_drained(), 20)
    await stage.sandbox.settle()


async def deliver_what_is_due(current: Stage) -> None:
    """Send what the running bot's sender would send now; a message held for later stays queued (where `drain`
    would wait for it)."""
    sender = outbox_sender(current)
    sender.start()
    try:
        for _ in range(500):
            await asyncio.sleep(0.01)
            if sender.quiet:
                break
    finally:
        await sender.stop()
    await current.sandbox.settle()


TYPHOON_TEMPLATE = "台风红色预警：请立即落实防范措施"


# The buttons /warn shows, in each language staff may read it in.
WARN_BUTTONS = {
    "zh": {"typhoon": "台风", "template": "📄 使用模板", "next": "下一步 ▶", "send": "📤 发送"},
    "en": {"typhoon": "Typhoon", "template": "📄 Use the template", "next": "Next ▶", "send": "📤 Send"},
}


async def compose_typhoon(cast: Cast, level: str = "红色", hours: str = "24 小时", *, language: str = "zh") -> None:
    """林科长 composes a typhoon warning from its template, up to the preview (`language`: the one they read)."""
    staff, words = cast.dongtou_staff, WARN_BUTTONS[language]
    await staff.send_text("/warn")
    await staff.press(words["typhoon"])
    await staff.press(level)
    await staff.press(words["template"])
    await staff.press(words["next"])  # institution types: all
    await staff.press(words["next"])  # risk tags: the typhoon's suggestion (near the sea, rivers, mountains, low-lying)
    await staff.press(hours)


async def send_typhoon(
    stage: Stage, cast: Cast, level: str = "红色", hours: str = "24 小时", *, sender: OutboxSender | None = None
) -> None:
    """Compose, send and deliver a typhoon warning; `sender`: the one the bot keeps for the sender's status message."""
    await compose_typhoon(cast, level, hours)
    await cast.dongtou_staff.press("📤 发送")
    await drain(stage, sender)


def containing(chat: SimUser | SimGroup, text: str) -> list[BotMessage]:
    return [m for m in chat.messages() if text in m.text]


def frozen_clock() -> FakeClock:
    return FakeClock(START)
