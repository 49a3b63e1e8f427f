"""Who holds a claim: worker ids that say which process on which host took a row, so a restart can tell a claim
left by a dead process (queued again at once) from one held by a live sender elsewhere (left alone until it goes
stale).

    sender@host:4242:1f3a9c0d:7e21aa
    role   host  pid  process  worker
"""

from __future__ import annotations

import os
import socket
import uuid

HOST = socket.gethostname()
# A pid alone is not enough: in a container every start may be pid 1 again.
_PROCESS = uuid.uuid4().hex[:8]


def new_worker_id(role: str) -> str:
    """Unique per worker; several workers of one process share its host, pid and process part."""
    return f"{role}@{HOST}:{os.getpid()}:{_PROCESS}:{uuid.uuid4().hex[:6]}"


def is_dead(worker_id: str) -> bool:
    """True only when certain: the worker belongs to a process on this host that is gone. Ids of other hosts, or
    not in this form, are never declared dead (their claims wait for the grace period instead)."""
    _, at, place = worker_id.rpartition("@")
    parts = place.split(":")
    if not at or len(parts) < 3 or parts[0] != HOST or not parts[1].isdigit():
        return False
    pid, process = int(parts[1]), parts[2]
    if pid == os.getpid():
        return process != _PROCESS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a live process of another user
    return False
