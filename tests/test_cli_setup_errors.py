"""The operator's setup mistakes, as the command line answers them: one line in the operator's language, the
documented exit code, no traceback and never the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import _bot_username, _run
from bot.sandbox import Sandbox
from bot.stage import sandbox_settings
from tests.test_cli import cli, one_line_error


@pytest.mark.parametrize(("variable", "value", "language", "said"), [
    ("TIMEZONE", "Mars/Base", "zh_CN", "找不到时区 Mars/Base"),
    ("TIMEZONE", "Mars/Base", "en", "no such time zone Mars/Base"),
    ("DEADLINE_HOURS", "notjson", "zh_CN", "须为 JSON"),
    ("DEADLINE_HOURS", '{"serious": "soon"}', "zh_CN", "须为整数，现为 soon"),
    ("INVITE_TTL_HOURS", "0", "zh_CN", "须不小于 1，现为 0"),
    ("INVITE_TTL_HOURS", "99999", "en", "must be at most 8784, not 99999"),
    ("INVITE_TTL_HOURS", "abc", "zh_CN", "须为整数，现为 abc"),
    ("BOT_MODE", "hook", "zh_CN", "须为 polling 或 webhook"),
    ("WARNING_AUTO_SEND_LEVELS", "purple", "zh_CN", "预警级别"),
    ("CHECK_BACK_DAYS", "200", "zh_CN", "须为 1 到 89 天"),
    ("OUTBOX_UNPACED", "maybe", "en", "must be true or false"),
])
def test_a_bad_setting_is_one_line_in_the_operators_words_and_exit_2(
    tmp_path: Path, variable: str, value: str, language: str, said: str
) -> None:
    """A bad TIMEZONE or DEADLINE_HOURS ended in a 45-line traceback (exit 1); the others in pydantic's English."""
    result = cli("people", cwd=tmp_path, DATABASE_PATH=str(tmp_path / "safety.db"), DEFAULT_LANGUAGE=language,
                 **{variable: value})
    one_line_error(result, f"safety-bot: {variable}: ", said)
    assert result.returncode == 2
    assert "Input should" not in result.stderr and "Value error" not in result.stderr


def test_a_database_path_sqlite_cannot_open_is_one_line_and_exit_1(tmp_path: Path) -> None:
    for command in ("people", "demo-data"):
        result = cli(command, cwd=tmp_path, DATABASE_PATH="/proc/safety.db")
        one_line_error(result, "/proc/safety.db", "DATABASE_PATH")
        assert result.returncode == 1


async def test_a_refused_token_is_one_line_without_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`safety-bot run` with a mistyped token ended in a traceback quoting the whole token into the server's logs."""
    async with Sandbox() as sandbox:
        settings = sandbox_settings(sandbox, tmp_path / "safety.db").model_copy(
            update={"bot_token": "999:WRONGSECRET", "default_language": "zh_CN"})
        assert await _run(settings) == 2
        with pytest.raises(SystemExit) as exited:
            await _bot_username(settings.model_copy(update={"bot_username": None}))
    assert exited.value.code == 2
    said = capsys.readouterr().err
    assert said.count("Telegram 拒绝了机器人令牌（999:…）：请检查 BOT_TOKEN") == 2, said
    assert "WRONGSECRET" not in said and "Traceback" not in said


async def test_an_unreachable_bot_api_ends_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with Sandbox() as sandbox:
        settings = sandbox_settings(sandbox, tmp_path / "safety.db").model_copy(
            update={"bot_api_base_url": "http://127.0.0.1:9/bot", "default_language": "en"})
    assert await _run(settings) == 1
    said = capsys.readouterr().err
    assert "Cannot reach the Bot API at http://127.0.0.1:9/bot" in said and "Traceback" not in said
    assert sandbox.token.split(":")[-1] not in said


def test_typos_in_dotenv_are_named_with_the_setting_meant(tmp_path: Path) -> None:
    """INVTE_TTL_HOURS=5 left invitations valid for the default 72 hours without a word."""
    (tmp_path / ".env").write_text("INVTE_TTL_HOURS=5\nBOT_TOKN=1:abc\nCOLOUR=blue\nTIMEZONE=UTC\n", encoding="utf-8")
    result = cli("people", cwd=tmp_path, DATABASE_PATH=str(tmp_path / "safety.db"), HOME_COLOUR="env is not ours")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if ".env" in line]
    assert warnings == [
        "safety-bot: .env 中的 INVTE_TTL_HOURS 不是本助手的设置，已忽略：是否想写 INVITE_TTL_HOURS？",
        "safety-bot: .env 中的 BOT_TOKN 不是本助手的设置，已忽略：是否想写 BOT_TOKEN？",
        "safety-bot: .env 中的 COLOUR 不是本助手的设置，已忽略。",
    ]
    assert "1:abc" not in result.stderr


def test_invite_says_whose_role_where_and_until_when_in_the_citys_zone(tmp_path: Path) -> None:
    database = str(tmp_path / "safety.db")
    assert cli("demo-data", cwd=tmp_path, DATABASE_PATH=database).returncode == 0
    made = cli("invite", "--role", "cadre", "--region", "330302", cwd=tmp_path, DATABASE_PATH=database,
               BOT_USERNAME="civil_safety_bot")
    assert made.returncode == 0, made.stderr
    said, link = made.stdout.strip().splitlines()
    assert said.startswith("已生成邀请（鹿城区的社区/村干部），仅可使用一次，")
    assert "（Asia/Shanghai 时间）前有效" in said
    assert link.startswith("https://t.me/civil_safety_bot?start=")
    english = cli("invite", "--role", "city", cwd=tmp_path, DATABASE_PATH=database, BOT_USERNAME="civil_safety_bot",
                  DEFAULT_LANGUAGE="en", TIMEZONE="UTC")
    assert english.stdout.startswith("Invitation made (City administrator, Wenzhou): ")
    assert "(UTC time)" in english.stdout and "role=" not in english.stdout

    # What does not exist is exit status 1, for `invite` as for `people` (README).
    for command in (("invite", "--role", "county", "--region", "999999"), ("people", "--region", "999999")):
        refused = cli(*command, cwd=tmp_path, DATABASE_PATH=database, BOT_USERNAME="civil_safety_bot")
        one_line_error(refused, "999999")
        assert refused.returncode == 1
