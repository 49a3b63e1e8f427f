"""`safety-bot import` and `safety-bot template`, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.test_cli import cli


def city(tmp_path: Path) -> dict[str, str]:
    env = {"DATABASE_PATH": str(tmp_path / "safety.db"), "BOT_USERNAME": "civil_safety_bot"}
    assert cli("demo-data", cwd=tmp_path, **env).returncode == 0
    return env


def test_the_template_command_writes_what_the_bot_sends_and_only_as_xlsx(tmp_path: Path) -> None:
    """The bot's /template had no command-line counterpart: an operator importing from the command line had to
    ask the bot for the header row."""
    written = cli("template", "people", "--out", str(tmp_path / "人员.xlsx"), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "人员邀请名单" in written.stdout and "人员.xlsx" in written.stdout
    book = load_workbook(tmp_path / "人员.xlsx")
    assert [cell.value for cell in book.worksheets[0][1]] == ["姓名", "角色", "区划代码", "机构编码", "链接有效期至"]
    assert book.worksheets[1].title == "填写说明"

    english = cli("template", "institutions", cwd=tmp_path, DEFAULT_LANGUAGE="en")
    assert english.returncode == 0, english.stderr
    sheet = load_workbook(tmp_path / "institutions-template.xlsx").worksheets[0]
    assert sheet[1][0].value == "code"

    wrong = cli("template", "people", "--out", str(tmp_path / "people.csv"), cwd=tmp_path)
    assert wrong.returncode != 0 and ".xlsx" in wrong.stderr and not (tmp_path / "people.csv").exists()


def test_common_role_names_are_taken_and_a_wrong_one_is_told_the_choices(tmp_path: Path) -> None:
    """"村干部" and "县级" were refused as "not one of the allowed values, see the notes", which the command line does
    not have at hand; and the links, written to a file, were announced as "the spreadsheet follows"."""
    env = city(tmp_path)
    people = tmp_path / "people.csv"
    people.write_text("姓名,角色,区划代码\n王五,村长,330302001\n", encoding="utf-8")
    refused = cli("import", "people", str(people), cwd=tmp_path, **env)
    assert refused.returncode != 0
    choices = "社区/村干部、机构负责人、县级民政工作人员、市局管理员"
    assert f"第 2 行「角色」：“村长”不是可选的值，可填：{choices}。" in refused.stdout

    people.write_text("姓名,角色,区划代码\n王五,村干部,330302001\n赵六,县级,330302\n孙七,社区干部,330302001\n",
                      encoding="utf-8")
    imported = cli("import", "people", str(people), cwd=tmp_path, **env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "✅ 已为 3 人生成一次性邀请链接。" in imported.stdout and "随后发送" not in imported.stdout
    rows = list(load_workbook(tmp_path / "people-invitations.xlsx").worksheets[0].iter_rows(min_row=2,
                                                                                           values_only=True))
    assert [(row[1], row[2]) for row in rows] == [("王五", "社区/村干部"), ("赵六", "县级民政工作人员"),
                                                  ("孙七", "社区/村干部")]


def test_the_links_file_is_written_in_the_format_its_name_says(tmp_path: Path) -> None:
    """`--out links.csv` wrote an XLSX under a .csv name, which Excel then refused to open."""
    env = city(tmp_path)
    people = tmp_path / "people.csv"
    people.write_text("姓名,角色,区划代码\n王五,村干部,330302001\n", encoding="utf-8")
    refused = cli("import", "people", str(people), "--out", str(tmp_path / "links.txt"), cwd=tmp_path, **env)
    assert refused.returncode != 0 and ".xlsx 或 .csv" in refused.stderr and "未导入任何内容" in refused.stderr
    assert not (tmp_path / "links.txt").exists()

    imported = cli("import", "people", str(people), "--out", str(tmp_path / "links.csv"), cwd=tmp_path, **env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    lines = (tmp_path / "links.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "行号,姓名,角色,区划或机构,邀请链接,有效期至"
    assert lines[1].startswith("2,王五,社区/村干部,330302001,https://t.me/civil_safety_bot?start=")
