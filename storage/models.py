"""Typed models that the repositories return. Times are aware datetimes in UTC."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.roles import Role


class RegionLevel(StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"


class InstitutionType(StrEnum):
    ELDERLY_CARE = "elderly_care"  # 养老机构
    WELFARE = "welfare"  # 福利机构 (儿童福利)
    RELIEF = "relief"  # 救助管理站
    FUNERAL = "funeral"  # 殡仪馆
    LOTTERY = "lottery"  # 福彩中心
    SOCIAL_ORG = "social_org"  # 社会组织
    OTHER = "other"


class RiskTag(StrEnum):
    NEAR_MOUNTAIN = "near_mountain"
    NEAR_RIVER = "near_river"
    NEAR_SEA = "near_sea"
    LOW_LYING = "low_lying"
    KITCHEN = "kitchen"
    GAS = "gas"
    VEHICLES = "vehicles"


class GroupPurpose(StrEnum):
    GENERAL = "general"  # everything for the region
    HAZARDS = "hazards"
    WARNINGS = "warnings"
    DIGESTS = "digests"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Region(_Model):
    code: str
    name_zh: str
    name_en: str
    level: RegionLevel
    parent_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class Institution(_Model):
    id: int
    code: str
    name_zh: str
    name_en: str
    type: InstitutionType
    region_code: str
    risk_tags: frozenset[RiskTag] = frozenset()
    address: str | None = None
    head_user_id: int | None = None  # Telegram id of the person legally responsible
    active: bool = True
    # The local day from which its calendar duties are judged (the day it was added); None: every period.
    tracked_from: date | None = None
    # Closed by staff (停用): when, and why; None while active (and for those made inactive before migration 0020).
    closed_at: datetime | None = None
    closed_reason: str | None = None


class NewInstitution(_Model):
    code: str
    name_zh: str
    name_en: str
    type: InstitutionType
    region_code: str
    risk_tags: frozenset[RiskTag] = frozenset()
    address: str | None = None
    # Stored only when the institution is created, never changed afterwards (see InstitutionRepository.upsert).
    tracked_from: date | None = None


class User(_Model):
    telegram_id: int
    full_name: str
    username: str | None = None
    role: Role
    region_code: str | None = None  # scope: a county or the city; None means the whole configured city
    institution_id: int | None = None  # for heads: their institution
    language: str = "zh_CN"
    active: bool = True
    created_at: datetime
    # Since when messages no longer reach them (they blocked the bot); kept by the bot, never by a registration.
    unreachable_since: datetime | None = None
    # When their access last ended; kept by the bot, never by a registration (it stays once they are invited back).
    access_ended_at: datetime | None = None


class Group(_Model):
    chat_id: int
    topic_id: int | None = None
    title: str
    region_code: str
    purpose: GroupPurpose = GroupPurpose.GENERAL
    bound_by: int
    bound_at: datetime
    active: bool = True
    # Why it ended (migration 0032): a loss of the group ('removed', 'muted', 'refused' …) or 'unbound' by staff.
    ended: str | None = None


class InviteStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Invite(_Model):
    token: str
    role: Role
    region_code: str | None = None
    institution_id: int | None = None
    created_by: int | None = None  # Telegram id; None when made on the command line
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: int | None = None  # Telegram id; None when taken back on the command line

    def status(self, now: datetime) -> InviteStatus:
        if self.used_by is not None:
            return InviteStatus.USED
        if self.revoked_at is not None:
            return InviteStatus.REVOKED
        if now >= self.expires_at:
            return InviteStatus.EXPIRED
        return InviteStatus.VALID


class AuditEvent(_Model):
    id: int
    at: datetime
    actor_id: int | None  # Telegram id, None for the system or the command line
    action: str  # dotted verb, e.g. "invite.created", "user.registered", "secrecy.refused"
    target: str | None = None  # e.g. "user:123", "invite:abc", "hazard:YH-20260301-0001"
    detail: dict[str, Any] = Field(default_factory=dict)
