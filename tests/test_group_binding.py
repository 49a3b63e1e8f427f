"""A work group's binding seen, changed, ended and restored from the group itself, as staff and members do it."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.sandbox.driver import SimGroup, SimUser
from bot.sandbox.objects import bot_json, chat_json, user_json
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from storage.models import GroupPurpose
from tests.calendar_people import local
from tests.hazard_people import GROUP, LUCHENG, OTHER_STAFF, STAFF, cast, report
from tests.warning_people import drain

RULE = "本群收到的通知和预警统一使用本局的工作语言（中文）。"


def shown(group: SimGroup, message_id: int) -> BotMessage:
    """The bot's message in the group as it reads now (edited or not)."""
    return next(m for m in group.messages() if m.message_id == message_id)


async def bot_added_back(stage: Stage, group: SimGroup, by: SimUser) -> None:
    """An admin adds the bot back to a group it was removed from (Telegram's my_chat_member left → member)."""
    world = stage.sandbox.world
    group.state.bot_status = "member"
    bot = bot_json(world)
    stage.sandbox.queue_update("my_chat_member", {
        "chat": chat_json(world, group.state), "from": user_json(by.state), "date": world.now(),
        "old_chat_member": {"status": "left", "user": bot}, "new_chat_member": {"status": "member", "user": bot},
    }, f"{by.name} added the bot back to {group.title}")
    await stage.sandbox.settle()


async def test_staff_see_the_binding_and_end_it_the_county_is_told_and_no_alarm_is_raised(bot_stage: Stage) -> None:
    """周科长 wanted the bot to stop posting to the group but stay in it: /bindgroup offered only the four purposes,
    /unbindgroup was answered "use it in the private chat", where no such command existed, and removing the bot sent
    the county the loss alarm. Now /bindgroup shows the binding (who bound it, when) with 🔓 解除绑定, which asks
    first; the group and the county's other staff are told; nothing more goes to the group."""
    bot_stage.clock.set(local(2026, 12, 1, 10))
    people = await cast(bot_stage)
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    staff, group = people.staff, people.group
    group.add(people.cadre)

    await people.cadre.send_text("/unbind", chat=group)  # no such command: said so, not sent to the private chat
    assert group.last_message().text.startswith("没有 /unbind 这个命令")
    assert group.last_message().buttons == []

    await staff.send_text("/bindgroup", chat=group)
    shown = group.last_message()
    assert shown.text == ("本群当前绑定：鹿城区 · 隐患通知（周科长于 2026-12-01 10:00 绑定）。\n"
                          "要更改还是解除这个绑定？")
    assert shown.buttons == [["✏️ 更改绑定", "🔓 解除绑定"], ["取消"]]
    await staff.press("🔓 解除绑定", chat=group)
    asked = group.last_message()
    assert asked.text.startswith("确定解除本群的绑定（鹿城区 · 隐患通知")
    assert asked.buttons == [["🔓 确认解除"], ["取消"]]
    assert (await bot_stage.services.storage.groups.get(GROUP)).active  # type: ignore[union-attr]  # not yet
    await staff.press("🔓 确认解除", chat=group)
    assert group.last_message().text.startswith("🔓 本群已解除绑定（原为 鹿城区 · 隐患通知），操作人：周科长。")
    await drain(bot_stage)

    told = colleague.last_message().text
    assert told == ("ℹ️ 工作群「鹿城区隐患通报群」的绑定（鹿城区 · 隐患通知）已由周科长解除，"
                    "今后的隐患通知和预警不会再发到该群。")
    assert not any("机器人已被移出" in m.text for m in colleague.messages())
    ended = await bot_stage.services.storage.groups.get(GROUP)
    assert ended is not None and not ended.active and ended.ended == "unbound"
    audit = await bot_stage.services.storage.audit.list(action_prefix="group.unbound")
    assert [event.actor_id for event in audit] == [STAFF]

    posted = len(group.messages())
    await report(bot_stage)
    await drain(bot_stage)
    assert len(group.messages()) == posted  # the hazard notice no longer goes there

    # /unbindgroup in a group with nothing bound says so; in the private chat, where to send it.
    await staff.send_text("/unbindgroup", chat=group)
    assert "本群尚未绑定" in group.last_message().text
    await staff.send_text("/unbindgroup")
    assert staff.last_message().text == "请在要解除绑定的工作群（或话题）里发送 /unbindgroup。"


async def test_unbindgroup_asks_first_and_a_rebind_names_the_binding_it_replaces(bot_stage: Stage) -> None:
    """A city admin rebinding Lucheng's hazards group to 温州市 · 综合 silently stopped Lucheng's hazard notices
    there, and Lucheng's staff were not told. Now the confirmation names the binding it replaces, its earlier
    confirmation says it no longer holds, and the staff of the old binding's county (its binder among them) hear it."""
    bot_stage.clock.set(local(2026, 12, 1, 10))
    people = await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=60, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    staff, group = people.staff, people.group
    group.add(admin)

    await staff.send_text("/bindgroup", chat=group)
    await staff.press("✏️ 更改绑定", chat=group)
    await staff.press("鹿城区", chat=group)
    await staff.press("综合（全部通知）", chat=group)
    first = group.last_message()
    assert first.text == ("✅ 本群已绑定：鹿城区，用途：综合（全部通知）。\n"
                          "原绑定：鹿城区 · 隐患通知（周科长于 2026-12-01 10:00 绑定），已被取代。\n" + RULE)

    bot_stage.clock.set(local(2026, 12, 2, 9))
    await admin.send_text("/unbindgroup", chat=group)
    assert group.last_message().buttons == [["🔓 确认解除"], ["取消"]]
    await admin.press("取消", chat=group)
    await admin.send_text("/bindgroup", chat=group)
    await admin.press("✏️ 更改绑定", chat=group)
    await admin.press("温州市", chat=group)
    await admin.press("综合（全部通知）", chat=group)
    replaced = "原绑定：鹿城区 · 综合（全部通知）（周科长于 2026-12-01 10:00 绑定），已被取代。"
    assert replaced in group.last_message().text
    # The earlier confirmation, still in the chat, no longer claims a binding that has gone.
    assert shown(group, first.message_id).text == (
        "☑️ 本群曾绑定：鹿城区 · 综合（全部通知）。此绑定已于 2026-12-02 09:00 由王局长更改或解除，以下方的消息为准。")
    await drain(bot_stage)
    assert staff.last_message().text == (
        "ℹ️ 工作群「鹿城区隐患通报群」的绑定已由王局长更改：原为 鹿城区 · 综合（全部通知），"
        "现为 温州市 · 综合（全部通知）。"
        "原绑定的通知今后不再按原来的区域和用途发到该群。")
    audit = await bot_stage.services.storage.audit.list(action_prefix="group.bound")
    assert audit[-1].detail["replaced"]["region"] == LUCHENG


async def test_two_staff_binding_at_once_leave_one_binding_and_one_true_message(bot_stage: Stage) -> None:
    """周科长 and 吴科员 sent /bindgroup together: the group kept two contradicting "✅ 本群已绑定" messages, the second
    won and the first binder never knew. Strangers pressing their buttons were told "this button has expired, start
    again". Now the buttons say whose they are; the first choice binds, the other prompt says it is out of date, and
    a choice made on it anyway changes nothing and says what holds."""
    sandbox = bot_stage.sandbox
    zhou = sandbox.user(user_id=STAFF, first_name="周科长", language_code="zh-hans")
    wu = sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    stranger = sandbox.user(user_id=99, first_name="路人甲", language_code="zh-hans")
    await bot_stage.register(zhou, Role.COUNTY, region=LUCHENG)
    await bot_stage.register(wu, Role.COUNTY, region=LUCHENG)
    group = sandbox.group(chat_id=-1002, title="鹿城区民政工作群")
    group.add(zhou, wu, stranger)

    await zhou.send_text("/bindgroup", chat=group)
    zhous = group.last_message()
    await wu.send_text("/bindgroup", chat=group)
    wus = group.last_message()
    await stranger.press("鹿城区", zhous, chat=group)
    assert stranger.answers()[-1].text == "这些按钮属于发送 /bindgroup 的周科长，只有其本人可以操作。"
    await wu.press("鹿城区", zhous, chat=group)  # another clerk, with a prompt of their own open
    assert wu.answers()[-1].text == "这些按钮属于发送 /bindgroup 的周科长，只有其本人可以操作。"
    assert shown(group, zhous.message_id).text == "请选择本群对应的区域："  # untouched

    await zhou.press("鹿城区", zhous, chat=group)
    await wu.press("鹿城区", wus, chat=group)
    await zhou.press("综合（全部通知）", zhous, chat=group)
    assert shown(group, wus.message_id).text == (
        "⌛ 这条绑定提示已失效：周科长刚把本群绑定为 鹿城区 · 综合（全部通知）。如需再改，请重新发送 /bindgroup。")
    assert shown(group, wus.message_id).buttons == []
    await wu.press_data(wus, f"bind:purpose:{LUCHENG}:warnings", chat=group)  # pressed just before it was edited
    assert shown(group, wus.message_id).text.startswith(
        "⚠️ 未作更改：就在您操作时，本群的绑定已被更改，现为 鹿城区 · 综合")
    bound = await bot_stage.services.storage.groups.get(-1002)
    assert bound is not None and bound.purpose is GroupPurpose.GENERAL and bound.bound_by == STAFF
    assert [m.text for m in group.messages() if m.text.startswith("✅")] == [
        "✅ 本群已绑定：鹿城区，用途：综合（全部通知）。\n" + RULE]


async def test_help_says_what_the_chat_and_each_forum_topic_is_bound_for(bot_stage: Stage) -> None:
    """/help in a group gave the same line whatever it was bound for, and in a forum whose topics were bound, the
    general chat was told "本群尚未绑定", inviting a second binding. Now it lists each binding: region, purpose,
    who bound it and when, the reader's own topic marked; a member's /bindgroup shows the same."""
    bot_stage.clock.set(local(2026, 12, 1, 10))
    people = await cast(bot_stage)
    staff = people.staff
    forum = bot_stage.sandbox.group(chat_id=-1003, title="鹿城区民政论坛", is_forum=True)
    forum.add(staff, people.cadre)
    people.group.add(people.cadre)
    forum.add_topic("隐患", 7)
    forum.add_topic("预警", 8)
    for topic, purpose in ((7, "隐患通知"), (8, "预警发布")):
        await staff.send_text("/bindgroup", chat=forum, topic=topic)
        await staff.press("鹿城区", chat=forum)
        await staff.press(purpose, chat=forum)

    await people.cadre.send_text("/help", chat=forum)
    general = forum.last_message().text
    assert "本群尚未绑定" not in general
    assert general.startswith(
        "• 主聊天：未绑定\n"
        "• 话题（编号 7）：鹿城区 · 隐患通知（周科长于 2026-12-01 10:00 绑定）\n"
        "• 话题（编号 8）：鹿城区 · 预警发布（周科长于 2026-12-01 10:00 绑定）\n" + RULE)
    await people.cadre.send_text("/help", chat=forum, topic=7)
    assert "• 本话题（编号 7）：鹿城区 · 隐患通知" in forum.last_message().text

    await people.cadre.send_text("/help", chat=people.group)
    assert people.group.last_message().text.startswith("• 鹿城区 · 隐患通知（周科长于 2026-12-01 10:00 绑定）")
    await people.cadre.send_text("/bindgroup", chat=people.group)  # a member sent to "check the binding"
    assert people.group.last_message().text == (
        "此操作仅限县级民政工作人员和市局管理员。\n\n本群的绑定：\n"
        "• 鹿城区 · 隐患通知（周科长于 2026-12-01 10:00 绑定）")


async def test_added_back_after_a_removal_the_group_is_offered_its_binding_back(bot_stage: Stage) -> None:
    """Added back after the removal alarm, the bot had forgotten the binding and said "本群尚未绑定". Now the group
    is told what it was bound for, with ♻️ 恢复绑定 for staff, and the staff member who bound it gets the same button
    in private; one tap restores the same region and purpose, and the county hears it. A binding staff ended on
    purpose is not offered back."""
    bot_stage.clock.set(local(2026, 12, 1, 10))
    people = await cast(bot_stage)
    colleague = bot_stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await bot_stage.register(colleague, Role.COUNTY, region=LUCHENG)
    owner = bot_stage.sandbox.user(user_id=77, first_name="群主")
    group = people.group
    group.add(people.cadre, colleague)
    group.make_admin(owner)
    await group.remove_bot(by=owner)
    await drain(bot_stage)

    await bot_added_back(bot_stage, group, owner)
    offer = group.last_message()
    assert offer.text.startswith(
        "👋 机器人已回到本群。本群原先绑定：鹿城区 · 隐患通知（周科长于 2026-12-01 10:00 绑定）")
    assert offer.buttons == [["♻️ 恢复绑定"]]
    private = people.staff.last_message()
    assert private.text.startswith("👋 机器人已重新加入工作群「鹿城区隐患通报群」")
    assert private.buttons == [["♻️ 恢复绑定"]]

    await people.cadre.press("♻️ 恢复绑定", chat=group)  # not staff: nothing changes
    assert people.cadre.answers()[-1].text == "此操作仅限县级民政工作人员和市局管理员。"
    assert not (await bot_stage.services.storage.groups.get(GROUP)).active  # type: ignore[union-attr]
    await people.staff.press("♻️ 恢复绑定")  # from the private chat
    restored = await bot_stage.services.storage.groups.get(GROUP)
    assert restored is not None and restored.active and restored.purpose is GroupPurpose.HAZARDS
    assert group.last_message().text.startswith("♻️ 本群的绑定已恢复：鹿城区 · 隐患通知")
    await drain(bot_stage)
    assert colleague.last_message().text.startswith(
        "✅ 工作群「鹿城区隐患通报群」的绑定（鹿城区 · 隐患通知）已由周科长恢复")
    posted = len(group.messages())
    await report(bot_stage)
    await drain(bot_stage)
    assert len(group.messages()) == posted + 1  # the hazard notice reaches it again

    # Unbound on purpose, then removed and added back: nothing to offer, the usual "not bound" line.
    await people.staff.send_text("/unbindgroup", chat=group)
    await people.staff.press("🔓 确认解除", chat=group)
    await group.remove_bot(by=owner)
    await bot_added_back(bot_stage, group, owner)
    assert group.last_message().text.startswith("本群尚未绑定")


async def test_lang_in_a_group_says_group_posts_use_the_bureaus_language(bot_stage: Stage) -> None:
    """/lang in the group answered "Language switched to English" and the next post was Chinese all the same. A
    work group is read by everyone in it, so its posts stay in the bureau's language; /lang there says so and
    changes nothing, and the rule is said at binding."""
    people = await cast(bot_stage)
    wu = bot_stage.sandbox.user(user_id=44, first_name="Wu", language_code="en")
    await bot_stage.register(wu, Role.COUNTY, region=LUCHENG)
    people.group.add(wu)
    await wu.send_text("/lang", chat=people.group)
    said = people.group.last_message()
    assert said.text == (
        "The language setting applies to your own private chat with the bot, not to work groups. Notices and "
        "warnings in work groups are in the bureau's working language (Chinese).\nTo switch your own language, "
        "send /lang in your private chat with the bot.")
    assert said.buttons == []
    assert (await people.user(44)).language == "en"
