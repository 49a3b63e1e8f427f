"""What a head did under a warning (落实情况): the relief station's street patrol, told under its heat warning with a
photo, read by the county's staff in /warnstatus; a typed report offered and recorded with one tap; a report after
the lift refused, as answers are; a forged press refused and audited."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.roles import Role
from bot.domain.warnings import WarningKind, WarningLevel, WarningTarget
from bot.sandbox import SimUser
from bot.sandbox.content import store_photo
from bot.sandbox.media import make_jpeg
from bot.services.warnings import ManualWarning
from bot.stage import Stage
from handlers.warning_delivery import deliver
from storage.warning_models import AckResponse
from tests.warning_people import containing, drain

CANGNAN, RUIAN = "330327", "330381"
RELIEF, FUNERAL, HOME = "WZ-330327-RELIEF-01", "WZ-330381-FUNERAL-01", "WZ-330302-ELDER-01"
HEAT = "高温橙色预警：请做好防暑降温"


async def _heat_warning(stage: Stage) -> tuple[SimUser, SimUser, SimUser]:
    """Cangnan's staff, the head of its relief station, and the city admin; a heat warning for Cangnan, delivered."""
    sandbox = stage.sandbox
    admin = sandbox.user(user_id=1, first_name="王", last_name="局长", language_code="zh-hans")
    staff = sandbox.user(user_id=20, first_name="钱", last_name="科长", language_code="zh-hans")
    head = sandbox.user(user_id=40, first_name="赵", last_name="站长", language_code="zh-hans")
    city_admin = await stage.register(admin, Role.CITY)
    await stage.register(staff, Role.COUNTY, region=CANGNAN)
    await stage.register(head, Role.HEAD, institution=RELIEF)
    services = stage.services
    spec = ManualWarning(kind=WarningKind.HIGH_TEMPERATURE, level=WarningLevel.ORANGE, headline=HEAT,
                         description="预计最高气温 37℃ 以上", expires=stage.clock.now() + timedelta(hours=24),
                         target=WarningTarget(regions=frozenset({CANGNAN, RUIAN})))
    async with services.storage.db.transaction():
        warning = await services.warnings.create_manual(city_admin, spec)
        await deliver(services, await services.warnings.send(city_admin, warning.id), city_admin.telegram_id)
    await drain(stage)
    return staff, head, admin


async def test_a_relief_head_reports_a_patrol_with_a_photo_and_staff_read_it(bot_stage: Stage) -> None:
    staff, head, _ = await _heat_warning(bot_stage)
    warning = containing(head, HEAT)[0]
    assert ["📝 报告落实情况"] in warning.buttons
    told_staff = len(staff.messages())

    await head.press("📝 报告落实情况", warning)
    asked = head.last_message().text
    # The prompt is the relief station's checklist: its patrol, not the funeral home's vehicles.
    assert "开展“夏送清凉”街面巡查" in asked and "遗体接运" not in asked
    await head.send_text("20:00—22:00 街面巡查2组，救助流浪人员3人，送清凉饮品20份")
    await head.send_photo(caption=None)
    assert "照片已收到（1/9）" in head.last_message().text
    await head.press("✅ 提交")
    recorded = head.last_message().text
    assert "已记录高温橙色预警的落实情况" in recorded and "第 1 次报告" in recorded and "附 1 张照片" in recorded
    assert "已同时视为“已收到并落实”" in recorded
    # The report is the head's answer: the warning's copy says so, and nobody is asked to answer again.
    assert "已于" in containing(head, HEAT)[0].text and "确认收到并落实" in containing(head, HEAT)[0].text
    acks = await bot_stage.services.storage.warnings.acks(1)
    assert [(a.user_id, a.response) for a in acks] == [(head.id, AckResponse.RECEIVED)]
    # A second patrol the next night: a second report, counted.
    bot_stage.clock.advance(timedelta(hours=12))
    await head.press("📝 报告落实情况", containing(head, HEAT)[0])
    await head.send_text("夜间第二次巡查，劝导2人入站")
    await head.press("✅ 提交")
    assert "第 2 次报告" in head.last_message().text
    await drain(bot_stage)
    assert len(staff.messages()) == told_staff  # staff are not paged per report: they read them in /warnstatus

    await staff.send_text("/warnstatus")
    status = staff.last_message()
    assert "苍南县救助管理站" in status.text and "夜间第二次巡查，劝导2人入站（共 2 次）" in status.text
    await staff.press("📝 落实情况（2）", status)
    listed = staff.last_message().text
    assert "落实情况 2 条" in listed and "赵 站长" in listed
    assert listed.index("夜间第二次巡查") < listed.index("街面巡查2组，救助流浪人员3人") and "📷 1 张照片" in listed
    reports = await bot_stage.services.storage.warning_reports.of_warning(1)
    assert len(reports) == 2 and bot_stage.services.evidence.exists(reports[0].photos[0].sha256)
    audited = await bot_stage.services.storage.audit.list(action_prefix="warning.report")
    assert len(audited) == 2 and audited[0].actor_id == head.id


async def test_a_typed_report_is_offered_and_recorded_with_one_tap(bot_stage: Stage) -> None:
    staff, head, _ = await _heat_warning(bot_stage)
    await head.send_text("今天下午已完成夏送清凉街面巡查，救助流浪人员3人")
    offer = head.last_message()
    assert "这是您在高温橙色预警下的落实情况吗" in offer.text and "救助流浪人员3人" in offer.text
    assert "/report" not in offer.text
    await head.press("📝 记为落实情况", offer)
    assert "已记录高温橙色预警的落实情况" in head.last_message().text
    await staff.send_text("/warnstatus")
    assert "今天下午已完成夏送清凉街面巡查" in staff.last_message().text

    # Something else typed: 不是 gives the usual hint, and nothing is recorded.
    await head.send_text("请问下个月的培训在哪里举行")
    await head.press("不是", head.last_message())
    assert "好的，未记录" in head.last_message().text and "上报隐患请发送 /report" in head.last_message().text
    await head.send_text("好的收到，谢谢！")  # a receipt after answering is no report
    assert "这是您在" not in head.last_message().text
    assert len(await bot_stage.services.storage.warning_reports.of_warning(1)) == 1


async def test_a_report_after_the_lift_is_refused(bot_stage: Stage) -> None:
    _, head, admin = await _heat_warning(bot_stage)
    await head.press("📝 报告落实情况", containing(head, HEAT)[0])
    await head.send_text("巡查完成，救助流浪人员2人")
    services = bot_stage.services
    async with services.storage.db.transaction():
        user = await services.storage.users.get(admin.id)
        assert user is not None
        await services.warnings.cancel(user, 1)
    await head.press("✅ 提交")
    assert "这条预警已解除或已过期，不再记录落实情况" in head.last_message().text
    await head.press_data(containing(head, HEAT)[0], "wr:new:1")
    assert "不再记录落实情况" in (head.answers()[-1].text or "")
    assert await services.storage.warning_reports.of_warning(1) == []


async def test_a_forged_press_is_refused_and_audited(bot_stage: Stage) -> None:
    _, relief_head, _ = await _heat_warning(bot_stage)
    outsider = bot_stage.sandbox.user(user_id=41, first_name="李", last_name="院长", language_code="zh-hans")
    await bot_stage.register(outsider, Role.HEAD, institution=HOME)  # 鹿城区: the warning never reached them
    await outsider.press_data(outsider.last_message(), "wr:new:1")
    assert "这条预警不是发给您的" in (outsider.answers()[-1].text or "")
    await outsider.press_data(outsider.last_message(), "wr:take:1")
    assert "这条预警不是发给您的" in (outsider.answers()[-1].text or "")
    refused = await bot_stage.services.storage.audit.list(action_prefix="authz.refused")
    assert [e.actor_id for e in refused] == [outsider.id, outsider.id]
    assert await bot_stage.services.storage.warning_reports.of_warning(1) == []
    assert relief_head.id != outsider.id



async def test_a_funeral_head_sends_an_album_as_one_report(bot_stage: Stage) -> None:
    sandbox = bot_stage.sandbox
    head = sandbox.user(user_id=43, first_name="Qian", last_name="Director", language_code="en")
    await bot_stage.register(head, Role.HEAD, institution=FUNERAL)
    await _heat_warning(bot_stage)
    warning = next(m for m in head.messages() if "Report what was done" in str(m.buttons))
    await head.press("📝 Report what was done", warning)
    asked = head.last_message().text
    assert "body-transport vehicles" in asked and "street patrols" not in asked
    before = len(head.messages())
    for page in range(3):
        sizes = store_photo(sandbox.world, make_jpeg(320, 240, 80 + page))
        caption = "3 body-transport vehicles checked, drivers briefed and every trip logged" if page == 0 else None
        await head._post(None, "photo", False, photo=sizes, caption=caption, caption_raw=caption,
                         media_group_id="alb-f")
    await sandbox.settle()
    assert len(head.messages()) == before + 1  # an album is answered once, not once a page
    await head.press("✅ Submit")
    recorded = head.last_message().text
    assert "Recorded what was done under the" in recorded and "3 photos" in recorded
    reports = await bot_stage.services.storage.warning_reports.of_warning(1)
    assert [len(r.photos) for r in reports] == [3] and reports[0].text.startswith("3 body-transport vehicles")


async def test_a_report_from_a_head_who_asked_for_help_leaves_their_answer_as_it_was(bot_stage: Stage) -> None:
    """Only a first report from a head who had not answered counts as 已收到并落实: one who pressed 🆘 需要帮助 and
    then reports what was done still needs help, as staff read it."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.press("🆘 需要帮助", containing(head, HEAT)[0])
    await drain(bot_stage)
    await head.send_text("已转移老人12人，仍缺发电机")  # typed: its copy of the warning offers no button now
    await head.press("📝 记为落实情况", head.last_message())
    recorded = head.last_message().text
    assert "已记录高温橙色预警的落实情况" in recorded and "已同时视为" not in recorded
    acks = await bot_stage.services.storage.warnings.acks(1)
    assert [(a.user_id, a.response) for a in acks] == [(head.id, AckResponse.NEED_HELP)]
    # Photos are added by sending them (the copy has no 📝 while the call is open: it used to point there).
    assert "请直接在此发送照片" in recorded and "在预警消息下点" not in recorded
    await head.send_photo(caption="发电机缺口现场")
    offer = head.last_message()
    await head.press("📝 作为落实情况", offer)
    await head.press("✅ 提交")
    reports = await bot_stage.services.storage.warning_reports.of_warning(1)
    assert [len(r.photos) for r in reports] == [0, 1]


async def test_an_older_offers_button_never_records_a_newer_text_under_its_warning(bot_stage: Stage) -> None:
    """Two warnings reach the relief station. Text typed under the first was offered for it; text typed after the
    second was offered for that one. The first offer's 📝, pressed late, records the words it quoted under the
    warning it named, never the second text (which is about the typhoon)."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.send_text("今天下午已完成夏送清凉街面巡查，救助流浪人员3人")
    first_offer = head.last_message()
    services = bot_stage.services
    city_admin = await services.storage.users.get(1)
    assert city_admin is not None
    spec = ManualWarning(kind=WarningKind.TYPHOON, level=WarningLevel.ORANGE, headline="台风橙色预警：请加固门窗",
                         description="台风将于今晚登陆", expires=bot_stage.clock.now() + timedelta(hours=24),
                         target=WarningTarget(regions=frozenset({CANGNAN})))
    async with services.storage.db.transaction():
        typhoon = await services.warnings.create_manual(city_admin, spec)
        await deliver(services, await services.warnings.send(city_admin, typhoon.id), city_admin.telegram_id)
    await drain(bot_stage)
    await head.send_text("门窗已加固，沙袋已备好")
    assert "台风橙色预警" in head.last_message().text  # offered for the newer warning

    await head.press("📝 记为落实情况", first_offer)
    (report,) = await services.storage.warning_reports.of_warning(1)
    assert report.text == "今天下午已完成夏送清凉街面巡查，救助流浪人员3人"
    assert await services.storage.warning_reports.of_warning(typhoon.id) == []


async def test_county_staff_read_the_reports_of_their_own_county_alone(bot_stage: Stage) -> None:
    """The heat warning covers 苍南县 and 瑞安市: 苍南县's staff pressing 📝 落实情况 read their relief station's
    report, never the 瑞安市 funeral home's."""
    funeral = bot_stage.sandbox.user(user_id=41, first_name="孙", last_name="馆长", language_code="zh-hans")
    await bot_stage.register(funeral, Role.HEAD, institution=FUNERAL)
    staff, head, _ = await _heat_warning(bot_stage)
    services = bot_stage.services
    for person, text in ((head, "街面巡查2组，救助流浪人员3人"), (funeral, "遗体接运车辆已检查，司机已培训")):
        user = await services.storage.users.get(person.id)
        assert user is not None
        await services.warnings.add_report(user, 1, text)

    await staff.send_text("/warnstatus")
    await staff.press("📝 落实情况（1）", staff.last_message())
    listed = staff.last_message().text
    assert "街面巡查2组" in listed and "遗体接运" not in listed


async def test_the_first_of_two_typed_texts_offered_never_records_the_second(bot_stage: Stage) -> None:
    """A head typed two texts under one warning, each offered as the report. The first message's 📝 recorded the
    second text (the offer waiting was the second's, of the same warning), under words the head had not pressed.
    Each offer now records the words it quotes."""
    _, head, _ = await _heat_warning(bot_stage)
    await head.send_text("今天下午已完成夏送清凉街面巡查，救助流浪人员3人")
    first = head.last_message()
    await head.send_text("请问明天的巡查需要几个人参加")
    second = head.last_message()
    assert "请问明天的巡查" in second.text

    await head.press("📝 记为落实情况", first)
    (report,) = await bot_stage.services.storage.warning_reports.of_warning(1)
    assert report.text == "今天下午已完成夏送清凉街面巡查，救助流浪人员3人"
    await head.press("📝 记为落实情况", second)  # its own words, not the first's again
    texts = [r.text for r in await bot_stage.services.storage.warning_reports.of_warning(1)]
    assert sorted(texts) == sorted(["今天下午已完成夏送清凉街面巡查，救助流浪人员3人", "请问明天的巡查需要几个人参加"])
