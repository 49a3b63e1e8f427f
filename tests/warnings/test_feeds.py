"""The official feed end to end: a local server plays the CMA feed; Alert → Update → Cancel becomes one warning."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.domain.forecast_rules import ForecastFinding
from bot.domain.warnings import WarningChange, WarningKind, WarningLevel, WarningOrigin, WarningStatus
from bot.services.cap import CapAlert, parse_cap
from bot.services.feeds import FeedPoller
from bot.services.warning_ingest import Ignored, IgnoreReason, Ingested
from bot.services.warning_settings import WarningSettings, load_thresholds
from bot.services.warnings import WarningService
from storage.warning_models import RecipientKind
from tests.warnings.conftest import (
    DONGTOU,
    DONGTOU_CADRE,
    DONGTOU_CADRE_2,
    DONGTOU_HEAD_1,
    DONGTOU_HEAD_2,
    DONGTOU_WARNINGS,
    FeedServer,
    WarningWorld,
    fixture,
    rss,
)


def item(title: str, identifier: str) -> tuple[str, str, str]:
    return title, f"/cap/{identifier}.xml", identifier


TYPHOON = item("洞头区气象台发布台风橙色预警信号", "33030541600000_20260910083000")
UPGRADE = item("洞头区气象台将台风橙色预警信号升级为红色", "33030541600000_20260910143000")
LIFTED = item("洞头区气象台解除台风红色预警信号", "33030541600000_20260911100000")
RAIN = item("温州市气象台发布暴雨黄色预警信号", "33030041600000_20260910090000")
TEST = item("乐清市气象台发布大风蓝色预警信号（系统测试）", "33038241600000_20260910100000")
HANGZHOU = item("杭州市气象台发布高温橙色预警信号", "33010041600000_20260910110000")
BOMB = item("永嘉县气象台发布暴雨预警信号", "33032441600000_20260910120000")


def serve(server: FeedServer, *items: tuple[str, str, str]) -> None:
    files = {
        TYPHOON: "typhoon_alert.xml",
        UPGRADE: "typhoon_update.xml",
        LIFTED: "typhoon_cancel.xml",
        RAIN: "rainstorm_no_expires.xml",
        TEST: "gale_test.xml",
        HANGZHOU: "hangzhou_heat.xml",
        BOMB: "bomb.xml",
    }
    for item, name in files.items():
        server.files[item[1]] = fixture(name)
    server.files["/cap/rss.xml"] = rss(*items)


def poller(world: WarningWorld, server: FeedServer, session: aiohttp.ClientSession, **settings: object) -> FeedPoller:
    configured = WarningSettings.model_validate({"feed_urls": (server.url("/cap/rss.xml"),), **settings})
    return FeedPoller(world.storage, world.clock, configured, session)


async def test_alert_update_cancel_is_one_warning_reaching_the_same_people(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feeds = poller(world, feed_server, session)
    serve(feed_server, BOMB, HANGZHOU, TEST, RAIN, TYPHOON)  # newest first, as feeds list them
    first = await feeds.poll()

    assert [(w.kind, w.level, w.status) for w in first.new] == [
        (WarningKind.TYPHOON, WarningLevel.ORANGE, WarningStatus.SENT),  # orange: sent at once
        (WarningKind.RAINSTORM, WarningLevel.YELLOW, WarningStatus.DRAFT),  # yellow: a draft for staff
    ]
    typhoon = first.new[0]
    assert typhoon.target.regions == {DONGTOU} and typhoon.origin is WarningOrigin.OFFICIAL
    assert [d.warning.id for d in first.deliveries] == [typhoon.id]
    recipients = {(r.kind, r.chat_id) for r in first.deliveries[0].recipients}
    assert recipients == {
        (RecipientKind.HEAD, DONGTOU_HEAD_1),
        (RecipientKind.HEAD, DONGTOU_HEAD_2),
        (RecipientKind.CADRE, DONGTOU_CADRE),
        (RecipientKind.CADRE, DONGTOU_CADRE_2),
        (RecipientKind.GROUP, DONGTOU_WARNINGS),  # not the hazards group, not the city's own group
    }
    assert [(t.status, t.regions, t.level) for t in first.test_messages] == [
        ("Test", frozenset({"330382"}), WarningLevel.BLUE)
    ]
    assert {(i.reason, i.source.rsplit("/", 1)[-1]) for i in first.ignored} == {
        (IgnoreReason.OUTSIDE_CITY, "33010041600000_20260910110000.xml"),
        (IgnoreReason.UNSAFE_XML, "33032441600000_20260910120000.xml"),
    }
    assert feed_server.hits.get(HANGZHOU[1]) is None  # its item's code was enough: never fetched

    again = await feeds.poll()
    assert feed_server.not_modified == 1
    assert (again.new, again.revised, again.ignored, again.test_messages) == ([], [], [], [])

    world.clock.set(datetime(2026, 9, 10, 6, 35, tzinfo=UTC))  # 14:35 in Wenzhou
    serve(feed_server, UPGRADE, TEST, TYPHOON)  # the rainstorm item has left the feed
    second = await feeds.poll()
    assert second.new == [] and [(w.id, c) for w, c in second.revised] == [(typhoon.id, WarningChange.UPGRADE)]
    upgraded = second.revised[0][0]
    assert (upgraded.level, upgraded.status, upgraded.revision) == (WarningLevel.RED, WarningStatus.UPDATED, 2)
    assert second.deliveries[0].recipients == first.deliveries[0].recipients
    assert second.test_messages == []  # flagged once
    assert [(w.kind, w.status) for w in second.expired] == [(WarningKind.RAINSTORM, WarningStatus.EXPIRED)]

    world.clock.set(datetime(2026, 9, 11, 2, 5, tzinfo=UTC))
    serve(feed_server, LIFTED, UPGRADE, TYPHOON)
    third = await feeds.poll()
    assert [(w.id, c) for w, c in third.revised] == [(typhoon.id, WarningChange.CANCEL)]
    lifted = third.revised[0][0]
    assert (lifted.status, lifted.revision, lifted.ended_at) == (WarningStatus.CANCELLED, 3, world.clock.now())
    assert third.deliveries[0].change is WarningChange.CANCEL
    assert third.deliveries[0].recipients == first.deliveries[0].recipients

    stored = await world.storage.warnings.with_status(set(WarningStatus), kind=WarningKind.TYPHOON)
    assert [w.id for w in stored] == [typhoon.id]
    history = await world.service.revisions(typhoon.id)
    assert [(r.revision, r.change, r.level, r.msg_type) for r in history] == [
        (1, WarningChange.ISSUE, WarningLevel.ORANGE, "Alert"),
        (2, WarningChange.UPGRADE, WarningLevel.RED, "Update"),
        (3, WarningChange.CANCEL, WarningLevel.RED, "Cancel"),
    ]


async def test_a_chain_arriving_between_two_polls_is_stored_in_order(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    world.clock.set(datetime(2026, 9, 11, 2, 5, tzinfo=UTC))
    serve(feed_server, LIFTED, UPGRADE, TYPHOON)
    result = await poller(world, feed_server, session).poll()
    assert [w.kind for w in result.new] == [WarningKind.TYPHOON]
    assert [c for _, c in result.revised] == [WarningChange.UPGRADE, WarningChange.CANCEL]
    assert [d.change for d in result.deliveries] == [WarningChange.ISSUE, WarningChange.UPGRADE, WarningChange.CANCEL]


async def test_a_warning_without_expires_ends_a_day_after_onset(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feeds = poller(world, feed_server, session)
    serve(feed_server, RAIN)
    rain = (await feeds.poll()).new[0]
    assert rain.expires is None
    world.clock.set(datetime(2026, 9, 11, 0, 59, tzinfo=UTC))  # 08:59 next day: still in force
    assert (await feeds.poll()).expired == []
    world.clock.set(datetime(2026, 9, 11, 1, 0, tzinfo=UTC))  # onset 09:00 + 24 h
    assert [w.id for w in (await feeds.poll()).expired] == [rain.id]


async def test_size_cap_and_fetch_failures_are_reported_not_raised(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    serve(feed_server, RAIN)
    feed_server.files[RAIN[1]] = fixture("rainstorm_no_expires.xml") + b"<!--" + b" " * 5000 + b"-->"
    configured = WarningSettings(
        feed_urls=(feed_server.url("/cap/rss.xml"), feed_server.url("/missing.rss")), feed_max_bytes=4000
    )
    result = await FeedPoller(world.storage, world.clock, configured, session).poll()
    assert {(i.reason, i.source.rsplit("/", 1)[-1]) for i in result.ignored} == {
        (IgnoreReason.TOO_LARGE, "33030041600000_20260910090000.xml"),
        (IgnoreReason.FETCH_FAILED, "missing.rss"),
    }
    assert result.new == []


async def test_a_yellow_draft_raised_to_orange_goes_out_then(world: WarningWorld) -> None:
    rain = parse_cap(fixture("rainstorm_no_expires.xml"))
    first = await world.service.ingest_official(rain, source_url="http://127.0.0.1/a.xml")
    assert isinstance(first, Ingested) and first.delivery is None and first.warning.status is WarningStatus.DRAFT
    raised = fixture("rainstorm_no_expires.xml").decode()
    raised = raised.replace(
        "<msgType>Alert</msgType>",
        "<msgType>Update</msgType>\n  <references>"
        "温州市气象台,33030041600000_20260910090000,2026-09-10T09:00:00+08:00</references>",
    )
    raised = raised.replace("33030041600000_20260910090000</identifier>", "33030041600000_20260910110000</identifier>")
    raised = raised.replace("发布暴雨黄色预警信号", "将暴雨黄色预警信号升级为橙色")
    second = await world.service.ingest_official(parse_cap(raised.encode()), source_url="http://127.0.0.1/b.xml")
    assert isinstance(second, Ingested) and second.change is WarningChange.UPGRADE
    assert second.delivery is not None and second.delivery.change is WarningChange.ISSUE  # first time out
    assert second.warning.status is WarningStatus.SENT and second.warning.level is WarningLevel.ORANGE
    assert {r.chat_id for r in second.delivery.recipients} >= {DONGTOU_HEAD_1, DONGTOU_WARNINGS}
    duplicate = await world.service.ingest_official(parse_cap(raised.encode()), source_url="http://127.0.0.1/b.xml")
    assert isinstance(duplicate, Ignored) and duplicate.reason is IgnoreReason.DUPLICATE


async def test_a_cancel_of_something_never_stored_is_ignored(world: WarningWorld) -> None:
    cancel = parse_cap(fixture("typhoon_cancel.xml"))
    outcome = await world.service.ingest_official(cancel, source_url="http://127.0.0.1/c.xml")
    assert isinstance(outcome, Ignored) and outcome.reason is IgnoreReason.UNKNOWN_REFERENCE
    hangzhou = parse_cap(fixture("hangzhou_heat.xml"))
    outside = await world.service.ingest_official(hangzhou, source_url="http://127.0.0.1/h.xml")
    assert isinstance(outside, Ignored) and outside.reason is IgnoreReason.OUTSIDE_CITY


async def test_an_official_warning_withdraws_the_forecast_drafts_it_covers(world: WarningWorld) -> None:
    rules = {rule.id: rule for rule in load_thresholds(world.service.settings.thresholds_path).rules}
    now = world.clock.now()
    finding = ForecastFinding(
        kind=WarningKind.RAINSTORM,
        level=WarningLevel.YELLOW,
        rule_id="rain.yellow.6h50",
        onset=now + timedelta(hours=2),
        expires=now + timedelta(hours=8),
        observed=55.0,
        threshold=50.0,
    )
    draft = await world.service.store_forecast(DONGTOU, finding, rules["rain.yellow.6h50"])
    assert isinstance(draft, Ingested)
    official = await world.service.ingest_official(
        parse_cap(fixture("rainstorm_no_expires.xml")), source_url="http://127.0.0.1/r.xml"
    )
    assert isinstance(official, Ingested)
    assert [(w.id, w.status) for w in official.superseded] == [(draft.warning.id, WarningStatus.CANCELLED)]


async def test_a_fault_with_one_document_keeps_no_other_feed_from_being_read(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Faults in reading a feed's content have ended the whole poll before (a link urllib refused, a circle around
    inf): the feeds after it went unread at every poll. A fault not yet known, injected here into storing the
    typhoon's document, costs only that document, which the next poll tries again."""
    serve(feed_server, TYPHOON)
    feed_server.files["/b/rss.xml"] = rss(RAIN)
    urls = (feed_server.url("/cap/rss.xml"), feed_server.url("/b/rss.xml"))
    feeds = poller(world, feed_server, session, feed_urls=urls)
    ingest = WarningService.ingest_official

    async def faulty(service: WarningService, alert: CapAlert, **kwargs: Any) -> object:
        if alert.identifier == TYPHOON[2]:
            raise RuntimeError("a fault of ours")
        return await ingest(service, alert, **kwargs)

    monkeypatch.setattr(WarningService, "ingest_official", faulty)
    with caplog.at_level(logging.ERROR, logger="bot.services.feeds"):
        first = await feeds.poll()
    assert [w.kind for w in first.new] == [WarningKind.RAINSTORM]  # the other feed was read
    assert [(i.reason, i.source.rsplit("/", 1)[-1]) for i in first.ignored] == [
        (IgnoreReason.FAILED, f"{TYPHOON[2]}.xml")
    ]
    assert any(f"{TYPHOON[2]}.xml could not be stored" in r.getMessage() for r in caplog.records)

    monkeypatch.setattr(WarningService, "ingest_official", ingest)
    second = await feeds.poll()
    assert [w.kind for w in second.new] == [WarningKind.TYPHOON]  # tried again, and stored


async def test_a_document_that_could_not_be_fetched_is_fetched_at_the_next_poll(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    """The list has not changed since (the server answers 304 Not Modified), but the typhoon it lists was never read:
    the next poll must read the list again rather than wait for the list to change, which can take hours."""
    serve(feed_server, TYPHOON)
    document = feed_server.files.pop(TYPHOON[1])  # the observatory's server fails to give it out, once
    feeds = poller(world, feed_server, session)
    first = await feeds.poll()
    assert first.new == [] and [i.reason for i in first.ignored] == [IgnoreReason.FETCH_FAILED]
    feed_server.files[TYPHOON[1]] = document
    second = await feeds.poll()
    assert [w.kind for w in second.new] == [WarningKind.TYPHOON]
    third = await feeds.poll()
    assert third.new == [] and feed_server.not_modified == 1  # read, the list is asked for conditionally again


async def test_an_update_fetched_late_does_not_revive_a_lifted_warning(
    world: WarningWorld, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    """The feed lists the typhoon's Alert, its Update (升级为红色) and its Cancel (解除); the Update could not be
    fetched at first, so the warning went out and was lifted. When the Update is read at the next poll, the lifted
    typhoon stays lifted: its recipients, told 【解除】, are not sent an 【升级】 of a warning that has ended."""
    world.clock.set(datetime(2026, 9, 11, 2, 5, tzinfo=UTC))
    serve(feed_server, LIFTED, UPGRADE, TYPHOON)
    document = feed_server.files.pop(UPGRADE[1])  # the observatory's server fails to give it out, once
    feeds = poller(world, feed_server, session)
    first = await feeds.poll()
    (typhoon,) = first.new
    assert [(w.id, c) for w, c in first.revised] == [(typhoon.id, WarningChange.CANCEL)]
    assert [d.change for d in first.deliveries] == [WarningChange.ISSUE, WarningChange.CANCEL]

    feed_server.files[UPGRADE[1]] = document
    second = await feeds.poll()
    assert (second.new, second.revised, second.deliveries) == ([], [], [])
    stored = await world.storage.warnings.get(typhoon.id)
    assert stored is not None and (stored.status, stored.revision) == (WarningStatus.CANCELLED, 2)


async def test_a_cancel_without_an_info_block_lifts_the_warning_it_references(world: WarningWorld) -> None:
    """CAP lets a Cancel carry no <info> at all (many issuers send none: the references say what ends). Such a
    Cancel was passed over as "not a warning": the typhoon stayed in force and its recipients never heard 解除."""
    typhoon = await world.service.ingest_official(parse_cap(fixture("typhoon_alert.xml")), source_url="http://a/1.xml")
    assert isinstance(typhoon, Ingested) and typhoon.delivery is not None
    bare = fixture("typhoon_cancel.xml").decode()
    bare = bare[: bare.index("<info>")] + "</alert>\n"
    lifted = await world.service.ingest_official(parse_cap(bare.encode()), source_url="http://a/2.xml")
    assert isinstance(lifted, Ingested) and lifted.change is WarningChange.CANCEL
    assert lifted.warning.status is WarningStatus.CANCELLED
    assert lifted.delivery is not None
    assert {r.chat_id for r in lifted.delivery.recipients} == {r.chat_id for r in typhoon.delivery.recipients}
    unknown = bare.replace("33030541600000_20260910083000", "33030541600000_20260101000000").replace(
        "33030541600000_20260911100000", "33030541600000_20260911110000")
    unknown = unknown.replace(" 洞头区气象台,33030541600000_20260910143000,2026-09-10T14:30:00+08:00", "")
    ignored = await world.service.ingest_official(parse_cap(unknown.encode()), source_url="http://a/3.xml")
    assert isinstance(ignored, Ignored) and ignored.reason is IgnoreReason.UNKNOWN_REFERENCE


async def test_a_red_typhoon_with_an_unreadable_expiry_is_still_sent(world: WarningWorld) -> None:
    """An <expires> written without its UTC offset (or not a time at all) made the whole document unreadable: the
    orange typhoon warning reached nobody. An optional time that cannot be read is treated as absent: the warning
    goes out and ends a day after its onset, as one without <expires> does."""
    written = fixture("typhoon_alert.xml").decode()
    for broken in ("2026-09-11 20:30", "2026-09-11T20:30:00", "明天20时"):
        document = written.replace("2026-09-11T20:30:00+08:00", broken)
        document = document.replace("20260910083000", f"2026091008300{len(broken) % 10}")
        outcome = await world.service.ingest_official(parse_cap(document.encode()), source_url=f"http://a/{broken}")
        assert isinstance(outcome, Ingested) and outcome.delivery is not None, broken
        assert outcome.warning.expires is None
