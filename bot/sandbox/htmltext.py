"""Telegram's formatted-text parsing: parse_mode=HTML the way the Bot API (tdlib) does it.

Errors carry tdlib's wording, so "Bad Request: can't parse entities: <message>" reads exactly as
Telegram answers. One rule is stricter than tdlib: a bare ``&`` that does not start an entity is an
error, because the Bot API documentation requires it to be escaped (tdlib happens to tolerate it).
Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from typing import Any

Entity = dict[str, Any]

_SPACE = frozenset(b" \t\r\n\f\v")
_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
        "tg-time",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}


class EntityParseError(ValueError):
    """The text is not valid for its parse_mode; str() is tdlib's message."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(b: bytes, pos: int) -> tuple[int, int]:
    """(code point, position after it) for an HTML entity at ``pos``, or (0, pos) if there is none."""

    def at(k: int) -> int:
        return b[k] if k < len(b) else 0

    end = pos + 1
    code = 0
    if at(end) == 0x23:  # '#'
        end += 1
        if at(end) == 0x78:  # 'x'
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while 0x30 <= at(end) <= 0x39:
                code = code * 10 + at(end) - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10 or 0xD800 <= code <= 0xDFFF:
            return 0, pos
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha() and at(end):
            end += 1
        code = _NAMED_ENTITIES.get(b[pos + 1 : end], 0)
        if code == 0:
            return 0, pos
    if at(end) == 0x3B:  # ';'
        end += 1
    return code, end


class _Open:
    __slots__ = ("argument", "begin", "extra", "offset", "tag")

    def __init__(self, tag: str, argument: str, offset: int, begin: int, extra: dict[str, str]) -> None:
        self.tag = tag
        self.argument = argument
        self.offset = offset
        self.begin = begin
        self.extra = extra


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, MessageEntity dicts); raise EntityParseError like tdlib."""
    b = text.encode("utf-8")
    n = len(b)

    def at(k: int) -> int:
        return b[k] if k < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[Entity] = []
    nested: list[_Open] = []
    i = 0
    while i < n:
        c = b[i]
        if c == 0x26:  # '&'
            code, after = _decode_entity(b, i)
            if code == 0:
                raise EntityParseError(f'Character "&" at byte offset {i} must be escaped as "&amp;"')
            out += chr(code).encode("utf-8")
            utf16 += 2 if code > 0xFFFF else 1
            i = after
            continue
        if c != 0x3C:  # not '<'
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != 0x2F:  # start tag
            while at(i) and at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = b[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            extra: dict[str, str] = {}
            while at(i) != 0x3E:
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) == 0x3E:
                    break
                attr_begin = i
                while at(i) and at(i) not in _SPACE and at(i) not in (0x3D, 0x3E):
                    i += 1
                attr = b[attr_begin:i].decode("utf-8", "replace").lower()
                if not attr:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) != 0x3D:  # '='
                    if tag == "blockquote" and attr == "expandable":
                        argument = "expandable"
                        continue
                    if at(i) == 0:
                        raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (0x22, 0x27):
                    token_begin = i
                    while at(i) and ((chr(at(i)).isascii() and chr(at(i)).isalnum()) or at(i) in (0x2E, 0x2D)):
                        i += 1
                    value = b[token_begin:i].decode("utf-8", "replace").lower()
                    if at(i) not in _SPACE and at(i) != 0x3E:
                        raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while at(i) and at(i) != quote:
                        if at(i) == 0x26:
                            code, after = _decode_entity(b, i)
                            if code:
                                raw += chr(code).encode("utf-8")
                                i = after
                                continue
                        raw.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if at(i) == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
                elif tag == "tg-time" and attr in ("unix", "format"):
                    extra[attr] = value
            i += 1
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append(_Open(tag, argument, utf16, len(out), extra))
            continue
        # end tag
        if not nested:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) and at(i) not in _SPACE and at(i) != 0x3E:
            i += 1
        end_tag = b[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) and at(i) in _SPACE:
            i += 1
        if at(i) != 0x3E:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        top = nested[-1]
        if end_tag and end_tag != top.tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{top.tag}>", found "</{end_tag}>"'
            )
        i += 1
        nested.pop()
        if utf16 > top.offset:
            entity = _make_entity(top, utf16 - top.offset, bytes(out[top.begin :]), nested)
            if entity is not None:
                entities.append(entity)
    if nested:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.decode("utf-8"), entities


def _make_entity(top: _Open, length: int, inner: bytes, parents: list[_Open]) -> Entity | None:
    base: Entity = {"offset": top.offset, "length": length}
    tag = top.tag
    if tag in _SIMPLE:
        return {"type": _SIMPLE[tag], **base}
    if tag == "span":
        return {"type": "spoiler", **base}
    if tag == "a":
        url = top.argument or inner.decode("utf-8", "replace")
        if url.startswith("tg://user?id="):
            user_id = url[len("tg://user?id=") :]
            if user_id.isdigit():
                return {"type": "text_mention", **base, "user": {"id": int(user_id), "is_bot": False, "first_name": ""}}
        if not url or any(ch.isspace() for ch in url):
            return None  # tdlib silently drops links it cannot normalise
        return {"type": "text_link", **base, "url": url}
    if tag == "code":
        parent = parents[-1] if parents else None
        if parent is not None and parent.tag == "pre" and parent.offset == top.offset:
            # <pre><code class="language-x"> is one pre entity carrying the language
            if top.argument:
                parent.argument = top.argument
            return None
        return {"type": "code", **base}
    if tag == "pre":
        if top.argument:
            return {"type": "pre", **base, "language": top.argument}
        return {"type": "pre", **base}
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if top.argument else "blockquote", **base}
    if tag == "tg-emoji":
        if not top.argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", **base, "custom_emoji_id": top.argument}
    if tag == "tg-time":
        unix = top.extra.get("unix", "")
        if not unix.lstrip("-").isdigit():
            raise EntityParseError("Invalid Unix time specified")
        entity: Entity = {"type": "date_time", **base, "unix_time": int(unix)}
        if top.extra.get("format"):
            entity["date_time_format"] = top.extra["format"]
        return entity
    return None


def html_to_plain(text: str) -> str:
    """What a person sees for an HTML-formatted message (raises EntityParseError if Telegram would)."""
    return parse_html(text)[0]
