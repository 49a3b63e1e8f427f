"""The people the authorization matrix and the fuzzer put in front of the bot: one of each kind of person, scoped
relative to the hazards they are shown (own institution or another, inside the county or outside it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.stage import Stage

LUCHENG, LONGWAN, CITY_REGION = "330302", "330303", "330300"
HOME = "WZ-330302-ELDER-01"  # 鹿城区社会福利院: the institution every matrix hazard belongs to
OTHER_HOME = "WZ-330302-ELDER-02"  # another institution of the same county
LONGWAN_HOME = "WZ-330303-SOCIAL-01"  # an institution of another county


class Persona(StrEnum):
    UNREGISTERED = "unregistered"
    CADRE = "cadre"  # a cadre of Lucheng who did not report the hazard in question
    HEAD_OWN = "head_own"  # head of the hazard's institution
    HEAD_OTHER = "head_other"  # head of another institution in the same county
    COUNTY_IN = "county_in"  # county staff of the hazard's county
    COUNTY_OUT = "county_out"  # county staff of another county
    CITY = "city"  # city admin


REGISTERED = tuple(p for p in Persona if p is not Persona.UNREGISTERED)
STAFF = (Persona.COUNTY_IN, Persona.COUNTY_OUT, Persona.CITY)

# (role, region, institution) each persona is invited with.
INVITATIONS: dict[Persona, tuple[Role, str | None, str | None]] = {
    Persona.CADRE: (Role.CADRE, LUCHENG, None),
    Persona.HEAD_OWN: (Role.HEAD, None, HOME),
    Persona.HEAD_OTHER: (Role.HEAD, None, OTHER_HOME),
    Persona.COUNTY_IN: (Role.COUNTY, LUCHENG, None),
    Persona.COUNTY_OUT: (Role.COUNTY, LONGWAN, None),
    Persona.CITY: (Role.CITY, None, None),
}

# The institution each persona may report on, and one they may not (a city admin may report on any).
OWN_INSTITUTION = {
    Persona.UNREGISTERED: HOME,
    Persona.CADRE: HOME,
    Persona.HEAD_OWN: HOME,
    Persona.HEAD_OTHER: OTHER_HOME,
    Persona.COUNTY_IN: HOME,
    Persona.COUNTY_OUT: LONGWAN_HOME,
    Persona.CITY: HOME,
}
FOREIGN_INSTITUTION = {
    Persona.UNREGISTERED: LONGWAN_HOME,
    Persona.CADRE: LONGWAN_HOME,
    Persona.HEAD_OWN: OTHER_HOME,
    Persona.HEAD_OTHER: HOME,
    Persona.COUNTY_IN: LONGWAN_HOME,
    Persona.COUNTY_OUT: HOME,
    Persona.CITY: LONGWAN_HOME,
}
# The county each staff persona may bind a group to, and one they may not.
OWN_REGION = {Persona.COUNTY_IN: LUCHENG, Persona.COUNTY_OUT: LONGWAN, Persona.CITY: LUCHENG}
FOREIGN_REGION = {Persona.COUNTY_IN: LONGWAN, Persona.COUNTY_OUT: LUCHENG, Persona.CITY: LONGWAN}


@dataclass(frozen=True)
class People:
    by: dict[Persona, SimUser]
    reporter: SimUser  # a Lucheng cadre who reports the hazards the others act on; not one of the personas

    def __getitem__(self, persona: Persona) -> SimUser:
        return self.by[persona]


async def enrol(stage: Stage, first_id: int, language: str = "zh-hans") -> People:
    """One person of each persona (ids from `first_id`), registered the way people register, all at once."""
    sandbox = stage.sandbox
    by = {persona: sandbox.user(first_id + n, f"{persona.value}{first_id}", language_code=language)
          for n, persona in enumerate(Persona)}
    reporter = sandbox.user(first_id + len(Persona), f"reporter{first_id}", language_code=language)

    async def register(person: SimUser, role: Role, region: str | None, institution: str | None) -> None:
        await stage.register(person, role, region=region, institution=institution)

    await asyncio.gather(
        *(register(by[p], *INVITATIONS[p]) for p in REGISTERED),
        register(reporter, Role.CADRE, LUCHENG, None),
        # A stranger who only ever said /start: the chat has a message of the bot's to press buttons under.
        by[Persona.UNREGISTERED].send_text("/start"),
    )
    return People(by, reporter)
