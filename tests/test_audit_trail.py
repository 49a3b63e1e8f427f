"""The security officer reads the audit trail without sqlite3: `safety-bot audit`, people by name and role, the
server's command line named as such (not as the bot's own jobs), and a former insider's attempts told apart."""

from __future__ import annotations

import asyncio
import getpass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.domain.roles import Role
from bot.stage import Stage
from tests.test_cli import cli

OPERATOR = f"cli:{getpass.getuser()}"


async def test_the_trail_names_people_the_command_line_and_a_deactivated_persons_attempts(
    bot_stage: Stage, tmp_path: Path
) -> None:
    env = {"DATABASE_PATH": str(bot_stage.settings.database_path), "DEFAULT_LANGUAGE": "zh_CN",
           "BOT_USERNAME": "civil_bot"}

    async def run(*arguments: str) -> str:
        result = await asyncio.to_thread(cli, *arguments, cwd=tmp_path, **env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    link = (await run("invite", "--role", "city")).strip().splitlines()[-1]
    chief = bot_stage.sandbox.user(user_id=801, first_name="王局", language_code="zh")
    await chief.send_text(f"/start {link.rsplit('start=', 1)[-1]}")
    cadre = bot_stage.sandbox.user(user_id=802, first_name="李娜", language_code="zh")
    await bot_stage.register(cadre, Role.CADRE, region="330302")
    await run("deactivate", "802")
    await cadre.send_text("/report")  # a former insider still trying
    await run("backup", "--out", str(tmp_path / "bk"))

    header, *lines = (await run("audit")).strip().splitlines()
    assert header.split("\t") == ["序号", "时间", "操作人", "角色", "操作人标识", "操作", "操作代码", "对象", "详情"]
    rows = [line.split("\t") for line in lines]
    by_key = {row[6]: row for row in rows}
    # Who gave 王局 city-admin rights: the server's command line, by its OS user; not the bot's own jobs.
    invited = next(row for row in rows if row[6] == "invite.created" and '"role":"city"' in row[8])
    assert invited[2:6] == [f"服务器命令行（{getpass.getuser()}）", "服务器操作员", OPERATOR, "生成邀请"]
    registered = next(row for row in rows if row[6] == "user.registered" and row[4] == "801")
    assert registered[2:4] == ["王局", "市局管理员"] and registered[5] == "注册"
    ended = by_key["user.deactivated"]
    assert ended[2] == f"服务器命令行（{getpass.getuser()}）" and ended[7] == "李娜 (802)"
    tried = by_key["access.deactivated"]
    assert tried[2:6] == ["李娜", "社区/村干部", "802", "已停用者试图使用"]
    assert "access.unregistered" not in by_key
    assert by_key["backup.made"][2] == f"服务器命令行（{getpass.getuser()}）"
    assert by_key["backup.made"][7].startswith("backup:safety-backup-")

    _, *mine = (await run("audit", "--person", "802")).strip().splitlines()
    assert [line.split("\t")[6] for line in mine][-2:] == ["user.deactivated", "access.deactivated"]
    assert all("801" not in line.split("\t")[4] for line in mine)

    out = tmp_path / "trail.xlsx"
    said = await run("audit", "--out", str(out))
    assert said.startswith(f"已写入 {out}：共 {len(rows)} 条审计记录。")
    sheet = load_workbook(out).active
    assert sheet is not None and sheet.title == "审计记录"
    written = list(sheet.iter_rows(values_only=True))
    assert written[0][2] == "操作人" and len(written) == len(rows) + 1
    assert any(row[6] == "access.deactivated" and row[2] == "李娜" for row in written)


def test_a_day_that_is_not_a_date_is_one_line(tmp_path: Path) -> None:
    result = cli("audit", "--since", "12/01", cwd=tmp_path, DATABASE_PATH=str(tmp_path / "s.db"),
                 DEFAULT_LANGUAGE="zh_CN")
    assert result.returncode == 1
    assert result.stderr.strip() == "无法识别日期 12/01：请写成 2026-12-01 这样的格式。"


def test_until_takes_in_the_whole_of_its_day(tmp_path: Path) -> None:
    """--until is "up to and including this day": today's entries are in `--since TODAY --until TODAY`."""
    env = {"DATABASE_PATH": str(tmp_path / "s.db"), "DEFAULT_LANGUAGE": "zh_CN", "BOT_USERNAME": "civil_bot",
           "TIMEZONE": "Asia/Shanghai"}
    assert cli("invite", "--role", "city", cwd=tmp_path, **env).returncode == 0
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    result = cli("audit", "--since", today, "--until", today, cwd=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[6] for line in result.stdout.strip().splitlines()[1:]] == ["invite.created"]
