"""Thin handlers, one module per user journey. Order matters: guards first, fallbacks last."""

from __future__ import annotations

import warnings
from typing import Any

from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from handlers import (
    assign,
    charts,
    check_back,
    comment,
    contact_typed,
    contacts,
    drill_records,
    drills,
    export,
    extension,
    group_topics,
    groups,
    guards,
    hazard,
    imports,
    institution_card,
    institution_close,
    invite,
    journeys,
    language,
    menus,
    mine,
    notice,
    people,
    photo_offer,
    ranking,
    rectify,
    reopen,
    report,
    selfcheck,
    start,
    stats,
    study,
    tasks,
    verify,
    warn,
    warning_ack,
    warning_followup,
    warning_help,
    warning_report,
    warnings_list,
    warnstatus,
    withdraw,
)
from handlers.conversations import typed_cancel_presses_cancel

# Our conversations are keyed per chat and user on purpose; every button is re-checked on the server anyway.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    guards.register(application)
    journeys.register(application)
    start.register(application)
    language.register(application)
    invite.register(application)
    people.register(application)
    groups.register(application)
    group_topics.register(application)
    report.register(application)
    tasks.register(application)
    mine.register(application)
    institution_card.register(application)
    institution_close.register(application)
    hazard.register(application)
    rectify.register(application)
    verify.register(application)
    reopen.register(application)
    comment.register(application)
    check_back.register(application)
    assign.register(application)
    extension.register(application)
    withdraw.register(application)
    drills.register(application)
    drill_records.register(application)
    selfcheck.register(application)
    study.register(application)
    warn.register(application)
    warnings_list.register(application)
    warning_ack.register(application)
    warning_report.register(application)
    warnstatus.register(application)
    warning_followup.register(application)
    warning_help.register(application)
    contacts.register(application)
    contact_typed.register(application)
    stats.register(application)
    charts.register(application)
    export.register(application)
    ranking.register(application)
    notice.register(application)
    imports.register(application)
    start.register_late(application)
    photo_offer.register(application)
    guards.register_fallbacks(application)
    menus.register(application)
    typed_cancel_presses_cancel(application)
