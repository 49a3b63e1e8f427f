"""Classified content is refused before anything keeps it (DOMAIN.md, secrecy)."""

from __future__ import annotations

import pytest

from bot.domain.roles import Role
from bot.domain.secrecy import find_classification_mark
from bot.stage import Stage


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("秘密★1年 关于防汛值班的通知", "秘密"),
        ("★机密 人员名单", "机密"),
        ("机 密 ★ 10年", "机密"),
        ("【秘密】会议纪要", "秘密"),
        ("绝密", "绝密"),
        ("这是一份机密文件，请勿外传", "机密"),
        ("附件：涉密资料清单", "涉密"),
        ("秘\u200b密★启用前", "秘密"),
        ("机密\n第三季度检查结果", "机密"),
    ],
)
def test_classification_marks_are_recognised(text: str, level: str) -> None:
    assert find_classification_mark(text) == level


@pytest.mark.parametrize(
    "text",
    ["保密工作要常抓不懈", "网络安全要保证数据的机密性和完整性", "孩子说想告诉老师一个小秘密", "消防通道堵塞", ""],
)
def test_ordinary_safety_talk_passes(text: str) -> None:
    assert find_classification_mark(text) is None


async def test_a_classified_message_is_refused_with_the_rule_and_audited_without_content(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    cadre = sandbox.user(user_id=20, first_name="C", language_code="zh-hans")
    await bot_stage.register(cadre, Role.CADRE, region="330302")
    await cadre.send_text("秘密★1年 关于鹿城区防汛人员的内部名单")
    reply = cadre.last_message().text
    assert "密级标识“秘密”" in reply and "严禁通过微信、QQ、浙政钉" in reply
    await cadre.send_photo(caption="机密★ 现场照片")
    assert "密级标识“机密”" in cadre.last_message().text
    audit = await bot_stage.services.storage.audit.list(action_prefix="secrecy.")
    assert [event.detail["mark"] for event in audit] == ["秘密", "机密"]
    assert all("防汛" not in str(event.detail) and "现场" not in str(event.detail) for event in audit)


async def test_classified_text_from_strangers_and_in_groups_is_refused_too(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    stranger = sandbox.user(user_id=21, first_name="S", language_code="en")
    await stranger.send_text("TOP: 绝密 plan")
    assert "classification mark “绝密”" in stranger.last_message().text

    staff = sandbox.user(user_id=22, first_name="县")
    await bot_stage.register(staff, Role.COUNTY, region="330302")
    group = sandbox.group(chat_id=-2001, title="工作群", bot_status="administrator")
    group.add(staff)
    await staff.send_text("/bindgroup", chat=group)
    await staff.press("鹿城区", chat=group)
    await staff.press("综合（全部通知）", chat=group)
    posted = await staff.send_text("机密★ 值班表", chat=group)
    assert "密级标识“机密”" in staff.last_message(chat=group).text
    assert sandbox.calls_to("deleteMessage")[-1].params["message_id"] == posted.message_id
