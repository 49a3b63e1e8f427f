"""The report's steps as a cadre meets them on a phone: a place picked from the map's list, a duplicate without
photos, a field changed from the summary, an album at the photo step."""

from __future__ import annotations

from bot.sandbox.driver import SimUser
from bot.stage import Stage
from tests.test_report import (
    CODE,
    FIRE_EXIT_BLOCKED,
    HOME_ZH,
    cadre_and_head,
    details,
    reported_without_photos,
    to_the_description,
)

VENUE_TITLE, VENUE_ADDRESS = "南塘街社区居委会", "鹿城区南汇街道南塘街88号"


async def share_venue(cadre: SimUser, title: str = VENUE_TITLE, address: str = VENUE_ADDRESS) -> None:
    """A place picked from the list under the map (Telegram's "venue"): a point with its name and address."""
    latitude, longitude = 27.9940, 120.6600
    venue = {"location": {"latitude": latitude, "longitude": longitude}, "title": title, "address": address}
    await cadre._post(None, "location", True, location=(latitude, longitude), service={"venue": venue})


async def test_a_place_picked_from_the_map_keeps_its_name_and_address(bot_stage: Stage) -> None:
    """The cadre picks 南塘街社区居委会 from the map's list: the summary and the hazard's details name the place and
    its street address, beside the point, rather than the coordinates alone nobody can walk to."""
    cadre, head = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    await cadre.press("无照片")
    await share_venue(cadre)
    await cadre.press("互查")
    summary = cadre.last_message().text
    assert "位置：南塘街社区居委会，鹿城区南汇街道南塘街88号（北纬 27.99400，东经 120.66000）" in summary
    await cadre.press("✅ 确认上报")
    code = CODE.search(cadre.last_message().text)
    assert code is not None
    shown = await details(head, code.group(0))
    assert "地址：南塘街社区居委会，鹿城区南汇街道南塘街88号" in shown[0].text
    assert "位置：北纬 27.99400，东经 120.66000" in shown[0].text
    # A bare pin dropped later replaces the place: its old name is not left beside a new point.
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用电")
    await cadre.press("一般")
    await cadre.send_text("二楼配电箱老化，线路裸露")
    await cadre.press("无照片")
    await share_venue(cadre)
    await cadre.press("互查")
    await cadre.press("✏️ 修改")
    await cadre.press("位置")
    await cadre.send_location(28.0123, 120.6543)
    summary = cadre.last_message().text
    assert "位置：北纬 28.01230，东经 120.65430" in summary and VENUE_TITLE not in summary


async def test_a_duplicate_without_photos_takes_the_description_as_a_note(bot_stage: Stage) -> None:
    """No photos in the second report: the summary does not offer to add photos it has none of (the press used to
    answer "请至少上传一张照片作为证据。" and leave no way on); it offers to add the description to the earlier
    hazard, which keeps it as a note in its history, and no second hazard is made."""
    cadre, _ = await cadre_and_head(bot_stage)
    first = await reported_without_photos(cadre, None)
    await cadre.send_text("/report")
    await cadre.press(HOME_ZH)
    await cadre.press("用电")
    await cadre.press("一般")
    await cadre.send_text("配电箱旁边又发现一处电线破皮")
    await cadre.press("无照片")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    summary = cadre.last_message()
    assert f"可能重复：{first}" in summary.text
    labels = [label for row in summary.buttons for label in row]
    assert f"📎 把照片追加到 {first}" not in labels
    await cadre.press(f"💬 补充说明到 {first}")
    assert cadre.last_message().text == f"💬 您的说明已补充到隐患 {first}，没有新建隐患。"
    hazards = bot_stage.services.storage.hazards
    hazard = await hazards.get_by_code(first)
    assert hazard is not None
    notes = [event.note for event in await hazards.events(hazard.id) if event.action == "add_evidence"]
    assert notes == ["配电箱旁边又发现一处电线破皮"]
    assert await bot_stage.services.hazards.load_draft(cadre.id) is None
