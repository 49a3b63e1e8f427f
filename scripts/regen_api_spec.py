#!/usr/bin/env python3
"""Regenerate bot/sandbox/api_spec.json, the Bot API description the sandbox validates requests against.

The output is derived from the MIT-licensed machine-readable Bot API data by Paul Larsen (see
bot/sandbox/API_SPEC_LICENSE). Descriptions and links are dropped; every method and type is kept,
because the sandbox must be able to reject any request Telegram would reject.

Two facts that only exist as prose in the descriptions are kept as data:
  * ``const`` on the discriminator field of a union member (e.g. BotCommandScopeChat.type == "chat"),
    so union parameters can be matched on their ``type``;
  * ``string_ok`` on types for which Telegram also accepts a bare String (KeyboardButton).

Usage: python scripts/regen_api_spec.py [path/to/api.json]   (default: ../shared/telegram/api.json,
relative to the repository root)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("..") / "shared" / "telegram" / "api.json"
OUTPUT = REPO_ROOT / "bot" / "sandbox" / "api_spec.json"

_DISCRIMINATORS = ("type", "source", "status")
# "always \"user\"", "must be chat", "must be *chat*"
_CONST_RE = re.compile(r"(?:always|must be)\s+[\"*]?([a-z0-9_]+)[\"*]?\s*$")


def _fields(raw: dict[str, Any], is_union_member: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for field in raw.get("fields", []):
        item: dict[str, Any] = {
            "name": field["name"],
            "types": list(field["types"]),
            "required": bool(field["required"]),
        }
        if is_union_member and field["name"] in _DISCRIMINATORS:
            match = _CONST_RE.search(str(field.get("description", "")).strip().rstrip("."))
            if match:
                item["const"] = match.group(1)
        out.append(item)
    return out


def trim(source: dict[str, Any]) -> dict[str, Any]:
    methods: dict[str, Any] = {}
    for name, raw in source["methods"].items():
        methods[name] = {
            "name": name,
            "returns": list(raw.get("returns", [])),
            "fields": _fields(raw, is_union_member=False),
        }
    types: dict[str, Any] = {}
    for name, raw in source["types"].items():
        item: dict[str, Any] = {"name": name, "fields": _fields(raw, "subtype_of" in raw)}
        if "subtypes" in raw:
            item["subtypes"] = list(raw["subtypes"])
        if "subtype_of" in raw:
            item["subtype_of"] = list(raw["subtype_of"])
        description = " ".join(raw.get("description", []))
        if "String can be used instead of this object" in description:
            item["string_ok"] = True
        types[name] = item
    return {
        "version": source["version"],
        "release_date": source["release_date"],
        "methods": methods,
        "types": types,
    }


def main(argv: list[str]) -> int:
    source_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not source_path.is_absolute():
        source_path = REPO_ROOT / source_path
    source = json.loads(source_path.read_text(encoding="utf-8"))
    trimmed = trim(source)
    OUTPUT.write_text(json.dumps(trimmed, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {OUTPUT.relative_to(REPO_ROOT)}: {trimmed['version']}, "
        f"{len(trimmed['methods'])} methods, {len(trimmed['types'])} types"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
