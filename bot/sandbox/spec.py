"""The Bot API specification (api_spec.json) and strict validation of values against it.

Requests arrive the way Telegram receives them: top-level parameters as strings (query string,
urlencoded or multipart forms, where objects and arrays are JSON-encoded strings), uploaded files,
or values of a JSON body. Nested values inside JSON are checked with JSON types, no coercion.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("api_spec.json")

SCALARS = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
_INT_RE = re.compile(r"-?\d+")
ARRAY = "Array of "


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    const: str | None = None


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...] = ()
    string_ok: bool = False


@dataclass(frozen=True)
class MethodSpec:
    name: str
    returns: tuple[str, ...]
    fields: Mapping[str, FieldSpec]


class SpecMismatch(Exception):
    """A value does not fit the spec; ``path`` locates it (``reply_markup.inline_keyboard[0][1].text``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def _fields(raw: Sequence[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"]), f.get("const")) for f in raw}


@dataclass
class Spec:
    version: str
    methods: dict[str, MethodSpec]
    types: dict[str, TypeSpec]
    _lower: dict[str, MethodSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lower = {name.lower(): m for name, m in self.methods.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Spec:
        methods = {
            name: MethodSpec(name, tuple(m.get("returns", [])), _fields(m.get("fields", [])))
            for name, m in data["methods"].items()
        }
        types = {
            name: TypeSpec(
                name,
                _fields(t.get("fields", [])),
                tuple(t.get("subtypes", [])),
                bool(t.get("string_ok", False)),
            )
            for name, t in data["types"].items()
        }
        return cls(str(data["version"]), methods, types)

    def method(self, name: str) -> MethodSpec | None:
        """Telegram matches method names case-insensitively."""
        return self._lower.get(name.lower())

    # ---- top-level request parameters -------------------------------------------------------

    def decode_param(self, value: Any, types: Sequence[str], path: str) -> Any:
        """Decode one top-level parameter as the Bot API does, or raise SpecMismatch."""
        if isinstance(value, UploadedFile):
            if "InputFile" in types:
                return value
            raise SpecMismatch(path, f"a file upload is not accepted here (expected {_show(types)})")
        if isinstance(value, dict | list):
            return self.check(value, [t for t in types if t not in SCALARS], path)
        if not isinstance(value, str):
            raise SpecMismatch(path, f"unexpected value {value!r}")
        failures: list[SpecMismatch] = []
        for type_expr in types:
            try:
                return self._decode_string(value, type_expr, path)
            except SpecMismatch as exc:
                failures.append(exc)
        raise _best(failures)

    def _decode_string(self, value: str, type_expr: str, path: str) -> Any:
        if type_expr == "String":
            return value
        if type_expr == "Integer":
            if _INT_RE.fullmatch(value.strip()):
                return int(value)
            raise SpecMismatch(path, f"expected Integer, got {value!r}")
        if type_expr == "Float":
            try:
                number = float(value)
            except ValueError:
                raise SpecMismatch(path, f"expected Float, got {value!r}") from None
            if not math.isfinite(number):
                raise SpecMismatch(path, f"expected a finite Float, got {value!r}")
            return number
        if type_expr == "Boolean":
            lowered = value.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise SpecMismatch(path, f"expected Boolean (true/false/1/0), got {value!r}")
        if type_expr == "InputFile":
            raise SpecMismatch(path, "expected a file upload")
        try:
            decoded = json.loads(value)
        except ValueError:
            raise SpecMismatch(path, f"can't parse JSON object ({_show([type_expr])} expected)") from None
        return self.check(decoded, [type_expr], path)

    # ---- nested JSON values -------------------------------------------------------------------

    def check(self, value: Any, types: Sequence[str], path: str) -> Any:
        """Check a JSON value against one of ``types``; returns it unchanged."""
        if not types:
            raise SpecMismatch(path, "a JSON object or array is not accepted here")
        failures: list[SpecMismatch] = []
        for type_expr in types:
            try:
                self._check_one(value, type_expr, path)
                return value
            except SpecMismatch as exc:
                failures.append(exc)
        raise _best(failures)

    def _check_one(self, value: Any, type_expr: str, path: str) -> None:
        if type_expr.startswith(ARRAY):
            if not isinstance(value, list):
                raise SpecMismatch(path, f"expected {type_expr}, got {_json_kind(value)}")
            inner = type_expr[len(ARRAY) :]
            for index, item in enumerate(value):
                self._check_one(item, inner, f"{path}[{index}]")
            return
        if type_expr == "Integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise SpecMismatch(path, f"expected Integer, got {_json_kind(value)}")
        elif type_expr == "Float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SpecMismatch(path, f"expected Float, got {_json_kind(value)}")
        elif type_expr == "Boolean":
            if not isinstance(value, bool):
                raise SpecMismatch(path, f"expected Boolean, got {_json_kind(value)}")
        elif type_expr == "String":
            if not isinstance(value, str):
                raise SpecMismatch(path, f"expected String, got {_json_kind(value)}")
        elif type_expr == "InputFile":
            raise SpecMismatch(path, "a file can only be referenced as a String (attach://<name>) here")
        else:
            self._check_type(value, type_expr, path)

    def _check_type(self, value: Any, type_name: str, path: str) -> None:
        spec = self.types.get(type_name)
        if spec is None:
            raise SpecMismatch(path, f"unknown type {type_name}")
        if spec.subtypes:
            self._check_union(value, spec, path)
            return
        if spec.string_ok and isinstance(value, str):
            return
        if not isinstance(value, dict):
            raise SpecMismatch(path, f"expected {type_name} object, got {_json_kind(value)}")
        for key in value:
            if key not in spec.fields:
                raise SpecMismatch(_join(path, key), f"unknown field of {type_name}")
        for fspec in spec.fields.values():
            fpath = _join(path, fspec.name)
            if fspec.name not in value:
                if fspec.required:
                    raise SpecMismatch(fpath, f"required field of {type_name} is missing")
                continue
            item = value[fspec.name]
            self.check(item, fspec.types, fpath)
            if fspec.const is not None and item != fspec.const:
                raise SpecMismatch(fpath, f"must be {fspec.const!r} for {type_name}, got {item!r}")

    def _check_union(self, value: Any, spec: TypeSpec, path: str) -> None:
        if not isinstance(value, dict):
            raise SpecMismatch(path, f"expected {spec.name} object, got {_json_kind(value)}")
        members = [self.types[name] for name in spec.subtypes if name in self.types]
        discriminators = {f.name for m in members for f in m.fields.values() if f.const is not None}
        candidates = members
        for key in sorted(discriminators):
            if key not in value:
                raise SpecMismatch(_join(path, key), f"required field of {spec.name} is missing")
            candidates = [m for m in candidates if key not in m.fields or m.fields[key].const in (None, value[key])]
            if not candidates:
                allowed = sorted({str(m.fields[key].const) for m in members if key in m.fields})
                raise SpecMismatch(_join(path, key), f"unknown {spec.name} {key} {value[key]!r}; one of {allowed}")
        self.check(value, [m.name for m in candidates], path)

    def check_result(self, value: Any, types: Sequence[str], path: str = "result") -> None:
        """Check a result the sandbox produces (used by its own tests to keep it faithful)."""
        if types == ("True",) or list(types) == ["True"]:
            if value is not True:
                raise SpecMismatch(path, "expected True")
            return
        self.check(value, list(types), path)


def _best(failures: Sequence[SpecMismatch]) -> SpecMismatch:
    """Among the alternatives of a union, blame the one that got furthest into the value."""
    return max(failures, key=lambda exc: (len(exc.path), -failures.index(exc)))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(types: Sequence[str]) -> str:
    return " or ".join(types)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return f"String {value!r}" if len(value) < 40 else "String"
    if isinstance(value, list):
        return "Array"
    return "object"


@cache
def load_spec() -> Spec:
    return Spec.from_json(json.loads(SPEC_PATH.read_text(encoding="utf-8")))
