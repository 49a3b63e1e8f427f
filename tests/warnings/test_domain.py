from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.domain.reminders import QuietHours
from bot.domain.warnings import (
    AutoSend,
    AutoSendPolicy,
    DraftTiming,
    EarlyWarning,
    MessageType,
    WarningChange,
    WarningKind,
    WarningLevel,
    WarningOrigin,
    WarningStatus,
    WarningTarget,
    auto_send_decision,
    checklist_for,
    covered_by_official,
    effective_expiry,
    forecast_draft_timing,
    recipients_match,
    revision_change,
)
from bot.services.warning_settings import WarningSettings, load_checklists, load_thresholds
from storage.models import Institution, InstitutionType, RiskTag

NOW = datetime(2026, 9, 10, 1, 0, tzinfo=UTC)
SEA_HOME = Institution(
    id=1,
    code="A",
    name_zh="洞头区中心敬老院",
    name_en="x",
    type=InstitutionType.ELDERLY_CARE,
    region_code="330305001",
    risk_tags=frozenset({RiskTag.NEAR_SEA, RiskTag.KITCHEN}),
)
FUNERAL = Institution(
    id=2,
    code="B",
    name_zh="瑞安市殡仪馆",
    name_en="y",
    type=InstitutionType.FUNERAL,
    region_code="330381",
    risk_tags=frozenset({RiskTag.VEHICLES}),
)


def warning(**fields: object) -> EarlyWarning:
    values: dict[str, object] = {
        "id": 1,
        "kind": WarningKind.TYPHOON,
        "level": WarningLevel.RED,
        "headline": "台风红色预警",
        "onset": NOW,
        "target": WarningTarget(regions=frozenset({"330305"})),
        "origin": WarningOrigin.OFFICIAL,
        "status": WarningStatus.SENT,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return EarlyWarning.model_validate(values)


def test_levels_are_ordered_by_gravity_not_by_name() -> None:
    assert [level.rank for level in WarningLevel] == [0, 1, 2, 3]
    assert WarningLevel.RED.rank > WarningLevel.ORANGE.rank > WarningLevel.YELLOW.rank > WarningLevel.BLUE.rank


@pytest.mark.parametrize(
    ("target", "institution", "expected"),
    [
        (WarningTarget(regions=frozenset({"330305"})), SEA_HOME, True),
        (WarningTarget(regions=frozenset({"330300"})), SEA_HOME, True),  # the city covers its townships
        (WarningTarget(regions=frozenset({"330302"})), SEA_HOME, False),
        (WarningTarget(regions=frozenset({"330305"}), risk_tags=frozenset({RiskTag.NEAR_SEA})), SEA_HOME, True),
        (WarningTarget(regions=frozenset({"330305"}), risk_tags=frozenset({RiskTag.NEAR_RIVER})), SEA_HOME, False),
        (
            WarningTarget(regions=frozenset({"330300"}), institution_types=frozenset({InstitutionType.FUNERAL})),
            SEA_HOME,
            False,
        ),
        (
            WarningTarget(regions=frozenset({"330300"}), institution_types=frozenset({InstitutionType.FUNERAL})),
            FUNERAL,
            True,
        ),
        (WarningTarget(regions=frozenset({"330305"})), SEA_HOME.model_copy(update={"active": False}), False),
    ],
)
def test_recipients_match(target: WarningTarget, institution: Institution, expected: bool) -> None:
    assert recipients_match(target, institution) is expected


def test_a_target_needs_a_region() -> None:
    with pytest.raises(ValidationError):
        WarningTarget(regions=frozenset())


@pytest.mark.parametrize(
    ("msg_type", "old", "new", "lifts", "change"),
    [
        (MessageType.UPDATE, WarningLevel.ORANGE, WarningLevel.RED, False, WarningChange.UPGRADE),  # 升级
        (MessageType.UPDATE, WarningLevel.RED, WarningLevel.YELLOW, False, WarningChange.DOWNGRADE),  # 降级
        (MessageType.UPDATE, WarningLevel.RED, WarningLevel.RED, False, WarningChange.UPDATE),  # 更新
        (MessageType.CANCEL, WarningLevel.RED, WarningLevel.BLUE, False, WarningChange.CANCEL),  # 解除
        (MessageType.UPDATE, WarningLevel.RED, WarningLevel.RED, True, WarningChange.CANCEL),  # 解除 sent as Update
        (MessageType.ALERT, WarningLevel.YELLOW, WarningLevel.ORANGE, False, WarningChange.UPGRADE),
    ],
)
def test_revision_change(
    msg_type: MessageType, old: WarningLevel, new: WarningLevel, lifts: bool, change: WarningChange
) -> None:
    assert revision_change(msg_type, old, new, lifts=lifts) is change


def test_effective_expiry_defaults_to_a_day_after_onset() -> None:
    assert effective_expiry(warning()) == NOW + timedelta(hours=24)
    assert effective_expiry(warning(expires=NOW + timedelta(hours=3))) == NOW + timedelta(hours=3)
    assert effective_expiry(warning(), timedelta(hours=6)) == NOW + timedelta(hours=6)


@pytest.mark.parametrize(
    ("origin", "level", "decision"),
    [
        (WarningOrigin.OFFICIAL, WarningLevel.RED, AutoSend.SEND),
        (WarningOrigin.OFFICIAL, WarningLevel.ORANGE, AutoSend.SEND),
        (WarningOrigin.OFFICIAL, WarningLevel.YELLOW, AutoSend.DRAFT),
        (WarningOrigin.OFFICIAL, WarningLevel.BLUE, AutoSend.DRAFT),
        (WarningOrigin.FORECAST, WarningLevel.RED, AutoSend.DRAFT),  # never on its own authority
        (WarningOrigin.MANUAL, WarningLevel.RED, AutoSend.DRAFT),  # staff see the preview first
    ],
)
def test_default_auto_send_policy(origin: WarningOrigin, level: WarningLevel, decision: AutoSend) -> None:
    assert auto_send_decision(origin, level) is decision


def test_auto_send_policy_is_a_setting() -> None:
    everything = AutoSendPolicy(official_levels=frozenset(WarningLevel))
    assert auto_send_decision(WarningOrigin.OFFICIAL, WarningLevel.BLUE, everything) is AutoSend.SEND
    nothing = WarningSettings(auto_send_levels=frozenset()).policy
    assert auto_send_decision(WarningOrigin.OFFICIAL, WarningLevel.RED, nothing) is AutoSend.DRAFT
    covered = auto_send_decision(WarningOrigin.FORECAST, WarningLevel.RED, everything, covered_by_official=True)
    assert covered is AutoSend.SUPPRESS


def test_covered_by_official_needs_same_kind_overlapping_area_and_in_force() -> None:
    city_rain = warning(kind=WarningKind.RAINSTORM, target=WarningTarget(regions=frozenset({"330300"})))
    assert covered_by_official(WarningKind.RAINSTORM, ["330305"], [city_rain], NOW)
    assert not covered_by_official(WarningKind.GALE, ["330305"], [city_rain], NOW)
    township = warning(kind=WarningKind.RAINSTORM, target=WarningTarget(regions=frozenset({"330305001"})))
    assert covered_by_official(WarningKind.RAINSTORM, ["330305"], [township], NOW)
    assert not covered_by_official(WarningKind.RAINSTORM, ["330302"], [township], NOW)
    lifted = city_rain.model_copy(update={"status": WarningStatus.CANCELLED})
    assert not covered_by_official(WarningKind.RAINSTORM, ["330305"], [lifted], NOW)
    assert not covered_by_official(WarningKind.RAINSTORM, ["330305"], [city_rain], NOW + timedelta(hours=24))
    manual = city_rain.model_copy(update={"origin": WarningOrigin.MANUAL})
    assert not covered_by_official(WarningKind.RAINSTORM, ["330305"], [manual], NOW)


def test_checklists_follow_the_seed_document() -> None:
    checklists = load_checklists(WarningSettings().checklists_path)
    typhoon = {item.id for item in checklist_for(checklists, WarningKind.TYPHOON, SEA_HOME)}
    assert {"typhoon.buildings", "typhoon.drains", "typhoon.leakage", "typhoon.assess_move"} <= typhoon
    inland = SEA_HOME.model_copy(update={"risk_tags": frozenset({RiskTag.KITCHEN})})
    assert "typhoon.assess_move" not in {i.id for i in checklist_for(checklists, WarningKind.TYPHOON, inland)}
    heat_funeral = {item.id for item in checklist_for(checklists, WarningKind.HIGH_TEMPERATURE, FUNERAL)}
    assert "heat.vehicles" in heat_funeral and "heat.patrol" not in heat_funeral
    assert all(item.zh and item.en for kind in WarningKind for item in checklist_for(checklists, kind, None))
    epidemic = checklists.defaults(WarningKind.EPIDEMIC)
    seed = {InstitutionType.ELDERLY_CARE, InstitutionType.WELFARE, InstitutionType.FUNERAL}
    assert epidemic.institution_types == seed


def test_every_threshold_cites_its_source() -> None:
    table = load_thresholds(WarningSettings().thresholds_path)
    assert len({rule.id for rule in table.rules}) == len(table.rules)
    assert all(rule.source and rule.summary_zh and rule.summary_en for rule in table.rules)
    kinds = {rule.kind for rule in table.rules}
    assert kinds == {WarningKind.HIGH_TEMPERATURE, WarningKind.COLD_WAVE, WarningKind.RAINSTORM, WarningKind.GALE}


def test_forecast_warnings_carry_the_non_official_label() -> None:
    assert warning(origin=WarningOrigin.FORECAST).label_zh == "预报研判（非官方预警）"
    assert warning().label_zh is None


@pytest.mark.parametrize(
    ("level", "local", "expected"),
    [
        (WarningLevel.YELLOW, "14:00", DraftTiming()),
        (WarningLevel.RED, "14:00", DraftTiming()),
        (WarningLevel.ORANGE, "02:00", DraftTiming(silent=True)),
        (WarningLevel.RED, "22:30", DraftTiming(silent=True)),
        (WarningLevel.BLUE, "23:00", DraftTiming(not_before=datetime(2026, 9, 10, 23, 30, tzinfo=UTC))),
        (WarningLevel.YELLOW, "07:29", DraftTiming(not_before=datetime(2026, 9, 10, 23, 30, tzinfo=UTC))),
        (WarningLevel.YELLOW, "07:30", DraftTiming()),
    ],
)
def test_forecast_drafts_in_quiet_hours(level: WarningLevel, local: str, expected: DraftTiming) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    hour, minute = (int(part) for part in local.split(":"))
    day = 10 if (hour, minute) >= (22, 0) else 11
    at = datetime(2026, 9, day, hour, minute, tzinfo=tz).astimezone(UTC)
    assert forecast_draft_timing(level, at, QuietHours(), tz) == expected


def test_a_typed_receipt_is_recognised_and_other_text_is_not() -> None:
    from bot.domain.warnings import looks_like_receipt

    for text in ("收到", "已收到", "收到了", "好的收到", "好的，收到！", "收到，谢谢", "OK", "ok 👍", "Received.",
                 "Got it"):
        assert looks_like_receipt(text), text
    for text in ("没收到", "收到了吗？还要做什么", "消防通道堵了", "", "/report"):
        assert not looks_like_receipt(text), text


def test_a_headline_naming_the_old_level_names_the_new_one() -> None:
    from bot.domain.warnings import WarningLevel, relevelled_headline

    yellow, orange = WarningLevel.YELLOW, WarningLevel.ORANGE
    assert relevelled_headline("台风黄色预警：请立即落实防范措施", yellow, orange) == "台风橙色预警：请立即落实防范措施"
    assert relevelled_headline("Typhoon Yellow Warning: act now", yellow, orange) == "Typhoon Orange Warning: act now"
    assert relevelled_headline("黄色屋顶加固；台风来袭", yellow, orange) == "黄色屋顶加固；台风来袭"
