"""Who runs a `safety-bot` command on the server, as the audit trail names them: "cli:<os user>"."""

from __future__ import annotations

import getpass
import os


def command_line_operator() -> str:
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers): the numeric user id
        name = str(os.getuid())
    return f"cli:{name}"
