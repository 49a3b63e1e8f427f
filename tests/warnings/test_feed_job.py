"""The feed and forecast jobs end to end: the local server plays the CMA feed and Open-Meteo, the real bot turns
what arrives into messages — official orange and red at once, blue and yellow as one-tap drafts for staff, Test
messages for city admins only, forecast drafts labelled 预报研判（非官方预警）."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot import warning_jobs
from bot.clock import FakeClock
from bot.domain.roles import Role
from bot.services.feeds import FeedPoller
from bot.services.forecast import ForecastPoller
from bot.services.warnings import WarningDelivery
from bot.services_factory import BotServices
from bot.stage import Stage
from bot.warning_jobs import follow_up, poll_feeds, run_forecast
from handlers.warning_delivery import Delivered, deliver
from tests.warning_people import Cast, containing, deliver_what_is_due, drain, register_vulnerable
from tests.warnings.conftest import START, FeedServer, fixture, open_meteo, rss
from tests.warnings.test_feeds import BOMB, HANGZHOU, LIFTED, RAIN, TEST, TYPHOON, UPGRADE, item, serve


def official(chat: object, marker: str) -> int:
    return len(containing(chat, marker))  # type: ignore[arg-type]


async def test_the_official_chain_reaches_the_same_people_and_drafts_wait_for_one_tap(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    current, cast = fed
    await register_vulnerable(current, cast.cadre)
    serve(feed_server, BOMB, HANGZHOU, TEST, RAIN, TYPHOON)
    result = await poll_feeds(current.services)
    await drain(current)
    assert len(result.deliveries) == 1  # the orange typhoon; the yellow rainstorm waits as a draft
    for chat in cast.dongtou_recipients:
        (issued,) = containing(chat, "【发布】台风橙色预警")
        assert "📡 官方预警 · 发布单位：洞头区气象台" in issued.text and "海燕" in issued.text
    assert "台风" not in "".join(m.text for m in cast.lucheng_head.messages())
    for staff in (cast.dongtou_staff, cast.admin):
        assert official(staff, "官方台风橙色预警已自动发送给 5 个接收方") == 1
    # The city-wide yellow rainstorm: a draft only the city admins may send (it reaches beyond any one county).
    (draft,) = containing(cast.admin, "待发送的预警草稿")
    assert "暴雨黄色预警" in draft.text and "将发送给" in draft.text
    assert containing(cast.dongtou_staff, "待发送的预警草稿") == []
    # The Test message from 乐清市: city admins see it, nobody else.
    assert official(cast.admin, "🧪") == 1 and official(cast.dongtou_staff, "🧪") == 0

    await cast.admin.press("📤 发送", message=draft)
    await drain(current)
    for chat in (cast.lucheng_head, cast.head_1, cast.group):
        assert official(chat, "【发布】暴雨黄色预警") == 1, chat
    assert "已发送暴雨黄色预警" in containing(cast.admin, "已发送")[-1].text
    # Sent by a person, an official draft is in force like the city's own warning: each county's staff hear it.
    (in_force,) = containing(cast.dongtou_staff, "已发布，覆盖洞头区")
    assert "暴雨黄色预警" in in_force.text and "来源：官方预警" in in_force.text

    clock.set(datetime(2026, 9, 10, 6, 35, tzinfo=UTC))  # 14:35 in Wenzhou: upgraded to red
    serve(feed_server, UPGRADE, TEST, RAIN, TYPHOON)
    await poll_feeds(current.services)
    await drain(current)
    clock.set(datetime(2026, 9, 11, 2, 5, tzinfo=UTC))  # the next morning: lifted
    serve(feed_server, LIFTED, UPGRADE, TYPHOON)
    await poll_feeds(current.services)
    await drain(current)

    for chat in cast.dongtou_recipients:
        texts = [m.text for m in chat.messages() if "台风" in m.text and "【" in m.text]
        assert [t.split("】")[0][-2:] for t in texts] == ["发布", "升级", "解除"], chat
    assert official(cast.admin, "🧪") == 1  # flagged once, however often the feed lists it
    # Orange started the contact round (once: the upgrade to red did not start a second).
    assert len(containing(cast.cadre, "因台风橙色预警启动")) == 1
    assert official(cast.dongtou_staff, "官方台风红色预警已解除") == 1
    assert (await follow_up(current.services)).redelivered == 0


async def test_a_crash_between_storing_and_queueing_is_repaired_by_the_follow_up(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    current, cast = fed
    serve(feed_server, TYPHOON)
    services = current.services
    async with aiohttp.ClientSession() as session:
        # The feed is read and stored, and the process dies before its messages are queued.
        await FeedPoller(services.storage, services.clock, services.warnings.settings, session).poll()
    assert await services.outbox.owed() == 0
    report = await follow_up(services)
    await drain(current)
    assert report.redelivered == 1
    for chat in cast.dongtou_recipients:
        assert official(chat, "【发布】台风橙色预警") == 1, chat


async def test_a_fault_following_up_one_warning_does_not_stop_the_repair_of_another(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fault not yet known, injected into reminding the silent heads of any warning: the follow-up goes on to
    repair the typhoon warning that was stored and never queued, which before waited for the fault to be mended."""
    current, cast = fed
    serve(feed_server, TYPHOON)
    services = current.services
    async with aiohttp.ClientSession() as session:
        await FeedPoller(services.storage, services.clock, services.warnings.settings, session).poll()

    async def faulty(*args: object) -> int:
        raise RuntimeError("a fault of ours")

    monkeypatch.setattr(warning_jobs, "remind_silent", faulty)
    clock.set(clock.now() + timedelta(minutes=61))  # the typhoon's silent heads are due a reminder
    with caplog.at_level(logging.ERROR, logger="bot.warning_jobs"):
        report = await follow_up(services)
    await drain(current)
    assert report.redelivered == 1
    for chat in cast.dongtou_recipients:
        assert official(chat, "【发布】台风橙色预警") == 1, chat
    assert any("following up warning" in r.getMessage() for r in caplog.records)


async def test_a_fault_queueing_one_warning_holds_up_neither_the_drafts_nor_its_own_repair(
    fed: tuple[Stage, Cast], feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fault not yet known, injected into queueing the orange typhoon once: the yellow rainstorm's draft still
    reaches the city admins in the same poll, and the next minute's follow-up sends the typhoon."""
    current, cast = fed
    serve(feed_server, RAIN, TYPHOON)
    faults = [1]

    async def faulty(services: BotServices, delivery: WarningDelivery) -> Delivered:
        if faults[0]:
            faults[0] -= 1
            raise RuntimeError("a fault of ours")
        return await deliver(services, delivery)

    monkeypatch.setattr(warning_jobs, "deliver", faulty)
    await poll_feeds(current.services)
    await drain(current)
    (draft,) = containing(cast.admin, "待发送的预警草稿")
    assert "暴雨黄色预警" in draft.text
    assert all(official(chat, "【发布】台风橙色预警") == 0 for chat in cast.dongtou_recipients)
    assert (await follow_up(current.services)).redelivered == 1
    await drain(current)
    for chat in cast.dongtou_recipients:
        assert official(chat, "【发布】台风橙色预警") == 1, chat


async def test_a_forecast_finding_is_a_labelled_draft_for_the_county(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    current, cast = fed
    dongtou = await current.services.storage.regions.get("330305")
    assert dongtou is not None and dongtou.latitude is not None and dongtou.longitude is not None
    key = f"{dongtou.latitude:.4f},{dongtou.longitude:.4f}"
    feed_server.forecasts[key] = open_meteo(
        datetime(2026, 9, 10).date(), daily_max=[36.0, 36.5, 37.0, 35.5, 30, 30, 30], latitude=dongtou.latitude,
        longitude=dongtou.longitude,
    )
    result = await run_forecast(current.services)
    await drain(current)
    assert [w.target.regions for w in result.drafts] == [frozenset({"330305"})]
    (draft,) = containing(cast.dongtou_staff, "待发送的预警草稿")
    assert "预报研判（非官方预警）" in draft.text and "高温" in draft.text and not draft.silent  # by day, as usual
    assert draft.buttons == [["📤 发送"]]
    assert containing(cast.lucheng_staff, "待发送的预警草稿") == []
    await cast.dongtou_staff.press("📤 发送", message=draft)
    await drain(current)
    (received,) = containing(cast.head_1, "高温")
    assert "🔎 预报研判（非官方预警）" in received.text


async def forecast_heat_at_night(
    current: Stage, feed_server: FeedServer, clock: FakeClock, daily_max: list[float]
) -> None:
    """02:00 in Wenzhou (quiet hours 22:00-07:30): the hourly forecast run finds heat over 洞头区."""
    clock.set(datetime(2026, 9, 10, 18, 0, tzinfo=UTC))
    dongtou = await current.services.storage.regions.get("330305")
    assert dongtou is not None and dongtou.latitude is not None and dongtou.longitude is not None
    feed_server.forecasts[f"{dongtou.latitude:.4f},{dongtou.longitude:.4f}"] = open_meteo(
        datetime(2026, 9, 11).date(), daily_max=daily_max, latitude=dongtou.latitude, longitude=dongtou.longitude
    )
    result = await run_forecast(current.services)
    assert len(result.drafts) == 1


async def test_a_yellow_forecast_draft_found_at_night_waits_for_the_end_of_quiet_hours(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """A forecast assessment is not a warning: a yellow one found at 02:00 buzzed the county's staff at once."""
    current, cast = fed
    await forecast_heat_at_night(current, feed_server, clock, [36.0, 36.5, 35.5, 30, 30, 30, 30])
    await deliver_what_is_due(current)
    assert containing(cast.dongtou_staff, "待发送的预警草稿") == []
    clock.set(datetime(2026, 9, 10, 23, 30, tzinfo=UTC))  # 07:30 in Wenzhou
    await drain(current)
    (draft,) = containing(cast.dongtou_staff, "待发送的预警草稿")
    assert "预报研判（非官方预警）" in draft.text and "高温黄色" in draft.text and not draft.silent


async def test_an_orange_forecast_draft_found_at_night_arrives_at_once_without_a_sound(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """Staff awake for a typhoon see an orange or red assessment at once; the others are not woken by it."""
    current, cast = fed
    await forecast_heat_at_night(current, feed_server, clock, [38.0, 30, 30, 30, 30, 30, 30])
    await deliver_what_is_due(current)
    (draft,) = containing(cast.dongtou_staff, "待发送的预警草稿")
    assert "高温橙色" in draft.text and draft.silent
    await cast.dongtou_staff.press("📤 发送", message=draft)
    await drain(current)
    # The warning staff send from it is a warning: never silenced, whatever the hour.
    (received,) = containing(cast.head_1, "高温")
    assert not received.silent


async def test_a_feed_that_writes_an_essay_as_headline_and_sender_still_reaches_everyone(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    """CAP asks for a headline under 160 characters; a feed that writes thousands must not make the warning too
    long for Telegram, which would refuse it and leave everyone unwarned."""
    current, cast = fed
    serve(feed_server, TYPHOON)
    short_headline, short_sender = "洞头区气象台发布台风橙色预警信号", "洞头区气象台"
    document = feed_server.files[TYPHOON[1]].decode()
    document = document.replace(f"<headline>{short_headline}</headline>",
                                f"<headline>{short_headline}{'请注意防范' * 1000}</headline>")
    document = document.replace(f"<sender>{short_sender}</sender>", f"<sender>{short_sender * 700}</sender>")
    feed_server.files[TYPHOON[1]] = document.encode()
    await poll_feeds(current.services)
    await drain(current)
    for chat in cast.dongtou_recipients:
        (issued,) = containing(chat, "【发布】台风橙色预警")
        assert "洞头区气象台发布台风橙色预警信号请注意防范" in issued.text and "…" in issued.text
        assert len(issued.text) < 4096
    for staff in (cast.dongtou_staff, cast.admin):
        assert official(staff, "官方台风橙色预警已自动发送给 5 个接收方") == 1


async def test_a_yellow_alert_raised_to_orange_in_the_same_poll_is_not_offered_as_a_draft(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    """The feed listed a yellow rainstorm and, by the next poll, its Update raising it to orange: the orange went
    out by itself, yet the city admins also got the yellow as a draft waiting for 📤 发送, whose button then only
    said it was no longer a draft."""
    current, cast = fed
    update = (
        fixture("rainstorm_no_expires.xml").decode()
        .replace("33030041600000_20260910090000", "33030041600000_20260910100000")
        .replace("<sent>2026-09-10T09:00:00+08:00</sent>", "<sent>2026-09-10T10:00:00+08:00</sent>")
        .replace("<msgType>Alert</msgType>", "<msgType>Update</msgType><references>温州市气象台,"
                 "33030041600000_20260910090000,2026-09-10T09:00:00+08:00</references>")
        .replace("发布暴雨黄色预警信号", "将暴雨黄色预警信号升级为橙色")
    )
    raised = ("温州市气象台将暴雨黄色预警信号升级为橙色", "/cap/33030041600000_20260910100000.xml",
              "33030041600000_20260910100000")
    serve(feed_server, RAIN)
    feed_server.files[raised[1]] = update.encode()
    feed_server.files["/cap/rss.xml"] = rss(raised, RAIN)
    await poll_feeds(current.services)
    await drain(current)
    assert containing(cast.admin, "待发送的预警草稿") == []
    assert official(cast.admin, "官方暴雨橙色预警已自动发送") == 1  # the word that it went out by itself
    assert official(cast.head_1, "暴雨橙色预警") == 1


async def test_a_draft_stored_before_a_crash_still_reaches_the_staff_once(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    """The yellow rainstorm is stored as a draft and the process dies before the admins' notice is queued: the next
    follow-up tells them, and the one after does not tell them again. Before, the draft waited unseen in
    /warnings."""
    current, cast = fed
    serve(feed_server, RAIN)
    services = current.services
    async with aiohttp.ClientSession() as session:
        await FeedPoller(services.storage, services.clock, services.warnings.settings, session).poll()
    assert await services.outbox.owed() == 0
    report = await follow_up(services)
    await follow_up(services)
    await drain(current)
    assert report.drafts_told == 1
    (draft,) = containing(cast.admin, "待发送的预警草稿")
    assert "暴雨黄色预警" in draft.text and draft.buttons == [["📤 发送"]]


async def test_a_forecast_draft_stored_at_night_before_a_crash_still_waits_for_the_morning(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """The forecast run stores a yellow heat draft at 02:00 and dies before queueing its notice: the follow-up
    queues it as the run would have, held until the end of quiet hours."""
    current, cast = fed
    clock.set(datetime(2026, 9, 10, 18, 0, tzinfo=UTC))
    dongtou = await current.services.storage.regions.get("330305")
    assert dongtou is not None and dongtou.latitude is not None and dongtou.longitude is not None
    feed_server.forecasts[f"{dongtou.latitude:.4f},{dongtou.longitude:.4f}"] = open_meteo(
        datetime(2026, 9, 11).date(), daily_max=[36.0, 36.5, 35.5, 30, 30, 30, 30], latitude=dongtou.latitude,
        longitude=dongtou.longitude,
    )
    services = current.services
    async with aiohttp.ClientSession() as session:
        stored = await ForecastPoller(services.storage, services.clock, services.warnings.settings, session).run()
    assert len(stored.drafts) == 1 and await services.outbox.owed() == 0
    clock.set(clock.now() + timedelta(minutes=1))
    assert (await follow_up(services)).drafts_told == 1
    await deliver_what_is_due(current)
    assert containing(cast.dongtou_staff, "待发送的预警草稿") == []
    clock.set(datetime(2026, 9, 10, 23, 30, tzinfo=UTC))  # 07:30 in Wenzhou
    await drain(current)
    (draft,) = containing(cast.dongtou_staff, "待发送的预警草稿")
    assert "预报研判（非官方预警）" in draft.text and "高温黄色" in draft.text and not draft.silent


async def test_an_official_draft_left_waiting_is_raised_again_hourly_until_sent(
    fed: tuple[Stage, Cast], feed_server: FeedServer, clock: FakeClock
) -> None:
    """The city-wide yellow rainstorm came as a draft for the city admins and was still a draft four hours later:
    nobody was told again. As a pager re-pages, it is raised again an hour after its notice, then hourly, once each
    (a minute's follow-up run twice sends nothing twice), with 📤 发送 under it, until someone sends it."""
    current, cast = fed
    serve(feed_server, RAIN)
    await poll_feeds(current.services)
    await drain(current)
    assert len(containing(cast.admin, "待发送的预警草稿")) == 1

    async def minute(at: timedelta) -> None:
        clock.set(START + at)
        await follow_up(current.services)
        await follow_up(current.services)
        await drain(current)

    await minute(timedelta(minutes=59))
    assert containing(cast.admin, "官方预警草稿仍待发送") == []
    await minute(timedelta(minutes=61))
    (again,) = containing(cast.admin, "官方预警草稿仍待发送")
    assert "暴雨黄色预警（#1）" in again.text and "已等待 1 小时" in again.text
    assert again.buttons == [["📤 发送"]] and not again.silent
    assert containing(cast.dongtou_staff, "仍待发送") == []  # it reaches beyond their county: not theirs to send
    await minute(timedelta(hours=2, minutes=1))
    assert [m.text.count("已等待 2 小时") for m in containing(cast.admin, "仍待发送")] == [0, 1]

    await cast.admin.press("📤 发送", message=again)
    await drain(current)
    assert official(cast.head_1, "【发布】暴雨黄色预警") == 1
    await minute(timedelta(hours=3, minutes=1))
    assert len(containing(cast.admin, "官方预警草稿仍待发送")) == 2  # sent: raised no more


async def test_a_county_official_draft_sent_by_its_staff_is_told_to_their_colleagues(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    """A yellow typhoon warning of 洞头区's own weather station waits as a draft for 洞头区's staff. When 林科长
    sends it, his colleague hears that it is in force, as of any warning a person sends: only an official warning
    sent by itself leaves the county's staff to the feed's own note (which a draft sent by hand never has)."""
    current, cast = fed
    colleague = current.sandbox.user(user_id=21, first_name="吴", last_name="科员", language_code="zh-hans")
    await current.register(colleague, Role.COUNTY, region="330305")
    yellow = item("洞头区气象台发布台风黄色预警信号", "33030541600000_20260910083000")
    serve(feed_server)
    feed_server.files[yellow[1]] = (
        fixture("typhoon_alert.xml").decode().replace("<severity>Severe</severity>", "<severity>Moderate</severity>")
        .replace("台风橙色预警", "台风黄色预警").replace("Typhoon Orange", "Typhoon Yellow").encode()
    )
    feed_server.files["/cap/rss.xml"] = rss(yellow)
    await poll_feeds(current.services)
    await drain(current)
    (draft,) = containing(cast.dongtou_staff, "待发送的预警草稿")
    assert "台风黄色预警" in draft.text

    await cast.dongtou_staff.press("📤 发送", message=draft)
    await drain(current)
    (told,) = containing(colleague, "已发布，覆盖洞头区")
    assert "来源：官方预警" in told.text
    assert containing(cast.dongtou_staff, "已发布，覆盖") == []


async def test_staff_who_join_while_an_official_warning_is_in_force_are_told_of_it_once(
    fed: tuple[Stage, Cast], feed_server: FeedServer
) -> None:
    """The orange typhoon went out by itself, and 洞头区's clerk read the feed's note of it. A clerk registering
    afterwards is told it is in force, as an official warning; the clerk who had the feed's note, leaving and coming
    back, is not told of it a second time."""
    current, cast = fed
    serve(feed_server, TYPHOON)
    await poll_feeds(current.services)
    await drain(current)
    assert official(cast.dongtou_staff, "官方台风橙色预警已自动发送") == 1

    clerk = current.sandbox.user(user_id=21, first_name="何科员", language_code="zh-hans")
    await current.register(clerk, Role.COUNTY, region="330305")
    admin = cast.admin
    await admin.send_text("/people")
    await admin.press("林 科长")
    await admin.press("⛔ 停用账号")
    await admin.press("⛔ 确认停用")
    await current.register(cast.dongtou_staff, Role.COUNTY, region="330305")
    await drain(current)

    (told,) = containing(clerk, "已发布，覆盖洞头区")
    assert "台风橙色预警" in told.text and "来源：官方预警" in told.text
    assert containing(cast.dongtou_staff, "已发布，覆盖") == []
