"""How a due reminder reads: one paragraph per item, in the recipient's language, from the data the sweep gathered.

An escalation names the person responsible (to everyone but that person); a late one says when it was due; an
urgent one (a 重大 hazard) is marked 🚨. Several steps about the same thing that fell due together (the bot was
down across a deadline) are said once, by the latest of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.batch_summary import CountyTally
from bot.domain.compliance import STUDY_RULE, Compliant, Duty, Overdue, next_period
from bot.domain.reminders import ReminderKind
from bot.i18n import Html, Translator, counted, name_in, two_units
from bot.services.digests import DigestData, Person
from bot.services.reminder_items import (
    LISTED_ITEMS,
    DutyReminderData,
    HazardReminderData,
    HeadlessReminderData,
    ReminderData,
    ReminderItem,
    subject_of,
)
from handlers.calendar_common import DRILL, SELFCHECK, period_label, status_line
from handlers.common import catalog_label, fitting, place_name
from handlers.notify import when

DIGEST_LINES = 10  # per list in a digest: read on a phone, the rest is a count
# What a digest may take, its lists sharing what its header and county lines leave: official names are long in
# English, and ten lines of them in each list with their heads' names were past what one message holds. Below
# MESSAGE_BUDGET, so the note of a late delivery still fits.
DIGEST_BUDGET = 3400
# One reminder message lists at most this many items, the most pressing first, and counts the rest: on the first
# morning of a month a county official has dozens of institutions overdue, a city admin hundreds of hazards, and
# a paragraph each would be past what one Telegram message holds (4096 characters) and past reading on a phone.
MESSAGE_ITEMS = LISTED_ITEMS
# What the listed paragraphs may take of a message, with the header and the count of the rest beside them. Markup
# is counted too, though Telegram does not count it: the limit is never reached.
MESSAGE_BUDGET = 3800

_K = ReminderKind
HAZARD_KEYS = {
    _K.HAZARD_DUE_SOON: "reminder.hazard_due_soon",
    _K.HAZARD_DEADLINE: "reminder.hazard_deadline",
    _K.HAZARD_OVERDUE: "reminder.hazard_overdue",
}
# A hazard still overdue, to the person responsible (the weekly repeat).
YOUR_OVERDUE = "reminder.hazard_overdue_yours"
# A study session missed, to the unit's own staff: what is owed now, and how to log it.
YOUR_STUDY_OVERDUE = "reminder.study_overdue_yours"
DUTY_KEYS = {
    _K.DRILL_DUE_SOON: "reminder.drill_due_soon",
    _K.DRILL_OVERDUE: "reminder.drill_overdue",
    _K.DRILL_MISSED: "reminder.drill_missed",
    _K.SELF_INSPECTION_OPEN: "reminder.selfcheck_open",
    _K.SELF_INSPECTION_DUE: "reminder.selfcheck_due",
    _K.SELF_INSPECTION_LAST_DAY: "reminder.selfcheck_last_day",
    _K.SELF_INSPECTION_OVERDUE: "reminder.selfcheck_overdue",
    _K.DRILL_STAND_IN: "reminder.drill_stand_in",
    _K.SELF_INSPECTION_STAND_IN: "reminder.selfcheck_stand_in",
    _K.STUDY_DUE_SOON: "reminder.study_due_soon",
    _K.STUDY_OVERDUE: "reminder.study_overdue",
}
# Reminders to county staff in the place of an institution's missing head.
STAND_INS = frozenset({_K.DRILL_STAND_IN, _K.SELF_INSPECTION_STAND_IN})
# Reminders that go over the heads of those who owe the duty: they name them.
ESCALATIONS = frozenset({_K.HAZARD_DEADLINE, _K.HAZARD_OVERDUE, _K.DRILL_OVERDUE, _K.SELF_INSPECTION_OVERDUE,
                         _K.STUDY_OVERDUE})


def collapse(items: Sequence[ReminderItem]) -> list[ReminderItem]:
    """One item per hazard or duty: the latest step says all the earlier ones would have."""
    kept: dict[tuple[object, ...], ReminderItem] = {}
    for item in items:
        key = subject_of(item)
        if key not in kept or item.due_at > kept[key].due_at:
            kept[key] = item
    return [item for item in items if kept[subject_of(item)] is item]


def message_text(
    items: Sequence[ReminderItem], viewer_id: int, t: Translator, tz: ZoneInfo, *, for_group: bool = False,
    group_area: str | None = None, invites_left_out: int = 0, buttons_left_out: int = 0, unlisted: int = 0,
    by_county: str | None = None,
) -> tuple[Html, list[ReminderItem]]:
    """The message for these items (ordered most pressing first), and those of them it lists: up to
    MESSAGE_ITEMS that fit MESSAGE_BUDGET. The others are counted, with `unlisted` more that the round counted
    without handing them over (`Delivery.unlisted`); a person is told where to find them all.
    `invites_left_out`: institutions listed whose "✉️ 邀请负责人" button the keyboard's rows had no room for.
    `buttons_left_out`: other items listed that the keyboard's rows had no room for a button for.
    `group_area`: for a group, the name of the area it is bound to: a group is many people, not "you", and its
    heading says whose list it is ("🔔 鹿城区待办提醒 13 条").
    `by_county`: what all of them are about, county by county (`county_summary`), said under the heading when some
    are only counted: a city admin's forty reminders of a morning named ten homes and hid which counties the rest
    were in."""
    listed = items[:MESSAGE_ITEMS]
    # Late together (the bot was down, or quiet hours held them all): said once under the list, not under each.
    late_together = len(listed) > 1 and all(item.late for item in listed)
    budget = MESSAGE_BUDGET - (len(by_county) + 2 if by_county else 0)
    paragraphs = fitting(
        [item_text(item, viewer_id, t, tz, say_late=not late_together) for item in listed], budget, gap=2
    )
    shown = list(items[: len(paragraphs)])
    total = len(items) + unlisted
    rest = total - len(shown)
    if total > 1:
        if for_group:
            area = group_area or t.plain("reminder.group_area_unknown")
            paragraphs.insert(0, t("reminder.group_header", count=total, area=area))
        else:
            paragraphs.insert(0, t("reminder.digest_header", count=total))
    if by_county and rest:
        paragraphs.insert(1, by_county)
    if late_together:
        first_due = min(item.due_at for item in shown)
        paragraphs.append(t("reminder.late_together", due=when(first_due, tz, t)))
    # How to hand the reminders on to a head is said once, under the institutions a clerk stood in for.
    if stood_in := [item.data for item in shown if item.kind in STAND_INS]:
        paragraphs.append(_invite_heads(stood_in, t))
    if invites_left_out:
        paragraphs.append(t(counted("reminder.invite_buttons_left_out", invites_left_out), count=invites_left_out))
    if buttons_left_out:
        paragraphs.append(t(counted("reminder.buttons_left_out", buttons_left_out), count=buttons_left_out))
    if rest:
        more = counted("reminder.group_more", rest) if for_group else counted("reminder.more", rest)
        paragraphs.append(t(more, count=rest))
    return Html("\n\n".join(paragraphs)), shown


def county_summary(tallies: Sequence[CountyTally], names: dict[str, str], t: Translator) -> Html:
    """"按县（市、区）：\n• 鹿城区 5 项（演练逾期 3、自查未完成 2）…": one line a county, the city's own first."""
    separator = t.plain("warn.list_separator")
    lines = [t("reminder.by_county_header")]
    for tally in tallies:
        topics = separator.join(t.plain(f"reminder.topic.{topic.value}", count=count) for topic, count in tally.counts)
        lines.append(t("reminder.by_county_line", county=names.get(tally.code, tally.code), count=tally.total,
                       topics=topics))
    return Html("\n".join(lines))


def _invite_heads(stood_in: Sequence[ReminderData], t: Translator) -> str:
    # One institution is named: among other reminders, "the institution" would not say which.
    if len(stood_in) == 1 and isinstance(only := stood_in[0], DutyReminderData):
        return t("reminder.stand_in_invite_named", name=place_name(only, t))
    return t("reminder.stand_in_invite")


def item_text(item: ReminderItem, viewer_id: int, t: Translator, tz: ZoneInfo, *, say_late: bool = True) -> str:
    data = item.data
    if isinstance(data, HazardReminderData):
        responsible = data.responsible
        yours = viewer_id in {p.telegram_id for p in responsible}
        lines = [_hazard(item.kind, data, t, tz, yours=yours)]
    elif isinstance(data, DutyReminderData):
        responsible = data.responsible
        lines = [_duty(item.kind, data, t, yours=viewer_id in {p.telegram_id for p in responsible})]
    elif isinstance(data, HeadlessReminderData):
        lines = [_headless(data, t)]
        responsible = ()
    else:
        lines = [_digest(item.kind, data, t, tz)]
        responsible = ()
    if item.kind in ESCALATIONS and viewer_id not in {p.telegram_id for p in responsible}:
        lines.append(t("reminder.no_head_registered") if lacks_head(item) else _responsible(responsible, t))
    if item.late and say_late:
        lines.append(t("reminder.late", due=when(item.due_at, tz, t)))
    text = Html("\n".join(lines))
    return t("reminder.urgent", text=text) if item.urgent else text


def lacks_head(item: ReminderItem) -> bool:
    """An institution's missed duty with no registered head: nobody can be "named" for a drill or a
    self-inspection; a head has to be invited."""
    data = item.data
    return (
        item.kind in ESCALATIONS and isinstance(data, DutyReminderData) and data.institution_id is not None
        and not data.responsible
    )


def _responsible(people: Sequence[Person], t: Translator) -> str:
    if not people:
        return t("reminder.nobody_responsible")
    return t("reminder.responsible", names=t.plain("warn.list_separator").join(p.full_name for p in people))


def _hazard(kind: ReminderKind, data: HazardReminderData, t: Translator, tz: ZoneInfo, *, yours: bool) -> str:
    # The weekly repeat to the one who must correct it asks them to act; to everyone else it reports.
    key = YOUR_OVERDUE if kind is ReminderKind.HAZARD_OVERDUE and yours else HAZARD_KEYS[kind]
    overdue = data.overdue_by or timedelta(0)
    return t(
        key,
        code=data.code,
        institution=name_in(t.language, data.institution_name_zh, data.institution_name_en),
        area=catalog_label(data.area, t),
        severity=catalog_label(data.severity, t),
        deadline=when(data.deadline, tz, t),
        overdue=_duration(overdue, t),
        days=overdue.days,
    )


def _duty(kind: ReminderKind, data: DutyReminderData, t: Translator, *, yours: bool = False) -> str:
    if kind is ReminderKind.STUDY_OVERDUE and yours:
        # The bureau that missed it reads what it owes now, not only that the city was told.
        owed = next_period(STUDY_RULE, data.period)
        return t(YOUR_STUDY_OVERDUE, name=place_name(data, t), period=period_label(data.period, t),
                 next=period_label(owed, t), next_end=owed.end.isoformat())
    if kind is ReminderKind.DRILL_MISSED:
        return _drill_missed(data, t)
    text = t(
        DUTY_KEYS[kind],
        name=place_name(data, t),
        period=period_label(data.period, t),
        end=data.period.end.isoformat(),
    )
    # The month opens for the head the day the clerk hears last month was missed: the head is told too.
    missed = data.status.missed if isinstance(data.status, Overdue) else None
    if kind is ReminderKind.SELF_INSPECTION_OPEN and missed is not None and missed.end < data.period.start:
        text = Html(f"{text}\n{t('reminder.selfcheck_missed_last', period=period_label(missed, t))}")
    return text


def _drill_missed(data: DutyReminderData, t: Translator) -> str:
    """To the head, the morning after their drill period ended with none: missed, and what to do now. A drill held
    now counts for the period under way (a record counts for the period it is made in), so that is the one named,
    with its last day; one already held in it (logged before this went out) leaves only the miss to say."""
    name, missed = place_name(data, t), period_label(data.period, t)
    now = data.status
    if isinstance(now, Compliant) and now.done_on is not None:
        return t("reminder.drill_missed_since_held", name=name, period=missed, day=now.done_on.isoformat(),
                 next=period_label(now.period, t))
    return t("reminder.drill_missed", name=name, period=missed, next=period_label(now.period, t),
             end=now.period.end.isoformat())


def _headless(data: HeadlessReminderData, t: Translator) -> str:
    """"👤 南汇…（鹿城区）已 273 天无已注册的负责人（自 2026-01-01 起）…", or one that never had one."""
    county = name_in(t.language, data.county_name_zh, data.county_name_en)
    words = {
        "name": name_in(t.language, data.name_zh, data.name_en),
        "county": t.plain("reminder.headless_city_run") if data.city_run else county,
    }
    if data.since is None or data.days is None:
        return t("reminder.headless_never", **words)
    return t(counted("reminder.headless", data.days), days=data.days, since=data.since.isoformat(), **words)


def _duration(span: timedelta, t: Translator) -> str:
    """"5 hours", "1 day", "1 day 3 hours" ("1 天 3 小时")."""
    hours = int(span.total_seconds() // 3600)
    return two_units(t, hours, 24, ("reminder.hours", "hours"), ("reminder.days", "days"), "reminder.days_hours")


def _digest(kind: ReminderKind, data: DigestData, t: Translator, tz: ZoneInfo) -> str:
    counts = data.counts
    key = "reminder.weekly_summary" if kind is ReminderKind.WEEKLY_SUMMARY else "reminder.daily_digest"
    lines = [
        t(
            key,
            region=name_in(t.language, data.region_name_zh, data.region_name_en),
            since=when(data.since, tz, t),
            until=when(data.until, tz, t),
            new=counts.new,
            closed=counts.closed,
            unresolved=counts.unresolved,
            overdue=counts.overdue,
        )
    ]
    for region in data.regions:
        name = place_name(region, t)
        lines.append(
            t(
                "reminder.weekly_region_line",
                region=t.plain("insight.city_level", city=name) if region.city_level else name,
                new=region.counts.new,
                closed=region.counts.closed,
                overdue=region.counts.overdue,
                drills_late=region.drills_overdue,
                drills=region.drills_due,
                selfchecks_late=region.self_inspections_overdue,
                selfchecks=region.self_inspections_due,
            )
        )
    lists = bool(data.overdue) + bool(data.duties_due)
    share = (DIGEST_BUDGET - _size(lines)) // max(1, lists)
    if data.overdue:
        lines.append(t("reminder.digest_overdue_header"))
        shown = fitting([
            t(
                "reminder.digest_overdue_line",
                code=line.code,
                institution=name_in(t.language, line.institution_name_zh, line.institution_name_en),
                overdue=_duration(line.overdue_by, t),
                responsible=t.plain("warn.list_separator").join(p.full_name for p in line.responsible) or "—",
            )
            for line in data.overdue[:DIGEST_LINES]
        ], share)
        lines += shown
        # The digest carries the longest overdue only; the count covers them all.
        lines += _more("reminder.digest_more_overdue", max(counts.overdue, len(data.overdue)) - len(shown), t)
    if data.duties_due:
        lines.append(t("reminder.digest_duties_header"))
        shown = fitting([
            t(
                "reminder.digest_duty_line",
                institution=name_in(t.language, line.institution_name_zh, line.institution_name_en),
                status=Html(status_line(DRILL if line.duty is Duty.FIRE_DRILL else SELFCHECK, line.status, t)),
            )
            for line in data.duties_due[:DIGEST_LINES]
        ], share)
        lines += shown
        lines += _more("reminder.digest_more_duties", len(data.duties_due) - len(shown), t)
    return "\n".join(lines)


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _more(key: str, count: int, t: Translator) -> list[str]:
    """The count of a digest list's lines left out, and where a reader of the group sees them all: a group is read
    by staff, who have /tasks, /drills and /export, and a bare "……另有 148 条" leaves them nowhere to go."""
    return [t(counted(key, count), count=count)] if count > 0 else []
