"""parse_mode=MarkdownV2 and legacy Markdown, following tdlib's parsers and error messages."""

from __future__ import annotations

from bot.sandbox.htmltext import Entity, EntityParseError, parse_html

_RESERVED_V2 = b"_*[]()~`>#+-=|{}.!"
_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


class UnsupportedParseMode(ValueError):
    pass


def _units(byte: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte (counted on the first byte of each character)."""
    if byte & 0xC0 == 0x80:
        return 0
    return 2 if byte >= 0xF0 else 1


def _skip_pre_newline(b: bytes, i: int) -> int:
    def at(k: int) -> int:
        return b[k] if k < len(b) else 0

    if at(i) in (0x0A, 0x0D):
        if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
            return i + 2
        return i + 1
    return i


def _link(offset: int, length: int, url: str) -> Entity | None:
    if url.startswith("tg://user?id=") and url[len("tg://user?id=") :].isdigit():
        user = {"id": int(url[len("tg://user?id=") :]), "is_bot": False, "first_name": ""}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    if not url or any(ch.isspace() for ch in url):
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": url}


class _Open:
    __slots__ = ("argument", "byte_offset", "kind", "offset", "result_pos")

    def __init__(self, kind: str, argument: str, offset: int, byte_offset: int, result_pos: int) -> None:
        self.kind = kind
        self.argument = argument
        self.offset = offset
        self.byte_offset = byte_offset
        self.result_pos = result_pos


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    b = text.encode("utf-8")
    n = len(b)

    def at(k: int) -> int:
        return b[k] if k < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[Entity] = []
    nested: list[_Open] = []
    quote_start: int | None = None
    i = 0
    while i < n:
        c = b[i]
        line_start = i == 0 or b[i - 1] == 0x0A
        if line_start and quote_start is not None and c != 0x3E:
            entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
            quote_start = None
        if c == 0x5C and 0 < at(i + 1) <= 126:  # backslash escape
            out.append(b[i + 1])
            utf16 += 1
            i += 2
            continue
        reserved = b"`" if nested and nested[-1].kind in ("code", "pre") else _RESERVED_V2
        if c not in reserved:
            utf16 += _units(c)
            out.append(c)
            i += 1
            continue
        if c == 0x3E and line_start and not nested:  # '>' starts a quoted line
            if quote_start is None:
                quote_start = utf16
            i += 1
            continue
        top = nested[-1] if nested else None
        closes = top is not None and (
            (top.kind == "bold" and c == 0x2A)
            or (top.kind == "italic" and c == 0x5F and at(i + 1) != 0x5F)
            or (top.kind == "code" and c == 0x60)
            or (top.kind == "pre" and c == 0x60 and at(i + 1) == 0x60 and at(i + 2) == 0x60)
            or (top.kind in ("text_link", "custom_emoji") and c == 0x5D)
            or (top.kind == "underline" and c == 0x5F and at(i + 1) == 0x5F)
            or (top.kind == "strikethrough" and c == 0x7E)
            or (top.kind == "spoiler" and c == 0x7C and at(i + 1) == 0x7C)
        )
        if not closes:
            start = i
            argument = ""
            if c == 0x5F:
                kind = "underline" if at(i + 1) == 0x5F else "italic"
                i += 2 if kind == "underline" else 1
            elif c == 0x2A:
                kind, i = "bold", i + 1
            elif c == 0x7E:
                kind, i = "strikethrough", i + 1
            elif c == 0x7C and at(i + 1) == 0x7C:
                kind, i = "spoiler", i + 2
            elif c == 0x5B:
                kind, i = "text_link", i + 1
            elif c == 0x21 and at(i + 1) == 0x5B:
                kind, i = "custom_emoji", i + 2
            elif c == 0x60 and at(i + 1) == 0x60 and at(i + 2) == 0x60:
                kind = "pre"
                i += 3
                lang_end = i
                while at(lang_end) and at(lang_end) not in b" \t\r\n\f\v`":
                    lang_end += 1
                if i != lang_end and lang_end < n and at(lang_end) != 0x60:
                    argument = b[i:lang_end].decode("utf-8", "replace")
                    i = lang_end
                i = _skip_pre_newline(b, i)
            elif c == 0x60:
                kind, i = "code", i + 1
            else:
                raise EntityParseError(f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'")
            nested.append(_Open(kind, argument, utf16, start, len(out)))
            continue
        assert top is not None
        nested.pop()
        skip = utf16 == top.offset
        entity: Entity | None = {"type": top.kind, "offset": top.offset, "length": utf16 - top.offset}
        if top.kind in ("underline", "spoiler"):
            i += 2
        elif top.kind == "pre":
            i += 3
            if top.argument and entity is not None:
                entity["language"] = top.argument
        elif top.kind in ("text_link", "custom_emoji"):
            i += 1
            if at(i) != 0x28:
                if top.kind == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = out[top.result_pos :].decode("utf-8", "replace")
            else:
                i += 1
                url_begin = i
                url_bytes = bytearray()
                while i < n and b[i] != 0x29:
                    if b[i] == 0x5C and 0 < at(i + 1) <= 126:
                        url_bytes.append(b[i + 1])
                        i += 2
                        continue
                    url_bytes.append(b[i])
                    i += 1
                if at(i) != 0x29:
                    raise EntityParseError(f"Can't find end of a URL at byte offset {url_begin}")
                i += 1
                url = url_bytes.decode("utf-8", "replace")
            if top.kind == "custom_emoji":
                emoji_id = url.removeprefix("tg://emoji?id=")
                if not url.startswith("tg://emoji?id=") or not emoji_id.isdigit():
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity = {"type": "custom_emoji", "offset": top.offset, "length": utf16 - top.offset}
                entity["custom_emoji_id"] = emoji_id
            else:
                entity = _link(top.offset, utf16 - top.offset, url)
        else:
            i += 1
        if entity is not None and not skip:
            entities.append(entity)
    if nested:
        top = nested[-1]
        raise EntityParseError(
            f"Can't find end of {_TYPE_NAMES.get(top.kind, top.kind)} entity at byte offset {top.byte_offset}"
        )
    if quote_start is not None and utf16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.decode("utf-8"), entities


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy parse_mode=Markdown."""
    b = text.encode("utf-8")
    n = len(b)

    def at(k: int) -> int:
        return b[k] if k < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[Entity] = []
    i = 0
    while i < n:
        c = b[i]
        if c == 0x5C and at(i + 1) in b"_*`[":
            out.append(b[i + 1])
            utf16 += 1
            i += 2
            continue
        if c not in b"_*`[":
            utf16 += _units(c)
            out.append(c)
            i += 1
            continue
        begin = i
        end_char = 0x5D if c == 0x5B else c
        i += 1
        is_pre = False
        language = ""
        if c == 0x60 and at(i) == 0x60 and at(i + 1) == 0x60:
            i += 2
            is_pre = True
            lang_end = i
            while at(lang_end) and at(lang_end) not in b" \t\r\n\f\v`":
                lang_end += 1
            if i != lang_end and lang_end < n and at(lang_end) != 0x60:
                language = b[i:lang_end].decode("utf-8", "replace")
                i = lang_end
            i = _skip_pre_newline(b, i)
        offset = utf16
        while i < n and (b[i] != end_char or (is_pre and not (at(i + 1) == 0x60 and at(i + 2) == 0x60))):
            utf16 += _units(b[i])
            out.append(b[i])
            i += 1
        if i >= n:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        length = utf16 - offset
        if c == 0x5B:
            if at(i + 1) != 0x28:
                url = b[begin + 1 : i].decode("utf-8", "replace")
            else:
                i += 2
                url_start = i
                while i < n and b[i] != 0x29:
                    i += 1
                url = b[url_start:i].decode("utf-8", "replace")
            link = _link(offset, length, url) if length else None
            if link is not None:
                entities.append(link)
        elif length:
            kind = {0x5F: "italic", 0x2A: "bold", 0x60: "pre" if is_pre else "code"}[c]
            entity: Entity = {"type": kind, "offset": offset, "length": length}
            if is_pre and language:
                entity["language"] = language
            entities.append(entity)
        i += 3 if is_pre else 1
    return out.decode("utf-8"), entities


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Plain text and entities for ``text`` sent with ``parse_mode`` (None or "" = no formatting)."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise UnsupportedParseMode(parse_mode)
