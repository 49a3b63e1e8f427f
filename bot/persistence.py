"""python-telegram-bot persistence in our own SQLite database, as JSON rather than pickle.

JSON because the database outlives code versions: a pickle of a class that has since moved cannot be
loaded, and a pickle is code, not data, for anyone who can write the file. The price is that user_data,
chat_data, bot_data and callback data must be plain JSON: str-keyed dicts, lists, str, int, float, bool and
None. Anything else raises TypeError naming where it was found (tuples included: they would come back as
lists). Keep rich state in the repositories; these dicts hold what a conversation needs between messages.

Every update_* writes straight through to the database, and the Application calls them every `update_interval`
seconds (1 s by default), so a crash loses at most the last second. Unchanged values are not rewritten.

The Application hands each changed conversation step over once. So a write the database refuses for a while
(another process holding SQLite's write lock past the busy timeout, a full disk) is tried again here, for about
a minute, rather than left to the next change of that conversation: until then a crash would lose the step.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.db import Database, patiently

# Structurally the same as telegram.ext._utils.types, which is private to the library.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]

JSONDict = dict[str, Any]

_BOT_DATA = "bot_data"
_CALLBACK_DATA = "callback_data"

log = logging.getLogger(__name__)


class SQLitePersistence(BasePersistence[JSONDict, JSONDict, JSONDict]):
    def __init__(
        self, db: Database, update_interval: float = 1.0, store_data: PersistenceInput | None = None
    ) -> None:
        super().__init__(store_data=store_data, update_interval=update_interval)
        self._db = db
        # What the database holds, by (table, key), so that unchanged data is not written again every second.
        self._written: dict[tuple[str, str], str] = {}

    async def get_user_data(self) -> dict[int, JSONDict]:
        return await self._load_per_id("ptb_user_data", "user_id")

    async def get_chat_data(self) -> dict[int, JSONDict]:
        return await self._load_per_id("ptb_chat_data", "chat_id")

    async def get_bot_data(self) -> JSONDict:
        text = await self._load_named(_BOT_DATA)
        return {} if text is None else dict(json.loads(text))

    async def get_callback_data(self) -> CDCData | None:
        text = await self._load_named(_CALLBACK_DATA)
        if text is None:
            return None
        buttons, mapping = json.loads(text)
        return [(str(uuid), float(at), dict(data)) for uuid, at, data in buttons], dict(mapping)

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self._db.fetchall("SELECT key, state FROM ptb_conversations WHERE name = ?", (name,))
        return {tuple(json.loads(row["key"])): json.loads(row["state"]) for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        key_text = _dumps(list(key), f"conversation {name!r} key")
        # One call at a time writes a conversation (the Application holds a lock over a round of writes), so a
        # later step of the same conversation cannot be overtaken by this one's retry.
        what = f"conversation {name!r} step of {key_text}"
        if new_state is None:
            await patiently(
                what,
                lambda: self._db.execute("DELETE FROM ptb_conversations WHERE name = ? AND key = ?", (name, key_text)),
                log,
            )
            return
        if not isinstance(new_state, str | int):
            raise TypeError(
                f"conversation {name!r} state {new_state!r} is {type(new_state).__name__}; "
                "persistent conversations need str or int states"
            )
        state_text = json.dumps(new_state)
        await patiently(
            what,
            lambda: self._db.execute(
                "INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?) "
                "ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
                (name, key_text, state_text),
            ),
            log,
        )

    async def update_user_data(self, user_id: int, data: JSONDict) -> None:
        await self._store_per_id("ptb_user_data", "user_id", user_id, data)

    async def update_chat_data(self, chat_id: int, data: JSONDict) -> None:
        await self._store_per_id("ptb_chat_data", "chat_id", chat_id, data)

    async def update_bot_data(self, data: JSONDict) -> None:
        await self._store_named(_BOT_DATA, data)

    async def update_callback_data(self, data: CDCData) -> None:
        buttons, mapping = data
        await self._store_named(_CALLBACK_DATA, [[list(button) for button in buttons], mapping])

    async def drop_user_data(self, user_id: int) -> None:
        await self._drop_per_id("ptb_user_data", "user_id", user_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._drop_per_id("ptb_chat_data", "chat_id", chat_id)

    # Only this process writes these tables, so what the Application holds in memory is already the newest.
    async def refresh_user_data(self, user_id: int, user_data: JSONDict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: JSONDict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: JSONDict) -> None:
        return None

    async def flush(self) -> None:
        """Nothing is buffered: every update_* has already been committed."""
        return None

    async def _load_per_id(self, table: str, id_column: str) -> dict[int, JSONDict]:
        rows = await self._db.fetchall(f"SELECT {id_column}, data FROM {table}")
        loaded: dict[int, JSONDict] = {}
        for row in rows:
            self._written[(table, str(row[0]))] = row["data"]
            loaded[int(row[0])] = dict(json.loads(row["data"]))
        return loaded

    async def _store_per_id(self, table: str, id_column: str, ident: int, data: JSONDict) -> None:
        text = _dumps(data, f"{table}[{ident}]")
        if self._written.get((table, str(ident))) == text:
            return
        await self._db.execute(
            f"INSERT INTO {table} ({id_column}, data) VALUES (?, ?) "
            f"ON CONFLICT ({id_column}) DO UPDATE SET data = excluded.data",
            (ident, text),
        )
        self._written[(table, str(ident))] = text

    async def _drop_per_id(self, table: str, id_column: str, ident: int) -> None:
        await self._db.execute(f"DELETE FROM {table} WHERE {id_column} = ?", (ident,))
        self._written.pop((table, str(ident)), None)

    async def _load_named(self, name: str) -> str | None:
        row = await self._db.fetchone("SELECT data FROM ptb_bot_data WHERE name = ?", (name,))
        if row is None:
            return None
        text: str = row["data"]
        self._written[("ptb_bot_data", name)] = text
        return text

    async def _store_named(self, name: str, data: object) -> None:
        text = _dumps(data, name)
        if self._written.get(("ptb_bot_data", name)) == text:
            return
        await self._db.execute(
            "INSERT INTO ptb_bot_data (name, data) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET data = excluded.data",
            (name, text),
        )
        self._written[("ptb_bot_data", name)] = text


def _dumps(value: object, where: str) -> str:
    _check_json(value, where)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _check_json(value: object, where: str) -> None:
    """json.dumps alone would turn tuples into lists and int keys into strings: not what was stored."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where}: {value!r} has no JSON form")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"{where}: key {key!r} is {type(key).__name__}; persisted data needs str keys"
                )
            _check_json(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"{where}: {type(value).__name__} {value!r} is not JSON; persisted data holds only str-keyed dicts, "
        "lists, str, int, float, bool and None"
    )
