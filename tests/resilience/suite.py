"""How big the resilience suites run: CI-sized by default, full-sized with SAFETY_FULL_SUITES=1.

The CI sizes keep the four suites together well under a minute on two cores; the full sizes are for a release or a
change to delivery, persistence or scheduling (see docs/resilience.md).
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

FULL = os.environ.get("SAFETY_FULL_SUITES", "").strip() not in ("", "0")


def sized(ci: T, full: T) -> T:
    return full if FULL else ci
