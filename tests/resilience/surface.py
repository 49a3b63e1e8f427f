"""The bot's surface, read from the handlers themselves: its commands, its buttons' callback-data prefixes and the
states of its conversations. The matrix checks it has a row for each; the fuzzer aims at each.

Read from an application assembled by the real `register_handlers`, so a journey that lands is seen at once.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from telegram.ext import (
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    DictPersistence,
)


@dataclass(frozen=True)
class Surface:
    commands: frozenset[str]  # "/report"
    prefixes: frozenset[str]  # "hz:accept:", "rp:confirm"
    states: dict[str, frozenset[object]]  # conversation name -> the states it may be in


def all_handlers(handlers: Iterable[BaseHandler[Any, Any, Any]]) -> Iterable[BaseHandler[Any, Any, Any]]:
    for handler in handlers:
        yield handler
        if isinstance(handler, ConversationHandler):
            yield from all_handlers(handler.entry_points)
            yield from all_handlers(itertools.chain.from_iterable(handler.states.values()))
            yield from all_handlers(handler.fallbacks)


def literal_prefix(pattern: str) -> str:
    """The fixed text a callback-data pattern starts with: '^hz:view:\\d+$' -> 'hz:view:'."""
    body, prefix, position = pattern.removeprefix("^"), [], 0
    while position < len(body):
        char = body[position]
        if char == "\\" and position + 1 < len(body) and not body[position + 1].isalnum():
            prefix.append(body[position + 1])
            position += 2
            continue
        if char in "\\.^$*+?{}[]|()":
            break
        prefix.append(char)
        position += 1
    return "".join(prefix)


def read_surface(handler_groups: Iterable[Iterable[BaseHandler[Any, Any, Any]]]) -> Surface:
    commands: set[str] = set()
    prefixes: set[str] = set()
    states: dict[str, frozenset[object]] = {}
    for handler in all_handlers(itertools.chain.from_iterable(handler_groups)):
        if isinstance(handler, CommandHandler):
            commands |= {f"/{command}" for command in handler.commands}
        elif isinstance(handler, ConversationHandler) and handler.name:
            states[handler.name] = frozenset(handler.states)
        elif isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
            pattern = handler.pattern
            if isinstance(pattern, re.Pattern):
                prefixes.add(literal_prefix(pattern.pattern))
            elif isinstance(pattern, str):
                prefixes.add(literal_prefix(pattern))
            else:
                raise AssertionError(f"{handler.callback.__name__}: cannot read the callback pattern {pattern!r}")
    return Surface(frozenset(commands), frozenset(prefixes), states)


@cache
def surface() -> Surface:
    """The surface of the handlers as `register_handlers` installs them (no bot needs to run for it)."""
    from handlers import register_handlers

    application = ApplicationBuilder().token("1:surface").persistence(DictPersistence()).build()
    register_handlers(application)
    return read_surface(application.handlers.values())
