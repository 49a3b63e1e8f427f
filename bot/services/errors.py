"""A refusal the user should read about: its code names a localized message `refusal.<code>`."""

from __future__ import annotations

from typing import Any

from bot.i18n import counted

# What a press naming an institution, or a person, that the presser may not see is told: what a press naming none at
# all is told ("no such institution, or you may not see it"), so that no button confirms to an outsider that it
# exists. Audited (as "not_in_scope" or "outside_scope") where it exists, as a hazard outside one's scope is.
HIDDEN_INSTITUTION = "institution_hidden"
HIDDEN_PERSON = "person_hidden"


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
