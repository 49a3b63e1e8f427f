"""How a ranking and a notice (通报) read: shared by /ranking, the notice preview and the notice that is sent, so
that the text reviewed is, to the character, the text that goes out."""

from __future__ import annotations

from bot.domain.lifecycle import days_late
from bot.domain.ranking import PRAISE_RATE, Placed, Standing, measured, places
from bot.i18n import Translator, counted
from bot.services.notices import NoticeDraft, Ranking
from handlers.common import fitting, place_name
from handlers.insight_common import day, percent, period_name, unit_name
from storage.repositories.standings import InstitutionRow, OverdueRow

MAX_LINES = 30
# The whole ranking (📋 完整排名), a page at a time: up to 25 places, fewer where their lines are long (official
# names in English) so that a page keeps to RANKING_BUDGET, as the summary does.
RANKING_PAGE = 25
BOTTOM_LINES = 10
# What the ranking's lines may take of a message. Official names are long in English ("… Home-based Elderly Care
# Service Centre"): thirty such lines are past what one Telegram message holds, so fewer of the top are shown.
RANKING_BUDGET = 3200
# In a notice, beside its headings (about 900 characters in English) and the preview's intro: the ranking, and each
# of the three lists of the negative list, in this many characters; a list names what fits and counts the rest.
NOTICE_RANKING_BUDGET = 1000
NOTICE_LIST_BUDGET = 500
PRAISE_PERCENT = f"{PRAISE_RATE * 100:.0f}%"  # the bar for praise, as the notice states it
# The places with nothing measured, named on one line under the ranking: as many names as fit, the rest counted.
UNMEASURED_BUDGET = 300


def standing_name(standing: Standing, ranking: Ranking, t: Translator) -> str:
    institution = ranking.institutions.get(standing.code)
    if institution is not None:
        return place_name(institution, t)
    return unit_name(standing.code, ranking.regions, t)


def standing_line(placed: Placed, ranking: Ranking, t: Translator) -> str:
    # A past period's overdue figure is of its end ("期末逾期"), the current one's of now ("当前逾期").
    key = "insight.ranking.line" + ("_ended" if ranking.ended else "") + ("_tied" if placed.tied else "")
    return _figures_line(key, placed.standing, ranking, t, place=placed.place)


def _apart_lines(ranking: Ranking, t: Translator) -> list[str]:
    """The places listed apart (the city's own institutions, 市直) with something measured: their figures, no
    place."""
    key = "insight.ranking.apart" + ("_ended" if ranking.ended else "")
    return [_figures_line(key, standing, ranking, t) for standing in ranking.apart if measured(standing)]


def _figures_line(key: str, standing: Standing, ranking: Ranking, t: Translator, **more: object) -> str:
    return t(
        key,
        **more,
        name=standing_name(standing, ranking, t),
        on_time=percent(standing.on_time, t),
        overdue=standing.overdue,
        inspections=percent(standing.inspections, t),
        drills=percent(standing.drills, t),
        acks=percent(standing.acks, t),
    )


def ranking_lines(ranking: Ranking, t: Translator, budget: int = RANKING_BUDGET) -> list[str]:
    """Every ranked place when they fit MAX_LINES and `budget` characters; otherwise the top and the bottom, which
    is what a notice is about, as many of the top as fit. Then, unnumbered, the places with nothing measured and
    those listed apart (市直)."""
    placed = places(ranking.standings)
    # What is listed apart (市直) with nothing measured is named with the other places not ranked, first (by code).
    idle = [s for s in ranking.apart if not measured(s)]
    unmeasured = _unmeasured_line(idle + [p.standing for p in placed if p.place is None], ranking, t)
    unmeasured += _apart_lines(ranking, t)
    budget -= _size(unmeasured)
    lines = [standing_line(p, ranking, t) for p in placed if p.place is not None]
    if len(lines) <= MAX_LINES and _size(lines) <= budget:
        return lines + unmeasured
    bottom = lines[-min(BOTTOM_LINES, len(lines) // 2):]
    top = lines[: MAX_LINES - len(bottom)]
    while len(top) > 1 and _size(top) + _size(bottom) > budget:
        top.pop()
    while len(bottom) > 1 and _size(top) + _size(bottom) > budget:
        bottom.pop(0)
    hidden = len(lines) - len(top) - len(bottom)
    # Two long lines past the budget are both kept (one of each end at least): there is no gap to announce.
    return [*top, *([t(counted("insight.ranking.gap", hidden), hidden=hidden)] if hidden else []), *bottom,
            *unmeasured]


def _unmeasured_line(standings: list[Standing], ranking: Ranking, t: Translator) -> list[str]:
    """The places not ranked, for want of anything to measure: named (as many as fit), never numbered or last."""
    if not standings:
        return []
    separator = t.plain("insight.notice.name_separator")
    names = fitting([standing_name(s, ranking, t) for s in standings], UNMEASURED_BUDGET, gap=len(separator))
    if len(names) == len(standings):
        return [t("insight.ranking.unmeasured", names=separator.join(names))]
    return [t("insight.ranking.unmeasured_some", count=len(standings), names=separator.join(names))]


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def ranking_hides(ranking: Ranking, t: Translator) -> bool:
    """Whether `ranking_text` leaves places out (中间 272 名略): then /ranking offers the whole order, page by page."""
    return len(ranking_lines(ranking, t)) < len(_ranked_lines(ranking, t)) + len(_unranked_lines(ranking, t))


def ranking_page_text(ranking: Ranking, scope: str, t: Translator, page: int) -> tuple[str, int, int]:
    """The whole ranking a page at a time (`_pages`), each line as the summary has it (the places not ranked and
    those listed apart after the last): the text, and the page shown (clamped) and the pages."""
    lines = _ranked_lines(ranking, t)
    unranked = _unranked_lines(ranking, t)
    pages = _pages(lines, RANKING_BUDGET - _size(unranked))
    page = min(max(page, 0), len(pages) - 1)
    shown = pages[page] + (unranked if page == len(pages) - 1 else [])
    header = t("insight.ranking.header", scope=scope, period=period_name(ranking.period, t))
    where = t("insight.ranking.page", page=page + 1, pages=len(pages), count=len(lines))
    return "\n".join([header, order_line(ranking, t), where, *shown]), page, len(pages)


def _pages(lines: list[str], budget: int) -> list[list[str]]:
    """`lines` cut into pages of at most RANKING_PAGE lines and `budget` characters (one line at least), always
    the same way for the same lines, so that a page button finds the page it named."""
    pages: list[list[str]] = [[]]
    for line in lines:
        if pages[-1] and (len(pages[-1]) >= RANKING_PAGE or _size(pages[-1]) + len(line) + 1 > budget):
            pages.append([])
        pages[-1].append(line)
    return pages


def _ranked_lines(ranking: Ranking, t: Translator) -> list[str]:
    return [standing_line(p, ranking, t) for p in places(ranking.standings) if p.place is not None]


def _unranked_lines(ranking: Ranking, t: Translator) -> list[str]:
    idle = [s for s in ranking.apart if not measured(s)]
    unplaced = [p.standing for p in places(ranking.standings) if p.place is None]
    return _unmeasured_line(idle + unplaced, ranking, t) + _apart_lines(ranking, t)


def ranking_text(ranking: Ranking, scope: str, t: Translator) -> str:
    if not ranking.standings and not ranking.apart:
        return t("insight.ranking.empty", scope=scope, period=period_name(ranking.period, t))
    header = t("insight.ranking.header", scope=scope, period=period_name(ranking.period, t))
    # The order the places are decided by, when some are: a ranking of nothing measured lists the places alone.
    order = [order_line(ranking, t)] if any(measured(s) for s in ranking.standings) else []
    return "\n".join([header, *order, *ranking_lines(ranking, t)])


def order_line(ranking: Ranking, t: Translator) -> str:
    """The rule the places are decided by, as its lines say it: a past period's overdue figure is of its end
    (期末逾期), the running one's of now (当前逾期)."""
    return t("insight.ranking.order_ended" if ranking.ended else "insight.ranking.order")


def _place(row: InstitutionRow | OverdueRow, draft: NoticeDraft, t: Translator) -> str:
    return unit_name(row.region_code[:6], draft.ranking.regions, t)


def _overdue_line(row: OverdueRow, draft: NoticeDraft, t: Translator) -> str:
    days = days_late(row.deadline, draft.as_of)
    return t(counted("insight.notice.overdue_line", days), code=row.code, institution=place_name(row, t),
             place=_place(row, draft, t), days=days)


def _named(lines: list[str], total: int, t: Translator) -> list[str]:
    """The lines of a list that fit NOTICE_LIST_BUDGET (at least one), and the count of all when some are left."""
    kept = fitting(lines, NOTICE_LIST_BUDGET)
    return kept + ([t("insight.notice.more", total=total)] if len(kept) < total else [])


def _overdue_list(draft: NoticeDraft, t: Translator) -> list[str]:
    """The negative list's overdue hazards under a heading that says the date they are judged at (a past month's
    last day, or today). Rights-protection hazards are in neither the list nor the ranking's figures (the notice
    says so once, for every county, with no number), so the list adds up to the ranking's overdue figures."""
    total = draft.overdue.total
    if draft.ranking.ended:
        heading = t("insight.notice.overdue_ended", total=total, end=day(draft.period.end))
    else:
        heading = t("insight.notice.overdue", total=total)
    return [heading, *_named([_overdue_line(row, draft, t) for row in draft.overdue.items], total, t)]


def notice_text(draft: NoticeDraft, city: str, t: Translator) -> str:
    ranking = draft.ranking
    lines = [
        t("insight.notice.title", city=city, period=period_name(draft.period, t)),
        "",
        t("insight.notice.ranking"),
        order_line(ranking, t),
        t("insight.notice.sensitive_left_out"),
        *ranking_lines(ranking, t, NOTICE_RANKING_BUDGET),
        "",
        t("insight.notice.praise"),
    ]
    if draft.best:
        names = t.plain("insight.notice.name_separator").join(standing_name(s, ranking, t) for s in draft.best)
        lines.append(t("insight.notice.praise_line", names=names, rate=PRAISE_PERCENT))
    else:
        lines.append(t("insight.notice.praise_none", rate=PRAISE_PERCENT))
    lines += ["", t("insight.notice.negative"), *_overdue_list(draft, t)]
    lines.append(t("insight.notice.drills", total=draft.drills_overdue.total))
    lines += _named([
        t("insight.notice.institution_line", institution=place_name(row, t), place=_place(row, draft, t))
        for row in draft.drills_overdue.items
    ], draft.drills_overdue.total, t)
    lines.append(t("insight.notice.inspections", total=draft.inspections_missing.total))
    lines += _named([
        t("insight.notice.institution_line", institution=place_name(row, t), place=_place(row, draft, t))
        for row in draft.inspections_missing.items
    ], draft.inspections_missing.total, t)
    lines += ["", t("insight.notice.closing")]
    return "\n".join(lines)
