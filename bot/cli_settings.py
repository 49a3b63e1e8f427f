"""The command line's settings: loaded once per command, each problem said in one line of the operator's language.

pydantic words a bad value in English developer terms ("Input should be greater than or equal to 1"); the operator
reads the CLI in DEFAULT_LANGUAGE, so the common kinds of error are said again in the catalogs' words, naming the
variable and what it takes."""

from __future__ import annotations

import os
import sys
from typing import Any

from dotenv import dotenv_values
from pydantic import ValidationError

from bot.config import ENV_FILE, Settings, unknown_env_file_keys
from bot.i18n import LANGUAGES, Translator, clipped

EXIT_CONFIG = 2

# pydantic's error type → the catalog key that says it, with the context value it names as {limit}.
_RANGE = {
    "greater_than_equal": ("cli.setting.at_least", "ge"),
    "greater_than": ("cli.setting.above", "gt"),
    "less_than_equal": ("cli.setting.at_most", "le"),
    "less_than": ("cli.setting.below", "lt"),
}
_NOT_A_NUMBER = {"int_parsing", "int_type", "int_from_float", "int_parsing_size"}
_NOT_A_SWITCH = {"bool_parsing", "bool_type"}
# Settings whose own rule is worded in the catalogs (`cli.setting.VARIABLE`): what the value must look like.
_WORDED = frozenset({
    "TIMEZONE", "DEFAULT_LANGUAGE", "BOT_MODE", "WEBHOOK_LISTEN", "DEADLINE_HOURS", "WARNING_AUTO_SEND_LEVELS",
    "WARNING_CITY_ESCALATE_LEVELS", "QUIET_HOURS", "DIGEST_WEEKDAYS", "CHECK_BACK_DAYS", "TRACKING_SINCE",
})


def cli_language() -> str:
    """DEFAULT_LANGUAGE as the environment or `.env` gives it, read before (and whether or not) the settings load, so
    that the settings' own errors are said in it; anything else is Chinese."""
    environment = {key.upper(): value for key, value in os.environ.items()}
    value = environment.get("DEFAULT_LANGUAGE")
    if value is None and ENV_FILE.is_file():
        from_file = {key.strip().upper(): found for key, found in dotenv_values(ENV_FILE).items()}
        value = from_file.get("DEFAULT_LANGUAGE")
    return value if value in LANGUAGES else "zh_CN"


def load_settings() -> Settings:
    """The settings, after a warning for each `.env` key that is none of ours; a setting that cannot work stops the
    command with one line and exit code 2."""
    t = Translator(cli_language())
    for key, closest in unknown_env_file_keys():
        if closest:
            print(t.plain("cli.env_typo", key=key, closest=closest), file=sys.stderr)
        else:
            print(t.plain("cli.env_unknown", key=key), file=sys.stderr)
    try:
        return Settings()
    except ValidationError as error:
        print(setting_error(error.errors()[0], t), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def setting_error(error: Any, t: Translator) -> str:
    """`safety-bot: VARIABLE: reason` for pydantic's first error, the reason in the catalogs' words."""
    variable = str(error["loc"][0]).upper()
    value = clipped(str(error.get("input", "")), 60)
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in _RANGE and _RANGE[kind][1] in context:
        key, limit = _RANGE[kind]
        reason = t.plain(key, limit=context[limit], value=value)
    elif kind in _NOT_A_NUMBER:
        reason = t.plain("cli.setting.not_a_number", value=value)
    elif kind in _NOT_A_SWITCH:
        reason = t.plain("cli.setting.not_a_switch", value=value)
    elif variable in _WORDED:
        reason = t.plain(f"cli.setting.{variable}", value=value)
    else:
        reason = t.plain("cli.setting.invalid", value=value)
    return t.plain("cli.setting", variable=variable, reason=reason)
