"""Typed records of warnings (migration 0005) besides the warning itself (`bot.domain.warnings.EarlyWarning`):
revisions, recipients, acknowledgements and the contact rounds for vulnerable people. Times are aware UTC."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.domain.warnings import WarningChange, WarningLevel
from storage.hazard_models import PhotoRef


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class WarningRevision(_Model):
    warning_id: int
    revision: int
    change: WarningChange
    level: WarningLevel
    headline: str
    description: str = ""
    instruction: str = ""
    onset: datetime
    expires: datetime | None = None
    msg_type: str | None = None  # the CAP message's msgType, for official warnings
    sender: str | None = None
    identifier: str | None = None
    cap_sent: datetime | None = None
    references: tuple[str, ...] = ()
    source_url: str | None = None  # the CAP document it was read from
    actor_id: int | None = None  # staff who made the change; None for a feed or the system
    at: datetime


class RecipientKind(StrEnum):
    HEAD = "head"  # an institution head, asked to acknowledge
    CADRE = "cadre"
    GROUP = "group"


class WarningRecipient(_Model):
    kind: RecipientKind
    chat_id: int
    topic_id: int | None = None
    institution_id: int | None = None
    region_code: str


class AckResponse(StrEnum):
    RECEIVED = "received"  # 已收到并落实
    NEED_HELP = "need_help"  # 需要帮助


class WarningAck(_Model):
    warning_id: int
    user_id: int
    institution_id: int | None = None
    response: AckResponse
    revision: int
    at: datetime


class Follower(_Model):
    """The member of staff who took charge of a county's silent institutions of a warning (☎️ 我来跟进)."""

    telegram_id: int
    taken_at: datetime


class HelpRequest(_Model):
    """A call for help (🆘 需要帮助) under a warning, with who took it (✋ 我来处理) and who resolved it (✅ 已解决):
    migration 0025."""

    id: int
    warning_id: int
    asker_id: int
    institutions: tuple[int, ...] = ()  # none for a cadre
    region_code: str
    raised_at: datetime
    taken_by: int | None = None
    taken_at: datetime | None = None
    resolved_by: int | None = None
    resolved_at: datetime | None = None
    # A cadre's 🆘 for a vulnerable person in a contact round (migration 0030): the round and the person.
    round_id: int | None = None
    person_id: int | None = None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


class VulnerableCategory(StrEnum):
    LEFT_BEHIND_CHILD = "left_behind_child"  # 留守儿童
    DIBAO = "dibao"  # 城乡低保
    THREE_NOS = "three_nos"  # "三无"人员
    ELDERLY_ALONE = "elderly_alone"  # 孤寡老人
    FIVE_GUARANTEE = "five_guarantee"  # 农村五保


class NewVulnerablePerson(_Model):
    """Deliberately no name, ID number or address: the code is resolved only on the county's own list."""

    code: str
    category: VulnerableCategory
    region_code: str  # village or community (12 digits) or township
    cadre_id: int | None = None


class VulnerablePerson(NewVulnerablePerson):
    id: int
    active: bool = True
    updated_at: datetime


class ContactStatus(StrEnum):
    PENDING = "pending"
    SAFE = "safe"  # 已联系·安全
    NEED_HELP = "need_help"  # 需要帮助
    UNREACHABLE = "unreachable"  # 联系不上


class ContactRound(_Model):
    id: int
    number: int  # the round's number among its county's rounds: what people read (第 1 轮), not the id
    warning_id: int | None = None
    region_code: str
    started_by: int | None = None
    started_at: datetime
    closed_at: datetime | None = None


class ContactEntry(_Model):
    round_id: int
    person_id: int
    person_code: str
    category: VulnerableCategory
    region_code: str
    cadre_id: int | None = None
    status: ContactStatus = ContactStatus.PENDING
    at: datetime | None = None
    updated_by: int | None = None


class WarningReport(_Model):
    """What a head did under a warning (落实情况), for one institution they answer for: their words and the evidence
    photos they sent with them (PhotoRef: the bytes are in the evidence store)."""

    id: int
    warning_id: int
    institution_id: int
    user_id: int
    text: str
    photos: tuple[PhotoRef, ...] = ()
    revision: int
    at: datetime
