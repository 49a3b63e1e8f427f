"""A work group's forum topic bound to a county's warnings or hazards, and what its admins may do to it: delete it
(Telegram tells the bot nothing, and answers every message to it "message thread not found") or close it (only
admins post there: "TOPIC_CLOSED"). The group still takes messages; before, every warning and reminder to the topic
was marked undeliverable and nobody was told.

Its admins may also close the forum's General topic, the group's general chat: a bot that is not an admin gets
"TOPIC_CLOSED" for every message without a topic, and its topics still take them. Before, the warnings, notices and
reminders of the general chat's binding failed one by one and nobody was told."""

from __future__ import annotations

from bot.sandbox import SimGroup, SimUser
from bot.stage import Stage
from storage.models import Group, GroupPurpose
from tests.calendar_people import local
from tests.hazard_people import STAFF, cast, report
from tests.test_reminder_delivery import sweep
from tests.warning_people import (
    DONGTOU,
    FORUM_TOPIC,
    LUCHENG,
    TYPHOON_TEMPLATE,
    Cast,
    containing,
    drain,
    enrol,
    outbox_sender,
    send_typhoon,
)


async def send(current: Stage, cast: Cast, level: str = "红色") -> None:
    """A typhoon warning sent as 林科长, delivered as the running bot would (its status message included)."""
    sender = outbox_sender(current)
    current.application.bot_data["outbox_sender"] = sender
    await send_typhoon(current, cast, level, sender=sender)


async def test_a_topic_bound_from_inside_it_gets_the_warning_in_the_topic(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)  # 林科长 sent /bindgroup in the forum's topic 预警
    bound = await typhoon_stage.services.storage.groups.get(cast.forum.chat_id, FORUM_TOPIC)
    assert bound is not None and bound.active and bound.purpose is GroupPurpose.WARNINGS
    confirmation = cast.forum.last_message()
    assert "已绑定" in confirmation.text and confirmation.stored.thread_id == FORUM_TOPIC


async def test_a_deleted_topic_hands_its_warnings_to_the_groups_general_chat(typhoon_stage: Stage) -> None:
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    owner = typhoon_stage.sandbox.user(user_id=77, first_name="群主")
    cast.forum.make_admin(owner)
    await cast.forum.delete_topic(FORUM_TOPIC, by=owner)

    await send(typhoon_stage, cast)
    (copy,) = containing(cast.forum, TYPHOON_TEMPLATE)  # the warning is seen, once, in the general chat
    assert copy.stored.thread_id is None
    status = containing(staff, "发送完毕")[-1].text
    assert "已送达 5 / 5，失败 0" in status

    groups = typhoon_stage.services.storage.groups
    general = await groups.get(cast.forum.chat_id)
    assert general is not None and general.active and general.purpose is GroupPurpose.WARNINGS
    topic = await groups.get(cast.forum.chat_id, FORUM_TOPIC)
    assert topic is not None and not topic.active
    told = containing(staff, "已被删除")
    assert len(told) == 1
    assert "工作群「洞头区民政论坛」里绑定的话题（洞头区 · 预警发布）已被删除" in told[0].text
    assert "改发到该群的主聊天" in told[0].text

    # The next warning goes straight to the general chat: no more requests to the topic.
    before = len(typhoon_stage.sandbox.calls_to("sendMessage"))
    await send(typhoon_stage, cast, "橙色")
    since = typhoon_stage.sandbox.calls_to("sendMessage")[before:]
    assert [c for c in since if c.params.get("message_thread_id") == FORUM_TOPIC] == []
    assert len(containing(cast.forum, "台风橙色预警")) == 1


async def test_a_closed_topic_beside_a_bound_general_chat_sends_nothing_twice(typhoon_stage: Stage) -> None:
    """The group's general chat is bound for everything of 洞头区 and has its own copy of each warning: the closed
    topic's copy is given up, not sent there a second time."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await staff.send_text("/bindgroup", chat=cast.forum)
    await staff.press("洞头区", chat=cast.forum)
    await staff.press_data(staff.last_message(chat=cast.forum), f"bind:purpose:{DONGTOU}:general", chat=cast.forum)
    owner = typhoon_stage.sandbox.user(user_id=77, first_name="群主")
    cast.forum.make_admin(owner)
    await cast.forum.close_topic(FORUM_TOPIC, by=owner)
    chatter = len(cast.forum.messages())

    await send(typhoon_stage, cast)
    assert len(containing(cast.forum, TYPHOON_TEMPLATE)) == 1
    assert len(cast.forum.messages()) == chatter + 1  # the closing itself drew no answer from the bot
    groups = typhoon_stage.services.storage.groups
    general = await groups.get(cast.forum.chat_id)
    assert general is not None and general.active and general.purpose is GroupPurpose.GENERAL
    topic = await groups.get(cast.forum.chat_id, FORUM_TOPIC)
    assert topic is not None and not topic.active
    (told,) = containing(staff, "已被关闭")
    assert "只有管理员能在其中发言" in told.text and "主聊天另有绑定，这个话题的绑定已解除" in told.text


async def test_a_reminder_for_a_deleted_topic_reaches_the_group_once(bot_stage: Stage) -> None:
    """The topic was deleted after the hazard's notice went there: its deadline reminder is the first message
    refused, and goes to the group's general chat instead, with the binding."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    staff = people.staff
    forum = bot_stage.sandbox.group(chat_id=-1009, title="鹿城区民政论坛", is_forum=True)
    forum.add(staff).add_topic("隐患", 5)
    await staff.send_text("/bindgroup", chat=forum, topic=5)
    await staff.press("鹿城区", chat=forum)
    await staff.press_data(staff.last_message(chat=forum), "bind:purpose:330302:hazards", chat=forum)
    hazard = await report(bot_stage)  # 一般: deadline 9 March; the county's groups hear on 13 March at 09:00
    await drain(bot_stage)
    assert forum.last_message().stored.thread_id == 5 and hazard.code in forum.last_message().text
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    forum.make_admin(owner)
    await forum.delete_topic(5, by=owner)

    bot_stage.clock.set(local(2026, 3, 13, 9))
    result = await sweep(bot_stage)
    assert forum.chat_id in [d.recipient_id for d in result.sent] and not result.failed
    reminder = forum.last_message()
    assert hazard.code in reminder.text and reminder.stored.thread_id is None
    general = await bot_stage.services.storage.groups.get(forum.chat_id)
    assert general is not None and general.active and general.purpose is GroupPurpose.HAZARDS
    await drain(bot_stage)
    assert containing(staff, "已被删除")
    again = await sweep(bot_stage)
    assert forum.chat_id not in [d.recipient_id for d in again.sent]


async def test_a_hazard_notice_for_a_deleted_topic_is_not_doubled_in_a_bound_general_chat(bot_stage: Stage) -> None:
    """The forum's general chat takes everything of 鹿城区 and its topic 隐患 the hazards: each new hazard is posted
    in both. With the topic deleted, the next hazard is posted once in the general chat, not twice."""
    people = await cast(bot_stage)
    staff = people.staff
    forum = bot_stage.sandbox.group(chat_id=-1009, title="鹿城区民政论坛", is_forum=True)
    forum.add(staff).add_topic("隐患", 5)
    for where, purpose in ((None, "general"), (5, "hazards")):
        await staff.send_text("/bindgroup", chat=forum, topic=where)
        await staff.press("鹿城区", chat=forum)
        await staff.press_data(staff.last_message(chat=forum), f"bind:purpose:330302:{purpose}", chat=forum)
    first = await report(bot_stage)
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, first.code)] == [None, 5]
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    forum.make_admin(owner)
    await forum.delete_topic(5, by=owner)

    second = await report(bot_stage, description="配电箱前堆放纸箱")
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, second.code)] == [None]
    topic = await bot_stage.services.storage.groups.get(forum.chat_id, 5)
    assert topic is not None and not topic.active
    assert "主聊天另有绑定" in containing(staff, "已被删除")[0].text


async def bind(staff: SimUser, forum: SimGroup, topic: int | None, region: str, purpose: str) -> None:
    """`staff` sends /bindgroup in the forum's general chat (`topic` None) or in a topic, and binds it to `region`."""
    name = {DONGTOU: "洞头区", LUCHENG: "鹿城区"}[region]
    await staff.send_text("/bindgroup", chat=forum, topic=topic)
    if staff.last_message(chat=forum).buttons[0][0] == "✏️ 更改绑定":  # bound already: shown first, then changed
        await staff.press("✏️ 更改绑定", chat=forum)
    await staff.press(name, chat=forum)
    await staff.press_data(staff.last_message(chat=forum), f"bind:purpose:{region}:{purpose}", chat=forum)


async def close_general(stage: Stage, forum: SimGroup) -> None:
    owner = stage.sandbox.user(user_id=77, first_name="群主")
    forum.make_admin(owner)
    await forum.close_general_topic(by=owner)


async def warnings_in_the_general_chat(stage: Stage) -> Cast:
    """The forum's general chat bound for 洞头区's warnings, its topic 预警 for its hazard notices: a warning goes to
    the general chat only (one message per chat)."""
    cast = await enrol(stage)
    await bind(cast.dongtou_staff, cast.forum, None, DONGTOU, "warnings")
    await bind(cast.dongtou_staff, cast.forum, FORUM_TOPIC, DONGTOU, "hazards")
    return cast


async def test_a_warning_refused_by_a_closed_general_topic_ends_the_binding_and_the_county_is_told(
    typhoon_stage: Stage,
) -> None:
    """An admin closes the General topic of a forum whose general chat takes 洞头区's warnings. The warning is
    refused there; the general chat's binding ends, the county clerk is told once what happened and how to mend
    it, and the topic keeps its binding."""
    cast = await warnings_in_the_general_chat(typhoon_stage)
    staff = cast.dongtou_staff
    await close_general(typhoon_stage, cast.forum)

    await send(typhoon_stage, cast)
    assert containing(cast.forum, TYPHOON_TEMPLATE) == []
    assert "已送达 4 / 5，失败 1" in containing(staff, "发送完毕")[-1].text  # the refused copy counts as failed
    storage = typhoon_stage.services.storage
    general = await storage.groups.get(cast.forum.chat_id)
    assert general is not None and not general.active
    topic = await storage.groups.get(cast.forum.chat_id, FORUM_TOPIC)
    assert topic is not None and topic.active and topic.purpose is GroupPurpose.HAZARDS
    (told,) = containing(staff, "General 话题")
    assert "工作群「洞头区民政论坛」的主聊天（General 话题）已被关闭" in told.text
    assert "主聊天的绑定（洞头区 · 预警发布）已解除" in told.text
    assert "该群里绑定的话题照常接收" in told.text
    assert "重新开放 General 话题" in told.text and "把机器人设为该群的管理员" in told.text
    assert "/bindgroup" in told.text
    assert containing(cast.admin, "General") == []  # 洞头区 has county staff: the city admins are not told
    (audit,) = await storage.audit.list(action_prefix="group.bot_general_closed")
    assert audit.target == f"group:{cast.forum.chat_id}" and audit.actor_id is None

    # The next warning is not tried in the general chat: its binding has ended.
    before = len(typhoon_stage.sandbox.calls_to("sendMessage"))
    await send(typhoon_stage, cast, "橙色")
    since = typhoon_stage.sandbox.calls_to("sendMessage")[before:]
    assert [c for c in since if c.params["chat_id"] == cast.forum.chat_id] == []
    assert "已送达 4 / 4，失败 0" in containing(staff, "发送完毕")[-1].text
    assert len(containing(staff, "General 话题")) == 1


async def test_a_closed_general_topic_takes_the_warning_of_a_bot_that_is_an_admin(typhoon_stage: Stage) -> None:
    """Admins still post in a closed General topic, and the bot is one there: nothing changes, nobody is told."""
    cast = await warnings_in_the_general_chat(typhoon_stage)
    cast.forum.set_bot_status("administrator")
    await close_general(typhoon_stage, cast.forum)

    await send(typhoon_stage, cast)
    assert [m.stored.thread_id for m in containing(cast.forum, TYPHOON_TEMPLATE)] == [None]
    storage = typhoon_stage.services.storage
    general = await storage.groups.get(cast.forum.chat_id)
    assert general is not None and general.active
    assert containing(cast.dongtou_staff, "General") == [] and containing(cast.admin, "General") == []
    assert await storage.audit.list(action_prefix="group.bot_") == []


async def forum_bound_in_general_and_topic(stage: Stage, staff: SimUser) -> SimGroup:
    """鹿城区民政论坛, a forum whose general chat and topic 隐患 (5) are both bound for Lucheng's hazards."""
    forum = stage.sandbox.group(chat_id=-1009, title="鹿城区民政论坛", is_forum=True)
    forum.add(staff).add_topic("隐患", 5)
    for where in (None, 5):
        await bind(staff, forum, where, LUCHENG, "hazards")
    return forum


async def test_hazard_notices_go_on_in_the_topic_of_a_group_whose_general_topic_is_closed(bot_stage: Stage) -> None:
    """The forum's general chat and its topic 隐患 both take 鹿城区's hazard notices, each its own copy. With the
    General topic closed, the topic's copy arrives, the general chat's binding ends at its refusal (the clerk told,
    once), and the next hazard is posted in the topic alone, not tried in the general chat."""
    people = await cast(bot_stage)
    staff = people.staff
    forum = await forum_bound_in_general_and_topic(bot_stage, staff)
    await close_general(bot_stage, forum)

    first = await report(bot_stage)
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, first.code)] == [5]
    storage = bot_stage.services.storage
    general = await storage.groups.get(forum.chat_id)
    assert general is not None and not general.active
    topic = await storage.groups.get(forum.chat_id, 5)
    assert topic is not None and topic.active
    (told,) = containing(staff, "General 话题")
    assert "工作群「鹿城区民政论坛」的主聊天（General 话题）已被关闭" in told.text
    assert "（鹿城区 · 隐患通知）" in told.text
    assert len(await storage.audit.list(action_prefix="group.bot_general_closed")) == 1

    before = len(bot_stage.sandbox.calls_to("sendMessage"))
    second = await report(bot_stage, description="配电箱前堆放纸箱")
    await drain(bot_stage)
    since = bot_stage.sandbox.calls_to("sendMessage")[before:]
    assert [c.params.get("message_thread_id") for c in since if c.params["chat_id"] == forum.chat_id] == [5]
    assert [m.stored.thread_id for m in containing(forum, second.code)] == [5]
    assert len(containing(staff, "General 话题")) == 1


async def test_a_closed_general_topic_is_told_in_english_with_the_groups_title_as_it_reads(bot_stage: Stage) -> None:
    """The same for a clerk who reads English; the group's title, which its admins chose, is shown as they wrote
    it (escaped, not taken for markup)."""
    people = await cast(bot_stage, "en")
    title = "Lucheng <safety> & co"
    forum = bot_stage.sandbox.group(chat_id=-1009, title=title, is_forum=True)
    forum.add(people.staff).add_topic("Hazards", 5)
    for where in (None, 5):
        await bot_stage.services.storage.groups.bind(Group(
            chat_id=forum.chat_id, topic_id=where, title=title, region_code=LUCHENG, purpose=GroupPurpose.HAZARDS,
            bound_by=STAFF, bound_at=bot_stage.clock.now(),
        ))
    await close_general(bot_stage, forum)

    hazard = await report(bot_stage)
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, hazard.code)] == [5]
    (told,) = containing(people.staff, "General topic")
    assert f"The general chat (the General topic) of the work group “{title}” was closed" in told.text
    assert "Its binding (Lucheng District · Hazard notices) has ended" in told.text
    assert "reopen the General topic, or make the bot an administrator of the group" in told.text
    assert "/bindgroup" in told.text


async def test_a_reminder_refused_by_a_closed_general_topic_ends_its_binding_once(bot_stage: Stage) -> None:
    """The reminder tick sends on its own, not through the outbox: the general chat's reminder is refused, recorded
    as undeliverable, the binding ends and the clerk is told; the topic's reminder arrives, and the next tick tries
    the general chat no more."""
    bot_stage.clock.set(local(2026, 3, 2, 10))
    people = await cast(bot_stage)
    staff = people.staff
    forum = await forum_bound_in_general_and_topic(bot_stage, staff)
    hazard = await report(bot_stage)  # 一般: deadline 9 March; the county's groups hear on 13 March at 09:00
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, hazard.code)] == [None, 5]
    await close_general(bot_stage, forum)

    bot_stage.clock.set(local(2026, 3, 13, 9))
    result = await sweep(bot_stage)
    assert [(d.recipient_id, d.topic_id) for d in result.failed] == [(forum.chat_id, None)]
    assert (forum.chat_id, 5) in [(d.recipient_id, d.topic_id) for d in result.sent]
    assert [m.stored.thread_id for m in containing(forum, hazard.code)] == [None, 5, 5]
    storage = bot_stage.services.storage
    general = await storage.groups.get(forum.chat_id)
    assert general is not None and not general.active
    undeliverable = await storage.audit.list(action_prefix="reminder.undeliverable", target=f"chat:{forum.chat_id}")
    assert len(undeliverable) == 1
    await drain(bot_stage)
    (told,) = containing(staff, "General 话题")
    assert "工作群「鹿城区民政论坛」的主聊天（General 话题）已被关闭" in told.text

    before = len(bot_stage.sandbox.calls_to("sendMessage"))
    again = await sweep(bot_stage)
    assert (forum.chat_id, None) not in [(d.recipient_id, d.topic_id) for d in again.sent + again.failed]
    since = bot_stage.sandbox.calls_to("sendMessage")[before:]
    assert [c for c in since if c.params["chat_id"] == forum.chat_id and "message_thread_id" not in c.params] == []


async def forum_with_general_for(stage: Stage, staff: SimUser, general: str | None) -> SimGroup:
    """鹿城区民政论坛: topic 隐患 (5) bound for Lucheng's hazards; its general chat bound for `general`, or not."""
    forum = stage.sandbox.group(chat_id=-1009, title="鹿城区民政论坛", is_forum=True)
    forum.add(staff).add_topic("隐患", 5)
    if general is not None:
        await bind(staff, forum, None, LUCHENG, general)
    await bind(staff, forum, 5, LUCHENG, "hazards")
    return forum


async def test_a_lost_topic_whose_purpose_the_general_chat_lacks_widens_it_rather_than_losing_it(
    bot_stage: Stage,
) -> None:
    """The general chat bound for warnings, topic 隐患 for hazards: the topic deleted, its binding used to end
    because the general chat "had a binding of its own" and staff read that the general chat got the rest anyway.
    It did not: the forum got no hazard notice again. Now the general chat becomes 综合, and staff are told so."""
    people = await cast(bot_stage)
    staff = people.staff
    forum = await forum_with_general_for(bot_stage, staff, "warnings")
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    forum.make_admin(owner)
    await forum.delete_topic(5, by=owner)

    first = await report(bot_stage)
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, first.code)] == [None]  # seen, in the general chat
    general = await bot_stage.services.storage.groups.get(forum.chat_id)
    assert general is not None and general.active and general.purpose is GroupPurpose.GENERAL
    (told,) = containing(staff, "已被删除")
    assert "主聊天原来的绑定是「预警发布」，收不到这个话题的「隐患通知」消息" in told.text
    assert "主聊天的绑定已改为「综合（全部通知）」" in told.text and "本就会收到" not in told.text
    second = await report(bot_stage, description="配电箱前堆放纸箱")
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, second.code)] == [None]


async def test_a_reopened_topic_takes_its_binding_back_and_says_so(bot_stage: Stage) -> None:
    """Topic 隐患 closed, its hazards moved to the general chat at the first refusal. Opened again, it got nothing
    and nobody was told: the binding stayed in the general chat for good. Now it comes back, the topic and the staff
    are told, and the general chat is bound again as it was before (for warnings here, not 综合)."""
    people = await cast(bot_stage)
    staff = people.staff
    forum = await forum_with_general_for(bot_stage, staff, "warnings")
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    forum.make_admin(owner)
    await forum.close_topic(5, by=owner)
    first = await report(bot_stage)
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, first.code)] == [None]
    storage = bot_stage.services.storage
    widened = await storage.groups.get(forum.chat_id)
    assert widened is not None and widened.purpose is GroupPurpose.GENERAL

    await forum.reopen_topic(5, by=owner)
    await drain(bot_stage)
    here = forum.last_message()
    assert here.stored.thread_id == 5 and "本话题已重新开放，机器人恢复在此发送：鹿城区 · 隐患通知" in here.text
    (told,) = containing(staff, "已重新开放")
    assert "工作群「鹿城区民政论坛」里的话题（鹿城区 · 隐患通知）已重新开放，绑定已恢复到该话题" in told.text
    assert "恢复为话题关闭前的样子" in told.text
    topic, general = await storage.groups.get(forum.chat_id, 5), await storage.groups.get(forum.chat_id)
    assert topic is not None and topic.active
    assert general is not None and general.active and general.purpose is GroupPurpose.WARNINGS
    assert len(await storage.audit.list(action_prefix="group.topic_reopened")) == 1

    second = await report(bot_stage, description="配电箱前堆放纸箱")
    await drain(bot_stage)
    assert [m.stored.thread_id for m in containing(forum, second.code)] == [5]  # in its topic again, once


async def test_a_reopened_topic_whose_binding_moved_to_an_unbound_general_chat_leaves_it_unbound(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    forum = await forum_with_general_for(bot_stage, staff, None)
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    forum.make_admin(owner)
    await forum.close_topic(5, by=owner)
    await report(bot_stage)
    await drain(bot_stage)
    await forum.reopen_topic(5, by=owner)
    await drain(bot_stage)
    storage = bot_stage.services.storage
    general, topic = await storage.groups.get(forum.chat_id), await storage.groups.get(forum.chat_id, 5)
    assert general is not None and not general.active and topic is not None and topic.active
    told = staff.last_message().text
    assert "已重新开放，绑定已恢复到该话题" in told and "恢复为话题关闭前的样子" in told
    # Reopened once more with nothing moved away: nothing to give back, nobody told twice.
    await forum.close_topic(5, by=owner)
    await forum.reopen_topic(5, by=owner)
    await drain(bot_stage)
    assert len(containing(staff, "已重新开放")) == 1
