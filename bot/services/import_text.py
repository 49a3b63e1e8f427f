"""How an import's outcome reads, in chat and on the command line alike: what was imported, or every error by row
and column (the column named as the file names it)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.imports import ImportKind, RowError, map_headers
from bot.i18n import Translator, clipped, counted
from bot.services.imports import ImportResult, allowed_labels, column_header, header_aliases

MAX_ERRORS_SHOWN = 25
# A cell or header is quoted in an error by its beginning: a sheet whose first row is long filling-in notes makes
# each note an unknown column, and quoted whole, 25 of them are past what one Telegram message holds.
QUOTED = 60
# The errors listed stay within this many characters, whatever their wording, and the rest are counted.
REPORT_BUDGET = 3600


def error_line(error: RowError, kind: ImportKind, headers: dict[str, str], t: Translator) -> str:
    column = clipped(column_header(kind, error.column, t, headers), QUOTED) if error.column else ""
    params = {k: clipped(v, QUOTED) if isinstance(v, str) else v for k, v in error.params.items()}
    if error.refusal:
        reason = t(f"refusal.{error.code}", **params)
    elif error.code == "bad_choice":
        # Which values would do, not only "see the notes sheet": the command line has no notes sheet at hand.
        allowed = t.plain("insight.import.choice_separator").join(allowed_labels(kind, error.column, t))
        reason = t("insight.import.error.bad_choice", value=str(params["value"]), allowed=allowed)
    else:
        reason = t(f"insight.import.error.{error.code}", **{k: str(v) for k, v in params.items()})
    if column:
        return t("insight.import.error_at", row=error.row, column=column, reason=reason)
    return t("insight.import.error_row", row=error.row, reason=reason)


def result_text(result: ImportResult, file_headers: Sequence[str], t: Translator, *, chat: bool = True) -> str:
    """`chat`: in the bot, whose people's links follow as a document; the command line writes them to a file and
    says where (insight.cli.done.people)."""
    kind = result.kind
    if result.ok:
        done = "insight.cli.done" if kind is ImportKind.PEOPLE and not chat else "insight.import.done"
        return t(counted(f"{done}.{kind.value}", result.rows), rows=result.rows, added=result.added,
                 updated=result.rows - result.added)
    mapping, _ = map_headers(kind, file_headers, header_aliases(kind))
    headers = {key: file_headers[index] for index, key in mapping.items()}
    problems = len(result.errors)
    lines = [t(counted("insight.import.failed", problems), kind=t.plain(f"insight.import.kind.{kind.value}"),
               count=problems)]
    used = len(lines[0])
    shown = 0
    for error in result.errors[:MAX_ERRORS_SHOWN]:
        line = error_line(error, kind, headers, t)
        if used + len(line) + 1 > REPORT_BUDGET:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    if len(result.errors) > shown:
        lines.append(t("insight.import.more_errors", more=len(result.errors) - shown))
    return "\n".join(lines)
