"""A refusal the user should read about: its code names a localized message `refusal.<code>`."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message_key(self) -> str:
        return f"refusal.{self.code}"
