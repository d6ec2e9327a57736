"""Waiting in tests: on a condition, under one generous deadline, never on the clock.

The suite runs in parallel (pytest-xdist) on a 2-core machine that other jobs share: anything may take many
times its quiet duration. So a test waits for what it needs (a row stored, a text on the screen, a port that
answers), and the deadline only stops a hang: DEADLINE_S, the same everywhere. A test never asserts how long
something took; speed targets are benchmarks in bench/ with their figures in bench/RESULTS.md.
"""
from __future__ import annotations

import os
import time
from typing import Callable, TypeVar

T = TypeVar("T")

# Long enough for a step that takes 1 s on a quiet machine to finish with both cores busy and a browser per
# worker; MONITOR_TEST_DEADLINE_S changes it (e.g. shorter, to find a hanging wait quickly).
DEADLINE_S = float(os.environ.get("MONITOR_TEST_DEADLINE_S", "90"))


def wait_until(condition: Callable[[], T], what: str = "", *, deadline_s: float = DEADLINE_S, every: float = 0.05,
               ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """Call `condition()` until it returns something truthy, and return that. An exception in `ignoring` counts as
    not yet (e.g. a page element replaced while we read it). After `deadline_s` the test fails, naming `what` it
    waited for and the last value seen."""
    end = time.monotonic() + deadline_s
    last: object = None
    while True:
        try:
            last = condition()
            if last:
                return last  # type: ignore[return-value]
        except ignoring as exc:
            last = exc
        if time.monotonic() > end:
            raise AssertionError(f"waited {deadline_s:.0f} s for {what or getattr(condition, '__name__', condition)}; "
                                 f"last seen: {last!r}")
        time.sleep(every)
