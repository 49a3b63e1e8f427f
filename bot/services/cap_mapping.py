"""What a CAP alert means for the configured city: which kind and level of warning, and which counties.

Kind: the event's own words first (事件 "台风"), then the CMA event code, then the headline. Level: a colour word
in the headline is the strongest signal (CMA headlines always name the signal colour, and an upgrade names the new
one after 升级为), then colour words elsewhere, then CAP severity. Area: each <area> is placed by its geocodes
(GB/T 2260, 6 or 12 digits) when it has any, else by polygon or circle against the counties' coordinates, else
by the names in areaDesc. An area inside a county stands for the whole county: institutions are registered at
county or township level, and a warning for part of a county concerns all of it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.roles import significant_prefix
from bot.domain.warnings import WarningKind, WarningLevel
from bot.services.cap import CapArea, CapInfo
from storage.models import Region, RegionLevel

_KIND_WORDS: tuple[tuple[str, WarningKind], ...] = (
    ("台风", WarningKind.TYPHOON),
    ("暴雨", WarningKind.RAINSTORM),
    ("高温", WarningKind.HIGH_TEMPERATURE),
    ("寒潮", WarningKind.COLD_WAVE),
    ("暴雪", WarningKind.SNOW_ICE),
    ("道路结冰", WarningKind.SNOW_ICE),
    ("冰冻", WarningKind.SNOW_ICE),
    ("大风", WarningKind.GALE),
    ("疫情", WarningKind.EPIDEMIC),
    ("传染病", WarningKind.EPIDEMIC),
    ("typhoon", WarningKind.TYPHOON),
    ("tropical cyclone", WarningKind.TYPHOON),
    ("rainstorm", WarningKind.RAINSTORM),
    ("heavy rain", WarningKind.RAINSTORM),
    ("high temperature", WarningKind.HIGH_TEMPERATURE),
    ("heat", WarningKind.HIGH_TEMPERATURE),
    ("cold wave", WarningKind.COLD_WAVE),
    ("snow", WarningKind.SNOW_ICE),
    ("road icing", WarningKind.SNOW_ICE),
    ("gale", WarningKind.GALE),
    ("strong wind", WarningKind.GALE),
    ("epidemic", WarningKind.EPIDEMIC),
)

# CMA event codes (eventCode valueName CMA_EC / 预警事件类型), used when the event text says nothing we know.
_CMA_EVENT_CODES: dict[str, WarningKind] = {
    "11B01": WarningKind.TYPHOON,
    "11B03": WarningKind.RAINSTORM,
    "11B04": WarningKind.SNOW_ICE,
    "11B05": WarningKind.COLD_WAVE,
    "11B06": WarningKind.GALE,
    "11B09": WarningKind.HIGH_TEMPERATURE,
    "11B21": WarningKind.SNOW_ICE,
}

_COLOURS: dict[str, WarningLevel] = {
    "蓝色": WarningLevel.BLUE,
    "黄色": WarningLevel.YELLOW,
    "橙色": WarningLevel.ORANGE,
    "红色": WarningLevel.RED,
    "blue": WarningLevel.BLUE,
    "yellow": WarningLevel.YELLOW,
    "orange": WarningLevel.ORANGE,
    "red": WarningLevel.RED,
}
_COLOUR = "蓝色|黄色|橙色|红色"
_NEW_COLOUR = re.compile(rf"(?:升级|降级|调整|变更|更改|改)为?\s*({_COLOUR})")
_ANY_COLOUR = re.compile(rf"({_COLOUR})|\b(blue|yellow|orange|red)\b", re.IGNORECASE)
_SEVERITY: dict[str, WarningLevel] = {
    "extreme": WarningLevel.RED,
    "severe": WarningLevel.ORANGE,
    "moderate": WarningLevel.YELLOW,
    "minor": WarningLevel.BLUE,
}
_LIFTED = re.compile(r"解除|\blifted\b", re.IGNORECASE)
_NAME_SUFFIXES = ("自治县", "区", "县", "市")
_EARTH_RADIUS_KM = 6371.0


def map_kind(info: CapInfo) -> WarningKind:
    for text in (info.event, *(value for _, value in info.event_codes), info.headline):
        kind = _kind_in(text)
        if kind is not None:
            return kind
    return WarningKind.OTHER


def _kind_in(text: str) -> WarningKind | None:
    code = text.strip().upper()
    if code in _CMA_EVENT_CODES:
        return _CMA_EVENT_CODES[code]
    lowered = text.lower()
    for word, kind in _KIND_WORDS:
        if word in lowered:
            return kind
    return None


def map_level(info: CapInfo) -> WarningLevel:
    texts = (info.headline, info.event, *(v for _, v in info.event_codes), *(v for _, v in info.parameters))
    for text in texts:
        level = _colour_in(text)
        if level is not None:
            return level
    return _SEVERITY.get(info.severity.strip().lower(), WarningLevel.BLUE)


def _colour_in(text: str) -> WarningLevel | None:
    changed = _NEW_COLOUR.search(text)
    if changed is not None:
        return _COLOURS[changed.group(1)]
    first = _ANY_COLOUR.search(text)
    return None if first is None else _COLOURS[first.group(0).lower()]


def announces_lifting(info: CapInfo) -> bool:
    """Some issuers send 解除 as an Update rather than a CAP Cancel; the headline says which it is."""
    return bool(_LIFTED.search(info.headline) or _LIFTED.search(info.event))


# ---- areas -------------------------------------------------------------------------------------------------


class AreaMethod(StrEnum):
    GEOCODE = "geocode"
    POLYGON = "polygon"
    NAME = "name"


@dataclass(frozen=True)
class County:
    code: str
    name_zh: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class CityArea:
    """The configured city as CAP areas are matched against it."""

    code: str
    name_zh: str
    counties: tuple[County, ...]

    @property
    def prefix(self) -> str:
        return significant_prefix(self.code)

    @classmethod
    def from_regions(cls, city_code: str, regions: Iterable[Region]) -> CityArea:
        rows = list(regions)
        city = next((r for r in rows if r.code == city_code), None)
        counties = tuple(
            County(r.code, r.name_zh, r.latitude, r.longitude)
            for r in rows
            if r.level is RegionLevel.COUNTY and r.parent_code == city_code
        )
        return cls(city_code, city.name_zh if city else "", counties)

    def contains_code(self, code: str) -> bool:
        """Whether an administrative code lies inside the city, or names an area (a province) that contains it."""
        prefix = significant_prefix(code)
        return prefix.startswith(self.prefix) or self.prefix.startswith(prefix)


@dataclass(frozen=True)
class AreaMatch:
    regions: frozenset[str]  # county codes, or the city's own code for all of it
    method: AreaMethod


def match_areas(areas: Sequence[CapArea], city: CityArea) -> AreaMatch | None:
    """The part of the city the alert's areas cover, or None if none of it."""
    found: set[str] = set()
    methods: list[AreaMethod] = []
    for area in areas:
        for method, matched in (
            (AreaMethod.GEOCODE, _by_geocode(area, city)),
            (AreaMethod.POLYGON, _by_shape(area, city)),
            (AreaMethod.NAME, _by_name(area, city)),
        ):
            if matched is not None:
                found |= matched
                if matched:
                    methods.append(method)
                break
    if not found:
        return None
    return AreaMatch(frozenset({city.code}) if city.code in found else frozenset(found), methods[0])


def _by_geocode(area: CapArea, city: CityArea) -> set[str] | None:
    """None when the area carries no administrative code, so that the next method decides."""
    codes = [value for _, value in area.geocodes if value.isdigit() and len(value) in (6, 9, 12)]
    if not codes:
        return None
    found: set[str] = set()
    for code in codes:
        prefix = significant_prefix(code)
        if prefix.startswith(city.prefix) and len(prefix) >= 6 and prefix[:6] != city.code:
            found.add(prefix[:6])
        elif city.contains_code(code):
            found.add(city.code)
    return found


def _by_shape(area: CapArea, city: CityArea) -> set[str] | None:
    if not area.polygons and not area.circles:
        return None
    found = {
        county.code
        for county in city.counties
        if county.latitude is not None
        and county.longitude is not None
        and (
            any(point_in_polygon(county.latitude, county.longitude, ring) for ring in area.polygons)
            or any(_in_circle(county.latitude, county.longitude, circle) for circle in area.circles)
        )
    }
    # A shape that holds no county seat may still be a small part of one: let the names decide.
    return found or None


def _by_name(area: CapArea, city: CityArea) -> set[str] | None:
    text = area.description
    if not text:
        return None
    found = {county.code for county in city.counties if _mentions(text, county.name_zh)}
    if not found and city.name_zh and _mentions(text, city.name_zh):
        found.add(city.code)
    return found


def _mentions(text: str, name: str) -> bool:
    if name in text:
        return True
    for suffix in _NAME_SUFFIXES:
        short = name.removesuffix(suffix)
        if short != name and len(short) >= 2:
            return short in text
    return False


def point_in_polygon(lat: float, lon: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Ray casting on (latitude, longitude) pairs; adequate at a county's scale."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        lat_i, lon_i = ring[i]
        lat_j, lon_j = ring[j]
        if (lon_i > lon) != (lon_j > lon) and lat < (lat_j - lat_i) * (lon - lon_i) / (lon_j - lon_i) + lat_i:
            inside = not inside
        j = i
    return inside


def _in_circle(lat: float, lon: float, circle: tuple[float, float, float]) -> bool:
    c_lat, c_lon, radius_km = circle
    d_lat, d_lon = math.radians(lat - c_lat), math.radians(lon - c_lon)
    a = (
        math.sin(d_lat / 2) ** 2
        + math.cos(math.radians(c_lat)) * math.cos(math.radians(lat)) * math.sin(d_lon / 2) ** 2
    )
    # min(): rounding can take `a` a hair past 1 for points on opposite sides of the Earth, outside asin's domain.
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a))) <= radius_km
