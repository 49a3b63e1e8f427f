"""The fixed vocabularies of hazard work (DOMAIN.md, "Hazard areas" and "四查四改"), as data.

Every user-visible word here is read through `label()`, never from the entries directly, so that the lead can
move them to the gettext catalogs in locales/ without touching a caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.domain.roles import Role


class HazardArea(StrEnum):
    """The "8+3 领域" plus the other areas the seed document names; values are stored in the database."""

    ELECTRICITY = "electricity"
    FIRE = "fire"
    GAS = "gas"
    BUILDINGS = "buildings"
    TRANSPORT = "transport"
    FOOD = "food"
    SPECIAL_EQUIPMENT = "special_equipment"
    EPIDEMIC = "epidemic"
    IDEOLOGY = "ideology"
    SECRECY = "secrecy"
    NETWORK = "network"
    PUBLIC_OPINION = "public_opinion"
    FLOOD_TYPHOON = "flood_typhoon"
    RIGHTS = "rights"


class Severity(StrEnum):
    """一般 / 较大 / 重大. The string values do not sort by gravity: compare with `severity_rank()`."""

    GENERAL = "general"
    MAJOR = "major"
    SERIOUS = "serious"


class SourceLevel(StrEnum):
    """Which of the four checks (四查) found the hazard."""

    SELF_CHECK = "self_check"
    CROSS_CHECK = "cross_check"
    COUNTY = "county"
    CITY = "city"


class Correction(StrEnum):
    """The correction (四改) that each check level demands; a code of its own so that `label()` covers it."""

    AT_ONCE = "at_once"
    HELP = "help"
    TOGETHER = "together"
    ORDERED = "ordered"


@dataclass(frozen=True)
class AreaInfo:
    code: HazardArea
    zh: str
    en: str
    # Sensitive areas involve victims (abuse, violence); their hazards are kept out of groups and away from
    # the head of the institution, who may be the one responsible for the harm.
    sensitive: bool = False


@dataclass(frozen=True)
class SeverityInfo:
    code: Severity
    zh: str
    en: str
    rank: int  # higher is graver


@dataclass(frozen=True)
class SourceLevelInfo:
    code: SourceLevel
    zh: str
    en: str
    correction: Correction


@dataclass(frozen=True)
class CorrectionInfo:
    code: Correction
    zh: str
    en: str


_AREA_LIST = (
    AreaInfo(HazardArea.ELECTRICITY, "用电", "electricity"),
    AreaInfo(HazardArea.FIRE, "用火", "fire"),
    AreaInfo(HazardArea.GAS, "燃气", "gas"),
    AreaInfo(HazardArea.BUILDINGS, "房屋", "buildings"),
    AreaInfo(HazardArea.TRANSPORT, "运输（车辆）", "transport (vehicles)"),
    AreaInfo(HazardArea.FOOD, "食品", "food"),
    AreaInfo(HazardArea.SPECIAL_EQUIPMENT, "特殊设备", "special equipment"),
    AreaInfo(HazardArea.EPIDEMIC, "疫情防控", "epidemic control"),
    AreaInfo(HazardArea.IDEOLOGY, "意识形态", "ideology"),
    AreaInfo(HazardArea.SECRECY, "保密", "secrecy"),
    AreaInfo(HazardArea.NETWORK, "网络安全", "network security"),
    AreaInfo(HazardArea.PUBLIC_OPINION, "舆情", "public opinion"),
    AreaInfo(HazardArea.FLOOD_TYPHOON, "防汛防台", "flood and typhoon"),
    # Elder abuse, child abuse, domestic violence, sexual assault.
    AreaInfo(HazardArea.RIGHTS, "权益保障", "rights protection", sensitive=True),
)

_SEVERITY_LIST = (
    SeverityInfo(Severity.GENERAL, "一般", "general", 1),
    SeverityInfo(Severity.MAJOR, "较大", "major", 2),
    SeverityInfo(Severity.SERIOUS, "重大", "serious", 3),
)

_SOURCE_LEVEL_LIST = (
    SourceLevelInfo(SourceLevel.SELF_CHECK, "自查", "self-check", Correction.AT_ONCE),
    SourceLevelInfo(SourceLevel.CROSS_CHECK, "互查", "cross-check", Correction.HELP),
    SourceLevelInfo(SourceLevel.COUNTY, "县级检查", "county inspection", Correction.TOGETHER),
    SourceLevelInfo(SourceLevel.CITY, "市级督查", "city supervision", Correction.ORDERED),
)

_CORRECTION_LIST = (
    CorrectionInfo(Correction.AT_ONCE, "马上改", "correct at once"),
    CorrectionInfo(Correction.HELP, "帮助改", "help to correct"),
    CorrectionInfo(Correction.TOGETHER, "合力改", "correct together"),
    CorrectionInfo(Correction.ORDERED, "责令改", "ordered to correct"),
)

AREAS: Mapping[HazardArea, AreaInfo] = MappingProxyType({a.code: a for a in _AREA_LIST})
SEVERITIES: Mapping[Severity, SeverityInfo] = MappingProxyType({s.code: s for s in _SEVERITY_LIST})
SOURCE_LEVELS: Mapping[SourceLevel, SourceLevelInfo] = MappingProxyType(
    {s.code: s for s in _SOURCE_LEVEL_LIST}
)
CORRECTIONS: Mapping[Correction, CorrectionInfo] = MappingProxyType({c.code: c for c in _CORRECTION_LIST})

SENSITIVE_AREAS: frozenset[HazardArea] = frozenset(a.code for a in _AREA_LIST if a.sensitive)

# Mildest first, so that menus and statistics list them in the same order everywhere.
SEVERITY_ORDER: tuple[Severity, ...] = tuple(s.code for s in sorted(_SEVERITY_LIST, key=lambda s: s.rank))

# The seed's 四查四改 (四(二)): 机构常态自查 is the institution's own check, 内部交叉检查 the
# institutions (units) of the system checking one another, 县级全域检查 the county's sweep of its
# whole territory, 市级联合督查 the city's. A community or village cadre is not inside the institution,
# nor its peer: they are the county's eyes on the ground, so what they find is the county-wide check's,
# corrected together (合力改) by the home, the community and the county. The reporter may still pick
# another level; stored values are the same four codes as ever.
_DEFAULT_SOURCE_LEVEL: Mapping[Role, SourceLevel] = MappingProxyType(
    {
        Role.HEAD: SourceLevel.SELF_CHECK,
        Role.CADRE: SourceLevel.COUNTY,
        Role.COUNTY: SourceLevel.COUNTY,
        Role.CITY: SourceLevel.CITY,
    }
)

Labelled = HazardArea | Severity | SourceLevel | Correction


def is_sensitive(area: HazardArea) -> bool:
    return AREAS[area].sensitive


def severity_rank(severity: Severity) -> int:
    return SEVERITIES[severity].rank


def correction_for(level: SourceLevel) -> Correction:
    return SOURCE_LEVELS[level].correction


def default_source_level(role: Role) -> SourceLevel:
    """Who reports a hazard says which check found it, unless the reporter says otherwise."""
    return _DEFAULT_SOURCE_LEVEL[role]


def label(code: Labelled, lang: str) -> str:
    """The name of a catalog code in a language; anything that is not Chinese falls back to English.

    Telegram sends IETF tags ("zh-hans", "en-US", "ru"); a Russian speaker is better served by English than by
    Chinese, hence the fallback.
    """
    entry: AreaInfo | SeverityInfo | SourceLevelInfo | CorrectionInfo
    # Dispatch on the type, not the value: StrEnum members hash and compare as their plain string values.
    if isinstance(code, HazardArea):
        entry = AREAS[code]
    elif isinstance(code, Severity):
        entry = SEVERITIES[code]
    elif isinstance(code, SourceLevel):
        entry = SOURCE_LEVELS[code]
    else:
        entry = CORRECTIONS[code]
    return entry.zh if lang.strip().lower().startswith("zh") else entry.en
