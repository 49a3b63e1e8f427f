"""The callback context every handler receives: typed access to the services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.services_factory import BotServices


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """python-telegram-bot makes one per update and hands it to every handler group, so what is worked out about
    the update once (who sent it: handlers.common.identify) is kept here for the later groups."""

    caller: object | None = None

    @property
    def services(self) -> BotServices:
        services: BotServices = self.application.bot_data["services"]
        return services
