"""Who among the staff hears first about a place: one rule for calls for help, county notices and departures."""

from __future__ import annotations

from bot.domain.roles import Role
from storage import Storage
from storage.models import User


async def first_told(storage: Storage, region_code: str) -> list[User]:
    """The active county staff whose county covers the place, or the city admins where none does (the city's own
    institutions, a county with nobody registered yet), by Telegram id."""
    staff = await storage.users.staff_for_region(region_code)
    county = [user for user in staff if user.role is Role.COUNTY]
    return county or [user for user in staff if user.role is Role.CITY]
