"""Who may end whose access: the roles one may invite, inside one's scope, never oneself."""

from __future__ import annotations

import pytest

from bot.domain.roles import Role, may_manage

LUCHENG, LONGWAN = "330302", "330303"
ADMIN, CLERK = 1, 2


@pytest.mark.parametrize(
    ("actor_role", "actor_region", "person_role", "place", "allowed"),
    [
        (Role.COUNTY, LUCHENG, Role.CADRE, LUCHENG, True),
        (Role.COUNTY, LUCHENG, Role.HEAD, "330302001", True),  # a head placed by their institution's township
        (Role.COUNTY, LUCHENG, Role.CADRE, LONGWAN, False),  # another county's
        (Role.COUNTY, LUCHENG, Role.COUNTY, LUCHENG, False),  # county staff invite no county staff
        (Role.COUNTY, LUCHENG, Role.CITY, None, False),
        (Role.COUNTY, LUCHENG, Role.CADRE, None, False),  # a person of no place is the city's
        (Role.CITY, None, Role.COUNTY, LONGWAN, True),
        (Role.CITY, None, Role.CITY, None, True),  # another admin
        (Role.HEAD, None, Role.CADRE, LUCHENG, False),
        (Role.CADRE, LUCHENG, Role.CADRE, LUCHENG, False),
    ],
)
def test_who_may_end_whose_access(
    actor_role: Role, actor_region: str | None, person_role: Role, place: str | None, allowed: bool
) -> None:
    assert may_manage(ADMIN, actor_role, actor_region, CLERK, person_role, place) is allowed


def test_nobody_ends_their_own_access() -> None:
    assert not may_manage(ADMIN, Role.CITY, None, ADMIN, Role.CITY, None)
