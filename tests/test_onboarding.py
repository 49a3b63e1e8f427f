"""Invite-only registration, roles, languages and menus, driven through the emulator as people would."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.roles import Role
from bot.stage import Stage
from handlers.menus import ROLE_COMMANDS
from tests.hazard_people import HEAD, HOME
from tests.small_city import without_english_name

LUCHENG, LONGWAN = "330302", "330303"


def link_token(text: str) -> str:
    match = re.search(r"https://t\.me/\w+\?start=([\w-]+)", text)
    assert match, text
    return match.group(1)


async def test_a_command_line_invitation_registers_the_first_city_admin(bot_stage: Stage) -> None:
    admin = bot_stage.sandbox.user(user_id=1, first_name="王", language_code="zh-hans")
    token = await bot_stage.invite_token(Role.CITY)
    await admin.send_text(f"/start {token}")
    assert "注册成功" in admin.messages()[0].text
    assert "市局管理员" in admin.messages()[0].text
    assert "/invite" in admin.last_message().text  # the role's help follows
    user = await bot_stage.services.storage.users.get(1)
    assert user is not None and user.role is Role.CITY and user.language == "zh_CN"
    registered = await bot_stage.services.storage.audit.list(action_prefix="user.registered")
    assert [event.actor_id for event in registered] == [1]


async def test_first_contact_follows_the_telegram_language(bot_stage: Stage) -> None:
    alice = bot_stage.sandbox.user(user_id=2, first_name="Alice", language_code="en-GB")
    await bot_stage.register(alice, Role.CADRE, region=LUCHENG)
    assert "You are registered" in alice.messages()[0].text
    assert "Community cadre" in alice.messages()[0].text and "Lucheng" in alice.messages()[0].text


async def test_a_stranger_is_turned_away_politely_and_nothing_is_stored(bot_stage: Stage) -> None:
    for user_id, language, expected in ((50, "zh-hans", "仅供受邀"), (51, "en", "invited civil-affairs staff only")):
        stranger = bot_stage.sandbox.user(user_id=user_id, first_name="Zed", language_code=language)
        await stranger.send_text("你好")
        assert expected in stranger.last_message().text
        await stranger.send_text("/invite")
        assert expected in stranger.last_message().text
        await stranger.send_photo()
        assert expected in stranger.last_message().text
        assert await bot_stage.services.storage.users.get(user_id) is None
    audit = await bot_stage.services.storage.audit.list(action_prefix="access.unregistered")
    assert {event.actor_id for event in audit} == {50, 51}
    assert all("你好" not in str(event.detail) for event in audit)


async def test_forged_used_and_expired_invitations_are_refused(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    forger = sandbox.user(user_id=60, first_name="F", language_code="zh-hans")
    await forger.send_text("/start AAAAAAAAAAAAAAAAAAAAAA")
    assert "邀请链接无效" in forger.last_message().text
    await forger.send_text("/start <script>")
    assert "邀请链接无效" in forger.last_message().text

    token = await bot_stage.invite_token(Role.CADRE, region=LUCHENG)
    first = sandbox.user(user_id=61, first_name="A")
    second = sandbox.user(user_id=62, first_name="B", language_code="en")
    await first.send_text(f"/start {token}")
    assert "注册成功" in first.messages()[0].text
    await second.send_text(f"/start {token}")
    assert "already been used" in second.last_message().text

    late = sandbox.user(user_id=63, first_name="C")
    token = await bot_stage.invite_token(Role.CADRE, region=LUCHENG)
    bot_stage.clock.advance(timedelta(hours=bot_stage.settings.invite_ttl_hours, seconds=1))
    await late.send_text(f"/start {token}")
    assert "已过期" in late.last_message().text
    assert await bot_stage.services.storage.users.get(63) is None
    refused = await bot_stage.services.storage.audit.list(action_prefix="invite.refused")
    assert [event.detail["reason"] for event in refused] == [
        "invite_unknown", "invite_unknown", "invite_used", "invite_expired"
    ]


async def test_a_city_admin_invites_a_cadre_with_buttons(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    admin = sandbox.user(user_id=1, first_name="Admin", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/invite")
    assert admin.last_message().buttons == [
        ["Community cadre"], ["Institution head"], ["County staff"], ["City administrator"], ["Cancel"]
    ]
    await admin.press("Community cadre")
    await admin.press("Longwan District")
    # The confirmation names the region the newcomer will work in, as a head's names their institution.
    assert admin.last_message().text.startswith("✅ Invitation created (Community cadre, Longwan District);")
    token = link_token(admin.last_message().text)
    newcomer = sandbox.user(user_id=70, first_name="New", language_code="zh-hans")
    await newcomer.send_text(f"/start {token}")
    user = await bot_stage.services.storage.users.get(70)
    assert user is not None and user.role is Role.CADRE and user.region_code == LONGWAN


async def test_an_invitation_made_names_the_region_it_is_for_in_chinese_too(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    admin = sandbox.user(user_id=1, first_name="王", language_code="zh-hans")
    staff = sandbox.user(user_id=3, first_name="县", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    await admin.send_text("/invite")
    await admin.press("县级民政工作人员")
    await admin.press("龙湾区")
    assert admin.last_message().text.startswith("✅ 已生成邀请（龙湾区的县级民政工作人员）")
    await admin.send_text("/invite")
    await admin.press("市局管理员")
    assert admin.last_message().text.startswith("✅ 已生成邀请（温州市的市局管理员）")
    # County staff are asked no region (a cadre of theirs works in their county), and are told it all the same.
    await staff.send_text("/invite")
    await staff.press("社区/村干部")
    assert staff.last_message().text.startswith("✅ 已生成邀请（鹿城区的社区/村干部）")


async def test_county_staff_invite_only_within_their_county(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    staff = sandbox.user(user_id=3, first_name="县", language_code="zh-hans")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    await staff.send_text("/invite")
    assert staff.last_message().buttons == [["社区/村干部"], ["机构负责人"], ["取消"]]
    await staff.press("机构负责人")
    storage = bot_stage.services.storage
    listed = [label for row in staff.last_message().buttons for label in row]
    own = await storage.institutions.in_scope(LUCHENG)
    assert own and all(any(institution.name_zh in label for label in listed) for institution in own[:8])
    others = await storage.institutions.in_scope(LONGWAN)
    assert others and not any(institution.name_zh in label for label in listed for institution in others)

    # A forged button naming another county's institution is refused and audited.
    await staff.press_data(staff.last_message(), f"invite:inst:{others[0].id}")
    assert staff.last_message().text == "找不到这家机构，或您无权查看。"  # as for no home at all
    refusals = await storage.audit.list(action_prefix="invite.")
    assert not any(event.action == "invite.created" and event.actor_id == 3 for event in refusals)

    await staff.send_text("/invite")
    await staff.press("机构负责人")
    await staff.press(own[0].name_zh)
    token = link_token(staff.last_message().text)
    head = sandbox.user(user_id=80, first_name="院长")
    await head.send_text(f"/start {token}")
    institution = await storage.institutions.get(own[0].id)
    assert institution is not None and institution.head_user_id == 80


async def test_cadres_and_heads_cannot_invite(bot_stage: Stage) -> None:
    cadre = bot_stage.sandbox.user(user_id=4, first_name="干部")
    await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    await cadre.send_text("/invite")
    assert "仅限县级民政工作人员和市局管理员" in cadre.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [event.actor_id for event in audit] == [4]


async def test_lang_switches_messages_and_the_command_menu(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    staff = sandbox.user(user_id=5, first_name="Zhou", language_code="zh-hans")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    menus = sandbox.commands_for(scope={"type": "chat", "chat_id": 5})
    assert [command["command"] for command in menus] == list(ROLE_COMMANDS[Role.COUNTY])
    invite = [command["command"] for command in menus].index("invite")
    assert menus[invite]["description"] == "邀请人员注册"
    await staff.send_text("/lang")
    await staff.press("English")
    assert staff.last_message().text == "Language switched to English."
    assert sandbox.commands_for(scope={"type": "chat", "chat_id": 5})[invite]["description"] == "Invite someone"
    await staff.send_text("/help")
    assert "invite people in your county" in staff.last_message().text
    await staff.send_text("/lang")
    await staff.press("中文")
    assert staff.last_message().text == "语言已切换为中文。"


async def test_default_menus_exist_in_both_languages_and_for_groups(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    english = sandbox.commands_for(scope={"type": "default"}, language_code="en")
    chinese = sandbox.commands_for(scope={"type": "default"}, language_code="zh")
    assert [c["command"] for c in english] == [c["command"] for c in chinese] == ["start", "help"]
    assert english[1]["description"] == "Help" and chinese[1]["description"] == "帮助"
    groups = sandbox.commands_for(scope={"type": "all_group_chats"}, language_code="zh")
    assert [c["command"] for c in groups] == ["bindgroup", "unbindgroup", "help"]


async def test_cancel_ends_a_flow_and_its_buttons_go_stale(bot_stage: Stage) -> None:
    admin = bot_stage.sandbox.user(user_id=1, first_name="A", language_code="en")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/invite")
    menu = admin.last_message()
    await admin.send_text("/cancel")
    assert admin.last_message().text == "Cancelled."
    await admin.press("Community cadre", message=menu)
    assert admin.answers()[-1].text == "This button is no longer valid. Please start again."
    await admin.send_text("/cancel")
    assert admin.last_message().text == "There is nothing to cancel."


async def test_unknown_input_gets_guidance_not_silence(bot_stage: Stage) -> None:
    cadre = bot_stage.sandbox.user(user_id=6, first_name="C", language_code="en")
    await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    await cadre.send_text("/nonsense")
    assert "There is no such command" in cadre.last_message().text
    await cadre.send_location(28.0, 120.6)
    assert "I did not understand" in cadre.last_message().text
    await cadre.press_data(cadre.last_message(), "forged:123")
    assert cadre.answers()[-1].text == "This button is no longer valid. Please start again."


async def test_html_in_names_reaches_telegram_escaped(bot_stage: Stage) -> None:
    sneaky = bot_stage.sandbox.user(user_id=7, first_name="<b>Bob</b> & <i", language_code="en")
    await bot_stage.register(sneaky, Role.CADRE, region=LUCHENG)
    registered = sneaky.messages()[0]
    assert "<b>Bob</b> & <i" in registered.text  # a person sees their name as they typed it
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; &lt;i" in (registered.html or "")


async def test_a_registered_person_opening_another_invitation_is_told_it_was_not_used(bot_stage: Stage) -> None:
    """A county clerk sends a head's invitation to someone already registered as a cadre: they used to read
    "welcome back" and their help, as if they now headed the home; they stayed a cadre and nobody knew."""
    storage = bot_stage.services.storage
    cadre = bot_stage.sandbox.user(user_id=8, first_name="陈", language_code="zh-hans")
    await bot_stage.register(cadre, Role.CADRE, region=LUCHENG)
    home = (await storage.institutions.in_scope(LUCHENG))[0]
    token = await bot_stage.invite_token(Role.HEAD, institution=home.code)
    await cadre.send_text(f"/start {token}")
    said = cadre.last_message().text
    assert "社区/村干部" in said and "未使用" in said, said
    user = await storage.users.get(8)
    assert user is not None and user.role is Role.CADRE
    invite = await storage.invites.get(token)
    assert invite is not None and invite.used_by is None  # still there for the person it was meant for
    refused = await storage.audit.list(action_prefix="invite.refused")
    assert [event.detail["reason"] for event in refused] == ["already_registered"]

    english = bot_stage.sandbox.user(user_id=9, first_name="Eve", language_code="en")
    await bot_stage.register(english, Role.CADRE, region=LONGWAN)
    await english.send_text(f"/start {token}")
    assert "not used" in english.last_message().text and "Community cadre" in english.last_message().text
    await english.send_text("/start")
    assert english.last_message().text.startswith("You can")  # a plain /start still greets and helps


async def test_each_menu_offers_what_its_help_lists_and_the_role_can_use(bot_stage: Stage) -> None:
    """County staff read "/drill log a drill for an institution in your county" in /help but found no /drill in
    their menu; city admins could log one too, and neither their help nor their menu said so."""
    sandbox = bot_stage.sandbox
    for number, role in enumerate((Role.COUNTY, Role.CITY)):
        for language, code in (("zh-hans", "zh_CN"), ("en", "en")):
            person = sandbox.user(user_id=80 + 2 * number + len(code), first_name="P", language_code=language)
            await bot_stage.register(person, role, region=LUCHENG if role is Role.COUNTY else None)
            menu = [c["command"] for c in sandbox.commands_for(scope={"type": "chat", "chat_id": person.id})]
            helped = re.findall(r"^/([a-z]+)", bot_stage.services.i18n.get(code).plain(f"help.{role.value}"), re.M)
            assert set(helped) == set(menu) and "drill" in menu, (role, language, menu, helped)
            await person.send_text("/drill")
            assert person.last_message().buttons, person.last_message().text  # it asks which institution
            await person.send_text("/cancel")


async def test_a_menu_installed_before_an_upgrade_is_brought_up_to_date(bot_stage: Stage) -> None:
    """Menus were set only at registration and at /lang: a command a new version added to a role (as /drill for
    county staff) never reached the menus of the people registered before it."""
    from telegram import BotCommand, BotCommandScopeChat

    sandbox = bot_stage.sandbox
    staff = sandbox.user(user_id=90, first_name="Zhou", language_code="en")
    await bot_stage.register(staff, Role.COUNTY, region=LUCHENG)
    scope = BotCommandScopeChat(chat_id=90)
    await bot_stage.application.bot.set_my_commands([BotCommand("report", "Report a hazard")], scope=scope)
    await bot_stage.restart()  # the new version starts
    await staff.send_text("/help")
    menu = sandbox.commands_for(scope={"type": "chat", "chat_id": 90})
    assert [command["command"] for command in menu] == list(ROLE_COMMANDS[Role.COUNTY])
    assert {command["command"]: command["description"] for command in menu}["invite"] == "Invite someone"
    calls = len(sandbox.calls_to("setMyCommands"))
    await staff.send_text("/help")
    assert len(sandbox.calls_to("setMyCommands")) == calls  # once a run, not at every message


async def test_an_english_head_of_a_home_with_no_english_name_is_told_its_chinese_name_as_their_scope(
    bot_stage: Stage,
) -> None:
    storage = bot_stage.services.storage
    home = await storage.institutions.get_by_code(HOME)
    assert home is not None
    await storage.institutions.upsert(without_english_name(home))  # as a city's data file may give it
    head = bot_stage.sandbox.user(user_id=HEAD, first_name="Chen", language_code="en")
    await bot_stage.register(head, Role.HEAD, institution=HOME)
    (registered,) = [m.text for m in head.messages() if "You are registered" in m.text]
    assert registered.splitlines()[0].endswith("scope: 鹿城区社会福利院.")  # not a blank where the scope goes
