"""Which of a warning's institutions /warnstatus lists, in which order, under which filter: a pure reading of the
ack status, so that the status message, its buttons and the alerts that point to it all count alike.

Most urgent first, as an on-call pager lists its open incidents: the calls for help still open (the longest
waiting first), then the institutions nobody can be told of (only a phone call reaches them), then the other
silent ones, then those answered. A county's staff see one county; the city's admins see the counties in the
order the status gives them, within each kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.services.warning_acks import CountyAckStatus, InstitutionAck


class Shown(StrEnum):
    """The filters of /warnstatus, each a kind of institution (ALL: every kind, the most urgent first)."""

    ALL = "a"
    HELP = "h"  # a call for help still open (taken or not), raised under the warning or after it ended
    NO_ONE = "n"  # silent, and no head the bot can still reach: to phone
    SILENT = "s"  # silent, with a head the warning reached: to remind, or chase
    ANSWERED = "r"  # answered (received, or helped and resolved)


KINDS = (Shown.HELP, Shown.NO_ONE, Shown.SILENT, Shown.ANSWERED)


@dataclass(frozen=True)
class Listed:
    county_code: str
    row: InstitutionAck
    kind: Shown


def kind_of(row: InstitutionAck) -> Shown:
    if row.help is not None and not row.help.resolved:
        return Shown.HELP
    if row.no_one_to_reach:
        return Shown.NO_ONE
    if row.response is None:
        return Shown.SILENT
    return Shown.ANSWERED


def urgent_first(counties: Sequence[CountyAckStatus]) -> list[Listed]:
    """Every institution of the counties, each once, the most urgent kind first; the calls for help by how long
    they have waited (the oldest first); the others in the counties' order, then the status's own."""
    rows = [Listed(county.county_code, row, kind_of(row)) for county in counties
            for row in (*county.need_help, *county.pending, *county.helped, *county.acknowledged)]
    order = {code: index for index, code in enumerate(dict.fromkeys(county.county_code for county in counties))}
    rank = {kind: index for index, kind in enumerate(KINDS)}

    def key(item: tuple[int, Listed]) -> tuple[int, float, int, int]:
        index, listed = item
        call = listed.row.help if listed.kind is Shown.HELP else None
        return rank[listed.kind], call.raised_at.timestamp() if call else 0.0, order[listed.county_code], index

    return [listed for _, listed in sorted(enumerate(rows), key=key)]


def counts(listed: Sequence[Listed]) -> dict[Shown, int]:
    """How many institutions each filter lists."""
    told = {kind: 0 for kind in Shown}
    told[Shown.ALL] = len(listed)
    for item in listed:
        told[item.kind] += 1
    return told


def filtered(listed: Sequence[Listed], shown: Shown) -> list[Listed]:
    return list(listed) if shown is Shown.ALL else [item for item in listed if item.kind is shown]
