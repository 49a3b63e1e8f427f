"""Reading OASIS CAP 1.2 documents and the RSS/Atom lists that point to them, safely.

Feeds come from outside, so XML is parsed with defusedxml and no document type declaration is allowed at all:
CAP needs none, and a DTD is how entity-expansion bombs and external entities get in. Such a document is refused
with `UnsafeXmlError`, never parsed. Namespaces are ignored (CAP 1.1 and 1.2, and feeds that drop the namespace,
read the same). What the elements mean for us (kind, level, area) is `bot.services.cap_mapping`.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.i18n import clipped

log = logging.getLogger(__name__)

# CMA identifiers start with the issuing area's code: 33030541600000_20240911093014 (洞头区, then the time).
_CMA_IDENTIFIER = re.compile(r"(?<!\d)(\d{6})\d{8}_\d{14}(?!\d)")
_ADMIN_CODE = re.compile(r"^\d{6}(?:\d{3}|\d{6})?$")
# CAP 1.2 asks for a headline under 160 characters. A feed that writes thousands would make the warning longer than
# one Telegram message, which Telegram refuses: nobody would be warned. The description and instruction are
# clipped where the warning is worded (handlers/warning_text.py); these two name the warning everywhere.
MAX_HEADLINE = 200


class CapError(ValueError):
    """A document that is not a CAP alert or feed we can read."""


class UnsafeXmlError(CapError):
    """A document declaring a DTD or entities: possibly an entity-expansion bomb or an external entity."""


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # (latitude, longitude) rings
    circles: tuple[tuple[float, float, float], ...] = ()  # latitude, longitude, radius in km
    geocodes: tuple[tuple[str, str], ...] = ()  # (valueName, value)


@dataclass(frozen=True)
class CapInfo:
    language: str
    event: str
    headline: str
    description: str
    instruction: str
    severity: str
    urgency: str
    certainty: str
    sender_name: str
    event_codes: tuple[tuple[str, str], ...]
    parameters: tuple[tuple[str, str], ...]
    effective: datetime | None
    onset: datetime | None
    expires: datetime | None
    areas: tuple[CapArea, ...]


@dataclass(frozen=True)
class CapReference:
    sender: str
    identifier: str
    sent: str

    def __str__(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str  # Actual / Exercise / System / Test / Draft
    msg_type: str  # Alert / Update / Cancel / Ack / Error
    scope: str
    references: tuple[CapReference, ...]
    infos: tuple[CapInfo, ...]

    def info(self) -> CapInfo | None:
        """The Chinese info block if there is one (the feed's own words), else the first."""
        for info in self.infos:
            if info.language.lower().startswith("zh"):
                return info
        return self.infos[0] if self.infos else None


@dataclass(frozen=True)
class FeedEntry:
    link: str  # absolute address of the CAP document
    title: str
    guid: str | None
    region_codes: tuple[str, ...]  # administrative codes the item itself carries, if any


@dataclass(frozen=True)
class ParsedFeed:
    """A feed is a list of links to CAP documents; some sources publish one CAP document at the feed address."""

    entries: tuple[FeedEntry, ...] = ()
    alert: CapAlert | None = None


def parse_xml(data: bytes) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise UnsafeXmlError(f"refused: the document declares a DTD or entities ({type(error).__name__})") from None
    except ParseError as error:
        raise CapError(f"not well-formed XML: {error}") from None


def parse_cap(data: bytes) -> CapAlert:
    return read_alert(parse_xml(data))


def parse_feed(data: bytes, base_url: str) -> ParsedFeed:
    root = parse_xml(data)
    name = _local(root.tag)
    if name == "alert":
        return ParsedFeed(alert=read_alert(root))
    if name == "rss":
        channel = _child(root, "channel")
        items = _children(channel, "item") if channel is not None else []
        return ParsedFeed(entries=tuple(e for e in (_rss_entry(i, base_url) for i in items) if e is not None))
    if name == "feed":
        return ParsedFeed(entries=tuple(e for e in (_atom_entry(i, base_url) for i in _children(root, "entry")) if e))
    raise CapError(f"neither a CAP alert nor an RSS/Atom feed: <{name}>")


def read_alert(root: Element) -> CapAlert:
    if _local(root.tag) != "alert":
        raise CapError(f"not a CAP alert: <{_local(root.tag)}>")
    identifier, sender = _text(root, "identifier"), _text(root, "sender")
    if not identifier or not sender:
        raise CapError("a CAP alert needs identifier and sender")
    sent = _time(root, "sent")
    if sent is None:
        raise CapError(f"CAP alert {identifier} has no sent time")
    return CapAlert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        scope=_text(root, "scope"),
        references=_references(_text(root, "references")),
        infos=tuple(_info(info) for info in _children(root, "info")),
    )


def _info(info: Element) -> CapInfo:
    return CapInfo(
        language=_text(info, "language") or "en-US",  # CAP's default
        event=clipped(_text(info, "event"), MAX_HEADLINE),
        headline=clipped(_text(info, "headline"), MAX_HEADLINE),
        description=_text(info, "description"),
        instruction=_text(info, "instruction"),
        severity=_text(info, "severity"),
        urgency=_text(info, "urgency"),
        certainty=_text(info, "certainty"),
        sender_name=_text(info, "senderName"),
        event_codes=_pairs(info, "eventCode"),
        parameters=_pairs(info, "parameter"),
        effective=_optional_time(info, "effective"),
        onset=_optional_time(info, "onset"),
        expires=_optional_time(info, "expires"),
        areas=tuple(_area(area) for area in _children(info, "area")),
    )


def _area(area: Element) -> CapArea:
    return CapArea(
        description=_text(area, "areaDesc"),
        polygons=tuple(p for p in (_polygon(e.text or "") for e in _children(area, "polygon")) if p),
        circles=tuple(c for c in (_circle(e.text or "") for e in _children(area, "circle")) if c),
        geocodes=_pairs(area, "geocode"),
    )


def _polygon(text: str) -> tuple[tuple[float, float], ...]:
    points = []
    for pair in text.split():
        lat, _, lon = pair.partition(",")
        point = _numbers(lat, lon)
        if point is None:
            return ()
        points.append((point[0], point[1]))
    return tuple(points) if len(points) >= 4 else ()  # CAP: at least four points, the first repeated last


def _circle(text: str) -> tuple[float, float, float] | None:
    centre, _, radius = text.strip().partition(" ")
    lat, _, lon = centre.partition(",")
    circle = _numbers(lat, lon, radius)
    return None if circle is None or circle[2] < 0 else (circle[0], circle[1], circle[2])


def _numbers(*texts: str) -> tuple[float, ...] | None:
    """The numbers, or None unless each is one and finite: float() also reads "inf" and "nan", which a place on
    Earth never is (and the trigonometry of matching a circle refuses)."""
    try:
        numbers = tuple(float(text) for text in texts)
    except ValueError:
        return None
    return numbers if all(math.isfinite(number) for number in numbers) else None


def _references(text: str) -> tuple[CapReference, ...]:
    found = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) >= 2:
            found.append(CapReference(parts[0], parts[1], ",".join(parts[2:])))
    return tuple(found)


def _rss_entry(item: Element, base_url: str) -> FeedEntry | None:
    written = _text(item, "link")
    link = _absolute(base_url, written)
    guid = _text(item, "guid") or None
    if not link:
        return None
    texts = [written, guid or "", *(child.text or "" for child in item)]
    return FeedEntry(link, _text(item, "title"), guid, _codes(texts))


def _atom_entry(entry: Element, base_url: str) -> FeedEntry | None:
    links = _children(entry, "link")
    # Prefer the link that says it is CAP, then the "alternate" one, then any.
    ranked = sorted(links, key=lambda e: ("cap" not in (e.get("type") or ""), e.get("rel", "alternate") != "alternate"))
    written = (ranked[0].get("href") or "").strip() if ranked else ""
    href = _absolute(base_url, written)
    if not href:
        return None
    guid = _text(entry, "id") or None
    # The codes are read from the link as the feed wrote it: the feed's own address must not lend it any.
    texts = [written, guid or "", *(child.text or "" for child in entry)]
    return FeedEntry(href, _text(entry, "title"), guid, _codes(texts))


def _absolute(base_url: str, link: str) -> str | None:
    """The entry's link made absolute; None (the entry is passed over) when it is not a URL at all: one broken
    item must not stop the feed, and with it every feed after it, from being read."""
    if not link:
        return None
    try:
        return urljoin(base_url, link)
    except ValueError:  # e.g. "http://[::1": urllib refuses an unclosed IPv6 address
        return None


def _codes(texts: list[str]) -> tuple[str, ...]:
    codes: list[str] = []
    for text in texts:
        value = text.strip()
        found = [value] if _ADMIN_CODE.match(value) else _CMA_IDENTIFIER.findall(value)
        codes += [code for code in found if code not in codes]
    return tuple(codes)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: Element, name: str) -> Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _pairs(element: Element, name: str) -> tuple[tuple[str, str], ...]:
    return tuple((_text(e, "valueName"), _text(e, "value")) for e in _children(element, name))


def _optional_time(element: Element, name: str) -> datetime | None:
    """A time the warning can do without (onset, effective, expires): one that cannot be read is left out, with a
    word in the log, rather than costing the whole warning. Without it the onset is the sent time and the warning
    ends a day later, as one that names no end."""
    try:
        return _time(element, name)
    except CapError as error:
        log.warning("CAP info: %s; read as absent", error)
        return None


def _time(element: Element, name: str) -> datetime | None:
    text = _text(element, name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CapError(f"<{name}> is not a CAP dateTime: {text!r}") from None
    if value.tzinfo is None:
        raise CapError(f"<{name}> has no UTC offset: {text!r}")  # CAP requires one; guessing is 8 hours wrong
    return value
