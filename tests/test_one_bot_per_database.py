"""One bot per database: a restore or a second bot never runs under a bot that is running, whatever the flags."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.domain.roles import Role
from bot.sandbox import Sandbox
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from bot.services_factory import open_services
from bot.stage import sandbox_settings
from tests.test_cli import cli
from tests.test_restart import bot_process, exited


async def test_restore_and_a_second_bot_are_refused_while_the_bot_runs_and_allowed_after_it_crashed(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox:
        database = tmp_path / "safety.db"
        settings = sandbox_settings(sandbox, database)
        services = await open_services(settings)
        await load_city_data(services.storage, DEMO_DATA_DIR)
        token = (await services.onboarding.create_invite(creator=None, role=Role.CADRE, region_code="330302")).token
        await services.close()
        env = {"DATABASE_PATH": str(database), "DEFAULT_LANGUAGE": "zh_CN"}
        made = await asyncio.to_thread(cli, "backup", "--out", str(tmp_path / "bk"), cwd=tmp_path, **env)
        assert made.returncode == 0, made.stderr
        backup = next((tmp_path / "bk").iterdir())  # taken before the cadre registered

        cadre = sandbox.user(user_id=501, first_name="李娜", language_code="zh")
        bot = bot_process(settings)
        try:
            await sandbox.wait_for(lambda: bool(sandbox.calls_to("getUpdates")), timeout=30)
            await cadre.send_text(f"/start {token}")
            await sandbox.wait_for(lambda: "注册成功" in "".join(m.text for m in cadre.messages()), timeout=10)

            restored = await asyncio.to_thread(cli, "restore", str(backup), "--force", cwd=tmp_path, **env)
            assert restored.returncode == 1
            assert restored.stderr.strip().splitlines() == [
                f"机器人正在使用数据库 {database}，未恢复（--force 也不会覆盖运行中的机器人的数据库）。"
                "请先停止机器人（例如 systemctl stop safety-bot），再运行 restore。"
            ]
            # The running bot still knows the cadre: nothing was rewound beneath it.
            await cadre.send_text("/mine")
            await sandbox.wait_for(lambda: "您还没有上报过隐患" in cadre.last_message().text, timeout=10)

            second = await asyncio.to_thread(cli, "run", cwd=tmp_path, BOT_TOKEN=settings.bot_token or "",
                                             BOT_API_BASE_URL=settings.bot_api_base_url, **env)
            assert second.returncode == 1
            assert "已有机器人在运行" in second.stderr and "Traceback" not in second.stderr
            assert len(second.stderr.strip().splitlines()) == 1
        finally:
            bot.send_signal(signal.SIGKILL)  # a crash: the operating system lets go of the lock
            await exited(bot)

        restored = await asyncio.to_thread(cli, "restore", str(backup), "--force", cwd=tmp_path, **env)
        assert restored.returncode == 0, restored.stderr
        assert "已恢复" in restored.stdout and "用户 0 人" in restored.stdout
        # The restored trail ends at the backup's moment; the restore's own entry says why what came after is gone.
        trail = await asyncio.to_thread(cli, "audit", cwd=tmp_path, **env)
        last = trail.stdout.strip().splitlines()[-1].split("\t")
        assert last[5:8] == ["从备份恢复数据库", "backup.restored", f"backup:{backup.name}"]
        assert last[4].startswith("cli:") and '"taken_at":' in last[8]
