"""Secrecy guard (DOMAIN.md, "Secrecy and network security").

No state secret may be stored or sent through chat software. A message carrying a classification mark is refused
before anything of it is stored. We err on the side of refusing: a cadre who typed "秘密文件" by accident loses a
sentence, while a leak cannot be undone.
"""

from __future__ import annotations

import re
import unicodedata

from bot.domain.text import INVISIBLE

# GB/T 7156 marks: 绝密, 机密, 秘密, printed with ★ before the term of secrecy ("机密★10年", "秘密★启用前").
LEVELS = ("绝密", "机密", "秘密")
_STAR = "[★☆*＊]"
# What may stand between the characters of a mark and not show: spaces, and the invisible characters a paste carries
# or a filter-dodger types (soft hyphen, joiners and marks of direction, variation selectors, Hangul fillers, tags).
_GAP = rf"[\s{INVISIBLE}]*"


def _spaced(word: str) -> str:
    return _GAP.join(re.escape(char) for char in word)


_LEVEL = "(?:" + "|".join(_spaced(level) for level in LEVELS) + ")"
_MARK_PATTERNS = (
    re.compile(_LEVEL + _GAP + _STAR),  # 秘密★1年
    re.compile(_STAR + _GAP + _LEVEL),  # ★机密
    re.compile(r"[【\[（(〔]" + _GAP + _LEVEL + _GAP + r"[】\]）)〕]"),  # 【秘密】
    re.compile(r"(?:^|\n)" + _GAP + _LEVEL + _GAP + r"(?:$|\n)"),  # a mark alone on its line
    re.compile(r"^" + _GAP + _LEVEL),  # a document that opens with its mark
    re.compile(_LEVEL + _GAP + r"(?:级|文件|资料|材料|文电|载体|事项)"),  # 机密级文件, 秘密资料
    re.compile(_spaced("绝密")),  # never used in ordinary speech
    re.compile(r"涉密" + _GAP + r"(?:文件|资料|材料|信息|内容)"),
)


def find_classification_mark(text: str | None) -> str | None:
    """The classification level a text carries, or None."""
    if not text:
        return None
    normalized = unicodedata.normalize("NFKC", text)
    for pattern in _MARK_PATTERNS:
        match = pattern.search(normalized)
        if match:
            found = re.sub(_GAP, "", match.group(0))
            for level in LEVELS:
                if level in found:
                    return level
            return "涉密"
    return None
