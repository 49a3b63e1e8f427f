"""Binding work groups, and the bot's silence in groups nobody bound."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.stage import Stage
from storage.models import GroupPurpose
from tests.hazard_people import cast

LUCHENG, LONGWAN = "330302", "330303"


async def test_unbound_groups_are_ignored_except_to_say_how_to_bind(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    cadre = sandbox.user(user_id=10, first_name="C")
    await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    group = sandbox.group(chat_id=-1001, title="闲聊群")
    group.add(cadre)
    await cadre.send_text("大家好", chat=group)
    assert cadre.messages(chat=group) == []
    await cadre.send_text("/help", chat=group)
    # /help said "the bot posts notices and warnings here" of a group it posts nothing to.
    helped = cadre.last_message(chat=group).text
    assert "本群尚未绑定" in helped and "/bindgroup" in helped and "修改绑定" not in helped
    await cadre.send_text("/tasks", chat=group)
    assert "本群尚未绑定" in cadre.last_message(chat=group).text
    await cadre.send_text("/bindgroup", chat=group)
    assert "仅限县级民政工作人员和市局管理员" in cadre.last_message(chat=group).text
    assert await bot_stage.services.storage.groups.get(-1001) is None


async def test_county_staff_bind_a_group_to_their_county(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    staff = sandbox.user(user_id=11, first_name="县", language_code="zh-hans")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    group = sandbox.group(chat_id=-1002, title="鹿城区民政安全工作群")
    group.add(staff)
    await staff.send_text("/bindgroup", chat=group)
    assert staff.last_message(chat=group).buttons == [["鹿城区"], ["取消"]]
    await staff.press("鹿城区", chat=group)
    await staff.press("预警发布", chat=group)
    assert staff.last_message(chat=group).text == (
        "✅ 本群已绑定：鹿城区，用途：预警发布。\n本群收到的通知和预警统一使用本局的工作语言（中文）。")
    bound = await bot_stage.services.storage.groups.get(-1002)
    assert bound is not None and bound.region_code == LUCHENG and bound.purpose is GroupPurpose.WARNINGS
    audit = await bot_stage.services.storage.audit.list(action_prefix="group.bound")
    assert [event.actor_id for event in audit] == [11]

    # A forged region (another county) is refused on the server even though no button offered it.
    await staff.send_text("/bindgroup", chat=group)
    await staff.press("✏️ 更改绑定", chat=group)
    await staff.press("鹿城区", chat=group)
    await staff.press_data(staff.last_message(chat=group), "bind:purpose:330303:general")
    assert "超出了您的负责范围" in staff.last_message(chat=group).text
    still = await bot_stage.services.storage.groups.get(-1002)
    assert still is not None and still.region_code == LUCHENG


async def test_a_city_admin_binds_a_forum_topic_in_english(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    admin = sandbox.user(user_id=12, first_name="Ada", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    group = sandbox.group(chat_id=-1003, title="Wenzhou bureau", is_forum=True)
    group.add(admin)
    await admin.send_text("/bindgroup", chat=group)
    labels = [label for row in admin.last_message(chat=group).buttons for label in row]
    assert "Wenzhou" in labels[0] and "Longgang City" in labels
    await admin.press(labels[0], chat=group)
    await admin.press("General (all notices)", chat=group)
    assert "This group is now bound to" in admin.last_message(chat=group).text


async def test_county_staff_cannot_take_over_a_group_another_county_bound(bot_stage: Stage) -> None:
    """A Longwan clerk in Lucheng's work group used to rebind it to Longwan in two taps: Lucheng's warnings and
    notices stopped arriving there, and nobody in Lucheng was told."""
    sandbox = bot_stage.sandbox
    lucheng = sandbox.user(user_id=13, first_name="鹿", language_code="zh-hans")
    longwan = sandbox.user(user_id=14, first_name="Long", language_code="en")
    admin = sandbox.user(user_id=15, first_name="市", language_code="zh-hans")
    await bot_stage.register(lucheng, Role.COUNTY, region=LUCHENG)
    await bot_stage.register(longwan, Role.COUNTY, region=LONGWAN)
    await bot_stage.register(admin, Role.CITY)
    group = sandbox.group(chat_id=-1004, title="鹿城区工作群")
    for person in (lucheng, longwan, admin):
        group.add(person)
    await lucheng.send_text("/bindgroup", chat=group)
    await lucheng.press("鹿城区", chat=group)
    await lucheng.press("预警发布", chat=group)

    await longwan.send_text("/bindgroup", chat=group)
    assert "another county" in longwan.last_message(chat=group).text
    assert longwan.last_message(chat=group).buttons == []
    # Nor by a button forged from the region question of another group.
    await longwan.press_data(lucheng.last_message(chat=group), "bind:purpose:330303:general")
    storage = bot_stage.services.storage
    bound = await storage.groups.get(-1004)
    assert bound is not None and bound.region_code == LUCHENG and bound.purpose is GroupPurpose.WARNINGS
    refused = await storage.audit.list(action_prefix="authz.refused")
    assert {event.actor_id for event in refused} == {14}

    # Its own county's staff and the city admins still change it.
    await admin.send_text("/bindgroup", chat=group)
    await admin.press("✏️ 更改绑定", chat=group)
    await admin.press("龙湾区", chat=group)
    await admin.press("综合", chat=group)
    moved = await storage.groups.get(-1004)
    assert moved is not None and moved.region_code == LONGWAN


async def test_commands_of_the_private_chat_typed_in_a_bound_group_point_there(bot_stage: Stage) -> None:
    """In a bound group /tasks, /institution 福利院 or /people got no answer at all (an unbound group at least said
    it was unbound): the journeys answer only in the private chat. Now one line says so, with a button to it, in the
    person's language if registered (else the city's); chatter and other bots' commands still get nothing."""
    sandbox = bot_stage.sandbox
    staff = sandbox.user(user_id=21, first_name="县", language_code="zh-hans")
    cadre = sandbox.user(user_id=22, first_name="Li", language_code="en")
    stranger = sandbox.user(user_id=23, first_name="Zed", language_code="en")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    # An administrator bot hears everything said in the group, other bots' commands included.
    group = sandbox.group(chat_id=-1021, title="鹿城区工作群", bot_status="administrator")
    group.add(staff, cadre, stranger)
    await staff.send_text("/bindgroup", chat=group)
    await staff.press("鹿城区", chat=group)
    await staff.press("综合（全部通知）", chat=group)
    bound = len(staff.messages(chat=group))

    await staff.send_text("/tasks", chat=group)
    pointer = staff.last_message(chat=group)
    assert pointer.text == "请私聊机器人使用 /tasks。"
    assert pointer.buttons == [["💬 私聊机器人"]]
    assert pointer.stored.inline_keyboard[0][0]["url"] == f"https://t.me/{sandbox.bot_username}"
    await cadre.send_text(f"/institution@{sandbox.bot_username} 福利院", chat=group)
    assert cadre.last_message(chat=group).text == "Please use /institution in your private chat with the bot."
    await stranger.send_text("/people", chat=group)
    assert stranger.last_message(chat=group).text == "请私聊机器人使用 /people。"
    answered = len(staff.messages(chat=group))
    assert answered == bound + 3

    # Chatter, another bot's command, a slash inside a sentence: nothing.
    await cadre.send_text("大家好", chat=group)
    await cadre.send_text("/tasks@other_bot", chat=group)
    await cadre.send_text("请看 /tasks", chat=group)
    assert len(staff.messages(chat=group)) == answered

    # What a group does answer still answers as before.
    await cadre.send_text("/help", chat=group)
    assert "请私聊" not in cadre.last_message(chat=group).text
    await staff.send_text("/bindgroup", chat=group)
    assert staff.last_message(chat=group).buttons == [["✏️ 更改绑定", "🔓 解除绑定"], ["取消"]]
    await staff.send_text("/cancel", chat=group)  # the group's own flow, cancelled there, not pointed away
    assert staff.last_message(chat=group).text == "已取消。"


async def test_a_group_is_pointed_to_the_private_chat_once_per_command_in_five_minutes(bot_stage: Stage) -> None:
    """A warning arrived and ten people typed /report in the work group within a minute: the group got ten identical
    replies. Now one per command per five minutes, remembered across a restart; a registered person typing it within
    the window hears it in their private chat, once, and a stranger (who has no such chat) nothing more."""
    sandbox = bot_stage.sandbox
    staff = sandbox.user(user_id=31, first_name="县", language_code="zh-hans")
    cadre = sandbox.user(user_id=32, first_name="Li", language_code="en")
    stranger = sandbox.user(user_id=33, first_name="Zed")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    group = sandbox.group(chat_id=-1031, title="鹿城区工作群")
    group.add(staff, cadre, stranger)
    await staff.send_text("/bindgroup", chat=group)
    await staff.press("鹿城区", chat=group)
    await staff.press("综合（全部通知）", chat=group)

    def pointers() -> list[str]:
        return [m.text for m in group.messages() if m.text.startswith(("请私聊", "Please use"))]

    await staff.send_text("/report", chat=group)
    assert pointers() == ["请私聊机器人使用 /report。"]
    in_private = len(cadre.messages())
    await cadre.send_text("/report", chat=group)
    await cadre.send_text("/report", chat=group)  # again: nothing more anywhere
    await stranger.send_text("/report", chat=group)
    assert pointers() == ["请私聊机器人使用 /report。"]
    assert [m.text for m in cadre.messages()[in_private:]] == [
        "You typed /report in the group “鹿城区工作群”: it works only here, in your private chat with the bot, so send "
        "/report here. The group was shown this a moment ago, so the bot did not repeat it there."
    ]
    await cadre.send_text("/tasks", chat=group)  # another command has its own reply
    assert pointers() == ["请私聊机器人使用 /report。", "Please use /tasks in your private chat with the bot."]

    await bot_stage.restart()  # the window is kept in SQLite
    bot_stage.clock.set(bot_stage.clock.now() + timedelta(minutes=4, seconds=59))
    await stranger.send_text("/report", chat=group)
    assert len(pointers()) == 2
    bot_stage.clock.set(bot_stage.clock.now() + timedelta(seconds=1))
    await stranger.send_text("/report", chat=group)
    assert pointers()[2:] == ["请私聊机器人使用 /report。"]
    assert len(cadre.messages()) == in_private + 1


async def test_each_forum_topic_is_pointed_once_for_itself(bot_stage: Stage) -> None:
    """In a forum the reply is posted in the topic the command was typed in, unseen from the others: each topic has
    its own window."""
    sandbox = bot_stage.sandbox
    staff = sandbox.user(user_id=34, first_name="县", language_code="zh-hans")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    forum = sandbox.group(chat_id=-1034, title="鹿城区民政论坛", is_forum=True)
    forum.add(staff)
    forum.add_topic("隐患", 5)
    forum.add_topic("预警", 7)
    await staff.send_text("/bindgroup", chat=forum)
    await staff.press("鹿城区", chat=forum)
    await staff.press("综合（全部通知）", chat=forum)
    for topic in (5, 7, 5):
        await staff.send_text("/report", chat=forum, topic=topic)
    pointed = [m.stored.thread_id for m in forum.messages() if m.text.startswith("请私聊")]
    assert pointed == [5, 7]


async def test_a_message_to_the_bot_in_a_bound_group_is_pointed_to_the_private_chat(bot_stage: Stage) -> None:
    """"@bot 楼道里堆满纸箱", a reply to the bot's message, a photo captioned "@bot 楼道堆放杂物" in the work
    group got no answer at all, as if the bot were down. Now they get the commands' pointer, under the same
    five-minute window (within it a registered sender hears it in private); the photo is offered in the sender's
    private chat, ready to report. Chatter still gets nothing."""
    people = await cast(bot_stage)
    cadre, staff, group = people.cadre, people.staff, people.group
    stranger = bot_stage.sandbox.user(user_id=77, first_name="Zed")
    group.add(cadre, stranger)
    bot = bot_stage.sandbox.bot_username

    def lines() -> list[str]:
        return [m.text for m in group.messages()]

    await cadre.send_text("楼道里堆满纸箱，大家注意", chat=group)  # chatter, not to the bot
    assert lines() == []
    await cadre.send_text(f"@{bot} 楼道里堆满纸箱，消防通道堵了", chat=group)
    pointer = group.last_message()
    assert pointer.text == ("机器人不处理群里的消息。上报隐患、查看任务等请私聊机器人：发送 /report 上报，"
                            "或直接把照片发给机器人。")
    assert pointer.buttons == [["💬 私聊机器人"]]

    # Within the window: the group is not answered again; the registered sender hears it in private, once.
    in_private = len(cadre.messages())
    await cadre.send_text(f"@{bot} 楼道里堆满纸箱", chat=group)
    await stranger.send_text(f"@{bot} 你好", chat=group)
    assert len(lines()) == 1
    assert [m.text for m in cadre.messages()[in_private:]] == [
        "您在群“鹿城区隐患通报群”中@了机器人或向机器人发了照片、文件：机器人不处理群里的消息，"
        "请在这里（与机器人的私聊中）发送 /report 上报隐患，或直接发送照片。"
        "群里刚刚已有同样的提示，为免刷屏没有再回复。"
    ]

    # A photo sent to the bot there is offered in private, and reporting with it carries it into the report.
    await cadre.send_photo(caption=f"@{bot} 楼道堆放杂物堵塞消防通道", chat=group)
    offer = cadre.last_message()
    assert offer.text == ("您在群“鹿城区隐患通报群”中发给机器人的照片已转到这里（机器人不处理群里的消息）。"
                          "\n\n要用这张照片上报隐患吗？")
    assert len(cadre.messages()) == in_private + 2  # the offer says where it came from: no second note
    await cadre.press("📝 上报隐患")
    assert "已附上这张照片" in "\n".join(m.text for m in cadre.messages()[-3:])

    # Past the window the group is answered again.
    bot_stage.clock.set(bot_stage.clock.now() + timedelta(minutes=5))
    await staff.send_text(f"@{bot} 收到", chat=group)
    assert len(lines()) == 2 and lines()[1] == pointer.text
    await cadre.send_text("大家好", chat=group)
    assert len(lines()) == 2


async def test_a_text_reply_to_the_bots_post_is_talk_in_the_group_and_a_photo_reply_is_for_the_bot(
    bot_stage: Stage,
) -> None:
    """A head answering the bot's post in the group with "收到，马上处理" was written to privately: "您在群…中@了机器人
    或回复了机器人…". That reply is for the group, not a request to the bot: it gets nothing, in the group or in
    private, as chatter does. A reply that carries a photo shows the bot something to report: it gets the pointer,
    and the photo is offered in the private chat."""
    people = await cast(bot_stage)
    cadre, group = people.cadre, people.group
    group.add(cadre)
    bot = bot_stage.sandbox.bot_username
    await cadre.send_text(f"@{bot} 在吗", chat=group)  # a post of the bot's in the group, to answer
    post = group.last_message()
    in_group, in_private = len(group.messages()), len(cadre.messages())
    bot_stage.clock.set(bot_stage.clock.now() + timedelta(minutes=5))  # past the pointer's window

    await cadre.send_text("收到，马上处理", chat=group, reply_to=post)
    assert len(group.messages()) == in_group and len(cadre.messages()) == in_private

    await cadre.send_photo(caption="楼道堆放杂物", chat=group, reply_to=post)
    assert group.last_message().text.startswith("机器人不处理群里的消息")
    assert cadre.last_message().text.startswith("您在群“鹿城区隐患通报群”中发给机器人的照片已转到这里")


async def test_a_photo_sent_to_the_bot_in_a_group_is_offered_in_private_without_a_second_note(bot_stage: Stage) -> None:
    """Another member's "@bot" had the group answered; within the window the cadre's photo to the bot is offered in his
    private chat. The offer says where it came from: the "you @-mentioned the bot in the group" note under it said
    the same again."""
    people = await cast(bot_stage)
    cadre, group = people.cadre, people.group
    stranger = bot_stage.sandbox.user(user_id=77, first_name="Zed")
    group.add(cadre, stranger)
    bot = bot_stage.sandbox.bot_username
    await stranger.send_text(f"@{bot} 你好", chat=group)
    assert len(group.messages()) == 1
    before = len(cadre.messages())

    await cadre.send_photo(caption=f"@{bot} 楼道堆放杂物堵塞消防通道", chat=group)
    said = [m.text for m in cadre.messages()[before:]]
    assert len(said) == 1 and said[0].endswith("要用这张照片上报隐患吗？")
    assert len(group.messages()) == 1
