"""Every message exists, whole, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.imports import ImportKind
from bot.domain.lifecycle import RefusalCode
from bot.domain.roles import Role
from bot.i18n import LANGUAGES, Translator, catalog_entries, catalog_messages, counted, normalize_language
from bot.services.digests import Person
from bot.services.errors import Refusal
from bot.services.import_text import result_text
from bot.services.imports import ImportResult
from handlers.menus import GROUP_COMMANDS, GUEST_COMMANDS, ROLE_COMMANDS
from handlers.reminder_text import _responsible
from storage.models import GroupPurpose

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [path for folder in ("bot", "handlers") for path in (ROOT / folder).rglob("*.py")]
LITERAL_KEY = re.compile(r"""\b(?:t|plain|caller\.t|\.t)\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")
REFUSAL_CODE = re.compile(r"""(?:Refusal\(|_refuse\(\s*\w+,)\s*["'](\w+)["']""")
COUNTED_KEY = re.compile(r"""\bcounted\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def source_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)


def required_keys() -> set[str]:
    text = source_text()
    keys = set(LITERAL_KEY.findall(text))
    for key in COUNTED_KEY.findall(text):  # `counted("reminder.more", n)`: the key and its singular
        keys |= {key, f"{key}_one"}
    keys |= {f"refusal.{code}" for code in REFUSAL_CODE.findall(text)}
    keys |= {f"help.{role.value}" for role in Role} | {f"role.{role.value}" for role in Role} | {"help.group"}
    keys |= {f"purpose.{purpose.value}" for purpose in GroupPurpose}
    keys |= {f"refusal.{code.value}" for code in RefusalCode}
    keys |= {f"refusal.{field}_too_long" for field in ("description", "address", "text", "comment")}
    keys |= {"refusal.description_too_short", "refusal.comment_too_short"}
    commands = set(GUEST_COMMANDS) | set(GROUP_COMMANDS)
    for role_commands in ROLE_COMMANDS.values():
        commands |= set(role_commands)
    keys |= {f"command.{name}" for name in commands}
    return keys


def test_the_scan_finds_the_keys_the_code_uses() -> None:
    keys = required_keys()
    assert {"secrecy.refused", "access.not_registered", "invite.created", "refusal.invite_used"} <= keys
    assert {"reminder.more", "reminder.more_one"} <= keys


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


# Chinese in an English message: only where it is meant. The language picker speaks both languages on purpose, and
# 通报 is the bureau's own word for its monthly notice, explained in parentheses.
# Han characters, CJK punctuation (、。) and fullwidth forms (，：).
CHINESE = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
CHINESE_IN_ENGLISH = {
    "command.lang": ("切换语言",),
    "lang.choose": ("请选择语言",),
    "help.city": ("(通报)",),
}


def test_english_messages_hold_no_chinese_but_the_listed_exceptions() -> None:
    leaks = []
    for key, text, file_name in catalog_entries("en"):
        for allowed in CHINESE_IN_ENGLISH.get(key, ()):
            assert allowed in text, f"{key}: the exception {allowed!r} is no longer needed"
            text = text.replace(allowed, "")
        if CHINESE.search(text):
            leaks.append(f"{file_name} {key}: {CHINESE.findall(text)}")
    assert leaks == []


def test_the_chinese_check_sees_punctuation_too() -> None:
    assert CHINESE.findall("Chen、Li，done。Note：") == ["、", "，", "。", "："]
    assert not CHINESE.search("Deadline: 2026-03-09 10:00 · “Restart” … — °C")


@pytest.mark.parametrize(
    ("key", "count", "expected"),
    [
        ("reminder.more", 1, "… and 1 more reminder not listed here"),
        ("reminder.more", 2, "… and 2 more reminders not listed here"),
        ("warnings.intro", 1, "1 warning in force:"),
        ("warnings.intro", 3, "3 warnings in force:"),
        ("button.notice_send", 1, "📢 Send to 1 group"),
        ("button.notice_send", 4, "📢 Send to 4 groups"),
        # The ones people read often: a notice's overdue hazards, a warning's recipients, the consequences of an
        # access ended, the groups a notice goes to, the institutions a warning is still waiting for.
        ("insight.notice.overdue_line", 1, ", 1 day overdue"),
        ("insight.notice.overdue_line", 5, ", 5 days overdue"),
        ("warn.sent", 1, "to 1 recipient."),
        ("warn.sent", 2, "to 2 recipients."),
        ("warn.auto_issue", 1, "automatically to 1 recipient:"),
        *[(f"warn.auto_{change}", 1, "its 1 recipient has been told") for change in ("upgrade", "downgrade", "update")],
        ("warn.auto_cancel", 1, "its 1 recipient has been told."),
        ("warn.auto_cancel", 3, "its 3 recipients have been told."),
        *[(f"warnings.done_{change}", 1, "its 1 recipient has been told.")
          for change in ("upgrade", "downgrade", "update", "cancel")],
        ("warnings.done_update", 7, "its 7 recipients have been told."),
        ("warnings.confirm_lift", 1, "goes to its 1 recipient."),
        ("people.hazards_released", 1, "· 1 unresolved hazard is no longer theirs"),
        ("people.hazards_released", 2, "· 2 unresolved hazards are no longer theirs"),
        ("people.contacts_released", 1, "· 1 vulnerable person has no cadre now"),
        ("insight.notice.preview", 1, "It will go to 1 group;"),
        ("insight.notice.changed", 1, "for 1 group;"),
        ("warnstatus.escalation", 1, "and 1 institution has still not answered"),
        ("warnstatus.escalation", 2, "these 2 institutions have still not answered"),
        ("cli.people_count", 1, "1 person"),
        ("tasks.empty_others_open", 1, "1 other hazard in Lucheng is still being dealt with"),
        ("tasks.empty_others_open", 2, "2 other hazards in Lucheng are still being dealt with"),
        ("insight.export.started", 1, "(1 hazard)…"),
        ("insight.export.done", 1, "Export finished: 1 hazard."),
        ("insight.export.choose", 1, "(1 hazard). Excel"),
        ("insight.export.progress", 1, "1 of 1 hazard written"),
        ("insight.export.progress", 2, "2 of 2 hazards written"),
        ("insight.stats.units_more_county", 1, "… 1 more county-level division not listed."),
        ("insight.stats.units_more_county", 2, "… 2 more county-level divisions not listed."),
        ("insight.stats.units_more_township", 1, "… 1 more township not listed."),
        ("insight.stats.units_more_township", 3, "… 3 more townships not listed."),
        ("insight.ranking.gap", 1, "… (1 place not shown)"),
        ("insight.ranking.gap", 4, "… (4 places not shown)"),
        ("insight.chart.acks_caption", 1, "📣 1 of 1 institution answered"),
        ("insight.chart.acks_caption", 5, "📣 5 of 5 institutions answered"),
        ("insight.import.failed", 1, "1 problem found, nothing was changed. Correct it"),
        ("insight.import.failed", 3, "3 problems found, nothing was changed. Correct them"),
        # The calendar's days left and overdue, the drill's problems and the self-inspection's unanswered items.
        *[(f"calendar.status.{duty}.due_soon", 1, "; 1 day left (until") for duty in ("drill", "selfcheck", "study")],
        *[(f"calendar.status.{duty}.overdue", 1, "; 1 day overdue.") for duty in ("drill", "selfcheck", "study")],
        ("calendar.status.study.overdue", 2, "; 2 days overdue."),
        ("drill.problems_received", 1, "1 problem received; now choose its area and severity."),
        ("drill.problems_received", 2, "2 problems received; now choose the area and severity of each."),
        ("refusal.selfcheck_incomplete", 1, "1 item is still unanswered."),
        ("refusal.selfcheck_incomplete", 2, "2 items are still unanswered."),
    ],
)
def test_english_counts_one_in_the_singular(key: str, count: int, expected: str) -> None:
    t = Translator("en", strict=True)
    params = {name: count for name in ("count", "groups", "days", "total", "done", "hidden", "answered", "reached",
                                       "missing")}
    text = t.plain(counted(key, count), **params, code="YH-1", institution="Home", place="Lucheng", title="Warning",
                   headline="Typhoon", id=1, codes="YH-1", period="2026", names="Home", kind="Institutions",
                   percent="100%", missed="2026", end="2026-06-30")
    assert expected in text


@pytest.mark.parametrize("key", ["insight.notice.overdue_line", "warn.sent", "people.hazards_released",
                                 "warnings.done_cancel", "warnstatus.escalation", "insight.export.started",
                                 "insight.import.failed", "insight.export.progress", "insight.stats.units_more_county",
                                 "insight.stats.units_more_township", "insight.ranking.gap",
                                 "insight.chart.acks_caption", "calendar.status.drill.due_soon",
                                 "calendar.status.selfcheck.overdue", "drill.problems_received",
                                 "refusal.selfcheck_incomplete", "tasks.empty_others_open"])
def test_chinese_says_one_as_it_says_many(key: str) -> None:
    """Chinese has no plural: the singular keys it needs for English read exactly as the plural ones."""
    messages = catalog_messages("zh_CN")
    assert messages[f"{key}_one"] == messages[key]


@pytest.mark.parametrize(("language", "expected"), [("en", "Chen, Li Na"), ("zh_CN", "陈院长、李娜")])
def test_the_people_responsible_are_listed_in_the_readers_language(language: str, expected: str) -> None:
    """An English reminder named two people responsible as "Chen、Li Na", with the Chinese list mark."""
    chinese = language == "zh_CN"
    people = (Person(1, "陈院长" if chinese else "Chen"), Person(2, "李娜" if chinese else "Li Na"))
    assert expected in _responsible(people, Translator(language, strict=True))


def test_english_counts_without_a_parenthesised_plural() -> None:
    """"1 day(s) left", "3 item(s)": English says one in the singular through a `_one` key (see `counted`)."""
    unsure = sorted(f"{file_name} {key}" for key, text, file_name in catalog_entries("en") if "(s)" in text)
    assert unsure == []


def test_a_refusal_that_counts_one_reads_in_the_singular() -> None:
    t = Translator("en", strict=True)
    one, two = (Refusal("selfcheck_incomplete", missing=n, counting="missing") for n in (1, 2))
    assert t(one.message_key, **one.params) == "1 item is still unanswered. Please answer every item."
    assert t(two.message_key, **two.params) == "2 items are still unanswered. Please answer every item."


# Placeholders that never hold 1 (a rule's limit, a checklist's length) or not a whole number (days as 2.5).
_NEVER_ONE = {"min", "max", "least", "length", "n"}
_NEVER_ONE_IN = {
    ("refusal.reopen_window_passed", "days"), ("refusal.comment_window_passed", "days"),
    ("refusal.reopen_window_passed_withdrawn", "days"), ("refusal.comment_window_passed_withdrawn", "days"),
    ("mine.closed_before", "days"), ("mine.empty_closed_before", "days"),
    ("institution.closed_recently", "days"), ("institution.withdrawn_recently", "days"),
    ("deadline.term_days", "days"),  # 90 days; a deadline of 2 days or more
    ("warn.help_pager_stopped", "hours"),  # PAGED_FOR: the pager stops after 12 hours, never after 1
    ("deadline.term_hours", "hours"),  # one hour is deadline.term_hour
    ("reminder.digest_header", "count"),  # a digest of one reminder is that reminder alone
    ("reminder.group_header", "count"),  # as reminder.digest_header
    ("selfcheck.finished", "total"), ("selfcheck.amended", "total"), ("institution.matches", "total"),
    ("invite.matches", "total"),  # one match is invited at once
    # On the current period's last day the missed one ended a whole period (28 days or more) before.
    *[(f"calendar.status.{duty}.overdue_due_today", "days") for duty in ("drill", "selfcheck", "study")],
}
_PLURALS = {"people", "persons", "institutions", "cadres", "groups", "rows", "hazards", "users", "files",
            "invitations", "heads", "reminders", "items", "minutes", "hours", "days", "characters", "photos",
            "bytes", "messages", "warnings", "problems", "links", "townships", "counties"}
_SINGULARS = {word.removesuffix("s") for word in _PLURALS - {"people", "persons", "counties"}} | {"person", "county"}
_COUNT_WORD = re.compile(r"\b([012]) (?:more |other |new |evidence |work |vulnerable )?([\w-]+)(?: ([\w-]+))?")


def _disagreements(text: str) -> list[str]:
    wrong = []
    for match in _COUNT_WORD.finditer(text):
        number, word, after = match.group(1), match.group(2), match.group(3) or ""
        if number == "1" and (word in _PLURALS or word == "are" or (word == "institution" and after == "heads")):
            wrong.append(match.group(0))
        if number in ("0", "2") and word in _SINGULARS and after not in _PLURALS:
            wrong.append(match.group(0))
    return wrong


@pytest.mark.parametrize("n", [0, 1, 2])
def test_english_counts_agree_with_their_noun(n: int) -> None:
    """Every English message with a count, said with 0, 1 and 2 (through `counted`, as the code says it): "1
    institutions", "1 people", "1 more are", "2 institution" or "0 institution" is wrong. A sentence with several
    counts says them as figures after a label ("cadres: 1") where a `_one` key could not cover every mixture."""
    t = Translator("en", strict=True)
    keys = {key for key, _, _ in catalog_entries("en")}
    wrong = []
    for key, text, file_name in catalog_entries("en"):
        if key.endswith("_one") and key.removesuffix("_one") in keys:
            continue
        names = set(re.findall(r"\{(\w+)\}", text))
        params: dict[str, object] = {
            name: 5 if name in _NEVER_ONE or (key, name) in _NEVER_ONE_IN else n for name in names
        }
        params.update({name: "general" for name in names & {"severity", "status"}})  # words, not counts
        shown = t.plain(counted(key, n) if f"{key}_one" in keys else key, **params)
        wrong += [f"{file_name} {key}: {phrase!r}" for phrase in _disagreements(shown)]
    assert wrong == []


def test_an_import_of_one_row_says_it_in_the_singular() -> None:
    t = Translator("en", strict=True)
    one = result_text(ImportResult(ImportKind.INSTITUTIONS, (), 1, 1), ("code",), t)
    assert one == "✅ Institutions imported: 1 row, 1 new, 0 updated."
    people = result_text(ImportResult(ImportKind.PEOPLE, (), 2, 2), ("name",), t)
    assert people.startswith("✅ One-time invitation links made for 2 people (2 new, 0 updated)")


def test_chinese_sets_a_latin_name_apart_from_the_han_characters_around_it() -> None:
    """"已停用Li Na（社区/村干部）的账号" read as one word: a Latin value touching a Han character gets a space."""
    t = Translator("zh_CN", strict=True)
    assert t("people.deactivated", who="Li Na（社区/村干部）") == "✅ 已停用 Li Na（社区/村干部）的账号。"
    assert t("people.told", who="Tom", by="王科长") == "ℹ️ Tom 的账号已由王科长停用。"
    assert t.plain("people.told", who="李娜", by="Zhou") == "ℹ️ 李娜的账号已由 Zhou 停用。"
    # English is left as it is written.
    assert Translator("en", strict=True)("people.deactivated", who="Li Na") == "✅ The access of Li Na has ended."
