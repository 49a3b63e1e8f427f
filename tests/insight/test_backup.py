"""Backup while the bot runs, restore, then open and read; and the command line that operators use for both."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import FakeClock
from bot.stage import Stage
from storage import Storage
from storage.backup import BackupError, restore_backup
from tests.hazard_people import cast, opened, report
from tests.test_cli import cli


async def test_a_backup_taken_while_the_bot_runs_restores_and_reads(bot_stage: Stage, tmp_path: Path) -> None:
    people = await cast(bot_stage)
    kept = await report(bot_stage)
    database = bot_stage.settings.database_path
    # Another process, as an operator's cron job would be, while the bot keeps its connection open.
    made = await asyncio.to_thread(cli, "backup", "--out", str(tmp_path / "backups"), cwd=tmp_path,
                                   DATABASE_PATH=str(database))
    assert made.returncode == 0, made.stderr
    folder = next((tmp_path / "backups").iterdir())
    assert "备份完成" in made.stdout and str(folder) in made.stdout
    later = await report(bot_stage)  # after the backup: must not be in it
    await people.head.send_text("/tasks")  # the bot carried on meanwhile
    assert later.id in opened(people.head.last_message())

    target = tmp_path / "restored" / "safety.db"
    restored = await asyncio.to_thread(restore_backup, folder, target, target.parent / "evidence")
    assert restored.hazards == 1 and restored.schema_version == bot_stage.services.storage.db.schema_version
    storage = await Storage.open(target, FakeClock())
    try:
        assert await storage.hazards.get_by_code(kept.code) is not None
        assert await storage.hazards.get_by_code(later.code) is None
        photos = await storage.hazards.photos(kept.id)
        evidence = target.parent / "evidence" / photos[0].sha256[:2] / photos[0].sha256[2:]
        assert evidence.read_bytes() == bot_stage.services.evidence.read(photos[0].sha256)
        assert (await storage.users.get(people.head.id)) is not None
    finally:
        await storage.close()

    with pytest.raises(BackupError) as refused:
        restore_backup(folder, target, target.parent / "evidence")
    assert refused.value.code == "exists"
    assert restore_backup(folder, target, target.parent / "evidence", force=True).hazards == 1


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *arguments: str,
            **env: str) -> tuple[int, str, str]:
    """The command line in this process (a subprocess costs seconds): same parser, settings from the environment."""
    for name in ("BOT_TOKEN", "BOT_USERNAME", "DEFAULT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(list(arguments))
    out, err = capsys.readouterr()
    return code, out, err


def test_restore_on_the_command_line_refuses_an_existing_database_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = str(tmp_path / "db" / "safety.db")
    assert run_cli(monkeypatch, capsys, "demo-data", DATABASE_PATH=database)[0] == 0
    assert run_cli(monkeypatch, capsys, "backup", "--out", "b", DATABASE_PATH=database)[0] == 0
    folder = str(next((tmp_path / "b").iterdir()))
    code, _, err = run_cli(monkeypatch, capsys, "restore", folder, DATABASE_PATH=database)
    assert code == 1 and "--force" in err
    code, out, _ = run_cli(monkeypatch, capsys, "restore", folder, "--force", DATABASE_PATH=database)
    assert code == 0 and "已恢复" in out and "隐患 0 条" in out
    code, _, err = run_cli(monkeypatch, capsys, "restore", str(tmp_path), DATABASE_PATH=str(tmp_path / "new.db"))
    assert code == 1 and "不是 safety-bot backup 生成的备份文件夹" in err


def test_import_on_the_command_line_reports_each_bad_row_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = str(tmp_path / "safety.db")
    assert run_cli(monkeypatch, capsys, "demo-data", DATABASE_PATH=database)[0] == 0
    bad = tmp_path / "institutions.csv"
    bad.write_text("code,name_zh,type,region_code\nA-1,新机构,养老机构,339999\nA-1,另一机构,养老机构,330302\n",
                   encoding="utf-8")
    code, out, _ = run_cli(monkeypatch, capsys, "import", "institutions", str(bad), DATABASE_PATH=database)
    assert code == 1 and "数据库未做任何改动" in out
    assert "第 2 行「region_code」：区划代码 339999 不在系统中" in out
    assert "第 3 行「code」：“A-1”重复，第 2 行已出现" in out
    people = tmp_path / "people.csv"
    people.write_text("name,role,region_code\n王五,cadre,330302\n", encoding="utf-8")
    code, out, _ = run_cli(monkeypatch, capsys, "import", "people", str(people), DATABASE_PATH=database,
                           BOT_USERNAME="civil_bot")
    assert code == 0 and "people-invitations.xlsx" in out
    assert (tmp_path / "people-invitations.xlsx").is_file()


def test_restore_takes_the_folder_backup_was_given_and_names_the_newest_backup_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = str(tmp_path / "safety.db")
    assert run_cli(monkeypatch, capsys, "demo-data", DATABASE_PATH=database)[0] == 0
    for _ in range(2):
        assert run_cli(monkeypatch, capsys, "backup", "--out", "bk", DATABASE_PATH=database)[0] == 0
    older, newer = sorted((tmp_path / "bk").iterdir())
    code, out, err = run_cli(monkeypatch, capsys, "restore", "bk", DATABASE_PATH=str(tmp_path / "new.db"))
    assert code == 0, err
    chosen, restored = out.strip().splitlines()
    assert chosen.startswith(f"其中有 2 个备份，恢复最新的一个：bk/{newer.name}（备份于 ")
    assert older.name not in out and restored.startswith("已恢复到")
