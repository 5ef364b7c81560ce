"""Integer settings read from the environment (FURET_BUILD_MEMORY_MB, FURET_SEARCH_HEAP_MB,
FURET_PREPARED_SEGMENTS...), with one error message for a value that is not a number."""

from __future__ import annotations

import os

from search.errors import ConfigurationError

__all__ = ["int_setting"]


def int_setting(name: str, default: int, minimum: int, expected: str) -> int:
    """The environment variable `name` as an integer of at least `minimum`, else `default`
    (ConfigurationError naming it and saying what was `expected` if not a number)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return max(minimum, int(value))
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: expected {expected}") from None
