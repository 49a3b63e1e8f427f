"""A forecast draft that an official warning set aside, or that staff withdrew, was never sent: its notice must not
keep offering 📤 发送, and a press on it must not answer "这条预警已经发出" (it never went out)."""

from __future__ import annotations

from bot.sandbox import BotMessage, SimUser
from bot.stage import Stage
from bot.warning_jobs import poll_feeds, run_forecast
from handlers.warning_set_aside import settle_ended_drafts
from tests.warning_people import Cast, containing, drain
from tests.warnings.conftest import FeedServer
from tests.warnings.test_feeds import RAIN, serve
from tests.warnings.test_held_drafts import DRAFT, forecast_dongtou


def forecast_notices(person: SimUser) -> list[BotMessage]:
    return [m for m in containing(person, DRAFT) if "预报研判" in m.text]


async def _forecast_draft(current: Stage, cast: Cast, feed_server: FeedServer) -> int:
    await forecast_dongtou(current, feed_server, rain={h: 10.0 for h in range(4, 10)})
    (draft,) = (await run_forecast(current.services)).drafts
    await drain(current)
    for staff in (cast.dongtou_staff, cast.admin):
        (notice,) = forecast_notices(staff)
        assert notice.buttons == [["📤 发送"]]
    return draft.id


async def test_a_draft_set_aside_by_the_official_warning_says_so_and_loses_its_send_button(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    """洞头区's forecast heavy rain, then the observatory's own rainstorm warning for the city: the draft was withdrawn
    in silence, its 📤 stayed, and a press answered 这条预警已经发出，不能再次发送。"""
    current, cast = fed
    draft_id = await _forecast_draft(current, cast, feed_server)
    serve(feed_server, RAIN)
    await poll_feeds(current.services)
    await drain(current)
    official = next(w for w in await current.services.warnings.active() if w.kind == "rainstorm" and w.id != draft_id)

    for staff in (cast.dongtou_staff, cast.admin):  # told once, naming the draft and the warning that replaced it
        (told,) = containing(staff, "已由其取代并撤下")
        assert f"暴雨黄色预警（#{official.id}）" in told.text and f"（#{draft_id}）" in told.text
        assert "没有发给任何人" in told.text

    staff = cast.dongtou_staff
    (notice,) = forecast_notices(staff)
    await staff.press("📤 发送", message=notice)
    said = staff.answers()[-1].text or ""
    assert f"已由官方预警（#{official.id}）取代" in said and "已经发出" not in said

    bot, services = current.application.bot, current.services
    assert await settle_ended_drafts(bot, services) == 2  # 林科长's notice and the city admin's
    await current.sandbox.settle()
    for person in (cast.dongtou_staff, cast.admin):
        (notice,) = forecast_notices(person)
        assert notice.buttons == []
        assert f"此草稿已由官方预警（#{official.id}）取代，已撤下，未发送给任何人" in notice.text
    assert await settle_ended_drafts(bot, services) == 0  # once
    await poll_feeds(current.services)  # the same feed again: nobody is told twice
    await drain(current)
    assert len(containing(cast.admin, "已由其取代并撤下")) == 1


async def test_a_draft_withdrawn_by_a_colleague_says_so_under_the_others_notice(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    current, cast = fed
    await _forecast_draft(current, cast, feed_server)
    await cast.dongtou_staff.send_text("/warnings")
    await cast.dongtou_staff.press("🗑 撤回草稿")
    await cast.dongtou_staff.press("🗑 确认撤回")
    await drain(current)

    admin = cast.admin
    (notice,) = forecast_notices(admin)
    await admin.press("📤 发送", message=notice)
    assert (admin.answers()[-1].text or "") == "这条草稿已撤回，没有发出。"
    assert await settle_ended_drafts(current.application.bot, current.services) == 2
    await current.sandbox.settle()
    (notice,) = forecast_notices(admin)
    assert notice.buttons == [] and "此草稿已撤回，未发送给任何人" in notice.text
