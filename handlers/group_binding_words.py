"""How a work group's binding is said: to the group (what it is bound for, in /help and under /bindgroup) and to the
staff answerable for it when someone changes, ends or restores it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import Html, Translator
from bot.services.group_bindings import BindingChange, ChangeKind
from handlers.common import place_name, tell_each
from storage.models import Group

if TYPE_CHECKING:
    from bot.services_factory import BotServices

TIME_FORMAT = "%Y-%m-%d %H:%M"


async def binding_name(services: BotServices, group: Group, t: Translator) -> str:
    """"鹿城区 · 预警发布"."""
    region = await services.storage.regions.get(group.region_code)
    return f"{place_name(region, t)} · {t.plain(f'purpose.{group.purpose.value}')}"


async def binder_name(services: BotServices, group: Group) -> str:
    binder = await services.storage.users.get(group.bound_by)
    return "—" if binder is None else binder.full_name


async def binding_in_full(services: BotServices, group: Group, t: Translator) -> str:
    """"鹿城区 · 预警发布（周科长 2026-12-01 09:00 绑定）"."""
    return t("group.binding_in_full", binding=await binding_name(services, group, t),
             by=await binder_name(services, group),
             at=group.bound_at.astimezone(services.settings.tz).strftime(TIME_FORMAT))


async def chat_bindings(services: BotServices, chat_id: int, topic_id: int | None, forum: bool,
                        t: Translator) -> Html | None:
    """What the chat is bound for, one line per binding: the whole group's, or in a forum the general chat's and
    each topic's (the one the reader is in marked). None when nothing in the chat is bound."""
    bindings = await services.group_bindings.of_chat(chat_id)
    if not bindings:
        return None
    lines = []
    if forum and all(group.topic_id is not None for group in bindings):
        lines.append(t("group.line_general_unbound"))
    for group in bindings:
        full = await binding_in_full(services, group, t)
        if group.topic_id is None:
            lines.append(t("group.line_general" if forum else "group.line_chat", binding=full))
        else:
            key = "group.line_this_topic" if group.topic_id == topic_id else "group.line_topic"
            lines.append(t(key, topic=group.topic_id, binding=full))
    return Html("\n".join(lines))


def language_rule(services: BotServices, t: Translator) -> Html:
    """Group posts are worded in the bureau's language (DEFAULT_LANGUAGE), whoever reads them."""
    default = services.settings.default_language
    return Html(t("group.language_rule", language=t.plain(f"language.{default}")))


class BindingWords:
    """The onboarding of groups' `BindingNotices`: a changed binding told to the staff answerable for the one before,
    each in their language, queued in the outbox inside the transaction that changed it."""

    def __init__(self, services: BotServices) -> None:
        self._services = services

    async def queue(self, change: BindingChange) -> None:
        services = self._services
        names: dict[str, str] = {}
        after: dict[str, str] = {}
        for person in change.tell:
            t = services.i18n.get(person.language)
            joined = "；" if t.language == "zh_CN" else "; "
            names[t.language] = joined.join([await binding_name(services, g, t) for g in change.before])
            if change.after is not None:
                after[t.language] = await binding_name(services, change.after, t)
        title = change.before[0].title if change.before else str(change.chat_id)

        def words(t: Translator) -> str:
            return t(f"group.told_{change.kind.value}", title=title, by=change.actor.full_name,
                     before=names.get(t.language, ""), after=after.get(t.language, ""))

        if change.kind is not ChangeKind.BOUND:
            await tell_each(services, change.tell, f"group:{change.chat_id}:{change.kind.value}", words)
