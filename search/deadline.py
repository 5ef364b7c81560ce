"""Every search's time budget: a deadline that the long loops check as they go.

`Backend` opens a deadline around each call (`within(backend.search_timeout)`); the loops
that can run long (the Whoosh evaluator, prefix expansion, snippets, spelling) call
`check()`, which raises SearchTimeoutError once the time is up, and PostgreSQL gets
`remaining()` as its statement_timeout. The deadline lives in a context variable: each
thread (each request) has its own, and code outside any deadline is never stopped.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

from search.errors import SearchTimeoutError

__all__ = ["DEFAULT_TIMEOUT", "check", "remaining", "timed_out", "within"]

DEFAULT_TIMEOUT = 10.0  # seconds; a search takes milliseconds, the worst ones a second

# (monotonic time at which the work must stop, the budget it was given in seconds)
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("furet_deadline", default=None)


class within:  # noqa: N801 - used as `with within(seconds):`, as a function was
    """Run the block under a deadline `seconds` from now (None or 0: none); an enclosing
    deadline that comes sooner is kept. (A class rather than a generator context
    manager: every search enters one, and a generator costs twice as much.)"""

    __slots__ = ("seconds", "token")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.token: Token[tuple[float, float] | None] | None = None

    def __enter__(self) -> None:
        seconds = self.seconds
        if not seconds or seconds <= 0:
            return
        current = _DEADLINE.get()
        end = time.monotonic() + seconds
        self.token = _DEADLINE.set(current if current is not None and current[0] <= end
                                   else (end, seconds))

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _DEADLINE.reset(self.token)
            self.token = None


def remaining() -> float | None:
    """Seconds left before the deadline (None when there is none; at least 0)."""
    current = _DEADLINE.get()
    return None if current is None else max(0.0, current[0] - time.monotonic())


def check() -> None:
    """Raise SearchTimeoutError if the deadline has passed."""
    current = _DEADLINE.get()
    if current is not None and time.monotonic() > current[0]:
        raise timed_out(current[1])


def timed_out(seconds: float | None = None) -> SearchTimeoutError:
    """The error of a search stopped at its deadline (`seconds`: its budget)."""
    if seconds is None:
        current = _DEADLINE.get()
        seconds = current[1] if current is not None else None
    budget = f"its {seconds:g} s budget" if seconds else "its time budget"
    return SearchTimeoutError(
        f"the search took longer than {budget} and was stopped; search with fewer words "
        "or shorter phrases", seconds=seconds)
