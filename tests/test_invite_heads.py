"""/invite for a head: the institutions with no head come first, marked, and a clerk may type part of a name to find
one, as /institution finds it. Driven through the emulator as people would."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from storage.models import InstitutionType, NewInstitution
from tests.hazard_people import LUCHENG, STAFF, cast, long_named_centres, report
from tests.test_onboarding import link_token
from tests.warning_people import drain

NANHUI = "WZ-330302-ELDER-02"  # 鹿城区南汇街道居家养老服务中心: no head in the cast


def labels(message: BotMessage) -> list[str]:
    return [label for row in message.buttons for label in row]


async def head_of(stage: Stage, person: SimUser, token: str) -> str:
    """The code of the institution that `person`, registering with the link, becomes head of."""
    await person.send_text(f"/start {token}")
    user = await stage.services.storage.users.get(person.id)
    assert user is not None and user.institution_id is not None, person.last_message().text
    institution = await stage.services.storage.institutions.get(user.institution_id)
    assert institution is not None
    return institution.code


async def test_the_homes_with_no_head_come_first_marked_and_counted(bot_stage: Stage) -> None:
    people = await cast(bot_stage)  # 鹿城区社会福利院 has its head; 南汇 has none
    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    picker = people.staff.last_message()
    assert picker.buttons == [["⚠️ 鹿城区南汇街道居家养老服务中心"], ["鹿城区社会福利院"], ["取消"]]
    assert "⚠️ 表示尚无负责人的机构，共 1 家" in picker.text
    assert "发送机构名称中的一段" in picker.text  # typing is said to work
    await people.staff.press("⚠️ 鹿城区南汇街道居家养老服务中心")
    newcomer = bot_stage.sandbox.user(user_id=90, first_name="新院长")
    assert await head_of(bot_stage, newcomer, link_token(people.staff.last_message().text)) == NANHUI

    # Now every home has its head: nothing is marked, and no count line is shown.
    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    picker = people.staff.last_message()
    assert picker.buttons == [["鹿城区社会福利院"], ["鹿城区南汇街道居家养老服务中心"], ["取消"]]
    assert "⚠️" not in picker.text


async def test_paging_keeps_the_head_less_first(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await long_named_centres(bot_stage, LUCHENG, count=10)  # 11 head-less homes and one with a head
    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    first = people.staff.last_message()
    assert "共 11 家" in first.text
    assert all(label.startswith("⚠️ ") for label in labels(first)[:8])
    await people.staff.press("下一页", first)
    second = labels(people.staff.last_message())
    assert [label.startswith("⚠️ ") for label in second[:4]] == [True, True, True, False]
    assert second[3] == "鹿城区社会福利院"


async def test_typing_part_of_a_name_with_one_match_makes_the_invitation(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    await people.staff.send_text("南汇")
    created = people.staff.last_message().text
    assert "鹿城区南汇街道居家养老服务中心" in created
    newcomer = bot_stage.sandbox.user(user_id=90, first_name="新院长")
    assert await head_of(bot_stage, newcomer, link_token(created)) == NANHUI


async def test_several_matches_narrow_the_picker_and_page_across_a_restart(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    await long_named_centres(bot_stage, LUCHENG, count=20)
    staff = people.staff
    await staff.send_text("/invite")
    await staff.press("机构负责人")
    await staff.send_text("照料中心")
    found = staff.last_message()
    assert "名称含“照料中心”的机构共 20 家（第 1/3 页）" in found.text and "共 20 家" in found.text
    first = labels(found)[:8]
    assert all(label.startswith("⚠️ 鹿城区五马街道第") and label.endswith("照料中心") for label in first)
    assert labels(found)[8:] == ["下一页 ▶", "取消"]

    await bot_stage.restart()
    await staff.press("下一页", found)
    page = staff.last_message()
    assert "第 2/3 页" in page.text
    second = labels(page)[:8]
    assert all(label.startswith("⚠️ 鹿城区五马街道第") for label in second) and not set(first) & set(second)

    # A later search replaces it: the older list's buttons say so, and show nothing of the new one.
    await staff.send_text("第1")  # 第1, 第10 … 第19
    later = staff.last_message()
    assert "名称含“第1”的机构共 11 家" in later.text
    before = page.text
    await staff.press("下一页", page)
    refused = staff.answers()[-1]
    assert refused.show_alert and "之前一次查找" in (refused.text or "")
    assert page.text == before and staff.last_message().message_id == later.message_id

    await staff.press("⚠️ 鹿城区五马街道第12居家养老服务照料中心", later)
    newcomer = bot_stage.sandbox.user(user_id=90, first_name="新院长")
    assert await head_of(bot_stage, newcomer, link_token(staff.last_message().text)) == "WZ-330302-CARE-12"


async def test_no_match_says_so_and_the_step_keeps_waiting(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    staff = people.staff
    await staff.send_text("/invite")
    await staff.press("机构负责人")
    await staff.send_text("不存在的机构")
    assert "没有名称含“不存在的机构”的在册机构" in staff.last_message().text
    await staff.send_text("龙湾")  # another county's homes are not found either
    assert "没有名称含“龙湾”的在册机构" in staff.last_message().text
    await staff.send_text("福")  # one character is not enough
    assert "至少输入机构名称中的 2 个字" in staff.last_message().text
    await staff.send_text("南汇")
    newcomer = bot_stage.sandbox.user(user_id=90, first_name="新院长")
    assert await head_of(bot_stage, newcomer, link_token(staff.last_message().text)) == NANHUI


async def test_an_english_clerk_and_names_with_markup_characters(bot_stage: Stage) -> None:
    people = await cast(bot_stage, language="en")
    storage = bot_stage.services.storage
    for n in (1, 2):
        await storage.institutions.upsert(NewInstitution(
            code=f"WZ-330302-SUN-{n:02}", name_zh=f"鹿城区<阳光&康乐>之家{n}", name_en=f"Sun & <Joy> Home {n}",
            type=InstitutionType.ELDERLY_CARE, region_code=LUCHENG))
    staff = people.staff
    await staff.send_text("/invite")
    await staff.press("Institution head")
    picker = staff.last_message()
    assert labels(picker)[:4] == [
        "⚠️ Sun & <Joy> Home 1", "⚠️ Sun & <Joy> Home 2", "⚠️ Nanhui Subdistrict Home-Care Service Centre",
        "Lucheng District Social Welfare Home",
    ]
    assert "type part of its name" in picker.text and "3 institutions with no head" in picker.text

    await staff.send_text("& <joy")
    found = staff.last_message()
    assert '2 institutions have "& <joy" in their name' in found.text
    assert labels(found) == ["⚠️ Sun & <Joy> Home 1", "⚠️ Sun & <Joy> Home 2", "Cancel"]
    await staff.send_text("nowhere")
    assert 'No active institution in your scope has "nowhere" in its name' in staff.last_message().text
    await staff.send_text("<Joy> Home 2")
    created = staff.last_message().text
    assert "Sun & <Joy> Home 2" in created
    newcomer = bot_stage.sandbox.user(user_id=90, first_name="New", language_code="en")
    assert await head_of(bot_stage, newcomer, link_token(created)) == "WZ-330302-SUN-02"


async def test_a_clerk_inviting_a_head_the_city_admin_invited_already_is_shown_that_invitation(
    bot_stage: Stage,
) -> None:
    people = await cast(bot_stage)
    admin = bot_stage.sandbox.user(user_id=91, first_name="王局长", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)
    await admin.send_text("/invite")
    await admin.press("机构负责人")
    await admin.send_text("南汇")
    first = link_token(admin.last_message().text)

    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    await people.staff.press("⚠️ 鹿城区南汇街道居家养老服务中心")
    shown = people.staff.last_message()
    assert link_token(shown.text) == first
    assert "已有一个尚未使用的邀请" in shown.text and "由王局长于" in shown.text
    assert shown.buttons == [["🆕 另发一个新邀请"]]

    # Expired: the next one asked for is new.
    bot_stage.clock.set(bot_stage.clock.now() + timedelta(hours=73))
    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    await people.staff.send_text("南汇")
    made = people.staff.last_message().text
    assert "已生成邀请（鹿城区南汇街道居家养老服务中心的机构负责人）" in made and link_token(made) != first


async def test_other_roles_invited_twice_get_two_invitations(bot_stage: Stage) -> None:
    """Only a head's post is one per institution: cadres of a county are many, each with their own link."""
    people = await cast(bot_stage)
    tokens = []
    for _ in range(2):
        await people.staff.send_text("/invite")
        await people.staff.press("社区/村干部")
        tokens.append(link_token(people.staff.last_message().text))
    assert tokens[0] != tokens[1]


async def test_the_maker_hears_who_used_the_invitation_and_who_tried_it_after(bot_stage: Stage) -> None:
    """A link forwarded to the wrong person: 错人 registered as the home's head, the real head was told the link was
    used, and the clerk who made it learned nothing; the home's hazard notices went to 错人. Now the maker hears of
    the registration, and of each other person who opens the used link, once each, through the outbox."""
    people = await cast(bot_stage)
    staff = people.staff
    await staff.send_text("/invite")
    await staff.press("机构负责人")
    await staff.press("⚠️ 鹿城区南汇街道居家养老服务中心")
    token = link_token(staff.last_message().text)
    told = len(staff.messages())

    wrong = bot_stage.sandbox.user(user_id=91, first_name="错人", username="cuoren")
    await head_of(bot_stage, wrong, token)
    await drain(bot_stage)
    assert [m.text for m in staff.messages()[told:]] == [
        "✅ 错人（@cuoren）已通过您生成的邀请注册为鹿城区南汇街道居家养老服务中心的机构负责人。"
        "如不是本人，请在 /people 中停用。"
    ]

    real = bot_stage.sandbox.user(user_id=92, first_name="张三", username="zhang")
    await real.send_text(f"/start {token}")
    assert "已经被使用过了" in real.last_message().text
    await real.send_text(f"/start {token}")  # opened twice: the clerk is told once
    await drain(bot_stage)
    used_at = bot_stage.clock.now().astimezone(bot_stage.settings.tz).strftime("%Y-%m-%d %H:%M")
    news = [m.text for m in staff.messages()[told + 1:]]
    assert news == [
        "⚠️ 有人（张三，@zhang）尝试使用您为鹿城区南汇街道居家养老服务中心机构负责人生成的邀请链接，"
        f"但该链接已由错人于 {used_at} 使用。如有误，请在 /people 停用错人并重新邀请。"
    ]
    refused = await bot_stage.services.storage.audit.list(action_prefix="invite.refused")
    assert [(e.actor_id, e.target, e.detail["maker_told"]) for e in refused] == [(92, "user:91", STAFF)] * 2

    # An invitation made on the command line has no maker in Telegram: nobody is told.
    cli_token = await bot_stage.invite_token(Role.CADRE, region=LUCHENG)
    await bot_stage.sandbox.user(user_id=93, first_name="甲").send_text(f"/start {cli_token}")
    await bot_stage.sandbox.user(user_id=94, first_name="乙").send_text(f"/start {cli_token}")
    await drain(bot_stage)
    assert len(staff.messages()) == told + 2

    # A maker who has left hears no more of their invitations: the county's people are no longer theirs to know.
    admin = bot_stage.sandbox.user(user_id=95, first_name="王局长")
    await bot_stage.register(admin, Role.CITY)
    city = await bot_stage.services.storage.users.get(95)
    assert city is not None
    await bot_stage.services.people.deactivate(city, STAFF)
    await drain(bot_stage)
    left = len(staff.messages())
    await bot_stage.sandbox.user(user_id=96, first_name="丙").send_text(f"/start {token}")
    await drain(bot_stage)
    assert len(staff.messages()) == left


async def test_a_new_head_is_welcomed_with_the_hazards_waiting_at_the_home(bot_stage: Stage) -> None:
    """A head invited to a home with hazards open heard only "registered": the hazards came up at the next reminder."""
    await cast(bot_stage)
    await report(bot_stage, institution=NANHUI)
    newcomer = bot_stage.sandbox.user(user_id=95, first_name="新院长")
    await head_of(bot_stage, newcomer, await bot_stage.invite_token(Role.HEAD, institution=NANHUI))
    welcome = newcomer.messages()[0].text
    assert welcome.startswith("✅ 注册成功！")
    assert welcome.splitlines()[1] == "本机构有 1 条待整改隐患，发送 /tasks 查看。"

    english = bot_stage.sandbox.user(user_id=96, first_name="Ann", language_code="en")
    await head_of(bot_stage, english, await bot_stage.invite_token(Role.HEAD, institution=NANHUI))
    assert english.messages()[0].text.splitlines()[1] == (
        "Your institution has 1 hazard awaiting rectification: send /tasks to see it.")

    # A home with nothing open: the welcome as before.
    quiet = NewInstitution(code="WZ-330302-QUIET", name_zh="鹿城区静园", name_en="Lucheng Quiet Home",
                           type=InstitutionType.ELDERLY_CARE, region_code=LUCHENG)
    await bot_stage.services.storage.institutions.upsert(quiet)
    calm = bot_stage.sandbox.user(user_id=97, first_name="静院长")
    await head_of(bot_stage, calm, await bot_stage.invite_token(Role.HEAD, institution="WZ-330302-QUIET"))
    assert "待整改" not in calm.messages()[0].text
