"""Terms a generation has read, kept: each one's postings over every segment as one list.

An index of several segments holds a term as one slice per segment; reading it (the
directory's entry, each segment's slice, the documents numbered as the index's, the
weights scaled) is a dozen numpy calls and as many Python steps whatever the term's size,
which is most of what a rare word costs. `KeptTerms` keeps what that read gave, per
generation: the next search holding the term (page 2, another filter or sort, a facet
chosen, another query sharing a word) takes the one list. Only terms of at most
`largest` postings are kept (a frequent word's read is its size, not the fixed cost), up
to `budget` bytes in all (arrays and an allowance for the Python objects), the oldest
dropped first. The arrays kept are read-only: whoever is given them reads them.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

__all__ = ["ENTRY_BYTES", "KEPT_BYTES", "KEPT_POSTINGS", "KeptTerms"]

KEPT_BYTES = 8 << 20  # 8 MB a generation (a worker holds one, two during a swap)
KEPT_POSTINGS = 4096  # a term of more postings is read each time
ENTRY_BYTES = 1024  # an entry's Python objects (key, tuple, arrays' headers, its segments)


class KeptTerms:
    """A bounded table of values by key, each counted as a given number of bytes; the
    oldest out first. Reads take no lock (a dict lookup); writes do."""

    def __init__(self, budget: int = KEPT_BYTES, largest: int = KEPT_POSTINGS) -> None:
        self.budget = budget
        self.largest = largest
        self._items: dict[Hashable, tuple[Any, int]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value kept for `key`, or None."""
        found = self._items.get(key)
        return None if found is None else found[0]

    def put(self, key: Hashable, value: Any, postings: int, nbytes: int) -> None:
        """Keep `value` (of `postings` postings, `nbytes` bytes with its objects) unless it
        is larger than `largest` postings or the whole budget."""
        if postings > self.largest or nbytes > self.budget:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, nbytes)
            self._bytes += nbytes
            while self._bytes > self.budget:
                self._bytes -= self._items.pop(next(iter(self._items)))[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        """The bytes counted for what is kept now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
