"""Settings of the warning services, and the data files they read (checklists, forecast thresholds).

One pydantic model with working defaults, so that tests and the demo need nothing; the app factory decides which
environment names fill it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.domain.forecast_rules import ThresholdTable
from bot.domain.warnings import AutoSendPolicy, Checklists, WarningLevel

WARNING_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "warnings"

_Model = TypeVar("_Model", bound=BaseModel)


class WarningDataError(ValueError):
    pass


class WarningSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # The configured city (GB/T 2260); CAP areas are matched against its counties in the regions table.
    city_code: str = "330300"
    # RSS/Atom lists of CAP documents (or single CAP documents), e.g. the WMO SWIC mirror of CMA (cn-cma-xx).
    feed_urls: tuple[str, ...] = ()
    feed_timeout_seconds: float = 20.0
    # A CAP document is a few kilobytes and a feed of a hundred items a few hundred; anything far larger is not
    # what we asked for, and must not be read into memory.
    feed_max_bytes: int = 2_000_000
    feed_max_documents: int = 100  # CAP documents fetched from one feed per poll, newest first
    user_agent: str = "civil-safety-bot (warnings)"
    # Official warnings of these levels go out at once; the others become drafts that staff send with one tap.
    auto_send_levels: frozenset[WarningLevel] = frozenset({WarningLevel.ORANGE, WarningLevel.RED})
    # How long a warning without `expires` stays in force after its onset.
    default_duration_hours: int = 24
    forecast_base_url: str = "https://api.open-meteo.com"
    forecast_timezone: str = "Asia/Shanghai"
    forecast_timeout_seconds: float = 20.0
    forecast_lookahead_hours: int = 72  # a forecast finding whose onset lies further ahead waits for a later run
    # Follow-up of a sent warning: heads who have not acknowledged are reminded, then named to county staff.
    remind_after_minutes: int = Field(default=60, gt=0)
    escalate_after_minutes: int = Field(default=120, gt=0)
    city_escalate_after_minutes: int = Field(default=240, gt=0)
    # Warnings of these levels are grave enough that the city admins hear of the counties' silent institutions,
    # after the county staff did (WARNING_CITY_ESCALATE_LEVELS; a bureau may add yellow in a typhoon season).
    city_escalate_levels: frozenset[WarningLevel] = frozenset({WarningLevel.ORANGE, WarningLevel.RED})
    # A call for help nobody took (✋ 我来处理) is announced again this often to those first alerted, and after the
    # second time the city admins hear of it too (WARNING_HELP_REPAGE_MINUTES), as an on-call pager repeats a page.
    help_repage_minutes: int = Field(default=30, gt=0)
    # Contact rounds for vulnerable people: staff hear of the unreachable, then the round ends with its summary.
    contact_escalate_after_minutes: int = Field(default=120, gt=0)
    contact_close_after_hours: int = Field(default=24, gt=0)
    checklists_path: Path = Field(default=WARNING_DATA_DIR / "checklists.json")
    thresholds_path: Path = Field(default=WARNING_DATA_DIR / "forecast_thresholds.json")

    @field_validator("forecast_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @property
    def policy(self) -> AutoSendPolicy:
        return AutoSendPolicy(official_levels=self.auto_send_levels)

    @property
    def default_duration(self) -> timedelta:
        return timedelta(hours=self.default_duration_hours)

    @property
    def lookahead(self) -> timedelta:
        return timedelta(hours=self.forecast_lookahead_hours)

    @property
    def remind_after(self) -> timedelta:
        return timedelta(minutes=self.remind_after_minutes)

    @property
    def escalate_after(self) -> timedelta:
        return timedelta(minutes=self.escalate_after_minutes)

    @property
    def city_escalate_after(self) -> timedelta:
        return timedelta(minutes=self.city_escalate_after_minutes)

    @property
    def help_repage(self) -> timedelta:
        return timedelta(minutes=self.help_repage_minutes)

    @property
    def contact_escalate_after(self) -> timedelta:
        return timedelta(minutes=self.contact_escalate_after_minutes)

    @property
    def contact_remind_after(self) -> timedelta:
        """Cadres hear of the people still pending on their list halfway to the staff's escalation: the one who
        can act is reminded before their superiors are told, as a task app reminds the assignee first."""
        return self.contact_escalate_after / 2

    @property
    def contact_close_after(self) -> timedelta:
        return timedelta(hours=self.contact_close_after_hours)


def load_checklists(path: Path) -> Checklists:
    return _load(path, Checklists)


def load_thresholds(path: Path) -> ThresholdTable:
    return _load(path, ThresholdTable)


@cache
def _read(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise WarningDataError(f"{path}: {error}") from None


def _load(path: Path, model: type[_Model]) -> _Model:
    try:
        return model.model_validate(_read(path))
    except ValidationError as error:
        raise WarningDataError(f"{path}: {error}") from None
