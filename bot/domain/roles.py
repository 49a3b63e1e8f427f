"""Roles and scopes (DOMAIN.md, "Who uses the bot"): pure rules, no I/O."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CADRE = "cadre"
    HEAD = "head"
    COUNTY = "county"
    CITY = "city"


STAFF_ROLES = frozenset({Role.COUNTY, Role.CITY})

# Who may invite whom: a person can only bring in people at or below their own level, inside their scope.
INVITABLE_BY: dict[Role, frozenset[Role]] = {
    Role.CITY: frozenset({Role.CITY, Role.COUNTY, Role.HEAD, Role.CADRE}),
    Role.COUNTY: frozenset({Role.HEAD, Role.CADRE}),
    Role.HEAD: frozenset(),
    Role.CADRE: frozenset(),
}


def region_in_scope(scope_region: str | None, region_code: str) -> bool:
    """Administrative division codes nest by prefix once trailing zero pairs are dropped.

    A city (330300) covers its counties (330302) and their townships (330302001); a county covers only itself and
    below. A scope of None means the whole configured city.
    """
    if scope_region is None:
        return True
    return region_code.startswith(significant_prefix(scope_region))


def significant_prefix(code: str) -> str:
    """The part of a GB/T 2260 code (optionally extended to 9 or 12 digits) that names the area.

    '330300' -> '3303', '330302' -> '330302', '330302001' -> '330302001', '330302000000' -> '330302'.
    """
    if len(code) == 12 and code.endswith("000"):
        code = code[:9]
    if len(code) == 9 and code.endswith("000"):
        code = code[:6]
    if len(code) != 6:
        return code
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def covering_codes(region_code: str) -> frozenset[str]:
    """Every code, as regions are written (6, 9 or 12 digits, zero-padded), whose area contains `region_code`: the
    places a person may be registered for and still cover it. '330302007' -> 330302007, 330302007000, 330302,
    330302000, 330302000000, 330300, …, 330000, … . `region_in_scope` stays the judge of each."""
    prefix = significant_prefix(region_code)
    codes: set[str] = set()
    for length in (2, 4, 6, 9, 12):
        if length > len(prefix):
            break
        head = prefix[:length]
        codes |= {head.ljust(width, "0") for width in (6, 9, 12) if width >= length}
    return frozenset(code for code in codes if region_in_scope(code, region_code))


def covers(actor_role: Role, actor_region: str | None, place: str | None) -> bool:
    """Whether a place lies in the actor's scope, for inviting and managing people: anywhere for a city admin; for
    anyone else, inside their region (`place` None is the whole city, no one else's)."""
    return actor_role is Role.CITY or (place is not None and region_in_scope(actor_region, place))


def may_manage(
    actor_id: int, actor_role: Role, actor_region: str | None, person_id: int, person_role: Role,
    person_place: str | None,
) -> bool:
    """Whether the actor may take a registered person's access away: whoever may bring a person of that role in,
    inside their own scope, may take them out again; nobody themselves (a city is never left without its admin by
    a slip of the thumb). `person_place` is where the person acts: their institution's region for a head, else
    their own region, None for the whole city (city admins)."""
    if actor_id == person_id or person_role not in INVITABLE_BY[actor_role]:
        return False
    return covers(actor_role, actor_region, person_place)
