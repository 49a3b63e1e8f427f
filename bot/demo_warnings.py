"""The warning scene of `safety-bot demo`: an official red typhoon warning arrives from a local CAP feed (served on
127.0.0.1), reaches the heads of the seaside homes of 洞头区 and the county's group, one head acknowledges, one asks
for help, a cadre works through the contact round, then the feed lifts the warning and 解除 reaches the same people.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from bot.delivery import OutboxSender
from bot.domain.roles import Role
from bot.pacing import Limits
from bot.services.warnings import WarningService
from bot.warning_jobs import poll_feeds
from storage.warning_models import NewVulnerablePerson, VulnerableCategory

if TYPE_CHECKING:
    from bot.demo import Scene
    from bot.sandbox import SimUser

DONGTOU = "330305"
SENDER = "洞头区气象台"
ALERT_ID, CANCEL_ID = "33030541600000_DEMO0001", "33030541600000_DEMO0002"

# A CAP 1.2 document as the CMA feed (WMO SWIC mirror, cn-cma-xx) publishes it; times are filled in at play time.
CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>{references}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>台风</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <onset>{sent}</onset>{expires}
    <senderName>{sender}</senderName>
    <headline>{headline}</headline>
    <description>{description}</description>
    <area>
      <areaDesc>温州市洞头区</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>330305000000</value></geocode>
    </area>
  </info>
</alert>
"""
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>China Meteorological Administration: CAP alerts (cn-cma-xx)</title>
<link>http://127.0.0.1/</link><description>Official warnings</description>{items}</channel></rss>
"""
ITEM = "<item><title>{title}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid></item>"


class LocalFeed:
    """The official feed, played on 127.0.0.1: whatever `documents` holds, listed newest first."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[str, str]] = {}  # path -> (title, CAP XML)
        self.base = ""

    async def _serve(self, request: web.Request) -> web.Response:
        if request.path == "/rss.xml":
            items = "".join(
                ITEM.format(title=title, link=f"{self.base}{path}", guid=path.strip("/"))
                for path, (title, _) in reversed(self.documents.items())
            )
            return web.Response(text=RSS.format(items=items), content_type="application/rss+xml")
        found = self.documents.get(request.path)
        return web.Response(status=404) if found is None else web.Response(text=found[1], content_type="text/xml")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._serve)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        try:
            yield f"{self.base}/rss.xml"
        finally:
            await runner.cleanup()


def _cap(identifier: str, msg_type: str, sent: datetime, headline: str, description: str, *,
         expires: datetime | None = None, references: str = "") -> str:
    return CAP.format(
        identifier=identifier,
        sender=SENDER,
        sent=sent.isoformat(timespec="seconds"),
        msg_type=msg_type,
        references=f"\n  <references>{references}</references>" if references else "",
        expires=f"\n    <expires>{expires.isoformat(timespec='seconds')}</expires>" if expires else "",
        headline=headline,
        description=description,
    )


async def help_taken_and_resolved(
    scene: Scene, staff: SimUser, head: SimUser, deliver: Callable[[], Awaitable[None]]
) -> None:
    """The head's 🆘 需要帮助 gets an owner and an end (handlers.warning_help): ✋ 我来处理, then ✅ 已解决."""
    scene.title("科长接手求助（✋ 我来处理），院长得知由谁处理；处理完按 ✅ 已解决 / county staff take the call for "
                "help, the head is told who is on it; then it is marked resolved")
    alert = next((m for m in reversed(staff.messages()) if "紧急求助" in m.text), None)
    takes = alert is not None and ["✋ 我来处理"] in alert.buttons
    scene.check(takes, "the call for help carries ✋ 我来处理")
    if alert is None or not takes:
        return
    await staff.press("✋ 我来处理", alert)
    await deliver()
    scene.check("由您处理" in (staff.answers()[-1].text or ""), "the official is told the call is theirs now")
    scene.check("已有专人处理：林 科长" in head.last_message().text, "the head is told who is on it")
    await staff.press("✅ 已解决", alert)
    await deliver()
    scene.check("已标记为已解决" in (staff.answers()[-1].text or ""), "✅ 已解决 closes the call")
    resolved = head.last_message()
    scene.check("林 科长 已将您在" in resolved.text and "标记为已解决" in resolved.text
                and ["🆘 需要帮助"] in resolved.buttons, "the head is told it is resolved, with 🆘 to ask again")


async def typhoon_warning(scene: Scene) -> None:
    stage = scene.stage
    sandbox, services = stage.sandbox, stage.services
    staff = sandbox.user(user_id=9401, first_name="林", last_name="科长")
    head_1 = sandbox.user(user_id=9411, first_name="郑", last_name="院长")
    head_2 = sandbox.user(user_id=9412, first_name="陈", last_name="院长")
    cadre = sandbox.user(user_id=9421, first_name="黄", last_name="干部")
    group = sandbox.group(chat_id=-9401, title="洞头区防汛防台工作群")
    county_staff = await stage.register(staff, Role.COUNTY, region=DONGTOU)
    await stage.register(head_1, Role.HEAD, institution="WZ-330305-ELDER-01")
    await stage.register(head_2, Role.HEAD, institution="WZ-330305-ELDER-02")
    await stage.register(cadre, Role.CADRE, region=DONGTOU)
    group.add(staff)
    await staff.send_text("/bindgroup", chat=group)
    await staff.press("洞头区", chat=group)
    await staff.press("预警发布", chat=group)
    for code, category, village in (
        ("DT-0001", VulnerableCategory.ELDERLY_ALONE, "330305001001"),
        ("DT-0002", VulnerableCategory.LEFT_BEHIND_CHILD, "330305001002"),
    ):
        await services.warnings.register_person(
            county_staff, NewVulnerablePerson(code=code, category=category, region_code=village, cadre_id=cadre.id)
        )
    scene.title("准备：洞头区民政科长、两家临海敬老院院长、社区干部和工作群 / Dongtou's staff, two seaside homes, "
                "a cadre, the county group; two vulnerable people on the cadre's list")

    feed = LocalFeed()
    running = stage.application.bot_data.get("outbox_sender")
    sender = running if isinstance(running, OutboxSender) else OutboxSender(
        stage.application, services, worker_id="demo", outbox=services.outbox, limits=Limits.unlimited_for_tests()
    )

    async def deliver() -> None:
        """Wait for the outbox to empty: the bot's own sender delivers it (or ours, without background work)."""
        if sender is running:
            for _ in range(600):
                if await services.outbox.owed() == 0:
                    break
                await asyncio.sleep(0.05)
        else:
            await sender.run_until_drained()
        await sandbox.settle()

    async with feed.running() as feed_url:
        settings = services.warnings.settings.model_copy(update={"feed_urls": (feed_url,)})
        services.warnings = WarningService(services.storage, services.clock, settings)  # as WARNING_FEED_URLS
        now = services.clock.now()
        feed.documents["/cap/alert.xml"] = (
            "洞头区气象台发布台风红色预警信号",
            _cap(ALERT_ID, "Alert", now, "洞头区气象台发布台风红色预警信号",
                 "受台风“海燕”影响，预计6小时内洞头区平均风力可达12级以上，并伴有特大暴雨。",
                 expires=now + timedelta(hours=24)),
        )
        scene.title("官方台风红色预警从本地 CAP 源到达并立即发送 / an official red typhoon warning arrives from the "
                    "local CAP feed and goes out at once")
        await poll_feeds(services)
        await deliver()
        for person, name in ((head_1, "郑院长"), (head_2, "陈院长")):
            got = [m for m in person.messages() if "【发布】台风红色预警" in m.text]
            scene.check(len(got) == 1 and bool(got[0].buttons), f"{name} of a seaside home receives it, with buttons")
        scene.check(len([m for m in group.messages() if "台风红色预警" in m.text]) == 1, "the county group receives it")
        scene.check(any("已自动发送" in m.text for m in staff.messages()), "county staff are told it went out")

        scene.title("一位院长回复“收到”后点按钮确认落实，一位院长请求帮助 / one head types 收到, is shown the "
                    "buttons and acknowledges; the other asks for help")
        await head_1.send_text("收到")
        nudge = head_1.last_message()
        scene.check("发送文字不会记作回复" in nudge.text and "✅ 已收到并落实" in nudge.buttons[0],
                    "a typed 收到 is not taken as an answer: the warning's buttons are shown instead")
        await head_1.press("✅ 已收到并落实", message=nudge)
        warned = [m for m in head_1.messages() if "【发布】台风红色预警" in m.text]
        scene.check(bool(warned) and "确认收到并落实" in warned[-1].text
                    and warned[-1].buttons == [["📝 报告落实情况"], ["🆘 需要帮助"]],
                    "郑院长's warning itself now says the answer given (and keeps 🆘 需要帮助)")
        await head_2.press("🆘 需要帮助")
        await deliver()
        scene.check(any("紧急求助" in m.text and "大门镇敬老院" in m.text for m in staff.messages()),
                    "the call for help reaches county staff at once")

        scene.title("社区干部完成特殊群体联络 / the cadre works through the contact round on one message")
        sheets = [m for m in cadre.messages() if m.text.startswith("📋 特殊群体联络")]
        scene.check(len(sheets) == 1, "the cadre receives the list of people to contact")
        if sheets:
            await cadre.press("✅ 已联系·安全", message=sheets[0])
            await cadre.press("✅ 已联系·安全", message=sheets[0])
        await deliver()
        sheets = [m for m in cadre.messages() if m.text.startswith("📋 特殊群体联络")]
        scene.check(len(sheets) == 1 and "已完成 2 / 2" in sheets[0].text, "the list edited itself to 2 / 2")
        scene.check(any("特殊群体联络小结" in m.text and "安全 2" in m.text for m in staff.messages()),
                    "the round's summary reaches county staff")
        await staff.send_text("/warnstatus")
        status = staff.last_message().text
        scene.check("已收到并落实 1 · 需要帮助 1 · 未回复 0" in status, "/warnstatus shows both answers, by county")

        await help_taken_and_resolved(scene, staff, head_2, deliver)

        scene.title("官方源解除预警，解除通知发给同一批人 / the feed lifts the warning; 解除 reaches the same people")
        later = services.clock.now()
        alert_ref = f"{SENDER},{ALERT_ID},{now.isoformat(timespec='seconds')}"
        feed.documents["/cap/cancel.xml"] = (
            "洞头区气象台解除台风红色预警信号",
            _cap(CANCEL_ID, "Cancel", later, "洞头区气象台解除台风红色预警信号",
                 "台风“海燕”已远离，解除台风红色预警信号。", references=alert_ref),
        )
        await poll_feeds(services)
        await deliver()
        for chat, name in ((head_1, "郑院长"), (head_2, "陈院长"), (cadre, "the cadre"), (group, "the group")):
            lifted = [m for m in chat.messages() if "【解除】台风红色预警" in m.text]
            scene.check(len(lifted) == 1, f"解除 reaches {name}")
        scene.check(len([m for m in cadre.messages() if "【发布】" in m.text]) == 1, "the cadre was warned once too")
        await staff.send_text("/warnstatus")
        tally = staff.last_message().text
        scene.check("最终回复情况 · 已于" in tally and "已收到并落实 1 · " in tally and "未回复 0" in tally,
                    "/warnstatus keeps the final tally after the lift")
    if sender is not running:
        await sender.stop()
    scene.check(await services.outbox.owed() == 0, "nothing is left in the outbox")
