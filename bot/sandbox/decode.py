"""Turning an HTTP request into validated Bot API parameters, as Telegram's front end does."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.errors import bad_request
from bot.sandbox.spec import MethodSpec, Spec, SpecMismatch, UploadedFile

_ATTACH_RE = re.compile(r"attach://([A-Za-z0-9_\-.]+)")


def _from_json(value: Any) -> Any:
    """Top-level JSON values are read the way form values are (Telegram stringifies scalars)."""
    if value is None or isinstance(value, dict | list | str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """(parameters, uploaded files) from the query string and any body."""
    fields: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return fields, files
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            raise bad_request("can't parse request JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("request JSON must be an object")
        fields.update({k: _from_json(v) for k, v in body.items() if v is not None})
    elif ctype == "application/x-www-form-urlencoded":
        form = await request.post()
        fields.update({k: str(v) for k, v in form.items()})
    elif ctype.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data = bytes(await part.read(decode=False))
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files[part.name] = UploadedFile(part.name, part.filename, content_type, data)
            else:
                fields[part.name] = await part.text()
    elif ctype not in ("", "application/octet-stream"):
        raise bad_request(f"unsupported Content-Type {ctype}")
    return fields, files


def _attach_names(fields: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for value in fields.values():
        text = value if isinstance(value, str) else json.dumps(value)
        names.update(_ATTACH_RE.findall(text))
    return names


def _missing(name: str, types: tuple[str, ...]) -> str:
    if name == "chat_id":
        return "chat_id is empty"
    if name == "text":
        return "message text is empty"
    if "InputFile" in types:
        return f"there is no {name} in the request"
    return f'parameter "{name}" is required'


def validate(spec: Spec, method: MethodSpec, fields: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
    """Decode and check every parameter against the spec; raise a 400 violation on the first problem."""
    for name in fields:
        if name not in method.fields:
            raise bad_request(f'unknown parameter "{name}" for method {method.name}')
    attached = _attach_names(fields)
    for name in files:
        if name not in method.fields and name not in attached:
            raise bad_request(f'unknown parameter "{name}" (an uploaded file nothing refers to) for {method.name}')
    params: dict[str, Any] = {}
    for fspec in method.fields.values():
        raw: Any = fields.get(fspec.name)
        if raw is None:
            raw = files.get(fspec.name)
        if raw is None or raw == "":
            # Telegram reads an empty value as an absent one.
            if fspec.required:
                raise bad_request(_missing(fspec.name, fspec.types))
            continue
        try:
            params[fspec.name] = spec.decode_param(raw, fspec.types, fspec.name)
        except SpecMismatch as exc:
            if exc.path == fspec.name:
                raise bad_request(f'wrong parameter "{fspec.name}": {exc.message}') from None
            raise bad_request(f"can't parse {fspec.name} JSON object: {exc}") from None
    return params
