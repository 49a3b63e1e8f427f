from __future__ import annotations

import pytest

from bot.domain.catalog import (
    AREAS,
    CORRECTIONS,
    SENSITIVE_AREAS,
    SEVERITIES,
    SEVERITY_ORDER,
    SOURCE_LEVELS,
    Correction,
    HazardArea,
    Severity,
    SourceLevel,
    correction_for,
    default_source_level,
    is_sensitive,
    label,
    severity_rank,
)
from bot.domain.roles import Role

# Written out from DOMAIN.md and the seed document, not read back from the catalog.
AREA_NAMES = {
    "electricity": ("用电", "electricity"),
    "fire": ("用火", "fire"),
    "gas": ("燃气", "gas"),
    "buildings": ("房屋", "buildings"),
    "transport": ("运输（车辆）", "transport (vehicles)"),
    "food": ("食品", "food"),
    "special_equipment": ("特殊设备", "special equipment"),
    "epidemic": ("疫情防控", "epidemic control"),
    "ideology": ("意识形态", "ideology"),
    "secrecy": ("保密", "secrecy"),
    "network": ("网络安全", "network security"),
    "public_opinion": ("舆情", "public opinion"),
    "flood_typhoon": ("防汛防台", "flood and typhoon"),
    "rights": ("权益保障", "rights protection"),
}


def test_every_area_is_catalogued_with_both_names() -> None:
    assert {a.value for a in HazardArea} == set(AREA_NAMES)
    assert set(AREAS) == set(HazardArea)
    for code, (zh, en) in AREA_NAMES.items():
        assert label(HazardArea(code), "zh") == zh
        assert label(HazardArea(code), "en") == en


def test_only_rights_protection_is_sensitive() -> None:
    assert frozenset({HazardArea.RIGHTS}) == SENSITIVE_AREAS
    assert [a for a in HazardArea if is_sensitive(a)] == [HazardArea.RIGHTS]


def test_severities_are_ordered_by_gravity() -> None:
    assert SEVERITY_ORDER == (Severity.GENERAL, Severity.MAJOR, Severity.SERIOUS)
    assert severity_rank(Severity.GENERAL) < severity_rank(Severity.MAJOR) < severity_rank(Severity.SERIOUS)
    assert set(SEVERITIES) == set(Severity)
    assert [label(s, "zh") for s in SEVERITY_ORDER] == ["一般", "较大", "重大"]
    assert [label(s, "en") for s in SEVERITY_ORDER] == ["general", "major", "serious"]


def test_four_checks_four_corrections() -> None:
    expected = {
        SourceLevel.SELF_CHECK: ("自查", "self-check", "马上改", "correct at once"),
        SourceLevel.CROSS_CHECK: ("互查", "cross-check", "帮助改", "help to correct"),
        SourceLevel.COUNTY: ("县级检查", "county inspection", "合力改", "correct together"),
        SourceLevel.CITY: ("市级督查", "city supervision", "责令改", "ordered to correct"),
    }
    assert set(SOURCE_LEVELS) == set(SourceLevel) == set(expected)
    assert set(CORRECTIONS) == set(Correction)
    for level, (zh, en, fix_zh, fix_en) in expected.items():
        assert label(level, "zh") == zh
        assert label(level, "en") == en
        assert label(correction_for(level), "zh") == fix_zh
        assert label(correction_for(level), "en") == fix_en


@pytest.mark.parametrize(
    ("role", "level"),
    [
        (Role.HEAD, SourceLevel.SELF_CHECK),
        (Role.CADRE, SourceLevel.COUNTY),  # a community cadre is the county-wide check, not internal
        (Role.COUNTY, SourceLevel.COUNTY),
        (Role.CITY, SourceLevel.CITY),
    ],
)
def test_default_source_level(role: Role, level: SourceLevel) -> None:
    assert default_source_level(role) is level


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "燃气"),
        ("zh-hans", "燃气"),
        ("ZH-TW", "燃气"),
        (" zh ", "燃气"),
        ("en", "gas"),
        ("en-US", "gas"),
        ("ru", "gas"),
        ("", "gas"),
    ],
)
def test_label_language_fallback(lang: str, expected: str) -> None:
    assert label(HazardArea.GAS, lang) == expected


def test_label_dispatches_on_type_not_value() -> None:
    # SourceLevel.COUNTY and SourceLevel.CITY share their string values with roles; the label must not care.
    assert label(SourceLevel.COUNTY, "en") == "county inspection"
    assert label(Severity.GENERAL, "zh") == "一般"
