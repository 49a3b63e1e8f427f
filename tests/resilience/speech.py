"""Reading what the bot said as a person reads it: which catalog message a text is, and what filled its blanks.

The suites judge replies by meaning, not by wording: "the person was told the hazard is outside their scope" is
`said(text, "refusal.not_in_scope")` in whichever language they use, so a reworded message keeps the suites green
and a raw exception or a missing translation does not.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import cache

from bot.i18n import LANGUAGES, catalog_messages
from bot.sandbox.htmltext import html_to_plain

# Private-use characters: they survive html_to_plain and never occur in a catalog.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(re.escape(_OPEN) + r"(\w+)" + re.escape(_CLOSE))


def _plain_template(template: str) -> str:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    marked = template.format_map({name: f"{_OPEN}{name}{_CLOSE}" for name in names})
    return html_to_plain(marked)


def _regex(plain: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _SENTINEL.finditer(plain):
        parts.append(re.escape(plain[position : match.start()]))
        name = match.group(1)
        # A placeholder used twice is matched twice, but only the first names a group.
        parts.append("(.*?)" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        position = match.end()
    parts.append(re.escape(plain[position:]))
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Phrasebook:
    """Every message of one language, as a pattern over the plain text a person sees."""

    language: str
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    openings: dict[str, re.Pattern[str]] = field(default_factory=dict)
    line_patterns: tuple[re.Pattern[str], ...] = ()

    def said(self, text: str, *keys: str) -> bool:
        return any(self.match(text, key) is not None for key in keys)

    def match(self, text: str, key: str) -> dict[str, str] | None:
        """The placeholders' values if `text` is the message `key`, else None."""
        pattern = self.patterns.get(key)
        if pattern is None:
            raise KeyError(f"{self.language} has no message {key!r}")
        found = pattern.fullmatch(text)
        return None if found is None else {k: v for k, v in found.groupdict().items() if v is not None}

    def opens(self, text: str, *keys: str) -> bool:
        """Whether `text` is one of the messages `keys`, or starts with one (whole lines) and goes on after it:
        the bot composes a task list or a dossier from a heading message and more."""
        return any(self.openings[key].match(text) for key in keys if key in self.openings)

    def which(self, text: str, prefix: str = "") -> list[str]:
        """The messages `text` is, among those whose key starts with `prefix`."""
        return [key for key, pattern in self.patterns.items() if key.startswith(prefix) and pattern.fullmatch(text)]

    def localized(self, text: str, quoted: tuple[str, ...] = ()) -> bool:
        """Whether every line is a line of some catalog message, or part of what the person themselves wrote.

        Line by line because several messages are composed of catalog parts (a dossier, a summary with possible
        duplicates); what a person typed comes back inside them and may span lines of its own.
        """
        if not text.strip():
            return False
        for line in text.split("\n"):
            if not line.strip() or any(line in own for own in quoted):
                continue
            if not any(pattern.fullmatch(line) for pattern in self.line_patterns):
                return False
        return True


@cache
def phrasebook(language: str) -> Phrasebook:
    patterns: dict[str, re.Pattern[str]] = {}
    openings: dict[str, re.Pattern[str]] = {}
    lines: dict[str, re.Pattern[str]] = {}
    for key, template in catalog_messages(language).items():
        if not template:
            continue
        plain = _plain_template(template)
        patterns[key] = _regex(plain)
        openings[key] = re.compile(patterns[key].pattern + r"(?=\n|\Z)", re.DOTALL)
        for line in plain.split("\n"):
            if line.strip():
                lines.setdefault(line, _regex(line))
    return Phrasebook(language, patterns, openings, tuple(lines.values()))


def said_in_any_language(text: str, *keys: str) -> bool:
    return any(phrasebook(language).said(text, *keys) for language in LANGUAGES)
