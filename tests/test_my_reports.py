"""/mine (我的上报): a reporter follows the hazards they reported without keeping their codes, as FixMyStreet's
"Your reports" lets them."""

from __future__ import annotations

import itertools
from datetime import timedelta

from bot.domain.catalog import HazardArea, Severity
from bot.domain.lifecycle import HazardAction
from bot.domain.roles import Role
from bot.stage import Stage
from storage.hazard_models import Hazard
from tests.hazard_people import CADRE, HEAD, LUCHENG, STAFF, act, cast, listed, opened, report, submitted

OTHER_CADRE = 47
# Each hazard reported here is told apart by its description, as its button in the list tells it.
BUILDINGS = itertools.count(1)


async def reported_a_minute_apart(
    stage: Stage, count: int, reporter_id: int = CADRE, *, severity: Severity = Severity.GENERAL
) -> list[Hazard]:
    hazards = []
    for _ in range(count):
        stage.clock.advance(timedelta(minutes=1))
        description = f"{next(BUILDINGS)}号楼消防通道被杂物堵塞"
        hazards.append(await report(stage, reporter_id, severity=severity, description=description))
    return hazards


async def test_a_cadre_lists_what_they_reported_open_first_with_states_and_opens_one(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    first, second = await reported_a_minute_apart(bot_stage, 2)
    third = (await reported_a_minute_apart(bot_stage, 1, severity=Severity.SERIOUS))[0]
    closed = await submitted(bot_stage, first)
    await act(bot_stage, STAFF, closed, HazardAction.ACCEPT)
    bot_stage.clock.advance(timedelta(days=2))  # the 重大 one (24 hours) is now late

    await people.cadre.send_text("/mine")
    listing = people.cadre.last_message()
    assert "我上报的隐患" in listing.text and "共 3 条" in listing.text and "第 1/1 页" in listing.text
    # Unresolved first, newest first; then the closed one.
    assert [row[0] for row in listing.buttons] == [listed(third, late=True), listed(second), listed(first)]
    assert opened(listing) == [third.id, second.id, first.id] and listing.buttons[0][0].startswith("⏰ 用火 · ")
    assert f"⏰ {third.code} · 已交办（已逾期）" in listing.text
    assert f"{second.code} · 已交办" in listing.text and f"{first.code} · 已销号" in listing.text
    assert listing.text.count("⏰") == 1
    assert "鹿城区社会福利院 · 用火 · 重大" in listing.text and "上报时间：" in listing.text

    await people.cadre.press(listed(first), listing)
    assert any(f"隐患 {first.code} · 已销号" in m.text for m in people.cadre.messages()[-4:])


async def test_pages_turn_in_place_and_a_made_up_page_shows_the_last(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazards = await reported_a_minute_apart(bot_stage, 7)
    newest_first = [h.code for h in reversed(hazards)]
    labels = [listed(h) for h in reversed(hazards)]

    await people.cadre.send_text("/mine")
    listing = people.cadre.last_message()
    assert "共 7 条" in listing.text and "第 1/2 页" in listing.text
    assert [row[0] for row in listing.buttons[:-1]] == labels[:5]
    assert listing.buttons[-1] == ["下一页 ▶"]

    await people.cadre.press("下一页 ▶", listing)
    assert listing.edited and "第 2/2 页" in listing.text
    assert [row[0] for row in listing.buttons[:-1]] == labels[5:]
    assert listing.buttons[-1] == ["◀ 上一页"]
    assert len([m for m in people.cadre.messages() if m.text.startswith("📮 我上报的隐患")]) == 1

    await people.cadre.press(labels[6], listing)
    assert any(f"隐患 {newest_first[6]}" in m.text for m in people.cadre.messages()[-4:])

    # A page number no button carried: the last page there is, not an error or an empty list.
    await people.cadre.send_text("/mine")
    again = people.cadre.last_message()
    await people.cadre.press_data(again, "mn:page:999999")
    assert "第 2/2 页" in again.text and [row[0] for row in again.buttons[:-1]] == labels[5:]
    assert all("went wrong" not in (answer.text or "") for answer in people.cadre.answers())


async def test_nobody_else_sees_a_cadres_reports_in_their_list(bot_stage: Stage) -> None:
    """Another cadre's reports never appear; a head and staff have their own (empty) lists; a stranger gets the
    access gate's answer, not a list."""
    people = await cast(bot_stage)
    other = bot_stage.sandbox.user(user_id=OTHER_CADRE, first_name="王芳", language_code="zh-hans")
    await bot_stage.register(other, Role.CADRE, region=LUCHENG)
    mine = (await reported_a_minute_apart(bot_stage, 1))[0]
    theirs = (await reported_a_minute_apart(bot_stage, 2, reporter_id=OTHER_CADRE))

    await people.cadre.send_text("/mine")
    listing = people.cadre.last_message()
    assert "共 1 条" in listing.text and [row[0] for row in listing.buttons] == [listed(mine)]
    assert all(h.code not in listing.text for h in theirs)

    await other.send_text("/mine")
    assert [row[0] for row in other.last_message().buttons] == [listed(h) for h in reversed(theirs)]
    # Staff and the head see much of it in /tasks, but none of it is theirs: their own lists are empty.
    await people.head.send_text("/mine")
    assert "您还没有上报过隐患" in people.head.last_message().text and "/report" in people.head.last_message().text
    await people.staff.send_text("/mine")
    assert "您还没有上报过隐患" in people.staff.last_message().text

    stranger = bot_stage.sandbox.user(user_id=99, first_name="路人", language_code="zh-hans")
    await stranger.send_text("/mine")
    assert "邀请" in stranger.last_message().text and "YH-" not in stranger.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="access.unregistered")
    assert any(entry.actor_id == 99 for entry in audit)


async def test_a_head_follows_a_rights_protection_hazard_they_reported(bot_stage: Stage) -> None:
    """can_view admits a reporter whatever the area: the head who reported a rights-protection hazard of their own
    home follows it as its reporter (README), though /tasks never gives it to them."""
    people = await cast(bot_stage)
    sensitive = await report(bot_stage, HEAD, area=HazardArea.RIGHTS)

    await people.head.send_text("/tasks")
    assert sensitive.code not in people.head.last_message().text
    await people.head.send_text("/mine")
    listing = people.head.last_message()
    # Its button names its area and code, not its description (the list does not show it).
    assert listing.buttons == [[f"权益保障 · {sensitive.code}"]] and "权益保障" in listing.text
    await people.head.press(f"权益保障 · {sensitive.code}", listing)
    assert any(f"隐患 {sensitive.code}" in m.text for m in people.head.messages()[-4:])


async def test_in_english_closed_hazards_leave_the_list_after_ninety_days_and_are_counted(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    old, recent = await reported_a_minute_apart(bot_stage, 2)
    await act(bot_stage, STAFF, await submitted(bot_stage, old), HazardAction.ACCEPT)
    bot_stage.clock.advance(timedelta(days=91))
    newer = (await reported_a_minute_apart(bot_stage, 1))[0]
    await act(bot_stage, STAFF, await submitted(bot_stage, newer), HazardAction.ACCEPT)

    await people.cadre.send_text("/mine")
    listing = people.cadre.last_message()
    assert "Hazards you reported" in listing.text and "2 in all (unresolved first), page 1 of 1" in listing.text
    assert [row[0] for row in listing.buttons] == [listed(recent, "en", late=True), listed(newer, "en")]
    assert opened(listing) == [recent.id, newer.id] and listing.buttons[0][0].startswith("⏰ Fire · ")
    assert f"⏰ {recent.code} · Assigned (overdue)" in listing.text and f"{newer.code} · Closed" in listing.text
    assert "Lucheng District Social Welfare Home · Fire · General" in listing.text
    assert "1 more, closed or withdrawn over 90 days ago, is not listed: open it with /hazard CODE." in listing.text
    assert old.code not in listing.text

    # Everything closed long ago: nothing to list, and a message that says where they went.
    await act(bot_stage, STAFF, await submitted(bot_stage, recent), HazardAction.ACCEPT)
    bot_stage.clock.advance(timedelta(days=91))
    await people.cadre.send_text("/mine")
    assert people.cadre.last_message().text == (
        "All 3 hazards you reported were closed or withdrawn over 90 days ago: open one with /hazard CODE. "
        "Whenever you see a new safety hazard, report it with /report."
    )
    await people.head.send_text("/mine")
    assert people.head.last_message().text == (
        "You have not reported any hazards yet. Whenever you see a safety hazard, report it with /report."
    )
