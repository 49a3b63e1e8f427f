"""The command line, as an operator runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.cli import _bot_username
from bot.config import Settings
from bot.domain.calendar_reminders import plan_digests
from bot.domain.reminders import next_allowed_time
from bot.domain.warnings import WarningLevel
from bot.sandbox import Sandbox
from bot.services.onboarding import Newcomer
from bot.services_factory import open_services
from bot.stage import sandbox_settings

COMMANDS = ["run", "demo-data", "invite", "demo", "people", "deactivate", "revoke", "audit"]


def cli(*arguments: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key not in {
        "BOT_TOKEN", "BOT_API_BASE_URL", "DATABASE_PATH", "DEFAULT_LANGUAGE", "BOT_USERNAME", "BOT_MODE"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *arguments], cwd=cwd, env=clean, capture_output=True, text=True,
        timeout=60, check=False,
    )


@pytest.mark.parametrize(("language", "expected"), [("zh_CN", "未设置 BOT_TOKEN"), ("en", "BOT_TOKEN is not set")])
def test_run_without_a_token_explains_in_one_line_and_exits_2(tmp_path: Path, language: str, expected: str) -> None:
    result = cli("run", cwd=tmp_path, DEFAULT_LANGUAGE=language)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(tmp_path: Path, command: str) -> None:
    result = cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "usage: safety-bot " + command in result.stdout


def test_demo_data_is_idempotent_and_invite_prints_the_link_last(tmp_path: Path) -> None:
    database = str(tmp_path / "db" / "safety.db")
    for _ in range(2):
        loaded = cli("demo-data", cwd=tmp_path, DATABASE_PATH=database)
        assert loaded.returncode == 0, loaded.stderr
        assert "机构" in loaded.stdout and "regions" not in loaded.stdout  # in DEFAULT_LANGUAGE, from locales/
    invited = cli("invite", "--role", "county", "--region", "330302", cwd=tmp_path, DATABASE_PATH=database,
                  BOT_USERNAME="civil_safety_bot")
    assert invited.returncode == 0, invited.stderr
    assert invited.stdout.strip().splitlines()[-1].startswith("https://t.me/civil_safety_bot?start=")
    refused = cli("invite", "--role", "county", "--region", "999999", cwd=tmp_path, DATABASE_PATH=database,
                  BOT_USERNAME="civil_safety_bot")
    assert refused.returncode == 1 and "999999" in refused.stderr


def test_settings_use_the_documented_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "BOT_TOKEN": "1:x", "BOT_API_BASE_URL": "http://127.0.0.1:9/bot", "DATABASE_PATH": "/tmp/x.db",
        "TIMEZONE": "UTC", "DEFAULT_LANGUAGE": "en", "BOT_MODE": "webhook", "WEBHOOK_URL": "https://example.org/t",
        "WEBHOOK_LISTEN": "0.0.0.0:8080", "WEBHOOK_SECRET": "s3cret",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.bot_token, settings.bot_api_base_url, str(settings.database_path)) == (
        "1:x", "http://127.0.0.1:9/bot", "/tmp/x.db")
    assert settings.file_base_url == "http://127.0.0.1:9/file/bot"
    assert (settings.timezone, settings.default_language, settings.bot_mode.value) == ("UTC", "en", "webhook")
    assert (settings.webhook_url, settings.webhook_listen, settings.webhook_secret) == (
        "https://example.org/t", "0.0.0.0:8080", "s3cret")


async def test_follow_up_timings_and_quiet_hours_are_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_PATH": str(tmp_path / "safety.db"), "QUIET_HOURS": "23:00-06:00",
        "WARNING_REMIND_AFTER_MINUTES": "30", "WARNING_ESCALATE_AFTER_MINUTES": "45",
        "CONTACT_ROUND_ESCALATE_AFTER_MINUTES": "90", "CONTACT_ROUND_CLOSE_AFTER_HOURS": "12",
    }.items():
        monkeypatch.setenv(name, value)
    warning = Settings().warning_settings
    assert (warning.remind_after, warning.escalate_after) == (timedelta(minutes=30), timedelta(minutes=45))
    assert (warning.contact_escalate_after, warning.contact_close_after) == (timedelta(minutes=90), timedelta(hours=12))
    services = await open_services(Settings())
    try:
        # A non-urgent reminder due at 22:30 goes out then, not at 07:30 the next morning as by default.
        late_evening = datetime(2026, 3, 2, 22, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
        reminders = services.reminders
        assert next_allowed_time(late_evening, False, reminders.quiet_hours, reminders.tz) == late_evening
    finally:
        await services.close()
    monkeypatch.setenv("QUIET_HOURS", "22-7")
    with pytest.raises(ValidationError, match="HH:MM-HH:MM"):
        Settings()


async def test_the_days_of_the_daily_digest_are_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "safety.db"))
    monkeypatch.setenv("DIGEST_WEEKDAYS", "1-7")
    services = await open_services(Settings())
    try:
        # Every day, as before the default became Monday to Friday: a Sunday has its digest, covering one day.
        sunday = date(2026, 3, 1)
        [digest] = plan_digests(sunday, services.reminders.schedule, services.reminders.tz)[:1]
        assert (digest.day, digest.window) == (sunday, timedelta(days=1))
    finally:
        await services.close()
    monkeypatch.setenv("DIGEST_WEEKDAYS", "0-4")
    with pytest.raises(ValidationError, match="1 \\(Monday\\) to 7"):
        Settings()


def test_the_levels_the_city_admins_hear_of_are_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WARNING_CITY_ESCALATE_LEVELS", raising=False)
    assert Settings().warning_settings.city_escalate_levels == {WarningLevel.ORANGE, WarningLevel.RED}
    monkeypatch.setenv("WARNING_CITY_ESCALATE_LEVELS", " Yellow, orange,red ")
    assert Settings().warning_settings.city_escalate_levels == {
        WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED}
    monkeypatch.setenv("WARNING_CITY_ESCALATE_LEVELS", "amber")
    with pytest.raises(ValidationError):
        Settings()


def test_settings_are_read_from_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text("BOT_TOKEN=42:from-dotenv\n", encoding="utf-8")
    assert Settings().bot_token == "42:from-dotenv"


def test_the_demo_plays_and_exits_0(tmp_path: Path) -> None:
    result = cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo complete" in result.stdout
    assert "👤" in result.stdout and "🤖" in result.stdout


async def test_invite_asks_telegram_for_the_username_and_rides_out_a_failed_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Sandbox() as sandbox:
        settings = sandbox_settings(sandbox, tmp_path / "safety.db").model_copy(update={"bot_username": None})
        sandbox.inject_fault("getMe", "502", times=1)
        assert await _bot_username(settings) == sandbox.bot_username
        assert len(sandbox.calls_to("getMe")) == 2

        wrong = settings.model_copy(update={"bot_token": "1:not-this-bot", "default_language": "zh_CN"})
        with pytest.raises(SystemExit) as exited:
            await _bot_username(wrong)
    assert exited.value.code == 2
    said = capsys.readouterr().err
    assert "Telegram 拒绝了机器人令牌（1:…）" in said and "not-this-bot" not in said and "Traceback" not in said


def one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in expected:
        assert word in result.stderr, result.stderr


def test_file_problems_are_one_line_errors_not_tracebacks(tmp_path: Path) -> None:
    """An operator's typo in a folder, a database path under a file, an output folder that cannot be made: each
    used to print a Python traceback."""
    database = str(tmp_path / "db" / "safety.db")
    assert cli("demo-data", cwd=tmp_path, DATABASE_PATH=database).returncode == 0
    one_line_error(cli("demo-data", "--dir", str(tmp_path / "my-city"), cwd=tmp_path, DATABASE_PATH=database),
                   "my-city", "regions.json")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "regions.json").write_text("{", encoding="utf-8")
    (tmp_path / "broken" / "institutions.json").write_text("[]", encoding="utf-8")
    one_line_error(cli("demo-data", "--dir", str(tmp_path / "broken"), cwd=tmp_path, DATABASE_PATH=database,
                       DEFAULT_LANGUAGE="en"), "regions.json")

    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    one_line_error(cli("backup", "--out", str(a_file / "backups"), cwd=tmp_path, DATABASE_PATH=database),
                   str(a_file))
    one_line_error(cli("invite", "--role", "city", cwd=tmp_path, DATABASE_PATH=str(a_file / "safety.db"),
                       BOT_USERNAME="civil_safety_bot"), str(a_file))

    # The invitations file cannot be written: nothing is imported, so running it again makes no second links.
    people = tmp_path / "people.csv"
    people.write_text("name,role,region_code\n王五,cadre,330302\n", encoding="utf-8")
    one_line_error(cli("import", "people", str(people), "--out", str(a_file / "invites.xlsx"), cwd=tmp_path,
                       DATABASE_PATH=database, BOT_USERNAME="civil_safety_bot"), str(a_file))
    counted = subprocess.run(
        [sys.executable, "-c", f"import sqlite3; print(sqlite3.connect({database!r}).execute("
                               "'SELECT COUNT(*) FROM invites').fetchone()[0])"],
        capture_output=True, text=True, check=True,
    )
    assert counted.stdout.strip() == "0"


@pytest.mark.parametrize(("variable", "value"), [
    ("INVITE_TTL_HOURS", "0"), ("INVITE_TTL_HOURS", "-24"), ("INVITE_TTL_HOURS", "99999999999"),
    ("WEBHOOK_LISTEN", "0.0.0.0"), ("WEBHOOK_LISTEN", "0.0.0.0:http"),
])
def test_a_setting_that_cannot_work_is_refused_in_one_line(tmp_path: Path, variable: str, value: str) -> None:
    """INVITE_TTL_HOURS=0 printed invitation links that were already expired (every newcomer refused); one too
    large, or a WEBHOOK_LISTEN without a port, ended in a traceback."""
    database = str(tmp_path / "safety.db")
    command = ("invite", "--role", "city") if variable == "INVITE_TTL_HOURS" else ("run",)
    result = cli(*command, cwd=tmp_path, DATABASE_PATH=database, BOT_USERNAME="civil_safety_bot",
                 BOT_TOKEN="123456:ABC", BOT_MODE="webhook", WEBHOOK_URL="https://example.org/t",
                 **{variable: value})
    one_line_error(result, variable)
    assert result.returncode == 2 and "https://t.me/" not in result.stdout


def test_the_operator_commands_start_without_loading_the_bot(tmp_path: Path) -> None:
    # Telegram, aiohttp and the handlers were half of every command's second: only `run`, and an `invite` that asks
    # Telegram for the bot's name, need them.
    script = ("import sys\nfrom bot.cli import main\nmain(['people'])\n"
              "print(sorted({name.split('.')[0] for name in sys.modules} & {'telegram', 'aiohttp', 'handlers'}))")
    env = {**os.environ, "DATABASE_PATH": str(tmp_path / "safety.db")}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


async def test_the_operator_lists_people_ends_an_access_and_cancels_an_invitation(tmp_path: Path) -> None:
    database = tmp_path / "safety.db"
    env = {"DATABASE_PATH": str(database), "BOT_USERNAME": "civil_safety_bot", "DEFAULT_LANGUAGE": "en"}
    assert cli("demo-data", cwd=tmp_path, **env).returncode == 0
    links = [cli("invite", "--role", "cadre", "--region", "330302", cwd=tmp_path, **env).stdout.splitlines()[-1]
             for _ in range(2)]
    services = await open_services(Settings.model_validate({"DATABASE_PATH": database}))
    try:
        newcomer = Newcomer(telegram_id=501, full_name="李娜", username=None, language="zh_CN")
        await services.onboarding.register(links[0].rsplit("=", 1)[-1], newcomer)
    finally:
        await services.close()

    listed = cli("people", cwd=tmp_path, **env)
    assert listed.returncode == 0 and listed.stdout.splitlines() == ["501\tcadre\t李娜\tLucheng District"]
    invites = cli("people", "--invites", cwd=tmp_path, **env).stdout.splitlines()
    assert len(invites) == 1 and invites[0].startswith(links[1].rsplit("=", 1)[-1])

    ended = cli("deactivate", "501", cwd=tmp_path, **env)
    assert ended.returncode == 0 and "Ended the access of 李娜 (501)" in ended.stdout
    # The handler layer words the farewell, loaded by the command line only for it: queued all the same.
    with closing(sqlite3.connect(database)) as db:
        told = [row[0] for row in db.execute("SELECT payload FROM outbox WHERE chat_id = 501")]
    assert len(told) == 2 and sum("clear_menu" in payload for payload in told) == 1
    again = cli("deactivate", "501", cwd=tmp_path, **env)
    assert again.returncode == 1 and "no longer on the list" in again.stderr
    assert cli("people", cwd=tmp_path, **env).stdout == ""

    cancelled = cli("revoke", links[1], cwd=tmp_path, **env)
    assert cancelled.returncode == 0 and "Cancelled the invitation (Community cadre, 330302)" in cancelled.stdout
    twice = cli("revoke", links[1], cwd=tmp_path, **env)
    assert twice.returncode == 1 and "was used, has expired or was cancelled" in twice.stderr
    assert cli("people", "--invites", cwd=tmp_path, **env).stdout == ""

    # Things that never existed are named so, and fail, rather than read as ended, used or empty.
    never = cli("deactivate", "999", cwd=tmp_path, **env)
    assert never.returncode == 1 and "No one with Telegram id 999 has ever registered" in never.stderr
    nonsense = cli("revoke", "nonsense", cwd=tmp_path, **env)
    assert nonsense.returncode == 1 and "There is no such invitation (nonsense)" in nonsense.stderr
    for listing in (("people",), ("people", "--invites")):
        nowhere = cli(*listing, "--region", "99", cwd=tmp_path, **env)
        assert nowhere.returncode == 1 and "99" in nowhere.stderr and nowhere.stdout == "", nowhere.stderr
    assert cli("people", "--region", "330302", cwd=tmp_path, **env).returncode == 0
