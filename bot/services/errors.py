"""A refusal the user should read about: its code names a localized message `refusal.<code>`."""

from __future__ import annotations

from typing import Any

from bot.i18n import counted


class Refusal(Exception):
    def __init__(self, code: str, /, *, counting: str | None = None, **params: Any) -> None:
        """`counting` names the parameter that counts things: for one, the message is the singular `_one` key."""
        super().__init__(code)
        self.code = code
        self.params = params
        self.counting = counting

    @property
    def message_key(self) -> str:
        key = f"refusal.{self.code}"
        return key if self.counting is None else counted(key, int(self.params[self.counting]))
