"""💬 Comments (留言) on a hazard: whoever may see a hazard may write on its record; the people who follow it read it
once, quoted, with Reply and Details; a rights-protection hazard's comments never reach its heads or a group."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.catalog import HazardArea
from bot.domain.lifecycle import HazardAction, HazardState
from bot.domain.roles import Role
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from storage.hazard_models import Hazard
from tests.hazard_people import (
    CADRE,
    HEAD,
    LONGWAN,
    LONGWAN_STAFF,
    LUCHENG,
    OTHER_STAFF,
    STAFF,
    act,
    cast,
    hazard_now,
    report,
    submitted,
)

SECOND_CADRE = 48  # a cadre of Lucheng whom staff name responsible for a hazard, then relieve


def commented(person: SimUser, hazard: Hazard) -> list[str]:
    """The comment notices of this hazard the person has received."""
    return [m.text for m in person.messages() if f"对隐患 {hazard.code} 留言" in m.text]


async def colleague(stage: Stage) -> SimUser:
    """Another county official of Lucheng, who has nothing to do with the hazards of these tests."""
    other = stage.sandbox.user(user_id=OTHER_STAFF, first_name="吴科员", language_code="zh-hans")
    await stage.register(other, Role.COUNTY, region=LUCHENG)
    return other


async def fixed_by_a_named_cadre(stage: Stage, hazard: Hazard) -> SimUser:
    """Staff name a cadre of Lucheng responsible for the hazard, who fixes it; staff accept. The cadre."""
    named = stage.sandbox.user(user_id=SECOND_CADRE, first_name="郑干部", language_code="zh-hans")
    await stage.register(named, Role.CADRE, region=LUCHENG)
    official = await stage.services.storage.users.get(STAFF)
    assert official is not None
    deadline = stage.clock.now() + timedelta(days=5)
    await stage.services.hazards.act(
        official, hazard.id, HazardAction.ASSIGN, assignee_id=SECOND_CADRE, deadline=deadline
    )
    await submitted(stage, hazard)
    await act(stage, STAFF, hazard, HazardAction.ACCEPT)
    return named


async def open_comment(person: SimUser, hazard: Hazard) -> None:
    await person.send_text(f"/hazard {hazard.code}")
    await person.press("💬 留言", person.last_message())


async def test_a_reporter_comments_from_the_details_and_those_following_it_read_it_once(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    other = await colleague(bot_stage)
    hazard = await report(bot_stage)
    group_posts = len(people.group.messages())

    await cadre.send_text(f"/hazard {hazard.code}")
    assert ["💬 留言"] in cadre.last_message().buttons
    await cadre.press("💬 留言", cadre.last_message())
    asked = cadre.last_message()
    assert f"为隐患 {hazard.code} 留言" in asked.text and asked.buttons == [["取消"]]
    await cadre.send_text("  被堵的<安全出口>还被当成了吸烟点\u200b ")
    assert f"留言已记入隐患 {hazard.code} 的处置记录，已告知 3 人" in cadre.last_message().text

    told = head.last_message()
    assert f"李娜 对隐患 {hazard.code} 留言" in told.text and "被堵的<安全出口>还被当成了吸烟点" in told.text
    assert "&lt;安全出口&gt;" in (told.html or "")
    assert told.buttons == [["💬 回复"], ["详情"]]
    # Nobody at the county has acted on it yet: those who would verify it hear (every Lucheng official here).
    assert commented(staff, hazard) and commented(other, hazard)
    assert len(commented(head, hazard)) == 1 and commented(cadre, hazard) == []  # once; never the commenter
    assert len(people.group.messages()) == group_posts  # never a group

    events = await bot_stage.services.storage.hazards.events(hazard.id)
    last = events[-1]
    assert (last.action, last.actor_id, last.note) == ("comment", CADRE, "被堵的<安全出口>还被当成了吸烟点")
    assert (await hazard_now(bot_stage, hazard)).state is hazard.state
    audit = await bot_stage.services.storage.audit.list(action_prefix="hazard.commented")
    assert [(e.actor_id, e.target) for e in audit] == [(CADRE, f"hazard:{hazard.code}")]

    # On the record, with who and when, escaped.
    seen = len(head.messages())
    await head.send_text(f"/hazard {hazard.code}")
    history = [m for m in head.messages()[seen:] if "吸烟点" in m.text]
    at = bot_stage.clock.now().astimezone(bot_stage.services.settings.tz).strftime("%Y-%m-%d %H:%M")
    assert history and f"💬 {at} · 李娜 留言" in history[0].text and "&lt;安全出口&gt;" in (history[0].html or "")


async def test_staff_ask_the_head_who_replies_from_the_notice_and_colleagues_are_not_copied(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    other = await colleague(bot_stage)
    hazard = await report(bot_stage)

    await open_comment(staff, hazard)
    await staff.send_text("整改预算有什么安排？")
    assert "已告知 2 人" in staff.last_message().text  # the head and the reporter
    asked = head.last_message()
    assert f"周科长 对隐患 {hazard.code} 留言" in asked.text and "整改预算有什么安排？" in asked.text
    assert commented(other, hazard) == []  # a colleague who never took part is not copied

    await head.press("💬 回复", asked)
    await head.send_text("施工队周一进场")
    assert "施工队周一进场" in commented(staff, hazard)[-1]  # the official who asked hears the answer
    assert "施工队周一进场" in commented(cadre, hazard)[-1]
    assert commented(other, hazard) == []
    assert (await hazard_now(bot_stage, hazard)).state is hazard.state  # a comment submits nothing


async def test_a_rights_protection_hazard_s_comments_never_reach_its_head_or_a_group(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await report(bot_stage, area=HazardArea.RIGHTS, description="有护工疑似殴打老人")
    head_heard, group_posts = len(head.messages()), len(people.group.messages())

    await open_comment(staff, hazard)
    await staff.send_text("已约谈当事护工，请继续留意")
    assert "已告知 1 人" in staff.last_message().text  # the reporting cadre alone
    assert "已约谈当事护工" in commented(cadre, hazard)[-1]
    assert len(head.messages()) == head_heard and len(people.group.messages()) == group_posts

    forged = await head.press_data(head.last_message(), f"hz:comment:{hazard.id}")
    assert forged.answer is not None and forged.answer.show_alert
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused", actor_id=HEAD)
    assert [(e.detail["action"], e.detail["reason"]) for e in refused] == [("comment", "sensitive_hidden")]


async def test_a_press_from_outside_the_scope_is_refused_and_recorded(bot_stage: Stage) -> None:
    await cast(bot_stage, "en")
    hazard = await report(bot_stage)
    outsider = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="Wu", language_code="en")
    await bot_stage.register(outsider, Role.COUNTY, region=LONGWAN)
    await outsider.send_text("/help")
    forged = await outsider.press_data(outsider.last_message(), f"hz:comment:{hazard.id}")
    assert forged.answer is not None and forged.answer.show_alert
    assert forged.answer.text == "No such hazard, or you may not see it."
    await outsider.send_text("Looks fine to me")  # no journey was opened: nothing is written
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert all(e.action != "comment" for e in events)
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [(e.actor_id, e.detail["action"]) for e in refused] == [(LONGWAN_STAFF, "comment")]


async def test_what_is_typed_is_cleaned_and_checked_and_cancel_writes_nothing(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    cadre = people.cadre
    hazard = await report(bot_stage)
    await open_comment(cadre, hazard)
    await cadre.send_photo()
    assert "请用文字输入留言" in cadre.last_message().text
    await cadre.send_text("好\u200b\u200b\u200b")  # one character that shows
    assert "留言太短：请至少写 2 个字" in cadre.last_message().text
    await cadre.send_text("长" * 1001)
    assert "留言太长：请不要超过 1000 个字" in cadre.last_message().text
    await cadre.send_text("机密 文件说明了这里的问题")
    assert "密级" in cadre.last_message().text
    await cadre.send_text("/cancel")
    assert "已取消" in cadre.last_message().text
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert all(e.action != "comment" for e in events)



async def test_a_reporter_whose_access_ended_is_neither_told_nor_counted(bot_stage: Stage) -> None:
    """The outbox sends nothing more to someone whose access ended, so the number the commenter reads leaves them
    out too: it counts only those who will read the comment."""
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await report(bot_stage)
    await bot_stage.services.people.deactivate(await people.user(STAFF), CADRE)  # the cadre who reported it
    await bot_stage.sandbox.settle()
    heard = len(cadre.messages())

    await open_comment(head, hazard)
    await head.send_text("消防通道已清理完毕")
    assert f"留言已记入隐患 {hazard.code} 的处置记录，已告知 1 人" in head.last_message().text
    assert "消防通道已清理完毕" in commented(staff, hazard)[-1]  # the county official who would verify it
    assert len(cadre.messages()) == heard

async def test_the_person_once_named_responsible_whose_access_ended_is_not_counted(bot_stage: Stage) -> None:
    """A closed hazard keeps the person named responsible for it (ending their access releases only unresolved
    ones). Once their access has ended, a comment on it is not sent to them, so the number the commenter reads
    leaves them out too."""
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    hazard = await report(bot_stage)
    named = await fixed_by_a_named_cadre(bot_stage, hazard)
    assert (await hazard_now(bot_stage, hazard)).assignee_id == SECOND_CADRE
    await open_comment(head, hazard)
    await head.send_text("整改资料已归档")  # to the reporter, the official who verified it and the named cadre
    assert f"留言已记入隐患 {hazard.code} 的处置记录，已告知 3 人" in head.last_message().text
    await bot_stage.sandbox.settle()
    assert "整改资料已归档" in commented(named, hazard)[-1]  # while their access lasts, they are told

    await bot_stage.services.people.deactivate(await people.user(STAFF), SECOND_CADRE)
    await bot_stage.sandbox.settle()
    assert (await hazard_now(bot_stage, hazard)).assignee_id == SECOND_CADRE
    heard = len(named.messages())
    await open_comment(head, hazard)
    await head.send_text("消防设施已复查")
    assert f"留言已记入隐患 {hazard.code} 的处置记录，已告知 2 人" in head.last_message().text
    await bot_stage.sandbox.settle()
    assert len(named.messages()) == heard
    assert "消防设施已复查" in commented(staff, hazard)[-1]


async def test_a_long_comment_is_quoted_clipped_and_kept_whole(bot_stage: Stage) -> None:
    people = await cast(bot_stage, "en")
    hazard = await report(bot_stage)
    await people.cadre.send_text(f"/hazard {hazard.code}")
    await people.cadre.press("💬 Comment", people.cadre.last_message())
    assert f"Comment on hazard {hazard.code}" in people.cadre.last_message().text
    long = "The blocked exit is also used as a smoking spot. " * 20
    await people.cadre.send_text(long)
    assert "your comment is in the history" in people.cadre.last_message().text.lower()
    told = people.head.last_message()
    assert f"Li Na commented on hazard {hazard.code}" in told.text and told.text.endswith("…")
    assert len(told.text) < 600
    assert told.buttons == [["💬 Reply"], ["Details"]]
    events = await bot_stage.services.storage.hazards.events(hazard.id)
    assert events[-1].note == long.strip()


async def test_a_closed_hazard_takes_comments_while_it_may_be_reopened_then_no_more(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    head, staff = people.head, people.staff
    hazard = await submitted(bot_stage, await report(bot_stage))
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)
    bot_stage.clock.advance(timedelta(days=30))

    await open_comment(head, hazard)
    await head.send_text("消防通道已加装标识，请复查时留意")
    assert "消防通道已加装标识" in commented(staff, hazard)[-1]  # the official who verified it
    assert (await hazard_now(bot_stage, hazard)).state is HazardState.CLOSED

    await head.send_text(f"/hazard {hazard.code}")
    dossier = head.last_message()
    bot_stage.clock.advance(timedelta(days=61))  # 91 days after closing
    late = await head.press("💬 留言", dossier)
    assert late.answer is not None and late.answer.show_alert
    assert "销号已超过 90 天，不能再留言" in (late.answer.text or "")
    await head.send_text(f"/hazard {hazard.code}")
    assert head.last_message().buttons == []


async def test_a_restart_between_the_press_and_the_comment_loses_nothing(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    await open_comment(people.head, hazard)
    await bot_stage.restart()
    await people.head.send_text("承包商周一进场")
    assert "留言已记入" in people.head.last_message().text
    assert "承包商周一进场" in commented(people.cadre, hazard)[-1]
    assert [e.actor_id for e in await bot_stage.services.storage.hazards.events(hazard.id)
            if e.action == "comment"] == [HEAD]


async def test_someone_relieved_between_the_press_and_the_text_is_refused_and_it_is_recorded(
    bot_stage: Stage,
) -> None:
    """The person named for a rights-protection hazard opens a comment, then staff name someone else: the comment
    typed afterwards is refused (they may no longer see the hazard), nothing is written, and the refusal is in the
    audit log as a press from outside the scope is: the check at the text is the server's own, not only the press's."""
    people = await cast(bot_stage)
    hazard = await report(bot_stage, area=HazardArea.RIGHTS, description="有护工疑似殴打老人")
    named = bot_stage.sandbox.user(user_id=SECOND_CADRE, first_name="郑干部", language_code="zh-hans")
    await bot_stage.register(named, Role.CADRE, region=LUCHENG)
    services, staff = bot_stage.services, await people.user(STAFF)
    deadline = bot_stage.clock.now() + timedelta(days=5)
    await services.hazards.act(staff, hazard.id, HazardAction.ASSIGN, assignee_id=SECOND_CADRE, deadline=deadline)
    await bot_stage.sandbox.settle()

    await open_comment(named, hazard)
    await services.hazards.act(staff, hazard.id, HazardAction.ASSIGN, assignee_id=STAFF, deadline=deadline)
    await bot_stage.sandbox.settle()
    await named.send_text("家属要求尽快调查")
    # Refused as any press outside one's scope is, and recorded (below).
    assert named.last_message().text == "找不到这条隐患，或您无权查看。"
    events = await services.storage.hazards.events(hazard.id)
    assert all(e.action != "comment" for e in events)
    refused = await services.storage.audit.list(action_prefix="authz.refused", actor_id=SECOND_CADRE)
    assert [(e.detail["action"], e.detail["reason"]) for e in refused] == [("comment", "not_in_scope")]


async def test_the_reporter_told_of_the_closing_may_say_from_that_notice_that_the_problem_is_back(
    bot_stage: Stage,
) -> None:
    """FixMyStreet asks a reporter whether the fix held. Here the closing notice to the reporter says how to tell
    the county the problem is back, with 💬 留言 under it: the comment reaches the official who verified it, who may
    reopen it. The head who fixed it reads the closing with no such line."""
    people = await cast(bot_stage)
    head, staff, cadre = people.head, people.staff, people.cadre
    hazard = await submitted(bot_stage, await report(bot_stage))
    await act(bot_stage, STAFF, hazard, HazardAction.ACCEPT)

    (closed,) = [m for m in cadre.messages() if f"隐患 {hazard.code}" in m.text and "已验收通过并销号" in m.text]
    assert "如发现问题反弹，请点“💬 留言”告诉县级民政部门" in closed.text
    assert closed.buttons == [["💬 留言"], ["详情"]]
    (to_head,) = [m for m in head.messages() if f"隐患 {hazard.code}" in m.text and "已验收通过并销号" in m.text]
    assert "问题反弹" not in to_head.text and to_head.buttons == []

    bot_stage.clock.advance(timedelta(days=20))
    await cadre.press("💬 留言", closed)
    await cadre.send_text("通道又堆满了纸箱，问题反弹")
    assert "通道又堆满了纸箱" in commented(staff, hazard)[-1]
    await staff.press("详情", staff.last_message())
    assert ["重新打开"] in staff.last_message().buttons


async def test_those_who_fixed_it_read_the_closing_without_the_reporters_if_it_comes_back(bot_stage: Stage) -> None:
    """The line asking whether the problem came back, and its 💬 留言, are the reporter's: a head who reported a
    problem at their own home and fixed it, and a cadre named responsible, read the closing without them."""
    people = await cast(bot_stage)
    head = people.head
    own = await submitted(bot_stage, await report(bot_stage, HEAD, description="厨房灭火器过期"))
    await act(bot_stage, STAFF, own, HazardAction.ACCEPT)
    (closed,) = [m for m in head.messages() if f"隐患 {own.code}" in m.text and "已验收通过并销号" in m.text]
    assert "问题反弹" not in closed.text and ["💬 留言"] not in closed.buttons

    hazard = await report(bot_stage)
    named = await fixed_by_a_named_cadre(bot_stage, hazard)
    (theirs,) = [m for m in named.messages() if f"隐患 {hazard.code}" in m.text and "已验收通过并销号" in m.text]
    assert "问题反弹" not in theirs.text and ["💬 留言"] not in theirs.buttons
    (reporters,) = [m for m in people.cadre.messages() if f"隐患 {hazard.code}" in m.text and "已验收通过" in m.text]
    assert "问题反弹" in reporters.text  # the reporter's own, as before
