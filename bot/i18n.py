"""Per-user translations from the gettext catalogs in `locales/`.

Message ids are stable keys (``onboarding.welcome``) and every catalog, zh_CN included, translates each of them into a
whole sentence with named placeholders, so a translator always sees complete text. Each language folder holds one
`.po` file per journey (messages.po for the common ones, hazards.po, …); they are compiled from source when first
loaded, so installation needs no msgfmt step.
"""

from __future__ import annotations

import gettext
import html
import io
import logging
import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import locales

LANGUAGES = ("zh_CN", "en")
LOCALES_DIR = Path(locales.__file__).parent

log = logging.getLogger(__name__)


class Html(str):
    """Text that is already safe HTML (built from our own catalogs); passed into messages without escaping."""

    __slots__ = ()


def escape(value: object) -> str:
    return html.escape(str(value), quote=False)


def clipped(text: str, limit: int) -> str:
    """`text`, or its first `limit` - 1 characters and an ellipsis: for a long text quoted in a longer message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_width(text: str) -> int:
    """How many Latin letters' width `text` takes on a screen (a Chinese character or an emoji: two)."""
    return sum(_widths(text))


def _widths(text: str) -> list[int]:
    return [2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text]


def clipped_width(text: str, columns: int) -> str:
    """`text`, or as much of it as `columns` Latin letters take on a screen and an ellipsis: a Chinese character or
    an emoji is as wide as two letters, so a Chinese button label is cut at half the characters an English one is."""
    widths = _widths(text)
    if sum(widths) <= columns:
        return text
    used, end = 1, 0  # the ellipsis takes one column
    while used + widths[end] <= columns:
        used += widths[end]
        end += 1
    return text[:end] + "…"


def normalize_language(code: str | None, default: str = "zh_CN") -> str:
    """Map a Telegram client's `language_code` (IETF tag such as 'zh-hans', 'en-GB') to a catalog we have."""
    if not code:
        return default
    lowered = code.lower().replace("_", "-")
    if lowered.startswith("zh"):
        return "zh_CN"
    if lowered.startswith("en"):
        return "en"
    return default


def catalog_paths(language: str) -> list[Path]:
    return sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po"))


def _compile(path: Path, language: str) -> gettext.GNUTranslations:
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def load_catalog(language: str) -> gettext.NullTranslations:
    """All of a language's `.po` files as one catalog (keys are unique across files; a test checks it)."""
    paths = catalog_paths(language)
    if not paths:
        return gettext.NullTranslations()
    first = _compile(paths[0], language)
    for path in paths[1:]:
        first.add_fallback(_compile(path, language))
    return first


def catalog_messages(language: str) -> dict[str, str]:
    """Every key and its translation, as written in the `.po` sources (used by the completeness test)."""
    return {key: text for key, text, _ in catalog_entries(language)}


def catalog_entries(language: str) -> list[tuple[str, str, str]]:
    """(key, translation, file name) for every message of a language."""
    entries = []
    for path in catalog_paths(language):
        with path.open("rb") as source:
            catalog = read_po(source, locale=language)
        entries += [(str(message.id), str(message.string), path.name) for message in catalog if message.id]
    return entries


class Named(Protocol):
    """Whatever the city names in both languages: a region, an institution, a report's row read from them."""

    @property
    def name_zh(self) -> str: ...

    @property
    def name_en(self) -> str: ...


def local_name(place: Named, language: str) -> str:
    """A place's name in the reader's language (`name_in`)."""
    return name_in(language, place.name_zh, place.name_en)


def name_in(language: str, name_zh: str, name_en: str) -> str:
    """A name in the reader's language: Chinese for Chinese readers, English for every other, or the Chinese where
    there is no English name (a city's data file may leave it empty; a blank is no name at all)."""
    return name_zh if language == "zh_CN" else name_en or name_zh


def counted(key: str, count: int) -> str:
    """The key to say `count` things with: `key_one` for one (English says "1 more reminder", not "reminders"),
    else `key`. Both languages have both keys; Chinese says them alike."""
    return f"{key}_one" if count == 1 else key


def two_units(t: Translator, amount: int, per: int, small: tuple[str, str], big: tuple[str, str], both: str) -> str:
    """`amount` small units said in whole words, the larger unit first: "5 hours", "1 day", "1 day 3 hours", each in
    the singular for one, and no "0 hours" after the days ("1 d 0 h" read as a code). `small` and `big`: each unit's
    catalog key (counted: `_one` for one) and the name of its placeholder, which `both` also takes."""
    (small_key, small_name), (big_key, big_name) = small, big
    bigs, smalls = divmod(max(amount, 0), per)
    said_small = t.plain(counted(small_key, smalls), **{small_name: smalls})
    if bigs == 0:
        return said_small
    said_big = t.plain(counted(big_key, bigs), **{big_name: bigs})
    return said_big if smalls == 0 else t.plain(both, **{big_name: said_big, small_name: said_small})


# Chinese sets a Latin word apart from the Han characters around it ("已停用 Li Na（…）", not "已停用Li Na（…）"):
# a placeholder touching a Han character in the template gets a space on that side when its value starts (or ends)
# with a Latin letter. Names are the usual case: people type them in either script.
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def _spaced(template: str, values: Mapping[str, Any]) -> str:
    def space(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if not isinstance(value, str) or not value:
            return match.group(0)
        start, end = match.start(), match.end()
        before = " " if start > 0 and _HAN.match(template[start - 1]) and _LATIN.match(value[0]) else ""
        after = " " if end < len(template) and _HAN.match(template[end]) and _LATIN.match(value[-1]) else ""
        return before + match.group(0) + after

    return _PLACEHOLDER.sub(space, template)


class MissingTranslation(KeyError):
    pass


class Translator:
    """Translates keys for one language. Every parameter is HTML-escaped unless it is `Html`."""

    def __init__(self, language: str, *, strict: bool = False) -> None:
        self.language = language if language in LANGUAGES else "zh_CN"
        self._catalog = load_catalog(self.language)
        self._strict = strict

    def __call__(self, key: str, /, **params: Any) -> str:
        template = self._catalog.gettext(key)
        if template == key:
            if self._strict:
                raise MissingTranslation(f"{self.language}: no translation for {key!r}")
            log.error("missing translation %s for %s", key, self.language)
        safe = {name: value if isinstance(value, Html) else escape(value) for name, value in params.items()}
        if self.language == "zh_CN":
            template = _spaced(template, safe)
        return Html(template.format_map(_Params(safe)))

    def plain(self, key: str, /, **params: Any) -> str:
        """A translation for places Telegram shows as plain text (button labels, command descriptions)."""
        template = self._catalog.gettext(key)
        values = {name: str(value) for name, value in params.items()}
        if self.language == "zh_CN":
            template = _spaced(template, values)
        return template.format_map(_Params(values))


class _Params(dict[str, Any]):
    def __missing__(self, name: str) -> str:
        raise MissingTranslation(f"placeholder {{{name}}} has no value")


class I18n:
    """Hands out translators; one per language, built once."""

    def __init__(self, default_language: str = "zh_CN", *, strict: bool = False) -> None:
        self.default_language = default_language
        self._translators: Mapping[str, Translator] = {
            language: Translator(language, strict=strict) for language in LANGUAGES
        }

    def get(self, language: str | None) -> Translator:
        return self._translators.get(language or self.default_language) or self._translators[
            self.default_language
        ]

    def for_client(self, telegram_language_code: str | None) -> Translator:
        return self.get(normalize_language(telegram_language_code, self.default_language))
