"""The warning chapter read in English: lists of names and codes are written as English lists."""

from __future__ import annotations

from datetime import timedelta

from bot.stage import Stage
from bot.warning_jobs import follow_up
from tests.warning_people import containing, drain, enrol, register_vulnerable


async def test_english_staff_read_lists_of_institutions_and_codes_with_english_commas(typhoon_stage: Stage) -> None:
    """The escalation of silent institutions and the contact round's lists of codes were joined with the Chinese
    enumeration comma "、" in English too: "Dongtou District Central Home for the Aged、Damen Town Home…"."""
    cast = await enrol(typhoon_stage, language="en")
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    await staff.press("Typhoon")
    await staff.press("Red")
    await staff.press("📄 Use the template")
    await staff.press("Next ▶")
    await staff.press("Next ▶")
    await staff.press("24 h")
    await staff.press("📤 Send")
    await drain(typhoon_stage)

    typhoon_stage.clock.advance(timedelta(hours=2, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    (escalation,) = containing(staff, "have still not answered")
    assert "Dongtou District Central Home for the Aged, Damen Town Home for the Aged" in escalation.text
    (overdue,) = containing(staff, "Contact round overdue")
    assert "Not contacted: DT-0001, DT-0002, DT-0003" in overdue.text
    assert "、" not in escalation.text + overdue.text
