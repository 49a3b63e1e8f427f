from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.warnings import WarningKind, WarningLevel
from bot.services.cap import CapArea, CapError, UnsafeXmlError, parse_cap, parse_feed
from bot.services.cap_mapping import (
    AreaMethod,
    CityArea,
    County,
    announces_lifting,
    map_kind,
    map_level,
    match_areas,
    point_in_polygon,
)
from tests.warnings.conftest import fixture, rss

BEIJING = timezone(timedelta(hours=8))
WENZHOU = CityArea(
    "330300",
    "温州市",
    (
        County("330302", "鹿城区", 28.0150, 120.6555),
        County("330305", "洞头区", 27.8361, 121.1571),
        County("330382", "乐清市", 28.1129, 120.9833),
        County("330383", "龙港市", 27.5786, 120.5530),
    ),
)


def test_reads_a_cma_alert() -> None:
    alert = parse_cap(fixture("typhoon_alert.xml"))
    assert (alert.sender, alert.identifier) == ("洞头区气象台", "33030541600000_20260910083000")
    assert (alert.status, alert.msg_type) == ("Actual", "Alert")
    assert alert.sent == datetime(2026, 9, 10, 8, 30, tzinfo=BEIJING)
    info = alert.info()
    assert info is not None and info.language == "zh-CN"  # the Chinese block, although English follows
    assert info.headline == "洞头区气象台发布台风橙色预警信号"
    assert info.event_codes == (("CMA_EC", "11B01"),)
    assert info.areas[0].geocodes == (("GB/T 2260", "330305000000"),)
    assert (map_kind(info), map_level(info)) == (WarningKind.TYPHOON, WarningLevel.ORANGE)


def test_reads_references_of_an_update_and_a_cancel() -> None:
    update = parse_cap(fixture("typhoon_update.xml"))
    assert [str(r) for r in update.references] == [
        "洞头区气象台,33030541600000_20260910083000,2026-09-10T08:30:00+08:00"
    ]
    info = update.info()
    assert info is not None and map_level(info) is WarningLevel.RED  # 将…橙色…升级为红色: the new colour
    cancel = parse_cap(fixture("typhoon_cancel.xml"))
    assert len(cancel.references) == 2 and cancel.msg_type == "Cancel"
    cancel_info = cancel.info()
    assert cancel_info is not None and announces_lifting(cancel_info)


@pytest.mark.parametrize("name", ["bomb.xml", "external_entity.xml"])
def test_entity_tricks_are_refused_not_parsed(name: str) -> None:
    with pytest.raises(UnsafeXmlError, match="DTD or entities"):
        parse_cap(fixture(name))
    with pytest.raises(UnsafeXmlError):
        parse_feed(fixture(name), "http://127.0.0.1/")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<alert><identifier>x</identifier>", "not well-formed"),
        (b"<html><body>busy</body></html>", "neither a CAP alert nor"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><sender>s</sender></alert>", "needs identifier"),
        (
            b"<alert><identifier>i</identifier><sender>s</sender><sent>2026-09-10T08:30:00</sent></alert>",
            "no UTC offset",
        ),
    ],
)
def test_broken_documents_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(CapError, match=message):
        parse_feed(data, "http://127.0.0.1/")


def test_rss_items_carry_links_and_administrative_codes() -> None:
    feed = parse_feed(
        rss(
            ("洞头区台风橙色预警", "/cap/33030541600000_20260910083000.xml", "33030541600000_20260910083000"),
            ("杭州市高温橙色预警", "/cap/33010041600000_20260910110000.xml", "33010041600000_20260910110000"),
        ),
        "http://127.0.0.1:8080/cap/rss.xml",
    )
    assert [e.link for e in feed.entries] == [
        "http://127.0.0.1:8080/cap/33030541600000_20260910083000.xml",
        "http://127.0.0.1:8080/cap/33010041600000_20260910110000.xml",
    ]
    assert [e.region_codes for e in feed.entries] == [("330305",), ("330100",)]
    assert WENZHOU.contains_code("330305") and not WENZHOU.contains_code("330100")
    assert WENZHOU.contains_code("330000")  # a provincial warning covers the city too


def test_an_items_codes_come_from_the_item_not_from_the_feeds_address() -> None:
    """The feed list sits at an address naming Hangzhou's observatory; its item, a relative link without a code,
    must not be taken for Hangzhou's (and passed over as outside the city unread)."""
    feed = parse_feed(rss(("预警", "a.xml", "")), "http://127.0.0.1/cap/33010041600000_20260910110000/rss.xml")
    assert [(e.link, e.region_codes) for e in feed.entries] == [
        ("http://127.0.0.1/cap/33010041600000_20260910110000/a.xml", ())
    ]


def test_atom_entries_prefer_the_cap_link() -> None:
    atom = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>CAP</title>
  <entry>
    <id>urn:oid:2.49.0.1.156.0.2026.9.10.8.30</id>
    <title>\xe5\x8f\xb0\xe9\xa3\x8e</title>
    <link rel="alternate" type="text/html" href="https://example.org/page.html"/>
    <link rel="related" type="application/cap+xml" href="/cap/330305.xml"/>
    <category term="330305000000"/>
  </entry>
</feed>"""
    feed = parse_feed(atom, "http://127.0.0.1/feed.atom")
    assert feed.entries[0].link == "http://127.0.0.1/cap/330305.xml"


def test_a_single_cap_document_is_a_feed_of_one() -> None:
    feed = parse_feed(fixture("rainstorm_no_expires.xml"), "http://127.0.0.1/cap.xml")
    assert feed.alert is not None and feed.alert.identifier == "33030041600000_20260910090000"
    info = feed.alert.info()
    assert info is not None and info.expires is None


@pytest.mark.parametrize(
    ("headline", "severity", "level"),
    [
        ("温州市气象台发布暴雨黄色预警信号", "Severe", WarningLevel.YELLOW),  # the colour beats severity
        ("温州市气象台将暴雨橙色预警信号降级为黄色", "Moderate", WarningLevel.YELLOW),
        ("温州市气象台将暴雨黄色预警信号升级为橙色", "Moderate", WarningLevel.ORANGE),
        ("温州市气象台解除高温红色预警信号", "Minor", WarningLevel.RED),
        ("Typhoon Red Warning", "Severe", WarningLevel.RED),
        ("温州市气象台发布大风预警", "Extreme", WarningLevel.RED),  # no colour: CAP severity decides
        ("温州市气象台发布大风预警", "Minor", WarningLevel.BLUE),
    ],
)
def test_level_from_colour_words_then_severity(headline: str, severity: str, level: WarningLevel) -> None:
    info = parse_cap(fixture("rainstorm_no_expires.xml")).info()
    assert info is not None
    changed = type(info)(**{**info.__dict__, "headline": headline, "severity": severity, "event": ""})
    assert map_level(changed) is level


@pytest.mark.parametrize(
    ("event", "codes", "headline", "kind"),
    [
        ("寒潮", (), "", WarningKind.COLD_WAVE),
        ("道路结冰", (), "", WarningKind.SNOW_ICE),
        ("雷雨大风", (), "", WarningKind.GALE),
        ("", (("CMA_EC", "11B09"),), "", WarningKind.HIGH_TEMPERATURE),
        ("", (), "温州市卫生健康委员会发布流感疫情预警", WarningKind.EPIDEMIC),
        ("大雾", (), "温州市气象台发布大雾黄色预警信号", WarningKind.OTHER),
    ],
)
def test_kind_from_event_then_code_then_headline(
    event: str, codes: tuple[tuple[str, str], ...], headline: str, kind: WarningKind
) -> None:
    info = parse_cap(fixture("rainstorm_no_expires.xml")).info()
    assert info is not None
    changed = type(info)(**{**info.__dict__, "event": event, "event_codes": codes, "headline": headline})
    assert map_kind(changed) is kind


def test_areas_by_geocode_prefix() -> None:
    county = match_areas([CapArea("洞头", geocodes=(("GB/T 2260", "330305000000"),))], WENZHOU)
    assert county is not None and county.regions == {"330305"} and county.method is AreaMethod.GEOCODE
    township = match_areas([CapArea("北岙街道", geocodes=(("GB/T 2260", "330305001000"),))], WENZHOU)
    assert township is not None and township.regions == {"330305"}  # stands for its whole county
    city = match_areas([CapArea("温州市", geocodes=(("GB/T 2260", "330300000000"),))], WENZHOU)
    assert city is not None and city.regions == {"330300"}
    province = match_areas([CapArea("浙江省", geocodes=(("GB/T 2260", "330000000000"),))], WENZHOU)
    assert province is not None and province.regions == {"330300"}
    # A geocoded area outside the city is decided by its code, even if its name mentions the city.
    assert match_areas([CapArea("温州方向", geocodes=(("GB/T 2260", "330100000000"),))], WENZHOU) is None


def test_areas_by_polygon_then_by_name() -> None:
    around_dongtou = ((27.7, 121.0), (27.7, 121.3), (28.0, 121.3), (28.0, 121.0), (27.7, 121.0))
    assert point_in_polygon(27.8361, 121.1571, around_dongtou)
    assert not point_in_polygon(28.0150, 120.6555, around_dongtou)
    by_shape = match_areas([CapArea("东海沿岸", polygons=(around_dongtou,))], WENZHOU)
    assert by_shape is not None and by_shape.regions == {"330305"} and by_shape.method is AreaMethod.POLYGON
    by_circle = match_areas([CapArea("", circles=((28.0150, 120.6555, 5.0),))], WENZHOU)
    assert by_circle is not None and by_circle.regions == {"330302"}
    # A small shape holding no county seat falls through to the names.
    tiny = ((30.0, 120.0), (30.0, 120.01), (30.01, 120.01), (30.0, 120.0))
    named = match_areas([CapArea("乐清市、龙港市沿海", polygons=(tiny,))], WENZHOU)
    assert named is not None and named.regions == {"330382", "330383"} and named.method is AreaMethod.NAME
    short = match_areas([CapArea("洞头、鹿城")], WENZHOU)
    assert short is not None and short.regions == {"330305", "330302"}
    whole = match_areas([CapArea("温州市区及沿海")], WENZHOU)
    assert whole is not None and whole.regions == {"330300"}
    assert match_areas([CapArea("杭州市")], WENZHOU) is None
