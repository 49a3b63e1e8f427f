"""`safety-bot demo`: the offline scene. Real people (simulated) talk to the real bot over the bundled emulator.

Each step states what a person would see; the demo exits 0 only if every step happened as it should.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.roles import Role
from bot.stage import Stage, stage

LUCHENG = "330302"


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
            print(self.stage.sandbox.format_transcript(entries))


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


SCENES: list[Step] = [onboarding]


async def play(verbose: bool = True) -> int:
    with tempfile.TemporaryDirectory(prefix="safety-demo-") as folder:
        async with stage(Path(folder) / "demo.db") as current:
            scene = Scene(stage=current, verbose=verbose)
            for step in SCENES:
                await step(scene)
            scene.check(not current.sandbox.violations, "the bot made no request the Bot API spec would reject")
    if scene.failures:
        print(f"\nDEMO FAILED: {len(scene.failures)} step(s) did not happen: " + "; ".join(scene.failures))
        return 1
    print("\nDemo complete: every step happened as it should.")
    return 0
