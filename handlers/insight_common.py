"""What the insight journeys (/stats, charts, /export, /ranking, /notice, imports) share: the services, who may
ask, and how periods, places and rates read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from telegram import Update

from bot.context import BotContext
from bot.domain.stats import PeriodKind, RangeProblem, Ratio, Scope, ScopeLevel, StatsPeriod, parse_range
from bot.i18n import Translator
from bot.services.errors import Refusal
from bot.services.insight import Insight
from handlers.common import Caller, answer, identify, is_private, place_name, popup_text
from storage.models import Region, User

# What /stats and /export do with the period asked for (None: the default one).
ShowPeriod = Callable[[Update, BotContext, StatsPeriod | None], Awaitable[None]]


def insight_of(context: BotContext) -> Insight:
    return context.services.insight


async def asker(update: Update, context: BotContext) -> tuple[Caller, User] | None:
    """The registered person behind the update, or None (the access gate has already answered strangers)."""
    caller = await identify(update, context)
    if caller is None or caller.user is None:
        return None
    return caller, caller.user


async def with_typed_period(update: Update, context: BotContext, show: ShowPeriod) -> None:
    """/stats or /export, with or without a typed range (`/stats 2026-01-01 2026-03-31`): a range that cannot be read
    is explained; otherwise `show` is given the range, or None for the default period."""
    if not is_private(update):
        return
    typed = " ".join(context.args or [])
    parsed = parse_range(typed) if typed else None
    if isinstance(parsed, RangeProblem):
        found = await asker(update, context)
        if found is not None:
            await answer(update, found[0].t(f"insight.range.{parsed.value}"))
        return
    await show(update, context, parsed)


async def refuse(
    update: Update, context: BotContext, caller: Caller, refusal: Refusal, what: str, *, answered: bool = False
) -> None:
    """Tell the person why not, and keep a record: a refused scope or role is worth auditing.

    A button press is told in an alert, unless the handler has `answered` the press already (a long job that must
    not keep the button spinning): Telegram takes one answer per press, so the refusal then comes as a message."""
    await context.services.storage.audit.append(
        caller.telegram_user.id, "authz.refused", detail={"command": what, "reason": refusal.code}
    )
    if update.callback_query is not None and not answered:
        await update.callback_query.answer(popup_text(caller.t, refusal), show_alert=True)
    else:
        await answer(update, caller.t(refusal.message_key, **refusal.params))


async def may_see_figures(update: Update, context: BotContext, caller: Caller, user: User, what: str) -> bool:
    """Whether the person has figures to see at all (a head, county staff, a city admin); the others are refused.
    Asked before a press is answered, so that a refusal is the press's one answer."""
    try:
        insight_of(context).stats.scope(user)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, what)
        return False
    return True


def period_name(period: StatsPeriod, t: Translator) -> str:
    start = period.start
    if period.kind is PeriodKind.MONTH:
        return t.plain("insight.period.month", year=start.year, month_name=t.plain(f"date.month.{start.month}"))
    if period.kind is PeriodKind.QUARTER:
        return t.plain("insight.period.quarter", year=start.year, quarter=(start.month - 1) // 3 + 1)
    if period.kind is PeriodKind.YEAR:
        return t.plain("insight.period.year", year=start.year)
    return t.plain("insight.period.range", start=day(start), end=day(period.end))


def day(value: date) -> str:
    return value.isoformat()


def region_name(region: Region | None, code: str, t: Translator) -> str:
    return code if region is None else place_name(region, t)


def unit_name(code: str, regions: dict[str, Region], t: Translator) -> str:
    """A county, township or the city itself (institutions the city runs directly: 市直)."""
    region = regions.get(code)
    if region is not None and region.level.value == "city":
        return t.plain("insight.city_level", city=region_name(region, code, t))
    return region_name(region, code, t)


def scope_name(scope: Scope, regions: dict[str, Region], institution: str | None, t: Translator) -> str:
    if scope.level is ScopeLevel.INSTITUTION:
        return institution or t.plain("insight.scope.institution")
    if scope.region_code is None:
        return t.plain("insight.scope.city")
    return region_name(regions.get(scope.region_code), scope.region_code, t)


def percent(ratio: Ratio, t: Translator) -> str:
    rate = ratio.rate
    return t.plain("insight.none") if rate is None else f"{rate * 100:.0f}%"


def fraction(ratio: Ratio, t: Translator) -> str:
    return t.plain("insight.fraction", part=ratio.part, whole=ratio.whole, percent=percent(ratio, t))


def duration_hours(hours: float | None, t: Translator) -> str:
    if hours is None:
        return t.plain("insight.none")
    if hours >= 48:
        return t.plain("insight.days", n=f"{hours / 24:.1f}")
    if hours >= 1:
        return t.plain("insight.hours", n=f"{hours:.1f}")
    return t.plain("insight.minutes", n=f"{hours * 60:.0f}")
