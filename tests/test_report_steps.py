"""The report's steps as a cadre meets them on a phone: a place picked from the map's list, a duplicate without
photos, a field changed from the summary, an album at the photo step."""

from __future__ import annotations

from bot.sandbox.content import store_photo
from bot.sandbox.driver import SimUser
from bot.sandbox.media import make_jpeg
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


async def at_the_summary_with_two_photos(cadre: SimUser) -> None:
    await to_the_description(cadre)
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    await cadre.send_photo()
    await cadre.send_photo()
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "照片：2 张" in cadre.last_message().text


async def test_changing_the_photos_keeps_them_until_new_ones_are_done(bot_stage: Stage) -> None:
    """✏️ 修改 → 照片 used to drop both photos the moment the field was chosen, unsaid. The question now says they
    stay until new ones are done, and offers to keep them; a restart in between loses nothing either."""
    cadre, _ = await cadre_and_head(bot_stage)
    await at_the_summary_with_two_photos(cadre)
    await cadre.press("✏️ 修改")
    await cadre.press("照片")
    asked = cadre.last_message()
    assert "现有 2 张照片。发送新照片将替换它们" in asked.text
    await cadre.press("保留原来的 2 张照片", asked)
    assert "照片：2 张" in cadre.last_message().text
    # New ones replace them once Done is pressed.
    await cadre.press("✏️ 修改")
    await cadre.press("照片")
    await cadre.send_photo()
    await bot_stage.restart()
    await cadre.press("完成")
    assert "照片：1 张" in cadre.last_message().text
    draft = await bot_stage.services.hazards.load_draft(cadre.id)
    assert draft is not None and len(draft.photos) == 1 and draft.previous_photos is None


async def test_cancel_while_changing_a_field_goes_back_to_the_summary(bot_stage: Stage) -> None:
    """/cancel while one field is being changed used to delete the whole report. It now cancels the change: the
    summary comes back as it was (the photos too, though a new one had been sent); a second /cancel there cancels
    the report."""
    cadre, _ = await cadre_and_head(bot_stage)
    await at_the_summary_with_two_photos(cadre)
    await cadre.press("✏️ 修改")
    await cadre.press("照片")
    await cadre.send_photo()
    await cadre.send_text("/cancel")
    said = [message.text for message in cadre.messages()[-2:]]
    assert said[0] == "已取消修改，上报内容保持不变。再发送一次 /cancel 将取消整个上报。"
    assert "请核对上报内容" in said[1] and "照片：2 张" in said[1]
    assert await bot_stage.services.hazards.load_draft(cadre.id) is not None
    # Cancel pressed under a field's question does the same.
    await cadre.press("✏️ 修改")
    await cadre.press("严重程度")
    await cadre.press("取消")
    assert "严重程度：较大" in cadre.last_message().text
    await cadre.send_text("/cancel")
    assert cadre.last_message().text == "已取消上报，草稿已删除。"
    assert await bot_stage.services.hazards.load_draft(cadre.id) is None


async def send_album(stage: Stage, cadre: SimUser, album: str, pages: int, *, first_seed: int = 80) -> None:
    """An album (one media group) of `pages` photos, as Telegram delivers it: one message a page."""
    for page in range(pages):
        sizes = store_photo(stage.sandbox.world, make_jpeg(320, 240, first_seed + page))
        await cadre._post(None, "photo", False, photo=sizes, caption=None, caption_raw=None, media_group_id=album)
    await stage.sandbox.settle()


async def test_an_album_at_the_photo_step_is_answered_once(bot_stage: Stage) -> None:
    """Three photos sent as one album used to get three replies ("已收到第 1/2/3 张照片"), each with its buttons.
    Now one reply counts the album, edited as its pages arrive, also across a restart between pages; a photo sent
    after it is answered on its own."""
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    asked = len(cadre.messages())
    await send_album(bot_stage, cadre, "album-report-1", 3)
    replies = cadre.messages()[asked:]
    assert [m.text for m in replies] == ["已收到 3 张照片（最多 9 张）。继续发送，或点“完成”。"]
    await send_album(bot_stage, cadre, "album-report-2", 1, first_seed=90)
    await bot_stage.restart()
    await send_album(bot_stage, cadre, "album-report-2", 1, first_seed=91)
    replies = cadre.messages()[asked:]
    assert [m.text for m in replies][1:] == ["已收到 5 张照片（最多 9 张）。继续发送，或点“完成”。"]
    await cadre.press("完成")
    await cadre.send_text("跳过")
    await cadre.press("互查")
    assert "照片：5 张" in cadre.last_message().text
