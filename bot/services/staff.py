"""Who among the staff hears first about a place: one rule for calls for help, county notices and departures."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.roles import Role
from storage import Storage
from storage.models import Group, User


async def first_told(storage: Storage, region_code: str) -> list[User]:
    """The active county staff whose county covers the place, or the city admins where none does (the city's own
    institutions, a county with nobody registered yet), by Telegram id."""
    staff = await storage.users.staff_for_region(region_code)
    county = [user for user in staff if user.role is Role.COUNTY]
    return county or [user for user in staff if user.role is Role.CITY]


async def answerable_for(storage: Storage, groups: Iterable[Group], besides: int | None = None) -> list[User]:
    """Who answers for work groups (told when one is lost, changed or ended): the staff first told for each one's
    region and whoever bound it while still active, by Telegram id; `besides`, the one who acted, left out."""
    told: dict[int, User] = {}
    for group in groups:
        for user in await first_told(storage, group.region_code):
            told[user.telegram_id] = user
        binder = await storage.users.get(group.bound_by)
        if binder is not None and binder.active:
            told[binder.telegram_id] = binder
    if besides is not None:
        told.pop(besides, None)
    return sorted(told.values(), key=lambda user: user.telegram_id)
