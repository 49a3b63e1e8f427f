"""Which texts carry a classification mark (bot/domain/secrecy.py): the marks as people really type or paste them,
and the ordinary safety talk that must pass, measured side by side so that a wider rule shows what it costs."""

from __future__ import annotations

import pytest

from bot.domain.secrecy import find_classification_mark

# A security officer's marks: pasted from a document, in traditional characters, with emoji stars, other brackets,
# split by spaces or a hyphen, full-width, in English. Each with the level the refusal names.
SHOULD_CATCH = [
    # Internal material (内部敏感信息), marked by a banner rather than a level: the rules forbid it in chat too.
    ("内部资料，注意保密", "内部资料"),
    ("内部资料 注意保存\n转移安置名单", "内部资料"),
    ("【内部文件】全市养老机构风险点位", "内部资料"),
    ("內部資料 請勿外傳", "内部资料"),
    ("名单附后，请勿外传", "内部资料"),
    ("通知 机密(★5年) 台风期间转移方案：三楼老人名单见附件", "机密"),  # the mark not at the start
    ("三楼 机密(★10年) 档案室旁", "机密"),
    ("机密（★5年）关于台风的通知", "机密"),
    ("機密★5年 轉移方案（繁体）", "机密"),  # traditional characters
    ("機密★1年 轉移名單（照片）", "机密"),
    ("絕密", "绝密"),
    ("祕密★1年", "秘密"),
    ("機密文件", "机密"),
    ("內部資料 機密", "机密"),
    ("⭐机密⭐ 三楼老人转移名单", "机密"),  # stars of other kinds
    ("⭐️机密⭐️ 名单", "机密"),
    ("秘密✩1年", "秘密"),
    ("秘密▲1年", "秘密"),
    ("机密✱", "机密"),
    ("★★★机密★★★", "机密"),
    ("〖机密〗三楼老人转移名单", "机密"),  # brackets of other kinds
    ("「秘密」", "秘密"),
    ("《秘密》文件", "秘密"),
    ("涉 密 文件：三楼老人转移名单", "涉密"),  # split by spaces, a hyphen, a dot, an underscore
    ("机 密 文 件", "机密"),
    ("秘-密★1年 三楼老人转移名单", "秘密"),
    ("秘.密★", "秘密"),
    ("秘_密文件", "秘密"),
    ("機 密", "机密"),
    ("这是机密，请勿外传：三楼老人转移名单", "机密"),  # said of the text
    ("附件为机密内容", "机密"),
    ("密级：机密", "机密"),
    ("涉密人员名单", "涉密"),
    ("机密★5年_转移方案.pdf", "机密"),  # a file's name
    ("机密★ 档案室", "机密"),  # a place's name
    ("涉密文件存放处 鹿城区", "涉密"),
    ("CONFIDENTIAL - evacuation list of residents, do not forward", "CONFIDENTIAL"),  # English marks
    ("ＣＯＮＦＩＤＥＮＴＩＡＬ 转移名单", "CONFIDENTIAL"),  # full-width
    ("CONFIDENTIAL转移名单", "CONFIDENTIAL"),
    ("Confidential: typhoon plan", "CONFIDENTIAL"),
    ("(Confidential) staff list", "CONFIDENTIAL"),
    ("TOP SECRET evacuation plan for the home", "TOP SECRET"),
    ("top-secret plan", "TOP SECRET"),
    ("[SECRET] plan", "SECRET"),
    ("SECRET//NOFORN", "SECRET"),
    ("Secret★1yr", "SECRET"),
]

# Ordinary safety talk: 保密 is an area of hazards and 机密性 a word of network security; 秘密通道, 密封, 密码 and
# 密集 hold the same characters; a text may say it is NOT classified; "secretary" and "confidential" in a sentence
# are English. Then descriptions, reasons and topics as the tests and the demo type them.
SHOULD_PASS = [
    "保密",
    "保密柜未上锁，钥匙插在锁上",
    "保密工作要常抓不懈",
    "内部资料室漏水，档案受潮",  # the room, not a banner
    "提醒员工注意保密，不在群里发名单",
    "配电箱(内部)接线松动",
    "内部资料柜倒了，压坏电线",
    "网络安全要保证数据的机密性和完整性",
    "机密性保护措施不到位",
    "孩子说想告诉老师一个小秘密",
    "国家秘密",
    "商业秘密",
    "三楼有一条秘密通道被杂物堵塞",
    "秘密通道堵塞，需要清理",  # opening the text, yet a corridor
    "这不是机密，可以转发给各院",
    "密封不严，有异味",
    "密码箱损坏",
    "手机密码未设置",
    "计算机密码贴在显示器上",
    "打印机，密封条脱落",
    "杜绝密集堆放易燃物",
    "防火门与外界隔绝密封不严",
    "人员密集场所疏散通道不畅",
    "涉密计算机违规连接互联网",
    "The secretary keeps the keys of the fire exit",
    "Please keep the residents' records confidential",
    "Confidentiality agreements are missing",
    "a secret door behind the kitchen is blocked",
    "Wi-Fi password is topsecret, change it",
    "三楼走廊堆放杂物，堵塞消防通道",
    "二楼配电箱老化，线路裸露",
    "二楼烟感报警器按下测试键无反应",
    "一具灭火器压力不足",
    "配电箱周围堆放可燃物",
    "处安全出口被锁闭",
    "复查发现消防通道又被堵塞。",
    "夜间火灾疏散，卧床老人转移，灭火器实操",
    "当事人需要转介，社工下周才能上门",
    "预算审批需要两周",
    "机构停用，改由区里督办",
    "消防安全专题学习",
    "疫情防控应急演练",
    "你好，我是新来的网格员",
    "鹿城区南汇街道南塘街88号",
    "南塘街社区居委会",
    "Fire exit blocked by furniture",
    "",
]


@pytest.mark.parametrize(("text", "level"), SHOULD_CATCH)
def test_realistic_marks_are_caught(text: str, level: str) -> None:
    assert find_classification_mark(text) == level


@pytest.mark.parametrize("text", SHOULD_PASS)
def test_ordinary_safety_talk_passes(text: str) -> None:
    assert find_classification_mark(text) is None
