"""A guard against runaway work in tests, not a speed measure.

Hostile inputs (entity bombs, deep nesting) must be refused without exponential or quadratic
work. Speed is measured by the benchmarks; here a generous alarm only turns a runaway into a
failure instead of a stuck test run, far above any machine's noise.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

RUNAWAY_SECONDS = 60  # normal: well under a second; a runaway: minutes or hours


@contextmanager
def no_runaway(what: str, seconds: int = RUNAWAY_SECONDS) -> Iterator[None]:
    """Fail the test if the block runs for more than `seconds` (main thread only)."""

    def fail(_number: int, _frame: object) -> None:
        pytest.fail(f"{what} ran for more than {seconds} s: runaway work")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def generous_deadline(backend: Any, seconds: float = RUNAWAY_SECONDS) -> Iterator[None]:
    """Give `backend`'s searches `seconds` instead of the served deadline: a loaded test
    machine can take the first cold PostgreSQL search past 10 s, which is not a bug."""
    previous = backend.search_timeout
    backend.search_timeout = seconds
    try:
        yield
    finally:
        backend.search_timeout = previous
