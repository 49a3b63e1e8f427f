"""One settings model, read from the environment and `.env`; operators depend on these exact names."""

from __future__ import annotations

import difflib
import json
from dataclasses import replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.calendar_reminders import DEFAULT_SCHEDULE, CalendarSchedule, parse_weekdays
from bot.domain.catalog import Severity
from bot.domain.check_backs import DEFAULT_DAYS as CHECK_BACK_DEFAULT_DAYS
from bot.domain.check_backs import valid_days
from bot.domain.deadlines import DEFAULT_DEADLINE_POLICY, DeadlinePolicy
from bot.domain.reminders import QuietHours, parse_quiet_hours
from bot.domain.warnings import WarningLevel
from bot.services.warning_settings import WarningSettings


class BotMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = Field(default="", validation_alias="BOT_TOKEN")
    bot_api_base_url: str = Field(default="https://api.telegram.org/bot", validation_alias="BOT_API_BASE_URL")
    bot_username: str | None = Field(default=None, validation_alias="BOT_USERNAME")
    bot_api_base_file_url: str | None = Field(default=None, validation_alias="BOT_API_BASE_FILE_URL")
    database_path: Path = Field(default=Path("./data/safety.db"), validation_alias="DATABASE_PATH")
    timezone: str = Field(default="Asia/Shanghai", validation_alias="TIMEZONE")
    default_language: str = Field(default="zh_CN", validation_alias="DEFAULT_LANGUAGE")
    bot_mode: BotMode = Field(default=BotMode.POLLING, validation_alias="BOT_MODE")
    webhook_url: str | None = Field(default=None, validation_alias="WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1:8443", validation_alias="WEBHOOK_LISTEN")
    webhook_secret: str | None = Field(default=None, validation_alias="WEBHOOK_SECRET")
    # At least an hour (0 made every link expired when printed), at most a year.
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 366, validation_alias="INVITE_TTL_HOURS")
    # Hours allowed to rectify, by severity, as JSON: {"serious": 24, "major": 72, "general": 168}.
    # Read as text and parsed here (NoDecode), so that text that is not JSON is a setting error like any other rather
    # than pydantic-settings' own exception.
    deadline_hours: Annotated[dict[Severity, int], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINE_POLICY.hours), validation_alias="DEADLINE_HOURS"
    )
    # Official warning feeds (RSS/Atom lists of CAP documents), comma-separated; none configured: no polling.
    warning_feed_urls: str = Field(default="", validation_alias="WARNING_FEED_URLS")
    # Open-Meteo for the forecast rules; empty switches the forecast fallback off.
    forecast_base_url: str = Field(default="https://api.open-meteo.com", validation_alias="FORECAST_BASE_URL")
    # Official warnings of these levels go out at once, comma-separated; the others wait as drafts for staff.
    warning_auto_send_levels: str = Field(default="orange,red", validation_alias="WARNING_AUTO_SEND_LEVELS")
    # Unacknowledged warnings: remind the silent heads, then name them to county staff.
    warning_remind_after_minutes: int = Field(default=60, gt=0, validation_alias="WARNING_REMIND_AFTER_MINUTES")
    warning_escalate_after_minutes: int = Field(default=120, gt=0, validation_alias="WARNING_ESCALATE_AFTER_MINUTES")
    # A warning of these levels still unanswered: the city admins hear, county by county (comma-separated).
    warning_city_escalate_after_minutes: int = Field(
        default=240, gt=0, validation_alias="WARNING_CITY_ESCALATE_AFTER_MINUTES"
    )
    warning_city_escalate_levels: str = Field(default="orange,red", validation_alias="WARNING_CITY_ESCALATE_LEVELS")
    # A call for help nobody took is announced again this often; after the second time, to the city admins too.
    warning_help_repage_minutes: int = Field(default=30, gt=0, validation_alias="WARNING_HELP_REPAGE_MINUTES")
    # Contact rounds: tell staff of people not yet reached, then close the round with its summary.
    contact_round_escalate_after_minutes: int = Field(
        default=120, gt=0, validation_alias="CONTACT_ROUND_ESCALATE_AFTER_MINUTES"
    )
    contact_round_close_after_hours: int = Field(default=24, gt=0, validation_alias="CONTACT_ROUND_CLOSE_AFTER_HOURS")
    # Non-urgent reminders wait out these local hours, "HH:MM-HH:MM"; equal ends switch quiet hours off.
    quiet_hours: str = Field(default="22:00-07:30", validation_alias="QUIET_HOURS")
    # The days the county groups' daily digest comes, ISO weekday numbers (1 Monday … 7 Sunday): "1-7" for every day.
    digest_weekdays: str = Field(default="1-5", validation_alias="DIGEST_WEEKDAYS")
    # An institution with no registered head for longer than this is named to the city admins on the 1st of each month.
    headless_escalation_days: int = Field(default=30, ge=1, validation_alias="HEADLESS_ESCALATION_DAYS")
    # Days after a hazard is closed that its reporter is asked whether the problem is still solved (回访); inside the
    # 90-day reopening window (bot.domain.lifecycle.REOPEN_WINDOW), so that "it came back" can still be reopened.
    check_back_days: int = Field(default=CHECK_BACK_DEFAULT_DAYS, validation_alias="CHECK_BACK_DAYS")
    # The outbox paces itself to Telegram's limits (1 message a second per person, 20 a minute per group); against
    # the bundled emulator, which enforces none, tests and the demo set this to deliver at once.
    outbox_unpaced: bool = Field(default=False, validation_alias="OUTBOX_UNPACED")
    # The day from which calendar duties are judged for institutions with no `tracked_from` of their own (rows made
    # before migration 0013): empty for the day the database first ran, YYYY-MM-DD for another, `all` for every period.
    tracking_since: str = Field(default="", validation_alias="TRACKING_SINCE")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # ZoneInfoNotFoundError is a KeyError, which pydantic would let through as a traceback.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("deadline_hours", mode="before")
    @classmethod
    def _deadline_hours_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("DEADLINE_HOURS must be JSON") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in ("zh_CN", "en"):
            raise ValueError("DEFAULT_LANGUAGE must be zh_CN or en")
        return value

    @field_validator("warning_auto_send_levels", "warning_city_escalate_levels")
    @classmethod
    def _known_levels(cls, value: str) -> str:
        for level in _items(value):
            WarningLevel(level.lower())
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        _, colon, port = value.rpartition(":")
        if not colon or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("WEBHOOK_LISTEN must be HOST:PORT, e.g. 127.0.0.1:8443")
        return value

    @field_validator("check_back_days")
    @classmethod
    def _check_back_inside_reopen_window(cls, value: int) -> int:
        return valid_days(value)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_format(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("digest_weekdays")
    @classmethod
    def _digest_weekdays_format(cls, value: str) -> str:
        parse_weekdays(value)
        return value

    @field_validator("tracking_since")
    @classmethod
    def _tracking_since_format(cls, value: str) -> str:
        value = value.strip()
        if value not in ("", "all"):
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError("TRACKING_SINCE must be empty, all, or a date YYYY-MM-DD") from None
        return value

    @property
    def quiet(self) -> QuietHours:
        return parse_quiet_hours(self.quiet_hours)

    @property
    def calendar_schedule(self) -> CalendarSchedule:
        return replace(
            DEFAULT_SCHEDULE,
            digest_weekdays=parse_weekdays(self.digest_weekdays),
            headless_after_days=self.headless_escalation_days,
        )

    @property
    def warning_settings(self) -> WarningSettings:
        return WarningSettings(
            feed_urls=tuple(_items(self.warning_feed_urls)),
            forecast_base_url=self.forecast_base_url.strip(),
            forecast_timezone=self.timezone,
            auto_send_levels=_levels(self.warning_auto_send_levels),
            remind_after_minutes=self.warning_remind_after_minutes,
            escalate_after_minutes=self.warning_escalate_after_minutes,
            city_escalate_after_minutes=self.warning_city_escalate_after_minutes,
            city_escalate_levels=_levels(self.warning_city_escalate_levels),
            help_repage_minutes=self.warning_help_repage_minutes,
            contact_escalate_after_minutes=self.contact_round_escalate_after_minutes,
            contact_close_after_hours=self.contact_round_close_after_hours,
        )

    @property
    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(hours=self.deadline_hours)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def evidence_dir(self) -> Path:
        """Photos are kept beside the database, content-addressed."""
        return self.database_path.parent / "evidence"

    @property
    def file_base_url(self) -> str:
        if self.bot_api_base_file_url:
            return self.bot_api_base_file_url
        return self.bot_api_base_url.replace("/bot", "/file/bot", 1) if self.bot_api_base_url.endswith(
            "/bot"
        ) else self.bot_api_base_url


ENV_FILE = Path(".env")


def setting_names() -> frozenset[str]:
    """The variables an operator may set, as documented."""
    return frozenset(str(field.validation_alias) for field in Settings.model_fields.values())


def unknown_env_file_keys(path: Path = ENV_FILE) -> list[tuple[str, str | None]]:
    """Each key of `.env` that is no setting of ours, with the known setting closest to it (or None): every line of
    `.env` is meant for us, so `INVTE_TTL_HOURS=5` is a typo that would otherwise leave the default in force without
    a word. The process environment is not checked: it holds everybody's variables and ours have no prefix."""
    if not path.is_file():
        return []
    known = setting_names()
    unknown = []
    for key in dotenv_values(path):
        name = key.strip().upper()
        if name and name not in known:
            closest = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            unknown.append((key, closest[0] if closest else None))
    return unknown


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _levels(value: str) -> frozenset[WarningLevel]:
    return frozenset(WarningLevel(level.lower()) for level in _items(value))
