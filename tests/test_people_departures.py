"""What a person whose access ended must no longer get, and what must not wait for them: hazard notices, a reopened
hazard, warning reminders, and a journey they had left unfinished."""

from __future__ import annotations

from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.stage import Stage
from tests.hazard_people import CADRE, HEAD, STAFF, act, cast, hazard_now, report, submitted
from tests.warning_people import containing, drain


async def end_access(stage: Stage, actor_id: int, telegram_id: int) -> None:
    actor = await stage.services.storage.users.get(actor_id)
    assert actor is not None
    await stage.services.people.deactivate(actor, telegram_id)
    await drain(stage)


async def test_a_reporter_whose_access_ended_is_not_told_of_the_hazards_closing(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage, reporter_id=CADRE)
    await drain(bot_stage)
    await end_access(bot_stage, STAFF, CADRE)
    seen = len(people.cadre.messages())

    await act(bot_stage, STAFF, await submitted(bot_stage, hazard), HazardAction.ACCEPT)
    await drain(bot_stage)
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED
    assert people.cadre.messages()[seen:] == []
