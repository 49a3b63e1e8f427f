"""/people: staff see who is registered in their scope, end a person's access, and take back invitations nobody has
used. Before, a person kept their access for good once registered (a cadre moved to another post, a home that changed
hands, a lost phone), and a link sent to the wrong chat stood until it expired."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

from bot import people_cli
from bot.delivery_status import progress_text
from bot.domain.roles import Role
from bot.jobs import SendOutcome, sweep_once
from bot.pacing import Slot
from bot.services.reminders import Delivery
from bot.stage import Stage
from storage.outbox_models import NewOutboxMessage, OutboxPayload
from tests.calendar_people import local
from tests.hazard_people import HEAD, LONGWAN, LONGWAN_STAFF, LUCHENG, OTHER_STAFF, STAFF, cast, hazard_now, report
from tests.test_reminder_delivery import sender as reminder_sender
from tests.test_reminder_delivery import sweep
from tests.warning_people import containing, drain, outbox_sender, register_vulnerable


def link_token(text: str) -> str:
    match = re.search(r"https://t\.me/\w+\?start=([\w-]+)", text)
    assert match, text
    return match.group(1)


async def test_county_staff_end_a_heads_access_and_nothing_is_left_hanging_on_them(bot_stage: Stage) -> None:
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    sandbox, storage = bot_stage.sandbox, bot_stage.services.storage
    colleague = sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    elsewhere = sandbox.user(user_id=LONGWAN_STAFF, first_name="龙湾林科长", language_code="zh-hans")
    await bot_stage.register(elsewhere, Role.COUNTY, region=LONGWAN)
    hazard = await report(bot_stage)
    assert hazard.assignee_id == HEAD
    await drain(bot_stage)

    await people.staff.send_text("/people")
    roster = people.staff.last_message()
    assert "本辖区已登记人员" in roster.text and "共 4 人" in roster.text
    labels = [label for row in roster.buttons for label in row]
    assert any("陈院长" in label for label in labels) and not any("龙湾林科长" in label for label in labels)
    await people.staff.press("陈院长（机构负责人")
    assert "注册时间" in people.staff.last_message().text
    await people.staff.press("⛔ 停用账号")
    assert "确定停用" in people.staff.last_message().text
    confirm = people.staff.last_message()
    await people.staff.press("⛔ 确认停用")
    done = people.staff.last_message().text
    assert "已停用陈院长（机构负责人，鹿城区社会福利院）的账号" in done
    assert "1 条未办结隐患不再由其负责" in done and hazard.code in done

    # A second tap on the same confirmation ends nothing twice.
    second = await people.staff.press_data(confirm, f"pp:offok:{HEAD}")
    assert second.answer is not None and "已不在名单中" in (second.answer.text or "")
    assert [e.action for e in await storage.audit.list(action_prefix="user.deactivated")] == ["user.deactivated"]

    await drain(bot_stage)
    assert len(containing(people.head, "您在本机器人中的账号已由周科长停用")) == 1
    (told,) = containing(colleague, "陈院长（机构负责人，鹿城区社会福利院）的账号已由周科长停用")
    assert hazard.code in told.text
    assert containing(elsewhere, "陈院长") == []
    assert sandbox.commands_for(scope={"type": "chat", "chat_id": HEAD}) == []

    await people.head.send_text("/tasks")
    assert "您的账号已停用" in people.head.last_message().text
    current = await hazard_now(bot_stage, hazard)
    assert current.assignee_id is None and current.state is hazard.state
    await people.staff.send_text(f"/hazard {hazard.code}")
    dossier = "\n".join(m.text for m in people.staff.messages()[-4:])
    assert "原责任人账号停用，不再负责" in dossier
    await people.staff.send_text("/tasks")
    assert hazard.code in people.staff.last_message().text  # nobody is named responsible now: staff see it
    institution = await storage.institutions.get(hazard.institution_id)
    assert institution is not None and institution.head_user_id is None
    # At the deadline the county is reminded of the hazard, and the person whose access ended is not.
    bot_stage.clock.set(local(2026, 3, 9, 10, 1))
    reminded = {delivery.recipient_id for delivery in (await sweep(bot_stage)).sent}
    assert reminded == {STAFF, OTHER_STAFF}

    # Invited again, the head is back with their role, and new hazards are theirs again.
    token = await bot_stage.invite_token(Role.HEAD, institution=institution.code)
    await people.head.send_text(f"/start {token}")
    assert "注册成功" in people.head.messages()[-2].text
    again = await report(bot_stage, description="灭火器过期")
    assert again.assignee_id == HEAD


async def test_an_invitation_taken_back_registers_nobody(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await people.staff.send_text("/invite")
    await people.staff.press("社区/村干部")
    token = link_token(people.staff.last_message().text)

    await people.staff.send_text("/people")
    await people.staff.press("🔗 未使用的邀请链接（1）")
    listing = people.staff.last_message().text
    assert "共 1 个" in listing and "社区/村干部 · 鹿城区 · 由周科长创建" in listing
    await people.staff.press("撤销第 1 个")
    answer = people.staff.last_message().text
    assert answer.startswith("✅ 已撤销一个邀请链接（社区/村干部 · 鹿城区）") and "没有尚未使用的邀请链接" in answer

    newcomer = bot_stage.sandbox.user(user_id=77, first_name="新人", language_code="zh-hans")
    await newcomer.send_text(f"/start {token}")
    assert "这个邀请链接已被撤销" in newcomer.last_message().text
    assert await bot_stage.services.storage.users.get(77) is None
    revoked = await bot_stage.services.storage.audit.list(action_prefix="invite.revoked")
    assert [event.actor_id for event in revoked] == [STAFF]


async def test_an_unused_invitations_link_is_shown_again_from_the_list(bot_stage: Stage) -> None:
    # The list of unused invitations named them, but their links were only in the chat where each was made: a clerk
    # who lost the message could only cancel the invitation and make another.
    people = await cast(bot_stage)
    storage = bot_stage.services.storage
    await people.staff.send_text("/invite")
    await people.staff.press("社区/村干部")
    made = people.staff.last_message().text
    token = link_token(made)

    await people.staff.send_text("/people")
    await people.staff.press("🔗 未使用的邀请链接（1）")
    listing = people.staff.last_message()
    assert listing.buttons[0] == ["🔗 查看第 1 个链接", "撤销第 1 个"]
    await people.staff.press("🔗 查看第 1 个链接")
    shown = people.staff.last_message()
    assert shown.message_id != listing.message_id  # a message of its own: the list stays to go on with
    assert link_token(shown.text) == token  # the same link, not a new invitation
    assert shown.text.startswith("🔗 尚未使用的邀请链接（鹿城区的社区/村干部），由周科长于")
    expires = made.split("仅可使用一次，")[1].split(" 前有效")[0]
    assert f"仅可使用一次，{expires} 前有效" in shown.text and "没有另外生成新的邀请" in shown.text
    assert len(await storage.invites.standing(bot_stage.clock.now())) == 1
    audited = await storage.audit.list(action_prefix="invite.shown")
    assert [(event.actor_id, event.target) for event in audited] == [(STAFF, f"invite:{token[:6]}")]

    # Another county's clerk never sees it; their forged press is refused, recorded, and shows no link.
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="吴科长", language_code="zh-hans")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)
    await outsider.send_text("/people")
    before = len(outsider.messages())
    pressed = await outsider.press_data(outsider.last_message(), f"pp:ln:{token}")
    assert pressed.answer is not None and pressed.answer.show_alert
    assert len(outsider.messages()) == before and all(token not in m.text for m in outsider.messages())
    refused = await storage.audit.list(action_prefix="authz.refused")
    assert any(event.actor_id == LONGWAN_STAFF and event.detail.get("action") == "invite.show" for event in refused)

    # Once taken back, its old button shows the link no more.
    await people.staff.press("撤销第 1 个", listing)
    again = await people.staff.press_data(listing, f"pp:ln:{token}")
    assert again.answer is not None and again.answer.show_alert
    assert people.staff.last_message().message_id == shown.message_id  # nothing new was sent


async def test_a_long_list_of_unused_invitations_turns_its_pages(bot_stage: Stage) -> None:
    # Beyond eight, the list said only "2 more are not listed" until some were cancelled.
    people = await cast(bot_stage, language="en")
    for _ in range(10):
        await bot_stage.invite_token(Role.CADRE, region=LUCHENG)
    # Listed oldest first (made at the same moment here: by token), as the list numbers them.
    tokens = [invite.token for invite in await bot_stage.services.storage.invites.standing(bot_stage.clock.now())]
    await people.staff.send_text("/people")
    await people.staff.press("🔗 Unused invitations (10)")
    first = people.staff.last_message()
    assert "Unused invitations: 10 (page 1 of 2)" in first.text
    assert first.buttons[-2] == ["Next ▶"] and first.buttons[7] == ["🔗 Link no. 8", "Cancel no. 8"]
    await people.staff.press("Next ▶")
    assert "10. Community cadre · Lucheng District" in first.text
    assert first.buttons[:2] == [["🔗 Link no. 9", "Cancel no. 9"], ["🔗 Link no. 10", "Cancel no. 10"]]
    await people.staff.press("🔗 Link no. 10")
    assert link_token(people.staff.last_message().text) == tokens[9]
    # Cancelling one on the second page comes back to the second page.
    await people.staff.press("Cancel no. 9", first)
    assert first.text.startswith("✅ One invitation cancelled") and "(page 2 of 2)" in first.text
    assert "9. Community cadre" in first.text and "10." not in first.text
    revoked = await bot_stage.services.storage.invites.get(tokens[8])
    assert revoked is not None and revoked.revoked_at is not None


async def test_a_city_admin_ends_county_staff_access_and_the_links_they_made_stop_working(bot_stage: Stage) -> None:
    people = await cast(bot_stage, language="en")
    admin = bot_stage.sandbox.user(user_id=90, first_name="Wang", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    await people.staff.send_text("/invite")
    await people.staff.press("Community cadre")
    token = link_token(people.staff.last_message().text)

    # County staff may not end other county staff's access: their card says so, and has no button for it.
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    await colleague.send_text("/people")
    await colleague.press("Zhou (County staff")
    card = colleague.last_message()
    assert "You cannot end this person's access" in card.text
    assert [label for row in card.buttons for label in row] == ["« Back to the list"]

    await admin.send_text("/people")
    await admin.press("Zhou (County staff")
    await admin.press("⛔ End access")
    await admin.press("⛔ Yes, end access")
    # Zhou is in Lucheng's bound group: the admin hears it after the news of the access ended.
    ended, still_in = admin.messages()[-2:]
    assert "1 unused invitations they made are cancelled" in ended.text
    assert still_in.text.startswith("⚠️ Zhou is still in these bound work groups")
    await drain(bot_stage)
    assert len(containing(people.staff, "Your access to this bot was ended by Wang")) == 1
    newcomer = bot_stage.sandbox.user(user_id=78, first_name="New", language_code="en")
    await newcomer.send_text(f"/start {token}")
    assert "This invitation link was cancelled" in newcomer.last_message().text


async def test_a_cadres_vulnerable_people_go_to_the_county_when_the_cadre_leaves(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await register_vulnerable(bot_stage, people.cadre)
    await people.cadre.send_text("/lang")
    await people.cadre.press("English")
    await people.staff.send_text("/people")
    await people.staff.press("李娜（社区/村干部")
    await people.staff.press("⛔ 停用账号")
    await people.staff.press("⛔ 确认停用")
    assert "3 名特殊群体暂无联系干部" in people.staff.last_message().text
    kept = await bot_stage.services.storage.contacts.person_by_code("DT-0001")
    assert kept is not None and kept.cadre_id is None
    # Answered in the language they chose, though their Telegram app is in Chinese.
    await people.cadre.send_text("/report")
    assert "Your access to this bot has ended" in people.cadre.last_message().text


async def test_a_message_the_sender_had_already_claimed_is_not_delivered_after_the_access_ended(
    bot_stage: Stage,
) -> None:
    # The outbox sender claims a message just before it goes, then waits for its turn at the pace. Ending the access
    # gave up only what was still waiting in the queue, so a message claimed a moment before the deactivation
    # committed still went out after it: the head was sent a warning after they had been told their access ended.
    people = await cast(bot_stage)
    services = bot_stage.services
    warning = "🟡 鹿城区大风黄色预警：请加固临时设施"
    await services.outbox.enqueue([NewOutboxMessage(dedupe_key=f"warning:1:rev:1:chat:{HEAD}", chat_id=HEAD,
                                                    payload=OutboxPayload(text=warning))], batch="warning:1:rev:1")
    sender = outbox_sender(bot_stage)
    pace = sender.pacer.acquire
    ended: list[int] = []

    async def deactivated_while_claimed(chat_id: int, *, retry: bool = False) -> Slot:
        if chat_id == HEAD and not ended:
            claimed = await services.storage.db.fetchval(
                "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND state = 'sending'", (HEAD,))
            assert claimed == 1
            staff = await services.storage.users.get(STAFF)
            ended.append((await services.people.deactivate(staff, HEAD)).person.telegram_id)
        return await pace(chat_id, retry=retry)

    sender.pacer.acquire = deactivated_while_claimed  # type: ignore[method-assign]
    await drain(bot_stage, sender)

    assert ended == [HEAD]
    told = [m.text for m in people.head.messages()]
    assert len(containing(people.head, "您在本机器人中的账号已由周科长停用")) == 1, told
    assert containing(people.head, warning) == [], told
    states = await services.storage.db.fetchall("SELECT dedupe_key, state FROM outbox WHERE chat_id = ?", (HEAD,))
    assert sorted((row["dedupe_key"].split(":")[0], row["state"]) for row in states) == [
        ("user", "sent"), ("user", "sent"), ("warning", "cancelled")]  # the menu taken away and the farewell sent, the
    # warning given up: not a failure of its broadcast, whose status says so to the staff who sent it
    progress = await services.outbox.progress("warning:1:rev:1")
    assert progress.done and progress.undeliverable == 0
    assert progress_text(progress, services.i18n.get("zh_CN")).startswith("✅ 发送完毕：已送达 0 / 0，失败 0")


async def test_a_reminder_the_sweep_had_already_claimed_is_not_sent_after_the_access_ended(bot_stage: Stage) -> None:
    # A reminder round claims everything due, then sends one person's reminders after another. Ending the access
    # cancelled only the reminders still pending, so a head whose access ended while the round was under way was
    # still reminded of a hazard that was no longer theirs, after their farewell.
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    services = bot_stage.services
    hazard = await report(bot_stage)  # 一般: deadline 2026-03-09 10:00
    await drain(bot_stage)
    bot_stage.clock.set(local(2026, 3, 10, 11))  # past it: the head and the county staff are to be reminded
    send = reminder_sender(bot_stage)
    ended: list[int] = []

    async def deactivated_during_the_round(delivery: Delivery) -> SendOutcome | None:
        if not ended:
            claimed = await services.storage.db.fetchval(
                "SELECT COUNT(*) FROM reminders WHERE recipient_id = ? AND state = 'claimed'", (HEAD,))
            assert claimed > 0  # the round holds the head's reminders
            staff = await services.storage.users.get(STAFF)
            ended.append((await services.people.deactivate(staff, HEAD)).person.telegram_id)
        return await send(delivery)

    round_ = await sweep_once(services, deactivated_during_the_round)
    await drain(bot_stage)
    # Not sent, and not a failure either: cancelled, as the reminders still pending were.
    assert HEAD not in [delivery.recipient_id for delivery in round_.failed]
    held = await services.storage.db.fetchall(
        "SELECT DISTINCT state FROM reminders WHERE recipient_id = ? AND state != 'pending'", (HEAD,))
    assert [row["state"] for row in held] == ["cancelled"]

    assert ended == [HEAD]
    told = [m.text for m in people.head.messages()]
    assert len(containing(people.head, "您在本机器人中的账号已由周科长停用")) == 1, told
    assert containing(people.head, f"隐患 {hazard.code} 已到整改期限") == [], told
    # The county staff's own reminder of the deadline still went out.
    assert any(f"隐患 {hazard.code} 已到整改期限" in text for text in [m.text for m in people.staff.messages()])


async def test_an_access_ended_from_the_command_line_takes_the_menu_away_and_tells_the_person_once(
    bot_stage: Stage,
) -> None:
    # `safety-bot people deactivate` ended the access in the database only: the person's own command menu stayed in
    # their Telegram until the bot next saw them, offering /report, /tasks... to someone who may use none of them.
    people = await cast(bot_stage)
    sandbox = bot_stage.sandbox
    menu = sandbox.commands_for(scope={"type": "chat", "chat_id": HEAD})
    assert "report" in [command["command"] for command in menu]

    ended = await people_cli._main(argparse.Namespace(command="deactivate", telegram_id=HEAD), bot_stage.settings,
                                   bot_stage.clock)
    assert ended == 0
    await bot_stage.restart()  # whatever the running bot is doing meanwhile, nothing queued is lost
    await drain(bot_stage)
    await drain(bot_stage)

    assert sandbox.commands_for(scope={"type": "chat", "chat_id": HEAD}) == []
    assert len(containing(people.head, "您在本机器人中的账号已由系统管理员停用")) == 1
    menus = await bot_stage.services.storage.db.fetchall(
        "SELECT state FROM outbox WHERE chat_id = ? AND payload LIKE '%clear_menu%'", (HEAD,))
    assert [row["state"] for row in menus] == ["sent"]


async def test_a_menu_taken_away_late_leaves_the_menu_of_someone_registered_again(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = await bot_stage.services.storage.users.get(STAFF)
    assert staff is not None
    await bot_stage.services.people.deactivate(staff, HEAD)
    await bot_stage.register(people.head, Role.CADRE, region=LUCHENG)  # before the bot took the old menu away
    await drain(bot_stage)
    menu = [command["command"] for command in bot_stage.sandbox.commands_for(scope={"type": "chat", "chat_id": HEAD})]
    assert menu[:2] == ["report", "tasks"] and "drill" not in menu


async def test_a_person_whose_access_ends_a_second_time_loses_the_menu_again(bot_stage: Stage) -> None:
    """A head leaves, is invited back as a cadre a week later, and leaves again: each ending takes the menu away, not
    only the first (the second removal must not be taken for the first one already sent)."""
    people = await cast(bot_stage)
    staff = await bot_stage.services.storage.users.get(STAFF)
    assert staff is not None
    sandbox = bot_stage.sandbox
    await bot_stage.services.people.deactivate(staff, HEAD)
    await drain(bot_stage)
    assert sandbox.commands_for(scope={"type": "chat", "chat_id": HEAD}) == []

    bot_stage.clock.advance(timedelta(days=7))
    await bot_stage.register(people.head, Role.CADRE, region=LUCHENG)
    assert "report" in [c["command"] for c in sandbox.commands_for(scope={"type": "chat", "chat_id": HEAD})]
    bot_stage.clock.advance(timedelta(days=7))
    await bot_stage.services.people.deactivate(staff, HEAD)
    await drain(bot_stage)

    assert sandbox.commands_for(scope={"type": "chat", "chat_id": HEAD}) == []
    assert len(containing(people.head, "您在本机器人中的账号已由")) == 2  # told each time, too


async def test_a_big_roster_keeps_its_page_and_finds_a_person_by_name(bot_stage: Stage) -> None:
    """A county of 286 people: « 返回名单 from a card always went back to page 1, /people 院长150 ignored the name and
    showed page 1, and the pages turned with » / « where every other list has ▶ / ◀."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    for n in range(20):
        cadre = bot_stage.sandbox.user(user_id=70_000 + n, first_name=f"干部{n:02}", language_code="zh-hans")
        await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    staff = people.staff

    await staff.send_text("/people")
    assert "（第 1/3 页）" in staff.last_message().text
    await staff.press("下一页 ▶")
    await staff.press("下一页 ▶")
    page = staff.last_message()
    assert "（第 3/3 页）" in page.text and ["◀ 上一页"] in page.buttons
    await staff.press("干部19", page)
    assert "注册时间" in staff.last_message().text
    await staff.press("« 返回名单")
    assert "（第 3/3 页）" in staff.last_message().text  # the page it came from, not page 1

    await staff.send_text("/people 干部17")
    found = staff.last_message()
    assert "姓名含“干部17”的人员" in found.text and "共 1 人" in found.text
    labels = [label for row in found.buttons for label in row]
    assert any("干部17" in label for label in labels) and not any("干部16" in label for label in labels)
    await staff.press("干部17", found)
    await staff.press("« 返回名单")
    assert "姓名含“干部17”的人员" in staff.last_message().text  # back to the search, not the whole roster
    await staff.press("👥 全部人员")
    assert "本辖区已登记人员" in staff.last_message().text

    await staff.send_text("/people 干部1")
    assert "共 10 人（第 1/2 页）" in staff.last_message().text
    await staff.send_text("/people 无此人")
    assert "没有姓名含“无此人”的已登记人员" in staff.last_message().text
    await staff.send_text("/people 干")
    assert "请至少输入 2 个字" in staff.last_message().text
