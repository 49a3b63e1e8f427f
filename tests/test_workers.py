"""Which claims a restarted bot may take back at once: those of a process on this host that is gone, and no other."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.workers import HOST, is_dead, new_worker_id


def exited_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_worker_of_a_process_that_is_gone_is_dead() -> None:
    assert is_dead(f"sender@{HOST}:{exited_pid()}:0badf00d:000000")


def test_workers_of_this_process_are_alive_and_a_former_life_with_the_same_pid_is_not() -> None:
    assert not is_dead(new_worker_id("sender"))
    assert not is_dead(new_worker_id("notices"))
    # A container gives every start the same pid: a claim with this pid but another process id is a former life.
    assert is_dead(f"sender@{HOST}:{os.getpid()}:0badf00d:000000")


def test_a_worker_elsewhere_or_unnamed_is_never_declared_dead() -> None:
    assert not is_dead(f"sender@another-host:{exited_pid()}:0badf00d:000000")
    assert not is_dead("bot")
    assert not is_dead("test-sender")
    assert not is_dead(f"sender@{HOST}:not-a-pid:0badf00d:000000")
    assert not is_dead(f"sender@{HOST}:{os.getppid()}:0badf00d:000000")  # the parent still runs
