from __future__ import annotations

from pathlib import Path

import pytest

from bot.persistence import SQLitePersistence
from storage import Database


async def test_round_trip_across_reopen(db_path: Path) -> None:
    db = await Database.open(db_path)
    persistence = SQLitePersistence(db)
    assert persistence.update_interval == 1.0
    await persistence.update_conversation("report", (-100, 42), "CHOOSING_SEVERITY")
    await persistence.update_conversation("report", (7, 7), 3)
    await persistence.update_conversation("invite", (42,), "CHOOSING_ROLE")
    await persistence.update_user_data(42, {"draft": {"title": "电线老化", "photos": ["a", "b"]}, "n": 1.5})
    await persistence.update_chat_data(-100, {"digest": True})
    await persistence.update_bot_data({"started": "2026-03-01"})
    await persistence.update_callback_data(([("uuid-1", 1700000000.5, {"btn": ["x", 1]})], {"q1": "uuid-1"}))
    await persistence.flush()
    await db.close()

    db = await Database.open(db_path)
    try:
        persistence = SQLitePersistence(db)
        assert await persistence.get_conversations("report") == {(-100, 42): "CHOOSING_SEVERITY", (7, 7): 3}
        assert await persistence.get_conversations("invite") == {(42,): "CHOOSING_ROLE"}
        draft = {"title": "电线老化", "photos": ["a", "b"]}
        assert await persistence.get_user_data() == {42: {"draft": draft, "n": 1.5}}
        assert await persistence.get_chat_data() == {-100: {"digest": True}}
        assert await persistence.get_bot_data() == {"started": "2026-03-01"}
        assert await persistence.get_callback_data() == (
            [("uuid-1", 1700000000.5, {"btn": ["x", 1]})], {"q1": "uuid-1"}
        )

        await persistence.update_conversation("report", (-100, 42), None)
        await persistence.drop_user_data(42)
        await persistence.drop_chat_data(-100)
        assert await persistence.get_conversations("report") == {(7, 7): 3}
        assert await persistence.get_user_data() == {}
        assert await persistence.get_chat_data() == {}
    finally:
        await db.close()


async def test_empty_database_gives_empty_state(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        persistence = SQLitePersistence(db)
        assert await persistence.get_bot_data() == {}
        assert await persistence.get_callback_data() is None
        assert await persistence.get_conversations("none") == {}
        await persistence.update_conversation("none", (1,), None)  # deleting what is not there is fine
    finally:
        await db.close()


async def test_unchanged_data_is_not_rewritten(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        persistence = SQLitePersistence(db)
        await persistence.update_bot_data({"a": 1})
        # Behind the persistence's back: if it wrote again, this would be overwritten.
        await db.execute("UPDATE ptb_bot_data SET data = '{\"a\": 2}' WHERE name = 'bot_data'")
        await persistence.update_bot_data({"a": 1})
        assert await db.fetchval("SELECT data FROM ptb_bot_data WHERE name = 'bot_data'") == '{"a": 2}'
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"when": object()}, r"ptb_user_data\[1\]\['when'\]: object"),
        ({"pair": (1, 2)}, r"tuple"),
        ({1: "int key"}, r"key 1 is int"),
        ({"x": float("nan")}, r"nan"),
    ],
)
async def test_non_json_user_data_is_a_clear_type_error(
    db_path: Path, data: dict[object, object], message: str
) -> None:
    db = await Database.open(db_path)
    try:
        with pytest.raises(TypeError, match=message):
            await SQLitePersistence(db).update_user_data(1, data)  # type: ignore[arg-type]
    finally:
        await db.close()


async def test_conversation_states_must_be_str_or_int(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        with pytest.raises(TypeError, match="str or int"):
            await SQLitePersistence(db).update_conversation("report", (1,), 1.5)
    finally:
        await db.close()
