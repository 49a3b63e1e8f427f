"""How a ranking and a notice (通报) read: shared by /ranking, the notice preview and the notice that is sent, so
that the text reviewed is, to the character, the text that goes out."""

from __future__ import annotations

from datetime import datetime

from bot.domain.ranking import Listed, Standing
from bot.i18n import Translator
from bot.services.notices import NoticeDraft, Ranking
from handlers.insight_common import percent, period_name, unit_name
from storage.repositories.standings import InstitutionRow, OverdueRow

MAX_LINES = 30


def standing_name(standing: Standing, ranking: Ranking, t: Translator) -> str:
    institution = ranking.institutions.get(standing.code)
    if institution is not None:
        return institution.name_zh if t.language == "zh_CN" else institution.name_en
    return unit_name(standing.code, ranking.regions, t)


def standing_line(place: int, standing: Standing, ranking: Ranking, t: Translator) -> str:
    return t(
        "insight.ranking.line",
        place=place,
        name=standing_name(standing, ranking, t),
        on_time=percent(standing.on_time, t),
        overdue=standing.overdue,
        drills=percent(standing.drills, t),
        acks=percent(standing.acks, t),
    )


def ranking_lines(ranking: Ranking, t: Translator) -> list[str]:
    """Every place when they fit; otherwise the top and the bottom, which is what a notice is about."""
    standings = list(enumerate(ranking.standings, start=1))
    if len(standings) <= MAX_LINES:
        return [standing_line(place, s, ranking, t) for place, s in standings]
    top, bottom = standings[: MAX_LINES - 10], standings[-10:]
    return [
        *(standing_line(place, s, ranking, t) for place, s in top),
        t("insight.ranking.gap", hidden=len(standings) - len(top) - len(bottom)),
        *(standing_line(place, s, ranking, t) for place, s in bottom),
    ]


def ranking_text(ranking: Ranking, scope: str, t: Translator) -> str:
    if not ranking.standings:
        return t("insight.ranking.empty", scope=scope, period=period_name(ranking.period, t))
    header = t("insight.ranking.header", scope=scope, period=period_name(ranking.period, t))
    return "\n".join([header, t("insight.ranking.order"), *ranking_lines(ranking, t)])


def _place(row: InstitutionRow | OverdueRow, draft: NoticeDraft, t: Translator) -> str:
    return unit_name(row.region_code[:6], draft.ranking.regions, t)


def _name(row: InstitutionRow | OverdueRow, t: Translator) -> str:
    return row.name_zh if t.language == "zh_CN" else row.name_en


def _more(items: Listed[InstitutionRow] | Listed[OverdueRow], t: Translator) -> list[str]:
    return [t("insight.notice.more", total=items.total)] if items.more > 0 else []


def notice_text(draft: NoticeDraft, city: str, now: datetime, t: Translator) -> str:
    ranking = draft.ranking
    lines = [
        t("insight.notice.title", city=city, period=period_name(draft.period, t)),
        "",
        t("insight.notice.ranking"),
        t("insight.ranking.order"),
        *ranking_lines(ranking, t),
        "",
        t("insight.notice.praise"),
    ]
    if draft.best:
        names = t.plain("insight.notice.name_separator").join(standing_name(s, ranking, t) for s in draft.best)
        lines.append(t("insight.notice.praise_line", names=names))
    else:
        lines.append(t("insight.notice.praise_none"))
    lines += ["", t("insight.notice.negative"), t("insight.notice.overdue", total=draft.overdue.total)]
    lines += [
        t("insight.notice.overdue_line", code=row.code, institution=_name(row, t), place=_place(row, draft, t),
          days=max(1, (now - row.deadline).days))
        for row in draft.overdue.items
    ] + _more(draft.overdue, t)
    lines.append(t("insight.notice.drills", total=draft.drills_overdue.total))
    lines += [
        t("insight.notice.institution_line", institution=_name(row, t), place=_place(row, draft, t))
        for row in draft.drills_overdue.items
    ] + _more(draft.drills_overdue, t)
    lines.append(t("insight.notice.inspections", total=draft.inspections_missing.total))
    lines += [
        t("insight.notice.institution_line", institution=_name(row, t), place=_place(row, draft, t))
        for row in draft.inspections_missing.items
    ] + _more(draft.inspections_missing, t)
    lines += ["", t("insight.notice.closing")]
    return "\n".join(lines)
