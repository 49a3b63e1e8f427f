"""Secrecy guard (DOMAIN.md, "Secrecy and network security").

No state secret may be stored or sent through chat software. A message carrying a classification mark is refused
before anything of it is stored. We err on the side of refusing: a cadre who typed "秘密文件" by accident loses a
sentence, while a leak cannot be undone.

A mark is rarely typed as the standard prints it. It comes pasted from a document ("通知 机密(★5年)…"), in
traditional characters (機密, 絕密, 祕密), with an emoji star (⭐机密⭐), in another kind of bracket (〖机密〗), spaced
or split by a hyphen (涉 密 文件, 秘-密★1年), in full-width letters, or in English (CONFIDENTIAL, TOP SECRET). So the
text is first brought to one form (NFKC, the few traditional characters of the marks made simplified), and a level
counts as a mark where it stands as one: beside a star or a bracket, opening the text or a line, standing alone as
a word between spaces or punctuation, followed by a term such as 文件 or 级, or said of the text (这是机密).
The same words inside ordinary talk pass: 保密 (an area of hazards), 机密性, 秘密通道, 手机密码, 杜绝密集堆放,
"这不是机密", secretary. tests/domain/test_secrecy.py measures both sides.
"""

from __future__ import annotations

import re
import unicodedata

from bot.domain.text import INVISIBLE

# GB/T 7156 marks: 绝密, 机密, 秘密, printed with ★ before the term of secrecy ("机密★10年", "秘密★启用前").
LEVELS = ("绝密", "机密", "秘密")
# English classification words, as an English-speaking user marks a document. Named as found (upper case): the
# refusal quotes the mark the sender used.
ENGLISH_LEVELS = ("TOP SECRET", "CONFIDENTIAL", "SECRET")
# Traditional (and Japanese) forms of the characters the rules read, made simplified before matching.
_SIMPLIFIED = str.maketrans({
    "機": "机", "絕": "绝", "絶": "绝", "祕": "秘", "級": "级", "資": "资", "檔": "档", "載": "载", "體": "体",
    "項": "项", "電": "电", "啟": "启", "啓": "启", "內": "内", "單": "单", "員": "员", "這": "这", "屬": "属",
    "為": "为", "係": "系", "於": "于", "請": "请", "傳": "传", "轉": "转", "發": "发", "擴": "扩", "嚴": "严",
})
# Stars of every kind a mark is printed or typed with: ★☆*, the emoji ⭐ and 🌟, the dingbat stars and asterisks
# (✦ to ❋), and the triangle some templates print instead.
_STAR = "[★☆*⭐🌟\u2726-\u274b▲△]"
# What may stand between the characters of a mark and not show: spaces, and the invisible characters a paste carries
# or a filter-dodger types (soft hyphen, joiners and marks of direction, variation selectors, Hangul fillers, tags).
_GAP = rf"[\s{INVISIBLE}]*"
# Inside a level's characters, also what a dodger puts between them to split the word: a hyphen, a dot, a dash,
# an underscore, a slash, a star. Not the comma or the full stop: "打印机，密封不严" is two words.
_SPLIT = rf"[\s{INVISIBLE}\-_.·・•‧~/\\|—–―'\"`]*"
_OPEN = r"[【\[(〔〖「『《〈<{〘〚]"
_CLOSE = r"[】\])〕〗」』》〉>}〙〛]"
# Nouns that make a level a document's mark: 机密级, 秘密文件, 机密资料, 秘密件.
_TERMS = r"(?:级|文件|文档|资料|材料|文电|载体|事项|档案|件)"


def _split(word: str) -> str:
    return _SPLIT.join(re.escape(char) for char in word)


_LEVEL = "(?:" + "|".join(_split(level) for level in LEVELS) + ")"
# Not part of a longer word: no letter, digit or ideograph on that side.
_ALONE_BEFORE = r"(?<![^\W_])"
_ALONE_AFTER = r"(?![^\W_])"
_MARK_PATTERNS = (
    re.compile(_LEVEL + _GAP + f"(?:{_OPEN}{_GAP})?" + _STAR),  # 秘密★1年, 机密(★5年)
    re.compile(_STAR + _GAP + _LEVEL),  # ★机密, ⭐机密⭐
    re.compile(_OPEN + _GAP + _LEVEL + _GAP + _CLOSE),  # 【秘密】, 〖机密〗, 「秘密」
    re.compile(r"(?:^|\n)" + _GAP + _OPEN + "?" + _GAP + _LEVEL + _ALONE_AFTER, re.MULTILINE),  # 机密 通知
    re.compile(_ALONE_BEFORE + _LEVEL + _ALONE_AFTER),  # 通知 机密 …, 内部资料 机密
    re.compile(_LEVEL + _GAP + _TERMS),  # 机密级文件, 秘密资料
    # 这是机密, 附件为机密内容: said of the text; "这不是机密" and "并非机密" are not.
    re.compile(r"(?<![不非])(?:是|属于?|系|为|列为|定为)" + _GAP + _LEVEL + r"(?:内容|信息)?" + _ALONE_AFTER),
    # Never in ordinary speech, but for the words it can be split from: 杜绝/隔绝/拒绝 + 密集/密封/密码.
    re.compile(r"(?<![杜隔断拒根灭禁谢回弃])" + _split("绝密") + r"(?![集封切闭码度布实])"),
    re.compile(_split("涉密") + _GAP + r"(?:文件|资料|材料|信息|内容|文档|档案|载体|(?:人员)?名单)"),
)

# Internal material (内部敏感信息, which the rules forbid in chat as they forbid state secrets) is marked by a banner,
# not a level: "内部资料 注意保密", "【内部资料】", "内部文件，请勿外传". Named as 内部资料 in the refusal. The words
# alone in a description pass ("内部资料室漏水", "提醒员工注意保密").
INTERNAL = "内部资料"
_INTERNAL_TERM = r"内部" + _GAP + r"(?:资料|文件|材料|文档|资料汇编)"
_KEEP_INSIDE = r"(?:注意保密|注意保存|妥善保管|(?:请勿|不得|严禁|禁止|切勿)" + _GAP + r"(?:外传|转发|外泄|扩散))"
_INTERNAL_PATTERNS = (
    re.compile(_INTERNAL_TERM + r"[\s，,。.、:：;；!！()（）]*" + _KEEP_INSIDE),  # 内部资料 注意保密
    re.compile(_OPEN + _GAP + _INTERNAL_TERM + _GAP + _CLOSE),  # 【内部资料】 ("配电箱(内部)接线松动" passes)
    re.compile(r"(?:^|\n)" + _GAP + _INTERNAL_TERM + _GAP + r"(?:$|\n|[:：])", re.MULTILINE),  # a banner line
    re.compile(r"(?:请勿|不得|严禁|禁止|切勿)" + _GAP + r"外传"),  # "请勿外传" is said of a document, not a hazard
)

_LETTERS_BEFORE = r"(?<![A-Za-z0-9_])"
_LETTERS_AFTER = r"(?![A-Za-z0-9_])"
_TOP_SECRET = r"TOP" + r"[\s\-_.]+" + r"SECRET"  # "topsecret", one word, is a password
_ENGLISH = rf"(?:{_TOP_SECRET}|CONFIDENTIAL|SECRET)"
_ENGLISH_PATTERNS = (
    # TOP SECRET anywhere, in any case: it is never anything but a mark.
    re.compile(_LETTERS_BEFORE + _TOP_SECRET + _LETTERS_AFTER, re.IGNORECASE),
    # In capitals, as a banner is printed ("CONFIDENTIAL: list attached"); "keep it confidential" passes.
    re.compile(_LETTERS_BEFORE + _ENGLISH + _LETTERS_AFTER),
    # Opening a line or the text, followed by punctuation or nothing ("Confidential: …", "Secret - …").
    re.compile(r"(?:^|\n)" + _GAP + _OPEN + "?" + _GAP + _ENGLISH + _GAP + r"(?:$|[:\-–—/|]|" + _CLOSE + ")",
               re.IGNORECASE | re.MULTILINE),
    re.compile(_OPEN + _GAP + _ENGLISH + _GAP + _CLOSE, re.IGNORECASE),  # (Confidential), [Secret]
    re.compile(_ENGLISH + _GAP + _STAR, re.IGNORECASE),  # Secret★1yr
)


def normalized(text: str) -> str:
    """The text in one form for matching: NFKC (full-width letters, compatibility ideographs), the marks'
    traditional characters simplified."""
    return unicodedata.normalize("NFKC", text).translate(_SIMPLIFIED)


def find_classification_mark(text: str | None) -> str | None:
    """The classification level a text carries (绝密, 机密, 秘密, 涉密, 内部资料 for an internal banner, or the
    English word in capitals), or None."""
    if not text:
        return None
    plain = normalized(text)
    for pattern in _MARK_PATTERNS:
        match = pattern.search(plain)
        if match:
            found = re.sub(_SPLIT, "", match.group(0))
            return next((level for level in LEVELS if level in found), "涉密")
    if any(pattern.search(plain) for pattern in _INTERNAL_PATTERNS):
        return INTERNAL
    for pattern in _ENGLISH_PATTERNS:
        match = pattern.search(plain)
        if match:
            found = match.group(0).upper()
            if re.search(_TOP_SECRET, found):
                return "TOP SECRET"
            return "CONFIDENTIAL" if "CONFIDENTIAL" in found else "SECRET"
    return None
