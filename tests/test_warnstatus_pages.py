"""/warnstatus in a big county: a page at a time, the most urgent first, a filter for each kind of institution.

Before, it listed thirty institutions at most, always the same ones (the first homes nobody can reach, in code
order), and the alerts sent the staff to it "for the rest": the other homes to phone and the silent heads to chase
were never shown to anyone. The page size is lowered here (five rows) so that a county of sixteen homes runs to
pages, as a county of three hundred does with the real fifteen."""

from __future__ import annotations

import pytest

from bot.domain.roles import Role
from bot.stage import Stage
from handlers import warning_followup, warnstatus
from storage.models import InstitutionType, NewInstitution, User
from storage.warning_models import RecipientKind, WarningRecipient
from tests.warning_people import HOME_1_ZH, HOME_2, HOME_2_ZH, START, compose_typhoon, containing, drain, enrol

NOBODY = [f"洞头区第{n}号无人登记养老院" for n in range(6)]
SILENT = [f"洞头区第{n}村照料中心" for n in range(8)]


def rows(text: str) -> list[str]:
    """The institutions' lines of a status (indented), without the county's heading and the figures."""
    return [line.strip() for line in text.splitlines() if line.startswith("  ")]


async def test_a_long_status_pages_filters_and_keeps_its_place(
    typhoon_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warnstatus, "PAGE_ROWS", 5)
    monkeypatch.setattr(warning_followup, "ESCALATION_NAMES", 3)
    cast = await enrol(typhoon_stage)
    staff, storage = cast.dongtou_staff, typhoon_stage.services.storage
    home = await storage.institutions.get_by_code(HOME_2)
    assert home is not None
    for n, name in enumerate(NOBODY):  # homes nobody registered for: only a phone call reaches them
        await storage.institutions.upsert(NewInstitution(
            code=f"WZ-330305-ELDER-9{n}", name_zh=name, name_en=f"Dongtou Home {n}",
            type=InstitutionType.ELDERLY_CARE, region_code=home.region_code))
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    # The staff's list of the homes to phone names the first and says where all of them are.
    (to_phone,) = containing(staff, "请立即电话通知")
    assert to_phone.text.endswith("……另有 3 家未列出：发送 /warnstatus，点「☎️ 无人可联系」可逐页查看全部。")
    centres = []
    for n, name in enumerate(SILENT):  # care centres whose heads got the warning and say nothing
        centre = await storage.institutions.upsert(NewInstitution(
            code=f"WZ-330305-CARE-{n:03}", name_zh=name, name_en=f"Dongtou Centre {n}",
            type=InstitutionType.ELDERLY_CARE, region_code=home.region_code))
        await storage.users.upsert(User(telegram_id=900_000 + centre.id, full_name=f"照料中心负责人{n}",
                                        role=Role.HEAD, institution_id=centre.id, created_at=START))
        centres.append(centre)
    await storage.warnings.add_recipients(1, [
        WarningRecipient(kind=RecipientKind.HEAD, chat_id=900_000 + c.id, institution_id=c.id,
                         region_code=c.region_code) for c in centres], START)
    await cast.head_1.press("✅ 已收到并落实")
    await cast.head_2.press("🆘 需要帮助")
    await drain(typhoon_stage)

    await staff.send_text("/warnstatus")
    status = staff.last_message()
    assert "全部 16 家，第 1/4 页（求助、无人可联系、未回复的在前）" in status.text
    first = rows(status.text)
    assert len(first) == 5
    assert first[0].startswith(f"🆘 {HOME_2_ZH}：陈 院长")  # the call for help first, then the homes to phone
    assert first[1:] == [f"⏳ {name}：无人可联系 ☎️" for name in NOBODY[:4]]
    assert status.buttons[:3] == [
        ["• 全部 16", "🆘 求助 1", "☎️ 无人可联系 6"], ["⏳ 未回复 8", "✅ 已回复 1"], ["下一页 ▶"]]

    await staff.press("下一页 ▶", message=status)
    assert "全部 16 家，第 2/4 页" in status.text
    assert rows(status.text) == [*(f"⏳ {name}：无人可联系 ☎️" for name in NOBODY[4:]),
                                 *(f"⏳ {name}：未回复" for name in SILENT[:3])]
    assert ["◀ 上一页", "下一页 ▶"] in status.buttons
    await staff.press("🔄 刷新", message=status)  # a refresh stays on the page the clerk was reading
    assert "第 2/4 页" in status.text and rows(status.text)[0] == f"⏳ {NOBODY[4]}：无人可联系 ☎️"

    await staff.press("⏳ 未回复 8", message=status)  # the silent heads, to chase: none of them was listed before
    assert "⏳ 未回复的 8 家（负责人已收到预警），第 1/2 页" in status.text
    assert rows(status.text) == [f"⏳ {name}：未回复" for name in SILENT[:5]]
    assert status.buttons[0][0] == "全部 16" and "• ⏳ 未回复 8" in status.buttons[1]
    await staff.press("下一页 ▶", message=status)
    assert rows(status.text) == [f"⏳ {name}：未回复" for name in SILENT[5:]]

    await staff.press("☎️ 无人可联系 6", message=status)
    assert "☎️ 无人可联系的 6 家，第 1/2 页（请逐一电话通知）" in status.text
    await staff.press("下一页 ▶", message=status)
    assert rows(status.text) == [f"⏳ {NOBODY[5]}：无人可联系 ☎️"]

    await staff.press("✅ 已回复 1", message=status)
    assert rows(status.text) == [f"✅ {HOME_1_ZH}：张 院长 2026-09-10 09:00"]
    await staff.press("全部 16", message=status)
    assert "全部 16 家，第 1/4 页" in status.text


async def test_a_short_status_stays_one_message_without_filters(typhoon_stage: Stage) -> None:
    """Two homes: everything fits on the page, and the status keeps its two buttons."""
    cast = await enrol(typhoon_stage)
    staff = cast.dongtou_staff
    await compose_typhoon(cast)
    await staff.press("📤 发送")
    await drain(typhoon_stage)
    await staff.send_text("/warnstatus")
    status = staff.last_message()
    assert "第 1/1 页" not in status.text and "全部" not in status.text
    assert status.buttons == [["🔔 提醒未回复的机构", "🔄 刷新"]]
