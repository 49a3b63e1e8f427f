"""/report's and /drill's "which institution?" for a city admin: every institution of the city, a page at a time.

Before, both showed the first eight of the city's seventeen and no ▶, so the other nine could only be found by typing
part of a name (while /invite's head step turned its pages)."""

from __future__ import annotations

from bot.domain.roles import Role
from bot.i18n import local_name
from bot.sandbox.views import BotMessage
from bot.stage import Stage
from storage.models import InstitutionType, NewInstitution
from storage.repositories.calendar_drafts import CalendarDraftRepository, DrillDraft

LUCHENG, LONGWAN = "330302", "330303"
NAVIGATION = {"Next ▶", "◀ Previous", "下一页 ▶", "◀ 上一页", "Cancel", "取消"}


def listed(message: BotMessage) -> list[str]:
    """The institutions a picker shows: its buttons but the page turns and Cancel."""
    return [label for row in message.buttons for label in row if label not in NAVIGATION]


def turns(message: BotMessage) -> list[str]:
    return [label for row in message.buttons for label in row if label in NAVIGATION - {"Cancel", "取消"}]


async def test_a_city_admin_reports_on_an_institution_found_on_the_last_page(bot_stage: Stage) -> None:
    storage = bot_stage.services.storage
    city = [i for i in await storage.institutions.in_scope(None) if i.active]
    assert len(city) > 16  # three pages of eight
    admin = bot_stage.sandbox.user(user_id=1, first_name="Alice", language_code="en")
    await bot_stage.register(admin, Role.CITY)

    await admin.send_text("/report")
    picker = admin.last_message()
    assert f"{len(city)} institutions, page 1 of 3." in picker.text
    assert len(listed(picker)) == 8 and turns(picker) == ["Next ▶"]
    seen = list(listed(picker))
    await admin.press("Next ▶")
    assert admin.last_message().message_id == picker.message_id  # the question turns its page where it stands
    assert "page 2 of 3" in picker.text and turns(picker) == ["◀ Previous", "Next ▶"]
    seen += listed(picker)
    await admin.press("Next ▶")
    assert "page 3 of 3" in picker.text and turns(picker) == ["◀ Previous"]
    last_page = listed(picker)
    seen += last_page
    # Every institution of the city, each once.
    assert sorted(seen) == sorted(local_name(i, "en") for i in city)

    await admin.press(last_page[-1])
    assert "Which area does it concern?" in admin.last_message().text
    draft = await bot_stage.services.hazards.load_draft(1)
    chosen = next(i for i in city if local_name(i, "en") == last_page[-1])
    assert draft is not None and draft.institution_id == chosen.id


async def test_county_staff_turn_only_their_own_countys_pages(bot_stage: Stage) -> None:
    storage = bot_stage.services.storage
    for n in range(1, 10):  # enough homes in Lucheng for a second page
        await storage.institutions.upsert(NewInstitution(
            code=f"WZ-330302-EXTRA-{n:02}", name_zh=f"鹿城区第{n}敬老院", name_en=f"Lucheng Home No. {n}",
            type=InstitutionType.ELDERLY_CARE, region_code=LUCHENG,
        ))
    lucheng = [i for i in await storage.institutions.in_scope(LUCHENG) if i.active]
    longwan = [i for i in await storage.institutions.in_scope(LONGWAN) if i.active]
    clerk = bot_stage.sandbox.user(user_id=3, first_name="周", language_code="zh-hans")
    await bot_stage.register(clerk, Role.COUNTY, region=LUCHENG)

    await clerk.send_text("/report")
    picker = clerk.last_message()
    assert f"共 {len(lucheng)} 家机构，第 1/2 页。" in picker.text
    seen = listed(picker)
    await clerk.press("下一页 ▶")
    seen += listed(picker)
    assert sorted(seen) == sorted(i.name_zh for i in lucheng)
    assert not any(i.name_zh in seen for i in longwan)
    # A forged page beyond the last: told it is gone, shown the last, and still nothing of another county.
    pressed = await clerk.press_data(picker, "rp:ipage:7")
    assert pressed.answer is not None and pressed.answer.text is not None and "已不存在" in pressed.answer.text
    assert "第 2/2 页" in picker.text and not any(i.name_zh in listed(picker) for i in longwan)


async def test_a_drill_picker_turns_the_pages_of_a_typed_search_too(bot_stage: Stage) -> None:
    storage = bot_stage.services.storage
    for code, name in (("WZ-330304-ELDER-01", "瓯海区社会福利院"), ("WZ-330305-ELDER-09", "洞头区社会福利院")):
        await storage.institutions.upsert(NewInstitution(
            code=code, name_zh=name, name_en=name, type=InstitutionType.ELDERLY_CARE, region_code=code[3:9],
        ))
    welfare = [i for i in await storage.institutions.in_scope(None) if i.active and "福利" in i.name_zh]
    assert len(welfare) > 8
    admin = bot_stage.sandbox.user(user_id=1, first_name="王", language_code="zh-hans")
    await bot_stage.register(admin, Role.CITY)

    await admin.send_text("/drill")
    assert "第 1/3 页" in admin.last_message().text and turns(admin.last_message()) == ["下一页 ▶"]
    await admin.send_text("福利")
    found = admin.last_message()
    assert f"共 {len(welfare)} 家机构，第 1/2 页。" in found.text
    seen = listed(found)
    await admin.press("下一页 ▶", found)
    # The second page is of the search, remembered in the draft (so it turns after a restart too).
    assert "第 2/2 页" in found.text
    seen += listed(found)
    assert sorted(seen) == sorted(i.name_zh for i in welfare)
    draft = await CalendarDraftRepository(storage.db).get(1, DrillDraft)
    assert draft is not None and draft.institution_search == "福利"

    await admin.press(listed(found)[-1], found)
    assert "演练类型" in admin.last_message().text
