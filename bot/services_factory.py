"""The services the bot, its scheduled jobs and the command line work with, built once per process: no Telegram
here, so that the operator's commands (`bot/cli.py`) start without loading the bot (`bot/app.py` builds that)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import I18n
from bot.services.calendar import DrillService, StudyService
from bot.services.check_backs import CheckBackService, CheckBackWords
from bot.services.claims import ClaimService
from bot.services.evidence import EvidenceStore
from bot.services.group_bindings import BindingNotices, GroupBindingService
from bot.services.hazard_core import NoticeQueue
from bot.services.hazards import HazardService
from bot.services.head_invites import HeadInviteService
from bot.services.insight import Insight
from bot.services.institution_cards import InstitutionCardService
from bot.services.institution_closure import InstitutionClosureService
from bot.services.onboarding import (
    ArrivalNotices,
    GroupLossNotices,
    InviteNotices,
    LostTopic,
    OnboardingService,
    ReachNotices,
)
from bot.services.outbox import OutboxService
from bot.services.people import DepartureNotices, PeopleService
from bot.services.reminders import ReminderService
from bot.services.self_inspection import SelfInspectionService
from bot.services.warnings import WarningService
from storage import Storage


@dataclass
class BotServices:
    """Everything a handler, a scheduled job or the command line needs, built once per process."""

    settings: Settings
    clock: Clock
    storage: Storage
    i18n: I18n
    onboarding: OnboardingService
    evidence: EvidenceStore
    hazards: HazardService
    reminders: ReminderService
    drills: DrillService
    self_inspections: SelfInspectionService
    studies: StudyService
    outbox: OutboxService
    warnings: WarningService
    insight: Insight
    people: PeopleService
    claims: ClaimService
    group_bindings: GroupBindingService
    institution_cards: InstitutionCardService
    institution_closure: InstitutionClosureService
    head_invites: HeadInviteService
    check_backs: CheckBackService

    async def close(self) -> None:
        await self.storage.close()


async def open_services(
    settings: Settings, clock: Clock | None = None, *, strict_i18n: bool = False, operator: str | None = None
) -> BotServices:
    """`operator`: a command line's "cli:<os user>", named in the audit entries of what it does (None in the bot)."""
    clock = clock or SystemClock()
    storage = await Storage.open(settings.database_path, clock)
    storage.audit.operator = operator
    evidence = EvidenceStore(settings.evidence_dir)
    tz = settings.tz
    hazards = HazardService(storage, clock, evidence, settings.deadline_policy, tz)
    since = await tracking_since(settings, storage)
    reminders = ReminderService(
        storage, clock, tz, schedule=settings.calendar_schedule, quiet_hours=settings.quiet, tracking_since=since
    )
    hazards.planner = reminders
    calendar: dict[str, Any] = {
        "hazards": hazards, "evidence": evidence, "planner": reminders, "tracking_since": since
    }
    onboarding = OnboardingService(storage, clock, timedelta(hours=settings.invite_ttl_hours))
    onboarding.planner = reminders  # a new head is reminded of the home's open hazards at once
    outbox = OutboxService(storage, clock)
    check_backs = CheckBackService(storage, clock, outbox, tz, settings.quiet, settings.check_back_days)
    hazards.check_backs = check_backs
    warnings = WarningService(storage, clock, settings.warning_settings)
    drills = DrillService(storage, clock, tz, **calendar)
    self_inspections = SelfInspectionService(storage, clock, tz, **calendar)
    people = PeopleService(storage, clock, onboarding, reminders, evidence)
    cards = InstitutionCardService(storage, clock, hazards, drills, self_inspections)
    services = BotServices(
        settings=settings,
        clock=clock,
        storage=storage,
        i18n=I18n(settings.default_language, strict=strict_i18n),
        onboarding=onboarding,
        evidence=evidence,
        hazards=hazards,
        reminders=reminders,
        drills=drills,
        self_inspections=self_inspections,
        studies=StudyService(storage, clock, tz, **calendar),
        outbox=outbox,
        warnings=warnings,
        insight=Insight.build(
            storage, clock, settings, onboarding, outbox=outbox, warnings=warnings, tracking_since=since
        ),
        people=people,
        claims=ClaimService(storage, clock),
        group_bindings=GroupBindingService(storage, clock),
        institution_cards=cards,
        institution_closure=InstitutionClosureService(storage, clock, people, reminders, tz),
        head_invites=HeadInviteService(storage, clock, cards, onboarding),
        check_backs=check_backs,
    )
    # Notices are worded in the handler layer, but queued inside the service's transaction.
    hazards.notifier = _HandlerWords(_hazard_notices, services)
    onboarding.notifier = _HandlerWords(_group_loss_words, services)
    services.group_bindings.notifier = _HandlerWords(_binding_words, services)
    onboarding.reach_notifier = _HandlerWords(_reach_words, services)
    onboarding.invite_notifier = _HandlerWords(_invite_words, services)
    onboarding.arrival_notifier = _HandlerWords(_arrival_words, services)
    people.notifier = _HandlerWords(_departure_words, services)
    check_backs.words = _LazyCheckBackWords(services)
    return services


async def tracking_since(settings: Settings, storage: Storage) -> date | None:
    """The day from which calendar duties are judged for institutions with no `tracked_from` of their own, and for
    the bureaus' study sessions (docs/calendar.md): the TRACKING_SINCE setting, or by default the local day the
    database first ran, since nothing before it was recorded; None (`all`) for every period."""
    if settings.tracking_since == "all":
        return None
    if settings.tracking_since:
        return date.fromisoformat(settings.tracking_since)
    first_run = await storage.first_run()
    return None if first_run is None else first_run.astimezone(settings.tz).date()


class _HandlerWords:
    """One of the handler layer's notifiers, imported when it has its first notice to word: the handlers bring
    Telegram and every journey with them (half a second), which a command that tells nobody anything (listing
    people, an invitation, a backup) has no use for. The running bot has imported them long before."""

    def __init__(self, make: Callable[[BotServices], object], services: BotServices) -> None:
        self._make = make
        self._services = services
        self._words: Any = None

    def _notifier(self) -> Any:
        if self._words is None:
            self._words = self._make(self._services)
        return self._words

    async def queue(self, *news: Any) -> None:
        await self._notifier().queue(*news)

    async def queue_topic(self, lost: LostTopic) -> None:
        await self._notifier().queue_topic(lost)


class _LazyCheckBackWords:
    """The check-back's wording (handlers.check_back), imported when there is a first question to word."""

    def __init__(self, services: BotServices) -> None:
        self._services = services
        self._words: CheckBackWords | None = None

    def _get(self) -> CheckBackWords:
        if self._words is None:
            from handlers.check_back import CheckBackWording

            self._words = CheckBackWording(self._services)
        return self._words

    async def question(self, *args: Any) -> Any:
        return await self._get().question(*args)

    async def came_back(self, *args: Any, **kwargs: Any) -> Any:
        return await self._get().came_back(*args, **kwargs)

    async def came_back_head(self, *args: Any) -> Any:
        return await self._get().came_back_head(*args)


def _hazard_notices(services: BotServices) -> NoticeQueue:
    from handlers.notify import HazardNotices

    return HazardNotices(services)


def _binding_words(services: BotServices) -> BindingNotices:
    from handlers.group_binding_words import BindingWords

    return BindingWords(services)


def _group_loss_words(services: BotServices) -> GroupLossNotices:
    from handlers.groups import GroupLossWords

    return GroupLossWords(services)


def _invite_words(services: BotServices) -> InviteNotices:
    from handlers.invite_news import InviteWords

    return InviteWords(services)


def _arrival_words(services: BotServices) -> ArrivalNotices:
    from handlers.warning_in_force import InForceForArrivals

    return InForceForArrivals(services)


def _reach_words(services: BotServices) -> ReachNotices:
    from handlers.reach import ReachWords

    return ReachWords(services)


def _departure_words(services: BotServices) -> DepartureNotices:
    from handlers.people import DepartureWords

    return DepartureWords(services)
