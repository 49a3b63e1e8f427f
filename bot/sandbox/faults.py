"""Injected failures and Telegram's flood limits."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["429", "500", "502", "403", "slow", "timeout", "drop"]
FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "403", "slow", "timeout", "drop")


@dataclass
class Fault:
    method: str  # lower-case method name, or "*" for every method
    kind: str
    times: int | None
    probability: float
    retry_after: int
    delay: float | None
    chat_id: int | str | None
    rng: random.Random
    fired: int = 0


class FaultInjector:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.faults: list[Fault] = []

    def add(
        self,
        method: str,
        kind: str,
        *,
        times: int | None,
        probability: float,
        retry_after: int,
        delay: float | None,
        chat_id: int | str | None,
        seed: int | None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        rng = random.Random(self._seed + len(self.faults) if seed is None else seed)
        fault = Fault(method.lower(), kind, times, probability, retry_after, delay, chat_id, rng)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def pick(self, method: str, chat_id: object) -> Fault | None:
        """The fault that fires for this request, if any (consumes one of its ``times``)."""
        lowered = method.lower()
        for fault in self.faults:
            if fault.method not in ("*", lowered):
                continue
            if fault.times is not None and fault.fired >= fault.times:
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
                continue
            fault.fired += 1
            return fault
        return None


@dataclass
class RateLimiter:
    """Sliding windows approximating Telegram's documented limits.

    ~30 messages/second overall, about 1 message/second in a private chat (short bursts of a few
    messages pass, as they do on Telegram), 20 messages/minute in a group.
    """

    enabled: bool = False
    global_per_second: int = 30
    private_burst: int = 3
    private_per_second: float = 1.0
    group_per_minute: int = 20
    _global: deque[float] = field(default_factory=deque)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _private: dict[int, tuple[float, float]] = field(default_factory=dict)  # chat -> (tokens, at)

    def check(self, chat_id: int, is_private: bool, now: float) -> int | None:
        """Seconds to wait if this message would exceed a limit, else None (and count it)."""
        if not self.enabled:
            return None
        while self._global and now - self._global[0] >= 1.0:
            self._global.popleft()
        if len(self._global) >= self.global_per_second:
            return max(1, math.ceil(1.0 - (now - self._global[0])))
        if is_private:
            tokens, at = self._private.get(chat_id, (float(self.private_burst), now))
            tokens = min(float(self.private_burst), tokens + (now - at) * self.private_per_second)
            if tokens < 1.0:
                return max(1, math.ceil((1.0 - tokens) / self.private_per_second))
            self._private[chat_id] = (tokens - 1.0, now)
        else:
            window = self._groups.setdefault(chat_id, deque())
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= self.group_per_minute:
                return max(1, math.ceil(60.0 - (now - window[0])))
            window.append(now)
        self._global.append(now)
        return None
