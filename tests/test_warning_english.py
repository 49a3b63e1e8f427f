"""The warning chapter read in English: lists of names and codes are written as English lists."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.forecast_rules import ForecastFinding
from bot.domain.roles import Role
from bot.services.warning_ingest import Ingested
from bot.services.warning_settings import load_thresholds
from bot.stage import Stage
from bot.warning_jobs import follow_up
from handlers.warning_delivery import queue_draft_notice
from tests.warning_people import (
    DONGTOU,
    HOME_2,
    START,
    compose_typhoon,
    containing,
    drain,
    enrol,
    register_vulnerable,
)

# Han characters, CJK punctuation (、。) and fullwidth forms (，：), as tests/test_i18n.py checks the catalogs.
CHINESE = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


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


async def test_an_english_head_calls_for_help_and_an_english_official_takes_and_resolves_it(
    typhoon_stage: Stage,
) -> None:
    """The call for help end to end in English: the head's 🆘 Need help, the staff's alert with ✋ I'll handle it,
    the head told who is on it, ✅ Resolved, the head told it is closed, and /warnstatus before and after. People
    with Latin names, so that any Chinese in these messages is the bot's own."""
    stage = typhoon_stage
    cast = await enrol(stage, language="en")
    head = stage.sandbox.user(user_id=60, first_name="Grace", last_name="Chen", language_code="en")
    official = stage.sandbox.user(user_id=61, first_name="Tom", last_name="Lin", language_code="en")
    await stage.register(head, Role.HEAD, institution=HOME_2)
    await stage.register(official, Role.COUNTY, region=DONGTOU)
    await compose_typhoon(cast, "Red", "24 h", language="en")
    await cast.dongtou_staff.press("📤 Send")
    await drain(stage)
    (warning,) = containing(head, "Typhoon Red Warning: take precautions now")
    assert warning.buttons == [["✅ Received, acting"], ["📝 Report what was done"], ["🆘 Need help"]]

    await head.press("🆘 Need help", warning)
    await drain(stage)
    (alert,) = containing(official, "Call for help")
    assert alert.text.startswith("🆘 Call for help: Grace Chen asks for help for Damen Town Home for the Aged under "
                                 "the Typhoon Red Warning.")
    assert alert.buttons == [["✋ I'll handle it"]]
    (colleague_copy,) = containing(cast.dongtou_staff, "Call for help")

    stage.clock.advance(timedelta(minutes=3))
    taken = await official.press("✋ I'll handle it", alert)
    assert taken.answer is not None and (taken.answer.text or "").startswith(
        "Recorded: this call for help is yours (since 2026-09-10 09:03)")
    assert alert.text.endswith("✋ Tom Lin is handling it (since 2026-09-10 09:03)")
    assert alert.buttons == [["✅ Resolved"]]
    assert colleague_copy.text.endswith("✋ Tom Lin is handling it (since 2026-09-10 09:03)")
    assert colleague_copy.buttons == []
    await drain(stage)
    (on_it,) = containing(head, "is now handling your call for help")
    assert on_it.text == ("✋ Tom Lin is now handling your call for help under the Typhoon Red Warning (tap the name "
                          "to message them). Please keep your phone on.")

    await official.send_text("/warnstatus")
    status = official.last_message()
    assert "Received, acting 0 · Need help 1 · No answer 1 (2 institutions)" in status.text
    assert "  🆘 Damen Town Home for the Aged: Grace Chen 2026-09-10 09:00 · ✋ Tom Lin is handling it" in status.text
    assert ["✅ Resolved: Damen Town Home for the Aged"] in status.buttons

    stage.clock.advance(timedelta(minutes=30))
    done = await official.press("✅ Resolved", alert)
    assert done.answer is not None and done.answer.text == "Marked as resolved; the person who asked has been told."
    assert alert.text.endswith("✅ Resolved (Tom Lin, 2026-09-10 09:33)") and alert.buttons == []
    assert colleague_copy.text.endswith("✅ Resolved (Tom Lin, 2026-09-10 09:33)")
    await drain(stage)
    (closed,) = containing(head, "as resolved")
    assert closed.text == ("✅ Tom Lin marked your call for help under the Typhoon Red Warning as resolved. If you "
                           "still need help, press 🆘 Need help again.")
    assert closed.buttons == [["📝 Report what was done"], ["🆘 Need help"]]

    await official.send_text("/warnstatus")
    resolved = official.last_message()
    assert "Received, acting 0 · Need help 0 · Helped 1 · No answer 1 (2 institutions)" in resolved.text
    assert "  🆘→✅ Damen Town Home for the Aged: helped (Tom Lin)" in resolved.text
    assert not any("Resolved:" in label for row in resolved.buttons for label in row)

    read = [alert, colleague_copy, on_it, closed, status, resolved]
    answers = [taken.answer.text or "", done.answer.text or ""]
    labels = [label for message in read for row in message.buttons for label in row]
    assert [text for text in [m.text for m in read] + answers + labels if CHINESE.search(text)] == []


async def test_english_city_admins_read_of_an_untaken_call_for_help_four_hours_on(typhoon_stage: Stage) -> None:
    """Every institution answered, one of them with 🆘 that nobody took: the city rung in English, no Chinese."""
    cast = await enrol(typhoon_stage, language="en")
    await compose_typhoon(cast, "Red", "24 h", language="en")
    await cast.dongtou_staff.press("📤 Send")
    await drain(typhoon_stage)
    await cast.head_1.press("✅ Received, acting")
    await cast.head_2.press("🆘 Need help")
    await drain(typhoon_stage)
    typhoon_stage.clock.advance(timedelta(hours=4, minutes=1))
    await follow_up(typhoon_stage.services)
    await drain(typhoon_stage)
    # The call itself was paged to the city admins too, an hour on (`tests/test_warning_help_pager.py`).
    assert [m.text.split(":")[0] for m in containing(cast.admin, "Call for help nobody took")] == [
        "🔺 Call for help nobody took"]
    (told,) = containing(cast.admin, "every institution has answered")
    assert told.text.splitlines() == [
        "🔺 Typhoon Red Warning (no. 1), sent 2026-09-10 09:00: every institution has answered, but 1 institution "
        "across the city has asked for help and nobody has taken its call yet; please follow up:",
        "• Dongtou District: all answered (2 institutions); 🆘 1 call for help nobody has taken yet",
    ]
    assert told.buttons == [["📋 See the answers"]] and not CHINESE.search(told.text)


async def test_a_warning_from_the_template_reads_in_each_readers_language(typhoon_stage: Stage) -> None:
    """An English clerk's warning from the template went to the Chinese group in English under a Chinese heading:
    the template is the bureau's text, so each reader reads it in their language, and the group in the bureau's."""
    cast = await enrol(typhoon_stage, language="en")
    await compose_typhoon(cast, "🔴 Red", "24 h", language="en")
    preview = cast.dongtou_staff.last_message()
    assert "From the template: each recipient reads it in their own language" in preview.text
    await cast.dongtou_staff.press("📤 Send")
    await drain(typhoon_stage)

    (grouped,) = containing(cast.group, "台风红色预警")
    assert "台风红色预警：请立即落实防范措施" in grouped.text and "受台风影响，我市将出现大风和强降雨" in grouped.text
    assert "Typhoon" not in grouped.text and "typhoon" not in grouped.text
    (received,) = containing(cast.head_1, "Typhoon Red Warning")
    assert "Typhoon Red Warning: take precautions now" in received.text
    assert "A typhoon will bring strong winds" in received.text and not CHINESE.search(received.text)


async def test_a_warning_the_sender_typed_goes_out_as_typed(typhoon_stage: Stage) -> None:
    """Only the unchanged template is translated: words the sender typed are theirs, in every reader's message."""
    cast = await enrol(typhoon_stage, language="en")
    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    await staff.press("Typhoon")
    await staff.press("🔴 Red")
    await staff.send_text("Typhoon Red Warning: take precautions now\nMove the ground-floor residents up tonight.")
    await staff.press("Next ▶")
    await staff.press("Next ▶")
    await staff.press("24 h")
    assert "From the template" not in staff.last_message().text
    await staff.press("📤 Send")
    await drain(typhoon_stage)

    (grouped,) = containing(cast.group, "台风红色预警")
    assert "Typhoon Red Warning: take precautions now" in grouped.text
    assert "Move the ground-floor residents up tonight." in grouped.text
    assert "受台风影响" not in grouped.text
