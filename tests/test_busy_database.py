"""When the database refuses for a while (another process holding SQLite's write lock past the busy timeout): the
person is told that their step was not saved and to send it again, in their language; sending it again works; and
a guard that could not do its work stops the update rather than let it through."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from bot.stage import Stage
from storage.repositories.action_drafts import ActionDraftRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.drafts import DraftRepository
from storage.repositories.users import UserRepository
from tests.db_faults import failing_first
from tests.hazard_people import cast, report
from tests.test_report import FIRE_EXIT_BLOCKED, cadre_and_head, to_the_description

BUSY_ZH = "⚠️ 系统正忙，刚才这一步没有保存。请稍等片刻后再发一次（或再点一次按钮）。"
BUSY_EN = (
    "⚠️ The system is busy and your last step was not saved. Please send it again (or press the button again) in a "
    "moment."
)


def refusing_once(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[int]:
    """`cls.name` refuses its next call as SQLite does when another process holds the write lock; returns how many
    refusals are left (0 once it has refused)."""
    left = [1]

    def noting(*args: Any) -> bool:
        left[0] = 0
        return True

    locked = sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(cls, name, failing_first(getattr(cls, name), 1, locked, when=noting))
    return left


async def at_the_description_step(bot_stage: Stage) -> Any:
    cadre, _ = await cadre_and_head(bot_stage)
    await to_the_description(cadre)
    return cadre


async def test_a_step_the_database_refused_is_asked_for_again_and_then_taken(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    cadre = await at_the_description_step(bot_stage)
    left = refusing_once(monkeypatch, DraftRepository, "save")
    before = len(cadre.messages())
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    assert left == [0]
    assert [m.text for m in cadre.messages()[before:]] == [BUSY_ZH]  # said once, and nothing else answered
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    assert "照片" in cadre.last_message().text  # the next step: photos
    draft = await bot_stage.services.storage.drafts.get(cadre.id)
    assert draft is not None and draft.description == FIRE_EXIT_BLOCKED


async def test_when_even_who_you_are_cannot_be_read_you_are_told_in_your_apps_language_and_nothing_runs(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access gate's lookup refused: before, the gate's failure was reported and the update went on to the
    journeys all the same, past the gate."""
    cadre, _ = await cadre_and_head(bot_stage, language="en")
    before = len(cadre.messages())
    refusing_once(monkeypatch, UserRepository, "get")
    await cadre.send_text("/report")
    assert [m.text for m in cadre.messages()[before:]] == [BUSY_EN]
    await cadre.send_text("/report")
    assert "step 1" in cadre.last_message().text


async def test_a_classified_text_is_not_kept_when_the_secrecy_guard_cannot_audit_it(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secrecy guard audits a refusal before it stops the update. When the audit entry was refused, the guard
    failed and the classified text went on to the report journey, which stored it as the hazard's description."""
    cadre = await at_the_description_step(bot_stage)
    refusing_once(monkeypatch, AuditRepository, "append")
    classified = "秘密★1年 关于防汛物资调拨的内部安排"
    await cadre.send_text(classified)
    assert cadre.last_message().text == BUSY_ZH
    draft = await bot_stage.services.storage.drafts.get(cadre.id)
    assert draft is not None and draft.description is None
    await cadre.send_text(classified)  # sent again: refused as classified, as always
    assert "秘密" in cadre.last_message().text and "refused" not in cadre.last_message().text
    draft = await bot_stage.services.storage.drafts.get(cadre.id)
    assert draft is not None and draft.description is None


async def test_while_another_program_holds_the_database_a_step_is_refused_plainly_and_taken_after(
    bot_stage: Stage,
) -> None:
    """Not a stand-in: a second connection, as an import from the command line would, holds SQLite's write lock
    past the bot's busy timeout (shortened here from 5 s), and SQLite itself refuses the bot's write."""
    cadre = await at_the_description_step(bot_stage)
    database = bot_stage.services.storage.db
    await database.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(database.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        # Let go once the answer is in, not once the bot is idle: any other write meeting the lock meanwhile (the
        # last step's, the outbox's) waits out its retries, so on a loaded machine "idle" would come after the lock.
        await cadre.send_text(FIRE_EXIT_BLOCKED, wait=False)
        await bot_stage.sandbox.wait_for(lambda: cadre.last_message().text == BUSY_ZH)
        other.execute("COMMIT")
    finally:
        other.close()
    await cadre.send_text(FIRE_EXIT_BLOCKED)
    assert "照片" in cadre.last_message().text
    draft = await bot_stage.services.storage.drafts.get(cadre.id)
    assert draft is not None and draft.description == FIRE_EXIT_BLOCKED


async def test_a_comment_whose_step_could_not_end_is_not_written_twice(
    bot_stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comment and the end of its step are one transaction: the database refusing the end of the step takes the
    comment back too, so the person, told to send it again, writes it once and its readers hear of it once."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    cadre, head = people.cadre, people.head
    await cadre.send_text(f"/hazard {hazard.code}")
    await cadre.press("💬 留言", cadre.last_message())
    left = refusing_once(monkeypatch, ActionDraftRepository, "delete")
    before = len(cadre.messages())
    await cadre.send_text("安全出口还被当成了吸烟点")
    assert left == [0]
    assert [m.text for m in cadre.messages()[before:]] == [BUSY_ZH]
    await cadre.send_text("安全出口还被当成了吸烟点")
    assert f"留言已记入隐患 {hazard.code} 的处置记录" in cadre.last_message().text
    await bot_stage.sandbox.settle()
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert [e.action for e in events].count("comment") == 1
    assert len([m for m in head.messages() if f"对隐患 {hazard.code} 留言" in m.text]) == 1
