"""Every message exists, whole, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.lifecycle import RefusalCode
from bot.domain.roles import Role
from bot.i18n import LANGUAGES, Translator, catalog_entries, catalog_messages, normalize_language
from handlers.menus import GROUP_COMMANDS, GUEST_COMMANDS, ROLE_COMMANDS
from storage.models import GroupPurpose

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [path for folder in ("bot", "handlers") for path in (ROOT / folder).rglob("*.py")]
LITERAL_KEY = re.compile(r"""\b(?:t|plain|caller\.t|\.t)\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")
REFUSAL_CODE = re.compile(r"""(?:Refusal\(|_refuse\(\s*\w+,)\s*["'](\w+)["']""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def source_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)


def required_keys() -> set[str]:
    text = source_text()
    keys = set(LITERAL_KEY.findall(text))
    keys |= {f"refusal.{code}" for code in REFUSAL_CODE.findall(text)}
    keys |= {f"help.{role.value}" for role in Role} | {f"role.{role.value}" for role in Role} | {"help.group"}
    keys |= {f"purpose.{purpose.value}" for purpose in GroupPurpose}
    keys |= {f"refusal.{code.value}" for code in RefusalCode}
    keys |= {f"refusal.{field}_too_long" for field in ("description", "address", "text")}
    keys |= {"refusal.description_too_short"}
    commands = set(GUEST_COMMANDS) | set(GROUP_COMMANDS)
    for role_commands in ROLE_COMMANDS.values():
        commands |= set(role_commands)
    keys |= {f"command.{name}" for name in commands}
    return keys


def test_the_scan_finds_the_keys_the_code_uses() -> None:
    keys = required_keys()
    assert {"secrecy.refused", "access.not_registered", "invite.created", "refusal.invite_used"} <= keys


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_has_a_translation(language: str) -> None:
    messages = catalog_messages(language)
    missing = sorted(key for key in required_keys() if not messages.get(key))
    assert missing == []


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    chinese, english = catalog_messages("zh_CN"), catalog_messages("en")
    assert sorted(chinese) == sorted(english)
    for key in chinese:
        assert set(PLACEHOLDER.findall(chinese[key])) == set(PLACEHOLDER.findall(english[key])), key
        assert chinese[key] != "" and english[key] != "", key


def test_no_key_is_defined_twice() -> None:
    for language in LANGUAGES:
        seen: dict[str, str] = {}
        for key, _, file_name in catalog_entries(language):
            assert key not in seen, f"{language}: {key} is in both {seen[key]} and {file_name}"
            seen[key] = file_name


def test_command_descriptions_fit_telegram() -> None:
    for language in LANGUAGES:
        for key, text in catalog_messages(language).items():
            if key.startswith("command."):
                assert 1 <= len(text) <= 256, key


def test_parameters_are_escaped_and_html_from_catalogs_is_kept() -> None:
    t = Translator("en", strict=True)
    assert t("start.welcome_back", name="<Tom & Jerry>") == "Welcome back, &lt;Tom &amp; Jerry&gt;!"
    assert t("help.cadre").startswith("<b>")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hans", "zh_CN"), ("zh-hant", "zh_CN"), ("zh", "zh_CN"), ("en", "en"), ("en-GB", "en"), ("ru", "zh_CN"),
     (None, "zh_CN")],
)
def test_telegram_language_codes_map_to_catalogs(code: str | None, expected: str) -> None:
    assert normalize_language(code) == expected
