"""Polling official warning feeds: RSS/Atom lists of CAP documents (or single CAP documents) over HTTP.

Each poll asks every configured feed with its last ETag / Last-Modified, so an unchanged feed costs one short
answer. New documents are fetched, then stored oldest first, so that an Alert, its Update and its Cancel that
appear between two polls still become one warning with three revisions. Every response is read with a timeout and
a size cap; a document that fails to fetch is tried again at the next poll, one that fails to parse is not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import aiohttp

from bot.clock import Clock
from bot.domain.warnings import EarlyWarning, WarningChange
from bot.services.cap import CapAlert, CapError, UnsafeXmlError, parse_cap, parse_feed
from bot.services.cap_mapping import CityArea
from bot.services.warning_core import WarningDelivery
from bot.services.warning_ingest import Ignored, IgnoreReason, Ingested, TestMessage
from bot.services.warning_settings import WarningSettings
from bot.services.warnings import WarningService
from storage import Storage

log = logging.getLogger(__name__)

# What a poll leaves to the next one: a document it could not fetch, or could not store for a fault of ours.
_TRIED_AGAIN = {IgnoreReason.FETCH_FAILED, IgnoreReason.FAILED}

_ACCEPT = "application/rss+xml, application/atom+xml, application/cap+xml, application/xml;q=0.9, text/xml;q=0.9"
_CHUNK = 64 * 1024


@dataclass
class FeedResult:
    new: list[EarlyWarning] = field(default_factory=list)
    revised: list[tuple[EarlyWarning, WarningChange]] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    test_messages: list[TestMessage] = field(default_factory=list)  # for admins only
    deliveries: list[WarningDelivery] = field(default_factory=list)  # what must go out now, in order
    expired: list[EarlyWarning] = field(default_factory=list)  # past their end, or gone from their feed
    superseded: list[EarlyWarning] = field(default_factory=list)  # forecast drafts an official warning replaced
    # Each official warning that set forecast drafts aside, with them: staff who were offered a draft hear so.
    set_aside: list[tuple[EarlyWarning, tuple[EarlyWarning, ...]]] = field(default_factory=list)


class FetchError(Exception):
    def __init__(self, reason: IgnoreReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class FeedPoller:
    def __init__(
        self, storage: Storage, clock: Clock, settings: WarningSettings, session: aiohttp.ClientSession
    ) -> None:
        self._storage = storage
        self._settings = settings
        self._session = session
        self._service = WarningService(storage, clock, settings)
        self._validators: dict[str, tuple[str | None, str | None]] = {}  # feed → (ETag, Last-Modified)
        # Documents already dealt with in this process (stored ones are also known to the database), so that
        # Test messages are flagged once and documents outside the city are not fetched again every poll.
        self._done: set[str] = set()

    async def poll(self) -> FeedResult:
        result = FeedResult()
        city = await self._service.city_area()
        for url in self._settings.feed_urls:
            try:
                await self.poll_feed(url, city, result)
            except Exception as error:
                # A fault of ours with one feed's content must not keep every other feed's warnings from anyone.
                log.exception("warning feed %s could not be read; the other feeds are read as usual", url)
                result.ignored.append(Ignored(url, IgnoreReason.FAILED, type(error).__name__))
        result.expired += await self._service.expire_due()
        return result

    async def poll_feed(self, url: str, city: CityArea, result: FeedResult) -> None:
        before = len(result.ignored)
        complete = False
        try:
            await self._read_feed(url, city, result)
            complete = not any(ignored.reason in _TRIED_AGAIN for ignored in result.ignored[before:])
        finally:
            if not complete:
                # Something the list names is left to read: the next poll must read the list again, not be told
                # 304 Not Modified and wait for the list to change, which can take hours.
                self._validators.pop(url, None)

    async def _read_feed(self, url: str, city: CityArea, result: FeedResult) -> None:
        try:
            body = await self._fetch(url, conditional=True)
        except FetchError as error:
            result.ignored.append(Ignored(url, error.reason, error.detail))
            return
        if body is None:
            return  # 304: nothing new, and nothing has left the feed either
        try:
            parsed = parse_feed(body, url)
        except CapError as error:
            result.ignored.append(Ignored(url, _reason(error), str(error)))
            return
        documents: list[tuple[CapAlert, str]] = []
        if parsed.alert is not None:
            documents.append((parsed.alert, url))
            present = {url}
        else:
            present = {entry.link for entry in parsed.entries}
            for entry in parsed.entries[: self._settings.feed_max_documents]:
                if entry.link in self._done or await self._storage.warnings.source_seen(entry.link):
                    continue
                if entry.region_codes and not any(city.contains_code(code) for code in entry.region_codes):
                    self._done.add(entry.link)
                    result.ignored.append(Ignored(entry.link, IgnoreReason.OUTSIDE_CITY, entry.title))
                    continue
                alert = await self._document(entry.link, result)
                if alert is not None:
                    documents.append((alert, entry.link))
        # Oldest first: an Update must find the Alert it references already stored.
        for alert, source in sorted(documents, key=lambda item: item[0].sent):
            try:
                outcome = await self._service.ingest_official(alert, source_url=source, feed_url=url, city=city)
            except Exception as error:
                # Nor one document's the rest of its feed's: it stays unread, so the next poll tries it again.
                log.exception("warning document %s could not be stored; the feed's others are read as usual", source)
                result.ignored.append(Ignored(source, IgnoreReason.FAILED, type(error).__name__))
                continue
            self._done.add(source)
            _collect(outcome, result)
        result.expired += await self._service.expire_left_feed(url, present)

    async def _document(self, link: str, result: FeedResult) -> CapAlert | None:
        try:
            body = await self._fetch(link, conditional=False)
            assert body is not None
            return parse_cap(body)
        except FetchError as error:
            result.ignored.append(Ignored(link, error.reason, error.detail))  # tried again next poll
        except CapError as error:
            self._done.add(link)
            result.ignored.append(Ignored(link, _reason(error), str(error)))
        return None

    async def _fetch(self, url: str, *, conditional: bool) -> bytes | None:
        """The body, or None for 304 Not Modified when asked conditionally."""
        headers = {"Accept": _ACCEPT, "User-Agent": self._settings.user_agent}
        etag, modified = self._validators.get(url, (None, None)) if conditional else (None, None)
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        timeout = aiohttp.ClientTimeout(total=self._settings.feed_timeout_seconds)
        limit = self._settings.feed_max_bytes
        try:
            async with self._session.get(url, headers=headers, timeout=timeout) as response:
                if response.status == 304 and conditional:
                    return None
                if response.status != 200:
                    raise FetchError(IgnoreReason.FETCH_FAILED, f"HTTP {response.status}")
                body = await read_capped(response, limit)
                if conditional:
                    self._validators[url] = (response.headers.get("ETag"), response.headers.get("Last-Modified"))
                return body
        except (aiohttp.ClientError, TimeoutError) as error:
            raise FetchError(IgnoreReason.FETCH_FAILED, f"{type(error).__name__}: {error}") from None


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or FetchError(TOO_LARGE) as soon as it passes `limit` bytes."""
    if response.content_length is not None and response.content_length > limit:
        raise FetchError(IgnoreReason.TOO_LARGE, f"{response.content_length} bytes > {limit}")
    body = bytearray()
    # Counted as it arrives (after any gzip), so a lying or absent Content-Length cannot get past.
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise FetchError(IgnoreReason.TOO_LARGE, f"more than {limit} bytes")
    return bytes(body)


def _reason(error: CapError) -> IgnoreReason:
    return IgnoreReason.UNSAFE_XML if isinstance(error, UnsafeXmlError) else IgnoreReason.INVALID


def _collect(outcome: Ingested | Ignored | TestMessage, result: FeedResult) -> None:
    if isinstance(outcome, TestMessage):
        result.test_messages.append(outcome)
    elif isinstance(outcome, Ignored):
        if outcome.reason is not IgnoreReason.DUPLICATE:  # a message seen before is no news
            result.ignored.append(outcome)
    else:
        if outcome.change is WarningChange.ISSUE:
            result.new.append(outcome.warning)
        else:
            result.revised.append((outcome.warning, outcome.change))
        if outcome.delivery is not None:
            result.deliveries.append(outcome.delivery)
        result.superseded += outcome.superseded
        if outcome.superseded:
            result.set_aside.append((outcome.warning, outcome.superseded))
