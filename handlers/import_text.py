"""How an import's outcome reads, in chat and on the command line alike: what was imported, or every error by row
and column (the column named as the file names it)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.imports import ImportKind, RowError, map_headers
from bot.i18n import Translator
from bot.services.imports import ImportResult, column_header, header_aliases

MAX_ERRORS_SHOWN = 25


def error_line(error: RowError, kind: ImportKind, headers: dict[str, str], t: Translator) -> str:
    column = column_header(kind, error.column, t, headers) if error.column else ""
    if error.refusal:
        reason = t(f"refusal.{error.code}", **error.params)
    else:
        reason = t(f"insight.import.error.{error.code}", **{k: str(v) for k, v in error.params.items()})
    if column:
        return t("insight.import.error_at", row=error.row, column=column, reason=reason)
    return t("insight.import.error_row", row=error.row, reason=reason)


def result_text(result: ImportResult, file_headers: Sequence[str], t: Translator) -> str:
    kind = result.kind
    if result.ok:
        return t(f"insight.import.done.{kind.value}", rows=result.rows, added=result.added,
                 updated=result.rows - result.added)
    mapping, _ = map_headers(kind, file_headers, header_aliases(kind))
    headers = {key: file_headers[index] for index, key in mapping.items()}
    lines = [t("insight.import.failed", kind=t.plain(f"insight.import.kind.{kind.value}"), count=len(result.errors))]
    lines += [error_line(error, kind, headers, t) for error in result.errors[:MAX_ERRORS_SHOWN]]
    if len(result.errors) > MAX_ERRORS_SHOWN:
        lines.append(t("insight.import.more_errors", more=len(result.errors) - MAX_ERRORS_SHOWN))
    return "\n".join(lines)
