"""How a warning reads in chat, in every message that shows one: the delivery itself, the sender's preview, the
drafts posted to staff, /warnings and /warnstatus. One place, so the preview is exactly what recipients get.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.forecast_rules import ThresholdRule
from bot.domain.warnings import (
    DEFAULT_DURATION,
    FORECAST_LABEL_EN,
    FORECAST_LABEL_ZH,
    ChecklistItem,
    NewWarning,
    WarningChange,
    WarningKind,
    WarningLevel,
    WarningOrigin,
    effective_expiry,
)
from bot.i18n import LANGUAGES, Html, Translator, clipped, escape, two_units
from bot.services.warning_settings import WarningSettings, load_thresholds
from storage.warning_models import HelpRequest

TIME_FORMAT = "%Y-%m-%d %H:%M"
LEVEL_ICONS = {WarningLevel.BLUE: "🔵", WarningLevel.YELLOW: "🟡", WarningLevel.ORANGE: "🟠", WarningLevel.RED: "🔴"}
CANCEL_ICON = "⚪"
# Feeds write essays now and then; a warning must still fit one Telegram message (4096 characters).
MAX_DESCRIPTION = 1200
MAX_INSTRUCTION = 800
# A CAP <sender> is the alert's identity and is stored whole; shown, it is a name or an address.
MAX_SENDER = 100

ACK_RECEIVED, ACK_NEED_HELP = "wa:ok", "wa:help"
# 📝 报告落实情况: what the head did under the warning (handlers.warning_report).
REPORT = "wr:new"
# Under the staff's alert of a call for help: ✋ 我来处理, then ✅ 已解决 for its taker (handlers.warning_help).
HELP_TAKE, HELP_RESOLVE = "wh:take", "wh:done"


def kind_label(kind: WarningKind, t: Translator) -> str:
    return t.plain(f"wkind.{kind.value}")


def level_label(level: WarningLevel, t: Translator) -> str:
    return t.plain(f"wlevel.{level.value}")


def title(warning: NewWarning, t: Translator) -> str:
    """台风红色预警 / Typhoon warning (red): what the warning is called on buttons and in lists."""
    return t.plain("warn.title", kind=kind_label(warning.kind, t), level=level_label(warning.level, t))


def local_time(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime(TIME_FORMAT)


def person_link(telegram_id: int, name: str) -> Html:
    """A name staff can tap to open a chat with the person, whether or not they have a username."""
    return Html(f'<a href="tg://user?id={telegram_id}">{escape(name)}</a>')


def template(kind: WarningKind, level: WarningLevel, t: Translator) -> tuple[str, str]:
    """The bureau's template for a warning of this kind and level, in the reader's language: headline and text."""
    name = t.plain("warn.title", kind=kind_label(kind, t), level=level_label(level, t))
    return t.plain("warn.template_headline", title=name), t.plain(f"warn.template_{kind.value}")


def from_template(warning: NewWarning) -> bool:
    """Whether a manual warning's headline and text are the template for its kind and level, unchanged, in any of
    our languages. Such a warning is the bureau's template, not the sender's words: it reads in each reader's
    language, whatever language its sender used. A text the sender typed or edited is theirs, shown as written.
    Asked of the stored text, so warnings sent before this rule, and the outbox after a restart, read the same; a
    raised or lowered level rewrites the headline to the new level's template (relevelled_headline)."""
    if warning.origin is not WarningOrigin.MANUAL:
        return False
    return any(template(warning.kind, warning.level, t) == (warning.headline, warning.description)
               for t in _translators())


@cache
def _translators() -> tuple[Translator, ...]:
    return tuple(Translator(language) for language in LANGUAGES)


def headline(warning: NewWarning, t: Translator) -> str:
    """The headline in the reader's language where we wrote it ourselves: a forecast finding stores its rule's
    Chinese summary, and every rule has an English one; a manual warning may be our template. Staff's and the
    feed's own words are shown as written."""
    if warning.origin is WarningOrigin.FORECAST and warning.rule is not None and t.language != "zh_CN":
        rule = _forecast_rules().get(warning.rule)
        if rule is not None and rule.summary_zh == warning.headline:
            return rule.summary_en
    if from_template(warning):
        return template(warning.kind, warning.level, t)[0]
    return warning.headline


def description(warning: NewWarning, t: Translator) -> str:
    """The warning's text, in the reader's language where it is our template (see headline)."""
    if from_template(warning):
        return template(warning.kind, warning.level, t)[1]
    return warning.description


@cache
def _forecast_rules() -> dict[str, ThresholdRule]:
    return {rule.id: rule for rule in load_thresholds(WarningSettings().thresholds_path).rules}


def forecast_label(t: Translator) -> str:
    return FORECAST_LABEL_ZH if t.language == "zh_CN" else FORECAST_LABEL_EN


def warning_text(
    warning: NewWarning,
    change: WarningChange,
    t: Translator,
    tz: ZoneInfo,
    checklist: Sequence[ChecklistItem],
    *,
    default_duration: timedelta = DEFAULT_DURATION,
) -> Html:
    """The message a recipient reads for one revision: what changed, who says so, the text, what to do, until when.

    `checklist` is what applies to the reader (a head sees their institution's actions; everyone else all of them).
    """
    icon = CANCEL_ICON if change is WarningChange.CANCEL else LEVEL_ICONS[warning.level]
    lines = [t(f"warn.change_{change.value}", icon=icon, title=title(warning, t)), _origin(warning, t)]
    if change is WarningChange.CANCEL:
        # The warning's text announced it; repeated under 【解除】 it would read as the opposite.
        lines += [t("warn.lifted_of", headline=headline(warning, t)), t(f"warn.lifted_advice_{warning.kind.value}")]
        return Html("\n".join(lines))
    lines.append(t("warn.headline", headline=headline(warning, t)))
    if text := description(warning, t):
        lines.append(escape(clipped(text, MAX_DESCRIPTION)))
    if warning.instruction:
        lines.append(t("warn.instruction", instruction=clipped(warning.instruction, MAX_INSTRUCTION)))
    if checklist:
        lines.append(t("warn.checklist_title"))
        lines += [t("warn.checklist_item", text=item.zh if t.language == "zh_CN" else item.en) for item in checklist]
    lines.append(t("warn.valid_until", until=local_time(effective_expiry(warning, default_duration), tz)))
    return Html("\n".join(lines))


def _origin(warning: NewWarning, t: Translator) -> str:
    if warning.origin is WarningOrigin.OFFICIAL:
        return t("warn.origin_official", sender=clipped(warning.sender, MAX_SENDER) if warning.sender else "—")
    if warning.origin is WarningOrigin.FORECAST:
        return t("warn.origin_forecast", label=forecast_label(t))
    return t("warn.origin_manual")


def merged_checklist(lists: Iterable[Sequence[ChecklistItem]]) -> list[ChecklistItem]:
    """Several institutions' actions as one list, each action once, in the checklist's order."""
    seen: dict[str, ChecklistItem] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item.id, item)
    return list(seen.values())


def ack_keyboard(warning_id: int, t: Translator) -> InlineKeyboardMarkup:
    """What every institution head can answer: received and acting, or need help (which alerts staff at once); and
    beside it, what they did (a patrol, vehicles checked), which also counts as received."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t.plain("warn.button_received"), callback_data=f"{ACK_RECEIVED}:{warning_id}")],
            [report_button(warning_id, t)],
            [InlineKeyboardButton(t.plain("warn.button_need_help"), callback_data=f"{ACK_NEED_HELP}:{warning_id}")],
        ]
    )


def report_button(warning_id: int, t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.plain("warn.button_report"), callback_data=f"{REPORT}:{warning_id}")


def help_only_keyboard(warning_id: int, t: Translator) -> InlineKeyboardMarkup:
    """After 已收到并落实 the head may still find they need help, and reports what they did (a patrol each night);
    the received button has done its work."""
    return InlineKeyboardMarkup(
        [[report_button(warning_id, t)],
         [InlineKeyboardButton(t.plain("warn.button_need_help"), callback_data=f"{ACK_NEED_HELP}:{warning_id}")]]
    )


def help_alert_key(request: HelpRequest) -> str:
    """The outbox key of the staff's alert of one call for help (each copy adds its chat)."""
    return f"warning:{request.warning_id}:help:{request.id}"


def take_help_button(request_id: int, t: Translator, institution: str) -> InlineKeyboardButton:
    """✋ 我来处理 naming the call's institution, for a page listing several calls."""
    return InlineKeyboardButton(t.plain("help.button_take_of", institution=institution),
                                callback_data=f"{HELP_TAKE}:{request_id}")


def take_help_keyboard(request_id: int, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.plain("help.button_take"), callback_data=f"{HELP_TAKE}:{request_id}")]]
    )


def resolve_help_button(request_id: int, t: Translator, institution: str = "") -> InlineKeyboardButton:
    label = t.plain("help.button_resolve_of", institution=institution) if institution else t.plain(
        "help.button_resolve")
    return InlineKeyboardButton(label, callback_data=f"{HELP_RESOLVE}:{request_id}")


def waited(span: timedelta, t: Translator) -> str:
    """How long a call has waited: "40 分钟", "1 小时 30 分钟" / "40 minutes", "1 hour 30 minutes"."""
    minutes = int(span.total_seconds() // 60)
    return two_units(
        t, minutes, 60, ("warn.wait_minutes", "minutes"), ("warn.wait_hours", "hours"), "warn.wait_hours_minutes"
    )
