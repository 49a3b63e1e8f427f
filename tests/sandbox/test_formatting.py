"""Telegram text formatting, generated media and the bundled spec — no server needed."""

from __future__ import annotations

import json

import pytest

from bot.sandbox import EntityParseError, html_to_plain, parse_html
from bot.sandbox.markdown import parse_markdown, parse_markdown_v2
from bot.sandbox.media import image_format, image_size, make_jpeg, make_png
from bot.sandbox.spec import SPEC_PATH, SpecMismatch, load_spec


def test_html_entities_and_utf16_offsets() -> None:
    plain, entities = parse_html("😀<b>粗体</b> &lt;tag&gt; &amp; &quot;q&quot; &#65;<i>x</i>")
    assert plain == '😀粗体 <tag> & "q" Ax'
    assert entities == [
        {"type": "bold", "offset": 2, "length": 2},  # the emoji is two UTF-16 units
        {"type": "italic", "offset": 18, "length": 1},
    ]


def test_html_all_supported_tags() -> None:
    text = (
        "<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>"
        '<span class="tg-spoiler">h</span><tg-spoiler>i</tg-spoiler><a href="https://example.org">j</a>'
        '<code>k</code><pre><code class="language-python">l</code></pre><blockquote>m</blockquote>'
        '<blockquote expandable>n</blockquote><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    plain, entities = parse_html(text)
    assert plain == "abcdefghijklmn👍"
    kinds = [e["type"] for e in entities]
    assert kinds == [
        "bold",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "spoiler",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
    ]
    assert entities[11]["language"] == "python"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("AT&T", 'Character "&" at byte offset 2 must be escaped as "&amp;"'),
        ("&nbsp;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
    ],
)
def test_html_errors_read_like_telegram(text: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(text)
    assert str(caught.value) == message


def test_html_to_plain_is_what_people_see() -> None:
    assert html_to_plain("<b>隐患</b> 已登记 &gt; 3 项") == "隐患 已登记 > 3 项"
    assert html_to_plain("a > b") == "a > b"  # a bare '>' is fine on Telegram


def test_markdown_v2() -> None:
    plain, entities = parse_markdown_v2(r"*粗* _斜_ __下__ ~删~ ||剧|| `c` [链](https://t.me) end\.")
    assert plain == "粗 斜 下 删 剧 c 链 end."
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("end.")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*x")


def test_legacy_markdown() -> None:
    assert parse_markdown("*b* [t](https://x.y)")[0] == "b t"
    with pytest.raises(EntityParseError, match="Can't find end of the entity starting at byte offset 1"):
        parse_markdown("a_b")


def test_generated_images_are_real() -> None:
    jpeg = make_jpeg(90, 60, seed=3)
    png = make_png(30, 20)
    assert image_format(jpeg) == "jpeg" and image_size(jpeg) == (90, 60)
    assert image_format(png) == "png" and image_size(png) == (30, 20)
    assert jpeg.endswith(b"\xff\xd9") and make_jpeg(90, 60, seed=4) != jpeg


def test_bundled_spec_is_complete_and_trimmed() -> None:
    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    assert raw["version"].startswith("Bot API")
    assert len(raw["methods"]) > 150 and len(raw["types"]) > 300
    send = raw["methods"]["sendMessage"]
    assert set(send) == {"name", "returns", "fields"}
    assert set(send["fields"][0]) <= {"name", "types", "required"}
    spec = load_spec()
    assert spec.method("SENDMESSAGE") is spec.method("sendMessage")
    scope_chat = spec.types["BotCommandScopeChat"].fields["type"]
    assert scope_chat.const == "chat"


def test_union_types_use_the_discriminator() -> None:
    spec = load_spec()
    spec.check({"type": "chat", "chat_id": 5}, ["BotCommandScope"], "scope")
    with pytest.raises(SpecMismatch, match="unknown BotCommandScope type 'room'"):
        spec.check({"type": "room"}, ["BotCommandScope"], "scope")
    with pytest.raises(SpecMismatch, match=r"scope\.chat_id: required field of BotCommandScopeChat is missing"):
        spec.check({"type": "chat"}, ["BotCommandScope"], "scope")
    # KeyboardButton may be a bare string; InlineKeyboardButton may not
    spec.check({"keyboard": [["是", {"text": "否"}]]}, ["ReplyKeyboardMarkup"], "reply_markup")
    with pytest.raises(SpecMismatch):
        spec.check({"inline_keyboard": [["是"]]}, ["InlineKeyboardMarkup"], "reply_markup")
