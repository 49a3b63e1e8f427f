"""Closing an institution (停用机构) and reopening it (恢复机构) from its /institution card: county staff for their
county, city admins for all; a reason, a confirmation that says what follows, and then the home owes nothing, is
warned of nothing, takes no reports, and its heads' access ends, while its unresolved hazards stay open."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.compliance import Overdue
from bot.domain.lifecycle import UNRESOLVED_STATES, HazardAction
from bot.domain.roles import Role
from bot.domain.warnings import WarningTarget
from bot.sandbox.driver import SimUser
from bot.stage import Stage
from handlers.institution_close import ClosureDraft
from storage.calendar_models import ReminderState, SubjectType
from storage.repositories.action_drafts import Journey, read_draft
from tests.calendar_people import institution_id
from tests.hazard_people import (
    HEAD,
    HOME,
    LONGWAN,
    LONGWAN_STAFF,
    LUCHENG,
    STAFF,
    cancelled_after_refusals,
    cast,
    hazard_now,
    report,
)
from tests.test_onboarding import link_token
from tests.warning_people import drain

REASON = "该院已整体并入区中心敬老院，原址停止运营"
OTHER_HOME, OTHER_HOME_HEAD = "WZ-330302-ELDER-02", 47  # another elder-care home of Lucheng, and its head


def scope_total(text: str) -> int:
    """How many institutions staff's /drills counts."""
    match = re.search(r"共 (\d+) 家机构", text)
    assert match, text
    return int(match.group(1))


async def close_from_card(stage: Stage, staff_user: SimUser, reason: str = REASON) -> None:
    """Staff find the home, press Close, give the reason and confirm."""
    await staff_user.send_text("/institution 社会福利院")
    await staff_user.press("⛔ 停用机构", staff_user.last_message())
    await staff_user.send_text(reason)
    await staff_user.press("⛔ 确认停用", staff_user.last_message())
    await stage.sandbox.settle()


async def test_staff_close_a_home_with_a_reason_and_it_leaves_duties_reports_and_its_heads(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    hazard = await report(bot_stage)
    home = await institution_id(bot_stage, HOME)
    assert home in (await bot_stage.services.warnings.preview_target(
        WarningTarget(regions=frozenset({LUCHENG})))).institutions
    await people.staff.send_text("/drills")
    before = scope_total(people.staff.last_message().text)
    # A head reads their own card, with no Close button.
    await people.head.send_text("/institution")
    assert all("停用" not in label for row in people.head.last_message().buttons for label in row)

    await people.staff.send_text("/institution 社会福利院")
    card = people.staff.last_message()
    assert card.buttons[-1] == ["⛔ 停用机构"]
    await people.staff.press("⛔ 停用机构", card)
    assert "请发送停用原因（至少 2 个字）" in people.staff.last_message().text
    await people.staff.send_text("院")  # too short: asked again, nothing closed
    assert people.staff.last_message().text == "停用原因至少 2 个字，请再发送一次。"
    await people.staff.send_text(f"{REASON}<b>")
    confirm = people.staff.last_message()
    assert "确认停用 鹿城区社会福利院？" in confirm.text and f"原因：{REASON}<b>" in confirm.text  # escaped
    assert "负责人（陈院长）的账号将停用" in confirm.text
    assert "1 条未办结隐患保持未办结（不计为已整改）" in confirm.text
    institution = await bot_stage.services.storage.institutions.get(home)
    assert institution is not None and institution.active  # nothing happens before the confirmation

    await people.staff.press("⛔ 确认停用", confirm)
    await drain(bot_stage)
    done = people.staff.last_message().text
    assert "已停用 鹿城区社会福利院" in done and "已停用负责人（陈院长）的账号" in done

    # The head is told it is the home that closed, and why, and has no access any more.
    farewell = next(m.text for m in people.head.messages() if "账号随之停用" in m.text)
    assert "鹿城区社会福利院已由周科长停用" in farewell and REASON in farewell
    await people.head.send_text("/tasks")
    assert "停用" in people.head.last_message().text
    # Its reminders go to the county staff (and the county's group) now, none to the former head.
    pending = await bot_stage.services.storage.reminders.find(
        state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id)))
    recipients = {r.recipient_id for r in pending}
    assert STAFF in recipients and HEAD not in recipients
    # The hazard stays open; the card says the home is closed, why, and offers Reopen.
    assert (await hazard_now(bot_stage, hazard)).state in UNRESOLVED_STATES
    await people.staff.send_text("/institution 社会福利院")
    card = people.staff.last_message()
    assert "状态：⛔ 已停用" in card.text and REASON in card.text and "⚠️ 机构已停用" in card.text
    assert hazard.code in card.text and card.buttons[-1] == ["♻️ 恢复机构"]
    # It owes nothing: /drills counts one institution fewer, and nobody may report on it.
    await people.staff.send_text("/drills")
    assert scope_total(people.staff.last_message().text) == before - 1
    assert "社会福利院" not in people.staff.last_message().text
    assert not await bot_stage.services.hazards.institutions_for_report(await people.user(STAFF), "社会福利院")
    # No new warning concerns it.
    target = WarningTarget(regions=frozenset({LUCHENG}))
    assert home not in (await bot_stage.services.warnings.preview_target(target)).institutions
    # Recorded, with the reason.
    audit = await bot_stage.services.storage.audit.list(action_prefix="institution.closed")
    assert [(e.actor_id, e.target, e.detail["reason"]) for e in audit] == [(STAFF, f"institution:{home}",
                                                                            f"{REASON}<b>")]
    # A second confirmation (its answer lost on the way, say) changes nothing and says why.
    again = await people.staff.press_data(confirm, f"ic:closeok:{home}")
    assert again.answer is not None and again.answer.text == "该机构已停用。"
    assert len(await bot_stage.services.storage.audit.list(action_prefix="institution.closed")) == 1


async def test_a_closure_reason_asked_again_offers_cancel_which_keeps_the_home_open(bot_stage: Stage) -> None:
    """A reason too short is asked for again with Cancel under the answer, as under the question: one press ends
    the journey, its draft is gone, the next text is no reason, and the home stays open."""
    people = await cast(bot_stage)
    staff = people.staff
    home = await institution_id(bot_stage, HOME)
    await staff.send_text("/institution 社会福利院")
    await staff.press("⛔ 停用机构", staff.last_message())
    await cancelled_after_refusals(staff, ("院", "停用原因至少 2 个字，请再发送一次。"))
    db = bot_stage.services.storage.db
    assert await read_draft(db, STAFF, Journey.INSTITUTION_CLOSE, ClosureDraft) is None
    await staff.send_text(REASON)  # the journey ended: this is no reason
    assert all("确认停用" not in m.text for m in staff.messages())
    assert await read_draft(db, STAFF, Journey.INSTITUTION_CLOSE, ClosureDraft) is None
    institution = await bot_stage.services.storage.institutions.get(home)
    assert institution is not None and institution.active


async def test_reopening_owes_duties_from_that_day_and_not_the_closed_months(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    home = await institution_id(bot_stage, HOME)
    await close_from_card(bot_stage, people.staff)
    bot_stage.clock.advance(timedelta(days=75))

    await people.staff.send_text("/institution 社会福利院")
    await people.staff.press("♻️ 恢复机构", people.staff.last_message())
    today = bot_stage.services.drills.today()
    assert f"从今天（{today.isoformat()}）起重新考核" in people.staff.last_message().text
    await people.staff.press("♻️ 确认恢复", people.staff.last_message())
    assert f"已恢复 鹿城区社会福利院，从 {today.isoformat()} 起" in people.staff.last_message().text

    institution = await bot_stage.services.storage.institutions.get(home)
    assert institution is not None and institution.active and institution.tracked_from == today
    assert institution.closed_at is None
    # Nothing of the months it was closed is owed: neither drill nor self-inspection is overdue.
    drill = await bot_stage.services.drills.status(institution)
    inspection = await bot_stage.services.self_inspections.status(institution)
    assert not isinstance(drill, Overdue) and not isinstance(inspection, Overdue)
    await people.staff.send_text("/institution 社会福利院")
    card = people.staff.last_message()
    assert "状态：在册" in card.text and card.buttons[-1] == ["⛔ 停用机构"]
    assert await bot_stage.services.storage.audit.list(action_prefix="institution.reopened")


async def test_heads_and_other_countys_staff_are_refused_and_recorded(bot_stage: Stage) -> None:
    people = await cast(bot_stage)
    home = await institution_id(bot_stage, HOME)
    longwan = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="林科长", language_code="zh-hans")
    await bot_stage.register(longwan, Role.COUNTY, region=LONGWAN)
    await people.head.send_text("/institution")

    # Its head, who knows the home, is told closing is staff's; another county's clerk is told of no such home, as
    # for an id that names none, so that the press confirms nothing.
    for person, data, told in ((people.head, f"ic:close:{home}", "只有机构所在县（市、区）的民政部门和市局管理员"),
                               (longwan, f"ic:close:{home}", "找不到这家机构，或您无权查看。"),
                               (longwan, f"ic:closeok:{home}", "找不到这家机构，或您无权查看。"),
                               (longwan, "ic:close:999999", "找不到这家机构，或您无权查看。"),
                               (people.head, f"ic:reopenok:{home}", "只有机构所在县（市、区）的民政部门和市局管理员")):
        await person.send_text("/help")
        await person.press_data(person.last_message(), data)
        answer = person.answers()[-1]
        assert answer.show_alert and told in (answer.text or "")
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert {(e.actor_id, e.detail["action"]) for e in refused if e.target == f"institution:{home}"} >= {
        (HEAD, "institution.close"), (LONGWAN_STAFF, "institution.close"), (HEAD, "institution.reopen")}
    institution = await bot_stage.services.storage.institutions.get(home)
    assert institution is not None and institution.active
    # Staff of the county with no reason given yet: the confirmation is stale, nothing closes.
    await people.staff.send_text("/help")
    await people.staff.press_data(people.staff.last_message(), f"ic:closeok:{home}")
    assert "过期" in (people.staff.answers()[-1].text or "") or people.staff.answers()[-1].show_alert
    institution = await bot_stage.services.storage.institutions.get(home)
    assert institution is not None and institution.active


async def test_a_forged_confirmation_for_a_closed_home_from_outside_its_county_is_refused_and_recorded(
    bot_stage: Stage,
) -> None:
    """Once the home is closed, ⛔ Close it pressed again says it is closed already, but only to those who may close
    it: another county's official, or a head, pressing it is refused and recorded as before, and learns nothing of
    the home."""
    people = await cast(bot_stage)
    home = await institution_id(bot_stage, HOME)
    longwan = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="林科长", language_code="zh-hans")
    await bot_stage.register(longwan, Role.COUNTY, region=LONGWAN)
    other_head = bot_stage.sandbox.user(user_id=OTHER_HOME_HEAD, first_name="孙院长", language_code="zh-hans")
    await bot_stage.register(other_head, Role.HEAD, institution=OTHER_HOME)
    await close_from_card(bot_stage, people.staff)
    institution = await bot_stage.services.storage.institutions.get(home)
    assert institution is not None and not institution.active

    for person in (longwan, other_head):
        await person.send_text("/help")
        await person.press_data(person.last_message(), f"ic:closeok:{home}")
        answer = person.answers()[-1]
        assert answer.show_alert and answer.text == "找不到这家机构，或您无权查看。"
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert {(e.actor_id, e.detail["action"]) for e in refused if e.target == f"institution:{home}"} == {
        (LONGWAN_STAFF, "institution.close"), (OTHER_HOME_HEAD, "institution.close")}


async def test_a_head_of_another_home_named_head_here_keeps_their_access_but_not_this_post(bot_stage: Stage) -> None:
    """Someone registered for another home and also named head of this one (the institutions list names them) keeps
    their access when this one closes, but is its head no more: its hazards' reminders, and anything said of them,
    go to the county staff, not to them."""
    people = await cast(bot_stage)
    other = bot_stage.sandbox.user(user_id=OTHER_HOME_HEAD, first_name="吴院长", language_code="zh-hans")
    await bot_stage.register(other, Role.HEAD, institution=OTHER_HOME)
    storage = bot_stage.services.storage
    home = await institution_id(bot_stage, HOME)
    hazard = await report(bot_stage)  # the home's registered head is the one responsible
    await storage.institutions.set_head(home, OTHER_HOME_HEAD)
    assert OTHER_HOME_HEAD in {u.telegram_id for u in await storage.users.heads_of(home)}

    await close_from_card(bot_stage, people.staff)
    await drain(bot_stage)
    named = await storage.users.get(OTHER_HOME_HEAD)
    assert named is not None and named.active  # their own home is still theirs
    pending = await storage.reminders.find(state=ReminderState.PENDING, subject=(SubjectType.HAZARD, str(hazard.id)))
    recipients = {r.recipient_id for r in pending}
    assert STAFF in recipients and OTHER_HOME_HEAD not in recipients
    assert await storage.users.heads_of(home) == []
    closed = await storage.institutions.get(home)
    assert closed is not None and closed.head_user_id is None

    # Staff put a new deadline on the closed home's hazard: those responsible hear it, and they are not among them.
    seen = len(other.messages())
    await bot_stage.services.hazards.act(
        await people.user(STAFF), hazard.id, HazardAction.CHANGE_DEADLINE, reason="机构停用，改由区里督办",
        deadline=bot_stage.clock.now() + timedelta(days=10),
    )
    await drain(bot_stage)
    assert len(other.messages()) == seen


async def test_a_closed_home_takes_no_new_head_by_an_old_link_or_a_forged_press(bot_stage: Stage) -> None:
    # An invitation made for a home's head before the home closed registered a head of a closed home afterwards, and
    # an invitation could still be made for one by a press naming it.
    people = await cast(bot_stage)
    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    await people.staff.send_text("南汇")
    token = link_token(people.staff.last_message().text)
    await close_other_home(bot_stage, people.staff)

    newcomer = bot_stage.sandbox.user(user_id=90, first_name="新院长")
    await newcomer.send_text(f"/start {token}")
    assert await bot_stage.services.storage.users.get(newcomer.id) is None
    assert "机构已停用" in newcomer.last_message().text
    (closed,) = await bot_stage.services.storage.audit.list(action_prefix="institution.closed")
    assert closed.detail["invites_revoked"] == 1

    await people.staff.send_text("/invite")
    await people.staff.press("机构负责人")
    picker = people.staff.last_message()
    await people.staff.press_data(picker, f"invite:inst:{await institution_id(bot_stage, OTHER_HOME)}")
    told = people.staff.last_message().text
    assert "该机构已停用，不能邀请负责人" in told and "?start=" not in told

    # Another county's clerk forging the same press is refused for the scope, and recorded: not told the home closed.
    longwan = bot_stage.sandbox.user(user_id=LONGWAN_STAFF, first_name="林科长", language_code="zh-hans")
    await bot_stage.register(longwan, Role.COUNTY, region=LONGWAN)
    await longwan.send_text("/invite")
    await longwan.press("机构负责人")
    await longwan.press_data(longwan.last_message(), f"invite:inst:{await institution_id(bot_stage, OTHER_HOME)}")
    assert "已停用" not in longwan.last_message().text
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused", actor_id=LONGWAN_STAFF)
    assert [e.detail["reason"] for e in refused] == ["outside_scope"]


async def close_other_home(stage: Stage, staff: SimUser) -> None:
    """Lucheng's clerk closes 南汇's home (no head) from its card."""
    await staff.send_text("/institution 南汇")
    await staff.press("⛔ 停用机构", staff.last_message())
    await staff.send_text(REASON)
    await staff.press("⛔ 确认停用", staff.last_message())
    await stage.sandbox.settle()
