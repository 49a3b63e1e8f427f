"""Warnings before extreme weather and epidemics (issue 5), shaped like OASIS CAP 1.2: pure rules, no I/O.

A warning is one record that lives through revisions: the official feed's Alert → Update → Cancel chain, or staff
raising, lowering and lifting their own, all change the same warning (revision 1, 2, 3 …) so that every change
reaches the people who received the first message and nobody gets two warnings for one event.

Where a warning comes from decides who may set it off: official orange and red go out at once, everything else
waits as a draft for staff, and forecast rules never speak with official authority (they are labelled
预报研判（非官方预警）and stand aside while an official warning covers the same kind and area).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.reminders import QuietHours, in_quiet_hours, next_allowed_time
from bot.domain.roles import region_in_scope
from storage.models import Institution, InstitutionType, RiskTag

# CAP leaves an open-ended warning to the recipient; CMA signals without an end are usually renewed within a day.
DEFAULT_DURATION = timedelta(hours=24)

# Shown with every forecast-rule warning, so that nobody mistakes our reading of a forecast for the weather
# service's signal. A label, not a sentence, so it stays here beside the rule that demands it.
FORECAST_LABEL_ZH = "预报研判（非官方预警）"
FORECAST_LABEL_EN = "Forecast assessment (not an official warning)"


class WarningKind(StrEnum):
    TYPHOON = "typhoon"  # 台风
    RAINSTORM = "rainstorm"  # 暴雨
    HIGH_TEMPERATURE = "high_temperature"  # 高温
    COLD_WAVE = "cold_wave"  # 寒潮
    GALE = "gale"  # 大风
    SNOW_ICE = "snow_ice"  # 暴雪、道路结冰、冰冻
    EPIDEMIC = "epidemic"  # 流行性传染病
    OTHER = "other"


class WarningLevel(StrEnum):
    """CMA signal colours. String order is not gravity: compare `rank`."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER = (WarningLevel.BLUE, WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)


class WarningOrigin(StrEnum):
    OFFICIAL = "official"  # a CAP feed of the weather (or health) service
    FORECAST = "forecast"  # our own rule over a numerical forecast
    MANUAL = "manual"  # county staff or city admin


class WarningStatus(StrEnum):
    DRAFT = "draft"  # waiting for staff to send it
    SENT = "sent"
    UPDATED = "updated"  # sent, then revised at least once
    CANCELLED = "cancelled"  # lifted (解除), or withdrawn as a draft
    EXPIRED = "expired"  # ran out: its `expires`, 24 h after onset, or gone from the feed


ACTIVE_STATUSES = frozenset({WarningStatus.DRAFT, WarningStatus.SENT, WarningStatus.UPDATED})
DELIVERED_STATUSES = frozenset({WarningStatus.SENT, WarningStatus.UPDATED})


class WarningChange(StrEnum):
    """What a revision did; the Chinese names are the words staff and feeds use."""

    ISSUE = "issue"  # 发布: revision 1
    UPGRADE = "upgrade"  # 升级
    DOWNGRADE = "downgrade"  # 降级
    UPDATE = "update"  # 更新: same level, new text, area or times
    CANCEL = "cancel"  # 解除


class MessageType(StrEnum):
    """CAP msgType values that carry a warning (Ack and Error do not)."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class WarningTarget(_Model):
    """Who a warning concerns. Empty types or tags mean "any"; a non-empty tag set needs one tag in common."""

    regions: frozenset[str]
    institution_types: frozenset[InstitutionType] = frozenset()
    risk_tags: frozenset[RiskTag] = frozenset()

    @field_validator("regions")
    @classmethod
    def _some_region(cls, value: frozenset[str]) -> frozenset[str]:
        if not value:
            raise ValueError("a warning targets at least one region")
        return value


class NewWarning(_Model):
    kind: WarningKind
    level: WarningLevel
    headline: str
    description: str = ""
    instruction: str = ""
    onset: datetime
    expires: datetime | None = None  # None: see effective_expiry()
    target: WarningTarget
    origin: WarningOrigin
    status: WarningStatus = WarningStatus.DRAFT
    revision: int = 1
    # Feed identity of the first message (CAP sender and identifier); forecast rules use their own namespace.
    sender: str | None = None
    identifier: str | None = None
    references: tuple[str, ...] = ()  # CAP "sender,identifier,sent" triples of the messages this one revises
    rule: str | None = None  # the forecast threshold that raised it
    feed_url: str | None = None
    created_by: int | None = None  # Telegram id of staff, for manual warnings
    created_at: datetime


class EarlyWarning(NewWarning):
    """预警: a stored warning at its latest revision."""

    id: int
    updated_at: datetime
    sent_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def official(self) -> bool:
        return self.origin is WarningOrigin.OFFICIAL

    @property
    def label_zh(self) -> str | None:
        return FORECAST_LABEL_ZH if self.origin is WarningOrigin.FORECAST else None


class ChecklistItem(_Model):
    """One default action for a kind of warning; applies to institutions of these types / with these tags."""

    id: str
    zh: str
    en: str
    institution_types: frozenset[InstitutionType] = frozenset()
    risk_tags: frozenset[RiskTag] = frozenset()


class KindDefaults(_Model):
    """Per kind: whom an official warning targets when the feed says only where, and what to do."""

    institution_types: frozenset[InstitutionType] = frozenset()
    risk_tags: frozenset[RiskTag] = frozenset()
    items: tuple[ChecklistItem, ...] = ()


class Checklists(_Model):
    source: str
    kinds: dict[WarningKind, KindDefaults] = Field(default_factory=dict)

    def defaults(self, kind: WarningKind) -> KindDefaults:
        return self.kinds.get(kind) or self.kinds.get(WarningKind.OTHER) or KindDefaults()


# ---- targeting ---------------------------------------------------------------------------------------------


def _applies(
    types: frozenset[InstitutionType], tags: frozenset[RiskTag], kind: InstitutionType, has: frozenset[RiskTag]
) -> bool:
    return (not types or kind in types) and (not tags or bool(tags & has))


def recipients_match(target: WarningTarget, institution: Institution) -> bool:
    """Whether the institution is one the warning concerns: active, inside a target region, of a wanted type,
    carrying a wanted risk tag."""
    if not institution.active:
        return False
    if not any(region_in_scope(region, institution.region_code) for region in target.regions):
        return False
    return _applies(target.institution_types, target.risk_tags, institution.type, institution.risk_tags)


def of_concern(target: WarningTarget, institution: Institution) -> bool:
    """Whether an institution named outside the target's regions (one the city runs itself, standing in a county a
    forecast draft is for) is one the warning concerns: active, of a wanted type, carrying a wanted risk tag."""
    return institution.active and _applies(
        target.institution_types, target.risk_tags, institution.type, institution.risk_tags
    )


def standing_county(address: str | None, counties: Mapping[str, str]) -> str | None:
    """The county an institution the city runs itself stands in (registered at the city's own code, it is in no
    county), as its address names it: the one county whose name (`counties`: code to name) the address holds; None
    where it names none, or more than one (温州市鹿城区… is 鹿城区; an address naming two is not guessed at)."""
    if not address:
        return None
    found = {code for code, name in counties.items() if name and name in address}
    return found.pop() if len(found) == 1 else None


def checklist_for(checklists: Checklists, kind: WarningKind, institution: Institution | None) -> list[ChecklistItem]:
    """The default actions of a kind; with an institution, only those that apply to it."""
    items = checklists.defaults(kind).items
    if institution is None:
        return list(items)
    return [i for i in items if _applies(i.institution_types, i.risk_tags, institution.type, institution.risk_tags)]


def regions_overlap(first: Iterable[str], second: Iterable[str]) -> bool:
    """Whether two sets of administrative codes share ground: one region contains, or lies inside, the other."""
    others = list(second)
    return any(region_in_scope(a, b) or region_in_scope(b, a) for a in first for b in others)


def county_of(region_code: str) -> str:
    """The county-level code a township (9 digits) or village (12) lies in; city and county codes are kept."""
    return region_code[:6]


# ---- revisions and time ------------------------------------------------------------------------------------


def classify_change(old: WarningLevel, new: WarningLevel, *, cancel: bool = False) -> WarningChange:
    if cancel:
        return WarningChange.CANCEL
    if new.rank > old.rank:
        return WarningChange.UPGRADE
    if new.rank < old.rank:
        return WarningChange.DOWNGRADE
    return WarningChange.UPDATE


def revision_change(
    msg_type: MessageType, old: WarningLevel, new: WarningLevel, *, lifts: bool = False
) -> WarningChange:
    """How an Update or Cancel of a stored warning reads: 升级 / 降级 / 更新 / 解除.

    `lifts` is for feeds that announce 解除 as an Update (the headline says so) rather than a CAP Cancel.
    """
    return classify_change(old, new, cancel=msg_type is MessageType.CANCEL or lifts)


def effective_expiry(warning: NewWarning, default: timedelta = DEFAULT_DURATION) -> datetime:
    return warning.expires if warning.expires is not None else warning.onset + default


def is_in_force(warning: NewWarning, now: datetime, default: timedelta = DEFAULT_DURATION) -> bool:
    return warning.status in ACTIVE_STATUSES and now < effective_expiry(warning, default)


# ---- sending -----------------------------------------------------------------------------------------------


class AutoSend(StrEnum):
    SEND = "send"  # goes out at once
    DRAFT = "draft"  # waits for staff (one tap)
    SUPPRESS = "suppress"  # not stored: an official warning already covers it


class AutoSendPolicy(_Model):
    """Official warnings of these levels are sent without waiting for staff."""

    official_levels: frozenset[WarningLevel] = frozenset({WarningLevel.ORANGE, WarningLevel.RED})


DEFAULT_AUTO_SEND = AutoSendPolicy()


def auto_send_decision(
    origin: WarningOrigin,
    level: WarningLevel,
    policy: AutoSendPolicy = DEFAULT_AUTO_SEND,
    *,
    covered_by_official: bool = False,
) -> AutoSend:
    """What happens to a warning as it arrives. Forecast warnings are never sent by themselves: they are our
    reading of a forecast, not a signal, and give way to the official one. Manual warnings are drafts until
    staff have seen the preview."""
    if origin is WarningOrigin.FORECAST:
        return AutoSend.SUPPRESS if covered_by_official else AutoSend.DRAFT
    if origin is WarningOrigin.OFFICIAL and level in policy.official_levels:
        return AutoSend.SEND
    return AutoSend.DRAFT


def covered_by_official(
    kind: WarningKind,
    regions: Iterable[str],
    warnings: Iterable[NewWarning],
    now: datetime,
    default: timedelta = DEFAULT_DURATION,
) -> bool:
    """Whether an official warning of the same kind is in force over any of these regions."""
    wanted = list(regions)
    return any(
        w.origin is WarningOrigin.OFFICIAL
        and w.kind is kind
        and is_in_force(w, now, default)
        and regions_overlap(w.target.regions, wanted)
        for w in warnings
    )


# ---- when staff hear of a forecast draft ------------------------------------------------------------------

# A forecast assessment of these levels may call for staff at once (a typhoon's gusts, a red rainstorm).
URGENT_DRAFT_LEVELS = frozenset({WarningLevel.ORANGE, WarningLevel.RED})


@dataclass(frozen=True)
class DraftTiming:
    not_before: datetime | None = None  # held until then (UTC); None: at once
    silent: bool = False  # arrives without a sound


def forecast_draft_timing(level: WarningLevel, at: datetime, quiet: QuietHours, tz: ZoneInfo) -> DraftTiming:
    """A forecast draft is not a warning: nobody has decided yet to warn anyone. By day it comes at once, as usual.
    In quiet hours an orange or red one still comes at once (staff may be up for a typhoon) but without a sound;
    a blue or yellow one waits for the end of quiet hours. Official warnings, and what staff send, never wait."""
    if not in_quiet_hours(at, quiet, tz):
        return DraftTiming()
    if level in URGENT_DRAFT_LEVELS:
        return DraftTiming(silent=True)
    return DraftTiming(not_before=next_allowed_time(at, False, quiet, tz))


# What staff type by reflex under a warning instead of pressing its button (收到, 好的收到, OK…): the bot points them
# to the button rather than record typed text as an answer, which staff could not tell from a chat remark.
_RECEIPT_WORDS = frozenset({
    "收到", "已收到", "收到了", "好的收到", "好收到", "收到收到", "好的", "好", "明白", "明白了", "知道了", "已知晓",
    "已阅", "已落实", "收到已落实", "收到马上落实", "收到立即落实", "ok", "okay", "好的ok", "received", "gotit",
    "noted", "roger", "copy", "copythat", "willdo",
})


def looks_like_receipt(text: str) -> bool:
    """Whether a typed message only says "received" (收到, 收到！谢谢, OK…): letters and CJK kept, the rest dropped."""
    kept = "".join(ch for ch in text.lower() if ch.isalnum())
    for thanks in ("谢谢", "thanks", "thankyou"):
        kept = kept.removesuffix(thanks)
    return kept in _RECEIPT_WORDS


_LEVEL_ZH = {
    WarningLevel.BLUE: "蓝色", WarningLevel.YELLOW: "黄色", WarningLevel.ORANGE: "橙色", WarningLevel.RED: "红色",
}


def relevelled_headline(headline: str, old: WarningLevel, new: WarningLevel) -> str:
    """The headline of a warning raised or lowered from `old` to `new`: where it names the old level as the
    warning's (台风黄色预警, Typhoon Yellow Warning, as the templates write it and staff often type it), the new
    level instead, so that no message, reminder, chart or export calls an orange warning yellow. Other words are
    left as written ("黄色" alone may be a colour of something else)."""
    headline = headline.replace(f"{_LEVEL_ZH[old]}预警", f"{_LEVEL_ZH[new]}预警")

    def english(match: re.Match[str]) -> str:
        word = match.group(1)
        name = new.value.capitalize() if word[0].isupper() else new.value
        name = name.upper() if word.isupper() else name
        return name + match.group(2)

    return re.sub(rf"\b({old.value})(\s+warning)", english, headline, flags=re.IGNORECASE)
