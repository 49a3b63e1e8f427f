"""What a lift asks of its readers, worded for the kind of warning: after a cold wave or a heat wave nothing was
"damaged by a disaster", and a head reading 请做好灾后检查 under a lifted 寒潮 would take the bot for a form letter."""

from __future__ import annotations

from bot.domain.warnings import WarningKind
from bot.i18n import Translator
from bot.stage import Stage
from tests.warning_people import containing, drain, enrol


async def test_a_lifted_cold_wave_asks_for_the_cold_waves_checks_not_for_storm_damage(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await staff.send_text("/warn")
    await staff.press("寒潮")
    await staff.press("橙色")
    await staff.send_text("寒潮来袭\n今晚最低气温零下3度，请做好防寒保暖。")
    await staff.press("下一步 ▶")
    await staff.press("下一步 ▶")
    await staff.press("48 小时")
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    await staff.send_text("/warnings")
    await staff.press("✅ 解除")
    await staff.press("✅ 确认解除")
    await drain(typhoon_stage)

    for chat in (cast.head_2, cast.cadre, cast.group):
        (lifted,) = containing(chat, "【解除】")
        assert "寒潮预警已解除。请检查水管、取暖设备和电线是否冻裂受损" in lifted.text, chat
        assert "灾后检查" not in lifted.text


def test_every_kind_has_its_own_lift_words_in_both_languages() -> None:
    for language, storm_words in (("zh_CN", "灾后检查"), ("en", "for damage")):
        t = Translator(language, strict=True)
        texts = {kind: t(f"warn.lifted_advice_{kind.value}") for kind in WarningKind}
        assert len(set(texts.values())) == len(WarningKind), language  # none falls back to another's words
        for kind in (WarningKind.HIGH_TEMPERATURE, WarningKind.COLD_WAVE, WarningKind.EPIDEMIC):
            assert storm_words not in texts[kind], (language, kind)
        assert "/report" in texts[WarningKind.OTHER]
