"""The warning chapter read in English: lists of names and codes are written as English lists."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.forecast_rules import ForecastFinding
from bot.services.warning_ingest import Ingested
from bot.services.warning_settings import load_thresholds
from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers.warning_delivery import queue_draft_notice
from tests.warning_people import DONGTOU, START, compose_typhoon, containing, drain, enrol, register_vulnerable


async def test_english_staff_read_lists_of_institutions_and_codes_with_english_commas(typhoon_stage: Stage) -> None:
    """The escalation of silent institutions and the contact round's lists of codes were joined with the Chinese
    enumeration comma "、" in English too: "Dongtou District Central Home for the Aged、Damen Town Home…"."""
    cast = await enrol(typhoon_stage, language="en")
    await register_vulnerable(typhoon_stage, cast.cadre)
    staff = cast.dongtou_staff
    await compose_typhoon(cast, "Red", "24 h", language="en")
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


async def test_a_forecast_draft_reads_its_headline_in_english_for_english_readers(typhoon_stage: Stage) -> None:
    """A forecast finding's headline was stored in Chinese only: English staff read the draft, and English heads the
    warning sent from it, with a Chinese headline, though every rule has its English summary."""
    cast = await enrol(typhoon_stage, language="en")
    services = typhoon_stage.services
    rules = {rule.id: rule for rule in load_thresholds(services.warnings.settings.thresholds_path).rules}
    rule = rules["heat.orange.37"]
    finding = ForecastFinding(kind=rule.kind, level=rule.level, rule_id=rule.id, onset=START + timedelta(hours=3),
                              expires=START + timedelta(hours=27), observed=37.5, threshold=rule.value)
    stored = await services.warnings.store_forecast(DONGTOU, finding, rule)
    assert isinstance(stored, Ingested)
    await queue_draft_notice(services, stored.warning)
    await drain(typhoon_stage)

    staff = cast.dongtou_staff
    (draft,) = containing(staff, "Warning draft waiting to be sent")
    assert rule.summary_en in draft.text and rule.summary_zh not in draft.text
    await staff.press("📤 Send", message=draft)
    await drain(typhoon_stage)
    (received,) = containing(cast.head_1, "High Temperature Orange Warning")
    assert rule.summary_en in received.text and rule.summary_zh not in received.text
    assert rule.summary_zh in containing(cast.group, "高温橙色预警")[0].text  # the group reads the bureau's Chinese
