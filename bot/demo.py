"""`safety-bot demo`: the offline scene. Real people (simulated) talk to the real bot over the bundled emulator.

Each step states what a person would see; the demo exits 0 only if every step happened as it should.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.demo_warnings import typhoon_warning
from bot.domain.roles import Role
from bot.sandbox import SimUser, TranscriptEntry
from bot.stage import Stage, stage

LUCHENG = "330302"
HOME = "WZ-330302-ELDER-01"


@dataclass
class Scene:
    stage: Stage
    verbose: bool
    failures: list[str] = field(default_factory=list)
    _printed: int = 0

    def check(self, condition: bool, what: str) -> None:
        self._flush()
        mark = "✔" if condition else "✘"
        if not condition:
            self.failures.append(what)
        if self.verbose:
            print(f"   {mark} {what}")

    def title(self, text: str) -> None:
        self._flush()
        if self.verbose:
            print(f"\n── {text} ──")

    def _flush(self) -> None:
        entries = self.stage.sandbox.transcript[self._printed :]
        self._printed = len(self.stage.sandbox.transcript)
        if self.verbose and entries:
            print(self.stage.sandbox.format_transcript(collapse_edits(entries)))


def collapse_edits(entries: list[TranscriptEntry]) -> list[TranscriptEntry]:
    """A message that edits itself many times in a row (a checklist, a progress line) is shown once, as it ended."""
    kept: list[TranscriptEntry] = []
    for entry in entries:
        if entry.kind == "edit":
            same = (entry.chat_id, entry.message_id)
            # The earlier state of this message, possibly with the person's button presses after it, is dropped.
            position = len(kept) - 1
            while position >= 0 and kept[position].kind == "press" and kept[position].chat_id == entry.chat_id:
                position -= 1
            if position >= 0 and kept[position].kind == "edit" and (kept[position].chat_id,
                                                                     kept[position].message_id) == same:
                del kept[position]
        kept.append(entry)
    return kept


Step = Callable[[Scene], Awaitable[None]]


async def onboarding(scene: Scene) -> None:
    sandbox = scene.stage.sandbox
    admin = sandbox.user(user_id=9001, first_name="王", last_name="局长", username="wang_city", language_code="zh-hans")
    cadre = sandbox.user(user_id=9101, first_name="Li", last_name="Na", username="lina", language_code="zh-hans")
    stranger = sandbox.user(user_id=9999, first_name="Stranger <x>", language_code="en")

    scene.title("城市管理员用命令行生成的邀请链接注册 / the city admin registers with a command-line invitation")
    token = await scene.stage.invite_token(Role.CITY)
    await admin.send_text(f"/start {token}")
    scene.check("注册成功" in admin.messages()[0].text, "admin is registered as city administrator")

    scene.title("管理员邀请一名鹿城区社区干部 / the admin invites a cadre of Lucheng")
    await admin.send_text("/invite")
    await admin.press("社区/村干部")
    await admin.press("鹿城区")
    link_message = admin.last_message().text
    match = re.search(r"\?start=([\w-]+)", link_message)
    scene.check(match is not None, "the admin receives a one-time deep link")
    if match is None:
        return

    scene.title("干部点击链接注册，并切换为英文 / the cadre registers and switches to English")
    await cadre.send_text(f"/start {match.group(1)}")
    scene.check(any("注册成功" in message.text for message in cadre.messages()), "the cadre is registered")
    await cadre.send_text("/lang")
    await cadre.press("English")
    scene.check("Language switched" in cadre.last_message().text, "the cadre now reads English")

    scene.title("同一链接不能再用 / the same link cannot be used twice")
    await stranger.send_text(f"/start {match.group(1)}")
    scene.check("already been used" in stranger.last_message().text, "a used link is refused")

    scene.title("陌生人被礼貌拒绝 / an unregistered stranger is turned away")
    await stranger.send_text("hello?")
    turned_away = "invited civil-affairs staff only" in stranger.last_message().text
    scene.check(turned_away, "the stranger is told how to get in")

    scene.title("带密级标识的消息被拒收 / a classified message is refused")
    await cadre.send_text("秘密★1年 关于防汛工作的内部通知")
    scene.check("classification mark" in cadre.last_message().text, "the classified message is refused, with the rule")
    audit = await scene.stage.services.storage.audit.list(action_prefix="secrecy.")
    scene.check(len(audit) == 1 and "防汛" not in str(audit[0].detail), "the refusal is audited without the content")

    scene.title("干部调离：管理员停用其账号 / the cadre moves on: the admin ends their access")
    await admin.send_text("/people")
    await admin.press("Li Na（社区/村干部")
    await admin.press("⛔ 停用账号")
    await admin.press("⛔ 确认停用")
    scene.check("已停用 Li Na" in admin.last_message().text, "the admin ends the cadre's access, after a confirmation")
    await _until(scene, lambda: "Your access to this bot was ended" in cadre.last_message().text)
    scene.check("Your access to this bot was ended" in cadre.last_message().text, "the cadre is told, in English")
    await cadre.send_text("/report")
    scene.check("Your access to this bot has ended" in cadre.last_message().text, "the cadre can no longer use it")

    scene.title("撤销一个发错群的邀请链接 / a link sent to the wrong chat is cancelled before anyone uses it")
    await admin.send_text("/invite")
    await admin.press("社区/村干部")
    await admin.press("鹿城区")
    astray = re.search(r"\?start=([\w-]+)", admin.last_message().text)
    await admin.send_text("/people")
    await admin.press("🔗 未使用的邀请链接（1）")
    await admin.press("撤销第 1 个")
    await stranger.send_text(f"/start {astray.group(1) if astray else ''}")
    scene.check("was cancelled" in stranger.last_message().text, "the cancelled link registers nobody")


async def hazard_loop(scene: Scene) -> None:
    sandbox = scene.stage.sandbox
    storage = scene.stage.services.storage
    cadre = sandbox.user(user_id=9102, first_name="陈", last_name="干部", language_code="zh-hans")
    head = sandbox.user(user_id=9201, first_name="张", last_name="院长", language_code="zh-hans")
    staff = sandbox.user(user_id=9301, first_name="周", last_name="科长", language_code="zh-hans")
    await scene.stage.register(cadre, Role.CADRE, region=LUCHENG)
    await scene.stage.register(head, Role.HEAD, institution=HOME)
    await scene.stage.register(staff, Role.COUNTY, region=LUCHENG)
    scene.title("准备：鹿城区社区干部、福利院院长和县级民政科长已注册 / cadre, head and county staff are registered")

    scene.title("干部上报隐患（附照片和位置）/ the cadre reports a hazard with a photo and a location")
    await cadre.send_text("/report")
    await cadre.press("鹿城区社会福利院")
    await cadre.press("用火")
    await cadre.press("较大")
    await cadre.send_text("三楼走廊堆放纸箱杂物，堵塞消防通道")
    await cadre.send_photo()
    await cadre.press("完成")
    await cadre.send_location(28.0219, 120.6552)
    await cadre.press("互查")
    await cadre.press("✅ 确认上报")
    match = re.search(r"YH-\d{8}-\d{4}", cadre.last_message().text)
    scene.check(match is not None, "the cadre receives the hazard's code and deadline")
    if match is None:
        return
    code = match.group(0)
    scene.check(any(code in message.text for message in head.messages()), "the head is told, with buttons")

    scene.title("院长确认收到并提交整改（附整改后照片）/ the head acknowledges and submits a rectification")
    await head.press("确认收到")
    await head.press("📤 提交整改结果")
    await head.send_text("已清理走廊杂物，张贴禁止堆放标识，安排专人每日巡查")
    await head.send_photo()
    await head.press("完成")
    scene.check(any(code in message.text for message in staff.messages()), "county staff are asked to verify")

    scene.title("县级民政退回一次，再验收通过 / county staff reject once with a reason, then accept")
    await staff.press("退回整改")
    await staff.send_text("照片未显示消防通道全貌，请补拍走廊两端")
    scene.check("照片未显示消防通道全貌" in head.last_message().text, "the head reads the reason")
    await head.press("📤 重新提交整改结果")
    await head.send_text("已补拍走廊两端，通道宽度满足要求")
    await head.send_photo()
    await head.send_photo()
    await head.press("完成")
    await staff.press("验收通过")
    hazard = await storage.hazards.get_by_code(code)
    scene.check(hazard is not None and hazard.state.value == "closed", "the hazard is closed")

    scene.title("查看隐患全过程 / /hazard shows the whole history")
    await staff.send_text(f"/hazard {code}")
    dossier = next((m.text for m in reversed(staff.messages()) if "处置记录" in m.text), "")
    scene.check("退回整改" in dossier and "验收通过" in dossier, "the history shows the rejection and the acceptance")
    photos = [m for m in staff.messages() if m.photo is not None and code in m.text]
    scene.check(len(photos) == 4, "the before and after photos are shown with the history")
    pins = [m.location for m in staff.messages() if m.kind == "location"]
    scene.check(pins == [(28.0219, 120.6552)], "and where it is, as a pin on a map")

    scene.title("干部用 /mine 跟进自己上报的隐患 / the cadre follows their own reports with /mine")
    await cadre.send_text("/mine")
    mine = cadre.last_message().text
    scene.check("我上报的隐患" in mine and code in mine and "已销号" in mine, "the cadre sees their report, closed")
    labels = [row[0] for row in cadre.last_message().buttons]
    scene.check(labels[:1] == ["用火 · 三楼走廊堆放纸箱杂物，堵塞消防通…"],
                "its button says which hazard it is: the area and the start of what was found")

    scene.title("科长用 /institution 查看机构档案 / county staff see the home whole with /institution")
    await staff.send_text("/institution 鹿城区社会福利院")
    card = next((m.text for m in reversed(staff.messages()) if "机构档案" in m.text), "")
    scene.check("鹿城区社会福利院" in card and "张 院长" in card, "the card names the home and its head")

    await hazard_followups(scene, cadre, head, staff)

    scene.title("院长屏蔽了机器人：县级民政立即得知，恢复后双方都知道 / the head blocks the bot, then comes back")
    head.block_bot()
    await _until(scene, lambda: "已屏蔽本机器人" in staff.last_message().text)
    scene.check("已屏蔽本机器人" in staff.last_message().text, "county staff are told at once: the head is unreachable")
    await head.send_text("/tasks")
    welcomed = any("欢迎回来" in m.text for m in head.messages()[-2:])
    scene.check(welcomed, "the head, back, learns what did not reach them")
    await _until(scene, lambda: "已恢复接收" in staff.last_message().text)
    scene.check("已恢复接收" in staff.last_message().text, "county staff hear that the head is reachable again")


async def _reported(scene: Scene, cadre: SimUser, area: str, description: str) -> str | None:
    """A hazard the cadre reports with a photo and no location; its code, or None (the check failed)."""
    await cadre.send_text("/report")
    await cadre.press("鹿城区社会福利院")
    await cadre.press(area)
    await cadre.press("一般")
    await cadre.send_text(description)
    await cadre.send_photo()
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    await cadre.press("✅ 确认上报")
    match = re.search(r"YH-\d{8}-\d{4}", cadre.last_message().text)
    scene.check(match is not None, f"the cadre's report ({area}) is registered")
    return None if match is None else match.group(0)


async def hazard_followups(scene: Scene, cadre: SimUser, head: SimUser, staff: SimUser) -> None:
    """What happens between a report and its closing: more time asked for, comments, a report withdrawn."""
    scene.title("院长申请延期，科长同意 / the head asks for more time, county staff approve")
    code = await _reported(scene, cadre, "用电", "二楼配电箱老化，线路裸露，需整体更换")
    if code is None:
        return
    await head.send_text(f"/hazard {code}")
    await head.press("申请延期")
    await head.press("延期 14 天")
    await head.send_text("配电箱需由供电部门上门更换，已预约，最早下周二施工")
    await head.press("提交延期申请")
    scene.check(any(f"延期申请待审批：{code}" in m.text for m in staff.messages()),
                "county staff are asked to decide, with the reason")
    await staff.press("同意延期")
    scene.check(f"延期申请已同意：{code}" in head.last_message().text, "the head hears the new deadline")

    scene.title("科长留言提醒，院长回复 / county staff leave a comment, the head replies to it")
    await staff.send_text(f"/hazard {code}")
    await staff.press("💬 留言")
    await staff.send_text("更换前请在配电箱旁张贴警示标识，并安排每日检查")
    scene.check(f"对隐患 {code} 留言" in head.last_message().text, "the head reads the comment at once")
    await head.press("💬 回复")
    await head.send_text("已张贴警示标识，电工每日下午检查一次")
    scene.check(f"对隐患 {code} 留言" in staff.last_message().text, "the reply reaches county staff")

    scene.title("科长作废一条误报，上报人得知原因 / county staff withdraw a mistaken report; the reporter is told why")
    mistaken = await _reported(scene, cadre, "燃气", "厨房有燃气味")
    if mistaken is None:
        return
    await staff.send_text(f"/hazard {mistaken}")
    await staff.press("🗑 作废")
    await staff.press("误报/不属于隐患")
    await staff.send_text("现场复查为厨余垃圾异味，燃气检测仪读数正常")
    await staff.press("确认作废")
    told = any(mistaken in m.text and "作废" in m.text for m in cadre.messages()[-2:])
    scene.check(told, "the reporter is told it was withdrawn, and why")


async def _until(scene: Scene, arrived: Callable[[], bool]) -> None:
    """Wait for the outbox sender, which runs on its own as in `safety-bot run`; the check after says if it failed."""
    with contextlib.suppress(TimeoutError):
        await scene.stage.sandbox.wait_for(arrived, timeout=10)


async def calendar_duties(scene: Scene) -> None:
    from datetime import datetime, time, timedelta
    from functools import partial

    from bot.jobs import sweep_once
    from handlers.reminders import send_delivery

    stage = scene.stage
    sandbox, services = stage.sandbox, stage.services
    head = sandbox.user(user_id=9201, first_name="张", last_name="院长")  # registered in hazard_loop
    staff = sandbox.user(user_id=9301, first_name="周", last_name="科长")

    scene.title("院长在一条随答随改的消息上完成月度隐患自查 / the head runs the monthly self-inspection on one message")
    sends = len(sandbox.calls_to("sendMessage"))
    await head.send_text("/selfcheck")
    sheet = head.last_message()
    await head.press("✅ 合格", sheet)
    await head.press("✅ 合格", sheet)
    await head.press("❌ 不合格", sheet)
    await head.send_text("二楼烟感报警器按下测试键无反应")
    await head.press("跳过照片")
    await head.press("✓")  # the severity the checklist suggests for the item
    for _ in range(60):
        if ["✅ 合格", "❌ 不合格", "➖ 不适用"] not in head.last_message().buttons:
            break
        await head.press("✅ 合格")
    summary = head.last_message().text
    match = re.search(r"YH-\d{8}-\d{4}", summary)
    scene.check("已完成" in summary and match is not None, "the ❌ became a self-check hazard, named in the summary")
    scene.check(len(sandbox.calls_to("sendMessage")) - sends <= 3, "the checklist edited one message, item by item")
    if match is None:
        return
    hazard = await services.storage.hazards.get_by_code(match.group(0))

    scene.title("院长记录一次消防演练 / the head logs a fire drill")
    await head.send_text("/drill")
    await head.press("消防疏散演练")
    await head.press("今天")
    await head.send_text("32")
    await head.send_text("40")
    await head.send_text("夜间火灾疏散，卧床老人转移，灭火器实操")
    await head.send_photo()
    await head.press("完成")
    await head.press("未发现问题")
    await head.press("✅ 确认记录")
    logged = head.last_message().text
    scene.check("已记录演练" in logged and "合规" in logged, "the drill is logged and the institution is compliant")

    scene.title("时间快进到整改期限之后，逾期提醒升级到县级民政 / past the deadline, escalation reaches county staff")
    if hazard is None or hazard.deadline is None:
        scene.check(False, "the self-check hazard has a deadline")
        return
    # Two days after the deadline's date, at 10:00: past "1 day overdue", before "3 days", never in quiet hours.
    day = hazard.deadline.astimezone(services.settings.tz).date() + timedelta(days=2)
    stage.clock.set(datetime.combine(day, time(10, 0), tzinfo=services.settings.tz))
    await sweep_once(services, partial(send_delivery, stage.application.bot, services))
    await sandbox.settle()
    escalation = staff.last_message().text
    scene.check(hazard.code in escalation and "已逾期" in escalation and "张 院长" in escalation,
                "county staff are told the hazard is overdue, naming the head responsible")
    scene.check(hazard.code in head.last_message().text, "the head is reminded too, with the rectify button")


async def stand_ins(scene: Scene) -> None:
    from datetime import datetime, time, timedelta
    from functools import partial

    from bot.jobs import plan_once, sweep_once
    from handlers.reminders import send_delivery

    stage = scene.stage
    sandbox, services = stage.sandbox, stage.services
    staff = sandbox.user(user_id=9301, first_name="周", last_name="科长")  # Lucheng's clerk, registered in hazard_loop
    newcomer = sandbox.user(user_id=9202, first_name="黄", last_name="主任", language_code="zh-hans")

    scene.title("25 日：南汇中心尚无负责人，自查提醒由县级民政代收，并一键邀请 / the 25th: the clerk stands in for a "
                "home with no head, and invites one from the reminder")
    today = stage.clock.now().astimezone(services.settings.tz).date()
    day = today.replace(day=25) if today.day < 25 else (today.replace(day=1) + timedelta(days=32)).replace(day=25)
    stage.clock.set(datetime.combine(day, time(9, 1), tzinfo=services.settings.tz))
    await plan_once(services)
    seen = len(staff.messages())
    await sweep_once(services, partial(send_delivery, stage.application.bot, services))
    await sandbox.settle()
    reminder = next((m for m in staff.messages()[seen:] if "尚无已注册的负责人" in m.text), None)
    scene.check(reminder is not None and "南汇" in reminder.text,
                "the clerk gets the self-inspection reminder of the home with no head, in its head's place")
    button = next((label for row in (reminder.buttons if reminder else []) for label in row if "邀请负责人" in label),
                  None)
    scene.check(button is not None, "the reminder carries a button to invite the home's head")
    if reminder is None or button is None:
        return
    await staff.press(button, reminder)
    link = re.search(r"\?start=([\w-]+)", staff.last_message().text)
    scene.check(link is not None and "南汇" in staff.last_message().text,
                "the press gives the clerk an invitation link for that home")
    if link is None:
        return
    await newcomer.send_text(f"/start {link.group(1)}")
    scene.check(any("注册成功" in m.text for m in newcomer.messages()), "the new head registers with it")
    await staff.press(button, reminder)
    scene.check("已有负责人" in (staff.answers()[-1].text or ""), "pressed again, the button says the home has a head")


async def photo_first(scene: Scene) -> None:
    """A photo sent before /report (handlers.photo_offer): the bot offers to report a hazard with it."""
    storage = scene.stage.services.storage
    cadre = scene.stage.sandbox.user(user_id=9421, first_name="黄", last_name="干部")  # Dongtou's, in typhoon_warning

    scene.title("台风过后，干部先发来一张照片，机器人问要不要用它上报 / after the typhoon the cadre sends a photo "
                "first; the bot offers to report a hazard with it")
    await cadre.send_photo()
    offer = cadre.last_message()
    offered = "要用这张照片上报隐患吗？" in offer.text and any("📝 上报隐患" in label for row in offer.buttons
                                                          for label in row)
    scene.check(offered, "the photo is not dropped: the bot asks whether to report a hazard with it")
    if not offered:
        return
    await cadre.press("📝 上报隐患", offer)
    started = any("已附上这张照片，开始上报隐患" in m.text for m in cadre.messages())
    scene.check(started, "📝 上报隐患 starts /report with the photo already attached")
    await cadre.press("洞头区大门镇敬老院")
    await cadre.press("防汛防台")
    await cadre.press("一般")
    await cadre.send_text("台风过后院内围墙倒塌一段，碎砖堵住后门疏散通道")
    scene.check("已附上您先前发送的 1 张照片" in cadre.last_message().text,
                "the photo step counts the photo sent first and only asks for more")
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    await cadre.press("✅ 确认上报")
    match = re.search(r"YH-\d{8}-\d{4}", cadre.last_message().text)
    hazard = None if match is None else await storage.hazards.get_by_code(match.group(0))
    photos = [] if hazard is None else await storage.hazards.photos(hazard.id)
    scene.check(hazard is not None and len(photos) == 1, "the hazard is registered with the photo sent first")


async def check_back(scene: Scene) -> None:
    """The check-back (回访, handlers.check_back): CHECK_BACK_DAYS after the first hazard was closed, its reporter is
    asked whether the fix held. Last in the scene: the clock moves on to the day it is due (or is past it already),
    which would make the other hazards of the story overdue had it moved earlier."""
    stage = scene.stage
    sandbox, services = stage.sandbox, stage.services
    cadre = sandbox.user(user_id=9102, first_name="陈", last_name="干部")  # the first hazard's reporter, hazard_loop

    days = services.check_backs.days
    scene.title(f"销号 {days} 天后回访上报人：整改是否仍有效 / {days} days after the closing, the reporter is asked "
                "whether the fix held")
    due = await services.storage.check_backs.next_due()
    scene.check(due is not None, "the closing planned a check-back")
    if due is None:
        return
    stage.clock.set(max(stage.clock.now(), due))
    await services.check_backs.ask_due()  # as the bot's minute job does; asked once, whichever comes first
    await _until(scene, lambda: "🔁 回访" in cadre.last_message().text)
    question = cadre.last_message()
    scene.check("🔁 回访" in question.text and "验收销号" in question.text
                and ["✅ 仍已解决"] in question.buttons and ["⚠️ 问题又出现了"] in question.buttons,
                "the reporter is asked whether the problem is still solved, with two buttons")
    if "🔁 回访" not in question.text:
        return
    await cadre.press("✅ 仍已解决", question)
    scene.check("问题仍已解决" in cadre.last_message().text and not cadre.last_message().buttons,
                "the answer is recorded, with thanks, and the buttons are gone")


SCENES: list[Step] = [onboarding, hazard_loop, calendar_duties, typhoon_warning, photo_first, stand_ins,
                      check_back]


async def play(verbose: bool = True) -> int:
    with tempfile.TemporaryDirectory(prefix="safety-demo-") as folder:
        # background: the reminder jobs and the outbox run as in `safety-bot run`.
        async with stage(Path(folder) / "demo.db", background=True) as current:
            scene = Scene(stage=current, verbose=verbose)
            for step in SCENES:
                await step(scene)
            scene.check(not current.sandbox.violations, "the bot made no request the Bot API spec would reject")
    if scene.failures:
        print(f"\nDEMO FAILED: {len(scene.failures)} step(s) did not happen: " + "; ".join(scene.failures))
        return 1
    print("\nDemo complete: every step happened as it should.")
    return 0
