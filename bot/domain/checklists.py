"""The monthly self-inspection checklist (每月隐患自查), kept as data in `bot/data/checklists.json`.

Which items an institution answers depends on its type and risk tags: an item with neither `types` nor `tags`
in `applies_to` applies everywhere; otherwise it applies to an institution of one of the types *or* carrying one
of the tags (vehicles: funeral homes, and anyone else tagged as having vehicles). Every user-visible word is in
the item, in both languages, so that a deployment edits one file to change the list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.catalog import HazardArea, Severity

CHECKLIST_FILE = Path(__file__).resolve().parent.parent / "data" / "checklists.json"


class Subject(Protocol):
    """What the checklist needs to know of an institution (storage.models.Institution fits)."""

    @property
    def type(self) -> str: ...

    @property
    def risk_tags(self) -> frozenset[str]: ...


class _AppliesTo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Institution types and risk tags by value; `unknown_codes` checks them against what storage knows.
    types: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()


class ChecklistItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    area: HazardArea
    severity: Severity  # the default when the item fails; the head may choose another
    applies_to: _AppliesTo = Field(default_factory=_AppliesTo)

    def applies(self, institution_type: str, tags: frozenset[str]) -> bool:
        rule = self.applies_to
        if not rule.types and not rule.tags:
            return True
        return institution_type in rule.types or bool(rule.tags & tags)

    def text(self, lang: str) -> str:
        """Chinese for zh*, English otherwise (the same fallback as `catalog.label`)."""
        return self.zh if lang.strip().lower().startswith("zh") else self.en


class Checklist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    items: tuple[ChecklistItem, ...]

    @field_validator("items")
    @classmethod
    def _unique_codes(cls, items: tuple[ChecklistItem, ...]) -> tuple[ChecklistItem, ...]:
        seen: set[str] = set()
        for item in items:
            if item.code in seen:
                raise ValueError(f"checklist item {item.code} appears twice")
            seen.add(item.code)
        return items

    def get(self, code: str) -> ChecklistItem | None:
        return next((item for item in self.items if item.code == code), None)


def parse_checklist(data: Any) -> Checklist:
    """A checklist from its JSON form; pure, so that a deployment's own file is checked the same way."""
    return Checklist.model_validate(data)


@cache
def default_checklist() -> Checklist:
    # A file shipped inside the package, read once: as constant as the code around it.
    return parse_checklist(json.loads(CHECKLIST_FILE.read_text(encoding="utf-8")))


def unknown_codes(checklist: Checklist, types: Iterable[str], tags: Iterable[str]) -> list[str]:
    """Types and tags the checklist names that are not in `types` / `tags`: typos in a deployment's file."""
    known_types, known_tags = set(types), set(tags)
    unknown = set()
    for item in checklist.items:
        unknown |= {f"{item.code}: type {t}" for t in item.applies_to.types - known_types}
        unknown |= {f"{item.code}: tag {t}" for t in item.applies_to.tags - known_tags}
    return sorted(unknown)


def items_for(institution: Subject, checklist: Checklist | None = None) -> list[ChecklistItem]:
    """The items this institution answers each month, in the checklist's order."""
    source = checklist or default_checklist()
    return [item for item in source.items if item.applies(institution.type, institution.risk_tags)]


def hazard_description(item: ChecklistItem, note: str) -> str:
    """What a failed item becomes as a hazard's description: the record names the item it came from, by the words a
    person reads (the checklist's code is for the file, not for the head's task list).

    Chinese, like every description a person types: the hazard record is kept in the document's language.
    """
    return f"【自查】{item.zh}：{note.strip()}"


# Hazards filed before the code left the description read "【自查 fire.alarm】…".
_OLD_SELF_CHECK_MARK = re.compile(r"^【自查 [A-Za-z0-9_.\-]+】")


def shown_description(description: str) -> str:
    """A hazard's description as people are shown it: one stored with a checklist code in its self-inspection mark
    (before that code was dropped) reads like one stored since, "【自查】…". The record itself stays as it was."""
    return _OLD_SELF_CHECK_MARK.sub("【自查】", description, count=1)
