"""Which self-inspection items an institution answers, by its type and risk tags."""

from __future__ import annotations

import pytest

from bot.domain.catalog import HazardArea
from bot.domain.checklists import default_checklist, items_for, parse_checklist, unknown_codes
from storage.models import Institution, InstitutionType, RiskTag


def institution(kind: InstitutionType, *tags: RiskTag) -> Institution:
    return Institution(
        id=1,
        code="X",
        name_zh="某机构",
        name_en="Somewhere",
        type=kind,
        region_code="330302",
        risk_tags=frozenset(tags),
    )


def codes(item_list: object) -> set[str]:
    return {item.code for item in item_list}  # type: ignore[attr-defined]


def test_every_institution_answers_fire_electricity_buildings_and_lifts() -> None:
    got = codes(items_for(institution(InstitutionType.LOTTERY)))
    assert {"fire.extinguishers", "fire.exits", "fire.alarm", "electricity.wiring", "electricity.sockets"} <= got
    assert {"electricity.ebikes", "buildings.structure", "equipment.lifts"} <= got
    assert not any(code.split(".")[0] in ("gas", "food", "vehicles", "flood") for code in got)
    assert "equipment.boilers" not in got


def test_tags_bring_in_gas_kitchen_and_flood_items() -> None:
    got = codes(items_for(institution(InstitutionType.ELDERLY_CARE, RiskTag.KITCHEN, RiskTag.GAS)))
    assert {"gas.valves", "gas.alarm", "gas.hoses"} <= got
    assert {
        "food.health_certificates",
        "food.cleaning",
        "food.purchase_ledger",
        "food.additives",
        "food.samples",
    } <= got
    assert "equipment.boilers" in got
    assert not any(code.startswith("flood.") for code in got)
    for tag in (RiskTag.NEAR_MOUNTAIN, RiskTag.NEAR_RIVER, RiskTag.NEAR_SEA, RiskTag.LOW_LYING):
        assert {"flood.assessment", "flood.drainage"} <= codes(items_for(institution(InstitutionType.OTHER, tag)))


def test_vehicles_for_funeral_homes_and_anyone_tagged_with_vehicles() -> None:
    assert {"vehicles.condition", "vehicles.drivers"} <= codes(items_for(institution(InstitutionType.FUNERAL)))
    assert "vehicles.condition" in codes(items_for(institution(InstitutionType.RELIEF, RiskTag.VEHICLES)))
    assert "vehicles.condition" not in codes(items_for(institution(InstitutionType.RELIEF)))


def test_items_carry_both_languages_an_area_and_a_default_severity() -> None:
    checklist = default_checklist()
    assert unknown_codes(checklist, (t.value for t in InstitutionType), (t.value for t in RiskTag)) == []
    food = checklist.get("food.samples")
    assert food is not None and food.area is HazardArea.FOOD and "48" in food.zh and "48" in food.en
    assert food.text("zh-hans") == food.zh and food.text("en") == food.en


def test_a_checklist_with_a_duplicate_or_a_typo_is_refused() -> None:
    item = {"code": "fire.x", "zh": "甲", "en": "a", "area": "fire", "severity": "general"}
    with pytest.raises(ValueError, match="twice"):
        parse_checklist({"items": [item, item]})
    typo = parse_checklist({"items": [{**item, "applies_to": {"tags": ["kitchn"]}}]})
    assert unknown_codes(typo, [], ["kitchen"]) == ["fire.x: tag kitchn"]
