"""A local, strict emulator of the Telegram Bot API with simulated people.

The bot, the demo, the tests and the benchmarks talk to it over real HTTP instead of Telegram::

    async with Sandbox() as sb:
        app = ApplicationBuilder().token(sb.token).base_url(sb.base_url).base_file_url(sb.base_file_url).build()
        ...
        alice = sb.user(1001, "Alice", username="alice")
        await alice.send_text("/start")          # returns once the bot has reacted
        print(alice.last_message())
        assert sb.violations == []               # nothing the real Bot API would have rejected
"""

from bot.sandbox.driver import SimGroup, SimUser
from bot.sandbox.htmltext import EntityParseError, html_to_plain, parse_html
from bot.sandbox.server import Sandbox
from bot.sandbox.state import Call, CallbackAnswer, TranscriptEntry
from bot.sandbox.views import BotMessage, SentMessage, SimCallbackQuery

__all__ = [
    "BotMessage",
    "Call",
    "CallbackAnswer",
    "EntityParseError",
    "Sandbox",
    "SentMessage",
    "SimCallbackQuery",
    "SimGroup",
    "SimUser",
    "TranscriptEntry",
    "html_to_plain",
    "parse_html",
]
